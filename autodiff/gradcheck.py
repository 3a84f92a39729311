"""Gradient checking: the backward pass against central differences in float64.

    rel = ||g_num - g|| / (||g_num|| + ||g||)

per input, and once over all inputs' gradients concatenated (the course's single number over the
parameter vector); below 1e-7 the gradient is correct, up to 1e-5 look closer, up to 1e-3
suspicious, above that a bug. The pass/fail verdict is elementwise: |g_num - g| <= atol + rtol *
|g_num| everywhere.

While checking, every input tensor's `.data` is swapped for a float64 copy, and its original
array and `.grad` are put back afterwards: the caller's arrays are never written. So `fn` may use
its arguments or close over them (a model's parameters, say) -- both see the float64 copies.
"""

import math
from dataclasses import dataclass, field

import numpy as np

from autodiff.engine import backward, enable_grad
from autodiff.tensor import Tensor

BANDS = ((1e-7, "correct"), (1e-5, "look closer"), (1e-3, "suspicious"))


@dataclass
class InputReport:
    """The comparison for one input: relative difference, verdict, and the worst elements."""

    index: int
    shape: tuple
    rel_diff: float
    verdict: str
    passed: bool
    worst: list = field(default_factory=list)  # (position, numerical, analytical)
    norms: tuple = (0.0, 0.0, 0.0)  # ||g_num - g||, ||g_num||, ||g||: for the overall number
    note: str = ""  # what was compared, when not everything (gradcheck_graph)

    def __str__(self):
        lines = [
            f"input {self.index} {self.shape}: rel diff {self.rel_diff:.2e} ({self.verdict})"
            f"{'' if self.passed else ' FAILED'}{self.note and f'; {self.note}'}"
        ]
        for pos, num, ana in self.worst:
            lines.append(f"    at {pos}: numerical {num:+.8e}  analytical {ana:+.8e}")
        return "\n".join(lines)


@dataclass
class GradcheckReport:
    """What `gradcheck` found, per input; `bool(report)` is True when every input passed."""

    inputs: list
    eps: float
    atol: float
    rtol: float
    fast: bool

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.inputs)

    @property
    def max_rel_diff(self) -> float:
        return max((r.rel_diff for r in self.inputs), default=0.0)

    @property
    def rel_diff(self) -> float:
        """||g_num - g|| / (||g_num|| + ||g||) over every input's gradient concatenated."""
        return overall_rel_diff(self.inputs)

    def __bool__(self):
        return self.passed

    def plot(self, path=None, names=None):
        """A bar chart of each input's relative difference against the course's bands; returns
        the matplotlib Figure, also written to `path` if given (needs matplotlib; see
        `autodiff.gradcheck_plot`)."""
        from autodiff.gradcheck_plot import plot_gradcheck

        return plot_gradcheck(self, path, names)

    def __str__(self):
        mode = "one random direction" if self.fast else "full Jacobian"
        rel = self.rel_diff
        head = (
            f"gradcheck ({mode}, eps={self.eps:g}, atol={self.atol:g}, rtol={self.rtol:g}): "
            f"{'passed' if self.passed else 'FAILED'}; all inputs together: rel diff "
            f"{rel:.2e} ({verdict(rel)})"
        )
        return "\n".join([head, *(str(r) for r in self.inputs)])


def verdict(rel_diff: float) -> str:
    """The course's reading of a relative difference."""
    for bound, name in BANDS:
        if rel_diff < bound:
            return name
    return "bug"


def overall_rel_diff(reports) -> float:
    """The course's relative difference over the concatenation of the inputs' gradients."""
    return _relative(*(math.hypot(*column) for column in zip(*(r.norms for r in reports))))


def _relative(diff_norm, num_norm, ana_norm):
    total = num_norm + ana_norm
    return diff_norm / total if total > 0 else 0.0


