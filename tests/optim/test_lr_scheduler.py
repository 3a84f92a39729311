"""Learning-rate schedules: against torch.optim.lr_scheduler over 30 epochs, and on their own."""

import copy
import math

import numpy as np
import pytest

import autodiff as ad
from optim import SGD, Adagrad
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
    "ConstantLR": lambda m, opt: m.ConstantLR(opt),
    "ConstantLR-half": lambda m, opt: m.ConstantLR(opt, factor=0.5, total_iters=12),
    "LinearLR": lambda m, opt: m.LinearLR(opt),
    "LinearLR-decay": lambda m, opt: m.LinearLR(opt, 1.0, 0.1, total_iters=20),
    "PolynomialLR": lambda m, opt: m.PolynomialLR(opt, total_iters=25, power=2.0),
    "CosineAnnealingWarmRestarts": lambda m, opt: m.CosineAnnealingWarmRestarts(opt, T_0=7),
    "CosineAnnealingWarmRestarts-Tmult": lambda m, opt: m.CosineAnnealingWarmRestarts(
        opt, T_0=3, T_mult=2, eta_min=0.001
    ),
    "OneCycleLR": lambda m, opt: m.OneCycleLR(opt, max_lr=1.0, total_steps=EPOCHS),
    "OneCycleLR-linear": lambda m, opt: m.OneCycleLR(
        opt, [0.5, 2.0], epochs=5, steps_per_epoch=7, pct_start=0.25, anneal_strategy="linear"
    ),
    "OneCycleLR-three-phase": lambda m, opt: m.OneCycleLR(
        opt, max_lr=0.3, total_steps=EPOCHS, three_phase=True, div_factor=10.0
    ),
    "SequentialLR": lambda m, opt: m.SequentialLR(
        opt, [m.LinearLR(opt, 0.1, total_iters=5), m.ExponentialLR(opt, 0.9)], milestones=[5]
    ),
    "SequentialLR-three": lambda m, opt: m.SequentialLR(
        opt,
        [m.ConstantLR(opt, 0.5, 20), m.CosineAnnealingLR(opt, 6), m.StepLR(opt, 3, 0.5)],
        milestones=[4, 13],
    ),
    "SequentialLR-restarts": lambda m, opt: m.SequentialLR(
        opt,
        [m.LinearLR(opt, 0.25, total_iters=3), m.CosineAnnealingWarmRestarts(opt, 4, 2)],
        milestones=[3],
    ),
    "SequentialLR-nested": lambda m, opt: m.SequentialLR(
        opt,
        [
            m.SequentialLR(
                opt, [m.ConstantLR(opt, 0.2, 3), m.PolynomialLR(opt, 10)], milestones=[2]
            ),
            m.ExponentialLR(opt, 0.8),
        ],
        milestones=[9],
    ),
    # OneCycleLR rewrites the groups' initial_lr, the base of the schedulers built after it
    "SequentialLR-one-cycle": lambda m, opt: m.SequentialLR(
        opt, [m.OneCycleLR(opt, 0.5, 20), m.ConstantLR(opt, 0.5, 4)], milestones=[20]
    ),
}


# torch warns when a nested SequentialLR steps its inner schedulers; the numbers are unaffected
@pytest.mark.filterwarnings("ignore:Detected call of `lr_scheduler.step\\(\\)` before")
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
        lambda opt: sched.LinearLR(opt, 0.2, total_iters=6),
        lambda opt: sched.OneCycleLR(opt, 0.4, total_steps=12),
        lambda opt: sched.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2),
        lambda opt: sched.SequentialLR(
            opt, [sched.LinearLR(opt, 0.2, total_iters=6), sched.StepLR(opt, 2)], [6]
        ),
    ],
    ids=[
        "MultiStepLR", "CosineAnnealingLR", "ReduceLROnPlateau", "LinearLR", "OneCycleLR",
        "CosineAnnealingWarmRestarts", "SequentialLR",
    ],
)  # fmt: skip
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
    (lambda opt: sched.ConstantLR(opt, factor=1.5), "factor"),
    (lambda opt: sched.ConstantLR(opt, total_iters=-1), "total_iters"),
    (lambda opt: sched.LinearLR(opt, start_factor=0.0), "start_factor"),
    (lambda opt: sched.LinearLR(opt, end_factor=1.5), "end_factor"),
    (lambda opt: sched.LinearLR(opt, total_iters=0), "total_iters"),
    (lambda opt: sched.PolynomialLR(opt, total_iters=0), "total_iters"),
    (lambda opt: sched.CosineAnnealingWarmRestarts(opt, T_0=0), "T_0"),
    (lambda opt: sched.CosineAnnealingWarmRestarts(opt, T_0=2.5), "T_0"),
    (lambda opt: sched.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=0), "T_mult"),
    (lambda opt: sched.CosineAnnealingWarmRestarts(opt, T_0=2, eta_min="0"), "eta_min"),
    (lambda opt: sched.OneCycleLR(opt, 1.0), "total_steps"),
    (lambda opt: sched.OneCycleLR(opt, 1.0, total_steps=0), "total_steps"),
    (lambda opt: sched.OneCycleLR(opt, 1.0, epochs=0, steps_per_epoch=3), "epochs"),
    (lambda opt: sched.OneCycleLR(opt, 1.0, epochs=2, steps_per_epoch=1.5), "steps_per_epoch"),
    (lambda opt: sched.OneCycleLR(opt, 1.0, 10, pct_start=1.5), "pct_start"),
    (lambda opt: sched.OneCycleLR(opt, 1.0, 10, pct_start=0), "pct_start"),
    (lambda opt: sched.OneCycleLR(opt, 1.0, 10, anneal_strategy="exp"), "anneal_strategy"),
    (lambda opt: sched.OneCycleLR(opt, [1.0, 2.0, 3.0], 10), "max_lr"),
    (lambda opt: sched.OneCycleLR(opt, 1.0, 10, base_momentum=[0.8]), "base_momentum"),
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


