"""BEAR (Kumar et al. 2019): the paper, from its experiments, claims and plots."""
from __future__ import annotations

from typing import Any

import numpy as np

from paperlab.core.config import config_from_dict
from paperlab.core.experiment import Paper
from paperlab.rl.bear.claims import CLAIMS
from paperlab.rl.bear.experiments import MAKE_DATASETS, MMD_VS_KL, OFFLINE_BENCHMARK, Q_DIVERGENCE, SUPPORT
from paperlab.rl.bear.plots import summary_plots
from paperlab.rl.bear.training import ArmSettings, make_agent, policy_fn
from paperlab.rl.common.envs import env_dims, make_env


class Policy:
    """A trained offline agent (BEAR, BCQ, BC, SAC...) as the policy it was evaluated with: ``act(observation)``
    returns the action for one observation of ``env_id``; the agent itself is ``.agent``."""

    def __init__(self, agent: Any, env_id: str):
        self.agent, self.env_id = agent, env_id
        self._act = policy_fn(agent)

    def act(self, observation: np.ndarray) -> np.ndarray:
        return self._act(np.asarray(observation, dtype=np.float32))


def restore_agent(spec: dict, state: dict, device: str) -> Policy:
    obs_dim, act_dim = env_dims(make_env(spec["env_id"]))
    agent = make_agent(spec["method"], spec["env_id"], obs_dim, act_dim, config_from_dict(ArmSettings, spec["settings"]),
                       device)
    agent.load_state_dict(state)
    agent.eval()
    return Policy(agent, spec["env_id"])


PAPER = Paper(
    name="bear",
    title="Stabilizing Off-Policy Q-Learning via Bootstrapping Error Reduction (Kumar et al. 2019)",
    experiments=[MAKE_DATASETS, OFFLINE_BENCHMARK, Q_DIVERGENCE, MMD_VS_KL, SUPPORT],
    claims=CLAIMS,
    summary_plots=summary_plots,
    code=("rl/common",),
    models={"agent": restore_agent},
)
