#!/usr/bin/env python3
"""What a learned mixture-of-Gaussians prior would gain over N(0, I): an experiment, not the engine.

    python scripts/learned_prior_experiment.py --components 1     # N(0, I), the engine's prior
    python scripts/learned_prior_experiment.py --components 50    # a learned 50-component prior

The aggregate posterior of a trained VAE is not N(0, I) (the map shows it), so the KL term pays
for the mismatch. Here the prior is a mixture of K diagonal Gaussians whose weights, means and
variances are trained with the model, and the KL term is the one-sample estimate
log q(z|x) - log p(z) at the z the decoder saw. Everything else is the engine's default on the
digits (MLP 512,512 with a skip connection, latent 20, light augmentation, cosine schedule with
a 5% warm-up, peak rate 2e-3, batch 128, bf16 matrix products on a CPU that has them), in a
plain loop of its own, so the two priors are compared like with like, not with the engine.
Held-out -ELBO is averaged over 10 draws of z per image; nats, Bernoulli likelihood.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from vae_studio.core import ModelConfig, build_model, load_dataset  # noqa: E402
from vae_studio.core.augment import augment  # noqa: E402
from vae_studio.core.data import to_float  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--components", type=int, default=50, help="K; 1 is the fixed N(0, I) prior")
    p.add_argument("--epochs", type=int, default=89)
    p.add_argument("--latent-dim", type=int, default=20)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    k, d = args.components, args.latent_dim
    ds = load_dataset("digits")
    x, xt = to_float(ds.train.images), to_float(ds.test.images)
    model = build_model(ModelConfig(latent_dim=d, hidden=(512, 512), residual=True))
    means = torch.nn.Parameter(torch.randn(k, d))
    log_var = torch.nn.Parameter(torch.zeros(k, d))
    logits = torch.nn.Parameter(torch.zeros(k))
    params = list(model.parameters()) + ([means, log_var, logits] if k > 1 else [])
    opt = torch.optim.Adam(params, lr=2e-3)
    steps = args.epochs * math.ceil(len(x) / 128)
    warm = max(1, int(0.05 * steps))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (s + 1) / warm if s < warm else 0.5 * (1 + math.cos(math.pi * (s - warm) / max(1, steps - warm))))

    def log_prior(z):
        if k == 1:
            return (-0.5 * (math.log(2 * math.pi) + z**2)).sum(1)
        per = -0.5 * (math.log(2 * math.pi) + log_var + (z[:, None] - means) ** 2 / log_var.exp()).sum(2)
        return torch.logsumexp(per + F.log_softmax(logits, 0), 1)

    def terms(xb):
        mu, lv = model.encode(xb)
        z = model.reparameterize(mu, lv)
        rec = F.binary_cross_entropy_with_logits(model.decode(z), xb, reduction="none").flatten(1).sum(1)
        log_q = (-0.5 * (math.log(2 * math.pi) + lv + (z - mu) ** 2 / lv.exp())).sum(1)
        return rec.float(), (log_q - log_prior(z)).float()

    t0 = time.perf_counter()
    for _ in range(args.epochs):
        perm = torch.randperm(len(x))
        for i in range(0, len(x), 128):
            with torch.autocast("cpu", dtype=torch.bfloat16):
                rec, kl = terms(augment(x[perm[i:i + 128]], "light"))
            loss = (rec + kl).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    wall = time.perf_counter() - t0
    model.eval()
    with torch.no_grad():
        r = torch.stack([torch.stack(terms(xt)) for _ in range(10)]).mean(0)
        # the map's measure (quality_evidence.py, target 2): held-out means among the training means
        train_mu, test_mu = model.encode(x)[0], model.encode(xt)[0]
        near = torch.cdist(test_mu.float(), train_mu.float()).topk(5, largest=False).indices
        knn = (torch.mode(ds.train.labels[near], 1).values == ds.test.labels).float().mean().item()
    print(f"prior {'N(0, I)' if k == 1 else f'learned mixture of {k}'}, latent {d}, {args.epochs} epochs: held-out -ELBO "
          f"{r.sum(0).mean():.2f} nats (recon {r[0].mean():.2f}, KL {r[1].mean():.2f}), 5-NN accuracy {knn:.1%}; "
          f"{wall:.0f} s of training")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
