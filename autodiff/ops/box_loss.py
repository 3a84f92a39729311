"""IoU losses of paired xyxy boxes (`box_iou_loss`, `generalized_box_iou_loss`), and the box
geometry they share with `autodiff.vision`: the intersection, union and enclosing-box areas.

The losses are compositions of graph ops (no rule of their own): min, max, a clamp at 0 and
products already give the exact gradient, including torchvision's zero gradient of the
intersection when boxes do not overlap. The geometry is written once over a small namespace of
array functions: numpy's for arrays (no graph, IEEE division, for `vision.box_iou` and NMS-side
code) and the graph ops for tensors, so both agree with torchvision's formulas term by term.
"""

from types import SimpleNamespace

import numpy as np

from autodiff.errors import ShapeError
from autodiff.ops._args import is_tensor, promote, require_float
from autodiff.ops._loss_args import REDUCTIONS, check_reduction
from autodiff.ops.elementwise import clamp, maximum, minimum
from autodiff.ops.shape import stack
from autodiff.ops.slicing import unbind

__all__ = ["box_iou_loss", "generalized_box_iou_loss"]

NUMPY = SimpleNamespace(
    maximum=np.maximum,
    minimum=np.minimum,
    clamp_min=np.maximum,
    unbind=lambda b: tuple(np.moveaxis(b, -1, 0)),
    stack=lambda parts: np.stack(parts, axis=-1),
)
GRAPH = SimpleNamespace(
    maximum=maximum,
    minimum=minimum,
    clamp_min=lambda x, low: clamp(x, min=low),
    unbind=lambda b: unbind(b, -1),
    stack=lambda parts: stack(parts, -1),
)


def namespace(*boxes) -> SimpleNamespace:
    """`GRAPH` when any of `boxes` is a Tensor, else `NUMPY`."""
    return GRAPH if any(is_tensor(b) for b in boxes) else NUMPY


def check_boxes(op: str, boxes, name: str = "boxes", fmt: str = "xyxy") -> None:
    """Raise unless `boxes` (Tensor or array) is (..., 4), numeric, finite and well formed:
    x1 <= x2 and y1 <= y2 for "xyxy", non-negative width and height for the other formats."""
    a = np.asarray(boxes)
    if a.ndim < 1 or a.shape[-1] != 4:
        raise ShapeError(f"{op}: {name} must have shape (..., 4), got {a.shape} {a.dtype}")
    if a.dtype.kind not in "fiu":
        raise TypeError(f"{op}: {name} must be a float or integer array, got {a.dtype} {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError(f"{op}: {name} holds NaN or inf (shape {a.shape} {a.dtype})")
    if fmt == "xyxy":
        bad, rule = (a[..., 2:] < a[..., :2]).any(-1), "x2 < x1 or y2 < y1"
    else:
        bad, rule = (a[..., 2:] < 0).any(-1), "a negative width or height"
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"{op}: {name}[{', '.join(map(str, where))}] = {a[where].tolist()} has {rule} "
            f"({fmt} boxes, shape {a.shape} {a.dtype})"
        )


def iou_parts(boxes1, boxes2):
    """Intersection, union and smallest-enclosing-box areas of paired xyxy boxes.

    `boxes1` (..., 4) and `boxes2` (..., 4) broadcast over their leading dims; all three results
    have the broadcast leading shape. Arrays give arrays, Tensors give graph ops.
    """
    xp = namespace(boxes1, boxes2)
    x1, y1, x2, y2 = xp.unbind(boxes1)
    x1g, y1g, x2g, y2g = xp.unbind(boxes2)
    w = xp.clamp_min(xp.minimum(x2, x2g) - xp.maximum(x1, x1g), 0)
    h = xp.clamp_min(xp.minimum(y2, y2g) - xp.maximum(y1, y1g), 0)
    inter = w * h
    union = (x2 - x1) * (y2 - y1) + (x2g - x1g) * (y2g - y1g) - inter
    enclosing = (xp.maximum(x2, x2g) - xp.minimum(x1, x1g)) * (
        xp.maximum(y2, y2g) - xp.minimum(y1, y1g)
    )
    return inter, union, enclosing


def box_iou_loss(boxes1, boxes2, reduction: str = "none", eps: float = 1e-7):
    """1 - IoU of paired boxes, IoU = inter / (union + eps), differentiable in both.

    Parameters
    ----------
    boxes1, boxes2 : Tensor (N, 4) or (4,), float, xyxy with x1 <= x2 and y1 <= y2
        Paired boxes; the leading dims broadcast.
    reduction : "none" | "mean" | "sum"
        "mean" of no boxes is 0, as torchvision's.
    eps : float
        Added to the union, so zero-area pairs give a loss of 1, not NaN.

    Returns
    -------
    Tensor (N,) for "none" (the broadcast leading shape), else 0-d; the promoted float dtype.

    Raises
    ------
    TypeError : a non-float or non-Tensor input.  ShapeError : not (..., 4), or leading dims that
    do not broadcast.  ValueError : NaN or inf, x2 < x1 or y2 < y1, an unknown reduction.
    """
    inter, union, _ = _checked_parts("box_iou_loss", boxes1, boxes2, reduction)
    return _reduce(1 - inter / (union + eps), reduction)


def generalized_box_iou_loss(boxes1, boxes2, reduction: str = "none", eps: float = 1e-7):
    """1 - GIoU of paired boxes (Rezatofighi et al. 2019), torchvision's formula:
    GIoU = inter / (union + eps) - (enclosing - union) / (enclosing + eps), where `enclosing` is
    the area of the smallest box holding both. Unlike 1 - IoU it still has a gradient when the
    boxes do not overlap. Parameters, returns and errors as `box_iou_loss`; the loss is in
    [0, 2]."""
    inter, union, enclosing = _checked_parts("generalized_box_iou_loss", boxes1, boxes2, reduction)
    giou = inter / (union + eps) - (enclosing - union) / (enclosing + eps)
    return _reduce(1 - giou, reduction)


def _checked_parts(op, boxes1, boxes2, reduction):
    """`iou_parts` of two checked float tensors of one dtype."""
    check_reduction(op, reduction, REDUCTIONS)
    require_float(op, boxes1)
    require_float(op, boxes2)
    check_boxes(op, boxes1, "boxes1")
    check_boxes(op, boxes2, "boxes2")
    try:
        np.broadcast_shapes(boxes1.shape, boxes2.shape)
    except ValueError:
        raise ShapeError(
            f"{op}: boxes1 {boxes1.shape} {boxes1.dtype} and boxes2 {boxes2.shape} "
            f"{boxes2.dtype} do not broadcast"
        ) from None
    return iou_parts(*promote(boxes1, boxes2))


def _reduce(loss, reduction):
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    # torchvision's mean of no boxes is 0, not NaN; a sum times 0 keeps the graph
    return loss.mean() if loss.data.size else loss.sum() * 0.0
