"""`Optimizer`: the base class that owns parameter groups, per-parameter state and the step loop.

An algorithm is a subclass that declares its defaults, creates a parameter's state on its first
step (`_init_state`) and hands the arrays to one pure update function (`_update`); everything else
(grouping, validation, skipping frozen parameters, `no_grad`, state dicts) lives here once.
"""

from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from numbers import Real

import numpy as np

from autodiff.engine import enable_grad, no_grad
from autodiff.tensor import Tensor


def require(ok: bool, owner: str, name: str, value, rule: str) -> None:
    """Raise ValueError naming the hyperparameter `name` of `owner` unless `ok`."""
    if not ok:
        raise ValueError(f"{owner}: {name} must be {rule}, got {value!r}")


def update_direction(param, grad, weight_decay, maximize, lr=0.0, decoupled=False):
    """The gradient an update step follows: `grad` negated when maximizing, plus the L2 term
    `weight_decay * param`; with `decoupled` weight decay (AdamW), `param` instead shrinks by the
    factor `1 - lr * weight_decay`, in place. `grad` itself is never modified."""
    g = -grad if maximize else grad
    if weight_decay and decoupled:
        param *= 1 - lr * weight_decay
    elif weight_decay:
        g = g + weight_decay * param
    return g


def to_python(value):
    """`value` with numpy scalars and 0-d arrays as Python numbers (also inside lists, tuples
    and arrays, which become lists).

    Python floats are weak under NEP 50 (`float32_array * 0.9` stays float32) while
    `np.float64` scalars are not, so hyperparameters reach the update maths as Python numbers.
    It also undoes what an npz round trip does to a state dict (numbers come back as 0-d arrays).
    """
    if isinstance(value, np.generic) or (isinstance(value, np.ndarray) and value.ndim == 0):
        return value.item()
    if isinstance(value, tuple):
        return tuple(to_python(v) for v in value)
    if isinstance(value, list | np.ndarray):
        return [to_python(v) for v in value]
    return value


