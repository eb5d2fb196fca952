"""`paperlab report`: report.md and a self-contained report.html over a runs directory.

The report shows what each verdict was judged from: the claims documents (`claims-<scale>.json`) list the
runs behind every claim, and those runs (seed, overrides, commit, date, command) and their plots are what
the report shows; finished runs that no claims document used are listed apart, never mixed in.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

from paperlab.core.claims import VERDICTS, _format_number
from paperlab.core.runs import RESULTS_FILE, read_json

SCALE_ORDER = {"tiny": 0, "quick": 1, "small": 2, "paper": 3}
SCALE_NOTES = {"tiny": "tiny is a smoke-test scale: its verdicts check that the code runs, not the paper's claims",
               "quick": "quick scale: minutes on a laptop; verdicts are indicative (see each paper's docs)"}


def _run_meta(run_dir: Path) -> dict[str, Any]:
    try:
        meta = read_json(run_dir / "config.json")
    except (OSError, ValueError):
        meta = {}
    return meta


def collect(runs_dir: Path, committed: Path | None = None) -> list[dict[str, Any]]:
    """Papers with their claims documents and other finished runs. With `committed` (e.g. the repository's
    results/), a paper without claims in `runs_dir` shows the committed claims documents, marked as such."""
    papers = []
    names = {p.name for p in Path(runs_dir).iterdir() if p.is_dir()}
    if committed is not None and Path(committed).is_dir():
        names |= {p.name for p in Path(committed).iterdir() if p.is_dir() and any(p.glob("claims-*.json"))}
    for name in sorted(names):
        paper_dir = Path(runs_dir) / name
        claims = [read_json(f, required=("scale", "claims")) for f in sorted(paper_dir.glob("claims-*.json"))]
        if not claims and committed is not None:
            claims = [{**read_json(f, required=("scale", "claims")), "committed_from": str(f)}
                      for f in sorted((Path(committed) / name).glob("claims-*.json"))]
        claims.sort(key=lambda d: SCALE_ORDER.get(d.get("scale"), 9))
        used = {str(Path(d).resolve()) for doc in claims for row in doc["claims"] for d in row.get("runs", [])}
        other_runs = []
        exp_dirs = paper_dir.iterdir() if paper_dir.is_dir() else []
        for exp_dir in sorted(p for p in exp_dirs if p.is_dir() and not p.name.startswith("plots-")):
            for run_dir in sorted(p for p in exp_dir.iterdir() if p.is_dir() and (p / RESULTS_FILE).exists()):
                if str(run_dir.resolve()) not in used:
                    other_runs.append({"experiment": exp_dir.name, "dir": run_dir, "meta": _run_meta(run_dir)})
        if claims or other_runs:
            papers.append({"name": name, "claims": claims, "other_runs": other_runs})
    return papers


def _counts(doc: dict[str, Any]) -> dict[str, int]:
    counts = {v: 0 for v in VERDICTS}
    for row in doc["claims"]:
        counts[row["verdict"]] = counts.get(row["verdict"], 0) + 1
    return counts


def measured_lines(measured: Any, prefix: str = "") -> list[str]:
    """Measured values as 'key: value' lines (nested dicts flattened, intervals as mean [low, high])."""
    if not isinstance(measured, dict) or {"mean", "ci_low", "ci_high"} <= set(measured):
        return [f"{prefix}: {_format_number(measured)}" if prefix else _format_number(measured)]
    lines = []
    for key, value in measured.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict) and not {"mean", "ci_low", "ci_high"} <= set(value) and len(lines) < 40:
            lines += measured_lines(value, name)
        else:
            lines.append(f"{name}: {_format_number(value)}")
    return lines[:40] + (["…"] if len(lines) > 40 else [])


def _md_cell(text: str) -> str:
    """Markdown-table safe: `|` escaped (formulas like |Q−G| survive), newlines as <br>."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", "<br>")


def _run_line(info: dict[str, Any]) -> str:
    if info.get("overrides") is None:
        overrides = "overrides not recorded"
    else:
        overrides = ", ".join(f"{k}={v}" for k, v in info["overrides"].items()) or "scale preset"
    parts = [f"{info.get('experiment')} seed {info.get('seed')} ({overrides})"]
    parts += [f"commit {info['commit'][:10]}"] if info.get("commit") else []
    parts += [f"started {info['started']}"] if info.get("started") else []
    parts += [f"`{info['command']}`"] if info.get("command") else []
    return "; ".join(parts) + f" — {info.get('dir')}"


