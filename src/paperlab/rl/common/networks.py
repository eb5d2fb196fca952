"""Networks shared by the RL papers.

- :class:`MLP`: plain fully connected network (Q/V heads, encoders, VAE parts).
- :class:`EnsembleMLP`: K independent MLPs evaluated as one module, one autograd node per layer.
Every layer runs through :mod:`paperlab.core.linear` (oneDNN fp32 kernels with ReLU fused on CPU, else
``F.linear`` / ``torch.baddbmm``).
- :class:`TanhGaussianPolicy`: SAC/BEAR actor, a Gaussian squashed by tanh with the change-of-variables
  correction ``log pi(a|s) = log N(u; mu, sigma) - sum log(1 - tanh(u)^2)`` (SAC paper, appendix C).
"""
from __future__ import annotations

import math
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from paperlab.core.linear import Linear, ensemble_linear, sequential_forward


def _check_dims(**dims: int) -> None:
    for name, value in dims.items():
        if int(value) <= 0:
            raise ValueError(f"{name} must be a positive integer, got {value}")


class MLP(nn.Module):
    """``in_dim -> hidden... -> out_dim`` with ``activation`` between layers and a linear output."""

    def __init__(self, in_dim: int, out_dim: int, hidden: Sequence[int] = (256, 256),
                 activation: type[nn.Module] = nn.ReLU):
        super().__init__()
        _check_dims(in_dim=in_dim, out_dim=out_dim)
        layers: list[nn.Module] = []
        last = in_dim
        for width in hidden:
            _check_dims(hidden=width)
            layers += [Linear(last, width), activation()]
            last = width
        layers.append(Linear(last, out_dim))
        self.net = nn.Sequential(*layers)
        self.in_dim, self.out_dim = in_dim, out_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return sequential_forward(self.net, x)


class EnsembleLinear(nn.Module):
    """K independent linear layers: ``y[k] = x[k] @ W[k] + b[k]`` (``x`` may be (B, in), shared by all members).

    Each member is initialised like ``nn.Linear`` (uniform(-1/sqrt(in), 1/sqrt(in))).
    """

    def __init__(self, n_members: int, in_dim: int, out_dim: int):
        super().__init__()
        _check_dims(n_members=n_members, in_dim=in_dim, out_dim=out_dim)
        bound = 1.0 / math.sqrt(in_dim)
        self.weight = nn.Parameter(torch.empty(n_members, in_dim, out_dim).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(n_members, 1, out_dim).uniform_(-bound, bound))

    def forward(self, x: torch.Tensor, relu: bool = False) -> torch.Tensor:  # x: (K, B, in) or (B, in)
        return ensemble_linear(x, self.weight, self.bias, relu)


class EnsembleMLP(nn.Module):
    """K MLPs of identical shape evaluated together.

    ``forward(x)`` accepts ``(B, in)`` (the same input for every member) or ``(K, B, in)`` (one input per
    member) and returns ``(K, B, out)``.
    """

    def __init__(self, n_members: int, in_dim: int, out_dim: int, hidden: Sequence[int] = (256, 256),
                 activation: type[nn.Module] = nn.ReLU):
        super().__init__()
        _check_dims(n_members=n_members, in_dim=in_dim, out_dim=out_dim)
        dims = [in_dim, *hidden, out_dim]
        self.layers = nn.ModuleList(EnsembleLinear(n_members, a, b) for a, b in zip(dims[:-1], dims[1:]))
        self.activation = activation()
        self.n_members, self.in_dim, self.out_dim = n_members, in_dim, out_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() not in (2, 3) or (x.dim() == 3 and x.shape[0] != self.n_members):
            raise ValueError(f"EnsembleMLP expects (B, {self.in_dim}) or ({self.n_members}, B, {self.in_dim}), "
                             f"got {tuple(x.shape)}")
        if x.shape[-1] != self.in_dim:
            raise ValueError(f"EnsembleMLP input has {x.shape[-1]} features, expected {self.in_dim}")
        fuse = type(self.activation) is nn.ReLU
        for i, layer in enumerate(self.layers):
            hidden = i < len(self.layers) - 1
            x = layer(x, relu=hidden and fuse)
            if hidden and not fuse:
                x = self.activation(x)
        return x


