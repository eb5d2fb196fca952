"""README's Python example runs as written (CI runs it with the tests)."""

import re
from pathlib import Path

import numpy as np
import pytest
import torch

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.mark.slow
def test_readme_python_example_runs(tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert blocks, "README.md has no ```python block"
    monkeypatch.chdir(tmp_path)                            # its runs go to ./runs here
    monkeypatch.setenv("PAPERLAB_DATA", str(tmp_path / "data"))   # BEAR's datasets and arm cache too
    monkeypatch.setenv("PAPERLAB_NO_PROGRESS", "1")
    namespace: dict = {}
    exec(compile(blocks[0], str(README), "exec"), namespace)
    V, nmf, codes = namespace["V"], namespace["nmf"], namespace["codes"]
    assert codes.shape == (2, 3) and (codes >= 0).all()
    assert nmf.reconstruction_err_ < np.linalg.norm(V)    # the factorization explains part of V
    image = namespace["image"]
    assert image.shape == (256, 256) and torch.isfinite(image).all()
    assert np.isfinite(namespace["reward"]) and namespace["obs"].shape == namespace["env"].observation_space.shape
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["bear", "siren"]
