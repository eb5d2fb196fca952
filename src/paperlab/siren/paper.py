"""SIREN (Sitzmann et al. 2020): the paper, from its experiments and claims."""

from __future__ import annotations

from torch import nn

from paperlab.core.experiment import Paper
from paperlab.siren.claims import CLAIMS
from paperlab.siren.experiments import (ACTIVATION_STATISTICS, AUDIO, DERIVATIVE_SUPERVISION, HELMHOLTZ, IMAGE_FIT,
                                        POISSON_BLEND, PRIOR, SDF_2D, SDF_3D, VIDEO, WAVE)
from paperlab.siren.models import build_model


def restore_network(spec: dict, state: dict, device: str) -> nn.Module:
    """A fitted coordinate network in eval mode: `model(coords)` maps [N, in] coordinates in [-1, 1] to values."""
    model = build_model(**spec)
    model.load_state_dict(state)
    return model.to(device).eval()


PAPER = Paper(
    name="siren",
    title="Implicit Neural Representations with Periodic Activation Functions (Sitzmann et al. 2020)",
    experiments=[IMAGE_FIT, DERIVATIVE_SUPERVISION, POISSON_BLEND, AUDIO, SDF_2D, ACTIVATION_STATISTICS, PRIOR,
                 HELMHOLTZ, WAVE, SDF_3D, VIDEO],
    claims=CLAIMS,
    models={"network": restore_network},
)
