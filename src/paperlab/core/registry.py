"""Where the papers live. Each module exposes `PAPER`.

Importing a paper loads its libraries (torch, scikit-learn, gymnasium: seconds). What `paperlab list`, the
help and error messages need (names, descriptions, claims) is also kept in catalog.json, written from the
papers by `paperlab docs`; an entry is used only while the hash of its package's sources matches, so an edited
paper is imported instead (correct, just slower) until the catalog is written again.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from paperlab.core.experiment import Paper
from paperlab.core.names import did_you_mean, unknown_name

PAPER_MODULES: dict[str, str] = {
    "nmf": "paperlab.nmf.paper",
    "siren": "paperlab.siren.paper",
    "ssl": "paperlab.ssl.paper",
    "bear": "paperlab.rl.bear.paper",
    "pearl": "paperlab.rl.pearl.paper",
}
CATALOG = Path(__file__).with_name("catalog.json")
_SRC = Path(__file__).resolve().parents[1]  # src/paperlab


def paper_modules() -> dict[str, str]:
    """The built-in papers plus any from $PAPERLAB_EXTRA_PAPERS ('name=module,name2=module2')."""
    modules = dict(PAPER_MODULES)
    for item in os.environ.get("PAPERLAB_EXTRA_PAPERS", "").split(","):
        if "=" in item:
            name, module = item.split("=", 1)
            modules[name.strip()] = module.strip()
    return modules


def _load(name: str) -> Paper:
    """The paper's module imported (an import error, a typo in a module name included, surfaces as is)."""
    return importlib.import_module(paper_modules()[name]).PAPER


def all_papers() -> dict[str, Paper]:
    return {name: _load(name) for name in paper_modules()}


def paper_names() -> list[str]:
    """Names of the registered papers, without importing any of them (fast, for error messages)."""
    return list(paper_modules())


def check_paper_name(name: str) -> None:
    if name not in paper_modules():
        raise unknown_name("paper", name, paper_names())


def get_paper(name: str) -> Paper:
    check_paper_name(name)  # answered before importing anything
    return _load(name)


# -- the catalog: what listing and error messages need, without importing a paper ----------------------
@dataclass(frozen=True)
class PaperInfo:
    """A paper's names and texts: its experiments (name -> description) and claims (id, text, experiments,
    seeds), as `paperlab list` shows them."""

    name: str
    title: str
    experiments: dict[str, str]
    claims: list[dict]

    @classmethod
    def of(cls, paper: Paper) -> "PaperInfo":
        return cls(paper.name, paper.title, {e.name: e.description for e in paper.experiments},
                   [{"id": c.id, "text": c.text, "experiments": list(c.experiments), "seeds": c.seeds}
                    for c in paper.claims])

    def check_experiment(self, name: str) -> None:
        if name not in self.experiments:
            raise unknown_name("experiment", name, list(self.experiments), f" for paper {self.name!r}")

    def check_claims(self, ids: list[str]) -> None:
        valid = [c["id"] for c in self.claims]
        unknown = [c for c in ids if c not in valid]
        if unknown:  # worded as core.reproduce words it
            raise LookupError(f"unknown claim(s) {', '.join(unknown)} for paper {self.name!r}"
                              f"{did_you_mean(unknown[0], valid)}; valid: {', '.join(valid)}")


def _package_dir(module: str) -> Path | None:
    """The source folder of a built-in paper's package (paperlab.rl.bear.paper -> src/paperlab/rl/bear),
    found without importing it; None for a paper outside paperlab."""
    parts = module.split(".")
    if parts[0] != "paperlab" or len(parts) < 3:
        return None
    return _SRC.joinpath(*parts[1:-1])


def source_hash(module: str) -> str | None:
    """A hash of the paper package's .py files: the catalog entry is valid while it is unchanged."""
    package = _package_dir(module)
    if package is None or not package.is_dir():
        return None
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _read_catalog() -> dict:
    try:
        return json.loads(CATALOG.read_text())
    except (OSError, ValueError):
        return {}


def paper_info(name: str) -> PaperInfo:
    """The paper's names and texts: from the catalog while its sources are unchanged, else by importing it."""
    check_paper_name(name)
    module = paper_modules()[name]
    entry = _read_catalog().get(name)
    if entry and entry.get("module") == module and entry.get("source") == source_hash(module):
        return PaperInfo(name, entry["title"], entry["experiments"], entry["claims"])
    return PaperInfo.of(_load(name))


def all_paper_info() -> dict[str, PaperInfo]:
    return {name: paper_info(name) for name in paper_modules()}


def catalog_entries() -> dict[str, dict]:
    """The catalog of the built-in papers, made by importing each."""
    entries = {}
    for name, module in PAPER_MODULES.items():
        info = PaperInfo.of(_load(name))
        entries[name] = {"module": module, "source": source_hash(module), "title": info.title,
                         "experiments": info.experiments, "claims": info.claims}
    return entries


def write_catalog(check: bool = False) -> bool:
    """Write catalog.json from the papers (or, with `check`, only compare); True when it was already current."""
    text = json.dumps(catalog_entries(), indent=1, ensure_ascii=False) + "\n"
    current = CATALOG.exists() and CATALOG.read_text() == text
    if not check and not current:
        CATALOG.write_text(text)
    return current
