"""paperlab's one entry point: list | run | reproduce | sweep | report | docs | data.

No paper is imported to parse arguments, list papers or reject a name: those come from the registry's catalog,
so the help, `list` and errors answer at once; a paper (torch, scikit-learn, gymnasium) is imported when it runs.
The report and docs (matplotlib) and BEAR's data commands (torch) are imported by the commands that use them.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path

import paperlab
from paperlab import datasets
from paperlab.core.claims import format_measured
from paperlab.core.config import SCALES, apply_overrides, config_to_dict, parse_set_args
from paperlab.core.config_docs import format_config
from paperlab.core.registry import all_paper_info, get_paper, paper_info, paper_names, write_catalog
from paperlab.core.reproduce import check_reproduce, print_claims, reproduce
from paperlab.core.runner import THREADS_ENV, read_run_meta, resolve_threads, run_experiment
from paperlab.core.runs import RESULTS_FILE, check_out_dir, load_results, read_json
from paperlab.core.seeding import resolve_device
from paperlab.core.sweep import JobError, parse_seeds, sweep
from paperlab.core.tracking import TRACKER_ENV, TRACKERS, resolve_tracker

# committed runs (results/<paper>/runs-<scale>/...) of a source checkout: `list` and `run` show their durations
COMMITTED_RESULTS = Path(paperlab.__file__).resolve().parents[2] / "results"


class CliError(Exception):
    """A user error: printed as one line, exit code 2."""


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--scale", default="quick", choices=SCALES, help="preset size (tiny is for tests)")
    p.add_argument("--device", default="cpu", help="cpu | cuda | cuda:N")
    p.add_argument("--precision", default=None, choices=("fp32", "bf16-mixed", "auto"),
                   help="fp32 (default: $PAPERLAB_PRECISION, else fp32) | bf16-mixed (autocast matmul/conv to bf16) "
                        "| auto (bf16-mixed where measured fast here); recorded in each run's config and identity")
    p.add_argument("--out", default="runs", help="runs directory (default: runs)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config field (repeatable)")
    p.add_argument("--threads", type=int, default=None,
                   help="torch and BLAS threads per run (default: $PAPERLAB_THREADS, else the machine's cores for a "
                        "run alone and 1 per run with --executor processes|ray; 0: the libraries' own)")
    p.add_argument("--tracker", default=None, choices=TRACKERS,
                   help="metrics besides metrics.jsonl (default: $PAPERLAB_TRACKER, else jsonl = none); "
                        "tensorboard writes <run>/tensorboard/ (pip install 'paperlab[tensorboard]'); mlflow logs "
                        "to $MLFLOW_TRACKING_URI, else <out>/mlruns (pip install 'paperlab[mlflow]')")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="paperlab", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p_list = sub.add_parser("list", help="papers, their experiments and their claims; an experiment's config fields")
    p_list.add_argument("paper", nargs="?", help="only this paper")
    p_list.add_argument("experiment", nargs="?",
                        help="this experiment's config: every field's type, default, value per scale and doc")
    p_list.add_argument("--config", action="store_true",
                        help="the config fields of every experiment of PAPER (or of EXPERIMENT)")

    p_run = sub.add_parser("run", help="run one experiment for one seed")
    p_run.add_argument("paper", nargs="?")
    p_run.add_argument("experiment", nargs="?")
    p_run.add_argument("--seed", type=int, default=None, help="default 0")
    p_run.add_argument("--resume", metavar="RUN_DIR",
                       help="continue an interrupted run in its directory with its saved config (other options "
                            "must agree with it; a finished run is shown, never recomputed)")
    _add_common(p_run)
    p_run.set_defaults(scale=None, device=None, out=None)  # None: not given (checked against --resume)

    p_rep = sub.add_parser("reproduce", help="run the experiments behind a paper's claims and judge them")
    p_rep.add_argument("paper", help="a paper name or 'all'")
    p_rep.add_argument("--json", dest="json_path", help="write the claims JSON here (plots copied beside it)")
    p_rep.add_argument("--seeds", type=int, help="seeds per experiment (default: what each claim asks)")
    p_rep.add_argument("--executor", default="serial", choices=("serial", "processes", "ray"))
    p_rep.add_argument("--workers", type=int, default=2)
    p_rep.add_argument("--address", help="Ray cluster address (with --executor ray)")
    p_rep.add_argument("--no-report", action="store_true", help="do not write report.md/report.html")
    p_rep.add_argument("--committed", metavar="DIR",
                       help="in the report, show the claims committed in DIR (e.g. results) for papers not run here")
    p_rep.add_argument("--fresh", action="store_true", help="rerun even when an identical finished run exists")
    p_rep.add_argument("--rejudge", action="store_true",
                       help="judge again from finished runs with the same config, even if the code changed since; never trains "
                            "(a missing run is named, exit 2)")
    p_rep.add_argument("--claims", metavar="ID,ID", help="judge only these claims (comma-separated ids)")
    _add_common(p_rep)

    p_sweep = sub.add_parser("sweep", help="a grid of configs x seeds, aggregated across seeds")
    p_sweep.add_argument("paper")
    p_sweep.add_argument("experiment")
    p_sweep.add_argument("--grid", action="append", default=[], metavar="KEY=V1,V2,...")
    p_sweep.add_argument("--seeds", default="0", help="e.g. 0-4 or 0,1,2")
    p_sweep.add_argument("--executor", default="serial", choices=("serial", "processes", "ray"))
    p_sweep.add_argument("--workers", type=int, default=2)
    p_sweep.add_argument("--address", help="Ray cluster address (default: start a local Ray)")
    p_sweep.add_argument("--fresh", action="store_true", help="rerun even when an identical finished run exists")
    _add_common(p_sweep)

    p_report = sub.add_parser("report", help="write report.md and a self-contained report.html")
    p_report.add_argument("runs_dir", nargs="?", default="runs")
    p_report.add_argument("--out", help="where to write the report (default: the runs directory)")
    p_report.add_argument("--committed", metavar="DIR",
                          help="show the claims committed in DIR (e.g. results) for papers without claims here")

    p_docs = sub.add_parser("docs", help="regenerate the claims tables of README.md and docs/*.md from results/")
    p_docs.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if a table differs from its claims JSON")
    p_docs.add_argument("--root", default=".", help="repository root holding README.md, docs/, results/ (default: .)")

    p_data = sub.add_parser("data", help="datasets: fetch (needs internet; never used by tests) | where | "
                            "import (BEAR arms from finished runs into the arm cache)")
    p_data.add_argument("action", choices=("fetch", "where", "import"))
    p_data.add_argument("name", choices=("fashion-mnist", "bear"), help="bear: where BEAR datasets and its arm cache are")
    p_data.add_argument("--dest", help="destination folder (default: $PAPERLAB_DATA or ~/.paperlab/data)")
    p_data.add_argument("--runs", help="import: a runs directory of finished BEAR runs (e.g. results/bear/runs-small); "
                        "their arms are reused instead of trained again")
    return parser


def cmd_list(args) -> int:
    if args.experiment or args.config:
        if not args.paper:
            raise CliError("list --config needs a PAPER (and optionally an EXPERIMENT)")
        info = paper_info(args.paper)
        if args.experiment:
            info.check_experiment(args.experiment)  # answered before the paper is imported
        paper = get_paper(args.paper)
        experiments = [paper.experiment(args.experiment)] if args.experiment else paper.experiments
        print("\n\n".join(format_config(paper, exp) for exp in experiments))
        return 0
    infos = {args.paper: paper_info(args.paper)} if args.paper else all_paper_info()
    durations, totals = committed_durations(), committed_reproduce_seconds()
    for name, info in infos.items():
        print(f"{name}: {info.title}")
        if name in totals:
            print(f"  reproduce, measured (all its runs, one after another): {_format_durations(totals[name])}")
        for exp, description in info.experiments.items():
            measured = _format_durations(durations.get((name, exp), {}))
            print(f"  experiment {exp}: {description}" + (f" [measured: {measured}]" if measured else ""))
        for claim in info.claims:
            print(f"  claim {claim['id']} [{', '.join(claim['experiments'])}; {claim['seeds']} seed(s)]: "
                  f"{claim['text']}")
    if durations or totals:
        print(f"\nMeasured: the committed results in {COMMITTED_RESULTS} (on 2 shared CPU cores; other machines "
              "differ); [measured: ...] is the median wall time of one run (one seed) of an experiment per scale.")
    return 0


def committed_reproduce_seconds(root: Path | None = None) -> dict[str, dict[str, list[float]]]:
    """{paper: {scale: [seconds]}}: the summed run time of each committed `reproduce` (claims-<scale>.json)."""
    found: dict[str, dict[str, list[float]]] = {}
    for path in sorted((root or COMMITTED_RESULTS).glob("*/claims-*.json")):
        try:
            seconds = json.loads(path.read_text()).get("run_seconds")
        except (OSError, ValueError):
            continue
        scale = path.stem.removeprefix("claims-")
        if isinstance(seconds, (int, float)) and scale in SCALES:
            found.setdefault(path.parent.name, {})[scale] = [float(seconds)]
    return found


def committed_durations(root: Path | None = None) -> dict[tuple[str, str], dict[str, list[float]]]:
    """{(paper, experiment): {scale: [seconds of each committed run]}} from results/<paper>/runs-<scale>/ (runs
    made with a scale's own settings; folders such as runs-small-sparse-250 hold variants and are skipped)."""
    root = root or COMMITTED_RESULTS
    found: dict[tuple[str, str], dict[str, list[float]]] = {}
    for scale in SCALES:
        for path in root.glob(f"*/runs-{scale}/*/*/*/{RESULTS_FILE}"):
            try:
                meta = json.loads(path.read_text()).get("_meta", {})
            except (OSError, ValueError):
                continue
            seconds = meta.get("seconds")
            if isinstance(seconds, (int, float)) and meta.get("scale") == scale and not meta.get("resumed"):
                paper, experiment = path.parts[-4], path.parts[-3]
                found.setdefault((paper, experiment), {}).setdefault(scale, []).append(float(seconds))
    return found


def _format_durations(by_scale: dict[str, list[float]]) -> str:
    return ", ".join(f"{scale} {_format_seconds(statistics.median(times))}"
                     for scale, times in sorted(by_scale.items(), key=lambda item: SCALES.index(item[0])))


def _format_seconds(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _check_resume_args(args) -> None:
    """--resume continues with the run's saved settings: anything given with it must agree with them."""
    cfg_file = Path(args.resume) / "config.json"
    if not cfg_file.is_file():
        raise CliError(f"cannot resume: {cfg_file} does not exist (is {args.resume} a run directory?)")
    meta = read_run_meta(Path(args.resume))   # every key checked for its type: one line for an edited file
    given = {"PAPER": (args.paper, meta["paper"]), "EXPERIMENT": (args.experiment, meta["experiment"]),
             "--seed": (args.seed, meta["seed"]), "--scale": (args.scale, meta["scale"]),
             "--device": (args.device, meta.get("device"))}
    if args.out is not None and Path(args.out).resolve() != Path(args.resume).resolve().parents[2]:
        given["--out"] = (args.out, str(Path(args.resume).parents[2]))
    for name, (value, saved) in given.items():
        if value is not None and value != saved:
            raise CliError(f"--resume {args.resume}: {name} {value!r} contradicts the run's saved {saved!r} "
                           f"(resume continues the run as it was started; drop {name} or start a new run)")
    if args.overrides:
        exp = get_paper(meta["paper"]).experiment(meta["experiment"])
        saved = meta["config"]
        wanted = config_to_dict(apply_overrides(exp.config(), {**saved, **parse_set_args(args.overrides)}))
        changed = sorted(k for k in wanted if wanted[k] != saved.get(k))
        if changed:
            raise CliError(f"--resume {args.resume}: --set changes {', '.join(changed)} from the run's saved config; "
                           "a resumed run keeps its config (start a new run to change it)")


def cmd_run(args) -> int:
    if args.resume:
        _check_resume_args(args)
        if (Path(args.resume) / RESULTS_FILE).exists():
            print(f"run {args.resume} already finished; not recomputed")
        directory = run_experiment("", "", resume=args.resume)
    else:
        if not args.paper or not args.experiment:
            raise CliError(f"run needs PAPER and EXPERIMENT (or --resume DIR); papers: {', '.join(paper_names())}")
        paper_info(args.paper).check_experiment(args.experiment)  # answered before the paper is imported
        _print_expected(args.paper, args.experiment, args.scale or "quick")
        directory = run_experiment(args.paper, args.experiment, scale=args.scale or "quick", seed=args.seed or 0,
                                   device=args.device or "cpu", out=args.out or "runs",
                                   overrides=parse_set_args(args.overrides))
    results = load_results(directory)
    print(f"\n{results_summary(results)}\nrun directory: {directory} (results.json, metrics.jsonl, plots/)")
    return 0


def _print_expected(paper: str, experiment: str, scale: str) -> None:
    """The run's expected duration and end, from the committed runs of this experiment at this scale."""
    times = committed_durations().get((paper, experiment), {}).get(scale)
    if times:
        seconds = statistics.median(times)
        finish = time.strftime("%H:%M", time.localtime(time.time() + seconds))
        print(f"{paper}/{experiment} at {scale} scale: expected ~{_format_seconds(seconds)} (median of {len(times)} "
              f"committed run(s) on 2 shared CPU cores), done around {finish}", flush=True)


def results_summary(results: dict, limit: int = 12) -> str:
    """A few lines a person reads at the end of a run: the results' numbers in up to `limit` lines (rows that
    share their metrics, such as methods, as one table), curves and long lists left out, then where the rest is."""
    lines, skipped = [], 0
    for text, numbers in _summary_lines(results):
        if len(lines) < limit:
            lines.append(f"  {text}")
        else:
            skipped += numbers
    seconds = results.get("_meta", {}).get("seconds")
    head = "results" + (f" (took {_format_seconds(seconds)})" if isinstance(seconds, (int, float)) else "") + ":"
    more = [f"  ... {skipped} more numbers in results.json"] if skipped else []
    return "\n".join([head, *(lines or ["  (no numbers: see the run's files)"]), *more])


def _summary_lines(value, key: str = ""):
    """(line, how many numbers it shows) for nested results: a number or a list of up to 6 numbers per line, a
    table for rows sharing numeric fields; longer lists, curves, echoed configs, strings and _meta left out."""
    if isinstance(value, dict):
        value = {k: v for k, v in value.items() if k != "_meta" and not any(w in str(k) for w in ("curve", "config"))}
        table = _table(value, key)
        if table:
            yield from table
            return
        for k, v in value.items():
            yield from _summary_lines(v, f"{key}.{k}" if key else str(k))
    elif _is_number(value):
        yield f"{key}: {_format_number(value)}", 1
    elif isinstance(value, list) and 0 < len(value) <= 6 and all(_is_number(v) for v in value):
        yield f"{key}: [{', '.join(_format_number(v) for v in value)}]", len(value)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _table(value: dict, key: str, max_columns: int = 4) -> list[tuple[str, int]] | None:
    """Two or more rows (dicts) with numbers under the same names, e.g. methods x metrics: a header line naming
    `key` and the first `max_columns` shared fields, then one aligned line per row."""
    rows = {k: {f: x for f, x in v.items() if _is_number(x)} for k, v in value.items() if isinstance(v, dict)}
    if len(value) < 2 or len(rows) != len(value) or not all(rows.values()):
        return None
    columns = [c for c in dict.fromkeys(f for row in rows.values() for f in row)
               if all(c in row for row in rows.values())][:max_columns]
    if not columns:
        return None
    cells = [[str(k), *(_format_number(row[c]) for c in columns)] for k, row in rows.items()]
    widths = [max(len(r[i]) for r in [[key or "", *columns], *cells]) for i in range(len(columns) + 1)]

    def line(row: list[str]) -> str:  # names left-aligned, numbers right-aligned
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))

    return [(line([key or "", *columns]).rstrip(), 0), *((line(r), len(columns)) for r in cells)]


