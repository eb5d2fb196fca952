"""Helpers for the test suite: interrupt a run at an arbitrary point and check that resuming it is exact."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from paperlab.core.runner import run_experiment
from paperlab.core.runs import RESULTS_FILE, Run


def _is_time(key: str) -> bool:
    """Keys that measure wall time or throughput (no resume can reproduce them)."""
    return key == "time" or "seconds" in key or key.endswith("_per_s")


class Interrupted(BaseException):
    """Raised inside a run to simulate a kill (a BaseException: no experiment code catches it)."""


def run_interrupted(paper: str, experiment: str, out: Path, kill_after_logs: int, scale: str = "tiny",
                    seed: int = 0, overrides: dict[str, Any] | None = None) -> Path:
    """Start a run and kill it right after its `kill_after_logs`-th `run.log`; returns its directory."""
    original = Run.log
    count = 0

    def log(self, **metrics):
        nonlocal count
        original(self, **metrics)
        count += 1
        if count == kill_after_logs:
            raise Interrupted(f"killed after {count} log records")

    Run.log = log
    try:
        run_experiment(paper, experiment, scale=scale, seed=seed, out=out, overrides=overrides, show_progress=False)
    except Interrupted:
        pass
    else:
        raise AssertionError(f"{paper}/{experiment} finished before {kill_after_logs} log records; kill it earlier")
    finally:
        Run.log = original
    (directory,) = [p for p in (Path(out) / paper / experiment).iterdir() if p.is_dir()]
    assert not (directory / RESULTS_FILE).exists()
    return directory


def without_times(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_times(v) for k, v in value.items() if not _is_time(k) and k != "_meta"}
    if isinstance(value, list):
        return [without_times(v) for v in value]
    return value


def metrics_records(directory: Path) -> list[dict]:
    path = Path(directory) / "metrics.jsonl"
    return [without_times(json.loads(line)) for line in path.read_text().splitlines() if line.strip()]


def check_exact_resume(paper: str, experiment: str, tmp_path: Path, kill_after_logs: int, scale: str = "tiny",
                       overrides: dict[str, Any] | None = None, needs_checkpoint: bool = True) -> dict:
    """Run uninterrupted, then killed-and-resumed, and assert equal results and metrics (times aside).
    With `needs_checkpoint`, the kill must come after a checkpoint, so the resume really continues
    mid-training rather than starting over. Returns the resumed run's results."""
    full = run_experiment(paper, experiment, scale=scale, out=tmp_path / "full", overrides=overrides,
                          show_progress=False)
    killed = run_interrupted(paper, experiment, tmp_path / "killed", kill_after_logs, scale=scale,
                             overrides=overrides)
    if needs_checkpoint:
        assert any((killed / "checkpoints").glob("*.pt")), "no checkpoint before the kill: kill it later"
    resumed = run_experiment("", "", resume=killed, show_progress=False)
    a = json.loads((full / RESULTS_FILE).read_text())
    b = json.loads((resumed / RESULTS_FILE).read_text())
    assert without_times(a) == without_times(b), "resumed results differ from the uninterrupted run"
    assert metrics_records(full) == metrics_records(resumed), "metrics.jsonl differs after resume"
    assert b["_meta"]["resumed"] is True
    return b


def assert_one_line_error(capsys, rc: int, *needles: str) -> str:
    """The CLI's contract for bad input: exit 2 and one `paperlab: error:` line (no traceback) naming each needle."""
    err = capsys.readouterr().err.strip()
    assert rc == 2, err
    assert err.startswith("paperlab: error:") and "\n" not in err and "Traceback" not in err, err
    for needle in needles:
        assert needle in err, (needle, err)
    return err
