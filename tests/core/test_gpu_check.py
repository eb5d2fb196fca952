"""benchmarks/gpu_check.py at --tiny on the CPU: the same code path a GPU run takes (every paper's training step
timed in fp32 and bf16-mixed, every paper's short configuration run through run_experiment / train_arm)."""
import importlib.util
import json
import math
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_check.py"


def _load():
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def cache(monkeypatch, tmp_path):
    monkeypatch.setenv("PAPERLAB_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("PAPERLAB_NO_PROGRESS", "1")


def test_tiny_check_runs_every_paper_in_both_precisions(tmp_path, monkeypatch, ssl_data, fashion_mnist_fixture):
    monkeypatch.chdir(tmp_path)
    gpu_check = _load()
    out = tmp_path / "gpu_check.json"
    with ssl_data(fashion_mnist_fixture):   # SSL reads the session's Fashion-MNIST look-alike
        assert gpu_check.main(["--tiny", "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["errors"] == []
    assert doc["check"]["device"] == "cpu" and doc["check"]["tiny"] is True
    assert doc["check"]["cpu_precision"]["cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    for paper in gpu_check.PAPERS:
        rows = [c for c in doc["cases"] if c["case"].startswith(f"{paper} throughput")]
        expected = {"cpu fp32", "cpu bf16-mixed"} if gpu_check.TORCH_PRECISION[paper] else {"cpu fp32"}
        assert {r["impl"] for r in rows} == expected, paper
        assert all(r["speedup_vs_reference"] > 0 and r["seconds_per_call"] > 0 for r in rows)
        runs = [e for e in doc["experiments"] if e["paper"] == paper]
        assert {e["precision"] for e in runs} == {p.split()[1] for p in expected}, paper
        for e in runs:
            assert e["numbers"], paper
            assert all(isinstance(v, float) and not math.isinf(v) for v in e["numbers"].values()), paper
    assert not list(tmp_path.glob("runs"))   # experiments run in a temporary folder


def test_asking_for_cuda_without_it_is_one_line_and_writes_nothing(tmp_path, capsys, monkeypatch):
    gpu_check = _load()
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    out = tmp_path / "x.json"
    assert gpu_check.main(["--device", "cuda", "--json", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--device cuda" in err and "--tiny" in err
    assert gpu_check.main(["--tiny", "--papers", "nmf,gan", "--json", str(out)]) == 2
    assert "--papers gan" in capsys.readouterr().err
    assert not out.exists()
