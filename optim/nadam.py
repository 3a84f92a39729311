"""NAdam: Adam with Nesterov momentum and a momentum schedule."""

import numpy as np

from optim.adam import update_moments
from optim.optimizer import Optimizer, update_direction


def _momentum(beta1: float, momentum_decay: float, step: int) -> float:
    """The momentum coefficient mu_t of step `step` (Dozat's schedule, as in PyTorch)."""
    return beta1 * (1.0 - 0.5 * 0.96 ** (step * momentum_decay))


def nadam_update(
    param: np.ndarray,
    grad: np.ndarray,
    exp_avg: np.ndarray,
    exp_avg_sq: np.ndarray,
    *,
    step: int,
    mu_product: float,
    lr: float,
    betas: tuple[float, float],
    eps: float,
    weight_decay: float,
    momentum_decay: float,
    decoupled_weight_decay: bool,
    maximize: bool,
) -> float:
    """One NAdam step: update `param` and the moment arrays in place; `grad` is not modified.

    `step` counts from 1 (this step included); `mu_product` is the product of the momentum
    coefficients of the earlier steps (1.0 before the first). Returns the product including
    this step's coefficient, rounded to float32 as PyTorch keeps it (a float32 0-d tensor), so
    that float64 runs agree with PyTorch's to rounding.
    """
    beta1, beta2 = betas
    g = update_direction(param, grad, weight_decay, maximize, lr, decoupled_weight_decay)
    mu = _momentum(beta1, momentum_decay, step)
    mu_next = _momentum(beta1, momentum_decay, step + 1)
    mu_product = float(np.float32(mu_product) * np.float32(mu))
    update_moments(exp_avg, exp_avg_sq, g, betas)
    denom = np.sqrt(exp_avg_sq / (1 - beta2**step))
    denom += eps
    param -= (lr * (1 - mu) / (1 - mu_product)) * (g / denom)
    param -= (lr * mu_next / (1 - mu_product * mu_next)) * (exp_avg / denom)
    return mu_product


class NAdam(Optimizer):
    """NAdam, as `torch.optim.NAdam`: Adam whose momentum looks one step ahead (Nesterov).

    For each parameter p with gradient g, every step (t, m, v start at zero, P at one):

    1. g <- -g                                       if maximize
    2. t <- t + 1
    3. g <- g + weight_decay * p                     (L2 penalty), or, with
       decoupled_weight_decay, p <- p * (1 - lr * weight_decay)
    4. mu_t <- beta1 * (1 - 0.5 * 0.96^(t * momentum_decay)), and mu_{t+1} likewise
    5. P <- P * mu_t                                 product of the momentum coefficients
    6. m <- beta1 * m + (1 - beta1) * g              first moment
    7. v <- beta2 * v + (1 - beta2) * g^2            second moment
    8. d <- sqrt(v / (1 - beta2^t)) + eps
    9. p <- p - lr * (1 - mu_t) / (1 - P) * g / d - lr * mu_{t+1} / (1 - P * mu_{t+1}) * m / d

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
    momentum_decay : float
        How fast mu_t rises towards beta1, >= 0.
    decoupled_weight_decay : bool
        Decay the weights directly, as AdamW does (NAdamW), instead of through the gradient.
    maximize : bool
        Ascend the objective instead of descending it.

    State per parameter: 'step', 'mu_product' (P, a number), 'exp_avg', 'exp_avg_sq'.
    """

    _non_negative = ("lr", "eps", "weight_decay", "momentum_decay")
    _scalar_state = ("step", "mu_product")

    def __init__(
        self,
        params,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum_decay: float = 4e-3,
        decoupled_weight_decay: bool = False,
        *,
        maximize: bool = False,
    ):
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            momentum_decay=momentum_decay,
            decoupled_weight_decay=decoupled_weight_decay,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _init_state(self, param, group):
        return {
            "step": 0,
            "mu_product": 1.0,
            "exp_avg": np.zeros_like(param),
            "exp_avg_sq": np.zeros_like(param),
        }

    def _update(self, param, grad, state, group):
        state["step"] += 1
        state["mu_product"] = nadam_update(
            param,
            grad,
            state["exp_avg"],
            state["exp_avg_sq"],
            step=state["step"],
            mu_product=state["mu_product"],
            **group,
        )
