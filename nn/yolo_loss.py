"""The YOLO loss on the course's grid target, `yolo_loss` and the `YOLOLoss` module.

Layout of the output and the target: `(N, S, S, B, 5 + C)`, N images, an S x S grid, B anchors
per cell, and along the last axis the course's order `[pc, bx, by, bh, bw, c_1 .. c_C]`.

The target (as `autodiff.vision.yolo_encode` makes it): pc = 1 for the anchor that holds an
object (the anchor of the object's shape in the cell holding its midpoint), 0 elsewhere; bx, by
the box centre's offset inside its cell, in [0, 1); bh, bw the box height and width divided by
the anchor's (so > 0); the classes one-hot. Where pc = 0 only pc is read: the other entries may
be anything, NaN included (the course's "?").

The raw output o maps to predictions as pc = sigmoid(o0), bx = sigmoid(o1), by = sigmoid(o2),
bh = exp(o3), bw = exp(o4), class probabilities = softmax(o5:). The loss of one anchor is

    pc = 1:  lambda_coord * [(sigmoid(o1) - bx)^2 + (sigmoid(o2) - by)^2
                             + (o3 - log bh)^2 + (o4 - log bw)^2]
             + BCE-with-logits(o0, 1) + cross-entropy(o5:, classes)
    pc = 0:  lambda_noobj * BCE-with-logits(o0, 0)

summed over cells and anchors: each image's loss, averaged over the batch for "mean". The
height and width are compared as logs (YOLOv2's parametrisation), so that error is relative to
the box's size, as the square roots of YOLOv1 intend. Built from stable graph ops: the
objectness and class terms from logits, and the only log is of the target's bh, bw.
"""

import math

import numpy as np

from autodiff.errors import ShapeError
from autodiff.ops._args import is_tensor, require_float
from autodiff.ops._loss_args import check_reduction, reduce
from autodiff.ops.activation import sigmoid
from autodiff.ops.elementwise import where
from autodiff.ops.loss import binary_cross_entropy_with_logits, cross_entropy
from nn.module import Module

__all__ = ["yolo_loss", "YOLOLoss"]


def yolo_loss(
    output,
    target,
    lambda_coord: float = 5.0,
    lambda_noobj: float = 0.5,
    reduction: str = "mean",
):
    """The YOLO loss of raw network outputs against the course's grid target (module docstring).

    Parameters
    ----------
    output : Tensor
        Raw outputs o `(N, S, S, B, 5 + C)` (any grid shape `(N, ..., 5 + C)` works), float32
        or float64; differentiable.
    target : Tensor or array
        The target of `output`'s shape (any real dtype, cast to `output`'s); a constant.
    lambda_coord, lambda_noobj : float
        Weights of the box terms and of the objectness of empty anchors (YOLOv1's 5 and 0.5).
    reduction : {"mean", "sum", "none"}
        "mean": the sum over cells and anchors, averaged over the N images (nan for N = 0);
        "sum": summed over the images too; "none": one loss per image, `(N,)`.

    Returns
    -------
    Tensor of `output`'s dtype: 0-d, or `(N,)` for "none".

    Raises
    ------
    ShapeError : shapes that differ, or a last axis shorter than 5.
    ValueError : pc not 0 or 1, bh or bw not > 0 where pc = 1, non-finite box or class targets
    where pc = 1, negative lambdas, or a bad reduction.
    TypeError : a non-float output.
    """
    op = "yolo_loss"
    check_reduction(op, reduction)
    require_float(op, output)
    t = _checked_target(op, output, target)
    if lambda_coord < 0 or lambda_noobj < 0:
        raise ValueError(
            f"{op}: lambda_coord and lambda_noobj must be >= 0, got {lambda_coord}, {lambda_noobj}"
        )
    obj = t[..., 0] == 1
    # pc = 0 anchors get harmless stand-ins (0.5, 1, uniform classes): their terms are masked
    # out, and finite stand-ins keep NaN "don't care" entries out of the gradient
    xy = np.where(obj[..., None], t[..., 1:3], 0.5)
    log_hw = np.log(np.where(obj[..., None], t[..., 3:5], 1.0))
    coord = ((sigmoid(output[..., 1:3]) - xy) ** 2).sum(-1) + (
        (output[..., 3:5] - log_hw) ** 2
    ).sum(-1)
    objectness = binary_cross_entropy_with_logits(
        output[..., 0],
        t[..., 0],
        weight=np.where(obj, 1.0, lambda_noobj).astype(t.dtype),
        reduction="none",
    )
    per_anchor = where(obj, coord * lambda_coord, 0.0) + objectness
    n_classes = t.shape[-1] - 5
    if n_classes:
        classes = np.where(obj[..., None], t[..., 5:], 1.0 / n_classes)
        logits = output[..., 5:].reshape(-1, n_classes)
        ce = cross_entropy(logits, classes.reshape(-1, n_classes), reduction="none")
        per_anchor = per_anchor + where(obj, ce.reshape(obj.shape), 0.0)
    per_image = per_anchor.reshape(output.shape[0], math.prod(output.shape[1:-1])).sum(1)
    return reduce(per_image, reduction)


