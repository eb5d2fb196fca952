"""BEAR's plots: per-run training curves and constraint panels, cross-seed summaries."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from paperlab.core.claims import mean_ci
from paperlab.core.plots import new_figure, plot_mean_ci, save_figure
from paperlab.core.runs import Run
from paperlab.rl.bear.claims import dataset_cells, rule_scores, seed_arms
from paperlab.rl.bear.scoring import RULE
from paperlab.rl.bear.training import METHOD_LABELS

if TYPE_CHECKING:
    from paperlab.rl.bear.experiments import OfflineConfig


def _colour(cfg: OfflineConfig, method: str) -> str:
    """One colour per method in every panel (BC has no Q curve, so plotting order alone would shift them)."""
    return f"C{list(cfg.methods).index(method) % 10}"


def plot_run(run: Run, cfg: OfflineConfig) -> None:
    for env in cfg.envs:
        fig, axes = new_figure(2, len(cfg.datasets), layout="constrained")
        axes = np.asarray(axes).reshape(2, len(cfg.datasets))
        for j, kind in enumerate(cfg.datasets):
            for method in cfg.methods:
                arm = run.partial.get(f"{env}/{kind}/{method}")
                if not arm:
                    continue
                style = {"label": METHOD_LABELS[method], "color": _colour(cfg, method)}
                ev = np.asarray(arm["eval_curve"])
                axes[0, j].plot(ev[:, 0], ev[:, 2], marker="o", **style)
                if arm["q_curve"]:
                    q = np.asarray(arm["q_curve"])
                    axes[1, j].plot(q[:, 0], q[:, 1], **style)
            if run.partial:
                some = next((v for k, v in run.partial.items() if k.startswith(f"{env}/{kind}/")), None)
                if some:
                    axes[1, j].axhline(some["mc_return"], color="k", ls="--", label="MC return of data")
            axes[0, j].set_title(f"{env} {kind}")
            axes[0, j].set_ylabel("normalized score")
            axes[1, j].set_ylabel("mean Q on dataset (s,a)")
            axes[1, j].set_xlabel("gradient updates")
        axes[0, 0].legend(fontsize=7)
        axes[1, 0].legend(fontsize=7)
        run.save_figure(fig, f"curves_{env}")
        _plot_constraint(run, cfg, env)


def _plot_constraint(run: Run, cfg: OfflineConfig, env: str) -> None:
    """Per BEAR arm: the Lagrange multiplier alpha and the sampled constraint value over training, with the
    threshold (MMD 0.05; KL: cross-entropy -2) dashed. Does the constraint bind, or does alpha sit at a clamp?"""
    arms = {(kind, m): run.partial[f"{env}/{kind}/{m}"] for kind in cfg.datasets for m in cfg.methods
            if run.partial.get(f"{env}/{kind}/{m}", {}).get("constraint_curve")}
    if not arms:
        return
    fig, axes = new_figure(2, len(cfg.datasets), layout="constrained")
    axes = np.asarray(axes).reshape(2, len(cfg.datasets))
    for (kind, method), arm in arms.items():
        j = list(cfg.datasets).index(kind)
        c = np.asarray(arm["constraint_curve"])
        style = {"label": METHOD_LABELS[method], "color": _colour(cfg, method)}
        axes[0, j].plot(c[:, 0], c[:, 1], **style)
        axes[1, j].plot(c[:, 0], c[:, 2], **style)
        threshold = -2.0 if method == "bear-kl" else 0.05
        axes[1, j].axhline(threshold, color=style["color"], ls="--", lw=0.8)
    for j, kind in enumerate(cfg.datasets):
        _constraint_axes(axes[0, j], axes[1, j], f"{env} {kind}")
    axes[0, 0].legend(fontsize=7)
    run.save_figure(fig, f"constraint_{env}")


def _constraint_axes(ax_alpha, ax_divergence, title: str) -> None:
    for bound in (-5.0, 10.0):   # the clamp on log alpha
        ax_alpha.axhline(float(np.exp(bound)), color="grey", ls=":", lw=0.8)
    ax_alpha.set_title(title)
    ax_alpha.set_yscale("log")
    ax_alpha.set_ylabel("alpha (Lagrange multiplier)")
    ax_divergence.set_ylabel("sampled MMD (KL arm: -E log pi)")
    ax_divergence.set_xlabel("gradient updates")


def summary_plots(results: dict[str, list[dict]], out_dir: Path) -> list[Path]:
    """Cross-seed bar charts of the judged score (the scoring rule's per-seed score: mean of the last evaluations;
    bar = mean, whiskers = 95% CI, dots = seeds) and Q-estimate curves."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, runs in results.items():
        if not runs or "scores" not in runs[0]:
            continue
        cells = list(dataset_cells(runs))
        methods = list(runs[0]["scores"][cells[0][0]][cells[0][1]])
        fig, ax = new_figure(size=(max(5, 1.6 * len(cells)), 3.5))
        width = 0.8 / len(methods)
        seeds = set()
        for i, m in enumerate(methods):
            per_cell = [rule_scores(seed_arms(runs, env, kind, m)) for env, kind in cells]
            seeds.update(len(v) for v in per_cell)
            stats = np.array([mean_ci(v) if v else (np.nan,) * 3 for v in per_cell])
            x = np.arange(len(cells)) + i * width
            ax.bar(x, stats[:, 0], width, yerr=[stats[:, 0] - stats[:, 1], stats[:, 2] - stats[:, 0]],
                   label=METHOD_LABELS[m], capsize=2)
            for xi, v in zip(x, per_cell):
                ax.plot([xi] * len(v), v, ".", ms=3, color="k", alpha=0.6, zorder=3)
        ax.set_xticks(np.arange(len(cells)) + 0.4 - width / 2)
        ax.set_xticklabels([f"{e.split('-')[0]}\n{k}" for e, k in cells], fontsize=8)
        ax.set_ylabel(f"normalized score\n(mean of last {RULE.k} evaluations)")
        ax.axhline(100, color="k", lw=0.6, ls=":")
        n = "-".join(str(k) for k in sorted({min(seeds), max(seeds)})) if seeds else "0"
        ax.set_title(f"{name} ({n} seeds per arm, 95% CI, dots: seeds)")
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)  # never over the bars
        if any(not e.startswith(("Hopper", "HalfCheetah", "Walker2d", "Ant")) for e, _ in cells):
            fig.text(0.01, -0.04, "normalized score = 100 (R - R_random) / (R_expert - R_random), with this run's own "
                     "behaviour policy as 'expert' on non-D4RL envs (Pendulum):\nabove 100 means better than the "
                     "dataset's expert, not an error.", fontsize=7, ha="left", va="top")
        paths.append(save_figure(fig, out_dir / f"{name}_scores.png"))
    constraint = _constraint_summary(results, out_dir)
    if constraint:
        paths.append(constraint)
    if "q-divergence" in results:
        runs = results["q-divergence"]
        fig, ax = new_figure()
        for env, kind in dataset_cells(runs):
            for method in ("sac", "bear"):
                curves = [np.asarray(r["arms"][f"{env}/{kind}/{method}"]["q_curve"]) for r in runs]
                steps = curves[0][:, 0]
                stats = np.array([mean_ci([c[i, 1] for c in curves]) for i in range(len(steps))])
                line, = ax.plot(steps, stats[:, 0], label=f"{METHOD_LABELS[method]} ({kind})")
                ax.fill_between(steps, stats[:, 1], stats[:, 2], color=line.get_color(), alpha=0.2)
            ax.axhline(runs[0]["arms"][f"{env}/{kind}/sac"]["mc_return"], color="k", ls="--",
                       label="Monte-Carlo return")
        ax.set_xlabel("gradient updates")
        ax.set_ylabel("mean Q(s,a) on dataset pairs")
        ax.set_yscale("symlog")
        ax.legend(fontsize=7)
        paths.append(save_figure(fig, out_dir / "q_divergence.png"))
    return paths


