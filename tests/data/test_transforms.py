import numpy as np
import pytest

import autodiff as ad
from autodiff.data import ColorJitter, Compose, Normalize, RandomCrop, RandomHorizontalFlip
from autodiff.tensor import Tensor


def _images(n=6, c=3, h=5, w=7, seed=0):
    return np.random.default_rng(seed).random((n, c, h, w), dtype=np.float32)


# ---- Normalize ----------------------------------------------------------------------------------


def test_normalize_fits_per_feature_on_train_only():
    rng = np.random.default_rng(0)
    train = rng.normal(3.0, 2.0, size=(200, 4)).astype(np.float32)
    dev = rng.normal(-1.0, 5.0, size=(50, 4)).astype(np.float32)
    norm = Normalize.fit(train)
    assert norm.mean.shape == norm.std.shape == (4,)
    z = norm(train)
    assert z.dtype == np.float32
    np.testing.assert_allclose(z.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(z.std(axis=0), 1.0, atol=1e-5)
    # dev is mapped with the training statistics, not its own
    np.testing.assert_allclose(norm(dev), (dev - train.mean(0)) / train.std(0), rtol=1e-4)
    assert abs(norm(dev).mean()) > 0.5


def test_normalize_fits_per_channel_on_images_and_applies_to_one_image():
    x = _images(n=10, c=3) * np.array([1, 10, 100], dtype=np.float32)[:, None, None]
    norm = Normalize.fit(x)
    assert norm.mean.shape == (3, 1, 1)
    z = norm(x)
    np.testing.assert_allclose(z.mean(axis=(0, 2, 3)), 0.0, atol=1e-5)
    np.testing.assert_allclose(z.std(axis=(0, 2, 3)), 1.0, atol=1e-5)
    np.testing.assert_allclose(norm(x[4]), z[4], rtol=1e-6)


def test_normalize_constant_feature_is_only_centred():
    train = np.zeros((5, 2), dtype=np.float32)
    train[:, 1] = [1, 2, 3, 4, 5]
    norm = Normalize.fit(train)
    assert norm.std[0] == 1.0
    np.testing.assert_allclose(norm(np.array([[0.5, 3.0]]))[0, 0], 0.5)


def test_normalize_dtypes_and_tensors():
    norm = Normalize.fit(np.arange(12.0).reshape(6, 2))
    assert norm(np.arange(4, dtype=np.uint8).reshape(2, 2)).dtype == np.float32
    assert norm(np.ones((2, 2), dtype=np.float64)).dtype == np.float64
    out = norm(Tensor(np.ones((3, 2), dtype=np.float32)))
    assert isinstance(out, Tensor) and out.dtype == np.float32 and out.shape == (3, 2)


def test_normalize_errors():
    with pytest.raises(ValueError, match="positive"):
        Normalize([0.0], [0.0])
    with pytest.raises(ValueError, match="fit"):
        Normalize.fit(np.ones(5))
    with pytest.raises(ValueError, match=r"\(3, 1, 1\).*\(2, 5, 5\)"):
        Normalize.fit(_images(c=3))(np.ones((2, 5, 5)))


# ---- augmentations ------------------------------------------------------------------------------


def test_flip_is_its_own_inverse_and_mirrors_width():
    x = _images()
    flip = RandomHorizontalFlip(p=1.0, generator=0)
    np.testing.assert_array_equal(flip(x), x[..., ::-1])
    np.testing.assert_array_equal(flip(flip(x)), x)
    np.testing.assert_array_equal(RandomHorizontalFlip(p=0.0)(x), x)


def test_flip_decides_per_image_and_is_seeded():
    x = _images(n=64)
    out = RandomHorizontalFlip(generator=1)(x)
    flipped = [np.array_equal(o, xi[..., ::-1]) for o, xi in zip(out, x, strict=True)]
    kept = [np.array_equal(o, xi) for o, xi in zip(out, x, strict=True)]
    assert all(f != k for f, k in zip(flipped, kept, strict=True))
    assert 10 < sum(flipped) < 54
    np.testing.assert_array_equal(out, RandomHorizontalFlip(generator=1)(x))


def test_crop_shapes():
    x = _images(n=4, c=2, h=8, w=8)
    assert RandomCrop(8, padding=1, generator=0)(x).shape == (4, 2, 8, 8)
    assert RandomCrop((3, 5), generator=0)(x).shape == (4, 2, 3, 5)
    assert RandomCrop(6, generator=0)(x[0]).shape == (2, 6, 6)
    np.testing.assert_array_equal(RandomCrop(8, generator=0)(x), x)


def test_crop_takes_one_window_of_the_padded_image_per_image():
    x = _images(n=16, c=2, h=6, w=6)
    out = RandomCrop(6, padding=2, fill=-1.0, generator=0)(x)
    padded = np.pad(x, ((0, 0), (0, 0), (2, 2), (2, 2)), constant_values=-1.0)
    offsets = set()
    for i in range(len(x)):
        matches = [
            (t, left)
            for t in range(5)
            for left in range(5)
            if np.array_equal(out[i], padded[i, :, t : t + 6, left : left + 6])
        ]
        assert matches
        offsets.add(matches[0])
    assert len(offsets) > 1  # positions vary from image to image


def test_crop_is_seeded_and_rejects_large_windows():
    x = _images()
    np.testing.assert_array_equal(
        RandomCrop(4, padding=1, generator=3)(x), RandomCrop(4, padding=1, generator=3)(x)
    )
    assert not np.array_equal(RandomCrop(4, generator=3)(x), RandomCrop(4, generator=4)(x))
    with pytest.raises(ValueError, match="larger"):
        RandomCrop(8, padding=0)(x)
    with pytest.raises(ValueError, match="size"):
        RandomCrop(0)


def test_color_jitter_brightness_and_shift():
    x = _images() + 0.1
    bright = ColorJitter(brightness=0.3, clip=None, generator=0)(x)
    ratio = bright / x
    np.testing.assert_allclose(ratio, np.broadcast_to(ratio[:, :1, :1, :1], x.shape), rtol=1e-5)
    assert np.all((ratio > 0.7 - 1e-6) & (ratio < 1.3 + 1e-6))
    shifted = ColorJitter(shift=0.1, clip=None, generator=0)(x)
    delta = shifted - x
    np.testing.assert_allclose(delta, np.broadcast_to(delta[:, :, :1, :1], x.shape), atol=1e-6)
    assert np.abs(delta).max() <= 0.1 + 1e-6
    assert not np.allclose(delta[:, 0], delta[:, 1])  # one offset per channel


def test_color_jitter_contrast_keeps_the_mean_and_clip_keeps_the_range():
    x = _images()
    out = ColorJitter(contrast=0.5, clip=None, generator=0)(x)
    np.testing.assert_allclose(out.mean(axis=(1, 2, 3)), x.mean(axis=(1, 2, 3)), atol=1e-5)
    out = ColorJitter(brightness=0.9, contrast=0.9, shift=0.5, generator=0)(x)
    assert out.dtype == np.float32 and out.min() >= 0.0 and out.max() <= 1.0
    np.testing.assert_array_equal(ColorJitter()(x), x)


def test_color_jitter_errors():
    with pytest.raises(TypeError, match="uint8"):
        ColorJitter(brightness=0.1)(np.zeros((1, 2, 2), dtype=np.uint8))
    with pytest.raises(ValueError, match="non-negative"):
        ColorJitter(shift=-1)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        ColorJitter()(np.zeros((2, 2)))


def test_augmentations_leave_input_alone_and_keep_tensors():
    x = _images()
    before = x.copy()
    for t in [RandomHorizontalFlip(p=1.0), RandomCrop(4, padding=1), ColorJitter(0.5, 0.5, 0.5)]:
        out = t(Tensor(x))
        assert isinstance(out, Tensor) and out.dtype == np.float32
        t(x)
    np.testing.assert_array_equal(x, before)


def test_compose_with_a_shared_generator_is_reproducible():
    x = _images()

    def pipeline(seed):
        rng = np.random.default_rng(seed)
        norm = Normalize.fit(x)
        return Compose(
            [RandomCrop(5, padding=1, generator=rng), RandomHorizontalFlip(generator=rng), norm]
        )

    out = pipeline(0)(x)
    assert out.shape == (6, 3, 5, 5)
    np.testing.assert_array_equal(out, pipeline(0)(x))
    assert not np.array_equal(out, pipeline(1)(x))


def test_without_a_generator_manual_seed_makes_augmentation_reproducible():
    x = _images(n=32)
    augment = Compose([RandomCrop(4, padding=1), RandomHorizontalFlip(), ColorJitter(0.2)])
    ad.manual_seed(7)
    first = augment(x)
    ad.manual_seed(7)
    np.testing.assert_array_equal(augment(x), first)
    assert not np.array_equal(augment(x), first)
