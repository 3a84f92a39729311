"""The library's random number generator: one numpy Generator, reseeded by `manual_seed`."""

import numpy as np

_generator = np.random.default_rng(0)


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the global generator (used by rand, randn, init and dropout); returns it."""
    global _generator
    _generator = np.random.default_rng(seed)
    return _generator


def default_generator() -> np.random.Generator:
    return _generator


def resolve(generator=None) -> np.random.Generator:
    """`generator` itself, a new Generator seeded with an int, or the global one for None."""
    if generator is None:
        return _generator
    if isinstance(generator, np.random.Generator):
        return generator
    return np.random.default_rng(generator)
