"""The run plumbing of issue 15: resumable pieces, run files, the artifact store, the thread setting,
trackers, and a paper module that fails to import."""

import json
import multiprocessing
import os
import sys

import numpy as np
import pytest
import torch

from paperlab.cli import main
from paperlab.core.artifacts import ArtifactStore
from paperlab.core.runner import default_threads, resolve_threads, run_experiment
from paperlab.core.runs import Run, load_results, read_partial


def _run(tmp_path, resumed=False):
    return Run(tmp_path / "run", "toy", "noisy-mean", "tiny", 0, "cpu", None, resumed=resumed, show_progress=False)


# -- pieces and files ---------------------------------------------------------------------------------
def test_piece_is_computed_once_saved_at_once_and_restored_on_resume(tmp_path):
    calls = []

    def compute():
        calls.append(1)
        return {"arm": (1, 2), "score": 0.1 + 0.2}

    run = _run(tmp_path)
    first = run.piece("a", compute)
    assert first == {"arm": [1, 2], "score": 0.1 + 0.2}           # as saved (JSON: tuples become lists)
    assert read_partial(run.dir / "partial.json")["a"] == first  # on disk before anything else runs
    assert run.piece("a", compute) == first and len(calls) == 1
    resumed = _run(tmp_path, resumed=True)
    assert resumed.piece("a", lambda: pytest.fail("a finished piece is never recomputed")) == first
    assert resumed.piece("b", lambda: 7) == 7 and len(calls) == 1


def test_crashed_piece_is_recomputed_and_finished_ones_are_not(toy, tmp_path):
    with pytest.raises(toy.Crash):
        run_experiment("toy", "noisy-mean", scale="tiny", out=tmp_path, overrides={"crash_at": 1})
    (run_dir,) = (tmp_path / "toy" / "noisy-mean").iterdir()
    saved = read_partial(run_dir / "partial.json")
    assert list(saved) == ["step0"]
    run_experiment("", "", resume=run_dir)
    results = load_results(run_dir)
    assert results["per_step"][0] == saved["step0"] and len(results["per_step"]) == 3
    # the resumed attempt logged only the steps it computed: every step once
    assert [m["step"] for m in map(json.loads, (run_dir / "metrics.jsonl").read_text().splitlines())] == [0, 1, 2]


def test_save_file_writes_atomically_into_the_run(tmp_path):
    run = _run(tmp_path)
    path = run.save_file("field.npy", lambda fh: np.save(fh, np.arange(3.0)))
    assert path == run.file("field.npy") and path.parent == run.dir
    np.testing.assert_array_equal(np.load(run.file("field.npy")), np.arange(3.0))

    def broken(fh):
        fh.write(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError):
        run.save_file("field.npy", broken)
    np.testing.assert_array_equal(np.load(path), np.arange(3.0))   # the old file is intact, no temp file left
    assert sorted(p.name for p in run.dir.iterdir() if p.is_file()) == ["field.npy"]


# -- the artifact store -------------------------------------------------------------------------------
def test_store_put_get_and_reuse(tmp_path):
    store = ArtifactStore(tmp_path / "cache", "test cache")
    assert store.get("k") is None and "k" not in store
    made = []
    assert store.get_or_make("k", lambda: made.append(1) or {"x": 1.5}) == {"x": 1.5}
    assert store.get_or_make("k", lambda: made.append(1) or {"x": 9.0}) == {"x": 1.5}   # reused, not recomputed
    assert store.get_or_make("k", lambda: made.append(1) or {"x": 2.5}, fresh=True) == {"x": 2.5}
    assert len(made) == 2 and store.get("k") == {"x": 2.5}
    assert sorted(p.name for p in store.root.iterdir()) == ["k.json"]   # no temp files, the lock released


def test_store_put_is_atomic(tmp_path):
    store = ArtifactStore(tmp_path, "test cache", save=lambda value, fh: (fh.write(b'{"x": '), value()))
    ArtifactStore(tmp_path, "test cache").put("k", {"x": 1})

    def crash():
        raise RuntimeError("killed while writing")

    with pytest.raises(RuntimeError):
        store.put("k", crash)              # half of the new entry written, then the writer dies
    assert ArtifactStore(tmp_path, "test cache").get("k") == {"x": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k.json"]


def test_corrupt_entry_is_named_removed_and_recomputed(tmp_path, capsys):
    store = ArtifactStore(tmp_path, "test cache")
    store.path("k").write_text("{trunc")
    assert store.get_or_make("k", lambda: [1, 2]) == [1, 2]
    assert str(store.path("k")) in capsys.readouterr().err and store.get("k") == [1, 2]


def _make_in_process(root, key, counter):
    store = ArtifactStore(root, "test cache")

    def make():
        with open(counter, "a") as fh:
            fh.write("made\n")
        return {"key": key}

    store.get_or_make(key, make)


def test_two_processes_make_a_shared_artifact_once(tmp_path):
    counter = tmp_path / "made.txt"
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_make_in_process, args=(tmp_path / "cache", "k", counter)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0]
    assert counter.read_text() == "made\n" and ArtifactStore(tmp_path / "cache", "x").get("k") == {"key": "k"}


