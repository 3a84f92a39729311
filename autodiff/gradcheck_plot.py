"""The picture of a gradcheck report: each input's relative difference against the course's bands
(needs matplotlib; `GradcheckReport.plot` imports this module when called).

    report = ad.gradcheck(loss_of, list(model.parameters()), raise_exception=False)
    report.plot("gradcheck.png", names=[name for name, _ in model.named_parameters()])
"""

import numpy as np

from autodiff.gradcheck import BANDS

# background of each band, from "correct" to "bug"
_COLOURS = ("tab:green", "gold", "tab:orange", "tab:red")


def plot_gradcheck(report, path=None, names=None):
    """A horizontal bar per checked input: its relative difference on a log axis, over the bands
    "correct" (< 1e-7), "look closer" (< 1e-5), "suspicious" (< 1e-3) and "bug".

    Parameters
    ----------
    report : GradcheckReport
        What `autodiff.gradcheck` returned.
    path : str or path-like, optional
        Where to write the image (format from the suffix: .png, .svg, .pdf).
    names : sequence of str, optional
        A label per input given to gradcheck (e.g. the names of `model.named_parameters()`);
        by default "input i (shape)".

    Returns
    -------
    matplotlib.figure.Figure
        One Axes: a bar per checked input, then, with more than one, a bar for all of them
        together (the course's single number over the whole parameter vector). Each bar is
        coloured by its band and labelled with its value; "FAILED" marks an input that failed
        the elementwise atol/rtol test, which decides `report.passed`.

    Raises
    ------
    ImportError
        matplotlib is not installed (`pip install autodiff[plot]`).
    ValueError
        `names` has no entry for some checked input.
    """
    if names is not None and len(names) <= max(r.index for r in report.inputs):
        raise ValueError(
            f"GradcheckReport.plot: {len(names)} names for inputs up to index "
            f"{max(r.index for r in report.inputs)}"
        )
    bars = [
        (
            names[r.index] if names is not None else f"input {r.index} {r.shape}",
            r.rel_diff,
            "" if r.passed else " FAILED",
        )
        for r in report.inputs
    ]
    if len(report.inputs) > 1:
        bars.append(("all inputs", report.rel_diff, ""))
    from matplotlib.figure import Figure

    bounds = [bound for bound, _ in BANDS]
    positive = [rel for _, rel, _ in bars if rel > 0]
    low = min([bounds[0] / 1e3, *(rel / 10 for rel in positive)])
    high = max([10.0, *(rel * 100 for rel in positive)])  # room for the values
    # a Figure of its own, not pyplot's: no global state, no backend chosen for the caller
    fig = Figure(figsize=(9, 1.5 + 0.45 * len(bars)), layout="tight")
    ax = fig.subplots()
    edges = [low, *bounds, high]
    labels = [f"{name} (< 1e{round(np.log10(bound))})" for bound, name in BANDS] + ["bug"]
    for left, right, colour, label in zip(edges, edges[1:], _COLOURS, labels):
        ax.axvspan(left, right, color=colour, alpha=0.15, label=label)
    for bound in bounds:
        ax.axvline(bound, color="grey", linestyle="--", linewidth=0.8)
    y = np.arange(len(bars))[::-1]  # the first input at the top
    rels = np.array([rel for _, rel, _ in bars])
    colours = [_COLOURS[int(np.searchsorted(bounds, rel, side="right"))] for rel in rels]
    ax.barh(y, np.maximum(rels, low) - low, left=low, color=colours, edgecolor="black")
    for row, (_, rel, failed) in zip(y, bars, strict=True):
        text = f" {rel:.1e}{failed}" if rel > 0 else " 0 (exact)"
        ax.text(max(rel, low), row, text, va="center", fontsize="small")
    ax.set_yticks(y, [label for label, _, _ in bars])
    ax.set(xscale="log", xlim=(low, high), xlabel="||g_num - g|| / (||g_num|| + ||g||)")
    mode = "one random direction" if report.fast else "full Jacobian"
    verdict = "passed" if report.passed else "FAILED"
    ax.set_title(f"gradcheck ({mode}, eps={report.eps:g}): {verdict}")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
    if path is not None:
        fig.savefig(path, dpi=100)
    return fig
