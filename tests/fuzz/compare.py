"""Run a program in autodiff and in PyTorch (float64) and classify any disagreement.

Values are compared node by node (the first that differs is named), then every leaf's gradient.
When the two disagree, central differences referee:

- "ours wrong": autodiff differs from the referee where torch agrees with it (or autodiff
  raised where torch ran, or a value or shape differs where the computation is well
  conditioned);
- "torch wrong": the other way round (or torch refused a program autodiff computes right);
- "ambiguous": both or neither agree with the referee: a kink or a tie (relu at 0, max of equal
  values: each library picks a valid one-sided derivative), or a value that rounding decides
  (a comparison of two nearly equal numbers).
"""

import warnings
from dataclasses import dataclass, field

import numpy as np
import torch

import autodiff as ad
import nn.functional as AF  # the module autodiff.nn.functional is

CLASSES = ("ours wrong", "torch wrong", "ambiguous")
RTOL, ATOL = 1e-7, 1e-9  # between the two libraries; ATOL relative to the array's scale
REFEREE_RTOL, REFEREE_ATOL = 1e-4, 1e-5  # against central differences
EPS = 1e-6
LIBRARIES = {"autodiff": (ad, AF), "torch": (torch, torch.nn.functional)}


@dataclass
class Run:
    """One library's results: node values, the loss and leaf gradients (None where none)."""

    error: str = ""
    nodes: list = field(default_factory=list)  # (dtype name, array)
    loss: float = 0.0
    grads: list = field(default_factory=list)


@dataclass
class Outcome:
    """A verdict: "match", one of CLASSES, or "invalid" (both refused it: a generator bug)."""

    verdict: str
    kind: str = ""  # "error", "shape", "dtype", "value", "gradient"
    detail: str = ""

    @property
    def mismatch(self) -> bool:
        return self.verdict != "match"

    def __str__(self):
        return f"{self.verdict} ({self.kind}): {self.detail}"


def execute(program, library) -> Run:
    """Forward and backward of `program` in `library` ("autodiff" or "torch")."""
    lib, functional = LIBRARIES[library]
    stage = "forward"
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            leaves, loss, nodes = program.run(lib, functional)
            stage = "backward"
            loss.backward()
        except Exception as e:  # noqa: BLE001 - what was raised is the finding
            return Run(error=f"{stage}: {type(e).__name__}: {e}")
    return Run(
        nodes=[(str(n.dtype).removeprefix("torch."), _array(n)) for n in nodes],
        loss=float(loss.item()),
        grads=[None if t.grad is None else _array(t.grad) for t in leaves],
    )


def _array(t):
    return np.array(t.detach().numpy(), dtype=np.float64)


def compare(program) -> Outcome:
    """Run both libraries and classify what differs (the first difference found)."""
    ours, theirs = execute(program, "autodiff"), execute(program, "torch")
    if ours.error or theirs.error:
        return _errors(program, ours, theirs)
    for name, (dt, a), (dt_t, t) in zip(program.nodes, ours.nodes, theirs.nodes, strict=True):
        if a.shape != t.shape:
            return Outcome("ours wrong", "shape", f"{name}: {a.shape}, torch {t.shape}")
        if dt != dt_t:
            return Outcome("ours wrong", "dtype", f"{name}: {dt}, torch {dt_t}")
        if not _close(a, t, RTOL, ATOL):
            verdict = "ambiguous" if _ill_conditioned(program, name) else "ours wrong"
            return Outcome(verdict, "value", f"{name}: {_worst(a, t)}")
    differ = [
        i
        for i, (g, t) in enumerate(zip(ours.grads, theirs.grads, strict=True))
        if not _close(_zeros_for(g, t), _zeros_for(t, g), RTOL, ATOL)
    ]
    if not differ:
        return Outcome("match")
    return _referee(program, ours, theirs, differ)


def _errors(program, ours, theirs):
    if ours.error and theirs.error:
        return Outcome("invalid", "error", f"autodiff {ours.error}; torch {theirs.error}")
    if ours.error:
        return Outcome("ours wrong", "error", f"autodiff {ours.error} (torch runs)")
    judged = _referee(program, ours, None, range(len(program.leaves)))
    verdict = "ours wrong" if judged.verdict == "ours wrong" else "torch wrong"
    return Outcome(verdict, "error", f"torch {theirs.error}; autodiff: {judged}")


