"""PEARL settings: the authors' per-task configs (oyster `configs/*.json` over `configs/default.py`) and
CPU presets that shrink networks and batches.

`PEARLConfig` fields left at `None` are filled from the task's table: `preset="authors"` uses the oyster
values, `preset="cpu"` the CPU table (documented in docs/pearl.md). Anything set explicitly wins.

The KL bottleneck keeps the authors' effective weight whatever the meta-batch: oyster sums the KL over the
meta-batch's tasks while the Bellman loss is a mean over them, so the weight of one task's KL relative to
its Bellman error is kl_lambda * meta_batch. A preset with a smaller meta-batch would silently weaken the
bottleneck (meta-batch 4 instead of 16: 4x weaker), so the learner applies
`kl_weight = kl_lambda * authors_meta_batch / meta_batch` to the summed KL (equal to kl_lambda at the
authors' meta-batch). Set `kl_weight` explicitly to override.
"""

from __future__ import annotations

from dataclasses import dataclass

from paperlab.core.config import settings_from
from paperlab.core.constraints import POSITIVE, Interval, Options, LAYER_WIDTH, POINTS, LEARNING_RATE
from paperlab.rl.pearl.tasks import FAMILIES

# oyster configs/default.py (algo_params) -- used for every task unless its json overrides
AUTHORS_DEFAULTS: dict = dict(
    n_train_tasks=2, n_test_tasks=2, latent_dim=5, hidden=(300, 300, 300), encoder_hidden=(200, 200, 200),
    meta_batch=16, num_iterations=500, num_initial_steps=2000, num_tasks_sample=5, num_steps_prior=400,
    num_steps_posterior=0, num_extra_rl_steps_posterior=400, num_train_steps_per_itr=2000, batch_size=256,
    embedding_batch_size=64, discount=0.99, tau=0.005, lr=3e-4, reward_scale=5.0, kl_lambda=0.1,
    num_exp_traj_eval=1, eval_trajs=3, use_next_obs_in_context=False, replay_buffer_size=1_000_000,
)

# oyster configs/<task>.json (eval_trajs = num_steps_per_eval / max_path_length)
AUTHORS_TASKS: dict[str, dict] = {
    "cheetah-vel": dict(n_train_tasks=100, n_test_tasks=30, num_extra_rl_steps_posterior=600,
                        embedding_batch_size=100),
    "cheetah-dir": dict(num_steps_prior=1000, num_extra_rl_steps_posterior=1000, meta_batch=4,
                        embedding_batch_size=256),
    "ant-dir": dict(meta_batch=4, num_extra_rl_steps_posterior=600, num_train_steps_per_itr=4000,
                    embedding_batch_size=256),
    "ant-goal": dict(n_train_tasks=150, n_test_tasks=30, meta_batch=10, num_extra_rl_steps_posterior=600,
                     num_train_steps_per_itr=4000, embedding_batch_size=256, kl_lambda=1.0),
    "humanoid-dir": dict(n_train_tasks=100, n_test_tasks=30, num_extra_rl_steps_posterior=600,
                         num_train_steps_per_itr=4000, embedding_batch_size=256),
    "walker-rand-params": dict(n_train_tasks=40, n_test_tasks=10, meta_batch=10, num_extra_rl_steps_posterior=600,
                               num_train_steps_per_itr=4000, embedding_batch_size=100, use_next_obs_in_context=True),
    "hopper-rand-params": dict(n_train_tasks=40, n_test_tasks=10, meta_batch=10, num_extra_rl_steps_posterior=600,
                               num_train_steps_per_itr=4000, embedding_batch_size=100, use_next_obs_in_context=True),
    "point-robot": dict(n_train_tasks=80, n_test_tasks=20, num_initial_steps=200, num_steps_prior=200,
                        num_extra_rl_steps_posterior=200, num_train_steps_per_itr=1000, reward_scale=100.0,
                        eval_trajs=3),
    "sparse-point-robot": dict(n_train_tasks=80, n_test_tasks=20, num_initial_steps=200, num_tasks_sample=10,
                               num_steps_prior=100, num_steps_posterior=900, num_extra_rl_steps_posterior=0,
                               num_train_steps_per_itr=1000, embedding_batch_size=1024, discount=0.90,
                               reward_scale=100.0, kl_lambda=1.0, num_exp_traj_eval=5, eval_trajs=6),
}

