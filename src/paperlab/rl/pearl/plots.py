"""PEARL's plots: per-run learning curves and success by trajectory, the cross-seed sample-efficiency plot."""

from __future__ import annotations

from paperlab.core.runs import Run


def plot_curves(run: Run, arms: dict, name: str, key: str = "final_return", log_x: bool = False,
                 ylabel: str = "test return") -> None:
    from paperlab.core.plots import new_figure

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
    from paperlab.core.plots import new_figure

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
    """Test return vs env steps (log x), one line per seed, for PEARL and each on-policy baseline."""
    from pathlib import Path

    from paperlab.core.plots import new_figure, save_figure

    from paperlab.rl.pearl.claims import _smoothed
    from paperlab.rl.pearl.experiments import BASELINES

    paths = []
    runs = results.get("sample-efficiency")
    if runs:
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        fig, ax = new_figure(size=(5.5, 3.8))
        names = {"pearl": "PEARL", "rl2": "RL^2 (PPO)", "maml-trpo": "MAML-TRPO", "promp": "ProMP"}
        for c, method in enumerate(m for m in ("pearl", *BASELINES) if m in runs[0]):
            for i, r in enumerate(runs):
                steps, vals = _smoothed(r[method]["curve"], window=1)
                ax.plot(steps, vals, color=f"C{c}", alpha=0.7, label=names[method] if i == 0 else None)
        ax.set_xscale("log")
        ax.set_xlabel("environment steps")
        ax.set_ylabel("test return after exploration")
        ax.set_title(f"{runs[0]['task']}: one line per seed")
        ax.legend()
        fig.tight_layout()
        paths.append(save_figure(fig, out_dir / "sample_efficiency_seeds.png"))
    return paths
