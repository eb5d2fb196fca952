"""gymnasium environments, evaluation loop, episode statistics and environment seeding.

Agents act in ``[-1, 1]^|A|`` (tanh policies); :func:`make_env` rescales to the env's own box when it differs
(MuJoCo v5 locomotion boxes are already ``[-1, 1]``, so datasets store raw env actions for them, as D4RL does).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import gymnasium as gym
import numpy as np

MUJOCO_ENVS = ("Hopper-v5", "HalfCheetah-v5", "Walker2d-v5", "Ant-v5")


def make_env(env_id: str, seed: int | None = None) -> gym.Env:
    """Create ``env_id`` with actions in ``[-1, 1]``; ``seed`` seeds the first reset and the action space."""
    try:
        env = gym.make(env_id)
    except gym.error.Error as exc:
        raise ValueError(f"unknown or unavailable gymnasium env {env_id!r} ({exc}); "
                         f"MuJoCo envs used here: {', '.join(MUJOCO_ENVS)}, or Pendulum-v1") from exc
    if not isinstance(env.action_space, gym.spaces.Box):
        raise ValueError(f"{env_id} has a {type(env.action_space).__name__} action space; continuous Box needed")
    low, high = env.action_space.low, env.action_space.high
    if not (np.allclose(low, -1) and np.allclose(high, 1)):
        ones = np.ones(env.action_space.shape, dtype=np.float32)
        env = gym.wrappers.RescaleAction(env, -ones, ones)
    if seed is not None:
        env.reset(seed=seed)
        env.action_space.seed(seed)
    return env


def env_dims(env: gym.Env) -> tuple[int, int]:
    return int(np.prod(env.observation_space.shape)), int(np.prod(env.action_space.shape))


@dataclass
class EpisodeStats:
    returns: list[float] = field(default_factory=list)
    lengths: list[int] = field(default_factory=list)

    @property
    def mean_return(self) -> float:
        return float(np.mean(self.returns)) if self.returns else float("nan")

    @property
    def std_return(self) -> float:
        return float(np.std(self.returns)) if self.returns else float("nan")

    def as_dict(self) -> dict:
        return {"mean_return": self.mean_return, "std_return": self.std_return,
                "returns": [float(r) for r in self.returns], "lengths": [int(n) for n in self.lengths]}


def evaluate(env: gym.Env, policy: Callable[[np.ndarray], np.ndarray], episodes: int, seed: int) -> EpisodeStats:
    """Run ``episodes`` full episodes of ``policy(obs) -> action``; episode i resets with ``seed + i``."""
    if episodes <= 0:
        raise ValueError(f"episodes must be positive, got {episodes}")
    stats = EpisodeStats()
    for i in range(episodes):
        obs, _ = env.reset(seed=seed + i)
        total, length, done = 0.0, 0, False
        while not done:
            obs, reward, terminated, truncated, _ = env.step(policy(obs))
            total += float(reward)
            length += 1
            done = terminated or truncated
        stats.returns.append(total)
        stats.lengths.append(length)
    return stats


def discounted_returns(rewards: np.ndarray, episode_ends: np.ndarray, gamma: float) -> np.ndarray:
    """Monte-Carlo discounted return-to-go for every transition; ``episode_ends[i]`` marks the last step of an
    episode (terminal or timeout). Used as the "true" value that Q estimates are compared to."""
    out = np.zeros(len(rewards), dtype=np.float64)
    running = 0.0
    for i in range(len(rewards) - 1, -1, -1):
        if episode_ends[i]:
            running = 0.0
        running = float(rewards[i]) + gamma * running
        out[i] = running
    return out
