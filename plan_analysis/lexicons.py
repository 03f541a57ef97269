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
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path
from typing import Any, Collection, Mapping, Sequence

import numpy as np

from ._patterns import code_points

__all__ = ["LexiconError", "lexicon_dir", "read_table", "lexicon_fingerprint", "pinned_lexicons", "required_literals", "parse_regex",
           "HintIndex", "literal_first"]

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
    return _bundled_dir()


@lru_cache(maxsize=1)
def _bundled_dir() -> Path:
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


def read_table(name: str | os.PathLike, *, columns: Mapping[str, str], may_lack: Collection[str] = ()
               ) -> list[dict[str, Any]]:
    r"""Read a TSV lexicon and check it against ``columns`` (name → type).

    Types: ``str``, ``int``, ``float``, ``regex`` (compiled), ``bool``; a trailing ``?`` allows
    an empty field (``None``). The columns in ``may_lack`` may also be left out of the file
    (every row then has ``None``), as a ``note`` column in a table of one's own. Extra columns
    in the file are kept as strings. Every problem raises :class:`LexiconError` starting with
    ``file:line``.

    >>> import tempfile, pathlib
    >>> bad = pathlib.Path(tempfile.mkdtemp()) / "bad.tsv"
    >>> _ = bad.write_text("# test\nterm\tyear\n规上工业\tsoon\n", encoding="utf-8")
    >>> read_table(bad, columns={"term": "str", "year": "int"})
    Traceback (most recent call last):
    ...
    plan_analysis.lexicons.LexiconError: ...bad.tsv:3: column 'year' must be a whole number, got 'soon'
    """
    path = Path(name)
    own = path.is_absolute() or path.exists() or len(path.parts) > 1  # a file of the caller's, not a bundled name
    if not own:
        path = lexicon_dir() / path
    for kind in columns.values():
        if kind not in _TYPES:
            raise ValueError(f"unknown column type {kind!r}; use one of {', '.join(_TYPES)}")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        if own:
            raise LexiconError(f"{path}:0: no such file (give the path of a UTF-8 TSV file)") from None
        raise LexiconError(f"{name}:0: no such file here, nor a lexicon of that name in {lexicon_dir()} (give the "
                           "path of a UTF-8 TSV file; a bundled lexicon missing means the project's data/ folder "
                           "is not there)") from None
    except IsADirectoryError:
        raise LexiconError(f"{path}:0: is a folder; give the path of a UTF-8 TSV file") from None
    except UnicodeDecodeError as exc:
        raise LexiconError(f"{path}:0: not UTF-8 ({exc.reason} at byte {exc.start}); save it as UTF-8") from None
    header: list[str] | None = None
    absent: dict[str, None] = {}
    rows: list[dict[str, Any]] = []
    for lineno, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = line.split("\t")
        where = f"{path}:{lineno}"
        if header is None:
            header = [f.strip() for f in fields]
            missing = [c for c in columns if c not in header and c not in may_lack]
            absent = dict.fromkeys(c for c in may_lack if c not in header)  # None in every row
            if missing:
                raise LexiconError(f"{where}: header lacks column(s) {', '.join(missing)}; found {', '.join(header)}")
            continue
        if len(fields) != len(header):
            raise LexiconError(f"{where}: {len(fields)} tab-separated field(s), the header has {len(header)}")
        row: dict[str, Any] = {"_line": lineno, **absent}
        for col, value in zip(header, fields):
            value = value.strip()
            row[col] = _convert(value, columns[col], where, col) if col in columns else value
        rows.append(row)
    if header is None:
        raise LexiconError(f"{path}:{len(lines)}: no header line found")
    return rows


