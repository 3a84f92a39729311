"""Optimizer behaviour that needs no oracle: state, state dicts, groups, freezing, validation."""

import copy

import numpy as np
import pytest

import autodiff as ad
from nn import load, save
from optim import SGD, Adagrad, Adam, Adamax, AdamW, NAdam, RAdam, RMSprop

# one configuration per optimizer that keeps every kind of state it has
STATEFUL = [
    (SGD, dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    (RMSprop, dict(lr=0.01, momentum=0.5, centered=True)),
    (Adam, dict(lr=0.01, amsgrad=True, weight_decay=0.01)),
    (AdamW, dict(lr=0.01, amsgrad=True)),
    (Adagrad, dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1)),
    (NAdam, dict(lr=0.01, weight_decay=0.01)),
    (Adamax, dict(lr=0.01)),
    (RAdam, dict(lr=0.01, betas=(0.9, 0.9))),
]
IDS = [cls.__name__ for cls, _ in STATEFUL]
X = np.random.default_rng(1).normal(size=(6, 3)).astype(np.float32)


def _params(dtype=np.float32):
    rng = np.random.default_rng(0)
    shapes = [(3, 4), (4,), (4, 2)]
    return [ad.tensor(rng.normal(size=s).astype(dtype), requires_grad=True) for s in shapes]


def _backward(params):
    """Fill the grads from a small tanh network on fixed inputs."""
    w1, b1, w2 = params
    x = ad.tensor(X.astype(w1.dtype))
    ((x @ w1 + b1).tanh() @ w2).tanh().sum().backward()


def _train(optimizer, params, steps):
    for _ in range(steps):
        optimizer.zero_grad()
        _backward(params)
        optimizer.step()


def _copy(params):
    return [ad.tensor(p.data.copy(), requires_grad=True) for p in params]


def _like_a_file(value):
    """What a round trip through an npz file may give back: str keys, numbers as 0-d arrays,
    sequences of numbers as arrays."""
    if isinstance(value, dict):
        return {str(k): _like_a_file(v) for k, v in value.items()}
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return [_like_a_file(v) for v in value]
    return np.array(value)


@pytest.mark.parametrize(("cls", "kwargs"), STATEFUL, ids=IDS)
@pytest.mark.parametrize("through_file", [False, True], ids=["dict", "file"])
def test_state_dict_round_trip_continues_identically(cls, kwargs, through_file):
    params = _params()
    optimizer = cls([{"params": params[:2]}, {"params": params[2:], "lr": 0.003}], **kwargs)
    _train(optimizer, params, 5)
    saved = copy.deepcopy(optimizer.state_dict())
    resumed_params = _copy(params)
    _train(optimizer, params, 5)

    # other hyperparameters on purpose: loading must restore the saved ones
    resumed = cls([{"params": resumed_params[:2]}, {"params": resumed_params[2:]}], lr=1.0)
    resumed.load_state_dict(_like_a_file(saved) if through_file else saved)
    assert [g["lr"] for g in resumed.param_groups] == [kwargs["lr"], 0.003]
    assert all(type(g["lr"]) is float for g in resumed.param_groups)
    _train(resumed, resumed_params, 5)
    for a, b in zip(params, resumed_params):
        np.testing.assert_array_equal(a.data, b.data)


@pytest.mark.parametrize(("cls", "kwargs"), STATEFUL, ids=IDS)
def test_checkpoint_through_nn_save(cls, kwargs, tmp_path):
    params = _params()
    optimizer = cls(params, **kwargs)
    _train(optimizer, params, 3)
    save({"optimizer": optimizer.state_dict()}, tmp_path / "checkpoint.npz")
    resumed_params = _copy(params)
    resumed = cls(resumed_params)
    resumed.load_state_dict(load(tmp_path / "checkpoint.npz")["optimizer"])
    _train(optimizer, params, 3)
    _train(resumed, resumed_params, 3)
    for a, b in zip(params, resumed_params):
        np.testing.assert_array_equal(a.data, b.data)


