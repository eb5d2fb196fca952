"""Trained models in a run folder, and `load`, which returns one ready to use.

A run saves a model with `save_model(run, name, kind, spec, state)`: ``models/<name>.pt`` holds its tensors
(written by ``torch.save``, read back with ``weights_only=True``: data only, never code) and ``models/<name>.json``
the kind and the JSON spec that rebuild it. The kinds are those of the paper's `Paper.models`, each a function
``restore(spec, state, device)``; `load` imports nothing that a run folder names except its paper.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import torch

from paperlab.core.registry import get_paper
from paperlab.core.runs import read_json, write_atomic, write_json

MODELS_DIR = "models"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def _cpu(state: Any) -> Any:
    if isinstance(state, torch.Tensor):
        return state.detach().cpu()
    if isinstance(state, dict):
        return {k: _cpu(v) for k, v in state.items()}
    return state


def save_model(run, name: str, kind: str, spec: dict[str, Any], state: dict[str, Any], default: bool = False) -> Path:
    """Save a trained model of `run` as ``models/<name>.pt`` (tensors) and ``models/<name>.json`` (`kind`, `spec`).
    `default` marks the model `load` returns when a run holds several and none is named."""
    if not _NAME.match(name):
        raise ValueError(f"model name {name!r}: letters, digits, '_', '-', '.' only")
    folder = Path(run.dir) / MODELS_DIR
    folder.mkdir(exist_ok=True)
    path = write_atomic(folder / f"{name}.pt", lambda fh: torch.save(_cpu(state), fh))
    write_json(folder / f"{name}.json", {"kind": kind, "spec": spec, "default": default})
    return path


def model_names(run_dir: str | Path) -> list[str]:
    """The names of the models saved in a run folder."""
    folder = Path(run_dir) / MODELS_DIR
    return sorted(p.stem for p in folder.glob("*.json") if (folder / f"{p.stem}.pt").exists())


def load(run_dir: str | Path, name: str | None = None, device: str = "cpu") -> Any:
    """A trained model of the run in `run_dir`, rebuilt and ready to use (a network in eval mode, a policy that
    acts, an encoder, a fitted estimator; see the paper's `Paper.models`). `name` picks one of `model_names`;
    without it, the run's only model or the one it marked as its default."""
    run_dir = Path(run_dir)
    if not (run_dir / "config.json").is_file():
        raise FileNotFoundError(f"{run_dir} is not a run folder (it has no config.json)")
    names = model_names(run_dir)
    if not names:
        raise FileNotFoundError(f"{run_dir} holds no saved model ({MODELS_DIR}/ is empty or missing): "
                                "did the run finish, and was it made by a version that saves models?")
    if name is None:
        defaults = [n for n in names if read_json(run_dir / MODELS_DIR / f"{n}.json").get("default")]
        if len(names) > 1 and len(defaults) != 1:
            raise LookupError(f"{run_dir} holds several models; name one of: {', '.join(names)}")
        name = names[0] if len(names) == 1 else defaults[0]
    if name not in names:
        raise LookupError(f"{run_dir} has no model {name!r}; it has: {', '.join(names)}")
    entry = read_json(run_dir / MODELS_DIR / f"{name}.json", required=("kind", "spec"))
    paper = get_paper(read_json(run_dir / "config.json", required=("paper",))["paper"])
    restore = paper.models.get(entry["kind"])
    if restore is None:
        raise ValueError(f"model {name!r} of {run_dir} is of kind {entry['kind']!r}, which paper {paper.name!r} "
                         f"does not restore (it restores: {', '.join(paper.models) or 'none'})")
    state = torch.load(run_dir / MODELS_DIR / f"{name}.pt", map_location=device, weights_only=True)
    return restore(entry["spec"], state, device)
