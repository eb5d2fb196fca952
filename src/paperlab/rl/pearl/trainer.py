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
The authors' code (oyster `collect_paths`) instead keeps z ~ prior for the first `num_exp_traj_eval`
trajectories and only then switches to the posterior; `evaluate(prior_trajs=...)` runs either protocol.
A curve point averages `eval_seeds` evaluation passes, each with its own environment and z-noise seed
(a generator of its own, so evaluating never moves the training RNG).
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


EVAL_SEED_STRIDE = 100_000  # evaluation seed j of a curve point: iteration + j * stride (j = 0 is the old single seed)


def summarize_evaluations(evals: list[dict]) -> dict:
    """One curve point's numbers from several evaluation passes (each: returns and success (tasks, trajs)):
    means over tasks and passes, and each pass's own final return and success after exploration."""
    returns = np.stack([e["returns"] for e in evals])            # (passes, tasks, trajs)
    success = np.stack([e["success"] for e in evals]).astype(float)
    return {"final_return": float(returns[:, :, -1].mean()),
            "return_by_traj": [float(x) for x in returns.mean(axis=(0, 1))],
            "success_by_traj": [float(x) for x in success.mean(axis=(0, 1))],
            "final_return_by_eval_seed": [float(x) for x in returns[:, :, -1].mean(axis=1)],
            "success_last_by_eval_seed": [float(x) for x in success[:, :, -1].mean(axis=1)]}


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
        elif cfg.encoder == "mlp" and cfg.context_shape == "trajectories":
            # 1..context_max_trajs whole trajectories (the same count for every task keeps the batch a tensor):
            # the kind of context the agent has at meta-test, instead of transitions from ~10 trajectories
            n_trajs = int(self.rng.integers(1, cfg.context_max_trajs + 1))
            data = buffer.sample_trajectories(tasks, n_trajs * self.horizon, self.rng)
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
    def _posterior_from(self, contexts: list[torch.Tensor], valids: list[np.ndarray]):
        """q(z | c) per task from its collected trajectories' real transitions."""
        context, all_valid = torch.cat(contexts, dim=1), np.concatenate(valids, axis=1)
        if all_valid.all():
            return self.learner.posterior(context)
        # early terminations: each task's posterior from its real transitions only
        stats = [self.learner.posterior(context[i:i + 1, all_valid[i]]) for i in range(context.shape[0])]
        return torch.cat([m for m, _ in stats]), torch.cat([v for _, v in stats])

    def _latent(self, mean: torch.Tensor, var: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        return sample_latent(mean, var, torch.randn(mean.shape, generator=generator).to(mean.device))

    def _returns(self, traj: dict, valid: np.ndarray) -> np.ndarray:
        # sparse tasks report the sparse reward, as in the authors' eval
        reward = traj["ctx_rewards"] if self.family.sparse else traj["rewards"]
        return (reward[..., 0] * valid).sum(axis=1)

    @torch.no_grad()
    def evaluate(self, tasks: list[dict] | None = None, n_trajs: int | None = None, seed: int = 0,
                 prior_trajs: int = 1) -> dict:
        """Meta-test on each task: per-trajectory returns (T, n_trajs) and successes (T, n_trajs).

        The first `prior_trajs` trajectories use z ~ prior (resampled per trajectory), every later one z ~ the
        posterior from all context seen on the task so far. prior_trajs=1 is the paper's posterior sampling
        (Alg. 2, the project's protocol); prior_trajs=num_exp_traj_eval is the authors' code."""
        tasks = self.test_tasks if tasks is None else tasks
        n_trajs = n_trajs or self.cfg.eval_trajs
        env = self.family.make(tasks, seed=10_000 + seed)
        noise = torch.Generator().manual_seed(seed)
        returns = np.zeros((len(tasks), n_trajs))
        success = np.zeros((len(tasks), n_trajs), dtype=bool)
        contexts: list[torch.Tensor] = []
        valids: list[np.ndarray] = []
        for k in range(n_trajs):
            if k < max(prior_trajs, 1):
                mean, var = self.learner.prior(len(tasks))
            else:
                mean, var = self._posterior_from(contexts, valids)
            traj, valid, succ = self.rollout(env, self._latent(mean, var, noise), self.cfg.eval_deterministic)
            returns[:, k] = self._returns(traj, valid)
            success[:, k] = succ.any(axis=1)
            contexts.append(self._context(traj))
            valids.append(valid)
        return {"returns": returns, "success": success}

    def evaluation_seeds(self) -> list[int]:
        return [self.iteration + EVAL_SEED_STRIDE * j for j in range(self.cfg.eval_seeds)]

    def evaluate_point(self) -> dict:
        """One curve point: the project's protocol averaged over `eval_seeds` passes, and beside it the
        authors' (z ~ prior for num_exp_traj_eval trajectories, then the posterior) where that differs."""
        cfg = self.cfg
        point = {"iteration": self.iteration, "env_steps": self.env_steps, "grad_steps": self.grad_steps,
                 **summarize_evaluations([self.evaluate(seed=s) for s in self.evaluation_seeds()])}
        if 1 < cfg.num_exp_traj_eval < cfg.eval_trajs:  # with 1 prior trajectory both protocols are the same
            point["authors"] = summarize_evaluations([self.evaluate(seed=s, prior_trajs=cfg.num_exp_traj_eval)
                                                      for s in self.evaluation_seeds()])
        return point

    @torch.no_grad()
    def context_probe(self, n_context_trajs: tuple[int, ...] | None = None, seeds: tuple[int, ...] = (0,)) -> dict:
        """Test return when the encoder sees the context it is trained on: for each k, the posterior from k
        prior-z trajectories (stochastic actions, as collected for the encoder buffer), then one trajectory
        with z from that posterior (deterministic actions). Means over test tasks and seeds."""
        ks = sorted(set(n_context_trajs or self.cfg.context_probe))
        tasks = self.test_tasks
        by_k = {k: {"return": [], "success": []} for k in ks}
        for seed in seeds:
            env = self.family.make(tasks, seed=20_000 + seed)
            noise = torch.Generator().manual_seed(20_000 + seed)
            contexts, valids = [], []
            with torch.random.fork_rng(devices=[]):  # the stochastic actions: seeded, training RNG untouched
                torch.manual_seed(20_000 + seed)
                for _ in range(max(ks)):
                    traj, valid, _ = self.rollout(env, self._latent(*self.learner.prior(len(tasks)), noise),
                                                  deterministic=False)
                    contexts.append(self._context(traj))
                    valids.append(valid)
            for k in ks:
                mean, var = self._posterior_from(contexts[:k], valids[:k])
                traj, valid, succ = self.rollout(env, self._latent(mean, var, noise), self.cfg.eval_deterministic)
                by_k[k]["return"].append(float(self._returns(traj, valid).mean()))
                by_k[k]["success"].append(float(succ.any(axis=1).mean()))
        return {"n_context_trajs": ks, "return": [float(np.mean(by_k[k]["return"])) for k in ks],
                "success": [float(np.mean(by_k[k]["success"])) for k in ks], "seeds": list(seeds)}

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
                point = self.evaluate_point()
                self.curve.append(point)
            if on_iteration is not None:
                on_iteration(self, point)
        return self.curve

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