class YOLOLoss(Module):
    """The YOLO loss on the course's `(N, S, S, B, 5 + C)` grid target; see `nn.yolo_loss`'s
    module docstring for the layout and the formula, and `yolo_loss` for the arguments.

    >>> import autodiff as ad, nn
    >>> loss_fn = nn.YOLOLoss(lambda_coord=5.0, lambda_noobj=0.5)
    >>> output = ad.zeros(2, 4, 4, 2, 8, requires_grad=True)  # S = 4, B = 2, C = 3
    >>> target = ad.zeros(2, 4, 4, 2, 8)  # no objects: only the objectness term
    >>> round(loss_fn(output, target).item(), 4)  # 32 anchors * 0.5 * log 2
    11.0904
    """

    def __init__(self, lambda_coord: float = 5.0, lambda_noobj: float = 0.5, reduction="mean"):
        super().__init__()
        if lambda_coord < 0 or lambda_noobj < 0:
            raise ValueError(
                f"YOLOLoss: lambda_coord and lambda_noobj must be >= 0, got {lambda_coord}, "
                f"{lambda_noobj}"
            )
        check_reduction("YOLOLoss", reduction)
        self.lambda_coord = lambda_coord
        self.lambda_noobj = lambda_noobj
        self.reduction = reduction

    def forward(self, output, target):
        return yolo_loss(output, target, self.lambda_coord, self.lambda_noobj, self.reduction)

    def extra_repr(self) -> str:
        return (
            f"lambda_coord={self.lambda_coord}, lambda_noobj={self.lambda_noobj}, "
            f"reduction={self.reduction!r}"
        )


def _checked_target(op, output, target):
    """The target as an array of `output`'s dtype, after checking its shape and values."""
    t = np.asarray(target.data if is_tensor(target) else target)
    if output.ndim < 2 or t.shape != output.shape or output.shape[-1] < 5:
        raise ShapeError(
            f"{op}: output and target must both be (N, S, S, B, 5 + C), got output "
            f"{output.shape} {output.dtype} and target {t.shape} {t.dtype}"
        )
    if t.dtype.kind not in "biuf":
        raise TypeError(f"{op}: target must be real numbers, got {t.shape} {t.dtype}")
    t = t.astype(output.dtype, copy=False)
    pc = t[..., 0]
    if not np.all((pc == 0) | (pc == 1)):
        bad = pc[(pc != 0) & (pc != 1)]
        raise ValueError(
            f"{op}: target pc must be 0 or 1, got {bad[:3].tolist()} (target {t.shape} {t.dtype})"
        )
    boxes = t[pc == 1]
    if not np.all(np.isfinite(boxes)):
        raise ValueError(
            f"{op}: the target's boxes and classes where pc = 1 must be finite (target "
            f"{t.shape} {t.dtype})"
        )
    if not np.all(boxes[:, 3:5] > 0):
        raise ValueError(
            f"{op}: the target's bh and bw where pc = 1 must be > 0 (the box size divided by "
            f"the anchor's), got min {boxes[:, 3:5].min()} (target {t.shape} {t.dtype})"
        )
    return t
