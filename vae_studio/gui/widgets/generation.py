"""Generated pictures: prior samples, the latent manifold, traversals, interpolations.

Each page decodes with the explorer's current CPU model and can be saved as a PNG. Pages are
only re-decoded when they are on screen; a snapshot that arrives while one is hidden just marks
it stale.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QTimer, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ...core import latent as L
from ...core.atomic import atomic_write
from .decoder_view import DigitView
from .latent_sliders import INACTIVE_KL

if TYPE_CHECKING:
    from .explorer import LatentExplorer

PADDING = 2
MAX_TRAVERSAL_ROWS = 16


def grid_to_png(grid: np.ndarray) -> bytes:
    """A float picture in [0, 1], (H, W), as 8-bit grey PNG bytes."""
    a = np.ascontiguousarray(np.clip(np.round(np.asarray(grid) * 255.0), 0, 255).astype(np.uint8))
    h, w = a.shape
    img = QImage(a.data, w, h, w, QImage.Format.Format_Grayscale8)
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    if not img.save(buf, "PNG"):
        raise OSError("could not encode the picture as PNG")
    buf.close()
    return bytes(data.data())


def save_png(grid: np.ndarray, path: str | os.PathLike) -> None:
    data = grid_to_png(grid)
    with atomic_write(path) as f:  # never a half-written file, even if the disk fills up
        f.write(data)


def _cell_centres(count: int, size: int) -> list[float]:
    """Centres of ``count`` tiled cells of ``size`` pixels, in the tiled picture's pixels."""
    return [PADDING + i * (size + PADDING) + size / 2 for i in range(count)]


class GridPage(QWidget):
    """One generation view: controls, a picture, an export button."""

    title = ""
    tab_title = ""  # a shorter name for the tab, where the title is long
    caption = ""
    file_stem = "grid"

    def __init__(self, source: "LatentExplorer", parent: QWidget | None = None):
        super().__init__(parent)
        self.source = source
        self.grid: np.ndarray | None = None
        self.images: np.ndarray | None = None
        self.stale = True
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        cap = QLabel(self.caption)
        cap.setObjectName("caption")
        cap.setWordWrap(True)
        layout.addWidget(cap)
        self.controls = QHBoxLayout()
        layout.addLayout(self.controls)
        self.view = DigitView(min_size=160)
        layout.addWidget(self.view, 1)
        bottom = QHBoxLayout()
        self.status = QLabel("")
        self.status.setObjectName("caption")
        self.status.setWordWrap(True)  # a long line would otherwise widen the whole panel
        bottom.addWidget(self.status, 1)
        self.export_button = QPushButton("Export PNG…")
        self.export_button.setToolTip("Save this picture at its native resolution (one pixel per pixel) as a PNG file")
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

    def compute(self, model) -> tuple[np.ndarray, int, list, list]:
        """(images, images per row, row names, column names)."""
        raise NotImplementedError

    def unavailable(self, model) -> str | None:
        """Why this page cannot draw for ``model``, or None when it can."""
        return None

    def refresh(self) -> None:
        model = self.source.model()
        why = "Train a model to generate." if model is None else self.unavailable(model)
        if why:
            self.grid = self.images = None
            self.view.clear()
            self.status.setText(why)
            self.stale = False
            return
        images, nrow, rows, cols = self.compute(model)
        if len(images) == 0:
            self.grid = self.images = None
            self.view.clear()
            self.status.setText("Nothing to show yet.")
            self.stale = False
            return
        self.images = images
        self.grid = L.tile(images, nrow, padding=PADDING)
        self.view.set_image(self.grid)
        h, w = images.shape[-2:]
        n_rows = -(-len(images) // nrow)
        self.view.set_labels(
            [(y, t) for y, t in zip(_cell_centres(n_rows, h), rows)],
            [(x, t) for x, t in zip(_cell_centres(nrow, w), cols)],
        )
        self.status.setText(self.describe(images, nrow))
        self.stale = False

    def describe(self, images: np.ndarray, nrow: int) -> str:
        return f"{len(images) // nrow} × {nrow} images"

    def export_png(self, path: str | os.PathLike) -> None:
        if self.grid is None or self.stale:
            self.refresh()
        if self.grid is None:
            raise ValueError("nothing to export yet: train a model first")
        save_png(self.grid, path)

    def _ask_export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, f"Export {self.title}", f"{self.file_stem}.png", "PNG images (*.png)")
        if path:
            if not path.lower().endswith(".png"):
                path += ".png"
            try:
                self.export_png(path)
            except (OSError, ValueError) as exc:
                self.status.setText(f"Could not save {os.path.basename(path)}: {exc}")
            else:
                self.status.setText(f"Saved {os.path.basename(path)}")


