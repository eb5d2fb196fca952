import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


@pytest.fixture
def toy(monkeypatch):
    """Register tests/core/toy_paper.py as paper 'toy' (also visible to spawned worker processes)."""
    monkeypatch.syspath_prepend(str(HERE))
    monkeypatch.setenv("PAPERLAB_EXTRA_PAPERS", "toy=toy_paper")
    monkeypatch.setenv("PYTHONPATH", str(HERE) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    sys.modules.pop("toy_paper", None)
    import toy_paper

    return toy_paper
