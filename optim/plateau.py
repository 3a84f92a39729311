"""`ReduceLROnPlateau`: lower the learning rate when a monitored metric stops improving."""

import math

from autodiff.tensor import Tensor
from optim.optimizer import Optimizer, require
from optim.scheduler import LRScheduler, check_optimizer, per_group


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

    _per_group = ("min_lrs", "_last_lr")

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
        check_optimizer(optimizer)
        for ok, key, value, rule in [
            (mode in ("min", "max"), "mode", mode, "'min' or 'max'"),
            (threshold_mode in ("rel", "abs"), "threshold_mode", threshold_mode, "'rel' or 'abs'"),
            (0 <= factor < 1, "factor", factor, "in [0, 1)"),
            (patience >= 0, "patience", patience, ">= 0"),
            (cooldown >= 0, "cooldown", cooldown, ">= 0"),
            (threshold >= 0, "threshold", threshold, ">= 0"),
        ]:
            require(ok, "ReduceLROnPlateau", key, value, rule)
        self.min_lrs = per_group("ReduceLROnPlateau", "min_lr", min_lr, optimizer)
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
