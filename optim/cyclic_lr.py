"""Schedules stepped per batch or restarted in cycles: `OneCycleLR`, `CosineAnnealingWarmRestarts`.

scheduler = OneCycleLR(optimizer, max_lr=0.1, epochs=10, steps_per_epoch=len(loader))
for epoch in range(10):
    for xb, yb in loader:
        ...
        optimizer.step()
        scheduler.step()                  # after every batch
"""

import math

from optim.optimizer import require
from optim.scheduler import LRScheduler, check_optimizer, per_group


def _anneal(strategy: str, start: float, end: float, pct: float) -> float:
    """The value a fraction `pct` of the way from `start` to `end` (half cosine or line)."""
    if strategy == "cos":
        return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
    return (end - start) * pct + start


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith and Topin, "Super-Convergence"), as `torch.optim.lr_scheduler.
    OneCycleLR`: step it after every batch.

    Over total_steps steps, with initial_lr = max_lr / div_factor and min_lr = initial_lr /
    final_div_factor:

    1. steps 0 .. pct_start * total_steps - 1: lr anneals from initial_lr up to max_lr, and the
       momentum from max_momentum down to base_momentum;
    2. then to the last step, total_steps - 1: lr anneals down to min_lr, momentum back up to
       max_momentum.

    With three_phase, phase 2 ends at 2 * pct_start * total_steps - 2 back at initial_lr (the
    momentum at max_momentum), and a third phase anneals from initial_lr to min_lr with the
    momentum held. Annealing follows a half cosine ("cos") or a line ("linear"). The momentum
    is the group's 'momentum' (SGD, RMSprop) or the first of its 'betas' (the Adam family).

    Parameters
    ----------
    optimizer : Optimizer
    max_lr : float or list of float
        The peak lr, for all groups or one per group.
    total_steps : int, optional
        Steps in the cycle, >= 1; else epochs * steps_per_epoch.
    epochs, steps_per_epoch : int, optional
        Used when total_steps is None; both >= 1.
    pct_start : float
        Fraction of the cycle spent raising the lr, a float in [0, 1].
    anneal_strategy : {'cos', 'linear'}
    cycle_momentum : bool
        Cycle the momentum inversely to the lr; the optimizer needs 'momentum' or 'betas'.
    base_momentum, max_momentum : float or list of float
        The momentum's range, for all groups or one per group.
    div_factor : float
        initial_lr = max_lr / div_factor.
    final_div_factor : float
        min_lr = initial_lr / final_div_factor.
    three_phase : bool
        Use the three-phase schedule above.
    last_epoch : int
        The number of the last step taken; -1 for a new schedule (see `LRScheduler`).

    Each group gains 'initial_lr', 'max_lr', 'min_lr' (and 'max_momentum', 'base_momentum'
    with cycle_momentum), as in PyTorch, so the optimizer's state dict carries them.

    Raises
    ------
    ValueError
        An argument out of range (named), or `step()` past total_steps.
    """

    def __init__(
        self,
        optimizer,
        max_lr: float | list[float],
        total_steps: int | None = None,
        epochs: int | None = None,
        steps_per_epoch: int | None = None,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        cycle_momentum: bool = True,
        base_momentum: float | list[float] = 0.85,
        max_momentum: float | list[float] = 0.95,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
        last_epoch: int = -1,
    ):
        check_optimizer(optimizer)
        name = "OneCycleLR"
        if total_steps is None:
            require(
                epochs is not None and steps_per_epoch is not None,
                name,
                "total_steps",
                total_steps,
                "given, or else epochs and steps_per_epoch",
            )
            for key, value in [("epochs", epochs), ("steps_per_epoch", steps_per_epoch)]:
                require(isinstance(value, int) and value >= 1, name, key, value, "an int >= 1")
            total_steps = epochs * steps_per_epoch
        require(
            isinstance(total_steps, int) and total_steps >= 1,
            name,
            "total_steps",
            total_steps,
            "an int >= 1",
        )
        require(
            isinstance(pct_start, float) and 0 <= pct_start <= 1,
            name,
            "pct_start",
            pct_start,
            "a float in [0, 1]",
        )
        require(
            anneal_strategy in ("cos", "linear"),
            name,
            "anneal_strategy",
            anneal_strategy,
            "'cos' or 'linear'",
        )
        use_beta1 = "betas" in optimizer.defaults
        require(
            not cycle_momentum or use_beta1 or "momentum" in optimizer.defaults,
            name,
            "cycle_momentum",
            cycle_momentum,
            f"False for {type(optimizer).__name__}, which has neither momentum nor betas",
        )
        max_lrs = per_group(name, "max_lr", max_lr, optimizer)
        max_momentums = per_group(name, "max_momentum", max_momentum, optimizer)
        base_momentums = per_group(name, "base_momentum", base_momentum, optimizer)
        self.total_steps = total_steps
        self.anneal_strategy = anneal_strategy
        self.cycle_momentum = cycle_momentum
        self.use_beta1 = use_beta1
        self.pct_start = pct_start
        self.three_phase = three_phase
        if last_epoch == -1:
            for group, peak, high, low in zip(
                optimizer.param_groups, max_lrs, max_momentums, base_momentums, strict=True
            ):
                group["initial_lr"] = peak / div_factor
                group["max_lr"] = peak
                group["min_lr"] = group["initial_lr"] / final_div_factor
                if cycle_momentum:
                    group["max_momentum"] = high
                    group["base_momentum"] = low
                    self._set_momentum(group, high)
        super().__init__(optimizer, last_epoch)

    def _phases(self) -> list[tuple]:
        """Each phase's last step and the group keys of its lr and momentum at start and end."""
        up = self.pct_start * self.total_steps - 1
        last = self.total_steps - 1
        if self.three_phase:
            return [
                (up, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                (
                    2 * self.pct_start * self.total_steps - 2,
                    "max_lr",
                    "initial_lr",
                    "base_momentum",
                    "max_momentum",
                ),
                (last, "initial_lr", "min_lr", "max_momentum", "max_momentum"),
            ]
        return [
            (up, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
            (last, "max_lr", "min_lr", "base_momentum", "max_momentum"),
        ]

    def _set_momentum(self, group: dict, momentum: float) -> None:
        if self.use_beta1:
            group["betas"] = (momentum, *group["betas"][1:])
        else:
            group["momentum"] = momentum

    def step(self) -> None:
        """Advance one batch; raises ValueError, changing nothing, past total_steps."""
        if self.last_epoch + 1 > self.total_steps:
            raise ValueError(
                f"OneCycleLR: tried to step {self.last_epoch + 1} times, but total_steps is "
                f"{self.total_steps}"
            )
        super().step()

    def _position(self) -> tuple[tuple, float]:
        """The phase that holds step `last_epoch`, and the fraction of it done there."""
        phases = self._phases()
        start = 0.0
        for phase in phases:
            end = phase[0]
            if self.last_epoch <= end or phase is phases[-1]:
                return phase, (self.last_epoch - start) / (end - start)
            start = end

    def get_lr(self):
        """The lr of step `last_epoch` for each group; sets the groups' momentum as it goes."""
        (_, lr_from, lr_to, momentum_from, momentum_to), pct = self._position()
        lrs = []
        for group in self.optimizer.param_groups:
            lrs.append(_anneal(self.anneal_strategy, group[lr_from], group[lr_to], pct))
            if self.cycle_momentum:
                momentum = _anneal(
                    self.anneal_strategy, group[momentum_from], group[momentum_to], pct
                )
                self._set_momentum(group, momentum)
        return lrs


class CosineAnnealingWarmRestarts(LRScheduler):
    """Cosine annealing restarted every cycle (SGDR, Loshchilov and Hutter), as PyTorch's.

    lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2, where T_cur counts
    epochs since the last restart and the i-th cycle lasts T_i = T_0 * T_mult**i epochs.

    `step()` advances one epoch; `step(epoch)` jumps to `epoch`, which may be fractional so that
    the lr moves within an epoch: call `scheduler.step(epoch + i / iters)` after batch i.

    Parameters
    ----------
    optimizer : Optimizer
    T_0 : int
        Epochs of the first cycle, an int >= 1.
    T_mult : int
        Each cycle is T_mult times longer than the previous, an int >= 1.
    eta_min : float
        The lowest learning rate.
    last_epoch : int
        See `LRScheduler`.
    """

    def __init__(
        self, optimizer, T_0: int, T_mult: int = 1, eta_min: float = 0.0, last_epoch: int = -1
    ):
        name = "CosineAnnealingWarmRestarts"
        require(isinstance(T_0, int) and T_0 >= 1, name, "T_0", T_0, "an int >= 1")
        require(isinstance(T_mult, int) and T_mult >= 1, name, "T_mult", T_mult, "an int >= 1")
        require(isinstance(eta_min, float | int), name, "eta_min", eta_min, "a number")
        self.T_0 = T_0
        self.T_i = T_0
        self.T_mult = T_mult
        self.eta_min = eta_min
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        cosine = (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
        return [self.eta_min + (base_lr - self.eta_min) * cosine for base_lr in self.base_lrs]

    def step(self, epoch: float | None = None) -> None:
        """Advance one epoch, or go to `epoch` (>= 0, may be fractional), and set the lrs."""
        if epoch is not None and epoch < 0:
            raise ValueError(f"{type(self).__name__}: epoch must be >= 0, got {epoch}")
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur += 1
            if self.T_cur >= self.T_i:
                self.T_cur %= self.T_i
                self.T_i *= self.T_mult
        elif epoch < self.T_0:
            self.T_i = self.T_0
            self.T_cur = epoch
        elif self.T_mult == 1:
            self.T_cur = epoch % self.T_0
        else:
            # the cycle n that holds epoch: T_0 * (T_mult**n - 1) / (T_mult - 1) <= epoch
            n = int(math.log(epoch / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
            self.T_cur = epoch - self.T_0 * (self.T_mult**n - 1) / (self.T_mult - 1)
            self.T_i = self.T_0 * self.T_mult**n
        self.last_epoch = math.floor(epoch)
        self._set_lrs()
