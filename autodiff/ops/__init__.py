"""Differentiable ops as functions of tensors; `Tensor` methods and operators call these."""

from autodiff.ops.activation import leaky_relu, log_softmax, relu, sigmoid, softmax, tanh
from autodiff.ops.elementwise import (
    abs,
    add,
    clamp,
    div,
    exp,
    log,
    maximum,
    minimum,
    mul,
    neg,
    pow,
    sqrt,
    sub,
    to_dtype,
    where,
)
from autodiff.ops.linalg import linear, matmul
from autodiff.ops.reduce import argmax, argmin, logsumexp, max, mean, min, std, sum, var
from autodiff.ops.shape import (
    cat,
    expand,
    flatten,
    getitem,
    index_put,
    pad,
    permute,
    reshape,
    squeeze,
    stack,
    transpose,
    unsqueeze,
    view,
)

__all__ = [
    "abs", "add", "argmax", "argmin", "cat", "clamp", "div", "exp", "expand", "flatten",
    "getitem", "index_put", "leaky_relu", "linear", "log", "log_softmax", "logsumexp",
    "matmul", "max", "maximum", "mean", "min", "minimum", "mul", "neg", "pad", "permute", "pow",
    "relu", "reshape", "sigmoid", "softmax", "sqrt", "squeeze", "stack", "std", "sub", "sum",
    "tanh", "to_dtype", "transpose", "unsqueeze", "var", "view", "where",
]  # fmt: skip
