"""The latent explorer: one Qt-free state (:mod:`vae_studio.core.explorer_state`) and its views.

- ``panel``: :class:`LatentExplorer`, the widget the window holds; it builds the views on one state;
- ``view_bar``: the top bar (view mode and dimensions, "Decode as", what is shown);
- ``map_view``: the latent map as a view of the state;
- ``decode_tab``: the decoded code, hover preview, clicked digit and its reconstruction, sliders;
- ``generate_tab``: the page selector over the generated pictures;
- ``grid_pages``: prior samples, manifold, traversals, interpolation, PNG export;
- ``label_pages``: label sweep and style transfer (conditional models);
- ``grid_view``: a tiled picture with its row and column names laid out beside its cells;
- ``draw_tab``: the draw pad and what the model makes of the drawing;
- ``measure``: timing a click and a map update.
"""

from .panel import LatentExplorer

__all__ = ["LatentExplorer"]
