"""`Tensor`: a numpy array that records the ops applied to it, and the user-facing methods."""

import weakref

import numpy as np

from autodiff import dtypes
from autodiff.engine import backward as _run_backward
from autodiff.engine import is_grad_enabled, no_grad


class Tensor:
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
        "data",
        "grad",
        "grad_fn",
        "_requires_grad",
        "_version_counter",
        "_is_view",
        "__weakref__",
    )
    __array_priority__ = 1000  # so `ndarray + Tensor` defers to Tensor.__radd__

    def __init__(self, data, dtype=None, requires_grad=False):
        self.data = dtypes.to_array(data.data if isinstance(data, Tensor) else data, dtype)
        self.grad = None
        self.grad_fn = None
        self._requires_grad = False
        self._version_counter = [0]
        self._is_view = False
        if requires_grad:
            self.requires_grad = True

    @classmethod
    def _wrap(cls, array, requires_grad=False, grad_fn=None, version=None):
        """A Tensor around an existing ndarray, without copying or checks (internal fast path)."""
        t = object.__new__(Tensor)
        t.data = array
        t.grad = None
        t.grad_fn = grad_fn
        t._requires_grad = requires_grad
        t._is_view = version is not None
        # a one-element list counting in-place writes; a view shares its base's list
        t._version_counter = [0] if version is None else version
        return t

    # ---- graph attributes -------------------------------------------------------------------

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        if self.grad_fn is not None and not flag:
            raise RuntimeError(
                "requires_grad: can only be turned off on a leaf tensor; use .detach() on a "
                f"result of {self.grad_fn.name}"
            )
        if flag and not dtypes.is_floating(self.data.dtype):
            raise TypeError(
                f"requires_grad: only float32 and float64 tensors can require grad, this one "
                f"is {self.data.dtype} (shape {self.data.shape})"
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

    def retain_grad(self):
        """Keep `.grad` on this non-leaf tensor after backward (leaves always keep it)."""
        if self.grad_fn is not None:
            self.grad_fn.retained = weakref.ref(self)

    def detach(self):
        """A new leaf sharing this tensor's data, cut from the graph."""
        return Tensor._wrap(self.data, version=self._version_counter)

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
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    def size(self, dim=None):
        """The shape, or the length of dimension `dim` (PyTorch's `size`)."""
        return self.data.shape if dim is None else self.data.shape[dim]

    def numel(self) -> int:
        return self.data.size

    def __len__(self):
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def numpy(self) -> np.ndarray:
        """The underlying ndarray (shared, not copied)."""
        return self.data

    def item(self):
        """The single element as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item: tensor has {self.data.size} elements (shape {self.shape})")
        return self.data.item()

    def tolist(self):
        return self.data.tolist()

    def __array__(self, dtype=None, copy=None):
        return self.data if dtype is None else self.data.astype(dtype)

    def __repr__(self):
        body = np.array2string(self.data, separator=", ", prefix="tensor(")
        extras = []
        if self.data.dtype != dtypes.float32 and self.data.dtype != dtypes.int64:
            extras.append(f"dtype={self.data.dtype}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn={self.grad_fn!r}")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body, *extras]) + ")"

    def __bool__(self):
        if self.data.size != 1:
            raise ValueError(
                f"bool: the truth value of a tensor with {self.data.size} elements is ambiguous"
            )
        return bool(self.data)

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

    def add_(self, other):
        return self._inplace("add_", ops.add, other)

    def sub_(self, other):
        return self._inplace("sub_", ops.sub, other)

    def mul_(self, other):
        return self._inplace("mul_", ops.mul, other)

    def div_(self, other):
        return self._inplace("div_", ops.div, other)

    def clamp_(self, min=None, max=None):
        return self._inplace("clamp_", lambda x: ops.clamp(x, min, max))

    def zero_(self):
        return self.fill_(0)

    def fill_(self, value):
        return self.copy_(value)

    def copy_(self, src):
        """Overwrite every element with `src` (a scalar, or a tensor broadcastable to self)."""
        keep_none = np.zeros(self.data.shape, bool)
        return self._inplace("copy_", lambda x, s: ops.where(keep_none, x, s), src)

    def __setitem__(self, index, value):
        self._inplace("__setitem__", lambda x, v: ops.index_put(x, index, v), value)

    def _inplace(self, name, op, *args):
        """Run `op(self, *args)` and write the result into self's buffer.

        With grad recording, the op runs on a snapshot of self so its saved arrays stay
        intact, and self takes the result's place in the graph (as PyTorch rebases history).
        """
        others = [a for a in args if isinstance(a, Tensor)]
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
            snapshot = Tensor._wrap(self.data.copy(), True, self.grad_fn)
            snapshot._requires_grad = self._requires_grad
            out = op(snapshot, *args)
        else:
            with no_grad():
                out = op(self, *args)
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
        np.copyto(self.data, out.data, casting="same_kind")
        self._version_counter[0] += 1
        if record:
            self.grad_fn = out.grad_fn
            self._requires_grad = True
        return self

    @property
    def T(self):  # noqa: N802 - numpy/PyTorch name
        """All dimensions reversed (the matrix transpose for 2-D)."""
        return ops.permute(self, *reversed(range(self.data.ndim)))

    def float(self):
        return ops.to_dtype(self, dtypes.float32)

    def double(self):
        return ops.to_dtype(self, dtypes.float64)

    def to(self, dtype):
        return ops.to_dtype(self, np.dtype(dtype))

    def astype(self, dtype):
        return ops.to_dtype(self, np.dtype(dtype))


def _compare(ufunc, x, other):
    y = other.data if isinstance(other, Tensor) else other
    return Tensor._wrap(np.asarray(ufunc(x.data, y)))


def _root_gradient(root, gradient, op_name):
    """dL/d(root) as an array the engine owns, checked against root's shape and dtype."""
    if gradient is None:
        if root.data.size != 1:
            raise RuntimeError(
                f"{op_name}: grad can be created implicitly only for a tensor with one element; "
                f"this one has shape {root.shape}: pass gradient= (dL/d(output), same shape)"
            )
        return np.array(1, root.data.dtype).reshape(root.data.shape)  # faster than np.ones
    g = gradient.data if isinstance(gradient, Tensor) else np.asarray(gradient)
    if g.shape != root.data.shape:
        raise ValueError(
            f"{op_name}: gradient has shape {g.shape} {g.dtype} but the output has shape "
            f"{root.shape} {root.dtype}"
        )
    return np.array(g, dtype=root.data.dtype, copy=True)


from autodiff import ops  # noqa: E402 - ops need Tensor defined first

# Methods that are the op of the same name applied to the tensor (`x.sin()` is `ops.sin(x)`), as
# torch.Tensor's are; one entry per module of autodiff/ops.
_FUNCTIONAL_METHODS = {
    "activation": "relu sigmoid tanh softmax log_softmax",
    "elementwise": "exp log sqrt abs clamp pow maximum minimum",
    "linalg": "matmul",
    "reduce": "sum mean max min var std logsumexp argmax argmin",
    "shape": "reshape view flatten transpose permute squeeze unsqueeze expand",
}
for _module, _names in _FUNCTIONAL_METHODS.items():
    for _name in _names.split():
        setattr(Tensor, _name, getattr(getattr(ops, _module), _name))
