"""Runs that cannot be corrupted (issue 27): one lock through any path, progress saved in one atomic record,
run files checked on --resume, identities checked on resume and reuse, merged claims files, strict JSON."""

import errno
import json
import os
from pathlib import Path

import pytest
import torch

from paperlab.cli import main
from paperlab.core.artifacts import ArtifactStore
from paperlab.core.runner import identity_lock, read_run_meta, run_experiment
from paperlab.core.runs import Run, json_bytes, load_results, read_json, write_json
from paperlab.core.testing import Interrupted, assert_one_line_error


def _crashed_run(toy, out: Path, crash_at: int = 1) -> Path:
    with pytest.raises(toy.Crash):
        run_experiment("toy", "noisy-mean", scale="tiny", seed=0, out=out, overrides={"crash_at": crash_at})
    (run_dir,) = [p for p in (out / "toy" / "noisy-mean").iterdir() if p.is_dir()]
    return run_dir


def _steps(run_dir: Path) -> list[int]:
    return [json.loads(line)["step"] for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


# -- 1. the run lock, through a symlink or `.` --------------------------------------------------------------
def test_the_run_lock_holds_through_a_symlink_and_dot(toy, tmp_path, capsys, monkeypatch):
    run_dir = _crashed_run(toy, tmp_path / "runs")
    identity = read_run_meta(run_dir)["identity"]
    link = tmp_path / "elsewhere" / "deep" / "link"
    link.parent.mkdir(parents=True)
    link.symlink_to(run_dir)
    holder = identity_lock(run_dir.parents[2], "toy", "noisy-mean", identity).acquire(wait=False)  # a live resume
    try:
        assert_one_line_error(capsys, main(["run", "--resume", str(link)]), "is being run")
        monkeypatch.chdir(run_dir)
        assert_one_line_error(capsys, main(["run", "--resume", "."]), "is being run")
    finally:
        holder.release()
    assert not (run_dir / "toy").exists() and not (link.parents[2] / "toy").exists()   # no stray folders
    assert main(["run", "--resume", "."]) == 0 and _steps(run_dir) == [0, 1, 2]


# -- 2. progress is one atomic record ---------------------------------------------------------------------
def test_a_kill_between_partial_json_and_resume_json_loses_no_metrics(toy, tmp_path, monkeypatch):
    calls = []
    original = Run._mark_durable

    def killed_before_the_second_mark(self, progress):
        calls.append(1)
        if len(calls) == 2:   # partial.json holds step1 already; resume.json still points after step0
            raise Interrupted("killed")
        original(self, progress)

    monkeypatch.setattr(Run, "_mark_durable", killed_before_the_second_mark)
    with pytest.raises(Interrupted):
        run_experiment("toy", "noisy-mean", scale="tiny", out=tmp_path)
    monkeypatch.setattr(Run, "_mark_durable", original)
    (run_dir,) = (tmp_path / "toy" / "noisy-mean").iterdir()
    run_experiment("", "", resume=run_dir)
    assert _steps(run_dir) == [0, 1, 2]   # step1 is a finished piece: its record must survive the resume


def test_a_kill_between_a_checkpoint_and_resume_json_loses_no_metrics(tmp_path, monkeypatch):
    run = Run(tmp_path / "r", "toy", "noisy-mean", "tiny", 0, "cpu", None, show_progress=False, identity="abc")
    run.log(step=0)
    run.log(step=1)
    monkeypatch.setattr(Run, "_mark_durable", lambda self, progress: (_ for _ in ()).throw(Interrupted("killed")))
    with pytest.raises(Interrupted):
        run.save_checkpoint({"w": torch.ones(2)})   # the checkpoint is in place, resume.json never written
    run.log(step=2)   # after the checkpoint: dropped on resume and logged again
    monkeypatch.undo()
    resumed = Run(tmp_path / "r", "toy", "noisy-mean", "tiny", 0, "cpu", None, resumed=True, show_progress=False,
                  identity="abc")
    assert [m["step"] for m in resumed.metrics()] == [0, 1]
    assert torch.equal(resumed.load_checkpoint()["w"], torch.ones(2))


# -- 6. run files checked on --resume ---------------------------------------------------------------------
def _edit_json(path: Path, change):
    data = json.loads(path.read_text())
    path.write_text(json.dumps(change(data)))


TAMPERED = {
    "steps 1.5": ("config.json", lambda d: {**d, "config": {**d["config"], "steps": 1.5}}, "steps"),
    "config null": ("config.json", lambda d: {**d, "config": None}, "'config'"),
    "device 3": ("config.json", lambda d: {**d, "device": 3}, "'device'"),
    "partial list": ("partial.json", lambda d: [1, 2], "partial.json"),
    "partial string": ("partial.json", lambda d: "x", "partial.json"),
    "metrics_bytes -5": ("resume.json", lambda d: {**d, "metrics_bytes": -5}, "resume.json"),
    "metrics_bytes huge": ("resume.json", lambda d: {**d, "metrics_bytes": 10**6}, "metrics.jsonl"),
}


@pytest.mark.parametrize("case", sorted(TAMPERED))
def test_tampered_run_files_give_one_line_on_resume(toy, tmp_path, capsys, case):
    name, change, needle = TAMPERED[case]
    run_dir = _crashed_run(toy, tmp_path / "runs")
    _edit_json(run_dir / name, change)
    assert_one_line_error(capsys, main(["run", "--resume", str(run_dir)]), needle)
    assert not (run_dir / "results.json").exists()


def test_plots_replaced_by_a_file_and_foreign_results_are_refused(toy, tmp_path, capsys):
    run_dir = _crashed_run(toy, tmp_path / "runs")
    for child in (run_dir / "plots").iterdir():
        child.unlink()
    (run_dir / "plots").rmdir()
    (run_dir / "plots").write_text("not a folder")
    assert_one_line_error(capsys, main(["run", "--resume", str(run_dir)]), "plots")
    (run_dir / "plots").unlink()
    assert main(["run", "--resume", str(run_dir)]) == 0
    for content in ("[1, 2]", '"done"'):
        (run_dir / "results.json").write_text(content)
        assert_one_line_error(capsys, main(["run", "--resume", str(run_dir)]), "results.json")


def test_a_checkpoint_of_another_run_is_refused(tmp_path):
    other = Run(tmp_path / "other", "toy", "noisy-mean", "tiny", 0, "cpu", None, show_progress=False, identity="aaa")
    path = other.save_checkpoint({"w": torch.ones(5, 5)})   # another architecture, another config hash
    run = Run(tmp_path / "run", "toy", "noisy-mean", "tiny", 0, "cpu", None, show_progress=False, identity="bbb")
    run.checkpoint_path().write_bytes(path.read_bytes())
    with pytest.raises(ValueError, match="belongs to another run"):
        run.load_checkpoint()


# -- 7. identity checked on resume and reuse; arm-cache entries against their record ----------------------
def test_an_edited_config_is_refused_on_resume_and_by_reproduce(toy, tmp_path, capsys):
    out = tmp_path / "runs"
    run_dir = _crashed_run(toy, out)
    _edit_json(run_dir / "config.json", lambda d: {**d, "config": {**d["config"], "n": 7}})
    assert_one_line_error(capsys, main(["run", "--resume", str(run_dir)]), "field(s) n changed")
    args = ["reproduce", "toy", "--scale", "tiny", "--out", str(out), "--no-report", "--seeds", "1",
            "--set", "crash_at=1"]
    assert_one_line_error(capsys, main(args), "field(s) n changed", str(run_dir))


def test_an_edited_or_moved_cache_entry_is_recomputed(tmp_path, capsys):
    store = ArtifactStore(tmp_path / "cache", "test cache")
    store.put("k", {"score": 1.5})
    assert store.get("k") == {"score": 1.5}
    _edit_json(store.path("k"), lambda d: {**d, "score": 1e9})
    assert store.get("k") is None and "k" not in store   # refused and removed: computed again
    assert "edited" in capsys.readouterr().err
    store.put("k", {"score": 1.5})
    store.path("k").rename(store.path("other"))
    assert store.get("other") is None and "another key" in capsys.readouterr().err


# -- 8. reproduce --claims merges ---------------------------------------------------------------------------
def test_reproduce_claims_merges_into_the_claims_file(toy, tmp_path, monkeypatch):
    import dataclasses

    second = dataclasses.replace(toy.PAPER.claims[0], id="mean-near-zero-again")
    monkeypatch.setattr(toy.PAPER, "claims", [*toy.PAPER.claims, second])
    out = tmp_path / "runs"
    exported = tmp_path / "results" / "claims.json"
    for claim in ("mean-near-zero-again", "mean-near-zero"):
        assert main(["reproduce", "toy", "--scale", "tiny", "--out", str(out), "--no-report", "--seeds", "1",
                     "--claims", claim, "--json", str(exported)]) == 0
    for path in (out / "toy" / "claims-tiny.json", exported):
        assert [row["id"] for row in json.loads(path.read_text())["claims"]] == ["mean-near-zero",
                                                                                 "mean-near-zero-again"]


# -- 4. resources and huge ranges -------------------------------------------------------------------------
@pytest.mark.parametrize("error,needle", [(MemoryError(), "out of memory"),
                                          (OSError(errno.ENOSPC, "No space left on device"), "no space left"),
                                          (OverflowError("math range error"), "overflowed")])
def test_memory_disk_and_overflow_errors_are_one_line_naming_the_values(toy, tmp_path, capsys, monkeypatch, error,
                                                                        needle):
    def run(run, cfg):
        raise error

    monkeypatch.setattr(toy.NOISY_MEAN, "run", run)
    args = ["run", "toy", "noisy-mean", "--scale", "tiny", "--out", str(tmp_path), "--set", "n=77"]
    assert_one_line_error(capsys, main(args), needle, "n=77" if needle != "no space left" else "--resume")


def test_a_huge_seed_range_is_refused_before_it_is_built(toy, tmp_path, capsys):
    args = ["sweep", "toy", "noisy-mean", "--seeds", "0-99999999999", "--out", str(tmp_path / "runs")]
    assert_one_line_error(capsys, main(args), "0-99999999999", "10000")
    assert not (tmp_path / "runs").exists()


# -- 10. accepted silently before -------------------------------------------------------------------------
@pytest.mark.parametrize("args,needle", [
    (["sweep", "toy", "noisy-mean", "--grid", "n=2,3", "--set", "n=3"], "both --grid and --set"),
    (["run", "toy", "noisy-mean", "--set", "steps=2.5e0"], "2.5e0"),
    (["reproduce", "toy", "--claims", ","], "--claims"),
    (["report", "RUNS", "--committed", "/nonexistent"], "/nonexistent"),
])
def test_conflicting_and_meaningless_options_are_refused(toy, tmp_path, capsys, args, needle):
    out = tmp_path / "runs"
    args = [str(out) if a == "RUNS" else a for a in args]
    assert_one_line_error(capsys, main([*args, "--out", str(out)] if args[0] != "report" else args), needle)
    assert not out.exists()


def test_non_finite_numbers_are_written_as_strict_json_and_read_back(tmp_path):
    data = {"psnr": float("inf"), "curve": [1.0, float("nan"), float("-inf")], "nested": {"x": float("inf")}}
    write_json(tmp_path / "results.json", data)
    text = (tmp_path / "results.json").read_text()
    strict = json.loads(text, parse_constant=lambda token: pytest.fail(f"non-standard JSON token {token}"))
    assert strict["psnr"] is None and strict["curve"][1] is None and strict["_nonfinite"]
    back = load_results(tmp_path)
    assert back["psnr"] == float("inf") and back["curve"][2] == float("-inf") and back["curve"][1] != back["curve"][1]
    assert "_nonfinite" not in back and back["nested"] == {"x": float("inf")}
    assert b"Infinity" not in json_bytes({"a": [float("inf")]}) and b"NaN" not in json_bytes({"a": float("nan")})
    run = Run(tmp_path / "run", "toy", "noisy-mean", "tiny", 0, "cpu", None, show_progress=False)
    run.log(loss=float("inf"))
    line = (run.dir / "metrics.jsonl").read_text()
    assert "Infinity" not in line and run.metrics()[0]["loss"] == float("inf")
    assert run.piece("p", lambda: {"loss": float("nan")})["loss"] != 0   # NaN kept in memory, null on disk
    assert "NaN" not in (run.dir / "partial.json").read_text()
    assert read_json(run.dir / "partial.json")["p"]["loss"] != read_json(run.dir / "partial.json")["p"]["loss"]
