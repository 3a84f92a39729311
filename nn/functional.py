"""Functional forms of the layers and losses, as `torch.nn.functional` (import as `F`).

Everything here is a graph op from `autodiff.ops` (re-exported) or a short composition of them;
the modules in `nn` hold the parameters and call these.

>>> import autodiff as ad
>>> import nn.functional as F
>>> logits = ad.tensor([[2.0, 0.5, -1.0]], requires_grad=True)
>>> loss = F.cross_entropy(logits, ad.tensor([0]))
>>> loss.backward()
"""

from autodiff.ops.activation import (
    hardshrink,
    hardsigmoid,
    hardswish,
    hardtanh,
    leaky_relu,
    prelu,
    relu,
    relu6,
    sigmoid,
    softshrink,
    tanh,
    threshold,
)
from autodiff.ops.attention import scaled_dot_product_attention
from autodiff.ops.conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d
from autodiff.ops.distance import cosine_similarity, normalize, pairwise_distance
from autodiff.ops.dropout import (
    alpha_dropout,
    dropout,
    dropout1d,
    dropout2d,
    dropout3d,
    feature_alpha_dropout,
)
from autodiff.ops.embedding import embedding, one_hot
from autodiff.ops.fold import fold, unfold
from autodiff.ops.linalg import linear
from autodiff.ops.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    nll_loss,
)
from autodiff.ops.loss_margin import (
    cosine_embedding_loss,
    margin_ranking_loss,
    soft_margin_loss,
    triplet_margin_loss,
)
from autodiff.ops.loss_regression import (
    huber_loss,
    kl_div,
    l1_loss,
    mse_loss,
    poisson_nll_loss,
    smooth_l1_loss,
)
from autodiff.ops.normalization import batch_norm, group_norm, instance_norm, layer_norm
from autodiff.ops.padding import pad
from autodiff.ops.pixel_shuffle import pixel_shuffle, pixel_unshuffle
from autodiff.ops.pool import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    avg_pool1d,
    avg_pool2d,
    max_pool1d,
    max_pool2d,
    max_unpool1d,
    max_unpool2d,
)
from autodiff.ops.resample import interpolate, upsample, upsample_bilinear, upsample_nearest
from autodiff.ops.smooth_activation import (
    celu,
    elu,
    gelu,
    glu,
    logsigmoid,
    mish,
    selu,
    silu,
    softplus,
    softsign,
    tanhshrink,
)
from autodiff.ops.softmax import log_softmax, softmax, softmin
from autodiff.ops.style_transfer import content_cost, gram_matrix, style_cost
from nn.yolo_loss import yolo_loss

__all__ = [
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool1d", "adaptive_max_pool2d",
    "alpha_dropout", "avg_pool1d", "avg_pool2d", "batch_norm", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "celu", "conv1d", "conv2d", "conv_transpose1d",
    "conv_transpose2d", "cosine_embedding_loss", "cosine_similarity", "cross_entropy", "dropout",
    "dropout1d", "dropout2d", "dropout3d", "elu", "embedding", "feature_alpha_dropout", "fold",
    "gelu", "glu", "group_norm", "hardshrink", "hardsigmoid", "hardswish", "hardtanh", "huber_loss",
    "instance_norm", "interpolate", "kl_div", "l1_loss", "layer_norm", "leaky_relu", "linear",
    "log_softmax", "logsigmoid", "margin_ranking_loss", "max_pool1d", "max_pool2d", "max_unpool1d",
    "max_unpool2d", "mish", "mse_loss", "nll_loss", "normalize", "one_hot", "pad",
    "pairwise_distance", "pixel_shuffle", "pixel_unshuffle", "poisson_nll_loss", "prelu", "relu",
    "relu6", "scaled_dot_product_attention", "selu", "sigmoid", "silu", "smooth_l1_loss",
    "soft_margin_loss", "softmax", "softmin", "softplus", "softshrink", "softsign", "tanh",
    "tanhshrink", "threshold", "unfold", "upsample", "upsample_bilinear", "upsample_nearest",
    "content_cost", "gram_matrix", "style_cost", "triplet_margin_loss", "yolo_loss",
]  # fmt: skip