def _run_infos(row: dict[str, Any]) -> list[dict[str, Any]]:
    if row.get("run_info"):
        return row["run_info"]
    infos = []  # claims documents made before run_info existed: read the run folders, or their names
    for d in row.get("runs", []):
        meta = _run_meta(Path(d))
        name = Path(d).name.split("-")  # <scale>-seed<N>-<date>-<time>-<us>
        seed = meta.get("seed", name[1][4:] if len(name) > 1 and name[1].startswith("seed") else "?")
        started = meta.get("started") or (f"{name[2]} {name[3]} UTC" if len(name) > 3 else None)
        infos.append({"dir": d if meta else f"{d} (run folder not on this machine)",
                      "experiment": meta.get("experiment", Path(d).parent.name), "seed": seed,
                      "overrides": None, "commit": meta.get("git_commit"), "started": started,
                      "command": " ".join(meta.get("command") or []) or None})
    return infos


def _anchor(*parts: str) -> str:
    return "-".join("".join(c if c.isalnum() else "-" for c in p.lower()) for p in parts)


def write_report(runs_dir: str | Path = "runs", out_dir: str | Path | None = None,
                 committed: str | Path | None = None) -> tuple[Path, Path]:
    runs_dir = Path(runs_dir)
    if not runs_dir.is_dir():
        raise FileNotFoundError(f"runs directory {runs_dir} does not exist; run `paperlab run` or `paperlab reproduce` first")
    out_dir = Path(out_dir) if out_dir else runs_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    papers = collect(runs_dir, Path(committed) if committed else None)
    md, body = ["# paperlab report", ""], ["<h1>paperlab report</h1>"]
    if not papers:
        md.append("No finished runs yet.")
        body.append("<p>No finished runs yet.</p>")

    # overview: verdict counts per paper and scale, with a table of contents
    if papers:
        md += ["## Overview", "", "| paper | scale | reproduced | not reproduced | inconclusive | note |",
               "|---|---|---|---|---|---|"]
        body.append("<h2>Overview</h2><table><tr><th>paper</th><th>scale</th><th>reproduced</th>"
                    "<th>not reproduced</th><th>inconclusive</th><th>note</th></tr>")
        for paper in papers:
            for doc in paper["claims"]:
                c, anchor = _counts(doc), _anchor(paper["name"], doc["scale"])
                note = SCALE_NOTES.get(doc["scale"], "")
                if doc.get("committed_from"):
                    note = f"committed result ({doc['committed_from']}), not re-run here. " + note
                md.append(f"| [{paper['name']}](#{anchor}) | {doc['scale']} | {c['reproduced']} | "
                          f"{c['not reproduced']} | {c['inconclusive']} | {note} |")
                body.append(f"<tr><td><a href='#{anchor}'>{html.escape(paper['name'])}</a></td>"
                            f"<td>{html.escape(doc['scale'])}</td><td>{c['reproduced']}</td>"
                            f"<td>{c['not reproduced']}</td><td>{c['inconclusive']}</td><td>{html.escape(note)}</td></tr>")
            if not paper["claims"]:
                md.append(f"| {paper['name']} | – | – | – | – | runs only, no claims judged yet |")
                body.append(f"<tr><td>{html.escape(paper['name'])}</td><td colspan=5>runs only, no claims judged yet"
                            "</td></tr>")
        body.append("</table>")
        if any(doc["scale"] == "tiny" for p in papers for doc in p["claims"]):
            warning = f"**Warning:** {SCALE_NOTES['tiny']}."
            md += ["", warning]
            body.append(f"<p class='warn'><b>Warning:</b> {html.escape(SCALE_NOTES['tiny'])}.</p>")
        md.append("")

    for paper in papers:
        md += [f"## {paper['name']}", ""]
        body.append(f"<h2>{html.escape(paper['name'])}</h2>")
        for doc in paper["claims"]:
            anchor = _anchor(paper["name"], doc["scale"])
            md += [f"<a id='{anchor}'></a>", "", f"### Claims at `{doc['scale']}` scale — {doc.get('title', '')}", ""]
            if doc["scale"] in SCALE_NOTES:
                md += [f"*{SCALE_NOTES[doc['scale']]}*", ""]
            if doc.get("committed_from"):
                md += [f"**Committed result** from `{doc['committed_from']}`, not re-run by this command.", ""]
            if doc.get("command") or doc.get("created"):
                md += [f"Judged {doc.get('created', '?')} by `{doc.get('command') or 'paperlab reproduce'}`.", ""]
            md += ["| claim | verdict | measured | threshold |", "|---|---|---|---|"]
            for row in doc["claims"]:
                measured = "<br>".join(_md_cell(x) for x in measured_lines(row["measured"]))
                md.append(f"| `{row['id']}`: {_md_cell(row['text'])} | **{row['verdict']}** | {measured} | "
                          f"{_md_cell(_format_number(row['threshold']))} |")
            md.append("")
            for row in doc["claims"]:
                md.append(f"- `{row['id']}` judged from: " + "; ".join(_run_line(i) for i in _run_infos(row)))
                if row.get("note"):
                    md.append(f"  - note: {row['note']}")
            md.append("")
            body.append(f"<h3 id='{anchor}'>Claims at {html.escape(doc['scale'])} scale</h3>")
            if doc.get("committed_from"):
                body.append(f"<p class='warn'><b>Committed result</b> from {html.escape(doc['committed_from'])}, "
                            "not re-run by this command.</p>")
            if doc["scale"] in SCALE_NOTES:
                body.append(f"<p><i>{html.escape(SCALE_NOTES[doc['scale']])}</i></p>")
            body.append(_claims_html(doc["claims"]))
            plots_root = Path(doc["committed_from"]).parent if doc.get("committed_from") else runs_dir / paper["name"]
            for png in _doc_plots(plots_root, doc):
                md.append(f"![{png.name}]({_rel(png, out_dir)})")
                body.append(_img(png))
        if paper["other_runs"]:
            md += ["", "### Other finished runs (not behind any verdict above)", ""]
            body.append("<h3>Other finished runs (not behind any verdict above)</h3><ul>")
            for run in paper["other_runs"]:
                meta = run["meta"]
                line = (f"{run['experiment']} `{meta.get('scale', '?')}` seed {meta.get('seed', '?')} — "
                        f"{run['dir'].name}, started {meta.get('started', '?')}")
                md.append(f"- {line}")
                body.append(f"<li>{html.escape(line)}</li>")
            body.append("</ul>")
        md.append("")
    md_path, html_path = out_dir / "report.md", out_dir / "report.html"
    md_path.write_text("\n".join(md) + "\n")
    style = ("body{font-family:sans-serif;max-width:1100px;margin:auto}table{border-collapse:collapse}"
             "td,th{border:1px solid #ccc;padding:4px;font-size:13px;vertical-align:top}img{max-width:100%}"
             ".reproduced{background:#d8f5d0}.not{background:#f8d3d0}.inconclusive{background:#f6efc8}"
             ".warn{background:#fde8c8;padding:6px}ul.runs{font-size:12px;margin:2px 0}")
    html_path.write_text(f"<!doctype html><html><head><meta charset='utf-8'><title>paperlab report</title>"
                         f"<style>{style}</style></head><body>{''.join(body)}</body></html>")
    return md_path, html_path


