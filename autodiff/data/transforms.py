"""Input normalisation and random image augmentations, on numpy arrays or Tensors.

Every transform is a callable object. The image augmentations take one ``(C, H, W)`` image or
an ``(N, C, H, W)`` batch and draw independent randomness for each image of a batch, so the
usual place for them is the training loop, on the batches a `DataLoader` yields::

    augment = Compose([RandomCrop(8, padding=1), RandomHorizontalFlip()])
    for xb, yb in loader:
        xb = augment(xb)

A numpy array in gives a new numpy array out (the input is never modified); a Tensor in gives a
new Tensor out, outside any graph. Dtypes are kept. Randomness comes from each transform's
``generator``: a seed or a numpy Generator of its own (pass one Generator to several transforms
to drive them from a single stream), or by default the library's global generator, so that
`autodiff.manual_seed` makes augmentation reproducible too.
"""

import numbers
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import ArrayLike

from autodiff.data.dataset import GeneratorLike
from autodiff.random import own, resolve
from autodiff.tensor import Tensor


def _broadcasts_to(shape: tuple[int, ...], target: tuple[int, ...]) -> bool:
    """Whether an array of ``shape`` broadcasts to ``target`` without enlarging it."""
    try:
        return np.broadcast_shapes(shape, target) == target
    except ValueError:
        return False


class Normalize:
    """Standardise inputs: ``(x - mean) / std`` with fixed statistics.

    Fit the statistics on the training split only, with `Normalize.fit`, and apply the same
    object to the training, dev and test data, so that no information leaks from dev or test.

    Parameters
    ----------
    mean, std : array-like
        Statistics broadcastable against one example, e.g. ``(D,)`` for feature vectors or
        ``(C, 1, 1)`` for ``(C, H, W)`` images; ``std`` must be positive. Stored as float64.

    Raises
    ------
    ValueError
        If the shapes of ``mean`` and ``std`` differ or ``std`` has a non-positive entry.

    Examples
    --------
    >>> from autodiff.data import load_digits
    >>> x, _ = load_digits()
    >>> x_train, x_dev = x[:1000], x[1000:]
    >>> norm = Normalize.fit(x_train)  # x_train (N, C, H, W): per-channel statistics
    >>> x_train, x_dev = norm(x_train), norm(x_dev)
    >>> round(float(x_train.mean()), 6), round(float(x_train.std()), 6)
    (0.0, 1.0)
    """

    def __init__(self, mean: ArrayLike, std: ArrayLike):
        mean = np.asarray(mean, dtype=np.float64)
        std = np.asarray(std, dtype=np.float64)
        if mean.shape != std.shape:
            raise ValueError(f"Normalize: mean {mean.shape} and std {std.shape} differ in shape")
        if not np.all(std > 0):
            raise ValueError(f"Normalize: std must be positive, got {std.ravel()}")
        self.mean = mean
        self.std = std

    @classmethod
    def fit(cls, x: ArrayLike | Tensor, eps: float = 1e-7) -> "Normalize":
        """Per-feature or per-channel statistics of a training batch.

        Parameters
        ----------
        x : ndarray or Tensor of shape (N, D), (N, C, H, W) or generally (N, C, ...)
            Training examples along axis 0. The statistics are per entry of axis 1 and pooled
            over axis 0 and any axes after 1, as batch norm does: per feature for ``(N, D)``,
            per channel for images.
        eps : float, default 1e-7
            A standard deviation below ``eps`` (a feature constant on the training split, such
            as a border pixel that is always 0) is replaced by 1, so that feature is only
            centred instead of being blown up on dev or test data where it varies.

        Returns
        -------
        Normalize
            With ``mean`` and ``std`` of shape ``(D,)`` or ``(C, 1, ..., 1)``, computed in
            float64 (population standard deviation).

        Raises
        ------
        ValueError
            If ``x`` has fewer than 2 dimensions or no examples.
        """
        x = np.asarray(x)
        if x.ndim < 2 or x.shape[0] == 0:
            raise ValueError(
                f"Normalize.fit: expected examples along axis 0 and features or channels along "
                f"axis 1, got shape {x.shape}"
            )
        axes = (0, *range(2, x.ndim))
        mean = x.mean(axis=axes, dtype=np.float64)
        std = x.std(axis=axes, dtype=np.float64)
        std = np.where(std < eps, 1.0, std)
        shape = (-1,) + (1,) * (x.ndim - 2)
        return cls(mean.reshape(shape), std.reshape(shape))

    def __call__(self, x: ArrayLike | Tensor) -> Any:
        """Normalise one example or a batch.

        Parameters
        ----------
        x : ndarray or Tensor
            One example (e.g. ``(D,)`` or ``(C, H, W)``) or a batch (``(N, D)``,
            ``(N, C, H, W)``) whose trailing axes match the statistics.

        Returns
        -------
        ndarray or Tensor (as given), same shape
            Floating inputs keep their dtype; integer inputs (e.g. uint8 pixels) give float32.

        Raises
        ------
        ValueError
            If the statistics do not broadcast against ``x`` to ``x``'s shape.
        """
        is_tensor = isinstance(x, Tensor)
        x = x.data if is_tensor else np.asarray(x)
        if not _broadcasts_to(self.mean.shape, x.shape):
            raise ValueError(
                f"Normalize: statistics of shape {self.mean.shape} do not fit input of shape "
                f"{x.shape}"
            )
        dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.dtype(np.float32)
        out = (x.astype(dtype, copy=False) - self.mean.astype(dtype)) / self.std.astype(dtype)
        return Tensor(out) if is_tensor else out


