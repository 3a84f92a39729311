"""Greedy non-maximum suppression over boxes already sorted by decreasing score.

The loop is torchvision's CPU kernel (csrc/ops/cpu/nms_kernel.cpp): walk the boxes in order;
each box not yet suppressed is kept and suppresses every later box of the same class whose IoU
with it is greater than the threshold. IoU is computed in the boxes' dtype as
``inter / (area_i + area_j - inter)``, so two zero-area boxes give 0/0 = NaN, which is not
greater than any threshold: such a box is never suppressed by another zero-area box.

Boxes that do not overlap have IoU 0 (or NaN), so for a threshold >= 0 a kept box only needs
to test the boxes that overlap it along x: `_nms_sweep_impl` lays the boxes out by x1 and
visits, for each kept box, the range of x1 that can reach it. It keeps every result of the
plain loop, `_nms_impl`, which serves the negative thresholds.

Sorting, class labels and validation are the caller's (``autodiff.vision.nms``); this module
takes plain arrays only.
"""

import numpy as np
from numba import njit

from . import _config
from ._checks import as_float_array

# Exact IEEE arithmetic (no reciprocal or fused multiply-add rewrites): an IoU within one
# rounding of the threshold must land on the same side as in torchvision's C++ loop.
_EXACT = dict(_config.JIT, fastmath=False)


def nms_sorted(boxes: np.ndarray, classes: np.ndarray, iou_threshold: float) -> np.ndarray:
    """Positions (into ``boxes``) of the boxes greedy NMS keeps, in increasing order.

    Parameters
    ----------
    boxes : ndarray (N, 4), float32 or float64
        xyxy boxes sorted by decreasing score, finite, with x1 <= x2 and y1 <= y2.
    classes : ndarray (N,), int64
        A box only suppresses boxes of its own class (all equal: plain NMS).
    iou_threshold : float
        Boxes with IoU strictly greater than this are suppressed.

    Returns
    -------
    ndarray (K,), int64
        Positions of the kept boxes; with ``boxes`` sorted by score, in decreasing score order.
    """
    boxes = as_float_array("nms_sorted", "boxes", boxes, 2)
    if boxes.shape[1] != 4 or classes.shape != (boxes.shape[0],):
        raise ValueError(
            f"nms_sorted: boxes must be (N, 4) and classes (N,), got boxes {boxes.shape} "
            f"{boxes.dtype} and classes {classes.shape} {classes.dtype}"
        )
    x1, y1, x2, y2 = (np.ascontiguousarray(boxes[:, k]) for k in range(4))
    areas = (x2 - x1) * (y2 - y1)
    classes = np.ascontiguousarray(classes, np.int64)
    keep = np.empty(boxes.shape[0], np.int64)
    if iou_threshold >= 0:
        count = _sweep(x1, y1, x2, y2, areas, classes, iou_threshold, keep)
    else:
        count = _nms_impl(x1, y1, x2, y2, areas, classes, iou_threshold, keep)
    return keep[:count]


def _sweep(x1, y1, x2, y2, areas, classes, iou_threshold, keep):
    """`_nms_sweep_impl` on the boxes laid out by increasing x1 (a stable sort)."""
    by_x1 = np.argsort(x1, kind="stable")
    # every box that overlaps box i starts after x1[i] - (widest box); the margin covers rounding
    reach = 1.001 * float((x2 - x1).max(initial=0)) + 1e-6 * float(np.abs(x1).max(initial=0))
    laid_out = [a[by_x1] for a in (x1, y1, x2, y2, areas, classes)]
    return _nms_sweep_impl(*laid_out, by_x1, np.argsort(by_x1), iou_threshold, reach, keep)


@njit(**_EXACT)
def _suppresses(i, j, x1, y1, x2, y2, areas, classes, iou_threshold):
    """Whether kept box i suppresses box j: same class and IoU > threshold, in the boxes' dtype
    and in torchvision's order of operations."""
    if classes[j] != classes[i]:
        return False
    zero = x1.dtype.type(0)
    w = max(zero, min(x2[i], x2[j]) - max(x1[i], x1[j]))
    h = max(zero, min(y2[i], y2[j]) - max(y1[i], y1[j]))
    inter = w * h
    return inter / (areas[i] + areas[j] - inter) > iou_threshold


@njit(**_EXACT)
def _nms_impl(x1, y1, x2, y2, areas, classes, iou_threshold, keep):
    """Writes the kept positions to ``keep`` and returns how many: each kept box tests every
    later box. Serial, since each step depends on which earlier boxes were kept."""
    n = x1.shape[0]
    suppressed = np.zeros(n, np.bool_)
    count = 0
    for i in range(n):
        if suppressed[i]:
            continue
        keep[count] = i
        count += 1
        for j in range(i + 1, n):
            if not suppressed[j] and _suppresses(
                i, j, x1, y1, x2, y2, areas, classes, iou_threshold
            ):
                suppressed[j] = True
    return count


@njit(**_EXACT)
def _nms_sweep_impl(x1, y1, x2, y2, areas, classes, rank, position, iou_threshold, reach, keep):
    """`_nms_impl` for thresholds >= 0 on boxes ordered by x1: box p has score rank
    ``rank[p]``, and the box of rank i sits at ``position[i]``. Each kept box tests only the
    boxes whose x1 lies in [x1 - reach, its x2), found by binary search and visited in memory
    order; the others do not overlap it (IoU 0 or NaN) and cannot be suppressed by it."""
    n = x1.shape[0]
    starts = x1.astype(np.float64)
    suppressed = np.zeros(n, np.bool_)
    count = 0
    for i in range(n):
        q = position[i]
        if suppressed[q]:
            continue
        keep[count] = i
        count += 1
        lo = np.searchsorted(starts, np.float64(x1[q]) - reach)
        hi = np.searchsorted(starts, np.float64(x2[q]))
        for p in range(lo, hi):
            if rank[p] > i and not suppressed[p]:
                suppressed[p] = _suppresses(q, p, x1, y1, x2, y2, areas, classes, iou_threshold)
    return count