class ParamState(MutableMapping):
    """Per-parameter state dicts keyed by the parameter object itself.

    `Tensor.__eq__` is elementwise, so the mapping compares keys by identity. As PyTorch's
    `defaultdict(dict)`, `state[p]` for a parameter without state inserts and returns `{}`.
    """

    def __init__(self, items: Iterable = ()):
        self._items = {}  # id(p) -> (p, state); holding p keeps its id from being reused
        for p, state in items:
            self[p] = state

    def __getitem__(self, p) -> dict:
        entry = self._items.get(id(p))
        if entry is None:
            entry = self._items[id(p)] = (p, {})
        return entry[1]

    def __setitem__(self, p, state: dict):
        self._items[id(p)] = (p, state)

    def __delitem__(self, p):
        del self._items[id(p)]

    def __contains__(self, p) -> bool:
        return id(p) in self._items

    def __iter__(self) -> Iterator:
        return (p for p, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def get(self, p, default=None):
        entry = self._items.get(id(p))
        return default if entry is None else entry[1]

    def __reduce__(self):
        # ids change when copied or unpickled: rebuild from the (parameter, state) pairs
        return ParamState, (list(self.items()),)


class Optimizer:
    """Base class of the optimizers: parameter groups, state, `step`, `zero_grad`, state dicts.

    Parameters
    ----------
    params : iterable of Tensor, or iterable of dict
        The tensors to optimize, or parameter groups: dicts with a 'params' entry (a Tensor or an
        iterable of Tensors) and any hyperparameters that differ from `defaults` for that group.
    defaults : dict
        Every hyperparameter of the algorithm with its value for groups that do not set it.

    Attributes
    ----------
    param_groups : list of dict
        One dict per group: 'params' (list of Tensor) and the group's hyperparameters, which may
        be changed between steps (a scheduler sets 'lr').
    state : ParamState
        `state[p]` is the dict of arrays and counters kept for parameter `p`, created on its first
        step; arrays have the parameter's shape and dtype.

    Raises
    ------
    TypeError
        `params` is a single Tensor, or holds something other than Tensors.
    ValueError
        No parameters, a non-leaf tensor, a tensor given twice, or a hyperparameter out of range
        (the message names it).

    Subclasses set `defaults`, list in `_non_negative` the hyperparameters that must be >= 0 (and
    extend `_validate` for other rules; 'betas' is checked wherever present), list in
    `_scalar_state` the state entries that are numbers rather than arrays shaped like the
    parameter, and implement `_init_state` and `_update`.
    """

    _non_negative: tuple = ()
    _scalar_state: tuple = ("step",)

    def __init__(self, params, defaults: dict):
        if isinstance(params, Tensor):
            raise TypeError(
                f"{type(self).__name__}: params must be an iterable of Tensors or of dicts, got "
                f"a single Tensor of shape {params.shape}; wrap it in a list"
            )
        self.defaults = dict(defaults)
        self.param_groups = []
        self.state = ParamState()
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters with its own hyperparameters (defaults fill the rest).

        Useful to train a new head at a higher learning rate than the layers below it, or to
        start optimizing layers that were frozen.

        Raises
        ------
        TypeError, ValueError
            As for the constructor; also when a tensor is already in another group.
        """
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}: a parameter group must be a dict, got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, set):
            raise TypeError(f"{name}: parameters must be an ordered collection, not a set")
        params = [params] if isinstance(params, Tensor) else list(params)
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}: can only optimize Tensors, parameter {i} is {type(p)}")
            if not p.is_leaf:
                raise ValueError(
                    f"{name}: can only optimize leaf tensors, parameter {i} (shape {p.shape}) "
                    f"is the result of {p.grad_fn.name}"
                )
        ids = {id(p) for p in params}
        if len(ids) != len(params):
            raise ValueError(f"{name}: a parameter group holds the same tensor twice")
        if any(id(p) in ids for group in self.param_groups for p in group["params"]):
            raise ValueError(f"{name}: some parameters appear in more than one parameter group")
        group = {"params": params, **self.defaults}
        group.update((k, v) for k, v in param_group.items() if k != "params")
        self._validate(group)
        self.param_groups.append(group)

    def _validate(self, group: dict) -> None:
        """Raise ValueError naming the first hyperparameter of `group` that is out of range.

        The ones in `_non_negative` must be >= 0, and 'betas', if the algorithm has them, a
        pair in [0, 1).
        """
        name = type(self).__name__
        group = {key: to_python(value) for key, value in group.items() if key != "params"}
        for key in self._non_negative:
            value = group[key]
            require(isinstance(value, Real) and value >= 0, name, key, value, ">= 0")
        if "betas" in group:
            betas = group["betas"]
            pair = isinstance(betas, tuple | list) and len(betas) == 2
            require(pair, name, "betas", betas, "a pair (beta1, beta2)")
            for i, beta in enumerate(betas):
                require(
                    isinstance(beta, Real) and 0 <= beta < 1, name, f"betas[{i}]", beta, "in [0, 1)"
                )

    def _init_state(self, param: np.ndarray, group: dict) -> dict:
        """The state of a parameter before its first update (arrays of its shape and dtype)."""
        return {}

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict, group: dict) -> None:
        """Update `param` and `state` in place from `grad`; `group` holds the hyperparameters."""
        raise NotImplementedError

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients of all parameters.

        Parameters
        ----------
        set_to_none : bool
            Set `.grad` to None (the default, as in PyTorch: no memory is touched, and `step`
            then skips the parameter until a backward fills it); otherwise fill it with zeros.
        """
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad.data.fill(0)

    def step(self, closure=None):
        """Update every parameter that requires grad and has a `.grad`, in place.

        Parameters that do not require grad or have no gradient are skipped: that is how frozen
        layers stay untouched. The update writes into `p.data`, so other references to the
        array see the new values, and keeps its dtype.

        Parameters
        ----------
        closure : callable, optional
            Re-evaluates the model and returns the loss (it should zero the grads and call
            backward); it runs with grad recording on, before the update.

        Returns
        -------
        The closure's loss, or None.

        Raises
        ------
        TypeError, ValueError
            A gradient that is not a float Tensor of its parameter's shape (no broadcasting), or
            a group's hyperparameter out of range (as the constructor checks): nothing is
            updated, since every group and gradient is checked before the first write.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        updates = self._checked_updates()
        with no_grad():
            for p, hyper in updates:
                state = self.state[p]
                if not state:
                    state.update(self._init_state(p.data, hyper))
                self._update(p.data, p.grad.data, state, hyper)
                p.mark_written()
        return loss

    def _checked_updates(self) -> list[tuple[Tensor, dict]]:
        """(parameter, its group's hyperparameters) for each parameter `step` updates, after
        checking every group and gradient."""
        name = type(self).__name__
        updates = []
        for i, group in enumerate(self.param_groups):
            missing = [key for key in self.defaults if key not in group]
            if missing:
                raise ValueError(f"{name}.step: param_groups[{i}] has no {missing}")
            hyper = {key: to_python(group[key]) for key in self.defaults}
            self._validate(hyper)
            for j, p in enumerate(group["params"]):
                g = p.grad
                if g is None or not p.requires_grad:
                    continue
                if not isinstance(g, Tensor) or g.dtype.kind != "f":
                    what = f"{g.dtype} Tensor" if isinstance(g, Tensor) else type(g).__name__
                    raise TypeError(
                        f"{name}.step: the gradient of parameter {j} of group {i} (shape "
                        f"{p.shape} {p.dtype}) is a {what}, not a float Tensor"
                    )
                if g.shape != p.shape:
                    raise ValueError(
                        f"{name}.step: the gradient of parameter {j} of group {i} has shape "
                        f"{g.shape} {g.dtype}, the parameter {p.shape} {p.dtype}"
                    )
                updates.append((p, hyper))
        return updates

    def state_dict(self) -> dict:
        """The optimizer's state as plain data, in PyTorch's layout.

        Returns
        -------
        dict
            'state': {index: {name: ndarray or number}} for the parameters that have state,
            where index is the parameter's position counting through all groups in order;
            'param_groups': list of the groups' hyperparameters, with 'params' the list of their
            parameters' indices. Arrays are copies, so the dict is a snapshot.
        """
        index = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {
            index[id(p)]: {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in s.items()}
            for p, s in self.state.items()
        }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore hyperparameters and state saved by `state_dict` (of an optimizer on
        parameters of the same shapes, grouped the same way).

        State arrays are copied and cast to their parameter's dtype. Indices may be ints or
        strings of digits, and numbers may be 0-d arrays, as a round trip through a file gives.
        A hyperparameter the saved group lacks keeps its current value.

        Raises
        ------
        ValueError
            The dict is not laid out as `state_dict` returns it, the number of groups or of
            parameters in a group differs, a hyperparameter is one the constructor refuses, or
            a parameter's state is not what this algorithm keeps (an unknown index, an entry
            missing, a number that is not one, an array not of its parameter's shape). Nothing
            is changed.
        """
        name = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, Mapping) or not {"state", "param_groups"} <= set(state_dict):
            got = list(state_dict) if isinstance(state_dict, Mapping) else type(state_dict).__name__
            raise ValueError(
                f"{name}: expected a dict with 'state' and 'param_groups', as state_dict() "
                f"returns, got {got}"
            )
        groups = self._loaded_groups(name, state_dict["param_groups"])
        by_index = {}
        for group, (indices, hyper) in zip(self.param_groups, groups):
            by_index.update(
                (_index(name, k), (p, group | hyper)) for k, p in zip(indices, group["params"])
            )
        if not isinstance(state_dict["state"], Mapping):
            raise ValueError(f"{name}: 'state' must be a dict, got {type(state_dict['state'])}")
        state = ParamState()
        for key, saved in state_dict["state"].items():
            index = _index(name, key)
            if index not in by_index:
                raise ValueError(
                    f"{name}: the state dict has state for parameter {key!r}, this optimizer has "
                    f"{len(by_index)} parameters (0 to {len(by_index) - 1})"
                )
            p, group = by_index[index]
            entry = self._loaded_state(name, key, p, group, saved)
            if entry:
                state[p] = entry
        self.param_groups = [group | hyper for group, (_, hyper) in zip(self.param_groups, groups)]
        self.state = state

    def _loaded_groups(self, name: str, saved_groups) -> list[tuple[list, dict]]:
        """(parameter indices, hyperparameters as Python numbers) of each saved group, checked
        as the constructor checks them and against this optimizer's grouping."""
        if not isinstance(saved_groups, list | tuple):
            raise ValueError(f"{name}: 'param_groups' must be a list, got {type(saved_groups)}")
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{name}: the state dict has {len(saved_groups)} parameter groups, this "
                f"optimizer has {len(self.param_groups)}"
            )
        groups = []
        for i, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            indices = to_python(saved.get("params")) if isinstance(saved, Mapping) else None
            if not isinstance(indices, list | tuple):
                raise ValueError(f"{name}: param_groups[{i}] is not a dict with a 'params' list")
            if len(indices) != len(group["params"]):
                raise ValueError(
                    f"{name}: group {i} has {len(indices)} parameters in the state dict and "
                    f"{len(group['params'])} in this optimizer"
                )
            hyper = {k: to_python(v) for k, v in saved.items() if k != "params"}
            try:
                self._validate(group | hyper)
            except ValueError as exc:
                raise ValueError(f"{name}: param_groups[{i}]: {exc}") from None
            groups.append((indices, hyper))
        return groups

    def _loaded_state(self, name: str, key, p: Tensor, group: dict, saved) -> dict:
        """The state of parameter `p` (saved under `key`) from its saved entry, checked against
        what `_init_state` creates; arrays copied to `p`'s dtype."""
        if not isinstance(saved, Mapping):
            raise ValueError(
                f"{name}: the state of parameter {key} must be a dict, got {type(saved).__name__}"
            )
        entry = {}
        # numbers are listed in _scalar_state; every other entry is an array shaped like p, or
        # None for one not created yet (as PyTorch saves SGD's momentum buffer without momentum)
        for k, v in saved.items():
            if v is None:
                continue
            if k in self._scalar_state:
                v = to_python(v)
                if not isinstance(v, Real):
                    raise ValueError(
                        f"{name}: state {k!r} of parameter {key} must be a number, got {v!r}"
                    )
            else:
                try:
                    v = np.array(v, dtype=p.dtype)
                except (TypeError, ValueError) as exc:
                    raise ValueError(
                        f"{name}: state {k!r} of parameter {key} is not an array: {exc}"
                    ) from None
                if v.shape != p.shape:
                    raise ValueError(
                        f"{name}: state {k!r} of parameter {key} has shape {v.shape}, the "
                        f"parameter has shape {p.shape}"
                    )
            entry[k] = v
        # the keys only: an empty stand-in, not a second full-size copy of the state
        expected = self._init_state(np.empty(0, p.dtype), group)
        missing = sorted(expected.keys() - entry.keys())
        if entry and missing:
            raise ValueError(
                f"{name}: the state of parameter {key} has no {missing}; {type(self).__name__} "
                f"with these hyperparameters keeps {sorted(expected)}"
            )
        return entry

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join([*lines, ")"])


def _index(where: str, key) -> int:
    """A parameter index of a state dict: an int, or a string of digits after a file round trip."""
    try:
        return int(key)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: {key!r} is not a parameter index") from None
