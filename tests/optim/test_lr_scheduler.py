"""Learning-rate schedules: against torch.optim.lr_scheduler over 30 epochs, and on their own."""

import copy
import math

import numpy as np
import pytest

import autodiff as ad
from optim import SGD
from optim import lr_scheduler as sched

EPOCHS = 30
LRS = (0.1, 0.05)  # two groups, so per-group base rates are exercised


def _optimizer(lrs=LRS):
    params = [ad.tensor(np.zeros(2, np.float32), requires_grad=True) for _ in lrs]
    return SGD([{"params": [p], "lr": lr} for p, lr in zip(params, lrs)], lr=1.0)


def _history(optimizer, scheduler):
    """Learning rates of every group at epochs 0..EPOCHS, read from the optimizer."""
    history = [scheduler.get_last_lr()]
    for _ in range(EPOCHS):
        optimizer.step()
        scheduler.step()
        history.append([g["lr"] for g in optimizer.param_groups])
        assert scheduler.get_last_lr() == history[-1]
    return history


def _ours(make):
    optimizer = _optimizer()
    return _history(optimizer, make(optimizer))


def _theirs(make):
    torch = pytest.importorskip("torch")
    groups = [{"params": [torch.zeros(2, requires_grad=True)], "lr": lr} for lr in LRS]
    optimizer = torch.optim.SGD(groups, lr=1.0)
    return _history(optimizer, make(optimizer))


CASES = {
    "StepLR": lambda m, opt: m.StepLR(opt, step_size=3, gamma=0.5),
    "MultiStepLR": lambda m, opt: m.MultiStepLR(opt, milestones=[20, 5, 10, 10], gamma=0.3),
    "ExponentialLR": lambda m, opt: m.ExponentialLR(opt, gamma=0.9),
    "LambdaLR": lambda m, opt: m.LambdaLR(opt, lambda epoch: 0.95**epoch),
    "LambdaLR-per-group": lambda m, opt: m.LambdaLR(
        opt, [lambda epoch: 1 / (epoch + 1), lambda epoch: epoch % 4]
    ),
    "CosineAnnealingLR": lambda m, opt: m.CosineAnnealingLR(opt, T_max=10, eta_min=0.001),
    "CosineAnnealingLR-T7": lambda m, opt: m.CosineAnnealingLR(opt, T_max=7),
}


@pytest.mark.parametrize("name", CASES)
def test_matches_torch(name):
    theirs = pytest.importorskip("torch.optim.lr_scheduler")
    ours = _ours(lambda opt: CASES[name](sched, opt))
    expected = _theirs(lambda opt: CASES[name](theirs, opt))
    np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-15)


