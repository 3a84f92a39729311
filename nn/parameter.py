"""`Parameter`: a leaf tensor that a `Module` registers as one of its learnable weights."""

import numpy as np

from autodiff import dtypes
from autodiff.tensor import Tensor


class Parameter(Tensor):
    """A tensor that is a module parameter: assigning it to a `Module` attribute registers it.

    Parameters
    ----------
    data : Tensor, array_like or None
        The initial values. A float32 or float64 Tensor is shared (not copied), as
        `torch.nn.Parameter` shares its tensor's storage; anything else is copied. The dtype is
        float32 unless the data is float64. None gives an empty float32 parameter.
    requires_grad : bool
        True by default: parameters are the leaves that `backward()` fills `.grad` for.

    A Parameter is always a leaf. Ops on it return plain Tensors.
    """

    __slots__ = ()

    def __init__(self, data=None, requires_grad: bool = True):
        version = None
        if data is None:
            array = np.empty(0, dtypes.float32)
        elif isinstance(data, Tensor) and dtypes.is_floating(data.dtype):
            array, version = data.data, data._version_counter
        else:
            # Python floats become float32 here, as in `tensor()`; ints and bools become float32
            array = dtypes.to_array(data.data if isinstance(data, Tensor) else data)
            if array.dtype != dtypes.float64 and array.dtype != dtypes.float32:
                array = array.astype(dtypes.float32)
        self._init_leaf(array, version)
        self.requires_grad = requires_grad

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()
