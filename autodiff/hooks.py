"""Hooks: `RemovableHandle`, the hooks a `Module` offers, and how module backward hooks work.

A tensor's gradient hooks (`Tensor.register_hook`) are run by the engine (autodiff/engine.py).
A module's forward hooks wrap its `forward`; its full backward hooks need the gradients with
respect to all its inputs (or outputs) at once: `_joined` makes them pieces of one tensor whose
gradient hook sees them together (PyTorch's `BackwardHook` uses a multi-output function).
"""

import functools
import itertools
import warnings
import weakref
from collections import OrderedDict

import numpy as np

from autodiff import ops
from autodiff.engine import is_grad_enabled
from autodiff.tensor import Tensor

_ids = itertools.count()


class RemovableHandle:
    """What registering a hook returns: `remove()` (or leaving a `with` block) unregisters it.

    Parameters
    ----------
    hooks_dict : OrderedDict
        Where the hook is registered, under `handle.id`; held weakly.
    extra_dict : OrderedDict or sequence of them, optional
        Other dicts keyed by the same id (a module's with_kwargs and always_call flags).
    """

    def __init__(self, hooks_dict: OrderedDict, *, extra_dict=None):
        self.id = next(_ids)
        if extra_dict is None:
            extra_dict = ()
        elif isinstance(extra_dict, dict):
            extra_dict = (extra_dict,)
        self._dicts = tuple(weakref.ref(d) for d in (hooks_dict, *extra_dict))

    def remove(self) -> None:
        """Unregister the hook; removing it again does nothing."""
        for ref in self._dicts:
            hooks = ref()
            if hooks is not None:
                hooks.pop(self.id, None)

    def __enter__(self) -> "RemovableHandle":
        return self

    def __exit__(self, *exc) -> None:
        self.remove()

    def __repr__(self):
        return f"<RemovableHandle id={self.id}>"


def _add(hooks: OrderedDict, hook, prepend=False, flags=()) -> RemovableHandle:
    """Register `hook` in `hooks` (first if `prepend`), flagged in each dict of `flags`."""
    if not callable(hook):
        raise TypeError(f"register hook: expected a callable, got {type(hook).__name__}")
    handle = RemovableHandle(hooks, extra_dict=[d for d, _ in flags])
    hooks[handle.id] = hook
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    for flag_dict, on in flags:
        if on:
            flag_dict[handle.id] = True
    return handle


_MODULE_HOOK_DICTS = (
    "_forward_pre_hooks",
    "_forward_pre_hooks_with_kwargs",
    "_forward_hooks",
    "_forward_hooks_with_kwargs",
    "_forward_hooks_always_called",
    "_backward_pre_hooks",
    "_backward_hooks",
)


