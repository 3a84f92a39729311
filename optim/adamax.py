"""Adamax: Adam with the infinity norm of past gradients in place of their root mean square."""

import numpy as np

from optim.optimizer import Optimizer, update_direction


def adamax_update(
    param: np.ndarray,
    grad: np.ndarray,
    exp_avg: np.ndarray,
    exp_inf: np.ndarray,
    *,
    step: int,
    lr: float,
    betas: tuple[float, float],
    eps: float,
    weight_decay: float,
    maximize: bool,
) -> None:
    """One Adamax step: update `param`, `exp_avg` and `exp_inf` in place; `grad` is not modified.

    `step` counts from 1 (this step included).
    """
    beta1, beta2 = betas
    g = update_direction(param, grad, weight_decay, maximize)
    exp_avg += (1 - beta1) * (g - exp_avg)
    exp_inf *= beta2
    np.maximum(exp_inf, np.abs(g) + eps, out=exp_inf)
    param -= (lr / (1 - beta1**step)) * (exp_avg / exp_inf)


class Adamax(Optimizer):
    """Adamax, as `torch.optim.Adamax` (Kingma and Ba, section 7 of the Adam paper).

    For each parameter p with gradient g, every step (t, m, u start at zero):

    1. g <- -g                                       if maximize
    2. t <- t + 1
    3. g <- g + weight_decay * p                     (L2 penalty)
    4. m <- beta1 * m + (1 - beta1) * g              first moment
    5. u <- max(beta2 * u, |g| + eps)                decayed infinity norm
    6. p <- p - lr / (1 - beta1^t) * m / u

    Parameters
    ----------
    params : iterable of Tensor or of dict
        Parameters or parameter groups (see `Optimizer`).
    lr : float
        Learning rate, >= 0.
    betas : (float, float)
        Decay rates of the first moment and of the infinity norm, each in [0, 1).
    eps : float
        Added to |g| for numerical stability, >= 0.
    weight_decay : float
        L2 penalty coefficient, >= 0.
    maximize : bool
        Ascend the objective instead of descending it.

    State per parameter: 'step', 'exp_avg', 'exp_inf'.
    """

    _non_negative = ("lr", "eps", "weight_decay")

    def __init__(
        self,
        params,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
    ):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _init_state(self, param, group):
        return {"step": 0, "exp_avg": np.zeros_like(param), "exp_inf": np.zeros_like(param)}

    def _update(self, param, grad, state, group):
        state["step"] += 1
        adamax_update(param, grad, state["exp_avg"], state["exp_inf"], step=state["step"], **group)
