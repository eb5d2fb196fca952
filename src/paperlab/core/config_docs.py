"""What `paperlab list PAPER EXPERIMENT` prints: every config field with its type, default, value per
scale and a one-line doc.

Configs document their fields with a trailing `# comment` (continued on deeper-indented comment lines
below it), a comment block right above the field (which also heads the undocumented fields after it, up
to a blank line: shown as "(section: ...)"), or an `Attributes:` entry of the class docstring; they are
read from the source with `ast` and `tokenize`, so no config has to change to be listed.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import io
import re
import textwrap
import tokenize
import typing
from typing import Any

from paperlab.core.config import SCALES


def _own_field_docs(cls: type) -> dict[str, str]:
    """{field: doc} for the fields `cls` itself declares (not its bases)."""
    try:
        source = textwrap.dedent(inspect.getsource(cls))
    except (OSError, TypeError):  # defined in an interactive session or built dynamically
        return {}
    comments: dict[int, tuple[int, str]] = {}  # line -> (column where the text starts, text) of each comment
    code_lines: set[int] = set()
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            text = tok.string.lstrip("#")
            comments[tok.start[0]] = (tok.start[1] + len(tok.string) - len(text.lstrip()), text.strip())
        elif tok.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
                              tokenize.ENDMARKER):
            code_lines.update(range(tok.start[0], tok.end[0] + 1))
    class_node = ast.parse(source).body[0]
    docs = _docstring_attributes(ast.get_docstring(class_node) or "")
    used: set[int] = set()  # comment lines already read as a continuation
    blank = {i for i, text in enumerate(source.splitlines(), start=1) if not text.strip()}
    section, previous_end = None, 0  # a comment block heading a group of fields, up to the next blank line
    for node in class_node.body:
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
            continue
        name, first, last = node.target.id, node.lineno, node.end_lineno or node.lineno
        if any(line in blank for line in range(previous_end + 1, first)):
            section = None
        previous_end = last
        above, line = [], first - 1  # a comment block right above the field
        while line in comments and line not in code_lines and line not in used:
            above.insert(0, comments[line][1])
            line -= 1
        if above:  # it also heads the fields below, up to a blank line
            section = " ".join(p for p in above if p)
        parts = [comments[line][1] for line in range(first, last + 1) if line in comments]
        if parts:  # trailing comment, continued on comment-only lines whose text is indented past "# "
            line = last + 1
            while (line in comments and line not in code_lines
                   and comments[line][0] > node.col_offset + 2):
                parts.append(comments[line][1])
                used.add(line)
                line += 1
        elif above:
            parts = above
        elif section:
            parts = [f"(section: {section})"]
        if parts:
            docs[name] = " ".join(p for p in parts if p)
    return docs


def _docstring_attributes(doc: str) -> dict[str, str]:
    """Entries of an `Attributes:` section (Google style: `name: text`, continued on deeper lines)."""
    out: dict[str, str] = {}
    lines = doc.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == "Attributes:")
    except StopIteration:
        return out
    current, indent = None, 0
    for line in lines[start + 1:]:
        if not line.strip():
            break
        match = re.match(r"\s*(\w+)(?:\s*\([^)]*\))?:\s*(.*)", line)
        if match and (current is None or len(line) - len(line.lstrip()) <= indent):
            current, indent = match.group(1), len(line) - len(line.lstrip())
            out[current] = match.group(2).strip()
        elif current is not None:
            out[current] = (out[current] + " " + line.strip()).strip()
    return out


def field_docs(cls: type) -> dict[str, str]:
    """{field: one-line doc} for every field of a config dataclass, inherited fields included
    (a subclass's doc for a field wins over its base's)."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if dataclasses.is_dataclass(klass):
            docs.update(_own_field_docs(klass))
    return {f.name: docs.get(f.name, "") for f in dataclasses.fields(cls)}


def format_value(value: Any) -> str:
    """A value as `--set KEY=VALUE` takes it: lists comma-separated, booleans true/false, None none."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    if isinstance(value, (tuple, list)):
        return ",".join(format_value(v) for v in value) if value else "(empty)"
    return str(value)


def _type_name(typ: Any) -> str:
    """As written in the source: `int`, `tuple[str, ...]`, `float | None`."""
    if isinstance(typ, str):  # postponed annotations: the source text itself
        return typ
    if typing.get_origin(typ) is None and isinstance(typ, type):
        return typ.__name__
    return str(typ).replace("typing.", "")


def config_fields(exp) -> list[dict[str, str]]:
    """One dict per config field: name, type, default, one value per scale, doc."""
    cls = exp.config
    default = cls()
    per_scale = {scale: exp.make_config(scale) for scale in SCALES}
    docs = field_docs(cls)
    return [{"field": f.name, "type": _type_name(f.type), "default": format_value(getattr(default, f.name)),
             **{scale: format_value(getattr(cfg, f.name)) for scale, cfg in per_scale.items()},
             "doc": docs[f.name]} for f in dataclasses.fields(cls)]


def _summary(cls: type) -> str:
    """The first paragraph of the config's docstring (or its nearest base's); a dataclass without one
    gets its signature as `__doc__`, which says nothing the table does not."""
    for klass in (k for k in cls.__mro__ if dataclasses.is_dataclass(k)):
        doc = klass.__dict__.get("__doc__")
        if doc and not doc.startswith(f"{klass.__name__}("):
            return " ".join(inspect.cleandoc(doc).split("\n\n")[0].split())
    return ""


def format_config(paper, exp) -> str:
    """The text `paperlab list PAPER EXPERIMENT` prints: a header, then one aligned row per field."""
    cls = exp.config
    summary = _summary(cls)
    lines = [f"{paper.name} {exp.name}: {exp.description}",
             f"config {cls.__name__} ({cls.__module__}){': ' + summary if summary else ''}",
             "set a field with --set FIELD=VALUE (lists comma-separated); tiny falls back to quick where it has no preset",
             ""]
    rows = config_fields(exp)
    columns = ["field", "type", "default", *SCALES]
    widths = {c: max(len(c), *(len(r[c]) for r in rows)) if rows else len(c) for c in columns}
    lines.append("  ".join(c.ljust(widths[c]) for c in columns) + "  doc")
    for row in rows:
        lines.append(("  ".join(row[c].ljust(widths[c]) for c in columns) + "  " + row["doc"]).rstrip())
    return "\n".join(lines)
