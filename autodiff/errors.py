"""The library's exception classes, each also an instance of what PyTorch raises.

PyTorch raises `RuntimeError` for shapes that do not fit and `IndexError` for a dimension out of
range; our documentation has always promised `ValueError` for both. Each class below is both, so
`except RuntimeError` ported from a PyTorch script and `except ValueError` written against our
docs catch the same errors.
"""


class ShapeError(ValueError, RuntimeError):
    """Shapes (or sizes) of an op's inputs that do not fit together."""


class DimError(IndexError, ValueError):
    """A dimension index outside [-ndim, ndim) of the tensor it refers to."""
