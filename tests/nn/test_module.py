import copy
from collections import OrderedDict

import numpy as np
import pytest

import autodiff as ad
import nn
from autodiff.tensor import Tensor
from tests.nn.standins import Affine, Net


def _x():
    return ad.tensor(np.random.default_rng(5).standard_normal((6, 3)).astype(np.float32))


# ---- Parameter ---------------------------------------------------------------------------------


def test_parameter_is_a_leaf_that_requires_grad():
    p = nn.Parameter([1.0, 2.0])
    assert isinstance(p, Tensor)
    assert p.requires_grad and p.is_leaf and p.grad is None
    assert p.dtype == np.float32
    assert not nn.Parameter([1.0], requires_grad=False).requires_grad
    y = (p * 2).sum()
    assert type(y) is Tensor
    y.backward()
    np.testing.assert_array_equal(p.grad.data, [2.0, 2.0])


def test_parameter_dtype_rules():
    assert nn.Parameter(np.zeros(2, np.float64)).dtype == np.float64
    assert nn.Parameter(np.zeros(2, np.int64)).dtype == np.float32
    assert nn.Parameter([1, 2]).dtype == np.float32
    assert nn.Parameter().shape == (0,)


def test_parameter_shares_a_tensors_array_but_copies_an_ndarray():
    t = ad.tensor([1.0, 2.0])
    assert nn.Parameter(t).data is t.data
    a = np.ones(2, np.float32)
    p = nn.Parameter(a)
    a[0] = 5
    assert p.data[0] == 1


def test_parameter_repr():
    assert repr(nn.Parameter([1.0, 2.0])) == (
        "Parameter containing:\ntensor([1., 2.], requires_grad=True)"
    )


# ---- registration ------------------------------------------------------------------------------


def test_assignment_registers_parameters_modules_and_buffers():
    net = Net()
    assert list(net._parameters) == []
    assert list(net._modules) == ["hidden", "out"]
    assert list(net._buffers) == ["steps"]
    assert list(net.hidden._parameters) == ["w", "b"]
    assert isinstance(net.steps, Tensor) and net.steps.dtype == np.int64
    assert "w" not in net.hidden.__dict__  # lives only in the registry


def test_register_buffer_wraps_an_ndarray_without_copying():
    m = nn.Module()
    a = np.zeros(3, np.float32)
    m.register_buffer("running", a)
    assert m.running.data is a and not m.running.requires_grad
    m.running = np.ones(3, np.float32)  # reassigning a buffer keeps it a buffer
    assert list(m.buffers())[0].data[0] == 1
    with pytest.raises(TypeError, match="buffer 'running'"):
        m.running = [1, 2]


def test_assigning_before_init_is_an_error():
    class Broken(nn.Module):
        def __init__(self):
            self.w = nn.Parameter([1.0])

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Broken()


def test_parameter_slot_accepts_only_parameters_or_none():
    m = Affine()
    with pytest.raises(TypeError, match="parameter 'b'"):
        m.b = ad.tensor([0.0, 0.0])
    m.b = None
    assert [name for name, _ in m.named_parameters()] == ["w"]
    assert m.b is None


def test_reassigning_a_name_moves_it_between_registries():
    m = Affine()
    child = Affine()
    with pytest.raises(TypeError, match="parameter 'w'"):  # as in PyTorch
        m.w = child
    del m.w
    m.w = child
    assert "w" not in m._parameters and m._modules["w"] is child
    m.w = nn.Parameter([1.0])
    assert "w" not in m._modules and "w" in m._parameters
    m.register_buffer("w2", np.zeros(1))
    m.w2 = child
    assert "w2" not in m._buffers and m.w2 is child


def test_reassigning_a_module_slot_to_a_plain_value_is_an_error():
    net = Net()
    with pytest.raises(TypeError, match="child module 'out'"):
        net.out = 3
    net.out = None
    assert list(net.children()) == [net.hidden]


