"""Transfer learning, the course's recipe: freeze the backbone, replace the softmax head,
precompute the frozen features, unfreeze more layers (at a smaller learning rate) as data grows.

    model.load_state_dict(pretrained, strict=False, skip_mismatched=True)  # or model.load(path)
    model.requires_grad_(False)                 # freeze everything...
    head = replace_head(model, num_classes=5)   # ...the new head is fresh and trainable
    optimizer = optim.Adam(param_groups(model, head, lr=1e-3, backbone_lr=1e-4))

Freezing is PyTorch's `requires_grad_(False)` on any sub-module (`requires_grad_(True)`
unfreezes); an optimizer skips parameters without a gradient, so one built with `param_groups`
starts training a backbone layer as soon as it is unfrozen.
"""

import numpy as np

from autodiff.data import DataLoader, Dataset
from autodiff.engine import no_grad
from autodiff.tensor import Tensor
from nn.linear import Linear
from nn.models.inception import InceptionAux
from nn.module import Module
from nn.parameter import Parameter
from nn.summary import eval_mode

__all__ = ["param_groups", "precompute_features", "replace_head", "trainable_parameters"]


def replace_head(model: Module, num_classes: int) -> Linear:
    """Replace the last `Linear` of `model` by a fresh `Linear(in_features, num_classes)`.

    "Last" is in registration order (`model.named_modules()`), which is where the zoo models and
    torchvision keep their classifier: `fc` for ResNet and GoogLeNet, `classifier[-1]` for
    AlexNet, VGG and MobileNet. The auxiliary classifiers of `googlenet(aux_logits=True)`
    (`InceptionAux` modules) get a fresh last Linear too (`aux1.fc2`, `aux2.fc2`), so their
    training-mode logits have `num_classes` columns as well; they are not returned, so to train
    them at the head's learning rate pass them with it:

        head = replace_head(model, 5)
        heads = nn.ModuleList([head, model.aux1.fc2, model.aux2.fc2])
        optimizer = optim.SGD(param_groups(model, heads, lr=1e-2, backbone_lr=1e-3), lr=1e-2)

    Parameters
    ----------
    model : Module
        Changed in place.
    num_classes : int
        Outputs of the new head, >= 1.

    Returns
    -------
    Linear
        The new (main) head: freshly initialised, trainable, with the old head's dtype and bias
        setting. Build the optimizer after replacing it.

    Raises
    ------
    ValueError
        `model` has no Linear layer, or num_classes < 1.
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"replace_head: num_classes must be an int >= 1, got {num_classes!r}")
    heads = [name for name, m in model.named_modules() if isinstance(m, Linear)]
    if not heads:
        raise ValueError(f"replace_head: {type(model).__name__} has no nn.Linear layer to replace")
    aux = [
        f"{prefix}.{_last_linear(m)}"
        for prefix, m in model.named_modules()
        if prefix and isinstance(m, InceptionAux)
    ]
    for name in aux:
        _swap_linear(model, name, num_classes)
    return _swap_linear(model, heads[-1], num_classes)


def _last_linear(model: Module) -> str:
    return [name for name, m in model.named_modules() if isinstance(m, Linear)][-1]


def _swap_linear(model: Module, name: str, num_classes: int) -> Linear:
    """Set the Linear `name` of `model` to a fresh one with `num_classes` outputs."""
    old = model.get_submodule(name)
    parent_name, _, child_name = name.rpartition(".")
    new = Linear(old.in_features, num_classes, bias=old.bias is not None, dtype=old.weight.dtype)
    setattr(model.get_submodule(parent_name), child_name, new)
    return new


def trainable_parameters(model: Module) -> list[Parameter]:
    """The parameters of `model` that require grad (those not frozen), each once."""
    return [p for p in model.parameters() if p.requires_grad]


def param_groups(model: Module, head, lr: float, backbone_lr: float) -> list[dict]:
    """Optimizer parameter groups: `head` at `lr`, the rest of `model` at `backbone_lr`.

    Parameters
    ----------
    model : Module
        The whole network.
    head : Module or iterable of Parameter
        Its part that trains at the full learning rate (e.g. what `replace_head` returned).
    lr, backbone_lr : float
        The two learning rates; fine-tuning typically takes backbone_lr = lr / 10.

    Returns
    -------
    list of dict
        `[{"params": backbone, "lr": backbone_lr}, {"params": head, "lr": lr}]` for any
        optimizer of `optim`, e.g. `optim.SGD(param_groups(...), lr=lr, momentum=0.9)`. The
        backbone group holds frozen parameters too (the optimizer skips them while they get
        no gradient), so unfreezing a layer later needs no new optimizer; a group with no
        parameters is left out.

    Raises
    ------
    ValueError
        A head parameter is not a parameter of `model`.
    """
    head_params = list(head.parameters() if isinstance(head, Module) else head)
    own = {id(p) for p in model.parameters()}
    stray = [tuple(p.shape) for p in head_params if id(p) not in own]
    if stray:
        raise ValueError(
            f"param_groups: head parameters of shapes {stray} are not parameters of "
            f"{type(model).__name__} (replace the head before building the groups)"
        )
    in_head = {id(p) for p in head_params}
    backbone = [p for p in model.parameters() if id(p) not in in_head]
    groups = [{"params": backbone, "lr": backbone_lr}, {"params": head_params, "lr": lr}]
    return [group for group in groups if group["params"]]


def precompute_features(
    backbone: Module, data, batch_size: int = 256
) -> tuple[np.ndarray, np.ndarray | None]:
    """Run the frozen `backbone` once over a data set and return its outputs as one array.

    The head then trains on the cached features (`TensorDataset(features, labels)`) instead of
    running the backbone every epoch: the course's shortcut when the backbone is frozen. The
    backbone runs in eval mode (dropout off, batch norm on its running statistics) under
    `no_grad`; its training flags are restored afterwards.

    Parameters
    ----------
    backbone : Module
        Maps a batch `(N, ...)` to features `(N, ...)`.
    data : DataLoader, Dataset, ndarray or Tensor
        A loader or data set yielding `(x, y)` pairs (or bare inputs), or an array of inputs
        `(N, ...)`, which is fed in batches of `batch_size`.
    batch_size : int, default 256
        Examples per forward pass for a Dataset or an array (a DataLoader keeps its own).

    Returns
    -------
    features : ndarray (N, ...)
        The backbone's outputs, in the dtype it computes in.
    labels : ndarray (N,) or None
        The labels of the pairs, in the same order; None for bare inputs.
    """
    if isinstance(data, Tensor | np.ndarray):
        array = data.data if isinstance(data, Tensor) else data
        batches = ((array[i : i + batch_size],) for i in range(0, max(len(array), 1), batch_size))
    elif isinstance(data, Dataset):
        batches = DataLoader(data, batch_size=batch_size)
    elif isinstance(data, DataLoader):
        batches = data
    else:
        raise TypeError(
            f"precompute_features: data must be a DataLoader, Dataset, ndarray or Tensor, "
            f"got {type(data).__name__}"
        )
    features, labels = [], []
    with eval_mode(backbone), no_grad():
        for batch in batches:
            x, *y = batch if isinstance(batch, tuple | list) else (batch,)
            features.append(backbone(x if isinstance(x, Tensor) else Tensor(x)).data)
            if y:
                labels.append(y[0].data if isinstance(y[0], Tensor) else np.asarray(y[0]))
    if not features:
        raise ValueError("precompute_features: the data set yielded no batches")
    return np.concatenate(features), (np.concatenate(labels) if labels else None)
