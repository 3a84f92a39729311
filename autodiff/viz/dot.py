"""`to_dot`: the Graphviz DOT text of a recorded graph (pure Python)."""

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from autodiff.engine import Node, graph_nodes
from autodiff.tensor import Tensor
from autodiff.viz.trace import trace_modules

# Values and gradients are shown by default up to this many elements: a 4x4 matrix still fits
# in a box; larger ones, when asked for, are summarised by numpy's "..." form.
SMALL = 16

_LEGEND_FREED = (
    "dashed grey: backward freed the arrays saved for it; a second backward through it\n"
    "fails (pass retain_graph=True to the first backward to keep them)"
)


@dataclass(eq=False)
class _TensorVertex:
    """A tensor of the graph: a leaf, the output of a node, or an output without a graph."""

    shape: tuple = ()
    dtype: object = None
    tensor: Tensor | None = None  # the tensor itself, when its values are known
    producer: object = None  # the node that made it; None for a leaf
    consumers: list = field(default_factory=list)  # nodes that take it as input
    output: bool = False


def _key(x):
    """The vertex key of a tensor, or of an edge's source (a node's output, or a leaf)."""
    if isinstance(x, Node):
        return ("out", id(x))
    if x.grad_fn is not None:
        return ("out", id(x.grad_fn))
    return ("leaf", id(x))


def _outputs(fn, tensor) -> list:
    if isinstance(tensor, Tensor):
        return [tensor]
    if not isinstance(tensor, list | tuple):
        raise TypeError(
            f"{fn}: expected a Tensor or a list of Tensors, got {type(tensor).__name__}"
        )
    for i, t in enumerate(tensor):
        if not isinstance(t, Tensor):
            raise TypeError(
                f"{fn}: expected a Tensor or a list of Tensors, got a {type(tensor).__name__} "
                f"whose item {i} is a {type(t).__name__}"
            )
    return list(tensor)


def _params(fn, params) -> dict:
    """`params` (a mapping or (name, tensor) pairs) as a dict, checked."""
    params = dict(params.items() if isinstance(params, Mapping) else params or ())
    for name, t in params.items():
        if not isinstance(t, Tensor):
            raise TypeError(f"{fn}: params[{name!r}] is a {type(t).__name__}, not a Tensor")
    return params


def _names(params, modules) -> dict:
    """Vertex key -> name, from the traced model's parameters and then `params`."""
    names = {}
    if modules is not None:  # reversed: a parameter shared under two names takes the first
        names.update((_key(p), name) for name, p in reversed(modules.parameters))
    names.update((_key(t), str(name)) for name, t in params.items())
    return names


def _collect(outputs, named):
    """The tensor vertices (in forward order, ops between them) and the forward edges."""
    roots = [t.grad_fn for t in outputs if t.grad_fn is not None]
    tensors = {}  # key -> _TensorVertex
    order = []  # vertex keys, forward order: ("op", node) and tensor keys
    edges = []
    for node in graph_nodes(roots):
        for source, shape, dtype in filter(None, node.edges):
            key = _key(source)
            if key not in tensors:  # a leaf, met at its first use
                tensors[key] = _TensorVertex(tensor=source)
                order.append(key)
            vertex = tensors[key]
            vertex.shape, vertex.dtype = shape, dtype
            vertex.consumers.append(node)
            edges.append((key, ("op", node)))
        order.append(("op", node))
        key = ("out", id(node))
        tensors[key] = _TensorVertex(producer=node)
        if node.retained is not None:
            tensors[key].tensor = node.retained()
        order.append(key)
        edges.append((("op", node), key))
    for t in outputs:
        key = _key(t)
        if key not in tensors:  # no graph: a leaf, or computed under no_grad
            tensors[key] = _TensorVertex()
            order.append(key)
        tensors[key].output = True
    for t in [*named, *outputs]:
        vertex = tensors.get(_key(t))
        if vertex is not None:
            vertex.tensor = t
            vertex.shape, vertex.dtype = t.shape, t.dtype
    return tensors, order, edges


