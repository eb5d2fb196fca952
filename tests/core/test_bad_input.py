"""Bad values are rejected before anything is written: one line naming the value and what is allowed, exit 2,
no traceback, no run folder (issue 10, section 1)."""

import json
import os
from pathlib import Path

import pytest

from paperlab.core.testing import assert_one_line_error
from paperlab.cli import main

# (paper, experiment, --set overrides): each case of the issue that used to be accepted or to crash
BAD_CONFIGS = [
    ("nmf", "example", ["max_iter=0"]),
    ("nmf", "monotone", ["n_iter=-3"]),
    ("nmf", "monotone", ["n_matrices=0"]),
    ("nmf", "monotone", ["losses="]),
    ("nmf", "monotone", ["losses=foo"]),
    ("nmf", "monotone", ["max_side=1"]),
    ("nmf", "gd-equivalence", ["rank=0"]),
    ("nmf", "gd-equivalence", ["m=0"]),
    ("nmf", "gd-equivalence", ["rank=100"]),
    ("nmf", "fixed-points", ["floor=-1"]),
    ("nmf", "fixed-points", ["floor=nan"]),
    ("siren", "image-fit", ["lr=inf"]),
    ("siren", "image-fit", ["first_omega_0=nan"]),
    ("siren", "image-fit", ["log_every=0"]),
    ("siren", "image-fit", ["methods=siren,siren"]),
    ("siren", "image-fit", ["image=/no/such/file.png"]),
    ("siren", "audio", ["max_samples=-1"]),
    ("siren", "derivative-supervision", ["highpass_sigma=-1"]),
    ("siren", "activation-statistics", ["histogram_layers=99"]),
    ("siren", "sdf-2d", ["outline_points=0"]),
    ("siren", "sdf-2d", ["eval_side=1"]),
    ("siren", "helmholtz", ["steps=0"]),
    ("siren", "helmholtz", ["methods=siren,sine"]),
    ("siren", "wave", ["fd_points=10"]),
    ("siren", "wave", ["curriculum=2"]),
    ("siren", "sdf-3d", ["mesh=/no/such/mesh.obj"]),
    ("siren", "sdf-3d", ["shapes=cube"]),
    ("siren", "video", ["video=/etc/hostname"]),
    ("siren", "video", ["frames=0"]),
    ("siren", "sdf-2d", ["log_every=0"]),
    ("siren", "prior", ["train_images=0"]),
    ("siren", "prior", ["min_context=500"]),
    ("ssl", "unlabeled-size", ["lr=0"]),
    ("ssl", "unlabeled-size", ["warmup_fraction=-1"]),
    ("ssl", "domain", ["width=0"]),
    ("ssl", "corruption", ["max_side=29"]),
    ("bear", "offline-benchmark", ["gamma=2"]),
    ("bear", "offline-benchmark", ["tau=0"]),
    ("bear", "offline-benchmark", ["lagrange_lr=-1"]),
    ("bear", "offline-benchmark", ["medium_fraction=2"]),
    ("bear", "offline-benchmark", ["batch_size=-5"]),
    ("bear", "offline-benchmark", ["updates=0"]),
    ("bear", "offline-benchmark", ["eval_every=0"]),
    ("pearl", "sample-efficiency", ["lr=0"]),
    ("pearl", "sample-efficiency", ["discount=2"]),
    ("pearl", "sample-efficiency", ["num_steps_prior=-5"]),
    ("pearl", "sample-efficiency", ["rl2_eval_points=0"]),
    ("pearl", "context-sampling", ["eval_every=0"]),
]


def _nothing_written(out: Path) -> bool:
    return not out.exists() or not any(p.is_file() for p in out.rglob("*"))


@pytest.mark.parametrize("paper,experiment,sets", BAD_CONFIGS, ids=lambda x: x if isinstance(x, str) else ",".join(x))
def test_bad_config_rejected_before_anything_is_written(tmp_path, capsys, paper, experiment, sets):
    out = tmp_path / "runs"
    args = ["run", paper, experiment, "--scale", "tiny", "--out", str(out)]
    for item in sets:
        args += ["--set", item]
    key, _, value = sets[0].partition("=")
    err = assert_one_line_error(capsys, main(args), key)
    assert "allowed" in err
    assert _nothing_written(out)