def _format_number(value: float) -> str:
    if isinstance(value, int) or not math.isfinite(value):
        return str(value)
    return f"{value:.4g}"


def cmd_reproduce(args) -> int:
    from paperlab.core.report import write_report

    if args.seeds is not None and args.seeds < 1:
        raise CliError(f"--seeds {args.seeds}: give the number of seeds per experiment, an integer >= 1 "
                       "(omit it for what each claim asks)")
    if args.workers < 1:
        raise CliError(f"--workers {args.workers}: must be an integer >= 1")
    _check_out(args.out, "--out")
    if args.json_path:
        _check_file_target(args.json_path, "--json")
    if args.committed and not Path(args.committed).is_dir():
        raise CliError(f"--committed {args.committed} is not a directory (e.g. --committed results)")
    names = paper_names() if args.paper == "all" else [args.paper]
    claim_ids = [c.strip() for c in args.claims.split(",") if c.strip()] if args.claims is not None else None
    if args.claims is not None and not claim_ids:
        raise CliError(f"--claims {args.claims!r} names no claim; give claim ids separated by commas (`paperlab list "
                       f"{args.paper}` shows them) or omit --claims for every claim")
    for name in names:  # names and claim ids answered before any paper is imported
        info = paper_info(name)
        if claim_ids:
            info.check_claims(claim_ids)
    papers = [get_paper(name) for name in names]
    overrides = parse_set_args(args.overrides)
    resolve_device(args.device)
    for paper in papers:  # every paper's configs are checked before the first one runs
        check_reproduce(paper, args.scale, overrides)
    for paper in papers:
        json_path = args.json_path
        if json_path and len(papers) > 1:
            json_path = str(Path(json_path).parent / paper.name / Path(json_path).name)
        document = reproduce(paper, scale=args.scale, out=args.out, json_path=json_path, seeds=args.seeds,
                             executor=args.executor, workers=args.workers, device=args.device,
                             overrides=overrides, address=args.address, fresh=args.fresh,
                             rejudge=args.rejudge,
                             claim_ids=claim_ids)
        print_claims(document)
    if not args.no_report:
        md, html_path = write_report(args.out, committed=args.committed)
        if args.committed:
            _print_committed(args.committed, {p.name for p in papers})
        print(f"\nreport: {md} and {html_path}")
    return 0


