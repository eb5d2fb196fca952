"""Offline agents trained on the same batches: BEAR (MMD or KL constraint), BCQ, behaviour cloning.

Every agent exposes ``update(batch) -> metrics``, ``act(obs) -> action`` and ``q_values(obs, actions) ->
(K, B)`` (used to track Q estimates against Monte-Carlo returns). Naive offline SAC is
:class:`paperlab.rl.common.sac.SAC` fed with dataset batches.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from paperlab.core.constraints import check_shape

from paperlab.rl.bear.behaviour import BehaviourVAE
from paperlab.rl.bear.divergences import KERNELS, behaviour_cross_entropy, mmd
from paperlab.rl.common.networks import MLP, QEnsemble, TanhGaussianPolicy, gaussian_log_prob, tanh_log_det_jacobian
from paperlab.rl.common.replay import Batch
from paperlab.rl.common.optim import ensemble_bellman_loss, frozen, gradient_step, make_adam, soft_update


def soft_clipped_target(q_next: torch.Tensor, lam: float, batch_size: int, n_samples: int,
                        penalty: torch.Tensor | None = None) -> torch.Tensor:
    """BEAR section 5 / BCQ eq. 13: ``max_{a_i} [lam * min_k Q_k + (1 - lam) * max_k Q_k]``.

    ``q_next`` is ``(K, B * n)`` with the ``n`` sampled next actions of state ``b`` at rows ``b*n .. b*n+n-1``.
    ``penalty`` ``(B * n,)``, if given, is subtracted at the chosen action (d3rlpy: temperature * log pi).
    """
    mixed = lam * q_next.min(0).values + (1.0 - lam) * q_next.max(0).values
    values, chosen = mixed.view(batch_size, n_samples).max(1)
    if penalty is not None:
        values = values - penalty.view(batch_size, n_samples).gather(1, chosen.unsqueeze(1)).squeeze(1)
    return values


def _repeat_rows(x: torch.Tensor, n: int) -> torch.Tensor:
    """``(B, d) -> (B * n, d)`` with each row repeated ``n`` times consecutively."""
    return x.repeat_interleave(n, dim=0)


def soft_clipped_critic_step(agent, batch: Batch, sample_next_actions, n_samples: int, lam: float, gamma: float
                             ) -> torch.Tensor:
    """One critic update towards ``r + gamma (1 - done) soft_clipped_target(...)``; ``sample_next_actions(next_obs)``
    returns ``n_samples`` actions per next state as ``(B * n, |A|)`` (row ``b*n + i`` belongs to state ``b``), or
    ``(actions, penalty)`` with a per-action ``penalty`` ``(B * n,)`` subtracted at the chosen one."""
    b = batch.obs.shape[0]
    with torch.no_grad():
        next_rep = _repeat_rows(batch.next_obs, n_samples)
        sampled = sample_next_actions(batch.next_obs)
        actions, penalty = sampled if isinstance(sampled, tuple) else (sampled, None)
        q_next = agent.critic_target(next_rep, actions)
        value = soft_clipped_target(q_next, lam, b, n_samples, penalty)
        target = batch.rewards + gamma * (1.0 - batch.terminals) * value
    loss = ensemble_bellman_loss(agent.critic(batch.obs, batch.actions), target)
    gradient_step(agent.critic_opt, loss)
    return loss


@torch.no_grad()
def best_of_n_action(q: QEnsemble, obs: torch.Tensor, candidates: torch.Tensor) -> torch.Tensor:
    """Evaluation rule of BEAR/BCQ: among candidate actions ``(n, |A|)`` for one state, return the argmax of Q_1."""
    q1 = q(obs.expand(candidates.shape[0], -1), candidates)[0]
    return candidates[q1.argmax()]


def one_observation(obs, obs_dim: int, owner: str, device: str) -> torch.Tensor:
    """One finite observation of shape (obs_dim,) as a (1, obs_dim) tensor: `act` picks one action."""
    check_shape(obs, (obs_dim,), "obs (one observation; call act once per observation)", owner, finite=True)
    return torch.as_tensor(obs, dtype=torch.float32, device=device).reshape(1, -1)


@dataclass
class BEARConfig:
    """BEAR's settings. Defaults: the authors' 2019 code (aviralkumar2907/BEAR, main.py/algos.py, README) and the
    paper's appendix. ``constraint="kl"`` is the paper's KL ablation (authors' ``use_kl``: ``-E_beta log pi``,
    threshold -2). Three presets (``bear_config(preset)``), side by side:

    ===================== ======================= ============================ ============================
    setting               ``authors`` (2019)      ``d4rl`` (D4RL evaluations)   ``d3rlpy`` (2.8.1 script)
    ===================== ======================= ============================ ============================
    actor / critics       400-300                 256-256                      256-256
    VAE                   750-750                 750-750                      750-750
    lr actor/critic/VAE   1e-3 / 1e-3 / 1e-3      1e-4 / 3e-4 / 3e-4           1e-4 / 3e-4 / 3e-4
    dual lr (log alpha)   1e-3                    1e-3                         1e-4 (see BEAR_PRESETS)
    batch                 100                     256                          256
    MMD samples           5 (noise clipped 0.5)   4 (not clipped)              4 (not clipped)
    kernel, sigma         laplacian 10 (Hopper,   gaussian 20 on HalfCheetah,  gaussian 20 on HalfCheetah,
                          HalfCheetah), gaussian  laplacian 20 elsewhere       laplacian 20 elsewhere
                          20 (Walker2d, Ant)
    epsilon               0.05                    0.05                         0.05
    initial log alpha     N(0, 1)                 0                            0
    warm start            20k, dual step in it    40k, dual step in it         40k, no dual step in it
    target actions        target actor            current policy               current policy - T log pi
    entropy term          none                    none                         off (T = 1e-20, lr 0)
    evaluation            best of 10 by Q1        best of 100 by Q1            best of 100 by Q1
    ===================== ======================= ============================ ============================

    ``d4rl``: rail-berkeley/d4rl_evaluations ``bear/`` (rlkit ``BEARTrainer`` and its README's settings for the
    D4RL table; its example script's defaults are sigma 50 and 3M updates, the README's are used here). Its actor's
    Q term uses one of the 4 samples, ours their mean (same expectation). ``warmup_steps`` scaled by a scale
    preset keeps each preset's ratio to the authors' 20k (training.make_agent).
    Settings that differ from the paper's algorithm (target_policy, entropy_temperature, dual_in_warmup,
    actor_noise_clip=None) select :class:`BEARVariant`; the paper's :class:`BEAR` has none of them in its update.
    """
    actor_hidden: Sequence[int] = (400, 300)
    critic_hidden: Sequence[int] = (400, 300)
    vae_hidden: Sequence[int] = (750, 750)
    n_critics: int = 2                 # K
    lam: float = 0.75                  # lambda in the soft-clipped target
    n_target_samples: int = 10         # actions sampled at s' for the target max
    n_mmd_samples: int = 5             # num_samples_match (README's recommended value)
    n_eval_samples: int = 10           # best-of-N action selection at evaluation
    kernel: str = "laplacian"          # laplacian for Hopper/HalfCheetah, gaussian for Walker/Ant
    mmd_sigma: float = 10.0            # 10 Hopper/HalfCheetah, 20 Walker/Ant
    constraint: str = "mmd"            # "mmd" (BEAR) | "kl" (distribution-matching ablation)
    epsilon: float | None = None       # None -> 0.05 for MMD, -2.0 for KL (authors' thresholds)
    actor_lr: float = 1e-3             # Adam default lr in the authors' code
    critic_lr: float = 1e-3
    vae_lr: float = 1e-3
    lagrange_lr: float = 1e-3
    initial_log_alpha: float | None = None   # None -> N(0, 1) draw as in the authors' code
    log_alpha_bounds: tuple[float, float] = (-5.0, 10.0)   # clamp, upper = lagrange_thresh
    warmup_steps: int = 20_000         # MMD-only actor updates (20 "epochs" of 1000 iterations)
    actor_noise_clip: float | None = 0.5   # authors clip the actor's Gaussian noise in sample_multiple
    # variants (d3rlpy / D4RL evaluations); the defaults are the paper's
    entropy_temperature: float | None = None  # d3rlpy adds a SAC entropy term; None = off (authors)
    temperature_lr: float = 1e-4       # 0 keeps the temperature fixed
    target_policy: str = "target"      # "target": target actor at s' (authors); "current": the current policy,
    #                                    minus temperature * log pi of the chosen action (d3rlpy)
    dual_in_warmup: bool = True        # authors update log alpha during the warm start too; d3rlpy does not
    batch_size: int = 100
    gamma: float = 0.99
    tau: float = 0.005

    def __post_init__(self) -> None:
        if self.kernel not in KERNELS:
            raise ValueError(f"unknown MMD kernel {self.kernel!r}; valid: {', '.join(KERNELS)}")
        if self.constraint not in ("mmd", "kl"):
            raise ValueError(f"constraint must be 'mmd' or 'kl', got {self.constraint!r}")
        if self.target_policy not in ("target", "current"):
            raise ValueError(f"target_policy must be 'target' or 'current', got {self.target_policy!r}")
        if not 0.0 <= self.lam <= 1.0:
            raise ValueError(f"lam must be in [0, 1], got {self.lam}")

    @property
    def threshold(self) -> float:
        if self.epsilon is not None:
            return self.epsilon
        return 0.05 if self.constraint == "mmd" else -2.0

    @property
    def is_paper_algorithm(self) -> bool:
        """True when no setting departs from the paper's update (the variant flags at their defaults)."""
        return (self.target_policy == "target" and self.entropy_temperature is None and self.dual_in_warmup
                and self.actor_noise_clip is not None)


