"""BEAR (Kumar et al. 2019): the paper, from its experiments, claims and plots."""
from __future__ import annotations

from paperlab.core.experiment import Paper
from paperlab.rl.bear.claims import CLAIMS
from paperlab.rl.bear.experiments import MAKE_DATASETS, MMD_VS_KL, OFFLINE_BENCHMARK, Q_DIVERGENCE, SUPPORT
from paperlab.rl.bear.plots import summary_plots

PAPER = Paper(
    name="bear",
    title="Stabilizing Off-Policy Q-Learning via Bootstrapping Error Reduction (Kumar et al. 2019)",
    experiments=[MAKE_DATASETS, OFFLINE_BENCHMARK, Q_DIVERGENCE, MMD_VS_KL, SUPPORT],
    claims=CLAIMS,
    summary_plots=summary_plots,
    code=("rl/common",),
)
