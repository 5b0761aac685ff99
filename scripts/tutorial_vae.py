#!/usr/bin/env python3
"""The classic tutorial VAE loop, kept as the yardstick VAE Studio's engine is measured against.

This is the loop the classic VAE material teaches (the PyTorch examples VAE): a torchvision
dataset with ``ToTensor``, a ``DataLoader`` (batch 128, shuffled), an MLP 784-400-20 with
sigmoid output, loss = BCE summed over pixels + analytic KL, Adam 1e-3, one ``.item()`` per
step. The test -ELBO is the same quantity VAE Studio reports: nats per image, one z sample.

    python scripts/tutorial_vae.py --dataset digits --epochs 50
    python scripts/tutorial_vae.py --dataset fashion-mnist --data-dir ../shared/data --epochs 10
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader
from torch.utils.data import Dataset as TorchDataset

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


class TutorialVAE(nn.Module):
    def __init__(self, hidden: int = 400, latent: int = 20):
        super().__init__()
        self.fc1 = nn.Linear(784, hidden)
        self.fc21 = nn.Linear(hidden, latent)
        self.fc22 = nn.Linear(hidden, latent)
        self.fc3 = nn.Linear(latent, hidden)
        self.fc4 = nn.Linear(hidden, 784)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        return mu + torch.randn_like(std) * std

    def decode(self, z):
        return torch.sigmoid(self.fc4(F.relu(self.fc3(z))))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, 784))
        return self.decode(self.reparameterize(mu, logvar)), mu, logvar


def loss_function(recon_x, x, mu, logvar):
    bce = F.binary_cross_entropy(recon_x, x.view(-1, 784), reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce + kld


class _PILDigits(TorchDataset):
    """The embedded digits served the way torchvision's MNIST serves images: PIL + transform."""

    def __init__(self, split, transform):
        self.images, self.labels, self.transform = split.images[:, 0].numpy(), split.labels.tolist(), transform

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        from PIL import Image

        return self.transform(Image.fromarray(self.images[i], mode="L")), self.labels[i]


def datasets_for(name: str, data_dir: str | None):
    from torchvision import datasets, transforms

    tf = transforms.ToTensor()
    if name == "digits":
        from vae_studio.core import load_dataset

        ds = load_dataset("digits")
        return _PILDigits(ds.train, tf), _PILDigits(ds.test, tf)
    cls = {"mnist": datasets.MNIST, "fashion-mnist": datasets.FashionMNIST, "kmnist": datasets.KMNIST}[name]
    return cls(data_dir, train=True, download=False, transform=tf), cls(data_dir, train=False, download=False, transform=tf)


def tutorial_epochs(dataset: str = "digits", data_dir: str | None = None, epochs: int = 10, seed: int = 0,
                    device: str = "cpu", batch_size: int = 128):
    """The loop, one epoch at a time: yields (training seconds, train loss, test -ELBO) per epoch,
    so a benchmark can interleave it with another loop on a machine whose speed drifts.

    Its CPU random numbers come from a stream of its own, swapped in for each epoch and out again:
    a loop run in turn with it draws the same numbers as it would alone, so its figures are the
    ones a user gets from the same command."""
    epochs_of = _epochs(dataset, data_dir, epochs, device, batch_size)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        own = torch.get_rng_state()
    while True:
        with torch.random.fork_rng(devices=[]):
            torch.set_rng_state(own)
            item = next(epochs_of, None)
            own = torch.get_rng_state()
        if item is None:
            return
        yield item


def _epochs(dataset: str, data_dir: str | None, epochs: int, device: str, batch_size: int):
    train_set, test_set = datasets_for(dataset, data_dir)
    train_loader = DataLoader(train_set, batch_size=batch_size, shuffle=True)
    test_loader = DataLoader(test_set, batch_size=batch_size, shuffle=False)
    model = TutorialVAE().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(epochs):
        t0 = time.perf_counter()
        model.train()
        train_loss = 0.0
        for data, _ in train_loader:
            data = data.to(device)
            optimizer.zero_grad()
            recon, mu, logvar = model(data)
            loss = loss_function(recon, data, mu, logvar)
            loss.backward()
            train_loss += loss.item()
            optimizer.step()
        seconds = time.perf_counter() - t0
        model.eval()
        test_loss = 0.0
        with torch.no_grad():
            for data, _ in test_loader:
                data = data.to(device)
                recon, mu, logvar = model(data)
                test_loss += loss_function(recon, data, mu, logvar).item()
        yield seconds, train_loss / len(train_loader.dataset), test_loss / len(test_loader.dataset)


def run_tutorial(dataset: str = "digits", data_dir: str | None = None, epochs: int = 10, seed: int = 0,
                 device: str = "cpu", batch_size: int = 128, log=None) -> dict:
    epoch_seconds, test_losses = [], []
    for epoch, (seconds, train_loss, test_loss) in enumerate(
            tutorial_epochs(dataset, data_dir, epochs, seed, device, batch_size), start=1):
        epoch_seconds.append(seconds)
        test_losses.append(test_loss)
        if log:
            print(f"epoch {epoch}: train {train_loss:.2f}  test -ELBO {test_loss:.2f}  ({seconds:.2f} s)", file=log)
    return {
        "epochs": epochs,
        "seconds_per_epoch": sum(epoch_seconds) / len(epoch_seconds),
        "train_seconds": sum(epoch_seconds),
        "test_neg_elbo": test_losses[-1],
        "test_neg_elbo_per_epoch": test_losses,
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", default="digits", choices=("digits", "mnist", "fashion-mnist", "kmnist"))
    p.add_argument("--data-dir", help="root folder of torchvision datasets (not downloaded)")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu")
    args = p.parse_args(argv)
    result = run_tutorial(args.dataset, args.data_dir, args.epochs, args.seed, args.device, log=sys.stderr)
    print(json.dumps({k: v for k, v in result.items() if k != "test_neg_elbo_per_epoch"}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
