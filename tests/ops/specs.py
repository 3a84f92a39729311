"""The op table: every `OpSpec` of every `tests/ops/specs_*.py` module, collected into `SPECS`.

How to add an entry
-------------------
Put it in the `SPECS` list of the module for its family (`specs_core.py` for elementwise,
activation, reduce, shape and linalg ops; `specs_nn.py` for losses, norms and dropout;
`specs_conv.py` for convolution and pooling; a new `specs_<family>.py` is picked up by itself):

    from tests.ops.harness import OpSpec, positive, sample, torch

    OpSpec(
        name="log",                                  # unique across the table; the test id
        fn=ad.log,                                   # fn(*tensors, **kwargs) -> Tensor
        ref=np.log,                                  # the same call on float64 arrays
        torch_fn=lambda x: torch.log(x),             # the same call on torch tensors, or None
        covers=(Log,),                               # Function classes this entry exercises
        samples=(                                    # shapes of the tensor inputs, plus kwargs
            sample(()),                              # a scalar (0-d)
            sample((1, 3)),                          # a size-1 dim
            sample((4, 3), t=(0,)),                  # input 0 as a transposed (strided) view
            sample((3, 4), (4,)),                    # (a broadcast pair, for several inputs)
        ),
        domain=positive,                             # or one per input: (normal, positive)
    )

Every Function subclass in autodiff, nn and optim must be in some entry's `covers`
(tests/ops/test_meta.py fails listing those that are not), and every class listed there must
show up in the graph the entry builds; a composition of covered ops may list none. Every entry
needs a scalar, a size-1, a broadcast (when it takes two or more tensors) and a non-contiguous
sample, unless `exempt={"scalar": "why not"}` says why it cannot have one. `torch` from the
harness is imported on first use, so the table loads without PyTorch: call it inside a lambda
(`torch_fn=torch.log` would import it at load time).
Optional fields: `grad_inputs` (which inputs require grad), `rtol`/`atol` (float32
comparisons), `rtol64` (float64 forward), `gradcheck_kw` (eps, atol, rtol).

Each entry is then checked three ways (tests/ops/test_ops.py): forward against `ref`,
`gradcheck` in float64, and forward and backward against `torch_fn` in float32;
tests/test_dtypes.py checks that float32 and float64 are kept through it, gradients included.
"""

import importlib
import pkgutil
from pathlib import Path

from tests.ops.harness import OpSpec


def _collect() -> list:
    specs = []
    here = str(Path(__file__).parent)
    for info in sorted(pkgutil.iter_modules([here]), key=lambda m: m.name):
        if info.name.startswith("specs_"):
            module = importlib.import_module(f"{__package__}.{info.name}")
            specs.extend(module.SPECS)
    names = [s.name for s in specs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    assert not duplicates, f"op specs with the same name: {duplicates}"
    assert all(isinstance(s, OpSpec) for s in specs)
    return specs


SPECS = _collect()
