"""Ready-made data sets: the shipped 8x8 digits, and readers for MNIST-style IDX files."""

import functools
import gzip
import importlib.resources
import math
import zlib
from collections.abc import Sequence
from os import PathLike
from pathlib import Path

import numpy as np
from numpy.typing import DTypeLike

from autodiff.data.dataset import GeneratorLike, TensorDataset, random_split
from autodiff.data.transforms import Normalize

_DIGITS_FILE = "digits.csv.gz"

# IDX type codes (third byte of the magic number); multi-byte data are big-endian.
_IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


@functools.cache
def _digits_table() -> np.ndarray:
    """The shipped digits file as a read-only (1797, 65) uint8 array: 64 pixels, then label."""
    resource = importlib.resources.files(__package__).joinpath(_DIGITS_FILE)
    with resource.open("rb") as raw, gzip.open(raw) as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.uint8)
    # Cached and shared between calls, so callers must never be able to modify it.
    table.flags.writeable = False
    return table


def load_digits(
    as_images: bool = True, dtype: DTypeLike = np.float32
) -> tuple[np.ndarray, np.ndarray]:
    """The UCI optdigits 8x8 handwritten digits, shipped with the package (works offline).

    1,797 grey-scale images of the digits 0..9, about 180 per class; see
    ``DIGITS_LICENSE.txt`` next to the data file for the source and licence (CC BY 4.0).

    Parameters
    ----------
    as_images : bool, default True
        Return images of shape ``(1797, 1, 8, 8)`` (NCHW); False gives flat ``(1797, 64)``
        rows, row-major over the 8x8 image.
    dtype : numpy floating dtype, default float32
        Dtype of the images.

    Returns
    -------
    x : ndarray of shape (1797, 1, 8, 8) or (1797, 64), ``dtype``
        Pixel intensities scaled from the raw counts 0..16 to [0, 1] (0 is background).
    y : ndarray of shape (1797,), int64
        Class labels 0..9.

    Notes
    -----
    Every call returns new arrays, so they may be modified freely.
    """
    table = _digits_table()
    x = table[:, :64].astype(dtype) / 16
    y = table[:, 64].astype(np.int64)
    return (x.reshape(-1, 1, 8, 8) if as_images else x), y


def digits_splits(
    fractions: Sequence[float] = (0.6, 0.2, 0.2),
    generator: GeneratorLike = 0,
    as_images: bool = True,
    normalize: bool = False,
    dtype: DTypeLike = np.float32,
) -> tuple[TensorDataset, ...]:
    """The digits, shuffled and split into train, dev and test `TensorDataset` objects.

    Parameters
    ----------
    fractions : sequence of float or of int, default (0.6, 0.2, 0.2)
        Sizes of the splits, as for `random_split`: fractions summing to 1 (the default gives
        1079 / 359 / 359 examples) or counts summing to 1797.
    generator : int, numpy Generator or None, default 0
        Source of the shuffle, as for `random_split`; the default seed gives the same splits
        on every run.
    as_images : bool, default True
        Inputs ``(n, 1, 8, 8)`` if True, ``(n, 64)`` if False.
    normalize : bool, default False
        Standardise the inputs with a `Normalize` fitted on the first (training) split only:
        per pixel for flat inputs, per channel for images. Otherwise pixels are in [0, 1].
    dtype : numpy floating dtype, default float32
        Dtype of the inputs.

    Returns
    -------
    tuple of TensorDataset
        One per entry of ``fractions``, each holding inputs ``dtype`` and labels ``(n,)``
        int64; together they hold every example exactly once.
    """
    x, y = load_digits(as_images=as_images, dtype=dtype)
    splits = random_split(TensorDataset(x, y), fractions, generator)
    xs = [x[s.indices] for s in splits]
    if normalize:
        norm = Normalize.fit(xs[0])
        xs = [norm(xi) for xi in xs]
    return tuple(TensorDataset(xi, y[s.indices]) for xi, s in zip(xs, splits, strict=True))


