"""KL-control, the baseline the BEAR paper compares against, as its authors run it (``KLControl`` in
aviralkumar2907/BEAR ``algos.py``, built by ``main.py`` as ``KLControl(2, ...)``; described, not copied).

Unlike BEAR-KL (BEAR's actor with a KL *constraint* in place of the MMD one), KL-control puts the KL
divergence into the *value*: the critic's target is ``r + gamma (1 - d) [min_k Q'_k(s', a') - T (log pi(a'|s')
- log beta(a'|s'))]`` with ``a' ~ pi(.|s')`` (one sample), so Q estimates the return minus the policy's KL to the
behaviour model along the way. The parts:

- behaviour model ``beta``: a tanh-Gaussian policy network (400-300) fitted by maximum likelihood,
  ``-log beta(a|s)`` of the dataset action (its pre-tanh value via atanh);
- actor: a tanh-Gaussian policy (400-300) maximising ``Q_1(s, a) - T (log pi(a|s) - log beta(a|s))`` with one
  reparameterised sample (noise clipped to +-0.5 as in the authors' sampler), updated every 2nd step, together
  with the temperature and the target critics;
- temperature ``T = exp(log T)``, ``log T ~ N(0, 1)`` at the start, Adam 1e-3: dual descent that raises T while the
  sampled KL exceeds 0.1 (the authors' ``mode='auto'``, where the ``temperature=0.1`` argument is the KL target);
- twin critics 400-300, target = min of the two target critics (no soft clipping), the next action from the
  *current* actor (the authors keep an actor target but never read it, so there is none here);
- gamma 0.98 (``KLControl.train``'s default, which ``main.py`` does not override), tau 0.005, batch 100, Adam 1e-3;
- evaluation: one sample of the stochastic actor (noise not clipped), no best-of-N.

Differences kept small and named: actions are clipped to ``1 - 1e-6`` before atanh (the authors clamp
``1 +- a`` at 1e-7 inside it) and ``log std`` is clamped to [-20, 2] as in every tanh-Gaussian policy here.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from paperlab.rl.bear.agents import one_observation
from paperlab.rl.common.networks import QEnsemble, TanhGaussianPolicy
from paperlab.rl.common.optim import ensemble_bellman_loss, frozen, gradient_step, make_adam, soft_update
from paperlab.rl.common.replay import Batch

ATANH_LIMIT = 1.0 - 1e-6   # |a| is clipped here before atanh: a dataset action of exactly +-1 has no pre-tanh value


@dataclass
class KLControlConfig:
    """Defaults: the authors' ``KLControl`` as ``main.py`` builds it (see the module docstring)."""
    actor_hidden: Sequence[int] = (400, 300)
    critic_hidden: Sequence[int] = (400, 300)
    behaviour_hidden: Sequence[int] = (400, 300)
    n_critics: int = 2
    kl_target: float = 0.1             # the KL the temperature's dual descent aims for ('auto' mode)
    initial_log_temperature: float | None = None   # None -> N(0, 1) draw as in the authors' code
    lr: float = 1e-3                   # Adam default: actor, critics, behaviour model
    temperature_lr: float = 1e-3
    actor_every: int = 2               # actor, temperature and target-network updates every 2nd step
    actor_noise_clip: float | None = 0.5
    batch_size: int = 100
    gamma: float = 0.98
    tau: float = 0.005


def pre_tanh(actions: torch.Tensor) -> torch.Tensor:
    """atanh of actions clipped to (-1, 1)."""
    return torch.atanh(actions.clamp(-ATANH_LIMIT, ATANH_LIMIT))


def log_ratio(policy: TanhGaussianPolicy, behaviour: TanhGaussianPolicy, obs: torch.Tensor, raw: torch.Tensor
              ) -> torch.Tensor:
    """``log pi(a|s) - log beta(a|s)`` at ``a = tanh(raw)``: a one-sample estimate of KL(pi || beta) when raw is drawn
    from pi (the tanh Jacobians of the two densities cancel, so this is the Gaussians' log ratio)."""
    return policy.log_prob(obs, raw) - behaviour.log_prob(obs, raw)


def kl_control_target(q_next: torch.Tensor, kl_next: torch.Tensor, rewards: torch.Tensor, terminals: torch.Tensor,
                      gamma: float, temperature: float | torch.Tensor) -> torch.Tensor:
    """``r + gamma (1 - d) (min_k Q'_k(s', a') - T * (log pi - log beta)(a'|s'))``; ``q_next`` is ``(K, B)``."""
    return rewards + gamma * (1.0 - terminals) * (q_next.min(0).values - temperature * kl_next)


