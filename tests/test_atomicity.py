"""Every public call that changes state either completes or changes nothing (issue 12).

Each test makes the failure come last (a bad gradient on the last parameter, a bad entry at the
end of a state dict, a bad value in the last scheduler of a sequence), so that a call that
writes as it goes would already have changed something, and checks a snapshot of everything.
"""

import copy
import re

import numpy as np
import pytest

import autodiff as ad
import nn
from autodiff import serialization
from optim import SGD, Adagrad, Adam, Adamax, AdamW, NAdam, RAdam, RMSprop
from optim import lr_scheduler as sched

OPTIMIZERS = [
    (SGD, dict(lr=0.1, momentum=0.9, weight_decay=0.01)),
    (RMSprop, dict(lr=0.01, momentum=0.5, centered=True)),
    (Adam, dict(lr=0.01, amsgrad=True, weight_decay=0.01)),
    (AdamW, dict(lr=0.01)),
    (Adagrad, dict(lr=0.1, lr_decay=0.01)),
    (NAdam, dict(lr=0.01, decoupled_weight_decay=True, weight_decay=0.1)),
    (Adamax, dict(lr=0.01)),
    (RAdam, dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
]
IDS = [cls.__name__ for cls, _ in OPTIMIZERS]


def _params():
    """A weight (3,) in group 0, a bias (2,) (the last parameter) in group 1."""
    w = ad.tensor(np.array([1.0, -2.0, 3.0], np.float32), requires_grad=True)
    b = ad.tensor(np.array([0.5, -0.5], np.float32), requires_grad=True)
    return w, b


def _stepped(cls, kwargs):
    """An optimizer of two groups after one step, so that every parameter has state."""
    w, b = _params()
    optimizer = cls([{"params": [w]}, {"params": [b], "lr": 0.02}], **kwargs)
    _fill_grads(w, b)
    optimizer.step()
    return optimizer, w, b


def _fill_grads(w, b):
    w.grad = ad.tensor(np.array([0.1, 0.2, -0.3], np.float32))
    b.grad = ad.tensor(np.array([0.4, -0.1], np.float32))


def _snapshot(optimizer):
    """Everything a step or a load may change: parameter values and versions, state, groups."""
    params = [p for group in optimizer.param_groups for p in group["params"]]
    return (
        [p.data.copy() for p in params],
        [p._version for p in params],
        copy.deepcopy(optimizer.state_dict()),
    )


def _assert_same(a, b):
    """Equal nested structures, arrays compared by value."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b)
        for key in a:
            _assert_same(a[key], b[key])
    elif isinstance(a, list | tuple):
        assert type(a) is type(b) and len(a) == len(b)
        for x, y in zip(a, b):
            _assert_same(x, y)
    elif isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b)
        assert a.dtype == b.dtype
    else:
        assert a == b


# ---- optimizer.step ---------------------------------------------------------------------------


@pytest.mark.parametrize(("cls", "kwargs"), OPTIMIZERS, ids=IDS)
@pytest.mark.parametrize(
    "bad_grad",
    [np.ones(1, np.float32), np.ones(3, np.float32), np.ones((2, 1), np.float32)],
    ids=["broadcastable", "other-size", "other-rank"],
)
def test_a_bad_gradient_on_the_last_parameter_changes_nothing(cls, kwargs, bad_grad):
    optimizer, w, b = _stepped(cls, kwargs)
    _fill_grads(w, b)
    b.grad = ad.tensor(bad_grad)
    before = _snapshot(optimizer)
    message = rf"{cls.__name__}.step: .*shape {re.escape(str(bad_grad.shape))}"
    with pytest.raises(ValueError, match=message):
        optimizer.step()
    _assert_same(_snapshot(optimizer), before)


@pytest.mark.parametrize(("cls", "kwargs"), OPTIMIZERS, ids=IDS)
def test_a_bad_gradient_on_the_first_step_creates_no_state(cls, kwargs):
    w, b = _params()
    optimizer = cls([w, b], **kwargs)
    w.grad = ad.tensor(np.ones(3, np.float32))
    b.grad = ad.tensor(np.ones(1, np.float32))  # Adam used to broadcast it onto the bias
    with pytest.raises(ValueError, match=r"shape \(1,\)"):
        optimizer.step()
    assert len(optimizer.state) == 0
    np.testing.assert_array_equal(w.data, [1.0, -2.0, 3.0])


@pytest.mark.parametrize(
    "bad_grad",
    [np.ones(2, np.float32), ad.tensor(np.ones(2, np.int64)), ad.tensor(np.ones(2, bool))],
    ids=["ndarray", "int64", "bool"],
)
def test_a_gradient_that_is_not_a_float_tensor_changes_nothing(bad_grad):
    optimizer, w, b = _stepped(Adam, dict(lr=0.01))
    _fill_grads(w, b)
    b.grad = bad_grad
    before = _snapshot(optimizer)
    with pytest.raises(TypeError, match="Adam.step: the gradient of parameter 0 of group 1"):
        optimizer.step()
    _assert_same(_snapshot(optimizer), before)


def _cases(values):
    """(cls, kwargs, *value) for each optimizer and each value whose hyperparameter it has."""
    return [
        pytest.param(cls, kwargs, *value, id=f"{cls.__name__}-{value[-1]}")
        for cls, kwargs in OPTIMIZERS
        for value in values
        if value[0] in cls([ad.zeros(1, requires_grad=True)], **kwargs).defaults
    ]


@pytest.mark.parametrize(
    ("cls", "kwargs", "key", "value", "case"),
    _cases([("lr", -1.0, "negative-lr"), ("eps", "1e-8", "str-eps"), ("betas", (0.9,), "one")]),
)
def test_a_bad_hyperparameter_in_the_last_group_changes_nothing(cls, kwargs, key, value, case):
    optimizer, w, b = _stepped(cls, kwargs)
    _fill_grads(w, b)
    optimizer.param_groups[1][key] = value
    before = _snapshot(optimizer)
    with pytest.raises(ValueError, match=rf"{cls.__name__}: {key}"):
        optimizer.step()
    _assert_same(_snapshot(optimizer), before)


# ---- optimizer.load_state_dict ----------------------------------------------------------------


def _break_last_state(saved, name):
    """Damage the state of the last parameter (index 1) in the way `name` says."""
    state = saved["state"][1]
    array_key = next(k for k, v in state.items() if isinstance(v, np.ndarray))
    if name == "wrong-shape":
        state[array_key] = np.zeros(3, np.float32)
    elif name == "not-numbers":
        state[array_key] = np.array(["a", "b"])
    elif name == "missing-entry":
        del state[array_key]
    elif name == "unknown-index":
        saved["state"][99] = saved["state"].pop(1)
    elif name == "bad-step":
        state["step"] = np.ones(2)


# SGD keeps no step count, and a missing momentum buffer is a valid state (not created yet)
DAMAGES = [
    pytest.param(cls, kwargs, damage, id=f"{cls.__name__}-{damage}")
    for cls, kwargs in OPTIMIZERS
    for damage in ["wrong-shape", "not-numbers", "missing-entry", "unknown-index", "bad-step"]
    if cls is not SGD or damage in ("wrong-shape", "not-numbers", "unknown-index")
]


@pytest.mark.parametrize(("cls", "kwargs", "damage"), DAMAGES)
def test_load_state_dict_with_a_bad_last_state_changes_nothing(cls, kwargs, damage):
    source, _, _ = _stepped(cls, kwargs)
    _fill_grads(*[g["params"][0] for g in source.param_groups])
    source.step()
    saved = copy.deepcopy(source.state_dict())
    _break_last_state(saved, damage)
    optimizer, _, _ = _stepped(cls, kwargs)
    before = _snapshot(optimizer)
    with pytest.raises(ValueError, match=rf"{cls.__name__}.load_state_dict: "):
        optimizer.load_state_dict(saved)
    _assert_same(_snapshot(optimizer), before)


@pytest.mark.parametrize(
    ("cls", "kwargs", "key", "value", "message", "case"),
    _cases(
        [
            ("lr", -5.0, "lr must be >= 0, got -5.0", "negative-lr"),
            ("lr", "0.1", "lr must be >= 0, got '0.1'", "str-lr"),
            ("betas", (0.9,), r"betas must be a pair \(beta1, beta2\), got \(0.9,\)", "one"),
            ("betas", (0.9, 1.5), r"betas\[1\] must be in \[0, 1\)", "too-large"),
        ]
    ),
)
def test_load_state_dict_refuses_what_the_constructor_refuses(
    cls, kwargs, key, value, message, case
):
    optimizer, _, _ = _stepped(cls, kwargs)
    saved = copy.deepcopy(optimizer.state_dict())
    saved["param_groups"][1][key] = value
    with pytest.raises(ValueError, match=message):
        cls(_params(), **{**kwargs, key: value})
    before = _snapshot(optimizer)
    with pytest.raises(ValueError, match=rf"load_state_dict: param_groups\[1\]: .*{message}"):
        optimizer.load_state_dict(saved)
    _assert_same(_snapshot(optimizer), before)


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda s: {"param_groups": s["param_groups"]}, "expected a dict with 'state'"),
        (lambda s: [s], "expected a dict with 'state' and 'param_groups'"),
        (lambda s: {**s, "state": {99: {}}}, r"state for parameter 99, .* has 2 parameters"),
        (lambda s: {**s, "state": {"w": {}}}, "'w' is not a parameter index"),
        (lambda s: {**s, "param_groups": s["param_groups"][:1]}, "1 parameter groups"),
        (lambda s: {**s, "param_groups": [{"lr": 0.1}, {"lr": 0.1}]}, "'params' list"),
        (lambda s: {**s, "state": {1: [1, 2]}}, "state of parameter 1 must be a dict"),
    ],
    ids=["no-state", "not-a-dict", "index-99", "str-index", "groups", "no-params", "list"],
)
def test_load_state_dict_names_what_is_wrong_with_a_malformed_dict(mangle, message):
    optimizer, _, _ = _stepped(Adam, dict(lr=0.01))
    saved = copy.deepcopy(optimizer.state_dict())
    before = _snapshot(optimizer)
    with pytest.raises(ValueError, match=message):
        optimizer.load_state_dict(mangle(saved))
    _assert_same(_snapshot(optimizer), before)


# ---- Module.load_state_dict -------------------------------------------------------------------


class _WithTable(nn.Module):
    """A layer whose last state entry is a read-only buffer (a broadcast view)."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 2)
        self.register_buffer("table", np.broadcast_to(np.float32(0.5), (4,)))


def _module_snapshot(module):
    return {k: v.data.copy() for k, v in module.state_dict().items()}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (np.zeros(5, np.float32), "size mismatch for 'table'"),
        (np.array(["a", "b", "c", "d"]), "'table' holds a <U1 value"),
        ([[1.0], [1.0, 2.0]], "'table' holds a list that is not an array"),
        (np.ones(4, np.float32), "'table' is a read-only array"),
    ],
    ids=["shape", "strings", "ragged", "read-only-target"],
)
def test_module_load_state_dict_with_a_bad_last_entry_changes_nothing(value, message):
    model = _WithTable()
    state = {k: v.data + 1 for k, v in model.state_dict().items()}
    state["table"] = value
    before = _module_snapshot(model)
    versions = [p._version for p in model.parameters()]
    with pytest.raises(RuntimeError, match=message):
        model.load_state_dict(state)
    _assert_same(_module_snapshot(model), before)
    assert [p._version for p in model.parameters()] == versions


