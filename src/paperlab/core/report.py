"""`paperlab report`: report.md and report.html over a runs directory, built for reading.

The runs made here come first, then (with `--committed DIR`) the committed results of the scales not run
here, marked as such. Per claim the page shows one headline line (verdict, key number with its 95% interval,
threshold) and folds the details: every measured number, the runs the verdict was judged from (seed,
overrides, commit, date, command) and the figures. Runs behind no verdict are shown with their metrics and
plots. Figures are copied beside the pages into `report-files/` (large ones palette-compressed), so the HTML
stays small; no absolute path is shown.

Three steps, one function each: `collect` (what to show, figures copied), `render_markdown`, `render_html`.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, StrictUndefined
from PIL import Image

from paperlab.core.claims import VERDICTS, format_number
from paperlab.core.plots import read_caption
from paperlab.core.runs import RESULTS_FILE, read_json

SCALE_ORDER = {"tiny": 0, "quick": 1, "small": 2, "paper": 3}
SCALE_NOTES = {"tiny": "tiny is a smoke-test scale: its verdicts check that the code runs, not the paper's claims",
               "quick": "quick scale: minutes on a laptop; verdicts are indicative (see each paper's docs)"}
FILES_DIR = "report-files"   # figures beside report.md / report.html
COMPRESS_ABOVE = 30_000      # bytes: larger PNGs are stored with a 256-colour palette (about 4x smaller)
INTERVAL = {"mean", "ci_low", "ci_high"}
# measured keys that usually hold the number a claim is decided on
HEADLINE_WORDS = ("minus", "difference", "margin", "ratio", "gap", "_over_", "advantage")
HEADLINE_STOP_WORDS = {"the", "and", "for", "mean", "over", "per", "all", "with", "from", "minus", "best"}
HEADLINE_CHARS = 180
SHORT_THRESHOLD_CHARS = 140
SHORT_TEXT_CHARS = 120


# --- numbers -------------------------------------------------------------------------------------------

def measured_lines(measured: Any, prefix: str = "") -> list[str]:
    """Measured values as 'key: value' lines (nested dicts flattened, intervals as mean [low, high])."""
    if not isinstance(measured, dict) or INTERVAL <= set(measured):
        return [f"{prefix}: {format_number(measured)}" if prefix else format_number(measured)]
    lines = []
    for key, value in measured.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict) and not INTERVAL <= set(value) and len(lines) < 40:
            lines += measured_lines(value, name)
        else:
            lines.append(f"{name}: {format_number(value)}")
    return lines[:40] + (["…"] if len(lines) > 40 else [])


def shorten(text: Any, limit: int) -> str:
    """One line of at most `limit` characters (cut at a word, with an ellipsis)."""
    text = " ".join(str(text).split())
    if len(text) <= limit:
        return text
    cut = text[:limit - 1].rsplit(" ", 1)[0]
    return (cut if len(cut) > limit // 2 else text[:limit - 1]) + "…"


def _is_interval(value: Any) -> bool:
    return isinstance(value, dict) and (INTERVAL <= set(value) or
                                        ("ci" in value and isinstance(value["ci"], (list, tuple))))


def _interval_text(value: dict[str, Any]) -> str:
    if INTERVAL <= set(value):
        return format_number(value)
    point = next((v for k, v in value.items() if k != "ci" and isinstance(v, (int, float))), None)
    low, high = value["ci"][:2]
    return f"{format_number(point)} [{format_number(low)}, {format_number(high)}]"


def _is_number(value: Any) -> bool:
    """A number, or a short list of numbers (a value per context size, per time, ...)."""
    if isinstance(value, (list, tuple)):
        return 0 < len(value) <= 6 and all(_is_number(v) and not isinstance(v, (list, tuple)) for v in value)
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _leaves(measured: Any, path: tuple[str, ...] = ()):
    """(path, parent dict, value) for every interval and number in `measured`, depth first."""
    if isinstance(measured, dict) and not _is_interval(measured):
        for key, value in measured.items():
            if _is_interval(value) or _is_number(value):
                yield path + (str(key),), measured, value
            elif isinstance(value, dict):
                yield from _leaves(value, path + (str(key),))


def _threshold_share(path: tuple[str, ...], threshold: str) -> float:
    """The share of the words of the last key of `path` (3+ letters or digits) that the threshold names."""
    words = set(re.findall(r"[a-z0-9]{3,}", path[-1].lower())) - HEADLINE_STOP_WORDS
    return sum(bool(re.search(rf"\b{re.escape(w)}", threshold)) for w in words) / len(words) if words else 0.0


def headline(measured: Any, threshold: Any = "") -> str:
    """The key number of a claim's measurements, with its interval where there is one: of the intervals, the
    one the threshold names most (a measured difference, margin or ratio counts extra; otherwise shown with
    the arms it is compared with); without intervals, a difference, margin or ratio, else the first numbers."""
    leaves = list(_leaves(measured))
    if not leaves:
        return shorten(format_number(measured), HEADLINE_CHARS) if measured not in ({}, None) else "nothing measured"
    threshold = format_number(threshold).lower()

    def named(path):
        return any(w in f"_{'_'.join(path).lower().replace(' ', '_')}_" for w in HEADLINE_WORDS)

    def value_text(value):
        return _interval_text(value) if _is_interval(value) else format_number(value)

    def group(leaf, kind):
        """The leaf with up to two siblings of the same kind (the arms it is compared with)."""
        path, parent, value = leaf
        others = sorted(((k, v) for k, v in parent.items() if k != path[-1] and kind(v)),
                        key=lambda kv: -_threshold_share((str(kv[0]),), threshold))  # stable: ties keep order
        siblings = [(path[-1], value)] + others[:2]
        if len(siblings) == 1:
            return shorten(f"{' '.join(path)}: {value_text(value)}", HEADLINE_CHARS)
        status = parent.get("status") if isinstance(parent.get("status"), str) else None
        body = (" vs " if kind is _is_interval else ", ").join(f"{k} {value_text(v)}" for k, v in siblings)
        prefix = " ".join(path[:-1])
        return shorten(f"{prefix + ': ' if prefix else ''}{body}{f' ({status})' if status else ''}", HEADLINE_CHARS)

    def single(leaf):
        return shorten(f"{' '.join(leaf[0])}: {value_text(leaf[2])}", HEADLINE_CHARS)

    intervals = [leaf for leaf in leaves if _is_interval(leaf[2])]
    if intervals:  # the interval the threshold speaks of most, a measured difference first; ties: the first
        best = max(intervals, key=lambda leaf: _threshold_share(leaf[0], threshold) + 0.5 * named(leaf[0]))
        return single(best) if named(best[0]) else group(best, _is_interval)
    best = next((leaf for leaf in leaves if named(leaf[0])), None)
    return single(best) if best is not None else group(leaves[0], _is_number)


# --- collect -------------------------------------------------------------------------------------------

def _shown_path(path: str | Path, base: Path) -> str:
    """A path as the report shows it: relative to `base` or the working directory, else its last 3 parts."""
    path = Path(path)
    for root in (base, Path.cwd()):
        try:
            return str(path.resolve().relative_to(root.resolve()))
        except (ValueError, OSError):
            pass
    return str(Path(*path.parts[-3:])) if path.is_absolute() else str(path)


def _folder_label(folder: Path) -> str:
    """A folder as given when relative, else its name (no absolute path in the report)."""
    return str(folder) if not folder.is_absolute() else folder.name


def _run_meta(run_dir: Path) -> dict[str, Any]:
    try:
        return read_json(run_dir / "config.json")
    except (OSError, ValueError):
        return {}


def _run_infos(row: dict[str, Any]) -> list[dict[str, Any]]:
    if row.get("run_info"):
        return row["run_info"]
    infos = []  # claims documents made before run_info existed: read the run folders, or their names
    for d in row.get("runs", []):
        meta = _run_meta(Path(d))
        name = Path(d).name.split("-")  # <scale>-seed<N>-<date>-<time>-<us>
        seed = meta.get("seed", name[1][4:] if len(name) > 1 and name[1].startswith("seed") else "?")
        date, time = (name[2], name[3]) if len(name) > 3 else ("", "")
        started = meta.get("started") or (f"{date[:4]}-{date[4:6]}-{date[6:]}T{time[:2]}:{time[2:4]}" if time else None)
        infos.append({"dir": d, "missing": not meta, "experiment": meta.get("experiment", Path(d).parent.name),
                      "seed": seed, "overrides": None, "commit": meta.get("git_commit"), "started": started,
                      "command": " ".join(meta.get("command") or []) or None})
    return infos


def _when(timestamp: Any) -> str:
    """An ISO timestamp to the minute, as people read it."""
    return str(timestamp)[:16].replace("T", " ")


def _command(command: Any) -> str:
    """A recorded command line with the program's folder dropped (`/.../bin/paperlab` -> `paperlab`)."""
    words = str(command).split(" ")
    return " ".join([Path(words[0]).name, *words[1:]]) if words and "/" in words[0] else str(command)


