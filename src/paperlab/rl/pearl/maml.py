"""MAML-TRPO (Finn et al. 2017): the gradient-based on-policy meta-RL baseline of PEARL's Fig. 3.

One meta-iteration (cbfinn/maml_rl `MAMLTRPO`, one inner step):
  1. for each of `meta_batch_size` tasks, `fast_batch_size` trajectories with the meta-policy theta;
  2. inner step per task: theta'_i = theta - alpha * grad L_i(theta),  L_i = -mean_t log pi(a_t|s_t) A_t
     (vanilla policy gradient, MAML Alg. 3 line 6), advantages from a per-task linear-feature baseline
     (rllab `LinearFeatureBaseline`: features [s, s^2, t, t^2, t^3, 1], ridge fit), centred per task;
  3. `fast_batch_size` trajectories per task with theta'_i;
  4. outer TRPO step on theta (through the inner step): maximise the surrogate
     mean_i E[pi_theta'_i(a|s) / pi_old'_i(a|s) A] subject to mean_i KL(pi_old'_i || pi_theta'_i) <= max_kl, by
     conjugate gradient on the Fisher-vector product (Hessian of the KL) and a backtracking line search that
     accepts the first step that improves the surrogate within the KL bound (rllab `ConjugateGradientOptimizer`).
The policy is a Gaussian MLP written as a functional program over a flat parameter vector, so every task's
adapted parameters are one row of an (M, P) tensor and all tasks run in lockstep (one batched matmul per layer).
Meta-test: `fast_batch_size` exploration trajectories with theta on each test task, one inner step, then the
adapted policy's return (mean action, like PEARL's and RL^2's deterministic evaluation).

ProMP (Rothfuss et al. 2019), the other gradient-based baseline of PEARL's Fig. 3, shares the sampling and
the inner step and differs in two places (jonasrothfuss/ProMP `meta_algos/pro_mp.py`): the inner objective is
the likelihood ratio pi_theta / pi_sampling times A (same first-order step, the low-variance curvature
estimator for the meta-gradient), and the outer step is `num_promp_steps` Adam steps on the PPO-clipped
surrogate of the adapted policies plus eta * KL(pi_sampling || pi_theta) on the pre-update data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from paperlab.rl.pearl.tasks import get_family


@dataclass
class MAMLSettings:
    """Defaults of cbfinn/maml_rl `maml_examples/maml_trpo_point.py` (rllab TRPO defaults for the rest)."""

    hidden: tuple[int, ...] = (100, 100)   # ReLU MLP
    fast_lr: float = 0.5                   # inner step size alpha
    fast_batch_size: int = 20              # trajectories per task, before and after the inner step
    meta_batch_size: int = 40              # tasks per meta-iteration
    max_kl: float = 0.01                   # meta_step_size (TRPO step_size)
    discount: float = 0.99
    init_std: float = 1.0
    baseline_reg: float = 1e-5             # LinearFeatureBaseline reg_coeff
    cg_iters: int = 10
    fisher_task_stride: int = 1            # >1: Fisher-vector products on every k-th task only (cheaper curvature)
    cg_damping: float = 1e-5               # ConjugateGradientOptimizer reg_coeff
    backtrack_ratio: float = 0.8
    max_backtracks: int = 15


# ----------------------------------------------------------------------------------------------------
# functional Gaussian MLP over a flat parameter vector; params (M, P): one row per task
# ----------------------------------------------------------------------------------------------------
class GaussianMLP:
    def __init__(self, obs_dim: int, act_dim: int, hidden: tuple[int, ...], init_std: float = 1.0,
                 activation: str = "relu"):
        sizes = [obs_dim, *hidden, act_dim]
        self.activation = {"relu": torch.relu, "tanh": torch.tanh}[activation]
        self.shapes = [s for a, b in zip(sizes[:-1], sizes[1:]) for s in ((a, b), (b,))] + [(act_dim,)]
        self.numel = [math.prod(s) for s in self.shapes]
        self.n_params = sum(self.numel)
        self.obs_dim, self.act_dim, self.init_std = obs_dim, act_dim, init_std

    def init(self, generator: torch.Generator | None = None) -> torch.Tensor:
        """Glorot-uniform weights, zero biases, log std = log(init_std) (rllab defaults)."""
        parts = []
        for shape in self.shapes[:-1]:
            if len(shape) == 2:
                bound = math.sqrt(6.0 / (shape[0] + shape[1]))
                parts.append((torch.rand(shape, generator=generator) * 2 - 1).reshape(-1) * bound)
            else:
                parts.append(torch.zeros(shape[0]))
        parts.append(torch.full(self.shapes[-1], math.log(self.init_std)))
        return torch.cat(parts)

    def unflatten(self, params: torch.Tensor) -> list[torch.Tensor]:
        M = params.shape[0]
        return [p.reshape(M, *s) for p, s in zip(params.split(self.numel, dim=1), self.shapes)]

    def forward(self, params: torch.Tensor, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """params (M, P), obs (M, N, obs_dim) -> mean (M, N, act_dim), log_std (M, 1, act_dim)."""
        tensors = self.unflatten(params)
        x = obs
        layers = list(zip(tensors[:-1:2], tensors[1:-1:2]))
        for i, (w, b) in enumerate(layers):
            x = torch.baddbmm(b[:, None, :], x, w)
            if i < len(layers) - 1:
                x = self.activation(x)
        return x, tensors[-1][:, None, :]

    def log_prob(self, params: torch.Tensor, obs: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        mean, log_std = self.forward(params, obs)
        z = (actions - mean) / log_std.exp()
        return (-0.5 * z.pow(2) - log_std).sum(-1) - 0.5 * self.act_dim * math.log(2 * math.pi)


def gaussian_kl(mean_p, log_std_p, mean_q, log_std_q) -> torch.Tensor:
    """KL(p || q) of diagonal Gaussians, summed over the action dimension."""
    var_p, var_q = (2 * log_std_p).exp(), (2 * log_std_q).exp()
    return (log_std_q - log_std_p + (var_p + (mean_p - mean_q).pow(2)) / (2 * var_q) - 0.5).sum(-1)


def conjugate_gradient(fvp: Callable[[torch.Tensor], torch.Tensor], b: torch.Tensor, iters: int = 10,
                       tol: float = 1e-10) -> torch.Tensor:
    """Solve F x = b for symmetric positive-definite F given only products F v (rllab `cg`)."""
    x = torch.zeros_like(b)
    r, p = b.clone(), b.clone()
    rr = r @ r
    for _ in range(iters):
        fp = fvp(p)
        alpha = rr / (p @ fp)
        x = x + alpha * p
        r = r - alpha * fp
        rr_new = r @ r
        if rr_new < tol:
            break
        p = r + (rr_new / rr) * p
        rr = rr_new
    return x


# ----------------------------------------------------------------------------------------------------
# linear-feature baseline and advantages (per task, vectorised over tasks)
# ----------------------------------------------------------------------------------------------------
def discounted_returns(rewards: np.ndarray, valid: np.ndarray, discount: float) -> np.ndarray:
    """Reward-to-go along the last axis, over valid steps only."""
    out = np.zeros_like(rewards, dtype=np.float64)
    running = np.zeros(rewards.shape[:-1])
    for t in reversed(range(rewards.shape[-1])):
        running = rewards[..., t] * valid[..., t] + discount * running
        out[..., t] = running
    return out


def linear_baseline_features(obs: np.ndarray) -> np.ndarray:
    """rllab LinearFeatureBaseline features for obs (..., H, d): [s, s^2, t, t^2, t^3, 1], t = step / 100."""
    o = np.clip(obs, -10, 10)
    t = np.broadcast_to((np.arange(obs.shape[-2]) / 100.0)[:, None], obs.shape[:-1] + (1,))
    return np.concatenate([o, o ** 2, t, t ** 2, t ** 3, np.ones_like(t)], axis=-1)


def fit_linear_baseline(obs: np.ndarray, returns: np.ndarray, valid: np.ndarray, reg: float = 1e-5) -> np.ndarray:
    """Per task (first axis), ridge regression of the returns on the features of its valid steps; returns the
    fitted values b(s, t) with the shape of `returns` (rllab: reg_coeff grows tenfold until finite)."""
    M = obs.shape[0]
    X = linear_baseline_features(obs).reshape(M, -1, 2 * obs.shape[-1] + 4) * valid.reshape(M, -1, 1)
    y = (returns * valid).reshape(M, -1, 1)
    eye = torch.eye(X.shape[-1], dtype=torch.float64)
    Xt, yt = torch.as_tensor(X, dtype=torch.float64), torch.as_tensor(y, dtype=torch.float64)
    for _ in range(5):
        w = torch.linalg.solve(Xt.transpose(1, 2) @ Xt + reg * eye, Xt.transpose(1, 2) @ yt)
        if torch.isfinite(w).all():
            break
        reg *= 10
    return (Xt @ w).reshape(returns.shape).numpy()


def linear_baseline_advantages(obs: np.ndarray, rewards: np.ndarray, valid: np.ndarray, discount: float,
                               reg: float = 1e-5) -> np.ndarray:
    """Arrays (M, K, H, ...): A = R - b(s, t) with the task's fitted baseline (GAE lambda = 1, as MAML),
    centred and scaled per task (rllab center_adv). Invalid steps get 0."""
    M = obs.shape[0]
    returns = discounted_returns(rewards, valid, discount)
    adv = (returns - fit_linear_baseline(obs, returns, valid, reg)) * valid
    n = valid.reshape(M, -1).sum(1)
    mean = adv.reshape(M, -1).sum(1) / n
    std = np.sqrt((((adv - mean[:, None, None]) ** 2) * valid).reshape(M, -1).sum(1) / n)
    return (adv - mean[:, None, None]) / (std[:, None, None] + 1e-8) * valid


# ----------------------------------------------------------------------------------------------------
# the learner
# ----------------------------------------------------------------------------------------------------
class MAMLTRPO:
    def __init__(self, obs_dim: int, act_dim: int, settings: MAMLSettings, seed: int = 0):
        self.s = settings
        self.policy = GaussianMLP(obs_dim, act_dim, tuple(settings.hidden), settings.init_std,
                                  getattr(settings, "activation", "relu"))
        self.theta = self.policy.init(torch.Generator().manual_seed(seed))

    def meta_step(self, pre: dict, post: dict) -> dict[str, float]:
        return self.trpo_step(pre, post)

    def state_dict(self) -> dict:
        return {"theta": self.theta}

    def load_state_dict(self, state: dict) -> None:
        self.theta = state["theta"]

    # -- inner step (MAML Alg. 3 line 6) ------------------------------------------------------------------
    def inner_loss(self, params: torch.Tensor, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Per-task vanilla policy-gradient loss -mean_t log pi(a_t|s_t) A_t, shape (M,)."""
        logp = self.policy.log_prob(params, batch["obs"], batch["actions"])
        m = batch["mask"]
        return -(logp * batch["adv"] * m).sum(1) / m.sum(1)

    def adapt(self, theta: torch.Tensor, batch: dict[str, torch.Tensor], create_graph: bool = False) -> torch.Tensor:
        """theta'_i = theta - alpha * grad_theta L_i(theta) for every task i at once -> (M, P)."""
        M = batch["obs"].shape[0]
        with torch.enable_grad():
            rows = theta.expand(M, -1)
            if not rows.requires_grad:
                rows = rows.clone().requires_grad_(True)
            # L_i only reads row i, so the gradient of the sum is every task's own gradient
            (grad,) = torch.autograd.grad(self.inner_loss(rows, batch).sum(), rows, create_graph=create_graph)
        return rows - self.s.fast_lr * grad

    # -- outer TRPO step ----------------------------------------------------------------------------------
    def surrogate_and_kl(self, theta: torch.Tensor, pre: dict, post: dict, old: dict,
                         create_graph: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """Surrogate mean_i E[ratio * A] and mean KL(pi_old'_i || pi_theta'_i) on the post-update data."""
        adapted = self.adapt(theta, pre, create_graph=create_graph)
        mean, log_std = self.policy.forward(adapted, post["obs"])
        z = (post["actions"] - mean) / log_std.exp()
        logp = (-0.5 * z.pow(2) - log_std).sum(-1) - 0.5 * self.policy.act_dim * math.log(2 * math.pi)
        m = post["mask"]
        ratio = torch.exp(logp - old["logp"])
        surr = ((ratio * post["adv"] * m).sum(1) / m.sum(1)).mean()
        kl = gaussian_kl(old["mean"], old["log_std"], mean, log_std.expand_as(mean))
        return surr, ((kl * m).sum(1) / m.sum(1)).mean()

    def old_policy(self, pre: dict, post: dict) -> dict:
        with torch.no_grad():
            adapted = self.adapt(self.theta, pre).detach()
            mean, log_std = self.policy.forward(adapted, post["obs"])
            return {"logp": self.policy.log_prob(adapted, post["obs"], post["actions"]), "mean": mean,
                    "log_std": log_std.expand_as(mean)}

    def trpo_step(self, pre: dict, post: dict) -> dict[str, float]:
        """Natural-gradient step on theta under mean KL <= max_kl, with a backtracking line search."""
        s = self.s
        old = self.old_policy(pre, post)
        theta = self.theta.clone().requires_grad_(True)
        surr, _ = self.surrogate_and_kl(theta, pre, post, old, create_graph=False)
        (g,) = torch.autograd.grad(surr, theta)
        # curvature: Hessian of the mean KL at theta_old, optionally estimated on a subset of the tasks
        # (OpenAI baselines' TRPO likewise estimates the Fisher on every 5th sample)
        sub = slice(None, None, s.fisher_task_stride)
        _, kl = self.surrogate_and_kl(theta, *({k: v[sub] for k, v in d.items()} for d in (pre, post, old)),
                                      create_graph=True)
        (grad_kl,) = torch.autograd.grad(kl, theta, create_graph=True)

        def fvp(v: torch.Tensor) -> torch.Tensor:  # Hessian of the KL times v (+ damping)
            (hv,) = torch.autograd.grad(grad_kl @ v, theta, retain_graph=True)
            return hv + s.cg_damping * v

        direction = conjugate_gradient(fvp, g, s.cg_iters)
        shs = float(direction @ fvp(direction))
        step = math.sqrt(2 * s.max_kl / max(shs, 1e-12)) * direction
        surr_old = float(surr.detach())
        for k in range(s.max_backtracks):
            candidate = self.theta + (s.backtrack_ratio ** k) * step
            with torch.no_grad():
                new_surr, new_kl = self.surrogate_and_kl(candidate, pre, post, old)
            if float(new_surr) > surr_old and float(new_kl) <= s.max_kl:
                self.theta = candidate.detach()
                return {"surrogate_before": surr_old, "surrogate_after": float(new_surr), "kl": float(new_kl),
                        "backtracks": k, "accepted": True}
        return {"surrogate_before": surr_old, "surrogate_after": surr_old, "kl": 0.0, "backtracks": s.max_backtracks,
                "accepted": False}


@dataclass
class ProMPSettings:
    """Defaults of jonasrothfuss/ProMP `run_scripts/pro-mp_run_point_mass.py`."""

    hidden: tuple[int, ...] = (64, 64)
    activation: str = "tanh"               # MetaGaussianMLPPolicy default
    fast_lr: float = 0.1                   # inner_lr
    fast_batch_size: int = 20              # rollouts_per_meta_task
    meta_batch_size: int = 40
    learning_rate: float = 1e-3            # outer Adam
    num_promp_steps: int = 5
    clip_eps: float = 0.3
    inner_kl_penalty: float = 5e-4         # fixed (adaptive_inner_kl_penalty False)
    discount: float = 0.99
    init_std: float = 1.0
    baseline_reg: float = 1e-5


class ProMP(MAMLTRPO):
    def __init__(self, obs_dim: int, act_dim: int, settings: ProMPSettings, seed: int = 0):
        super().__init__(obs_dim, act_dim, settings, seed)
        self.theta.requires_grad_(True)
        self.opt = torch.optim.Adam([self.theta], lr=settings.learning_rate)

    def inner_loss(self, params: torch.Tensor, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """-mean_t pi_params(a|s) / pi_sampling(a|s) * A_t per task (ProMP `_adapt_objective_sym`)."""
        ratio = torch.exp(self.policy.log_prob(params, batch["obs"], batch["actions"]) - batch["logp"])
        m = batch["mask"]
        return -(ratio * batch["adv"] * m).sum(1) / m.sum(1)

    def meta_step(self, pre: dict, post: dict) -> dict[str, float]:
        """Adam steps on -clipped surrogate(theta'(theta)) + eta * KL(pi_sampling || pi_theta) on pre-update data."""
        s = self.s
        with torch.no_grad():
            # clones: the log std is a view of theta, which Adam updates in place
            old_mean, old_log_std = (x.clone() for x in
                                     self.policy.forward(self.theta.expand(pre["obs"].shape[0], -1), pre["obs"]))
        stats = {}
        for step in range(s.num_promp_steps):
            adapted = self.adapt(self.theta, pre, create_graph=True)
            ratio = torch.exp(self.policy.log_prob(adapted, post["obs"], post["actions"]) - post["logp"])
            a, m = post["adv"], post["mask"]
            clipped = torch.min(ratio * a, ratio.clamp(1 - s.clip_eps, 1 + s.clip_eps) * a)
            surr = ((clipped * m).sum(1) / m.sum(1)).mean()
            mean, log_std = self.policy.forward(self.theta.expand(pre["obs"].shape[0], -1), pre["obs"])
            kl = gaussian_kl(old_mean, old_log_std.expand_as(old_mean), mean, log_std.expand_as(mean))
            inner_kl = ((kl * pre["mask"]).sum(1) / pre["mask"].sum(1)).mean()
            loss = -surr + s.inner_kl_penalty * inner_kl
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
            if step == 0:
                stats["surrogate_before"] = float(surr.detach())
            stats.update(surrogate_last=float(surr.detach()), inner_kl=float(inner_kl.detach()))
        return stats

    def state_dict(self) -> dict:
        return {"theta": self.theta.detach().clone(), "opt": self.opt.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        with torch.no_grad():
            self.theta.copy_(state["theta"])
        self.opt.load_state_dict(state["opt"])


class MAMLTrainer:
    """Meta-trains MAML-TRPO (or ProMP, given ProMPSettings) on a task family; rollouts of all tasks x
    trajectories run in lockstep."""

    def __init__(self, task: str, n_train_tasks: int, n_test_tasks: int, settings: MAMLSettings, seed: int = 0):
        self.family = get_family(task)
        self.s = settings
        self.train_tasks, self.test_tasks = self.family.split(n_train_tasks, n_test_tasks)
        probe = self.family.make(self.train_tasks[:1])
        learner_cls = ProMP if isinstance(settings, ProMPSettings) else MAMLTRPO
        self.learner = learner_cls(probe.obs_dim, probe.act_dim, settings, seed=seed)
        self.rng = np.random.default_rng(seed)
        self.env_steps = 0
        self.iteration = 0
        self.curve: list[dict] = []
        self.last_stats: dict = {}

    @torch.no_grad()
    def rollouts(self, tasks: list[dict], params: torch.Tensor, deterministic: bool, seed: int) -> dict:
        """`fast_batch_size` trajectories per task with that task's row of params (M, P); arrays (M, K, H, ...)."""
        M, K, H = len(tasks), self.s.fast_batch_size, self.family.horizon
        policy = self.learner.policy
        env = self.family.make([t for t in tasks for _ in range(K)], seed=seed)
        gen = torch.Generator().manual_seed(seed)
        obs_all = np.zeros((M, K, H, policy.obs_dim), dtype=np.float32)
        act_all = np.zeros((M, K, H, policy.act_dim), dtype=np.float32)
        rew, valid = np.zeros((M, K, H)), np.zeros((M, K, H), dtype=bool)
        obs = env.reset()
        for t in range(H):
            o = torch.as_tensor(obs, dtype=torch.float32).reshape(M, K, -1)
            mean, log_std = policy.forward(params, o)
            a = mean if deterministic else mean + log_std.exp() * torch.randn(mean.shape, generator=gen)
            obs_next, reward, ctx_reward, done, info = env.step(np.clip(a.reshape(M * K, -1).numpy(), -1, 1))
            # the agent learns from the reward its task shows (sparse on sparse-point-robot), like RL^2
            obs_all[:, :, t], act_all[:, :, t] = o.numpy(), a.numpy()
            rew[:, :, t], valid[:, :, t] = ctx_reward.reshape(M, K), info["valid"].reshape(M, K)
            obs = obs_next
        return {"obs": obs_all, "actions": act_all, "rewards": rew, "valid": valid}

    def batch(self, data: dict, params: torch.Tensor) -> dict[str, torch.Tensor]:
        """Advantages from the per-task linear baseline and log pi of the sampling params (M, P);
        tensors flattened to (M, K*H, ...)."""
        adv = linear_baseline_advantages(data["obs"], data["rewards"], data["valid"], self.s.discount,
                                         self.s.baseline_reg)
        M = adv.shape[0]
        out = {"obs": torch.as_tensor(data["obs"]).reshape(M, -1, data["obs"].shape[-1]),
               "actions": torch.as_tensor(data["actions"]).reshape(M, -1, data["actions"].shape[-1]),
               "adv": torch.as_tensor(adv, dtype=torch.float32).reshape(M, -1),
               "mask": torch.as_tensor(data["valid"], dtype=torch.float32).reshape(M, -1)}
        with torch.no_grad():
            out["logp"] = self.learner.policy.log_prob(params.detach(), out["obs"], out["actions"])
        return out

    def train_iteration(self) -> dict:
        s, learner = self.s, self.learner
        idx = self.rng.integers(0, len(self.train_tasks), size=s.meta_batch_size)
        tasks = [self.train_tasks[i] for i in idx]
        seed = int(self.rng.integers(2**31))
        theta_rows = learner.theta.detach().expand(len(tasks), -1)
        pre_data = self.rollouts(tasks, theta_rows, deterministic=False, seed=seed)
        pre = self.batch(pre_data, theta_rows)
        adapted = learner.adapt(learner.theta.detach(), pre).detach()
        post_data = self.rollouts(tasks, adapted, deterministic=False, seed=seed + 1)
        post = self.batch(post_data, adapted)
        self.env_steps += int(pre_data["valid"].sum() + post_data["valid"].sum())
        self.last_stats = learner.meta_step(pre, post)
        self.last_stats["post_update_return"] = float(post_data["rewards"].sum(-1).mean())
        self.iteration += 1
        return self.last_stats

    def evaluate(self, seed: int = 0) -> dict:
        """Per test task: return of the exploration (pre-update) policy and of the adapted policy."""
        tasks = self.test_tasks
        theta_rows = self.learner.theta.detach().expand(len(tasks), -1)
        pre_data = self.rollouts(tasks, theta_rows, False, seed=30_000 + seed)
        adapted = self.learner.adapt(self.learner.theta.detach(), self.batch(pre_data, theta_rows)).detach()
        post = self.rollouts(tasks, adapted, deterministic=True, seed=40_000 + seed)
        pre_ret = (pre_data["rewards"] * pre_data["valid"]).sum(-1).mean(1)
        post_ret = (post["rewards"] * post["valid"]).sum(-1).mean(1)
        return {"returns": np.stack([pre_ret, post_ret], axis=1)}

    def train(self, total_env_steps: int, eval_every_steps: int,
              on_eval: Callable[["MAMLTrainer", dict], None] | None = None) -> list[dict]:
        next_eval = self.curve[-1]["env_steps"] + eval_every_steps if self.curve else 0
        while self.env_steps < total_env_steps:
            if self.env_steps >= next_eval:
                self._eval_point(on_eval)
                next_eval = self.env_steps + eval_every_steps
            self.train_iteration()
        self._eval_point(on_eval)
        return self.curve

    def _eval_point(self, on_eval) -> None:
        returns = self.evaluate(seed=self.iteration)["returns"]
        point = {"env_steps": self.env_steps, "iteration": self.iteration, "final_return": float(returns[:, -1].mean()),
                 "return_by_traj": [float(x) for x in returns.mean(axis=0)]}
        self.curve.append(point)
        if on_eval is not None:
            on_eval(self, point)

    def state_dict(self) -> dict:
        return {"learner": self.learner.state_dict(), "rng": self.rng.bit_generator.state, "env_steps": self.env_steps,
                "iteration": self.iteration, "curve": self.curve}

    def load_state_dict(self, state: dict) -> None:
        self.learner.load_state_dict(state["learner"])
        self.rng.bit_generator.state = state["rng"]
        for key in ("env_steps", "iteration", "curve"):
            setattr(self, key, state[key])
