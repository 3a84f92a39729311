"""Embedding, one_hot, channel and alpha dropout, the distance layers and pixel shuffle against
torch: values, gradients (padding_idx, scale_grad_by_freq, max_norm), initialisation, the layers
equal to their functionals, and errors."""

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F

torch = pytest.importorskip("torch")

INDICES = np.array([[0, 3, 3, 1], [4, 1, 3, 2]])


def _weight(seed=0, shape=(5, 3)):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"padding_idx": 3},
        {"padding_idx": -1},
        {"scale_grad_by_freq": True},
        {"padding_idx": 1, "scale_grad_by_freq": True},
        {"max_norm": 1.0},
        {"max_norm": 0.5, "norm_type": 1.0},
    ],
    ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()) or "plain",
)
def test_embedding_matches_torch(kw):
    w = _weight()
    wt = ad.tensor(w.copy(), requires_grad=True)
    tw = torch.from_numpy(w.copy()).requires_grad_(True)
    out = F.embedding(ad.tensor(INDICES), wt, **kw)
    with torch.no_grad():  # max_norm writes into the weight, which torch refuses on a leaf
        t_w = tw.detach()
        torch.nn.functional.embedding(torch.from_numpy(INDICES), t_w, **kw)  # the same renorm
    t_out = torch.nn.functional.embedding(torch.from_numpy(INDICES), tw, **kw)
    np.testing.assert_allclose(out.data, t_out.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(wt.data, tw.detach().numpy(), rtol=1e-6)  # the renormed rows
    gy = np.random.default_rng(1).standard_normal(out.shape).astype(np.float32)
    out.backward(gy)
    t_out.backward(torch.from_numpy(gy))
    np.testing.assert_allclose(wt.grad.data, tw.grad.numpy(), rtol=1e-6, atol=1e-7)


def test_embedding_layer_init_padding_and_torch_layout():
    ad.manual_seed(0)
    layer = nn.Embedding(1000, 16, padding_idx=2)
    theirs = torch.nn.Embedding(1000, 16, padding_idx=2)
    assert [(n, p.shape) for n, p in layer.named_parameters()] == [
        (n, tuple(p.shape)) for n, p in theirs.named_parameters()
    ]
    w = layer.weight.data
    assert w.dtype == np.float32 and not w[2].any()
    assert abs(w.mean()) < 0.02 and abs(w.std() - 1) < 0.02  # N(0, 1)
    assert repr(layer) == repr(theirs)
    x = ad.tensor([[2, 5, 5], [0, 2, 9]])
    out = layer(x)
    np.testing.assert_array_equal(out.data, F.embedding(x, layer.weight, padding_idx=2).data)
    out.sum().backward()
    assert not layer.weight.grad.data[2].any()
    np.testing.assert_array_equal(layer.weight.grad.data[5], np.full(16, 2.0))
    assert nn.Embedding(3, 2, dtype=ad.float64).weight.dtype == np.float64


def test_embedding_from_pretrained_shares_and_freezes():
    table = ad.tensor(_weight(2, (4, 3)))
    layer = nn.Embedding.from_pretrained(table, padding_idx=0)
    theirs = torch.nn.Embedding.from_pretrained(torch.from_numpy(table.data.copy()), padding_idx=0)
    assert not layer.weight.requires_grad and layer.weight.data is table.data
    np.testing.assert_array_equal(layer.weight.data[0], table.data[0])  # not zeroed
    assert repr(layer) == repr(theirs)
    trainable = nn.Embedding.from_pretrained(table, freeze=False)
    assert trainable.weight.requires_grad


def test_embedding_errors():
    w = ad.randn(5, 3)
    with pytest.raises(IndexError, match="embedding: index 5 is out of range for 5"):
        F.embedding(ad.tensor([1, 5]), w)
    with pytest.raises(IndexError, match="embedding: index -1"):
        F.embedding(ad.tensor([-1, 2]), w)
    with pytest.raises(TypeError, match="embedding: indices must be an integer tensor"):
        F.embedding(ad.tensor([1.0]), w)
    with pytest.raises(RuntimeError, match="embedding: weight must be 2-d"):
        F.embedding(ad.tensor([1]), ad.randn(5))
    with pytest.raises(IndexError, match="padding_idx 7"):
        nn.Embedding(5, 2, padding_idx=7)
    with pytest.raises(ValueError, match=r"_weight of shape \(4, 3\)"):
        nn.Embedding(5, 3, _weight=ad.randn(4, 3))
    with pytest.raises(RuntimeError, match="device"):
        nn.Embedding(5, 3, device="cuda:0")


# ---- one_hot -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "num_classes"),
    [([0, 2, 1], -1), ([[1, 0], [3, 3]], 5), (2, 4), ([], 3)],
)
def test_one_hot_matches_torch(values, num_classes):
    x = np.array(values, dtype=np.int64)
    out = F.one_hot(ad.tensor(x), num_classes)
    expected = torch.nn.functional.one_hot(torch.from_numpy(x), num_classes)
    assert out.dtype == np.int64 and not out.requires_grad
    np.testing.assert_array_equal(out.data, expected.numpy())


