"""Cole et al. (CVPR 2022) on Fashion-MNIST: the cross-seed summary plots."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from paperlab.core.claims import mean_ci
from paperlab.core.plots import new_figure, plot_mean_ci, save_figure
from paperlab.ssl.claims import metric_of


def _arms_figure(runs: list[dict], ylabel: str, title: str, color: str):
    """Bars of each pretraining arm's accuracy: mean over seeds with 95% interval."""
    names, metric = list(runs[0]["arms"]), metric_of(runs)
    stats = np.array([mean_ci([r["arms"][n][metric] for r in runs]) for n in names])
    fig, ax = new_figure(size=(6, 3.6))
    ax.bar(names, stats[:, 0], yerr=[stats[:, 0] - stats[:, 1], stats[:, 2] - stats[:, 0]], capsize=4, color=color)
    if "references" in runs[0]:
        for ref, ls in (("raw_pixels", ":"), ("random_init", "--")):
            ax.axhline(float(np.mean([r["references"][ref][metric] for r in runs])), color="gray", ls=ls,
                       label=ref.replace("_", " "))
        ax.legend(fontsize="small")
    ax.set(ylabel=ylabel.format(metric=metric), ylim=(0.0, min(1.0, float(stats[:, 2].max()) + 0.05)),
           title=f"{title} ({len(runs)} seeds, 95% CI)")  # bars start at 0: a bar's length is its value
    ax.tick_params(axis="x", rotation=25)
    return fig


def summary_plots(results: dict[str, list[dict]], out_dir: Path) -> list[Path]:
    """One figure per claim: means over seeds with 95% intervals."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []

    def save(fig, name):
        paths.append(save_figure(fig, out_dir / f"{name}.png"))

    if "unlabeled-size" in results:
        runs = results["unlabeled-size"]
        sizes = runs[0]["sizes"]
        fig, ax = new_figure()
        for key, label in (("linear", "SimCLR linear probe"), ("knn", "SimCLR kNN")):
            plot_mean_ci(ax, sizes, [[r[key][i] for r in runs] for i in range(len(sizes))], label)
        for ref, color in (("raw_pixels", "black"), ("random_init", "gray")):
            for key, ls in (("linear", "--"), ("knn", ":")):
                ax.axhline(float(np.mean([r["references"][ref][key] for r in runs])), color=color, ls=ls,
                           label=f"{ref.replace('_', ' ')}, {key}")
        ax.set(xscale="log", xlabel="unlabelled pretraining images (Fashion-MNIST)", ylabel="test accuracy",
               title=f"Pretraining-set size ({len(runs)} seeds, 95% CI)")
        ax.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.01, 0.5))  # beside, not over, the curves
        save(fig, "unlabeled_size")
    if "labeled-size" in results:
        runs = results["labeled-size"]
        sizes = runs[0]["label_sizes"]
        fig, ax = new_figure()
        for key, label in (("ssl_finetune", "SimCLR + fine-tune"), ("supervised", "supervised from scratch"),
                           ("ssl_linear", "SimCLR linear probe"), ("raw_pixels_linear", "raw pixels, linear probe")):
            plot_mean_ci(ax, sizes, [[r[key][i] for r in runs] for i in range(len(sizes))], label)
        ax.set(xscale="log", xlabel="labelled images", ylabel="test accuracy",
               title=f"Labelled-set size ({len(runs)} seeds, 95% CI)")
        ax.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.01, 0.5))  # beside, not over, the curves
        save(fig, "labeled_size")
    if "domain" in results:
        save(_arms_figure(results["domain"], "Fashion-MNIST {metric} accuracy", "Pretraining domain",
                          "tab:blue"), "domain")
    if "granularity" in results:
        runs = results["granularity"]
        levels = runs[0]["levels"]
        fig, ax = new_figure()
        for key, label in (("ssl", f"SimCLR {metric_of(runs)}"), ("supervised", "supervised from scratch")):
            plot_mean_ci(ax, levels, [[r["by_level"][str(lv)][key] for r in runs] for lv in levels], label)
        ax.set(xscale="log", xlabel="classes (nested Fashion-MNIST levels)", ylabel="test accuracy",
               title=f"Label granularity ({len(runs)} seeds, 95% CI)")
        ax.set_xticks(levels, [str(lv) for lv in levels])
        ax.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.01, 0.5))  # beside, not over, the curves
        save(fig, "granularity")
    if "corruption" in results:
        save(_arms_figure(results["corruption"], "clean {metric} accuracy", "Corrupted pretraining images",
                          "tab:orange"), "corruption")
    return paths
