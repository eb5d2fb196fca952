"""Audio fitting (Sec. 4.1, Fig. 3): a waveform as a function of time in [-1, 1]; SIREN's first layer
uses omega_0 = 3000 so that it spans the audio frequencies."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from paperlab.core.plots import new_figure, plot_loss_curves
from paperlab.core.constraints import (
    Check, Interval, Options, POSITIVE, Unique, LAYER_WIDTH, POINTS, OMEGA, LEARNING_RATE, LAYER_COUNT, DataFile)
from paperlab.siren.data import coordinate_grid, default_audio, load_wav, write_wav
from paperlab.siren.models import METHODS, build_model
from paperlab.siren.training import evaluate_fields, fit, supervision_objective


@dataclass
class AudioConfig:
    """Authors' audio setting: 5 x 256 network, first omega_0 = 3000, Adam lr 5e-5 (paper), full batch."""
    _constraints = {"wav": DataFile(load_wav, "PCM WAV file", suffixes=(".wav",)), "seconds": [POSITIVE, Check(lambda v, c: v * c.rate <= POINTS.high, f"at most {POINTS.high:.0e} samples (seconds x rate): {POINTS.why}")], "rate": Interval(8, 384_000, why="the highest sample rate audio uses"),
                    "max_samples": Check(lambda v, c: v == 0 or v >= 4, "0 (all) or >= 4 samples"),
                    "steps": Interval(1), "lr": LEARNING_RATE, "log_every": Interval(1),
                    "hidden_features": LAYER_WIDTH, "hidden_layers": LAYER_COUNT, "first_omega_0": OMEGA, "hidden_omega_0": OMEGA,
                    "methods": [Options(*METHODS), Unique()]}

    wav: str = ""                  # a WAV file path; empty = the offline default clip (chirp + tones)
    seconds: float = 2.0           # default clip length
    rate: int = 8000               # default clip sample rate
    max_samples: int = 0           # 0 = all; otherwise the clip is cut to this many samples
    steps: int = 1000              # Adam steps per network
    lr: float = 5e-5               # Adam learning rate
    hidden_features: int = 256     # width of the hidden layers
    hidden_layers: int = 3         # layers between the first and the last
    first_omega_0: float = 3000.0  # SIREN: omega_0 of the first layer (audio: 3000)
    hidden_omega_0: float = 30.0   # SIREN: omega_0 of the other layers
    methods: tuple[str, ...] = ("siren", "relu", "relu_pe")  # networks compared, trained alike
    log_every: int = 10            # steps between records in metrics.jsonl
    checkpoint_every: int = 1000   # steps between checkpoints (resume points)


def load_audio(cfg: AudioConfig) -> tuple[np.ndarray, int]:
    waveform, rate = (load_wav(cfg.wav) if cfg.wav else (default_audio(cfg.seconds, cfg.rate), cfg.rate))
    if cfg.max_samples:
        waveform = waveform[:cfg.max_samples]
    if waveform.size < 4:
        raise ValueError(f"audio clip has {waveform.size} samples; need at least 4")
    return waveform, rate


def audio_fit(run, cfg: AudioConfig) -> dict:
    waveform, rate = load_audio(cfg)
    coords = coordinate_grid(waveform.size).to(run.device)
    target = torch.as_tensor(waveform, device=run.device).reshape(-1, 1)

    def fit_method(i: int, method: str) -> dict:
        torch.manual_seed(run.seed * 1000 + i)
        model = build_model(method, 1, 1, cfg.hidden_features, cfg.hidden_layers, cfg.first_omega_0,
                            cfg.hidden_omega_0, samples_per_axis=waveform.size).to(run.device)
        history = fit(model, supervision_objective(coords, target, "value", seed=run.seed), cfg.steps, cfg.lr, run,
                      tag=method, log_every=cfg.log_every, checkpoint_every=cfg.checkpoint_every)
        fitted = evaluate_fields(model, coords, order=0)["value"].numpy().ravel()
        run.save_file(f"waveform_{method}.npy", lambda fh: np.save(fh, fitted))
        run.save_file(f"fitted_{method}.wav", lambda fh: write_wav(fh, fitted, rate))
        return {"mse": float(np.mean((fitted - waveform) ** 2)),
                "curve": {"step": [r["step"] for r in history], "loss": [r["loss"] for r in history]}}

    for i, method in enumerate(cfg.methods):
        run.piece(method, lambda: fit_method(i, method))
    plot_waveforms(run, waveform, rate, cfg.methods)
    return {"mse": {m: run.partial[m]["mse"] for m in cfg.methods}, "samples": int(waveform.size), "rate": rate,
            "steps": cfg.steps}


def plot_waveforms(run, waveform: np.ndarray, rate: int, methods) -> None:
    t = np.arange(waveform.size) / rate
    window = slice(0, min(waveform.size, max(rate // 50, 64)))     # the first 20 ms, enlarged
    fig, axes = new_figure(len(methods) + 1, 1, size=(8, 1.7 * (len(methods) + 1)))
    axes = np.atleast_1d(axes).ravel()
    axes[0].plot(t[window], waveform[window], color="k")
    axes[0].set_title("ground truth (first samples)")
    for ax, method in zip(axes[1:], methods):
        fitted = np.load(run.file(f"waveform_{method}.npy"))
        ax.plot(t[window], waveform[window], color="0.7")
        ax.plot(t[window], fitted[window])
        ax.set_title(f"{method}: MSE {run.partial[method]['mse']:.2e}", fontsize=9)
    axes[-1].set_xlabel("time (s)")
    run.save_figure(fig, "waveforms")
    fig = plot_loss_curves({m: run.partial[m]["curve"] for m in methods}, "MSE")
    run.save_figure(fig, "mse_vs_step")
