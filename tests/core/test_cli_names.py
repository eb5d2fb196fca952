"""The CLI without importing papers: the registry's catalog, did-you-mean for names, committed durations in
`list`, and the summary printed at the end of a run."""

import json
import subprocess
import sys

import pytest

from paperlab import cli
from paperlab.cli import _format_durations, committed_durations, committed_reproduce_seconds, main, \
    results_summary
from paperlab.core import registry
from paperlab.core.registry import PaperInfo, all_papers, catalog_entries, paper_info


@pytest.mark.parametrize("argv, message", [
    (["run", "sirne", "image-fit"], "unknown paper 'sirne' (did you mean 'siren'?); valid: nmf, siren"),
    (["run", "siren", "imagefit"], "unknown experiment 'imagefit' for paper 'siren' (did you mean 'image-fit'?); "
                                   "valid: image-fit, "),
    (["list", "nmf", "monotonic"], "(did you mean 'monotone'?)"),
    (["reproduce", "nmf", "--claims", "mu-monotonic"], "unknown claim(s) mu-monotonic for paper 'nmf' "
                                                       "(did you mean 'mu-monotone'?); valid: example-same-error"),
    (["sweep", "nmf", "monotne", "--grid", "n_iter=1"], "(did you mean 'monotone'?)"),
])
def test_a_misspelt_name_gets_the_closest_one(argv, message, capsys, tmp_path):
    assert main([*argv, *(["--out", str(tmp_path)] if argv[0] != "list" else [])]) == 2
    err = capsys.readouterr().err
    assert err.startswith("paperlab: error: ") and message in err and err.count("\n") == 1
    assert not any(tmp_path.iterdir())   # nothing written


def test_a_misspelt_config_key_gets_the_closest_one(capsys, tmp_path, toy):
    assert main(["run", "toy", "noisy-mean", "--scale", "tiny", "--out", str(tmp_path), "--set", "step=3"]) == 2
    assert "unknown config key 'step' for NoisyMeanConfig (did you mean 'steps'?); valid: crash_at, n," in \
        capsys.readouterr().err
    assert main(["run", "toy", "noisy-mean", "--out", str(tmp_path), "--set", "zzz=3"]) == 2
    assert "did you mean" not in capsys.readouterr().err   # nothing close: no suggestion


def test_the_catalog_says_what_the_papers_say():
    """catalog.json is generated (`paperlab docs`): its names and texts are the papers' own."""
    committed = json.loads(registry.CATALOG.read_text())
    for name, paper in all_papers().items():
        info, entry = PaperInfo.of(paper), committed[name]
        assert (entry["title"], entry["experiments"], entry["claims"]) == (info.title, info.experiments, info.claims), \
            f"src/paperlab/core/catalog.json is out of date for {name}: run `paperlab docs`"


