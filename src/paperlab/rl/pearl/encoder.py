"""Context encoders q_phi(z | c) (PEARL Sec. 4.1, Fig. 2).

Every function here works on a whole meta-batch at once: context is (n_tasks, n_transitions, dim).

- MLP encoder: each transition c_n gives a Gaussian factor Psi_phi(z | c_n) = N(mu_n, sigma_n^2) and
  the posterior is their product (Eq. 4 / "permutation-invariant"), which is closed form:
  sigma^2 = 1 / sum_n sigma_n^-2 and mu = sigma^2 * sum_n mu_n / sigma_n^2.
- Deterministic ablation (`probabilistic=False`): z is the mean of the per-transition outputs, no KL.
- Recurrent ablation: an MLP embedding followed by an LSTM; the last hidden state gives one Gaussian.
"""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from paperlab.core.constraints import check_shape
from paperlab.core.linear import Linear
from paperlab.rl.common.networks import MLP

MIN_VARIANCE = 1e-7  # oyster `_product_of_gaussians` clamps sigma^2 at 1e-7


def product_of_gaussians(mu: torch.Tensor, var: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Product of N Gaussian factors along dim -2: (..., N, L) -> (..., L) mean and variance."""
    var = var.clamp(min=MIN_VARIANCE)
    precision = torch.reciprocal(var)
    post_var = 1.0 / precision.sum(dim=-2)
    post_mu = post_var * (mu * precision).sum(dim=-2)
    return post_mu, post_var


def kl_to_standard_normal(mu: torch.Tensor, var: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, diag var) || N(0, I)) summed over every task and latent dimension (oyster: summed)."""
    return 0.5 * (var + mu.pow(2) - 1.0 - torch.log(var)).sum()


class ContextEncoder(nn.Module):
    """Permutation-invariant encoder: an MLP applied to every transition, factors combined as a product.

    `forward(context)` returns the posterior (mean, variance), each (n_tasks, latent_dim). With
    `probabilistic=False` the variance is zero and the mean is the average of the per-transition outputs.
    """

    recurrent = False

    def __init__(self, context_dim: int, latent_dim: int = 5, hidden: Sequence[int] = (200, 200, 200),
                 probabilistic: bool = True):
        super().__init__()
        self.latent_dim, self.context_dim = latent_dim, context_dim
        self.probabilistic = probabilistic
        self.net = MLP(context_dim, 2 * latent_dim if probabilistic else latent_dim, hidden)

    def factors(self, context: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        params = self.net(context)
        return params[..., : self.latent_dim], F.softplus(params[..., self.latent_dim:])

    def forward(self, context: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        check_shape(context, ("n_tasks", "n_transitions", self.context_dim), "context", type(self).__name__)
        if not self.probabilistic:
            mean = self.net(context).mean(dim=-2)
            return mean, torch.zeros_like(mean)
        return product_of_gaussians(*self.factors(context))


class RecurrentContextEncoder(nn.Module):
    """MLP embedding -> LSTM over the context sequence -> Gaussian from the last hidden state (oyster)."""

    recurrent = True

    def __init__(self, context_dim: int, latent_dim: int = 5, hidden: Sequence[int] = (200, 200),
                 probabilistic: bool = True):
        super().__init__()
        width = hidden[-1]
        self.latent_dim, self.context_dim = latent_dim, context_dim
        self.probabilistic = probabilistic
        self.embed = nn.Sequential(MLP(context_dim, width, hidden[:-1]), nn.ReLU())
        self.lstm = nn.LSTM(width, width, batch_first=True)
        self.head = Linear(width, 2 * latent_dim if probabilistic else latent_dim)

    def forward(self, context: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        check_shape(context, ("n_tasks", "n_transitions", self.context_dim), "context", type(self).__name__)
        out, _ = self.lstm(self.embed(context))
        params = self.head(out[:, -1])
        if not self.probabilistic:
            return params, torch.zeros_like(params)
        return params[..., : self.latent_dim], F.softplus(params[..., self.latent_dim:]).clamp(min=MIN_VARIANCE)


def sample_latent(mean: torch.Tensor, var: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
    """Reparameterised z = mu + sigma * eps (deterministic encoders have var = 0, so z = mu)."""
    if noise is None:
        noise = torch.randn_like(mean)
    return mean + var.sqrt() * noise
