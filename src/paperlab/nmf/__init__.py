"""Lee & Seung (NIPS 2000), "Algorithms for Non-negative Matrix Factorization"."""

from paperlab.nmf.estimator import NMF

__all__ = ["NMF"]
