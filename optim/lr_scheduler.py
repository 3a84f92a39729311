"""Learning-rate schedules, as `torch.optim.lr_scheduler`: set each parameter group's 'lr' as a
function of the epoch (or, for OneCycleLR and CosineAnnealingWarmRestarts, of the batch).

    scheduler = StepLR(optimizer, step_size=30, gamma=0.1)
    for epoch in range(100):
        train_one_epoch(model, optimizer)     # calls optimizer.step() per batch
        scheduler.step()                      # after the epoch: the lr of the next one

The epoch schedules are closed forms lr(base_lr, epoch) (see `optim.scheduler`); this module
holds them and `SequentialLR`, and is the one namespace of all schedulers, as PyTorch's.
"""

import bisect
import math
from collections.abc import Callable, Mapping

from optim.cyclic_lr import CosineAnnealingWarmRestarts, OneCycleLR
from optim.optimizer import Optimizer, require, to_python
from optim.plateau import ReduceLROnPlateau
from optim.scheduler import LRScheduler, check_optimizer

__all__ = [
    "ConstantLR", "CosineAnnealingLR", "CosineAnnealingWarmRestarts", "ExponentialLR",
    "InverseSqrtLR", "InverseTimeLR", "LRScheduler", "LambdaLR", "LinearLR", "MultiStepLR",
    "OneCycleLR", "PolynomialLR", "ReduceLROnPlateau", "SequentialLR", "StepLR",
]  # fmt: skip


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


class ConstantLR(LRScheduler):
    """Scale the lr by a constant factor for the first total_iters epochs, as PyTorch's.

    lr = base_lr * factor while epoch < total_iters, base_lr afterwards.

    Parameters
    ----------
    optimizer : Optimizer
    factor : float
        The scale of the first epochs, in [0, 1].
    total_iters : int
        How many epochs are scaled, >= 0.
    last_epoch : int
        See `LRScheduler`.
    """

    def __init__(
        self, optimizer, factor: float = 1.0 / 3, total_iters: int = 5, last_epoch: int = -1
    ):
        require(0 <= factor <= 1, "ConstantLR", "factor", factor, "in [0, 1]")
        require(total_iters >= 0, "ConstantLR", "total_iters", total_iters, ">= 0")
        self.factor = factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        factor = 1.0 if self.last_epoch >= self.total_iters else self.factor
        return [base_lr * factor for base_lr in self.base_lrs]


class LinearLR(LRScheduler):
    """Change the lr linearly from start_factor * base_lr to end_factor * base_lr over
    total_iters epochs, then hold it (a warm-up with the defaults), as PyTorch's.

    lr = base_lr * (start_factor + (end_factor - start_factor) * min(epoch, total_iters)
    / total_iters).

    Parameters
    ----------
    optimizer : Optimizer
    start_factor : float
        The scale at epoch 0, in (0, 1].
    end_factor : float
        The scale from epoch total_iters on, in [0, 1].
    total_iters : int
        Epochs of the ramp, >= 1.
    last_epoch : int
        See `LRScheduler`.
    """

    def __init__(
        self,
        optimizer,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
        last_epoch: int = -1,
    ):
        require(0 < start_factor <= 1, "LinearLR", "start_factor", start_factor, "in (0, 1]")
        require(0 <= end_factor <= 1, "LinearLR", "end_factor", end_factor, "in [0, 1]")
        require(total_iters >= 1, "LinearLR", "total_iters", total_iters, ">= 1")
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        progress = min(self.total_iters, self.last_epoch) / self.total_iters
        factor = self.start_factor + (self.end_factor - self.start_factor) * progress
        return [base_lr * factor for base_lr in self.base_lrs]


class PolynomialLR(LRScheduler):
    """Decay the lr to zero along a polynomial over total_iters epochs, as PyTorch's.

    lr = base_lr * (1 - min(epoch, total_iters) / total_iters) ** power.

    Parameters
    ----------
    optimizer : Optimizer
    total_iters : int
        Epochs until the lr reaches zero, >= 1.
    power : float
        The polynomial's degree; 1 decays linearly.
    last_epoch : int
        See `LRScheduler`.
    """

    def __init__(self, optimizer, total_iters: int = 5, power: float = 1.0, last_epoch: int = -1):
        require(total_iters >= 1, "PolynomialLR", "total_iters", total_iters, ">= 1")
        self.total_iters = total_iters
        self.power = power
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        factor = (1.0 - min(self.total_iters, self.last_epoch) / self.total_iters) ** self.power
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