# ---- scheduler.load_state_dict ----------------------------------------------------------------


def _scheduler_pair():
    optimizer = SGD([ad.tensor(np.zeros(2, np.float32), requires_grad=True)], lr=0.1)
    warmup = sched.LinearLR(optimizer, 0.2, total_iters=4)
    decay = sched.StepLR(optimizer, 2)
    return sched.SequentialLR(optimizer, [warmup, decay], milestones=[4])


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("gamma", "fast", r"'gamma' is 'fast', unlike its current 0.1"),
        ("base_lrs", [0.1, 0.2], "'base_lrs' has 2 values, the optimizer has 1"),
        ("step", 3, r"\['step'\] are not part of this scheduler's state"),
        ("last_epoch", True, "'last_epoch' is True"),
    ],
    ids=["str-for-number", "per-group", "unknown-key", "bool-for-int"],
)
def test_sequential_lr_load_with_a_bad_last_scheduler_changes_nothing(key, value, message):
    source = _scheduler_pair()
    for _ in range(6):
        source.step()
    saved = copy.deepcopy(source.state_dict())
    saved["_schedulers"][1][key] = value
    scheduler = _scheduler_pair()
    before = copy.deepcopy(scheduler.state_dict())
    with pytest.raises(ValueError, match=f"StepLR.load_state_dict: {message}"):
        scheduler.load_state_dict(saved)
    _assert_same(scheduler.state_dict(), before)
    scheduler.step()  # still a working scheduler (no method replaced by a loaded value)


