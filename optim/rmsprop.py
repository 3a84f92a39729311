"""RMSprop: divide the gradient by a running root mean square of recent gradients."""

import numpy as np

from optim.optimizer import Optimizer, update_direction


def rmsprop_update(
    param: np.ndarray,
    grad: np.ndarray,
    square_avg: np.ndarray,
    grad_avg: np.ndarray | None,
    momentum_buffer: np.ndarray | None,
    *,
    lr: float,
    alpha: float,
    eps: float,
    weight_decay: float,
    momentum: float,
    centered: bool,
    maximize: bool,
) -> None:
    """One RMSprop step: update `param` and the state arrays in place; `grad` is not modified.

    `grad_avg` is needed when centered, `momentum_buffer` when momentum > 0 (else None).
    """
    g = update_direction(param, grad, weight_decay, maximize)
    square_avg *= alpha
    square_avg += (1 - alpha) * g * g
    if centered:
        grad_avg += (1 - alpha) * (g - grad_avg)
        avg = np.sqrt(square_avg - grad_avg * grad_avg)
    else:
        avg = np.sqrt(square_avg)
    avg += eps
    if momentum > 0:
        momentum_buffer *= momentum
        momentum_buffer += g / avg
        param -= lr * momentum_buffer
    else:
        # (lr * g) / avg rounds as torch's addcdiv does, so float32 runs agree with torch's
        param -= (lr * g) / avg


class RMSprop(Optimizer):
    """RMSprop, as `torch.optim.RMSprop`.

    For each parameter p with gradient g, every step (s, a, b start at zero):

    1. g <- -g                                       if maximize
    2. g <- g + weight_decay * p
    3. s <- alpha * s + (1 - alpha) * g^2            running mean of squared gradients
    4. if centered: a <- alpha * a + (1 - alpha) * g,  d = sqrt(s - a^2) + eps
       else:                                           d = sqrt(s) + eps
    5. if momentum > 0: b <- momentum * b + g / d,     p <- p - lr * b
       else:                                           p <- p - lr * g / d

    The course's RMSprop (S <- beta2 * S + (1 - beta2) * dW^2, W <- W - alpha * dW /
    (sqrt(S) + eps)) is this with alpha=beta2 and lr=alpha.

    Parameters
    ----------
    params : iterable of Tensor or of dict
        Parameters or parameter groups (see `Optimizer`).
    lr : float
        Learning rate, >= 0.
    alpha : float
        Smoothing constant of the running averages, >= 0.
    eps : float
        Added to the denominator for numerical stability, >= 0.
    weight_decay : float
        L2 penalty coefficient, >= 0.
    momentum : float
        Momentum factor, >= 0.
    centered : bool
        Normalise by an estimate of the gradient's variance instead of its second moment.
    maximize : bool
        Ascend the objective instead of descending it.

    State per parameter: 'step', 'square_avg', 'grad_avg' (centered), 'momentum_buffer'
    (momentum > 0).
    """

    _non_negative = ("lr", "alpha", "eps", "weight_decay", "momentum")

    def __init__(
        self,
        params,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ):
        defaults = dict(
            lr=lr,
            alpha=alpha,
            eps=eps,
            weight_decay=weight_decay,
            momentum=momentum,
            centered=centered,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _init_state(self, param, group):
        state = {"step": 0, "square_avg": np.zeros_like(param)}
        if group["momentum"] > 0:
            state["momentum_buffer"] = np.zeros_like(param)
        if group["centered"]:
            state["grad_avg"] = np.zeros_like(param)
        return state

    def _update(self, param, grad, state, group):
        state["step"] += 1
        rmsprop_update(
            param,
            grad,
            state["square_avg"],
            state.get("grad_avg"),
            state.get("momentum_buffer"),
            **group,
        )