def _run_line(info: dict[str, Any], base: Path) -> str:
    if info.get("overrides") is None:
        overrides = "overrides not recorded"
    else:
        overrides = ", ".join(f"{k}={v}" for k, v in info["overrides"].items()) or "scale preset"
    parts = [f"{info.get('experiment')} seed {info.get('seed')} ({overrides})"]
    parts += [f"commit {info['commit'][:10]}"] if info.get("commit") else []
    parts += [f"started {_when(info['started'])}"] if info.get("started") else []
    parts += [f"command: {_command(info['command'])}"] if info.get("command") else []
    where = _shown_path(info.get("dir", "?"), base) + (" (folder not on this machine)" if info.get("missing") else "")
    return "; ".join(parts) + f" — {where}"


def _counts(doc: dict[str, Any]) -> dict[str, int]:
    counts = {v: 0 for v in VERDICTS}
    for row in doc["claims"]:
        counts[row["verdict"]] = counts.get(row["verdict"], 0) + 1
    return counts


def _anchor(*parts: str) -> str:
    return "-".join("".join(c if c.isalnum() else "-" for c in p.lower()) for p in parts)


def _palette_png(image: Image.Image) -> Image.Image:
    """The image with a 256-colour palette: exact when it has at most 256 colours, else median cut (fast
    octree quantisation bands smooth fields, which would misrepresent a fit)."""
    colours = image.getcolors(256)
    if colours is None:
        return image.quantize(256, method=Image.Quantize.MEDIANCUT)
    palette = Image.new("P", (1, 1))
    flat = [c for _, rgb in colours for c in rgb]
    palette.putpalette(flat + [0] * (768 - len(flat)))
    return image.quantize(palette=palette, dither=Image.Dither.NONE)


