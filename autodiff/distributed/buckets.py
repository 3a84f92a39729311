"""Buckets: many tensors' values packed into a few flat contiguous arrays, one collective each.

Sending a model's gradients tensor by tensor would make one `Allreduce` per parameter, each
paying the collective's latency; packing them into one flat buffer per dtype (split into
buckets of at most `cap_bytes`, as PyTorch's 25 MB) makes a step one or a few calls. A tensor
larger than the cap gets a bucket of its own.
"""

from collections.abc import Sequence

import numpy as np

from autodiff.engine import no_grad
from autodiff.tensor import Tensor


class Bucket:
    """One flat buffer holding the values of several same-dtype tensors, end to end.

    Parameters
    ----------
    shapes : sequence of tuple
        The shape of each tensor, in buffer order.
    dtype : numpy dtype
        Their common dtype, and the buffer's.
    """

    def __init__(self, shapes: Sequence[tuple], dtype):
        self.shapes = tuple(shapes)
        self.ends = np.cumsum([int(np.prod(s)) for s in self.shapes]).tolist()
        self.buffer = np.zeros(self.ends[-1] if self.ends else 0, dtype)

    def views(self) -> list[np.ndarray]:
        """Each tensor's slice of the buffer, in its shape (views, not copies)."""
        starts = [0, *self.ends[:-1]]
        return [self.buffer[a:b].reshape(s) for a, b, s in zip(starts, self.ends, self.shapes)]

    def pack(self, arrays: Sequence[np.ndarray | None]) -> np.ndarray:
        """Copy `arrays` into the buffer (zeros where None); returns the buffer."""
        for view, array in zip(self.views(), arrays, strict=True):
            if array is None:
                view.fill(0)
            else:
                np.copyto(view, array)
        return self.buffer


def plan(tensors: Sequence[Tensor], cap_bytes: int) -> list[tuple[list[int], Bucket]]:
    """Buckets for `tensors`: per bucket, the positions of its tensors in `tensors` and the
    `Bucket`. Tensors of one dtype share buckets in their order; a bucket grows until the next
    tensor would pass `cap_bytes`."""
    by_dtype = {}
    for i, t in enumerate(tensors):
        by_dtype.setdefault(t.dtype, []).append(i)
    groups = []
    for dtype, positions in by_dtype.items():
        current, size = [], 0
        for i in positions:
            nbytes = tensors[i].numel() * np.dtype(dtype).itemsize
            if current and size + nbytes > cap_bytes:
                groups.append((current, dtype))
                current, size = [], 0
            current.append(i)
            size += nbytes
        if current:
            groups.append((current, dtype))
    return [(group, Bucket([tensors[i].shape for i in group], dtype)) for group, dtype in groups]


def broadcast_tensors_(comm, tensors: Sequence[Tensor], cap_bytes: int, root: int = 0) -> None:
    """Overwrite every tensor (parameters, buffers) with root's values, one `broadcast_` per
    bucket; outside the graph, through `copy_` so each tensor's version advances."""
    with no_grad():
        for positions, bucket in plan(tensors, cap_bytes):
            comm.broadcast_(bucket.pack([tensors[i].data for i in positions]), root=root)
            for i, view in zip(positions, bucket.views()):
                tensors[i].copy_(view)
