"""A gradcheck that localises: every node of a recorded graph checked on its own inputs.

`gradcheck` says whether the gradient of a whole function is right; `gradcheck_graph` says which
op is wrong. Under `record_node_inputs()` every node keeps float copies of its inputs, its
attributes, the state of the random generators it may draw from, and the user's line that
created it. `gradcheck_graph` then re-runs each node's forward on float64 copies of those inputs
and compares its backward, a vector-Jacobian product u^T J with a random upstream u, with
central differences

    u . (f(x + eps e_j) - f(x - eps e_j)) / (2 eps)

at up to `max_elements` positions j of each input and along one random direction over all of
it. The report names the first node, in forward order, whose products disagree.

Where the two one-sided differences disagree, f is not differentiable there (relu at 0, a tie of
max, a rounding step), and that position is left out: at a kink any subgradient is a right
answer, so there is nothing to compare. Random ops re-run from the generator state they drew
from (dropout gets its own mask back); an op whose forward still gives different results on the
same inputs (it draws from numpy's global generator, say) is skipped, and the report says why.

    with ad.record_node_inputs():  # a normal forward pass; nodes keep what a re-run needs
        loss = F.cross_entropy(model(x), y)
    print(ad.gradcheck_graph(loss, raise_exception=False))
    loss.backward()  # the graph is not touched by the check

or `ad.gradcheck_graph(lambda x, y: F.cross_entropy(model(x), y), [x, y])`, which runs the
function once under `record_node_inputs()`.
"""

import linecache
import os
import sys
from dataclasses import dataclass, field

import numpy as np

from autodiff import random
from autodiff.anomaly import LIBRARY_PATHS
from autodiff.engine import Node, enable_grad, graph_nodes, reduce_to_shape
from autodiff.function import recording
from autodiff.gradcheck import GradcheckError, compare, overall_rel_diff, verdict
from autodiff.ops.normalization import BatchNorm
from autodiff.ops.sync_batch_norm import SyncBatchNorm, stats_from_inputs
from autodiff.tensor import Tensor

__all__ = ["gradcheck_graph", "record_node_inputs", "GraphcheckReport", "NodeReport"]


@dataclass
class Site:
    """Where a node was created: the user's line, and the library layer it went through."""

    filename: str
    lineno: int
    function: str
    layer: str | None  # the innermost library Module whose forward made the op, e.g. "Conv2d"

    def short(self) -> str:
        """file:line, and the layer."""
        via = f" ({self.layer})" if self.layer else ""
        return f"{os.path.basename(self.filename)}:{self.lineno}{via}"

    def __str__(self):
        code = linecache.getline(self.filename, self.lineno).strip()
        via = f" (through {self.layer}.forward)" if self.layer else ""
        return f"{self.filename}:{self.lineno} in {self.function}{via}: {code}"


@dataclass
class _Recorded:
    """What a node needs to run its forward again."""

    arrays: tuple
    attrs: dict
    rng: list  # (generator, or None for the global one; its state before forward)
    site: Site


class record_node_inputs:  # noqa: N801 - a context manager, named as no_grad
    """Context manager: every node recorded inside keeps copies of its inputs, attributes and
    random state, and the user's line that created it, so that `gradcheck_graph` can check it.

    Per thread, as grad mode. Costs a copy of every op's inputs and a look at the call stack
    while on; nothing when off.
    """

    def __enter__(self):
        self._prev = recording.hook
        recording.hook = _keep_inputs

    def __exit__(self, *exc):
        recording.hook = self._prev
        return False


def _keep_inputs(node, arrays, attrs):
    """The recording hook: attach a `_Recorded` to `node` (Function.apply calls it)."""
    rng = [(None, random.default_generator().bit_generator.state)]
    generator = attrs.get("generator")
    if isinstance(generator, np.random.Generator | random.Generator):
        numpy_generator = random.resolve(generator)
        rng.append((numpy_generator, numpy_generator.bit_generator.state))
    node.recorded = _Recorded(
        tuple(_copy_input(a) for a in arrays),
        {k: _copy(v) for k, v in attrs.items()},
        rng,
        _creation_site(sys._getframe(2)),
    )


def _copy(value):
    return np.array(value) if isinstance(value, np.ndarray) else value


def _copy_input(value):
    """A copy of an input array, or the constant itself; a numpy scalar, which is how ops with
    `Function.scalar_math` receive a 0-d tensor, as a 0-d array, so that it is checked as one."""
    return np.array(value) if isinstance(value, np.ndarray | np.generic) else value


