"""PEARL meta-training (paper Alg. 1) and meta-testing (Alg. 2), with rollouts vectorised across tasks.

Per iteration (oyster `MetaRLAlgorithm.train`):
  - for `num_tasks_sample` train tasks: clear the task's encoder buffer, then collect
    `num_steps_prior` steps with z ~ prior (resampled every trajectory), `num_steps_posterior` steps with
    z ~ q(z | c) (c sampled from the encoder buffer, updated every trajectory), and
    `num_extra_rl_steps_posterior` posterior steps that go to the RL buffer only;
  - `num_train_steps_per_itr` gradient steps, each on `meta_batch` tasks: RL batch from the whole RL
    buffer, context batch from the encoder buffer (recent data) or, as an ablation, the whole buffer.
Meta-test: on each test task start from the prior, roll out, infer the posterior from all context seen
so far and resample z after every trajectory (posterior sampling); returns are recorded per trajectory.
All tasks of a collection or an evaluation run in lockstep: the policy is called once per time step.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import torch

from paperlab.core.config import settings_from
from paperlab.rl.pearl.agent import LearnerSettings, PEARLLearner
from paperlab.rl.pearl.buffers import MultiTaskReplayBuffer
from paperlab.rl.pearl.config import PEARLConfig, resolve
from paperlab.rl.pearl.encoder import sample_latent
from paperlab.rl.pearl.tasks import TaskBatch, get_family


class PEARLTrainer:
    def __init__(self, cfg: PEARLConfig, seed: int = 0, device: str = "cpu"):
        self.cfg = cfg = resolve(cfg)
        self.family = get_family(cfg.task)
        self.horizon = self.family.horizon
        self.train_tasks, self.test_tasks = self.family.split(cfg.n_train_tasks, cfg.n_test_tasks)
        probe = self.family.make(self.train_tasks[:1])
        self.obs_dim, self.act_dim = probe.obs_dim, probe.act_dim
        context_dim = self.obs_dim + self.act_dim + 1 + (self.obs_dim if cfg.use_next_obs_in_context else 0)
        settings = settings_from(cfg, LearnerSettings, kl_lambda=cfg.kl_weight)
        self.learner = PEARLLearner(self.obs_dim, self.act_dim, context_dim, settings, device)
        self.device = device
        per_collection = sum(math.ceil(n / self.horizon) * self.horizon for n in
                             (cfg.num_steps_prior, cfg.num_steps_posterior, cfg.num_extra_rl_steps_posterior))
        needed = math.ceil(cfg.num_initial_steps / self.horizon) * self.horizon + cfg.num_iterations * per_collection
        capacity = max(min(cfg.replay_buffer_size, needed), self.horizon)
        n = cfg.n_train_tasks
        self.rl_buffer = MultiTaskReplayBuffer(n, capacity, self.obs_dim, self.act_dim)
        self.enc_buffer = MultiTaskReplayBuffer(n, capacity, self.obs_dim, self.act_dim)
        self.rng = np.random.default_rng(seed)
        self.seed = seed
        self.iteration = 0
        self.env_steps = 0
        self.grad_steps = 0
        self.n_collections = 0
        self.curve: list[dict[str, Any]] = []

    # ------------------------------------------------------------------ data
    def _context(self, data: dict[str, np.ndarray]) -> torch.Tensor:
        parts = [data["obs"], data["actions"], data["ctx_rewards"]]
        if self.cfg.use_next_obs_in_context:
            parts.append(data["next_obs"])
        return torch.as_tensor(np.concatenate(parts, axis=-1), dtype=torch.float32, device=self.device)

    def context_batch(self, tasks: np.ndarray) -> torch.Tensor:
        """(T, embedding_batch_size, context_dim) from the encoder buffer (recent) or the RL buffer."""
        cfg = self.cfg
        buffer = self.enc_buffer if cfg.context_source == "recent" else self.rl_buffer
        if cfg.encoder == "rnn" and cfg.rnn_context == "trajectories":
            data = buffer.sample_trajectories(tasks, cfg.embedding_batch_size, self.rng)
        else:
            data = buffer.sample(tasks, cfg.embedding_batch_size, self.rng)
        return self._context(data)

    def rl_batch(self, tasks: np.ndarray) -> dict[str, torch.Tensor]:
        data = self.rl_buffer.sample(tasks, self.cfg.batch_size, self.rng)
        return {k: torch.as_tensor(v, device=self.device) for k, v in data.items()}

    def rollout(self, env: TaskBatch, z: torch.Tensor, deterministic: bool) -> tuple[dict, np.ndarray, np.ndarray]:
        """One trajectory per task in lockstep; returns (arrays (T, H, dim), valid (T, H), success (T, H))."""
        T, H = env.n_tasks, self.horizon
        out = {k: np.zeros((T, H, d), dtype=np.float32) for k, d in
               (("obs", self.obs_dim), ("actions", self.act_dim), ("rewards", 1), ("ctx_rewards", 1),
                ("next_obs", self.obs_dim), ("terminals", 1))}
        valid = np.zeros((T, H), dtype=bool)
        success = np.zeros((T, H), dtype=bool)
        obs = env.reset()
        for t in range(H):
            action = self.learner.act(obs, z, deterministic)
            next_obs, reward, ctx_reward, done, info = env.step(action)
            out["obs"][:, t], out["actions"][:, t], out["next_obs"][:, t] = obs, action, next_obs
            out["rewards"][:, t, 0], out["ctx_rewards"][:, t, 0], out["terminals"][:, t, 0] = reward, ctx_reward, done
            valid[:, t], success[:, t] = info["valid"], info["success"]
            obs = next_obs
            if not env.active.any():
                break
        return out, valid, success

    def collect(self, task_ids: np.ndarray, n_steps: int, posterior: bool, add_to_enc: bool = True) -> None:
        """oyster `collect_data`: whole trajectories until >= n_steps per task, all tasks in lockstep."""
        if n_steps <= 0:
            return
        task_ids = np.asarray(task_ids)
        env = self.family.make([self.train_tasks[i] for i in task_ids], seed=int(self.rng.integers(2**31)))
        self.n_collections += 1
        for k in range(math.ceil(n_steps / self.horizon)):
            buffer = self.enc_buffer if self.cfg.context_source == "recent" else self.rl_buffer
            if posterior and k > 0 and (buffer.size[task_ids] > 0).all():
                mean, var = self.learner.posterior(self.context_batch(task_ids))
            else:  # z from the prior, resampled every trajectory
                mean, var = self.learner.prior(len(task_ids))
            traj, valid, _ = self.rollout(env, sample_latent(mean, var), deterministic=False)
            self.rl_buffer.add_trajectories(task_ids, traj, valid, self.n_collections)
            if add_to_enc:
                self.enc_buffer.add_trajectories(task_ids, traj, valid, self.n_collections)
            self.env_steps += int(valid.sum())

    # ------------------------------------------------------------------ meta-test
    @torch.no_grad()
    def evaluate(self, tasks: list[dict] | None = None, n_trajs: int | None = None, seed: int = 0) -> dict:
        """Posterior sampling on each task: per-trajectory returns (T, n_trajs) and successes (T, n_trajs)."""
        tasks = self.test_tasks if tasks is None else tasks
        n_trajs = n_trajs or self.cfg.eval_trajs
        env = self.family.make(tasks, seed=10_000 + seed)
        returns = np.zeros((len(tasks), n_trajs))
        success = np.zeros((len(tasks), n_trajs), dtype=bool)
        mean, var = self.learner.prior(len(tasks))
        contexts: list[torch.Tensor] = []
        valids: list[np.ndarray] = []
        for k in range(n_trajs):
            traj, valid, succ = self.rollout(env, sample_latent(mean, var), self.cfg.eval_deterministic)
            # sparse tasks report the sparse reward, as in the authors' eval
            reward = traj["ctx_rewards"] if self.family.sparse else traj["rewards"]
            returns[:, k] = (reward[..., 0] * valid).sum(axis=1)
            success[:, k] = succ.any(axis=1)
            contexts.append(self._context(traj))
            valids.append(valid)
            context, all_valid = torch.cat(contexts, dim=1), np.concatenate(valids, axis=1)
            if all_valid.all():
                mean, var = self.learner.posterior(context)
            else:  # early terminations: each task's posterior from its real transitions only
                stats = [self.learner.posterior(context[i:i + 1, all_valid[i]]) for i in range(len(tasks))]
                mean, var = torch.cat([m for m, _ in stats]), torch.cat([v for _, v in stats])
        return {"returns": returns, "success": success}

    # ------------------------------------------------------------------ meta-train
    def train_iteration(self) -> None:
        cfg = self.cfg
        if self.iteration == 0:  # initial pool for every train task, z from the prior
            everything = np.arange(cfg.n_train_tasks)
            self.collect(everything, cfg.num_initial_steps, posterior=False)
        tasks = self.rng.choice(cfg.n_train_tasks, size=cfg.num_tasks_sample, replace=False)
        self.enc_buffer.clear(tasks)  # the encoder buffer only keeps the newest collection
        self.collect(tasks, cfg.num_steps_prior, posterior=False)
        self.collect(tasks, cfg.num_steps_posterior, posterior=True)
        self.collect(tasks, cfg.num_extra_rl_steps_posterior, posterior=True, add_to_enc=False)
        for _ in range(cfg.num_train_steps_per_itr):
            meta_batch = self.rng.integers(0, cfg.n_train_tasks, size=cfg.meta_batch)  # with replacement (oyster)
            self.last_losses = self.learner.update(self.rl_batch(meta_batch), self.context_batch(meta_batch))
            self.grad_steps += 1
        self.iteration += 1

    def train(self, on_iteration: Callable[["PEARLTrainer", dict | None], None] | None = None) -> list[dict]:
        while self.iteration < self.cfg.num_iterations:
            self.train_iteration()
            point = None
            if self.iteration % self.cfg.eval_every == 0 or self.iteration == self.cfg.num_iterations:
                point = self.curve_point(self.evaluate(seed=self.iteration))
                self.curve.append(point)
            if on_iteration is not None:
                on_iteration(self, point)
        return self.curve

    def curve_point(self, ev: dict) -> dict:
        returns, success = ev["returns"], ev["success"]
        return {"iteration": self.iteration, "env_steps": self.env_steps, "grad_steps": self.grad_steps,
                "final_return": float(returns[:, -1].mean()),
                "return_by_traj": [float(x) for x in returns.mean(axis=0)],
                "success_by_traj": [float(x) for x in success.mean(axis=0)]}

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict:
        return {"learner": self.learner.state_dict(), "rl_buffer": self.rl_buffer.__dict__.copy(),
                "enc_buffer": self.enc_buffer.__dict__.copy(), "rng": self.rng.bit_generator.state,
                "torch_rng": torch.get_rng_state(), "iteration": self.iteration, "env_steps": self.env_steps,
                "grad_steps": self.grad_steps, "n_collections": self.n_collections, "curve": self.curve}

    def load_state_dict(self, state: dict) -> None:
        self.learner.load_state_dict(state["learner"])
        self.rl_buffer.__dict__.update(state["rl_buffer"])
        self.enc_buffer.__dict__.update(state["enc_buffer"])
        self.rng.bit_generator.state = state["rng"]
        torch.set_rng_state(state["torch_rng"])
        for key in ("iteration", "env_steps", "grad_steps", "n_collections", "curve"):
            setattr(self, key, state[key])
