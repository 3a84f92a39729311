"""Search spaces: where each hyperparameter is drawn from, on the scale it should be drawn on.

The course's rules: sample at random (never on a grid), on the right scale, coarse to fine.

- `uniform(a, b)`: a value uniform in [a, b] (e.g. a dropout rate, the number of units).
- `log_uniform(a, b)`: 10**r with r uniform in [log10 a, log10 b] (a learning rate, weight decay):
  each decade between a and b gets the same number of samples.
- `one_minus_log_uniform(a, b)`: 1 - 10**r, with r drawn so the value lies in [a, b] (a momentum
  beta in [0.9, 0.999]: as many samples in [0.9, 0.99] as in [0.99, 0.999], where the averaging
  window 1 / (1 - beta) changes most).
- `int_uniform(a, b)`: an integer in [a, b], both included; `log=True` draws it on the log scale.
  For powers of two (mini-batch sizes), `choice([16, 32, 64, 128])` is usually clearer.
- `choice(values)`: one of a list of options, each as likely.

A search space is a dict name -> space; a value that is not a space is a constant passed to every
trial as it is. `space.sample(rng, n)` returns n plain Python values; `space.narrow(values)`
returns the smallest space of the same kind that holds `values` (coarse to fine: the search
narrows each space around its best trials). Because every scale is monotone, the box around the
values is [min, max] on any of them; what changes with the scale is how the narrowed box is
sampled. Narrowed to a single value, a space becomes `choice([value])`.
"""

import math
from collections.abc import Mapping, Sequence

import numpy as np


class Space:
    """A distribution of one hyperparameter.

    Attributes
    ----------
    log : bool
        Whether plots should put it on a log axis (after `axis_values`).
    """

    log = False

    def sample(self, rng: np.random.Generator, n: int) -> list:
        """n independent values drawn with numpy Generator `rng`, as Python scalars."""
        raise NotImplementedError

    def narrow(self, values: Sequence) -> "Space":
        """The smallest space of this kind that holds every one of `values` (ValueError if one
        is outside this space)."""
        raise NotImplementedError

    def axis_values(self, values: Sequence) -> np.ndarray:
        """Positions of `values` on a plot's x axis (1 - beta for `one_minus_log_uniform`, an
        option's index for `choice`)."""
        return np.asarray(values, dtype=np.float64)

    def axis_label(self, name: str) -> str:
        """The x-axis label of a plot of the hyperparameter `name`."""
        return name


class _Interval(Space):
    """A continuous space on [a, b], drawn uniformly after the monotone map `_to_scale`."""

    name = "uniform"

    def __init__(self, a: float, b: float):
        a, b = float(a), float(b)
        if not (math.isfinite(a) and math.isfinite(b)):
            raise ValueError(f"{self.name}: bounds must be finite, got a={a}, b={b}")
        if a >= b:
            raise ValueError(
                f"{self.name}: a={a} must be less than b={b} (for one value, use choice([{a}]))"
            )
        self.a, self.b = a, b

    def _to_scale(self, x):
        return x

    def _from_scale(self, r):
        return r

    def sample(self, rng, n):
        _check_count(self.name, n)
        lo, hi = sorted((self._to_scale(self.a), self._to_scale(self.b)))
        # clipped because the maps back can land an ulp outside [a, b]
        values = np.clip(self._from_scale(rng.uniform(lo, hi, size=n)), self.a, self.b)
        return values.tolist()

    def narrow(self, values):
        lo, hi = _bounds(self, values)
        if lo == hi:
            return Choice([lo])
        return type(self)(lo, hi)

    def __contains__(self, value):
        return isinstance(value, int | float) and self.a <= value <= self.b

    def __repr__(self):
        return f"{self.name}({self.a:g}, {self.b:g})"

    def __eq__(self, other):
        return type(other) is type(self) and (self.a, self.b) == (other.a, other.b)


class Uniform(_Interval):
    """A float uniform in [a, b]."""


class LogUniform(_Interval):
    """10**r with r uniform in [log10 a, log10 b]; 0 < a < b. E.g. a learning rate."""

    name = "log_uniform"
    log = True

    def __init__(self, a: float, b: float):
        super().__init__(a, b)
        if self.a <= 0:
            raise ValueError(f"log_uniform: a={self.a} must be positive (the scale is log10)")

    def _to_scale(self, x):
        return np.log10(x)

    def _from_scale(self, r):
        return 10.0**r


class OneMinusLogUniform(_Interval):
    """1 - 10**r, r drawn so the value lies in [a, b]; a < b < 1. E.g. a momentum beta.

    Plots show it as 1 - value on a log axis.
    """

    name = "one_minus_log_uniform"
    log = True

    def __init__(self, a: float, b: float):
        super().__init__(a, b)
        if self.b >= 1:
            raise ValueError(
                f"one_minus_log_uniform: b={self.b} must be less than 1 (the scale is "
                "log10(1 - value))"
            )

    def _to_scale(self, x):
        return np.log10(1.0 - x)

    def _from_scale(self, r):
        return 1.0 - 10.0**r

    def axis_values(self, values):
        return 1.0 - np.asarray(values, dtype=np.float64)

    def axis_label(self, name):
        return f"1 - {name}"


