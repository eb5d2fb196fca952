"""SIREN (Sitzmann et al. 2020): sine networks, their derivatives, and the paper's experiments."""

from paperlab.siren.models import METHODS, Siren, build_model

__all__ = ["METHODS", "Siren", "build_model"]
