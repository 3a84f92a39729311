"""RAdam: Adam whose adaptive step is switched on gradually, as the variance estimate firms up."""

import math

import numpy as np

from optim.adam import update_moments
from optim.optimizer import Optimizer, update_direction


def radam_update(
    param: np.ndarray,
    grad: np.ndarray,
    exp_avg: np.ndarray,
    exp_avg_sq: np.ndarray,
    *,
    step: int,
    lr: float,
    betas: tuple[float, float],
    eps: float,
    weight_decay: float,
    decoupled_weight_decay: bool,
    maximize: bool,
) -> None:
    """One RAdam step: update `param` and the moment arrays in place; `grad` is not modified.

    `step` counts from 1 (this step included).
    """
    beta1, beta2 = betas
    g = update_direction(param, grad, weight_decay, maximize, lr, decoupled_weight_decay)
    update_moments(exp_avg, exp_avg_sq, g, betas)
    bias_correction2 = 1 - beta2**step
    m_hat = exp_avg / (1 - beta1**step)
    rho_inf = 2 / (1 - beta2) - 1
    rho = rho_inf - 2 * step * beta2**step / bias_correction2
    if rho > 5.0:
        rect = math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
        denom = np.sqrt(exp_avg_sq)
        denom += eps
        param -= m_hat * lr * (math.sqrt(bias_correction2) / denom) * rect
    else:
        param -= m_hat * lr


class RAdam(Optimizer):
    """RAdam, as `torch.optim.RAdam` (Liu et al., "On the Variance of the Adaptive Learning
    Rate and Beyond").

    For each parameter p with gradient g, every step (t, m, v start at zero):

    1. g <- -g                                       if maximize
    2. t <- t + 1
    3. g <- g + weight_decay * p                     (L2 penalty), or, with
       decoupled_weight_decay, p <- p * (1 - lr * weight_decay)
    4. m <- beta1 * m + (1 - beta1) * g,  v <- beta2 * v + (1 - beta2) * g^2
    5. m_hat <- m / (1 - beta1^t)
    6. rho_inf <- 2 / (1 - beta2) - 1,  rho_t <- rho_inf - 2 t beta2^t / (1 - beta2^t)
    7. if rho_t > 5:
          r <- sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
          p <- p - lr * m_hat * r * sqrt(1 - beta2^t) / (sqrt(v) + eps)
       else:
          p <- p - lr * m_hat                        (plain momentum while v is unreliable)

    Parameters
    ----------
    params : iterable of Tensor or of dict
        Parameters or parameter groups (see `Optimizer`).
    lr : float
        Learning rate, >= 0.
    betas : (float, float)
        Decay rates of the first and second moment averages, each in [0, 1).
    eps : float
        Added to the denominator for numerical stability, >= 0.
    weight_decay : float
        Weight decay coefficient, >= 0.
    decoupled_weight_decay : bool
        Decay the weights directly, as AdamW does, instead of through the gradient.
    maximize : bool
        Ascend the objective instead of descending it.

    State per parameter: 'step', 'exp_avg', 'exp_avg_sq'.
    """

    _non_negative = ("lr", "eps", "weight_decay")

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        decoupled_weight_decay: bool = False,
        *,
        maximize: bool = False,
    ):
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            decoupled_weight_decay=decoupled_weight_decay,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _init_state(self, param, group):
        return {"step": 0, "exp_avg": np.zeros_like(param), "exp_avg_sq": np.zeros_like(param)}

    def _update(self, param, grad, state, group):
        state["step"] += 1
        radam_update(
            param, grad, state["exp_avg"], state["exp_avg_sq"], step=state["step"], **group
        )