@pytest.mark.parametrize("args,needle", [
    (["--seed", "-1"], "seed"),
    (["--device", "cuda:0" if not __import__("torch").cuda.is_available() else "cuda:99"], "cuda"),
    (["--device", "gpu"], "gpu"),
])
def test_bad_seed_or_device_leaves_no_run_folder(toy, tmp_path, capsys, args, needle):
    out = tmp_path / "runs"
    assert_one_line_error(capsys, main(["run", "toy", "noisy-mean", "--scale", "tiny", "--out", str(out), *args]),
                           needle)
    assert _nothing_written(out)


def test_out_is_a_file(toy, tmp_path, capsys):
    target = tmp_path / "afile"
    target.write_text("x")
    assert_one_line_error(capsys, main(["run", "toy", "noisy-mean", "--scale", "tiny", "--out", str(target)]),
                           str(target), "is a file")
    assert_one_line_error(capsys, main(["report", str(tmp_path), "--out", str(target)]), str(target))


def test_reproduce_json_is_a_directory(toy, tmp_path, capsys):
    out, adir = tmp_path / "runs", tmp_path / "adir"
    adir.mkdir()
    rc = main(["reproduce", "toy", "--scale", "tiny", "--out", str(out), "--json", str(adir)])
    assert_one_line_error(capsys, rc, str(adir), "directory")
    assert _nothing_written(out) and list(tmp_path.glob("adir*")) == [adir]


@pytest.mark.parametrize("args,needle", [
    (["reproduce", "toy", "--seeds", "0"], "--seeds"),
    (["sweep", "toy", "noisy-mean", "--seeds", "0,0"], "repeats"),
    (["sweep", "toy", "noisy-mean", "--grid", "n="], "no values"),
    (["sweep", "toy", "noisy-mean", "--grid", "n=1", "--grid", "n=2"], "twice"),
    (["reproduce", "toy", "--workers", "0"], "--workers"),
    (["data", "fetch", "fashion-mnist"], "--dest"),
    (["run", "nosuchpaper", "x"], "nosuchpaper"),
])
def test_bad_cli_values(toy, tmp_path, capsys, args, needle):
    out = tmp_path / "runs"
    rc = main([*args, "--out", str(out)] if args[0] != "data" else args)
    assert_one_line_error(capsys, rc, needle)
    assert _nothing_written(out)


