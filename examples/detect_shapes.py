"""A small YOLO-style detector, trained end to end on coloured shapes it renders itself.

The data: `ShapesDataset` draws 64x64 RGB images holding 1 to 3 squares, circles and
triangles of random colours and sizes, with their boxes. The detector is the course's YOLO:

    backbone: 4 x (3x3 conv, batch norm, ReLU, 2x2 max pool)    3 x 64 x 64 -> 64 x 4 x 4
              and one more 3x3 conv-BN-ReLU (a wider view per cell)
    head:     a 1x1 conv to B * (5 + C) channels                 -> B * (5 + C) x 4 x 4
    yolo_layout(head output, B)                                  -> (N, 4, 4, B, 5 + C)

Each cell predicts, for each of its B = 2 anchors, [pc, bx, by, bh, bw, c_1 .. c_C]. The
anchors are the (height, width) of the training boxes clustered by k-means with 1 - IoU as
the distance (YOLOv2). Training minimises `nn.YOLOLoss` against `yolo_encode`'s targets with
Adam; evaluation decodes the outputs (`yolo_decode`: scores, per-class NMS) and reports
`mean_average_precision` at IoU 0.5 on held-out images; a full run (not --fast) exits with an
error below mAP 0.7. A PNG shows ground truth and predictions side by side.

Run: python examples/detect_shapes.py [--epochs N] [--train-size N] [--seed S] [--plot PATH]
                                      [--no-plot] [--fast]
"""

import argparse
import time

import numpy as np

import autodiff as ad
import nn
import optim
from autodiff.data import DataLoader, ShapesDataset, TensorDataset
from autodiff.vision import box_iou, mean_average_precision, yolo_decode, yolo_encode, yolo_layout
from nn.models.mobilenet import Conv2dNormActivation
from nn.training import progress_bar

GRID = 4
NUM_ANCHORS = 2
NUM_CLASSES = len(ShapesDataset.classes)
# mAP ranks every detection, so it is measured on all but the faintest; the plot shows the
# confident ones
MAP_SCORE_THRESHOLD = 0.05
PLOT_SCORE_THRESHOLD = 0.5
TARGET_MAP = 0.7  # what a full run must reach; --fast only checks the pipeline


class Detector(nn.Module):
    """(N, 3, 64, 64) images -> raw YOLO outputs (N, 4, 4, B, 5 + C).

    The objectness biases start at -4 (pc about 0.02), as most anchors hold nothing; without
    this the early gradient is dominated by pushing every empty anchor down.
    """

    def __init__(self, num_anchors=NUM_ANCHORS, num_classes=NUM_CLASSES, width=8):
        super().__init__()
        stages, channels = [], 3
        for out in (width, 2 * width, 4 * width, 8 * width):
            stages += [_conv(channels, out), nn.MaxPool2d(2)]
            channels = out
        self.backbone = nn.Sequential(*stages, _conv(channels, channels))
        self.head = nn.Conv2d(channels, num_anchors * (5 + num_classes), 1)
        self.num_anchors = num_anchors
        with ad.no_grad():
            self.head.bias[0 :: 5 + num_classes] = -4.0

    def forward(self, x):
        return yolo_layout(self.head(self.backbone(x)), self.num_anchors)


def _conv(in_channels, out_channels):
    return Conv2dNormActivation(in_channels, out_channels, 3, activation_layer=nn.ReLU)


def kmeans_anchors(boxes, k, rng, iterations=30):
    """k (height, width) anchors clustering the boxes' shapes with 1 - IoU as the distance.

    boxes: (M, 4) xyxy. Returns (k, 2) float32, sorted by area. IoU between two shapes is
    taken with both centred at the origin, as `yolo_encode` assigns anchors.
    """
    shapes = np.stack([boxes[:, 3] - boxes[:, 1], boxes[:, 2] - boxes[:, 0]], 1)
    centres = shapes[rng.choice(len(shapes), k, replace=False)]
    for _ in range(iterations):
        nearest = _shape_iou(shapes, centres).argmax(1)
        centres = np.stack(
            [shapes[nearest == j].mean(0) if (nearest == j).any() else centres[j] for j in range(k)]
        )
    return centres[np.argsort(centres.prod(1))].astype(np.float32)


def _shape_iou(a, b):
    """(M, K) IoU of (height, width) shapes a (M, 2) and b (K, 2), centred at the origin."""
    half_a, half_b = np.concatenate([-a, a], 1) / 2, np.concatenate([-b, b], 1) / 2
    return box_iou(half_a, half_b)


def encode(data, anchors):
    """YOLO targets (N, S, S, B, 5 + C) float32 of a `ShapesDataset`."""
    return np.stack(
        [yolo_encode(b, c, GRID, anchors, NUM_CLASSES) for b, c in zip(data.boxes, data.labels)]
    )