# the course's decays, against torch's LambdaLR with the same formula
COURSE = [
    ("InverseTimeLR", lambda opt: sched.InverseTimeLR(opt, 0.5), lambda e: 1 / (1 + 0.5 * e)),
    (
        "InverseTimeLR-staircase",
        lambda opt: sched.InverseTimeLR(opt, decay_rate=1.0, step_size=4),
        lambda e: 1 / (1 + e // 4),
    ),
    ("InverseSqrtLR", sched.InverseSqrtLR, lambda e: 1 / math.sqrt(e + 1)),
]


@pytest.mark.parametrize(("name", "make", "factor"), COURSE, ids=[c[0] for c in COURSE])
def test_course_decays_match_torch_lambda_lr(name, make, factor):
    theirs = pytest.importorskip("torch.optim.lr_scheduler")
    expected = _theirs(lambda opt: theirs.LambdaLR(opt, factor))
    np.testing.assert_allclose(_ours(make), expected, rtol=1e-12)


def test_inverse_time_decay_gives_the_course_numbers():
    optimizer = _optimizer(lrs=[0.2])
    scheduler = sched.InverseTimeLR(optimizer, decay_rate=1.0)
    lrs = [scheduler.get_last_lr()[0]]
    for _ in range(3):
        scheduler.step()
        lrs.append(scheduler.get_last_lr()[0])
    np.testing.assert_allclose(lrs, [0.2, 0.1, 0.2 / 3, 0.05])


PLATEAU = [
    dict(),
    dict(patience=2),
    dict(patience=1, cooldown=2, factor=0.5),
    dict(patience=0, threshold=0.05, threshold_mode="abs"),
    dict(mode="max", patience=1, factor=0.5, min_lr=[0.01, 0.02]),
    dict(mode="max", patience=2, threshold=0.1, threshold_mode="abs", min_lr=0.004),
    dict(patience=1, threshold=0.2),  # relative threshold on negative metrics: torch's rule
]
# flat stretches, slow improvements under the threshold, and negative values
METRICS = [
    1.0, 0.9, 0.9, 0.9, 0.8, 0.8, 0.79995, 0.8, 0.81, 0.7, 0.7, 0.7, 0.7, 0.7, 0.6, 0.6,
    0.61, 0.62, 0.5, 0.5, 0.5, -0.1, -0.1, -0.12, -0.13, -0.2, -0.2, -0.2, -0.2, -0.2,
]  # fmt: skip


@pytest.mark.parametrize("kwargs", PLATEAU, ids=[str(k) for k in PLATEAU])
@pytest.mark.parametrize("metrics", [METRICS, [-m for m in METRICS]], ids=["down", "up"])
def test_reduce_on_plateau_matches_torch(kwargs, metrics):
    torch = pytest.importorskip("torch")
    theirs = torch.optim.SGD([{"params": [torch.zeros(1)], "lr": lr} for lr in LRS])
    runs = []
    for optimizer, make in [
        (_optimizer(), sched.ReduceLROnPlateau),
        (theirs, torch.optim.lr_scheduler.ReduceLROnPlateau),
    ]:
        scheduler = make(optimizer, **kwargs)
        history = []
        for metric in metrics:
            scheduler.step(metric)
            history.append([g["lr"] for g in optimizer.param_groups])
        assert scheduler.get_last_lr() == history[-1]
        runs.append(history)
    np.testing.assert_allclose(runs[0], runs[1], rtol=1e-12)
    assert runs[0][0] != runs[0][-1] or kwargs.get("patience", 10) >= 10


def test_reduce_on_plateau_takes_a_tensor_metric():
    optimizer = _optimizer()
    scheduler = sched.ReduceLROnPlateau(optimizer, patience=0)
    scheduler.step(ad.tensor(1.0))
    scheduler.step(ad.tensor([2.0]))
    assert scheduler.get_last_lr() == pytest.approx([0.01, 0.005])


@pytest.mark.parametrize(
    "make",
    [
        lambda opt: sched.MultiStepLR(opt, milestones=[3, 6], gamma=0.5),
        lambda opt: sched.CosineAnnealingLR(opt, T_max=4),
        lambda opt: sched.ReduceLROnPlateau(opt, patience=1, cooldown=1),
    ],
    ids=["MultiStepLR", "CosineAnnealingLR", "ReduceLROnPlateau"],
)
def test_state_dict_round_trip(make):
    def advance(scheduler, epochs):
        for epoch in epochs:
            if isinstance(scheduler, sched.ReduceLROnPlateau):
                scheduler.step(1.0 if epoch else 0.5)  # a bad epoch after the first
            else:
                scheduler.step()
        return [g["lr"] for g in scheduler.optimizer.param_groups]

    optimizer = _optimizer()
    scheduler = make(optimizer)
    advance(scheduler, range(4))
    saved = copy.deepcopy((optimizer.state_dict(), scheduler.state_dict()))
    expected = advance(scheduler, range(4, 9))

    resumed_optimizer = _optimizer(lrs=(1.0, 1.0))
    resumed = make(resumed_optimizer)
    resumed_optimizer.load_state_dict(saved[0])
    # as after an npz round trip: numbers and lists come back as arrays
    resumed.load_state_dict({k: np.array(v) for k, v in saved[1].items()})
    assert resumed.last_epoch == scheduler.last_epoch - 5 and type(resumed.last_epoch) is int
    assert advance(resumed, range(4, 9)) == expected


def test_lambda_lr_state_dict_leaves_out_the_functions():
    scheduler = sched.LambdaLR(_optimizer(), lambda epoch: 0.5**epoch)
    scheduler.step()
    state = scheduler.state_dict()
    assert "lr_lambdas" not in state and "optimizer" not in state
    assert state["last_epoch"] == 1 and state["base_lrs"] == list(LRS)


def test_resume_with_last_epoch():
    optimizer = _optimizer()
    scheduler = sched.StepLR(optimizer, step_size=2, gamma=0.5)
    for _ in range(5):
        scheduler.step()
    resumed_optimizer = _optimizer(lrs=(1.0, 1.0))
    with pytest.raises(KeyError, match="initial_lr"):
        sched.StepLR(resumed_optimizer, step_size=2, gamma=0.5, last_epoch=5)
    resumed_optimizer.load_state_dict(optimizer.state_dict())
    resumed = sched.StepLR(resumed_optimizer, step_size=2, gamma=0.5, last_epoch=5)
    scheduler.step()
    assert resumed.last_epoch == 6
    assert resumed.get_last_lr() == scheduler.get_last_lr() == [0.1 / 8, 0.05 / 8]


INVALID = [
    (lambda opt: sched.StepLR(opt, step_size=0), "step_size"),
    (lambda opt: sched.CosineAnnealingLR(opt, T_max=0), "T_max"),
    (lambda opt: sched.InverseTimeLR(opt, decay_rate=-1.0), "decay_rate"),
    (lambda opt: sched.InverseTimeLR(opt, decay_rate=1.0, step_size=0), "step_size"),
    (lambda opt: sched.LambdaLR(opt, [lambda e: 1.0]), "lr_lambda"),
    (lambda opt: sched.ReduceLROnPlateau(opt, mode="lowest"), "mode"),
    (lambda opt: sched.ReduceLROnPlateau(opt, threshold_mode="pct"), "threshold_mode"),
    (lambda opt: sched.ReduceLROnPlateau(opt, factor=1.0), "factor"),
    (lambda opt: sched.ReduceLROnPlateau(opt, patience=-1), "patience"),
    (lambda opt: sched.ReduceLROnPlateau(opt, cooldown=-1), "cooldown"),
    (lambda opt: sched.ReduceLROnPlateau(opt, min_lr=[0.1]), "min_lr"),
]


@pytest.mark.parametrize(("make", "name"), INVALID, ids=[n for _, n in INVALID])
def test_invalid_arguments_raise_naming_them(make, name):
    optimizer = _optimizer()
    with pytest.raises(ValueError, match=f"{name} must be"):
        make(optimizer)
    assert [g["lr"] for g in optimizer.param_groups] == list(LRS)


def test_a_scheduler_needs_an_optimizer():
    with pytest.raises(TypeError, match="Optimizer"):
        sched.StepLR([{"lr": 0.1}], step_size=1)
