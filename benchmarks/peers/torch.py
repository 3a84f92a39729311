"""The torch peer: PyTorch eager on the CPU, the reference of the correctness check."""

import numpy as np
import torch
import torch.nn.functional

from benchmarks.peers import Peer, torchlike


def _tensor(a: np.ndarray, requires_grad: bool) -> torch.Tensor:
    """A leaf sharing the array's memory (the runner hands each peer its own copy)."""
    return torch.from_numpy(a).requires_grad_(requires_grad)


def _to_numpy(v: object) -> np.ndarray:
    """Tensor -> ndarray; anything else through np.asarray."""
    return v.detach().numpy() if isinstance(v, torch.Tensor) else np.asarray(v)


def _torchvision_models():
    """``torchvision.models``, imported on first use without torchvision's compiled ops, which do
    not load against every torch build (``benchmarks/torchvision_import.py``)."""
    from benchmarks.torchvision_import import import_torchvision

    torchvision = import_torchvision()
    if torchvision is None:
        raise ImportError("torchvision is not importable (python -m pip install torchvision)")
    return torchvision.models


API = torchlike.TorchLike(
    tensor=_tensor,
    no_grad=torch.no_grad,
    functional=lambda: torch.nn.functional,
    sgd=lambda params, lr, momentum=0.0: torch.optim.SGD(params, lr=lr, momentum=momentum),
    models=_torchvision_models,
)

PEER = Peer(
    name="torch",
    version=torch.__version__,
    builders=torchlike.builders(API),
    to_numpy=_to_numpy,
    configure=torch.set_num_threads,
)
