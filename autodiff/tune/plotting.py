"""The plot of a search: the metric against each searched hyperparameter (needs matplotlib)."""

import math

import numpy as np

from autodiff.tune.spaces import Choice


def plot_search(result, path) -> None:
    """One panel per searched hyperparameter of `result` (a SearchResult), written to `path`.

    Each trial is a point coloured by round; trials stopped by successive halving are hollow
    (their metric is at a smaller budget); the best trial is a star. Log-scale spaces get a log
    x axis (`one_minus_log_uniform` shows 1 - value), choices one tick per option. Trials whose
    metric is NaN are left out.
    """
    from matplotlib import colormaps
    from matplotlib.figure import Figure

    names = result.searched
    if not names:
        raise ValueError("SearchResult.plot: the space has no hyperparameter to plot")
    trials = [t for t in result.trials if not math.isnan(t.metrics.get(result.metric, math.nan))]
    best = result.best
    columns = min(len(names), 3)
    rows = math.ceil(len(names) / columns)
    # a Figure of its own, not pyplot's: no global state, no backend chosen for the caller
    fig = Figure(figsize=(4.2 * columns, 3.4 * rows))
    axes = fig.subplots(rows, columns, squeeze=False)
    colours = colormaps["viridis"](np.linspace(0, 0.9, max(len(result.boxes), 1)))
    for ax, name in zip(axes.flat, names):
        space = result.space[name]
        for number, colour in enumerate(colours):
            for stopped in (False, True):
                group = [t for t in trials if t.round == number and t.stopped == stopped]
                if group:
                    ax.scatter(
                        space.axis_values([t.config[name] for t in group]),
                        [t.metrics[result.metric] for t in group],
                        facecolors="none" if stopped else colour,
                        edgecolors=colour,
                        label=f"round {number}" if not stopped and len(colours) > 1 else None,
                    )
        ax.scatter(
            space.axis_values([best.config[name]]),
            [best.metrics[result.metric]],
            marker="*",
            s=200,
            c="red",
            label="best",
        )
        if space.log:
            ax.set_xscale("log")
        if isinstance(space, Choice):
            ax.set_xticks(range(len(space.values)), [str(v) for v in space.values])
        ax.set(xlabel=space.axis_label(name), ylabel=result.metric)
        ax.grid(alpha=0.3)
    axes.flat[0].legend(fontsize="small")
    for ax in list(axes.flat)[len(names) :]:
        ax.set_visible(False)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
