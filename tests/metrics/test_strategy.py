"""The course's bias/variance analysis and optimizing/satisficing model choice."""

import pytest

from autodiff import metrics


def test_course_bias_example():
    result = metrics.bias_variance(human_error=0.01, train_error=0.08, dev_error=0.10)
    assert result.avoidable_bias == pytest.approx(0.07)
    assert result.variance == pytest.approx(0.02)
    assert result.data_mismatch is None
    assert result.focus == "avoidable bias"
    assert "bigger model" in str(result) and "avoidable bias first" in str(result)


def test_course_variance_example():
    result = metrics.bias_variance(7.5, 8, 10)  # percentages work as well
    assert result.avoidable_bias == pytest.approx(0.5)
    assert result.variance == pytest.approx(2)
    assert result.focus == "variance"
    assert "regularise" in str(result) and "more training data" in str(result)


def test_train_dev_set_separates_data_mismatch():
    result = metrics.bias_variance(0.0, 0.01, 0.10, train_dev_error=0.015)
    assert result.variance == pytest.approx(0.005)
    assert result.data_mismatch == pytest.approx(0.085)
    assert result.focus == "data mismatch"
    assert "artificial data synthesis" in str(result)


def test_bias_variance_errors():
    with pytest.raises(ValueError, match="dev_error must be a finite number"):
        metrics.bias_variance(0.01, 0.08, float("nan"))
    with pytest.raises(ValueError, match="train_dev_error"):
        metrics.bias_variance(0.01, 0.08, 0.1, train_dev_error=-1)


CATS = {
    "A": {"accuracy": 0.90, "latency_ms": 80},
    "B": {"accuracy": 0.92, "latency_ms": 95},
    "C": {"accuracy": 0.95, "latency_ms": 1500},
}


def test_course_cat_classifier_picks_b():
    name, result = metrics.best_by(CATS, "accuracy", {"latency_ms": ("<=", 100)})
    assert name == "B" and result is CATS["B"]
    assert metrics.best_by(CATS)[0] == "C"  # no constraint: the most accurate
    rows = [dict(name=k, **v) for k, v in CATS.items()]
    index, row = metrics.best_by(rows, satisficing={"latency_ms": ("<", 90)})
    assert index == 0 and row["name"] == "A"
    assert metrics.best_by(CATS, "latency_ms", mode="min")[0] == "A"


def test_best_by_errors():
    with pytest.raises(ValueError, match=r"no model meets.*'C': latency_ms = 1500 is not <= 10"):
        metrics.best_by(CATS, satisficing={"latency_ms": ("<=", 10)})
    with pytest.raises(ValueError, match="op one of"):
        metrics.best_by(CATS, satisficing={"latency_ms": ("=<", 10)})
    with pytest.raises(ValueError, match="'A' has no 'size'"):
        metrics.best_by(CATS, satisficing={"size": ("<", 1)})
    with pytest.raises(ValueError, match="empty"):
        metrics.best_by([])
    with pytest.raises(ValueError, match="mode"):
        metrics.best_by(CATS, mode="best")
