"""What a reader sees: the HTML report rendered in headless Chromium (benchmarks/check_report_in_browser.py)."""

import importlib.util
import json
from pathlib import Path

import pytest

from paperlab.cli import main
from paperlab.core.plots import new_figure, save_figure

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("check_report_in_browser",
                                               REPO / "benchmarks" / "check_report_in_browser.py")
browser_check = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(browser_check)
BROWSER = browser_check.find_browser()


@pytest.mark.skipif(BROWSER is None, reason="chromium is not installed (Debian: apt-get install chromium; "
                                            ".ci/run installs it)")
def test_report_in_chromium_runs_here_first_figures_decoded_page_small(toy, tmp_path):
    committed = tmp_path / "results" / "other"
    (committed / "plots-quick").mkdir(parents=True)
    doc = {"paper": "other", "title": "Other", "scale": "quick", "created": "2026-01-01T00:00:00",
           "claims": [{"id": "c1", "text": "t", "verdict": "not reproduced", "experiments": ["e"],
                       "measured": {"gap": {"mean": -1.0, "ci_low": -2.0, "ci_high": -0.5, "n": 3}},
                       "threshold": "gap > 0", "runs": []}]}
    (committed / "claims-quick.json").write_text(json.dumps(doc))
    fig, ax = new_figure()
    ax.plot([0, 1, 2], [3, 1, 2])
    save_figure(fig, committed / "plots-quick" / "e--curve.png")
    out = tmp_path / "runs"
    assert main(["reproduce", "toy", "--scale", "tiny", "--out", str(out), "--committed", str(tmp_path / "results")]) == 0
    assert main(["run", "toy", "noisy-mean", "--scale", "tiny", "--seed", "7", "--out", str(out)]) == 0
    assert main(["report", str(out), "--committed", str(tmp_path / "results")]) == 0

    seen = browser_check.probe(out / "report.html", BROWSER)
    assert seen["images"] >= 3 and seen["broken"] == []          # every figure decoded
    assert [s["id"] for s in seen["sections"]] == ["here", "committed"]   # the runs made here come first
    assert seen["sections"][0]["papers"] == ["toy"] and seen["sections"][1]["papers"] == ["other"]
    assert seen["headlines"][0].startswith("reproduced mean-near-zero: estimate:")
    assert seen["headlines"][1].startswith("not reproduced c1: gap: -1 [-2, -0.5]") and "threshold: gap > 0" in \
        seen["headlines"][1]
    assert not seen["overflow"] and seen["html_bytes"] < 100_000 and seen["visible"] > 200
    shot = browser_check.screenshot(out / "report.html", BROWSER, tmp_path / "report.png", height=1200)
    assert shot.is_file() and shot.stat().st_size > 10_000
