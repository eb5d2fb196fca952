"""Lock files so that parallel jobs sharing a data directory never build a dataset or train an arm twice.

A lock is a file created atomically (``O_EXCL``) holding its owner's host and pid. A lock whose owner process on
this host is gone (a killed job) is stale and taken over; the arm's checkpoint then resumes its work.
"""
from __future__ import annotations

import json
import os
import socket
import time
from contextlib import contextmanager
from pathlib import Path


def _owner_alive(path: Path) -> bool:
    try:
        owner = json.loads(path.read_text())
    except (OSError, ValueError):
        return True   # being written right now: treat as held
    if owner.get("host") != socket.gethostname():
        return True   # cannot check another machine's processes
    try:
        os.kill(int(owner["pid"]), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def try_lock(path: Path) -> bool:
    """Take the lock if it is free or stale; False while another live process holds it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(2):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            if _owner_alive(path):
                return False
            path.unlink(missing_ok=True)   # stale: its owner died
            continue
        with os.fdopen(fd, "w") as fh:
            json.dump({"host": socket.gethostname(), "pid": os.getpid()}, fh)
        return True
    return False


def release(path: Path) -> None:
    Path(path).unlink(missing_ok=True)


@contextmanager
def held(path: Path, poll_seconds: float = 10.0):
    """Block until the lock is ours, hold it for the body."""
    while not try_lock(path):
        time.sleep(poll_seconds)
    try:
        yield
    finally:
        release(path)
