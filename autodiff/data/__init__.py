"""Data loading: data sets, mini-batch loaders, normalisation and augmentation, and the
shipped 8x8 digits plus readers for MNIST-style IDX files.

Data are held as numpy arrays; `DataLoader` turns each batch into Tensors. Images are NCHW.
"""

from autodiff.data.dataset import Dataset, Subset, TensorDataset, random_split
from autodiff.data.datasets import digits_splits, load_digits, load_mnist, read_idx
from autodiff.data.loader import DataLoader, default_collate
from autodiff.data.transforms import (
    ColorJitter,
    Compose,
    Normalize,
    RandomCrop,
    RandomHorizontalFlip,
)

__all__ = [
    "ColorJitter",
    "Compose",
    "DataLoader",
    "Dataset",
    "Normalize",
    "RandomCrop",
    "RandomHorizontalFlip",
    "Subset",
    "TensorDataset",
    "default_collate",
    "digits_splits",
    "load_digits",
    "load_mnist",
    "random_split",
    "read_idx",
]
