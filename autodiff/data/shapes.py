"""A synthetic detection data set: coloured squares, circles and triangles on plain backgrounds.

Each RGB image holds 1 to `max_objects` shapes. A shape is drawn inside a square of side
`s` pixels, s in [0.15, 0.4] x size: a square fills it, a circle is inscribed in it, a
triangle has its apex at the top middle and its base along the bottom. Shapes never overlap:
their squares keep a gap of at least 2 pixels, so every box sees all of its shape's pixels
and nothing of another's. The colour of a shape does not depend on its class: one channel in
[0.8, 1], one in [0, 0.3], the third anywhere, on a grey background that is either dark
([0, 0.25]) or light ([0.75, 1]), so every shape stands out from its background. Half of the
images get light Gaussian noise (standard deviation up to `noise`), clipped to [0, 1].

Boxes are the tight boxes of the drawn pixels, xyxy normalised to the image: a shape covering
columns c1..c2 and rows r1..r2 has the box (c1 / size, r1 / size, (c2 + 1) / size,
(r2 + 1) / size) (pixel c covers [c, c + 1)), the convention of `autodiff.vision`.
"""

import numpy as np

from autodiff.data.dataset import Dataset

__all__ = ["ShapesDataset"]

_GAP = 2  # pixels kept free between the squares that hold two shapes
_PLACEMENT_TRIES = 50
_CHUNK = 256  # images drawn at a time


class ShapesDataset(Dataset):
    """`n` seeded images of coloured squares, circles and triangles, with their boxes.

    Parameters
    ----------
    n : int
        Number of images, >= 0.
    size : int
        Height and width of the images in pixels, >= 16.
    max_objects : int
        Each image holds between 1 and `max_objects` shapes (uniformly), >= 1. Crowded images
        may hold fewer when the shapes do not fit (never fewer than 1).
    seed : int or numpy Generator
        The same seed gives the same images, boxes and labels.
    noise : float
        Largest standard deviation of the pixel noise, in [0, 0.2]; 0 gives plain images.

    Attributes
    ----------
    images : ndarray (n, 3, size, size) float32 in [0, 1]
    boxes : list of n ndarrays (K_i, 4) float32, xyxy in [0, 1]
    labels : list of n ndarrays (K_i,) int64, indices into `classes`
    classes : ("square", "circle", "triangle")

    ``dataset[i]`` is ``(image, boxes, labels)``. The number of boxes varies per image, so
    `DataLoader`'s default collate cannot stack them; encode them first (e.g. with
    `autodiff.vision.yolo_encode`) and wrap the arrays in a `TensorDataset`.

    Raises
    ------
    ValueError : a bad n, size, max_objects or noise.

    >>> data = ShapesDataset(4, size=32, seed=0)
    >>> image, boxes, labels = data[0]
    >>> image.shape, boxes.shape[1], labels.dtype
    ((3, 32, 32), 4, dtype('int64'))
    """

    classes = ("square", "circle", "triangle")

    def __init__(self, n: int, size: int = 64, max_objects: int = 3, seed=0, noise=0.05):
        _check("ShapesDataset", n, size, max_objects, noise)
        rng = np.random.default_rng(seed)
        corners, sides, labels = _layout(rng, n, size, max_objects)
        self.images, self.boxes, self.labels = _render(rng, corners, sides, labels, size, noise)

    def __getitem__(self, index: int):
        if not -len(self) <= index < len(self):
            raise IndexError(f"ShapesDataset: index {index} out of range for {len(self)} images")
        return self.images[index], self.boxes[index], self.labels[index]

    def __len__(self) -> int:
        return len(self.images)


def _check(op, n, size, max_objects, noise):
    for name, value, low in (("n", n, 0), ("size", size, 16), ("max_objects", max_objects, 1)):
        if not isinstance(value, int | np.integer) or value < low:
            raise ValueError(f"{op}: {name} must be an int >= {low}, got {value!r}")
    if not 0 <= noise <= 0.2:
        raise ValueError(f"{op}: noise must be in [0, 0.2], got {noise!r}")