def test_state_dict_layout():
    params = _params()
    optimizer = Adam([{"params": params[:2]}, {"params": params[2:], "lr": 0.1}])
    _train(optimizer, params, 2)
    state = optimizer.state_dict()
    assert [g["params"] for g in state["param_groups"]] == [[0, 1], [2]]
    assert state["param_groups"][1]["lr"] == 0.1
    assert state["param_groups"][0]["betas"] == (0.9, 0.999)
    assert sorted(state["state"]) == [0, 1, 2]
    assert state["state"][2]["step"] == 2
    assert set(state["state"][0]) == {"step", "exp_avg", "exp_avg_sq"}
    # a snapshot: later steps do not change it
    exp_avg = state["state"][0]["exp_avg"]
    before = exp_avg.copy()
    _train(optimizer, params, 1)
    np.testing.assert_array_equal(exp_avg, before)
    assert exp_avg is not optimizer.state[params[0]]["exp_avg"]


def test_load_state_dict_casts_state_to_the_parameter_dtype():
    params64 = _params(np.float64)
    source = Adam(params64)
    _train(source, params64, 2)
    params32 = _params(np.float32)
    target = Adam(params32)
    target.load_state_dict(source.state_dict())
    assert target.state[params32[0]]["exp_avg"].dtype == np.float32
    _train(target, params32, 2)
    assert all(p.dtype == np.float32 for p in params32)


def test_load_state_dict_rejects_a_different_grouping_and_changes_nothing():
    params = _params()
    optimizer = SGD(params, lr=0.1, momentum=0.9)
    _train(optimizer, params, 1)
    saved = optimizer.state_dict()
    other = SGD([{"params": params[:2]}, {"params": params[2:]}], lr=0.5)
    with pytest.raises(ValueError, match="1 parameter groups"):
        other.load_state_dict(saved)
    smaller = SGD(params[:2], lr=0.5)
    with pytest.raises(ValueError, match="group 0 has 3 parameters"):
        smaller.load_state_dict(saved)
    assert smaller.param_groups[0]["lr"] == 0.5
    assert len(smaller.state) == 0
    saved["state"][2]["momentum_buffer"] = np.zeros(3, np.float32)
    with pytest.raises(ValueError, match=r"'momentum_buffer' of parameter 2 has shape \(3,\)"):
        optimizer.load_state_dict(saved)
    assert optimizer.state[params[2]]["momentum_buffer"].shape == (4, 2)


@pytest.mark.parametrize(("cls", "kwargs"), STATEFUL, ids=IDS)
def test_frozen_parameters_are_untouched(cls, kwargs):
    params = _params()
    frozen, no_grad_yet = params[0], params[1]
    frozen.requires_grad = False
    before = [p.data.copy() for p in params]
    optimizer = cls(params, **kwargs)
    for _ in range(3):
        frozen.grad = ad.ones(*frozen.shape)  # a stale gradient must not move a frozen layer
        params[2].grad = ad.ones(*params[2].shape)
        optimizer.step()
    np.testing.assert_array_equal(frozen.data, before[0])
    np.testing.assert_array_equal(no_grad_yet.data, before[1])
    assert not np.array_equal(params[2].data, before[2])
    assert frozen not in optimizer.state and no_grad_yet not in optimizer.state


def test_zero_grad():
    params = _params()
    optimizer = SGD(params, lr=0.1)
    _backward(params)
    grad = params[0].grad
    optimizer.zero_grad(set_to_none=False)
    assert params[0].grad is grad
    assert not grad.data.any()
    _backward(params)  # accumulates into the zeroed buffer
    assert params[0].grad is grad and grad.data.any()
    optimizer.zero_grad()
    assert all(p.grad is None for p in params)
    before = [p.data.copy() for p in params]
    optimizer.step()  # nothing to do without gradients
    for p, b in zip(params, before):
        np.testing.assert_array_equal(p.data, b)


