"""Pictures only a conditional model can draw: one code under every label, and style transfer."""

from __future__ import annotations

import numpy as np
import torch

from ....core import explorer_state as S
from ....core.generate import label_sweep, style_transfer
from .grid_pages import GridPage


class ConditionalPage(GridPage):
    """Pages that only a conditional model can draw: the label is an input of the decoder."""

    def unavailable(self, model):
        if not model.conditional:
            return "This view needs a conditional model: pick Conditional in the Variant panel and train."
        return None

    def class_labels(self, model) -> list[str]:
        return [self.state.class_name(c) for c in range(model.cfg.num_classes)]


class LabelSweepPage(ConditionalPage):
    title = "Label sweep"
    tab_title = "Label sweep"
    file_stem = "label-sweep"
    row_label = "code"
    col_label = "label"
    caption = "One z under every label: z holds the style, the label picks the class."
    details = (
        "One code z decoded under every label: z holds the style (slant, stroke width), the label picks the class. "
        "The first row is the current point (click the map or move the sliders); more rows add codes from the prior."
    )
    depends_on = frozenset({S.MODEL, S.CLASSES, S.Z})

    def __init__(self, state, parent=None):
        super().__init__(state, parent)
        self.rows = self.add_spin("Rows", 1, 12, 1, "Codes to sweep: the current point, then draws from the prior")
        self.seed = self.add_spin("Seed", 0, 99_999, 0, "Seed of the extra rows' prior draws")
        self.controls.addStretch(1)

    def codes(self, model) -> np.ndarray:
        z = self.state.z
        d = model.cfg.latent_dim
        first = np.zeros((1, d)) if z is None or len(z) != d else z.reshape(1, -1)
        extra = model.prior.sample(self.rows.value() - 1, 1.0, torch.Generator().manual_seed(self.seed.value()))
        return np.vstack([first, extra])

    def compute(self, model):
        codes = self.codes(model)
        images = label_sweep(model, codes)
        rows = ["current z"] + [f"prior {i}" for i in range(1, len(codes))]
        return images, model.cfg.num_classes, rows, self.class_labels(model)

    def describe(self, images, nrow):
        return f"{len(images) // nrow} code{'s' if len(images) > nrow else ''} × {nrow} labels"


class StyleTransferPage(ConditionalPage):
    title = "Style transfer"
    tab_title = "Style transfer"
    file_stem = "style-transfer"
    row_label = "held-out digit"
    col_label = "decoded as"
    caption = "Held-out digits (left) decoded as every class: the same handwriting."
    details = (
        "Held-out digits (left column) encoded with their own label, then decoded under every label: the same "
        "handwriting drawn as each class (Kingma et al. 2014's analogy figure). Click a dot on the map to start "
        "from that digit."
    )
    depends_on = frozenset({S.MODEL, S.CLASSES, S.PROBES, S.POINTS})

    def __init__(self, state, parent=None):
        super().__init__(state, parent)
        self.first = self.add_spin("Digit #", 1, 1, 1, "Which held-out digit the first row encodes (the map's points, in order)")
        self.rows = self.add_spin("Rows", 1, 12, 4, "How many held-out digits, from the chosen one on")
        self.controls.addStretch(1)

    def on_state(self, changed):
        super().on_state(changed)
        if S.SELECTION in changed and self.state.selected >= 0:
            self.select(self.state.selected)

    def select(self, index: int) -> None:
        """Start from held-out point ``index`` (0-based), e.g. the one clicked on the map."""
        self.first.blockSignals(True)
        self.first.setMaximum(max(1, self.state.probe_count()))
        self.first.setValue(index + 1)
        self.first.blockSignals(False)
        self.stale = True

    def unavailable(self, model):
        why = super().unavailable(model)
        if why is None and self.state.probe_count() == 0:
            return "The held-out digits appear once the model has been shown on the map."
        return why

    def compute(self, model):
        n = self.state.probe_count()
        self.first.setMaximum(max(1, n))
        start = self.first.value() - 1
        index = [(start + i) % n for i in range(min(self.rows.value(), n))]
        images, labels = self.state.probe_examples(index)
        decoded = style_transfer(model, images, labels)
        c = model.cfg.num_classes
        shape = images.shape[1:]  # (H, W) grey, (C, H, W) colour
        out = np.empty((len(index), c + 1, *shape), dtype=np.float32)
        out[:, 0] = images
        out[:, 1:] = decoded.reshape(len(index), c, *shape)
        names = self.class_labels(model)
        rows = [f"#{i + 1} ({self.state.class_name(int(y))})" for i, y in zip(index, labels)]
        return out.reshape(-1, *shape), c + 1, rows, ["input"] + names

    def describe(self, images, nrow):
        return f"{len(images) // nrow} held-out digit{'s' if len(images) > nrow else ''} × {nrow - 1} labels"
