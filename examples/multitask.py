"""Multi-task learning on the embedded 8x8 digits, with labels missing.

One network answers three yes/no questions about each digit at once: is it even, is it
greater than 4, does it have a loop (0, 6, 8, 9)? As the course writes it, the output layer
has one sigmoid unit per label (not a softmax: the labels are not exclusive), and the loss is
the binary cross-entropy averaged over the labels that are present. Here 30% of the training
labels are missing, marked NaN; the mask of present labels becomes the loss's weight, so a
missing label adds nothing to the loss or the gradients:

    mask = ~isnan(targets)
    loss = F.binary_cross_entropy_with_logits(
        logits, where(mask, targets, 0), weight=mask, reduction="weighted_mean")

Run: python examples/multitask.py [--missing 0.3] [--steps N] [--seed S]
"""

import argparse

import numpy as np

import autodiff as ad
import nn
import nn.functional as F
import optim
from autodiff.data import digits_splits

TASKS = {
    "is even": lambda d: d % 2 == 0,
    "is > 4": lambda d: d > 4,
    "has a loop": lambda d: np.isin(d, (0, 6, 8, 9)),
}


def task_labels(digits):
    """(N,) digits -> (N, 3) float32 labels, one column per task."""
    return np.stack([rule(digits) for rule in TASKS.values()], axis=1).astype(np.float32)


def hide(labels, fraction, rng):
    """A copy of `labels` with each entry replaced by NaN (missing) with probability
    `fraction`."""
    hidden = labels.copy()
    hidden[rng.random(labels.shape) < fraction] = np.nan
    return hidden


def masked_bce(logits, targets):
    """Binary cross-entropy from logits averaged over the present (non-NaN) targets.

    logits: Tensor (N, T); targets: ndarray (N, T) of 0, 1 or NaN (missing). A missing target
    contributes nothing to the loss or its gradient; with none present the loss is 0.
    """
    mask = ~np.isnan(targets)
    filled = np.where(mask, targets, 0).astype(logits.dtype)
    weight = mask.astype(logits.dtype)
    return F.binary_cross_entropy_with_logits(
        logits, ad.tensor(filled), weight=weight, reduction="weighted_mean"
    )


def make_model():
    """(N, 64) pixels -> (N, 3) logits, one per task (the sigmoid is in the loss)."""
    return nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, len(TASKS)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--missing", type=float, default=0.3, help="fraction of labels hidden")
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    ad.manual_seed(args.seed)

    train_set, _, test_set = digits_splits(generator=0, as_images=False, normalize=True)
    x, digits = train_set.arrays
    x_test, digits_test = test_set.arrays
    y = hide(task_labels(digits), args.missing, rng)
    y_test = task_labels(digits_test)
    present = int((~np.isnan(y)).sum())
    hidden = f"{args.missing:.0%} hidden"
    print(f"{len(x)} training images, {present} of {y.size} labels present ({hidden})")

    model = make_model()
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    for step in range(args.steps):
        idx = rng.choice(len(x), 64, replace=False)
        optimizer.zero_grad()
        loss = masked_bce(model(ad.tensor(x[idx])), y[idx])
        loss.backward()
        optimizer.step()
        if (step + 1) % (args.steps // 3 or 1) == 0:
            print(f"step {step + 1}: loss over present labels {loss.item():.4f}")

    model.eval()
    with ad.no_grad():
        predicted = model(ad.tensor(x_test)).data > 0  # sigmoid(z) > 0.5
    accuracies = (predicted == (y_test > 0.5)).mean(axis=0)
    print(f"\ntest accuracy per label ({len(x_test)} images, all labels known)")
    for name, acc in zip(TASKS, accuracies, strict=True):
        print(f"  {name:<12} {acc:.1%}")
    return dict(zip(TASKS, accuracies.tolist(), strict=True))


if __name__ == "__main__":
    main()
