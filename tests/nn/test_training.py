"""The training loop on the embedded digits: learning, early stopping, checkpoints, plots."""

import numpy as np
import pytest

import autodiff as ad
import nn
import optim
from autodiff.data import DataLoader, digits_splits
from nn import training


def _setup(seed=0):
    ad.manual_seed(seed)
    train, dev, test = digits_splits(generator=seed, as_images=False, normalize=True)
    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    loaders = (
        DataLoader(train, batch_size=64, shuffle=True, generator=seed),
        DataLoader(dev, batch_size=256),
        DataLoader(test, batch_size=256),
    )
    return model, loaders


def test_fit_learns_the_digits():
    model, (train, dev, test) = _setup()
    loss_fn = nn.CrossEntropyLoss()
    before_loss, before_acc = training.evaluate(model, test, loss_fn)
    history = training.fit(
        model,
        train,
        loss_fn,
        optim.Adam(model.parameters(), lr=1e-2),
        epochs=8,
        dev_loader=dev,
        progress=False,
    )
    after_loss, after_acc = training.evaluate(model, test, loss_fn)
    assert history["train_loss"][-1] < history["train_loss"][0] / 3
    assert after_loss < before_loss / 5
    assert before_acc < 0.3 and after_acc > 0.93
    assert len(history["dev_acc"]) == 8 and history["best_epoch"] is not None
    assert model.training  # fit leaves the model in training mode; evaluate restores the mode


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the large learning rate overflows
def test_early_stopping_restores_the_best_epoch(tmp_path):
    model, (train, dev, _) = _setup()
    loss_fn = nn.CrossEntropyLoss()
    # a learning rate so large that dev accuracy stops improving quickly
    optimizer = optim.SGD(model.parameters(), lr=5.0)
    path = tmp_path / "best.npz"
    history = training.fit(
        model,
        train,
        loss_fn,
        optimizer,
        epochs=30,
        dev_loader=dev,
        patience=2,
        checkpoint=path,
        progress=False,
    )
    epochs_run = len(history["train_loss"])
    assert epochs_run < 30
    assert epochs_run == history["best_epoch"] + 2  # stopped after `patience` epochs without gain
    _, acc = training.evaluate(model, dev, loss_fn)
    assert acc == pytest.approx(max(history["dev_acc"]))  # the best weights are back
    saved = nn.load(path)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(np.asarray(saved[name].data), value.data)


def test_scheduler_is_stepped_per_epoch():
    model, (train, dev, _) = _setup()
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    training.fit(
        model,
        train,
        nn.CrossEntropyLoss(),
        optimizer,
        epochs=3,
        scheduler=scheduler,
        progress=False,
    )
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.1 * 0.5**3)


def test_plain_progress_bar_and_plot(tmp_path, capsys, monkeypatch):
    bar = training._PlainBar(range(4), "epoch 1/1", enabled=True)
    assert list(bar) == [0, 1, 2, 3]
    bar.close({"loss": 0.5})
    err = capsys.readouterr().err
    assert "epoch 1/1" in err and "4/4" in err and "loss=0.5000" in err

    pytest.importorskip("matplotlib")
    history = {
        "train_loss": [1.0, 0.5],
        "train_acc": [0.5, 0.8],
        "dev_loss": [1.1, 0.6],
        "dev_acc": [0.4, 0.7],
    }
    path = tmp_path / "curves.png"
    training.plot_history(history, path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_reduce_on_plateau_is_given_the_dev_loss():
    model, (train, dev, _) = _setup()
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    scheduler = optim.lr_scheduler.ReduceLROnPlateau(optimizer, patience=0, factor=0.5)
    history = training.fit(
        model,
        train,
        nn.CrossEntropyLoss(),
        optimizer,
        epochs=4,
        dev_loader=dev,
        scheduler=scheduler,
        progress=False,
    )
    assert scheduler.best == pytest.approx(min(history["dev_loss"]))


def test_fit_and_evaluate_report_metrics_per_epoch():
    from autodiff import metrics

    model, (train, dev, _) = _setup()
    loss_fn = nn.CrossEntropyLoss()
    macro_f1 = {"f1": lambda y, p: metrics.f1_score(y, p, average="macro")}
    history = training.fit(
        model,
        train,
        loss_fn,
        optim.Adam(model.parameters(), lr=1e-2),
        epochs=3,
        dev_loader=dev,
        progress=False,
        metrics=["accuracy", "recall_weighted", macro_f1["f1"]],
    )
    for split in ("train", "dev"):
        assert len(history[f"{split}_<lambda>"]) == 3
        # the "accuracy" metric, from the kept predictions, is the running accuracy
        assert history[f"{split}_accuracy"] == pytest.approx(history[f"{split}_acc"])
        # weighted recall equals accuracy (recall weighted by class counts)
        assert history[f"{split}_recall_weighted"] == pytest.approx(history[f"{split}_acc"])
    loss, acc, scores = training.evaluate(model, dev, loss_fn, metrics=macro_f1)
    best = history["best_epoch"] - 1  # fit restored the best epoch's weights
    assert scores["f1"] == pytest.approx(history["dev_<lambda>"][best])
    y_true = np.concatenate([y.data for _, y in dev])
    with ad.no_grad():
        y_pred = np.concatenate([model(x).data.argmax(1) for x, _ in dev])
    assert scores["f1"] == metrics.f1_score(y_true, y_pred, average="macro")
    assert (loss, acc) == training.evaluate(model, dev, loss_fn)  # without metrics: 2 values


def test_bad_metrics_fail_before_training():
    model, (train, _, _) = _setup()
    before = {k: v.data.copy() for k, v in model.state_dict().items()}
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="unknown metric 'f1_mean'"):
        training.fit(model, train, nn.CrossEntropyLoss(), optimizer, 1, metrics=["f1_mean"])
    with pytest.raises(ValueError, match="'acc' is taken"):
        training.fit(model, train, nn.CrossEntropyLoss(), optimizer, 1, metrics={"acc": "f1"})
    with pytest.raises(TypeError, match="metric name or a function"):
        training.fit(model, train, nn.CrossEntropyLoss(), optimizer, 1, metrics={"x": 3})
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value.data, before[name])
