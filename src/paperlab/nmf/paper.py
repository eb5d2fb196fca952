"""Lee & Seung (NIPS 2000): the paper, from its experiments and claims."""

from __future__ import annotations

from paperlab.core.experiment import Paper
from paperlab.nmf.claims import CLAIMS
from paperlab.nmf.experiments import EXAMPLE, FIXED_POINTS, GD_EQUIVALENCE, MONOTONE, PARTS

PAPER = Paper(
    name="nmf",
    title="Algorithms for Non-negative Matrix Factorization (Lee & Seung, NIPS 2000)",
    experiments=[EXAMPLE, MONOTONE, GD_EQUIVALENCE, FIXED_POINTS, PARTS],
    claims=CLAIMS,
)