class IntUniform(Space):
    """An integer in [a, b], both included; with `log=True`, floor(10**r) for r uniform in
    [log10 a, log10(b + 1)), so each decade gets the same share (needs a >= 1)."""

    def __init__(self, a: int, b: int, log: bool = False):
        if not all(isinstance(v, int | np.integer) for v in (a, b)):
            raise TypeError(f"int_uniform: bounds must be integers, got a={a!r}, b={b!r}")
        if a >= b:
            raise ValueError(
                f"int_uniform: a={a} must be less than b={b} (for one value, use choice([{a}]))"
            )
        if log and a < 1:
            raise ValueError(f"int_uniform: a={a} must be at least 1 with log=True")
        self.a, self.b, self.log = int(a), int(b), bool(log)

    def sample(self, rng, n):
        _check_count("int_uniform", n)
        if not self.log:
            return rng.integers(self.a, self.b, size=n, endpoint=True).tolist()
        r = rng.uniform(np.log10(self.a), np.log10(self.b + 1), size=n)
        return np.clip(np.floor(10.0**r), self.a, self.b).astype(np.int64).tolist()

    def narrow(self, values):
        lo, hi = _bounds(self, values)
        if lo == hi:
            return Choice([lo])
        return IntUniform(lo, hi, log=self.log)

    def __contains__(self, value):
        return isinstance(value, int | np.integer) and self.a <= value <= self.b

    def __repr__(self):
        return f"int_uniform({self.a}, {self.b}{', log=True' if self.log else ''})"

    def __eq__(self, other):
        return isinstance(other, IntUniform) and (self.a, self.b, self.log) == (
            other.a,
            other.b,
            other.log,
        )


class Choice(Space):
    """One of `values`, each as likely."""

    def __init__(self, values: Sequence):
        if isinstance(values, str | bytes) or not isinstance(values, Sequence):
            raise TypeError(f"choice: values must be a list of options, got {values!r}")
        if len(values) == 0:
            raise ValueError("choice: values is empty; give at least one option")
        self.values = list(values)

    def sample(self, rng, n):
        _check_count("choice", n)
        return [self.values[i] for i in rng.integers(len(self.values), size=n)]

    def narrow(self, values):
        missing = [v for v in values if v not in self]
        if missing:
            raise ValueError(f"{self!r}.narrow: {missing[0]!r} is not one of the options")
        if len(values) == 0:
            raise ValueError(f"{self!r}.narrow: no values to narrow around")
        return Choice([v for v in self.values if v in values])

    def axis_values(self, values):
        return np.array([self.values.index(v) for v in values], dtype=np.float64)

    def __contains__(self, value):
        return value in self.values

    def __repr__(self):
        return f"choice({self.values!r})"

    def __eq__(self, other):
        return isinstance(other, Choice) and self.values == other.values


uniform = Uniform
log_uniform = LogUniform
one_minus_log_uniform = OneMinusLogUniform
int_uniform = IntUniform
choice = Choice


def _check_count(name, n):
    if not isinstance(n, int | np.integer) or n < 0:
        raise ValueError(f"{name}.sample: n must be a non-negative integer, got {n!r}")


def _bounds(space, values):
    """(min, max) of `values`, after checking each lies in `space`."""
    values = list(values)
    if not values:
        raise ValueError(f"{space!r}.narrow: no values to narrow around")
    outside = [v for v in values if v not in space]
    if outside:
        raise ValueError(f"{space!r}.narrow: {outside[0]!r} lies outside the space")
    return min(values), max(values)


def check_space(space: Mapping) -> None:
    """Raise a ValueError/TypeError naming the problem if `space` is not a dict name -> value."""
    if not isinstance(space, Mapping):
        raise TypeError(f"search: space must be a dict name -> space, got {type(space).__name__}")
    for name in space:
        if not isinstance(name, str):
            raise TypeError(f"search: hyperparameter names must be strings, got {name!r}")


def sample_config(space: Mapping, rng: np.random.Generator) -> dict:
    """One config (a dict name -> value) drawn from `space` with `rng`, in the dict's order;
    constants are copied in."""
    return {name: s.sample(rng, 1)[0] if isinstance(s, Space) else s for name, s in space.items()}


def narrow_space(space: Mapping, configs: Sequence[Mapping]) -> dict:
    """`space` with each of its spaces narrowed around the values `configs` gave it."""
    return {
        name: s.narrow([c[name] for c in configs]) if isinstance(s, Space) else s
        for name, s in space.items()
    }
