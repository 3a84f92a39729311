"""Anchor boxes and the YOLO grid target: `make_anchors`, `yolo_encode`, `yolo_decode`,
`yolo_layout`.

The convention (fixed: `nn.YOLOLoss` and the detection example rely on it)
------------------------------------------------------------------------
- Boxes are xyxy, normalised to the image: every coordinate in [0, 1]; x runs along the width,
  y along the height.
- The grid has S_h x S_w cells (`grid_size` an int S for S x S, or (S_h, S_w)); cell (i, j) is
  row i (along the height) and column j (along the width), covering
  x in [j / S_w, (j + 1) / S_w) and y in [i / S_h, (i + 1) / S_h).
- B anchors are given as `anchors`, shape (B, 2): (height, width) of each, normalised to the
  image.
- Target and network output have the layout (N, S_h, S_w, B, 5 + C), or (S_h, S_w, B, 5 + C)
  for one image. The last axis is [pc, bx, by, bh, bw, c_1 .. c_C] (the course's order):
    pc      1 where an object is assigned to this cell and anchor, else 0 (then the whole
            vector is 0);
    bx, by  the box centre's offset inside its cell, in [0, 1): bx = cx * S_w - j,
            by = cy * S_h - i;
    bh, bw  the box height and width divided by the anchor's height and width;
    c_k     the class, one-hot.
- A raw network output has the same layout and maps to a prediction as
  pc = sigmoid(o0), bx = sigmoid(o1), by = sigmoid(o2), bh = exp(o3), bw = exp(o4),
  class probabilities = softmax(o5, ..., o_{4+C}).

Assignment in `yolo_encode`: an object belongs to the cell holding its centre (a centre on the
image's right or bottom edge goes to the last cell) and to the anchor whose shape has the
highest IoU with the box's shape, both centred at the origin (ties: the lower anchor index).
Objects are placed in decreasing order of area (equal areas: input order); when the chosen
anchor of the cell is taken by a larger object, an object takes the best free anchor of its
cell instead, and it is dropped when all B anchors of its cell are taken.

These functions work on numpy arrays (a Tensor is read through `.data`) and return arrays,
except `yolo_layout`, which keeps Tensors differentiable.
"""

import numpy as np

from autodiff.errors import ShapeError
from autodiff.ops._args import is_tensor
from autodiff.vision.boxes import as_array, as_boxes
from autodiff.vision.nms import batched_nms

__all__ = ["make_anchors", "yolo_encode", "yolo_decode", "yolo_layout"]


def make_anchors(grid_size, anchor_sizes):
    """Every anchor box of the grid, as xyxy boxes centred on the cells.

    Parameters
    ----------
    grid_size : int or (int, int)
        S (an S x S grid) or (S_h, S_w).
    anchor_sizes : array (B, 2)
        (height, width) of each anchor, normalised to the image.

    Returns
    -------
    ndarray (S_h, S_w, B, 4), xyxy: anchor b of cell (i, j) centred at
    ((j + 0.5) / S_w, (i + 0.5) / S_h); float32 unless `anchor_sizes` is float64. The boxes are
    not clipped to the image.
    """
    sh, sw = _grid("make_anchors", grid_size)
    sizes = _anchors("make_anchors", anchor_sizes)
    cy = (np.arange(sh, dtype=sizes.dtype) + 0.5) / sh
    cx = (np.arange(sw, dtype=sizes.dtype) + 0.5) / sw
    half_h, half_w = sizes[:, 0] / 2, sizes[:, 1] / 2
    cy, cx = cy[:, None, None], cx[None, :, None]
    return np.stack(np.broadcast_arrays(cx - half_w, cy - half_h, cx + half_w, cy + half_h), -1)


