"""What the latent explorer shows, as one plain object its views observe.

The window hands it snapshots and the held-out images behind them; the map, sliders and the
decode, draw and generate pages are views of it, changing it through its methods and told of every
change by :meth:`ExplorerState.subscribe` (once per call, with a frozenset of the kinds of change
named below), so no view needs to know another. No Qt here: the same state can drive a notebook.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

import numpy as np

from .config import ModelConfig
from .decoding import CpuModel, decode, encode
from .generate import interpolate
from .image_elbo import neg_elbo, neg_elbo_each
from .projection import Projection
from .explorer_changes import (  # noqa: F401 - the kinds of change, named as S.MODEL etc. by the views
    ALL, CLASSES, CONDITIONAL, CONFIG, DRAWN, HOVER, KL, LABEL, MODEL, PATH, POINTS, PROBES, PROJECTION, REGION,
    SAMPLER, SELECTION, VIEW, Z,
)

SAMPLERS = ("posterior", "prior")  # the fitted posterior first: its samples land where the codes are (the default)

VIEW_MODES = ("pca", "dims")
TYPICAL_IMAGES = 1000  # held-out images behind the "typical -ELBO" a drawing is compared with


class ExplorerState:
    """The explorer's model and everything chosen in it: projection, current and clicked code,
    label, drawing, interpolation path, visible region."""

    def __init__(self) -> None:
        self.cpu = CpuModel()
        self._observers: list[Callable[[frozenset], None]] = []
        self._pending: set[str] | None = None
        self.class_names: tuple[str, ...] = tuple(str(i) for i in range(10))
        self.next_conditional = False  # whether the model Train makes is given labels: shown while there is no model
        self.label = 0
        self.probe_split = None
        self._probe_images: np.ndarray | None = None
        self._probe_key = None
        self.path_steps = 10
        self.drawing: np.ndarray | None = None  # (H, W) what the encoder sees of the pad; outlives a model
        self.train_split = None  # the training images the posterior sampler is fitted to
        self.sampler = SAMPLERS[0]
        self.temperature = 1.0
        self.show_density = False
        self._reset()

    def _reset(self) -> None:
        self.snapshot = None
        self.projection: Projection | None = None
        self.mu: np.ndarray | None = None  # (P, D) float32 probe means
        self.labels: np.ndarray | None = None
        self.xy = np.zeros((0, 2), dtype=np.float32)  # the probe points in the view
        self.kl: np.ndarray | None = None
        self.z: np.ndarray | None = None  # the current code, (D,) float64
        self.clicked_z: np.ndarray | None = None
        self.selected = -1  # the probe point clicked last, or -1
        self.hover_z: np.ndarray | None = None
        self.drawn: tuple[np.ndarray, np.ndarray] | None = None  # (mu, logvar) of the drawing
        self.drawn_score: tuple[float, float, float] | None = None  # -ELBO, recon, KL
        self.endpoints: tuple[np.ndarray | None, np.ndarray | None] = (None, None)
        self.region: tuple[tuple[float, float], tuple[float, float]] | None = None
        self._typical: tuple[int, float] | None = None
        self._posterior = None  # (snapshot, PosteriorSampler) fitted for the model shown

    # -- observers ---------------------------------------------------------------------------
    def subscribe(self, callback: Callable[[frozenset], None]) -> None:
        self._observers.append(callback)

    def unsubscribe(self, callback: Callable[[frozenset], None]) -> None:
        self._observers.remove(callback)

    @contextmanager
    def _changes(self) -> Iterator[set]:
        """Collect the kinds of change of one call, including nested ones; tell observers once."""
        outer = self._pending is None
        if outer:
            self._pending = set()
        try:
            yield self._pending
        finally:
            if outer:
                changed, self._pending = frozenset(self._pending), None
                if changed:
                    for callback in list(self._observers):
                        callback(changed)

    # -- what the views read -----------------------------------------------------------------
    @property
    def model(self):
        return self.cpu.model

    @property
    def latent_dim(self) -> int:
        return 0 if self.projection is None else self.projection.latent_dim

    @property
    def conditional(self) -> bool:
        """Whether label controls apply: the shown model's own kind, or with no model shown, the
        variant the window will train."""
        if self.model is not None:
            return bool(self.model.conditional)
        return self.next_conditional

    @property
    def num_classes(self) -> int:
        return self.cpu.config.num_classes if self.cpu.config is not None else len(self.class_names)

    def class_name(self, c: int) -> str:
        return self.class_names[c] if 0 <= c < len(self.class_names) else str(c)

    def decode_label(self) -> int | None:
        """The label to decode with: the chosen class for a conditional model, else None."""
        return self.label if self.model is not None and self.model.conditional else None

    def decode(self, z: np.ndarray, label: int | None = None, own: bool = False) -> np.ndarray:
        """(H, W) image for one code; ``own``: decode with ``label`` instead of the chosen class."""
        return decode(self.model, z, label if own else self.decode_label())[0]

    def base_z(self) -> np.ndarray | None:
        """Where a view point takes its off-plane coordinates from: the sliders' code in a dims
        view, the probe means' centre (None) in PCA."""
        if self.projection is None or self.projection.mode == "pca" or self.z is None:
            return None
        return self.z

    def view_to_latent(self, x: float, y: float) -> np.ndarray:
        return self.projection.to_latent(np.array([x, y], dtype=np.float64), self.base_z())

    def dims_by_kl(self) -> np.ndarray:
        if self.kl is None or not self.kl.any():
            return np.arange(self.latent_dim)
        return np.argsort(-self.kl, kind="stable")

    def probe_count(self) -> int:
        if self._probe_images is None or self.labels is None:
            return 0
        return min(len(self._probe_images), len(self.labels))

    def probe_image(self, i: int) -> np.ndarray | None:
        if self._probe_images is None or not (0 <= i < len(self._probe_images)):
            return None
        return _as_float(self._probe_images[i])

    def probe_examples(self, index) -> tuple[np.ndarray, np.ndarray]:
        """Held-out images behind map points ``index`` as floats in [0, 1] (N, H, W), and their labels."""
        index = np.asarray(index, dtype=int)
        return _as_float(self._probe_images[index]), np.asarray(self.labels)[index]

    def default_endpoints(self) -> tuple[np.ndarray, np.ndarray] | None:
        """Interpolation ends before any are picked: the mean codes of the first two classes."""
        if self.mu is None or len(self.mu) == 0:
            return None
        classes = np.unique(self.labels)
        if len(classes) < 2:
            return self.mu[0].astype(np.float64), self.mu[-1].astype(np.float64)
        return tuple(self.mu[self.labels == c].mean(0).astype(np.float64) for c in classes[:2])

    def path_ends(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The interpolation's ends: those picked, the default for any not picked."""
        a, b = self.endpoints
        if a is None or b is None:
            default = self.default_endpoints()
            if default is None:
                return None
            a = default[0] if a is None else a
            b = default[1] if b is None else b
        if len(a) != self.latent_dim or len(b) != self.latent_dim:
            return None
        return a, b

    def path_codes(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The interpolation's codes, straight and spherical, (steps, D) each; None before a model."""
        ends = self.path_ends()
        if ends is None:
            return None
        return interpolate(*ends, self.path_steps, "linear"), interpolate(*ends, self.path_steps, "slerp")

    def typical_neg_elbo(self) -> float | None:
        """The held-out digits' median -ELBO under the current weights (computed once a snapshot)."""
        snap = self.snapshot
        if snap is None or self._probe_images is None or len(self._probe_images) != len(snap.probe_labels):
            return None
        if self._typical is None or self._typical[0] != snap.step:
            x = _as_float(self._probe_images[:TYPICAL_IMAGES])
            vals = neg_elbo_each(self.model, x, np.asarray(snap.probe_labels[:TYPICAL_IMAGES]))
            self._typical = (snap.step, float(np.median(vals)))
        return self._typical[1]

    # -- what the window sets ----------------------------------------------------------------
    def set_class_names(self, names) -> None:
        with self._changes() as ch:
            self.class_names = tuple(str(n) for n in names)
            ch.add(CLASSES)

    def set_variant(self, variant: str | None, label_given: bool = False) -> None:
        """The variant the window will train next (for β, whether it is given the label): with no
        model shown, its label controls."""
        with self._changes() as ch:
            before = self.conditional
            self.next_conditional = variant is not None and ModelConfig(variant=variant, label_given=label_given).conditional
            if self.conditional != before:
                ch.add(CONDITIONAL)

    def set_train_split(self, split) -> None:
        """The training images (a core ``Split``): the posterior sampler fits their codes."""
        with self._changes() as ch:
            self.train_split = split
            self._posterior = None
            ch.add(SAMPLER)

    def set_sampler(self, sampler: str | None = None, temperature: float | None = None,
                    show_density: bool | None = None) -> None:
        with self._changes() as ch:
            if sampler is not None and sampler in SAMPLERS and sampler != self.sampler:
                self.sampler = sampler
                ch.add(SAMPLER)
            if temperature is not None and temperature > 0 and temperature != self.temperature:
                self.temperature = float(temperature)
                ch.add(SAMPLER)
            if show_density is not None and bool(show_density) != self.show_density:
                self.show_density = bool(show_density)
                ch.add(SAMPLER)

    def posterior(self):
        """The Gaussian mixture fitted to the training codes of the model shown (per class for a
        conditional model; Ghosh et al. 2020), fitted once per snapshot; None without a model."""
        if self.model is None:
            return None
        if self._posterior is None or self._posterior[0] is not self.snapshot:
            from .sampler import PosteriorSampler, fit_posterior_sampler

            if self.train_split is not None and len(self.train_split):
                fitted = fit_posterior_sampler(self.model, self.train_split, "cpu")
            else:  # no training images at hand (a notebook): the probe codes stand in
                fitted = PosteriorSampler.fit(self.mu, self.labels if self.model.conditional else None)
            self._posterior = (self.snapshot, fitted)
        return self._posterior[1]

    def sample_codes(self, n: int, seed: int = 0) -> np.ndarray:
        """(n, D) codes from the chosen sampler at the chosen temperature."""
        from .sampler import sample_codes

        posterior = self.posterior() if self.sampler == "posterior" else None
        return sample_codes(self.sampler, n, self.latent_dim, posterior=posterior, label=self.decode_label(),
                            temperature=self.temperature, seed=seed,
                            prior=None if self.model is None else self.model.prior)

    def density_grid(self, n: int = 80):
        """The fitted density in the map's present view and region: x (n,), y (n,), p (n, n)."""
        if self.model is None or self.projection is None or self.region is None:
            return None
        (x0, x1), (y0, y1) = self.region
        p = self.projection
        return self.posterior().density_grid((x0, x1), (y0, y1), n, matrix=p.matrix, center=p.center,
                                             label=self.decode_label(), temperature=self.temperature)

    def set_probe_split(self, split) -> None:
        """The held-out split the snapshots' ``probe_index`` points into (a core ``Split``)."""
        with self._changes() as ch:
            self.probe_split = split
            self._probe_key = None
            if self.snapshot is not None and self._sync_probe_images():
                ch.add(PROBES)

    def set_probe_images(self, images: np.ndarray | None) -> None:
        """The probe images, (P, H, W) or (P, C, H, W), uint8 or float in [0, 1], row i behind point i."""
        with self._changes() as ch:
            self.probe_split = None
            self._probe_images = None if images is None else _decoder_layout(np.asarray(images))
            self._probe_key = "given"
            self._typical = None
            ch.add(PROBES)

    def set_snapshot(self, snapshot) -> None:
        """Show a trainer ``Snapshot``: new weights in the CPU copy, new probe means, KL, view."""
        with self._changes() as ch:
            cfg = snapshot.model_config
            rebuilt = self.cpu.load(cfg, snapshot.state)
            if rebuilt or self.projection is None or self.projection.latent_dim != cfg.latent_dim:
                self._configure(cfg, ch)
            self.snapshot = snapshot
            self.mu = np.asarray(snapshot.probe_mu, dtype=np.float32)
            self.labels = np.asarray(snapshot.probe_labels)
            kl = np.asarray(snapshot.kl_per_dim, dtype=np.float64).reshape(-1)
            self.kl = kl if len(kl) == cfg.latent_dim else None
            if self._sync_probe_images():
                ch.add(PROBES)
            self.projection.fit(self.mu)
            self.xy = self.projection.to_view(self.mu)
            self._encode_drawing(ch)
            ch.update({MODEL, POINTS, KL, PROJECTION})

    def clear(self) -> None:
        """Forget the model and everything chosen in it: for a new run or another dataset."""
        with self._changes() as ch:
            self.cpu.clear()
            self._reset()
            if self._probe_key != "given":  # images handed over directly outlive a clear
                self._probe_key = None
            ch.update(ALL)

    def _configure(self, cfg, ch: set) -> None:
        d = cfg.latent_dim
        self.projection = Projection(d, mode="pca" if d > 2 else "dims")
        self.z = np.zeros(d)
        self.clicked_z = None
        self.selected = -1
        self.hover_z = None
        self.drawn = self.drawn_score = None
        self.endpoints = (None, None)
        self._typical = None
        if self.class_names and len(self.class_names) < cfg.num_classes:  # none: unlabelled images
            self.class_names = tuple(str(i) for i in range(cfg.num_classes))
        self.label = min(self.label, max(0, cfg.num_classes - 1))
        ch.update({CONFIG, Z, SELECTION, HOVER, DRAWN, PATH, CLASSES, CONDITIONAL, LABEL})

    def _sync_probe_images(self) -> bool:
        if self._probe_key == "given" or self.probe_split is None:
            return False
        index = np.asarray(self.snapshot.probe_index)
        key = (id(self.probe_split), index.tobytes())
        if key == self._probe_key:
            return False
        imgs = self.probe_split.images
        self._probe_images = _decoder_layout(np.asarray(imgs[index].numpy() if hasattr(imgs, "numpy") else imgs[index]))
        self._probe_key = key
        self._typical = None
        return True

    # -- what the views set ------------------------------------------------------------------
    def set_label(self, label: int) -> bool:
        """Conditional models: decode everything as class ``label``. True when it changed."""
        label = int(label)
        if label == self.label:
            return False
        with self._changes() as ch:
            self.label = label
            self._encode_drawing(ch)
            ch.add(LABEL)
        return True

    def set_view(self, mode: str, dims: tuple[int, int] | None = None) -> None:
        """``mode`` 'pca' or 'dims'; ``dims`` the 0-based dimensions of a dims view."""
        if mode not in VIEW_MODES:
            raise ValueError(f"mode must be one of {', '.join(VIEW_MODES)} (got {mode!r})")
        if self.projection is None:
            return
        with self._changes() as ch:
            if mode == "dims":
                self.projection.set_dims(*(dims if dims is not None else self.projection.dims))
            else:
                self.projection.set_mode("pca", self.mu)
            if self.mu is not None:
                self.xy = self.projection.to_view(self.mu)
            ch.update({PROJECTION, POINTS, VIEW})

    def set_z(self, z: np.ndarray) -> None:
        """Make ``z`` (D,) the current code, as the sliders do."""
        if self.projection is None:
            return
        with self._changes() as ch:
            self.z = np.asarray(z, dtype=np.float64).reshape(-1).copy()
            ch.add(Z)

    def click(self, x: float, y: float, index: int = -1) -> None:
        """A click at view point (x, y); ``index`` the probe point clicked, or -1 for empty space.

        The code is the view's inverse: in a dims view the two dims come from the click and the
        rest from the current code; in PCA the other components sit at the probe set's mean.
        """
        if self.projection is None or self.model is None:
            return
        with self._changes() as ch:
            z = self.view_to_latent(x, y)
            self.clicked_z = z.copy()
            self.selected = int(index)
            self.z = z
            ch.update({Z, SELECTION})

    def take_clicked(self) -> None:
        if self.clicked_z is not None:
            self.set_z(self.clicked_z)

    def hover(self, x: float, y: float) -> None:
        if self.projection is None or self.model is None:
            return
        with self._changes() as ch:
            self.hover_z = self.view_to_latent(x, y)
            ch.add(HOVER)

    def set_region(self, x_range: tuple[float, float], y_range: tuple[float, float]) -> None:
        region = ((float(x_range[0]), float(x_range[1])), (float(y_range[0]), float(y_range[1])))
        if region == self.region:
            return
        with self._changes() as ch:
            self.region = region
            ch.add(REGION)

    def set_endpoints(self, a: np.ndarray | None, b: np.ndarray | None) -> None:
        with self._changes() as ch:
            self.endpoints = tuple(None if e is None else np.asarray(e, dtype=np.float64).reshape(-1).copy() for e in (a, b))
            ch.add(PATH)

    def set_path_steps(self, steps: int) -> None:
        with self._changes() as ch:
            self.path_steps = int(steps)
            ch.add(PATH)

    def set_drawing(self, image: np.ndarray | None) -> None:
        """What the encoder sees of the draw pad, (H, W) in [0, 1]; an empty one removes it."""
        with self._changes() as ch:
            a = None if image is None else np.asarray(image, dtype=np.float32)
            a = a[0] if a is not None and a.ndim == 3 and a.shape[0] == 1 else a  # (1, H, W): one grey image
            self.drawing = a if a is not None and a.any() else None
            self._encode_drawing(ch)
            ch.add(DRAWN)

    def drawable(self) -> bool:
        """Whether the model shown takes a drawing: the pad draws grey ink, a colour model takes none."""
        return self.model is not None and self.model.cfg.image_shape[0] == 1

    def _encode_drawing(self, ch: set) -> None:
        if self.drawing is None or not self.drawable() or self.drawing.shape != self.model.cfg.image_shape[1:]:
            if self.drawn is not None:
                self.drawn = self.drawn_score = None
                ch.add(DRAWN)
            return
        label = self.decode_label()
        mu, logvar = encode(self.model, self.drawing, label)
        self.drawn = (mu[0].astype(np.float64), logvar[0].astype(np.float64))
        self.drawn_score = neg_elbo(self.model, self.drawing, label)
        ch.add(DRAWN)


def _decoder_layout(images: np.ndarray) -> np.ndarray:  # grey (P, H, W), colour (P, C, H, W): as decoded
    return images[:, 0] if images.ndim == 4 and images.shape[1] == 1 else images


def _as_float(images: np.ndarray) -> np.ndarray:
    return images.astype(np.float32) / 255.0 if images.dtype == np.uint8 else images.astype(np.float32)