# -- threads --------------------------------------------------------------------------------------------
def _thread_probe(toy, monkeypatch):
    from threadpoolctl import threadpool_info

    from paperlab.core.registry import get_paper

    def probe(run, cfg):
        blas = [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]
        return {"torch": torch.get_num_threads(), "blas": blas}

    monkeypatch.setattr(get_paper("toy").experiment("noisy-mean"), "run", probe)


def test_the_run_sets_torch_and_blas_threads_and_restores_them(toy, tmp_path, monkeypatch):
    _thread_probe(toy, monkeypatch)
    monkeypatch.delenv("PAPERLAB_THREADS", raising=False)
    before = torch.get_num_threads()
    default = load_results(run_experiment("toy", "noisy-mean", scale="tiny", out=tmp_path / "a"))
    assert default["torch"] == default_threads() and set(default["blas"]) <= {default_threads()}   # a run alone
    two = load_results(run_experiment("toy", "noisy-mean", scale="tiny", out=tmp_path / "b", threads=2))
    assert two["torch"] == 2 and set(two["blas"]) <= {2}
    monkeypatch.setenv("PAPERLAB_THREADS", "3")
    assert load_results(run_experiment("toy", "noisy-mean", scale="tiny", out=tmp_path / "c"))["torch"] == 3
    assert torch.get_num_threads() == before


def test_threads_option_reaches_the_run_and_bad_values_are_refused(toy, tmp_path, monkeypatch, capsys):
    _thread_probe(toy, monkeypatch)
    monkeypatch.delenv("PAPERLAB_THREADS", raising=False)
    assert main(["run", "toy", "noisy-mean", "--scale", "tiny", "--out", str(tmp_path), "--threads", "2"]) == 0
    (run_dir,) = (tmp_path / "toy" / "noisy-mean").iterdir()
    assert load_results(run_dir)["torch"] == 2
    assert "PAPERLAB_THREADS" not in os.environ               # main() leaves the caller's environment as it was
    assert main(["run", "toy", "noisy-mean", "--scale", "tiny", "--out", str(tmp_path / "x"), "--threads", "-1"]) == 2
    assert "-1" in capsys.readouterr().err and not (tmp_path / "x").exists()
    monkeypatch.setenv("PAPERLAB_THREADS", "many")
    with pytest.raises(ValueError, match="PAPERLAB_THREADS"):
        resolve_threads()


# -- trackers -------------------------------------------------------------------------------------------
def test_jsonl_is_the_default_and_an_unknown_tracker_is_refused(toy, tmp_path, monkeypatch):
    monkeypatch.delenv("PAPERLAB_TRACKER", raising=False)
    run_dir = run_experiment("toy", "noisy-mean", scale="tiny", out=tmp_path)
    assert len((run_dir / "metrics.jsonl").read_text().splitlines()) == 3 and not (run_dir / "tensorboard").exists()
    with pytest.raises(ValueError, match="unknown tracker 'wandb'"):
        run_experiment("toy", "noisy-mean", scale="tiny", out=tmp_path / "x", tracker="wandb")
    assert not (tmp_path / "x").exists()


def test_tensorboard_tracker_gets_every_record(toy, tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    assert main(["run", "toy", "noisy-mean", "--scale", "tiny", "--out", str(tmp_path), "--tracker",
                 "tensorboard"]) == 0
    (run_dir,) = (tmp_path / "toy" / "noisy-mean").iterdir()
    events = EventAccumulator(str(run_dir / "tensorboard"))
    events.Reload()
    logged = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    scalars = events.Scalars("estimate")
    assert [s.step for s in scalars] == [0, 1, 2]
    assert [s.value for s in scalars] == pytest.approx([m["estimate"] for m in logged], rel=1e-6)  # float32 in TB


# -- the registry -----------------------------------------------------------------------------------------
def test_a_paper_module_that_fails_to_import_is_an_error(tmp_path, monkeypatch):
    from paperlab.core.registry import all_papers, get_paper

    (tmp_path / "broken_paper.py").write_text("import paperlab.no_such_module\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("PAPERLAB_EXTRA_PAPERS", "broken=broken_paper,typo=no_such_paper_module")
    for name in ("broken_paper", "no_such_paper_module"):
        sys.modules.pop(name, None)
    with pytest.raises(ModuleNotFoundError, match="paperlab.no_such_module"):
        get_paper("broken")
    with pytest.raises(ModuleNotFoundError, match="no_such_paper_module"):
        get_paper("typo")
    with pytest.raises(ModuleNotFoundError):
        all_papers()
