"""The error every offline loader raises when its files are missing."""
from __future__ import annotations

from pathlib import Path
from typing import Iterable


class DatasetNotFoundError(FileNotFoundError):
    """A dataset is not on disk. The message lists where we looked and how to install it."""

    def __init__(self, name: str, searched: Iterable[str | Path], how_to_install: str):
        places = "\n  ".join(str(p) for p in searched) or "(nowhere)"
        super().__init__(f"{name} not found. Looked in:\n  {places}\nTo install: {how_to_install}")
