"""Matplotlib helpers shared by every paper (headless Agg backend)."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from paperlab.core.claims import mean_ci  # noqa: E402


def new_figure(nrows: int = 1, ncols: int = 1, size: tuple[float, float] | None = None, **kw):
    """A figure and its axes; the default size grows with the grid."""
    size = size or (4.2 * ncols, 3.3 * nrows)
    fig, axes = plt.subplots(nrows, ncols, figsize=size, squeeze=False, **kw)
    return fig, axes if nrows * ncols > 1 else axes[0, 0]


def save_figure(fig, path: str | Path) -> Path:
    """Save a figure as PNG (the one place figures are written) and close it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def plot_mean_ci(ax, x: Sequence[float], per_seed: Sequence[Sequence[float]], label: str, **kw) -> None:
    """Plot the mean over seeds with a shaded 95% interval. `per_seed[i]` holds every seed's value at x[i]."""
    stats = np.array([mean_ci(values) for values in per_seed])
    line, = ax.plot(x, stats[:, 0], marker="o", label=label, **kw)
    ax.fill_between(x, stats[:, 1], stats[:, 2], color=line.get_color(), alpha=0.2)


def plot_loss_curves(curves: dict[str, dict], ylabel: str):
    """One log-scale loss curve per method (``curves[method] = {"step": [...], "loss": [...]}``)."""
    fig, ax = new_figure(size=(5.5, 3.8))
    for method, curve in curves.items():
        ax.semilogy(curve["step"], curve["loss"], label=method)
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel)
    ax.legend()
    return fig