def _print_committed(folder: str, ran: set[str]) -> None:
    for claims_file in sorted(Path(folder).glob("*/claims-*.json")):
        if claims_file.parent.name in ran:
            continue
        doc = read_json(claims_file, required=("scale", "claims"))
        counts: dict[str, int] = {}
        for row in doc["claims"]:
            counts[row["verdict"]] = counts.get(row["verdict"], 0) + 1
        summary = ", ".join(f"{n} {v}" for v, n in sorted(counts.items()))
        print(f"\n== {claims_file.parent.name} ({doc['scale']} scale): committed result {claims_file}, not re-run "
              f"here: {summary}")


def cmd_sweep(args) -> int:
    paper_info(args.paper).check_experiment(args.experiment)
    if args.workers < 1:
        raise CliError(f"--workers {args.workers}: must be an integer >= 1")
    _check_out(args.out, "--out")
    summary = sweep(args.paper, args.experiment, args.grid, parse_seeds(args.seeds), scale=args.scale,
                    executor=args.executor, workers=args.workers, address=args.address, device=args.device,
                    out=args.out, fixed=parse_set_args(args.overrides), fresh=args.fresh)
    for point in summary["points"]:
        print(f"{point['overrides'] or '(defaults)'} over seeds {point['seeds']}:")
        print("   " + format_measured(point["aggregate"], limit=1000))
    print(f"sweep summary: {summary['path']}")
    return 0