# CPU presets: 1 torch thread per process; shapes from the feasibility measurements in the research note
_CPU_SMALL_NETS = dict(hidden=(128, 128), encoder_hidden=(64, 64, 64), meta_batch=8, batch_size=128)
CPU_TASKS: dict[str, dict] = {
    # point robots: 2x64 nets, 4 tasks x 64 per gradient step, 300 steps per iteration, and discount 0.9 /
    # lr 1e-3 so that a few thousand gradient steps show learning (authors: 0.99 / 3e-4, 1000 steps/itr)
    "point-robot": dict(hidden=(64, 64), encoder_hidden=(64, 64), meta_batch=4, batch_size=64,
                        embedding_batch_size=64, n_train_tasks=20, num_tasks_sample=5,
                        num_train_steps_per_itr=300, discount=0.9, lr=1e-3),
    # context batch as the authors' (1024): it sets how sharp the product-of-Gaussians posterior is
    "sparse-point-robot": dict(hidden=(64, 64), encoder_hidden=(64, 64), meta_batch=4, batch_size=64,
                               embedding_batch_size=1024, n_train_tasks=20, num_tasks_sample=5,
                               num_steps_prior=40, num_steps_posterior=160, num_train_steps_per_itr=300,
                               lr=1e-3),
    "cheetah-vel": dict(_CPU_SMALL_NETS, embedding_batch_size=100, n_train_tasks=40, n_test_tasks=10,
                        num_tasks_sample=4, num_initial_steps=400, num_train_steps_per_itr=500),
}


def authors_meta_batch(task: str) -> int:
    """The meta-batch of the authors' config for the task (oyster configs/<task>.json over default.py)."""
    return AUTHORS_TASKS.get(task, {}).get("meta_batch", AUTHORS_DEFAULTS["meta_batch"])


def cpu_overrides(task: str) -> dict:
    """The CPU preset of a task (MuJoCo tasks without an entry use the cheetah-vel shapes)."""
    return CPU_TASKS.get(task, dict(_CPU_SMALL_NETS, num_initial_steps=400, num_train_steps_per_itr=500))


@dataclass
class PEARLConfig:
    """One PEARL meta-training run. `None` = the task's value in the chosen preset table.

    `kl_lambda` is the authors' beta (oyster kl_lambda) at their meta-batch; `kl_weight` (None = derived) is
    the weight on the KL summed over the meta-batch that keeps beta's effective per-task strength:
    kl_lambda * authors_meta_batch / meta_batch (see the module docstring).
    """

    _constraints = {"task": Options(*FAMILIES), "preset": Options("authors", "cpu"), "encoder": Options("mlp", "rnn"),
                    "rnn_context": Options("transitions", "trajectories"),
                    "context_source": Options("recent", "whole-buffer"), "n_train_tasks": Interval(1),
                    "n_test_tasks": Interval(1), "latent_dim": LAYER_WIDTH, "hidden": LAYER_WIDTH,
                    "encoder_hidden": LAYER_WIDTH, "meta_batch": Interval(1), "num_iterations": Interval(1),
                    "num_tasks_sample": Interval(1), "batch_size": Interval(1), "embedding_batch_size": Interval(1),
                    "discount": Interval(0, 1, closed="left"), "tau": Interval(0, 1, closed="right"), "lr": LEARNING_RATE, "num_train_steps_per_itr": Interval(1),
                    "reward_scale": POSITIVE, "kl_lambda": Interval(0), "kl_weight": Interval(0), "num_exp_traj_eval": Interval(0),
                    "eval_trajs": Interval(1), "replay_buffer_size": Interval(1, POINTS.high, why="the buffer is held in memory; the paper's holds 1e6"), "eval_every": Interval(1),
                    "eval_seeds": Interval(1), "context_shape": Options("transitions", "trajectories"),
                    "context_max_trajs": Interval(1), "context_probe": Interval(1)}

    task: str = "point-robot"               # task family (paperlab.rl.pearl.tasks)
    preset: str = "authors"                 # "authors" (oyster configs) | "cpu"
    # ablation switches (paper Sec. 6.3)
    probabilistic: bool = True              # False: deterministic z (no bottleneck, point estimate)
    encoder: str = "mlp"                    # "mlp" (product of Gaussians) | "rnn" (LSTM)
    rnn_context: str = "transitions"        # RNN fed "transitions" (decorrelated) or "trajectories"
    context_source: str = "recent"          # "recent" (encoder buffer) | "whole-buffer" (RL buffer)
    context_shape: str = "transitions"      # MLP encoder's training context: "transitions" (embedding_batch_size
                                            #   random ones) | "trajectories" (1..context_max_trajs whole ones)
    context_max_trajs: int = 3              # most whole trajectories per task in a "trajectories" context batch
    # sizes and schedule (None -> preset table)
    n_train_tasks: int | None = None        # meta-training tasks
    n_test_tasks: int | None = None         # held-out meta-test tasks
    latent_dim: int | None = None           # size of the context variable z
    hidden: tuple[int, ...] | None = None   # hidden sizes of the policy, Q and V networks
    encoder_hidden: tuple[int, ...] | None = None  # hidden sizes of the context encoder
    meta_batch: int | None = None           # tasks per gradient step
    num_iterations: int | None = None       # meta-training iterations
    num_initial_steps: int | None = None    # env steps per train task with z ~ prior before the first iteration
    num_tasks_sample: int | None = None     # train tasks collected on per iteration
    num_steps_prior: int | None = None      # steps per collected task with z ~ prior (encoder and RL buffers)
    num_steps_posterior: int | None = None  # steps with z ~ q(z | c) (encoder and RL buffers)
    num_extra_rl_steps_posterior: int | None = None  # steps with z ~ q(z | c) that go to the RL buffer only
    num_train_steps_per_itr: int | None = None  # gradient steps per iteration
    batch_size: int | None = None           # RL transitions per task in a gradient step
    embedding_batch_size: int | None = None  # context transitions per task fed to the encoder
    discount: float | None = None           # discount factor
    tau: float | None = None                # Polyak rate of the target V network (oyster soft_target_tau)
    lr: float | None = None                 # Adam lr of every network
    reward_scale: float | None = None       # rewards' scale in the Q target (SAC v1's inverse temperature)
    kl_lambda: float | None = None          # KL weight beta at the authors' meta-batch (see kl_weight)
    kl_weight: float | None = None          # weight on the summed KL; None: kl_lambda * authors meta-batch / meta-batch
    num_exp_traj_eval: int | None = None    # oyster's num_exp_traj_eval: prior-z trajectories before the posterior in
                                            #   the authors' evaluation protocol (reported beside the paper's Alg. 2)
    eval_trajs: int | None = None           # trajectories per test task at meta-test
    use_next_obs_in_context: bool | None = None  # context transitions carry s' too
    replay_buffer_size: int | None = None   # per-task capacity of the RL and encoder buffers (capped at what the run collects)
    eval_every: int = 1                     # iterations between evaluations on the test tasks
    eval_seeds: int = 1                     # evaluation passes over the test tasks (own seeds) averaged per curve point
    context_probe: tuple[int, ...] = (1, 2, 5, 10)  # end of training: test return with the posterior from this
                                            #   many prior-z trajectories (trainer.context_probe)
    eval_deterministic: bool = True         # oyster eval_deterministic