def test_register_functions_and_name_checks():
    m = nn.Module()
    m.register_parameter("p", nn.Parameter([1.0]))
    m.add_module("child", Affine())
    m.register_parameter("absent", None)
    assert [n for n, _ in m.named_parameters()] == ["p", "child.w", "child.b"]
    with pytest.raises(TypeError, match="nn.Parameter or None"):
        m.register_parameter("q", ad.tensor([1.0]))
    with pytest.raises(KeyError, match="contain '.'"):
        m.register_parameter("a.b", nn.Parameter([1.0]))
    m.plain = 1
    with pytest.raises(KeyError, match="already exists"):
        m.register_buffer("plain", np.zeros(1))
    with pytest.raises(TypeError, match="not a Module"):
        m.add_module("x", 3)


def test_delattr_unregisters():
    net = Net()
    del net.out
    del net.steps
    del net.hidden.b
    assert [n for n, _ in net.named_parameters()] == ["hidden.w"]
    assert list(net.buffers()) == []
    with pytest.raises(AttributeError, match="'Net' object has no attribute 'out'"):
        net.out  # noqa: B018


def test_missing_attribute_message():
    with pytest.raises(AttributeError, match="'Affine' object has no attribute 'weight'"):
        Affine().weight  # noqa: B018


def test_dir_lists_registered_names():
    assert {"w", "b", "forward"} <= set(dir(Affine()))


# ---- traversal ---------------------------------------------------------------------------------


def test_named_parameters_have_dotted_names_in_registration_order():
    net = Net()
    names = [name for name, _ in net.named_parameters()]
    assert names == ["hidden.w", "hidden.b", "out.w", "out.b"]
    assert [n for n, _ in net.named_parameters(prefix="model")][0] == "model.hidden.w"
    assert list(net.named_parameters(recurse=False)) == []
    assert [p is q for p, q in zip(net.parameters(), [net.hidden.w, net.hidden.b])] == [
        True,
        True,
    ]
    assert [n for n, _ in net.named_buffers()] == ["steps"]


def test_deeply_nested_names():
    model = nn.Sequential(nn.Sequential(Affine(), nn.Identity()), Affine(2, 2))
    assert [n for n, _ in model.named_parameters()] == ["0.0.w", "0.0.b", "1.w", "1.b"]
    assert [n for n, _ in model.named_modules()] == ["", "0", "0.0", "0.1", "1"]


def test_shared_parameters_and_modules_are_yielded_once():
    net = Net()
    net.out.w = net.hidden.w  # tied weight, registered under two names
    assert [n for n, _ in net.named_parameters()] == ["hidden.w", "hidden.b", "out.b"]
    assert len(list(net.parameters())) == 3
    assert len(list(net.named_parameters(remove_duplicate=False))) == 4

    shared = Affine()
    model = nn.Sequential(shared, shared)
    assert len(list(model.parameters())) == 2
    assert len(list(model.modules())) == 2
    assert len(list(model.children())) == 1
    assert [n for n, _ in model.named_modules(remove_duplicate=False)] == ["", "0", "1"]


def test_a_layer_used_twice_gets_the_sum_of_both_gradients():
    shared = Affine(2, 2)
    first, second = copy.deepcopy(shared), copy.deepcopy(shared)
    x = ad.tensor([[1.0, -2.0]])
    nn.Sequential(shared, shared)(x).sum().backward()
    nn.Sequential(first, second)(x).sum().backward()
    np.testing.assert_allclose(shared.w.grad.data, first.w.grad.data + second.w.grad.data)


def test_children_and_get_submodule():
    net = Net()
    assert list(net.children()) == [net.hidden, net.out]
    assert [n for n, _ in net.named_children()] == ["hidden", "out"]
    model = nn.Sequential(net)
    assert model.get_submodule("0.out") is net.out
    assert model.get_submodule("") is model
    assert model.get_parameter("0.out.b") is net.out.b
    with pytest.raises(AttributeError, match="no submodule 'nope'"):
        model.get_submodule("0.nope")
    with pytest.raises(AttributeError, match="no parameter 'nope'"):
        model.get_parameter("0.out.nope")


def test_apply_visits_children_first():
    net = Net()
    seen = []
    assert net.apply(lambda m: seen.append(type(m).__name__)) is net
    assert seen == ["Affine", "Affine", "Net"]


