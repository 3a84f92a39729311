"""`Tensor`: a numpy array that records the ops applied to it, and the user-facing methods."""

import weakref

import numpy as np

from autodiff import dtypes
from autodiff.conversion import ConversionMethods
from autodiff.engine import backward as _run_backward
from autodiff.engine import is_grad_enabled, no_grad, post_accumulate_hooks, tensor_hooks


class Tensor(ConversionMethods):
    """An n-dimensional array that can record a computation graph.

    Parameters
    ----------
    data : array_like
        Copied into a new ndarray. An ndarray keeps its dtype; Python floats become float32.
    dtype : dtype, optional
        Convert to this dtype.
    requires_grad : bool
        Record ops on this tensor so `backward()` can fill `.grad`; floating dtypes only.

    `.data` is the ndarray itself; `.grad` is a Tensor of the same shape and dtype, or None.
    """

    __slots__ = (
        "_data",
        "grad",
        "grad_fn",
        "_requires_grad",
        "_version_counter",
        "_is_view",
        "__weakref__",
    )
    __array_priority__ = 1000  # so `ndarray + Tensor` defers to Tensor.__radd__

    def __init__(self, data, dtype=None, requires_grad=False):
        self._init_leaf(dtypes.to_array(data.data if isinstance(data, Tensor) else data, dtype))
        if requires_grad:
            self.requires_grad = True

    def _init_leaf(self, array, version=None):
        """Set every field of a new leaf around `array` (for `__init__` and subclasses such as
        `Parameter`); `version` shares another tensor's count of in-place writes."""
        self._data = array
        self.grad = None
        self.grad_fn = None
        self._requires_grad = False
        self._version_counter = [0] if version is None else version
        self._is_view = False

    @classmethod
    def _wrap(cls, array, requires_grad=False, grad_fn=None, version=None):
        """A Tensor around an existing ndarray, without copying or checks (internal fast path)."""
        t = object.__new__(Tensor)
        t._data = array
        t.grad = None
        t.grad_fn = grad_fn
        t._requires_grad = requires_grad
        t._is_view = version is not None
        # a one-element list counting in-place writes; a view shares its base's list
        t._version_counter = [0] if version is None else version
        return t

    @property
    def data(self) -> np.ndarray:
        """The ndarray holding the values (shared, not copied)."""
        return self._data

    @data.setter
    def data(self, value):
        # as PyTorch's `x.data = t`: new values of any shape and dtype, outside the graph
        if isinstance(value, Tensor):
            value = value._data
        if not isinstance(value, np.ndarray):
            raise TypeError(
                f"data: assign a Tensor or an ndarray, not {type(value).__name__} "
                f"(tensor of shape {self._data.shape} {self._data.dtype})"
            )
        self._data = value

    # ---- graph attributes -------------------------------------------------------------------

    @property
    def requires_grad(self) -> bool:
        """Whether ops on this tensor are recorded so `backward()` can fill `.grad`."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        if self.grad_fn is not None and not flag:
            raise RuntimeError(
                "requires_grad: can only be turned off on a leaf tensor; use .detach() on a "
                f"result of {self.grad_fn.name}"
            )
        if flag and not dtypes.is_floating(self._data.dtype):
            raise TypeError(
                f"requires_grad: only float32 and float64 tensors can require grad, this one "
                f"is {self._data.dtype} (shape {self._data.shape})"
            )
        self._requires_grad = bool(flag)

    def requires_grad_(self, requires_grad=True):
        """Set `requires_grad` in place and return self."""
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self) -> bool:
        """True for tensors the user created (their `.grad` is filled by backward)."""
        return self.grad_fn is None

    @property
    def _version(self) -> int:
        return self._version_counter[0]

    def mark_written(self) -> None:
        """Record that this tensor's array was written in place outside the graph (an optimizer
        step, a loaded checkpoint): a graph that saved it then refuses to backward through it,
        as it does after an in-place op."""
        self._version_counter[0] += 1

    def retain_grad(self):
        """Keep `.grad` on this non-leaf tensor after backward (leaves always keep it)."""
        if self.grad_fn is not None:
            self.grad_fn.retained = weakref.ref(self)

    def register_hook(self, hook):
        """Call `hook(grad)` each time the gradient with respect to this tensor is computed.

        The hook returns None or a Tensor (same shape and dtype) that replaces the gradient for
        what follows: the graph below this tensor, `.grad` of a leaf or of a tensor that
        retains grad. Hooks run in registration order with grad mode off, once per backward
        with the gradient summed over every use of the tensor (a leaf's when backward ends,
        after the non-leaf hooks). Returns a handle whose `remove()` unregisters the hook.
        """
        if not self._requires_grad:
            raise RuntimeError(
                "register_hook: cannot register a hook on a tensor that doesn't require gradient "
                f"(shape {self.shape} {self.dtype})"
            )
        hooks = tensor_hooks(self)
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        return handle

    def register_post_accumulate_grad_hook(self, hook):
        """Call `hook(self)` after each backward has accumulated this leaf's `.grad` (not after
        `autodiff.grad`); it returns None and may change `self` or `self.grad` in place (grad
        mode is off). Hooks run once all `.grad` of the backward are written (PyTorch: as soon
        as each is). Returns a handle whose `remove()` unregisters the hook."""
        if not self._requires_grad:
            raise RuntimeError(
                "register_post_accumulate_grad_hook: cannot register a hook on a tensor that "
                f"doesn't require gradient (shape {self.shape} {self.dtype})"
            )
        if self.grad_fn is not None:
            raise RuntimeError(
                "register_post_accumulate_grad_hook: post accumulate grad hooks cannot be "
                f"registered on non-leaf tensors (a result of {self.grad_fn.name})"
            )
        return _add(post_accumulate_hooks(self), hook)

    def detach(self):
        """A new leaf sharing this tensor's data, cut from the graph."""
        return Tensor._wrap(self._data, version=self._version_counter)

    def backward(self, gradient=None, retain_graph=False):
        """Fill `.grad` of the leaves this tensor depends on with d(self)/d(leaf).

        Parameters
        ----------
        gradient : Tensor or array, optional
            dL/d(self), of self's shape; required unless self holds a single element.
        retain_graph : bool
            Keep the saved arrays so backward can run through this graph again.
        """
        if not self._requires_grad:
            raise RuntimeError(
                "backward: this tensor does not require grad and has no grad_fn; set "
                "requires_grad=True on the inputs you want gradients for"
            )
        g = _root_gradient(self, gradient, "backward")
        _run_backward([self], [g], retain_graph=retain_graph)

    # ---- array attributes -------------------------------------------------------------------

    @property
    def shape(self) -> tuple:
        """The shape, a tuple of ints (PyTorch's `torch.Size` is a tuple too)."""
        return self._data.shape

    @property
    def dtype(self):
        """The numpy dtype of the elements."""
        return self._data.dtype

    @property
    def ndim(self) -> int:
        """The number of dimensions."""
        return self._data.ndim

    def dim(self) -> int:
        """The number of dimensions (`ndimension` is the same)."""
        return self._data.ndim

    ndimension = dim

    def size(self, dim=None):
        """The shape, or the length of dimension `dim` (PyTorch's `size`)."""
        if dim is None:
            return self._data.shape
        return self._data.shape[ops._args.dim("size", self, dim)]

    def numel(self) -> int:
        """The number of elements."""
        return self._data.size

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self._data)

    def numpy(self) -> np.ndarray:
        """The underlying ndarray (shared, not copied)."""
        return self._data

    def item(self):
        """The single element as a Python number."""
        if self._data.size != 1:
            raise ValueError(f"item: tensor has {self._data.size} elements (shape {self.shape})")
        return self._data.item()

    def tolist(self):
        """The values as nested Python lists (a number for a 0-d tensor)."""
        return self._data.tolist()

    def __array__(self, dtype=None, copy=None):
        return self._data if dtype is None else self._data.astype(dtype)

    def __repr__(self):
        body = np.array2string(self._data, separator=", ", prefix="tensor(")
        extras = []
        if self._data.dtype not in (dtypes.float32, dtypes.int64, dtypes.bool_):  # as PyTorch
            extras.append(f"dtype={self._data.dtype}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn={self.grad_fn!r}")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body, *extras]) + ")"

    def __bool__(self):
        if self._data.size != 1:
            raise ValueError(
                f"bool: the truth value of a tensor with {self._data.size} elements is ambiguous"
            )
        return bool(self._data)

    # hashed by identity (as in PyTorch), although == compares elementwise; object's own
    # C-level hash keeps dict lookups keyed by tensors fast
    __hash__ = object.__hash__

    # ---- arithmetic ---------------------------------------------------------------------------

    def __add__(self, other):
        return ops.add(self, other)

    def __radd__(self, other):
        return ops.add(other, self)

    def __sub__(self, other):
        return ops.sub(self, other)

    def __rsub__(self, other):
        return ops.sub(other, self)

    def __mul__(self, other):
        return ops.mul(self, other)

    def __rmul__(self, other):
        return ops.mul(other, self)

    def __truediv__(self, other):
        return ops.div(self, other)

    def __rtruediv__(self, other):
        return ops.div(other, self)

    def __pow__(self, other):
        return ops.pow(self, other)

    def __rpow__(self, other):
        return ops.pow(other, self)

    def __matmul__(self, other):
        return ops.matmul(self, other)

    def __rmatmul__(self, other):
        return ops.matmul(other, self)

    def __neg__(self):
        return ops.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return ops.abs(self)

    def __getitem__(self, index):
        return ops.getitem(self, index)

    def __mod__(self, other):
        return ops.remainder(self, other)

    def __rmod__(self, other):
        return ops.remainder(other, self)

    def __floordiv__(self, other):
        return ops.floor_divide(self, other)

    def __rfloordiv__(self, other):
        return ops.floor_divide(other, self)

    def __and__(self, other):
        return ops.bitwise_and(self, other)

    def __rand__(self, other):
        return ops.bitwise_and(other, self)

    def __or__(self, other):
        return ops.bitwise_or(self, other)

    def __ror__(self, other):
        return ops.bitwise_or(other, self)

    def __xor__(self, other):
        return ops.bitwise_xor(self, other)

    def __rxor__(self, other):
        return ops.bitwise_xor(other, self)

    def __invert__(self):
        return ops.bitwise_not(self)

    def __lshift__(self, other):
        return ops.bitwise_left_shift(self, other)

    def __rlshift__(self, other):
        return ops.bitwise_left_shift(other, self)

    def __rshift__(self, other):
        return ops.bitwise_right_shift(self, other)

    def __rrshift__(self, other):
        return ops.bitwise_right_shift(other, self)

    def __imod__(self, other):
        return self._inplace("remainder_", ops.remainder, other)

    def __ifloordiv__(self, other):
        return self._inplace("floor_divide_", ops.floor_divide, other)

    def __iand__(self, other):
        return self._inplace("bitwise_and_", ops.bitwise_and, other)

    def __ior__(self, other):
        return self._inplace("bitwise_or_", ops.bitwise_or, other)

    def __ixor__(self, other):
        return self._inplace("bitwise_xor_", ops.bitwise_xor, other)

    def __ilshift__(self, other):
        return self._inplace("bitwise_left_shift_", ops.bitwise_left_shift, other)

    def __irshift__(self, other):
        return self._inplace("bitwise_right_shift_", ops.bitwise_right_shift, other)

    # comparisons give bool tensors and record nothing
    def __eq__(self, other):
        return _compare(np.equal, self, other)

    def __ne__(self, other):
        return _compare(np.not_equal, self, other)

    def __lt__(self, other):
        return _compare(np.less, self, other)

    def __le__(self, other):
        return _compare(np.less_equal, self, other)

    def __gt__(self, other):
        return _compare(np.greater, self, other)

    def __ge__(self, other):
        return _compare(np.greater_equal, self, other)

    # ---- in-place ops ---------------------------------------------------------------------------

    def __iadd__(self, other):
        return self._inplace("add_", ops.add, other)

    def __isub__(self, other):
        return self._inplace("sub_", ops.sub, other)

    def __imul__(self, other):
        return self._inplace("mul_", ops.mul, other)

    def __itruediv__(self, other):
        return self._inplace("div_", ops.div, other)

    def zero_(self):
        """Overwrite every element with 0, in place; returns self."""
        return self.fill_(0)

    def fill_(self, value):
        """Overwrite every element with `value`, in place; returns self."""
        return self.copy_(value)

    def copy_(self, src):
        """Overwrite every element with `src` (a scalar, or a tensor broadcastable to self)."""
        keep_none = np.zeros(self._data.shape, bool)
        return self._inplace("copy_", lambda x, s: ops.where(keep_none, x, s), src)

    def __setitem__(self, index, value):
        self._inplace("__setitem__", lambda x, v: ops.index_put(x, index, v), value)

    def _inplace(self, name, op, *args, **kwargs):
        """Run `op(self, *args, **kwargs)` and write the result into self's buffer.

        With grad recording, the op runs on a snapshot of self so its saved arrays stay
        intact, and self takes the result's place in the graph (as PyTorch rebases history).
        """
        others = [a for a in (*args, *kwargs.values()) if isinstance(a, Tensor)]
        record = is_grad_enabled() and (
            self._requires_grad or any(a._requires_grad for a in others)
        )
        if record and self._requires_grad and self.grad_fn is None:
            raise RuntimeError(
                f"{name}: a leaf tensor that requires grad (shape {self.shape}) cannot be "
                "modified in place while grad is recorded; wrap the update in autodiff.no_grad()"
            )
        if record and self._is_view:
            raise RuntimeError(
                f"{name}: in-place modification of a view (shape {self.shape}) is not recorded "
                "in the graph; use an out-of-place op, or clone the view first"
            )
        if record:
            snapshot = Tensor._wrap(self._data.copy(), True, self.grad_fn)
            snapshot._requires_grad = self._requires_grad
            out = op(snapshot, *args, **kwargs)
        else:
            with no_grad():
                out = op(self, *args, **kwargs)
        if out.shape != self.shape:
            raise ValueError(
                f"{name}: result of shape {out.shape} does not fit in place into a tensor of "
                f"shape {self.shape} {self.dtype}"
            )
        if not np.can_cast(out.dtype, self.dtype, casting="same_kind"):
            raise TypeError(
                f"{name}: result of dtype {out.dtype} cannot be stored in place into a "
                f"{self.dtype} tensor of shape {self.shape}"
            )
        np.copyto(self._data, out.data, casting="same_kind")
        self._version_counter[0] += 1
        if record:
            self.grad_fn = out.grad_fn
            self._requires_grad = True
        return self

    @property
    def T(self):  # noqa: N802 - numpy/PyTorch name
        """All dimensions reversed (the matrix transpose for 2-D)."""
        return ops.permute(self, *reversed(range(self._data.ndim)))

    @property
    def mT(self):  # noqa: N802 - PyTorch's name
        """The last two dims swapped (each matrix of a batch transposed); a view."""
        if self._data.ndim < 2:
            raise ValueError(f"mT: needs at least 2 dims, got shape {self.shape}")
        return ops.transpose(self, -2, -1)


