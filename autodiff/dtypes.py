"""The dtypes a Tensor may hold, and how data given by the user is turned into an array."""

import numpy as np

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int32 = np.dtype(np.int32)
int64 = np.dtype(np.int64)
uint8 = np.dtype(np.uint8)
bool_ = np.dtype(np.bool_)

FLOAT_DTYPES = (float32, float64)
_SUPPORTED = {float32, float64, np.dtype(np.int8), np.dtype(np.int16), int32, int64, uint8, bool_}


def is_floating(dtype) -> bool:
    return dtype in FLOAT_DTYPES


def to_array(data, dtype=None) -> np.ndarray:
    """An ndarray for `tensor(data, dtype)`.

    An ndarray keeps its dtype (as `torch.tensor` does); Python floats become float32, ints
    int64 and bools bool. `dtype` converts explicitly. Unsupported dtypes raise TypeError.
    """
    if type(data) is float and dtype is None:  # the common scalar case, without a cast
        return np.array(data, dtype=float32)
    if dtype is not None:
        dtype = np.dtype(dtype)
        _check_supported(dtype, data)
        return np.array(data, dtype=dtype)
    if isinstance(data, np.ndarray | np.generic):
        array = np.array(data)
    else:
        array = np.array(data)
        if array.dtype == float64:
            array = array.astype(float32)
    _check_supported(array.dtype, data)
    return array


def _check_supported(dtype, data):
    if dtype not in _SUPPORTED:
        raise TypeError(
            f"tensor: dtype {dtype} is not supported (float32, float64, integer and bool "
            f"tensors are); got data of type {type(data).__name__}"
        )
