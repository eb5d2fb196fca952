"""Build D4RL-style datasets locally (no download is possible): train a behaviour SAC, then roll out.

- ``random``: rollouts of a randomly initialised behaviour policy, as D4RL builds its ``random`` datasets: a
  tanh-Gaussian policy with the behaviour SAC's architecture, initialised from ``dataset_seed`` and sampled
  stochastically (its actions depend on the state and are not uniform).
- ``random-uniform``: uniform random actions, a stress case (what ``random`` was before issue 30): the behaviour
  VAE collapses to a ~ 0 on it, and MMD holds BEAR's actor there.
- ``medium``: the learned (after ``start_steps``) behaviour snapshot whose return is closest to ``random + 1/3 (expert - random)``
  ("a policy at roughly a third of the expert return").
- ``medium-replay``: the behaviour run's replay buffer up to the medium snapshot.
- ``expert``: the best behaviour snapshot.

Rollouts use the stochastic tanh-Gaussian behaviour policy (D4RL also samples its behaviour policies).
Files are cached in ``<data_dir>/<key>/<kind>.hdf5`` and re-used; ``data_dir`` defaults to
``$PAPERLAB_DATA/bear`` or ``~/.paperlab/data/bear``.
"""
from __future__ import annotations

import copy
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch

from paperlab.rl.bear.datasets import DATASET_KINDS, D4RL_REFERENCE_RETURNS, OfflineDataset, env_family, \
    load_dataset, save_dataset
from paperlab.rl.common.networks import TanhGaussianPolicy
from paperlab.core.runs import RunLock
from paperlab.rl.common.envs import env_dims, evaluate, make_env
from paperlab.rl.common.replay import ReplayBuffer
from paperlab.rl.common.sac import SAC, SACConfig


@dataclass
class DatasetBuildConfig:
    """Small-scale defaults (the paper used 1M transitions per dataset; ``transitions`` sets the size)."""
    env: str = "Hopper-v5"
    behaviour_steps: int = 100_000     # environment steps of the behaviour SAC (UTD 1)
    start_steps: int = 5_000           # uniform random actions before learning starts
    sac_hidden: Sequence[int] = (256, 256)
    sac_batch_size: int = 256
    sac_lr: float = 3e-4               # SAC paper; actor, critic and temperature
    sac_initial_temperature: float = 1.0
    snapshot_every: int = 5_000        # evaluate and keep a policy snapshot this often
    snapshot_episodes: int = 5
    transitions: int = 100_000         # size of the random / medium / expert datasets
    medium_fraction: float = 1.0 / 3.0
    dataset_seed: int = 0              # fixed: every run and method sees exactly the same data
    data_dir: str | None = None        # None -> $PAPERLAB_DATA/bear or ~/.paperlab/data/bear


def default_data_dir() -> Path:
    root = os.environ.get("PAPERLAB_DATA")
    return (Path(root) if root else Path.home() / ".paperlab" / "data") / "bear"


def dataset_directory(cfg: DatasetBuildConfig) -> Path:
    hidden = "x".join(str(h) for h in cfg.sac_hidden)
    key = (f"{cfg.env}-steps{cfg.behaviour_steps}-start{cfg.start_steps}-h{hidden}-b{cfg.sac_batch_size}-lr{cfg.sac_lr:g}-t{cfg.sac_initial_temperature:g}"
           f"-snap{cfg.snapshot_every}-n{cfg.transitions}-seed{cfg.dataset_seed}")
    return (Path(cfg.data_dir) if cfg.data_dir is not None else default_data_dir()) / key


def rollout(env_id: str, policy: Callable[[np.ndarray], np.ndarray], transitions: int, seed: int
            ) -> dict[str, np.ndarray]:
    """Collect exactly ``transitions`` transitions; episodes reset with consecutive seeds."""
    env = make_env(env_id)
    rows: dict[str, list] = {k: [] for k in ("observations", "actions", "rewards", "next_observations",
                                             "terminals", "timeouts")}
    episode = 0
    obs, _ = env.reset(seed=seed)
    for _ in range(transitions):
        action = np.asarray(policy(obs), dtype=np.float32)
        next_obs, reward, terminated, truncated, _ = env.step(action)
        for key, value in zip(rows, (obs, action, reward, next_obs, terminated, truncated)):
            rows[key].append(value)
        obs = next_obs
        if terminated or truncated:
            episode += 1
            obs, _ = env.reset(seed=seed + episode)
    return {k: np.asarray(v, dtype=np.float32) for k, v in rows.items()}


RANDOM_KINDS = ("random", "random-uniform")   # built without the behaviour SAC's snapshots
# env reset seeds of each kind's rollouts: random-uniform keeps the seed `random` had when it was uniform, so it is
# the same file as before issue 30, and medium/expert keep theirs
ROLLOUT_SEEDS = {"random-uniform": 30_000, "medium": 31_000, "expert": 33_000, "random": 35_000}
RANDOM_POLICY = "random-init policy"          # metadata "actions" of the D4RL-style random dataset