def test_one_hot_errors_as_torch():
    with pytest.raises(TypeError, match="one_hot: expected an int64 tensor, got int32"):
        F.one_hot(ad.tensor(np.array([1], np.int32)))
    with pytest.raises(ValueError, match="non-negative"):
        F.one_hot(ad.tensor([1, -1]))
    with pytest.raises(ValueError, match="not smaller than num_classes=3"):
        F.one_hot(ad.tensor([1, 3]), 3)
    with pytest.raises(ValueError, match="empty tensor"):
        F.one_hot(ad.tensor(np.zeros(0, np.int64)))


# ---- channel and alpha dropout -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("function", "layer", "shape", "channel_dims"),
    [
        (F.dropout1d, nn.Dropout1d, (40, 50, 6), 2),
        (F.dropout1d, nn.Dropout1d, (400, 6), 1),
        (F.dropout2d, nn.Dropout2d, (40, 50, 3, 2), 2),
        (F.dropout3d, nn.Dropout3d, (40, 50, 2, 2, 2), 2),
        (F.dropout3d, nn.Dropout3d, (400, 2, 2, 3), 1),
    ],
)
def test_channel_dropout_zeroes_whole_channels(function, layer, shape, channel_dims):
    x = ad.ones(shape)
    y = function(x, 0.3, generator=0).data
    per_channel = y.reshape(*shape[:channel_dims], -1)
    assert (per_channel == per_channel[..., :1]).all()  # one value per channel
    assert set(np.unique(y)) <= {0.0, np.float32(1 / 0.7)}
    channels = per_channel[..., 0].size
    assert abs((y == 0).mean() - 0.3) < 4 * np.sqrt(0.3 * 0.7 / channels)  # 4 sigma
    ad.manual_seed(3)
    module_out = layer(0.3)(x).data
    ad.manual_seed(3)
    np.testing.assert_array_equal(module_out, function(x, 0.3).data)
    assert layer(0.3).eval()(x) is x and function(x, 0.3, training=False) is x


def test_dropout2d_warns_as_torch_for_3d_input_and_refuses_1d():
    with pytest.warns(UserWarning, match="dropout2d"):
        y = F.dropout2d(ad.ones((30, 40, 5)), 0.5, generator=1).data
    assert (y == y[..., :1]).all()
    with pytest.raises(RuntimeError, match="dropout2d: expected an input of 2 or more dims"):
        F.dropout2d(ad.ones(4))
    with pytest.raises(ValueError, match="dropout1d: expected an input of 2 or 3 dims"):
        F.dropout1d(ad.ones((2, 3, 4, 5)))
    with pytest.raises(ValueError, match="p must be a probability"):
        nn.Dropout2d(1.5)


def _most_common(y):
    values, counts = np.unique(y, return_counts=True)
    return values[np.argmax(counts)], counts.max() / y.size


def test_alpha_dropout_keeps_mean_and_variance_as_torch():
    x = np.random.default_rng(0).standard_normal(400_000).astype(np.float32)
    ours = F.alpha_dropout(ad.tensor(x), 0.2, True, generator=0).data
    theirs = torch.nn.functional.alpha_dropout(torch.from_numpy(x), 0.2, True).numpy()
    for y in (ours, theirs):
        assert abs(y.mean()) < 0.01 and abs(y.std() - 1) < 0.01
    (value, share), (t_value, t_share) = _most_common(ours), _most_common(theirs)
    assert abs(share - 0.2) < 0.01 and abs(t_share - 0.2) < 0.01  # the dropped ones...
    np.testing.assert_allclose(value, t_value, rtol=1e-6)  # ...all get torch's value
    t = ad.tensor(x)
    assert F.alpha_dropout(t, 0.2) is t  # training=False by default, as torch's
    assert nn.AlphaDropout(0.2).eval()(t) is t