class _Figures:
    """Copies figures into `out/report-files/` once each (large ones palette-compressed) and gives their
    relative source and a caption that says what is shown."""

    def __init__(self, out_dir: Path):
        self.out_dir, self.root = out_dir, out_dir / FILES_DIR
        shutil.rmtree(self.root, ignore_errors=True)  # only this report's own folder
        self.done: dict[Path, str] = {}

    def add(self, png: Path, folder: str, experiment: str | None) -> dict[str, str]:
        png = png.resolve()
        if png not in self.done:
            name = png.name if "--" in png.name or not experiment else f"{experiment}--{png.name}"
            target = self.root / folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if png.stat().st_size > COMPRESS_ABOVE:
                with Image.open(png) as image:
                    _palette_png(image.convert("RGB")).save(target, "PNG")
            if not target.exists() or target.stat().st_size >= png.stat().st_size:  # small, or no gain
                shutil.copyfile(png, target)
            self.done[png] = target.relative_to(self.out_dir).as_posix()
        stem = png.stem.split("--", 1)[-1].replace("_", " ")
        caption = read_caption(png) or stem
        if experiment and experiment != "summary":
            caption = f"{experiment}: {caption}"
        elif experiment == "summary":
            caption = f"across seeds: {caption}"
        return {"src": self.done[png], "caption": caption, "experiment": experiment or ""}


def _doc_figures(doc: dict[str, Any], paper_dir: Path, committed: bool, figures: _Figures,
                 folder: str) -> list[dict[str, str]]:
    """A claims document's figures: its cross-seed summary plots, and the first run's plots per experiment."""
    plots_dir = paper_dir / f"plots-{doc['scale']}"
    found: list[tuple[Path, str]] = []
    if committed:  # exported as <experiment>--<name>.png and summary--<name>.png
        found = [(p, p.name.split("--", 1)[0] if "--" in p.name else "summary") for p in sorted(plots_dir.glob("*.png"))]
    else:
        found = [(p, "summary") for p in sorted(plots_dir.glob("*.png"))]
        seen = set()
        for row in doc["claims"]:
            for run_dir in row.get("runs", []):
                experiment = Path(run_dir).parent.name
                if experiment not in seen:
                    seen.add(experiment)
                    found += [(p, experiment) for p in sorted((Path(run_dir) / "plots").glob("*.png"))]
    return [figures.add(p, folder, experiment) for p, experiment in found]