# "d4rl": rail-berkeley/d4rl_evaluations bear/ as its README runs it for the D4RL table (kernel set by the caller:
# gaussian on HalfCheetah, laplacian elsewhere, sigma 20). "d3rlpy": d3rlpy 2.8.1's BEAR as its reproduction
# script (reproductions/offline/bear.py) runs it: BEARConfig defaults (256-256 actor/critics, batch 256, 4 MMD
# samples, best of 100, warm start 40k, initial alpha 1) with lrs actor 1e-4 / critic 3e-4 / VAE 3e-4, a 750-750
# VAE, sigma 20 (kernel set by the caller), the entropy term off (initial temperature 1e-20, lr 0), the Bellman
# target from the current policy, and no dual step during the warm start. Its dual lr is 1e-4 because d3rlpy 2.8.1
# builds the alpha optimiser with actor_learning_rate (its alpha_learning_rate=1e-3 is never read).
BEAR_PRESETS: dict[str, dict] = {
    "authors": {},
    "d4rl": dict(actor_hidden=(256, 256), critic_hidden=(256, 256), vae_hidden=(750, 750),
                 actor_lr=1e-4, critic_lr=3e-4, vae_lr=3e-4, lagrange_lr=1e-3, batch_size=256, n_mmd_samples=4,
                 n_eval_samples=100, kernel="laplacian", mmd_sigma=20.0, epsilon=0.05, initial_log_alpha=0.0,
                 warmup_steps=40_000, actor_noise_clip=None, target_policy="current", dual_in_warmup=True),
    "d3rlpy": dict(actor_hidden=(256, 256), critic_hidden=(256, 256), vae_hidden=(750, 750),
                   actor_lr=1e-4, critic_lr=3e-4, vae_lr=3e-4, lagrange_lr=1e-4, temperature_lr=0.0,
                   batch_size=256, n_mmd_samples=4, n_eval_samples=100, kernel="laplacian", mmd_sigma=20.0,
                   epsilon=0.05, initial_log_alpha=0.0, warmup_steps=40_000, actor_noise_clip=None,
                   entropy_temperature=1e-20, target_policy="current", dual_in_warmup=False),
}