def test_unknown_paper_does_not_import_papers(tmp_path, capsys):
    import subprocess
    import sys

    code = ("import sys; from paperlab.cli import main; rc = main(['run', 'nosuch', 'x']); "
            "print(sorted(m for m in sys.modules if m.startswith('paperlab.') and m.endswith('.paper')), rc)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=os.environ.copy())
    assert out.stdout.strip() == "[] 2", out.stdout + out.stderr


# -- resume -------------------------------------------------------------------------------------------
def _crashed_run(toy, out: Path) -> Path:
    from paperlab.core.runner import run_experiment

    with pytest.raises(toy.Crash):
        run_experiment("toy", "noisy-mean", scale="tiny", seed=0, out=out, overrides={"crash_at": 1})
    (run_dir,) = [p for p in (out / "toy" / "noisy-mean").iterdir() if p.is_dir()]
    return run_dir


@pytest.mark.parametrize("extra,needle", [
    (["toy", "other"], "EXPERIMENT"),
    (["--seed", "3"], "--seed"),
    (["--scale", "quick"], "--scale"),
    (["--device", "cuda"], "--device"),
    (["--set", "n=7"], "n"),
])
def test_resume_refuses_contradicting_arguments(toy, tmp_path, capsys, extra, needle):
    run_dir = _crashed_run(toy, tmp_path / "runs")
    before = sorted(p.name for p in run_dir.iterdir())
    assert_one_line_error(capsys, main(["run", *extra, "--resume", str(run_dir)]), needle, "contradicts"
                           if not extra[0].startswith("--set") else "--set")
    assert sorted(p.name for p in run_dir.iterdir()) == before


def test_resume_accepts_agreeing_arguments_and_never_recomputes_a_finished_run(toy, tmp_path, capsys):
    run_dir = _crashed_run(toy, tmp_path / "runs")
    assert main(["run", "toy", "noisy-mean", "--seed", "0", "--scale", "tiny", "--set", "n=50",
                 "--resume", str(run_dir)]) == 0
    results = (run_dir / "results.json").read_text()
    stamp = (run_dir / "results.json").stat().st_mtime_ns
    capsys.readouterr()
    assert main(["run", "--resume", str(run_dir)]) == 0
    assert "already finished" in capsys.readouterr().out
    assert (run_dir / "results.json").read_text() == results and (run_dir / "results.json").stat().st_mtime_ns == stamp


def test_corrupt_files_are_named(toy, tmp_path, capsys):
    run_dir = _crashed_run(toy, tmp_path / "runs")
    (run_dir / "partial.json").write_text("{not json")
    assert_one_line_error(capsys, main(["run", "--resume", str(run_dir)]), str(run_dir / "partial.json"))
    (run_dir / "config.json").write_text(json.dumps({"paper": "toy"}))
    assert_one_line_error(capsys, main(["run", "--resume", str(run_dir)]), str(run_dir / "config.json"), "experiment")


def test_truncated_and_crafted_checkpoints_are_refused(tmp_path):
    import pickle

    import torch

    from paperlab.core.runs import Run

    run = Run(tmp_path / "r", "toy", "noisy-mean", "tiny", 0, "cpu", None)
    path = run.save_checkpoint({"w": torch.ones(3)}, "fit")
    assert torch.equal(run.load_checkpoint("fit")["w"], torch.ones(3))
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(ValueError, match="fit.pt"):
        run.load_checkpoint("fit")

    class Exploit:
        def __reduce__(self):
            return (os.system, ("touch " + str(tmp_path / "pwned"),))

    path.write_bytes(pickle.dumps({"paperlab_checkpoint": 1, "state": Exploit()}))
    torch.save({"paperlab_checkpoint": 1, "state": Exploit(), "rng": {}}, path)
    with pytest.raises(ValueError, match="fit.pt"):
        run.load_checkpoint("fit")
    assert not (tmp_path / "pwned").exists()


def test_a_failing_job_under_the_processes_executor_is_one_line(toy, tmp_path, capsys):
    rc = main(["sweep", "toy", "noisy-mean", "--scale", "tiny", "--seeds", "0,1", "--executor", "processes",
               "--set", "crash_at=0", "--out", str(tmp_path / "runs")])
    assert_one_line_error(capsys, rc, "failed under the processes executor", "Crash", "--seed 0")


@pytest.mark.parametrize("address", ["127.0.0.1:1", "nonsense"])
def test_a_bad_ray_address_fails_fast_and_clearly(toy, tmp_path, capsys, address):
    rc = main(["sweep", "toy", "noisy-mean", "--scale", "tiny", "--seeds", "0,1", "--executor", "ray",
               "--address", address, "--out", str(tmp_path / "runs")])
    assert_one_line_error(capsys, rc, "--address")


def test_reproduce_refuses_a_no_evidence_override(tmp_path, capsys):
    rc = main(["reproduce", "nmf", "--scale", "tiny", "--set", "monotone.n_matrices=0", "--out", str(tmp_path)])
    assert_one_line_error(capsys, rc, "n_matrices=0")
    assert _nothing_written(tmp_path)


def test_jobs_progress_bar_honours_no_progress(toy, tmp_path, capsys, monkeypatch):
    from paperlab.core.sweep import sweep

    monkeypatch.setenv("PAPERLAB_NO_PROGRESS", "1")
    sweep("toy", "noisy-mean", [], [0, 1], scale="tiny", out=tmp_path)
    assert "jobs" not in capsys.readouterr().err
    monkeypatch.setenv("PAPERLAB_NO_PROGRESS", "0")
    sweep("toy", "noisy-mean", [], [2, 3], scale="tiny", out=tmp_path)
    assert "jobs" in capsys.readouterr().err


def test_reproduce_all_checks_before_running_any(tmp_path, capsys):
    rc = main(["reproduce", "all", "--scale", "tiny", "--device", "gpu", "--out", str(tmp_path)])
    assert_one_line_error(capsys, rc, "gpu")
    rc = main(["reproduce", "siren", "--scale", "tiny", "--set", "prior.min_context=100000", "--out", str(tmp_path)])
    assert_one_line_error(capsys, rc, "min_context")  # image-fit (first) must not run either
    assert _nothing_written(tmp_path)
