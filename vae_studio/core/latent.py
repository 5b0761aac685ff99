"""The latent explorer's maths under its old single name, for code written against it.

New code imports from the modules that hold each part:

- :mod:`.projection`: ``Projection``, the invertible 2-D view of a latent space;
- :mod:`.decoding`: ``CpuModel``, ``decode``, ``encode``;
- :mod:`.generate`: prior samples, manifold grids, traversals, interpolation, label sweeps,
  style transfer, ``tile``;
- :mod:`.image_elbo`: ``neg_elbo``, ``neg_elbo_each``;
- :mod:`.drawing`: ``center_like_mnist``;
- :mod:`.snapshots`: ``snapshot_of``.
"""

from .decoding import CpuModel, decode, encode
from .drawing import center_like_mnist
from .generate import (
    interpolate,
    interpolation_strip,
    label_sweep,
    manifold_codes,
    manifold_grid,
    prior_samples,
    slerp,
    style_transfer,
    tile,
    traversal_codes,
    traversal_grid,
)
from .image_elbo import neg_elbo, neg_elbo_each
from .projection import MODES, Projection
from .snapshots import snapshot_of

__all__ = [
    "MODES", "CpuModel", "Projection", "center_like_mnist", "decode", "encode", "interpolate", "interpolation_strip",
    "label_sweep", "manifold_codes", "manifold_grid", "neg_elbo", "neg_elbo_each", "prior_samples", "slerp",
    "snapshot_of", "style_transfer", "tile", "traversal_codes", "traversal_grid",
]
