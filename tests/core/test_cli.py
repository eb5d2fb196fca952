import json

import pytest

from paperlab.cli import main


def test_list_shows_experiments_and_claims(toy, capsys):
    assert main(["list", "toy"]) == 0
    out = capsys.readouterr().out
    assert "experiment noisy-mean" in out and "claim mean-near-zero" in out


@pytest.mark.parametrize("argv, message", [
    (["run", "nopaper", "x"], "unknown paper 'nopaper'; valid:"),
    (["run", "toy", "nope"], "unknown experiment 'nope' for paper 'toy'; valid: noisy-mean"),
    (["run", "toy", "noisy-mean", "--set", "bogus=1"], "unknown config key 'bogus'"),
    (["run", "toy", "noisy-mean", "--device", "tpu"], "unknown device 'tpu'"),
    (["reproduce", "nopaper"], "unknown paper 'nopaper'"),
    (["reproduce", "toy", "--claims", "nope"], "unknown claim(s) nope for paper 'toy'; valid: mean-near-zero"),
    (["report", "/nonexistent/runs"], "does not exist"),
])
def test_bad_names_give_one_line_errors(toy, tmp_path, capsys, argv, message):
    assert main(argv + (["--out", str(tmp_path)] if argv[0] == "run" else [])) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_reproduce_writes_claims_json_plots_and_report(toy, tmp_path, capsys):
    out_json = tmp_path / "results" / "claims.json"
    assert main(["reproduce", "toy", "--scale", "tiny", "--out", str(tmp_path / "runs"), "--json", str(out_json)]) == 0
    doc = json.loads(out_json.read_text())
    assert doc["paper"] == "toy" and doc["scale"] == "tiny"
    (claim,) = doc["claims"]
    assert claim["verdict"] == "reproduced" and claim["seeds"] == 2 and claim["measured"]["estimate"]["n"] == 2
    assert set(claim) >= {"id", "text", "verdict", "measured", "threshold"}
    assert (out_json.parent / "plots-tiny" / "noisy-mean--estimates.png").exists()
    assert "[REPRODUCED] mean-near-zero" in capsys.readouterr().out
    html = (tmp_path / "runs" / "report.html").read_text()
    assert '<img src="report-files/' in html and "mean-near-zero" in html  # figures are files beside the page
    assert "mean-near-zero" in (tmp_path / "runs" / "report.md").read_text()


def test_reproduce_reuses_finished_runs(toy, tmp_path):
    args = ["reproduce", "toy", "--scale", "tiny", "--out", str(tmp_path), "--no-report",
            "--set", "noisy-mean.steps=2"]
    assert main(args) == 0
    first = sorted((tmp_path / "toy" / "noisy-mean").iterdir())
    assert main(args) == 0
    assert sorted((tmp_path / "toy" / "noisy-mean").iterdir()) == first and len(first) == 2


def test_reproduce_only_the_named_claims(toy, tmp_path):
    out_json = tmp_path / "claims.json"
    assert main(["reproduce", "toy", "--scale", "tiny", "--out", str(tmp_path / "runs"), "--no-report",
                 "--seeds", "1", "--claims", "mean-near-zero", "--json", str(out_json)]) == 0
    assert [c["id"] for c in json.loads(out_json.read_text())["claims"]] == ["mean-near-zero"]


def test_fresh_reruns_identical_runs(toy, tmp_path):
    args = ["reproduce", "toy", "--scale", "tiny", "--out", str(tmp_path), "--no-report", "--seeds", "1"]
    assert main(args) == 0 and main(args + ["--fresh"]) == 0
    assert len(list((tmp_path / "toy" / "noisy-mean").iterdir())) == 2


def test_rejudge_reuses_runs_made_by_other_code(toy, tmp_path, monkeypatch):
    import paperlab.core.runner as runs

    args = ["reproduce", "toy", "--scale", "tiny", "--out", str(tmp_path), "--no-report", "--seeds", "1"]
    assert main(args) == 0
    monkeypatch.setattr(runs, "code_fingerprint", lambda paper: "edited-code")
    assert main(args + ["--rejudge"]) == 0
    assert len(list((tmp_path / "toy" / "noisy-mean").iterdir())) == 1
    assert main(args) == 0  # without --rejudge, code that changed runs again
    assert len(list((tmp_path / "toy" / "noisy-mean").iterdir())) == 2


def test_rejudge_never_trains_and_names_the_missing_run(toy, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("PAPERLAB_PRECISION", raising=False)
    out_json = tmp_path / "claims.json"
    args = ["reproduce", "toy", "--scale", "tiny", "--out", str(tmp_path / "runs"), "--no-report", "--seeds", "1"]
    assert main(args + ["--precision", "bf16-mixed"]) == 0
    made = sorted((tmp_path / "runs" / "toy" / "noisy-mean").iterdir())
    # another config: refused with the run it lacks and how the finished run differs; nothing trained or written
    assert main(args + ["--rejudge", "--set", "noisy-mean.steps=2", "--json", str(out_json)]) == 2
    err = capsys.readouterr().err.strip()
    assert "no finished run of toy noisy-mean seed 0" in err and "precision bf16-mixed; other steps" in err
    assert len(err.splitlines()) == 1 and not out_json.exists()
    assert main(args + ["--rejudge", "--precision", "fp32"]) == 2   # a precision asked for must match
    assert "and precision fp32" in capsys.readouterr().err
    assert sorted((tmp_path / "runs" / "toy" / "noisy-mean").iterdir()) == made
    # no precision asked for: the finished run counts whichever precision it used
    assert main(args + ["--rejudge", "--json", str(out_json)]) == 0
    assert json.loads(out_json.read_text())["claims"][0]["runs"] == [str(made[0])]