def bear_config(preset: str = "authors", **overrides) -> BEARConfig:
    if preset not in BEAR_PRESETS:
        raise ValueError(f"unknown BEAR preset {preset!r}; valid: {', '.join(BEAR_PRESETS)}")
    return BEARConfig(**{**BEAR_PRESETS[preset], **overrides})


def make_bear(obs_dim: int, act_dim: int, cfg: BEARConfig = BEARConfig(), device: str = "cpu") -> "BEAR":
    """The paper's BEAR, or :class:`BEARVariant` when ``cfg`` departs from the paper's update."""
    return (BEAR if cfg.is_paper_algorithm else BEARVariant)(obs_dim, act_dim, cfg, device)


class BEAR(torch.nn.Module):
    """BEAR as the paper and the authors' code define it (section 5, algorithm 1). The steps that variants change
    (:class:`BEARVariant`) are methods: ``_target_actions``, ``_actor_samples``, ``_actor_loss``, ``_dual_step``."""

    def __init__(self, obs_dim: int, act_dim: int, cfg: BEARConfig = BEARConfig(), device: str = "cpu"):
        super().__init__()
        if type(self) is BEAR and not cfg.is_paper_algorithm:
            raise ValueError("this BEARConfig departs from the paper's update (target_policy, entropy_temperature, "
                             "dual_in_warmup or actor_noise_clip=None): build it with make_bear or BEARVariant")
        self.cfg, self.device, self.obs_dim = cfg, device, obs_dim
        self.actor = TanhGaussianPolicy(obs_dim, act_dim, cfg.actor_hidden)
        self.actor_target = copy.deepcopy(self.actor).requires_grad_(False)
        self.critic = QEnsemble(obs_dim, act_dim, cfg.n_critics, cfg.critic_hidden)
        self.critic_target = copy.deepcopy(self.critic).requires_grad_(False)
        self.vae = BehaviourVAE(obs_dim, act_dim, cfg.vae_hidden)
        init = float(torch.randn(())) if cfg.initial_log_alpha is None else cfg.initial_log_alpha
        self.log_alpha = torch.nn.Parameter(torch.tensor(init))
        self.to(device)
        self.actor_opt = make_adam(self.actor.parameters(), cfg.actor_lr)
        self.critic_opt = make_adam(self.critic.parameters(), cfg.critic_lr)
        self.vae_opt = make_adam(self.vae.parameters(), cfg.vae_lr)
        self.alpha_opt = make_adam([self.log_alpha], cfg.lagrange_lr)
        self.steps = 0

    def _actor_samples(self, obs: torch.Tensor, n: int):
        """``n`` samples per state ``(B, n, |A|)`` with the authors' clipped Gaussian noise: (actions, pre-tanh,
        None); the third entry is the variants' ``log pi``."""
        mean, log_std = self.actor(obs)
        noise = torch.randn(obs.shape[0], n, mean.shape[-1], device=obs.device)
        noise = noise.clamp(-self.cfg.actor_noise_clip, self.cfg.actor_noise_clip)
        pre_tanh = mean.unsqueeze(1) + log_std.exp().unsqueeze(1) * noise
        return torch.tanh(pre_tanh), pre_tanh, None

    def q_values(self, obs: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        return self.critic(obs, actions)

    def _target_actions(self, next_obs: torch.Tensor):
        """``n_target_samples`` target-actor actions per next state, ``(B * n, |A|)`` in repeat_interleave order.
        The actor runs once per state (not once per repeated row); the noise draws equal sampling the repeats."""
        return self.actor_target.sample_n(next_obs, self.cfg.n_target_samples)[0].reshape(-1, self.actor.act_dim)

    def constraint_value(self, obs: torch.Tensor, behaviour_raw: torch.Tensor, actor_raw: torch.Tensor):
        if self.cfg.constraint == "kl":
            return behaviour_cross_entropy(self.actor, obs, behaviour_raw)
        return mmd(behaviour_raw, actor_raw, self.cfg.kernel, self.cfg.mmd_sigma)

    def _actor_loss(self, q_pi: torch.Tensor, divergence: torch.Tensor, warm: bool, log_prob) -> torch.Tensor:
        """Lagrangian of eq. 5, ``-min_k Q + alpha * divergence``; the divergence term alone while warming up."""
        alpha = self.log_alpha.exp().detach()
        return (alpha * divergence).mean() if warm else (-q_pi + alpha * divergence).mean()

    def _dual_step(self, divergence: torch.Tensor, warm: bool, log_prob) -> None:
        """Gradient ascent on log alpha (also while warming up, as the authors do): alpha grows while the
        constraint is violated (divergence > eps); clamped to ``log_alpha_bounds``."""
        lagrange_loss = -(self.log_alpha.exp() * (divergence.detach() - self.cfg.threshold)).mean()
        gradient_step(self.alpha_opt, lagrange_loss)
        with torch.no_grad():
            self.log_alpha.clamp_(*self.cfg.log_alpha_bounds)

    def update(self, batch: Batch) -> dict[str, float]:
        cfg = self.cfg
        b = batch.obs.shape[0]
        # 1. Behaviour model (VAE) on the dataset actions.
        vae_loss = self.vae.loss(batch.obs, batch.actions)
        gradient_step(self.vae_opt, vae_loss)

        # 2. Critic: soft-clipped double-Q target over n sampled next actions (section 5, "Q-function").
        critic_loss = soft_clipped_critic_step(self, batch, self._target_actions, cfg.n_target_samples, cfg.lam,
                                               cfg.gamma)

        # 3. Actor: max_pi E[min_k Q_k(s, a)] s.t. constraint(beta, pi) <= eps, Lagrangian form (eq. 5).
        with torch.no_grad():
            _, behaviour_raw = self.vae.sample_n(batch.obs, cfg.n_mmd_samples)
        actor_a, actor_raw, log_prob = self._actor_samples(batch.obs, cfg.n_mmd_samples)
        divergence = self.constraint_value(batch.obs, behaviour_raw, actor_raw)           # (B,)
        obs_rep = batch.obs.unsqueeze(1).expand(b, cfg.n_mmd_samples, batch.obs.shape[-1])
        warm = self.steps < cfg.warmup_steps
        # the actor loss trains the actor only: no critic weight gradients, no graph at all while warming up
        with frozen(self.critic), torch.set_grad_enabled(not warm):
            q_pi = self.critic(obs_rep.reshape(-1, obs_rep.shape[-1]), actor_a.reshape(-1, actor_a.shape[-1]))
        q_pi = q_pi.view(cfg.n_critics, b, cfg.n_mmd_samples).mean(2).min(0).values         # min over ensemble
        alpha = self.log_alpha.exp().detach()
        actor_loss = self._actor_loss(q_pi, divergence, warm, log_prob)
        gradient_step(self.actor_opt, actor_loss)

        # 4. Dual variable(s).
        self._dual_step(divergence, warm, log_prob)

        soft_update(self.critic_target, self.critic, cfg.tau)
        soft_update(self.actor_target, self.actor, cfg.tau)
        self.steps += 1
        return {"critic_loss": critic_loss.item(), "actor_loss": actor_loss.item(), "vae_loss": vae_loss.item(),
                "divergence": divergence.mean().item(), "alpha": float(alpha), "q_pi": q_pi.mean().item()}

    @torch.no_grad()
    def act(self, obs: np.ndarray) -> np.ndarray:
        o = one_observation(obs, self.obs_dim, "BEAR.act", self.device)
        candidates = self.actor.sample_n(o, self.cfg.n_eval_samples)[0][0]
        return best_of_n_action(self.critic, o, candidates).cpu().numpy()


class BEARVariant(BEAR):
    """BEAR as later code runs it (d3rlpy 2.8.1, rail-berkeley/d4rl_evaluations), each difference a config flag:

    - ``target_policy="current"``: Bellman target actions from the current policy, not the target actor, minus
      ``temperature * log pi`` of the chosen action when the entropy term is on (d3rlpy ``compute_target``);
    - ``entropy_temperature``: a SAC entropy term in the actor loss with a learned temperature (d3rlpy);
    - ``dual_in_warmup=False``: no dual step on log alpha during the warm start (d3rlpy ``warmup_actor``);
    - ``actor_noise_clip=None``: the actor's Gaussian noise is not clipped.
    """

    def __init__(self, obs_dim: int, act_dim: int, cfg: BEARConfig = BEARConfig(), device: str = "cpu"):
        super().__init__(obs_dim, act_dim, cfg, device)
        init = math.log(cfg.entropy_temperature or 1.0)
        self.log_temperature = torch.nn.Parameter(torch.tensor(init, device=device))
        self.temperature_opt = make_adam([self.log_temperature], cfg.temperature_lr)
        self.target_entropy = -float(act_dim)

    def _actor_samples(self, obs: torch.Tensor, n: int):
        mean, log_std = self.actor(obs)
        noise = torch.randn(obs.shape[0], n, mean.shape[-1], device=obs.device)
        if self.cfg.actor_noise_clip is not None:
            noise = noise.clamp(-self.cfg.actor_noise_clip, self.cfg.actor_noise_clip)
        mean, log_std = mean.unsqueeze(1), log_std.unsqueeze(1)
        pre_tanh = mean + log_std.exp() * noise
        if self.cfg.entropy_temperature is None:
            return torch.tanh(pre_tanh), pre_tanh, None
        log_prob = gaussian_log_prob(pre_tanh, mean, log_std) - tanh_log_det_jacobian(pre_tanh)
        return torch.tanh(pre_tanh), pre_tanh, log_prob.mean(1)

    def _target_actions(self, next_obs: torch.Tensor):
        if self.cfg.target_policy == "target":
            return super()._target_actions(next_obs)
        actions, log_prob, _ = self.actor.sample_n(next_obs, self.cfg.n_target_samples)
        actions = actions.reshape(-1, self.actor.act_dim)
        if self.cfg.entropy_temperature is None:
            return actions
        return actions, (self.log_temperature.exp() * log_prob).reshape(-1)

    def _actor_loss(self, q_pi, divergence, warm, log_prob):
        loss = super()._actor_loss(q_pi, divergence, warm, log_prob)
        if log_prob is None:
            return loss
        return loss + (self.log_temperature.exp().detach() * log_prob).mean()

    def _dual_step(self, divergence, warm, log_prob):
        if self.cfg.dual_in_warmup or not warm:
            super()._dual_step(divergence, warm, log_prob)
        if log_prob is not None:
            temp_loss = -(self.log_temperature * (log_prob.detach() + self.target_entropy)).mean()
            gradient_step(self.temperature_opt, temp_loss)


@dataclass
class BCQConfig:
    """Defaults: Fujimoto et al. 2019 (BCQ) code as vendored in the BEAR repo: 400-300 nets, 750-750 VAE,
    perturbation Phi = 0.05, lambda 0.75, 10 samples, Adam lr 1e-3, batch 100."""
    actor_hidden: Sequence[int] = (400, 300)
    critic_hidden: Sequence[int] = (400, 300)
    vae_hidden: Sequence[int] = (750, 750)
    n_critics: int = 2
    phi: float = 0.05
    lam: float = 0.75
    n_samples: int = 10
    lr: float = 1e-3
    batch_size: int = 100
    gamma: float = 0.99
    tau: float = 0.005


class PerturbationActor(torch.nn.Module):
    """BCQ's xi_phi(s, a): ``a + Phi * tanh(f(s, a))`` clipped to ``[-1, 1]``."""

    def __init__(self, obs_dim: int, act_dim: int, hidden: Sequence[int], phi: float):
        super().__init__()
        self.net, self.phi = MLP(obs_dim + act_dim, act_dim, hidden), phi

    def forward(self, obs: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        return (actions + self.phi * torch.tanh(self.net(torch.cat([obs, actions], -1)))).clamp(-1.0, 1.0)


class BCQ(torch.nn.Module):
    def __init__(self, obs_dim: int, act_dim: int, cfg: BCQConfig = BCQConfig(), device: str = "cpu"):
        super().__init__()
        self.cfg, self.device, self.obs_dim = cfg, device, obs_dim
        self.actor = PerturbationActor(obs_dim, act_dim, cfg.actor_hidden, cfg.phi)
        self.actor_target = copy.deepcopy(self.actor).requires_grad_(False)
        self.critic = QEnsemble(obs_dim, act_dim, cfg.n_critics, cfg.critic_hidden)
        self.critic_target = copy.deepcopy(self.critic).requires_grad_(False)
        self.vae = BehaviourVAE(obs_dim, act_dim, cfg.vae_hidden)
        self.to(device)
        self.actor_opt = make_adam(self.actor.parameters(), cfg.lr)
        self.critic_opt = make_adam(self.critic.parameters(), cfg.lr)
        self.vae_opt = make_adam(self.vae.parameters(), cfg.lr)

    def q_values(self, obs: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        return self.critic(obs, actions)

    def _target_actions(self, next_obs: torch.Tensor) -> torch.Tensor:
        rep = _repeat_rows(next_obs, self.cfg.n_samples)
        return self.actor_target(rep, torch.tanh(self.vae.decode_pre_tanh(rep)))

    def update(self, batch: Batch) -> dict[str, float]:
        cfg = self.cfg
        vae_loss = self.vae.loss(batch.obs, batch.actions)
        gradient_step(self.vae_opt, vae_loss)

        # BCQ eq. 13: perturbed VAE samples at s', soft clipped double Q, max over samples
        critic_loss = soft_clipped_critic_step(
            self, batch, self._target_actions, cfg.n_samples, cfg.lam, cfg.gamma)

        with torch.no_grad():
            sampled = torch.tanh(self.vae.decode_pre_tanh(batch.obs))
        actor_loss = -self.critic(batch.obs, self.actor(batch.obs, sampled))[0].mean()   # maximise Q_1
        gradient_step(self.actor_opt, actor_loss)
        soft_update(self.critic_target, self.critic, cfg.tau)
        soft_update(self.actor_target, self.actor, cfg.tau)
        return {"critic_loss": critic_loss.item(), "actor_loss": actor_loss.item(), "vae_loss": vae_loss.item()}

    @torch.no_grad()
    def act(self, obs: np.ndarray) -> np.ndarray:
        o = one_observation(obs, self.obs_dim, "BCQ.act", self.device)
        rep = o.expand(self.cfg.n_samples, -1)
        candidates = self.actor(rep, torch.tanh(self.vae.decode_pre_tanh(rep)))
        return best_of_n_action(self.critic, o, candidates).cpu().numpy()


@dataclass
class BCConfig:
    """Deterministic behaviour cloning (MSE on actions), the policy-matching baseline; BEAR repo: 400-300."""
    hidden: Sequence[int] = (400, 300)
    lr: float = 1e-3
    batch_size: int = 100


class BehaviourCloning(torch.nn.Module):
    def __init__(self, obs_dim: int, act_dim: int, cfg: BCConfig = BCConfig(), device: str = "cpu"):
        super().__init__()
        self.cfg, self.device, self.obs_dim = cfg, device, obs_dim
        self.policy = MLP(obs_dim, act_dim, cfg.hidden)
        self.to(device)
        self.opt = make_adam(self.policy.parameters(), cfg.lr)

    def q_values(self, obs: torch.Tensor, actions: torch.Tensor) -> torch.Tensor | None:
        return None   # no value function

    def update(self, batch: Batch) -> dict[str, float]:
        loss = F.mse_loss(torch.tanh(self.policy(batch.obs)), batch.actions)
        gradient_step(self.opt, loss)
        return {"bc_loss": loss.item()}

    @torch.no_grad()
    def act(self, obs: np.ndarray) -> np.ndarray:
        o = one_observation(obs, self.obs_dim, "BehaviourCloning.act", self.device)
        return torch.tanh(self.policy(o))[0].cpu().numpy()
