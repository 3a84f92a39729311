import gzip

import numpy as np
import pytest

from autodiff.data import DataLoader, digits_splits, load_digits, load_mnist, read_idx

_IDX_CODES = {"uint8": 0x08, "int8": 0x09, "int16": 0x0B, "int32": 0x0C, "float32": 0x0D}


def _idx_bytes(array):
    """The IDX encoding of ``array``: magic, big-endian uint32 sizes, big-endian data."""
    magic = bytes([0, 0, _IDX_CODES[array.dtype.name], array.ndim])
    sizes = np.array(array.shape, dtype=">u4").tobytes()
    return magic + sizes + array.astype(array.dtype.newbyteorder(">")).tobytes()


def _write(path, payload, compress=False):
    path.write_bytes(gzip.compress(payload) if compress else payload)
    return path


# ---- digits -------------------------------------------------------------------------------------


def test_digits_shapes_ranges_and_classes():
    x, y = load_digits()
    assert x.shape == (1797, 1, 8, 8) and x.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.int64
    assert x.min() == 0.0 and x.max() == 1.0
    assert np.array_equal(np.unique(y), np.arange(10))
    assert np.bincount(y).min() >= 170
    # the raw counts are multiples of 1/16 once scaled
    np.testing.assert_array_equal(x * 16, np.round(x * 16))


def test_digits_flat_and_float64_and_fresh_copies():
    flat, _ = load_digits(as_images=False, dtype=np.float64)
    assert flat.shape == (1797, 64) and flat.dtype == np.float64
    images, y = load_digits()
    np.testing.assert_array_equal(images.reshape(1797, 64), flat)
    images[:] = 5
    y[:] = -1
    again, y_again = load_digits()
    assert again.max() == 1.0 and y_again.min() == 0


def test_digits_splits():
    train, dev, test = digits_splits(generator=0)
    assert [len(s) for s in (train, dev, test)] == [1079, 359, 359]
    all_x = np.concatenate([s.arrays[0] for s in (train, dev, test)]).reshape(1797, 64)
    # every image appears exactly once: sorting rows of both gives the same table
    x, _ = load_digits(as_images=False)
    np.testing.assert_array_equal(np.unique(all_x, axis=0), np.unique(x, axis=0))
    again = digits_splits(generator=0)[0]
    np.testing.assert_array_equal(train.arrays[1], again.arrays[1])
    xb, yb = next(iter(DataLoader(train, batch_size=32)))
    assert xb.shape == (32, 1, 8, 8) and yb.dtype == np.int64


def test_digits_splits_normalised_with_train_statistics():
    train, dev, _ = digits_splits(normalize=True, as_images=False)
    x_train = train.arrays[0]
    assert x_train.dtype == np.float32
    np.testing.assert_allclose(x_train.mean(axis=0), 0.0, atol=1e-5)
    varying = x_train.std(axis=0) > 0
    np.testing.assert_allclose(x_train.std(axis=0)[varying], 1.0, atol=1e-4)
    assert not np.allclose(dev.arrays[0].mean(axis=0), 0.0, atol=1e-3)


# ---- IDX ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "float32"])
@pytest.mark.parametrize("compress", [False, True])
def test_read_idx_round_trip(tmp_path, dtype, compress):
    low = 0 if dtype == "uint8" else -100  # signed types get negative values too
    array = (np.arange(24).reshape(2, 3, 4) * 9 + low).astype(dtype)
    path = _write(tmp_path / "a.idx", _idx_bytes(array), compress)
    out = read_idx(path)
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative
    np.testing.assert_array_equal(out, array)
    out[0, 0, 0] = 1  # writeable


def test_read_idx_errors_name_the_file(tmp_path):
    good = _idx_bytes(np.zeros((3, 2), dtype=np.int32))
    with pytest.raises(FileNotFoundError, match="missing"):
        read_idx(tmp_path / "missing")
    with pytest.raises(ValueError, match=r"bad\.idx.*magic number '08 00 0c 02'"):
        read_idx(_write(tmp_path / "bad.idx", b"\x08" + good[1:]))
    with pytest.raises(ValueError, match="magic number '00 00 07 02'"):
        read_idx(_write(tmp_path / "code.idx", b"\x00\x00\x07" + good[3:]))
    with pytest.raises(ValueError, match="magic"):
        read_idx(_write(tmp_path / "short.idx", b"\x00\x00"))
    with pytest.raises(ValueError, match=r"header.idx.*truncated header"):
        read_idx(_write(tmp_path / "header.idx", good[:7]))
    with pytest.raises(ValueError, match=r"cut.idx.*truncated data.*36 bytes"):
        read_idx(_write(tmp_path / "cut.idx", good[:-1]))
    with pytest.raises(ValueError, match="trailing bytes"):
        read_idx(_write(tmp_path / "long.idx", good + b"\x00"))
    with pytest.raises(ValueError, match=r"cut.gz.*truncated data"):
        read_idx(_write(tmp_path / "cut.gz", good[:-4], compress=True))
    with pytest.raises(ValueError, match=r"broken.gz.*corrupt gzip"):
        read_idx(_write(tmp_path / "broken.gz", gzip.compress(good)[:-6]))


def _write_mnist(root, prefix, images, labels, compress):
    suffix = ".gz" if compress else ""
    _write(root / f"{prefix}-images-idx3-ubyte{suffix}", _idx_bytes(images), compress)
    _write(root / f"{prefix}-labels-idx1-ubyte{suffix}", _idx_bytes(labels), compress)


@pytest.mark.parametrize("compress", [False, True])
def test_load_mnist(tmp_path, compress):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    images[0, 0, 0] = 255
    labels = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    _write_mnist(tmp_path, "t10k", images, labels, compress)
    x, y = load_mnist(tmp_path, train=False)
    assert x.shape == (5, 1, 28, 28) and x.dtype == np.float32
    assert x.max() == 1.0 and x.min() >= 0.0
    np.testing.assert_allclose(x[:, 0] * 255, images, atol=1e-4)
    assert y.dtype == np.int64 and y.tolist() == [3, 1, 4, 1, 5]
    flat, _ = load_mnist(tmp_path, train=False, as_images=False)
    assert flat.shape == (5, 784)


def test_load_mnist_errors(tmp_path):
    images = np.zeros((3, 4, 4), dtype=np.uint8)
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte.gz"):
        load_mnist(tmp_path)
    _write_mnist(tmp_path, "train", images, np.zeros(2, dtype=np.uint8), compress=False)
    with pytest.raises(ValueError, match="3 images.*2 labels"):
        load_mnist(tmp_path)
    _write_mnist(tmp_path, "train", images, np.zeros((3, 1), dtype=np.uint8), compress=False)
    with pytest.raises(ValueError, match=r"labels-idx1-ubyte.*\(3, 1\)"):
        load_mnist(tmp_path)
    _write_mnist(tmp_path, "train", images.astype(np.int32), np.zeros(3, np.uint8), False)
    with pytest.raises(ValueError, match="images-idx3-ubyte.*int32"):
        load_mnist(tmp_path)
