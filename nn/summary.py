"""`summary`: the per-layer table of a model (output shapes, parameters, multiply-adds), in the
spirit of torchinfo's `summary`.

    >>> import nn
    >>> from nn.models import lenet5
    >>> result = nn.summary(lenet5(), (1, 1, 32, 32), print_table=False)  # True prints it
    >>> result.total_params, result.rows[0].output_shape
    (61706, (1, 6, 28, 28))

It runs one forward pass on zeros under `no_grad`, in eval mode (so batch norm's running
statistics do not move), with a forward hook on every sub-module; the hooks are removed and each
module's training flag restored afterwards, even when the forward pass raises.

Multiply-adds count one multiplication with its accumulation: a convolution's output element
takes `in_channels / groups * kh * kw` of them, a Linear output element `in_features` (a
transposed convolution: each input element `out_channels / groups * kh * kw`). Biases,
activations, pooling and normalisation count 0, as in the course's tables.
"""

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from autodiff import dtypes
from autodiff.engine import no_grad
from autodiff.tensor import Tensor
from nn.conv import _ConvNd
from nn.linear import Linear
from nn.module import Module


@dataclass
class LayerRow:
    """One call of a layer in the forward pass.

    Attributes
    ----------
    name : str
        Dotted path in the model, e.g. 'features.0' ('' for the model itself).
    type : str
        The class name, e.g. 'Conv2d'.
    output_shape : tuple of int, or list of them
        The shape of the output; a list of shapes for a layer returning several tensors.
    output_size : int
        Number of output elements (the whole batch).
    output_bytes : int
        Bytes of the output arrays.
    params : int
        Parameters the layer owns itself (not its children); 0 for a repeated call.
    trainable : int
        How many of `params` require grad.
    mult_adds : int
        Multiply-adds of this call (see the module docstring).
    """

    name: str
    type: str
    output_shape: tuple | list
    output_size: int
    output_bytes: int
    params: int
    trainable: int
    mult_adds: int


@dataclass
class Summary:
    """What `summary` returns; `str(result)` is the table.

    Attributes
    ----------
    rows : list of LayerRow
        In the order the layers were called.
    total_params, trainable_params, frozen_params : int
        Over the whole model, each shared parameter once; frozen ones have requires_grad False.
    total_mult_adds : int
        Sum over the rows.
    input_bytes, activation_bytes, param_bytes : int
        Bytes of the input, of all rows' outputs (the activations of one forward pass) and of
        the parameters.
    """

    model_name: str
    input_shapes: list
    rows: list
    total_params: int
    trainable_params: int
    total_mult_adds: int
    input_bytes: int
    activation_bytes: int
    param_bytes: int

    @property
    def frozen_params(self) -> int:
        return self.total_params - self.trainable_params

    def __str__(self) -> str:
        header = ("Layer (type)", "Output shape", "Param #", "Mult-adds")
        cells = [
            (
                f"{row.name or self.model_name} ({row.type})",
                _shape_text(row.output_shape),
                f"{row.params:,}",
                f"{row.mult_adds:,}",
            )
            for row in self.rows
        ]
        widths = [max(len(line[i]) for line in [header, *cells]) for i in range(4)]
        rule = "=" * (sum(widths) + 6)

        def line(values):
            left = f"{values[0]:<{widths[0]}}  {values[1]:<{widths[1]}}"
            return f"{left}  {values[2]:>{widths[2]}}  {values[3]:>{widths[3]}}"

        mb = 1024**2
        inputs = ", ".join(_shape_text(s) for s in self.input_shapes)
        return "\n".join(
            [
                rule,
                line(header),
                rule,
                *(line(c) for c in cells),
                rule,
                f"Total params: {self.total_params:,}",
                f"Trainable params: {self.trainable_params:,}",
                f"Frozen params: {self.frozen_params:,}",
                f"Total mult-adds: {self.total_mult_adds:,}",
                rule,
                f"Input {inputs}: {self.input_bytes / mb:.2f} MB",
                f"Activations (forward pass): {self.activation_bytes / mb:.2f} MB",
                f"Params: {self.param_bytes / mb:.2f} MB",
                rule,
            ]
        )

    __repr__ = __str__


