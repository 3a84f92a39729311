"""Bad convolution and pooling arguments raise clear errors before anything is recorded."""

import pytest

import autodiff as ad
from autodiff.ops.conv import conv2d
from autodiff.ops.pool import adaptive_avg_pool2d, avg_pool2d, max_pool2d

X = (2, 3, 5, 5)


@pytest.mark.parametrize(
    ("call", "kind", "words"),
    [
        (lambda x: conv2d(x, ad.randn(4, 2, 3, 3)), ValueError, ["3 channels", "(4, 2, 3, 3)"]),
        (lambda x: conv2d(x, ad.randn(4, 3, 7, 7)), ValueError, ["larger than the padded"]),
        (lambda x: conv2d(x, ad.randn(4, 3, 3, 3), stride=0), ValueError, ["stride", "0"]),
        (lambda x: conv2d(x, ad.randn(4, 1, 3, 3), groups=2), ValueError, ["groups=2"]),
        (lambda x: conv2d(x[0, 0], ad.randn(4, 3, 3, 3)), ValueError, ["4-D", "(5, 5)"]),
        (lambda x: conv2d(x, ad.randn(4, 3, 3, 3, dtype=ad.float64)), TypeError, ["float64"]),
        (lambda x: max_pool2d(x, 7), ValueError, ["max_pool2d", "larger than the padded"]),
        (lambda x: max_pool2d(x, 2, stride=-1), ValueError, ["max_pool2d", "stride"]),
        (lambda x: avg_pool2d(x, 3, padding=2), ValueError, ["avg_pool2d", "half"]),
        (lambda x: adaptive_avg_pool2d(x[0, 0], 1), ValueError, ["4-D", "(5, 5)"]),
    ],
)
def test_errors_name_the_op_shapes_and_parameters(call, kind, words):
    x = ad.randn(*X, requires_grad=True)
    with pytest.raises(kind) as info:
        call(x)
    message = str(info.value)
    for word in words:
        assert word in message
    if "adaptive" not in message:
        assert str(X) in message or "(5, 5)" in message  # the input's shape is named
    assert x.grad is None and x._version == 0
