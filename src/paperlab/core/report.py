"""`paperlab report`: report.md and a self-contained report.html over a runs directory."""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Any

from paperlab.core.claims import format_claims_table, format_measured

SCALE_ORDER = {"tiny": 0, "quick": 1, "small": 2, "paper": 3}


def _latest_finished_runs(exp_dir: Path) -> dict[str, Path]:
    """The newest finished run of each scale."""
    latest: dict[str, Path] = {}
    for run_dir in sorted(p for p in exp_dir.iterdir() if p.is_dir()):
        if not (run_dir / "results.json").exists():
            continue
        scale = run_dir.name.split("-", 1)[0]
        latest[scale] = run_dir  # sorted by timestamp in the name: last wins
    return latest


def _scalars(results: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in results.items() if k != "_meta" and isinstance(v, (int, float, str, bool))}


def collect(runs_dir: Path) -> list[dict[str, Any]]:
    papers = []
    for paper_dir in sorted(p for p in Path(runs_dir).iterdir() if p.is_dir()):
        claims = []
        for claims_file in sorted(paper_dir.glob("claims-*.json")):
            claims.append(json.loads(claims_file.read_text()))
        claims.sort(key=lambda d: SCALE_ORDER.get(d.get("scale"), 9))
        experiments = []
        for exp_dir in sorted(p for p in paper_dir.iterdir() if p.is_dir() and not p.name.startswith("plots-")):
            for scale, run_dir in sorted(_latest_finished_runs(exp_dir).items(), key=lambda kv: SCALE_ORDER.get(kv[0], 9)):
                results = json.loads((run_dir / "results.json").read_text())
                experiments.append({"name": exp_dir.name, "scale": scale, "dir": run_dir,
                                    "scalars": _scalars(results), "plots": sorted((run_dir / "plots").glob("*.png"))})
        summary_plots = sorted(paper_dir.glob("plots-*/*.png"))
        if claims or experiments:
            papers.append({"name": paper_dir.name, "claims": claims, "experiments": experiments,
                           "summary_plots": summary_plots})
    return papers


def write_report(runs_dir: str | Path = "runs", out_dir: str | Path | None = None) -> tuple[Path, Path]:
    runs_dir = Path(runs_dir)
    if not runs_dir.is_dir():
        raise FileNotFoundError(f"runs directory {runs_dir} does not exist; run `paperlab run` or `paperlab reproduce` first")
    out_dir = Path(out_dir) if out_dir else runs_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    papers = collect(runs_dir)
    md, body = ["# paperlab report", ""], ["<h1>paperlab report</h1>"]
    if not papers:
        md.append("No finished runs yet.")
        body.append("<p>No finished runs yet.</p>")
    for paper in papers:
        md += [f"## {paper['name']}", ""]
        body.append(f"<h2>{html.escape(paper['name'])}</h2>")
        for doc in paper["claims"]:
            md += [f"### Claims at `{doc['scale']}` scale — {doc.get('title', '')}", "",
                   format_claims_table(doc["claims"], markdown=True), ""]
            body.append(f"<h3>Claims at {html.escape(doc['scale'])} scale</h3>" + _claims_html(doc["claims"]))
        for png in paper["summary_plots"]:
            md.append(f"![{png.name}]({_rel(png, out_dir)})")
            body.append(_img(png))
        for exp in paper["experiments"]:
            md += ["", f"### {exp['name']} (`{exp['scale']}`, {exp['dir'].name})", ""]
            body.append(f"<h3>{html.escape(exp['name'])} ({html.escape(exp['scale'])})</h3>")
            if exp["scalars"]:
                md.append(format_measured(exp["scalars"], limit=2000))
                body.append(f"<p>{html.escape(format_measured(exp['scalars'], limit=2000))}</p>")
            for png in exp["plots"]:
                md.append(f"![{png.name}]({_rel(png, out_dir)})")
                body.append(_img(png))
    md_path, html_path = out_dir / "report.md", out_dir / "report.html"
    md_path.write_text("\n".join(md) + "\n")
    style = ("body{font-family:sans-serif;max-width:1100px;margin:auto}table{border-collapse:collapse}"
             "td,th{border:1px solid #ccc;padding:4px;font-size:13px;vertical-align:top}img{max-width:100%}"
             ".reproduced{background:#d8f5d0}.not{background:#f8d3d0}.inconclusive{background:#f6efc8}")
    html_path.write_text(f"<!doctype html><html><head><meta charset='utf-8'><title>paperlab report</title>"
                         f"<style>{style}</style></head><body>{''.join(body)}</body></html>")
    return md_path, html_path


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
        out.append(f"<tr><td><code>{html.escape(row['id'])}</code>: {html.escape(row['text'])}</td>"
                   f"<td class='{css}'>{html.escape(row['verdict'])}</td>"
                   f"<td>{html.escape(format_measured(row['measured'], limit=600))}</td>"
                   f"<td>{html.escape(str(row['threshold']))}</td></tr>")
    out.append("</table>")
    return "".join(out)
