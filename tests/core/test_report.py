"""The report: runs made here first, committed results after and marked, one headline line per claim with
the details folded, single runs with their metrics and plots, figures as files, markup from data escaped."""

import json
import re
from html.parser import HTMLParser

from paperlab.cli import main
from paperlab.core.plots import new_figure, read_caption, save_figure
from paperlab.core.report import headline, md_text, shorten


def _committed(tmp_path, paper="other", text="t", folder_png=True):
    committed = tmp_path / "results" / paper
    committed.mkdir(parents=True)
    doc = {"paper": paper, "title": "Other", "scale": "quick", "created": "2026-01-01T10:00:00",
           "command": "/abs/venv/bin/paperlab reproduce other",
           "claims": [{"id": "c1", "text": text, "verdict": "reproduced", "experiments": ["e"],
                       "measured": {"x_minus_y": {"mean": 1.0, "ci_low": 0.5, "ci_high": 1.5, "n": 3}, "other": 2},
                       "threshold": "x > y", "runs": ["/abs/runs/other/e/quick-seed0-20260101-000000-000000"]}]}
    (committed / "claims-quick.json").write_text(json.dumps(doc))
    if folder_png:
        fig, ax = new_figure()
        ax.plot([0, 1], [1, 0])
        ax.set_xlabel("step")
        ax.set_ylabel("loss")
        save_figure(fig, committed / "plots-quick" / "e--loss.png")
    return tmp_path / "results"


def test_report_shows_the_runs_behind_the_claims_not_the_newest(toy, tmp_path):
    out = tmp_path / "runs"
    assert main(["reproduce", "toy", "--scale", "tiny", "--out", str(out), "--no-report"]) == 0
    assert main(["run", "toy", "noisy-mean", "--scale", "tiny", "--seed", "5", "--set", "n=1", "--out", str(out)]) == 0
    assert main(["report", str(out)]) == 0
    md = (out / "report.md").read_text()
    overview, rest = md.split("## Run here", 1)
    assert "| run here | [toy](#here-toy-tiny) | tiny | 1 | 0 | 0 |" in overview and "**Warning:**" in overview
    judged = [line for line in rest.splitlines() if line.startswith("  - judged from:")]
    assert len(judged) == 1 and "seed 0" in judged[0] and "seed 1" in judged[0] and "seed 5" not in judged[0]
    single = rest.split("#### Runs behind no verdict", 1)[1]
    assert "seed 5" in single and "  - estimate: " in single  # a single run shows its metrics
    assert "\\|mean\\| \\< 0.5" in md  # the formula survives the markdown table
    table_row = next(line for line in rest.splitlines() if line.startswith("| mean-near-zero"))
    assert re.search(r"\| estimate: -?[\d.e-]+ \\\[-?[\d.e-]+, -?[\d.e-]+\\\] \|", table_row)  # mean [low, high]
    html = (out / "report.html").read_text()
    assert "judged from 2 run(s)" in html and "Overview" in html


def test_runs_here_come_first_then_committed_results_marked(toy, tmp_path, capsys):
    committed = _committed(tmp_path)
    out = tmp_path / "runs"
    assert main(["reproduce", "toy", "--scale", "tiny", "--out", str(out), "--committed", str(committed)]) == 0
    printed = capsys.readouterr().out
    assert "other (quick scale): committed result" in printed and "1 reproduced" in printed
    md = (out / "report.md").read_text()
    assert md.index("## Run here") < md.index("## Committed results") < md.index("### other")
    assert md.index("### toy") < md.index("## Committed results")
    assert "| committed | [other](#committed-other-quick) | quick | 1 | 0 | 0 |" in md
    assert "**Committed result**" in md
    # the claim's headline is its difference with the interval, before the threshold
    assert "| c1: t | **reproduced** | x\\_minus\\_y: 1 \\[0.5, 1.5\\] | x \\> y |" in md
    html = (out / "report.html").read_text()
    assert html.index('data-section="here"') < html.index('data-section="committed"')
    # no absolute path: run folders and commands are shown relative or shortened
    for text in (md, html):
        assert str(tmp_path) not in text and "/abs/" not in text
    assert "by: paperlab reproduce other" in md


