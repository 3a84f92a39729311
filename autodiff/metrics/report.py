"""`classification_report`: per-label precision, recall, F1 and support, and their averages, as
scikit-learn's text table or dict."""

import warnings

from autodiff.metrics._inputs import check_targets, user_labels
from autodiff.metrics.classification import precision_recall_fscore_support

_HEADERS = ("precision", "recall", "f1-score", "support")


def classification_report(
    y_true,
    y_pred,
    *,
    labels=None,
    target_names=None,
    sample_weight=None,
    digits=2,
    output_dict=False,
    zero_division="warn",
):
    """A table of precision, recall, F1 and support per label, then the accuracy (or, when
    `labels` leaves some present label out, the micro average), macro and weighted averages.

    Parameters
    ----------
    y_true, y_pred : (N,) class labels
    labels : (K,), optional
        The labels to report, in this order (by default the sorted labels present).
    target_names : list of K str, optional
        Row names (by default the labels as text).
    sample_weight : (N,), optional
    digits : int
        Decimals in the text table.
    output_dict : bool
        Return {row name: {"precision", "recall", "f1-score", "support"}} (and "accuracy": a
        float) instead of text.
    zero_division : {"warn", 0, 1, nan}

    Returns
    -------
    str or dict, the same text and dict as scikit-learn's.

    Raises
    ------
    ValueError
        As `precision_recall_fscore_support`; also when target_names and the inferred labels
        differ in number.
    """
    fn = "classification_report"
    y_true, y_pred, weight, present = check_targets(fn, y_true, y_pred, sample_weight)
    labels_given = labels is not None
    labels = user_labels(fn, labels, present) if labels_given else present
    micro_is_accuracy = not labels_given or set(labels.tolist()) >= set(present.tolist())
    if target_names is not None and len(labels) != len(target_names):
        if not labels_given:
            raise ValueError(
                f"{fn}: {len(labels)} classes but {len(target_names)} target_names; pass "
                f"labels= to choose the classes"
            )
        warnings.warn(
            f"{fn}: {len(labels)} labels but {len(target_names)} target_names", stacklevel=2
        )
    if target_names is None:
        target_names = [str(label) for label in labels]
    common = dict(labels=labels, sample_weight=weight, zero_division=zero_division)
    per_label = precision_recall_fscore_support(y_true, y_pred, average=None, **common)
    support = per_label[3].sum()
    rows = [(name, *row) for name, *row in zip(target_names, *per_label)]
    averages = {}
    for average in ("micro", "macro", "weighted"):
        heading = "accuracy" if average == "micro" and micro_is_accuracy else f"{average} avg"
        scores = precision_recall_fscore_support(y_true, y_pred, average=average, **common)
        averages[heading] = [*scores[:3], support]
    if output_dict:
        report = {name: dict(zip(_HEADERS, map(float, row))) for name, *row in rows}
        report.update({name: dict(zip(_HEADERS, map(float, v))) for name, v in averages.items()})
        if "accuracy" in report:
            report["accuracy"] = report["accuracy"]["precision"]
        return report
    return _text(rows, averages, digits)


def _text(rows, averages, digits):
    """scikit-learn's layout: right-aligned columns 9 wide after a column of row names."""
    width = max(*(len(row[0]) for row in rows), len("weighted avg"), digits)
    row_fmt = "{:>{width}s} " + " {:>9.{digits}f}" * 3 + " {:>9}\n"
    text = ("{:>{width}s} " + " {:>9}" * len(_HEADERS)).format("", *_HEADERS, width=width)
    text += "\n\n"
    for row in rows:
        text += row_fmt.format(*row, width=width, digits=digits)
    text += "\n"
    for name, row in averages.items():
        if name == "accuracy":
            accuracy_fmt = "{:>{width}s} " + " {:>9.{digits}}" * 2 + " {:>9.{digits}f} {:>9}\n"
            text += accuracy_fmt.format(name, "", "", *row[2:], width=width, digits=digits)
        else:
            text += row_fmt.format(name, *row, width=width, digits=digits)
    return text
