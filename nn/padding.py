"""Padding layers as PyTorch's: constant (and zero), reflection, replication and circular
padding of the last one or two dims, each `F.pad` with its mode."""

from nn import functional as F
from nn.module import Module


class _PadNd(Module):
    """`padding` an int (every side) or `2 * dims` ints `(left, right[, top, bottom])`, as
    `F.pad` takes them; subclasses set `dims` and `mode`."""

    dims = 2
    mode = "constant"

    def __init__(self, padding):
        super().__init__()
        sides = 2 * self.dims
        self.padding = (padding,) * sides if isinstance(padding, int) else tuple(padding)
        if len(self.padding) != sides or not all(isinstance(p, int) for p in self.padding):
            raise ValueError(
                f"{type(self).__name__}: padding must be an int or {sides} ints, got {padding!r}"
            )

    def forward(self, x):
        return F.pad(x, self.padding, self.mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ReflectionPad1d(_PadNd):
    """Pad the last dim with its reflection (the edge not repeated); padding < its size."""

    dims = 1
    mode = "reflect"


class ReflectionPad2d(_PadNd):
    """Pad H and W with their reflection (the edge not repeated); padding < each size."""

    mode = "reflect"


class ReplicationPad1d(_PadNd):
    """Pad the last dim by repeating its edge values."""

    dims = 1
    mode = "replicate"


class ReplicationPad2d(_PadNd):
    """Pad H and W by repeating the edge values."""

    mode = "replicate"


class CircularPad1d(_PadNd):
    """Pad the last dim by wrapping around (the other end's values)."""

    dims = 1
    mode = "circular"


class CircularPad2d(_PadNd):
    """Pad H and W by wrapping around."""

    mode = "circular"


class ConstantPad1d(_PadNd):
    """Pad the last dim with `value`."""

    dims = 1

    def __init__(self, padding, value: float):
        super().__init__(padding)
        self.value = value

    def forward(self, x):
        return F.pad(x, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad2d(ConstantPad1d):
    """Pad H and W with `value`."""

    dims = 2


class ZeroPad1d(ConstantPad1d):
    """Pad the last dim with zeros."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad2d(ZeroPad1d):
    """Pad H and W with zeros."""

    dims = 2