def _creation_site(frame) -> Site | None:
    """The first frame outside the library, and the innermost library Module on the way."""
    layer = None
    while frame is not None and frame.f_code.co_filename.startswith(LIBRARY_PATHS):
        code = frame.f_code
        if layer is None and code.co_name == "forward" and "self" in code.co_varnames:
            layer = type(frame.f_locals["self"]).__name__
        frame = frame.f_back
    if frame is None:
        return None
    return Site(frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_qualname, layer)


@dataclass
class NodeReport:
    """The check of one node: `status` is "passed", "FAILED" or "skipped" (with `reason`)."""

    position: int  # in forward order, from 0
    op: str
    inputs: list  # "shape dtype" of every array input, "constant" for the others
    site: Site | None
    status: str
    reason: str = ""
    checks: list = field(default_factory=list)  # an InputReport per input that needs grad

    @property
    def rel_diff(self) -> float:
        """The course's relative difference over every checked product of this node."""
        return overall_rel_diff(self.checks) if self.checks else 0.0

    def summary(self) -> str:
        """One line: position, op, inputs, where, status and relative difference or reason."""
        outcome = f"rel diff {self.rel_diff:.2e}" if self.checks else self.reason
        at = "" if self.site is None else f" at {self.site.short()}"
        return f"#{self.position} {self.op}({', '.join(self.inputs)}){at}: {self.status}, {outcome}"

    def __str__(self):
        lines = [f"node #{self.position}: {self.op}", f"  inputs: {', '.join(self.inputs)}"]
        if self.site is not None:
            lines.append(f"  created at {self.site}")
        if self.reason:
            lines.append(f"  {self.status}: {self.reason}")
        if self.checks:
            rel = self.rel_diff
            lines.append(f"  rel diff over its inputs: {rel:.2e} ({verdict(rel)})")
        lines.extend("  " + line for check in self.checks for line in str(check).splitlines())
        return "\n".join(lines)


@dataclass
class GraphcheckReport:
    """What `gradcheck_graph` found, node by node in forward order; True when none failed."""

    nodes: list
    eps: float
    atol: float
    rtol: float
    max_elements: int

    @property
    def passed(self) -> bool:
        return self.first_failure is None

    @property
    def first_failure(self) -> NodeReport | None:
        """The first node in forward order whose backward disagrees with its forward."""
        return next((n for n in self.nodes if n.status == "FAILED"), None)

    def __bool__(self):
        return self.passed

    def __str__(self):
        counts = ", ".join(
            f"{sum(n.status == s for n in self.nodes)} {s.lower()}"
            for s in ("passed", "FAILED", "skipped")
        )
        head = (
            f"gradcheck_graph (eps={self.eps:g}, atol={self.atol:g}, rtol={self.rtol:g}, up to "
            f"{self.max_elements} elements per input): {'passed' if self.passed else 'FAILED'}; "
            f"{len(self.nodes)} nodes: {counts}"
        )
        lines = [head]
        if self.first_failure is not None:
            lines += ["first failing node (forward order):", str(self.first_failure)]
        lines.append("all nodes:")
        lines.extend("  " + n.summary() for n in self.nodes)
        return "\n".join(lines)