# ---- distances and pixel shuffle -----------------------------------------------------------------


def _check_layer(ours, theirs, functional, *arrays):
    inputs = [ad.tensor(a, requires_grad=True) for a in arrays]
    t_inputs = [torch.from_numpy(a.copy()).requires_grad_(True) for a in arrays]
    out, t_out = ours(*inputs), theirs(*t_inputs)
    np.testing.assert_array_equal(out.data, functional(*[ad.tensor(a) for a in arrays]).data)
    np.testing.assert_allclose(out.data, t_out.detach().numpy(), rtol=1e-5, atol=1e-6)
    gy = np.random.default_rng(1).standard_normal(out.shape).astype(np.float32)
    out.backward(gy)
    t_out.backward(torch.from_numpy(gy))
    for x, tx in zip(inputs, t_inputs, strict=True):
        np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_distance_and_pixel_shuffle_layers_match_torch():
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((4, 6)).astype(np.float32) for _ in range(2))
    _check_layer(nn.CosineSimilarity(0), torch.nn.CosineSimilarity(0),
                 lambda x, y: F.cosine_similarity(x, y, 0), a, b)  # fmt: skip
    _check_layer(nn.PairwiseDistance(1.0, 0.0, True), torch.nn.PairwiseDistance(1.0, 0.0, True),
                 lambda x, y: F.pairwise_distance(x, y, 1.0, 0.0, True), a, b)  # fmt: skip
    image = rng.standard_normal((2, 8, 3, 4)).astype(np.float32)
    _check_layer(
        nn.PixelShuffle(2), torch.nn.PixelShuffle(2), lambda x: F.pixel_shuffle(x, 2), image
    )
    _check_layer(nn.PixelUnshuffle(2), torch.nn.PixelUnshuffle(2),
                 lambda x: F.pixel_unshuffle(x, 2), image.reshape(2, 2, 6, 8))  # fmt: skip
    assert repr(nn.PixelShuffle(3)) == repr(torch.nn.PixelShuffle(3))
    assert repr(nn.PixelUnshuffle(3)) == repr(torch.nn.PixelUnshuffle(3))


def test_zero_vectors_as_torch():
    zeros, other = np.zeros((2, 3)), np.random.default_rng(2).standard_normal((2, 3))
    for name, args in [("normalize", (zeros,)), ("cosine_similarity", (zeros, other))]:
        ours = [ad.tensor(a, requires_grad=True) for a in args]
        theirs = [torch.from_numpy(a.copy()).requires_grad_(True) for a in args]
        out, t_out = getattr(F, name)(*ours), getattr(torch.nn.functional, name)(*theirs)
        np.testing.assert_allclose(out.data, t_out.detach().numpy())
        out.sum().backward()
        t_out.sum().backward()
        for x, tx in zip(ours, theirs, strict=True):
            np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-10)


def test_distance_dtypes_and_errors():
    ints = ad.tensor([[1, 2], [3, 4]])
    assert F.cosine_similarity(ints, ad.tensor([[1.0, 0.0]])).dtype == np.float32
    assert F.pairwise_distance(ints, ints).dtype == np.float32
    with pytest.raises(TypeError, match="cosine_similarity: expected a float tensor"):
        F.cosine_similarity(ints, ints)
    with pytest.raises(TypeError, match="normalize: expected a float tensor"):
        F.normalize(ints)
    with pytest.raises(ValueError, match=r"cosine_similarity: shapes \(2, 2\)"):
        F.cosine_similarity(ad.randn(2, 2), ad.randn(3, 2))
    with pytest.raises(IndexError, match="normalize: dim 1"):
        F.normalize(ad.randn(3))
    with pytest.raises(RuntimeError, match="pixel_shuffle: the channel dim"):
        F.pixel_shuffle(ad.randn(1, 3, 2, 2), 2)
    with pytest.raises(RuntimeError, match="pixel_unshuffle: height and width"):
        F.pixel_unshuffle(ad.randn(1, 1, 3, 4), 2)
    with pytest.raises(ValueError, match="positive integer"):
        F.pixel_shuffle(ad.randn(1, 4, 2, 2), 0)
    assert F.pixel_shuffle(ad.tensor(np.arange(16).reshape(1, 4, 2, 2)), 2).dtype == np.int64
