"""Data loading: data sets, mini-batch loaders, normalisation and augmentation, and the
shipped 8x8 digits plus readers for MNIST-style IDX files.

Data are held as numpy arrays; `DataLoader` turns each batch into Tensors, in this process or
in worker processes. Images are NCHW. Names and behaviour follow `torch.utils.data`.
"""

from autodiff.data.dataset import Dataset, Subset, TensorDataset, random_split
from autodiff.data.datasets import digits_splits, load_digits, load_mnist, read_idx
from autodiff.data.loader import DataLoader, default_collate, default_convert
from autodiff.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from autodiff.data.shapes import ShapesDataset
from autodiff.data.transforms import (
    ColorJitter,
    Compose,
    Normalize,
    RandomCrop,
    RandomHorizontalFlip,
)
from autodiff.data.worker import WorkerInfo, get_worker_info

__all__ = [
    "BatchSampler",
    "ColorJitter",
    "Compose",
    "DataLoader",
    "Dataset",
    "Normalize",
    "RandomCrop",
    "RandomHorizontalFlip",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "ShapesDataset",
    "Subset",
    "SubsetRandomSampler",
    "TensorDataset",
    "WeightedRandomSampler",
    "WorkerInfo",
    "default_collate",
    "default_convert",
    "digits_splits",
    "get_worker_info",
    "load_digits",
    "load_mnist",
    "random_split",
    "read_idx",
]
