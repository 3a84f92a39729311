"""PyTorch's paths to the library's packages: `autodiff.nn` is `nn`, `autodiff.optim` is `optim`
and `autodiff.utils.data` is `autodiff.data`, submodules included (`autodiff.nn.functional` is
`nn.functional`). They are the same module objects, not copies: each has one home, and
`import autodiff as torch` finds them where a PyTorch script looks.
"""

import importlib
import importlib.abc
import importlib.util
import sys

ALIASES = {"autodiff.nn": "nn", "autodiff.optim": "optim", "autodiff.utils.data": "autodiff.data"}


def real_name(name: str) -> str | None:
    """The module that `name` is another path to, or None."""
    for alias, real in ALIASES.items():
        if name == alias or name.startswith(alias + "."):
            return real + name[len(alias) :]
    return None


class _AliasFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports `autodiff.nn.x` by importing `nn.x` and handing back that very module."""

    def find_spec(self, name, path=None, target=None):
        real = real_name(name)
        return None if real is None else importlib.util.spec_from_loader(name, self)

    def create_module(self, spec):
        module = importlib.import_module(real_name(spec.name))
        spec.loader_state = module.__spec__  # the import system overwrites it; put it back
        return module

    def exec_module(self, module):
        module.__spec__ = module.__spec__.loader_state  # already executed under its own name


def install() -> None:
    """Put the finder first: the standard one would load `autodiff.nn.x` from nn's folder again,
    as a second copy of the module."""
    if not any(isinstance(f, _AliasFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _AliasFinder())
