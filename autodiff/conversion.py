"""How a Tensor converts: to other dtypes and devices, to Python numbers, and into new tensors
like it. `Tensor` inherits these methods; they are PyTorch's, with the same arguments.
"""

import autodiff  # its ops and Tensor are looked up at call time: Tensor inherits this class
from autodiff import device as devices
from autodiff import dtypes

# `x.type()` names, as PyTorch's "torch.FloatTensor"
_TYPE_NAMES = {
    dtypes.float16: "HalfTensor",
    dtypes.float32: "FloatTensor",
    dtypes.float64: "DoubleTensor",
    dtypes.int8: "CharTensor",
    dtypes.int16: "ShortTensor",
    dtypes.int32: "IntTensor",
    dtypes.int64: "LongTensor",
    dtypes.uint8: "ByteTensor",
    dtypes.bool_: "BoolTensor",
}
_DTYPES_BY_TYPE_NAME = {name: dtype for dtype, name in _TYPE_NAMES.items()}


class ConversionMethods:
    """Mixin of `Tensor`: dtype and device conversions, Python numbers, `new_*` factories."""

    __slots__ = ()

    # ---- dtypes ------------------------------------------------------------------------------

    def to(self, *args, dtype=None, device=None, copy=False, non_blocking=False):
        """This tensor with another dtype (and on the CPU): `to(dtype)`, `to(device)`,
        `to(device, dtype)`, `to(other_tensor)`, keywords as PyTorch's.

        Returns self when nothing changes, unless `copy=True`. A cast to a float dtype is
        recorded in the graph; an integer or bool result never requires grad.
        """
        for arg in args:
            if isinstance(arg, autodiff.Tensor):
                dtype = arg.dtype
            elif isinstance(arg, str | devices.device):
                device = arg
            else:
                dtype = arg
        devices.check(device, "to")
        out = self if dtype is None else autodiff.ops.to_dtype(self, dtypes.as_dtype(dtype))
        return autodiff.ops.clone(out) if copy and out is self else out

    def type(self, dtype=None):  # noqa: A003 - PyTorch's name
        """With no argument, the type name ("torch.FloatTensor" in PyTorch; here
        "autodiff.FloatTensor"); otherwise this tensor cast to `dtype` (a dtype or such a name)."""
        if dtype is None:
            return f"autodiff.{_TYPE_NAMES[self.dtype]}"
        if isinstance(dtype, str) and dtype.rpartition(".")[2] in _DTYPES_BY_TYPE_NAME:
            dtype = _DTYPES_BY_TYPE_NAME[dtype.rpartition(".")[2]]
        return autodiff.ops.to_dtype(self, dtypes.as_dtype(dtype))

    def type_as(self, other):
        return autodiff.ops.to_dtype(self, other.dtype)

    def float(self):
        return autodiff.ops.to_dtype(self, dtypes.float32)

    def double(self):
        return autodiff.ops.to_dtype(self, dtypes.float64)

    def half(self):
        return autodiff.ops.to_dtype(self, dtypes.float16)

    def long(self):
        return autodiff.ops.to_dtype(self, dtypes.int64)

    def int(self):
        return autodiff.ops.to_dtype(self, dtypes.int32)

    def short(self):
        return autodiff.ops.to_dtype(self, dtypes.int16)

    def char(self):
        return autodiff.ops.to_dtype(self, dtypes.int8)

    def byte(self):
        return autodiff.ops.to_dtype(self, dtypes.uint8)

    def bool(self):
        return autodiff.ops.to_dtype(self, dtypes.bool_)

    def astype(self, dtype):
        return autodiff.ops.to_dtype(self, dtypes.as_dtype(dtype))

    def is_floating_point(self) -> bool:
        return self.dtype.kind == "f"

    def element_size(self) -> int:
        return self.dtype.itemsize

    # ---- devices -----------------------------------------------------------------------------

    @property
    def device(self):
        """Always the CPU."""
        return devices.CPU

    @property
    def is_cuda(self) -> bool:
        return False

    def cpu(self):
        return self

    def cuda(self, device=None, non_blocking=False):
        """Always a RuntimeError: autodiff has no CUDA devices (as PyTorch built without CUDA)."""
        raise RuntimeError(
            f"cuda: device {str(device or 'cuda')!r} is not available; autodiff computes on the "
            "CPU only (use .cpu() or .to('cpu'), or leave the device out)"
        )

    # ---- memory layout -----------------------------------------------------------------------

    def is_contiguous(self) -> bool:
        return self.data.flags.c_contiguous

    def contiguous(self):
        """Self if its data is C-contiguous, else a C-contiguous copy (in the graph)."""
        return self if self.data.flags.c_contiguous else autodiff.ops.clone(self)

    # ---- Python numbers ----------------------------------------------------------------------

    def __float__(self):
        return float(self._scalar("float"))

    def __int__(self):
        return int(self._scalar("int"))

    def __index__(self):
        if self.dtype.kind not in "iub":
            raise TypeError(
                f"__index__: only integer tensors of a single element can be converted to an "
                f"index; this one is {self.dtype} of shape {self.shape}"
            )
        return int(self._scalar("__index__"))

    def __format__(self, spec):
        if self.data.size == 1 and self.ndim == 0:
            return format(self.data.item(), spec)
        if spec:
            raise TypeError(
                f"__format__: format spec {spec!r} needs a 0-d tensor, this one has shape "
                f"{self.shape}; format .item() or .tolist() instead"
            )
        return repr(self)

    def _scalar(self, op):
        if self.data.size != 1:
            raise ValueError(
                f"{op}: only a tensor with one element can be converted to a Python number; "
                f"this one has shape {self.shape} {self.dtype}"
            )
        return self.data.item()

    # ---- new tensors like this one -----------------------------------------------------------

    def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
        """A new tensor holding a copy of `data`, with this tensor's dtype unless given."""
        devices.check(device, "new_tensor")
        dtype = self.dtype if dtype is None else dtype
        return autodiff.Tensor(data, dtype=dtype, requires_grad=requires_grad)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        dtype = dtype or self.dtype
        return autodiff.zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        dtype = dtype or self.dtype
        return autodiff.ones(*size, dtype=dtype, device=device, requires_grad=requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
        dtype = dtype or self.dtype
        return autodiff.empty(*size, dtype=dtype, device=device, requires_grad=requires_grad)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
        dtype = dtype or self.dtype
        return autodiff.full(size, fill_value, dtype, device, requires_grad)

    # ---- shapes of another tensor ------------------------------------------------------------

    def expand_as(self, other):
        return autodiff.ops.expand(self, other.shape)

    def view_as(self, other):
        return autodiff.ops.reshape(self, other.shape)

    def reshape_as(self, other):
        return autodiff.ops.reshape(self, other.shape)
