"""Evaluating models: scikit-learn's classification metrics on numpy arrays, lists or Tensors,
and the course's strategy for deciding what to work on next.

>>> from autodiff import metrics
>>> y_true = [0, 1, 1, 0, 1, 1]
>>> y_pred = [0, 1, 0, 0, 1, 1]
>>> metrics.accuracy_score(y_true, y_pred), metrics.f1_score(y_true, y_pred)
(0.8333333333333334, 0.8571428571428571)
>>> metrics.confusion_matrix(y_true, y_pred).tolist()
[[2, 0], [1, 3]]
>>> metrics.bias_variance(human_error=0.01, train_error=0.08, dev_error=0.10).focus
'avoidable bias'

Metrics take class labels (N,); a model's scores (N, C) become labels with `.argmax(1)`. Curves
(`precision_recall_curve`, `roc_curve`) take the positive class's scores (N,). Nothing here
needs scikit-learn; its numbers are the reference in the tests.
"""

from autodiff.metrics._inputs import UndefinedMetricWarning
from autodiff.metrics.classification import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    fbeta_score,
    precision_recall_fscore_support,
    precision_score,
    recall_score,
)
from autodiff.metrics.curves import (
    auc,
    average_precision_score,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)
from autodiff.metrics.names import get_metric
from autodiff.metrics.report import classification_report
from autodiff.metrics.strategy import BiasVariance, best_by, bias_variance

__all__ = [
    "BiasVariance",
    "UndefinedMetricWarning",
    "accuracy_score",
    "auc",
    "average_precision_score",
    "best_by",
    "bias_variance",
    "classification_report",
    "confusion_matrix",
    "f1_score",
    "fbeta_score",
    "get_metric",
    "precision_recall_curve",
    "precision_recall_fscore_support",
    "precision_score",
    "recall_score",
    "roc_auc_score",
    "roc_curve",
]