INVALID = [
    (SGD, dict(lr=-0.1), "lr"),
    (SGD, dict(momentum=-0.5), "momentum"),
    (SGD, dict(weight_decay=-1e-4), "weight_decay"),
    (SGD, dict(nesterov=True), "nesterov"),
    (SGD, dict(nesterov=True, momentum=0.9, dampening=0.1), "nesterov"),
    (RMSprop, dict(lr=-1.0), "lr"),
    (RMSprop, dict(alpha=-0.9), "alpha"),
    (RMSprop, dict(eps=-1e-8), "eps"),
    (RMSprop, dict(momentum=-0.9), "momentum"),
    (RMSprop, dict(weight_decay=-0.1), "weight_decay"),
    (Adam, dict(lr=-1e-3), "lr"),
    (Adam, dict(betas=(1.0, 0.999)), r"betas\[0\]"),
    (Adam, dict(betas=(-0.1, 0.999)), r"betas\[0\]"),
    (Adam, dict(betas=(0.9, 1.5)), r"betas\[1\]"),
    (Adam, dict(betas=(0.9,)), "betas"),
    (Adam, dict(eps=-1e-8), "eps"),
    (Adam, dict(weight_decay=-0.1), "weight_decay"),
    (AdamW, dict(weight_decay=-0.01), "weight_decay"),
    (AdamW, dict(betas=(0.9, -0.5)), r"betas\[1\]"),
    (Adagrad, dict(lr=-0.1), "lr"),
    (Adagrad, dict(lr_decay=-0.1), "lr_decay"),
    (Adagrad, dict(weight_decay=-0.1), "weight_decay"),
    (Adagrad, dict(initial_accumulator_value=-0.1), "initial_accumulator_value"),
    (Adagrad, dict(eps=-1e-10), "eps"),
    (NAdam, dict(lr=-1e-3), "lr"),
    (NAdam, dict(betas=(1.0, 0.999)), r"betas\[0\]"),
    (NAdam, dict(momentum_decay=-4e-3), "momentum_decay"),
    (NAdam, dict(weight_decay=-0.1), "weight_decay"),
    (Adamax, dict(betas=(0.9, 1.0)), r"betas\[1\]"),
    (Adamax, dict(eps=-1e-8), "eps"),
    (RAdam, dict(betas=(-0.1, 0.9)), r"betas\[0\]"),
    (RAdam, dict(weight_decay=-0.1), "weight_decay"),
]


@pytest.mark.parametrize(
    ("cls", "kwargs", "name"), INVALID, ids=[f"{c.__name__}-{n}" for c, _, n in INVALID]
)
def test_invalid_hyperparameters_raise_naming_them(cls, kwargs, name):
    with pytest.raises(ValueError, match=f"{cls.__name__}: {name} must be"):
        cls(_params(), **kwargs)


def test_invalid_hyperparameter_in_a_group_raises():
    params = _params()
    with pytest.raises(ValueError, match="SGD: lr must be >= 0, got -1"):
        SGD([{"params": params[:1]}, {"params": params[1:], "lr": -1}], lr=0.1)
    optimizer = Adam(params[:1])
    with pytest.raises(ValueError, match=r"betas\[0\]"):
        optimizer.add_param_group({"params": params[1:], "betas": (1.2, 0.9)})
    assert len(optimizer.param_groups) == 1


