"""Box formats, areas and pairwise IoU, with torchvision's semantics (xyxy, no +1 on sizes).

Every function takes numpy arrays (or lists) and Tensors: arrays give arrays, Tensors give
Tensors built from graph ops (so IoU and GIoU are differentiable). Integer boxes become float32;
float32 and float64 are kept.
"""

import numpy as np

import autodiff as ad
from autodiff.errors import ShapeError
from autodiff.ops._args import is_tensor
from autodiff.ops.box_loss import check_boxes, iou_parts, namespace

__all__ = ["box_convert", "box_area", "box_iou", "generalized_box_iou"]

FORMATS = ("xyxy", "xywh", "cxcywh")


def as_array(x) -> np.ndarray:
    """The ndarray of a Tensor, or x as an ndarray."""
    return np.asarray(x.data if is_tensor(x) else x)


def as_boxes(op: str, boxes, name: str = "boxes", fmt: str = "xyxy", ndim: int | None = 2):
    """`boxes` checked (see `ops.box_loss.check_boxes`) and as a float Tensor or ndarray.

    `ndim=None` accepts any (..., 4). Lists and integer boxes become float32 (the library's
    default), float arrays and tensors keep their dtype; an empty list is (0, 4).
    """
    if is_tensor(boxes):
        boxes = boxes if boxes.dtype.kind == "f" else boxes.float()
    else:
        given = boxes
        boxes = np.asarray(boxes)
        if boxes.dtype.kind != "f" or not isinstance(given, np.ndarray):
            boxes = boxes.astype(np.float32)
        if boxes.shape == (0,):
            boxes = boxes.reshape(0, 4)
    if ndim is not None and boxes.ndim != ndim:
        raise ShapeError(
            f"{op}: {name} must be (N, 4), got shape {tuple(boxes.shape)} {boxes.dtype}"
        )
    check_boxes(op, boxes, name, fmt)
    return boxes


def box_convert(boxes, in_fmt: str, out_fmt: str):
    """Boxes from one format to another.

    Formats: "xyxy" (corners x1, y1, x2, y2), "xywh" (corner x1, y1, width, height), "cxcywh"
    (centre cx, cy, width, height). x runs along the image width, y along its height.

    Parameters
    ----------
    boxes : ndarray or Tensor (..., 4)
    in_fmt, out_fmt : str
        One of `FORMATS`.

    Returns
    -------
    Same kind as `boxes`, (..., 4), float (a new array even when the formats are equal).

    Raises
    ------
    ValueError : an unknown format, NaN or inf, x2 < x1 (xyxy) or a negative size.
    ShapeError : the last dim is not 4.
    """
    for fmt in (in_fmt, out_fmt):
        if fmt not in FORMATS:
            raise ValueError(f"box_convert: unknown format {fmt!r}, expected one of {FORMATS}")
    boxes = as_boxes("box_convert", boxes, fmt=in_fmt, ndim=None)
    xp = namespace(boxes)
    a, b, c, d = xp.unbind(boxes)
    if in_fmt == "xywh":
        a, b, c, d = a, b, a + c, b + d
    elif in_fmt == "cxcywh":
        a, b, c, d = a - 0.5 * c, b - 0.5 * d, a + 0.5 * c, b + 0.5 * d
    # (a, b, c, d) is xyxy now
    if out_fmt == "xywh":
        a, b, c, d = a, b, c - a, d - b
    elif out_fmt == "cxcywh":
        a, b, c, d = (a + c) / 2, (b + d) / 2, c - a, d - b
    return xp.stack([a, b, c, d])


def box_area(boxes):
    """(x2 - x1) * (y2 - y1) of xyxy boxes (..., 4) -> (...), same kind and float dtype."""
    boxes = as_boxes("box_area", boxes, ndim=None)
    return (boxes[..., 2] - boxes[..., 0]) * (boxes[..., 3] - boxes[..., 1])


def box_iou(boxes1, boxes2):
    """Intersection over union of every pair: (N, 4) and (M, 4) xyxy boxes -> (N, M).

    IoU = inter / union with union = area1 + area2 - inter, as torchvision's `box_iou`; two
    zero-area boxes give 0/0 = NaN. Arrays give an array, Tensors a differentiable Tensor
    (an array paired with a Tensor is taken as a constant).

    Raises
    ------
    ShapeError : an input not (K, 4).  ValueError : NaN or inf, x2 < x1 or y2 < y1.
    """
    inter, union, _ = _pairwise_parts("box_iou", boxes1, boxes2)
    with np.errstate(divide="ignore", invalid="ignore"):
        return inter / union


def generalized_box_iou(boxes1, boxes2):
    """Generalised IoU of every pair, (N, 4) x (M, 4) -> (N, M), in [-1, 1]:
    IoU - (enclosing - union) / enclosing, with `enclosing` the area of the smallest box holding
    both (torchvision's `generalized_box_iou`). Inputs, outputs and errors as `box_iou`."""
    inter, union, enclosing = _pairwise_parts("generalized_box_iou", boxes1, boxes2)
    with np.errstate(divide="ignore", invalid="ignore"):
        return inter / union - (enclosing - union) / enclosing


def _pairwise_parts(op, boxes1, boxes2):
    """`iou_parts` of every (i, j) pair, (N, M) each."""
    boxes1 = as_boxes(op, boxes1, "boxes1")
    boxes2 = as_boxes(op, boxes2, "boxes2")
    if is_tensor(boxes1) or is_tensor(boxes2):
        boxes1, boxes2 = ad.as_tensor(boxes1), ad.as_tensor(boxes2)
        return iou_parts(boxes1.unsqueeze(1), boxes2.unsqueeze(0))
    return iou_parts(boxes1[:, None, :], boxes2[None, :, :])
