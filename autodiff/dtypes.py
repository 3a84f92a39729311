"""The dtypes a Tensor may hold, and how data given by the user is turned into an array."""

import numpy as np

float16 = np.dtype(np.float16)
float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int8 = np.dtype(np.int8)
int16 = np.dtype(np.int16)
int32 = np.dtype(np.int32)
int64 = np.dtype(np.int64)
uint8 = np.dtype(np.uint8)
bool_ = np.dtype(np.bool_)

# PyTorch's other names for them (`autodiff` exports these too: `ad.long`, `ad.float`)
ALIASES = {
    "half": float16,
    "float": float32,
    "double": float64,
    "short": int16,
    "int": int32,
    "long": int64,
    "bool": bool_,
}

FLOAT_DTYPES = (float32, float64)  # the dtypes that compute and can require grad
# float16 tensors hold data (to convert, save and load) but do not compute: no kernel takes them
_SUPPORTED = {float16, float32, float64, int8, int16, int32, int64, uint8, bool_}


def is_floating(dtype) -> bool:
    return dtype in FLOAT_DTYPES


def as_dtype(dtype) -> np.dtype:
    """A supported dtype from a dtype, its name, or Python's float, int and bool (float is
    float64, as in PyTorch)."""
    try:
        resolved = np.dtype(dtype)
    except TypeError as e:
        raise TypeError(f"dtype: {dtype!r} is not a dtype") from e
    _check_supported(resolved, dtype)
    return resolved


def parameter_dtype(owner: str, dtype) -> np.dtype:
    """The dtype of a layer's parameters: float32 when `dtype` is None, else float32 or float64
    (parameters learn, so an integer dtype is refused rather than truncating every update)."""
    if dtype is None:
        return float32
    resolved = as_dtype(dtype)
    if resolved not in FLOAT_DTYPES:
        raise TypeError(f"{owner}: parameters must be float32 or float64, got dtype {resolved}")
    return resolved


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
            f"tensor: dtype {dtype} is not supported (float32, float64, float16 for storage, "
            f"integer and bool tensors are); got data of type {type(data).__name__}"
        )


def promote_types(a, b) -> np.dtype:
    """The dtype two tensors of dtypes a and b combine to, by PyTorch's table.

    As numpy's, except that an integer or bool meeting a float gives that float (numpy gives
    float64 for int64 with float32).
    """
    a, b = np.dtype(a), np.dtype(b)
    if a == b:
        return a
    if a.kind == "f" and b.kind != "f":
        return a
    if b.kind == "f" and a.kind != "f":
        return b
    return np.promote_types(a, b)


def combine_categories(higher, lower):
    """PyTorch's rule for a dtype from a higher-priority group of operands (`higher`) meeting one
    from a lower group (`lower`); either may be None (no operand in that group).

    The higher group's dtype wins unless the lower group is of a higher category (bool < integer
    < float): an int64 tensor with a float32 0-d tensor gives float32, a float32 tensor with a
    float64 0-d tensor stays float32.
    """
    if higher is None:
        return lower
    if lower is None or higher.kind == "f":
        return higher
    if higher.kind == "b" or lower.kind == "f":
        return promote_types(higher, lower)
    return higher