def parse_regex(pattern: re.Pattern[str]) -> list | None:
    """The standard library's own parse of ``pattern`` (a list of ``(op, argument)``), or ``None``.

    No second regex parser here: what the stdlib parses is what it runs.

    >>> [str(op) for op, _ in parse_regex(re.compile("[国地]税"))]
    ['IN', 'LITERAL']
    """
    from re import _parser

    try:
        return list(_parser.parse(pattern.pattern, pattern.flags))
    except (re.error, ValueError, TypeError, AttributeError, IndexError, RecursionError) as exc:
        log.debug("cannot parse %r: %s", pattern.pattern, exc)
        return None


_MAX_HINTS = 64  # a hint set larger than this (a product of alternatives) is not worth its checks


def required_literals(pattern: re.Pattern[str]) -> tuple[str, ...] | None:
    """Return strings one of which every match of ``pattern`` contains, or ``None`` when there is no such hint.

    A cheap test for the hints (:class:`HintIndex`, or ``any(s in text for s in hints)``) then
    rules a lexicon pattern out before the regex runs. Literal runs, groups and alternatives
    (``皖(?:北|南)`` gives 皖北/皖南; a list of city names gives the names) are followed; the
    hint set kept is the one whose shortest string is longest.

    >>> required_literals(re.compile("(?:深入)?贯彻落实科学发展观|以科学发展观(?:为统领|统领)"))
    ('贯彻落实科学发展观', '以科学发展观为统领', '以科学发展观统领')
    >>> required_literals(re.compile("(?:苏州|无锡)(?!路)"))
    ('苏州', '无锡')
    >>> required_literals(re.compile("[甲乙]+"))
    ('甲', '乙')
    >>> required_literals(re.compile("[一-龥]+")) is None
    True
    """
    from re import _constants as C

    if pattern.flags & re.IGNORECASE:
        return None
    tree = parse_regex(pattern)
    if tree is None:
        return None

    def better(a: tuple[str, ...] | None, b: tuple[str, ...] | None) -> tuple[str, ...] | None:
        def score(h: tuple[str, ...] | None) -> tuple[int, int]:
            return (min(map(len, h)), -len(h)) if h else (0, 0)
        return b if score(b) > score(a) else a

    def seq(items: list) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
        """(exact, required) of a sequence: the strings it matches exactly (if few), and a hint set."""
        best: tuple[str, ...] | None = None
        run: tuple[str, ...] = ("",)  # exact strings of the items since the last break
        whole = True  # no break yet: ``run`` is exactly what the sequence matches
        for op, av in items:
            exact, required = item(op, av)
            if exact is not None and len(run) * len(exact) <= _MAX_HINTS:
                run = tuple(dict.fromkeys(a + b for a in run for b in exact))
                continue
            whole = False
            best = better(better(best, run), required)
            run = exact if exact is not None else ("",)
        best = better(best, run)
        return (run if whole else None), best

    def item(op, av) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
        if op is C.LITERAL:
            return (chr(av),), (chr(av),)
        if op is C.IN and av and all(o is C.LITERAL for o, _ in av) and len(av) <= _MAX_HINTS:
            return tuple(chr(c) for _, c in av), None  # a small set of single characters: [东西]
        if op in (C.AT, C.ASSERT, C.ASSERT_NOT):  # zero width: matches no characters
            return ("",), None
        if op is C.SUBPATTERN:
            _group, add_flags, _del_flags, inner = av
            return (None, None) if add_flags & re.IGNORECASE else seq(list(inner))
        if op is C.BRANCH:
            parts = [seq(list(branch)) for branch in av[1]]
            exact = None if any(e is None for e, _ in parts) else tuple(dict.fromkeys(x for e, _ in parts for x in e))
            reqs = [r if r else None for _, r in parts]
            required = None if any(r is None for r in reqs) else tuple(dict.fromkeys(x for r in reqs for x in r))
            if exact is not None and len(exact) > _MAX_HINTS:
                exact = None
            return exact, required
        if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT) and av[0] >= 1:
            return None, seq(list(av[2]))[1]
        return None, None

    exact, required = seq(list(tree))
    hints = required if required and min(map(len, required)) > 0 else None
    return hints if hints is None or len(hints) <= _MAX_HINTS else None


