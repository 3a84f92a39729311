"""Random inputs shared by the scikit-learn comparisons: binary, multiclass with absent classes,
strings, zero divisions, sample weights."""

import numpy as np


def label_cases(seed):
    """(name, y_true, y_pred, sample_weight, extra labels to try) for one seed."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 40))
    binary_true, binary_pred = rng.integers(0, 2, n), rng.integers(0, 2, n)
    multi_true = rng.choice([0, 1, 3, 4], n)  # class 2 never occurs
    multi_pred = np.where(rng.random(n) < 0.6, multi_true, rng.choice([0, 1, 4, 5], n))
    words = np.array(["ant", "bird", "cat"])
    float_weight = rng.random(n) * 3
    int_weight = rng.integers(0, 4, n)
    int_weight[0] = 1  # weights summing to 0 make accuracy 0/0
    return [
        ("binary", binary_true, binary_pred, None, [[1, 0], [1]]),
        ("binary weighted", binary_true, binary_pred, float_weight, [[0]]),
        ("binary never predicted", binary_true, np.zeros(n, int), None, [[0, 1]]),
        ("all one class", np.ones(n, int), np.ones(n, int), None, [[0, 1]]),
        ("pm one", 2 * binary_true - 1, 2 * binary_pred - 1, None, [[-1, 1]]),
        ("multiclass", multi_true, multi_pred, None, [[4, 0, 2], [1], [0, 1, 2, 3, 4, 5]]),
        ("multiclass int weights", multi_true, multi_pred, int_weight, [[2, 3]]),
        ("multiclass float weights", multi_true, multi_pred, float_weight, [[5, 0]]),
        ("strings", words[rng.integers(0, 3, n)], words[rng.integers(0, 2, n)], None, [["cat"]]),
        ("float labels", binary_true.astype(float), binary_pred.astype(float), None, [[1.0]]),
    ]


def score_cases(seed):
    """(name, y_true, y_score, sample_weight, pos_label) for one seed, with tied scores."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 50))
    y = rng.integers(0, 2, n)
    y[:2] = [0, 1]
    tied = np.round(rng.random(n) * 4) / 4
    weight = rng.random(n) * 2
    weight[rng.random(n) < 0.2] = 0
    return [
        ("binary", y, rng.normal(size=n), None, None),
        ("ties", y, tied, None, None),
        ("weighted ties", y, tied, weight, None),
        ("int weights", y, tied, rng.integers(0, 3, n), None),
        ("pm one", 2 * y - 1, rng.normal(size=n), None, None),
        ("pos_label 0", y, rng.normal(size=n), None, 0),
        ("strings", np.array(["no", "yes"])[y], tied, weight, "yes"),
        ("multiclass, pos_label 2", rng.integers(0, 4, n), tied, None, 2),
    ]