def random_init_policy(env_id: str, hidden: Sequence[int], seed: int) -> TanhGaussianPolicy:
    """The behaviour SAC's actor architecture, freshly initialised from ``seed`` (the global RNG is untouched)."""
    obs_dim, act_dim = env_dims(make_env(env_id))
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return TanhGaussianPolicy(obs_dim, act_dim, tuple(hidden))


def random_actions(cfg: DatasetBuildConfig, kind: str) -> tuple[Callable[[np.ndarray], np.ndarray], str]:
    """The action source of a random kind, seeded by ``dataset_seed`` only, and its metadata label."""
    if kind == "random-uniform":
        rng = np.random.default_rng(cfg.dataset_seed)
        act_dim = env_dims(make_env(cfg.env))[1]
        return (lambda o: rng.uniform(-1, 1, act_dim).astype(np.float32)), "uniform"
    actor = random_init_policy(cfg.env, cfg.sac_hidden, cfg.dataset_seed)
    generator = torch.Generator().manual_seed(cfg.dataset_seed)

    @torch.no_grad()
    def act(obs: np.ndarray) -> np.ndarray:
        mean, log_std = actor(torch.as_tensor(obs, dtype=torch.float32).reshape(1, -1))
        noise = torch.randn(mean.shape, generator=generator)
        return torch.tanh(mean + log_std.exp() * noise)[0].numpy()
    return act, RANDOM_POLICY


def random_rollouts(cfg: DatasetBuildConfig, kind: str) -> tuple[dict[str, np.ndarray], str]:
    """A random kind's transitions (D4RL layout arrays) and its action source label."""
    policy, label = random_actions(cfg, kind)
    return rollout(cfg.env, policy, cfg.transitions, seed=ROLLOUT_SEEDS[kind]), label


def _stochastic_policy(actor: torch.nn.Module) -> Callable[[np.ndarray], np.ndarray]:
    @torch.no_grad()
    def act(obs: np.ndarray) -> np.ndarray:
        return actor.sample(torch.as_tensor(obs, dtype=torch.float32).reshape(1, -1))[0][0].numpy()
    return act


def train_behaviour(cfg: DatasetBuildConfig, log: Callable[..., None], progress=lambda it, **kw: it):
    """Online SAC on ``cfg.env``; returns (snapshots [{step, return, actor_state}], replay arrays with timeouts)."""
    env = make_env(cfg.env, seed=cfg.dataset_seed)
    obs_dim, act_dim = env_dims(env)
    torch.manual_seed(cfg.dataset_seed)
    agent = SAC(obs_dim, act_dim, SACConfig(hidden=tuple(cfg.sac_hidden), batch_size=cfg.sac_batch_size,
                                                actor_lr=cfg.sac_lr, critic_lr=cfg.sac_lr, temperature_lr=cfg.sac_lr,
                                                initial_temperature=cfg.sac_initial_temperature))
    buffer = ReplayBuffer(obs_dim, act_dim, cfg.behaviour_steps, seed=cfg.dataset_seed)
    timeouts = np.zeros(cfg.behaviour_steps, dtype=np.float32)
    eval_env = make_env(cfg.env)
    snapshots = []
    obs, _ = env.reset(seed=cfg.dataset_seed)
    episode = 0
    for step in progress(range(cfg.behaviour_steps), desc=f"behaviour SAC {cfg.env}"):
        action = env.action_space.sample() if step < cfg.start_steps else agent.act(obs)
        next_obs, reward, terminated, truncated, _ = env.step(action)
        buffer.add(obs, action, reward, next_obs, terminated)
        timeouts[step] = float(truncated and not terminated)
        obs = next_obs
        if terminated or truncated:
            episode += 1
            obs, _ = env.reset(seed=cfg.dataset_seed + episode)
        if step >= cfg.start_steps:
            agent.update(buffer.sample(cfg.sac_batch_size))
        if (step + 1) % cfg.snapshot_every == 0:
            stats = evaluate(eval_env, _stochastic_policy(agent.actor), cfg.snapshot_episodes,
                             seed=10_000 + step)
            snapshots.append({"step": step + 1, "return": stats.mean_return,
                              "actor_state": copy.deepcopy(agent.actor.state_dict())})
            log(phase="behaviour", step=step + 1, behaviour_return=stats.mean_return)
    replay = buffer.arrays()
    replay["timeouts"] = timeouts[: len(buffer)]
    return agent, snapshots, replay