ALGO_FIELDS = tuple(AUTHORS_DEFAULTS)


def resolve(cfg) -> PEARLConfig:
    """A PEARLConfig (or any dataclass with its fields) with every `None` filled in; validates choices."""
    if cfg.task not in FAMILIES:
        raise ValueError(f"unknown task {cfg.task!r}; valid: {', '.join(FAMILIES)}")
    if cfg.preset not in ("authors", "cpu"):
        raise ValueError(f"preset must be 'authors' or 'cpu', got {cfg.preset!r}")
    for name, valid in (("encoder", ("mlp", "rnn")), ("rnn_context", ("transitions", "trajectories")),
                        ("context_source", ("recent", "whole-buffer")), ("context_shape", ("transitions", "trajectories"))):
        if getattr(cfg, name) not in valid:
            raise ValueError(f"{name} must be one of {valid}, got {getattr(cfg, name)!r}")
    table = dict(AUTHORS_DEFAULTS, **AUTHORS_TASKS.get(cfg.task, {}))
    if cfg.preset == "cpu":
        table.update(cpu_overrides(cfg.task))
    out = settings_from(cfg, PEARLConfig, **{key: table[key] for key in ALGO_FIELDS if getattr(cfg, key) is None})
    if out.kl_weight is None:
        out.kl_weight = out.kl_lambda * authors_meta_batch(cfg.task) / out.meta_batch
    for key in ("meta_batch", "num_iterations", "batch_size", "embedding_batch_size", "n_train_tasks",
                "n_test_tasks", "latent_dim", "eval_trajs", "num_tasks_sample"):
        if getattr(out, key) < 1:
            raise ValueError(f"{key} must be >= 1, got {getattr(out, key)}")
    if out.num_tasks_sample > out.n_train_tasks:
        raise ValueError(f"num_tasks_sample ({out.num_tasks_sample}) exceeds n_train_tasks ({out.n_train_tasks})")
    return out
