"""Offline training loop shared by every BEAR experiment: one (env, dataset, method) arm per call.

Each arm trains on batches from the same dataset, evaluates the policy in the real environment every
``eval_every`` updates, and tracks the mean Q estimate on a fixed probe set of dataset pairs ``(s, a)``
against their Monte-Carlo discounted returns (the q-divergence experiment's measurement).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable

import numpy as np
import torch

from paperlab.rl.bear.agents import BCConfig, BCQ, BCQConfig, BEAR, BehaviourCloning, bear_config
from paperlab.rl.bear.datasets import OfflineDataset
from paperlab.rl.common.envs import discounted_returns, env_dims, evaluate, make_env
from paperlab.rl.common.replay import ReplayBuffer
from paperlab.rl.common.sac import SAC, SACConfig

METHODS = ("bear", "bear-laplacian", "bear-gaussian", "bear-kl", "bear-d3rlpy", "bcq", "bc", "sac")
METHOD_LABELS = {"bear": "BEAR (MMD)", "bear-laplacian": "BEAR (MMD, laplacian)", "bear-gaussian":
                 "BEAR (MMD, gaussian)", "bear-kl": "BEAR-KL", "bear-d3rlpy": "BEAR (d3rlpy preset)",
                 "bcq": "BCQ", "bc": "BC", "sac": "naive offline SAC"}


def default_kernel(env_id: str) -> tuple[str, float]:
    """Authors' README: laplacian sigma=10 for Hopper/HalfCheetah, gaussian sigma=20 for Walker2d/Ant."""
    family = env_id.split("-")[0].lower()
    return ("gaussian", 20.0) if family in ("walker2d", "ant") else ("laplacian", 10.0)


@dataclass
class ArmSettings:
    """Scale-dependent overrides applied on top of each agent's paper defaults (0 / () = keep default)."""
    hidden: tuple[int, ...] = ()
    vae_hidden: tuple[int, ...] = ()
    batch_size: int = 0
    warmup_steps: int = -1
    updates: int = 1_000_000
    eval_every: int = 5_000
    eval_episodes: int = 10
    q_probe_every: int = 1_000
    n_probe: int = 512
    bear_preset: str = "authors"
    lagrange_lr: float = 0.0          # > 0 overrides BEAR's dual-ascent lr on log alpha
    gamma: float = 0.99
    tau: float = 0.005


def make_agent(method: str, env_id: str, obs_dim: int, act_dim: int, s: ArmSettings, device: str):
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; valid: {', '.join(METHODS)}")
    net = {"actor_hidden": s.hidden, "critic_hidden": s.hidden} if s.hidden else {}
    if s.vae_hidden:
        net["vae_hidden"] = s.vae_hidden
    batch = {"batch_size": s.batch_size} if s.batch_size else {}
    if method.startswith("bear"):
        kernel, sigma = default_kernel(env_id)
        extra: dict[str, Any] = {"kernel": kernel, "mmd_sigma": sigma}
        if method == "bear-laplacian":
            extra = {"kernel": "laplacian", "mmd_sigma": 10.0}
        elif method == "bear-gaussian":
            extra = {"kernel": "gaussian", "mmd_sigma": 20.0}
        elif method == "bear-kl":
            extra["constraint"] = "kl"
        preset = "d3rlpy" if method == "bear-d3rlpy" else s.bear_preset
        if preset == "d3rlpy":   # d3rlpy's reproduction script: gaussian on HalfCheetah, laplacian elsewhere, sigma 20
            extra = {"kernel": "gaussian" if env_id.lower().startswith("halfcheetah") else "laplacian",
                     **({"constraint": "kl"} if method == "bear-kl" else {})}
        warm = {"warmup_steps": s.warmup_steps} if s.warmup_steps >= 0 else {}
        if s.lagrange_lr > 0:
            warm["lagrange_lr"] = s.lagrange_lr
        return BEAR(obs_dim, act_dim, bear_config(preset, gamma=s.gamma, tau=s.tau, **net, **batch, **extra, **warm), device)
    if method == "bcq":
        return BCQ(obs_dim, act_dim, replace(BCQConfig(gamma=s.gamma, tau=s.tau), **net, **batch), device)
    if method == "bc":
        return BehaviourCloning(obs_dim, act_dim, replace(BCConfig(), **({"hidden": s.hidden} if s.hidden else {}),
                                                          **batch), device)
    sac_cfg = SACConfig(gamma=s.gamma, tau=s.tau, **({"hidden": s.hidden} if s.hidden else {}), **batch)
    return SAC(obs_dim, act_dim, sac_cfg, device)


