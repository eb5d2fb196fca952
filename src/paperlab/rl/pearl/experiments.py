"""PEARL experiments: sample efficiency vs RL^2, sparse exploration, encoder and context-sampling ablations.

Every experiment meta-trains one PEARL run per arm (arms differ only in an ablation switch) on the same
seed and reports test-task learning curves; results are saved per arm as they finish (`--resume`
skips finished arms and continues an interrupted arm from its last checkpoint).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import torch

from paperlab.core.constraints import POSITIVE, Interval, Options, Unique
from paperlab.core.runs import Run
from paperlab.rl.pearl.config import PEARLConfig
from paperlab.rl.pearl.rl2 import RL2Settings, RL2Trainer
from paperlab.rl.pearl.trainer import PEARLTrainer

CHECKPOINT_EVERY = 5  # iterations


def train_pearl_arm(run: Run, arm: str, cfg: PEARLConfig) -> dict:
    """Meta-train one arm, logging every evaluation and checkpointing every few iterations."""
    torch.set_num_threads(1)
    torch.manual_seed(run.seed)  # every arm starts from the seed's weights (also when earlier arms were skipped)
    trainer = PEARLTrainer(cfg, seed=run.seed, device=run.device)
    state = run.load_checkpoint(f"pearl-{arm}")
    if state is not None:
        trainer.load_state_dict(state)
    bar = run.progress(total=trainer.cfg.num_iterations, desc=arm, initial=trainer.iteration)

    def on_iteration(tr: PEARLTrainer, point: dict | None) -> None:
        bar.update(1)
        if point is not None:
            run.log(arm=arm, **point, **{f"loss_{k}": v for k, v in tr.last_losses.items()})
        if tr.iteration % CHECKPOINT_EVERY == 0 and tr.iteration < tr.cfg.num_iterations:
            run.save_checkpoint(tr.state_dict(), f"pearl-{arm}")

    curve = trainer.train(on_iteration)
    bar.close()
    final = trainer.evaluate(n_trajs=trainer.cfg.eval_trajs, seed=999)
    return {"curve": curve, "env_steps": trainer.env_steps, "grad_steps": trainer.grad_steps,
            "final_return_by_traj": [float(x) for x in final["returns"].mean(axis=0)],
            "final_success_by_traj": [float(x) for x in final["success"].mean(axis=0)],
            "config": dataclasses.asdict(trainer.cfg)}


def _arm_config(cfg, overrides: dict) -> PEARLConfig:
    base = {f.name: getattr(cfg, f.name) for f in dataclasses.fields(PEARLConfig)}
    return PEARLConfig(**{**base, **overrides})


def _run_arms(run: Run, cfg, arms: dict[str, dict]) -> dict:
    for arm, overrides in arms.items():
        if arm in run.partial:
            continue
        run.save_partial(arm, train_pearl_arm(run, arm, _arm_config(cfg, overrides)))
    return {arm: run.partial[arm] for arm in arms}


def _plot_curves(run: Run, arms: dict, name: str, key: str = "final_return", log_x: bool = False,
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


# ----------------------------------------------------------------------------------------------------
# 1. sample efficiency: PEARL vs RL^2
# ----------------------------------------------------------------------------------------------------
@dataclass
class SampleEfficiencyConfig(PEARLConfig):
    _constraints = {"rl2_env_steps": Interval(1), "rl2_hidden": Interval(1), "rl2_trials_per_batch": Interval(1),
                    "rl2_lr": POSITIVE, "rl2_eval_points": Interval(1)}
    task: str = "cheetah-vel"
    rl2_env_steps: int = 100_000_000        # the paper's on-policy baselines run ~1e8 steps
    rl2_hidden: int = 64
    rl2_trials_per_batch: int = 100
    rl2_lr: float = 3e-4
    rl2_eval_points: int = 30


def sample_efficiency(run: Run, cfg: SampleEfficiencyConfig) -> dict:
    out = _run_arms(run, cfg, {"pearl": {}})
    if "rl2" not in run.partial:
        torch.set_num_threads(1)
        pearl_cfg = out["pearl"]["config"]
        settings = RL2Settings(hidden=cfg.rl2_hidden, trials_per_batch=cfg.rl2_trials_per_batch, lr=cfg.rl2_lr,
                               episodes_per_trial=pearl_cfg["eval_trajs"])
        rl2 = RL2Trainer(cfg.task, pearl_cfg["n_train_tasks"], pearl_cfg["n_test_tasks"], settings, seed=run.seed)
        bar = run.progress(total=cfg.rl2_env_steps, desc="rl2")

        def on_eval(tr: RL2Trainer, point: dict) -> None:
            bar.n = min(tr.env_steps, cfg.rl2_env_steps)
            bar.refresh()
            run.log(arm="rl2", **point)

        curve = rl2.train(cfg.rl2_env_steps, max(cfg.rl2_env_steps // cfg.rl2_eval_points, 1), on_eval)
        bar.close()
        run.save_partial("rl2", {"curve": curve, "env_steps": rl2.env_steps})
    out["rl2"] = run.partial["rl2"]
    _plot_curves(run, out, "return_vs_env_steps", log_x=True)
    return {"task": cfg.task, "pearl": out["pearl"], "rl2": out["rl2"]}


# ----------------------------------------------------------------------------------------------------
# 2-4. ablations
# ----------------------------------------------------------------------------------------------------
@dataclass
class SparseExplorationConfig(PEARLConfig):
    _constraints = {"arms": [Options("probabilistic", "deterministic"), Unique()]}
    task: str = "sparse-point-robot"
    arms: tuple[str, ...] = ("probabilistic", "deterministic")


def sparse_exploration(run: Run, cfg: SparseExplorationConfig) -> dict:
    known = {"probabilistic": {"probabilistic": True}, "deterministic": {"probabilistic": False}}
    arms = _run_arms(run, cfg, _select(known, cfg.arms))
    _plot_curves(run, arms, "success_vs_env_steps", key="success_last", ylabel="success after exploration")
    _plot_by_traj(run, arms)
    return {"task": cfg.task, **arms}


@dataclass
class EncoderAblationConfig(PEARLConfig):
    _constraints = {"arms": [Options("mlp", "rnn-transitions", "rnn-trajectories"), Unique()]}
    task: str = "cheetah-vel"
    arms: tuple[str, ...] = ("mlp", "rnn-transitions", "rnn-trajectories")


def encoder_ablation(run: Run, cfg: EncoderAblationConfig) -> dict:
    known = {"mlp": {"encoder": "mlp"},
             "rnn-transitions": {"encoder": "rnn", "rnn_context": "transitions"},
             "rnn-trajectories": {"encoder": "rnn", "rnn_context": "trajectories"}}
    arms = _run_arms(run, cfg, _select(known, cfg.arms))
    _plot_curves(run, arms, "return_vs_env_steps")
    return {"task": cfg.task, **arms}


@dataclass
class ContextSamplingConfig(PEARLConfig):
    _constraints = {"arms": [Options("recent", "whole-buffer"), Unique()]}
    task: str = "cheetah-vel"
    arms: tuple[str, ...] = ("recent", "whole-buffer")


def context_sampling(run: Run, cfg: ContextSamplingConfig) -> dict:
    known = {"recent": {"context_source": "recent"}, "whole-buffer": {"context_source": "whole-buffer"}}
    arms = _run_arms(run, cfg, _select(known, cfg.arms))
    _plot_curves(run, arms, "return_vs_env_steps")
    return {"task": cfg.task, **arms}


def _select(known: dict[str, dict], arms: tuple[str, ...]) -> dict[str, dict]:
    unknown = [a for a in arms if a not in known]
    if unknown or not arms:
        raise ValueError(f"unknown arms {unknown}; valid: {', '.join(known)}")
    return {a: known[a] for a in arms}


def _plot_by_traj(run: Run, arms: dict) -> None:
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


def curve_values(curve: list[dict], key: str) -> np.ndarray:
    if key == "success_last":
        return np.array([p["success_by_traj"][-1] for p in curve])
    return np.array([p[key] for p in curve])
