"""PEARL (Rakelly et al. 2019): the paper, from its experiments, claims and plots."""

from __future__ import annotations

import numpy as np
import torch

from paperlab.core.config import config_from_dict
from paperlab.core.experiment import Paper
from paperlab.rl.pearl.agent import LearnerSettings, PEARLLearner
from paperlab.rl.pearl.claims import CLAIMS
from paperlab.rl.pearl.experiments import CONTEXT_SAMPLING, ENCODER_ABLATION, SAMPLE_EFFICIENCY, SPARSE_EXPLORATION
from paperlab.rl.pearl.plots import summary_plots


class Policy:
    """PEARL's meta-trained policy pi(a | s, z) with its context encoder q(z | c). ``act(observation, context)``
    acts with z = the posterior mean given `context`, transitions [T, context_dim] (observation, action, reward,
    and the next observation where the run used it), or the prior mean without one (no experience of the task)."""

    def __init__(self, learner: PEARLLearner, task: str):
        self.learner, self.task = learner, task

    def latent(self, context: np.ndarray | None = None) -> torch.Tensor:
        if context is None:
            return self.learner.prior(1)[0]
        return self.learner.posterior(torch.as_tensor(context, dtype=torch.float32, device=self.learner.device)[None])[0]

    def act(self, observation: np.ndarray, context: np.ndarray | None = None) -> np.ndarray:
        obs = np.asarray(observation, dtype=np.float32)[None]
        return self.learner.act(obs, self.latent(context), deterministic=True)[0]


def restore_agent(spec: dict, state: dict, device: str) -> Policy:
    settings = config_from_dict(LearnerSettings, spec["settings"])
    learner = PEARLLearner(spec["obs_dim"], spec["act_dim"], spec["context_dim"], settings, device)
    learner.encoder.load_state_dict(state["encoder"])
    learner.policy.load_state_dict(state["policy"])
    learner.encoder.eval(), learner.policy.eval()
    return Policy(learner, spec["task"])


PAPER = Paper(
    name="pearl",
    title="Efficient Off-Policy Meta-Reinforcement Learning via Probabilistic Context Variables (Rakelly et al. 2019)",
    experiments=[SAMPLE_EFFICIENCY, SPARSE_EXPLORATION, ENCODER_ABLATION, CONTEXT_SAMPLING],
    claims=CLAIMS,
    summary_plots=summary_plots,
    code=("rl/common",),
    models={"agent": restore_agent},
)