def yolo_encode(boxes, labels, grid_size, anchors, num_classes: int):
    """The YOLO target of one image (see the module docstring for the layout and the rules).

    Parameters
    ----------
    boxes : array (K, 4), xyxy in [0, 1]
    labels : array (K,), integers in [0, num_classes)
    grid_size : int or (int, int)
    anchors : array (B, 2), (height, width) normalised to the image, positive
    num_classes : int

    Returns
    -------
    ndarray (S_h, S_w, B, 5 + num_classes) of the boxes' float dtype (float32 by default);
    all zeros for K = 0.

    Raises
    ------
    ShapeError : boxes not (K, 4), labels not (K,), anchors not (B, 2).  ValueError : boxes
    outside [0, 1], x2 < x1, NaN; labels outside [0, num_classes); a bad grid or anchors.
    """
    op = "yolo_encode"
    boxes = as_array(as_boxes(op, boxes))
    labels = _labels(op, labels, len(boxes), num_classes)
    sh, sw = _grid(op, grid_size)
    sizes = _anchors(op, anchors).astype(boxes.dtype)
    if boxes.size and (boxes.min() < 0 or boxes.max() > 1):
        raise ValueError(
            f"{op}: boxes must be normalised to the image (coordinates in [0, 1]), got values "
            f"in [{boxes.min()}, {boxes.max()}] (shape {boxes.shape} {boxes.dtype})"
        )
    target = np.zeros((sh, sw, len(sizes), 5 + num_classes), boxes.dtype)
    h, w = boxes[:, 3] - boxes[:, 1], boxes[:, 2] - boxes[:, 0]
    cy, cx = (boxes[:, 1] + boxes[:, 3]) / 2, (boxes[:, 0] + boxes[:, 2]) / 2
    rows = np.minimum((cy * sh).astype(np.int64), sh - 1)
    cols = np.minimum((cx * sw).astype(np.int64), sw - 1)
    for k in np.argsort(-(h * w), kind="stable"):
        i, j = rows[k], cols[k]
        shape_iou = _shape_iou(h[k], w[k], sizes)
        free = target[i, j, :, 0] == 0
        if not free.any():
            continue
        b = int(np.argmax(np.where(free, shape_iou, -1.0)))
        target[i, j, b, :5] = (
            1,
            cx[k] * sw - j,
            cy[k] * sh - i,
            h[k] / sizes[b, 0],
            w[k] / sizes[b, 1],
        )
        target[i, j, b, 5 + labels[k]] = 1
    return target


def yolo_decode(output, anchors, score_threshold=0.5, iou_threshold=0.5, raw=True):
    """Detections from a YOLO output: boxes, scores and classes after per-class NMS.

    Parameters
    ----------
    output : array or Tensor (S_h, S_w, B, 5 + C), or (N, S_h, S_w, B, 5 + C) for a batch
        A raw network output (`raw=True`, mapped through sigmoid, exp and softmax as the
        module docstring says) or an already-mapped, target-like array (`raw=False`).
    anchors : array (B, 2), (height, width) normalised to the image
    score_threshold : float
        Keeps the cells and anchors whose score, pc x the best class probability, is greater.
    iou_threshold : float
        `batched_nms`'s threshold, within each class.

    Returns
    -------
    boxes : ndarray (K, 4), xyxy clipped to [0, 1], output's float dtype
    scores : ndarray (K,), in decreasing order
    classes : int64 ndarray (K,)
    For a batch, three lists with one such array per image.

    Raises
    ------
    ShapeError : output not 4-d or 5-d with a last axis of 5 + C (C >= 1), or a B other than
    the anchors'.
    """
    op = "yolo_decode"
    out = as_array(output)
    sizes = _anchors(op, anchors)
    if out.ndim not in (4, 5) or out.shape[-1] < 6 or out.shape[-2] != len(sizes):
        raise ShapeError(
            f"{op}: output must be (S_h, S_w, B, 5 + C) or (N, S_h, S_w, B, 5 + C) with C >= 1 "
            f"and B = {len(sizes)} anchors, got {out.shape} {out.dtype}"
        )
    if out.ndim == 5:
        boxes, scores, classes = [], [], []
        for image in out:
            b, s, c = yolo_decode(image, sizes, score_threshold, iou_threshold, raw)
            boxes.append(b)
            scores.append(s)
            classes.append(c)
        return boxes, scores, classes
    out = out if out.dtype.kind == "f" else out.astype(np.float32)
    pc, bx, by, bh, bw, probs = _predictions(out, raw)
    sh, sw = out.shape[:2]
    cx = (np.arange(sw, dtype=out.dtype)[None, :, None] + bx) / sw
    cy = (np.arange(sh, dtype=out.dtype)[:, None, None] + by) / sh
    h, w = bh * sizes[:, 0].astype(out.dtype), bw * sizes[:, 1].astype(out.dtype)
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], -1).reshape(-1, 4)
    boxes = np.clip(boxes, 0, 1)
    classes = probs.argmax(-1).reshape(-1)
    scores = (pc * probs.max(-1)).reshape(-1)
    candidates = np.flatnonzero(scores > score_threshold)
    boxes, scores, classes = boxes[candidates], scores[candidates], classes[candidates]
    keep = batched_nms(boxes, scores, classes, iou_threshold)
    return boxes[keep], scores[keep], classes[keep].astype(np.int64)


