"""`torch.utils`'s path: `autodiff.utils.data` is `autodiff.data` (see autodiff/aliases.py)."""

import importlib


def __getattr__(name):
    if name == "data":
        return importlib.import_module("autodiff.utils.data")
    raise AttributeError(f"module 'autodiff.utils' has no attribute {name!r}")
