"""classification_report's layout and dict, checked by hand."""

import pytest

from autodiff import metrics

Y_TRUE = [0, 0, 0, 1, 1, 1, 2, 2]
Y_PRED = [0, 0, 1, 1, 1, 2, 0, 2]


def test_report_text_by_hand():
    text = metrics.classification_report(Y_TRUE, Y_PRED, target_names=["cat", "dog", "fish"])
    lines = text.splitlines()
    assert lines[0].split() == ["precision", "recall", "f1-score", "support"]
    assert lines[2].split() == ["cat", "0.67", "0.67", "0.67", "3"]
    assert lines[4].split() == ["fish", "0.50", "0.50", "0.50", "2"]
    assert lines[6].split() == ["accuracy", "0.62", "8"]
    assert lines[7].split() == ["macro", "avg", "0.61", "0.61", "0.61", "8"]
    assert len(lines[2]) == len("weighted avg") + 1 + 4 * 10


def test_report_dict_and_subset_of_labels():
    report = metrics.classification_report(Y_TRUE, Y_PRED, output_dict=True)
    assert report["accuracy"] == 5 / 8
    assert report["2"] == pytest.approx(
        {"precision": 0.5, "recall": 0.5, "f1-score": 0.5, "support": 2.0}
    )
    subset = metrics.classification_report(Y_TRUE, Y_PRED, labels=[0, 1], output_dict=True)
    assert "accuracy" not in subset and subset["micro avg"]["precision"] == pytest.approx(4 / 6)


def test_report_target_names_must_match():
    with pytest.raises(ValueError, match="3 classes but 2 target_names"):
        metrics.classification_report(Y_TRUE, Y_PRED, target_names=["a", "b"])
