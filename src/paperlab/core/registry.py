"""Where the papers live. Each module exposes `PAPER`."""

from __future__ import annotations

import importlib
import os

from paperlab.core.experiment import Paper

PAPER_MODULES: dict[str, str] = {
    "nmf": "paperlab.nmf.paper",
    "siren": "paperlab.siren.paper",
    "ssl": "paperlab.ssl.paper",
    "bear": "paperlab.rl.bear.paper",
    "pearl": "paperlab.rl.pearl.paper",
}


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


def get_paper(name: str) -> Paper:
    if name not in paper_modules():  # answered before importing anything
        raise LookupError(f"unknown paper {name!r}; valid: {', '.join(paper_names())}")
    return _load(name)
