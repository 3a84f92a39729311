"""train_fns for tests/tune, in a module of their own: worker processes receive them pickled by
reference and import this module, which stays light (numpy only) so that workers start quickly."""

import math
import time

import numpy as np


def bowl(config, report):
    """A deterministic score peaking at lr = 1e-2 and beta = 0.99 (on their log scales), that
    grows with config["epochs"]; reports every epoch. With config["sleep"], the first trials
    sleep longest, so trials finish out of order on a pool."""
    if config.get("sleep"):
        time.sleep(config["sleep"] * max(0, 4 - report.trial))
    noise = np.random.default_rng(report.seed).normal(0, 1e-3)
    distance = (math.log10(config["lr"]) + 2) ** 2 + (math.log10(1 - config["beta"]) + 2) ** 2
    epochs = config.get("epochs", 3)
    for epoch in range(1, epochs + 1):
        accuracy = (1 - 0.5**epoch) / (1 + distance) + noise
        report(epoch, {"dev_accuracy": accuracy, "loss": 1 - accuracy})
    return {"dev_accuracy": accuracy, "loss": 1 - accuracy, "batch": config.get("batch_size", 0)}


def reports_only(config, report):
    """Returns nothing: the last report is the result."""
    for step in range(3):
        report(step, dev_accuracy=config["x"] * step)


def fails_above(config, report):
    """Raises for x > 0.5."""
    if config["x"] > 0.5:
        raise FloatingPointError(f"diverged at x={config['x']}")
    return {"dev_accuracy": config["x"]}


def nan_above(config, report):
    """A NaN metric (a diverged run) for x > 0.5, else x."""
    return {"dev_accuracy": math.nan if config["x"] > 0.5 else config["x"]}
