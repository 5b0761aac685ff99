"""Data files shipped with VAE Studio (installed as the ``vae_studio.resources`` package)."""
