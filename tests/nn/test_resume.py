"""Checkpointing a CNN and its Adam state to disk, then resuming, as a training script would."""

import numpy as np

import autodiff as ad
import nn
import optim
from autodiff.data import DataLoader, digits_splits


def _model():
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(4 * 4 * 4, 10),
    )  # fmt: skip


def _batches():
    train, _, _ = digits_splits(generator=0)
    return list(DataLoader(train, batch_size=32, shuffle=True, generator=1))[:8]


def _step(model, optimizer, batch):
    x, y = batch
    optimizer.zero_grad()
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
    return loss.item()


def test_resuming_from_a_checkpoint_gives_the_same_losses_as_never_stopping(tmp_path):
    batches = _batches()
    ad.manual_seed(0)
    model = _model()
    optimizer = optim.Adam(model.parameters(), lr=1e-2)
    for batch in batches[:4]:
        _step(model, optimizer, batch)
    nn.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()},
            tmp_path / "ckpt.npz")  # fmt: skip
    uninterrupted = [_step(model, optimizer, batch) for batch in batches[4:]]

    ad.manual_seed(123)  # a different initialisation, overwritten by the checkpoint
    resumed = _model()
    resumed_optimizer = optim.Adam(resumed.parameters(), lr=1e-2)
    checkpoint = nn.load(tmp_path / "ckpt.npz")
    resumed.load_state_dict(checkpoint["model"])
    resumed_optimizer.load_state_dict(checkpoint["optimizer"])
    after_resume = [_step(resumed, resumed_optimizer, batch) for batch in batches[4:]]

    np.testing.assert_array_equal(after_resume, uninterrupted)
    for (name, a), (_, b) in zip(model.state_dict().items(), resumed.state_dict().items(),
                                 strict=True):  # fmt: skip
        np.testing.assert_array_equal(a.data, b.data, err_msg=name)
