"""Op-table entry for synchronised batch norm (see tests/ops/specs.py): on one process (a
`LocalCommunicator`) it is batch norm in training mode, so it takes the `batch_norm` entry's
references and samples, plus a 5-D one. The multi-rank gradient is checked in
tests/distributed/test_sync_batchnorm.py."""

import dataclasses

from autodiff.distributed import LocalCommunicator
from autodiff.ops.sync_batch_norm import SyncBatchNorm, sync_batch_norm
from tests.ops.harness import sample
from tests.ops.specs_nn import SPECS as NN_SPECS

(_batch_norm,) = [s for s in NN_SPECS if s.name == "batch_norm"]

SPECS = [
    dataclasses.replace(
        _batch_norm,
        name="sync_batch_norm",
        fn=lambda x, w, b, **kw: sync_batch_norm(
            x, None, None, w, b, process_group=LocalCommunicator(), **kw
        ),
        covers=(SyncBatchNorm,),
        samples=(*_batch_norm.samples, sample((2, 2, 2, 1, 3), (2,), (2,))),
    ),
]
