"""torchvision's pure-Python parts (models, box functions), imported without its compiled ops.

The torchvision wheels on the package index are built against other torch versions than the
CPU torch 2.13 used here: their compiled ops fail to load, and `import torchvision` then fails
while registering fake kernels for `torchvision::nms` and friends. The models and the box
functions do not need those ops, so the import skips the `torchvision::` fake-kernel
registrations and leaves every other registration alone. The tests (tests/torchvision_ref.py)
and the `resnet18` benchmark's torch peer both import it so.

Install with `python -m pip install --no-deps torchvision==0.28.0`.
"""

import functools


@functools.cache
def import_torchvision():
    """The torchvision module, or None where torch or torchvision cannot be imported."""
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
