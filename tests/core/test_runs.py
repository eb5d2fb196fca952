import json

import pytest

from paperlab.cli import main
from paperlab.core.runner import run_experiment
from paperlab.core.runs import load_results, read_partial


def test_run_directory_contents(toy, tmp_path):
    run_dir = run_experiment("toy", "noisy-mean", scale="tiny", seed=3, out=tmp_path)
    assert run_dir.parent == tmp_path / "toy" / "noisy-mean" and run_dir.name.startswith("tiny-seed3-")
    meta = json.loads((run_dir / "config.json").read_text())
    assert meta["config"]["n"] == 50 and meta["versions"]["numpy"] != "not installed"
    assert len((run_dir / "metrics.jsonl").read_text().splitlines()) == 3
    assert (run_dir / "plots" / "estimates.png").stat().st_size > 0
    assert load_results(run_dir)["_meta"]["seed"] == 3


def test_same_seed_same_results(toy, tmp_path):
    a = load_results(run_experiment("toy", "noisy-mean", scale="tiny", seed=1, out=tmp_path))
    b = load_results(run_experiment("toy", "noisy-mean", scale="tiny", seed=1, out=tmp_path))
    c = load_results(run_experiment("toy", "noisy-mean", scale="tiny", seed=2, out=tmp_path))
    assert a["per_step"] == b["per_step"] and a["per_step"] != c["per_step"]


def test_interrupted_run_keeps_finished_work_and_resumes(toy, tmp_path):
    with pytest.raises(toy.Crash):
        run_experiment("toy", "noisy-mean", scale="tiny", seed=0, out=tmp_path, overrides={"crash_at": 2})
    (run_dir,) = (tmp_path / "toy" / "noisy-mean").iterdir()
    assert not (run_dir / "results.json").exists()
    finished = read_partial(run_dir / "partial.json")
    assert sorted(finished) == ["step0", "step1"]
    assert main(["run", "--resume", str(run_dir)]) == 0
    results = load_results(run_dir)
    assert results["per_step"][:2] == [finished["step0"], finished["step1"]] and len(results["per_step"]) == 3


def test_skip_finished_returns_the_same_run(toy, tmp_path):
    first = run_experiment("toy", "noisy-mean", scale="tiny", seed=0, out=tmp_path, skip_finished=True)
    again = run_experiment("toy", "noisy-mean", scale="tiny", seed=0, out=tmp_path, skip_finished=True)
    other = run_experiment("toy", "noisy-mean", scale="tiny", seed=0, out=tmp_path, skip_finished=True,
                           overrides={"n": 60})
    assert first == again and other != first


def test_resume_missing_dir_is_a_clear_error(toy, tmp_path, capsys):
    assert main(["run", "--resume", str(tmp_path / "nope")]) == 2
    assert "cannot resume" in capsys.readouterr().err