def test_scheduler_load_refuses_a_non_dict():
    scheduler = sched.StepLR(SGD([ad.tensor(np.zeros(2), requires_grad=True)], lr=0.1), 2)
    with pytest.raises(ValueError, match="StepLR.load_state_dict: expected a dict, got list"):
        scheduler.load_state_dict([1, 2])


# ---- in-place ops -----------------------------------------------------------------------------

INPLACE = {
    "add_": lambda x: x.add_(ad.ones(4)),
    "copy_": lambda x: x.copy_(ad.ones(3, 2)),
    "setitem": lambda x: x.__setitem__((slice(None),), ad.ones(4)),
    "setitem-out-of-range": lambda x: x.__setitem__(([0, 1], [0, 5]), 1.0),
    "setitem-str": lambda x: x.__setitem__(0, "a"),
    "clamp_": lambda x: x.clamp_(min=ad.ones(4)),
    "fill_": lambda x: x.fill_("a"),
    "masked_fill_": lambda x: x.masked_fill_(ad.tensor(np.ones(4, bool)), 1.0),
    "scatter_": lambda x: x.scatter_(1, ad.tensor(np.array([[0, 9], [1, 1]])), 1.0),
}


@pytest.mark.parametrize("call", INPLACE.values(), ids=INPLACE.keys())
def test_a_failing_in_place_op_changes_nothing(call):
    x = ad.tensor(np.arange(6.0).reshape(2, 3))
    version = x._version
    with pytest.raises((ValueError, TypeError, IndexError)):
        call(x)
    np.testing.assert_array_equal(x.data, np.arange(6.0).reshape(2, 3))
    assert x._version == version


