"""A small training loop: `fit` and `evaluate`, with progress, history, early stopping,
checkpointing of the best model, and a plot of the curves.

    history = fit(model, train_loader, nn.CrossEntropyLoss(), optimizer, epochs=10,
                  dev_loader=dev_loader, patience=3, checkpoint="best.npz")
    plot_history(history, "curves.png")

It is the loop a PyTorch user writes by hand (zero_grad, forward, loss, backward, step), kept in
one place so examples stay short; nothing in it is needed to use the library. It sits above both
`nn` and `optim` (it steps their optimizers and schedulers); nothing in `nn` imports it.
"""

import sys
import time
from collections.abc import Mapping

import numpy as np

from autodiff.engine import no_grad
from autodiff.metrics import get_metric
from autodiff.serialization import save
from optim.lr_scheduler import ReduceLROnPlateau


def evaluate(model, loader, loss_fn, metrics=None):
    """Mean loss and accuracy of `model` over `loader`, in eval mode and without a graph.

    Parameters
    ----------
    metrics : optional
        Further scores of the whole loader: metric names (see `autodiff.metrics.get_metric`,
        e.g. "f1_macro"), functions (y_true, y_pred) -> float, or a dict name -> either.

    Returns
    -------
    (loss, accuracy) : (float, float)
        Accuracy compares the argmax of the outputs (N, C) with integer targets (N,).
    (loss, accuracy, scores) with `metrics`
        scores: {name: float}, each metric of all targets and argmax predictions.
    """
    scorers = _resolve_metrics(metrics)
    was_training = model.training
    model.eval()
    tally = _Tally(keep=bool(scorers))
    with no_grad():
        for x, y in loader:
            out = model(x)
            tally.add(out, y, loss_fn(out, y).item())
    model.train(was_training)
    if not scorers:
        return tally.loss, tally.accuracy
    return tally.loss, tally.accuracy, tally.scores(scorers)


def _resolve_metrics(metrics) -> dict:
    """`metrics` as {name: function (y_true, y_pred) -> float}; names go through
    `autodiff.metrics.get_metric`."""
    if metrics is None:
        return {}
    if isinstance(metrics, str):
        metrics = [metrics]
    if isinstance(metrics, Mapping):
        items = list(metrics.items())
    else:
        items = [(m if isinstance(m, str) else getattr(m, "__name__", repr(m)), m) for m in metrics]
    scorers = {}
    for name, metric in items:
        if isinstance(metric, str):
            metric = get_metric(metric)
        if not callable(metric):
            raise TypeError(
                f"metrics: {name!r} must be a metric name or a function, got {metric!r}"
            )
        if name in ("loss", "acc"):
            raise ValueError(f"metrics: the name {name!r} is taken by the loss and accuracy")
        scorers[name] = metric
    return scorers


class _Tally:
    """An epoch's running loss and accuracy, and its targets and predictions for metrics."""

    def __init__(self, keep):
        self.keep, self.total, self.correct, self.count = keep, 0.0, 0, 0
        self.targets, self.predictions = [], []

    def add(self, out, y, loss):
        predicted = out.data.argmax(axis=1)
        n = len(y)
        self.total += loss * n
        self.correct += int((predicted == y.data).sum())
        self.count += n
        if self.keep:
            self.targets.append(y.data)
            self.predictions.append(predicted)

    @property
    def loss(self):
        return self.total / self.count

    @property
    def accuracy(self):
        return self.correct / self.count

    def scores(self, scorers):
        if not scorers:
            return {}
        y_true, y_pred = np.concatenate(self.targets), np.concatenate(self.predictions)
        return {name: float(metric(y_true, y_pred)) for name, metric in scorers.items()}


def fit(
    model,
    train_loader,
    loss_fn,
    optimizer,
    epochs,
    dev_loader=None,
    scheduler=None,
    patience=None,
    checkpoint=None,
    progress=True,
    metrics=None,
):
    """Train `model` for up to `epochs` epochs; returns the history of losses and accuracies.

    Parameters
    ----------
    model : nn.Module
        Maps a batch x (N, ...) to scores (N, C).
    train_loader, dev_loader : iterable of (x, y)
        Batches of inputs and integer targets (N,); dev is evaluated after every epoch.
    loss_fn : callable
        loss_fn(scores, y) -> scalar Tensor, e.g. `nn.CrossEntropyLoss()`.
    optimizer : optim.Optimizer
    scheduler : optional
        Stepped once per epoch (`ReduceLROnPlateau` is given the dev loss).
    patience : int, optional
        Stop when the dev accuracy has not improved for this many epochs (early stopping).
    checkpoint : path, optional
        Also save the best model's state dict there (written atomically, see `nn.save`).

    With a dev loader, the model ends with the weights of its best epoch (by dev accuracy).
    progress : bool
        Show a progress bar (tqdm when installed, a plain one otherwise).
    metrics : optional
        Further scores per epoch, as in `evaluate`: e.g. ["f1_macro"] or
        {"f1": lambda y, p: f1_score(y, p, average="macro")}. The training scores are of the
        epoch's predictions as they were made (argmax of the outputs), like "train_acc".

    Returns
    -------
    dict of lists: "train_loss", "train_acc", and "dev_loss", "dev_acc" with a dev loader;
    "best_epoch" (int) when there is a dev loader; "train_<name>" (and "dev_<name>") for each
    metric.
    """
    scorers = _resolve_metrics(metrics)
    splits = ("train",) if dev_loader is None else ("train", "dev")
    history = {f"{split}_{key}": [] for split in splits for key in ("loss", "acc", *scorers)}
    if dev_loader is not None:
        history["best_epoch"] = None
    best_acc, best_state, waited = -1.0, None, 0
    for epoch in range(1, epochs + 1):
        model.train()
        bar = progress_bar(train_loader, f"epoch {epoch}/{epochs}", enabled=progress)
        tally = _Tally(keep=bool(scorers))
        for x, y in bar:
            optimizer.zero_grad()
            out = model(x)
            loss = loss_fn(out, y)
            loss.backward()
            optimizer.step()
            tally.add(out, y, loss.item())
            bar.set_postfix(loss=tally.loss, acc=tally.accuracy)
        scores = {"train": {"loss": tally.loss, "acc": tally.accuracy, **tally.scores(scorers)}}
        if dev_loader is not None:
            dev_loss, dev_acc, *dev_scores = evaluate(model, dev_loader, loss_fn, scorers or None)
            scores["dev"] = {
                "loss": dev_loss,
                "acc": dev_acc,
                **(dev_scores[0] if dev_scores else {}),
            }
        summary = {}
        for split, values in scores.items():
            for key, value in values.items():
                history[f"{split}_{key}"].append(value)
                summary[key if split == "train" else f"{split}_{key}"] = value
        if dev_loader is not None:
            if dev_acc > best_acc:
                best_acc, waited, history["best_epoch"] = dev_acc, 0, epoch
                best_state = {k: v.data.copy() for k, v in model.state_dict().items()}
                if checkpoint is not None:
                    save(best_state, checkpoint)
            else:
                waited += 1
        bar.close(summary)
        if scheduler is not None:
            _step_scheduler(scheduler, history)
        if patience is not None and dev_loader is not None and waited >= patience:
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    return history


