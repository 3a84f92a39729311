"""Random search, coarse to fine, for the digits CNN of train_digits.py, on a process pool or Dask.

Tunes the learning rate (log scale), the momentum beta (1 - beta on a log scale), the L2 weight
decay (log scale) and the mini-batch size of SGD with momentum in the course's form (an average
of the gradients, `dampening=beta`, so the learning rate means the same for every beta):

    space = {
        "lr": tune.log_uniform(1e-4, 1e-1),
        "beta": tune.one_minus_log_uniform(0.8, 0.999),
        "weight_decay": tune.log_uniform(1e-6, 1e-2),
        "batch_size": tune.choice([16, 32, 64, 128]),
    }
    result = tune.search(train_fn, space, n_trials, rounds=..., executor=...)

Run: python examples/search_digits.py [--trials 16] [--rounds 1] [--epochs 2]
         [--executor process|serial|dask] [--scheduler tcp://host:8786] [--plot PATH]

`--executor dask` starts a local cluster of two worker processes on 127.0.0.1, or attaches to
the scheduler at `--scheduler` (every worker needs autodiff installed; this script uploads
train_digits.py, which holds the model). The same seed gives the same table on every executor.
"""

import argparse
import os
import time

from train_digits import make_model

import autodiff as ad
import optim
from autodiff import tune
from autodiff.data import DataLoader, digits_splits
from nn import CrossEntropyLoss
from nn.training import fit

SPACE = {
    "lr": tune.log_uniform(1e-4, 1e-1),
    "beta": tune.one_minus_log_uniform(0.8, 0.999),
    "weight_decay": tune.log_uniform(1e-6, 1e-2),
    "batch_size": tune.choice([16, 32, 64, 128]),
}


def train_fn(config, report):
    """Train the CNN for config["epochs"] epochs; the best dev accuracy and its epoch's loss."""
    ad.manual_seed(report.seed)
    train, dev, _ = digits_splits(generator=0, normalize=True)
    train_loader = DataLoader(
        train, batch_size=config["batch_size"], shuffle=True, generator=report.seed
    )
    model = make_model()
    optimizer = optim.SGD(
        model.parameters(),
        lr=config["lr"],
        momentum=config["beta"],
        weight_decay=config["weight_decay"],
    )
    history = fit(
        model,
        train_loader,
        CrossEntropyLoss(),
        optimizer,
        epochs=config["epochs"],
        dev_loader=DataLoader(dev, batch_size=256),
        progress=False,
    )
    for epoch, (accuracy, loss) in enumerate(zip(history["dev_acc"], history["dev_loss"]), 1):
        report(epoch, {"dev_accuracy": accuracy, "dev_loss": loss})
    best = history["best_epoch"]
    return {"dev_accuracy": history["dev_acc"][best - 1], "dev_loss": history["dev_loss"][best - 1]}


def dask_executor(scheduler):
    """A Dask client's executor (a local cluster on loopback unless `scheduler` names one), and
    a function that closes what was opened."""
    from distributed import Client, LocalCluster

    start = time.perf_counter()
    if scheduler is None:
        # one single-threaded worker per core; Dask already limits BLAS, not numba, to 1 thread
        cluster = LocalCluster(
            host="127.0.0.1",
            dashboard_address=None,
            n_workers=2,
            threads_per_worker=1,
            env={"NUMBA_NUM_THREADS": "1"},
        )
        client = Client(cluster)
    else:
        cluster, client = None, Client(scheduler)
    # functions of this script travel by value; make_model's module must be on the workers
    client.upload_file(os.path.join(os.path.dirname(os.path.abspath(__file__)), "train_digits.py"))
    print(
        f"Dask: {len(client.scheduler_info()['workers'])} workers, ready in "
        f"{time.perf_counter() - start:.1f} s"
    )

    def close():
        client.close()
        if cluster is not None:
            cluster.close()

    return client.get_executor(), close


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=16, help="trials per round")
    parser.add_argument("--rounds", type=int, default=1, help="coarse-to-fine rounds")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--executor", choices=["process", "serial", "dask"], default="process")
    parser.add_argument("--scheduler", help="address of a Dask scheduler, e.g. tcp://host:8786")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", default="search_digits.png")
    args = parser.parse_args(argv)

    executor, close = args.executor, None
    if args.executor == "dask":
        executor, close = dask_executor(args.scheduler)
    start = time.perf_counter()
    try:
        result = tune.search(
            train_fn,
            {**SPACE, "epochs": args.epochs},
            args.trials,
            executor=executor,
            seed=args.seed,
            rounds=args.rounds,
        )
    finally:
        if close is not None:
            close()
    elapsed = time.perf_counter() - start
    print(result.to_table())
    print(
        f"{len(result.trials)} trials of {args.epochs} epochs in {elapsed:.1f} s "
        f"({args.executor}); best config: {result.best.config}"
    )
    try:
        result.plot(args.plot)
        print(f"dev accuracy against each hyperparameter written to {args.plot}")
    except ImportError:
        print("matplotlib is not installed: no plot (pip install matplotlib)")
    return result


if __name__ == "__main__":
    main()
