"""A store for artifacts shared between runs (a pre-trained encoder, a trained arm): one file per key.

Keys come from `paperlab.core.runner.artifact_key` (the artifact's inputs plus the paper's code fingerprint).
`put` writes a temporary file and renames it over the entry, so a reader sees a whole entry or none; the
lock of a key (`lock`/`try_lock`) lets one process compute an artifact while others that need it wait.
A corrupt entry is reported by path, removed and reported as missing (the caller computes it again). A JSON
entry records its identity (its key and a hash of its content, under `IDENTITY_KEY`): an entry edited after it
was written, or copied under another key, is refused the same way.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, BinaryIO, Callable

from paperlab.core.config import config_hash
from paperlab.core.runs import RunLock, json_bytes, read_json, strict_json, write_atomic

IDENTITY_KEY = "_entry"


def _save_json(value: Any, fh: BinaryIO) -> None:
    fh.write(json_bytes(value))


def content_hash(value: dict[str, Any]) -> str:
    """The hash an entry's identity records: of its content as JSON (without the identity itself)."""
    return config_hash(strict_json({k: v for k, v in value.items() if k != IDENTITY_KEY}))


def _check_identity(path: Path, key: str) -> None:
    """An entry that records its identity must still match it (entries written before it was recorded pass)."""
    entry = read_json(path)
    record = entry.get(IDENTITY_KEY) if isinstance(entry, dict) else None
    if record is None:
        return
    if not isinstance(record, dict) or record.get("key") != key:
        raise ValueError(f"it was written for another key ({record!r})")
    if record.get("content") != content_hash(entry):
        raise ValueError("its content no longer matches the hash recorded when it was written (edited)")


class ArtifactStore:
    """Entries ``<root>/<key><suffix>`` with locks ``<root>/<key>.lock``; `save(value, fh)` and `load(path)`
    say how an entry is written and read (JSON by default)."""

    def __init__(self, root: str | Path, what: str, suffix: str = ".json",
                 save: Callable[[Any, BinaryIO], None] = _save_json, load: Callable[[Path], Any] = read_json):
        self.root, self.what, self.suffix = Path(root), what, suffix
        self._save, self._load = save, load

    def path(self, key: str) -> Path:
        return self.root / f"{key}{self.suffix}"

    def lock(self, key: str) -> RunLock:
        """The lock of one entry: ``with store.lock(key):`` waits while another process holds it."""
        return RunLock(self.root / f"{key}.lock")

    def __contains__(self, key: str) -> bool:
        return self.path(key).exists()

    def get(self, key: str, load: Callable[[Path], Any] | None = None) -> Any | None:
        """The entry of `key`, read by `load` (default: the store's); None when absent or unreadable (an
        unreadable entry is named on stderr and removed, so it is computed again)."""
        path = self.path(key)
        if not path.exists():
            return None
        try:
            if self.suffix == ".json":
                _check_identity(path, key)
            value = (load or self._load)(path)
        except Exception as err:  # a corrupt, edited or foreign entry, whatever the reader raised: recompute it
            print(f"paperlab: warning: {self.what} entry {path} is unusable ({type(err).__name__}: "
                  f"{str(err)[:200]}); computing it again", file=sys.stderr)
            path.unlink(missing_ok=True)
            return None
        if isinstance(value, dict):
            value.pop(IDENTITY_KEY, None)
        return value

    def put(self, key: str, value: Any) -> Path:
        """Write the entry of `key` atomically (replacing an older one)."""
        self.root.mkdir(parents=True, exist_ok=True)
        if self.suffix == ".json" and isinstance(value, dict):   # record what the entry is, to check on reading
            value = {**value, IDENTITY_KEY: {"key": key, "content": content_hash(value)}}
        return write_atomic(self.path(key), lambda fh: self._save(value, fh))

    def get_or_make(self, key: str, make: Callable[[], Any], fresh: bool = False) -> Any:
        """The entry of `key`, or `make()` stored under it. Under the key's lock: two processes that need the
        same artifact compute it once. With `fresh`, an existing entry is recomputed and replaced."""
        with self.lock(key):
            value = None if fresh else self.get(key)
            if value is None:
                value = make()
                self.put(key, value)
            return value
