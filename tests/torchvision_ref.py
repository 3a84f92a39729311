"""torchvision as a test oracle, or a clean skip where it cannot be imported.

The torchvision wheels on the package index are built against other torch versions than the
CPU torch 2.13 used here: their compiled ops fail to load, and `import torchvision` then fails
while registering fake kernels for `torchvision::nms` and friends. Its pure-Python parts (the
models, `box_iou`, `box_convert`) do not need those ops, so the import skips the `torchvision::`
fake-kernel registrations and leaves every other registration alone.

Install for these tests with `python -m pip install --no-deps torchvision==0.28.0`.
"""

import functools

import pytest


@functools.cache
def _import():
    try:
        import torch
        import torch.library
    except ImportError:
        return None
    register_fake = torch.library.register_fake

    def skip_torchvision_ops(op, *args, **kwargs):
        if isinstance(op, str) and op.startswith("torchvision::"):
            return lambda fn: fn
        return register_fake(op, *args, **kwargs)

    torch.library.register_fake = skip_torchvision_ops
    try:
        import torchvision
    except Exception:  # not installed, or a wheel whose Python parts do not load either
        return None
    finally:
        torch.library.register_fake = register_fake
    return torchvision


def torchvision():
    """The torchvision module, or skip the calling test when it cannot be imported."""
    module = _import()
    if module is None:
        pytest.skip("torchvision is not importable (python -m pip install --no-deps torchvision)")
    return module
