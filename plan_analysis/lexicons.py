"""Load the editable tables in ``data/lexicons/`` with validation that names ``file:line``.

Tables are UTF-8 TSV files: ``#`` comment lines (the first ones say where the table comes
from), one header line, then rows. Nothing is read at import time; each call reads the file
(tables are small), so an edited table takes effect on the next call.

>>> rows = read_table("dating.tsv", columns={"pattern": "regex", "year_min": "int?", "year_max": "int?", "label": "str", "note": "str?"})
>>> any(r["label"] for r in rows)
True
"""

from __future__ import annotations

import logging
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

__all__ = ["LexiconError", "lexicon_dir", "read_table", "lexicon_fingerprint", "required_literals"]

_TYPES = ("str", "str?", "int", "int?", "float", "float?", "regex", "bool")


class LexiconError(ValueError):
    """A lexicon file is missing or malformed; the message starts with ``file:line``."""


log = logging.getLogger(__name__)


def lexicon_dir() -> Path:
    """Return the folder holding the lexicon tables (``$PLAN_ANALYSIS_LEXICONS`` overrides).

    >>> (lexicon_dir() / "dating.tsv").exists()
    True
    """
    env = os.environ.get("PLAN_ANALYSIS_LEXICONS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent / "data" / "lexicons"


def _convert(value: str, kind: str, where: str, column: str) -> Any:
    optional = kind.endswith("?")
    base = kind.rstrip("?")
    if value == "":
        if optional:
            return None
        if base != "str":
            raise LexiconError(f"{where}: column '{column}' is empty; it needs a {base}")
        raise LexiconError(f"{where}: column '{column}' is empty")
    if base == "str":
        return value
    if base == "int":
        try:
            return int(value)
        except ValueError:
            raise LexiconError(f"{where}: column '{column}' must be a whole number, got {value!r}") from None
    if base == "float":
        try:
            return float(value)
        except ValueError:
            raise LexiconError(f"{where}: column '{column}' must be a number, got {value!r}") from None
    if base == "bool":
        if value.lower() in ("1", "true", "yes", "y"):
            return True
        if value.lower() in ("0", "false", "no", "n"):
            return False
        raise LexiconError(f"{where}: column '{column}' must be true/false, got {value!r}")
    if base == "regex":
        try:
            return re.compile(value)
        except re.error as exc:
            raise LexiconError(f"{where}: column '{column}' is not a valid regular expression ({exc}): {value!r}") from None
    raise LexiconError(f"{where}: unknown column type {kind!r}")


def read_table(name: str | os.PathLike, *, columns: Mapping[str, str]) -> list[dict[str, Any]]:
    r"""Read a TSV lexicon and check it against ``columns`` (name → type).

    Types: ``str``, ``int``, ``float``, ``regex`` (compiled), ``bool``; a trailing ``?`` allows
    an empty field (``None``). Extra columns in the file are kept as strings. Every problem
    raises :class:`LexiconError` starting with ``file:line``.

    >>> import tempfile, pathlib
    >>> bad = pathlib.Path(tempfile.mkdtemp()) / "bad.tsv"
    >>> _ = bad.write_text("# test\nterm\tyear\n规上工业\tsoon\n", encoding="utf-8")
    >>> read_table(bad, columns={"term": "str", "year": "int"})
    Traceback (most recent call last):
    ...
    plan_analysis.lexicons.LexiconError: ...bad.tsv:3: column 'year' must be a whole number, got 'soon'
    """
    path = Path(name)
    if not path.is_absolute() and not path.exists():
        path = lexicon_dir() / path
    for kind in columns.values():
        if kind not in _TYPES:
            raise ValueError(f"unknown column type {kind!r}; use one of {', '.join(_TYPES)}")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise LexiconError(f"{path}:0: lexicon file not found (is the project's data/ folder present?)") from None
    except UnicodeDecodeError as exc:
        raise LexiconError(f"{path}:0: not UTF-8 ({exc.reason} at byte {exc.start}); save it as UTF-8") from None
    header: list[str] | None = None
    rows: list[dict[str, Any]] = []
    for lineno, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = line.split("\t")
        where = f"{path}:{lineno}"
        if header is None:
            header = [f.strip() for f in fields]
            missing = [c for c in columns if c not in header]
            if missing:
                raise LexiconError(f"{where}: header lacks column(s) {', '.join(missing)}; found {', '.join(header)}")
            continue
        if len(fields) != len(header):
            raise LexiconError(f"{where}: {len(fields)} tab-separated field(s), the header has {len(header)}")
        row: dict[str, Any] = {"_line": lineno}
        for col, value in zip(header, fields):
            value = value.strip()
            row[col] = _convert(value, columns[col], where, col) if col in columns else value
        rows.append(row)
    if header is None:
        raise LexiconError(f"{path}:{len(lines)}: no header line found")
    return rows


def required_literals(pattern: re.Pattern[str]) -> tuple[str, ...] | None:
    """Return strings one of which every match of ``pattern`` contains, or ``None`` when there is no such hint.

    A cheap ``any(s in text for s in hints)`` then rules a lexicon pattern out before the regex
    runs; the hint is the longest run of plain characters each alternative must match.

    >>> required_literals(re.compile("(?:深入)?贯彻落实科学发展观|以科学发展观(?:为统领|统领)"))
    ('贯彻落实科学发展观', '以科学发展观')
    >>> required_literals(re.compile("[甲乙]+")) is None
    True
    """
    from re import _constants as C, _parser  # the stdlib's own parse of the pattern (no second parser here)

    if pattern.flags & re.IGNORECASE:
        return None
    try:
        tree = _parser.parse(pattern.pattern, pattern.flags)
    except (re.error, ValueError, TypeError, AttributeError, IndexError) as exc:
        log.debug("no literal hint for %r: %s", pattern.pattern, exc)
        return None

    def literals(items: list) -> tuple[str, ...] | None:
        if len(items) == 1 and items[0][0] is C.BRANCH:
            alternatives = [literals(list(branch)) for branch in items[0][1][1]]
            if any(a is None for a in alternatives):
                return None
            return tuple(dict.fromkeys(x for a in alternatives for x in a))
        if len(items) == 1 and items[0][0] is C.SUBPATTERN:
            _group, add_flags, _del_flags, inner = items[0][1]
            return None if add_flags & re.IGNORECASE else literals(list(inner))
        best, run = "", ""
        for op, av in items + [(None, None)]:
            if op is C.LITERAL:
                run += chr(av)
                continue
            if len(run) > len(best):
                best = run
            run = ""
        return (best,) if best else None

    return literals(list(tree))


def lexicon_fingerprint() -> str:
    """Return a short hash of every lexicon file, for cache invalidation.

    Files are hashed again only when their size or modification time changes, so the call is
    cheap enough for hot paths.

    >>> len(lexicon_fingerprint())
    16
    """
    d = lexicon_dir()
    try:
        with os.scandir(d) as it:
            stats = sorted((e.name, e.stat()) for e in it if e.is_file())
    except FileNotFoundError:
        stats = []
    return _fingerprint(str(d), tuple((name, st.st_size, st.st_mtime_ns) for name, st in stats))


@lru_cache(maxsize=8)
def _fingerprint(folder: str, signature: tuple[tuple[str, int, int], ...]) -> str:
    import hashlib

    h = hashlib.sha256()
    for name, _size, _mtime in signature:
        h.update(name.encode())
        h.update((Path(folder) / name).read_bytes())
    return h.hexdigest()[:16]