def to_dot(
    tensor,
    params=None,
    show_values: bool | None = None,
    show_grads: bool | None = None,
    modules: trace_modules | None = None,
    depth: int | None = None,
) -> str:
    """The Graphviz DOT text of the graph that produced `tensor`.

    Parameters
    ----------
    tensor : Tensor or list of Tensor
        The output(s) whose graph to draw; one without a graph (a leaf, or computed under
        `no_grad`) is a single box.
    params : dict of str to Tensor, optional
        Names to show, e.g. `dict(model.named_parameters())`. Non-leaf tensors may be named too:
        their values are then known (and their gradients, if they called `retain_grad()`).
    show_values, show_grads : bool, optional
        Show the values (gradients), as they are now, of the tensors whose values are known;
        None (the default): of those with at most `SMALL` elements. Larger ones are summarised.
    modules : trace_modules, optional
        A trace of the forward pass that made `tensor`; names its parameters.
    depth : int, optional
        With `modules`: draw each module call at this nesting depth as one box.

    Returns
    -------
    str
        A `digraph`; node ids are numbered in forward order (t0, op0, m0...), so the text of
        the same computation is the same from run to run.

    Raises
    ------
    TypeError : `tensor` is not a Tensor or list of them, a `params` value is not a Tensor, or
        `modules` is not a `trace_modules`.
    ValueError : `depth` is negative, or given without `modules`.
    """
    outputs = _outputs("to_dot", tensor)
    params = _params("to_dot", params)
    if modules is not None and not isinstance(modules, trace_modules):
        raise TypeError(
            f"to_dot: modules= takes a trace_modules, got {type(modules).__name__} (record "
            "one with `with viz.trace_modules(model) as trace: out = model(x)`)"
        )
    if depth is not None and (modules is None or not isinstance(depth, int) or depth < 0):
        raise ValueError(
            f"to_dot: depth={depth!r} needs modules=trace (from `with viz.trace_modules(model) "
            "as trace: out = model(x)`) and a nesting depth >= 0"
        )
    names = _names(params, modules)
    tensors, order, edges = _collect(outputs, list(params.values()))
    group = {}  # node -> the module call (a box) it is drawn in
    if depth is not None:
        nodes = (key[1] for key in order if key[0] == "op")
        group = {node: call for node in nodes if (call := modules.box(node, depth)) is not None}
    params_keys = {key for key in names if key[0] == "leaf"}
    hidden = {key for key, v in tensors.items() if _inside_one_box(key, v, group, params_keys)}

    def drawn_as(key):
        return ("box", group[key[1]]) if key[0] == "op" and key[1] in group else key

    vertices = list(dict.fromkeys(drawn_as(key) for key in order if key not in hidden))
    lines = [
        "digraph autodiff {",
        '  graph [rankdir=LR, fontname="Helvetica", fontsize=10];',
        '  node [fontname="Helvetica"];',
    ]
    ids = {}
    counters = {"t": itertools.count(), "op": itertools.count(), "box": itertools.count()}
    for key in vertices:
        kind = key[0] if key[0] in ("op", "box") else "t"
        ids[key] = f"{'m' if kind == 'box' else kind}{next(counters[kind])}"
        if kind == "op":
            lines.append(_op_statement(ids[key], key[1].name, key[1].freed, "ellipse"))
        elif kind == "box":
            freed = any(n.freed for n, call in group.items() if call is key[1])
            lines.append(_op_statement(ids[key], key[1].label(), freed, "box3d"))
        else:
            label = _tensor_label(tensors[key], names.get(key), show_values, show_grads)
            lines.append(_tensor_statement(ids[key], label, tensors[key]))
    seen = set()
    for a, b in edges:
        a, b = drawn_as(a), drawn_as(b)
        # a box takes one edge from each tensor it uses, however many of its ops use it
        if a in hidden or b in hidden or ("box" in (a[0], b[0]) and (a, b) in seen):
            continue
        seen.add((a, b))
        lines.append(f"  {ids[a]} -> {ids[b]};")
    if any(key[1].freed for key in order if key[0] == "op"):
        lines.append(f"  graph [labelloc=b, fontcolor=grey40, label={_quote(_LEGEND_FREED)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _inside_one_box(key, vertex, group, params_keys) -> bool:
    """Whether a tensor is hidden inside one box: not an output, and made and used there (a
    parameter: only used there)."""
    if vertex.output or (vertex.producer is None and key not in params_keys):
        return False
    users = [*vertex.consumers, *([vertex.producer] if vertex.producer is not None else [])]
    boxes = {group.get(node) for node in users}
    return len(boxes) == 1 and None not in boxes


def _shown(flag, array) -> bool:
    return array.size <= SMALL if flag is None else bool(flag)


def _format(array) -> str:
    return np.array2string(
        np.asarray(array),
        separator=", ",
        threshold=SMALL,
        edgeitems=2,
        formatter={"float_kind": lambda v: f"{v:.4g}"},
    )


def _tensor_label(vertex, name, show_values, show_grads) -> str:
    shape = "scalar" if vertex.shape == () else str(tuple(vertex.shape))
    lines = [name] if name else []
    lines.append(f"{shape} {vertex.dtype}")
    t = vertex.tensor
    if t is not None and _shown(show_values, t.data):
        lines.append(f"value {_format(t.data)}")
    if t is not None and t.grad is not None and _shown(show_grads, t.grad.data):
        lines.append(f"grad {_format(t.grad.data)}")
    return "\n".join(lines)


def _tensor_statement(node_id, label, vertex) -> str:
    if vertex.output:
        fill = "darkolivegreen1"
    elif vertex.producer is None:
        fill = "lightblue"
    else:
        fill = "white"
    return f"  {node_id} [label={_quote(label)}, shape=box, style=filled, fillcolor={fill}];"


def _op_statement(node_id, label, freed, shape) -> str:
    """An op (an ellipse) or a module call (a box3d); dashed and grey when backward freed it."""
    fill = "lightgrey" if shape == "ellipse" else "lightyellow"
    style = 'style="filled,dashed", color=grey50, fontcolor=grey40' if freed else "style=filled"
    return f"  {node_id} [label={_quote(label)}, shape={shape}, {style}, fillcolor={fill}];"


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'