# ---- BatchNorm's running statistics -----------------------------------------------------------


@pytest.mark.parametrize("momentum", [0.1, None])
@pytest.mark.parametrize(
    ("x", "error"),
    [
        (np.ones((1, 3), np.float32), ValueError),  # one value per channel
        (np.ones((4, 3), np.float64), TypeError),  # the layer is float32
    ],
    ids=["one-value", "dtype"],
)
def test_a_batch_norm_batch_that_raises_changes_no_running_statistic(momentum, x, error):
    layer = nn.BatchNorm1d(3, momentum=momentum)
    layer(ad.tensor(np.arange(12.0, dtype=np.float32).reshape(4, 3)))
    before = _module_snapshot(layer)
    with pytest.raises(error):
        layer(ad.tensor(x))
    _assert_same(_module_snapshot(layer), before)
    assert layer.num_batches_tracked.item() == 1


# ---- saves ------------------------------------------------------------------------------------


def test_a_save_that_fails_on_its_last_entry_leaves_the_file_and_the_directory_alone(
    tmp_path, monkeypatch
):
    path = tmp_path / "ckpt.npz"
    nn.save({"w": np.arange(3.0)}, path)
    before = path.read_bytes()
    with pytest.raises(TypeError, match=r"obj\['z'\] is a object"):
        nn.save({"w": np.zeros(3), "z": object()}, path)

    def fail(f, arrays):
        f.write(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(serialization, "_write_arrays", fail)
    with pytest.raises(OSError, match="disk full"):
        nn.save({"w": np.zeros(3)}, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.npz"]