# ---- modes and gradients -----------------------------------------------------------------------


def test_train_and_eval_propagate_to_every_submodule():
    model = nn.Sequential(Net(), nn.ModuleList([Affine()]))
    assert all(m.training for m in model.modules())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    model[0].eval()
    assert model.training and not model[0].training and not model[0].hidden.training
    with pytest.raises(ValueError, match="bool"):
        model.train("no")


def test_zero_grad():
    net = Net()
    net(_x()).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    grads = [p.grad for p in net.parameters()]
    net.zero_grad(set_to_none=False)
    assert all(p.grad is g and not g.data.any() for p, g in zip(net.parameters(), grads))
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_requires_grad_false_freezes_a_submodule():
    net = Net()
    assert net.hidden.requires_grad_(False) is net.hidden
    net(_x()).sum().backward()
    assert net.hidden.w.grad is None and net.hidden.b.grad is None
    assert net.out.w.grad is not None
    net.requires_grad_()
    assert all(p.requires_grad for p in net.parameters())


def test_call_runs_forward_and_missing_forward_is_explained():
    net = Net()
    x = _x()
    np.testing.assert_array_equal(net(x).data, net.forward(x).data)
    with pytest.raises(NotImplementedError, match="Module"):
        nn.Module()(x)


def test_to_double_converts_floating_arrays_in_place_keeping_parameter_objects():
    net = Net()
    params = list(net.parameters())
    net(_x()).sum().backward()
    assert net.double() is net
    assert [p is q for p, q in zip(net.parameters(), params)] == [True] * 4
    assert all(p.dtype == np.float64 and p.grad.dtype == np.float64 for p in params)
    assert net.steps.dtype == np.int64  # integer buffers untouched
    assert net(_x().double()).dtype == np.float64
    net.float()
    assert all(p.dtype == np.float32 for p in params)
    with pytest.raises(TypeError, match="float32 and float64"):
        net.to(np.int32)


def test_deepcopy_gives_an_independent_module():
    net = Net()
    clone = copy.deepcopy(net)
    clone.hidden.w.data[...] = 0
    assert net.hidden.w.data.any()
    assert [n for n, _ in clone.named_parameters()] == [n for n, _ in net.named_parameters()]
    np.testing.assert_array_equal(clone.out.w.data, net.out.w.data)


# ---- state dict --------------------------------------------------------------------------------


def test_state_dict_shares_memory_and_is_detached():
    net = Net()
    state = net.state_dict()
    assert isinstance(state, OrderedDict)
    # a module's own entries come before its children's, as in PyTorch
    assert list(state) == ["steps", "hidden.w", "hidden.b", "out.w", "out.b"]
    assert all(type(v) is Tensor and not v.requires_grad for v in state.values())
    assert state["hidden.w"].data is net.hidden.w.data
    assert net.state_dict(keep_vars=True)["hidden.w"] is net.hidden.w


def test_non_persistent_buffers_are_not_in_the_state_dict():
    m = Affine()
    m.register_buffer("cache", np.zeros(2), persistent=False)
    assert "cache" not in m.state_dict()
    assert [n for n, _ in m.named_buffers()] == ["cache"]


def test_load_state_dict_copies_in_place_and_keeps_dtype():
    src, dst = Net(seed=1), Net(seed=2)
    w = dst.hidden.w.data
    state = {k: v.data.astype(np.float64) for k, v in src.state_dict().items()}
    result = dst.load_state_dict(state)
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    assert dst.hidden.w.data is w and w.dtype == np.float32
    x = _x()
    np.testing.assert_array_equal(dst(x).data, src(x).data)


def test_strict_load_names_missing_and_unexpected_keys_and_changes_nothing():
    net = Net()
    state = net.state_dict()
    before = {k: v.data.copy() for k, v in state.items()}
    bad = {k: np.zeros_like(v.data) for k, v in state.items() if k != "out.b"}
    bad["extra.w"] = np.zeros(3)
    with pytest.raises(RuntimeError) as info:
        net.load_state_dict(bad)
    message = str(info.value)
    assert "Missing key(s)" in message and "'out.b'" in message
    assert "Unexpected key(s)" in message and "'extra.w'" in message
    assert "Net" in message
    for k, v in net.state_dict().items():
        np.testing.assert_array_equal(v.data, before[k])


