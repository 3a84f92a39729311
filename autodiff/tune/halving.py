"""Successive halving: stop the trials that fall behind, decided in the parent between rungs.

    search(train_fn, space, 16, early_stop=SuccessiveHalving("epochs", [1, 3, 9], keep=1 / 3))

runs all 16 trials with config["epochs"] = 1, keeps the best third (ceil, at least one), runs
those again with 3 epochs, keeps the best third of them, and runs the rest with 9. A trial runs
again from the start at each rung (train_fn sees only a larger budget), so nothing but configs and
metrics crosses between processes, and the result does not depend on which worker ran what. The
cost is the repeated early epochs: with keep = 1 / eta and budgets growing by eta, each rung costs
about as much as the first, so the whole search costs (number of rungs) x n_trials x budgets[0]
instead of n_trials x budgets[-1].

The decision is made on the trials of the current round only, once all of a rung's trials have
finished: no trial is stopped while it runs, and `report` only records a trial's history.
"""

import math
from collections.abc import Sequence


class SuccessiveHalving:
    """Run every trial with budget `budgets[0]`, then the best `keep` fraction with the next.

    Parameters
    ----------
    key : str
        The config entry that carries the budget (e.g. "epochs"); train_fn reads it. It must not
        also be a hyperparameter of the space.
    budgets : sequence of int or float
        Increasing positive budgets, one per rung.
    keep : float in (0, 1)
        The fraction of a rung's trials that go on to the next (rounded up, at least one).
    """

    def __init__(self, key: str, budgets: Sequence, keep: float = 0.5):
        if not isinstance(key, str):
            raise TypeError(f"SuccessiveHalving: key must be a config name, got {key!r}")
        budgets = list(budgets)
        if not budgets or any(not b > 0 for b in budgets):
            raise ValueError(f"SuccessiveHalving: budgets must be positive, got {budgets}")
        if any(b >= c for b, c in zip(budgets, budgets[1:])):
            raise ValueError(f"SuccessiveHalving: budgets must increase, got {budgets}")
        if not 0 < keep < 1:
            raise ValueError(f"SuccessiveHalving: keep must lie in (0, 1), got {keep}")
        self.key, self.budgets, self.keep = key, budgets, keep

    def survivors(self, n: int) -> int:
        """How many of n trials go on to the next rung."""
        return max(1, math.ceil(self.keep * n))

    def __repr__(self):
        return f"SuccessiveHalving({self.key!r}, {self.budgets}, keep={self.keep:g})"