def test_a_single_run_is_shown_with_its_metrics_and_plots_as_files(toy, tmp_path):
    out = tmp_path / "runs"
    assert main(["run", "toy", "noisy-mean", "--scale", "tiny", "--out", str(out)]) == 0
    assert main(["report", str(out)]) == 0
    md, html = (out / "report.md").read_text(), (out / "report.html").read_text()
    assert "runs only" not in md and "noisy-mean" in md and "estimate: " in md
    figures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)
    assert figures and all((out / f).is_file() for f in figures) and figures[0].startswith("report-files/")
    srcs = re.findall(r'<img src="([^"]+)"', html)
    assert srcs == figures and not any(s.startswith("data:") for s in srcs)
    assert "noisy-mean: " in html  # the caption names the experiment, not the file


def test_report_md_escapes_markup_from_folder_names_and_claims_json(toy, tmp_path):
    """Raw HTML, links and emphasis from the data must reach report.md as literal text (issue 27 item 9)."""
    markers = ["<script>alert(1)</script>", "<img src=x onerror=alert(2)>", "[click](http://evil.example)",
               "**loud**", "`code`", "<!-- hidden -->"]
    committed = _committed(tmp_path, paper="<img src=y onerror=alert(3)>", text=" ".join(markers),
                           folder_png=False)
    out = tmp_path / "runs"
    (out / "<b>bold<").mkdir(parents=True)  # a folder with no runs is not a paper
    assert main(["run", "toy", "noisy-mean", "--scale", "tiny", "--out", str(out)]) == 0
    assert main(["report", str(out), "--committed", str(committed)]) == 0
    md, html = (out / "report.md").read_text(), (out / "report.html").read_text()
    for raw in [*markers, "<img src=y onerror=alert(3)>"]:
        assert raw not in md and (raw not in html or not raw.startswith("<"))
    assert set(re.findall(r"(?<!\\)<(/?\w+)", md)) <= {"a", "/a"}  # only the report's own anchors
    assert not re.search(r"(?<!\\)\]\(http", md)  # no link
    assert "\\<script\\>alert(1)\\</script\\>" in md  # shown, escaped
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_html_is_well_formed_and_its_figures_are_files_beside_it(toy, tmp_path):
    out = tmp_path / "runs"
    assert main(["reproduce", "toy", "--scale", "tiny", "--out", str(out)]) == 0

    class Balance(HTMLParser):
        VOID = {"img", "br", "meta"}

        def __init__(self):
            super().__init__()
            self.stack, self.errors, self.images = [], [], []

        def handle_starttag(self, tag, attrs):
            if tag == "img":
                self.images.append(dict(attrs)["src"])
            if tag not in self.VOID:
                self.stack.append(tag)

        def handle_endtag(self, tag):
            if not self.stack or self.stack[-1] != tag:
                self.errors.append((tag, list(self.stack)))
            else:
                self.stack.pop()

    parser = Balance()
    parser.feed((out / "report.html").read_text())
    assert parser.errors == [] and parser.stack == [] and parser.images
    assert all((out / src).is_file() for src in parser.images)


def test_headline_picks_the_deciding_number_with_its_interval():
    interval = {"mean": 0.5, "ci_low": 0.25, "ci_high": 0.75, "n": 3}
    assert headline({"a": 1.0, "a_minus_b": interval}) == "a_minus_b: 0.5 [0.25, 0.75]"
    # no difference measured: the first interval with the arms it is compared with
    assert headline({"env": {"status": "worse", "bear": interval, "bcq": {**interval, "mean": 0.6}}}) == \
        "env: bear 0.5 [0.25, 0.75] vs bcq 0.6 [0.25, 0.75] (worse)"
    assert headline({"ratio": {"rl2": {"ratio": 7.0, "ci": [5.0, 9.0]}}}) == "ratio rl2: 7 [5, 9]"
    # the intervals the threshold names win over a ratio it does not speak of
    assert headline({"error_ratio_nmf_over_svd": interval, "hoyer_nmf": interval, "hoyer_pca": interval},
                    "NMF Hoyer sparsity above PCA's") == \
        "hoyer_nmf 0.5 [0.25, 0.75] vs hoyer_pca 0.5 [0.25, 0.75] vs error_ratio_nmf_over_svd 0.5 [0.25, 0.75]"
    assert headline({"x": 1, "y": 2.5}) == "x 1, y 2.5"
    assert headline({}) == "nothing measured"
    assert len(headline({f"k{i}": float(i) for i in range(100)})) <= 180
    assert shorten("a b c d e f", 6) == "a b c…" and md_text("a|b\n*c*") == "a\\|b \\*c\\*"


