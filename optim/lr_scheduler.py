"""Learning-rate schedules: set each parameter group's 'lr' as a function of the epoch.

    scheduler = StepLR(optimizer, step_size=30, gamma=0.1)
    for epoch in range(100):
        train_one_epoch(model, optimizer)     # calls optimizer.step() per batch
        scheduler.step()                      # after the epoch: the lr of the next one

Every schedule here except `ReduceLROnPlateau` is a closed form lr(base_lr, epoch), where
base_lr is the group's lr when the scheduler was created. PyTorch computes most of them
recursively from the current lr; both give the same numbers (to rounding) as long as nothing
else changes the lr, and only the recursive form composes with other schedulers, which these
do not: a scheduler owns its groups' 'lr'.
"""

import bisect
import math
from collections.abc import Callable

from autodiff.tensor import Tensor
from optim.optimizer import Optimizer, require, to_python

__all__ = [
    "CosineAnnealingLR", "ExponentialLR", "InverseSqrtLR", "InverseTimeLR", "LRScheduler",
    "LambdaLR", "MultiStepLR", "ReduceLROnPlateau", "StepLR",
]  # fmt: skip


def _check_optimizer(optimizer):
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"a scheduler needs an Optimizer, got {type(optimizer).__name__}")


class LRScheduler:
    """Base class of the epoch-indexed schedules.

    Parameters
    ----------
    optimizer : Optimizer
        Its groups' 'lr' are set on construction (epoch 0) and at every `step()`.
    last_epoch : int
        -1 for a new schedule. To resume at a later epoch, the groups must hold 'initial_lr'
        (added by the first scheduler, and saved in the optimizer's state dict).

    Attributes
    ----------
    base_lrs : list of float
        Each group's lr at epoch 0.
    last_epoch : int
        The epoch whose learning rates the groups hold.

    Subclasses implement `get_lr`.
    """

    _not_state = ("optimizer",)

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        _check_optimizer(optimizer)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        for i, group in enumerate(optimizer.param_groups):
            if "initial_lr" not in group:
                raise KeyError(
                    f"{type(self).__name__}: resuming at last_epoch={last_epoch} needs "
                    f"'initial_lr' in param_groups[{i}]; load the optimizer's state dict first"
                )
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self.step()

    def get_lr(self) -> list[float]:
        """The learning rate of each group at epoch `last_epoch`."""
        raise NotImplementedError

    def step(self) -> None:
        """Advance one epoch and set every group's lr for it (call after the epoch's training)."""
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr(), strict=True):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The learning rates the last `step()` (or the constructor) set, one per group."""
        return list(self._last_lr)

    def state_dict(self) -> dict:
        """Every attribute but the optimizer (and LambdaLR's functions: code, not state)."""
        return {k: v for k, v in self.__dict__.items() if k not in self._not_state}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore a state saved by `state_dict`; numbers may come back as 0-d arrays."""
        self.__dict__.update((k, to_python(v)) for k, v in state_dict.items())


class StepLR(LRScheduler):
    """Decay the lr by gamma every step_size epochs: lr = base_lr * gamma ** (epoch // step_size).

    Parameters
    ----------
    optimizer : Optimizer
    step_size : int
        Epochs between decays, >= 1.
    gamma : float
        Multiplicative factor of each decay.
    last_epoch : int
        See `LRScheduler`.
    """

    def __init__(self, optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1):
        require(step_size >= 1, "StepLR", "step_size", step_size, ">= 1")
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        factor = self.gamma ** (self.last_epoch // self.step_size)
        return [base_lr * factor for base_lr in self.base_lrs]


class MultiStepLR(LRScheduler):
    """Decay the lr by gamma at each milestone: lr = base_lr * gamma ** (milestones passed).

    Parameters
    ----------
    optimizer : Optimizer
    milestones : iterable of int
        Epochs at which to decay; a milestone listed twice decays twice.
    gamma : float
        Multiplicative factor of each decay.
    last_epoch : int
        See `LRScheduler`.
    """

    def __init__(self, optimizer, milestones, gamma: float = 0.1, last_epoch: int = -1):
        self.milestones = sorted(milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        factor = self.gamma ** bisect.bisect_right(self.milestones, self.last_epoch)
        return [base_lr * factor for base_lr in self.base_lrs]


class ExponentialLR(LRScheduler):
    """Decay the lr by gamma every epoch: lr = base_lr * gamma ** epoch.

    The course's exponential decay, alpha = 0.95 ** epoch * alpha0, is gamma=0.95.
    """

    def __init__(self, optimizer, gamma: float, last_epoch: int = -1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [base_lr * self.gamma**self.last_epoch for base_lr in self.base_lrs]


class InverseTimeLR(LRScheduler):
    """The course's decay: lr = base_lr / (1 + decay_rate * (epoch // step_size)).

    Parameters
    ----------
    optimizer : Optimizer
    decay_rate : float
        >= 0; with base_lr 0.2 and decay_rate 1 the lr is 0.2, 0.1, 0.067, 0.05, ...
    step_size : int
        Decay only every step_size epochs (the course's "fixed interval scheduling", a
        staircase); 1 decays every epoch.
    last_epoch : int
        See `LRScheduler`.
    """

    def __init__(self, optimizer, decay_rate: float, step_size: int = 1, last_epoch: int = -1):
        require(decay_rate >= 0, "InverseTimeLR", "decay_rate", decay_rate, ">= 0")
        require(step_size >= 1, "InverseTimeLR", "step_size", step_size, ">= 1")
        self.decay_rate = decay_rate
        self.step_size = step_size
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        factor = 1 / (1 + self.decay_rate * (self.last_epoch // self.step_size))
        return [base_lr * factor for base_lr in self.base_lrs]


class InverseSqrtLR(LRScheduler):
    """The course's k / sqrt(t) decay: lr = base_lr / sqrt(epoch + 1).

    The course writes alpha = k / sqrt(t) * alpha0 with t counting epochs from 1; here t is
    epoch + 1 and base_lr plays k * alpha0. The same with `LambdaLR`:
    `LambdaLR(optimizer, lambda epoch: 1 / math.sqrt(epoch + 1))`.
    """

    def get_lr(self):
        return [base_lr / math.sqrt(self.last_epoch + 1) for base_lr in self.base_lrs]


class LambdaLR(LRScheduler):
    """lr = base_lr * lr_lambda(epoch), with any function of the epoch.

    Parameters
    ----------
    optimizer : Optimizer
    lr_lambda : callable or list of callable
        epoch -> factor; or one such function per parameter group.
    last_epoch : int
        See `LRScheduler`.

    The functions are not part of `state_dict()`; they come from the constructor.
    """

    _not_state = ("optimizer", "lr_lambdas")

    def __init__(
        self, optimizer, lr_lambda: Callable | list[Callable], last_epoch: int = -1
    ) -> None:
        n = len(optimizer.param_groups)
        if isinstance(lr_lambda, list | tuple):
            require(len(lr_lambda) == n, "LambdaLR", "lr_lambda", lr_lambda, f"{n} functions")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * n
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [
            base_lr * fn(self.last_epoch)
            for fn, base_lr in zip(self.lr_lambdas, self.base_lrs, strict=True)
        ]


class CosineAnnealingLR(LRScheduler):
    """Anneal the lr from base_lr to eta_min along half a cosine over T_max epochs.

    lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2; past T_max it
    rises again, with period 2 * T_max, as PyTorch's does.

    Parameters
    ----------
    optimizer : Optimizer
    T_max : int
        Epochs from base_lr to eta_min, >= 1.
    eta_min : float
        The lowest learning rate.
    last_epoch : int
        See `LRScheduler`.
    """

    def __init__(self, optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1):
        require(T_max >= 1, "CosineAnnealingLR", "T_max", T_max, ">= 1")
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        cosine = (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
        return [self.eta_min + (base_lr - self.eta_min) * cosine for base_lr in self.base_lrs]


class ReduceLROnPlateau(LRScheduler):
    """Multiply the lr by factor when a metric has stopped improving, as PyTorch's.

    `step(metric)` after each evaluation. A metric is an improvement when it beats the best
    so far by the threshold: best * (1 - threshold) in 'min' mode with 'rel' threshold_mode,
    best - threshold with 'abs' (and the mirror images in 'max' mode). After more than
    `patience` epochs in a row without improvement, every group's lr becomes
    max(lr * factor, min_lr), and counting pauses for `cooldown` epochs.

    Parameters
    ----------
    optimizer : Optimizer
    mode : {'min', 'max'}
        Whether the metric should decrease (a loss) or increase (an accuracy).
    factor : float
        Multiplies the lr at each reduction, in [0, 1).
    patience : int
        Epochs without improvement tolerated before a reduction, >= 0.
    threshold : float
        How much better counts as better, >= 0.
    threshold_mode : {'rel', 'abs'}
        Threshold relative to the best value, or absolute.
    cooldown : int
        Epochs to wait after a reduction before counting bad epochs again, >= 0.
    min_lr : float or list of float
        Lower bound of the lr, for all groups or one per group.
    eps : float
        Reductions smaller than this are skipped.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float | list[float] = 0.0,
        eps: float = 1e-8,
    ):
        _check_optimizer(optimizer)
        for ok, key, value, rule in [
            (mode in ("min", "max"), "mode", mode, "'min' or 'max'"),
            (threshold_mode in ("rel", "abs"), "threshold_mode", threshold_mode, "'rel' or 'abs'"),
            (0 <= factor < 1, "factor", factor, "in [0, 1)"),
            (patience >= 0, "patience", patience, ">= 0"),
            (cooldown >= 0, "cooldown", cooldown, ">= 0"),
            (threshold >= 0, "threshold", threshold, ">= 0"),
        ]:
            require(ok, "ReduceLROnPlateau", key, value, rule)
        n = len(optimizer.param_groups)
        if isinstance(min_lr, list | tuple):
            require(len(min_lr) == n, "ReduceLROnPlateau", "min_lr", min_lr, f"one per group ({n})")
            self.min_lrs = list(min_lr)
        else:
            self.min_lrs = [min_lr] * n
        self.optimizer = optimizer
        self.mode = mode
        self.factor = factor
        self.patience = patience
        self.threshold = threshold
        self.threshold_mode = threshold_mode
        self.cooldown = cooldown
        self.eps = eps
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self.last_epoch = 0
        self._last_lr = [group["lr"] for group in optimizer.param_groups]

    def is_better(self, metric: float) -> bool:
        """Whether `metric` beats the best value so far by the threshold (PyTorch's rule)."""
        sign = 1 if self.mode == "min" else -1
        if self.threshold_mode == "rel":
            bound = self.best * (1 - sign * self.threshold)
        else:
            bound = self.best - sign * self.threshold
        return sign * metric < sign * bound

    def step(self, metric) -> None:
        """Record this epoch's metric (a number or a one-element tensor), reducing lr if due."""
        metric = metric.item() if isinstance(metric, Tensor) else float(metric)
        self.last_epoch += 1
        if self.is_better(metric):
            self.best = metric
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs, strict=True):
                new_lr = max(group["lr"] * self.factor, min_lr)
                if group["lr"] - new_lr > self.eps:
                    group["lr"] = new_lr
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]