class KLControl(torch.nn.Module):
    def __init__(self, obs_dim: int, act_dim: int, cfg: KLControlConfig = KLControlConfig(), device: str = "cpu"):
        super().__init__()
        self.cfg, self.device, self.obs_dim = cfg, device, obs_dim
        self.actor = TanhGaussianPolicy(obs_dim, act_dim, cfg.actor_hidden)
        self.behaviour = TanhGaussianPolicy(obs_dim, act_dim, cfg.behaviour_hidden)
        self.critic = QEnsemble(obs_dim, act_dim, cfg.n_critics, cfg.critic_hidden)
        self.critic_target = QEnsemble(obs_dim, act_dim, cfg.n_critics, cfg.critic_hidden).requires_grad_(False)
        self.critic_target.load_state_dict(self.critic.state_dict())
        init = float(torch.randn(())) if cfg.initial_log_temperature is None else cfg.initial_log_temperature
        self.log_temperature = torch.nn.Parameter(torch.tensor(init))
        self.to(device)
        self.actor_opt = make_adam(self.actor.parameters(), cfg.lr)
        self.critic_opt = make_adam(self.critic.parameters(), cfg.lr)
        self.behaviour_opt = make_adam(self.behaviour.parameters(), cfg.lr)
        self.temperature_opt = make_adam([self.log_temperature], cfg.temperature_lr)
        self.steps = 0

    def _sample(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One reparameterised actor sample per state with the authors' clipped noise: (action, pre-tanh)."""
        mean, log_std = self.actor(obs)
        noise = torch.randn_like(mean)
        if self.cfg.actor_noise_clip is not None:
            noise = noise.clamp(-self.cfg.actor_noise_clip, self.cfg.actor_noise_clip)
        raw = mean + log_std.exp() * noise
        return torch.tanh(raw), raw

    def q_values(self, obs: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        return self.critic(obs, actions)

    def update(self, batch: Batch) -> dict[str, float]:
        cfg = self.cfg
        # 1. Behaviour model: maximum likelihood of the dataset actions.
        behaviour_loss = -self.behaviour.log_prob(batch.obs, pre_tanh(batch.actions)).mean()
        gradient_step(self.behaviour_opt, behaviour_loss)

        # 2. Critic: the KL-penalised target, one next action from the current actor.
        temperature = self.log_temperature.exp().detach()
        with torch.no_grad():
            next_a, next_raw = self._sample(batch.next_obs)
            kl_next = log_ratio(self.actor, self.behaviour, batch.next_obs, next_raw)
            target = kl_control_target(self.critic_target(batch.next_obs, next_a), kl_next, batch.rewards,
                                       batch.terminals, cfg.gamma, temperature)
        critic_loss = ensemble_bellman_loss(self.critic(batch.obs, batch.actions), target)
        gradient_step(self.critic_opt, critic_loss)
        metrics = {"critic_loss": critic_loss.item(), "behaviour_loss": behaviour_loss.item()}

        # 3. Every actor_every steps: temperature (dual descent on KL <= kl_target), actor, target critics.
        if self.steps % cfg.actor_every == 0:
            actions, raw = self._sample(batch.obs)
            with frozen(self.behaviour):
                kl = log_ratio(self.actor, self.behaviour, batch.obs, raw)
            temperature_loss = self.log_temperature.exp() * (cfg.kl_target - kl.detach()).mean()
            gradient_step(self.temperature_opt, temperature_loss)
            with frozen(self.critic):
                q = self.critic(batch.obs, actions)[0]
            actor_loss = (-q + temperature * kl).mean()
            gradient_step(self.actor_opt, actor_loss)
            soft_update(self.critic_target, self.critic, cfg.tau)
            metrics.update(actor_loss=actor_loss.item(), alpha=float(temperature), divergence=kl.mean().item())
        self.steps += 1
        return metrics

    @torch.no_grad()
    def act(self, obs: np.ndarray) -> np.ndarray:
        o = one_observation(obs, self.obs_dim, "KLControl.act", self.device)
        return self.actor.sample(o)[0][0].cpu().numpy()


def gaussian_kl(mean_p: torch.Tensor, log_std_p: torch.Tensor, mean_q: torch.Tensor, log_std_q: torch.Tensor
                ) -> torch.Tensor:
    """Closed-form KL(N_p || N_q) of diagonal Gaussians, summed over the last dimension (a check on the sampled
    estimate: tanh is a bijection, so the tanh-Gaussians' KL is the same number)."""
    var_ratio = torch.exp(2 * (log_std_p - log_std_q))
    return 0.5 * (var_ratio + (mean_p - mean_q).pow(2) / torch.exp(2 * log_std_q) - 1.0
                  - 2 * (log_std_p - log_std_q)).sum(-1)