def gradcheck(
    fn,
    inputs,
    *,
    eps=1e-6,
    atol=1e-5,
    rtol=1e-3,
    raise_exception=True,
    fast=False,
    n_worst=3,
    seed=0,
):
    """Compare the analytical gradient of `fn` with central differences, in float64.

    Parameters
    ----------
    fn : callable
        `fn(*inputs) -> Tensor`, deterministic. Any output shape: the whole Jacobian is checked.
    inputs : Tensor or sequence of Tensor
        Float tensors; those with `requires_grad` are checked (e.g. `model.parameters()`).
    eps, atol, rtol : float
        Step of the central difference; elementwise tolerance of the verdict.
    raise_exception : bool
        Raise `GradcheckError` (with the report) on failure instead of returning it.
    fast : bool
        Check one random direction per input (u^T J v) instead of the full Jacobian.

    Returns
    -------
    GradcheckReport
    """
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    checked = [i for i, t in enumerate(inputs) if t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad")
    with _float64_inputs(inputs), enable_grad():
        out = _call(fn, inputs)
        rng = np.random.default_rng(seed)
        reports = []
        for i in checked:
            if fast:
                num, ana = _directional(fn, inputs, i, out, eps, rng)
            else:
                num = _numerical_jacobian(fn, inputs, i, out.data.size, eps)
                ana = _analytical_jacobian(fn, inputs, i, out.data.size)
            reports.append(_compare(i, inputs[i].shape, num, ana, atol, rtol, n_worst, fast))
    report = GradcheckReport(reports, eps, atol, rtol, fast)
    if raise_exception and not report.passed:
        raise GradcheckError(report)
    return report


def numerical_grad(fn, inputs, eps=1e-6):
    """d fn / d input by central differences in float64, for every input (a list of arrays).

    `fn(*inputs)` must return a single-element tensor. The caller's arrays are not touched.
    """
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    with _float64_inputs(inputs):
        out = _call(fn, inputs)
        if out.data.size != 1:
            raise ValueError(f"numerical_grad: fn must return one element, got shape {out.shape}")
        return [
            _numerical_jacobian(fn, inputs, i, 1, eps).reshape(t.shape)
            for i, t in enumerate(inputs)
        ]


class GradcheckError(AssertionError):
    """Raised by `gradcheck` when the gradients disagree; `.report` holds the details."""

    def __init__(self, report):
        super().__init__(str(report))
        self.report = report


class _float64_inputs:  # noqa: N801 - used as a context manager
    """Swap each input's data for a float64 copy and its grad for None; restore on exit."""

    def __init__(self, inputs):
        self.inputs = inputs

    def __enter__(self):
        for t in self.inputs:
            if t.dtype.kind != "f":
                raise TypeError(
                    f"gradcheck: inputs must be float tensors, got {t.dtype} (shape {t.shape})"
                )
        self.saved = [(t.data, t.grad) for t in self.inputs]
        for t in self.inputs:
            t.data = t.data.astype(np.float64, copy=True)
            t.grad = None

    def __exit__(self, *exc):
        for t, (data, g) in zip(self.inputs, self.saved, strict=True):
            t.data, t.grad = data, g
        return False


def _call(fn, inputs):
    out = fn(*inputs)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}")
    if out.dtype != np.float64:
        raise TypeError(
            f"gradcheck: fn returned {out.dtype} from float64 inputs; something in fn casts "
            "(a float32 constant created inside fn?), so the check would not be in float64"
        )
    return out


def _numerical_jacobian(fn, inputs, i, n_out, eps):
    """J[k, j] = d out_k / d x_j by central differences; x is input i, flattened."""
    x = inputs[i].data
    jac = np.empty((n_out, x.size))
    # element by element in C order (as the analytical Jacobian), writing x itself: x.reshape(-1)
    # would be a copy, not a view, when x is not contiguous (a transposed input, say)
    for j, pos in enumerate(np.ndindex(x.shape)):
        orig = x[pos]
        x[pos] = orig + eps
        # copies: an output may be a view of the input being perturbed
        plus = _call(fn, inputs).data.reshape(-1).copy()
        x[pos] = orig - eps
        minus = _call(fn, inputs).data.reshape(-1).copy()
        x[pos] = orig
        jac[:, j] = (plus - minus) / (2 * eps)
    return jac


def _analytical_jacobian(fn, inputs, i, n_out):
    """J[k, j] from n_out backward passes, one per output element (one-hot gradients)."""
    x = inputs[i]
    jac = np.empty((n_out, x.data.size))
    out = _call(fn, inputs)
    for k in range(n_out):
        onehot = np.zeros(out.data.size)
        onehot[k] = 1
        jac[k] = _grad_wrt(out, x, onehot.reshape(out.shape), retain=True).reshape(-1)
    return jac


def _directional(fn, inputs, i, out, eps, rng):
    """u^T J v two ways, for random unit u (output space) and v (input i's space)."""
    x = inputs[i]
    u = rng.standard_normal(out.shape)
    v = rng.standard_normal(x.shape)
    v /= np.linalg.norm(v) or 1.0
    orig = x.data
    x.data = orig + eps * v
    plus = _call(fn, inputs).data.copy()
    x.data = orig - eps * v
    minus = _call(fn, inputs).data.copy()
    x.data = orig
    num = np.sum(u * (plus - minus)) / (2 * eps)
    # retain: the walk may reach a caller's graph upstream of x, which must stay usable
    g = _grad_wrt(_call(fn, inputs), x, u, retain=True)
    return np.array([[num]]), np.array([[np.sum(g * v)]])


def _grad_wrt(out, x, gradient, retain):
    if not out.requires_grad:
        return np.zeros(x.shape)
    (g,) = backward([out], [np.array(gradient, dtype=np.float64)], retain_graph=retain, inputs=[x])
    return np.zeros(x.shape) if g is None else g


def _compare(index, shape, num, ana, atol, rtol, n_worst, fast):
    def position(flat):
        k, j = np.unravel_index(flat, num.shape)
        if fast:
            return "random direction"
        at = tuple(int(p) for p in np.unravel_index(j, shape))
        return (int(k), at) if num.shape[0] > 1 else at  # (output element, input position)

    return compare(index, shape, num, ana, position, atol, rtol, n_worst)


def compare(index, shape, num, ana, position, atol, rtol, n_worst, note=""):
    """The InputReport of numerical against analytical values (arrays of one shape);
    `position(flat)` names the element at a flat index of them."""
    diff = np.abs(num - ana)
    norms = tuple(float(np.linalg.norm(a)) for a in (num - ana, num, ana))
    rel = _relative(*norms)
    passed = bool(np.all(diff <= atol + rtol * np.abs(num)))
    worst = [
        (position(flat), float(num.flat[flat]), float(ana.flat[flat]))
        for flat in np.argsort(diff, axis=None)[::-1][:n_worst]
    ]
    return InputReport(index, tuple(shape), rel, verdict(rel), passed, worst, norms, note)