def _zeros_for(g, other):
    """A missing gradient compares as zeros (torch and autodiff may differ in None-ness)."""
    if g is not None:
        return g
    return np.zeros(() if other is None else other.shape)


def _close(a, b, rtol, atol):
    if a.shape != b.shape:
        return False
    scale = max(1.0, float(np.max(np.abs(a), initial=0)), float(np.max(np.abs(b), initial=0)))
    return bool(np.allclose(a, b, rtol=rtol, atol=atol * scale, equal_nan=True))


def _worst(a, b):
    diff = np.abs(a - b)
    diff[np.isnan(diff)] = np.inf
    pos = np.unravel_index(np.argmax(diff), a.shape) if a.ndim else ()
    return f"at {tuple(int(p) for p in pos)}: autodiff {float(a[pos])!r}, torch {float(b[pos])!r}"


def _ill_conditioned(program, name):
    """Whether perturbing the leaves' last bits moves node `name` beyond the tolerance."""
    k = program.nodes.index(name)
    base = _values(program, program.leaves, k)
    rng = np.random.default_rng(0)
    for _ in range(4):
        leaves = [(n, a * (1 + 1e-13 * rng.standard_normal(a.shape))) for n, a in program.leaves]
        if not _close(_values(program, leaves, k), base, RTOL, ATOL):
            return True
    return False


def _values(program, leaves, k):
    with ad.no_grad(), np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        inputs = [ad.tensor(a, dtype=ad.float64) for _, a in leaves]
        consts = [ad.tensor(a, dtype=ad.float64) for _, a in program.consts]
        program.run(ad, AF)  # compiles
        return _array(program._run(ad, AF, *inputs, *consts)[1][k])


def _referee(program, ours, theirs, differ) -> Outcome:
    """Central differences (one-sided too, where the two disagree) decide between the two."""
    fn = program.function(ad, AF)
    leaves = [ad.tensor(a, dtype=ad.float64, requires_grad=True) for _, a in program.leaves]
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        central = ad.numerical_grad(fn, leaves, eps=EPS)
    scale = max(1.0, abs(ours.loss))
    found = {}
    for i in differ:
        name = program.leaves[i][0]
        g = _zeros_for(ours.grads[i], central[i])
        t = None if theirs is None else _zeros_for(theirs.grads[i], central[i])
        for pos in np.ndindex(g.shape):
            if t is not None and _close(g[pos], t[pos], RTOL, ATOL):
                continue
            sides = (central[i][pos], *_one_sided(fn, leaves, i, pos))
            ours_ok = _agrees(g[pos], sides, scale)
            if t is None:  # torch refused the program: autodiff alone is judged
                verdict = "torch wrong" if ours_ok else "ours wrong"
            elif ours_ok == _agrees(t[pos], sides, scale):
                verdict = "ambiguous"
            else:
                verdict = "torch wrong" if ours_ok else "ours wrong"
            line = (
                f"d loss / d {name}{list(pos)}: autodiff {float(g[pos])!r}, "
                f"torch {'-' if t is None else repr(float(t[pos]))}, central "
                f"{float(sides[0])!r} (left {float(sides[1])!r}, right {float(sides[2])!r})"
            )
            found.setdefault(verdict, line)
    for verdict in CLASSES:
        if verdict in found:
            return Outcome(verdict, "gradient", found[verdict])
    return Outcome("match")


def _agrees(g, sides, scale):
    return any(abs(g - s) <= REFEREE_RTOL * abs(s) + REFEREE_ATOL * scale for s in sides)


def _one_sided(fn, leaves, i, pos):
    """(left, right) differences of the loss along element `pos` of leaf i."""
    x = leaves[i].data
    orig = x[pos]
    with ad.no_grad(), warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        values = []
        for step in (-EPS, 0.0, EPS):
            x[pos] = orig + step
            values.append(float(fn(*leaves).item()))
        x[pos] = orig
    return (values[1] - values[0]) / EPS, (values[2] - values[1]) / EPS
