"""Lee & Seung (NIPS 2000): the paper, from its experiments and claims."""

from __future__ import annotations

from paperlab.core.experiment import Paper
from paperlab.nmf.claims import CLAIMS
from paperlab.nmf.estimator import NMF
from paperlab.nmf.experiments import EXAMPLE, FIXED_POINTS, GD_EQUIVALENCE, MONOTONE, PARTS


def restore_nmf(spec: dict, state: dict, device: str) -> NMF:
    """The fitted estimator: its parameters and its components H (`transform` finds W >= 0 for new rows)."""
    model = NMF(**spec)
    components = state["components"]
    model.components_ = components.to(device) if model.backend == "torch" else components.numpy()
    model.n_components_, model.n_features_in_ = components.shape
    return model


PAPER = Paper(
    name="nmf",
    title="Algorithms for Non-negative Matrix Factorization (Lee & Seung, NIPS 2000)",
    experiments=[EXAMPLE, MONOTONE, GD_EQUIVALENCE, FIXED_POINTS, PARTS],
    claims=CLAIMS,
    models={"nmf": restore_nmf},
)