def _step_scheduler(scheduler, history):
    if isinstance(scheduler, ReduceLROnPlateau):  # it needs the metric it watches
        scheduler.step(history.get("dev_loss", history["train_loss"])[-1])
    else:
        scheduler.step()


def plot_history(history, path=None):
    """Plot every curve of a `fit` history: a panel per quantity (loss, accuracy, and each
    metric such as "f1_macro"), a line per split (train, dev); save it when `path` is given.

    Parameters
    ----------
    history : dict
        `fit`'s history: lists under "<split>_<name>" keys; other entries ("best_epoch", which
        a dotted line marks) are not curves.
    path : str or path-like, optional
        Where to write the image (format from the suffix: .png, .svg, .pdf).

    Returns
    -------
    matplotlib.figure.Figure
        Up to three panels a row, in the history's order of quantities.

    Raises
    ------
    ImportError
        matplotlib is not installed (`pip install autodiff[plot]`).
    ValueError
        The history holds no curve.
    """
    curves = {}  # quantity -> split -> values
    for key, values in history.items():
        split, _, name = key.partition("_")
        if name and isinstance(values, list | tuple) and values:
            curves.setdefault(name, {})[split] = values
    if not curves:
        raise ValueError(
            f"plot_history: no curve among the keys {list(history)}; expected lists under "
            "'<split>_<name>' keys, as fit returns"
        )
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    columns = min(len(curves), 3)
    rows = -(-len(curves) // columns)
    # a Figure of its own, not pyplot's: no global state, no backend chosen for the caller
    fig = Figure(figsize=(4.5 * columns, 3.6 * rows), layout="tight")
    axes = list(fig.subplots(rows, columns, squeeze=False).flat)
    best = history.get("best_epoch")
    for ax, (name, splits) in zip(axes, curves.items()):
        for split, values in splits.items():
            ax.plot(np.arange(1, len(values) + 1), values, marker="o", label=split)
        if best is not None:
            ax.axvline(best, color="grey", linestyle=":", label="best epoch")
        label = {"loss": "loss", "acc": "accuracy"}.get(name, name)
        ax.set(xlabel="epoch", ylabel=label, title=label)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend()
    for ax in axes[len(curves) :]:  # the rest of the last row
        ax.set_visible(False)
    if path is not None:
        fig.savefig(path, dpi=100)
    return fig


def progress_bar(iterable, description, enabled=True):
    """A progress bar over `iterable`: tqdm when installed, a plain one otherwise."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return _PlainBar(iterable, description, enabled)
    return _TqdmBar(tqdm(iterable, desc=description, disable=not enabled, leave=True))


class _TqdmBar:
    """tqdm with the two calls `fit` makes."""

    def __init__(self, bar):
        self.bar = bar

    def __iter__(self):
        return iter(self.bar)

    def set_postfix(self, **values):
        self.bar.set_postfix({k: f"{v:.4f}" for k, v in values.items()}, refresh=False)

    def close(self, summary):
        self.bar.set_postfix({k: f"{v:.4f}" for k, v in summary.items()})
        self.bar.close()


class _PlainBar:
    """A text progress bar on stderr for machines without tqdm."""

    def __init__(self, iterable, description, enabled):
        self.iterable, self.description, self.enabled = iterable, description, enabled
        self.total = len(iterable) if hasattr(iterable, "__len__") else None
        self.postfix, self.start = "", time.perf_counter()

    def __iter__(self):
        for i, item in enumerate(self.iterable, 1):
            yield item
            if self.enabled:
                self._draw(i)

    def set_postfix(self, **values):
        self.postfix = " ".join(f"{k}={v:.4f}" for k, v in values.items())

    def _draw(self, i):
        width = 30
        filled = width * i // self.total if self.total else 0
        bar = "#" * filled + "-" * (width - filled)
        of = f"/{self.total}" if self.total else ""
        elapsed = time.perf_counter() - self.start
        sys.stderr.write(f"\r{self.description} [{bar}] {i}{of} {elapsed:.1f}s {self.postfix}")
        sys.stderr.flush()

    def close(self, summary):
        if self.enabled:
            self.set_postfix(**summary)
            sys.stderr.write(
                f"\r{self.description} {self.postfix} ({time.perf_counter() - self.start:.1f}s)\n"
            )