class QEnsemble(nn.Module):
    """K state-action value functions ``Q_k(s, a)`` as one :class:`EnsembleMLP`; returns ``(K, B)``."""

    def __init__(self, obs_dim: int, act_dim: int, n_members: int = 2, hidden: Sequence[int] = (256, 256)):
        super().__init__()
        self.net = EnsembleMLP(n_members, obs_dim + act_dim, 1, hidden)
        self.n_members = n_members

    def forward(self, obs: torch.Tensor, act: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([obs, act], dim=-1)).squeeze(-1)


LOG_2 = math.log(2.0)


def tanh_log_det_jacobian(pre_tanh: torch.Tensor) -> torch.Tensor:
    """``sum_i log(1 - tanh(u_i)^2)`` computed stably as ``2 (log 2 - u - softplus(-2u))``."""
    return (2.0 * (LOG_2 - pre_tanh - F.softplus(-2.0 * pre_tanh))).sum(-1)


def gaussian_log_prob(pre_tanh: torch.Tensor, mean: torch.Tensor, log_std: torch.Tensor) -> torch.Tensor:
    """log N(pre_tanh; mean, exp(log_std)^2), summed over the action dimensions (before the tanh correction)."""
    z = (pre_tanh - mean) * torch.exp(-log_std)
    return (-0.5 * z.pow(2) - log_std - 0.5 * math.log(2 * math.pi)).sum(-1)


class TanhGaussianPolicy(nn.Module):
    """``a = tanh(u)``, ``u ~ N(mu(s), sigma(s))``; actions lie in (-1, 1) (scale them in the env wrapper).

    ``forward(obs) -> (mean, log_std)`` with ``log_std`` clamped to ``log_std_bounds``.
    ``sample(obs, deterministic=False) -> (action, log_prob, pre_tanh)``; ``log_prob`` is tanh-corrected.
    ``log_prob(obs, pre_tanh_action)`` evaluates the corrected density of given pre-tanh actions.
    """

    def __init__(self, obs_dim: int, act_dim: int, hidden: Sequence[int] = (256, 256),
                 log_std_bounds: tuple[float, float] = (-20.0, 2.0)):
        super().__init__()
        _check_dims(obs_dim=obs_dim, act_dim=act_dim)
        if log_std_bounds[0] >= log_std_bounds[1]:
            raise ValueError(f"log_std_bounds must be (low, high) with low < high, got {log_std_bounds}")
        self.trunk = MLP(obs_dim, 2 * act_dim, hidden)
        self.obs_dim, self.act_dim = obs_dim, act_dim
        self.log_std_bounds = (float(log_std_bounds[0]), float(log_std_bounds[1]))

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean, log_std = self.trunk(obs).chunk(2, dim=-1)
        return mean, log_std.clamp(*self.log_std_bounds)

    def sample(self, obs: torch.Tensor, deterministic: bool = False
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mean, log_std = self(obs)
        pre_tanh = mean if deterministic else mean + torch.randn_like(mean) * log_std.exp()
        log_prob = gaussian_log_prob(pre_tanh, mean, log_std) - tanh_log_det_jacobian(pre_tanh)
        return torch.tanh(pre_tanh), log_prob, pre_tanh

    def sample_n(self, obs: torch.Tensor, n: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``n`` reparameterised samples per state, shaped ``(B, n, act_dim)`` / ``(B, n)``."""
        mean, log_std = self(obs)
        mean, log_std = mean.unsqueeze(1), log_std.unsqueeze(1)
        pre_tanh = mean + torch.randn(mean.shape[0], n, mean.shape[-1], device=mean.device) * log_std.exp()
        log_prob = gaussian_log_prob(pre_tanh, mean, log_std) - tanh_log_det_jacobian(pre_tanh)
        return torch.tanh(pre_tanh), log_prob, pre_tanh

    def log_prob(self, obs: torch.Tensor, pre_tanh_action: torch.Tensor) -> torch.Tensor:
        mean, log_std = self(obs)
        return gaussian_log_prob(pre_tanh_action, mean, log_std) - tanh_log_det_jacobian(pre_tanh_action)
