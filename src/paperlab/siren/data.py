"""Signals that ship offline: scikit-image's bundled images, any image file, WAV audio, a synthetic
default audio clip, and the horse silhouette's outline as an oriented point cloud.

Images are grayscale, resized to a square side, and scaled to [-1, 1] (the authors' normalisation
`(x - 0.5) / 0.5`). Coordinates are a [-1, 1]^d grid, axis 0 = rows, axis 1 = columns.
"""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path
from typing import BinaryIO

import numpy as np
import torch

BUNDLED_IMAGES = ("camera", "astronaut", "coins", "moon", "horse", "coffee", "chelsea", "brick", "grass", "rocket")


def load_image(source: str, side: int) -> np.ndarray:
    """A bundled scikit-image name (see BUNDLED_IMAGES) or an image file path -> float32 [side, side] in [-1, 1]."""
    if int(side) != side or side < 2:
        raise ValueError(f"side must be an integer >= 2, got {side!r}")
    image = _read_image(source)
    from skimage.color import rgb2gray, rgba2rgb
    from skimage.transform import resize

    image = np.asarray(image)
    if image.ndim == 3 and image.shape[-1] == 4:
        image = rgba2rgb(image)
    if image.ndim == 3 and image.shape[-1] == 3:
        image = rgb2gray(image)
    if image.ndim != 2:
        raise ValueError(f"image {source!r} has unsupported shape {image.shape}; expected grayscale, RGB or RGBA")
    if image.dtype.kind in "ui":
        image = image.astype(np.float64) / np.iinfo(image.dtype).max
    image = image.astype(np.float64)
    if min(image.shape) < 2:
        raise ValueError(f"image {source!r} is {image.shape[0]}x{image.shape[1]} pixels; need at least 2x2")
    if not np.isfinite(image).all():
        raise ValueError(f"image {source!r} contains NaN or infinite pixels")
    if image.max() == image.min():
        raise ValueError(f"image {source!r} is constant (every pixel {image.flat[0]:g}): nothing to fit, "
                         "and its PSNR is undefined")
    if image.max() > 1.0 or image.min() < 0.0:
        low, high = float(image.min()), float(image.max())
        image = (image - low) / (high - low) if high > low else np.zeros_like(image)
    image = _center_crop_square(image)
    image = resize(image, (side, side), anti_aliasing=True, order=3)
    return np.clip(image * 2.0 - 1.0, -1.0, 1.0).astype(np.float32)


def _read_image(source: str):
    from skimage import data as skdata

    if source in BUNDLED_IMAGES:
        return getattr(skdata, source)()
    path = Path(source)
    if not path.exists():
        raise ValueError(f"image {source!r} is neither a bundled image ({', '.join(BUNDLED_IMAGES)}) nor an existing file")
    if path.is_dir():
        raise ValueError(f"image path {source!r} is a directory, not an image file")
    if path.stat().st_size == 0:
        raise ValueError(f"image file {source!r} is empty")
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            img.load()
            return np.asarray(img.convert("RGB") if img.mode not in ("L", "RGB", "RGBA") else img)
    except (UnidentifiedImageError, OSError, SyntaxError) as err:
        raise ValueError(f"image file {source!r} could not be decoded as an image: {err}") from None


def _center_crop_square(image: np.ndarray) -> np.ndarray:
    h, w = image.shape
    s = min(h, w)
    top, left = (h - s) // 2, (w - s) // 2
    return image[top:top + s, left:left + s]


def coordinate_grid(*sizes: int) -> torch.Tensor:
    """All grid points of a [-1, 1]^d box with the given samples per axis, flattened: [prod(sizes), d]."""
    axes = [torch.linspace(-1.0, 1.0, n) for n in sizes]
    return torch.stack(torch.meshgrid(*axes, indexing="ij"), dim=-1).reshape(-1, len(sizes))


# -- audio --------------------------------------------------------------------------------------------
def load_wav(path: str | Path) -> tuple[np.ndarray, int]:
    """Mono float32 waveform scaled to [-1, 1] by its peak, and the sample rate; stereo is averaged."""
    path = Path(path)
    if not path.exists():
        raise ValueError(f"audio file {str(path)!r} does not exist")
    if path.stat().st_size == 0:
        raise ValueError(f"audio file {str(path)!r} is empty")
    try:
        with wave.open(str(path), "rb") as wav:
            channels, width, rate, frames = wav.getnchannels(), wav.getsampwidth(), wav.getframerate(), wav.getnframes()
            raw = wav.readframes(frames)
    except (wave.Error, EOFError, RuntimeError, struct.error) as err:
        raise ValueError(f"audio file {str(path)!r} is not a valid PCM WAV file: {err}") from None
    dtypes = {1: np.uint8, 2: np.int16, 4: np.int32}
    if width not in dtypes:
        raise ValueError(f"audio file {str(path)!r} has unsupported sample width {width} bytes (use 8/16/32-bit PCM)")
    usable = len(raw) // (width * channels) * (width * channels)
    samples = np.frombuffer(raw[:usable], dtype=dtypes[width]).astype(np.float64)
    if samples.size == 0:
        raise ValueError(f"audio file {str(path)!r} holds no samples")
    if width == 1:
        samples -= 128.0
    samples = samples.reshape(-1, channels).mean(axis=1)
    peak = np.abs(samples).max()
    return (samples / peak if peak > 0 else samples).astype(np.float32), rate


