"""`Module`: the base class of layers and models; it registers parameters, buffers and children.

Assigning a `Parameter` or a `Module` to an attribute registers it, and running statistics go
through `register_buffer`, as in PyTorch; `parameters()`, `state_dict()`, `train()` and the rest
walk what was registered.
"""

from collections import OrderedDict, namedtuple
from collections.abc import Callable, Iterator, Mapping

import numpy as np

from autodiff import dtypes
from autodiff.engine import no_grad
from autodiff.hooks import ModuleHooks
from autodiff.tensor import Tensor
from nn.parameter import Parameter


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What `load_state_dict` returns: the keys it could not match.

    It unpacks as PyTorch's pair, `missing, unexpected = model.load_state_dict(...)`; the
    attribute `mismatched_keys` lists the `(key, checkpoint shape, model shape)` triples that
    `skip_mismatched=True` skipped.
    """

    def __new__(cls, missing_keys, unexpected_keys, mismatched_keys=()):
        keys = super().__new__(cls, missing_keys, unexpected_keys)
        keys.mismatched_keys = list(mismatched_keys)
        return keys

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys and not self.mismatched_keys:
            return "<All keys matched successfully>"
        if not self.mismatched_keys:
            return super().__repr__()
        return f"{super().__repr__()[:-1]}, mismatched_keys={self.mismatched_keys!r})"


class Module(ModuleHooks):
    """Base class for all layers and models.

    A subclass calls `super().__init__()` first, assigns its parameters (`Parameter`) and
    sub-modules (`Module`) as attributes, and defines `forward`; calling the module calls
    `forward`.

    >>> class Affine(Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.w = Parameter(np.ones((3, 2)))
    ...         self.b = Parameter(np.zeros(2))
    ...     def forward(self, x):
    ...         return x @ self.w + self.b
    >>> [name for name, _ in Affine().named_parameters()]
    ['w', 'b']

    `training` is True after construction; `train()` and `eval()` set it on every sub-module.
    Forward and backward hooks (`register_forward_hook` and the rest) come from `ModuleHooks`.
    """

    training: bool

    def __init__(self):
        # object.__setattr__ because our __setattr__ expects these dicts to exist already
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_modules", OrderedDict())
        self._init_hooks()

    def forward(self, *args, **kwargs):
        """The computation of this module; subclasses override it. Call the module
        (`module(x)`), not `forward`, so that hooks run."""
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing a "forward" method')

    def __call__(self, *args, **kwargs):
        if (
            self._forward_pre_hooks
            or self._forward_hooks
            or self._backward_hooks
            or self._backward_pre_hooks
        ):
            return self._call_with_hooks(args, kwargs)
        return self.forward(*args, **kwargs)

    # ---- registration -------------------------------------------------------------------------

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register `param` (a Parameter, or None for an absent one such as `bias=False`)."""
        self._check_name(name, "parameter", "_parameters")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign '{type(param).__name__}' object to parameter '{name}' "
                "(nn.Parameter or None required)"
            )
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor, persistent: bool = True) -> None:
        """Register a tensor that is state but not a parameter (e.g. BatchNorm's running mean).

        Parameters
        ----------
        name : str
            The attribute name; the buffer is then `self.<name>`.
        tensor : Tensor, ndarray or None
            An ndarray is wrapped (not copied) in a Tensor that does not require grad.
        persistent : bool
            Whether `state_dict()` includes the buffer.
        """
        self._check_name(name, "buffer", "_buffers")
        self._buffers[name] = _as_buffer(name, tensor)
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)

    def add_module(self, name: str, module: "Module | None") -> None:
        """Register `module` as a child called `name` (what attribute assignment does)."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {type(module).__name__} is not a Module subclass")
        self._check_name(name, "module", "_modules")
        self._modules[name] = module

    register_module = add_module

    def _check_name(self, name, kind, own_dict):
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot assign {kind} '{name}' before Module.__init__() call "
                f"(call super().__init__() first in {type(self).__name__}.__init__)"
            )
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a str, got {type(name).__name__}")
        if name == "" or "." in name:
            raise KeyError(f"{kind} name can't be empty or contain '.', got {name!r}")
        if hasattr(self, name) and name not in getattr(self, own_dict):
            raise KeyError(f"attribute '{name}' already exists in {type(self).__name__}")

    def __setattr__(self, name, value):
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError(
                    f"cannot assign parameter '{name}' before Module.__init__() call "
                    f"(call super().__init__() first in {type(self).__name__}.__init__)"
                )
            self._forget(name, keep="_parameters")
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                    "(nn.Parameter or None expected)"
                )
            params[name] = None
        elif isinstance(value, Module):
            if params is None:
                raise AttributeError(
                    f"cannot assign module '{name}' before Module.__init__() call "
                    f"(call super().__init__() first in {type(self).__name__}.__init__)"
                )
            self._forget(name, keep="_modules")
            self._modules[name] = value
        elif params is not None and name in d["_modules"]:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as child module '{name}' "
                    "(nn.Module or None expected)"
                )
            d["_modules"][name] = None
        elif params is not None and name in d["_buffers"]:
            d["_buffers"][name] = _as_buffer(name, value)
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name, keep):
        """Drop `name` from the instance dict and every registry but `keep`."""
        self.__dict__.pop(name, None)
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry != keep:
                self.__dict__[registry].pop(name, None)
        if keep != "_buffers":
            self._non_persistent_buffers.discard(name)

    def __getattr__(self, name):
        # only called when normal lookup fails; read __dict__ directly to avoid recursion
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry in d and name in d[registry]:
                return d[registry][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            if name in d.get(registry, ()):
                del d[registry][name]
                self._non_persistent_buffers.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        return sorted(
            set(super().__dir__()) | set(self._parameters) | set(self._buffers) | set(self._modules)
        )

    # ---- traversal ------------------------------------------------------------------------------

    def named_modules(
        self, memo: set | None = None, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, "Module"]]:
        """(dotted name, module) for this module ('' by default) and every descendant.

        A module reachable by several paths is yielded once (at its first path) unless
        `remove_duplicate` is False.
        """
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            sub_prefix = prefix + ("." if prefix else "") + name
            yield from module.named_modules(memo, sub_prefix, remove_duplicate)

    def modules(self) -> Iterator["Module"]:
        """This module and all its descendants, each once."""
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, "Module"]]:
        """(name, module) for the direct sub-modules, each module once."""
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator["Module"]:
        """The direct sub-modules, each once."""
        for _, module in self.named_children():
            yield module

    def _named_members(self, registry, prefix, recurse, remove_duplicate):
        """(dotted name, tensor) from one registry of this module and, if recurse, descendants."""
        seen = set()
        if recurse:
            pairs = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
        else:
            pairs = [(prefix, self)]
        for module_prefix, module in pairs:
            for name, value in getattr(module, registry).items():
                if value is None:
                    continue
                if remove_duplicate:
                    # ids, not `in`: Tensor's == is elementwise
                    if id(value) in seen:
                        continue
                    seen.add(id(value))
                yield module_prefix + ("." if module_prefix else "") + name, value

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) pairs, e.g. ('0.weight', ...); a shared parameter once."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """The parameters of this module and (if recurse) its descendants, each once."""
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Tensor]]:
        """(dotted name, buffer) pairs, e.g. ('1.running_mean', ...); a shared buffer once."""
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """The buffers (running statistics) of this module and (if recurse) its descendants."""
        for _, buf in self.named_buffers(recurse=recurse):
            yield buf

    def get_submodule(self, target: str) -> "Module":
        """The descendant at dotted path `target` ('' is self), e.g. 'features.0'."""
        module = self
        if target == "":
            return module
        for i, item in enumerate(target.split(".")):
            child = module._modules.get(item) if isinstance(module, Module) else None
            if child is None:
                where = ".".join(target.split(".")[:i]) or type(self).__name__
                raise AttributeError(f"get_submodule: {where} has no submodule '{item}'")
            module = child
        return module

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at dotted path `target`, e.g. 'features.0.weight'."""
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if name not in module._parameters:
            where = module_path or type(self).__name__
            raise AttributeError(f"get_parameter: {where} has no parameter {name!r}")
        return module._parameters[name]

    # ---- modes and gradients --------------------------------------------------------------------

    def train(self, mode: bool = True) -> "Module":
        """Set training mode (dropout active, batch norm using batch statistics) recursively."""
        if not isinstance(mode, bool):
            raise ValueError(f"train: mode is expected to be a bool, got {mode!r}")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> "Module":
        """Set evaluation mode recursively; the same as `train(False)`."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        """Set `requires_grad` on every parameter (False freezes the module); returns self."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all parameters: to None, or (set_to_none=False) to zeros."""
        for param in self.parameters():
            if param.grad is None:
                continue
            if set_to_none:
                param.grad = None
            else:
                param.grad.data.fill(0)

    def apply(self, fn: Callable[["Module"], object]) -> "Module":
        """Call `fn` on every sub-module (children first) and then on self; returns self.

        Typical use: a function that re-initialises the weights of every layer of one type.
        """
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ---- dtype ----------------------------------------------------------------------------------

    def to(self, dtype) -> "Module":
        """Convert floating parameters and buffers (and their grads) to `dtype`, in place.

        The Parameter objects stay the same (so an optimizer built on them still works); only
        their arrays are replaced. Integer buffers are left alone, as in PyTorch.
        """
        dtype = np.dtype(dtype)
        if not dtypes.is_floating(dtype):
            raise TypeError(f"Module.to: only float32 and float64 are supported, got {dtype}")
        with no_grad():
            for t in [*self.parameters(), *self.buffers()]:
                if dtypes.is_floating(t.dtype) and t.dtype != dtype:
                    t.data = t.data.astype(dtype)
                    t.mark_written()
                    if t.grad is not None:
                        t.grad = Tensor._wrap(t.grad.data.astype(dtype))
        return self

    def float(self) -> "Module":
        """Cast every floating parameter and buffer to float32, in place; returns self."""
        return self.to(dtypes.float32)

    def double(self) -> "Module":
        """Cast every floating parameter and buffer to float64, in place; returns self."""
        return self.to(dtypes.float64)

    # ---- state ----------------------------------------------------------------------------------

    def state_dict(
        self, destination: dict | None = None, prefix: str = "", keep_vars: bool = False
    ) -> "OrderedDict[str, Tensor]":
        """Parameters and persistent buffers by dotted name, e.g. {'0.weight': ..., ...}.

        As in PyTorch, the values are Tensors that share memory with the module's arrays (a
        later optimizer step shows through), detached from the graph; `keep_vars=True` gives
        the Parameter objects themselves. Copy the arrays for a snapshot, or write the dict
        with `nn.save`. A parameter shared by two sub-modules appears under both names.
        """
        if destination is None:
            destination = OrderedDict()
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.detach()
        for name, buf in self._buffers.items():
            if buf is not None and name not in self._non_persistent_buffers:
                destination[prefix + name] = buf if keep_vars else buf.detach()
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination, prefix + name + ".", keep_vars)
        return destination

    def load_state_dict(
        self, state_dict: Mapping, strict: bool = True, *, skip_mismatched: bool = False
    ) -> _IncompatibleKeys:
        """Copy values from `state_dict` into this module's parameters and buffers, in place.

        Parameters
        ----------
        state_dict : mapping of str to Tensor, ndarray or number
            As returned by `state_dict()` or `nn.load`.
        strict : bool
            Raise if some keys are missing from `state_dict` or unexpected in it.
        skip_mismatched : bool
            Skip (and report) the keys whose shapes differ instead of raising, so a backbone
            with a new head loads in one call:
            `model.load_state_dict(pretrained, strict=False, skip_mismatched=True)`.
            Not in PyTorch, which always raises on a shape mismatch.

        Returns
        -------
        (missing_keys, unexpected_keys), a named tuple of lists of names, with the attribute
        `mismatched_keys`: a list of (key, checkpoint shape, model shape) for the keys that
        were skipped because of their shape.

        Raises
        ------
        RuntimeError
            Naming missing and unexpected keys (strict only), every shape mismatch (unless
            skip_mismatched: key, checkpoint shape, model shape), values that are not arrays
            of numbers and read-only arrays of the model. Nothing is copied when it raises.

        The arrays of the module are kept, and so is their dtype: values are cast into them
        (a float64 checkpoint loads into a float32 model). A key skipped for its shape is
        neither missing nor unexpected: `strict` checks the names, `skip_mismatched` the shapes.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(
                f"load_state_dict: expected a mapping of names to tensors, got "
                f"{type(state_dict).__name__}"
            )
        own = self.state_dict(keep_vars=True)
        missing = [key for key in own if key not in state_dict]
        unexpected = [key for key in state_dict if key not in own]
        errors = []
        if strict and unexpected:
            errors.append("Unexpected key(s) in state_dict: " + ", ".join(map(repr, unexpected)))
        if strict and missing:
            errors.append("Missing key(s) in state_dict: " + ", ".join(map(repr, missing)))
        sources = {}
        mismatched = []
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            try:
                array = value.data if isinstance(value, Tensor) else np.asarray(value)
            except (TypeError, ValueError) as exc:
                errors.append(f"{key!r} holds a {type(value).__name__} that is not an array: {exc}")
                continue
            if array.dtype.kind not in "biuf":
                errors.append(f"{key!r} holds a {array.dtype} value, not numbers")
            elif array.shape != target.shape and skip_mismatched:
                mismatched.append((key, array.shape, target.shape))
            elif array.shape != target.shape:
                errors.append(
                    f"size mismatch for {key!r}: copying a param with shape {array.shape} "
                    f"from checkpoint, the shape in current model is {target.shape}"
                )
            elif not target.data.flags.writeable:
                errors.append(f"{key!r} is a read-only array in the model")
            else:
                sources[key] = array
        if errors:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                + "\n\t".join(errors)
            )
        with no_grad():
            for key, array in sources.items():
                target = own[key]
                np.copyto(target.data, array, casting="unsafe")
                target.mark_written()
        return _IncompatibleKeys(missing, unexpected, mismatched)

    def save(self, path) -> None:
        """Write `state_dict()` to `path` with `nn.save` (atomic, no pickle)."""
        from autodiff.serialization import save

        save(self.state_dict(), path)

    def load(
        self, path, strict: bool = True, *, skip_mismatched: bool = False
    ) -> _IncompatibleKeys:
        """Read a file written by `save` / `nn.save` and `load_state_dict` it."""
        from autodiff.serialization import load

        return self.load_state_dict(load(path), strict=strict, skip_mismatched=skip_mismatched)

    # ---- repr -----------------------------------------------------------------------------------

    def extra_repr(self) -> str:
        """The text inside the parentheses of this module's repr; override in layers."""
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self):
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [
            f"({name}): " + _indent(repr(module), 2) for name, module in self._modules.items()
        ]
        lines = extra_lines + child_lines
        body = ""
        if len(extra_lines) == 1 and not child_lines:
            body = extra_lines[0]
        elif lines:
            body = "\n  " + "\n  ".join(lines) + "\n"
        return f"{self._get_name()}({body})"


def _indent(text, spaces):
    """Indent every line of `text` but the first."""
    return text.replace("\n", "\n" + " " * spaces)


def _as_buffer(name, value):
    """A buffer value: None, a Tensor, or an ndarray wrapped as a Tensor (not copied)."""
    if value is None or isinstance(value, Tensor):
        return value
    if isinstance(value, np.ndarray):
        return Tensor._wrap(value)
    raise TypeError(
        f"cannot assign '{type(value).__name__}' object to buffer '{name}' "
        "(Tensor, ndarray or None required)"
    )