def test_invalid_params():
    w = ad.tensor(np.ones(3, np.float32), requires_grad=True)
    with pytest.raises(TypeError, match="single Tensor"):
        SGD(w, lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        SGD([], lr=0.1)
    with pytest.raises(ValueError, match="leaf"):
        SGD([w * 2], lr=0.1)
    with pytest.raises(ValueError, match="twice"):
        SGD([w, w], lr=0.1)
    with pytest.raises(TypeError, match="Tensors"):
        SGD([np.ones(3)], lr=0.1)
    optimizer = SGD([w], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        optimizer.add_param_group({"params": [w]})


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("cls", "kwargs"), STATEFUL, ids=IDS)
def test_updates_are_in_place_and_keep_the_dtype(cls, kwargs, dtype):
    params = _params(dtype)
    arrays = [p.data for p in params]
    optimizer = cls(params, **kwargs)
    _train(optimizer, params, 3)
    for p, array in zip(params, arrays):
        assert p.data is array and p.dtype == dtype
        assert all(
            v.dtype == dtype for v in optimizer.state[p].values() if isinstance(v, np.ndarray)
        )


@pytest.mark.parametrize(("cls", "kwargs"), STATEFUL, ids=IDS)
def test_numpy_hyperparameters_compute_in_the_parameter_dtype(cls, kwargs):
    """np.float64 scalars are strong under NEP 50; as Python floats they are weak, and the
    float32 arithmetic (so every rounding) is the same as with Python floats."""
    reference, params = _params(), _params()
    _train(cls(reference, **kwargs), reference, 3)
    optimizer = cls(params, **kwargs)
    for group in optimizer.param_groups:
        for key, value in group.items():
            if key != "params" and not isinstance(value, bool):
                group[key] = np.array(value) if key == "betas" else np.float64(value)
    _train(optimizer, params, 3)
    for a, b in zip(reference, params):
        np.testing.assert_array_equal(a.data, b.data)


def test_add_param_group_with_its_own_lr():
    body, head = _params()[:2]
    optimizer = SGD([body], lr=0.1, momentum=0.9)
    optimizer.add_param_group({"params": head, "lr": 0.01})
    assert optimizer.param_groups[1]["momentum"] == 0.9  # defaults fill the rest
    before = [body.data.copy(), head.data.copy()]
    body.grad, head.grad = ad.ones(*body.shape), ad.ones(*head.shape)
    optimizer.step()
    np.testing.assert_allclose(body.data, before[0] - 0.1, rtol=1e-6)
    np.testing.assert_allclose(head.data, before[1] - 0.01, rtol=1e-6)


def test_step_with_closure_returns_the_loss_and_records_the_graph():
    params = _params()
    optimizer = SGD(params, lr=0.1)

    def closure():
        optimizer.zero_grad()
        loss = ((ad.tensor(X) @ params[0]) ** 2).sum()
        loss.backward()
        return loss

    before = params[0].data.copy()
    with ad.no_grad():
        loss = optimizer.step(closure)
    assert loss.item() == pytest.approx(float(((X @ before) ** 2).sum()), rel=1e-5)
    np.testing.assert_allclose(params[0].data, before - 0.1 * 2 * X.T @ (X @ before), rtol=1e-5)


def test_state_is_keyed_by_parameter_identity():
    a = ad.tensor(np.ones(3, np.float32), requires_grad=True)
    b = ad.tensor(np.ones(3, np.float32), requires_grad=True)  # equal values, another tensor
    optimizer = Adam([a, b], lr=0.1)
    a.grad = ad.tensor(np.ones(3, np.float32))
    optimizer.step()
    assert a in optimizer.state and b not in optimizer.state
    assert optimizer.state[a]["step"] == 1
    assert list(optimizer.state) == [a] and len(optimizer.state) == 1
    assert optimizer.state.get(b) is None


def test_deepcopy_keeps_state_attached_to_the_copied_parameters():
    params = _params()
    optimizer = Adam(params, lr=0.01)
    _train(optimizer, params, 2)
    clone = copy.deepcopy(optimizer)
    copied = clone.param_groups[0]["params"]
    assert all(p in clone.state for p in copied)
    assert not any(p in clone.state for p in params)
    _train(clone, copied, 1)
    _train(optimizer, params, 1)
    for a, b in zip(params, copied):
        np.testing.assert_array_equal(a.data, b.data)


def test_a_graph_that_saved_a_parameter_refuses_backward_after_step():
    w = ad.tensor(np.ones(3, np.float32), requires_grad=True)
    optimizer = SGD([w], lr=0.1)
    (w * w).sum().backward()
    loss = (w * w).sum()
    optimizer.step()
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        loss.backward()


def test_course_momentum_is_sgd_with_a_rescaled_learning_rate():
    """v = beta * v + (1 - beta) * g, p -= alpha * v  ==  SGD(lr=alpha * (1 - beta), beta)."""
    alpha, beta = 0.05, 0.9
    grads = np.random.default_rng(2).normal(size=(10, 5))
    w = ad.tensor(np.zeros(5), dtype=ad.float64, requires_grad=True)
    optimizer = SGD([w], lr=alpha * (1 - beta), momentum=beta)
    p, v = np.zeros(5), np.zeros(5)
    for g in grads:
        v = beta * v + (1 - beta) * g
        p = p - alpha * v
        w.grad = ad.tensor(g)
        optimizer.step()
        np.testing.assert_allclose(w.data, p, rtol=1e-12, atol=1e-15)


def test_repr_lists_the_groups():
    text = repr(SGD(_params(), lr=0.1, momentum=0.9))
    assert text.startswith("SGD (") and "Parameter Group 0" in text and "momentum: 0.9" in text