def q_estimate(agent, obs: torch.Tensor, actions: torch.Tensor) -> float | None:
    """Mean over probe pairs of the ensemble-mean Q estimate (None for agents without a critic)."""
    with torch.no_grad():
        q = agent.critic(obs, actions) if hasattr(agent, "critic") else None
    return None if q is None else float(q.mean())


def policy_fn(agent) -> Callable[[np.ndarray], np.ndarray]:
    if isinstance(agent, SAC):
        return lambda o: agent.act(o, deterministic=True)
    return agent.act


def train_arm(dataset: OfflineDataset, method: str, s: ArmSettings, seed: int, device: str = "cpu",
              log: Callable[..., None] = lambda **kw: None, progress=lambda it, **kw: it) -> dict:
    env_id = dataset.metadata.get("env")
    if not env_id:
        raise ValueError("dataset metadata lacks 'env'; cannot evaluate the learned policy")
    eval_env = make_env(env_id)
    obs_dim, act_dim = env_dims(eval_env)
    if dataset.observations.shape[1] != obs_dim or dataset.actions.shape[1] != act_dim:
        raise ValueError(f"dataset dims ({dataset.observations.shape[1]}, {dataset.actions.shape[1]}) do not match "
                         f"{env_id} ({obs_dim}, {act_dim})")
    torch.manual_seed(seed)
    agent = make_agent(method, env_id, obs_dim, act_dim, s, device)
    buffer = ReplayBuffer.from_arrays(dataset.observations, dataset.actions, dataset.rewards,
                                      dataset.next_observations, dataset.terminals, device=device, seed=seed)
    mc = discounted_returns(dataset.rewards, dataset.episode_ends, s.gamma)
    probe = np.random.default_rng(seed).choice(len(dataset), size=min(s.n_probe, len(dataset)), replace=False)
    probe_obs = torch.as_tensor(dataset.observations[probe], device=device)
    probe_act = torch.as_tensor(dataset.actions[probe], device=device)
    mc_mean = float(mc[probe].mean())
    batch_size = agent.cfg.batch_size
    q_curve, eval_curve = [], []
    for step in progress(range(1, s.updates + 1), desc=method):
        metrics = agent.update(buffer.sample(batch_size))
        if step % s.q_probe_every == 0 or step == s.updates:
            q = q_estimate(agent, probe_obs, probe_act)
            if q is not None:
                q_curve.append([step, q, mc_mean])
                log(method=method, step=step, q_estimate=q, mc_return=mc_mean, **metrics)
        if step % s.eval_every == 0 or step == s.updates:
            stats = evaluate(eval_env, policy_fn(agent), s.eval_episodes, seed=100_000 + seed * 1000)
            score = dataset.normalized_score(stats.mean_return)
            eval_curve.append([step, stats.mean_return, score])
            log(method=method, step=step, eval_return=stats.mean_return, normalized_score=score)
    final = eval_curve[-1]
    return {"method": method, "final_return": float(final[1]), "normalized_score": float(final[2]),
            "eval_curve": eval_curve, "q_curve": q_curve, "mc_return": mc_mean,
            "dataset_return": float(dataset.episode_returns().mean()),
            "dataset_score": float(dataset.normalized_score(dataset.episode_returns().mean()))}
