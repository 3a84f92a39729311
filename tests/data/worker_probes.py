"""Data sets and worker_init_fns for tests/data/test_workers.py, in a module of their own:
workers receive them pickled by reference and import this module, which stays light (no
pytest) so that each worker starts quickly."""

import os
import random
import time

import numpy as np

from autodiff.data import Dataset, get_worker_info
from autodiff.random import default_generator


class Probe(Dataset):
    """Example i: (i, the worker's id, seed and pid, and one draw from each seeded generator)."""

    def __init__(self, n=12, fail_at=None, sleep=0.0):
        self.n, self.fail_at, self.sleep = n, fail_at, sleep

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if i == self.fail_at:
            raise ValueError(f"bad example {i}")
        info = get_worker_info()
        if self.sleep and info.id == 0:
            time.sleep(self.sleep)  # worker 0 is slow: its batches arrive late
        return {
            "i": i,
            "worker": info.id,
            "seed": info.seed,
            "pid": os.getpid(),
            "random": random.random(),
            "numpy": np.random.rand(),
            "autodiff": default_generator().random(),
            "init": INIT.get(info.id, -1),
        }


INIT = {}


def remember_init(worker_id):
    INIT[worker_id] = 100 + worker_id


def fail_init(worker_id):
    raise KeyError(f"no config for worker {worker_id}")


class NeedsTwoArgs(Exception):
    def __init__(self, a, b):
        super().__init__(a, b)


class Raises(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        raise NeedsTwoArgs(i, "x")


class Dies(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        os._exit(3)