def _layout(rng, n, size, max_objects):
    """Top-left corners (n, M, 2) as (row, col), sides (n, M) and labels (n, M) of M =
    max_objects slots; a slot left empty has side 0 and label -1."""
    corners = np.zeros((n, max_objects, 2), np.int64)
    sides = np.zeros((n, max_objects), np.int64)
    labels = np.full((n, max_objects), -1, np.int64)
    counts = rng.integers(1, max_objects + 1, n)
    low, high = max(4, round(0.15 * size)), round(0.4 * size)
    # the squares are drawn for all images at once; only the non-overlap rejection loops
    wanted_sides = rng.integers(low, high + 1, (n, max_objects, _PLACEMENT_TRIES))
    wanted = rng.random((n, max_objects, _PLACEMENT_TRIES, 2))
    wanted_labels = rng.integers(0, 3, (n, max_objects))
    for i in range(n):
        placed = []
        for k in range(counts[i]):
            for t in range(_PLACEMENT_TRIES):
                s = wanted_sides[i, k, t]
                r, c = (wanted[i, k, t] * (size - s + 1)).astype(np.int64)
                if all(_apart((r, c, s), other) for other in placed):
                    placed.append((r, c, s))
                    break
        for k, (r, c, s) in enumerate(placed):
            corners[i, k], sides[i, k], labels[i, k] = (r, c), s, wanted_labels[i, k]
    return corners, sides, labels


def _apart(a, b):
    """Whether the squares (row, col, side) a and b keep `_GAP` free pixels between them."""
    (ra, ca, sa), (rb, cb, sb) = a, b
    return (
        ra + sa + _GAP <= rb or rb + sb + _GAP <= ra or ca + sa + _GAP <= cb or cb + sb + _GAP <= ca
    )


def _render(rng, corners, sides, labels, size, noise):
    """Images (n, 3, size, size) float32 and the tight boxes and labels of the drawn shapes."""
    n, slots = sides.shape
    dark = rng.random(n) < 0.5
    grey = np.where(dark, rng.uniform(0, 0.25, n), rng.uniform(0.75, 1, n)).astype(np.float32)
    colours = _colours(rng, (n, slots)).astype(np.float32)
    sigma = np.where(rng.random(n) < 0.5, 0.0, rng.uniform(0, noise, n)).astype(np.float32)
    images = np.empty((n, 3, size, size), np.float32)
    extents = np.zeros((n, slots, 4), np.int64)
    for start in range(0, n, _CHUNK):  # bounds the (chunk, size, size) temporaries
        part = slice(start, start + _CHUNK)
        image = np.broadcast_to(grey[part, None, None, None], images[part].shape)
        for k in range(slots):
            mask = _masks(corners[part, k], sides[part, k], labels[part, k], size)
            image = np.where(mask[:, None], colours[part, k, :, None, None], image)
            extents[part, k] = _extents(mask)
        noisy = image + sigma[part, None, None, None] * rng.standard_normal(image.shape, np.float32)
        np.clip(noisy, 0, 1, out=images[part])
    present = labels >= 0
    boxes = [(extents[i, present[i]] / size).astype(np.float32) for i in range(n)]
    return images, boxes, [labels[i, present[i]] for i in range(n)]


def _extents(mask):
    """(n, 4) pixel extents (c1, r1, c2 + 1, r2 + 1) of the True pixels of (n, H, W) masks."""
    any_row, any_col = mask.any(2), mask.any(1)
    h, w = mask.shape[1:]
    return np.stack(
        [
            any_col.argmax(1),
            any_row.argmax(1),
            w - any_col[:, ::-1].argmax(1),
            h - any_row[:, ::-1].argmax(1),
        ],
        1,
    )


def _masks(corners, sides, labels, size):
    """Bool (n, size, size): the pixels of one shape per image (none where the label is -1).

    Pixel centres are tested against the shape in continuous coordinates, the square spanning
    [corner, corner + side) on both axes.
    """
    centres = np.arange(size, dtype=np.float32) + 0.5
    y = centres[None, :, None] - corners[:, 0, None, None].astype(np.float32)
    x = centres[None, None, :] - corners[:, 1, None, None].astype(np.float32)
    s = sides[:, None, None].astype(np.float32)
    inside = (y >= 0) & (y < s) & (x >= 0) & (x < s)
    half = s / 2
    circle = (y - half) ** 2 + (x - half) ** 2 <= half**2
    # apex at (0, half), base along y = s: half-width grows linearly from 0 to half
    triangle = np.abs(x - half) <= half * y / np.maximum(s, 1)
    label = labels[:, None, None]
    shape = np.where(label == 0, True, np.where(label == 1, circle, triangle))
    return inside & shape & (label >= 0)


def _colours(rng, shape):
    """RGB colours (*shape, 3): one channel in [0.8, 1], one in [0, 0.3], the third in [0, 1]."""
    values = np.stack(
        [rng.uniform(0.8, 1, shape), rng.uniform(0, 0.3, shape), rng.uniform(0, 1, shape)], -1
    )
    order = rng.permuted(np.broadcast_to(np.arange(3), (*shape, 3)), axis=-1)
    return np.take_along_axis(values, np.argsort(order, -1), -1)
