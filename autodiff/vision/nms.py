"""Non-maximum suppression: `nms` and the class-aware `batched_nms`, with torchvision's rules.

Boxes are visited in decreasing score order; each box not yet suppressed is kept and suppresses
every later box (of its class, for `batched_nms`) whose IoU with it is greater than
`iou_threshold`. IoU is inter / union in the boxes' dtype, so two zero-area boxes (0/0 = NaN)
never suppress each other. The loop is a numba kernel (`autodiff.kernels.nms`).

Ties in score are visited in index order (a stable sort): torchvision's CPU kernel sorts with an
unstable sort, which gives this order for up to 16 boxes and an unspecified one beyond.
"""

import numpy as np

import autodiff as ad
from autodiff.errors import ShapeError
from autodiff.kernels.nms import nms_sorted
from autodiff.ops._args import is_tensor
from autodiff.vision.boxes import as_array, as_boxes

__all__ = ["nms", "batched_nms"]


def nms(boxes, scores, iou_threshold: float):
    """Indices of the boxes greedy non-maximum suppression keeps.

    Parameters
    ----------
    boxes : ndarray or Tensor (N, 4), xyxy with x1 <= x2 and y1 <= y2, finite
    scores : ndarray or Tensor (N,), finite
    iou_threshold : float
        A box whose IoU with a kept, higher-scoring box is greater than this is dropped.

    Returns
    -------
    int64 ndarray (K,) (a Tensor if `boxes` is one): indices into `boxes`, in decreasing score
    order (ties in index order). No boxes give an empty result.

    Raises
    ------
    ShapeError : boxes not (N, 4), or scores not (N,).  ValueError : NaN or inf in either,
    x2 < x1 or y2 < y1.
    """
    boxes, scores = _checked("nms", boxes, scores)
    return _kept(boxes, scores, np.zeros(len(scores), np.int64), iou_threshold)


def batched_nms(boxes, scores, idxs, iou_threshold: float):
    """`nms` within each category: boxes with different `idxs` never suppress each other.

    Parameters
    ----------
    boxes, scores, iou_threshold : as `nms`.
    idxs : ndarray or Tensor (N,), integer
        The category of each box.

    Returns
    -------
    int64 ndarray (K,) (a Tensor if `boxes` is one): indices of the kept boxes of every
    category together, in decreasing score order.

    Raises
    ------
    As `nms`; and ShapeError or TypeError when idxs is not (N,) integers.
    """
    boxes, scores = _checked("batched_nms", boxes, scores)
    idxs = as_array(idxs)
    if idxs.shape != scores.shape or (idxs.size and idxs.dtype.kind not in "iub"):
        raise ShapeError(
            f"batched_nms: idxs must be ({len(scores)},) integers, one per box, got "
            f"{idxs.shape} {idxs.dtype} (boxes {tuple(boxes.shape)})"
        )
    return _kept(boxes, scores, idxs.astype(np.int64), iou_threshold)


def _checked(op, boxes, scores):
    """(boxes, scores as a float ndarray), both checked; boxes stay as given (array or Tensor)."""
    boxes = as_boxes(op, boxes)
    scores = as_array(scores)
    if scores.shape != (boxes.shape[0],):
        raise ShapeError(
            f"{op}: scores must be ({boxes.shape[0]},), one per box, got {scores.shape} "
            f"{scores.dtype} (boxes {tuple(boxes.shape)} {boxes.dtype})"
        )
    scores = scores.astype(np.float64) if scores.dtype.kind != "f" else scores
    if not np.isfinite(scores).all():
        raise ValueError(f"{op}: scores hold NaN or inf (shape {scores.shape} {scores.dtype})")
    return boxes, scores


def _kept(boxes, scores, classes, iou_threshold):
    """The kernel on boxes sorted by decreasing score (stable), as indices of the input."""
    array = boxes.data if is_tensor(boxes) else boxes
    order = np.argsort(-scores, kind="stable")
    keep = order[nms_sorted(array[order], classes[order], float(iou_threshold))]
    return ad.as_tensor(keep) if is_tensor(boxes) else keep