def test_a_current_catalog_answers_without_importing_a_paper_and_a_stale_one_imports(tmp_path, monkeypatch):
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(catalog_entries()))
    code = ("import sys; from pathlib import Path; from paperlab.core import registry; "
            f"registry.CATALOG = Path({str(catalog)!r}); from paperlab.cli import main; main(['list']); "
            "print('IMPORTED' if 'torch' in sys.modules or 'paperlab.siren.paper' in sys.modules else 'LIGHT')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.rstrip().endswith("LIGHT") and "experiment image-fit: " in out and "claim mu-monotone [" in out

    stale = json.loads(catalog.read_text())
    stale["nmf"]["source"] = "0" * 16
    stale["nmf"]["title"] = "an outdated title"
    catalog.write_text(json.dumps(stale))
    monkeypatch.setattr(registry, "CATALOG", catalog)
    assert paper_info("nmf").title.startswith("Algorithms for Non-negative Matrix Factorization")   # imported


def test_list_shows_the_committed_durations(tmp_path, capsys):
    for scale, seed, seconds in [("quick", 0, 30.0), ("quick", 1, 50.0), ("quick", 2, 40.0), ("small", 0, 1900.0)]:
        run = tmp_path / "siren" / f"runs-{scale}" / "siren" / "image-fit" / f"{scale}-seed{seed}-x"
        run.mkdir(parents=True)
        (run / "results.json").write_text(json.dumps({"_meta": {"seconds": seconds, "scale": scale}}))
    variant = tmp_path / "siren" / "runs-small-sparse-250" / "siren" / "image-fit" / "small-seed0-x"
    variant.mkdir(parents=True)   # a variant's runs are not the scale's duration
    (variant / "results.json").write_text(json.dumps({"_meta": {"seconds": 1.0, "scale": "small"}}))
    found = committed_durations(tmp_path)
    assert list(found) == [("siren", "image-fit")]
    by_scale = found[("siren", "image-fit")]
    assert sorted(by_scale["quick"]) == [30.0, 40.0, 50.0] and by_scale["small"] == [1900.0]
    assert _format_durations(by_scale) == "quick 40 s, small 32 min"
    assert main(["list", "nmf"]) == 0   # the repository's own committed runs: nmf has none per experiment
    assert "experiment monotone: " in capsys.readouterr().out


def test_the_run_summary_is_a_few_numbers_and_where_the_rest_is():
    results = {"methods": {"siren": {"psnr_image": 50.4941, "psnr_grad": 30.0, "curve": {"step": [0, 10]}},
                           "relu": {"psnr_image": 21.0, "psnr_grad": 9.5}},
               "sizes": [1000, 5000], "long": list(range(50)), "config": {"lr": 0.1}, "image": "camera",
               "best": {"value": 2.0}, "_meta": {"seconds": 125.0}}
    assert results_summary(results).splitlines() == [
        "results (took 2 min):",
        "  methods  psnr_image  psnr_grad",     # rows sharing their metrics: one table
        "  siren         50.49         30",
        "  relu             21        9.5",
        "  sizes: [1000, 5000]",
        "  best.value: 2"]
    assert results_summary(results, limit=3).splitlines()[-1] == "  ... 3 more numbers in results.json"
    assert "(no numbers" in results_summary({"image": "camera"})


def test_run_prints_the_summary_and_the_run_folder(tmp_path, capsys, toy):
    assert main(["run", "toy", "noisy-mean", "--scale", "tiny", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    (run_dir,) = (tmp_path / "toy" / "noisy-mean").iterdir()
    assert "  estimate: " in out and "  per_step: [" in out and "  nested.first: " in out
    assert out.rstrip().endswith(f"run directory: {run_dir} (results.json, metrics.jsonl, plots/)")


def test_list_shows_a_papers_committed_reproduce_time_and_run_prints_the_expected_duration(tmp_path, capsys,
                                                                                          monkeypatch, toy):
    (tmp_path / "toy").mkdir()
    (tmp_path / "toy" / "claims-quick.json").write_text(json.dumps({"run_seconds": 4000.0, "claims": []}))
    (tmp_path / "toy" / "claims-tiny.json").write_text("{truncated")   # unreadable: left out
    assert committed_reproduce_seconds(tmp_path) == {"toy": {"quick": [4000.0]}}
    run = tmp_path / "toy" / "runs-tiny" / "toy" / "noisy-mean" / "tiny-seed0-x"
    run.mkdir(parents=True)
    (run / "results.json").write_text(json.dumps({"_meta": {"seconds": 12.0, "scale": "tiny"}}))
    monkeypatch.setattr(cli, "COMMITTED_RESULTS", tmp_path)
    assert main(["list", "toy"]) == 0
    out = capsys.readouterr().out
    assert "  reproduce, measured (all its runs, one after another): quick 67 min\n" in out
    assert "  experiment noisy-mean: mean of noisy samples [measured: tiny 12 s]\n" in out
    assert main(["run", "toy", "noisy-mean", "--scale", "tiny", "--out", str(tmp_path / "runs")]) == 0
    assert "toy/noisy-mean at tiny scale: expected ~12 s (median of 1 committed run(s)" in capsys.readouterr().out
