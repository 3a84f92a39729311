"""Optimizers and learning-rate schedules, with PyTorch's names and numbers.

>>> import numpy as np
>>> import autodiff as ad
>>> from optim import SGD
>>> w = ad.tensor(np.array([1.0, -2.0], dtype=np.float32), requires_grad=True)
>>> optimizer = SGD([w], lr=0.1)
>>> (w * w).sum().backward()
>>> optimizer.step()
>>> w.data
array([ 0.8, -1.6], dtype=float32)
"""

from optim import lr_scheduler
from optim.adagrad import Adagrad
from optim.adam import Adam, AdamW
from optim.adamax import Adamax
from optim.nadam import NAdam
from optim.optimizer import Optimizer
from optim.radam import RAdam
from optim.rmsprop import RMSprop
from optim.sgd import SGD

__all__ = [
    "SGD", "Adagrad", "Adam", "AdamW", "Adamax", "NAdam", "Optimizer", "RAdam", "RMSprop",
    "lr_scheduler",
]  # fmt: skip
