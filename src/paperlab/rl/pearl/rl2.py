"""RL^2 (Duan et al. 2016) trained with PPO: the on-policy meta-RL baseline of PEARL's Fig. 3.

A GRU policy reads (s_t, a_{t-1}, r_{t-1}, episode-start flag) and keeps its hidden state across the
`episodes_per_trial` episodes of a trial on one task, so it can learn to explore and then exploit.
A trial is one meta-episode: GAE runs over the whole trial and PPO (clipped surrogate) updates whole
trial sequences. Every trial of a batch runs on a different task in lockstep (vectorised rollouts).

Policy and value are separate GRU networks (as in ProMP's RL^2 baseline and CleanRL's `ppo_continuous`,
which share nothing between actor and critic), the value network regresses returns normalised by a running
mean/std (so its loss is O(1) whatever the reward scale) and each network's gradient is clipped on its own:
with one shared GRU, raw returns and one global clip the value term's gradient (norm ~30 at initialisation
on point-robot) left ~0.2% of every step to the policy, and RL^2 did not learn.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from torch import nn

from paperlab.rl.pearl.tasks import get_family


@dataclass
class RL2Settings:
    hidden: int = 64                  # GRU width (ProMP's RL^2 baseline uses a 64-unit GRU)
    episodes_per_trial: int = 2
    trials_per_batch: int = 32        # tasks per PPO batch, one trial each
    lr: float = 3e-4
    ppo_epochs: int = 4
    minibatches: int = 4
    clip: float = 0.2
    discount: float = 0.99
    gae_lambda: float = 0.95
    value_coef: float = 0.5
    entropy_coef: float = 0.0
    max_grad_norm: float = 0.5        # per network (policy and value clipped separately)
    init_log_std: float = -0.5


class RunningMeanStd:
    """Running mean / variance of value targets (parallel-variance merge of batch statistics)."""

    def __init__(self) -> None:
        self.mean, self.var, self.count = 0.0, 1.0, 1e-4

    def update(self, x: np.ndarray) -> None:
        b_mean, b_var, b_count = float(x.mean()), float(x.var()), x.size
        delta, total = b_mean - self.mean, self.count + b_count
        self.mean += delta * b_count / total
        self.var = (self.var * self.count + b_var * b_count + delta ** 2 * self.count * b_count / total) / total
        self.count = total

    @property
    def std(self) -> float:
        return math.sqrt(self.var) + 1e-8


class RecurrentActorCritic(nn.Module):
    """Two GRUs: a Gaussian policy and a value function (in units of normalised return); no shared weights."""

    def __init__(self, obs_dim: int, act_dim: int, hidden: int, init_log_std: float):
        super().__init__()
        self.in_dim = obs_dim + act_dim + 2
        self.policy_gru = nn.GRU(self.in_dim, hidden, batch_first=True)
        self.mean = nn.Linear(hidden, act_dim)
        self.log_std = nn.Parameter(torch.full((act_dim,), init_log_std))
        self.value_gru = nn.GRU(self.in_dim, hidden, batch_first=True)
        self.value = nn.Linear(hidden, 1)

    def policy_parameters(self) -> list[nn.Parameter]:
        return [*self.policy_gru.parameters(), *self.mean.parameters(), self.log_std]

    def value_parameters(self) -> list[nn.Parameter]:
        return [*self.value_gru.parameters(), *self.value.parameters()]

    def forward(self, x: torch.Tensor, h: tuple | None = None):
        hp, hv = h if h is not None else (None, None)
        out_p, hp = self.policy_gru(x, hp)
        out_v, hv = self.value_gru(x, hv)
        return self.mean(out_p), self.value(out_v).squeeze(-1), (hp, hv)

    def dist(self, mean: torch.Tensor) -> torch.distributions.Normal:
        return torch.distributions.Normal(mean, self.log_std.exp().expand_as(mean))


class RL2Trainer:
    def __init__(self, task: str, n_train_tasks: int, n_test_tasks: int, settings: RL2Settings, seed: int = 0):
        self.family = get_family(task)
        self.s = settings
        self.train_tasks, self.test_tasks = self.family.split(n_train_tasks, n_test_tasks)
        probe = self.family.make(self.train_tasks[:1])
        self.obs_dim, self.act_dim = probe.obs_dim, probe.act_dim
        self.net = RecurrentActorCritic(self.obs_dim, self.act_dim, settings.hidden, settings.init_log_std)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=settings.lr)
        self.ret_rms = RunningMeanStd()
        self.rng = np.random.default_rng(seed)
        self.env_steps = 0
        self.batches = 0
        self.curve: list[dict] = []

    @torch.no_grad()
    def run_trials(self, tasks: list[dict], deterministic: bool, seed: int) -> dict[str, np.ndarray]:
        """One trial per task; arrays are (n_tasks, E*H, ...), episode returns (n_tasks, E)."""
        H, E = self.family.horizon, self.s.episodes_per_trial
        env = self.family.make(tasks, seed=seed)
        n, L = len(tasks), E * H
        inputs = np.zeros((n, L, self.net.in_dim), dtype=np.float32)
        actions = np.zeros((n, L, self.act_dim), dtype=np.float32)
        logp, values, rewards = (np.zeros((n, L), dtype=np.float32) for _ in range(3))
        valid = np.zeros((n, L), dtype=bool)
        ep_returns = np.zeros((n, E))
        h = None
        prev_a, prev_r = np.zeros((n, self.act_dim)), np.zeros(n)
        for e in range(E):
            obs = env.reset()
            for t in range(H):
                i = e * H + t
                x = np.concatenate([obs, prev_a, prev_r[:, None], np.full((n, 1), float(t == 0))], axis=1)
                mean, value, h = self.net(torch.as_tensor(x, dtype=torch.float32)[:, None], h)
                mean, value = mean[:, 0], value[:, 0]
                dist = self.net.dist(mean)
                a = mean if deterministic else dist.sample()
                obs, _, reward, done, info = env.step(np.clip(a.numpy(), -1, 1))  # context reward (sparse on sparse tasks)
                inputs[:, i], actions[:, i] = x, a.numpy()
                logp[:, i], rewards[:, i] = dist.log_prob(a).sum(-1).numpy(), reward
                values[:, i] = value.numpy() * self.ret_rms.std + self.ret_rms.mean  # in return units
                valid[:, i] = info["valid"]
                ep_returns[:, e] += reward * info["valid"]
                prev_a, prev_r = np.clip(a.numpy(), -1, 1), reward * info["valid"]
        return {"inputs": inputs, "actions": actions, "logp": logp, "values": values, "rewards": rewards,
                "valid": valid, "episode_returns": ep_returns}

    def _advantages(self, rewards: np.ndarray, values: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        s = self.s
        adv = np.zeros_like(rewards)
        last = np.zeros(rewards.shape[0], dtype=np.float32)
        for t in reversed(range(rewards.shape[1])):  # GAE over the whole trial (meta-episode)
            next_v = values[:, t + 1] if t + 1 < rewards.shape[1] else 0.0
            delta = rewards[:, t] + s.discount * next_v * (t + 1 < rewards.shape[1]) - values[:, t]
            last = delta + s.discount * s.gae_lambda * last
            adv[:, t] = last * valid[:, t]
        return adv, adv + values

    def losses(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """PPO clipped surrogate (policy) and squared error to normalised returns (value), masked means."""
        s = self.s
        mean, value, _ = self.net(batch["inputs"])
        logp = self.net.dist(mean).log_prob(batch["actions"]).sum(-1)
        ratio = torch.exp(logp - batch["logp"])
        a, m = batch["adv"], batch["mask"]
        surrogate = torch.min(ratio * a, ratio.clamp(1 - s.clip, 1 + s.clip) * a)
        entropy = self.net.log_std.sum() + 0.5 * self.act_dim * (1 + math.log(2 * math.pi))
        policy_loss = -(surrogate * m).sum() / m.sum() - s.entropy_coef * entropy
        value_loss = (((value - batch["ret_norm"]) ** 2) * m).sum() / m.sum()
        return {"policy_loss": policy_loss, "value_loss": value_loss}

    def clipped_gradients(self, batch: dict[str, torch.Tensor]) -> dict[str, float]:
        """Backward of policy + c_v * value loss, then each network's gradient clipped on its own."""
        terms = self.losses(batch)
        self.opt.zero_grad(set_to_none=True)
        (terms["policy_loss"] + self.s.value_coef * terms["value_loss"]).backward()
        norms = {name: float(nn.utils.clip_grad_norm_(params, self.s.max_grad_norm))
                 for name, params in (("policy", self.net.policy_parameters()), ("value", self.net.value_parameters()))}
        return {**{k: float(v.detach()) for k, v in terms.items()}, **{f"{k}_grad_norm": v for k, v in norms.items()}}

    def prepare(self, data: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
        """GAE advantages (normalised), value targets normalised by the running return statistics."""
        adv, ret = self._advantages(data["rewards"], data["values"], data["valid"])
        self.ret_rms.update(ret[data["valid"]])
        mask = torch.as_tensor(data["valid"], dtype=torch.float32)
        adv_t = torch.as_tensor(adv)
        adv_t = (adv_t - adv_t[mask > 0].mean()) / (adv_t[mask > 0].std() + 1e-8)
        ret_norm = torch.as_tensor((ret - self.ret_rms.mean) / self.ret_rms.std, dtype=torch.float32)
        return {**{k: torch.as_tensor(data[k]) for k in ("inputs", "actions", "logp")},
                "adv": adv_t, "mask": mask, "ret_norm": ret_norm}

    def update(self, data: dict[str, np.ndarray]) -> dict[str, float]:
        s = self.s
        batch = self.prepare(data)
        n = batch["mask"].shape[0]
        stats = {}
        for _ in range(s.ppo_epochs):
            for idx in np.array_split(self.rng.permutation(n), min(s.minibatches, n)):
                stats = self.clipped_gradients({k: v[idx] for k, v in batch.items()})
                self.opt.step()
        return stats

    def evaluate(self, seed: int = 0) -> dict:
        out = self.run_trials(self.test_tasks, deterministic=True, seed=20_000 + seed)
        return {"returns": out["episode_returns"]}

    def train(self, total_env_steps: int, eval_every_steps: int,
              on_eval: Callable[["RL2Trainer", dict], None] | None = None) -> list[dict]:
        next_eval = self.curve[-1]["env_steps"] + eval_every_steps if self.curve else 0
        while self.env_steps < total_env_steps:
            idx = self.rng.integers(0, len(self.train_tasks), size=self.s.trials_per_batch)
            data = self.run_trials([self.train_tasks[i] for i in idx], deterministic=False, seed=self.batches)
            self.env_steps += int(data["valid"].sum())
            self.update(data)
            self.batches += 1
            if self.env_steps >= next_eval or self.env_steps >= total_env_steps:
                returns = self.evaluate(seed=self.batches)["returns"]
                point = {"env_steps": self.env_steps, "final_return": float(returns[:, -1].mean()),
                         "return_by_traj": [float(x) for x in returns.mean(axis=0)]}
                self.curve.append(point)
                if on_eval is not None:
                    on_eval(self, point)
                next_eval = self.env_steps + eval_every_steps
        return self.curve

    def state_dict(self) -> dict:
        return {"net": self.net.state_dict(), "opt": self.opt.state_dict(), "rng": self.rng.bit_generator.state,
                "torch_rng": torch.get_rng_state(), "ret_rms": vars(self.ret_rms).copy(),
                "env_steps": self.env_steps, "batches": self.batches, "curve": self.curve}

    def load_state_dict(self, state: dict) -> None:
        self.net.load_state_dict(state["net"])
        self.opt.load_state_dict(state["opt"])
        self.rng.bit_generator.state = state["rng"]
        torch.set_rng_state(state["torch_rng"])
        vars(self.ret_rms).update(state["ret_rms"])
        for key in ("env_steps", "batches", "curve"):
            setattr(self, key, state[key])