def gradcheck_graph(
    fn_or_output,
    inputs=(),
    *,
    eps=1e-6,
    atol=1e-5,
    rtol=1e-3,
    max_elements=64,
    seed=0,
    raise_exception=True,
):
    """Check the backward of every node of a graph on that node's own inputs, in float64.

    Parameters
    ----------
    fn_or_output : Tensor or callable
        An output whose graph was built under `record_node_inputs()` (check it before or after
        `backward`: the graph is not touched), or `fn(*inputs) -> Tensor`, run once here under
        `record_node_inputs()` (a forward pass like any other: BatchNorm's running statistics
        move).
    inputs : Tensor or sequence
        The arguments of `fn`; none with an output.
    eps : float
        Step of the central differences, on float64 copies of each node's inputs.
    atol, rtol : float
        A product passes when |numerical - analytical| <= atol + rtol * |numerical|.
    max_elements : int
        Positions of each node input perturbed one at a time (chosen at random, seeded); every
        input is also checked along one random direction over all its elements.
    seed : int
        Seed of the upstream vectors, directions and positions.
    raise_exception : bool
        Raise `GradcheckError` (with the report as `.report`) when a node fails.

    Returns
    -------
    GraphcheckReport
        Per node: op, input shapes and dtypes, the user's line that created it, and the course's
        relative difference; `.first_failure` is the first node in forward order that failed.

    Raises
    ------
    ValueError : the output has no graph, or no node of it was recorded.
    TypeError : `fn` does not return a Tensor, or inputs come with an output.
    """
    if isinstance(fn_or_output, Tensor):
        if inputs:
            raise TypeError("gradcheck_graph: inputs go with a function, not with an output")
        output = fn_or_output
    else:
        inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
        with record_node_inputs(), enable_grad():
            output = fn_or_output(*inputs)
        if not isinstance(output, Tensor):
            raise TypeError(
                f"gradcheck_graph: fn must return a Tensor, got {type(output).__name__}"
            )
    if output.grad_fn is None:
        raise ValueError(
            f"gradcheck_graph: the output (shape {output.shape} {output.dtype}) has no graph: "
            "nothing it depends on requires grad, or it was computed under no_grad"
        )
    nodes = graph_nodes([output.grad_fn])
    if all(getattr(n, "recorded", None) is None for n in nodes):
        raise ValueError(
            f"gradcheck_graph: no node of the graph ({len(nodes)} nodes, the last "
            f"{nodes[-1].name}) kept its inputs; build the output inside "
            "`with autodiff.record_node_inputs():`, or pass fn and inputs"
        )
    rng = np.random.default_rng(seed)
    with _generators_restored(nodes):
        reports = [
            _check_node(i, node, eps, atol, rtol, max_elements, rng) for i, node in enumerate(nodes)
        ]
    report = GraphcheckReport(reports, eps, atol, rtol, max_elements)
    if raise_exception and not report.passed:
        raise GradcheckError(report)
    return report


class _generators_restored:  # noqa: N801 - used as a context manager
    """Re-running random ops draws from the generators: put their states back afterwards."""

    def __init__(self, nodes):
        recorded = [getattr(n, "recorded", None) for n in nodes]
        self.generators = {
            id(g): g for r in recorded if r is not None for g, _ in r.rng if g is not None
        }

    def __enter__(self):
        self.global_state = random.default_generator().bit_generator.state
        self.states = [(g, g.bit_generator.state) for g in self.generators.values()]

    def __exit__(self, *exc):
        random.default_generator().bit_generator.state = self.global_state
        for g, state in self.states:
            g.bit_generator.state = state
        return False


class _Rerun:
    """A node's forward as a function of its inputs, on float64 copies, from its random state."""

    def __init__(self, node, recorded):
        self.fn = node.fn
        self.needs = node.needs_input_grad
        self.recorded = recorded
        self.arrays = [_float64(a) for a in recorded.arrays]
        self.attrs = {k: _float64(v) for k, v in recorded.attrs.items()}

    def __call__(self, changed=None, value=None):
        """(ctx, output) with input `changed` replaced by `value`."""
        arrays = list(self.arrays)
        if changed is not None:
            arrays[changed] = value
        for generator, state in self.recorded.rng:
            (generator or random.default_generator()).bit_generator.state = state
        attrs = self.attrs
        if self.fn in _ATTRS_FROM_INPUTS:
            attrs = _ATTRS_FROM_INPUTS[self.fn](arrays, attrs)
        ctx = Node(self.fn, [None] * len(arrays), self.needs)
        return ctx, np.asarray(self.fn.forward(ctx, *arrays, **attrs))


def _float64(value):
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return value.astype(np.float64)
    return value


def _batch_stats(arrays, attrs):
    """BatchNorm in training takes the batch's mean and variance as attributes, computed from
    x by its caller; its backward includes their dependence on x, so the re-run recomputes them."""
    if not attrs["batch_stats"]:
        return attrs
    x = arrays[0]
    axes = (0, *range(2, x.ndim))
    return {**attrs, "mean": x.mean(axis=axes), "var": x.var(axis=axes)}


# ops whose attributes are functions of their inputs, and how to recompute them
_ATTRS_FROM_INPUTS = {BatchNorm: _batch_stats, SyncBatchNorm: stats_from_inputs}