class ModuleHooks:
    """Hook registration and calling for `nn.Module`, with PyTorch's signatures and order."""

    def _init_hooks(self) -> None:
        for name in _MODULE_HOOK_DICTS:
            object.__setattr__(self, name, OrderedDict())

    def register_forward_pre_hook(
        self, hook, *, prepend: bool = False, with_kwargs: bool = False
    ) -> RemovableHandle:
        """Call `hook(module, args)` before each forward; it returns None or new args (a
        single value is taken as a 1-tuple). With `with_kwargs=True`: `hook(module, args,
        kwargs)` returning None or `(args, kwargs)`. `prepend` runs it before the others."""
        flags = [(self._forward_pre_hooks_with_kwargs, with_kwargs)]
        return _add(self._forward_pre_hooks, hook, prepend, flags)

    def register_forward_hook(
        self,
        hook,
        *,
        prepend: bool = False,
        with_kwargs: bool = False,
        always_call: bool = False,
    ) -> RemovableHandle:
        """Call `hook(module, args, output)` after each forward; it returns None or a new
        output. With `with_kwargs=True`: `hook(module, args, kwargs, output)`. `always_call`
        also runs it (with output None) when forward raises; `prepend` runs it first."""
        flags = [
            (self._forward_hooks_with_kwargs, with_kwargs),
            (self._forward_hooks_always_called, always_call),
        ]
        return _add(self._forward_hooks, hook, prepend, flags)

    def register_full_backward_pre_hook(self, hook, *, prepend: bool = False) -> RemovableHandle:
        """Call `hook(module, grad_output)` once the gradients with respect to the module's
        outputs are computed; it returns None or a new grad_output (a tuple, one per output)."""
        return _add(self._backward_pre_hooks, hook, prepend)

    def register_full_backward_hook(self, hook, *, prepend: bool = False) -> RemovableHandle:
        """Call `hook(module, grad_input, grad_output)` once the gradients with respect to the
        module's inputs are computed; it returns None or a new grad_input.

        As in PyTorch, grad_input has one entry per positional argument of forward: the
        gradient for a tensor that requires grad, zeros for another tensor, None for anything
        else; grad_output has one per output (None where no gradient came). When no input
        requires grad, the hook is called as soon as grad_output is known, with grad_input all
        None. Outputs of a module with backward hooks are views: modifying one in place while
        grad is recorded raises.
        """
        return _add(self._backward_hooks, hook, prepend)

    def _call_with_hooks(self, args, kwargs):
        """`forward(*args, **kwargs)` with the hooks around it (PyTorch's `_call_impl`)."""
        result = None
        called = set()  # always-call forward hooks that already ran
        try:
            for hook_id, hook in tuple(self._forward_pre_hooks.items()):
                if hook_id in self._forward_pre_hooks_with_kwargs:
                    new = hook(self, args, kwargs)
                    if new is not None:
                        if not (isinstance(new, tuple) and len(new) == 2):
                            raise RuntimeError(
                                "forward pre-hook must return None or a tuple of (new_args, "
                                f"new_kwargs), but got {new}."
                            )
                        args, kwargs = new
                else:
                    new = hook(self, args)
                    if new is not None:
                        args = new if isinstance(new, tuple) else (new,)
            backward_hook = None
            if self._backward_hooks or self._backward_pre_hooks:
                backward_hook = _BackwardHook(self)
                args = backward_hook.setup_inputs(args)
            result = self.forward(*args, **kwargs)
            for hook_id, hook in tuple(self._forward_hooks.items()):
                if hook_id in self._forward_hooks_always_called:
                    called.add(hook_id)
                result = self._after_forward_hook(hook_id, hook, args, kwargs, result)
            if backward_hook is not None:
                result = backward_hook.setup_outputs(result)
            return result
        except Exception:
            for hook_id, hook in tuple(self._forward_hooks.items()):
                if hook_id not in self._forward_hooks_always_called or hook_id in called:
                    continue
                try:
                    result = self._after_forward_hook(hook_id, hook, args, kwargs, result)
                except Exception as e:  # the error from forward is the one to report
                    warnings.warn(
                        "module forward hook with ``always_call=True`` raised an exception that "
                        f"was silenced as another error was raised in forward: {e}",
                        stacklevel=2,
                    )
            raise

    def _after_forward_hook(self, hook_id, hook, args, kwargs, result):
        """The output after forward hook `hook` has seen (or replaced) `result`."""
        if hook_id in self._forward_hooks_with_kwargs:
            new = hook(self, args, kwargs, result)
        else:
            new = hook(self, args, result)
        return result if new is None else new


def _joined(values, on_gradients):
    """`values` (a tuple) with each tensor that requires grad replaced by a piece of one joined
    tensor, whose gradient hook calls `on_gradients(grads, reached)` with all their gradients.

    `grads` has an array per piece (zeros where no gradient came), `reached` says which pieces
    got one; `on_gradients` returns None or replacements (None or a Tensor each). The joined
    tensor and its pieces are ordinary ops (cat, slicing, reshape), so every node keeps an
    honest backward; the pieces are views, as PyTorch's are. Returns the new tuple and the
    positions joined (None when no graph is recorded).
    """
    positions = [i for i, v in enumerate(values) if isinstance(v, Tensor) and v.requires_grad]
    if not positions or not is_grad_enabled():
        return values, None
    joined = ops.cat([values[i].reshape(-1) for i in positions])
    layout = [(values[i].shape, values[i].dtype) for i in positions]  # not the tensors: memory
    ends = np.cumsum([values[i].numel() for i in positions])
    reached = [False] * len(positions)
    out = list(values)
    for k, (i, (shape, dtype)) in enumerate(zip(positions, layout)):
        piece = joined[ends[k] - values[i].numel() : ends[k]].reshape(shape)
        out[i] = piece if piece.dtype == dtype else piece.to(dtype)
        out[i].register_hook(functools.partial(_mark, reached, k))

    def hook(g):
        pieces = np.split(g.data, ends[:-1])
        grads = [p.reshape(shape).astype(dtype) for p, (shape, dtype) in zip(pieces, layout)]
        new = on_gradients(grads, reached)
        reached[:] = [False] * len(layout)  # for another backward through a retained graph
        if new is None:
            return None
        flat = [np.zeros_like(p) if n is None else n.data.reshape(-1) for n, p in zip(new, pieces)]
        return Tensor._wrap(np.concatenate(flat).astype(g.dtype, copy=False))

    joined.register_hook(hook)
    return tuple(out), positions


