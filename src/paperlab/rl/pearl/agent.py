"""PEARL's learner: context encoder + SAC with a V network, conditioned on z (oyster `PEARLSoftActorCritic`).

One gradient step (paper Alg. 1, lines 8-13; order of the authors' `_take_step`):
  1. z ~ q_phi(z | c) per task; Q and encoder updated on the Bellman error (Eq. 7 critic loss)
     plus kl_lambda * KL(q_phi(z | c) || N(0, I)) (Eq. 3, summed over tasks);
  2. with the updated Q: V regressed on min_k Q_k(s, a~pi, z) - log pi(a|s, z), the policy on
     log pi - min_k Q_k (Eq. 8/9; SAC v1 with reward_scale as the inverse temperature), mean / log-std
     regularisers 1e-3; z is detached for the policy and V (encoder only learns from Q);
  3. target V moved by tau.
The whole meta-batch of tasks is one tensor program: the encoder runs on (T, N, dim), the product of
Gaussians, the KL and the SAC losses on (T, B, ...); the two Q networks are one batched ensemble.
`paperlab.rl.pearl.reference` computes the same losses with a Python loop over tasks (tests, benchmarks).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from paperlab.core.precision import autocast
from paperlab.rl.common.networks import MLP, EnsembleMLP, TanhGaussianPolicy, gaussian_log_prob, \
    tanh_log_det_jacobian
from paperlab.rl.common.optim import frozen, soft_update
from paperlab.rl.pearl.encoder import ContextEncoder, RecurrentContextEncoder, kl_to_standard_normal, sample_latent


@dataclass
class LearnerSettings:
    """Loss and optimiser settings (oyster configs/default.py `algo_params`)."""

    latent_dim: int = 5
    hidden: Sequence[int] = (300, 300, 300)        # net_size 300, 3 layers
    encoder_hidden: Sequence[int] = (200, 200, 200)
    encoder: str = "mlp"                            # "mlp" | "rnn"
    probabilistic: bool = True                      # use_information_bottleneck
    lr: float = 3e-4                                # policy / qf / vf / context lr
    kl_lambda: float = 0.1
    reward_scale: float = 5.0
    discount: float = 0.99
    tau: float = 0.005                              # soft_target_tau
    policy_mean_reg: float = 1e-3
    policy_std_reg: float = 1e-3


class PEARLLearner:
    def __init__(self, obs_dim: int, act_dim: int, context_dim: int, settings: LearnerSettings,
                 device: str = "cpu", fused_adam: bool = True):
        s = self.s = settings
        if s.encoder not in ("mlp", "rnn"):
            raise ValueError(f"encoder must be 'mlp' or 'rnn', got {s.encoder!r}")
        L = s.latent_dim
        hidden = tuple(s.hidden)
        encoder_cls = ContextEncoder if s.encoder == "mlp" else RecurrentContextEncoder
        self.encoder = encoder_cls(context_dim, L, tuple(s.encoder_hidden), s.probabilistic).to(device)
        self.policy = TanhGaussianPolicy(obs_dim + L, act_dim, hidden).to(device)
        self.qf = EnsembleMLP(2, obs_dim + act_dim + L, 1, hidden).to(device)
        self.vf = MLP(obs_dim + L, 1, hidden).to(device)
        self.target_vf = copy.deepcopy(self.vf)
        for p in self.target_vf.parameters():
            p.requires_grad_(False)
        # one Adam per network as in the authors' code; the fused kernel updates all tensors of a net at once
        self.optimizers = {name: torch.optim.Adam(getattr(self, name).parameters(), lr=s.lr, fused=fused_adam or None)
                           for name in ("encoder", "policy", "qf", "vf")}
        self.obs_dim, self.act_dim, self.latent_dim, self.device = obs_dim, act_dim, L, device

    # ------------------------------------------------------------------ inference and acting
    def prior(self, n_tasks: int) -> tuple[torch.Tensor, torch.Tensor]:
        mean = torch.zeros(n_tasks, self.latent_dim, device=self.device)
        # deterministic z: the "prior" is the point z = 0 (oyster clear_z with use_ib=False)
        var = torch.ones_like(mean) if self.s.probabilistic else torch.zeros_like(mean)
        return mean, var

    @torch.no_grad()
    def posterior(self, context: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.encoder(context)

    @torch.no_grad()
    def act(self, obs: np.ndarray, z: torch.Tensor, deterministic: bool = False) -> np.ndarray:
        obs_t = torch.as_tensor(obs, dtype=torch.float32, device=self.device)
        action, _, _ = self.policy.sample(torch.cat([obs_t, z], dim=-1), deterministic=deterministic)
        return action.cpu().numpy()

    # ------------------------------------------------------------------ losses
    def critic_losses(self, batch: dict[str, torch.Tensor], context: torch.Tensor,
                      noise: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Step-1 losses (Bellman error of the Q ensemble, KL of q(z | c)) for a group of tasks; tensors are
        (T, B, dim). Returns also what step 2 reads: z (detached), the observations and the action noise."""
        s = self.s
        obs, act = batch["obs"], batch["actions"]
        T, B = obs.shape[:2]
        mean, var = self.encoder(context)                       # q_phi(z | c), (T, L)
        z = sample_latent(mean, var, noise["z"])
        z_b = z[:, None, :].expand(T, B, self.latent_dim)
        q_pred = self.qf(torch.cat([obs, act, z_b], dim=-1).reshape(T * B, -1)).view(2, T, B)
        with torch.no_grad():
            target_v = self.target_vf(torch.cat([batch["next_obs"], z_b], dim=-1)).squeeze(-1)
            q_target = (s.reward_scale * batch["rewards"].squeeze(-1)
                        + (1.0 - batch["terminals"].squeeze(-1)) * s.discount * target_v)
        qf_loss = ((q_pred - q_target) ** 2).mean(dim=(1, 2)).sum()   # mean per Q net, summed (oyster)
        kl = kl_to_standard_normal(mean, var) if s.probabilistic else torch.zeros((), device=obs.device)
        # policy and V see z detached (the encoder is trained by the critic only)
        return {"qf_loss": qf_loss, "kl": kl, "z": z_b.detach(), "obs": obs, "action_noise": noise["action"],
                "q_pred": q_pred.detach()}

    def actor_losses(self, t: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Step-2 losses (V regression and the policy), evaluated with the (already updated) Q networks; the
        policy and V weights are untouched by step 1, so their forward here equals one before it."""
        s = self.s
        obs, z = t["obs"], t["z"]
        T, B = obs.shape[:2]
        p_mean, p_log_std = self.policy(torch.cat([obs, z], dim=-1))
        pre_tanh = p_mean + t["action_noise"] * p_log_std.exp()
        log_pi = gaussian_log_prob(pre_tanh, p_mean, p_log_std) - tanh_log_det_jacobian(pre_tanh)
        v_pred = self.vf(torch.cat([obs, z], dim=-1)).squeeze(-1)
        x = torch.cat([obs, torch.tanh(pre_tanh), z], dim=-1).reshape(T * B, -1)
        min_q = self.qf(x).view(2, T, B).min(dim=0).values
        vf_loss = ((v_pred - (min_q - log_pi).detach()) ** 2).mean()
        policy_loss = ((log_pi - min_q).mean() + s.policy_mean_reg * p_mean.pow(2).mean()
                       + s.policy_std_reg * p_log_std.pow(2).mean())
        return {"vf_loss": vf_loss, "policy_loss": policy_loss}

    def make_noise(self, n_tasks: int, batch_size: int, generator: torch.Generator | None = None) -> dict:
        return {"z": torch.randn(n_tasks, self.latent_dim, generator=generator, device=self.device),
                "action": torch.randn(n_tasks, batch_size, self.act_dim, generator=generator, device=self.device)}

    # ------------------------------------------------------------------ one gradient step
    def update(self, batch: dict[str, torch.Tensor], context: torch.Tensor, noise: dict | None = None
               ) -> dict[str, float]:
        s, opt = self.s, self.optimizers
        if noise is None:
            noise = self.make_noise(*batch["obs"].shape[:2])
        with autocast(self.device):   # --precision bf16-mixed: matmuls in bf16; losses, optimizer state fp32
            terms = self.critic_losses(batch, context, noise)
        # 1. critic + encoder: Bellman error + kl_lambda * KL (the KL only reaches the encoder)
        opt["qf"].zero_grad(set_to_none=True)
        opt["encoder"].zero_grad(set_to_none=True)
        (terms["qf_loss"].float() + s.kl_lambda * terms["kl"].float()).backward()
        opt["qf"].step()
        opt["encoder"].step()
        # 2. V and policy with the updated Q (disjoint parameters, so one backward is exact); Q is frozen
        #    here, so the backward skips Q's weight gradients, which step 2 never uses
        with frozen(self.qf), autocast(self.device):
            actor = self.actor_losses(terms)
        opt["vf"].zero_grad(set_to_none=True)
        opt["policy"].zero_grad(set_to_none=True)
        (actor["vf_loss"].float() + actor["policy_loss"].float()).backward()
        opt["vf"].step()
        opt["policy"].step()
        # 3. Polyak average of the target V
        soft_update(self.target_vf, self.vf, s.tau)
        return {"qf_loss": float(terms["qf_loss"].detach()), "kl": float(terms["kl"].detach()),
                "vf_loss": float(actor["vf_loss"].detach()), "policy_loss": float(actor["policy_loss"].detach())}

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict:
        nets = {n: getattr(self, n).state_dict() for n in ("encoder", "policy", "qf", "vf", "target_vf")}
        return {"nets": nets, "optimizers": {n: o.state_dict() for n, o in self.optimizers.items()}}

    def load_state_dict(self, state: dict) -> None:
        for name, sd in state["nets"].items():
            getattr(self, name).load_state_dict(sd)
        for name, sd in state["optimizers"].items():
            self.optimizers[name].load_state_dict(sd)