def test_save_figure_marks_short_curves_and_writes_a_caption(tmp_path):
    fig, ax = new_figure()
    short, = ax.plot([0, 1], [2, 3])
    long, = ax.plot(range(100), range(100))
    reference = ax.axhline(1.0)
    ax.set_title("loss per step")
    path = save_figure(fig, tmp_path / "f.png")
    assert short.get_marker() == "o" and long.get_marker() in ("None", "", None)
    assert reference.get_marker() in ("None", "", None)  # a reference line is no curve
    assert read_caption(path) == "loss per step"
    fig, ax = new_figure()
    ax.plot([1, 2, 3])
    ax.set_xlabel("step")
    ax.set_ylabel("PSNR (dB)")
    assert read_caption(save_figure(fig, tmp_path / "g.png")) == "PSNR (dB) vs step"
    fig, ax = new_figure()
    assert read_caption(save_figure(fig, tmp_path / "h.png", caption="given")) == "given"
    fig, axes = new_figure(3, 3)
    for i, ax in enumerate(axes.flat):
        ax.imshow([[i]])
        ax.set_title(f"panel {i}")
    assert read_caption(save_figure(fig, tmp_path / "grid.png")) == "panel 0; panel 1; panel 2; … (9 panels)"


def test_large_figures_are_stored_smaller_without_visible_change(tmp_path):
    import numpy as np
    from PIL import Image, ImageChops

    from paperlab.core.report import COMPRESS_ABOVE, write_report

    committed = _committed(tmp_path, folder_png=False)
    plots = committed / "other" / "plots-quick"
    plots.mkdir()
    pixels = np.random.default_rng(0).integers(0, 200, size=(300, 400)).astype(np.uint8)  # 200 grey levels
    Image.fromarray(pixels).convert("RGB").save(plots / "e--noise.png")
    assert (plots / "e--noise.png").stat().st_size > COMPRESS_ABOVE
    runs = tmp_path / "runs"
    runs.mkdir()
    write_report(runs, committed=committed)
    copy = runs / "report-files" / "committed" / "other" / "quick" / "e--noise.png"
    assert copy.stat().st_size < (plots / "e--noise.png").stat().st_size
    with Image.open(plots / "e--noise.png") as a, Image.open(copy) as b:
        assert max(high for _, high in ImageChops.difference(a.convert("RGB"), b.convert("RGB")).getextrema()) <= 3


def test_a_committed_claim_judged_under_earlier_rules_says_so_in_the_report(toy, tmp_path):
    committed = _committed(tmp_path)
    path = committed / "other" / "claims-quick.json"
    doc = json.loads(path.read_text())
    doc["claims"][0].update(earlier_rule="earlier rules, re-run pending", note="from the old judge")
    path.write_text(json.dumps(doc))
    out = tmp_path / "runs"
    assert main(["reproduce", "toy", "--scale", "tiny", "--out", str(out), "--committed", str(committed)]) == 0
    for text in ((out / "report.md").read_text(), (out / "report.html").read_text()):
        assert "(earlier rules, re-run pending)" in text and "from the old judge" in text


def test_judging_a_claim_again_drops_its_earlier_rule_mark(toy, tmp_path):
    out, claims = tmp_path / "runs", tmp_path / "claims-tiny.json"
    assert main(["reproduce", "toy", "--scale", "tiny", "--out", str(out), "--json", str(claims), "--no-report"]) == 0
    doc = json.loads(claims.read_text())
    for row in doc["claims"]:
        row["earlier_rule"] = "earlier rules, re-run pending"
    claims.write_text(json.dumps(doc))
    first = doc["claims"][0]["id"]
    # --claims merges into the existing file, keeping the rows not judged now as they were
    assert main(["reproduce", "toy", "--scale", "tiny", "--out", str(out), "--json", str(claims), "--no-report",
                 "--claims", first]) == 0
    rows = {row["id"]: row for row in json.loads(claims.read_text())["claims"]}
    assert "earlier_rule" not in rows[first]
    assert all("earlier_rule" in row for cid, row in rows.items() if cid != first)
