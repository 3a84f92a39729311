"""The SyncBatchNorm runs the distributed tests compare with one process on the concatenated
batch: a layer step (forward, backward, running statistics) and a short DDP training run.
Shared by the thread tests (test_sync_batchnorm.py) and `mpi_sync_bn_worker.py` (mpiexec)."""

import numpy as np

import autodiff as ad
import nn
import optim
from autodiff.distributed import DistributedDataParallel

C, H, W = 3, 2, 3
STEPS, BATCH_PER_RANK = 3, 4
PER_EXAMPLE = ("y0", "gx0", "y1", "gx1", "eval")
SUMMED = ("gw0", "gb0", "gw1", "gb1")
SHARED = ("running_mean", "running_var")


def check_against_one_process(results, reference, rtol, atol):
    """Per-example arrays concatenate, local weight/bias gradients sum, and the running
    statistics (bit-identical on every rank) equal the single process's."""
    for key in PER_EXAMPLE:
        whole = np.concatenate([r[key] for r in results])
        np.testing.assert_allclose(whole, reference[key], rtol=rtol, atol=atol, err_msg=key)
    for key in SUMMED:
        total = np.sum([r[key] for r in results], axis=0)
        np.testing.assert_allclose(total, reference[key], rtol=rtol, atol=atol, err_msg=key)
    for key in SHARED:
        for r in results[1:]:
            np.testing.assert_array_equal(r[key], results[0][key])
        np.testing.assert_allclose(results[0][key], reference[key], rtol=rtol, atol=atol)


def layer_data(n, dtype, step):
    """A global batch `(n, C, H, W)` far from zero (so the statistics matter) and the upstream
    gradient of the loss `sum(y * upstream)`."""
    rng = np.random.default_rng(step)
    x = rng.standard_normal((n, C, H, W)) * np.array([1.0, 3.0, 0.5]).reshape(C, 1, 1) + 5
    return x.astype(dtype), rng.standard_normal((n, C, H, W)).astype(dtype)


def _layer_steps(layer, data_of_step):
    """Two training steps and one eval forward; per step the output, input gradient and
    weight/bias gradients, and the running statistics at the end."""
    out = {}
    for step in range(2):
        x_np, upstream = data_of_step(step)
        x = ad.tensor(x_np, requires_grad=True)
        layer.zero_grad()
        y = layer(x)
        (y * ad.tensor(upstream)).sum().backward()
        out[f"y{step}"], out[f"gx{step}"] = y.numpy(), x.grad.numpy()
        out[f"gw{step}"], out[f"gb{step}"] = layer.weight.grad.numpy(), layer.bias.grad.numpy()
    layer.eval()
    out["eval"] = layer(ad.tensor(data_of_step(2)[0])).numpy()
    out["running_mean"], out["running_var"] = layer.running_mean.numpy(), layer.running_var.numpy()
    return {k: v.copy() for k, v in out.items()}


def _layer(cls, dtype, **kwargs):
    layer = cls(C, momentum=0.3, dtype=dtype, **kwargs)
    layer.weight.data[...] = [1.5, -0.5, 2.0]
    layer.bias.data[...] = [0.1, 0.2, -0.3]
    return layer


def sync_layer(comm, dtype, shares):
    """Rank `comm.rank` runs a SyncBatchNorm on its block (`shares[rank]` examples) of each
    global batch."""
    start = sum(shares[: comm.rank])
    block = slice(start, start + shares[comm.rank])

    def block_of_step(step):
        return [a[block] for a in layer_data(sum(shares), dtype, step)]

    return _layer_steps(_layer(nn.SyncBatchNorm, dtype, process_group=comm), block_of_step)


def single_layer(dtype, n):
    """One process, BatchNorm2d on the whole global batch of `n` examples."""
    return _layer_steps(_layer(nn.BatchNorm2d, dtype), lambda step: layer_data(n, dtype, step))


def make_model(seed):
    """A small CNN with batch norm: (N, 1, 6, 6) -> (N, 3)."""
    ad.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(1, 4, kernel_size=3),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(4 * 4 * 4, 3),
    )


def _batches(world_size):
    rng = np.random.default_rng(11)
    n = world_size * BATCH_PER_RANK
    xs = rng.standard_normal((STEPS, n, 1, 6, 6)).astype(np.float32)
    return xs, rng.integers(0, 3, size=(STEPS, n))


def _train(model, xs, ys):
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for x, y in zip(xs, ys):
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(ad.tensor(x)), ad.tensor(y)).backward()
        optimizer.step()


def _state(model):
    return [t.numpy().copy() for t in (*model.parameters(), *model.buffers())]


def train_ddp(comm):
    """DDP with SyncBatchNorm, each rank on its block of every global batch (a different seed
    per rank: DDP's broadcast makes the replicas equal); returns parameters and buffers."""
    model = nn.SyncBatchNorm.convert_sync_batchnorm(make_model(seed=100 + comm.rank), comm)
    ddp = DistributedDataParallel(model, comm)
    block = slice(comm.rank * BATCH_PER_RANK, (comm.rank + 1) * BATCH_PER_RANK)
    xs, ys = _batches(comm.world_size)
    _train(ddp, xs[:, block], ys[:, block])
    return _state(model)


def train_single(world_size):
    """One process with BatchNorm2d, rank 0's initial weights, the whole global batch."""
    model = make_model(seed=100)
    _train(model, *_batches(world_size))
    return _state(model)
