"""Containers: `Sequential` (a chain of modules), `ModuleList` and `ModuleDict`."""

import operator
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping

from nn.module import Module


class Sequential(Module):
    """Modules applied one after the other: `Sequential(a, b)(x) == b(a(x))`.

    Parameters
    ----------
    *modules : Module
        Registered as children named '0', '1', ...; or a single OrderedDict of name -> Module
        to choose the names.

    Indexing with an int gives a module, with a slice a new Sequential of the same modules.
    """

    def __init__(self, *modules: Module):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            for i, module in enumerate(modules):
                self.add_module(str(i), module)

    def forward(self, x):
        """Feed `x` through each module in order; returns the last one's output."""
        for module in self._modules.values():
            x = module(x)
        return x

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(OrderedDict(list(self._modules.items())[idx]))
        return self._modules[_key_at(self, idx)]

    def __setitem__(self, idx, module: Module):
        self.add_module(_key_at(self, idx), module)

    def __delitem__(self, idx):
        keys = list(self._modules)
        for key in keys[idx] if isinstance(idx, slice) else [_key_at(self, idx)]:
            del self._modules[key]
        # keep the default names contiguous, as PyTorch does
        if all(key.isdigit() for key in self._modules):
            items = list(self._modules.values())
            self._modules.clear()
            for i, module in enumerate(items):
                self._modules[str(i)] = module

    def __len__(self):
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self, module: Module) -> "Sequential":
        """Add `module` at the end, named by its position; returns self."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> "Sequential":
        """Append each of `modules` at the end; returns self."""
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> "Sequential":
        """Insert `module` before position `index` (positions are renumbered)."""
        items = list(self._modules.values())
        items.insert(index, module)
        self._modules.clear()
        for i, m in enumerate(items):
            self.add_module(str(i), m)
        return self


class ModuleList(Module):
    """A list of modules, registered as children '0', '1', ... (it has no `forward`).

    Use it where a plain Python list would hide the modules' parameters from `parameters()`.
    """

    def __init__(self, modules: Iterable[Module] | None = None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(list(self._modules.values())[idx])
        return self._modules[_key_at(self, idx)]

    def __setitem__(self, idx, module: Module):
        self.add_module(_key_at(self, idx), module)

    def __delitem__(self, idx):
        items = list(self._modules.values())
        del items[idx if isinstance(idx, slice) else int(_key_at(self, idx))]
        self._modules.clear()
        for i, module in enumerate(items):
            self.add_module(str(i), module)

    def __len__(self):
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __iadd__(self, modules: Iterable[Module]) -> "ModuleList":
        return self.extend(modules)

    def append(self, module: Module) -> "ModuleList":
        """Add `module` at the end, named by its position; returns self."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> "ModuleList":
        """Append each of `modules` at the end; returns self."""
        if isinstance(modules, Module) and not isinstance(modules, ModuleList | Sequential):
            raise TypeError(
                f"ModuleList.extend: expected an iterable of modules, got a single "
                f"{type(modules).__name__}; use append"
            )
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        """Insert `module` before position `index`; later modules are renumbered."""
        items = list(self._modules.values())
        items.insert(index, module)
        self._modules.clear()
        for i, m in enumerate(items):
            self.add_module(str(i), m)


class ModuleDict(Module):
    """A dict of modules (e.g. one head per task), registered as children under their keys."""

    def __init__(self, modules: Mapping[str, Module] | None = None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module):
        self.add_module(key, module)

    def __delitem__(self, key: str):
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: str) -> bool:
        return key in self._modules

    def keys(self):
        """The keys, in insertion order."""
        return self._modules.keys()

    def values(self):
        """The modules, in insertion order."""
        return self._modules.values()

    def items(self):
        """(key, module) pairs, in insertion order."""
        return self._modules.items()

    def update(self, modules: Mapping[str, Module]) -> None:
        """Add (or replace) the modules of the mapping `modules` under their keys."""
        for key, module in modules.items():
            self[key] = module


def _key_at(container, idx):
    """The child name at position `idx` (negative counts from the end)."""
    idx = operator.index(idx)
    n = len(container._modules)
    if not -n <= idx < n:
        raise IndexError(f"{type(container).__name__}: index {idx} is out of range (len {n})")
    return list(container._modules)[idx % n]