def train(model, loader, epochs, lr):
    """Adam on `nn.YOLOLoss`, the learning rate falling along a cosine; the mean loss of each
    epoch, in a list."""
    loss_fn = nn.YOLOLoss()
    optimizer = optim.Adam(model.parameters(), lr=lr)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    losses = []
    for epoch in range(1, epochs + 1):
        model.train()
        bar = progress_bar(loader, f"epoch {epoch}/{epochs}")
        total, count = 0.0, 0
        for x, target in bar:
            optimizer.zero_grad()
            loss = loss_fn(model(x), target)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(x)
            count += len(x)
            bar.set_postfix(loss=total / count)
        bar.close({"loss": total / count})
        scheduler.step()
        losses.append(total / count)
    return losses


def detect(model, images, anchors, score_threshold, batch_size=256):
    """Per image, (boxes, scores, classes) after `yolo_decode`, for (N, 3, H, W) images."""
    model.eval()
    boxes, scores, classes = [], [], []
    with ad.no_grad():
        for start in range(0, len(images), batch_size):
            output = model(ad.tensor(images[start : start + batch_size]))
            b, s, c = yolo_decode(output, anchors, score_threshold, iou_threshold=0.5)
            boxes += b
            scores += s
            classes += c
    return boxes, scores, classes


def plot_detections(data, detections, path, count=8):
    """Saves a PNG: the first `count` images of `data` with their ground truth (top row) and
    the detections scoring above PLOT_SCORE_THRESHOLD (bottom row)."""
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    fig = Figure(figsize=(2 * count, 4.4), layout="constrained")
    axes = fig.subplots(2, count, squeeze=False)
    colours = plt.get_cmap("tab10").colors
    boxes, scores, classes = detections
    for j in range(count):
        image, true_boxes, true_classes = data[j]
        keep = scores[j] > PLOT_SCORE_THRESHOLD
        rows = (
            (true_boxes, true_classes, None),
            (boxes[j][keep], classes[j][keep], scores[j][keep]),
        )
        for ax, (b, c, s) in zip(axes[:, j], rows, strict=True):
            ax.imshow(image.transpose(1, 2, 0), extent=(0, 1, 1, 0))
            ax.set_axis_off()
            for k in range(len(b)):
                x1, y1, x2, y2 = b[k]
                colour = colours[c[k]]
                ax.add_patch(plt.Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, ec=colour))
                text = data.classes[c[k]] + ("" if s is None else f" {s[k]:.2f}")
                ax.text(x1, y1, text, color="white", fontsize=7, va="bottom",
                        bbox={"facecolor": colour, "pad": 1, "linewidth": 0})  # fmt: skip
    axes[0, 0].set_title("ground truth", loc="left", fontsize=9)
    axes[1, 0].set_title("predictions", loc="left", fontsize=9)
    fig.savefig(path, dpi=80)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--train-size", type=int, default=2000)
    parser.add_argument("--test-size", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", default="detect_shapes.png")
    parser.add_argument("--no-plot", action="store_true")
    parser.add_argument(
        "--fast", action="store_true", help="a pipeline check: 96 train images, 2 epochs"
    )
    args = parser.parse_args(argv)
    if args.fast:
        args.epochs, args.train_size, args.test_size = 2, 96, 32
    ad.manual_seed(args.seed)
    wall, cpu = time.perf_counter(), time.process_time()

    train_set = ShapesDataset(args.train_size, seed=args.seed)
    test_set = ShapesDataset(args.test_size, seed=args.seed + 1)
    rng = np.random.default_rng(args.seed)
    anchors = kmeans_anchors(np.concatenate(train_set.boxes), NUM_ANCHORS, rng)
    sizes = ", ".join(f"{h * 64:.1f} x {w * 64:.1f}" for h, w in anchors)
    print(
        f"shapes: {len(train_set)} train, {len(test_set)} test images of 3x64x64; "
        f"{GRID}x{GRID} grid; anchors (h x w pixels): {sizes}"
    )
    loader = DataLoader(
        TensorDataset(train_set.images, encode(train_set, anchors)),
        batch_size=args.batch_size,
        shuffle=True,
        generator=args.seed,
    )
    model = Detector()
    losses = train(model, loader, args.epochs, args.lr)
    train_wall, train_cpu = time.perf_counter() - wall, time.process_time() - cpu

    detections = detect(model, test_set.images, anchors, MAP_SCORE_THRESHOLD)
    score = mean_average_precision(*detections, test_set.boxes, test_set.labels)
    print(
        f"mAP@0.5 on {len(test_set)} held-out images: {score:.3f}; data and {args.epochs} "
        f"epochs of training took {train_wall:.0f} s wall, {train_cpu:.0f} s CPU"
    )
    if not args.no_plot:
        try:
            plot_detections(test_set, detections, args.plot)
            print(f"predictions drawn on test images: {args.plot}")
        except ImportError:
            print("matplotlib is not installed: no plot (pip install matplotlib)")
    if not args.fast and score < TARGET_MAP:
        raise SystemExit(f"mAP@0.5 {score:.3f} is below the target {TARGET_MAP}")
    return {"losses": losses, "map": score, "anchors": anchors, "detections": detections}


if __name__ == "__main__":
    main()
