"""Uniform replay buffer: fixed capacity ring storage in torch tensors, uniform minibatches.

Offline datasets are loaded into the same class with :meth:`ReplayBuffer.from_arrays`, so online SAC and the
offline algorithms read identical :class:`Batch` objects. (Per-task buffers for PEARL live in ``rl.pearl``.)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass
class Batch:
    obs: torch.Tensor          # (B, obs_dim)
    actions: torch.Tensor      # (B, act_dim)
    rewards: torch.Tensor      # (B,)
    next_obs: torch.Tensor     # (B, obs_dim)
    terminals: torch.Tensor    # (B,) 1.0 where the episode ended in a true terminal state (no bootstrap)


class ReplayBuffer:
    def __init__(self, obs_dim: int, act_dim: int, capacity: int, device: str = "cpu", seed: int = 0):
        if capacity <= 0:
            raise ValueError(f"capacity must be positive, got {capacity}")
        self.capacity, self.device = int(capacity), device
        self.obs = torch.zeros(capacity, obs_dim, device=device)
        self.actions = torch.zeros(capacity, act_dim, device=device)
        self.rewards = torch.zeros(capacity, device=device)
        self.next_obs = torch.zeros(capacity, obs_dim, device=device)
        self.terminals = torch.zeros(capacity, device=device)
        self.size = 0
        self._next = 0
        self.generator = torch.Generator(device=device).manual_seed(seed)

    def __len__(self) -> int:
        return self.size

    def add(self, obs, action, reward: float, next_obs, terminal: bool) -> None:
        i = self._next
        self.obs[i] = torch.as_tensor(obs, dtype=torch.float32)
        self.actions[i] = torch.as_tensor(action, dtype=torch.float32)
        self.rewards[i] = float(reward)
        self.next_obs[i] = torch.as_tensor(next_obs, dtype=torch.float32)
        self.terminals[i] = float(terminal)
        self._next = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def add_arrays(self, obs, actions, rewards, next_obs, terminals) -> None:
        n = len(obs)
        for name, arr in (("actions", actions), ("rewards", rewards), ("next_obs", next_obs), ("terminals", terminals)):
            if len(arr) != n:
                raise ValueError(f"{name} has {len(arr)} rows but obs has {n}")
        idx = (self._next + torch.arange(n)) % self.capacity
        as_t = lambda a: torch.as_tensor(np.asarray(a), dtype=torch.float32, device=self.device)
        self.obs[idx], self.actions[idx] = as_t(obs), as_t(actions)
        self.rewards[idx], self.next_obs[idx] = as_t(rewards).reshape(-1), as_t(next_obs)
        self.terminals[idx] = as_t(terminals).reshape(-1)
        self._next = int((self._next + n) % self.capacity)
        self.size = min(self.size + n, self.capacity)

    @classmethod
    def from_arrays(cls, obs, actions, rewards, next_obs, terminals, device: str = "cpu", seed: int = 0
                    ) -> "ReplayBuffer":
        obs, actions = np.asarray(obs), np.asarray(actions)
        buf = cls(obs.shape[1], actions.shape[1], len(obs), device=device, seed=seed)
        buf.add_arrays(obs, actions, rewards, next_obs, terminals)
        return buf

    def sample(self, batch_size: int) -> Batch:
        if self.size == 0:
            raise ValueError("cannot sample from an empty replay buffer")
        idx = torch.randint(0, self.size, (batch_size,), generator=self.generator, device=self.device)
        return Batch(self.obs[idx], self.actions[idx], self.rewards[idx], self.next_obs[idx], self.terminals[idx])

    def arrays(self) -> dict[str, np.ndarray]:
        """The stored transitions in insertion order (oldest first) as numpy arrays."""
        order = torch.arange(self.size) if self.size < self.capacity else (self._next + torch.arange(self.size)) % self.capacity
        pick = lambda t: t[order.to(t.device)].cpu().numpy()
        return {"observations": pick(self.obs), "actions": pick(self.actions), "rewards": pick(self.rewards),
                "next_observations": pick(self.next_obs), "terminals": pick(self.terminals)}
