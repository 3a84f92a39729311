"""Optimizers against torch.optim: the same MLP, data and initial weights, 20 steps each."""

import numpy as np
import pytest

import autodiff as ad
import optim

torch = pytest.importorskip("torch")

STEPS = 20
TOLERANCES = {np.float32: dict(rtol=2e-5, atol=2e-6), np.float64: dict(rtol=1e-11, atol=1e-13)}

CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.5)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.1, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.5, weight_decay=0.1, nesterov=True, maximize=True)),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-6)),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, amsgrad=True, maximize=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.5, amsgrad=True)),
    ("AdamW", dict(lr=0.01, maximize=True)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, initial_accumulator_value=0.1)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.1, eps=1e-6, maximize=True)),
    ("NAdam", dict()),
    ("NAdam", dict(lr=0.01, betas=(0.8, 0.99), momentum_decay=0.1)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("Adamax", dict()),
    ("Adamax", dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1, maximize=True)),
    ("RAdam", dict()),
    ("RAdam", dict(lr=0.01, betas=(0.9, 0.9))),  # rho_t passes 5 at step 6
    ("RAdam", dict(lr=0.01, weight_decay=0.1, betas=(0.8, 0.9))),
    ("RAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
]


def _problem(dtype):
    """Initial weights (w1, b1, w2) of a 4-8-3 tanh MLP, and a batch (x, y)."""
    rng = np.random.default_rng(0)
    weights = [rng.normal(0, 0.5, (4, 8)), rng.normal(0, 0.1, 8), rng.normal(0, 0.5, (8, 3))]
    x, y = rng.normal(size=(16, 4)), rng.normal(size=(16, 3))
    return [w.astype(dtype) for w in weights], x.astype(dtype), y.astype(dtype)


def _loss(w1, b1, w2, x, y):
    """Mean squared error of the MLP; the same code runs on autodiff and on torch tensors."""
    return (((x @ w1 + b1).tanh() @ w2 - y) ** 2).mean()


def _assert_same_trajectory(make_ours, make_theirs, dtype):
    """Train both from the same weights; every parameter must agree after every step."""
    weights, x, y = _problem(dtype)
    ours = [ad.tensor(w, requires_grad=True) for w in weights]
    theirs = [torch.tensor(w, requires_grad=True) for w in weights]
    _assert_same_trajectory_from(ours, make_ours(ours), theirs, make_theirs(theirs), x, y)
    assert not np.allclose(ours[0].data, weights[0]), "the weights should have moved"


def _assert_same_trajectory_from(ours, optimizer, theirs, torch_optimizer, x, y):
    """Continue both optimizers for STEPS steps, comparing the parameters after each."""
    runs = [
        (ours, optimizer, ad.tensor(x), ad.tensor(y)),
        (theirs, torch_optimizer, torch.tensor(x), torch.tensor(y)),
    ]
    for step in range(1, STEPS + 1):
        for params, opt, xb, yb in runs:
            opt.zero_grad()
            _loss(*params, xb, yb).backward()
            opt.step()
        for i, (a, b) in enumerate(zip(ours, theirs)):
            assert a.dtype == x.dtype
            np.testing.assert_allclose(
                a.data,
                b.detach().numpy(),
                **TOLERANCES[x.dtype.type],
                err_msg=f"param {i}, step {step}",
            )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_matches_torch(name, kwargs, dtype):
    _assert_same_trajectory(
        lambda params: getattr(optim, name)(params, **kwargs),
        lambda params: getattr(torch.optim, name)(params, **kwargs),
        dtype,
    )


@pytest.mark.parametrize(
    "name", ["SGD", "RMSprop", "Adam", "AdamW", "Adagrad", "NAdam", "Adamax", "RAdam"]
)
def test_param_groups_match_torch(name):
    """Per-group hyperparameters override the defaults, as in torch.

    In float64: float32 rounding is test_matches_torch's subject, and torch's fused
    multiply-adds (p.add_(buf, alpha=-lr), addcmul_) round once where numpy rounds twice, which
    over 20 RMSprop steps with momentum drifts past float32's tolerance here.
    """

    def groups(params):
        return [{"params": params[:2], "lr": 0.05, "weight_decay": 0.1}, {"params": params[2:]}]

    extra = dict(momentum=0.9) if name in ("SGD", "RMSprop") else {}
    _assert_same_trajectory(
        lambda params: getattr(optim, name)(groups(params), lr=0.01, **extra),
        lambda params: getattr(torch.optim, name)(groups(params), lr=0.01, **extra),
        np.float64,
    )


