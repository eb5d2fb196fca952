"""PEARL experiments: sample efficiency vs RL^2, MAML-TRPO and ProMP, sparse exploration, encoder and context-sampling ablations.

Every experiment meta-trains one PEARL run per arm (arms differ only in an ablation switch) on the same
seed and reports test-task learning curves; results are saved per arm as they finish (`--resume`
skips finished arms and continues an interrupted arm from its last checkpoint).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch

from paperlab.core.constraints import POSITIVE, Interval, Options, Unique
from paperlab.core.runs import Run
from paperlab.rl.pearl.config import PEARLConfig
from paperlab.rl.pearl.maml import MAMLSettings, MAMLTrainer, ProMPSettings
from paperlab.rl.pearl.rl2 import RL2Settings, RL2Trainer
from paperlab.rl.pearl.trainer import PEARLTrainer

CHECKPOINT_EVERY = 5  # iterations


def train_pearl_arm(run: Run, arm: str, cfg: PEARLConfig) -> dict:
    """Meta-train one arm, logging every evaluation and checkpointing every few iterations."""
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
    return {arm: run.piece(arm, lambda: train_pearl_arm(run, arm, _arm_config(cfg, overrides)))
            for arm, overrides in arms.items()}


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
# 1. sample efficiency: PEARL vs RL^2, MAML-TRPO and ProMP
# ----------------------------------------------------------------------------------------------------
BASELINES = ("rl2", "maml-trpo", "promp")


@dataclass
class SampleEfficiencyConfig(PEARLConfig):
    """PEARL and the on-policy baselines on the same train/test tasks; baselines trained for their own budget
    of env steps (the paper runs them ~1e8 steps), evaluated `*_eval_points` times along the way."""

    _constraints = {"rl2_env_steps": Interval(1), "rl2_hidden": Interval(1), "rl2_trials_per_batch": Interval(1),
                    "rl2_lr": POSITIVE, "rl2_eval_points": Interval(1),
                    "baselines": [Options(*BASELINES), Unique()],
                    "maml_env_steps": Interval(1), "maml_hidden": Interval(1), "maml_fast_lr": POSITIVE,
                    "maml_fast_batch_size": Interval(1), "maml_meta_batch_size": Interval(1),
                    "maml_max_kl": POSITIVE, "maml_fisher_task_stride": Interval(1, "maml_meta_batch_size"),
                    "maml_eval_points": Interval(1), "promp_env_steps": Interval(1), "promp_hidden": Interval(1),
                    "promp_fast_lr": POSITIVE, "promp_fast_batch_size": Interval(1),
                    "promp_meta_batch_size": Interval(1), "promp_learning_rate": POSITIVE,
                    "promp_eval_points": Interval(1)}
    task: str = "cheetah-vel"
    baselines: tuple[str, ...] = BASELINES  # on-policy meta-RL baselines run: rl2, maml-trpo, promp
    rl2_env_steps: int = 100_000_000  # RL^2: env steps it trains for
    rl2_hidden: int = 64            # RL^2: GRU width
    rl2_trials_per_batch: int = 100  # RL^2: tasks per PPO batch, one trial each
    rl2_lr: float = 3e-4            # RL^2: Adam learning rate
    rl2_eval_points: int = 30       # RL^2: evaluations (and checkpoints) along its budget
    # MAML-TRPO: cbfinn/maml_rl maml_trpo_point.py defaults
    maml_env_steps: int = 100_000_000
    maml_hidden: tuple[int, ...] = (100, 100)
    maml_fast_lr: float = 0.5
    maml_fast_batch_size: int = 20
    maml_meta_batch_size: int = 40
    maml_max_kl: float = 0.01
    maml_fisher_task_stride: int = 1
    maml_eval_points: int = 30
    # ProMP: jonasrothfuss/ProMP pro-mp_run_point_mass.py defaults
    promp_env_steps: int = 100_000_000
    promp_hidden: tuple[int, ...] = (64, 64)
    promp_fast_lr: float = 0.1
    promp_fast_batch_size: int = 20
    promp_meta_batch_size: int = 40
    promp_learning_rate: float = 1e-3
    promp_eval_points: int = 30


def _train_baseline(run: Run, arm: str, trainer, total_steps: int, eval_points: int) -> dict:
    """Train an on-policy baseline, checkpointing at every evaluation (an interrupted arm resumes there)."""
    state = run.load_checkpoint(arm)
    if state is not None:
        trainer.load_state_dict(state)
    bar = run.progress(total=total_steps, desc=arm)

    def on_eval(tr, point: dict) -> None:
        bar.n = min(tr.env_steps, total_steps)
        bar.refresh()
        run.log(arm=arm, **point)
        run.save_checkpoint(tr.state_dict(), arm)

    curve = trainer.train(total_steps, max(total_steps // eval_points, 1), on_eval)
    bar.close()
    return {"curve": curve, "env_steps": trainer.env_steps}


def sample_efficiency(run: Run, cfg: SampleEfficiencyConfig) -> dict:
    unknown = [b for b in cfg.baselines if b not in BASELINES]
    if unknown:
        raise ValueError(f"unknown baselines {unknown}; valid: {', '.join(BASELINES)}")
    out = _run_arms(run, cfg, {"pearl": {}})
    pearl_cfg = out["pearl"]["config"]
    n_train, n_test = pearl_cfg["n_train_tasks"], pearl_cfg["n_test_tasks"]

    def rl2() -> dict:
        settings = RL2Settings(hidden=cfg.rl2_hidden, trials_per_batch=cfg.rl2_trials_per_batch, lr=cfg.rl2_lr,
                               episodes_per_trial=pearl_cfg["eval_trajs"])
        trainer = RL2Trainer(cfg.task, n_train, n_test, settings, seed=run.seed)
        return _train_baseline(run, "rl2", trainer, cfg.rl2_env_steps, cfg.rl2_eval_points)

    def maml_trpo() -> dict:
        settings = MAMLSettings(hidden=tuple(cfg.maml_hidden), fast_lr=cfg.maml_fast_lr,
                                fast_batch_size=cfg.maml_fast_batch_size, meta_batch_size=cfg.maml_meta_batch_size,
                                max_kl=cfg.maml_max_kl, fisher_task_stride=cfg.maml_fisher_task_stride)
        trainer = MAMLTrainer(cfg.task, n_train, n_test, settings, seed=run.seed)
        return _train_baseline(run, "maml-trpo", trainer, cfg.maml_env_steps, cfg.maml_eval_points)

    def promp() -> dict:
        settings = ProMPSettings(hidden=tuple(cfg.promp_hidden), fast_lr=cfg.promp_fast_lr,
                                 fast_batch_size=cfg.promp_fast_batch_size, meta_batch_size=cfg.promp_meta_batch_size,
                                 learning_rate=cfg.promp_learning_rate)
        trainer = MAMLTrainer(cfg.task, n_train, n_test, settings, seed=run.seed)
        return _train_baseline(run, "promp", trainer, cfg.promp_env_steps, cfg.promp_eval_points)

    # trained in this order whatever the order of cfg.baselines (the seed's RNG stream is consumed in it)
    trainers = {"rl2": rl2, "maml-trpo": maml_trpo, "promp": promp}
    trained = {name: run.piece(name, train) for name, train in trainers.items() if name in cfg.baselines}
    for name in cfg.baselines:
        out[name] = trained[name]
    _plot_curves(run, out, "return_vs_env_steps", log_x=True)
    return {"task": cfg.task, **out}


# ----------------------------------------------------------------------------------------------------
# 2-4. ablations
# ----------------------------------------------------------------------------------------------------
@dataclass
class SparseExplorationConfig(PEARLConfig):
    _constraints = {"arms": [Options("probabilistic", "deterministic"), Unique()]}
    task: str = "sparse-point-robot"
    arms: tuple[str, ...] = ("probabilistic", "deterministic")  # PEARL variants compared: probabilistic | deterministic z


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
    arms: tuple[str, ...] = ("mlp", "rnn-transitions", "rnn-trajectories")  # context encoders compared


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
    arms: tuple[str, ...] = ("recent", "whole-buffer")  # where the context batch comes from


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