#: a pattern's leading negative look-behinds (no group, escape or nested class inside) and the Han literal after them
_LEADING_LOOKBEHINDS_RE = re.compile(r"((?:\(\?<!(?:[^()\[\]\\]|\[[^\]\\]*\])+\))+)([\u4e00-\u9fff]+)(.?)", re.S)
_LOOKBEHIND_BODY_RE = re.compile(r"\(\?<!((?:[^()\[\]\\]|\[[^\]\\]*\])+)\)")


def literal_first(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """``pattern`` with its leading negative look-behinds moved after the literal they guard: the same matches.

    A lexicon row written ``(?<!巩固)(?<!全国)脱贫攻坚…`` starts with look-behinds, so the regex
    engine tries it at every place of a text; ``脱贫攻坚(?<!巩固脱贫攻坚)(?<!全国脱贫攻坚)…``
    starts with the literal, which the engine finds at once (the province and dating rules' searches
    of 1,367 benchmark documents took 0.094 s instead of 0.138 s).
    Any other pattern, or one that would not compile so, is returned as it is.

    >>> literal_first(re.compile("(?<![较比])(?<!全国)十四五")).pattern
    '十四五(?<!(?:[较比])十四五)(?<!(?:全国)十四五)'
    >>> literal_first(re.compile("推进(?<!不)")).pattern
    '推进(?<!不)'
    """
    m = _LEADING_LOOKBEHINDS_RE.match(pattern.pattern)
    if m is None:
        return pattern
    lit, after = m.group(2), m.group(3)
    if after in ("?", "*", "+", "{"):  # the quantifier binds the literal's last character only
        lit = lit[:-1]
        if not lit:
            return pattern
    rest = pattern.pattern[m.start(2) + len(lit):]
    guards = "".join(f"(?<!(?:{body}){lit})" for body in _LOOKBEHIND_BODY_RE.findall(m.group(1)))
    try:
        return re.compile(lit + guards + rest, pattern.flags)
    except re.error:
        return pattern


class HintIndex:
    """Tell which of many rules can match a text, from their literal hints, in one pass.

    ``hints[i]`` is rule ``i``'s :func:`required_literals` (``None``: the rule must always be
    tried). :meth:`candidates` returns, in rule order, the rules one of whose hints occurs in
    the text (and those without hints).

    The text is scanned once with numpy: the places where two characters starting some hint
    stand (two lookups in tables indexed by code point), then a sorted-key lookup of those
    pairs, and for hints longer than two characters a lookup of the third character and
    ``str.startswith`` at the places found.
    An Aho-Corasick automaton (``pyahocorasick``) did this before; on 1,000 files of the
    benchmark corpus it took 8× as long with the province rules (hundreds of first characters)
    and 2× as long with the dating rules.

    >>> idx = HintIndex([("国税", "地税"), ("二十大",), None])
    >>> idx.candidates("国税收入2.26亿元")
    [0, 2]
    """

    def __init__(self, hints: Sequence[tuple[str, ...] | None]):
        self.always = [i for i, h in enumerate(hints) if h is None]
        rules_of: dict[str, list[int]] = {}
        for i, h in enumerate(hints):
            for lit in h or ():
                rules_of.setdefault(lit, []).append(i)
        #: one-character hints, tested with ``in``
        self._short = [(lit, rules) for lit, rules in rules_of.items() if len(lit) < 2]
        # per first two characters: the rules of the hint that is just those two, the longer hints by third character
        groups: dict[int, tuple[list[int], dict[str, list[tuple[str, list[int]]]]]] = {}
        for lit, rules in rules_of.items():
            if len(lit) >= 2:
                exact, longer = groups.setdefault(_pair_code(lit[0], lit[1]), ([], {}))
                if len(lit) == 2:
                    exact.extend(rules)
                else:
                    longer.setdefault(lit[2], []).append((lit, rules))
        keys = sorted(groups)
        #: the first two characters of the longer hints as one code, sorted, and the hints of each
        self._keys = np.array(keys, dtype=np.uint64)
        self._groups = [groups[k] for k in keys]
        #: per code point: does some hint start with it (``_first``), does one have it second (``_second``)
        self._first = np.zeros(0x110000, dtype=bool)
        self._second = np.zeros(0x110000, dtype=bool)
        self._first[[k >> 21 for k in keys]] = True
        self._second[[k & 0x1FFFFF for k in keys]] = True

    def candidates(self, text: str) -> list[int]:
        """Return the indices, in order, of the rules whose hints occur in ``text`` (or that have none)."""
        found = set(self.always)
        for lit, rules in self._short:
            if lit in text:
                found.update(rules)
        if len(self._keys) and len(text) > 1:
            code = code_points(text)
            at = np.flatnonzero(self._first[code[:-1]] & self._second[code[1:]])
            if len(at):
                pairs = (code[at].astype(np.uint64) << np.uint64(21)) | code[at + 1]
                k = np.searchsorted(self._keys, pairs)
                k[k == len(self._keys)] = 0
                hit = self._keys[k] == pairs
                places: dict[int, list[int]] = {}
                for g, pos in zip(k[hit].tolist(), at[hit].tolist()):
                    places.setdefault(g, []).append(pos)
                for g, positions in places.items():
                    exact, longer = self._groups[g]
                    found.update(exact)
                    if longer:
                        for pos in positions:
                            for lit, rules in longer.get(text[pos + 2:pos + 3], ()):
                                if len(lit) == 3 or text.startswith(lit, pos):
                                    found.update(rules)
        return sorted(found)


def _pair_code(a: str, b: str) -> int:
    """Two characters as one integer (code points take 21 bits)."""
    return (ord(a) << 21) | ord(b)


#: the fingerprint fixed by an enclosing :func:`pinned_lexicons` block (per thread / task)
_PINNED: ContextVar[str | None] = ContextVar("plan_analysis_pinned_lexicons", default=None)


def lexicon_fingerprint() -> str:
    """Return a short hash of every lexicon file, for cache invalidation.

    Files are hashed again only when their size or modification time changes; inside a
    :func:`pinned_lexicons` block the folder is not even listed again.

    >>> len(lexicon_fingerprint())
    16
    """
    pinned = _PINNED.get()
    return pinned if pinned is not None else _current_fingerprint()


def _current_fingerprint() -> str:
    d = lexicon_dir()
    try:
        with os.scandir(d) as it:
            stats = sorted((e.name, e.stat()) for e in it if e.is_file())
    except FileNotFoundError:
        stats = []
    return _fingerprint(str(d), tuple((name, st.st_size, st.st_mtime_ns) for name, st in stats))


@contextmanager
def pinned_lexicons():
    """Check the lexicon files once for the whole block: every lookup inside sees that version.

    Per-word and per-clause helpers ask for the lexicons' fingerprint (to notice an edited
    table); a long loop over one file's text wraps itself in this block so the folder is
    listed once, not thousands of times. Blocks nest; an edit made during a block takes
    effect after it.

    >>> with pinned_lexicons():
    ...     lexicon_fingerprint() == lexicon_fingerprint()
    True
    """
    if _PINNED.get() is not None:
        yield
        return
    token = _PINNED.set(_current_fingerprint())
    try:
        yield
    finally:
        _PINNED.reset(token)


@lru_cache(maxsize=8)
def _fingerprint(folder: str, signature: tuple[tuple[str, int, int], ...]) -> str:
    import hashlib

    h = hashlib.sha256()
    for name, _size, _mtime in signature:
        h.update(name.encode())
        h.update((Path(folder) / name).read_bytes())
    return h.hexdigest()[:16]
