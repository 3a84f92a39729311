"""The library's random number generator: one numpy Generator, reseeded by `manual_seed`."""

import numpy as np

from autodiff.device import check as check_device

_generator = np.random.default_rng(0)


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the global generator (used by rand, randn, init and dropout); returns it."""
    global _generator
    _generator = np.random.default_rng(seed)
    return _generator


def default_generator() -> np.random.Generator:
    return _generator


class Generator:
    """A source of random numbers to pass as `generator=`, as `torch.Generator`.

    >>> g = Generator().manual_seed(42)  # the same numbers on every run
    """

    def __init__(self, device="cpu"):
        check_device(device, "Generator")
        self.manual_seed(np.random.SeedSequence().entropy % 2**63)

    def manual_seed(self, seed: int):
        """Restart from `seed`; returns self, so `Generator().manual_seed(0)` is one line."""
        self._seed = int(seed)
        self.numpy = np.random.default_rng(self._seed)
        return self

    def initial_seed(self) -> int:
        """The seed given to `manual_seed` last."""
        return self._seed


def own(generator=None) -> np.random.Generator | None:
    """What an object that draws numbers keeps of a `generator=` argument: None stays None (the
    global generator, at each use), and a seed becomes one Generator for the object's life."""
    return None if generator is None else resolve(generator)


def resolve(generator=None) -> np.random.Generator:
    """The numpy Generator behind `generator`: the global one for None, an `autodiff.Generator`'s,
    a numpy Generator itself, or a new one seeded with an int."""
    if generator is None:
        return _generator
    if isinstance(generator, np.random.Generator):
        return generator
    if isinstance(generator, Generator):
        return generator.numpy
    return np.random.default_rng(generator)
