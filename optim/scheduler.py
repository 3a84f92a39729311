"""`LRScheduler`: the base class of the schedules that set each group's 'lr' from an epoch count.

Every schedule derived from it is a closed form lr(base_lr, epoch), where base_lr is the group's
lr when the first scheduler was created (kept in the group as 'initial_lr'). PyTorch computes
most of them recursively from the current lr; both give the same numbers (to rounding) as long as
nothing else changes the lr. A scheduler owns its groups' 'lr': two schedules are combined one
after the other with `SequentialLR`, not by stepping both.
"""

from collections.abc import Mapping
from numbers import Real

from optim.optimizer import Optimizer, require, to_python


def check_optimizer(optimizer) -> None:
    """Raise TypeError unless `optimizer` is an Optimizer."""
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"a scheduler needs an Optimizer, got {type(optimizer).__name__}")


def per_group(owner: str, name: str, value, optimizer) -> list:
    """`value` repeated for every parameter group, or checked to hold one entry per group."""
    n = len(optimizer.param_groups)
    if isinstance(value, list | tuple):
        require(len(value) == n, owner, name, value, f"a number or {n} numbers (one per group)")
        return list(value)
    return [value] * n


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
    _per_group = ("base_lrs", "_last_lr")  # state lists holding one value per parameter group

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
        """Restore a state saved by `state_dict`; numbers may come back as 0-d arrays, lists as
        arrays. An attribute the dict lacks keeps its current value.

        Raises
        ------
        ValueError
            A key that is not part of this scheduler's state, or a value unlike the current one
            (a number for a number, a string for a string, one value per parameter group in
            `base_lrs`); nothing is changed.
        """
        for scheduler, values in self._checked_state(state_dict):
            scheduler.__dict__.update(values)

    def _checked_state(self, state_dict) -> list[tuple["LRScheduler", dict]]:
        """(scheduler, attributes to set) pairs that load `state_dict`, all checked first."""
        name = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, Mapping):
            raise ValueError(f"{name}: expected a dict, got {type(state_dict).__name__}")
        own = self.state_dict()
        unexpected = [key for key in state_dict if key not in own]
        if unexpected:
            raise ValueError(
                f"{name}: {unexpected} are not part of this scheduler's state {sorted(own)}"
            )
        values = {key: to_python(value) for key, value in state_dict.items()}
        n_groups = len(self.optimizer.param_groups)
        for key, value in values.items():
            if not _alike(value, own[key]):
                raise ValueError(f"{name}: {key!r} is {value!r}, unlike its current {own[key]!r}")
            if key in self._per_group and len(value) != n_groups:
                raise ValueError(
                    f"{name}: {key!r} has {len(value)} values, the optimizer has {n_groups} "
                    "parameter groups"
                )
        return [(self, values)]


def _alike(value, current) -> bool:
    """Whether a loaded `value` can replace `current`: a number for a number (bools apart), a
    string for a string, a list of such for a list."""
    if isinstance(current, bool | str):
        return type(value) is type(current)
    if isinstance(current, Real):
        return isinstance(value, Real) and not isinstance(value, bool)
    if isinstance(current, list | tuple):
        if not isinstance(value, list | tuple):
            return False
        return not current or all(_alike(v, current[0]) for v in value)
    return True
