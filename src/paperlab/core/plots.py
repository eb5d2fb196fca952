"""Matplotlib helpers shared by every paper (headless Agg backend)."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from paperlab.core.claims import mean_ci  # noqa: E402


def new_figure(nrows: int = 1, ncols: int = 1, size: tuple[float, float] | None = None, **kw):
    """A figure and its axes; the default size grows with the grid."""
    size = size or (4.2 * ncols, 3.3 * nrows)
    fig, axes = plt.subplots(nrows, ncols, figsize=size, squeeze=False, **kw)
    return fig, axes if nrows * ncols > 1 else axes[0, 0]


SHORT_CURVE = 12  # a curve with this many points or fewer gets markers: two points joined by a line read as a trend


def save_figure(fig, path: str | Path, caption: str | None = None) -> Path:
    """Save a figure as PNG (the one place figures are written) and close it. Short curves get markers, and
    the PNG carries a caption (`caption`, or one read from the figure's titles and axis labels) that the
    report shows under it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for ax in fig.axes:
        for line in ax.get_lines():  # data curves only: axhline/axvline are two-point lines in axes coordinates
            if (line.get_transform() is ax.transData and len(line.get_xdata()) <= SHORT_CURVE
                    and line.get_marker() in (None, "", "None", "none")):
                line.set_marker("o")
                line.set_markersize(4)
    fig.savefig(path, dpi=110, bbox_inches="tight", metadata={"Description": caption or figure_caption(fig)})
    plt.close(fig)
    return path


def figure_caption(fig) -> str:
    """What a figure shows, from its text: the suptitle, else each panel's title or 'y vs x' (repeats dropped)."""
    if fig.get_suptitle():
        return fig.get_suptitle()
    parts = []
    for ax in fig.axes:
        if not ax.get_visible() or not (ax.has_data() or ax.get_title()):
            continue
        y, x = ax.get_ylabel(), ax.get_xlabel()
        part = ax.get_title() or (f"{y} vs {x}" if y and x else y or x)
        if part and part not in parts:
            parts.append(part)
    if len(parts) > 4:  # a grid of panels: name the first ones, count the rest
        return "; ".join(parts[:3]) + f"; … ({len(fig.axes)} panels)"
    return "; ".join(parts)


def read_caption(png: str | Path) -> str | None:
    """The caption `save_figure` wrote into a PNG, or None (a PNG from elsewhere, or an older one)."""
    with Image.open(png) as image:
        return image.info.get("Description") or None


def plot_mean_ci(ax, x: Sequence[float], per_seed: Sequence[Sequence[float]], label: str, **kw) -> None:
    """Plot the mean over seeds with a shaded 95% interval. `per_seed[i]` holds every seed's value at x[i]."""
    stats = np.array([mean_ci(values) for values in per_seed])
    line, = ax.plot(x, stats[:, 0], marker="o", label=label, **kw)
    ax.fill_between(x, stats[:, 1], stats[:, 2], color=line.get_color(), alpha=0.2)


def plot_loss_curves(curves: dict[str, dict], ylabel: str):
    """One log-scale loss curve per method (``curves[method] = {"step": [...], "loss": [...]}``)."""
    fig, ax = new_figure(size=(5.5, 3.8))
    for method, curve in curves.items():
        ax.semilogy(curve["step"], curve["loss"], label=method)  # short curves get markers in save_figure
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel)
    ax.legend()
    return fig
