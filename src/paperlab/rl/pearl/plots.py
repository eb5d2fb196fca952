"""PEARL's plots: per-run learning curves and success by trajectory, the cross-seed sample-efficiency and
sparse-exploration plots."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from paperlab.core.plots import new_figure, save_figure
from paperlab.core.runs import Run
from paperlab.rl.pearl.results import smoothed, sparse_success_curves


def plot_curves(run: Run, arms: dict, name: str, key: str = "final_return", log_x: bool = False,
                 ylabel: str = "test return") -> None:
    fig, ax = new_figure(size=(5.5, 3.8))
    for arm, res in arms.items():
        curve = res["curve"]
        ys = [p[key] if key in p else p["success_by_traj"][-1] for p in curve]
        ax.plot([p["env_steps"] for p in curve], ys, label=arm)
    if log_x:
        ax.set_xscale("log")
    ax.set_xlabel("environment steps")
    ax.set_ylabel(ylabel)
    ax.legend()
    fig.tight_layout()
    run.save_figure(fig, name)


def plot_by_traj(run: Run, arms: dict) -> None:
    fig, ax = new_figure(size=(5, 3.6))
    for arm, res in arms.items():
        succ = res["final_success_by_traj"]
        ax.plot(range(len(succ)), succ, marker="o", label=arm)
    ax.set_xlabel("exploration trajectories before this one")
    ax.set_ylabel("success rate (test tasks)")
    ax.set_ylim(-0.02, 1.02)
    ax.legend()
    fig.tight_layout()
    run.save_figure(fig, "success_by_trajectory")


def summary_plots(results: dict[str, list[dict]], out_dir) -> list:
    """The cross-seed plots: sample efficiency (return vs env steps per method) and sparse exploration (success
    after exploration vs env steps per arm, with the gate the sparse judges need)."""
    out_dir = Path(out_dir)
    paths = []
    if results.get("sample-efficiency"):
        paths.append(_sample_efficiency_seeds(results["sample-efficiency"], out_dir))
    if results.get("sparse-exploration"):
        paths.append(_sparse_success_seeds(results["sparse-exploration"], out_dir))
    probed = results.get("sample-efficiency") or []
    if probed and any("context_probe" in arm for arm in probed[0].values() if isinstance(arm, dict)):
        paths.append(_context_probe(probed, out_dir))
    return paths


def _context_probe(runs: list[dict], out_dir):
    """Final weights' test return by how many prior-z trajectories the encoder saw, per PEARL arm (mean over
    seeds, each seed faint), beside the same weights' return under the meta-test protocol (final evaluation)."""
    fig, ax = new_figure(size=(5.5, 3.8))
    arms = [a for a, v in runs[0].items() if isinstance(v, dict) and "context_probe" in v]
    for c, arm in enumerate(arms):
        ks = runs[0][arm]["context_probe"]["n_context_trajs"]
        rows = np.array([r[arm]["context_probe"]["return"] for r in runs])
        for row in rows:
            ax.plot(ks, row, color=f"C{c}", alpha=0.25, linewidth=0.8)
        ax.plot(ks, rows.mean(axis=0), color=f"C{c}", marker="o", linewidth=2, label=arm)
        last = np.mean([r[arm]["curve"][-1]["final_return"] for r in runs])
        ax.axhline(last, color=f"C{c}", linestyle=":", linewidth=1, label=f"{arm}: meta-test protocol (last point)")
    ax.set_xscale("log")
    ax.set_xticks(ks, [str(k) for k in ks])
    ax.set_xlabel("prior-z trajectories in the encoder's context")
    ax.set_ylabel("test return with that posterior")
    ax.set_title(f"{runs[0]['task']}: final weights, context probe")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, out_dir / "context_probe.png")


def _sample_efficiency_seeds(runs: list[dict], out_dir):
    """Test return vs env steps (log x), one line per seed, for PEARL and each on-policy baseline."""
    fig, ax = new_figure(size=(5.5, 3.8))
    names = {"pearl": "PEARL", "pearl-trajectory-context": "PEARL, whole-trajectory context", "rl2": "RL^2 (PPO)",
             "maml-trpo": "MAML-TRPO", "promp": "ProMP"}
    for c, method in enumerate(m for m in names if m in runs[0]):
        for i, r in enumerate(runs):
            steps, vals = smoothed(r[method]["curve"], window=1)
            ax.plot(steps, vals, color=f"C{c}", alpha=0.7, label=names[method] if i == 0 else None)
    ax.set_xscale("log")
    ax.set_xlabel("environment steps")
    ax.set_ylabel("test return after exploration")
    ax.set_title(f"{runs[0]['task']}: one line per seed")
    ax.legend()
    fig.tight_layout()
    return save_figure(fig, out_dir / "sample_efficiency_seeds.png")


def _sparse_success_seeds(runs: list[dict], out_dir):
    """Success after exploration vs env steps: each seed faint, the mean over seeds bold, and (dashed) the
    probabilistic arm's success of the first, prior-z trajectory, which the sparse judges' gate compares it with."""
    fig, ax = new_figure(size=(5.5, 3.8))
    for c, arm in enumerate(("probabilistic", "deterministic")):
        steps, success = sparse_success_curves(runs, arm)
        for row in success:
            ax.plot(steps, row, color=f"C{c}", alpha=0.25, linewidth=0.8)
        ax.plot(steps, success.mean(axis=0), color=f"C{c}", linewidth=2, label=f"{arm} z (mean of {len(runs)} seeds)")
    steps, _ = sparse_success_curves(runs, "probabilistic")
    first = np.array([[p["success_by_traj"][0] for p in r["probabilistic"]["curve"][:len(steps)]] for r in runs])
    ax.plot(steps, first.mean(axis=0), color="C0", linestyle="--", linewidth=1,
            label="probabilistic z, first (prior-z) trajectory")
    authors = [[p["authors"]["success_by_traj"][-1] for p in r["probabilistic"]["curve"][:len(steps)] if "authors" in p]
               for r in runs]
    if all(len(a) == len(steps) for a in authors):  # the authors' protocol: prior-z exploration, then the posterior
        ax.plot(steps, np.mean(authors, axis=0), color="C0", linestyle=":", linewidth=1.5,
                label="probabilistic z, authors' protocol")
    ax.set_xlabel("environment steps")
    ax.set_ylabel("success after exploration")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(f"{runs[0]['task']}: success after exploration")
    ax.legend(loc="upper left")
    fig.tight_layout()
    return save_figure(fig, out_dir / "sparse_success_seeds.png")