def build_datasets(cfg: DatasetBuildConfig, log: Callable[..., None] = lambda **kw: None,
                   progress=lambda it, **kw: it, kinds: Sequence[str] | None = None) -> dict[str, Path]:
    """Build (or re-use from the cache) the datasets; returns {kind: path} for every kind. With ``kinds``, only
    those must exist: a cache holding just them (say random.hdf5 and behaviour.json carried to a GPU machine)
    is used as it is."""
    out = dataset_directory(cfg)
    paths = {kind: out / f"{kind}.hdf5" for kind in DATASET_KINDS}
    needed = DATASET_KINDS if kinds is None else tuple(kinds)
    unknown = [k for k in needed if k not in paths]
    if unknown:
        raise ValueError(f"unknown dataset kind(s) {unknown}; valid: {', '.join(DATASET_KINDS)}")
    if all(paths[k].exists() for k in needed) and not ("random" in needed and _uniform_random(paths["random"])):
        return paths
    with RunLock(out.with_name(out.name + ".lock")):   # a parallel job building the same data: wait for it
        if _uniform_random(paths["random"]):
            # built before issue 30, when `random` meant uniform actions: that file is the stress case now
            if paths["random-uniform"].exists():
                paths["random"].unlink()
            else:
                paths["random"].rename(paths["random-uniform"])
            log(phase="dataset", migrated="random.hdf5 (uniform actions) -> random-uniform.hdf5")
        missing = [kind for kind in needed if not paths[kind].exists()]
        if missing and set(missing) <= set(RANDOM_KINDS) and (out / "behaviour.json").exists():
            common = json.loads((out / "behaviour.json").read_text())
            for kind in missing:
                _save_random(cfg, kind, paths[kind], common, log)
        elif missing:
            _build(cfg, out, paths, log, progress)
    return paths


def _uniform_random(path: Path) -> bool:
    """A `random` file built from uniform actions (before issue 30 it had no "actions" entry)."""
    return path.exists() and load_dataset(path).metadata.get("actions") != RANDOM_POLICY


def _save_random(cfg: DatasetBuildConfig, kind: str, path: Path, common: dict, log) -> None:
    arrays, label = random_rollouts(cfg, kind)
    data = OfflineDataset(**arrays, metadata={**common, "kind": kind, "actions": label, "policy_step": 0})
    # the uniform policy's return was measured on its own; the random-init policy's is that of its rollouts
    data.metadata["policy_return"] = (common["random_return"] if kind == "random-uniform"
                                      else float(data.episode_returns().mean()))
    save_dataset(path, data)
    log(phase="dataset", kind=kind, actions=label, transitions=cfg.transitions)


def _build(cfg: DatasetBuildConfig, out: Path, paths: dict[str, Path], log, progress) -> None:
    if cfg.snapshot_every > cfg.behaviour_steps or cfg.start_steps >= cfg.behaviour_steps:
        raise ValueError("need start_steps < behaviour_steps and snapshot_every <= behaviour_steps")
    agent, snapshots, replay = train_behaviour(cfg, log, progress)
    # seeded by dataset_seed (not the global RNG, which the run seed sets): the same data whichever job builds it
    eval_rng = np.random.default_rng(cfg.dataset_seed + 1)
    random_stats = evaluate(make_env(cfg.env), lambda o: eval_rng.uniform(-1, 1, agent.act_dim).astype(np.float32),
                            cfg.snapshot_episodes, seed=20_000)
    random_return = random_stats.mean_return
    expert = max(snapshots, key=lambda s: s["return"])
    target = random_return + cfg.medium_fraction * (expert["return"] - random_return)
    learned = [s for s in snapshots if cfg.start_steps < s["step"] <= expert["step"]] or [expert]
    medium = min(learned, key=lambda s: abs(s["return"] - target))
    family = env_family(cfg.env)
    reference = D4RL_REFERENCE_RETURNS.get(family, (random_return, expert["return"]))
    common = {"env": cfg.env, "behaviour_steps": cfg.behaviour_steps, "build_config": asdict(cfg),
              "reference_returns": list(reference),
              "reference_source": "D4RL infos.py" if family in D4RL_REFERENCE_RETURNS else
              "this behaviour run (random policy, best snapshot)",
              "random_return": random_return, "expert_return": expert["return"],
              "snapshot_returns": [[s["step"], s["return"]] for s in snapshots]}
    for kind in RANDOM_KINDS:
        if not paths[kind].exists():
            _save_random(cfg, kind, paths[kind], common, log)
    policies = {"medium": (medium, medium["return"], medium["step"]),
                "expert": (expert, expert["return"], expert["step"])}
    for kind, (source, policy_return, step) in policies.items():
        if paths[kind].exists():
            continue
        agent.actor.load_state_dict(source["actor_state"])
        arrays = rollout(cfg.env, _stochastic_policy(agent.actor), cfg.transitions, seed=ROLLOUT_SEEDS[kind])
        save_dataset(paths[kind], OfflineDataset(**arrays, metadata={**common, "kind": kind,
                     "policy_return": policy_return, "policy_step": step}))
        log(phase="dataset", kind=kind, policy_return=policy_return, transitions=cfg.transitions)
    n = medium["step"]
    replay = {k: v[:n] for k, v in replay.items()}
    save_dataset(paths["medium-replay"], OfflineDataset(**replay, metadata={**common, "kind": "medium-replay",
                 "policy_return": medium["return"], "policy_step": n}))
    (out / "behaviour.json").write_text(json.dumps(common, indent=1))

