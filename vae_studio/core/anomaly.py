"""Per-image anomaly scores from a trained VAE (higher = more anomalous).

- ``neg_elbo``, ``recon``, ``kl``: the -ELBO and its two terms in nats, averaged over the same k
  posterior draws the IWAE estimate uses;
- ``nll_iwae``: the importance-weighted estimate of -log p(x) with k draws (Burda et al. 2015);
- ``local_corrected``: the NLL minus the image's length under a local predictive coder in the
  model's own likelihood (:func:`.complexity.local_code_length`): Serrà et al.'s (2020) input
  complexity correction. Raw likelihood mostly measures how simple an image is, so a model of
  clothes finds digits more likely than clothes (Nalisnick et al. 2019); the correction removes
  what a generic coder also finds simple;
- ``recon_corrected``: the reconstruction term minus the same local code length: how much worse
  the model's decoder explains the image than a generic coder of its pixels does. It leaves out
  the KL term, which is smallest for the simplest images (a 1) whether or not the model knows them;
- ``latent_density``: -log of the training codes' density at the image's posterior mean: a
  Gaussian mixture per class of the training images (the posterior sampler's), weighted by how
  common each class is. One mixture over all codes smears the classes into each other, and an
  unseen class whose codes fall between them (a 9 between 4s and 7s) looks typical;
- ``atypicality`` (:data:`RECOMMENDED`): ``recon_corrected`` plus ``latent_density``, each
  standardised by its mean and spread over the model's own training images (a :class:`Calibration`);
- ``<compressor>_corrected``: Serrà et al.'s score with a real compressor, the NLL in bits minus
  the compressed length in bits; measured and not recommended: a Bernoulli likelihood of grey
  pixels is no code length, and the compressor's bits swamp it (``scripts/anomaly_evidence.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from .complexity import COMPRESSORS, compressed_bits, local_code_length
from .data import Split, to_float
from .errors import DataError
from .evaluate import posterior_sample
from .losses import recon_nll
from .models import VAE
from .roc import auroc
from .sampler import GaussianMixture, PosteriorSampler, posterior_means

_LOG_2PI = math.log(2 * math.pi)
BASE_SCORES = ("neg_elbo", "recon", "kl", "nll_iwae")
RECOMMENDED = "atypicality"
UNCALIBRATED = "recon_corrected"  # the recommended score where no training images calibrate one
CALIBRATED_PARTS = ("recon_corrected", "latent_density")
DEFAULT_IWAE_SAMPLES = 16
CALIBRATION_IMAGES = 1000  # training images whose scores set the spread; more change it little
MAX_DENSITY_POINTS = 20_000  # training codes the latent density is fitted to
SCORE_LABELS = {
    "neg_elbo": "−ELBO (nats)", "recon": "reconstruction (nats)", "kl": "KL (nats)", "nll_iwae": "IWAE NLL (nats)",
    "local_corrected": "NLL − local coder (nats)",
    "recon_corrected": "reconstruction − local coder (nats)", "latent_density": "latent density NLL (nats)",
    "atypicality": "atypicality (standardised)",
    **{f"{c}_corrected": f"NLL − {c.upper()} length (bits)" for c in COMPRESSORS},
}


def corrected_name(compressor: str) -> str:
    return f"{compressor}_corrected"


@dataclass(frozen=True)
class ScoreTable:
    """Every score of every image of one set, and which score is recommended."""

    scores: dict[str, np.ndarray]  # name -> (N,), insertion order is the CSV's column order
    labels: np.ndarray  # (N,) the images' labels in the dataset's own label space
    iwae_samples: int
    likelihood: str
    recommended: str = RECOMMENDED

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def score(self) -> np.ndarray:
        """The recommended score."""
        return self.scores[self.recommended]

    def names(self) -> list[str]:
        return list(self.scores)

    def aurocs(self, positive) -> dict[str, float]:
        """AUROC of every score for telling the ``positive`` images (anomalies) from the rest."""
        return {name: auroc(s, positive) for name, s in self.scores.items()}

    def subset(self, index) -> "ScoreTable":
        return ScoreTable({k: v[index] for k, v in self.scores.items()}, self.labels[index], self.iwae_samples,
                          self.likelihood, self.recommended)

    @staticmethod
    def concat(a: "ScoreTable", b: "ScoreTable") -> "ScoreTable":
        """Two sets scored by one model, one after the other (in-distribution, then the other set)."""
        return ScoreTable({k: np.concatenate([a.scores[k], b.scores[k]]) for k in a.scores},
                          np.concatenate([a.labels, b.labels]), a.iwae_samples, a.likelihood, a.recommended)

    def rows(self):
        """(index, label, neg_elbo, recon, kl, score, other scores...) per image, as the CSV holds them."""
        cols = self.csv_columns()[2:]
        data = [self.score if c == "score" else self.scores[c] for c in cols]
        for i in range(len(self)):
            yield (i, int(self.labels[i]), *(float(d[i]) for d in data))

    def csv_columns(self) -> list[str]:
        others = [n for n in self.scores if n not in ("neg_elbo", "recon", "kl", self.recommended)]
        return ["index", "label", "neg_elbo", "recon", "kl", "score", *others]


def _labels_for(model: VAE, labels: torch.Tensor) -> torch.Tensor | None:
    if not model.conditional:
        return None
    if len(labels) and int(labels.max()) >= model.cfg.num_classes:
        raise DataError(f"this conditional model knows {model.cfg.num_classes} classes, but the images have labels up to "
                        f"{int(labels.max())}; a conditional model scores an image given its class")
    return labels


@torch.no_grad()
def likelihood_scores(model: VAE, split: Split, k: int = DEFAULT_IWAE_SAMPLES, seed: int = 0,
                      device: torch.device | str = "cpu", max_decodes: int = 8192) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The model's own scores (:data:`BASE_SCORES`) of every image of ``split``, in nats, and the
    images' posterior means (N, D).

    One set of k posterior draws per image gives all four: recon is the mean of -log p(x|z) over
    the draws, KL is analytic, and the IWAE estimate is the log-mean-exp of the importance weights.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1 (got {k})")
    device = torch.device(device)
    gen = torch.Generator(device=device).manual_seed(int(seed))
    was_training = model.training
    model.eval()
    out: dict[str, list] = {name: [] for name in (*BASE_SCORES, "mu")}
    batch = max(1, max_decodes // k)
    try:
        for i in range(0, len(split), batch):
            x = to_float(split.images[i : i + batch].to(device))
            y = _labels_for(model, split.labels[i : i + batch].to(device))
            b = x.shape[0]
            mu, logvar = model.encode(x, y)
            mu, logvar = mu.float(), logvar.float()
            z, eps = posterior_sample(mu, logvar, k, gen)  # (k, b, D)
            logits = model.decode(z.reshape(k * b, -1), None if y is None else y.repeat(k))
            xk = x.expand(k, *x.shape).reshape(k * b, *x.shape[1:])
            rec = recon_nll(logits, xk, model.cfg.likelihood, model.log_sigma).view(k, b).double()
            log_q = (-0.5 * (eps.pow(2) + logvar + _LOG_2PI)).sum(-1).double()
            log_p_z = model.prior.log_prob(z).double()
            kl = model.prior.kl(mu, logvar, z).double()
            nll = -(torch.logsumexp(-rec + log_p_z - log_q, 0) - math.log(k))
            recon = rec.mean(0)
            for name, t in (("neg_elbo", recon + kl), ("recon", recon), ("kl", kl), ("nll_iwae", nll), ("mu", mu)):
                out[name].append(t.cpu().numpy())
    finally:
        model.train(was_training)
    mu = np.concatenate(out.pop("mu")) if out["mu"] else np.zeros((0, model.cfg.latent_dim), np.float32)
    return {name: np.concatenate(v) if v else np.zeros(0) for name, v in out.items()}, mu


@dataclass(frozen=True)
class Calibration:
    """What typical looks like for one model: its training codes' density, and the mean and spread
    of the parts of the recommended score over its training images."""

    density: GaussianMixture
    stats: dict[str, tuple[float, float]]  # part -> (mean, standard deviation)
    n_images: int

    @classmethod
    def fit(cls, model: VAE, train: Split, k: int = DEFAULT_IWAE_SAMPLES, seed: int = 0,
            device: torch.device | str = "cpu", max_images: int = CALIBRATION_IMAGES) -> "Calibration":
        """The density is fitted to the codes of every training image but ``max_images`` (one
        mixture per class of their labels), and
        the parts' spread is measured on those: codes a density was fitted to look likelier than
        new ones, which would make every new image look a little anomalous."""
        if len(train) < 2:
            raise DataError("calibrating the anomaly score needs the model's training images; fewer than 2 were given")
        order = np.random.default_rng(seed).permutation(len(train))
        held = np.sort(order[: min(max_images, len(train) // 2)])
        rest = np.sort(order[len(held) :][:MAX_DENSITY_POINTS])
        fit_on = train.subset(torch.from_numpy(rest))
        codes = posterior_means(model, fit_on, device)
        density = PosteriorSampler.fit(codes, fit_on.labels.numpy(), seed=seed).mixture()
        part = train.subset(torch.from_numpy(held))
        base, mu = likelihood_scores(model, part, k, seed, device)
        parts = _parts(model, part, base, mu, density)
        stats = {n: (float(parts[n].mean()), float(max(parts[n].std(), 1e-9))) for n in CALIBRATED_PARTS}
        return cls(density, stats, len(held) + len(rest))


def _parts(model: VAE, split: Split, base: dict, mu: np.ndarray, density: GaussianMixture | None) -> dict[str, np.ndarray]:
    log_sigma = None if model.log_sigma is None else float(model.log_sigma)
    coder = local_code_length(to_float(split.images).numpy(), model.cfg.likelihood, log_sigma)
    out = {"local_corrected": base["nll_iwae"] - coder, "recon_corrected": base["recon"] - coder}
    if density is not None:
        out["latent_density"] = -density.log_prob(mu)
    return out


def score_split(model: VAE, split: Split, k: int = DEFAULT_IWAE_SAMPLES, seed: int = 0,
                device: torch.device | str = "cpu", calibration: Calibration | None = None, compressors=(),
                likelihood: str | None = None) -> ScoreTable:
    """Every score of every image of ``split``. With a ``calibration`` (from the model's training
    images) the recommended ``atypicality``, else ``recon_corrected``, is the table's score;
    ``compressors`` add Serrà et al.'s score with each of those compressors."""
    base, mu = likelihood_scores(model, split, k, seed, device)
    scores = dict(base)
    parts = _parts(model, split, base, mu, None if calibration is None else calibration.density)
    scores.update(parts)
    if calibration is not None:
        scores[RECOMMENDED] = sum((parts[n] - calibration.stats[n][0]) / calibration.stats[n][1] for n in CALIBRATED_PARTS)
    nll_bits = base["nll_iwae"] / math.log(2)
    for c in compressors:
        scores[corrected_name(c)] = nll_bits - compressed_bits(split.images.numpy(), c)
    recommended = RECOMMENDED if calibration is not None else UNCALIBRATED
    return ScoreTable(scores, split.labels.numpy().copy(), k, likelihood or model.cfg.likelihood, recommended)


def score_images(model: VAE, images, labels=None, k: int = DEFAULT_IWAE_SAMPLES, seed: int = 0,
                 calibration: Calibration | None = None, compressors=()) -> ScoreTable:
    """:func:`score_split` for float images in [0, 1] (a drawing, a corrupted digit), on the CPU.

    The images are quantised to 8 bits first, as a dataset's images are."""
    from .complexity import quantised

    u8 = quantised(images)
    if u8.ndim == 4 and u8.shape[1] == 1:
        u8 = u8[:, 0]
    y = np.zeros(len(u8), dtype=np.int64) if labels is None else np.asarray(labels, dtype=np.int64).reshape(-1)
    return score_split(model, Split(torch.from_numpy(u8), torch.from_numpy(y)), k, seed, "cpu", calibration, compressors)


def anomalous(labels, classes) -> np.ndarray:
    """True for the images whose label is one of ``classes``."""
    return np.isin(np.asarray(labels), np.asarray(list(classes), dtype=np.int64))
