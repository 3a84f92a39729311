"""Adagrad: scale each coordinate's step by the root of its sum of squared gradients."""

import numpy as np

from optim.optimizer import Optimizer, update_direction


def adagrad_update(
    param: np.ndarray,
    grad: np.ndarray,
    state_sum: np.ndarray,
    *,
    step: int,
    lr: float,
    lr_decay: float,
    weight_decay: float,
    eps: float,
    maximize: bool,
) -> None:
    """One Adagrad step: update `param` and `state_sum` in place; `grad` is not modified.

    `step` counts from 1 (this step included).
    """
    g = update_direction(param, grad, weight_decay, maximize)
    state_sum += g * g
    std = np.sqrt(state_sum)
    std += eps
    param -= (lr / (1 + (step - 1) * lr_decay)) * (g / std)


class Adagrad(Optimizer):
    """Adagrad, as `torch.optim.Adagrad`: per-coordinate steps that shrink with the gradients seen.

    For each parameter p with gradient g, every step (t starts at 0, s at
    initial_accumulator_value):

    1. g <- -g                                       if maximize
    2. t <- t + 1
    3. g <- g + weight_decay * p                     (L2 penalty)
    4. lr_t <- lr / (1 + (t - 1) * lr_decay)
    5. s <- s + g^2                                  sum of squared gradients
    6. p <- p - lr_t * g / (sqrt(s) + eps)

    Parameters
    ----------
    params : iterable of Tensor or of dict
        Parameters or parameter groups (see `Optimizer`).
    lr : float
        Learning rate, >= 0.
    lr_decay : float
        Learning-rate decay per step, >= 0.
    weight_decay : float
        L2 penalty coefficient, >= 0.
    initial_accumulator_value : float
        Starting value of the sum of squared gradients, >= 0.
    eps : float
        Added to the denominator for numerical stability, >= 0.
    maximize : bool
        Ascend the objective instead of descending it.

    State per parameter: 'step', 'sum'. PyTorch creates it in the constructor, this class on a
    parameter's first step (as every optimizer here); the numbers are the same.
    """

    _non_negative = ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps")

    def __init__(
        self,
        params,
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
    ):
        defaults = dict(
            lr=lr,
            lr_decay=lr_decay,
            eps=eps,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _init_state(self, param, group):
        return {"step": 0, "sum": np.full_like(param, group["initial_accumulator_value"])}

    def _update(self, param, grad, state, group):
        state["step"] += 1
        adagrad_update(
            param,
            grad,
            state["sum"],
            step=state["step"],
            lr=group["lr"],
            lr_decay=group["lr_decay"],
            weight_decay=group["weight_decay"],
            eps=group["eps"],
            maximize=group["maximize"],
        )
