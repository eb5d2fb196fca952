"""Conditional VAE behaviour model (BCQ, Fujimoto et al. 2019, section 4; reused by BEAR section 5).

Encoder ``q(z|s,a)`` and decoder ``a = tanh(D(s, z))`` with 750-750 layers and latent ``2|A|`` (authors' code).
Loss: ``||a - a_hat||^2 + 0.5 * KL(q(z|s,a) || N(0, I))``. Sampling clips the latent to ``[-0.5, 0.5]`` so
decoded actions stay near the data's modes.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F

from paperlab.rl.common.networks import MLP


class BehaviourVAE(torch.nn.Module):
    def __init__(self, obs_dim: int, act_dim: int, hidden: Sequence[int] = (750, 750), latent_dim: int | None = None,
                 latent_clip: float = 0.5, kl_weight: float = 0.5):
        super().__init__()
        self.latent_dim = 2 * act_dim if latent_dim is None else latent_dim
        self.encoder = MLP(obs_dim + act_dim, 2 * self.latent_dim, hidden)
        self.decoder = MLP(obs_dim + self.latent_dim, act_dim, hidden)
        self.latent_clip, self.kl_weight = latent_clip, kl_weight

    def decode_pre_tanh(self, obs: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
        if z is None:
            z = torch.randn(*obs.shape[:-1], self.latent_dim, device=obs.device).clamp(-self.latent_clip,
                                                                                        self.latent_clip)
        return self.decoder(torch.cat([obs, z], -1))

    def sample_n(self, obs: torch.Tensor, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` decoded actions per state with clipped latents: ``(actions, pre_tanh)``, each ``(B, n, |A|)``."""
        obs_rep = obs.unsqueeze(1).expand(obs.shape[0], n, obs.shape[-1])
        raw = self.decode_pre_tanh(obs_rep)
        return torch.tanh(raw), raw

    def loss(self, obs: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        mean, log_std = self.encoder(torch.cat([obs, actions], -1)).chunk(2, -1)
        log_std = log_std.clamp(-4, 15)  # authors' clamp for numerical stability
        z = mean + log_std.exp() * torch.randn_like(mean)
        recon = torch.tanh(self.decoder(torch.cat([obs, z], -1)))
        kl = -0.5 * (1 + 2 * log_std - mean.pow(2) - (2 * log_std).exp()).mean()
        return F.mse_loss(recon, actions) + self.kl_weight * kl
