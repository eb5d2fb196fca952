"""Offline training loop shared by every BEAR experiment: one (env, dataset, method) arm per call.

Each arm trains on batches from the same dataset, evaluates the policy in the real environment every
``eval_every`` updates, and tracks the mean Q estimate on a fixed probe set of dataset pairs ``(s, a)``
against their Monte-Carlo discounted returns (the q-divergence experiment's measurement).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from paperlab.core.precision import autocast
from paperlab.core.runs import write_atomic
from paperlab.rl.bear.agents import BEAR_PRESETS, BCConfig, BCQ, BCQConfig, BEARConfig, BehaviourCloning, \
    bear_config, make_bear
from paperlab.rl.bear.datasets import OfflineDataset
from paperlab.rl.bear.kl_control import KLControl, KLControlConfig
from paperlab.rl.common.envs import discounted_returns, env_dims, evaluate, make_env
from paperlab.rl.common.replay import ReplayBuffer
from paperlab.rl.common.sac import SAC, SACConfig

AUTHORS_WARMUP = BEARConfig.warmup_steps
METHODS = ("bear", "bear-laplacian", "bear-gaussian", "bear-kl", "bear-d3rlpy", "bear-d4rl", "bcq", "bc", "sac",
           "kl-control")
METHOD_LABELS = {"bear": "BEAR (MMD)", "bear-laplacian": "BEAR (MMD, laplacian)", "bear-gaussian":
                 "BEAR (MMD, gaussian)", "bear-kl": "BEAR-KL", "bear-d3rlpy": "BEAR (d3rlpy preset)",
                 "bear-d4rl": "BEAR (D4RL-evaluation preset)", "bcq": "BCQ", "bc": "BC", "sac": "naive offline SAC",
                 "kl-control": "KL-control"}


def default_kernel(env_id: str) -> tuple[str, float]:
    """Authors' README: laplacian sigma=10 for Hopper/HalfCheetah, gaussian sigma=20 for Walker2d/Ant."""
    family = env_id.split("-")[0].lower()
    return ("gaussian", 20.0) if family in ("walker2d", "ant") else ("laplacian", 10.0)


@dataclass
class ArmSettings:
    """Scale-dependent overrides applied on top of each agent's paper defaults (None = keep the default)."""
    hidden: tuple[int, ...] | None = None
    vae_hidden: tuple[int, ...] | None = None
    batch_size: int | None = None
    warmup_steps: int | None = None   # the authors' 20k warm start scaled to this; other presets keep their ratio
    updates: int = 1_000_000
    eval_every: int = 5_000
    eval_episodes: int = 10
    q_probe_every: int = 1_000
    n_probe: int = 512
    bear_preset: str = "authors"
    lagrange_lr: float | None = None  # overrides BEAR's dual-ascent lr on log alpha
    gamma: float = 0.99
    tau: float = 0.005


def make_agent(method: str, env_id: str, obs_dim: int, act_dim: int, s: ArmSettings, device: str):
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; valid: {', '.join(METHODS)}")
    net = {"actor_hidden": s.hidden, "critic_hidden": s.hidden} if s.hidden is not None else {}
    if s.vae_hidden is not None:
        net["vae_hidden"] = s.vae_hidden
    batch = {"batch_size": s.batch_size} if s.batch_size is not None else {}
    if method.startswith("bear"):
        kernel, sigma = default_kernel(env_id)
        extra: dict[str, Any] = {"kernel": kernel, "mmd_sigma": sigma}
        if method == "bear-laplacian":
            extra = {"kernel": "laplacian", "mmd_sigma": 10.0}
        elif method == "bear-gaussian":
            extra = {"kernel": "gaussian", "mmd_sigma": 20.0}
        elif method == "bear-kl":
            extra["constraint"] = "kl"
        preset = {"bear-d3rlpy": "d3rlpy", "bear-d4rl": "d4rl"}.get(method, s.bear_preset)
        if preset in ("d3rlpy", "d4rl"):   # both scripts: gaussian on HalfCheetah, laplacian elsewhere, sigma 20
            extra = {"kernel": "gaussian" if env_id.lower().startswith("halfcheetah") else "laplacian",
                     **({"constraint": "kl"} if method == "bear-kl" else {})}
        # s.warmup_steps scales the authors' 20k warm start; a preset with a longer one keeps its ratio (40k -> 2x)
        ratio = BEAR_PRESETS[preset].get("warmup_steps", AUTHORS_WARMUP) / AUTHORS_WARMUP
        warm = {"warmup_steps": round(s.warmup_steps * ratio)} if s.warmup_steps is not None else {}
        if s.lagrange_lr is not None:
            warm["lagrange_lr"] = s.lagrange_lr
        return make_bear(obs_dim, act_dim, bear_config(preset, gamma=s.gamma, tau=s.tau, **net, **batch, **extra, **warm), device)
    if method == "kl-control":   # its own gamma 0.98 (the authors'), as its own batch and networks unless overridden
        net = {"actor_hidden": s.hidden, "critic_hidden": s.hidden, "behaviour_hidden": s.hidden} if s.hidden else {}
        return KLControl(obs_dim, act_dim, KLControlConfig(tau=s.tau, **net, **batch), device)
    if method == "bcq":
        return BCQ(obs_dim, act_dim, replace(BCQConfig(gamma=s.gamma, tau=s.tau), **net, **batch), device)
    if method == "bc":
        return BehaviourCloning(obs_dim, act_dim, replace(BCConfig(), **({"hidden": s.hidden} if s.hidden is not None else {}),
                                                          **batch), device)
    sac_cfg = SACConfig(gamma=s.gamma, tau=s.tau, **({"hidden": s.hidden} if s.hidden is not None else {}), **batch)
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