def _compare(ufunc, x, other):
    y = other.data if isinstance(other, Tensor) else other
    return Tensor._wrap(np.asarray(ufunc(x.data, y)))


def _root_gradient(root, gradient, op_name):
    """dL/d(root) as an array the engine owns (or an immutable numpy scalar for a 0-d root),
    checked against root's shape and dtype."""
    data = root._data
    if gradient is None:
        if data.size != 1:
            raise RuntimeError(
                f"{op_name}: grad can be created implicitly only for a tensor with one element; "
                f"this one has shape {data.shape}: pass gradient= (dL/d(output), same shape)"
            )
        if not data.ndim:  # numpy computes on its scalars faster than on 0-d arrays
            return _ONES[data.dtype]
        return np.array(1, data.dtype).reshape(data.shape)  # faster than np.ones
    g = gradient.data if isinstance(gradient, Tensor) else np.asarray(gradient)
    if g.shape != data.shape:
        raise ValueError(
            f"{op_name}: gradient has shape {g.shape} {g.dtype} but the output has shape "
            f"{data.shape} {data.dtype}"
        )
    return np.array(g, dtype=data.dtype, copy=True)


_ONES = {dtype: dtype.type(1) for dtype in dtypes.FLOAT_DTYPES}  # the dtypes that require grad


# last: the ops need Tensor defined, and `methods` binds them as Tensor's methods
from autodiff import methods, ops  # noqa: E402, F401
from autodiff.hooks import RemovableHandle, _add  # noqa: E402 - hooks.py defines ops on Tensor