def _doc_plots(paper_dir: Path, doc: dict[str, Any]) -> list[Path]:
    """The summary plots of a claims document and the plots of the first run behind each experiment."""
    plots = sorted((paper_dir / f"plots-{doc['scale']}").glob("*.png"))
    seen = set()
    for row in doc["claims"]:
        for run_dir in row.get("runs", []):
            exp = Path(run_dir).parent.name
            if exp in seen:
                continue
            seen.add(exp)
            plots += sorted((Path(run_dir) / "plots").glob("*.png"))
    return plots


def _rel(path: Path, base: Path) -> str:
    try:
        return str(path.resolve().relative_to(base.resolve()))
    except ValueError:
        return str(path.resolve())


def _img(png: Path) -> str:
    data = base64.b64encode(png.read_bytes()).decode()
    return f"<figure><img src='data:image/png;base64,{data}'><figcaption>{html.escape(png.name)}</figcaption></figure>"


def _claims_html(rows: list[dict[str, Any]]) -> str:
    out = ["<table><tr><th>claim</th><th>verdict</th><th>measured</th><th>threshold</th></tr>"]
    for row in rows:
        css = {"reproduced": "reproduced", "not reproduced": "not"}.get(row["verdict"], "inconclusive")
        measured = "<br>".join(html.escape(x) for x in measured_lines(row["measured"]))
        runs = "".join(f"<li>{html.escape(_run_line(i))}</li>" for i in _run_infos(row))
        note = f"<p>{html.escape(row['note'])}</p>" if row.get("note") else ""
        out.append(f"<tr><td><code>{html.escape(row['id'])}</code>: {html.escape(row['text'])}{note}"
                   f"<details><summary>judged from {len(_run_infos(row))} run(s)</summary><ul class='runs'>{runs}"
                   f"</ul></details></td>"
                   f"<td class='{css}'>{html.escape(row['verdict'])}</td>"
                   f"<td>{measured}</td>"
                   f"<td>{html.escape(_format_number(row['threshold']))}</td></tr>")
    out.append("</table>")
    return "".join(out)
