"""Cole et al., "When Does Contrastive Visual Representation Learning Work?" (CVPR 2022) on
Fashion-MNIST: the paper, from its experiments, claims and plots."""
from __future__ import annotations

from paperlab.core.experiment import Paper
from paperlab.ssl.claims import CLAIMS
from paperlab.ssl.experiments import EXPERIMENTS
from paperlab.ssl.plots import summary_plots


PAPER = Paper(
    name="ssl",
    title="When Does Contrastive Visual Representation Learning Work? (Cole et al., CVPR 2022)",
    experiments=EXPERIMENTS,
    claims=CLAIMS,
    summary_plots=summary_plots,
)
