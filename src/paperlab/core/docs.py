"""The paper docs and README's claims table, generated from the committed claims JSON (`paperlab docs`).

`docs/<paper>.md` is rendered from `templates/paper_doc.md.j2`: the claims table (one line per claim and
committed scale: verdict, key number with its 95% interval, threshold, links to the JSON and a figure),
how to run it, then the hand-written section, kept as it is between

    <!-- hand-written: kept by paperlab docs -->
    ... method, what we found beyond the paper, limits ...
    <!-- /hand-written -->

README.md holds `<!-- claims-at-a-glance -->` ... `<!-- /claims-at-a-glance -->`: per paper and scale, how
many claims were reproduced / not reproduced / inconclusive. `paperlab docs --check` writes nothing and
reports every doc that differs from what the JSON gives, and every table line over 400 characters.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from paperlab.core.claims import INCONCLUSIVE, NOT_REPRODUCED, REPRODUCED, format_number
from paperlab.core.config import SCALES
from paperlab.core.registry import paper_names  # names only: no paper is imported
from paperlab.core.report import headline, md_text, shorten
from paperlab.core.runs import read_json

# markers are whole lines (a marker quoted inside a sentence is prose)
HAND_WRITTEN = re.compile(r"^<!-- hand-written: kept by paperlab docs -->\n(.*?)^<!-- /hand-written -->$", re.S | re.M)
GLANCE_BLOCK = re.compile(r"^<!-- claims-at-a-glance -->\n(.*?)^<!-- /claims-at-a-glance -->$", re.S | re.M)
MAX_TABLE_LINE = 400
FIT_TABLE_LINE = 390   # generated lines stay a little under the limit (some viewers count bytes, not characters)


def committed_scales(results: Path, paper: str) -> list[str]:
    """The scales with a `results/<paper>/claims-<scale>.json`, smallest first."""
    return [s for s in SCALES if (results / paper / f"claims-{s}.json").is_file()]


def load_claims(results: Path, paper: str, scale: str) -> dict[str, Any]:
    return read_json(results / paper / f"claims-{scale}.json", required=("claims",))


def _verdict(row: dict[str, Any]) -> str:
    """The verdict, its seeds, and `earlier_rule` where the row was judged under rules since replaced (a
    re-judge writes a fresh row without it)."""
    seeds = row.get("seeds")
    several = (isinstance(seeds, int) and seeds > 1) or (isinstance(seeds, str) and seeds)   # str: "3-6" per arm
    notes = [f"{seeds} seeds"] if several else []
    if row.get("earlier_rule"):
        notes.append(str(row["earlier_rule"]))
    return f"**{row['verdict']}**" + (f" ({'; '.join(notes)})" if notes else "")


def claim_figure(results: Path, paper: str, scale: str, experiments: list[str]) -> str | None:
    """The figure that best shows a claim: the cross-seed summary named after one of its experiments, else
    the first plot of its first experiment (as `paperlab reproduce --json` exports them)."""
    plots = sorted((results / paper / f"plots-{scale}").glob("*.png"))
    keys = [e.replace("-", "_") for e in experiments]
    for png in plots:
        if png.name.startswith("summary--") and any(k in png.stem.replace("-", "_") for k in keys):
            return png.name
    return next((png.name for e in experiments for png in plots if png.name.startswith(f"{e}--")), None)


def _fit(cells: list[str], floors: dict[int, int]) -> str:
    """A table line of `cells` that fits FIT_TABLE_LINE: the shrinkable cells (index -> the length it keeps
    longest) are cut, the one furthest above its floor first, so the key number goes last."""
    def line() -> str:
        return "| " + " | ".join(cells) + " |"

    while len(line()) > FIT_TABLE_LINE:
        index = max(floors, key=lambda i: len(cells[i]) - floors[i])
        if len(cells[index]) <= 20:
            break
        cells[index] = _shorten_md(cells[index], len(cells[index]) - 10)
    return line()


def _shorten_md(text: str, limit: int) -> str:
    """`shorten` for escaped markdown: never cut between a backslash and the character it escapes."""
    cut = shorten(text, limit)
    return cut[:-2] + "…" if cut.endswith("\\…") else cut


def claim_rows(results: Path, paper: str, link_root: str = "..") -> list[str]:
    """The claims table: one line per claim and committed scale, then the link targets (reference-style
    links keep the lines short: `[quick][json-quick]`, `[figure][fig-3]`)."""
    scales = committed_scales(results, paper)
    documents = {s: load_claims(results, paper, s) for s in scales}
    by_claim: dict[str, dict[str, dict[str, Any]]] = {}   # claim id -> scale -> row, in first-seen order
    for scale, document in documents.items():
        for row in document["claims"]:
            by_claim.setdefault(row["id"], {})[scale] = row
    base = f"{link_root}/results/{paper}"
    lines = ["| claim | scale | verdict | key number [95% interval] | threshold | figure |",
             "|---|---|---|---|---|---|"]
    figures: dict[str, int] = {}   # figure path -> its link number
    for claim_id, rows in by_claim.items():
        for i, (scale, row) in enumerate(rows.items()):
            figure = claim_figure(results, paper, scale, row.get("experiments") or [])
            if figure:
                figures.setdefault(f"{base}/plots-{scale}/{figure}", len(figures) + 1)
            cells = [f"`{claim_id}`" + (f": {md_text(row['text'])}" if i == 0 else ""),
                     f"[{scale}][json-{scale}]", _verdict(row),
                     md_text(headline(row["measured"], row["threshold"])), md_text(format_number(row["threshold"])),
                     f"[figure][fig-{figures[f'{base}/plots-{scale}/{figure}']}]" if figure else "–"]
            lines.append(_fit(cells, {0: 90, 3: 130, 4: 80}))
    lines.append("")
    lines += [f"[json-{scale}]: {base}/claims-{scale}.json" for scale in scales]
    lines += [f"[fig-{number}]: {path}" for path, number in figures.items()]
    return lines


def experiments_table(results: Path, paper: str) -> dict[str, list[str]]:
    """{experiment: the claims it is judged for}, from the committed claims JSON (no paper is imported, so
    the docs build even while a paper's code does not)."""
    table: dict[str, list[str]] = {}
    for scale in committed_scales(results, paper):
        for row in load_claims(results, paper, scale)["claims"]:
            for experiment in row.get("experiments") or []:
                if row["id"] not in table.setdefault(experiment, []):
                    table[experiment].append(row["id"])
    return table


def _scale_lines(results: Path, paper: str) -> list[dict[str, str]]:
    out = []
    for scale in committed_scales(results, paper):
        document = load_claims(results, paper, scale)
        counts = {v: sum(row["verdict"] == v for row in document["claims"])
                  for v in (REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE)}
        seconds = document.get("run_seconds") or document.get("seconds")
        out.append({"scale": scale, "counts": counts, "created": str(document.get("created", ""))[:10],
                    "hours": _duration(seconds) if isinstance(seconds, (int, float)) else "",
                    "command": _public_command(document.get("command") or "")})
    return out


def _duration(seconds: float) -> str:
    return f"{seconds:,.0f} s" if seconds < 600 else f"{seconds / 3600:.1f} h" if seconds >= 5400 else \
        f"{seconds / 60:.0f} min"


def _public_command(command: str) -> str:
    """A recorded command as a reader would type it: `paperlab` without its folder, scratch --out dropped."""
    words = command.split()
    if words and "/" in words[0]:
        words[0] = Path(words[0]).name
    cleaned, skip = [], False
    for word in words:
        if skip:
            skip = False
            continue
        if word == "--out":
            skip = True
            continue
        cleaned.append(word)
    return " ".join(cleaned)


def _environment() -> Environment:
    env = Environment(loader=PackageLoader("paperlab.core", "templates"), undefined=StrictUndefined,
                      autoescape=False, keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)
    env.filters["md"] = md_text
    return env


def render_paper_doc(results: Path, paper: str, hand_written: str, title: str) -> str:
    """docs/<paper>.md: the generated parts around the hand-written section `hand_written`."""
    return _environment().get_template("paper_doc.md.j2").render(
        paper=paper, title=title, scales=_scale_lines(results, paper), rows=claim_rows(results, paper),
        experiments=experiments_table(results, paper), hand_written=hand_written)


def glance_table(results: Path, docs_link: str = "docs") -> str:
    """Per paper and committed scale: how many claims were reproduced, not reproduced, inconclusive."""
    found = sorted(p.name for p in results.iterdir() if p.is_dir())
    papers = [n for n in paper_names() if n in found] + [n for n in found if n not in paper_names()]
    return _environment().get_template("glance.md.j2").render(
        docs_link=docs_link, papers=[(p, _scale_lines(results, p)) for p in papers])


def _doc_files(root: Path) -> list[Path]:
    return [p for p in [root / "README.md", *sorted((root / "docs").glob("*.md"))] if p.is_file()]


def _long_table_lines(path: str, text: str) -> list[str]:
    return [f"{path}:{i}: a table line of {len(line)} characters (at most {MAX_TABLE_LINE})"
            for i, line in enumerate(text.splitlines(), start=1)
            if line.startswith("|") and len(line) > MAX_TABLE_LINE]


def render(path: Path, text: str, results: Path) -> tuple[str, list[str]]:
    """The doc at `path` as the JSON under `results` gives it, and the problems that stop it."""
    name = path.name
    if GLANCE_BLOCK.search(text):
        text = GLANCE_BLOCK.sub(lambda m: f"<!-- claims-at-a-glance -->\n{glance_table(results)}"
                                          "<!-- /claims-at-a-glance -->", text)
    if path.parent.name != "docs" or not (results / path.stem).is_dir() or not committed_scales(results, path.stem):
        return text, []
    match = HAND_WRITTEN.search(text)
    if match is None:
        return text, [f"docs/{name}: no hand-written section; put the prose between "
                      "<!-- hand-written: kept by paperlab docs --> and <!-- /hand-written --> lines"]
    title = text.splitlines()[0].lstrip("# ").strip() if text.startswith("# ") else path.stem
    return render_paper_doc(results, path.stem, match.group(1), title), []


def update_docs(root: Path | str = ".", check: bool = False) -> list[str]:
    """Regenerate README.md's claims table and every docs/<paper>.md with committed claims under
    `root/results`. With `check`, write nothing. Returns the problems found (with `check`: every stale doc)."""
    root = Path(root)
    results = root / "results"
    if not results.is_dir() or not (root / "docs").is_dir():
        raise FileNotFoundError(f"{root.resolve()} has no results/ and docs/ folders; run from the repository "
                                "root or give --root")
    problems = []
    for path in _doc_files(root):
        relative = path.relative_to(root)
        text = path.read_text()
        new, found = render(relative, text, results)
        problems += found
        problems += _long_table_lines(str(relative), new)
        if new != text:
            if check:
                problems.append(f"{relative}: differs from the claims JSON; run `paperlab docs` to regenerate it")
            else:
                path.write_text(new)
    return problems