def test_non_strict_load_returns_the_keys_it_skipped():
    net = Net()
    state = {"hidden.w": np.ones((3, 4)), "extra": np.zeros(1)}
    result = net.load_state_dict(state, strict=False)
    assert result.missing_keys == ["steps", "hidden.b", "out.w", "out.b"]
    assert result.unexpected_keys == ["extra"]
    assert (net.hidden.w.data == 1).all()


def test_shape_mismatch_names_key_and_both_shapes_even_when_not_strict():
    net = Net()
    with pytest.raises(RuntimeError, match=r"'out\.w'.*\(5, 2\).*\(4, 2\)"):
        net.load_state_dict({"out.w": np.zeros((5, 2))}, strict=False)


def test_skip_mismatched_skips_and_reports_the_keys_whose_shapes_differ():
    src, dst = Net(seed=1), Net(seed=2)
    state = {k: v.data.copy() for k, v in src.state_dict().items()}
    state["out.w"] = np.zeros((4, 5), np.float32)  # a head for 5 classes instead of 2
    state["out.b"] = np.zeros(5, np.float32)
    state["extra"] = np.zeros(1)
    out_w = dst.out.w.data.copy()
    missing, unexpected = result = dst.load_state_dict(state, strict=False, skip_mismatched=True)
    assert missing == [] and unexpected == ["extra"]
    assert result.mismatched_keys == [("out.w", (4, 5), (4, 2)), ("out.b", (5,), (2,))]
    assert "mismatched_keys=[('out.w', (4, 5), (4, 2))" in repr(result)
    np.testing.assert_array_equal(dst.hidden.w.data, src.hidden.w.data)
    np.testing.assert_array_equal(dst.out.w.data, out_w)


def test_skip_mismatched_keeps_strict_name_checks_and_changes_nothing_when_it_raises():
    net = Net()
    before = {k: v.data.copy() for k, v in net.state_dict().items()}
    state = {k: np.ones_like(v.data) for k, v in net.state_dict().items() if k != "steps"}
    state["out.w"] = np.zeros((4, 5))
    with pytest.raises(RuntimeError, match="Missing key.*'steps'"):
        net.load_state_dict(state, skip_mismatched=True)
    for k, v in net.state_dict().items():
        np.testing.assert_array_equal(v.data, before[k])
    state["steps"] = np.zeros((), np.int64)
    result = net.load_state_dict(state, skip_mismatched=True)
    assert result.mismatched_keys == [("out.w", (4, 5), (4, 2))]
    assert (net.hidden.w.data == 1).all()


def test_all_keys_matched_has_no_mismatched_keys_and_pickles(tmp_path):
    net = Net()
    result = net.load_state_dict(net.state_dict(), skip_mismatched=True)
    assert result.mismatched_keys == [] and repr(result) == "<All keys matched successfully>"
    skipped = net.load_state_dict({"out.b": np.zeros(3)}, strict=False, skip_mismatched=True)
    copied = copy.deepcopy(skipped)
    assert copied == skipped and copied.mismatched_keys == [("out.b", (3,), (2,))]
    path = tmp_path / "net.npz"
    nn.save({"out.b": np.zeros(3)}, path)
    loaded = net.load(path, strict=False, skip_mismatched=True)
    assert loaded.mismatched_keys == [("out.b", (3,), (2,))]


def test_load_state_dict_rejects_non_mappings_and_non_numbers():
    with pytest.raises(TypeError, match="mapping"):
        Affine().load_state_dict([1, 2])
    with pytest.raises(RuntimeError, match="'b'"):
        Affine().load_state_dict({"w": np.zeros((3, 2)), "b": np.array(["a", "b"])})


def test_load_bumps_the_version_so_a_stale_graph_is_caught():
    m = Affine()
    x = ad.ones(1, 3, requires_grad=True)
    y = (x @ m.w).sum()
    m.load_state_dict(m.state_dict())
    with pytest.raises(RuntimeError, match="in-place"):
        y.backward()