def agent_state(agent) -> dict:
    """Everything an update reads besides the batch: weights, every optimiser, BEAR's step counter."""
    optims = {name: opt.state_dict() for name, opt in vars(agent).items() if isinstance(opt, torch.optim.Optimizer)}
    return {"module": agent.state_dict(), "optimizers": optims, "steps": int(getattr(agent, "steps", 0))}


def load_agent_state(agent, state: dict) -> None:
    agent.load_state_dict(state["module"])
    for name, opt_state in state["optimizers"].items():
        getattr(agent, name).load_state_dict(opt_state)
    if hasattr(agent, "steps"):
        agent.steps = state["steps"]


def _rng_states(buffer: ReplayBuffer, device: str) -> dict:
    states = {"torch": torch.get_rng_state(), "buffer": buffer.generator.get_state()}
    if device.startswith("cuda"):
        states["cuda"] = torch.cuda.get_rng_state(device)
    return states


def _set_rng_states(buffer: ReplayBuffer, states: dict, device: str) -> None:
    torch.set_rng_state(states["torch"])
    buffer.generator.set_state(states["buffer"])
    if "cuda" in states:
        torch.cuda.set_rng_state(states["cuda"], device)


def train_arm(dataset: OfflineDataset, method: str, s: ArmSettings, seed: int, device: str = "cpu",
              log: Callable[..., None] = lambda **kw: None, progress=lambda it, **kw: it,
              checkpoint: Path | None = None, checkpoint_every: int = 0, weights: Path | None = None) -> dict:
    """Train one arm. With ``checkpoint`` (a path), the state is saved every ``checkpoint_every`` updates and an
    existing checkpoint is resumed from exactly (weights, optimisers, curves, torch and batch-sampler RNGs);
    that resume point is removed when the arm finishes. With ``weights`` (a path), the trained agent's final
    weights (its state_dict) are kept there."""
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
    gamma = getattr(agent.cfg, "gamma", s.gamma)   # KL-control keeps its own 0.98: its Q estimates that return
    mc = discounted_returns(dataset.rewards, dataset.episode_ends, gamma)
    probe = np.random.default_rng(seed).choice(len(dataset), size=min(s.n_probe, len(dataset)), replace=False)
    probe_obs = torch.as_tensor(dataset.observations[probe], device=device)
    probe_act = torch.as_tensor(dataset.actions[probe], device=device)
    mc_mean = float(mc[probe].mean())
    batch_size = agent.cfg.batch_size
    # curves: [step, mean Q on probe pairs, MC return], [step, return, score], [step, mean alpha, mean divergence]
    # (the last two averaged over the updates since the previous probe: BEAR's Lagrange multiplier and constraint)
    curves: dict[str, list] = {"q_curve": [], "eval_curve": [], "constraint_curve": []}
    window: list[list[float]] = []
    done = 0
    if checkpoint is not None and Path(checkpoint).exists():
        state = torch.load(checkpoint, map_location=device, weights_only=True)
        load_agent_state(agent, state["agent"])
        curves, window, done = state["curves"], state["window"], state["step"]
        _set_rng_states(buffer, state["rng"], device)
        log(method=method, step=done, resumed_from_checkpoint=str(checkpoint))
    for step in progress(range(done + 1, s.updates + 1), desc=method):
        with autocast(device):   # --precision bf16-mixed: the update's matmuls in bf16 (parameters, Adam state fp32)
            metrics = agent.update(buffer.sample(batch_size))
        if "alpha" in metrics and "divergence" in metrics:
            window.append([metrics["alpha"], metrics["divergence"]])
        if step % s.q_probe_every == 0 or step == s.updates:
            if window:
                alpha, divergence = np.mean(window, axis=0).tolist()
                curves["constraint_curve"].append([step, alpha, divergence])
                metrics = {**metrics, "alpha_mean": alpha, "divergence_mean": divergence}
                window = []
            q = q_estimate(agent, probe_obs, probe_act)
            if q is not None:
                curves["q_curve"].append([step, q, mc_mean])
                log(method=method, step=step, q_estimate=q, mc_return=mc_mean, **metrics)
        if step % s.eval_every == 0 or step == s.updates:
            stats = evaluate(eval_env, policy_fn(agent), s.eval_episodes, seed=100_000 + seed * 1000)
            score = dataset.normalized_score(stats.mean_return)
            curves["eval_curve"].append([step, stats.mean_return, score])
            log(method=method, step=step, eval_return=stats.mean_return, normalized_score=score)
        if checkpoint is not None and checkpoint_every > 0 and step % checkpoint_every == 0 and step < s.updates:
            Path(checkpoint).parent.mkdir(parents=True, exist_ok=True)
            state = {"step": step, "agent": agent_state(agent), "curves": curves, "window": window,
                     "rng": _rng_states(buffer, device)}
            write_atomic(checkpoint, lambda fh: torch.save(state, fh))   # a kill while saving keeps the previous one
    final = curves["eval_curve"][-1]
    result = {"method": method, "final_return": float(final[1]), "normalized_score": float(final[2]),
              **curves, "mc_return": mc_mean, "updates": s.updates, "eval_episodes": s.eval_episodes,
              "gamma": gamma, "tau": s.tau,
              "dataset_return": float(dataset.episode_returns().mean()), "dataset_actions": dataset.metadata.get("actions"),
              "dataset_score": float(dataset.normalized_score(dataset.episode_returns().mean()))}
    if weights is not None:
        Path(weights).parent.mkdir(parents=True, exist_ok=True)
        write_atomic(weights, lambda fh: torch.save(agent.state_dict(), fh))
    if checkpoint is not None:   # the resume point (optimisers, RNGs) is done with; the weights are kept above
        Path(checkpoint).unlink(missing_ok=True)
    return result