def _numpy_state_dict(torch_state_dict):
    """A torch optimizer's state dict with its tensors as numpy arrays."""
    state = {
        i: {k: v.numpy() if isinstance(v, torch.Tensor) else v for k, v in s.items()}
        for i, s in torch_state_dict["state"].items()
    }
    return {"state": state, "param_groups": torch_state_dict["param_groups"]}


@pytest.mark.parametrize(("name", "kwargs"), CASES[::2], ids=[f"{n}-{k}" for n, k in CASES[::2]])
def test_loads_a_torch_state_dict(name, kwargs):
    """Same layout: torch's state (with its extra group keys) continues in ours."""
    weights, x, y = _problem(np.float32)
    theirs = [torch.tensor(w, requires_grad=True) for w in weights]
    torch_optimizer = getattr(torch.optim, name)(theirs, **kwargs)
    for _ in range(5):
        torch_optimizer.zero_grad()
        _loss(*theirs, torch.tensor(x), torch.tensor(y)).backward()
        torch_optimizer.step()
    ours = [ad.tensor(t.detach().numpy().copy(), requires_grad=True) for t in theirs]
    optimizer = getattr(optim, name)(ours)
    optimizer.load_state_dict(_numpy_state_dict(torch_optimizer.state_dict()))
    _assert_same_trajectory_from(ours, optimizer, theirs, torch_optimizer, x, y)


# (optimizer, its kwargs, the scheduler built on it) for `_scheduled_trajectories`
SCHEDULED = [
    ("SGD", dict(lr=0.1, momentum=0.9), lambda m, opt: m.OneCycleLR(opt, 0.5, total_steps=20)),
    (
        "Adam",
        dict(lr=0.01),
        lambda m, opt: m.OneCycleLR(opt, [0.05, 0.02], total_steps=25, three_phase=True),
    ),
    (
        "NAdam",
        dict(lr=0.01),
        lambda m, opt: m.SequentialLR(
            opt,
            [m.LinearLR(opt, 0.1, total_iters=4), m.CosineAnnealingWarmRestarts(opt, 3, 2)],
            milestones=[4],
        ),
    ),
    ("Adagrad", dict(lr=0.1), lambda m, opt: m.LinearLR(opt, 1.0, 0.2, total_iters=10)),
    ("RMSprop", dict(lr=0.01, momentum=0.5), lambda m, opt: m.PolynomialLR(opt, 15, 2.0)),
]


@pytest.mark.parametrize(
    ("name", "kwargs", "make"), SCHEDULED, ids=[f"{n}-{k}" for n, k, _ in SCHEDULED]
)
def test_schedulers_composed_with_optimizers_match_torch(name, kwargs, make):
    """A scheduler stepped after every optimizer step: weights, lrs and momenta agree."""
    weights, x, y = _problem(np.float64)
    runs = []
    for lib, sched, tensor in [
        (optim, optim.lr_scheduler, ad.tensor),
        (torch.optim, torch.optim.lr_scheduler, torch.tensor),
    ]:
        params = [tensor(w, requires_grad=True) for w in weights]
        groups = [{"params": params[:2]}, {"params": params[2:], "lr": kwargs["lr"] / 2}]
        optimizer = getattr(lib, name)(groups, **kwargs)
        runs.append((params, optimizer, make(sched, optimizer), tensor(x), tensor(y)))
    for step in range(1, STEPS + 1):
        for params, optimizer, scheduler, xb, yb in runs:
            optimizer.zero_grad()
            _loss(*params, xb, yb).backward()
            optimizer.step()
            scheduler.step()
        (ours, optimizer, scheduler, *_), (theirs, torch_optimizer, torch_scheduler, *_) = runs
        np.testing.assert_allclose(
            scheduler.get_last_lr(), torch_scheduler.get_last_lr(), rtol=1e-12
        )
        for group, torch_group in zip(optimizer.param_groups, torch_optimizer.param_groups):
            for key in ("momentum", "betas"):
                if key in group:
                    np.testing.assert_allclose(group[key], torch_group[key], rtol=1e-12)
        for i, (a, b) in enumerate(zip(ours, theirs)):
            np.testing.assert_allclose(
                a.data, b.detach().numpy(), **TOLERANCES[np.float64], err_msg=f"{i}, {step}"
            )
