"""Video fitting (Sec. 4.1): a network maps (t, x, y) to RGB. The paper's videos (cat, bikes) are
downloads, so the default is a short synthetic video made offline and deterministically from a seed:
a pan across scikit-image's astronaut with the coffee image moving over it on a circle. Any video a
user gives (`video=PATH`: a .npy array [T, H, W, C] as the authors' loader, or an animated GIF /
multi-frame TIFF via imageio) works too. PSNR per frame, SIREN vs ReLU+P.E. (and any other method).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from paperlab.core.constraints import (
    Interval, Options, Unique, LAYER_WIDTH, LAYER_COUNT, OMEGA, LEARNING_RATE, Check, DataFile)
from paperlab.core.plots import new_figure
from paperlab.siren.models import METHODS, build_model
from paperlab.siren.training import evaluate_fields, fit, psnr_from_mse


@dataclass
class VideoConfig:
    """Authors' `train_video.py`: 5-layer network of width 1024 (3 hidden layers), Adam lr 1e-4, a random
    3.8e-3 of all pixels per step, 100k steps; cat video 300 frames of 512^2 RGB. ReLU+P.E. uses the
    Nyquist octave count of the longest axis (the authors' 3-D encoding has a fixed 10 octaves)."""

    _constraints = {"video": DataFile(lambda path: load_video(path), "video file", suffixes=(".npy", ".gif", ".tif", ".tiff")), "frames": [Interval(1), Check(lambda v, c: v * c.side ** 2 <= 2 ** 28, "frames x side^2 <= 2^28 pixels (the synthetic video in float32 RGB: 3 GiB)")],
                    "side": Interval(2, 4096, why="4096^2 pixels per frame"), "sample_fraction": Interval(0, 1, closed="right"), "steps": Interval(1),
                    "lr": LEARNING_RATE, "hidden_features": LAYER_WIDTH, "hidden_layers": LAYER_COUNT, "omega_0": OMEGA,
                    "methods": [Options(*METHODS), Unique()], "log_every": Interval(1), "checkpoint_every": Interval(1)}

    video: str = ""                        # a .npy [T, H, W, C] / .gif / .tif file; empty = the synthetic video
    frames: int = 300                      # synthetic video: frames
    side: int = 512                        # synthetic video: pixels per side
    seed_video: int = 0                    # synthetic video: its seed
    sample_fraction: float = 38e-4         # pixels per step; 1 = full batch
    steps: int = 100_000                   # Adam steps per network
    lr: float = 1e-4                       # Adam learning rate
    hidden_features: int = 1024            # width of the hidden layers
    hidden_layers: int = 3                 # layers between the first and the last
    omega_0: float = 30.0                  # SIREN: omega_0 of every sine layer
    methods: tuple[str, ...] = ("siren", "relu_pe")  # networks compared, trained alike
    log_every: int = 20                    # steps between records in metrics.jsonl
    checkpoint_every: int = 1000           # steps between checkpoints (resume points)


def synthetic_video(frames: int, side: int, seed: int = 0) -> np.ndarray:
    """[T, side, side, 3] in [0, 1]: a window panning across the astronaut, with a disc cut from the
    coffee image moving on a circle over it; direction, speed and phase drawn from `seed`."""
    import skimage.data
    from skimage.transform import resize

    rng = np.random.default_rng(seed)
    pan = int(side * 0.5)
    background = resize(skimage.data.astronaut(), (side + pan, side + pan), anti_aliasing=True)
    sprite_side = max(4, side // 3)
    sprite = resize(skimage.data.coffee(), (sprite_side, sprite_side), anti_aliasing=True)
    yy, xx = np.mgrid[:sprite_side, :sprite_side]
    disc = (yy - sprite_side / 2 + 0.5) ** 2 + (xx - sprite_side / 2 + 0.5) ** 2 <= (sprite_side / 2) ** 2
    angle, phase = rng.uniform(0, 2 * math.pi, size=2)
    turns = rng.choice([-1, 1]) * rng.uniform(0.5, 1.0)
    video = np.empty((frames, side, side, 3), dtype=np.float32)
    for f in range(frames):
        s = f / max(frames - 1, 1)
        oy = int(round(pan / 2 + pan / 2 * math.sin(angle) * (2 * s - 1)))
        ox = int(round(pan / 2 + pan / 2 * math.cos(angle) * (2 * s - 1)))
        frame = background[oy:oy + side, ox:ox + side].copy()
        theta = phase + 2 * math.pi * turns * s
        cy = int(round((side - sprite_side) / 2 * (1 + 0.7 * math.sin(theta))))
        cx = int(round((side - sprite_side) / 2 * (1 + 0.7 * math.cos(theta))))
        window = frame[cy:cy + sprite_side, cx:cx + sprite_side]
        window[disc] = sprite[disc]
        video[f] = frame
    return video


def load_video(path: str | Path) -> np.ndarray:
    """[T, H, W, C] float32 in [0, 1] from a .npy array (floats in [0, 1] or uint8) or a multi-frame
    image file; a bad file raises a ValueError naming the path."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"video file {str(path)!r} does not exist or is not a file")
    try:
        if path.suffix.lower() == ".npy":
            video = np.load(path, allow_pickle=False)
        else:
            import imageio.v3 as iio
            video = np.asarray(iio.imread(path, index=None))
    except Exception as err:  # numpy / imageio raise many kinds on malformed input
        raise ValueError(f"cannot read video {str(path)!r}: {str(err).splitlines()[0] if str(err) else type(err).__name__}")
    if video.ndim == 3:
        video = video[..., None]
    if video.ndim != 4 or min(video.shape) < 1 or video.shape[0] < 2 or video.shape[-1] not in (1, 3, 4):
        raise ValueError(f"video {str(path)!r} has shape {video.shape}; need [frames >= 2, H, W, 1/3/4 channels]")
    video = video[..., :3] if video.shape[-1] == 4 else video
    if np.issubdtype(video.dtype, np.integer):
        video = video.astype(np.float32) / 255.0
    video = video.astype(np.float32)
    if not np.isfinite(video).all():
        raise ValueError(f"video {str(path)!r} contains NaN or infinite values")
    if video.min() < 0.0 or video.max() > 1.0:   # floats are intensities in [0, 1] (PSNR assumes that peak)
        raise ValueError(f"video {str(path)!r} has values in [{video.min():g}, {video.max():g}]; floats must lie in "
                         "[0, 1] (or give uint8 frames)")
    if video.max() == video.min():
        raise ValueError(f"video {str(path)!r} is constant: nothing to fit, and its PSNR is undefined")
    return video


def video_coordinates(shape: tuple[int, int, int]) -> torch.Tensor:
    """[T*H*W, 3] (t, y, x) in [-1, 1], frame-major."""
    axes = [torch.linspace(-1, 1, n) if n > 1 else torch.zeros(1) for n in shape]
    return torch.stack(torch.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 3)


def video_fit(run, cfg: VideoConfig) -> dict:
    if not 0 < cfg.sample_fraction <= 1:
        raise ValueError(f"sample_fraction must be in (0, 1], got {cfg.sample_fraction}")
    video = load_video(cfg.video) if cfg.video else synthetic_video(cfg.frames, cfg.side, cfg.seed_video)
    frames, height, width, channels = video.shape
    coords = video_coordinates((frames, height, width)).to(run.device)
    target = torch.as_tensor(video * 2 - 1, device=run.device).reshape(-1, channels)     # [-1, 1] as images
    batch = max(1, int(cfg.sample_fraction * coords.shape[0]))
    run.save_file("video.npy", lambda fh: np.save(fh, video))
    def fit_method(i: int, method: str) -> dict:
        torch.manual_seed(run.seed * 1000 + i)
        model = build_model(method, 3, channels, cfg.hidden_features, cfg.hidden_layers, cfg.omega_0, cfg.omega_0,
                            samples_per_axis=max(frames, height, width, 4)).to(run.device)
        generator = torch.Generator().manual_seed(run.seed)

        def objective(model, step):
            if batch >= coords.shape[0]:
                c, t = coords, target
            else:
                idx = torch.randint(coords.shape[0], (batch,), generator=generator).to(run.device)
                c, t = coords[idx], target[idx]
            mse = torch.mean((model(c) - t) ** 2)
            return mse, {"psnr": psnr_from_mse(float(mse.detach()))}

        fit(model, objective, cfg.steps, cfg.lr, run, tag=method, log_every=cfg.log_every,
            checkpoint_every=cfg.checkpoint_every)
        fitted = evaluate_fields(model, coords, order=0)["value"].numpy().reshape(frames, height, width, channels)
        fitted = (fitted.clip(-1, 1) + 1) / 2
        run.save_file(f"fitted_{method}.npy", lambda fh: np.save(fh, fitted.astype(np.float32)))
        per_frame = [psnr_from_mse(float(np.mean((fitted[f] - video[f]) ** 2)), 1.0) for f in range(frames)]
        return {"psnr_by_frame": per_frame, "psnr_mean": float(np.mean(per_frame))}

    for i, method in enumerate(cfg.methods):
        run.piece(method, lambda: fit_method(i, method))
    plot_video(run, cfg, video)
    return {"psnr_by_frame": {m: run.partial[m]["psnr_by_frame"] for m in cfg.methods},
            "psnr_mean": {m: run.partial[m]["psnr_mean"] for m in cfg.methods},
            "frames": frames, "height": height, "width": width, "steps": cfg.steps,
            "source": cfg.video or f"synthetic (seed {cfg.seed_video})"}


def plot_video(run, cfg: VideoConfig, video: np.ndarray) -> None:
    frames = video.shape[0]
    shown = sorted({0, frames // 3, 2 * frames // 3, frames - 1})
    rows = [("ground truth", video)] + [(m, np.load(run.file(f"fitted_{m}.npy"))) for m in cfg.methods]
    fig, axes = new_figure(len(rows), len(shown), size=(2.2 * len(shown), 2.3 * len(rows)))
    axes = np.asarray(axes).reshape(len(rows), len(shown))
    for r, (label, vid) in enumerate(rows):
        for c, f in enumerate(shown):
            ax = axes[r, c]
            ax.imshow(vid[f].squeeze(), cmap="gray" if vid.shape[-1] == 1 else None, vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(f"frame {f}", fontsize=9)
            else:
                ax.set_xlabel(f"{run.partial[label]['psnr_by_frame'][f]:.1f} dB", fontsize=8)
        axes[r, 0].set_ylabel(label, fontsize=8)
    run.save_figure(fig, "video_frames")
    fig, ax = new_figure(size=(5.5, 3.6))
    for method in cfg.methods:
        ax.plot(run.partial[method]["psnr_by_frame"], marker=".", label=method)
    ax.set_xlabel("frame")
    ax.set_ylabel("PSNR (dB)")
    ax.legend()
    run.save_figure(fig, "psnr_by_frame")
