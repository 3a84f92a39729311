"""The main demo: a small CNN (conv-pool-conv-pool-fc) trained on the embedded 8x8 digits.

Written as a PyTorch script would be, with PyTorch's names:

    model = nn.Sequential(nn.Conv2d(...), nn.ReLU(), nn.MaxPool2d(2), ...)
    optimizer = optim.Adam(model.parameters(), lr=...)
    for x, y in loader: optimizer.zero_grad(); loss_fn(model(x), y).backward(); optimizer.step()

The loop itself is `nn.training.fit`. Before training, the model's gradients are checked
against central differences (a few examples, float64); afterwards the test accuracy is printed
and the loss and accuracy curves go to a PNG.

Run: python examples/train_digits.py [--epochs N] [--plot PATH]
"""

import argparse
import time

import autodiff as ad
import nn
import optim
from autodiff.data import DataLoader, digits_splits
from nn.training import evaluate, fit, plot_history


def make_model():
    """(N, 1, 8, 8) images -> (N, 10) class scores."""
    return nn.Sequential(
        nn.Conv2d(1, 16, kernel_size=3, padding=1),  # 16 x 8 x 8
        nn.ReLU(),
        nn.MaxPool2d(2),  # 16 x 4 x 4
        nn.Conv2d(16, 32, kernel_size=3, padding=1),  # 32 x 4 x 4
        nn.ReLU(),
        nn.MaxPool2d(2),  # 32 x 2 x 2
        nn.Flatten(),
        nn.Linear(32 * 2 * 2, 10),
    )


def check_gradients(model, x, y):
    """gradcheck of the loss w.r.t. every parameter at initialisation, on a few examples.

    gradcheck runs the model on float64 copies of its parameters, so the input is float64 too.
    """
    loss_fn = nn.CrossEntropyLoss()
    params = list(model.parameters())
    x = x.double()
    report = ad.gradcheck(lambda *_: loss_fn(model(x), y), params, fast=True, n_worst=1)
    print(
        f"gradcheck at initialisation ({sum(p.numel() for p in params)} parameters, "
        f"one random direction per tensor): {'passed' if report.passed else 'FAILED'}, "
        f"largest relative difference {report.max_rel_diff:.1e} ({_band(report)})"
    )
    return report


def _band(report):
    return max(report.inputs, key=lambda r: r.rel_diff).verdict


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--plot", default="digits_curves.png")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    ad.manual_seed(args.seed)
    train, dev, test = digits_splits(generator=args.seed, normalize=True)
    print(f"digits: {len(train)} train, {len(dev)} dev, {len(test)} test images of 1x8x8")
    train_loader = DataLoader(train, batch_size=args.batch_size, shuffle=True, generator=args.seed)
    dev_loader = DataLoader(dev, batch_size=256)
    test_loader = DataLoader(test, batch_size=256)

    model = make_model()
    print(model)
    x, y = next(iter(DataLoader(train, batch_size=4)))
    check_gradients(model, x, y)

    loss_fn = nn.CrossEntropyLoss()
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    scheduler = optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.9)
    start = time.perf_counter()
    history = fit(
        model,
        train_loader,
        loss_fn,
        optimizer,
        epochs=args.epochs,
        dev_loader=dev_loader,
        scheduler=scheduler,
        patience=5,
    )
    elapsed = time.perf_counter() - start

    test_loss, test_acc = evaluate(model, test_loader, loss_fn)
    print(
        f"trained {len(history['train_loss'])} epochs in {elapsed:.1f} s; best dev accuracy "
        f"{max(history['dev_acc']):.1%} (epoch {history['best_epoch']})"
    )
    print(f"test accuracy {test_acc:.1%}, test loss {test_loss:.4f}")
    try:
        plot_history(history, args.plot)
        print(f"loss and accuracy curves written to {args.plot}")
    except ImportError:
        print("matplotlib is not installed: no plot (pip install matplotlib)")


if __name__ == "__main__":
    main()
