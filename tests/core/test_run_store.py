"""The run store under concurrency and against stale locks (issue 10, section 3)."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from paperlab.core.runner import identity_lock, run_experiment
from paperlab.core.runs import RunLock, write_json
from paperlab.core.sweep import sweep

SWEEP = ("from paperlab.core.sweep import sweep; import json, sys; "
         "s = sweep('toy', 'noisy-mean', ['noise=0.5,1'], [0, 1], scale='tiny', out=sys.argv[1], "
         "fixed={'sleep': '0.15'}); print(json.dumps([p['aggregate'] for p in s['points']]))")


def test_two_concurrent_sweeps_share_one_folder_per_job(toy, tmp_path):
    out = tmp_path / "runs"
    procs = [subprocess.Popen([sys.executable, "-c", SWEEP, str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=os.environ.copy()) for _ in range(2)]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1][-2000:] for o in outputs]
    assert outputs[0][0] == outputs[1][0]  # the same aggregates printed by both
    folders = [p for p in (out / "toy" / "noisy-mean").iterdir() if p.is_dir()]
    assert len(folders) == 4  # 2 grid points x 2 seeds
    for folder in folders:
        steps = [json.loads(line)["step"] for line in (folder / "metrics.jsonl").read_text().splitlines()]
        assert steps == [0, 1, 2]  # written once
    assert not list(out.rglob("*.lock")) and not list(out.rglob("*.tmp"))


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stale_lock_of_a_dead_process_is_recovered(toy, tmp_path):
    from paperlab.core.config import config_to_dict
    from paperlab.core.registry import get_paper
    from paperlab.core.runner import run_identity

    cfg = get_paper("toy").experiment("noisy-mean").make_config("tiny")
    identity = run_identity("toy", "noisy-mean", "tiny", 0, config_to_dict(cfg))
    lock = identity_lock(tmp_path, "toy", "noisy-mean", identity)
    lock.path.parent.mkdir(parents=True)
    lock.path.write_text(json.dumps({"pid": _dead_pid(), "host": socket.gethostname()}))
    run_dir = run_experiment("toy", "noisy-mean", scale="tiny", out=tmp_path, skip_finished=True)
    assert (run_dir / "results.json").exists() and not lock.path.exists()


def test_a_live_lock_blocks_resume_with_a_clear_message(toy, tmp_path):
    with pytest.raises(toy.Crash):
        run_experiment("toy", "noisy-mean", scale="tiny", out=tmp_path, overrides={"crash_at": 1})
    (run_dir,) = [p for p in (tmp_path / "toy" / "noisy-mean").iterdir() if p.is_dir()]
    identity = json.loads((run_dir / "config.json").read_text())["identity"]
    with identity_lock(tmp_path, "toy", "noisy-mean", identity):
        with pytest.raises(ValueError, match=f"pid {os.getpid()}"):
            run_experiment("", "", resume=run_dir)
    assert (run_experiment("", "", resume=run_dir) / "results.json").exists()


def test_lock_is_exclusive(tmp_path):
    first = RunLock(tmp_path / "x.lock").acquire()
    with pytest.raises(ValueError, match="being run"):
        RunLock(tmp_path / "x.lock").acquire(wait=False)
    first.release()
    RunLock(tmp_path / "x.lock").acquire(wait=False).release()


def test_write_json_uses_unique_temp_names(tmp_path, monkeypatch):
    import paperlab.core.runs as runs

    names = []
    original = runs.temporary_path

    def spy(path):
        tmp = original(path)
        names.append(tmp.name)
        return tmp

    monkeypatch.setattr(runs, "temporary_path", spy)
    write_json(tmp_path / "a.json", {"x": 1})
    write_json(tmp_path / "a.json", {"x": 2})
    assert len(set(names)) == 2 and all(n.endswith(".tmp") for n in names)
    assert json.loads((tmp_path / "a.json").read_text()) == {"x": 2} and len(list(tmp_path.iterdir())) == 1


def test_each_grid_keeps_its_own_sweep_summary(toy, tmp_path):
    a = sweep("toy", "noisy-mean", ["noise=0.5"], [0], scale="tiny", out=tmp_path)
    b = sweep("toy", "noisy-mean", ["noise=2"], [0], scale="tiny", out=tmp_path)
    assert a["path"] != b["path"] and Path(a["path"]).exists() and Path(b["path"]).exists()
    assert json.loads(Path(a["path"]).read_text())["grid"] == ["noise=0.5"]


def test_reproduce_json_never_deletes_files_it_did_not_make(toy, tmp_path):
    from paperlab.cli import main

    export = tmp_path / "export"
    plots = export / "plots-tiny"
    plots.mkdir(parents=True)
    (plots / "mine.png").write_bytes(b"user file")
    assert main(["reproduce", "toy", "--scale", "tiny", "--out", str(tmp_path / "runs"),
                 "--json", str(export / "claims.json"), "--no-report"]) == 0
    assert (plots / "mine.png").read_bytes() == b"user file"
    exported = json.loads((export / "claims.json").read_text())
    assert "mine.png" not in exported["plots"] and exported["plots"]
    row = exported["claims"][0]
    assert [r["seed"] for r in row["run_info"]] == [0, 1] and row["run_info"][0]["started"]


def test_fresh_reaches_the_experiment(toy, tmp_path, monkeypatch):
    from paperlab.core.registry import get_paper
    from paperlab.core.sweep import Job, run_job

    seen = []
    exp = get_paper("toy").experiment("noisy-mean")
    monkeypatch.setattr(exp, "run", lambda run, cfg: seen.append(run.fresh) or {"estimate": 0.0})
    run_job(Job("toy", "noisy-mean", "tiny", 0, out=str(tmp_path), reuse=True))
    run_job(Job("toy", "noisy-mean", "tiny", 0, out=str(tmp_path), reuse=False))
    assert seen == [False, True]


def test_resume_keeps_metrics_once_and_adds_up_compute_time(toy, tmp_path):
    from paperlab.core.runs import RESUME_FILE, load_results

    with pytest.raises(toy.Crash):
        run_experiment("toy", "noisy-mean", scale="tiny", out=tmp_path, overrides={"crash_at": 2, "sleep": "0.2"})
    (run_dir,) = [p for p in (tmp_path / "toy" / "noisy-mean").iterdir() if p.is_dir()]
    before = json.loads((run_dir / RESUME_FILE).read_text())["seconds"]
    assert before >= 0.4  # two finished steps of 0.2 s each
    with open(run_dir / "metrics.jsonl", "a") as fh:  # a record logged after the last durable save
        fh.write(json.dumps({"step": 99}) + "\n")
    run_experiment("", "", resume=run_dir)
    steps = [json.loads(line)["step"] for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert steps == [0, 1, 2]
    meta = load_results(run_dir)["_meta"]
    assert meta["resumed"] is True and meta["seconds"] >= before + 0.2
