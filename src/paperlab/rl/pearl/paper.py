"""PEARL (Rakelly et al. 2019): the paper, from its experiments, claims and plots."""

from __future__ import annotations

from paperlab.core.experiment import Paper
from paperlab.rl.pearl.claims import CLAIMS
from paperlab.rl.pearl.experiments import CONTEXT_SAMPLING, ENCODER_ABLATION, SAMPLE_EFFICIENCY, SPARSE_EXPLORATION
from paperlab.rl.pearl.plots import summary_plots

PAPER = Paper(
    name="pearl",
    title="Efficient Off-Policy Meta-Reinforcement Learning via Probabilistic Context Variables (Rakelly et al. 2019)",
    experiments=[SAMPLE_EFFICIENCY, SPARSE_EXPLORATION, ENCODER_ABLATION, CONTEXT_SAMPLING],
    claims=CLAIMS,
    summary_plots=summary_plots,
    code=("rl/common",),
)
