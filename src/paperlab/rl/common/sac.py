"""Soft Actor-Critic (Haarnoja et al. 2018, "SAC: algorithms and applications") with a learned temperature.

One :meth:`SAC.update` = one gradient step on the critics (soft Bellman residual, eq. 5), the actor (eq. 7)
and the temperature (eq. 18, target entropy ``-|A|``), then Polyak averaging of the target critics.

Used by BEAR's behaviour-policy training; PEARL's SAC-v1 learner (with a V network) shares its parts
(`rl/common/networks.py`, `rl/common/optim.py`), not this class.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from paperlab.rl.common.networks import QEnsemble, TanhGaussianPolicy
from paperlab.rl.common.optim import ensemble_bellman_loss, frozen, gradient_step, make_adam, soft_update
from paperlab.rl.common.replay import Batch


@dataclass
class SACConfig:
    """Defaults: SAC paper table 1 (lr 3e-4, batch 256, 2x256, tau 0.005, gamma 0.99)."""
    hidden: Sequence[int] = (256, 256)
    n_critics: int = 2
    actor_lr: float = 3e-4
    critic_lr: float = 3e-4
    temperature_lr: float = 3e-4
    gamma: float = 0.99
    tau: float = 0.005
    batch_size: int = 256
    initial_temperature: float = 1.0
    learn_temperature: bool = True
    target_entropy: float | None = None   # None -> -act_dim


class SAC(torch.nn.Module):
    def __init__(self, obs_dim: int, act_dim: int, cfg: SACConfig = SACConfig(), device: str = "cpu"):
        super().__init__()
        self.cfg, self.device, self.act_dim = cfg, device, act_dim
        self.actor = TanhGaussianPolicy(obs_dim, act_dim, cfg.hidden)
        self.critic = QEnsemble(obs_dim, act_dim, cfg.n_critics, cfg.hidden)
        self.critic_target = copy.deepcopy(self.critic).requires_grad_(False)
        self.log_alpha = torch.nn.Parameter(torch.tensor(float(np.log(cfg.initial_temperature))))
        self.target_entropy = -float(act_dim) if cfg.target_entropy is None else cfg.target_entropy
        self.to(device)
        self.actor_opt = make_adam(self.actor.parameters(), cfg.actor_lr)
        self.critic_opt = make_adam(self.critic.parameters(), cfg.critic_lr)
        self.alpha_opt = make_adam([self.log_alpha], cfg.temperature_lr)

    @property
    def alpha(self) -> torch.Tensor:
        return self.log_alpha.exp().detach()

    @torch.no_grad()
    def act(self, obs: np.ndarray, deterministic: bool = False) -> np.ndarray:
        o = torch.as_tensor(obs, dtype=torch.float32, device=self.device).reshape(1, -1)
        return self.actor.sample(o, deterministic)[0][0].cpu().numpy()

    @torch.no_grad()
    def next_state_value(self, next_obs: torch.Tensor) -> torch.Tensor:
        """Soft value ``V(s') = min_k Q'_k(s', a') - alpha log pi(a'|s')``, ``a' ~ pi`` (SAC eq. 3)."""
        a, logp, _ = self.actor.sample(next_obs)
        return self.critic_target(next_obs, a).min(0).values - self.alpha * logp

    def critic_loss(self, batch: Batch) -> torch.Tensor:
        """Soft Bellman residual (SAC eq. 5), summed over ensemble members."""
        target = batch.rewards + self.cfg.gamma * (1 - batch.terminals) * self.next_state_value(batch.next_obs)
        q = self.critic(batch.obs, batch.actions)
        return ensemble_bellman_loss(q, target)

    def update_targets(self) -> None:
        """Polyak averaging of the target critics."""
        soft_update(self.critic_target, self.critic, self.cfg.tau)

    def update(self, batch: Batch) -> dict[str, float]:
        critic_loss = self.critic_loss(batch)
        gradient_step(self.critic_opt, critic_loss)
        metrics = {"critic_loss": critic_loss.item()}

        # Actor (SAC eq. 7): minimise alpha log pi(a|s) - min_k Q_k(s, a), a reparameterised.
        a, logp, _ = self.actor.sample(batch.obs)
        with frozen(self.critic):  # the actor loss trains the actor only: skip the critic weight gradients
            q_pi = self.critic(batch.obs, a).min(0).values
        actor_loss = (self.alpha * logp - q_pi).mean()
        gradient_step(self.actor_opt, actor_loss)

        if self.cfg.learn_temperature:  # SAC eq. 18
            alpha_loss = -(self.log_alpha * (logp.detach() + self.target_entropy)).mean()
            gradient_step(self.alpha_opt, alpha_loss)

        self.update_targets()
        metrics.update(actor_loss=actor_loss.item(), alpha=float(self.alpha), q_pi=q_pi.mean().item())
        return metrics