def _claim_figures(row: dict[str, Any], doc_figures: list[dict[str, str]]) -> list[dict[str, str]]:
    """The figures of a claim's experiments, and the summary figures named after one of them."""
    experiments = row.get("experiments") or sorted({Path(d).parent.name for d in row.get("runs", [])})
    keys = [e.replace("-", "_") for e in experiments]
    return [f for f in doc_figures if f["experiment"] in experiments or
            (f["experiment"] == "summary" and any(k in Path(f["src"]).stem.replace("-", "_") for k in keys))]


def _claims_view(doc: dict[str, Any], paper: str, base: Path, doc_figures: list[dict[str, str]],
                 source: str) -> dict[str, Any]:
    claims, shown = [], set()
    for row in doc["claims"]:
        claim_figures = _claim_figures(row, doc_figures)
        shown.update(f["src"] for f in claim_figures)
        infos = _run_infos(row)
        claims.append({
            "id": row["id"], "text": row["text"], "text_short": shorten(row["text"], SHORT_TEXT_CHARS),
            "verdict": row["verdict"],
            "css": {"reproduced": "ok", "not reproduced": "no"}.get(row["verdict"], "maybe"),
            "headline": headline(row["measured"], row["threshold"]),
            "threshold": format_number(row["threshold"]),
            "threshold_short": shorten(format_number(row["threshold"]), SHORT_THRESHOLD_CHARS),
            "measured": measured_lines(row["measured"]), "note": row.get("note") or "",
            "earlier_rule": row.get("earlier_rule") or "",
            "seeds": row.get("seeds"), "runs": [_run_line(i, base) for i in infos], "figures": claim_figures})
    return {"paper": paper, "scale": doc["scale"], "title": doc.get("title", ""), "source": source,
            "anchor": _anchor(source, paper, doc["scale"]), "counts": _counts(doc), "claims": claims,
            "created": _when(doc.get("created", "")), "command": _command(doc.get("command") or ""),
            "scale_note": SCALE_NOTES.get(doc["scale"], ""),
            "other_figures": [f for f in doc_figures if f["src"] not in shown]}


def _single_run_view(run_dir: Path, paper: str, base: Path, figures: _Figures) -> dict[str, Any]:
    meta = _run_meta(run_dir)
    try:
        results = read_json(run_dir / RESULTS_FILE)
    except (OSError, ValueError):
        results = {}
    seconds = (results.get("_meta") or {}).get("seconds") if isinstance(results.get("_meta"), dict) else None
    # curves (lists longer than a few values) are in the plots and results.json, not in the list of metrics
    metrics = [line for line in measured_lines({k: v for k, v in results.items() if k != "_meta"})
               if not re.search(r": \[([^,\]]*, ){3,}", line)] if results else []
    folder = f"runs/{paper}/{run_dir.parent.name}/{run_dir.name}"
    return {"experiment": run_dir.parent.name, "scale": meta.get("scale", "?"), "seed": meta.get("seed", "?"),
            "folder": _shown_path(run_dir, base), "started": _when(meta.get("started", "?")),
            "seconds": f"{seconds:,.0f} s" if isinstance(seconds, (int, float)) else "",
            "metrics": metrics[:24] + (["…"] if len(metrics) > 24 else []),
            "figures": [figures.add(p, folder, run_dir.parent.name) for p in sorted((run_dir / "plots").glob("*.png"))]}


def _paper_dirs(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir() and p.name != FILES_DIR and not p.name.startswith("."))


