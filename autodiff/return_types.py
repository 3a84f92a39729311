"""The named tuples that ops returning two tensors give back, as `torch.return_types`.

`x.max(dim=1)` is a `return_types.max(values, indices)`: a tuple, so `values, indices = ...`
unpacks it and `[0]` is the values, with the fields also reachable by name (`.values`,
`.indices`). Each op has its own type, named after it, as in PyTorch.
"""

from collections import namedtuple

__all__ = [
    "max",
    "min",
    "aminmax",
    "sort",
    "topk",
    "kthvalue",
    "median",
    "nanmedian",
    "mode",
    "cummax",
    "cummin",
]


def _named_pair(op: str, first: str = "values", second: str = "indices") -> type:
    """The tuple type op returns: two fields, `values` (same dtype as the input) and `indices`
    (int64) unless named otherwise."""
    cls = namedtuple(op, (first, second))
    cls.__module__ = __name__
    cls.__doc__ = f"What `{op}` returns: ({first}, {second})."
    return cls


max = _named_pair("max")  # noqa: A001 - PyTorch's name
min = _named_pair("min")  # noqa: A001 - PyTorch's name
aminmax = _named_pair("aminmax", "min", "max")
sort = _named_pair("sort")
topk = _named_pair("topk")
kthvalue = _named_pair("kthvalue")
median = _named_pair("median")
nanmedian = _named_pair("nanmedian")
mode = _named_pair("mode")
cummax = _named_pair("cummax")
cummin = _named_pair("cummin")
