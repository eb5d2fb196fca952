"""PEARL's losses computed one task at a time (the authors' structure): the reference that the batched
`PEARLLearner` is tested and benchmarked against. Training never uses it."""

from __future__ import annotations

import copy

import torch

from paperlab.rl.pearl.agent import PEARLLearner


class PerTaskLoopLearner(PEARLLearner):
    """`PEARLLearner` whose step-1 and step-2 losses loop over the meta-batch's tasks."""

    def critic_losses(self, batch, context, noise):
        # averaged over tasks (equal batch sizes -> the batched means); the KL is a sum over tasks (oyster)
        parts = []
        for i in range(context.shape[0]):
            one = {k: v[i:i + 1] for k, v in batch.items()}
            parts.append(PEARLLearner.critic_losses(self, one, context[i:i + 1],
                                                    {k: v[i:i + 1] for k, v in noise.items()}))
        out = {k: torch.cat([p[k] for p in parts], dim=1 if k == "q_pred" else 0)
               for k in parts[0] if k not in ("qf_loss", "kl")}
        out["qf_loss"] = torch.stack([p["qf_loss"] for p in parts]).mean()
        out["kl"] = torch.stack([p["kl"] for p in parts]).sum()
        out["parts"] = parts
        return out

    def actor_losses(self, terms):
        parts = [PEARLLearner.actor_losses(self, p) for p in terms["parts"]]
        return {k: torch.stack([p[k] for p in parts]).mean() for k in parts[0]}


def per_task_reference(learner: PEARLLearner) -> PerTaskLoopLearner:
    """A copy of `learner` (same weights and optimiser states) whose updates loop over tasks."""
    reference = copy.deepcopy(learner)
    reference.__class__ = PerTaskLoopLearner
    return reference
