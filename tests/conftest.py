"""Shared test settings: headless plots, no progress bars, small thread counts."""

import os

os.environ.setdefault("PAPERLAB_NO_PROGRESS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