def _mark(reached, k, grad):
    """A piece's gradient hook: note that the gradient reached piece k."""
    reached[k] = True


def _layout(values):
    """(shape, dtype) of each tensor among `values`, None for the rest."""
    return tuple((v.shape, v.dtype) if isinstance(v, Tensor) else None for v in values)


class _BackwardHook:
    """One forward call's full backward hooks: grad_output is collected where the outputs are
    joined, grad_input where the inputs are (see `_joined`), and the hooks run at the second.

    As in PyTorch, grad_input has an entry per positional argument: the gradient for a tensor
    that requires grad, zeros for another tensor (and for an input the gradient does not
    reach), None for the rest, and None for all when no input requires grad; grad_output has
    the gradient per output, None where none.
    """

    def __init__(self, module):
        self.module = module
        self.hooks = tuple(module._backward_hooks.values())
        self.pre_hooks = tuple(module._backward_pre_hooks.values())
        self.inputs = self.input_positions = None
        self.outputs = self.output_positions = None
        self.grad_outputs = None  # set at the outputs' join, cleared at the inputs'

    def setup_inputs(self, args):
        self.inputs = _layout(args)
        args, self.input_positions = _joined(args, self._inputs_released)
        return args

    def setup_outputs(self, result):
        if not isinstance(result, Tensor | tuple):
            warnings.warn(
                "For backward hooks to be called, module output should be a Tensor or a tuple "
                f"of Tensors but received {type(result)}",
                stacklevel=3,
            )
            return result
        single = isinstance(result, Tensor)
        outputs = (result,) if single else result
        self.outputs = _layout(outputs)
        outputs, self.output_positions = _joined(outputs, self._outputs_released)
        return outputs[0] if single else outputs

    def _outputs_released(self, grads, reached):
        grads = [g if r else None for g, r in zip(grads, reached)]
        grad_outputs = _spread(self.outputs, self.output_positions, grads, materialize=False)
        for hook in self.pre_hooks:
            new = hook(self.module, grad_outputs)
            if new is not None:
                grad_outputs = _checked(new, self.outputs, "Backward pre hook", "grad_output")
        if self.input_positions is None:  # no input is joined: call the hooks now
            grad_inputs = (None,) * len(self.inputs)
            for hook in self.hooks:
                new = hook(self.module, grad_inputs, grad_outputs)
                if new is not None and not all(g is None for g in _as_tuple(new)):
                    raise RuntimeError(
                        "Backward hook for Modules where no input requires gradient should "
                        "always return None or None for all gradients."
                    )
        else:
            self.grad_outputs = grad_outputs
        return [grad_outputs[i] for i in self.output_positions]

    def _inputs_released(self, grads, reached):
        if self.grad_outputs is None:  # the gradient reached the inputs but not via the outputs
            return None
        grad_inputs = _spread(self.inputs, self.input_positions, grads, materialize=True)
        for hook in self.hooks:
            new = hook(self.module, grad_inputs, self.grad_outputs)
            if new is not None:
                grad_inputs = _checked(new, self.inputs, "Backward hook", "grad_input")
        self.grad_outputs = None
        return [grad_inputs[i] for i in self.input_positions]


def _spread(layout, positions, grads, materialize):
    """One entry per value of `layout`: a Tensor holding a copy of the gradient joined at its
    position; where there is none, zeros for a tensor if `materialize`, else None."""
    out = [None if m is None or not materialize else Tensor._wrap(np.zeros(*m)) for m in layout]
    for i, g in zip(positions, grads):
        if g is not None:
            out[i] = Tensor._wrap(np.array(g))
    return tuple(out)


def _as_tuple(value):
    return tuple(value) if isinstance(value, tuple | list) else (value,)


def _checked(new, layout, what, name):
    """A hook's replacement tuple, checked against `layout` (per entry, the (shape, dtype) of
    the tensor there, or None): as many entries, each None or a Tensor of that shape and
    dtype."""
    new = _as_tuple(new)
    if len(new) != len(layout):
        raise RuntimeError(
            f"{what} returned an invalid number of {name}, got {len(new)}, but expected "
            f"{len(layout)}"
        )
    for i, (n, meta) in enumerate(zip(new, layout)):
        if n is None:
            continue
        if not isinstance(n, Tensor) or meta is None:
            raise TypeError(
                f"{what} returned a {type(n).__name__} as {name}[{i}], where "
                + ("a Tensor or None is expected" if meta else "only None fits (not a tensor)")
            )
        if (n.shape, n.dtype) != meta:
            raise RuntimeError(
                f"{what} changed {name}[{i}] from shape {meta[0]} {meta[1]} to {n.shape} {n.dtype}"
            )
    return new
