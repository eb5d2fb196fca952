"""docs/<paper>.md and README's claims table are generated from results/*/claims-*.json (`paperlab docs`)
around a hand-written section that is kept as written."""

import json
import re
from pathlib import Path

from paperlab.cli import main
from paperlab.core.docs import MAX_TABLE_LINE, claim_rows, update_docs

REPO = Path(__file__).resolve().parents[2]
HAND = "<!-- hand-written: kept by paperlab docs -->\n## Method\n\nprose | with a pipe\n<!-- /hand-written -->\n"


def test_committed_docs_match_their_claims_json_and_read_in_a_minute():
    problems = update_docs(REPO, check=True)
    assert problems == [], "\n".join(problems) + "\nrun `paperlab docs` from the repository root and commit the docs"
    for path in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        text = path.read_text()
        assert not re.search(r"\bissues? \d+", text, re.I), f"{path.name} names an issue number"
        assert all(len(line) <= MAX_TABLE_LINE for line in text.splitlines() if line.startswith("|")), path.name


def _claims(scale, verdicts, note="", text="claim {i} | with a pipe"):
    return {"paper": "demo", "scale": scale, "created": "2026-12-01T00:00:00", "run_seconds": 12.0,
            "command": f"/x/bin/paperlab reproduce demo --scale {scale} --out /tmp/scratch",
            "claims": [{"id": f"c{i}", "text": text.format(i=i), "verdict": v, "seeds": 3, "experiments": ["exp"],
                        "measured": {"gap": {"mean": 0.5, "ci_low": 0.25, "ci_high": 0.75, "n": 3}, "steps": 10},
                        "threshold": "gap > 0", "note": note} for i, v in enumerate(verdicts)]}


def _repo(tmp_path, doc_text, **scales):
    (tmp_path / "docs").mkdir()
    (tmp_path / "results" / "demo" / "plots-quick").mkdir(parents=True)
    (tmp_path / "results" / "demo" / "plots-quick" / "exp--curve.png").write_bytes(b"png")
    for scale, document in scales.items():
        (tmp_path / "results" / "demo" / f"claims-{scale}.json").write_text(json.dumps(document))
    (tmp_path / "docs" / "demo.md").write_text(doc_text)
    (tmp_path / "README.md").write_text("# demo\n\n<!-- claims-at-a-glance -->\n<!-- /claims-at-a-glance -->\n")
    return tmp_path


def test_one_line_per_claim_and_scale_with_headline_threshold_and_links(tmp_path):
    root = _repo(tmp_path, "# Demo\n", quick=_claims("quick", ["reproduced"]), small=_claims("small", ["inconclusive"]))
    assert claim_rows(root / "results", "demo") == [
        "| claim | scale | verdict | key number [95% interval] | threshold | figure |",
        "|---|---|---|---|---|---|",
        "| `c0`: claim 0 \\| with a pipe | [quick][json-quick] | **reproduced** (3 seeds) | "
        "gap: 0.5 \\[0.25, 0.75\\] | gap \\> 0 | [figure][fig-1] |",
        "| `c0` | [small][json-small] | **inconclusive** (3 seeds) | gap: 0.5 \\[0.25, 0.75\\] | gap \\> 0 | – |",
        "",
        "[json-quick]: ../results/demo/claims-quick.json",
        "[json-small]: ../results/demo/claims-small.json",
        "[fig-1]: ../results/demo/plots-quick/exp--curve.png",
    ]


def test_write_then_check_keeps_the_hand_written_section_and_catches_a_changed_json(tmp_path, capsys):
    root = _repo(tmp_path, "# Demo paper\n\nstale generated text\n\n" + HAND, quick=_claims("quick", ["reproduced", "inconclusive"]))
    assert main(["docs", "--check", "--root", str(root)]) == 1
    assert "docs/demo.md: differs from the claims JSON" in capsys.readouterr().err
    assert main(["docs", "--root", str(root)]) == 0
    doc = (root / "docs" / "demo.md").read_text()
    assert doc.startswith("# Demo paper\n") and "stale generated" not in doc and doc.endswith(HAND)
    assert "- `quick`: 1 reproduced, 0 not reproduced, 1 inconclusive (judged 2026-12-01, 12 s of runs): " \
           "`paperlab reproduce demo --scale quick`" in doc   # the folders of the recorded command left out
    assert "| `exp` | `c0`, `c1` |" in doc and "paperlab reproduce demo --scale quick    #" in doc
    readme = (root / "README.md").read_text()
    assert "| [demo](docs/demo.md) | quick | 1 | 0 | 1 | 2026-12-01 |" in readme
    assert main(["docs", "--check", "--root", str(root)]) == 0

    # the JSON changes (a re-run): the committed doc no longer matches; the hand-written part survives a rewrite
    (root / "results" / "demo" / "claims-quick.json").write_text(
        json.dumps(_claims("quick", ["reproduced", "not reproduced"])))
    assert main(["docs", "--check", "--root", str(root)]) == 1
    err = capsys.readouterr().err
    assert "docs/demo.md" in err and "README.md" in err
    assert main(["docs", "--root", str(root)]) == 0
    assert (root / "docs" / "demo.md").read_text().endswith(HAND)


def test_long_claims_fit_a_table_line_and_markup_is_escaped(tmp_path):
    long_text = "<b>loud</b> [link](http://x) " + "word " * 200
    root = _repo(tmp_path, "# Demo\n" + HAND, quick=_claims("quick", ["reproduced"], text=long_text))
    assert update_docs(root) == []
    doc = (root / "docs" / "demo.md").read_text()
    rows = [line for line in doc.splitlines() if line.startswith("| `c0`")]
    assert len(rows) == 1 and len(rows[0]) <= MAX_TABLE_LINE and "…" in rows[0]
    assert "<b>" not in rows[0] and "\\<b\\>" in rows[0] and "](http" not in rows[0].replace("\\](http", "")


def test_a_doc_without_its_hand_written_section_and_bad_folders_are_one_line_errors(tmp_path, capsys):
    root = _repo(tmp_path, "# Demo\nonly prose\n", quick=_claims("quick", ["reproduced"]))
    problems = update_docs(root, check=True)
    assert any("no hand-written section" in p for p in problems)
    assert main(["docs", "--check", "--root", str(tmp_path / "nowhere")]) == 2
    assert "has no results/ and docs/ folders" in capsys.readouterr().err


def test_a_row_judged_under_an_earlier_rule_says_so_until_it_is_judged_again(tmp_path):
    small = _claims("small", ["inconclusive", "reproduced"])
    small["claims"][0]["earlier_rule"] = "earlier rule, re-run pending"
    root = _repo(tmp_path, "# Demo\n", small=small)
    rows = [line for line in claim_rows(root / "results", "demo") if line.startswith("| `c")]
    assert "**inconclusive** (3 seeds; earlier rule, re-run pending)" in rows[0]
    assert "**reproduced** (3 seeds) |" in rows[1] and "earlier rule" not in rows[1]


def test_a_row_whose_arms_have_different_seed_counts_shows_the_range(tmp_path):
    small = _claims("small", ["inconclusive"])
    small["claims"][0]["seeds"] = "3-6"   # a judge's Verdict.seeds: extra seeds trained only some arms
    root = _repo(tmp_path, "# Demo\n", small=small)
    rows = [line for line in claim_rows(root / "results", "demo") if line.startswith("| `c")]
    assert "**inconclusive** (3-6 seeds) |" in rows[0]
