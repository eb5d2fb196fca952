"""The report shows the runs behind each verdict, an overview, readable numbers and safe formulas."""

from paperlab.cli import main


def test_report_shows_the_runs_behind_the_claims_not_the_newest(toy, tmp_path, capsys):
    out = tmp_path / "runs"
    assert main(["reproduce", "toy", "--scale", "tiny", "--out", str(out), "--no-report"]) == 0
    assert main(["run", "toy", "noisy-mean", "--scale", "tiny", "--seed", "5", "--set", "n=1", "--out", str(out)]) == 0
    assert main(["report", str(out)]) == 0
    md = (out / "report.md").read_text()
    overview, rest = md.split("## toy", 1)
    assert "| [toy](#toy-tiny) | tiny | 1 | 0 | 0 |" in overview and "**Warning:**" in overview
    judged = [line for line in rest.splitlines() if line.startswith("- `mean-near-zero` judged from:")]
    assert len(judged) == 1 and "seed 0" in judged[0] and "seed 1" in judged[0] and "seed 5" not in judged[0]
    other = rest.split("### Other finished runs", 1)[1]
    assert "seed 5" in other
    assert "\\|mean\\| < 0.5" in md  # the formula survives the markdown table
    assert "estimate: " in md and "[" in md.split("estimate: ", 1)[1].splitlines()[0]  # mean [low, high]
    html = (out / "report.html").read_text()
    assert "judged from 2 run(s)" in html and "Overview" in html


def test_report_can_show_committed_results_marked_as_such(toy, tmp_path, capsys):
    import json

    committed = tmp_path / "results" / "other"
    committed.mkdir(parents=True)
    doc = {"paper": "other", "title": "Other", "scale": "quick", "created": "2026-01-01", "command": "paperlab x",
           "claims": [{"id": "c1", "text": "t", "verdict": "reproduced", "measured": {"x": 1.0}, "threshold": "x>0",
                       "runs": ["runs/other/e/quick-seed0-20260101-000000-000000"]}]}
    (committed / "claims-quick.json").write_text(json.dumps(doc))
    out = tmp_path / "runs"
    assert main(["reproduce", "toy", "--scale", "tiny", "--out", str(out), "--committed", str(tmp_path / "results")]) == 0
    printed = capsys.readouterr().out
    assert "other (quick scale): committed result" in printed and "1 reproduced" in printed
    md = (out / "report.md").read_text()
    assert "**Committed result**" in md and "| [other](#other-quick) | quick | 1 | 0 | 0 | committed result" in md


def test_report_html_is_well_formed(toy, tmp_path):
    """No headless browser here: check the page's structure with the standard HTML parser instead."""
    from html.parser import HTMLParser

    out = tmp_path / "runs"
    assert main(["reproduce", "toy", "--scale", "tiny", "--out", str(out)]) == 0

    class Balance(HTMLParser):
        VOID = {"img", "br", "meta"}

        def __init__(self):
            super().__init__()
            self.stack, self.errors, self.images = [], [], 0

        def handle_starttag(self, tag, attrs):
            if tag == "img":
                self.images += 1
                assert dict(attrs)["src"].startswith("data:image/png;base64,")
            if tag not in self.VOID:
                self.stack.append(tag)

        def handle_endtag(self, tag):
            if not self.stack or self.stack[-1] != tag:
                self.errors.append((tag, list(self.stack)))
            else:
                self.stack.pop()

    parser = Balance()
    parser.feed((out / "report.html").read_text())
    assert parser.errors == [] and parser.stack == [] and parser.images >= 1
