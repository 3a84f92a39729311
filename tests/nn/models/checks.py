"""Checks the model-zoo tests share: parameter counts, one training step, torchvision weights."""

import numpy as np

import autodiff as ad
import nn
import optim
from nn import functional as F


def n_params(model) -> int:
    return sum(p.data.size for p in model.parameters())


def assert_normal(weight, std):
    """weight's values look drawn from N(0, std^2): mean, std and the share within one std (0.683
    for a normal, 0.577 for a uniform of that std), each within 6 standard errors; of an evenly
    spread sample of about a million values when there are more."""
    values = weight.data.ravel()
    values = values[:: max(1, values.size >> 20)].astype(np.float64)
    n = values.size
    assert abs(values.mean()) < 6 * std / np.sqrt(n)
    assert abs(values.std() / std - 1) < 6 / np.sqrt(2 * n)
    within = 0.6827
    assert abs((np.abs(values) < std).mean() - within) < 6 * np.sqrt(within * (1 - within) / n)


def loss_of(output, y):
    """Cross-entropy of the logits, plus 0.3 of each auxiliary head's when there are any."""
    if isinstance(output, tuple):
        main, *aux = output
        return F.cross_entropy(main, y) + 0.3 * sum(F.cross_entropy(a, y) for a in aux)
    return F.cross_entropy(output, y)


def assert_trains(model, input_shape, num_classes):
    """One SGD step on random data: a finite loss, a finite gradient for every parameter, and
    every weight moved. (A bias may get an exact zero gradient: the shift of a batch norm
    followed by a linear layer and another batch norm cancels out in training mode.)"""
    model.train()
    x = ad.randn(*input_shape)
    y = ad.tensor(np.arange(input_shape[0]) % num_classes)
    before = {name: p.data.copy() for name, p in model.named_parameters()}
    opt = optim.SGD(model.parameters(), lr=0.1)
    loss = loss_of(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    assert np.isfinite(loss.item())
    for name, p in model.named_parameters():
        assert p.grad is not None and np.isfinite(p.grad.data).all(), name
        moved = not np.array_equal(p.data, before[name])
        assert moved or (name.endswith("bias") and not p.grad.data.any()), name


def load_torchvision_weights(torch, tv_model, ours, path):
    """Copy tv_model's weights into ours by the documented recipe (`nn.save` of the numpy
    state, `nn.load`, `load_state_dict`), after two training-mode passes have moved its
    running statistics off their initial values; checks that the keys, their order and the
    shapes agree first. Both models are left in eval mode."""
    torch.manual_seed(0)
    tv_model.train()
    with torch.no_grad():
        for _ in range(2):
            tv_model(torch.randn(4, 3, 64, 64))
    nn.save({k: v.numpy() for k, v in tv_model.state_dict().items()}, path)
    state = nn.load(path)
    assert_same_layout(ours, state)
    ours.load_state_dict(state)
    tv_model.eval()
    ours.eval()


def outputs_on_one_input(torch, tv_model, ours, shape, seed=1):
    """(ours' output, tv_model's) on the same random float32 input, in their current modes."""
    x = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    with torch.no_grad():
        ref = tv_model(torch.from_numpy(x))
    return ours(ad.tensor(x)), ref


def assert_same_layout(ours, state):
    """ours' state_dict has the keys of `state`, in its order, with its shapes."""
    own = ours.state_dict()
    assert list(own) == list(state)
    assert [tuple(v.shape) for v in own.values()] == [tuple(v.shape) for v in state.values()]


def assert_matches(got, ref, rtol=1e-4):
    """Arrays got and ref agree to rtol, relative to ref's largest magnitude."""
    assert got.shape == ref.shape
    np.testing.assert_allclose(got, ref, rtol=rtol, atol=rtol * np.abs(ref).max())
