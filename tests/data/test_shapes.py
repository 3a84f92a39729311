"""ShapesDataset: determinism, tight boxes, balanced classes, 1 to max_objects shapes."""

import numpy as np
import pytest

from autodiff.data import DataLoader, ShapesDataset, TensorDataset
from autodiff.vision import box_iou


@pytest.fixture(scope="module")
def plain():
    return ShapesDataset(300, size=48, seed=3, noise=0)


def test_same_seed_same_data_other_seed_other_data():
    a, b, c = (ShapesDataset(20, seed=s) for s in (7, 7, 8))
    assert np.array_equal(a.images, b.images)
    for x, y in zip(a.boxes + a.labels, b.boxes + b.labels, strict=True):
        assert np.array_equal(x, y)
    assert not np.array_equal(a.images, c.images)


def test_shapes_dtypes_and_items(plain):
    assert plain.images.shape == (300, 3, 48, 48) and plain.images.dtype == np.float32
    assert len(plain) == 300 and len(plain.boxes) == len(plain.labels) == 300
    image, boxes, labels = plain[-1]
    assert image.shape == (3, 48, 48)
    assert boxes.dtype == np.float32 and boxes.shape == (len(labels), 4)
    assert labels.dtype == np.int64
    with pytest.raises(IndexError, match="ShapesDataset"):
        plain[300]


def test_pixels_in_range_and_noise_is_light():
    noisy = ShapesDataset(50, seed=0)
    assert noisy.images.min() >= 0 and noisy.images.max() <= 1
    plain = ShapesDataset(50, seed=0, noise=0)
    assert 0 < np.abs(noisy.images - plain.images).max() < 0.4
    assert np.abs(noisy.images - plain.images).mean() < 0.03


def test_one_to_max_objects_per_image(plain):
    counts = np.array([len(b) for b in plain.boxes])
    assert counts.min() == 1 and counts.max() == 3
    assert set(np.bincount(counts)[1:] > 60) == {True}  # each count is common
    five = ShapesDataset(100, seed=0, max_objects=5)
    assert {len(b) for b in five.boxes} <= set(range(1, 6)) and max(map(len, five.boxes)) >= 4
    assert {len(b) for b in ShapesDataset(30, seed=0, max_objects=1).boxes} == {1}


def test_classes_roughly_balanced(plain):
    counts = np.bincount(np.concatenate(plain.labels), minlength=3)
    assert len(counts) == 3 == len(ShapesDataset.classes)
    assert counts.min() > 0.8 * counts.mean()


def test_boxes_normalised_tight_and_complete(plain):
    """Every box lies in [0, 1]; inside it, the pixels that differ from the background span it
    exactly (each edge row and column holds shape pixels); no shape pixel lies outside all
    boxes."""
    size = 48
    for image, boxes, _ in plain:
        assert ((boxes >= 0) & (boxes <= 1)).all()
        assert (boxes[:, 2] > boxes[:, 0]).all() and (boxes[:, 3] > boxes[:, 1]).all()
        corner_colours = image[:, [0, 0, -1, -1], [0, -1, 0, -1]]
        background = np.median(corner_colours, axis=1)
        shape_pixels = np.abs(image - background[:, None, None]).max(0) > 0.1
        covered = np.zeros_like(shape_pixels)
        for x1, y1, x2, y2 in np.rint(boxes * size).astype(int):
            inside = shape_pixels[y1:y2, x1:x2]
            assert inside[0].any() and inside[-1].any()
            assert inside[:, 0].any() and inside[:, -1].any()
            covered[y1:y2, x1:x2] = True
        assert not (shape_pixels & ~covered).any()


def test_boxes_do_not_overlap(plain):
    for boxes in plain.boxes:
        iou = box_iou(boxes, boxes)
        assert np.array_equal(iou > 0, np.eye(len(boxes), dtype=bool))


def test_shape_kinds_fill_their_boxes_differently(plain):
    """A square fills its box, a circle about pi / 4 of it, a triangle about half."""
    fill = {0: [], 1: [], 2: []}
    for image, boxes, labels in plain:
        background = np.median(image[:, [0, 0, -1, -1], [0, -1, 0, -1]], axis=1)
        pixels = np.abs(image - background[:, None, None]).max(0) > 0.1
        for (x1, y1, x2, y2), c in zip(np.rint(boxes * 48).astype(int), labels, strict=True):
            fill[int(c)].append(pixels[y1:y2, x1:x2].mean())
    assert min(fill[0]) == 1
    assert abs(np.mean(fill[1]) - np.pi / 4) < 0.05
    assert abs(np.mean(fill[2]) - 0.5) < 0.08


def test_empty_dataset_and_bad_arguments():
    empty = ShapesDataset(0)
    assert empty.images.shape == (0, 3, 64, 64) and empty.boxes == [] and len(empty) == 0
    for kwargs in ({"n": -1}, {"n": 2, "size": 8}, {"n": 2, "max_objects": 0},
                   {"n": 2, "noise": 0.5}, {"n": 2.5}):  # fmt: skip
        with pytest.raises(ValueError, match="ShapesDataset"):
            ShapesDataset(**kwargs)


def test_images_batch_through_a_loader():
    data = ShapesDataset(10, seed=0)
    (x,) = next(iter(DataLoader(TensorDataset(data.images), batch_size=4)))
    assert tuple(x.shape) == (4, 3, 64, 64) and x.dtype == np.float32
