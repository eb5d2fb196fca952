"""Image-quality corruptions of Cole et al. (CVPR 2022, Sec. 4.3 / Fig. 4), applied to uint8 images.

Each takes uint8 images N x H x W (or N x H x W x C) and returns the same shape and dtype:
* salt-and-pepper: each pixel independently set to 0 or 255 with probability ``amount``;
* JPEG: Pillow round trip at ``quality`` (1-95, lower is worse);
* resolution: bilinear downsample by ``factor`` then bilinear upsample back (loses high frequencies).
"""
from __future__ import annotations

import io

import numpy as np
from PIL import Image

from paperlab.datasets.bundled import resize_images

# Severity levels 1..3 for each corruption (the paper sweeps several levels; these are ours at 28x28).
CORRUPTION_SEVERITIES = {
    "salt_pepper": {1: 0.01, 2: 0.05, 3: 0.10},   # fraction of corrupted pixels
    "jpeg": {1: 50, 2: 20, 3: 10},                # JPEG quality
    "resolution": {1: 2, 2: 3, 3: 4},             # downsample factor (28 -> 14 / 9 / 7 pixels)
}


def _check_uint8(images: np.ndarray) -> None:
    if images.dtype != np.uint8 or images.ndim not in (3, 4):
        raise ValueError(f"expected uint8 images N x H x W[x C], got {images.dtype} {images.shape}")


def salt_and_pepper(images: np.ndarray, amount: float, seed: int = 0) -> np.ndarray:
    """Set a fraction ``amount`` of pixels (all channels of a pixel together) to 0 or 255, half each."""
    _check_uint8(images)
    if not 0.0 <= amount <= 1.0:
        raise ValueError(f"salt-and-pepper amount must be in [0, 1], got {amount}")
    rng = np.random.default_rng(seed)
    out = images.copy()
    mask = rng.random(images.shape[:3]) < amount
    salt = rng.random(images.shape[:3]) < 0.5
    out[mask & salt] = 255
    out[mask & ~salt] = 0
    return out


def jpeg_compress(images: np.ndarray, quality: int) -> np.ndarray:
    """JPEG-encode and decode every image with Pillow at ``quality``."""
    _check_uint8(images)
    if not 1 <= quality <= 100:
        raise ValueError(f"JPEG quality must be in [1, 100], got {quality}")
    out = np.empty_like(images)
    for i, im in enumerate(images):
        buffer = io.BytesIO()
        Image.fromarray(im).save(buffer, format="JPEG", quality=int(quality))
        out[i] = np.asarray(Image.open(io.BytesIO(buffer.getvalue())))
    return out


def downsample_upsample(images: np.ndarray, factor: int) -> np.ndarray:
    """Reduce resolution by ``factor`` (bilinear, Pillow) and resize back to the original size."""
    _check_uint8(images)
    if factor < 1:
        raise ValueError(f"downsample factor must be >= 1, got {factor}")
    if images.shape[1] != images.shape[2]:
        raise ValueError(f"downsample_upsample expects square images, got {images.shape[1:3]}")
    side = images.shape[1]
    small = resize_images(images, max(1, round(side / factor)))
    return resize_images(small, side)


def corrupt(images: np.ndarray, kind: str, severity: int, seed: int = 0) -> np.ndarray:
    """Apply corruption ``kind`` ('none', 'salt_pepper', 'jpeg', 'resolution') at level 1..3."""
    if kind == "none":
        return images
    if kind not in CORRUPTION_SEVERITIES:
        raise ValueError(f"unknown corruption {kind!r}; valid: none, {', '.join(CORRUPTION_SEVERITIES)}")
    levels = CORRUPTION_SEVERITIES[kind]
    if severity not in levels:
        raise ValueError(f"{kind} severity must be one of {sorted(levels)}, got {severity}")
    value = levels[severity]
    if kind == "salt_pepper":
        return salt_and_pepper(images, value, seed)
    if kind == "jpeg":
        return jpeg_compress(images, value)
    return downsample_upsample(images, value)