def _constraint_summary(results: dict[str, list[dict]], out_dir: Path) -> Path | None:
    """alpha and the sampled constraint over training for the BEAR arms of offline-benchmark, mean over seeds
    with 95% CI; the MMD threshold 0.05 dashed, the clamp of alpha dotted."""
    runs = results.get("offline-benchmark") or []
    if not runs or "arms" not in runs[0]:
        return None
    cells = list(dataset_cells(runs))
    methods = [m for m in runs[0]["scores"][cells[0][0]][cells[0][1]]
               if runs[0]["arms"][f"{cells[0][0]}/{cells[0][1]}/{m}"].get("constraint_curve")]
    if not methods:
        return None
    fig, axes = new_figure(2, len(cells), layout="constrained")
    axes = np.asarray(axes).reshape(2, len(cells))
    all_methods = list(runs[0]["scores"][cells[0][0]][cells[0][1]])
    for j, (env, kind) in enumerate(cells):
        for m in methods:
            curves = [np.asarray(a["constraint_curve"]) for a in seed_arms(runs, env, kind, m)]
            colour = f"C{all_methods.index(m) % 10}"
            for row in (0, 1):
                plot_mean_ci(axes[row, j], curves[0][:, 0], [[c[i, row + 1] for c in curves]
                                                             for i in range(len(curves[0]))],
                             METHOD_LABELS[m], color=colour, markersize=0)
        axes[1, j].axhline(0.05, color="k", ls="--", lw=0.8, label="MMD threshold 0.05")
        _constraint_axes(axes[0, j], axes[1, j], f"{env} {kind}")
    axes[0, 0].legend(fontsize=7)
    axes[1, 0].legend(fontsize=7)
    return save_figure(fig, out_dir / "constraint.png")
