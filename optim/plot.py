"""Pictures of learning-rate schedules: the lr a scheduler sets, epoch by epoch (needs matplotlib).

    from optim.lr_scheduler import CosineAnnealingLR, ExponentialLR, InverseTimeLR, StepLR
    from optim.plot import plot_schedule

    plot_schedule(
        {
            "1 / (1 + epoch)": lambda opt: InverseTimeLR(opt, decay_rate=1.0),
            "0.95 ** epoch": lambda opt: ExponentialLR(opt, gamma=0.95),
            "staircase": lambda opt: StepLR(opt, step_size=10, gamma=0.5),
            "cosine": lambda opt: CosineAnnealingLR(opt, T_max=50),
        },
        steps=50,
        path="schedules.png",
    )

A schedule runs on a throwaway optimizer holding one scalar parameter, never on the user's: a
factory `optimizer -> scheduler` is called with one built from `lr` (and momentum 0.9, for
OneCycleLR's momentum cycle); a scheduler is copied onto one with its optimizer's param groups.
"""

import copy
from collections.abc import Callable, Mapping

import numpy as np

from autodiff.tensor import Tensor
from optim.optimizer import Optimizer
from optim.plateau import ReduceLROnPlateau
from optim.scheduler import LRScheduler

Schedule = LRScheduler | Callable[[Optimizer], LRScheduler]


def schedule_values(schedule: Schedule, steps: int, lr: float = 0.1) -> tuple[np.ndarray, str]:
    """The learning rates a schedule sets over `steps` calls of `step()`, without touching any
    real optimizer.

    Parameters
    ----------
    schedule : LRScheduler or callable
        A scheduler (copied onto a throwaway optimizer with its optimizer's param groups and
        run on from where it stands: epoch 0 when freshly built), or a factory `optimizer ->
        scheduler`, called with a throwaway optimizer of one group at `lr`.
    steps : int
        How many learning rates to record, >= 0: the current one and `steps - 1` after it.
    lr : float
        The base lr of a factory's optimizer.

    Returns
    -------
    (lrs, name) : (ndarray (steps, groups) float64, str)
        lrs[i, g] is group g's lr i steps on; name is the scheduler's class name.

    Raises
    ------
    TypeError
        `schedule` is neither, the factory returns no LRScheduler, or the scheduler is
        `ReduceLROnPlateau` (its lr depends on the metrics it is given, not on the epoch).
    ValueError
        `steps` < 0.

    Example
    -------
    >>> from optim.lr_scheduler import StepLR
    >>> lrs, name = schedule_values(lambda opt: StepLR(opt, step_size=2), steps=5, lr=1.0)
    >>> lrs[:, 0].tolist(), name
    ([1.0, 1.0, 0.1, 0.1, 0.010000000000000002], 'StepLR')
    """
    if not isinstance(steps, int) or steps < 0:
        raise ValueError(f"schedule_values: steps must be an int >= 0, got {steps!r}")
    if isinstance(schedule, LRScheduler):
        scheduler = _copy_onto_dummy(schedule)
    elif callable(schedule):
        scheduler = schedule(_dummy_optimizer([{"lr": lr}], {"lr": lr, "momentum": 0.9}))
    else:
        raise TypeError(
            "schedule_values: expected a scheduler or a function optimizer -> scheduler, got "
            f"{type(schedule).__name__}"
        )
    if not isinstance(scheduler, LRScheduler) or isinstance(scheduler, ReduceLROnPlateau):
        raise TypeError(
            "schedule_values: need an epoch schedule (an LRScheduler other than "
            f"ReduceLROnPlateau), got {type(scheduler).__name__}"
        )
    lrs = np.empty((steps, len(scheduler.optimizer.param_groups)))
    for i in range(steps):
        if i:
            scheduler.step()
        lrs[i] = scheduler.get_last_lr()
    return lrs, type(scheduler).__name__


def _dummy_optimizer(groups: list[dict], defaults: dict) -> Optimizer:
    """An optimizer of one scalar parameter per group, with the groups' hyperparameters."""
    return Optimizer(
        [{**group, "params": [Tensor(np.zeros(1, np.float32))]} for group in groups], defaults
    )


def _copy_onto_dummy(scheduler: LRScheduler) -> LRScheduler:
    """A deep copy of `scheduler` (and of the schedulers it holds) whose optimizer is a dummy."""
    real = scheduler.optimizer
    groups = [{k: v for k, v in g.items() if k != "params"} for g in real.param_groups]
    dummy = _dummy_optimizer(groups, real.defaults)
    # the memo maps the real optimizer to the dummy wherever the copy would reach it
    return copy.deepcopy(scheduler, {id(real): dummy})


def plot_schedule(
    schedules: Schedule | list[Schedule] | Mapping[str, Schedule],
    steps: int,
    path=None,
    *,
    lr: float = 0.1,
    xlabel: str = "epoch",
    log: bool = False,
    title: str | None = None,
):
    """Plot the lr of one or several schedules over `steps` steps; save it when `path` is given.

    Parameters
    ----------
    schedules : scheduler, factory, list of them, or dict label -> one of them
        See `schedule_values`; a list is labelled by class name. A scheduler of several param
        groups draws one line per group.
    steps : int
        Points per line (epochs, or batches for OneCycleLR), >= 0.
    path : str or path-like, optional
        Where to write the image (its format from the suffix: .png, .svg, .pdf).
    lr : float
        The base lr of the factories' throwaway optimizer.
    xlabel : str
        "epoch", or "step" for the per-batch schedules.
    log : bool
        A log lr axis (exponential decay is then a straight line).
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
        One Axes with one line per schedule and group; the lr holds for a whole step, so each
        line is drawn as a staircase.

    Raises
    ------
    ImportError
        matplotlib is not installed (`pip install autodiff[plot]`).
    TypeError, ValueError
        As `schedule_values`, before anything is drawn.

    Example
    -------
    The staircase and the 1cycle policy over 40 batches, on a log axis:

        fig = plot_schedule(
            [lambda opt: StepLR(opt, 10), lambda opt: OneCycleLR(opt, 1.0, total_steps=40)],
            steps=40,
            log=True,
            xlabel="step",
        )
        fig.savefig("schedules.svg")
    """
    if isinstance(schedules, Mapping):
        items = list(schedules.items())
    elif isinstance(schedules, list | tuple):
        items = [(None, s) for s in schedules]
    else:
        items = [(None, schedules)]
    lines = []
    for label, schedule in items:
        lrs, name = schedule_values(schedule, steps, lr)
        lines.append((label or name, lrs))
    from matplotlib.figure import Figure

    # a Figure of its own, not pyplot's: no global state, no backend chosen for the caller
    fig = Figure(figsize=(7, 4), layout="tight")
    ax = fig.subplots()
    for label, lrs in lines:
        for g in range(lrs.shape[1]):
            name = label if lrs.shape[1] == 1 else f"{label} (group {g})"
            ax.plot(np.arange(steps), lrs[:, g], drawstyle="steps-post", label=name)
    ax.set(xlabel=xlabel, ylabel="learning rate", yscale="log" if log else "linear")
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    if path is not None:
        fig.savefig(path, dpi=100)
    return fig
