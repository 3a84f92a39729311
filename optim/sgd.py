"""Stochastic gradient descent, with momentum, Nesterov momentum and weight decay."""

import numpy as np

from autodiff.kernels import axpby
from optim.optimizer import Optimizer, require, update_direction


def sgd_update(
    param: np.ndarray,
    grad: np.ndarray,
    momentum_buffer: np.ndarray | None,
    *,
    lr: float,
    momentum: float,
    dampening: float,
    weight_decay: float,
    nesterov: bool,
    maximize: bool,
) -> np.ndarray | None:
    """One SGD step: update `param` (and `momentum_buffer`) in place; `grad` is not modified.

    Returns the momentum buffer: None without momentum, a new array on the first step (None
    given), else the same array.
    """
    g = update_direction(param, grad, weight_decay, maximize)
    if momentum:
        if momentum_buffer is None:
            momentum_buffer = g.copy()
        else:
            axpby(momentum_buffer, momentum, g, 1 - dampening)
        g = g + momentum * momentum_buffer if nesterov else momentum_buffer
    axpby(param, 1, g, -lr)
    return momentum_buffer


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (Nesterov) momentum, as `torch.optim.SGD`.

    For each parameter p with gradient g, every step:

    1. g <- -g                                       if maximize
    2. g <- g + weight_decay * p                     (the gradient of weight_decay/2 * ||p||^2)
    3. if momentum != 0:
       a. v <- g                                     on the first step,
          v <- momentum * v + (1 - dampening) * g    afterwards
       b. g <- g + momentum * v                      if nesterov, else g <- v
    4. p <- p - lr * g

    The course writes momentum as an exponentially weighted average, v <- beta * v +
    (1 - beta) * g from v = 0, then p <- p - alpha * v. Its v is (1 - beta) times the v above at
    every step, so it is exactly `SGD(lr=alpha * (1 - beta), momentum=beta)`.

    Parameters
    ----------
    params : iterable of Tensor or of dict
        Parameters or parameter groups (see `Optimizer`).
    lr : float
        Learning rate, >= 0.
    momentum : float
        Momentum factor, >= 0 (0: plain SGD).
    dampening : float
        Scales the gradient added to the momentum buffer by (1 - dampening).
    weight_decay : float
        L2 penalty coefficient, >= 0.
    nesterov : bool
        Nesterov momentum; needs momentum > 0 and dampening == 0.
    maximize : bool
        Ascend the objective instead of descending it.

    State per parameter: 'momentum_buffer' (with momentum).
    """

    _non_negative = ("lr", "momentum", "weight_decay")

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ):
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _validate(self, group):
        super()._validate(group)
        require(
            not group["nesterov"] or (group["momentum"] > 0 and group["dampening"] == 0),
            type(self).__name__,
            "nesterov",
            group["nesterov"],
            f"False unless momentum > 0 and dampening == 0 (momentum={group['momentum']!r}, "
            f"dampening={group['dampening']!r})",
        )

    def _update(self, param, grad, state, group):
        buffer = sgd_update(param, grad, state.get("momentum_buffer"), **group)
        if buffer is not None:
            state["momentum_buffer"] = buffer
