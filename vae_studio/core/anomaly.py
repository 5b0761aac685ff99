"""Per-image anomaly scores from a trained VAE (higher = more anomalous).

- ``neg_elbo``, ``recon``, ``kl``: the -ELBO and its two terms in nats, averaged over the same k
  posterior draws the IWAE estimate uses;
- ``nll_iwae``: the importance-weighted estimate of -log p(x) with k draws (Burda et al. 2015);
- ``<compressor>_corrected``: Serrà et al.'s complexity-corrected score, the NLL in bits minus the
  image's length in bits under a lossless compressor (:mod:`.complexity`). Raw likelihood mostly
  measures how simple an image is: a model of clothes finds digits more likely than clothes
  (Nalisnick et al. 2019). The correction removes what any compressor would also find simple.

:data:`RECOMMENDED` names the score the evidence favours (``scripts/anomaly_evidence.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

from .complexity import COMPRESSORS, compressed_bits
from .data import Split, to_float
from .errors import DataError
from .evaluate import posterior_sample
from .losses import kl_per_dim, recon_nll
from .models import VAE
from .roc import auroc

_LOG_2PI = math.log(2 * math.pi)
BASE_SCORES = ("neg_elbo", "recon", "kl", "nll_iwae")
RECOMMENDED_COMPRESSOR = "png"
RECOMMENDED = f"{RECOMMENDED_COMPRESSOR}_corrected"
DEFAULT_IWAE_SAMPLES = 16
SCORE_LABELS = {
    "neg_elbo": "−ELBO (nats)", "recon": "reconstruction (nats)", "kl": "KL (nats)", "nll_iwae": "IWAE NLL (nats)",
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
    extra: dict = field(default_factory=dict)

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
        """(index, label, score, neg_elbo, recon, kl, other scores...) per image, as the CSV holds them."""
        cols = self.csv_columns()[2:]
        data = [self.score if c == "score" else self.scores[c] for c in cols]
        for i in range(len(self)):
            yield (i, int(self.labels[i]), *(float(d[i]) for d in data))

    def csv_columns(self) -> list[str]:
        others = [n for n in self.scores if n not in ("neg_elbo", "recon", "kl")]
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
                      device: torch.device | str = "cpu", max_decodes: int = 8192) -> dict[str, np.ndarray]:
    """The model's own scores (:data:`BASE_SCORES`) of every image of ``split``, in nats.

    One set of k posterior draws per image gives all four: recon is the mean of -log p(x|z) over
    the draws, KL is analytic, and the IWAE estimate is the log-mean-exp of the importance weights.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1 (got {k})")
    device = torch.device(device)
    gen = torch.Generator(device=device).manual_seed(int(seed))
    was_training = model.training
    model.eval()
    out: dict[str, list] = {name: [] for name in BASE_SCORES}
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
            kl = kl_per_dim(mu, logvar).sum(1).double()
            log_q = (-0.5 * (eps.pow(2) + logvar + _LOG_2PI)).sum(-1).double()
            log_p_z = (-0.5 * (z.pow(2) + _LOG_2PI)).sum(-1).double()
            nll = -(torch.logsumexp(-rec + log_p_z - log_q, 0) - math.log(k))
            recon = rec.mean(0)
            for name, t in (("neg_elbo", recon + kl), ("recon", recon), ("kl", kl), ("nll_iwae", nll)):
                out[name].append(t.cpu().numpy())
    finally:
        model.train(was_training)
    return {name: np.concatenate(v) if v else np.zeros(0) for name, v in out.items()}


def score_split(model: VAE, split: Split, k: int = DEFAULT_IWAE_SAMPLES, seed: int = 0,
                device: torch.device | str = "cpu", compressors=(RECOMMENDED_COMPRESSOR,),
                likelihood: str | None = None) -> ScoreTable:
    """Every score of every image of ``split``; a complexity-corrected score per compressor."""
    base = likelihood_scores(model, split, k, seed, device)
    scores = dict(base)
    nll_bits = base["nll_iwae"] / math.log(2)
    images = split.images.numpy()
    for c in compressors:
        scores[corrected_name(c)] = nll_bits - compressed_bits(images, c)
    recommended = RECOMMENDED if RECOMMENDED in scores else corrected_name(compressors[0]) if compressors else "nll_iwae"
    return ScoreTable(scores, split.labels.numpy().copy(), k, likelihood or model.cfg.likelihood, recommended)


def score_images(model: VAE, images, labels=None, k: int = DEFAULT_IWAE_SAMPLES, seed: int = 0,
                 compressors=(RECOMMENDED_COMPRESSOR,)) -> ScoreTable:
    """:func:`score_split` for float images in [0, 1] (a drawing, a corrupted digit), on the CPU.

    The images are quantised to 8 bits first, as a dataset's images are."""
    from .complexity import quantised

    u8 = quantised(images)
    if u8.ndim == 4 and u8.shape[1] == 1:
        u8 = u8[:, 0]
    y = np.zeros(len(u8), dtype=np.int64) if labels is None else np.asarray(labels, dtype=np.int64).reshape(-1)
    return score_split(model, Split(torch.from_numpy(u8), torch.from_numpy(y)), k, seed, "cpu", compressors)


def anomalous(labels, classes) -> np.ndarray:
    """True for the images whose label is one of ``classes``."""
    return np.isin(np.asarray(labels), np.asarray(list(classes), dtype=np.int64))