class SequentialLR(LRScheduler):
    """Run schedulers one after the other, switching at the milestones, as PyTorch's.

    Scheduler i sets the lr from epoch milestones[i - 1] on, starting over at its own epoch 0
    there; `step()` steps only the scheduler in charge. A warm-up then a decay:

        warmup = LinearLR(optimizer, start_factor=0.1, total_iters=5)
        decay = CosineAnnealingLR(optimizer, T_max=95)
        scheduler = SequentialLR(optimizer, [warmup, decay], milestones=[5])

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer every scheduler was built on.
    schedulers : list of LRScheduler
        At least one; not `ReduceLROnPlateau`, whose `step` needs a metric.
    milestones : list of int
        Epochs at which the next scheduler takes over, one fewer than `schedulers`.
    last_epoch : int
        The epoch before the first `step()`; -1 for a new schedule.

    Construction rewinds the schedulers (each stepped once when it was built) and sets the lr
    of epoch 0 from the first. `state_dict()` holds the schedulers' state dicts.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        schedulers: list[LRScheduler],
        milestones: list[int],
        last_epoch: int = -1,
    ):
        check_optimizer(optimizer)
        require(len(schedulers) >= 1, "SequentialLR", "schedulers", schedulers, "non-empty")
        for i, scheduler in enumerate(schedulers):
            require(
                isinstance(scheduler, LRScheduler)
                and not isinstance(scheduler, ReduceLROnPlateau)
                and scheduler.optimizer is optimizer,
                "SequentialLR",
                f"schedulers[{i}]",
                scheduler,
                "an epoch scheduler (not ReduceLROnPlateau) of the same optimizer",
            )
        milestones = list(milestones)
        require(
            len(milestones) == len(schedulers) - 1,
            "SequentialLR",
            "milestones",
            milestones,
            f"one fewer than the schedulers ({len(schedulers) - 1})",
        )
        self.optimizer = optimizer
        self._schedulers = list(schedulers)
        self._milestones = milestones
        self.last_epoch = last_epoch + 1
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        for scheduler in self._schedulers:
            _rewind(scheduler)
        first = self._schedulers[bisect.bisect_right(milestones, 0)]
        first.step()
        self._last_lr = first.get_last_lr()

    def step(self) -> None:
        """Advance one epoch: step the scheduler in charge, restarting it at its milestone."""
        self.last_epoch += 1
        i = bisect.bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[i]
        if i > 0 and self._milestones[i - 1] == self.last_epoch:
            scheduler.last_epoch = -1  # its epoch 0 is this milestone
        scheduler.step()
        self._last_lr = scheduler.get_last_lr()

    def state_dict(self) -> dict:
        """The counters, and each scheduler's state dict under '_schedulers'."""
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "_schedulers")}
        state["_schedulers"] = [scheduler.state_dict() for scheduler in self._schedulers]
        return state

    def _checked_state(self, state_dict):
        """Also the schedulers' states, all checked before any is loaded."""
        if not isinstance(state_dict, Mapping):
            return super()._checked_state(state_dict)
        state = dict(state_dict)
        saved = to_python(state.pop("_schedulers", [{}] * len(self._schedulers)))
        if not isinstance(saved, list | tuple) or len(saved) != len(self._schedulers):
            raise ValueError(
                f"SequentialLR.load_state_dict: '_schedulers' must hold {len(self._schedulers)} "
                f"state dicts, got {saved!r}"
            )
        inner = [pair for s, d in zip(self._schedulers, saved) for pair in s._checked_state(d)]
        return inner + super()._checked_state(state)


def _rewind(scheduler: LRScheduler) -> None:
    """Undo the step a scheduler took when it was built (in every scheduler it holds)."""
    if isinstance(scheduler, SequentialLR):
        for inner in scheduler._schedulers:
            _rewind(inner)
    else:
        scheduler.last_epoch -= 1
