"""Adam (momentum plus RMSprop, bias-corrected) and AdamW (Adam with decoupled weight decay)."""

import math

import numpy as np

from optim.optimizer import Optimizer, update_direction


def adam_update(
    param: np.ndarray,
    grad: np.ndarray,
    exp_avg: np.ndarray,
    exp_avg_sq: np.ndarray,
    max_exp_avg_sq: np.ndarray | None,
    *,
    step: int,
    lr: float,
    betas: tuple[float, float],
    eps: float,
    weight_decay: float,
    amsgrad: bool,
    maximize: bool,
    decoupled_weight_decay: bool,
) -> None:
    """One Adam step: update `param` and the moment arrays in place; `grad` is not modified.

    `step` counts from 1 (this step included); `max_exp_avg_sq` is needed with amsgrad.
    """
    beta1, beta2 = betas
    g = update_direction(param, grad, weight_decay, maximize, lr, decoupled_weight_decay)
    update_moments(exp_avg, exp_avg_sq, g, betas)
    if amsgrad:
        np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
    second_moment = max_exp_avg_sq if amsgrad else exp_avg_sq
    # bias corrections applied to the scalars rather than to the arrays: fewer array passes
    denom = np.sqrt(second_moment)
    denom /= math.sqrt(1 - beta2**step)
    denom += eps
    param -= (lr / (1 - beta1**step)) * (exp_avg / denom)


def update_moments(exp_avg, exp_avg_sq, g, betas) -> None:
    """Adam's two moving averages, in place: m <- beta1 m + (1 - beta1) g (momentum) and
    v <- beta2 v + (1 - beta2) g^2 (RMSprop); NAdam and RAdam share them."""
    beta1, beta2 = betas
    exp_avg += (1 - beta1) * (g - exp_avg)
    exp_avg_sq *= beta2
    exp_avg_sq += (1 - beta2) * g * g


class Adam(Optimizer):
    """Adam, as `torch.optim.Adam`: momentum and RMSprop combined, with bias correction.

    For each parameter p with gradient g, every step (t, m, v, v_max start at zero):

    1. g <- -g                                       if maximize
    2. t <- t + 1
    3. g <- g + weight_decay * p                     (L2 penalty; AdamW instead decays p)
    4. m <- beta1 * m + (1 - beta1) * g              first moment (momentum)
    5. v <- beta2 * v + (1 - beta2) * g^2            second moment (RMSprop)
    6. v_max <- max(v_max, v), and v <- v_max below  if amsgrad
    7. m_hat <- m / (1 - beta1^t),  v_hat <- v / (1 - beta2^t)     bias correction
    8. p <- p - lr * m_hat / (sqrt(v_hat) + eps)

    These are the course's equations, with its alpha, beta1, beta2 and epsilon.

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
        L2 penalty coefficient, >= 0.
    amsgrad : bool
        Use the running maximum of the second moment (AMSGrad).
    maximize : bool
        Ascend the objective instead of descending it.
    decoupled_weight_decay : bool
        Decay the weights directly instead of through the gradient, as `AdamW` does.

    State per parameter: 'step', 'exp_avg', 'exp_avg_sq', 'max_exp_avg_sq' (amsgrad).
    """

    _non_negative = ("lr", "eps", "weight_decay")

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        decoupled_weight_decay: bool = False,
    ):
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
            decoupled_weight_decay=decoupled_weight_decay,
        )
        super().__init__(params, defaults)

    def _init_state(self, param, group):
        state = {"step": 0, "exp_avg": np.zeros_like(param), "exp_avg_sq": np.zeros_like(param)}
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = np.zeros_like(param)
        return state

    def _update(self, param, grad, state, group):
        state["step"] += 1
        adam_update(
            param,
            grad,
            state["exp_avg"],
            state["exp_avg_sq"],
            state.get("max_exp_avg_sq"),
            step=state["step"],
            **group,
        )


class AdamW(Adam):
    """Adam with decoupled weight decay, as `torch.optim.AdamW`.

    Step 3 of `Adam` becomes p <- p * (1 - lr * weight_decay): the decay shrinks the weights
    directly instead of passing through the adaptive denominator, so it regularises every
    weight equally (Loshchilov and Hutter, "Decoupled Weight Decay Regularization").

    Parameters are those of `Adam`, with weight_decay defaulting to 1e-2.
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ):
        super().__init__(
            params,
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
            maximize=maximize,
            decoupled_weight_decay=True,
        )
