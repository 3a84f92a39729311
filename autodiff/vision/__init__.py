"""Object detection utilities: boxes, IoU, IoU losses, NMS, anchors, YOLO targets, mAP.

Boxes are (N, 4) arrays or Tensors, "xyxy" (x1, y1, x2, y2) unless a function takes a format;
x runs along the image width, y along its height. Functions take numpy arrays and Tensors and
give back the same kind; float32 by default, float32 and float64 kept.
"""

from autodiff.ops.box_loss import box_iou_loss, generalized_box_iou_loss
from autodiff.vision.boxes import box_area, box_convert, box_iou, generalized_box_iou
from autodiff.vision.detection_map import average_precision_per_class, mean_average_precision
from autodiff.vision.nms import batched_nms, nms
from autodiff.vision.yolo import make_anchors, yolo_decode, yolo_encode, yolo_layout

__all__ = [
    "box_convert",
    "box_area",
    "box_iou",
    "generalized_box_iou",
    "box_iou_loss",
    "generalized_box_iou_loss",
    "nms",
    "batched_nms",
    "make_anchors",
    "yolo_encode",
    "yolo_decode",
    "yolo_layout",
    "mean_average_precision",
    "average_precision_per_class",
]
