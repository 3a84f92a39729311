"""`trace_modules`: which module call created each graph node of a forward pass."""

import functools
import itertools
import weakref
from dataclasses import dataclass

from autodiff.function import recording


@dataclass(eq=False)
class _Call:
    """One call of a module during `trace_modules`."""

    path: str  # dotted name from named_modules; "" for the model itself
    module_type: str
    index: int  # 0 for the first call of this module in the trace
    level: int  # how many traced calls enclose this one
    parent: "_Call | None"
    leaf: bool  # the module has no sub-modules

    def label(self) -> str:
        name = f"{self.path}: {self.module_type}" if self.path else self.module_type
        return name if self.index == 0 else f"{name} (call {self.index + 1})"


class trace_modules:  # noqa: N801 - a context manager, named as no_grad
    """Context manager: record which module call created each graph node of a forward pass.

    Parameters
    ----------
    model : Module
        Anything with `named_modules()`, `named_parameters()`, `register_forward_pre_hook` and
        `register_forward_hook(hook, always_call=True)`, as `nn.Module` has.

        with viz.trace_modules(model) as trace:
            out = model(x)
        viz.to_dot(out, modules=trace, depth=1)

    With `depth=d`, each call of a module at nesting depth d (0: the model itself, 1: its
    children, ...), and of a module without sub-modules above it, is one box; the model's
    parameters are named as in `named_parameters()`. Ops in the forward of a shallower module
    that has sub-modules (a residual add) stay visible. Records the forward passes run in this
    thread inside the `with` block; the hooks are removed on leaving it.

    Raises
    ------
    TypeError : model lacks one of those methods.
    """

    def __init__(self, model):
        for method in (
            "named_modules",
            "named_parameters",
            "register_forward_pre_hook",
            "register_forward_hook",
        ):
            if not callable(getattr(model, method, None)):
                raise TypeError(
                    f"trace_modules: {type(model).__name__} has no {method}(); pass a module "
                    "(an nn.Module, or anything with its hooks and named_modules)"
                )
        self.model = model
        self.parameters = list(model.named_parameters())  # (name, tensor); kept alive by it
        self._calls = weakref.WeakKeyDictionary()  # node -> the innermost call that made it
        self._stack = []
        self._counts = {}  # path -> calls so far
        self._handles = []

    def __enter__(self):
        try:
            for path, module in self.model.named_modules():
                leaf = next(itertools.islice(module.named_modules(), 1, None), None) is None
                enter = functools.partial(self._enter_call, path, leaf)
                self._handles.append(module.register_forward_pre_hook(enter))
                exit_ = self._exit_call
                self._handles.append(module.register_forward_hook(exit_, always_call=True))
        except BaseException:
            self._remove_hooks()
            raise
        self._previous = recording.hook
        recording.hook = self._record
        return self

    def __exit__(self, *exc):
        recording.hook = self._previous
        self._remove_hooks()
        self._stack.clear()
        return False

    def _remove_hooks(self):
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    def _enter_call(self, path, leaf, module, args):
        index = self._counts.get(path, 0)
        self._counts[path] = index + 1
        parent = self._stack[-1] if self._stack else None
        call = _Call(path, type(module).__name__, index, len(self._stack), parent, leaf)
        self._stack.append(call)

    def _exit_call(self, module, args, output):
        if self._stack:
            self._stack.pop()

    def _record(self, node, arrays, attrs):
        """The recording hook Function.apply calls for every node (chained to any other)."""
        if self._stack:
            self._calls[node] = self._stack[-1]
        if self._previous is not None:
            self._previous(node, arrays, attrs)

    def box(self, node, depth: int) -> _Call | None:
        """The module call whose box holds `node` at nesting depth `depth`, or None."""
        call = self._calls.get(node)
        if call is None or (call.level < depth and not call.leaf):
            return None
        while call.level > depth:
            call = call.parent
        return call