def yolo_layout(head, num_anchors: int):
    """A convolutional head's output (N, B * (5 + C), S_h, S_w) as (N, S_h, S_w, B, 5 + C).

    Channel b * (5 + C) + k of the head becomes entry k of anchor b. A Tensor gives a Tensor
    (a reshape and a permute, differentiable); an array gives an array.

    Raises
    ------
    ShapeError : head not 4-d, or channels not a multiple of num_anchors of at least 6 each.
    """
    n, channels, sh, sw = _head_shape(head, num_anchors)
    per_anchor = channels // num_anchors
    grouped = head.reshape(n, num_anchors, per_anchor, sh, sw)
    if is_tensor(head):
        return grouped.permute(0, 3, 4, 1, 2)
    return grouped.transpose(0, 3, 4, 1, 2)


def _predictions(out, raw):
    """(pc, bx, by, bh, bw, class probabilities) of an (S_h, S_w, B, 5 + C) output."""
    pc, bx, by, bh, bw = np.moveaxis(out[..., :5], -1, 0)
    probs = out[..., 5:]
    if not raw:
        return pc, bx, by, bh, bw, probs
    with np.errstate(over="ignore"):  # a huge size saturates to inf, then to the image edge
        bh, bw = np.exp(bh), np.exp(bw)
    shifted = np.exp(probs - probs.max(-1, keepdims=True))
    return (*_sigmoid(np.stack([pc, bx, by])), bh, bw, shifted / shifted.sum(-1, keepdims=True))


def _sigmoid(x):
    """1 / (1 + exp(-x)) without overflow for large |x|."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


def _shape_iou(h, w, sizes):
    """IoU of an h x w box with each (height, width) of `sizes`, all centred at the origin."""
    inter = np.minimum(h, sizes[:, 0]) * np.minimum(w, sizes[:, 1])
    return inter / (h * w + sizes[:, 0] * sizes[:, 1] - inter)


def _grid(op, grid_size):
    sizes = (grid_size, grid_size) if np.isscalar(grid_size) else tuple(grid_size)
    if len(sizes) != 2 or not all(isinstance(s, int | np.integer) and s > 0 for s in sizes):
        raise ValueError(f"{op}: grid_size must be a positive int or two, got {grid_size!r}")
    return int(sizes[0]), int(sizes[1])


def _anchors(op, anchors):
    """(B, 2) positive finite float anchor sizes (float32 unless given as float64)."""
    a = as_array(anchors)
    a = a if a.dtype.kind == "f" else a.astype(np.float32)
    if a.ndim != 2 or a.shape[1] != 2 or len(a) == 0:
        raise ShapeError(f"{op}: anchors must be (B, 2) (height, width), got {a.shape} {a.dtype}")
    if not (np.isfinite(a).all() and (a > 0).all()):
        raise ValueError(f"{op}: anchor sizes must be positive and finite, got {a.tolist()}")
    return a


def _labels(op, labels, k, num_classes):
    labels = as_array(labels)
    if labels.shape != (k,) or (k and labels.dtype.kind not in "iu"):
        raise ShapeError(f"{op}: labels must be ({k},) integers, got {labels.shape} {labels.dtype}")
    if k and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(
            f"{op}: labels must be in [0, {num_classes}), got values in "
            f"[{labels.min()}, {labels.max()}]"
        )
    return labels.astype(np.int64)


def _head_shape(head, num_anchors):
    shape = tuple(head.shape)
    if len(shape) != 4 or num_anchors < 1 or shape[1] % num_anchors or shape[1] < 6 * num_anchors:
        raise ShapeError(
            f"yolo_layout: head must be (N, B * (5 + C), S_h, S_w) with C >= 1 for "
            f"B = {num_anchors} anchors, got {shape} {head.dtype}"
        )
    return shape