def cmd_report(args) -> int:
    from paperlab.core.report import write_report

    if args.out:
        _check_out(args.out, "report --out")
    if args.committed and not Path(args.committed).is_dir():
        raise CliError(f"--committed {args.committed} is not a directory (e.g. --committed results)")
    md, html_path = write_report(args.runs_dir, args.out, committed=args.committed)
    print(f"report: {md} and {html_path}")
    return 0


def cmd_docs(args) -> int:
    from paperlab.core.docs import update_docs

    # the registry's catalog is generated with the docs of this checkout (imports every paper: seconds)
    catalog_current = Path(args.root).resolve() != COMMITTED_RESULTS.parent or write_catalog(check=args.check)
    problems = update_docs(args.root, check=args.check)
    if args.check and not catalog_current:
        problems.append("src/paperlab/core/catalog.json differs from the papers: run `paperlab docs`")
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print("docs: every claims table matches results/" if args.check else "docs: claims tables regenerated")
    return 1 if problems else 0


def cmd_data(args) -> int:
    if args.action == "where":
        if args.name == "bear":
            from paperlab.rl.bear.experiments import OfflineConfig, bear_paths

            paths = bear_paths(OfflineConfig(data_dir=args.dest or None))
            print(f"datasets:  {paths['data_dir']}  (--set data_dir=... or $PAPERLAB_DATA)\n"
                  f"arm cache: {paths['arm_cache']}  (reused across runs and --out folders; --fresh or "
                  "--set reuse_arms=false recompute)")
            return 0
        print(datasets.fashion_mnist_search_paths())
        return 0
    if args.action == "import":
        return _import_arms(args)
    if args.name != "fashion-mnist":
        raise CliError(f"data fetch knows fashion-mnist only; {args.name} datasets are built by "
                       "`paperlab run bear make-datasets`")
    if not args.dest:
        raise CliError("data fetch needs --dest FOLDER (where to put the files; needs internet)")
    _check_out(args.dest, "--dest")
    path = datasets.fetch_fashion_mnist(args.dest)
    print(f"Fashion-MNIST is in {path}")
    return 0


