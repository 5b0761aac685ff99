"""Generated pictures: prior samples, the latent manifold, traversals, interpolations.

Each page is a view of the explorer's state: it decodes with the state's CPU model and can be
saved as a PNG. A change the page depends on only marks it stale; the generate panel redraws
the page on screen.
"""

from __future__ import annotations

import os

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QFileDialog, QHBoxLayout, QLabel, QPushButton, QSlider, QSpinBox, QVBoxLayout, QWidget,
)

from ....core import explorer_state as S
from ....core.atomic import atomic_write
from ....core.decoding import decode
from ....core.errors import VaeStudioError
from ....core.generate import manifold_codes, tile, traversal_grid
from .. import figure_export
from ..latent_sliders import INACTIVE_KL
from ..qimage import png_bytes, to_qimage
from .grid_view import GridView

PADDING = 2
MAX_TRAVERSAL_ROWS = 16
TRAVERSAL_SPAN = 3.0


def grid_to_png(grid: np.ndarray) -> bytes:
    """A float picture in [0, 1], (H, W) grey or (3, H, W) colour, as 8-bit PNG bytes."""
    return png_bytes(to_qimage(grid))


def save_png(grid: np.ndarray, path: str | os.PathLike) -> None:
    data = grid_to_png(grid)
    with atomic_write(path) as f:  # never a half-written file, even if the disk fills up
        f.write(data)


