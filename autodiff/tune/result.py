"""`SearchResult`: every trial of a search, the best one, a text table and a plot."""

from collections.abc import Mapping, Sequence

from autodiff.tune.spaces import Space
from autodiff.tune.trial import Trial


def rank(trials: Sequence[Trial], metric: str, mode: str) -> list[Trial]:
    """Best first: trials that ran more rungs of successive halving first, then by metric (NaN
    last), then by index, so ties are broken the same way on every run."""
    return sorted(trials, key=lambda t: (-len(t.rungs), -t.score(metric, mode), t.index))


class SearchResult:
    """What `search` returns.

    Attributes
    ----------
    trials : list of Trial
        In the order drawn (round by round), whatever order they finished in.
    space : dict
        The space searched; `boxes[r]` is the (narrowed) space round r drew from.
    metric, mode : str
        What ranks the trials.
    early_stop : SuccessiveHalving or None
    """

    def __init__(self, trials, space, boxes, metric, mode, early_stop):
        self.trials, self.space, self.boxes = list(trials), dict(space), list(boxes)
        self.metric, self.mode, self.early_stop = metric, mode, early_stop

    def ranked(self) -> list[Trial]:
        """The trials, best first (see `rank`)."""
        return rank(self.trials, self.metric, self.mode)

    @property
    def best(self) -> Trial:
        """The best trial; `best.config` are its hyperparameters."""
        return self.ranked()[0]

    @property
    def searched(self) -> list[str]:
        """Names of the hyperparameters drawn from spaces (not the constants)."""
        return [name for name, s in self.space.items() if isinstance(s, Space)]

    def to_table(self, top: int | None = None) -> str:
        """The trials as text, best first (the first `top` only if given): rank, trial,
        round, each searched hyperparameter, the budget with successive halving, every
        metric (the ranking one first), seconds and worker."""
        names = self.searched
        if self.early_stop is not None:
            names = [*names, self.early_stop.key]
        metrics = [self.metric]
        for trial in self.trials:
            metrics += [m for m in trial.metrics if m not in metrics]
        header = ["rank", "trial", "round", *names, *metrics, "seconds", "worker"]
        rows = [
            [
                str(place),
                str(t.index),
                str(t.round),
                *(_format(t.config.get(n, "")) for n in names),
                *(_format(t.metrics.get(m, "")) for m in metrics),
                f"{t.wall_time:.2f}",
                t.worker,
            ]
            for place, t in enumerate(self.ranked()[:top], start=1)
        ]
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
        lines = [
            "  ".join(cell.rjust(w) for cell, w in zip(row, widths)) for row in [header, *rows]
        ]
        return "\n".join(lines)

    def plot(self, path) -> None:
        """Write the metric against each searched hyperparameter to an image at `path` (needs
        matplotlib; see `autodiff.tune.plotting`)."""
        from autodiff.tune.plotting import plot_search

        plot_search(self, path)

    def __repr__(self):
        best = self.best
        return (
            f"SearchResult({len(self.trials)} trials in {len(self.boxes)} rounds, best "
            f"{self.metric}={best.metrics.get(self.metric)!r} with {_config_text(best.config)})"
        )


def _format(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _config_text(config: Mapping) -> str:
    return "{" + ", ".join(f"{k}: {_format(v)}" for k, v in config.items()) + "}"