class PriorPage(GridPage):
    title = "Prior samples"
    tab_title = "Samples"
    file_stem = "prior-samples"
    caption = (
        "Codes drawn from the prior z ~ N(0, I) and decoded. This is how the VAE generates new digits; "
        "blurry or odd ones show where the prior puts mass that the encoder never used."
    )

    def __init__(self, source, parent=None):
        super().__init__(source, parent)
        self.side = self.add_spin("Grid", 2, 16, 8, "Images per side: the grid is side × side")
        self.seed = self.add_spin("Seed", 0, 99_999, 0, "Same seed, same codes: watch the same samples improve as training goes on")
        new = QPushButton("New samples")
        new.setToolTip("Draw a new set of codes (next seed)")
        new.clicked.connect(lambda: self.seed.setValue(self.seed.value() + 1))
        self.controls.addWidget(new)
        self.controls.addStretch(1)

    def compute(self, model):
        n = self.side.value()
        return L.prior_samples(model, n * n, self.source.decode_label(), seed=self.seed.value()), n, [], []


class ManifoldPage(GridPage):
    title = "Latent manifold"
    tab_title = "Manifold"
    file_stem = "latent-manifold"
    caption = (
        "The map's visible region cut into a regular grid, each cell decoded (Kingma & Welling's figure). "
        "Pan or zoom the map to change the region. Directions off the map's plane are held at the map's base point."
    )

    def __init__(self, source, parent=None):
        super().__init__(source, parent)
        self.side = self.add_spin("Grid", 4, 40, 20, "Cells per side of the decoded grid")
        self.controls.addStretch(1)

    def compute(self, model):
        n = self.side.value()
        (x0, x1), (y0, y1) = self.source.map.visible_range()
        self.region = ((x0, x1), (y0, y1))
        codes = L.manifold_codes(self.source.projection, (x0, x1), (y0, y1), n, self.source.base_z())
        return L.decode(model, codes, self.source.decode_label()), n, [], []

    def describe(self, images, nrow):
        (x0, x1), (y0, y1) = self.region
        return f"{nrow} × {nrow} over x ∈ [{x0:.2f}, {x1:.2f}], y ∈ [{y0:.2f}, {y1:.2f}]"


class TraversalPage(GridPage):
    title = "Traversals"
    file_stem = "latent-traversal"
    caption = (
        "Each row sweeps one dimension from −3 to +3 while the others keep the current point's values. "
        "Rows are sorted by KL; an inactive dimension gives a row of identical digits."
    )

    def __init__(self, source, parent=None):
        super().__init__(source, parent)
        self.steps = self.add_spin("Steps", 3, 21, 9, "Images per row, evenly spaced from −3 to +3")
        self.active_only = QCheckBox("Active dimensions only")
        self.active_only.setToolTip(f"Hide dimensions whose KL is below {INACTIVE_KL} nats (the decoder ignores them)")
        self.active_only.setChecked(True)
        self.active_only.toggled.connect(lambda _=False: self.refresh())
        self.controls.addWidget(self.active_only)
        self.controls.addStretch(1)

    def dims(self) -> list[int]:
        order = list(self.source.dims_by_kl())
        kl = self.source.kl_per_dim()
        if self.active_only.isChecked() and kl is not None and kl.any():
            active = [d for d in order if kl[d] >= INACTIVE_KL]
            order = active or order[:1]
        # beyond this the rows get too thin to see; the most informative dimensions come first
        return order[:MAX_TRAVERSAL_ROWS]

    def compute(self, model):
        steps = self.steps.value()
        dims = self.dims()
        images = L.traversal_grid(model, self.source.current_z(), dims, steps, 3.0, self.source.decode_label())
        kl = self.source.kl_per_dim()
        rows = [f"z{d + 1}" + (f"  {kl[d]:.1f}" if kl is not None and kl.any() else "") for d in dims]
        values = np.linspace(-3, 3, steps)
        cols = [f"{v:+.1f}" for v in values] if steps <= 13 else [f"{v:+.0f}" if i % 2 == 0 else "" for i, v in enumerate(values)]
        return images, steps, rows, cols

    def describe(self, images, nrow):
        rows, d = len(images) // nrow, self.source.latent_dim()
        which = f"{rows} dimensions" if rows == d else f"{rows} of {d} dimensions, most KL first"
        return f"{which} × {nrow} steps (row names: dimension and its KL in nats)"


