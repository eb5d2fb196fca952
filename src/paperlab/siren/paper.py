"""SIREN (Sitzmann et al. 2020): the paper, from its experiments and claims."""

from __future__ import annotations

from paperlab.core.experiment import Paper
from paperlab.siren.claims import CLAIMS
from paperlab.siren.experiments import (ACTIVATION_STATISTICS, AUDIO, DERIVATIVE_SUPERVISION, HELMHOLTZ, IMAGE_FIT,
                                        POISSON_BLEND, PRIOR, SDF_2D, SDF_3D, VIDEO, WAVE)

PAPER = Paper(
    name="siren",
    title="Implicit Neural Representations with Periodic Activation Functions (Sitzmann et al. 2020)",
    experiments=[IMAGE_FIT, DERIVATIVE_SUPERVISION, POISSON_BLEND, AUDIO, SDF_2D, ACTIVATION_STATISTICS, PRIOR,
                 HELMHOLTZ, WAVE, SDF_3D, VIDEO],
    claims=CLAIMS,
)