class GridPage(QWidget):
    """One generated picture: controls, the picture with its row and column names, an export."""

    title = ""
    tab_title = ""  # a shorter name for the page selector, where the title is long
    caption = ""  # one line under the selector
    details = ""  # the longer explanation, as the caption's tooltip
    file_stem = "grid"
    padding = PADDING
    depends_on = frozenset({S.MODEL, S.LABEL, S.CLASSES})  # the kinds of change that make it stale
    row_label = ""  # the exported figure's axis labels
    col_label = ""
    animated = False  # also exports as an animated GIF (animation_frames)
    export_scale = figure_export.DEFAULT_SCALE  # the window's File > Export > Scale sets it

    def __init__(self, state: S.ExplorerState, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = state
        self.grid: np.ndarray | None = None
        self.images: np.ndarray | None = None
        self.names: tuple[list, list] = ([], [])  # the grid's row and column names
        self.stale = True
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.setSpacing(3)
        cap = QLabel(self.caption)
        cap.setObjectName("caption")
        cap.setWordWrap(True)
        cap.setToolTip(self.details or self.caption)
        layout.addWidget(cap)
        self.controls = QHBoxLayout()
        self.controls.setSpacing(6)
        layout.addLayout(self.controls)
        self.view = GridView("Train a model to generate.")
        layout.addWidget(self.view, 1)
        bottom = QHBoxLayout()
        self.status = QLabel("")
        self.status.setObjectName("caption")
        self.status.setWordWrap(True)  # a long line would otherwise widen the whole panel
        bottom.addWidget(self.status, 1)
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Save this picture as a figure with its title and names: PNG (at the scale "
                                      "File > Export > Scale sets) or SVG" + (", or an animated GIF" if self.animated else ""))
        self.export_button.clicked.connect(self._ask_export)
        bottom.addWidget(self.export_button)
        layout.addLayout(bottom)

    def add_spin(self, label: str, lo: int, hi: int, value: int, tip: str) -> QSpinBox:
        lab = QLabel(label)
        spin = QSpinBox()
        spin.setRange(lo, hi)
        spin.setValue(value)
        for w in (lab, spin):
            w.setToolTip(tip)
        self.controls.addWidget(lab)
        self.controls.addWidget(spin)
        spin.valueChanged.connect(lambda _=0: self.refresh())
        return spin

    def on_state(self, changed: frozenset) -> None:
        if changed & self.depends_on:
            self.stale = True

    def compute(self, model) -> tuple[np.ndarray, int, list, list]:
        """(images, images per row, row names, column names)."""
        raise NotImplementedError

    def unavailable(self, model) -> str | None:
        """Why this page cannot draw for ``model``, or None when it can."""
        return None

    def refresh(self) -> None:
        model = self.state.model
        why = "Train a model to generate." if model is None else self.unavailable(model)
        if why:
            self._show_nothing(why)
            return
        images, nrow, rows, cols = self.compute(model)
        if len(images) == 0:
            self._show_nothing("Nothing to show yet.")
            return
        self.images = images
        self.names = (list(rows), list(cols))
        self.grid = tile(images, nrow, padding=self.padding)
        h, w = images.shape[-2:]
        self.view.set_grid(self.grid, -(-len(images) // nrow), nrow, (h, w), self.padding, rows, cols)
        self.status.setText(self.describe(images, nrow))
        self.stale = False

    def _show_nothing(self, why: str) -> None:
        self.grid = self.images = None
        self.view.clear()
        self.view.set_placeholder(why)
        self.status.setText(why)
        self.stale = False

    def describe(self, images: np.ndarray, nrow: int) -> str:
        return f"{len(images) // nrow} × {nrow} images"

    def _current(self) -> np.ndarray:
        if self.grid is None or self.stale:
            self.refresh()
        if self.grid is None:
            raise ValueError("nothing to export yet: train a model first")
        return self.grid

    def export_png(self, path: str | os.PathLike) -> None:
        """The picture alone, one pixel per pixel (what a notebook would want)."""
        save_png(self._current(), path)

    def figure(self) -> dict:
        """The exported figure's title, axis labels and names (see ``figure_export.GridFigure``)."""
        h, w = self.images.shape[-2:]
        rows, cols = self.names
        return dict(title=self.title, cell=(h, w), padding=self.padding, rows=rows, cols=cols,
                    row_label=self.row_label, col_label=self.col_label)

    def animation_frames(self) -> list[np.ndarray]:
        raise NotImplementedError

    def export(self, path: str | os.PathLike, scale: float | None = None) -> None:
        """A figure (.png at ``scale``, .svg) or, for the animated pages, a looping GIF (.gif)."""
        from ....core.animation import boomerang, save_animation

        scale = scale or self.export_scale
        allowed = figure_export.SUFFIXES + ((".gif",) if self.animated else ())
        if figure_export.check_suffix(path, allowed) == ".gif":
            self._current()
            save_animation(boomerang(self.animation_frames()), path, scale=int(scale))
        else:
            figure_export.export_grid(self._current(), path, scale=scale, **self.figure())

    def _ask_export(self) -> None:
        kinds = ["PNG image (*.png)", "SVG drawing (*.svg)"] + (["Animated GIF (*.gif)"] if self.animated else [])
        path, chosen = QFileDialog.getSaveFileName(self, f"Export {self.title}", f"{self.file_stem}.png", ";;".join(kinds))
        if path:
            if not path.lower().endswith((".png", ".svg", ".gif")):
                path += chosen[chosen.rfind("*.") + 1 : -1] if "*." in chosen else ".png"
            try:
                self.export(path)
            except (OSError, ValueError, VaeStudioError) as exc:
                self.status.setText(f"Could not save {os.path.basename(path)}: {exc}")
            else:
                self.status.setText(f"Saved {os.path.basename(path)}")


class PriorPage(GridPage):
    title = "Samples"
    tab_title = "Samples"
    file_stem = "samples"
    caption = "New images: codes drawn from a distribution over z, decoded."
    details = (
        "Codes drawn and decoded: how the VAE makes new digits. The prior (N(0, I), or the mixture learned with "
        "the model when the run has one) is what the ELBO assumes, "
        "but the codes the encoder actually uses do not fill it evenly, so prior draws land in holes and decode "
        "to blurry or odd digits. The fitted posterior is a Gaussian mixture fitted to the training digits' codes "
        "(per class for a conditional model; Ghosh et al. 2020): its draws land where the codes are. "
        "Temperature scales the spread of the draws: below 1, safer and more typical; above 1, more varied."
    )
    depends_on = GridPage.depends_on | {S.SAMPLER}

    def __init__(self, state, parent=None):
        super().__init__(state, parent)
        self.sampler = QComboBox()
        for key, text in (("posterior", "Fitted posterior"), ("prior", "Prior")):
            self.sampler.addItem(text, key)
        self.sampler.setToolTip(self.details)
        # the sampler's controls take a row of their own: one row of all of them would widen the panel
        first = self.controls
        self.controls = QHBoxLayout()
        self.controls.setSpacing(6)
        self.layout().insertLayout(self.layout().indexOf(self.view), self.controls)
        first.insertWidget(0, QLabel("From"))
        first.insertWidget(1, self.sampler)
        self.temperature = QSlider(Qt.Orientation.Horizontal)
        self.temperature.setRange(10, 200)  # hundredths
        self.temperature.setValue(100)
        self.temperature.setFixedWidth(90)
        self.temperature.setToolTip("Temperature: scales the spread of the draws (1 = as fitted)")
        self.temperature_label = QLabel("T 1.00")
        first.insertWidget(2, self.temperature)
        first.insertWidget(3, self.temperature_label)
        first.insertStretch(4, 1)
        self.side = self.add_spin("Grid", 2, 16, 8, "Images per side: the grid is side × side")
        self.seed = self.add_spin("Seed", 0, 99_999, 0, "Same seed, same codes: watch the same samples improve as training goes on")
        new = QPushButton("New")
        new.setToolTip("Draw a new set of codes (next seed)")
        new.clicked.connect(lambda: self.seed.setValue(self.seed.value() + 1))
        self.controls.addWidget(new)
        self.density = QCheckBox("Density on map")
        self.density.setToolTip("Draw the fitted density's contours on the latent map: see where the codes are, "
                                "and the holes the prior's draws fall into")
        self.controls.addWidget(self.density)
        self.controls.addStretch(1)
        self.sampler.currentIndexChanged.connect(lambda _=0: state.set_sampler(sampler=self.sampler.currentData()))
        self.temperature.valueChanged.connect(self._on_temperature)
        self.density.toggled.connect(lambda on: state.set_sampler(show_density=on))
        self.sampler.setCurrentIndex(max(0, self.sampler.findData(state.sampler)))

    def _on_temperature(self, value: int) -> None:
        self.temperature_label.setText(f"T {value / 100:.2f}")
        self.state.set_sampler(temperature=value / 100)

    def on_state(self, changed: frozenset) -> None:
        super().on_state(changed)
        if S.SAMPLER in changed and self.isVisible():
            self.refresh()

    def compute(self, model):
        n = self.side.value()
        codes = self.state.sample_codes(n * n, seed=self.seed.value())
        return decode(model, codes, self.state.decode_label()), n, [], []

    def _prior_name(self) -> str:
        model = self.state.model
        return "learned mixture prior" if model is not None and model.prior.kind == "mixture" else "prior N(0, I)"

    def describe(self, images, nrow):
        where = "the fitted posterior" if self.state.sampler == "posterior" else f"the {self._prior_name()}"
        return f"{len(images)} draws from {where} at temperature {self.state.temperature:.2f}"

    def figure(self):
        where = "fitted posterior" if self.state.sampler == "posterior" else self._prior_name()
        return {**super().figure(), "title": f"Samples from the {where}, temperature {self.state.temperature:.2f}"}


class ManifoldPage(GridPage):
    title = "Latent manifold"
    tab_title = "Manifold"
    file_stem = "latent-manifold"
    padding = 0  # one continuous picture of the decoder's output across the plane
    caption = "The map's visible region decoded on a grid: pan or zoom the map."
    details = (
        "The map's visible region cut into a regular grid, each cell decoded (Kingma & Welling's figure). "
        "Pan or zoom the map to change the region. Directions off the map's plane are held at the map's base point."
    )
    depends_on = GridPage.depends_on | {S.PROJECTION, S.REGION}

    def __init__(self, state, parent=None):
        super().__init__(state, parent)
        self.side = self.add_spin("Grid", 4, 40, 12, "Cells per side of the decoded grid")
        self.controls.addStretch(1)
        self.region = ((-3.0, 3.0), (-3.0, 3.0))

    def on_state(self, changed):
        super().on_state(changed)
        p = self.state.projection
        if S.Z in changed and p is not None and p.mode == "dims":
            self.stale = True  # its off-plane dims follow the sliders

    def compute(self, model):
        n = self.side.value()
        self.region = self.state.region or ((-3.0, 3.0), (-3.0, 3.0))
        codes = manifold_codes(self.state.projection, *self.region, n, self.state.base_z())
        return decode(model, codes, self.state.decode_label()), n, [], []

    def describe(self, images, nrow):
        (x0, x1), (y0, y1) = self.region
        return f"{nrow} × {nrow} over x ∈ [{x0:.2f}, {x1:.2f}], y ∈ [{y0:.2f}, {y1:.2f}]"

    def figure(self):
        x, y = self.state.projection.axis_labels() if self.state.projection is not None else ("z1", "z2")
        return {**super().figure(), "title": "Latent manifold: the decoder over the map's region",
                "col_label": x, "row_label": y, "extent": self.region, "rows": [], "cols": []}


class TraversalPage(GridPage):
    title = "Traversals"
    tab_title = "Traversals"
    file_stem = "latent-traversal"
    row_label = "latent dimension, KL in nats"
    col_label = "value of the dimension"
    animated = True
    caption = "Each row moves one dimension from −3 to +3; the rest stay at the current z."
    details = (
        "Each row sweeps one dimension from −3 to +3 while the others keep the current point's values. "
        "Rows are sorted by KL (the number after the name, in nats); an inactive dimension gives a row of identical digits."
    )
    depends_on = GridPage.depends_on | {S.Z, S.KL}

    def __init__(self, state, parent=None):
        super().__init__(state, parent)
        self.steps = self.add_spin("Steps", 3, 21, 9, "Images per row, evenly spaced from −3 to +3")
        self.active_only = QCheckBox("Active dimensions only")
        self.active_only.setToolTip(f"Hide dimensions whose KL is below {INACTIVE_KL} nats (the decoder ignores them)")
        self.active_only.setChecked(True)
        self.active_only.toggled.connect(lambda _=False: self.refresh())
        self.controls.addWidget(self.active_only)
        self.controls.addStretch(1)

    def dims(self) -> list[int]:
        order = list(self.state.dims_by_kl())
        kl = self.state.kl
        if self.active_only.isChecked() and kl is not None and kl.any():
            active = [d for d in order if kl[d] >= INACTIVE_KL]
            order = active or order[:1]
        # beyond this the rows get too thin to see; the most informative dimensions come first
        return order[:MAX_TRAVERSAL_ROWS]

    def compute(self, model):
        steps = self.steps.value()
        dims = self.dims()
        z = self.state.z if self.state.z is not None else np.zeros(model.cfg.latent_dim)
        images = traversal_grid(model, z, dims, steps, TRAVERSAL_SPAN, self.state.decode_label())
        kl = self.state.kl
        rows = [f"z{d + 1}" + (f"  {kl[d]:.1f}" if kl is not None and kl.any() else "") for d in dims]
        cols = [f"{v:+.1f}" for v in np.linspace(-TRAVERSAL_SPAN, TRAVERSAL_SPAN, steps)]
        return images, steps, rows, cols

    def animation_frames(self):
        from ....core.animation import traversal_frames

        steps = len(self.names[1])
        return traversal_frames(self.images.reshape(-1, steps, *self.images.shape[1:]))

    def describe(self, images, nrow):
        rows, d = len(images) // nrow, self.state.latent_dim
        which = f"{rows} dimensions" if rows == d else f"{rows} of {d} dimensions, most KL first"
        return f"{which} × {nrow} steps; row names: dimension, KL in nats"


class InterpolationPage(GridPage):
    title = "Interpolation"
    tab_title = "Interpolation"
    file_stem = "interpolation"
    row_label = "path"
    col_label = "from A to B"
    animated = True
    caption = "A to B on a straight line (top) and on the great circle, slerp (bottom)."
    details = (
        "From point A to point B: the top row moves in a straight line, the bottom row along the great "
        "circle (slerp), which keeps the code's length typical of the prior. Both paths are drawn on the map."
    )
    depends_on = GridPage.depends_on | {S.PATH, S.POINTS}

    def __init__(self, state, parent=None):
        super().__init__(state, parent)
        self.set_a = QPushButton("A = current point")
        self.set_a.setToolTip("Start at the point decoded now (click the map or move the sliders first)")
        self.set_b = QPushButton("B = current point")
        self.set_b.setToolTip("End at the point decoded now")
        self.set_a.clicked.connect(lambda: self.set_endpoints(self.state.z, self.state.endpoints[1]))
        self.set_b.clicked.connect(lambda: self.set_endpoints(self.state.endpoints[0], self.state.z))
        self.controls.addWidget(self.set_a)
        self.controls.addWidget(self.set_b)
        self.steps = self.add_spin("Steps", 3, 24, state.path_steps, "Images from A to B, both ends included")
        self.steps.valueChanged.connect(self.state.set_path_steps)
        self.controls.addStretch(1)

    @property
    def a(self) -> np.ndarray | None:
        return self.state.endpoints[0]

    @property
    def b(self) -> np.ndarray | None:
        return self.state.endpoints[1]

    def set_endpoints(self, a: np.ndarray | None, b: np.ndarray | None) -> None:
        self.state.set_endpoints(a, b)
        self.refresh()

    def endpoints(self) -> tuple[np.ndarray, np.ndarray] | None:
        return self.state.path_ends()

    def codes(self) -> tuple[np.ndarray, np.ndarray] | None:
        return self.state.path_codes()

    def compute(self, model):
        codes = self.codes()
        n = self.state.path_steps
        if codes is None:
            return np.zeros((0, *model.cfg.image_shape), dtype=np.float32), n, [], []
        lin, sl = codes
        images = decode(model, np.vstack([lin, sl]), self.state.decode_label())
        cols = ["A"] + [""] * (n - 2) + ["B"]
        return images, n, ["linear", "slerp"], cols

    def animation_frames(self):
        """The straight line and the great circle side by side, one point of the way per frame."""
        n = len(self.images) // 2
        return [tile(self.images[[t, n + t]], 2, padding=self.padding) for t in range(n)]