def _check_node(position, node, eps, atol, rtol, max_elements, rng):
    recorded = getattr(node, "recorded", None)
    inputs = [_describe(a) for a in recorded.arrays] if recorded else []
    report = NodeReport(position, _op_name(node.fn), inputs, recorded and recorded.site, "skipped")
    if recorded is None:
        report.reason = "created outside record_node_inputs(), its inputs were not kept"
        return report
    rerun = _Rerun(node, recorded)
    try:
        ctx, y = rerun()
        _, again = rerun()
    except Exception as e:  # noqa: BLE001 - any failure of a user's op is reported, not raised
        report.reason = f"forward raised {type(e).__name__}: {e}"
        return report
    if y.dtype != np.float64:
        report.reason = f"forward gives {y.dtype} from float64 inputs (a cast)"
    elif not np.all(np.isfinite(y)):
        report.reason = "the output holds NaN or Inf"
    elif not np.allclose(y, again, rtol=1e-10, atol=1e-12):
        report.reason = (
            "forward gives different outputs for the same inputs (random, and not "
            "through a generator= argument or the autodiff generator)"
        )
    if report.reason:
        return report
    u = np.asarray(rng.standard_normal(y.shape))
    try:
        grads = _input_grads(node, ctx, u.copy(), rerun.arrays)
    except Exception as e:  # noqa: BLE001 - a broken backward is the finding
        report.status, report.reason = "FAILED", f"backward raised {type(e).__name__}: {e}"
        return report
    checked = [i for i, edge in enumerate(node.edges) if edge is not None]
    try:
        report.checks = [
            _check_input(i, rerun, y, u, grads[i], eps, atol, rtol, max_elements, rng)
            for i in checked
        ]
    except Exception as e:  # noqa: BLE001 - as above, for the perturbed inputs
        report.reason = f"forward raised {type(e).__name__} on a perturbed input: {e}"
        return report
    if not any(c.worst for c in report.checks):  # nothing compared: all left out as kinks
        report.reason = "every position checked is a non-differentiable point"
        report.status, report.checks = "skipped", []
        return report
    report.status = "passed" if all(c.passed for c in report.checks) else "FAILED"
    return report


def _input_grads(node, ctx, u, arrays):
    """backward(u) per input, reduced to the input's shape, in float64 (zeros for None)."""
    grads = node.fn.backward(ctx, u)
    if type(grads) is not tuple:
        grads = (grads,)
    out = []
    for edge, x, g in zip(node.edges, arrays, grads + (None,) * (len(arrays) - len(grads))):
        if edge is None:
            out.append(None)
        elif g is None:
            out.append(np.zeros(x.shape))
        else:
            out.append(reduce_to_shape(np.asarray(g, np.float64), x.shape, np.float64))
    return out


def _check_input(i, rerun, y, u, g, eps, atol, rtol, max_elements, rng):
    """Compare u^T J with central differences for input i at sampled positions and along a
    random direction; positions where f is not differentiable are counted and left out."""
    x = rerun.arrays[i]
    n = x.size
    flat = np.arange(n) if n <= max_elements else np.sort(rng.choice(n, max_elements, False))
    positions = [tuple(int(p) for p in np.unravel_index(j, x.shape)) for j in flat]
    direction = np.asarray(rng.standard_normal(x.shape))
    direction /= np.linalg.norm(direction) or 1.0

    def product(step):
        plus = rerun(i, np.asarray(x + step))[1]  # asarray: 0-d sums are numpy scalars
        minus = rerun(i, np.asarray(x - step))[1]
        return np.sum(u * (plus - y)) / eps, np.sum(u * (y - minus)) / eps

    rows = []  # (position, numerical, analytical)
    kinks = 0
    for pos in [*positions, "random direction"]:
        if pos == "random direction":
            step, analytical = eps * direction, float(np.sum(g * direction))
        else:
            step = np.zeros(x.shape)
            step[pos] = eps
            analytical = float(g[pos])
        ahead, behind = product(step)
        if not abs(ahead - behind) <= atol + rtol * max(abs(ahead), abs(behind)):
            kinks += 1  # one-sided slopes differ (or are not finite): not differentiable here
            continue
        rows.append((pos, (ahead + behind) / 2, analytical))
    note = f"{len(positions)} of {n} elements and a random direction"
    if kinks:
        note += f"; {kinks} at non-differentiable points left out"
    num, ana = (np.array([row[k] for row in rows]) for k in (1, 2))
    return compare(i, x.shape, num, ana, lambda k: rows[k][0], atol, rtol, 3, note)


def _op_name(fn) -> str:
    """The op's class name, prefixed by its module when it is not one of the library's ops."""
    if fn.__module__.startswith("autodiff."):
        return fn.__qualname__
    return f"{fn.__module__}.{fn.__qualname__}"


def _describe(value) -> str:
    if isinstance(value, np.ndarray):
        return f"{value.shape} {value.dtype}"
    return "None" if value is None else "constant"
