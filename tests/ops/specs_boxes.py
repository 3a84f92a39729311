"""Op-table entries for autodiff/ops/box_loss.py: the IoU losses of paired boxes (see
tests/ops/specs.py), compared with torchvision's pure-Python losses."""

import numpy as np

from autodiff.ops.box_loss import box_iou_loss, generalized_box_iou_loss
from tests.ops.harness import OpSpec, sample
from tests.torchvision_ref import torchvision


def boxes(rng, shape):
    """Random xyxy boxes in [0, 2]^2 with sides in [0.2, 1.2], so pairs overlap about half the
    time. The coordinates lie along the last dim of `shape`, or along the first when the
    harness asks for the transposed layout (4, N) of a non-contiguous sample."""
    transposed = shape[-1] != 4
    n = shape[1:] if transposed else shape[:-1]
    corner = rng.uniform(0.0, 1.0, (*n, 2))
    size = rng.uniform(0.2, 1.2, (*n, 2))
    b = np.concatenate([corner, corner + size], axis=-1)
    return np.ascontiguousarray(np.moveaxis(b, -1, 0)) if transposed else b


def _parts(b1, b2):
    x1, y1, x2, y2 = np.moveaxis(b1, -1, 0)
    x1g, y1g, x2g, y2g = np.moveaxis(b2, -1, 0)
    w = np.clip(np.minimum(x2, x2g) - np.maximum(x1, x1g), 0, None)
    h = np.clip(np.minimum(y2, y2g) - np.maximum(y1, y1g), 0, None)
    inter = w * h
    union = (x2 - x1) * (y2 - y1) + (x2g - x1g) * (y2g - y1g) - inter
    enclosing = (np.maximum(x2, x2g) - np.minimum(x1, x1g)) * (
        np.maximum(y2, y2g) - np.minimum(y1, y1g)
    )
    return inter, union, enclosing


def _reduce(loss, reduction):
    return {"none": loss, "sum": loss.sum(), "mean": loss.mean()}[reduction]


def _iou_loss(b1, b2, reduction="none", eps=1e-7):
    inter, union, _ = _parts(b1, b2)
    return _reduce(1 - inter / (union + eps), reduction)


def _giou_loss(b1, b2, reduction="none", eps=1e-7):
    inter, union, enclosing = _parts(b1, b2)
    giou = inter / (union + eps) - (enclosing - union) / (enclosing + eps)
    return _reduce(1 - giou, reduction)


def _torch_iou_loss(b1, b2, reduction="none", eps=1e-7):
    """torchvision has no plain IoU loss: 1 - IoU from the helper its losses share."""
    ops = torchvision().ops
    inter, union = ops._utils._loss_inter_union(*_broadcast(b1, b2))
    loss = 1 - inter / (union + eps)
    return {"none": loss, "sum": loss.sum(), "mean": loss.mean()}[reduction]


def _torch_giou_loss(b1, b2, **kw):
    return torchvision().ops.generalized_box_iou_loss(*_broadcast(b1, b2), **kw)


def _broadcast(b1, b2):
    """torchvision's losses index with a mask of one input's shape: expand both first."""
    shape = np.broadcast_shapes(b1.shape, b2.shape)
    return b1.expand(shape), b2.expand(shape)


_SAMPLES = (
    sample((1, 4), (1, 4)),
    sample((5, 4), (5, 4), t=(0,)),
    sample((4,), (6, 4), reduction="mean"),
    sample((3, 4), (3, 4), t=(1,), reduction="sum", eps=1e-3),
)
_NO_SCALAR = {"scalar": "a box is 4 numbers: the smallest input is one box, shape (4,)"}

SPECS = [
    OpSpec(
        name="box_iou_loss",
        fn=box_iou_loss,
        ref=_iou_loss,
        torch_fn=_torch_iou_loss,
        covers=(),
        samples=_SAMPLES,
        domain=boxes,
        exempt=_NO_SCALAR,
    ),
    OpSpec(
        name="generalized_box_iou_loss",
        fn=generalized_box_iou_loss,
        ref=_giou_loss,
        torch_fn=_torch_giou_loss,
        covers=(),
        samples=_SAMPLES,
        domain=boxes,
        exempt=_NO_SCALAR,
    ),
]
