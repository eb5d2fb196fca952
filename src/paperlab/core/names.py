"""Unknown names (a paper, an experiment, a claim, a config field): one line with the closest valid name."""

from __future__ import annotations

import difflib


def did_you_mean(name: str, valid: list[str]) -> str:
    """' (did you mean 'x'?)' for the closest valid name, or '' when none is close."""
    close = difflib.get_close_matches(name, valid, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def unknown_name(what: str, name: str, valid: list[str], owner: str = "") -> LookupError:
    """The one-line error for a name that is not one of `valid`, with the closest one suggested."""
    return LookupError(f"unknown {what} {name!r}{owner}{did_you_mean(name, valid)}; valid: {', '.join(valid)}")