class InterpolationPage(GridPage):
    title = "Interpolation"
    file_stem = "interpolation"
    caption = (
        "From point A to point B: the top row moves in a straight line, the bottom row along the great "
        "circle (slerp), which keeps the code's length typical of the prior. Both paths are drawn on the map."
    )
    pathChanged = Signal()

    def __init__(self, source, parent=None):
        super().__init__(source, parent)
        self.a: np.ndarray | None = None
        self.b: np.ndarray | None = None
        self.set_a = QPushButton("A = current point")
        self.set_a.setToolTip("Start at the point decoded now (click the map or move the sliders first)")
        self.set_b = QPushButton("B = current point")
        self.set_b.setToolTip("End at the point decoded now")
        self.set_a.clicked.connect(lambda: self.set_endpoints(self.source.current_z(), self.b))
        self.set_b.clicked.connect(lambda: self.set_endpoints(self.a, self.source.current_z()))
        self.controls.addWidget(self.set_a)
        self.controls.addWidget(self.set_b)
        self.steps = self.add_spin("Steps", 3, 24, 10, "Images from A to B, both ends included")
        self.steps.valueChanged.connect(lambda _=0: self.pathChanged.emit())
        self.controls.addStretch(1)

    def set_endpoints(self, a: np.ndarray | None, b: np.ndarray | None) -> None:
        self.a = None if a is None else np.asarray(a, dtype=np.float64).copy()
        self.b = None if b is None else np.asarray(b, dtype=np.float64).copy()
        self.refresh()
        self.pathChanged.emit()

    def endpoints(self) -> tuple[np.ndarray, np.ndarray] | None:
        a, b = self.a, self.b
        if a is None or b is None:
            default = self.source.default_endpoints()
            if default is None:
                return None
            a = default[0] if a is None else a
            b = default[1] if b is None else b
        if len(a) != self.source.latent_dim() or len(b) != self.source.latent_dim():
            return None
        return a, b

    def codes(self) -> tuple[np.ndarray, np.ndarray] | None:
        ends = self.endpoints()
        if ends is None:
            return None
        n = self.steps.value()
        return L.interpolate(*ends, n, "linear"), L.interpolate(*ends, n, "slerp")

    def compute(self, model):
        codes = self.codes()
        n = self.steps.value()
        if codes is None:
            return np.zeros((0, *model.cfg.image_shape[1:]), dtype=np.float32), n, [], []
        lin, sl = codes
        images = L.decode(model, np.vstack([lin, sl]), self.source.decode_label())
        cols = ["A"] + [""] * (n - 2) + ["B"]
        return images, n, ["linear", "slerp"], cols


class ConditionalPage(GridPage):
    """Pages that only a conditional model can draw: the label is an input of the decoder."""

    def unavailable(self, model):
        if not model.conditional:
            return "This view needs a conditional model: pick Conditional in the Variant panel and train."
        return None

    def class_labels(self, model) -> list[str]:
        names = self.source.class_names()
        return [names[c] if c < len(names) else str(c) for c in range(model.cfg.num_classes)]


class LabelSweepPage(ConditionalPage):
    title = "Label sweep"
    file_stem = "label-sweep"
    caption = (
        "One code z decoded under every label: z holds the style (slant, stroke width), the label picks the class. "
        "The first row is the current point (click the map or move the sliders); more rows add codes from the prior."
    )

    def __init__(self, source, parent=None):
        super().__init__(source, parent)
        self.rows = self.add_spin("Rows", 1, 12, 1, "Codes to sweep: the current point, then draws from the prior")
        self.seed = self.add_spin("Seed", 0, 99_999, 0, "Seed of the extra rows' prior draws")
        self.controls.addStretch(1)

    def codes(self, model) -> np.ndarray:
        z = self.source.current_z()
        d = model.cfg.latent_dim
        first = np.zeros((1, d)) if z is None or len(z) != d else z.reshape(1, -1)
        extra = np.random.default_rng(self.seed.value()).standard_normal((self.rows.value() - 1, d))
        return np.vstack([first, extra])

    def compute(self, model):
        codes = self.codes(model)
        images = L.label_sweep(model, codes)
        rows = ["current z"] + [f"prior {i}" for i in range(1, len(codes))]
        return images, model.cfg.num_classes, rows, self.class_labels(model)

    def describe(self, images, nrow):
        return f"{len(images) // nrow} code{'s' if len(images) > nrow else ''} × {nrow} labels"


