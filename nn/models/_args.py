"""Argument checks the model constructors share, raised before any layer is built."""

import numbers


def positive_int(where: str, name: str, value) -> int:
    """`value` if it is an int >= 1; a ValueError naming `where` and `name` otherwise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{where}: {name} must be an int >= 1, got {value!r}")
    return int(value)


def positive_float(where: str, name: str, value) -> float:
    """`value` if it is a real number > 0; a ValueError naming `where` and `name` otherwise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0:
        raise ValueError(f"{where}: {name} must be a number > 0, got {value!r}")
    return float(value)
