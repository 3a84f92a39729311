"""A typical PyTorch training script, ported to autodiff by changing its imports only.

Its PyTorch original differs in the four import lines marked `# torch:` and nowhere else:
tests/test_pytorch_port.py makes that original from this file, runs both and compares their
losses epoch by epoch. It has what such scripts have: a Dataset and a DataLoader with worker
processes, a model class, AdamW with a one-cycle schedule, gradient clipping, evaluation under
no_grad, and a checkpoint saved and loaded again.

    python examples/pytorch_port.py                    # 3 spirals, 8 epochs, 2 workers
    python examples/pytorch_port.py --epochs 3 --workers 0 --no-shuffle --init-seed 0
"""

import argparse
import os
import tempfile

import numpy as np

# isort: off
import autodiff as torch  # torch: import torch
import autodiff.nn as nn  # torch: import torch.nn as nn
import autodiff.nn.functional as F  # torch: import torch.nn.functional as F
from autodiff.utils import data  # torch: from torch.utils import data
# isort: on


class Spirals(data.Dataset):
    """Points on three interleaved spiral arms, with noise; the label is the arm."""

    def __init__(self, n_per_class, seed):
        rng = np.random.default_rng(seed)
        radius = np.tile(np.linspace(0.1, 1.0, n_per_class), 3)
        label = np.repeat(np.arange(3), n_per_class)
        angle = 4.0 * radius + label * 2 * np.pi / 3 + rng.normal(0, 0.2, radius.shape)
        points = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
        self.points = points.astype(np.float32)
        self.labels = label

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return torch.from_numpy(self.points[i]), int(self.labels[i])


class Classifier(nn.Module):
    def __init__(self, hidden=64, dropout=0.1, classes=3):
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(2, hidden),
            nn.LayerNorm(hidden),
            nn.GELU(),
            nn.Linear(hidden, hidden),
            nn.GELU(),
            nn.Dropout(dropout),
        )
        self.head = nn.Linear(hidden, classes)

    def forward(self, x):
        return self.head(self.body(x))


def init_from_seed(model, seed):
    """Weights drawn by numpy, so that two frameworks can start from the same point."""
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for p in model.parameters():
            values = rng.uniform(-0.5, 0.5, tuple(p.shape)).astype(np.float32)
            p.copy_(torch.from_numpy(values))


@torch.no_grad()
def accuracy(model, loader):
    model.eval()
    correct = total = 0
    for x, y in loader:
        correct += (model(x).argmax(dim=1) == y).sum().item()
        total += len(y)
    return correct / total


def main(args):
    torch.manual_seed(args.seed)
    train_loader = data.DataLoader(
        Spirals(400, seed=0),
        batch_size=args.batch_size,
        shuffle=not args.no_shuffle,
        num_workers=args.workers,
        persistent_workers=args.workers > 0,
        drop_last=True,
    )
    test_loader = data.DataLoader(Spirals(100, seed=1), batch_size=256)
    model = Classifier(args.hidden, 0.0 if args.init_seed is not None else args.dropout)
    if args.init_seed is not None:
        init_from_seed(model, args.init_seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=args.lr, epochs=args.epochs, steps_per_epoch=len(train_loader)
    )

    for epoch in range(1, args.epochs + 1):
        model.train()
        total_loss, seen = 0.0, 0
        for x, y in train_loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
            optimizer.step()
            scheduler.step()
            total_loss += loss.item() * len(y)
            seen += len(y)
        test_accuracy = accuracy(model, test_loader)
        print(f"epoch {epoch:2d}  loss {total_loss / seen:.6f}  test accuracy {test_accuracy:.4f}")

    path = os.path.join(tempfile.mkdtemp(), "checkpoint.pt")
    checkpoint = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": epoch}
    torch.save(checkpoint, path)
    restored = Classifier(args.hidden, args.dropout)
    restored.load_state_dict(torch.load(path)["model"])
    assert accuracy(restored, test_loader) == test_accuracy, "the checkpoint does not restore"
    print(f"checkpoint saved and restored: test accuracy {test_accuracy:.4f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--dropout", type=float, default=0.1)
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-shuffle", action="store_true", help="batches in order")
    parser.add_argument("--init-seed", type=int, help="numpy-drawn initial weights, and no dropout")
    main(parser.parse_args())
