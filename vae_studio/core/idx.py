"""Reading and writing MNIST-format IDX files (plain or gzipped).

Every failure names the file, because a folder of IDX files is something a user assembled by
hand and needs to know which of the four files is wrong.
"""

from __future__ import annotations

import gzip
import io
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from .atomic import atomic_write
from .errors import DataError

_GZIP_MAGIC = b"\x1f\x8b"
_UBYTE = 0x08


def read_idx(path: str | os.PathLike, expected_ndim: int | None = None) -> np.ndarray:
    """Return the uint8 array stored in an IDX file; gzip is detected from the content."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise DataError(f"{path} is not a valid gzip file ({exc})") from None
    if len(raw) < 4:
        raise DataError(f"{path} is too short to be an IDX file ({len(raw)} bytes)")
    zero, dtype, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype != _UBYTE or not 1 <= ndim <= 4:
        raise DataError(
            f"{path} is not an MNIST-format IDX file of unsigned bytes (magic number {raw[:4].hex()})"
        )
    if expected_ndim is not None and ndim != expected_ndim:
        kind = {1: "labels", 3: "images"}.get(expected_ndim, f"{expected_ndim}-D data")
        raise DataError(f"{path} holds {ndim}-D data where {kind} were expected (magic number {raw[:4].hex()})")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path} is truncated inside its header")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    expected = int(np.prod(dims, dtype=np.int64))
    actual = len(raw) - header
    if actual != expected:
        what = "truncated" if actual < expected else "longer than its header says"
        raise DataError(f"{path} is {what}: header promises {expected} bytes of data, file has {actual}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims).copy()


def write_idx(path: str | os.PathLike, array: np.ndarray, compress: bool | None = None) -> None:
    """Write a uint8 array as IDX, gzipped when the name ends in .gz; atomic (temp file + rename)."""
    path = Path(path)
    array = np.ascontiguousarray(array, dtype=np.uint8)
    payload = struct.pack(">HBB", 0, _UBYTE, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()
    if compress if compress is not None else path.suffix == ".gz":
        buf = io.BytesIO()
        # mtime=0 keeps the bytes reproducible, so regenerating a resource does not change it
        with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=9, mtime=0) as gz:
            gz.write(payload)
        payload = buf.getvalue()
    with atomic_write(path) as f:
        f.write(payload)