def test_one_cycle_needs_momentum_to_cycle_it():
    params = [ad.tensor(np.zeros(2, np.float32), requires_grad=True)]
    optimizer = Adagrad(params, lr=0.1)
    with pytest.raises(ValueError, match="cycle_momentum must be False for Adagrad"):
        sched.OneCycleLR(optimizer, 1.0, 10)
    scheduler = sched.OneCycleLR(optimizer, 1.0, 10, cycle_momentum=False)
    assert scheduler.get_last_lr() == pytest.approx([1.0 / 25])
    assert "momentum" not in optimizer.param_groups[0]


def test_one_cycle_refuses_to_step_past_the_end_and_changes_nothing():
    optimizer = _optimizer()
    scheduler = sched.OneCycleLR(optimizer, 1.0, total_steps=3)
    for _ in range(3):
        scheduler.step()
    lrs = scheduler.get_last_lr()
    with pytest.raises(ValueError, match="tried to step 4 times, but total_steps is 3"):
        scheduler.step()
    assert scheduler.last_epoch == 3 and [g["lr"] for g in optimizer.param_groups] == lrs


def test_warm_restarts_with_fractional_epochs_match_torch():
    torch = pytest.importorskip("torch")
    runs = []
    for optimizer, module in [
        (_optimizer(), sched),
        (torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1), torch.optim.lr_scheduler),
    ]:
        scheduler = module.CosineAnnealingWarmRestarts(optimizer, T_0=3, T_mult=2, eta_min=0.01)
        history = []
        for epoch in range(12):
            for i in range(4):
                scheduler.step(epoch + i / 4)
                history.append((scheduler.get_last_lr()[0], scheduler.T_cur, scheduler.T_i))
        scheduler.step(5)  # back in time, to the middle of the second cycle
        history.append((scheduler.get_last_lr()[0], scheduler.T_cur, scheduler.T_i))
        assert scheduler.last_epoch == 5
        runs.append(history)
    np.testing.assert_allclose(runs[0], runs[1], rtol=1e-12)
    with pytest.raises(ValueError, match="epoch must be >= 0"):
        scheduler_ = sched.CosineAnnealingWarmRestarts(_optimizer(), T_0=3)
        scheduler_.step(-1)


def test_sequential_lr_checks_its_schedulers():
    optimizer, other = _optimizer(), _optimizer()
    first, second = sched.LinearLR(optimizer), sched.StepLR(optimizer, 2)
    with pytest.raises(ValueError, match="milestones must be one fewer"):
        sched.SequentialLR(optimizer, [first, second], milestones=[2, 4])
    with pytest.raises(ValueError, match="schedulers must be non-empty"):
        sched.SequentialLR(optimizer, [], milestones=[])
    with pytest.raises(ValueError, match=r"schedulers\[1\] must be an epoch scheduler"):
        sched.SequentialLR(optimizer, [first, sched.ReduceLROnPlateau(optimizer)], [2])
    with pytest.raises(ValueError, match=r"schedulers\[0\] must be .* of the same optimizer"):
        sched.SequentialLR(optimizer, [sched.StepLR(other, 2), second], [2])
    with pytest.raises(TypeError, match="Optimizer"):
        sched.SequentialLR([first], [first], [])


def test_sequential_lr_state_dict_holds_its_schedulers():
    optimizer = _optimizer()
    scheduler = sched.SequentialLR(
        optimizer, [sched.ConstantLR(optimizer, 0.5, 3), sched.ExponentialLR(optimizer, 0.5)], [3]
    )
    state = scheduler.state_dict()
    assert "optimizer" not in state
    assert [s["last_epoch"] for s in state["_schedulers"]] == [0, -1]
    assert all("optimizer" not in s for s in state["_schedulers"])
