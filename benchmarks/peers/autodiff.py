"""The autodiff peer: this library, driven through the same model text as torch.

``nn`` and ``optim`` are imported only by the cases that use them, so the tensor-only cases run
as soon as the core exists; an op or module not written yet shows as "n/a" with its error.
"""

import numpy as np

import autodiff as ad
from benchmarks.cases import NMS_IOU, Case
from benchmarks.peers import Peer, Step, torchlike

if not hasattr(ad, "tensor"):
    # the package directory exists before its core does; treat that as "not installed"
    raise ImportError("autodiff has no tensor() yet")


def _tensor(a: np.ndarray, requires_grad: bool) -> "ad.Tensor":
    """A leaf made from the case's array, keeping its dtype (float32, or int64 for targets)."""
    return ad.tensor(a, requires_grad=requires_grad)


def _to_numpy(v: object) -> np.ndarray:
    """Tensor -> its ndarray; anything else through np.asarray."""
    return v.data if isinstance(v, ad.Tensor) else np.asarray(v)


def _functional():
    """``nn.functional``, imported on first use."""
    from nn import functional

    return functional


def _sgd(params: list, lr: float, momentum: float = 0.0):
    """``optim.SGD``, imported on first use."""
    from optim import SGD

    return SGD(params, lr=lr, momentum=momentum)


def _models():
    """``nn.models``, imported on first use."""
    from nn import models

    return models


API = torchlike.TorchLike(
    tensor=_tensor,
    no_grad=lambda: ad.no_grad(),
    functional=_functional,
    sgd=_sgd,
    models=_models,
)


def _nms(case: Case, a: dict[str, np.ndarray]) -> Step:
    """``autodiff.vision.nms`` on the arrays (its numba kernel)."""
    from autodiff.vision import nms

    boxes, scores = a["boxes"], a["scores"]
    return lambda: {"keep": nms(boxes, scores, NMS_IOU)}


PEER = Peer(
    name="autodiff",
    version=getattr(ad, "__version__", "dev"),
    builders={**torchlike.builders(API), "nms": _nms},
    to_numpy=_to_numpy,
)