def collect(runs_dir: Path, out_dir: Path, committed: Path | None = None) -> dict[str, Any]:
    """Everything the report shows, in reading order: the papers run in `runs_dir` (claims judged there,
    then runs behind no verdict), then the committed claims of `committed` for the scales not run here.
    Copies the figures into `out_dir/report-files/`."""
    figures = _Figures(out_dir)
    here, judged_here = [], set()
    for paper_dir in _paper_dirs(runs_dir):
        docs = sorted((read_json(f, required=("scale", "claims")) for f in paper_dir.glob("claims-*.json")),
                      key=lambda d: SCALE_ORDER.get(d.get("scale"), 9))
        views = []
        for doc in docs:
            judged_here.add((paper_dir.name, doc["scale"]))
            doc_figures = _doc_figures(doc, paper_dir, False, figures, f"here/{paper_dir.name}/{doc['scale']}")
            views.append(_claims_view(doc, paper_dir.name, runs_dir, doc_figures, "here"))
        used = {str(Path(d).resolve()) for doc in docs for row in doc["claims"] for d in row.get("runs", [])}
        single = [_single_run_view(run_dir, paper_dir.name, runs_dir, figures)
                  for exp_dir in sorted(p for p in paper_dir.iterdir() if p.is_dir() and not p.name.startswith("plots-"))
                  for run_dir in sorted(p for p in exp_dir.iterdir() if p.is_dir() and (p / RESULTS_FILE).exists())
                  if str(run_dir.resolve()) not in used]
        if views or single:
            here.append({"name": paper_dir.name, "docs": views, "single_runs": single})
    elsewhere = []
    if committed is not None and committed.is_dir():
        for paper_dir in _paper_dirs(committed):
            docs = sorted((read_json(f, required=("scale", "claims")) for f in paper_dir.glob("claims-*.json")),
                          key=lambda d: SCALE_ORDER.get(d.get("scale"), 9))
            views = [_claims_view(doc, paper_dir.name, committed,
                                  _doc_figures(doc, paper_dir, True, figures,
                                               f"committed/{paper_dir.name}/{doc['scale']}"), "committed")
                     for doc in docs if (paper_dir.name, doc["scale"]) not in judged_here]
            if views:
                elsewhere.append({"name": paper_dir.name, "docs": views, "single_runs": []})
    committed_name = _folder_label(committed) if committed is not None else ""
    return {"runs_dir": _folder_label(runs_dir), "committed_dir": committed_name,
            "sections": [s for s in (
                {"id": "here", "title": f"Run here ({_folder_label(runs_dir)})", "papers": here,
                 "note": ""},
                {"id": "committed", "title": f"Committed results ({committed_name}), not re-run by this command",
                 "papers": elsewhere,
                 "note": "These verdicts were judged on another machine and committed; this command did not "
                         "re-run them. Their run folders are not here."},
            ) if s["papers"]],
            "tiny": any(d["scale"] == "tiny" for p in here + elsewhere for d in p["docs"]),
            "tiny_note": SCALE_NOTES["tiny"]}


# --- render --------------------------------------------------------------------------------------------

_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]<>|&#!~"})


def md_text(text: Any) -> str:
    """Text as literal markdown: one line, markup characters escaped (no raw HTML, links or emphasis from
    folder names or claims JSON get through)."""
    return " ".join(str(text).split()).translate(_MD_SPECIAL)


def _environment(autoescape: bool) -> Environment:
    env = Environment(loader=PackageLoader("paperlab.core", "templates"), undefined=StrictUndefined,
                      autoescape=autoescape,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["md"] = md_text
    env.filters["url"] = lambda path: quote(path, safe="/")
    return env


def render_markdown(report: dict[str, Any]) -> str:
    return _environment(False).get_template("report.md.j2").render(**report)


def render_html(report: dict[str, Any]) -> str:
    return _environment(True).get_template("report.html.j2").render(**report)


def write_report(runs_dir: str | Path = "runs", out_dir: str | Path | None = None,
                 committed: str | Path | None = None) -> tuple[Path, Path]:
    """Write report.md and report.html (and their figures in report-files/) for `runs_dir` into `out_dir`
    (default: `runs_dir`)."""
    runs_dir = Path(runs_dir)
    if not runs_dir.is_dir():
        raise FileNotFoundError(f"runs directory {runs_dir} does not exist; run `paperlab run` or `paperlab reproduce` first")
    out_dir = Path(out_dir) if out_dir else runs_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    report = collect(runs_dir, out_dir, Path(committed) if committed else None)
    md_path, html_path = out_dir / "report.md", out_dir / "report.html"
    md_path.write_text(render_markdown(report))
    html_path.write_text(render_html(report))
    return md_path, html_path