def read_idx(path: str | PathLike) -> np.ndarray:
    """Read an array stored in the IDX format (MNIST, Fashion-MNIST), optionally gzipped.

    The format: a 4-byte magic number (two zero bytes, a type code, the number of dimensions
    ``d``), then ``d`` big-endian uint32 sizes, then the data in C order, big-endian. Type codes:
    0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64. Gzip
    compression is detected from the file's content, whatever its name.

    Parameters
    ----------
    path : str or path-like
        The file.

    Returns
    -------
    ndarray
        Of the stored shape and dtype, in native byte order, writeable.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        Naming the file, for corrupt gzip data, a bad magic number or unknown type code, or a
        size that does not match the header (truncated data or trailing bytes).
    """
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as e:
            raise ValueError(f"read_idx: {path}: corrupt gzip data ({e})") from e
    if len(raw) < 4 or raw[:2] != b"\x00\x00" or raw[2] not in _IDX_DTYPES:
        raise ValueError(
            f"read_idx: {path}: not an IDX file, bad magic number {raw[:4].hex(' ')!r} "
            f"(expected 00 00, a type code in 08 09 0b 0c 0d 0e, then the number of dimensions)"
        )
    dtype = _IDX_DTYPES[raw[2]]
    ndim = raw[3]
    offset = 4 + 4 * ndim
    if len(raw) < offset:
        raise ValueError(
            f"read_idx: {path}: truncated header, {ndim} dimensions need {offset} bytes but the "
            f"file has {len(raw)}"
        )
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    expected = offset + math.prod(shape) * dtype.itemsize
    if len(raw) != expected:
        problem = "truncated data" if len(raw) < expected else "trailing bytes after the data"
        raise ValueError(
            f"read_idx: {path}: {problem}, shape {shape} of {dtype.name} needs {expected} "
            f"bytes but the file has {len(raw)}"
        )
    data = np.frombuffer(raw, dtype=dtype, offset=offset).reshape(shape)
    return data.astype(dtype.newbyteorder("="))


def _find_idx(root: Path, name: str) -> Path:
    """``root/name`` or ``root/name.gz``, whichever exists."""
    for candidate in (root / name, root / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"load_mnist: found neither {root / name} nor {root / name}.gz")


def load_mnist(
    root: str | PathLike, train: bool = True, as_images: bool = True, dtype: DTypeLike = np.float32
) -> tuple[np.ndarray, np.ndarray]:
    """MNIST or Fashion-MNIST from the standard IDX files in ``root`` (no download).

    Reads ``train-images-idx3-ubyte`` and ``train-labels-idx1-ubyte`` (or the ``t10k-``
    test files), each optionally gzipped with a ``.gz`` suffix. Both data sets use these names.

    Parameters
    ----------
    root : str or path-like
        Directory holding the files.
    train : bool, default True
        The training files (60,000 examples) if True, else the test files (10,000).
    as_images : bool, default True
        Images of shape ``(N, 1, H, W)`` (NCHW) if True, flat rows ``(N, H * W)`` if False.
    dtype : numpy floating dtype, default float32
        Dtype of the images.

    Returns
    -------
    x : ndarray of shape (N, 1, 28, 28) or (N, 784), ``dtype``
        Pixel intensities scaled from 0..255 to [0, 1].
    y : ndarray of shape (N,), int64
        Class labels 0..9.

    Raises
    ------
    FileNotFoundError
        Naming the missing file.
    ValueError
        Naming the file, if it is not valid IDX (see `read_idx`), the images are not a 3-d
        uint8 array, the labels not a 1-d uint8 array, or their counts differ.
    """
    root = Path(root)
    prefix = "train" if train else "t10k"
    images_path = _find_idx(root, f"{prefix}-images-idx3-ubyte")
    labels_path = _find_idx(root, f"{prefix}-labels-idx1-ubyte")
    images = read_idx(images_path)
    labels = read_idx(labels_path)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError(
            f"load_mnist: {images_path}: expected uint8 images of shape (N, H, W), got "
            f"{images.shape} {images.dtype}"
        )
    if labels.ndim != 1 or labels.dtype != np.uint8:
        raise ValueError(
            f"load_mnist: {labels_path}: expected uint8 labels of shape (N,), got "
            f"{labels.shape} {labels.dtype}"
        )
    if len(images) != len(labels):
        raise ValueError(
            f"load_mnist: {len(images)} images in {images_path} but {len(labels)} labels in "
            f"{labels_path}"
        )
    x = images.astype(dtype) / 255
    x = x[:, None] if as_images else x.reshape(len(x), -1)
    return x, labels.astype(np.int64)
