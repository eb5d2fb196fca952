"""NT-Xent, the normalised temperature-scaled cross-entropy of SimCLR (Chen et al. 2020, Eq. 1).

For a batch of N images and two views, z = [z1; z2] holds 2N embeddings. With cosine similarity
s_ij = z_i.z_j / (|z_i||z_j|), the loss of the positive pair (i, j) is

    l(i, j) = -log( exp(s_ij / tau) / sum_{k != i} exp(s_ik / tau) )

and the batch loss averages l over all 2N ordered positive pairs; each anchor sees 2N - 2 negatives.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import distributed as dist


def _gather_with_grad(z: torch.Tensor) -> tuple[torch.Tensor, int]:
    """Concatenate z from every process (gradients flow back) and return this rank's offset."""
    from torch.distributed.nn.functional import all_gather

    gathered = all_gather(z)
    return torch.cat(gathered, dim=0), dist.get_rank() * z.shape[0]


def nt_xent_loss(z1: torch.Tensor, z2: torch.Tensor, temperature: float = 0.5,
                 gather_distributed: bool = False) -> torch.Tensor:
    """SimCLR's NT-Xent loss for two views z1, z2 of shape (N, D).

    ``gather_distributed=True`` uses the embeddings of all processes as negatives (SimCLR's
    cross-replica batch); it is a no-op unless torch.distributed is initialised.
    """
    if z1.shape != z2.shape or z1.ndim != 2:
        raise ValueError(f"nt_xent_loss expects two (N, D) tensors of equal shape, got {tuple(z1.shape)} "
                         f"and {tuple(z2.shape)}")
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    n = z1.shape[0]
    z1, z2 = F.normalize(z1, dim=1), F.normalize(z2, dim=1)
    if gather_distributed and dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        all1, offset = _gather_with_grad(z1)
        all2, _ = _gather_with_grad(z2)
    else:
        all1, all2, offset = z1, z2, 0
    m = all1.shape[0]
    anchors = torch.cat([z1, z2], dim=0)                       # (2n, D) local anchors
    candidates = torch.cat([all1, all2], dim=0)                # (2m, D) positives and negatives
    logits = anchors @ candidates.T / temperature              # s_ik / tau
    local = torch.arange(n, device=z1.device) + offset
    self_index = torch.cat([local, local + m])                 # k = i is excluded from the denominator
    logits[torch.arange(2 * n, device=z1.device), self_index] = float("-inf")
    positive_index = torch.cat([local + m, local])             # view 1 <-> view 2 of the same image
    return F.cross_entropy(logits, positive_index)