class _ImageTransform:
    """Base of the random augmentations: CHW or NCHW, array or Tensor in, same kind out."""

    def __init__(self, generator: GeneratorLike):
        # None stays None: the global generator is looked up on each call, after any reseeding.
        self.generator = own(generator)

    def __call__(self, x: ArrayLike | Tensor) -> Any:
        """Transform a ``(C, H, W)`` image or an ``(N, C, H, W)`` batch; see the module doc."""
        is_tensor = isinstance(x, Tensor)
        images = x.data if is_tensor else np.asarray(x)
        if images.ndim not in (3, 4):
            raise ValueError(
                f"{type(self).__name__}: expected a (C, H, W) image or an (N, C, H, W) batch, "
                f"got shape {images.shape}"
            )
        out = self._apply(images if images.ndim == 4 else images[None], resolve(self.generator))
        out = out if images.ndim == 4 else out[0]
        return Tensor(out) if is_tensor else out

    def _apply(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Return a new (N, C, H', W') batch made from the (N, C, H, W) batch ``x``."""
        raise NotImplementedError


class RandomHorizontalFlip(_ImageTransform):
    """Mirror each image left to right with probability ``p``.

    Parameters
    ----------
    p : float in [0, 1], default 0.5
        Probability of flipping each image (drawn independently per image).
    generator : int, numpy Generator or None
        Source of randomness (see the module doc).
    """

    def __init__(self, p: float = 0.5, generator: GeneratorLike = None):
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"RandomHorizontalFlip: p must be in [0, 1], got {p}")
        super().__init__(generator)
        self.p = p

    def _apply(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        flip = rng.random(len(x)) < self.p
        out = x.copy()
        out[flip] = x[flip, ..., ::-1]
        return out


class RandomCrop(_ImageTransform):
    """Pad each image with a constant border, then cut out a window at a random position.

    Parameters
    ----------
    size : int or (int, int)
        Output height and width ``(th, tw)``; an int gives a square.
    padding : int, default 0
        Border added on each side of H and W before cropping, so ``RandomCrop(8, padding=1)``
        shifts an 8x8 image by up to one pixel in each direction.
    fill : float, default 0.0
        Value of the border.
    generator : int, numpy Generator or None
        Source of randomness (see the module doc); each image gets its own window position.

    Raises
    ------
    ValueError
        At construction for a non-positive size or negative padding; on call if the window is
        larger than the padded image.
    """

    def __init__(
        self,
        size: int | tuple[int, int],
        padding: int = 0,
        fill: float = 0.0,
        generator: GeneratorLike = None,
    ):
        size = (size, size) if isinstance(size, numbers.Integral) else tuple(size)
        if len(size) != 2 or min(size) < 1:
            raise ValueError(f"RandomCrop: size must be a positive int or pair, got {size}")
        if padding < 0:
            raise ValueError(f"RandomCrop: padding must be non-negative, got {padding}")
        super().__init__(generator)
        self.size = (int(size[0]), int(size[1]))
        self.padding = int(padding)
        self.fill = fill

    def _apply(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        p = self.padding
        th, tw = self.size
        n, _, h, w = x.shape
        if th > h + 2 * p or tw > w + 2 * p:
            raise ValueError(
                f"RandomCrop: window {self.size} is larger than the images {(h, w)} padded by {p}"
            )
        if p:
            x = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=self.fill)
        top = rng.integers(0, h + 2 * p - th + 1, size=n)
        left = rng.integers(0, w + 2 * p - tw + 1, size=n)
        # windows[i, c, t, l] is the (th, tw) window of image i, channel c at (t, l); picking
        # one (t, l) per image gathers every crop in a single indexing copy, no Python loop.
        windows = sliding_window_view(x, (th, tw), axis=(2, 3))
        return windows[np.arange(n), :, top, left]


def _factors(rng: np.random.Generator, strength: float, n: int, dtype: np.dtype) -> np.ndarray:
    """One factor per image from U[max(0, 1 - strength), 1 + strength], shaped (n, 1, 1, 1)."""
    low = max(0.0, 1.0 - strength)
    return rng.uniform(low, 1.0 + strength, size=(n, 1, 1, 1)).astype(dtype)


class ColorJitter(_ImageTransform):
    """Random brightness, contrast and per-channel colour shift of each image.

    With factors and offsets drawn independently per image, the steps run in this order:

    1. brightness: ``x * b`` with ``b ~ U[max(0, 1 - brightness), 1 + brightness]``;
    2. contrast: ``(x - m) * c + m`` with ``m`` the image's mean over (C, H, W) and
       ``c ~ U[max(0, 1 - contrast), 1 + contrast]``;
    3. colour shift: ``x + s`` with one ``s ~ U[-shift, shift]`` per channel;
    4. clipping to ``clip``.

    A parameter of 0 skips its step.

    Parameters
    ----------
    brightness, contrast, shift : float >= 0, default 0.0
        Strength of each step, as above; ``shift`` is in pixel units (e.g. 0.1 for pixels in
        [0, 1]).
    clip : (float, float) or None, default (0.0, 1.0)
        Range of valid pixel values, for images scaled to [0, 1]; None disables clipping
        (e.g. for already normalised images).
    generator : int, numpy Generator or None
        Source of randomness (see the module doc).

    Raises
    ------
    ValueError
        At construction for a negative strength.
    TypeError
        On call, for an image dtype that is not floating (scale integer images first).
    """

    def __init__(
        self,
        brightness: float = 0.0,
        contrast: float = 0.0,
        shift: float = 0.0,
        clip: tuple[float, float] | None = (0.0, 1.0),
        generator: GeneratorLike = None,
    ):
        if min(brightness, contrast, shift) < 0:
            raise ValueError(
                f"ColorJitter: strengths must be non-negative, got brightness={brightness}, "
                f"contrast={contrast}, shift={shift}"
            )
        super().__init__(generator)
        self.brightness = brightness
        self.contrast = contrast
        self.shift = shift
        self.clip = clip

    def _apply(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        if not np.issubdtype(x.dtype, np.floating):
            raise TypeError(
                f"ColorJitter: expected floating images (e.g. scaled to [0, 1]), got {x.dtype}"
            )
        n, c = x.shape[:2]
        out = x.copy()
        if self.brightness:
            out *= _factors(rng, self.brightness, n, x.dtype)
        if self.contrast:
            mean = out.mean(axis=(1, 2, 3), keepdims=True)
            out -= mean
            out *= _factors(rng, self.contrast, n, x.dtype)
            out += mean
        if self.shift:
            out += rng.uniform(-self.shift, self.shift, size=(n, c, 1, 1)).astype(x.dtype)
        if self.clip is not None:
            np.clip(out, *self.clip, out=out)
        return out


class Compose:
    """Apply transforms in sequence.

    Parameters
    ----------
    transforms : sequence of callables
        Each takes and returns an array or Tensor, e.g. the augmentations above and
        `Normalize`. Randomness lives in the transforms themselves (see their ``generator``).
    """

    def __init__(self, transforms: Sequence[Callable[[Any], Any]]):
        self.transforms = list(transforms)

    def __call__(self, x: Any) -> Any:
        for transform in self.transforms:
            x = transform(x)
        return x
