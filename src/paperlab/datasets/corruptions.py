"""Image-quality corruptions of Cole et al. (CVPR 2022, Sec. 4.3 / Fig. 4), applied to uint8 images.

Each takes uint8 images N x H x W (or N x H x W x C) and returns the same shape and dtype:
* salt-and-pepper: each pixel independently set to 0 or 255 with probability ``amount``;
* JPEG: Pillow round trip at ``quality`` (1-95, lower is worse);
* resolution: bilinear downsample by ``factor`` (or to ``side`` pixels) then bilinear upsample back (loses high
  frequencies).
``corrupt`` applies a severity level 1-3; ``corrupt_with`` an explicit strength, which ``match_severity`` chooses
so that two corruptions remove the same amount of label information.
"""
from __future__ import annotations

import io
from typing import Callable

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
    return lower_resolution(images, max(1, round(images.shape[1] / factor)))


def lower_resolution(images: np.ndarray, side: int) -> np.ndarray:
    """Resize square images to ``side`` x ``side`` pixels (bilinear, Pillow) and back to their own size."""
    _check_uint8(images)
    if images.shape[1] != images.shape[2]:
        raise ValueError(f"lower_resolution expects square images, got {images.shape[1:3]}")
    if not 1 <= side <= images.shape[1]:
        raise ValueError(f"resolution side must be in [1, {images.shape[1]}], got {side}")
    return resize_images(resize_images(images, int(side)), images.shape[1])


# corruptions with an explicit strength (instead of a severity level): salt-and-pepper takes the fraction
# of pixels, resolution the side in pixels it keeps, JPEG the quality
CORRUPTION_STRENGTHS = {"salt_pepper": "fraction of pixels in [0, 1]", "resolution": "side in pixels kept",
                        "jpeg": "quality in [1, 100]"}


def corrupt_with(images: np.ndarray, kind: str, value: float, seed: int = 0) -> np.ndarray:
    """Apply corruption ``kind`` at an explicit strength ``value`` (see CORRUPTION_STRENGTHS)."""
    if kind == "salt_pepper":
        return salt_and_pepper(images, float(value), seed)
    if kind == "resolution":
        return lower_resolution(images, int(value))
    if kind == "jpeg":
        return jpeg_compress(images, int(value))
    raise ValueError(f"unknown corruption {kind!r}; valid: {', '.join(CORRUPTION_STRENGTHS)}")


def match_severity(loss_of: Callable[[float], float], low: float, high: float, target: float,
                   integer: bool = False, tolerance: float = 0.0, max_evaluations: int = 12) -> dict:
    """The strength in [low, high] whose information loss ``loss_of(value)`` is closest to ``target``, by
    bisection; ``loss_of`` must grow with the value (use e.g. the negated side for resolution). Integer
    strengths stop when the bracket closes; continuous ones when a loss is within ``tolerance`` of the target
    or after ``max_evaluations``. Returns {"value", "loss", "target", "evaluations": [(value, loss), ...]}:
    every value tried, so a calibration can be checked afterwards."""
    if not low <= high:
        raise ValueError(f"match_severity needs low <= high, got {low}, {high}")
    if max_evaluations < 2:
        raise ValueError(f"max_evaluations must be >= 2, got {max_evaluations}")
    tried: dict[float, float] = {}

    def loss(value: float) -> float:
        if value not in tried:
            tried[value] = float(loss_of(value))
        return tried[value]

    lo, hi = (int(low), int(high)) if integer else (float(low), float(high))
    if loss(lo) < target < loss(hi):
        while len(tried) < max_evaluations:
            if integer and hi - lo <= 1:
                break
            mid = (lo + hi) // 2 if integer else (lo + hi) / 2
            if abs(loss(mid) - target) <= tolerance and not integer:
                break
            lo, hi = (mid, hi) if tried[mid] < target else (lo, mid)
    order = {value: i for i, value in enumerate(tried)}      # ties: the value tried last (the bisection's closest)
    best = min(tried, key=lambda v: (abs(tried[v] - target), -order[v]))
    return {"value": best, "loss": tried[best], "target": target, "evaluations": sorted(tried.items())}


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