class StyleTransferPage(ConditionalPage):
    title = "Style transfer"
    file_stem = "style-transfer"
    caption = (
        "Held-out digits (left column) encoded with their own label, then decoded under every label: the same "
        "handwriting drawn as each class (Kingma et al. 2014's analogy figure). Click a dot on the map to start "
        "from that digit."
    )

    def __init__(self, source, parent=None):
        super().__init__(source, parent)
        self.first = self.add_spin("Digit #", 1, 1, 1, "Which held-out digit the first row encodes (the map's points, in order)")
        self.rows = self.add_spin("Rows", 1, 12, 4, "How many held-out digits, from the chosen one on")
        self.controls.addStretch(1)

    def select(self, index: int) -> None:
        """Start from held-out point ``index`` (0-based), e.g. the one clicked on the map."""
        self.first.blockSignals(True)
        self.first.setMaximum(max(1, self.source.probe_count()))
        self.first.setValue(index + 1)
        self.first.blockSignals(False)
        self.stale = True

    def unavailable(self, model):
        why = super().unavailable(model)
        if why is None and self.source.probe_count() == 0:
            return "The held-out digits appear once the model has been shown on the map."
        return why

    def compute(self, model):
        n = self.source.probe_count()
        self.first.setMaximum(max(1, n))
        start = self.first.value() - 1
        index = [(start + i) % n for i in range(min(self.rows.value(), n))]
        images, labels = self.source.probe_examples(index)
        decoded = L.style_transfer(model, images, labels)
        c = model.cfg.num_classes
        h, w = images.shape[-2:]
        out = np.empty((len(index), c + 1, h, w), dtype=np.float32)
        out[:, 0] = images
        out[:, 1:] = decoded.reshape(len(index), c, h, w)
        names = self.class_labels(model)
        rows = [f"#{i + 1} ({names[int(y)] if int(y) < len(names) else y})" for i, y in zip(index, labels)]
        return out.reshape(-1, h, w), c + 1, rows, ["input"] + names

    def describe(self, images, nrow):
        return f"{len(images) // nrow} held-out digit{'s' if len(images) > nrow else ''} × {nrow - 1} labels"


class GenerationPanel(QWidget):
    pathChanged = Signal()

    def __init__(self, source: "LatentExplorer", parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.prior = PriorPage(source)
        self.manifold = ManifoldPage(source)
        self.traversal = TraversalPage(source)
        self.interpolation = InterpolationPage(source)
        self.label_sweep = LabelSweepPage(source)
        self.style_transfer = StyleTransferPage(source)
        self._conditional = True
        for page in self.pages():
            i = self.tabs.addTab(page, page.tab_title or page.title)
            self.tabs.setTabToolTip(i, page.title)
        self.set_conditional(False)
        layout.addWidget(self.tabs)
        self.interpolation.pathChanged.connect(self.pathChanged)
        self.tabs.currentChanged.connect(lambda _=0: self.refresh_visible())
        # panning the map re-decodes the manifold, but at most ~8 times a second
        self._manifold_timer = QTimer(self)
        self._manifold_timer.setSingleShot(True)
        self._manifold_timer.setInterval(120)
        self._manifold_timer.timeout.connect(self._refresh_manifold)

    def pages(self) -> list[GridPage]:
        """The pages the current model can draw (label pages only for a conditional one)."""
        base = [self.prior, self.manifold, self.traversal, self.interpolation]
        return base + ([self.label_sweep, self.style_transfer] if self._conditional else [])

    def set_conditional(self, on: bool) -> None:
        """Show the label sweep and style transfer pages only for a model that takes a label."""
        self._conditional = bool(on)
        for page in (self.label_sweep, self.style_transfer):
            self.tabs.setTabVisible(self.tabs.indexOf(page), on)
            page.stale = True
        if not on and self.tabs.currentWidget() in (self.label_sweep, self.style_transfer):
            self.tabs.setCurrentWidget(self.prior)

    def show_page(self, page: GridPage) -> None:
        self.tabs.setTabVisible(self.tabs.indexOf(page), True)
        self.tabs.setCurrentWidget(page)
        self.refresh_visible()

    def invalidate(self, pages: list[GridPage] | None = None) -> None:
        """Mark pages stale (all by default) and redraw the one on screen."""
        for p in pages or self.pages():
            p.stale = True
        self.refresh_visible()

    def refresh_visible(self) -> None:
        page = self.tabs.currentWidget()
        if page is not None and page.stale and self.isVisible():
            page.refresh()

    def region_changed(self) -> None:
        self.manifold.stale = True
        if self.isVisible() and self.tabs.currentWidget() is self.manifold:
            self._manifold_timer.start()

    def _refresh_manifold(self) -> None:
        if self.manifold.stale:
            self.manifold.refresh()

    def showEvent(self, ev) -> None:
        super().showEvent(ev)
        self.refresh_visible()
