"""The kinds of change an :class:`~vae_studio.core.explorer_state.ExplorerState` reports.

Each call that changes the state tells its observers once, with a frozenset of these names, so a
view redraws only for the kinds it depends on.
"""

MODEL = "model"  # new weights or none: everything decoded is out of date
CONFIG = "config"  # a new model configuration: latent size, conditional or not, classes
POINTS = "points"  # the probe points' means, labels or their place on the map
KL = "kl"  # KL per dimension
PROJECTION = "projection"  # the 2-D view: its mode, its dimensions, a refit
Z = "z"  # the current code
SELECTION = "selection"  # the point clicked last
HOVER = "hover"  # the code under the cursor
LABEL = "label"  # the class a conditional model decodes with
CLASSES = "classes"  # the class names
CONDITIONAL = "conditional"  # whether label controls apply
PROBES = "probes"  # the held-out images behind the points
DRAWN = "drawn"  # the drawing and its posterior
PATH = "path"  # interpolation endpoints or steps
REGION = "region"  # the part of the view plane on screen
VIEW = "view"  # the person chose another view (comes with PROJECTION): the map refits its range
SAMPLER = "sampler"  # where generated codes come from (prior or fitted posterior), their temperature, the density shown
ALL = frozenset({MODEL, CONFIG, POINTS, KL, PROJECTION, Z, SELECTION, HOVER, LABEL, CLASSES, CONDITIONAL, PROBES, DRAWN,
                 PATH, REGION, VIEW, SAMPLER})