# ---- containers --------------------------------------------------------------------------------


def test_sequential_chains_and_indexes():
    a, b = Affine(3, 4), Affine(4, 2)
    model = nn.Sequential(a, b)
    x = _x()
    np.testing.assert_array_equal(model(x).data, b(a(x)).data)
    assert len(model) == 2 and list(model) == [a, b]
    assert model[0] is a and model[-1] is b
    assert isinstance(model[1:], nn.Sequential) and list(model[1:]) == [b]
    with pytest.raises(IndexError, match="out of range"):
        model[2]
    model.append(nn.Identity())
    assert [n for n, _ in model.named_children()] == ["0", "1", "2"]
    del model[0]
    assert list(model._modules) == ["0", "1"] and model[0] is b
    model[1] = Affine(2, 2)
    model.insert(0, a)
    assert list(model)[:2] == [a, b]


def test_sequential_from_ordered_dict_keeps_names():
    model = nn.Sequential(OrderedDict([("body", Affine(3, 4)), ("head", Affine(4, 2))]))
    assert [n for n, _ in model.named_parameters()] == ["body.w", "body.b", "head.w", "head.b"]
    assert model.head is model[1]
    assert model(_x()).shape == (6, 2)


def test_module_list_registers_its_modules():
    layers = nn.ModuleList([Affine(), Affine()])
    layers.append(Affine())
    layers.extend([Affine()])
    layers += [Affine()]
    assert len(layers) == 5
    assert len(list(layers.parameters())) == 10
    assert [n for n, _ in layers.named_parameters()][:3] == ["0.w", "0.b", "1.w"]
    assert layers[-1] is list(layers)[4]
    assert isinstance(layers[:2], nn.ModuleList) and len(layers[:2]) == 2
    del layers[0]
    assert list(layers._modules) == ["0", "1", "2", "3"]
    with pytest.raises(TypeError, match="append"):
        layers.extend(Affine())
    with pytest.raises(NotImplementedError):
        layers(_x())


def test_module_dict():
    heads = nn.ModuleDict({"a": Affine(), "b": Affine()})
    assert list(heads) == ["a", "b"] and "a" in heads and len(heads) == 2
    assert [n for n, _ in heads.named_parameters()][0] == "a.w"
    del heads["a"]
    assert list(heads.keys()) == ["b"]


def test_flatten_and_identity():
    x = ad.ones(2, 3, 4, 5)
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 2)(x).shape == (24, 5)
    assert nn.Identity(54, unused=True)(x) is x


# ---- repr --------------------------------------------------------------------------------------


def test_repr_tree():
    model = nn.Sequential(Affine(3, 4), nn.Sequential(nn.Flatten(), nn.Identity()))
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Affine(in=3, out=4)\n"
        "  (1): Sequential(\n"
        "    (0): Flatten(start_dim=1, end_dim=-1)\n"
        "    (1): Identity()\n"
        "  )\n"
        ")"
    )


def test_repr_matches_torch_for_the_same_structure():
    torch = pytest.importorskip("torch")
    ours = nn.Sequential(nn.Flatten(), nn.ModuleList([nn.Identity(), nn.Flatten(0, 2)]))
    theirs = torch.nn.Sequential(
        torch.nn.Flatten(), torch.nn.ModuleList([torch.nn.Identity(), torch.nn.Flatten(0, 2)])
    )
    assert repr(ours) == repr(theirs)


def test_names_match_torch_for_the_same_structure():
    torch = pytest.importorskip("torch")

    class TorchAffine(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(3, 3))
            self.b = torch.nn.Parameter(torch.zeros(3))

    shared = TorchAffine()
    theirs = torch.nn.Sequential(
        OrderedDict(a=shared, b=torch.nn.ModuleList([TorchAffine(), shared]))
    )
    ours_shared = Affine(3, 3)
    ours = nn.Sequential(OrderedDict(a=ours_shared, b=nn.ModuleList([Affine(3, 3), ours_shared])))
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
