"""`LRScheduler`: the base class of the schedules that set each group's 'lr' from an epoch count.

Every schedule derived from it is a closed form lr(base_lr, epoch), where base_lr is the group's
lr when the first scheduler was created (kept in the group as 'initial_lr'). PyTorch computes
most of them recursively from the current lr; both give the same numbers (to rounding) as long as
nothing else changes the lr. A scheduler owns its groups' 'lr': two schedules are combined one
after the other with `SequentialLR`, not by stepping both.
"""

from optim.optimizer import Optimizer, to_python


def check_optimizer(optimizer) -> None:
    """Raise TypeError unless `optimizer` is an Optimizer."""
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
        check_optimizer(optimizer)
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
        self._set_lrs()

    def _set_lrs(self) -> None:
        """Set every group's lr to `get_lr()` of the current epoch, and remember them."""
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