def write_wav(path: str | Path | BinaryIO, waveform: np.ndarray, rate: int) -> None:
    """16-bit mono PCM WAV (used for the default clip and for the fitted result), to a path or an open file."""
    pcm = np.clip(np.asarray(waveform, dtype=np.float64), -1.0, 1.0)
    with wave.open(str(path) if isinstance(path, (str, Path)) else path, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(int(rate))
        wav.writeframes((pcm * 32767).astype("<i2").tobytes())


def default_audio(seconds: float = 2.0, rate: int = 8000) -> np.ndarray:
    """An offline test signal: a rising chirp (200 Hz -> 2 kHz) plus three tones under a decaying
    envelope, with note onsets every 0.25 s. Peak-normalised float32 [rate * seconds]."""
    if seconds <= 0 or rate <= 0:
        raise ValueError(f"seconds and rate must be positive, got {seconds}, {rate}")
    t = np.arange(int(round(seconds * rate))) / rate
    f0, f1 = 200.0, min(2000.0, 0.4 * rate)
    chirp = np.sin(2 * math.pi * (f0 * t + (f1 - f0) * t ** 2 / (2 * seconds)))
    tones = sum(np.sin(2 * math.pi * f * t) / (k + 1) for k, f in enumerate((330.0, 523.0, 784.0)))
    envelope = np.exp(-6.0 * (t % 0.25))
    signal = 0.6 * chirp + 0.6 * tones * envelope
    return (signal / np.abs(signal).max()).astype(np.float32)


# -- 2-D shape for the SDF experiment -----------------------------------------------------------------
def silhouette_outline(name: str = "horse", side: int = 256, points: int = 4000) -> dict[str, np.ndarray]:
    """Outline of a bundled binary silhouette as points in [-0.9, 0.9]^2 with outward unit normals,
    plus the inside mask on a `side` grid (for the ground-truth signed distance)."""
    from skimage import measure
    from skimage.transform import resize

    image = _read_image(name)
    mask = np.asarray(image)
    if mask.ndim == 3:
        mask = mask.mean(-1)
    mask = mask.astype(np.float64)
    # the horse is the dark (False) region on a white background
    inside = mask < 0.5 * (mask.min() + mask.max())
    if inside.mean() > 0.5:
        inside = ~inside
    h, w = inside.shape
    s = max(h, w)
    padded = np.zeros((s, s), dtype=bool)
    padded[(s - h) // 2:(s - h) // 2 + h, (s - w) // 2:(s - w) // 2 + w] = inside
    # shrink into [-0.9, 0.9] so the level sets have room around the shape
    margin = int(round(s / 0.9 * 0.05)) + 1
    padded = np.pad(padded, margin)
    grid_inside = resize(padded.astype(float), (side, side), order=1, anti_aliasing=True) > 0.5
    contours = measure.find_contours(padded.astype(float), 0.5)
    contour = max(contours, key=len)                       # outer outline
    pts = contour / (padded.shape[0] - 1) * 2.0 - 1.0        # (row, col) in [-1, 1]
    # resample evenly along the arc length
    seg = np.linalg.norm(np.diff(pts, axis=0), axis=1)
    arc = np.concatenate([[0.0], np.cumsum(seg)])
    target = np.linspace(0.0, arc[-1], points, endpoint=False)
    pts = np.stack([np.interp(target, arc, pts[:, k]) for k in range(2)], axis=1)
    tangent = np.roll(pts, -1, axis=0) - np.roll(pts, 1, axis=0)
    normal = np.stack([tangent[:, 1], -tangent[:, 0]], axis=1)
    normal /= np.linalg.norm(normal, axis=1, keepdims=True) + 1e-12
    # orient normals outward: a small step along the normal must leave the shape
    probe = pts + 0.02 * normal
    rows = np.clip(np.round((probe[:, 0] + 1) / 2 * (side - 1)).astype(int), 0, side - 1)
    cols = np.clip(np.round((probe[:, 1] + 1) / 2 * (side - 1)).astype(int), 0, side - 1)
    if grid_inside[rows, cols].mean() > 0.5:
        normal = -normal
    return {"points": pts.astype(np.float32), "normals": normal.astype(np.float32), "inside": grid_inside}


def signed_distance_grid(inside: np.ndarray) -> np.ndarray:
    """Exact signed distance (negative inside) of a binary mask on the [-1, 1]^2 grid, from the
    Euclidean distance transform: the reference the fitted SDF is compared with."""
    from scipy import ndimage

    spacing = 2.0 / (inside.shape[0] - 1)
    outside_dist = ndimage.distance_transform_edt(~inside) * spacing
    inside_dist = ndimage.distance_transform_edt(inside) * spacing
    return (outside_dist - inside_dist).astype(np.float32)
