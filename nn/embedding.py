"""`Embedding`: a lookup table of learned vectors, indexed by integers."""

import numpy as np

from autodiff import dtypes
from autodiff.device import check as check_device
from autodiff.engine import no_grad
from autodiff.errors import ShapeError
from nn import functional as F
from nn import init
from nn.module import Module
from nn.parameter import Parameter


class Embedding(Module):
    """Row i of `weight` for each index i of the input, as `torch.nn.Embedding`.

    Parameters
    ----------
    num_embeddings, embedding_dim : int
        Rows (the vocabulary size) and columns of the table.
    padding_idx : int, optional
        This row starts at zero and gets no gradient (negative counts from the end).
    max_norm, norm_type, scale_grad_by_freq, sparse
        As `F.embedding` (max_norm renormalises looked-up rows in place; sparse is accepted
        and the gradient is dense).
    _weight : Tensor `(num_embeddings, embedding_dim)`, optional
        Use this table (shared, not copied) instead of a random one.
    _freeze : bool
        The weight does not require grad.
    device : "cpu" or None.  dtype : float32 (default) or float64.

    Attributes
    ----------
    weight : Parameter `(num_embeddings, embedding_dim)`
        Initialised N(0, 1), with the padding row zero.

    Shapes: input `(*)` of integers, output `(*, embedding_dim)`.

    Raises
    ------
    IndexError : padding_idx out of range.  ShapeError : `_weight` of another shape.
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
        _weight=None,
        _freeze: bool = False,
        device=None,
        dtype=None,
    ):
        super().__init__()
        check_device(device, "Embedding")
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise IndexError(
                    f"Embedding: padding_idx {padding_idx} is out of range for "
                    f"{num_embeddings} embeddings"
                )
            padding_idx %= num_embeddings
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.padding_idx = padding_idx
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.sparse = sparse
        if _weight is None:
            dtype = dtypes.parameter_dtype("Embedding", dtype)
            array = np.empty((num_embeddings, embedding_dim), dtype)
            self.weight = Parameter(array, requires_grad=not _freeze)
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ShapeError(
                    f"Embedding: _weight of shape {tuple(_weight.shape)} does not match "
                    f"({num_embeddings}, {embedding_dim})"
                )
            self.weight = Parameter(_weight, requires_grad=not _freeze)

    def reset_parameters(self) -> None:
        """Redraw the weight from N(0, 1) (global generator) and zero the padding row."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx] = 0

    def forward(self, input):  # noqa: A002 - PyTorch's name
        return F.embedding(
            input,
            self.weight,
            self.padding_idx,
            self.max_norm,
            self.norm_type,
            self.scale_grad_by_freq,
            self.sparse,
        )

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            s += ", scale_grad_by_freq=True"
        if self.sparse:
            s += ", sparse=True"
        return s

    @classmethod
    def from_pretrained(
        cls,
        embeddings,
        freeze: bool = True,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
    ):
        """An Embedding holding `embeddings` (a 2-d float Tensor, shared as the weight; its
        padding row is kept as it is). With `freeze` (the default) it is not trained.

        Raises ShapeError if embeddings is not 2-d.
        """
        if embeddings.ndim != 2:
            raise ShapeError(
                f"Embedding.from_pretrained: embeddings must be 2-d, got shape {embeddings.shape}"
            )
        rows, cols = embeddings.shape
        return cls(
            rows,
            cols,
            padding_idx=padding_idx,
            max_norm=max_norm,
            norm_type=norm_type,
            scale_grad_by_freq=scale_grad_by_freq,
            sparse=sparse,
            _weight=embeddings,
            _freeze=freeze,
        )