def summary(
    model: Module,
    input_size: Sequence,
    *,
    dtype=dtypes.float32,
    batch_size: int | None = None,
    print_table: bool = True,
) -> Summary:
    """Run `model` once on zeros and tabulate each layer: output shape, parameters, mult-adds.

    Parameters
    ----------
    model : Module
        Any module, containers and user-defined modules included. A row is made for each call
        of a module that has no children or owns parameters itself (a container's rows are
        its layers').
    input_size : tuple of int, or a list of tuples for a model taking several inputs
        The input shape, batch axis included (as torchinfo), e.g. `(1, 3, 32, 32)`; with
        `batch_size`, the shape of one example, e.g. `(3, 32, 32)`.
    dtype : float dtype, default float32
        Dtype of the zeros fed to the model.
    batch_size : int, optional
        Prepended to each input shape.
    print_table : bool, default True
        Print `str(result)`.

    Returns
    -------
    Summary
        `.rows` (LayerRow per call), `.total_params`, `.trainable_params`, `.frozen_params`,
        `.total_mult_adds`, `.input_bytes`, `.activation_bytes`, `.param_bytes`.

    Raises
    ------
    TypeError
        `model` is not a Module, or a bad `input_size`.
    RuntimeError
        The forward pass failed (the message names the input shapes; the cause is chained).
    """
    if not isinstance(model, Module):
        raise TypeError(f"summary: model must be an nn.Module, got {type(model).__name__}")
    shapes = _input_shapes(input_size, batch_size)
    inputs = [Tensor(np.zeros(shape, dtype)) for shape in shapes]
    names = {id(m): name for name, m in model.named_modules()}
    rows = []
    seen = set()

    def record(module, args, output):
        own = list(module.parameters(recurse=False))
        if own or not module._modules:
            first = id(module) not in seen
            seen.add(id(module))
            rows.append(_row(names.get(id(module), "?"), module, args, output, own, first))

    handles = [m.register_forward_hook(record) for m in model.modules()]
    try:
        with eval_mode(model), no_grad():
            model(*inputs)
    except Exception as exc:
        text = ", ".join(f"{s} {np.dtype(dtype)}" for s in shapes)
        raise RuntimeError(
            f"summary: the forward pass of {type(model).__name__} failed on input {text}: {exc}"
        ) from exc
    finally:
        for handle in handles:
            handle.remove()
    params = list(model.parameters())
    result = Summary(
        model_name=type(model).__name__,
        input_shapes=shapes,
        rows=rows,
        total_params=sum(p.numel() for p in params),
        trainable_params=sum(p.numel() for p in params if p.requires_grad),
        total_mult_adds=sum(row.mult_adds for row in rows),
        input_bytes=sum(x.data.nbytes for x in inputs),
        activation_bytes=sum(row.output_bytes for row in rows),
        param_bytes=sum(p.data.nbytes for p in params),
    )
    if print_table:
        print(result)
    return result


@contextlib.contextmanager
def eval_mode(module: Module) -> Iterator[Module]:
    """Put `module` in eval mode for a `with` block, then give each sub-module back its own
    training flag (also when the block raises, and also where the flags were mixed)."""
    modes = [(m, m.training) for m in module.modules()]
    try:
        yield module.eval()
    finally:
        for m, training in modes:
            m.training = training


def _input_shapes(input_size, batch_size):
    """`input_size` as a list of shape tuples, with `batch_size` prepended if given."""
    many = isinstance(input_size, list) and all(isinstance(s, Sequence) for s in input_size)
    sizes = input_size if many and input_size else [input_size]
    shapes = []
    for size in sizes:
        if not isinstance(size, Sequence) or not all(
            isinstance(n, int | np.integer) and n >= 0 for n in size
        ):
            raise TypeError(
                f"summary: input_size must be a tuple of non-negative ints or a list of them, "
                f"got {input_size!r}"
            )
        prefix = () if batch_size is None else (batch_size,)
        shapes.append((*prefix, *(int(n) for n in size)))
    return shapes


def _row(name, module, args, output, own, first):
    """The LayerRow of one call of `module` with positional `args` and its `output`."""
    outputs = _tensors(output)
    shapes = [tuple(t.shape) for t in outputs]
    return LayerRow(
        name=name,
        type=type(module).__name__,
        output_shape=shapes[0] if len(shapes) == 1 else shapes,
        output_size=sum(t.numel() for t in outputs),
        output_bytes=sum(t.data.nbytes for t in outputs),
        params=sum(p.numel() for p in own) if first else 0,
        trainable=sum(p.numel() for p in own if p.requires_grad) if first else 0,
        mult_adds=_mult_adds(module, args, outputs),
    )


def _tensors(value):
    """The Tensors in a layer's output (a Tensor, or tuples / lists / dicts of them)."""
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, tuple | list):
        return [t for v in value for t in _tensors(v)]
    return []


def _mult_adds(module, args, outputs):
    """Multiply-adds of one call: per output (input, if transposed) element, the product of
    the weight's dims after the first; 0 for layers without a weight matrix."""
    if not isinstance(module, Linear | _ConvNd) or not outputs:
        return 0
    per_element = int(np.prod(module.weight.shape[1:]))
    if getattr(module, "transposed", False):
        return args[0].numel() * per_element
    return outputs[0].numel() * per_element


def _shape_text(shape) -> str:
    if isinstance(shape, list):
        return ", ".join(_shape_text(s) for s in shape)
    return "[" + ", ".join(str(n) for n in shape) + "]"
