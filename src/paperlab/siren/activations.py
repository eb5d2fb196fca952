"""Distribution of activations through a deep SIREN (Sec. 3.2, Supplement 1, Fig. 2 and 8).

With the paper's initialisation, the pre-activations omega_0 (W x + b) of every layer are close to
N(0, 1) and the activations sin(.) follow the arcsine distribution on [-1, 1] (variance 1/2), at any
depth. Two naive initialisations are measured beside it: PyTorch's default Linear init with sin(x)
(activations shrink layer after layer) and the same default init with sin(30 x) (pre-activations far
wider than N(0, 1), so each layer's output is dominated by high frequencies).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy import stats
from torch import nn

from paperlab.core.plots import new_figure
from paperlab.core.constraints import Interval, Options, POSITIVE, Unique, LAYER_WIDTH, POINTS, OMEGA, Check
from paperlab.siren.models import SineLayer

INITS = ("paper", "default_sin1", "default_sin30")


@dataclass
class ActivationStatisticsConfig:
    """Fig. 2 / supplement: 50-layer SIREN of width 2048, 1-D inputs uniform on [-1, 1]."""
    _constraints = {"depth": [Interval(2, 1000, why="layers kept with their activations"), Check(lambda v, c: v * c.width ** 2 <= 2 ** 31, "depth x width^2 <= 2^31 weights (8 GiB of float32)")],
                    "width": LAYER_WIDTH, "samples": Interval(10, POINTS.high, why=POINTS.why), "omega_0": OMEGA,
                    "inits": [Options(*INITS), Unique()], "histogram_layers": [Interval(1, "depth"), Unique()]}

    depth: int = 50                 # sine layers in the stack
    width: int = 2048               # units per layer
    samples: int = 4096             # 1-D inputs, evenly spaced on [-1, 1]
    omega_0: float = 30.0           # omega_0 of the sine layers (default_sin1: 1)
    inits: tuple[str, ...] = ("paper", "default_sin1", "default_sin30")  # paper; default_*: PyTorch's init
    histogram_layers: tuple[int, ...] = (1, 2, 10, 25, 50)  # layers (1-based) whose histograms are kept


def build_stack(init: str, depth: int, width: int, omega_0: float) -> nn.ModuleList:
    """`depth` sine layers (1 -> width -> ... -> width) under one of INITS."""
    if init not in INITS:
        raise ValueError(f"unknown init {init!r}; valid: {', '.join(INITS)}")
    omega = 1.0 if init == "default_sin1" else omega_0
    layers = nn.ModuleList([SineLayer(1 if i == 0 else width, width, omega, is_first=i == 0) for i in range(depth)])
    if init != "paper":
        for layer in layers:
            layer.linear.reset_parameters()           # PyTorch default: U(+-1/sqrt(fan_in)) (Kaiming-uniform a=sqrt 5)
    return layers


def arcsine_ks(values: np.ndarray) -> float:
    """Kolmogorov-Smirnov distance to the arcsine law on [-1, 1], CDF 1/2 + arcsin(x)/pi."""
    return float(stats.kstest(values, lambda x: 0.5 + np.arcsin(np.clip(x, -1, 1)) / np.pi).statistic)


@torch.no_grad()
def layer_statistics(layers: nn.ModuleList, inputs: torch.Tensor, keep_layers=()) -> tuple[list[dict], dict]:
    """Per-layer pre-activation and activation statistics, and samples of the layers in `keep_layers` (1-based)."""
    rows, kept = [], {}
    h = inputs
    for depth, layer in enumerate(layers, start=1):
        z = layer.preactivation(h)
        h = torch.sin(z)
        zf, hf = z.flatten().cpu().numpy(), h.flatten().cpu().numpy()
        sample = np.random.default_rng(depth).choice(hf.size, size=min(hf.size, 20000), replace=False)
        rows.append({"layer": depth, "pre_mean": float(zf.mean()), "pre_std": float(zf.std()),
                     "pre_ks_normal": float(stats.kstest(zf[sample], "norm").statistic),
                     "act_mean": float(hf.mean()), "act_var": float(hf.var()), "act_ks_arcsine": arcsine_ks(hf[sample])})
        if depth in keep_layers:
            kept[depth] = {"pre": zf[sample], "act": hf[sample]}
    return rows, kept


def activation_statistics(run, cfg: ActivationStatisticsConfig) -> dict:
    inputs = torch.linspace(-1, 1, cfg.samples, device=run.device).reshape(-1, 1)
    keep = tuple(layer for layer in cfg.histogram_layers if layer <= cfg.depth) or (cfg.depth,)
    results, samples = {}, {}
    for init in cfg.inits:
        torch.manual_seed(run.seed)
        stack = build_stack(init, cfg.depth, cfg.width, cfg.omega_0).to(run.device)
        rows, samples[init] = layer_statistics(stack, inputs, keep)
        for row in rows:
            run.log(init=init, **row)
        results[init] = rows
    plot_histograms(run, samples, keep)
    plot_layer_curves(run, results)
    return {"layers": results, "depth": cfg.depth, "width": cfg.width}


def plot_histograms(run, samples: dict, layers) -> None:
    inits = list(samples)
    # constrained layout and small ticks: titles and tick labels of neighbouring panels must not overlap
    fig, axes = new_figure(2 * len(inits), len(layers), size=(3.0 * len(layers), 2.3 * 2 * len(inits)),
                           layout="constrained")
    axes = np.asarray(axes).reshape(2 * len(inits), len(layers))
    for i, init in enumerate(inits):
        for j, layer in enumerate(layers):
            pre, act = samples[init][layer]["pre"], samples[init][layer]["act"]
            axes[2 * i, j].hist(pre, bins=60, density=True, color="C0")
            xs = np.linspace(-4, 4, 200)
            axes[2 * i, j].plot(xs, stats.norm.pdf(xs), "k", lw=0.8)
            axes[2 * i, j].set_title(f"{init} L{layer} pre-act", fontsize=8)
            axes[2 * i + 1, j].hist(act, bins=60, range=(-1, 1), density=True, color="C1")
            xs = np.linspace(-0.995, 0.995, 200)
            axes[2 * i + 1, j].plot(xs, 1 / (np.pi * np.sqrt(1 - xs ** 2)), "k", lw=0.8)
            axes[2 * i + 1, j].set_ylim(0, 3)
            axes[2 * i + 1, j].set_title(f"{init} L{layer} activation", fontsize=8)
    for ax in axes.ravel():
        ax.tick_params(labelsize=6)
        ax.locator_params(axis="x", nbins=5)
    run.save_figure(fig, "activation_histograms")


def plot_layer_curves(run, results: dict) -> None:
    fig, axes = new_figure(1, 2, size=(10, 3.6))
    axes = axes.ravel()
    for init, rows in results.items():
        layers = [r["layer"] for r in rows]
        axes[0].semilogy(layers, [r["pre_std"] for r in rows], label=init)
        axes[1].plot(layers, [r["act_var"] for r in rows], label=init)
    axes[0].axhline(1.0, color="k", lw=0.6)
    axes[0].set_title("pre-activation std (paper: 1)")
    axes[1].axhline(0.5, color="k", lw=0.6)
    axes[1].set_title("activation variance (arcsine: 1/2)")
    for ax in axes:
        ax.set_xlabel("layer")
        ax.legend(fontsize=8)
    run.save_figure(fig, "activation_statistics_by_layer")
