"""Mean average precision of a detector over a set of images (PASCAL VOC style).

For each class: the predictions of that class from every image are ranked by score (ties in
image order, then in order within the image); each in turn is a true positive when some ground
truth box of its image and class, not matched yet, has IoU >= `iou_threshold` with it (it takes
the free one of highest IoU), else a false positive: a second detection of an object already
matched is a false positive. (The VOC devkit looks only at the ground truth of highest IoU,
matched or not; here a detection that also overlaps a free object enough matches that one.)
AP is the area under the precision-recall curve with all-point interpolation (precision made
monotone from the right, summed over each recall step), as VOC 2010 and later do. mAP is the
mean over the classes that have at least one ground-truth box: a class with none is skipped
(its predictions are not counted anywhere), and with no ground truth at all mAP is NaN.

IoU is torchvision's (`box_iou`: no +1 on pixel sizes, unlike the original VOC code).
"""

import numpy as np

from autodiff.errors import ShapeError
from autodiff.vision.boxes import as_array, as_boxes, box_iou

__all__ = ["mean_average_precision", "average_precision_per_class"]


def mean_average_precision(
    pred_boxes, pred_scores, pred_classes, true_boxes, true_classes, iou_threshold: float = 0.5
) -> float:
    """mAP@iou_threshold of predictions against ground truth, over a list of images.

    Parameters
    ----------
    pred_boxes : list of (K_i, 4) arrays or Tensors, xyxy, one per image
    pred_scores : list of (K_i,) arrays
    pred_classes : list of (K_i,) integer arrays
    true_boxes : list of (G_i, 4) arrays, xyxy
    true_classes : list of (G_i,) integer arrays
        `yolo_decode` of a batch gives the first three lists.
    iou_threshold : float
        The IoU a prediction needs with a ground-truth box to match it (>=).

    Returns
    -------
    float in [0, 1]: the mean of `average_precision_per_class`; NaN when there is no ground
    truth at all.

    Raises
    ------
    ValueError : lists of different lengths, or arrays of one image that disagree in length;
    bad boxes (see `box_iou`).
    """
    ap = average_precision_per_class(
        pred_boxes, pred_scores, pred_classes, true_boxes, true_classes, iou_threshold
    )
    return float(np.mean(list(ap.values()))) if ap else float("nan")


def average_precision_per_class(
    pred_boxes, pred_scores, pred_classes, true_boxes, true_classes, iou_threshold: float = 0.5
) -> dict:
    """{class: AP} for every class with ground truth; arguments as `mean_average_precision`."""
    preds, truths = _images(pred_boxes, pred_scores, pred_classes, true_boxes, true_classes)
    classes = np.unique(np.concatenate([c for _, c in truths] or [np.zeros(0, np.int64)]))
    return {int(c): _class_ap(preds, truths, c, iou_threshold) for c in classes}


def _class_ap(preds, truths, c, iou_threshold):
    """All-point interpolated AP of class c."""
    n_true = sum(int((classes == c).sum()) for _, classes in truths)
    scores, hits = [], []
    for (boxes, image_scores, classes), (true_boxes, true_classes) in zip(
        preds, truths, strict=True
    ):
        mine = np.flatnonzero(classes == c)
        mine = mine[np.argsort(-image_scores[mine], kind="stable")]
        iou = box_iou(boxes[mine], true_boxes[true_classes == c])
        scores.append(image_scores[mine])
        hits.append(_greedy_match(iou, iou_threshold))
    order = np.argsort(-np.concatenate(scores), kind="stable")
    tp = np.concatenate(hits)[order].astype(np.float64)
    if tp.size == 0:
        return 0.0
    recall = np.cumsum(tp) / n_true
    precision = np.cumsum(tp) / np.arange(1, tp.size + 1)
    recall = np.concatenate([[0.0], recall, [1.0]])
    precision = np.concatenate([[0.0], precision, [0.0]])
    precision = np.maximum.accumulate(precision[::-1])[::-1]
    steps = np.flatnonzero(recall[1:] != recall[:-1])
    return float(np.sum((recall[steps + 1] - recall[steps]) * precision[steps + 1]))


def _greedy_match(iou, iou_threshold):
    """Bool (P,): whether each prediction (rows, in decreasing score) matches a ground truth
    (columns) still free with IoU >= threshold, taking the free one of highest IoU."""
    free = np.ones(iou.shape[1], bool)
    hit = np.zeros(iou.shape[0], bool)
    for p in range(iou.shape[0]):
        candidates = np.where(free & (iou[p] >= iou_threshold), iou[p], -1.0)
        if candidates.size and candidates.max() >= 0:
            g = int(np.argmax(candidates))
            free[g] = False
            hit[p] = True
    return hit


def _images(pred_boxes, pred_scores, pred_classes, true_boxes, true_classes):
    """Per image: (boxes, scores, classes) of the predictions and (boxes, classes) of the truth,
    as checked arrays."""
    op = "mean_average_precision"
    lists = (pred_boxes, pred_scores, pred_classes, true_boxes, true_classes)
    if len({len(x) for x in lists}) != 1:
        raise ValueError(
            f"{op}: expected one entry per image in each list, got lengths "
            f"{[len(x) for x in lists]} (pred_boxes, pred_scores, pred_classes, true_boxes, "
            f"true_classes)"
        )
    preds, truths = [], []
    for i, (pb, ps, pc, tb, tc) in enumerate(zip(*lists, strict=True)):
        pb = as_array(as_boxes(op, pb, f"pred_boxes[{i}]"))
        tb = as_array(as_boxes(op, tb, f"true_boxes[{i}]"))
        ps, pc, tc = as_array(ps).astype(np.float64), as_array(pc), as_array(tc)
        if ps.shape != (len(pb),) or pc.shape != (len(pb),) or tc.shape != (len(tb),):
            raise ShapeError(
                f"{op}: image {i} has pred_boxes {pb.shape}, pred_scores {ps.shape}, "
                f"pred_classes {pc.shape}, true_boxes {tb.shape}, true_classes {tc.shape}; "
                f"scores and classes need one entry per box"
            )
        preds.append((pb, ps, pc.astype(np.int64)))
        truths.append((tb, tc.astype(np.int64)))
    return preds, truths
