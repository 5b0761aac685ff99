"""VAE Studio: train, watch and explore variational autoencoders."""

__version__ = "0.1.0"