def _import_arms(args) -> int:
    if args.name != "bear":
        raise CliError(f"data import knows bear only (its arm cache), not {args.name}")
    if not args.runs:
        raise CliError("data import bear needs --runs DIR (a runs directory of finished BEAR runs)")
    if not Path(args.runs).is_dir():
        raise CliError(f"--runs {args.runs} is not a directory (give a runs directory, e.g. results/bear/runs-small)")
    from paperlab.rl.bear.experiments import OfflineConfig, bear_paths, import_arms

    data_dir = args.dest or None
    counts = import_arms(args.runs, data_dir)
    print(f"arm cache {bear_paths(OfflineConfig(data_dir=data_dir))['arm_cache']}: {counts['imported']} arms imported "
          f"from {args.runs}, {counts['already_cached']} already there")
    return 0


def _check_out(path: str, what: str) -> None:
    check_out_dir(path, what)


def _check_file_target(path: str, what: str) -> None:
    target = Path(path)
    if target.is_dir():
        raise CliError(f"{what} {path} is a directory; give a file name (e.g. {Path(path) / 'claims.json'})")
    _check_out(str(target.parent), what)


COMMANDS = {"list": cmd_list, "run": cmd_run, "reproduce": cmd_reproduce, "sweep": cmd_sweep,
            "report": cmd_report, "data": cmd_data,
            "docs": cmd_docs}


def _run_settings(args) -> dict[str, str]:
    """--threads and --tracker as the environment variables every run reads (worker processes inherit them)."""
    env = {}
    if getattr(args, "threads", None) is not None:
        env[THREADS_ENV] = str(resolve_threads(args.threads))
    if getattr(args, "tracker", None) is not None:
        env[TRACKER_ENV] = resolve_tracker(args.tracker)
    if getattr(args, "precision", None) is not None:
        env["PAPERLAB_PRECISION"] = args.precision
    return env


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    saved = {}
    try:
        settings = _run_settings(args)
        saved = {key: os.environ.get(key) for key in settings}
        os.environ.update(settings)
        return COMMANDS[args.command](args)
    except Exception as err:
        user_error = isinstance(err, (CliError, LookupError, ValueError, FileNotFoundError, JobError))
        if not user_error or os.environ.get("PAPERLAB_DEBUG") == "1":
            raise
        message = err.args[0] if isinstance(err, LookupError) and err.args else str(err)
        print(f"paperlab: error: {message}", file=sys.stderr)
        return 2
    finally:  # a caller of main() (a test, a notebook) keeps its environment
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


if __name__ == "__main__":
    sys.exit(main())
