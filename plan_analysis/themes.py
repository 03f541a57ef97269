"""Themes: code every sentence with an editable dictionary, score plans, compare groups, find what it misses.

The dictionary is ``data/lexicons/themes.yaml`` (党建, 经济发展与招商引资, 产业项目 … 作风与廉政): each theme has
literal ``terms``, optional ``patterns`` (regular expressions) and ``exclude`` strings. Matching runs on the
characters of each sentence's cleaned text, never on tokens, so coding does not depend on word segmentation.

* :func:`code_text` codes one string; :func:`code_sentences` codes every sentence of a corpus, with the raw
  offsets of each sentence. A sentence is coded with a theme when its own text matches, **or** when the title of
  a section containing it matches (its own section and every ancestor): ``via`` says which.
* :func:`score_themes` turns that into tidy scores per sentence, section, plan/summary part or document:
  ``hits`` (dictionary matches in the unit's own text), ``sentences`` (sentences coded with the theme),
  ``share`` (= sentences / n_sentences), plus a ``(none)`` row per unit for the sentences no theme codes.
  :func:`document_themes` is the document level in the CLI's :data:`THEME_FIELDS`.
* :func:`compare_themes` tests any grouping column (place, doc_type, part, year, period, province) against the
  rest: log-likelihood G² on sentence counts with a p-value, Benjamini–Hochberg q-values and a log ratio.
* :func:`discover_topics` runs TF-IDF + NMF (scikit-learn) over sentences or sections with the project tokenizer
  and says, per topic, how much of it the dictionary codes.

Only local plans, summaries and work reports (``is_local_plan``) count unless ``include_all=True``.

>>> code_text("严格落实安全生产责任制，排查矛盾纠纷")
{'安全生产': ('安全生产',), '平安稳定与信访': ('矛盾纠纷',)}
"""

from __future__ import annotations

import logging
import math
import os
import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from itertools import compress
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Literal, Mapping, Sequence

import numpy as np
import pandas as pd

from ._checks import check_count, missing_column
from ._patterns import code_points
from .corpus import as_corpus
from .lexicons import LexiconError, lexicon_dir, parse_regex
from .parallel import arrow_strings, resolve_workers

if TYPE_CHECKING:  # pragma: no cover
    from .corpus import Corpus

__all__ = [
    "Theme", "load_themes", "theme_names", "describe_themes", "code_text", "code_sentences", "score_themes",
    "document_themes", "theme_coverage", "theme_sentences", "summarize_themes", "top_themes", "compare_themes",
    "discover_topics", "estimated_year", "plan_period", "sentence_parts",
    "THEME_FIELDS", "CODE_FIELDS", "SCORE_FIELDS", "COMPARE_FIELDS", "TOPIC_FIELDS", "NONE_THEME",
]

log = logging.getLogger(__name__)

#: the fields the ``themes`` command prints, in order
THEME_FIELDS = ("doc_id", "source_file", "place", "theme", "hits", "share")
#: the theme name of the row that counts the sentences no theme codes
NONE_THEME = "(none)"
#: columns of :func:`code_sentences`
CODE_FIELDS = ("doc_id", "sent_id", "section_id", "role", "theme", "hits", "terms", "heading_hits", "heading_terms",
               "via", "text", "raw_start", "raw_end")
#: document columns carried by :func:`score_themes`
DOC_FIELDS = ("source_file", "place", "admin_level", "province", "doc_type", "is_local_plan", "label_year",
              "year_min", "year_max", "year", "period")
#: columns of :func:`score_themes`
SCORE_FIELDS = ("doc_id", "unit", "unit_id", "label", "part", "theme", "hits", "sentences", "n_sentences", "share",
                *DOC_FIELDS)
#: columns of :func:`compare_themes`
COMPARE_FIELDS = ("by", "group", "theme", "units", "sentences", "n_sentences", "share", "rest_units",
                  "rest_sentences", "rest_n_sentences", "rest_share", "log2_ratio", "g2", "p_value", "q_value",
                  "p_units", "direction")
#: columns of :func:`discover_topics`
TOPIC_FIELDS = ("topic", "top_terms", "units", "unit_share", "coverage", "main_theme", "main_theme_share", "missed",
                "examples", "example_ids")

Unit = Literal["sentence", "section", "part", "document"]
_THEME_KEYS = ("description", "terms", "patterns", "exclude")
_BACKREF_RE = re.compile(r"\\[1-9]|\(\?P=")
_MASK = "\x00"


# ---------------------------------------------------------------------------------------------- the dictionary


@dataclass(frozen=True)
class Theme:
    """One theme of the dictionary: literal ``terms``, regex ``patterns``, ``exclude`` strings, and where it is defined.

    >>> t = Theme("安全生产", terms=("安全生产", "消防"))
    >>> [m.group() for m in t.finditer("狠抓安全生产和消防安全")]
    ['安全生产', '消防']
    """

    name: str
    terms: tuple[str, ...]
    patterns: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    description: str = ""
    source: str = field(default="", compare=False)

    @cached_property
    def regex(self) -> re.Pattern[str]:
        """Terms (longest first), then patterns, as one alternation."""
        alts = [_longest_first(self.terms)] if self.terms else []
        alts += [f"(?:{p})" for p in self.patterns]
        return re.compile("|".join(alts))

    @cached_property
    def exclude_regex(self) -> re.Pattern[str] | None:
        """The ``exclude`` strings (longest first) as one alternation, or ``None``."""
        if not self.exclude:
            return None
        return re.compile(_longest_first(self.exclude))

    def finditer(self, text: str):
        """Non-overlapping matches in ``text`` after blanking the ``exclude`` strings (offsets are kept)."""
        if self.exclude_regex is not None:
            text = self.exclude_regex.sub(lambda m: _MASK * len(m.group()), text)
        return self.regex.finditer(text)


def _longest_first(strings: Sequence[str]) -> str:
    """Literal strings as one regex alternation, longest first (so the longest one matching at a place wins)."""
    return "|".join(re.escape(t) for t in sorted(set(strings), key=lambda t: (-len(t), t)))


def _where(path: Path, node) -> str:
    return f"{path}:{node.start_mark.line + 1}"


def _scalar(path: Path, node, what: str) -> str:
    import yaml

    if not isinstance(node, yaml.ScalarNode):
        raise LexiconError(f"{_where(path, node)}: {what} must be a single value, got a "
                           f"{'list' if isinstance(node, yaml.SequenceNode) else 'mapping'}")
    return str(node.value)


def _strings(path: Path, node, what: str) -> list[tuple[str, str]]:
    """A YAML list of strings as ``(value, file:line)`` pairs."""
    import yaml

    if isinstance(node, yaml.ScalarNode) and node.value in ("", "~", "null"):
        return []
    if not isinstance(node, yaml.SequenceNode):
        raise LexiconError(f"{_where(path, node)}: {what} must be a list such as [词一, 词二]")
    out = []
    for item in node.value:
        value = _scalar(path, item, f"each item of {what}")
        if not value.strip():
            raise LexiconError(f"{_where(path, item)}: {what} has an empty item; delete it or write a word")
        out.append((value, _where(path, item)))
    return out


def _check_pattern(pattern: str, where: str, theme: str) -> None:
    try:
        rx = re.compile(pattern)
    except re.error as exc:
        raise LexiconError(f"{where}: theme {theme!r}: pattern {pattern!r} is not a valid regular expression "
                           f"({exc.msg} at position {exc.pos}); fix it or quote it with '...'") from None
    if _BACKREF_RE.search(pattern):
        raise LexiconError(f"{where}: theme {theme!r}: pattern {pattern!r} uses a backreference; patterns are joined "
                           "into one alternation, so write it without \\1 or (?P=name)")
    if rx.search("") is not None:
        raise LexiconError(f"{where}: theme {theme!r}: pattern {pattern!r} matches the empty string, so it would "
                           "code every sentence; make it require at least one character")


def _build(name: str, where: str, description: str, terms: list[tuple[str, str]], patterns: list[tuple[str, str]],
           exclude: list[tuple[str, str]], terms_where: str) -> Theme:
    if not terms:
        raise LexiconError(f"{terms_where}: theme {name!r} has no terms; give it `terms: [...]` with at least one word")
    seen: dict[str, str] = {}
    for term, w in terms:
        if term in seen:
            raise LexiconError(f"{w}: theme {name!r} lists the term {term!r} twice (first at {seen[term]}); delete one")
        seen[term] = w
    for pattern, w in patterns:
        _check_pattern(pattern, w, name)
    theme = Theme(name, tuple(t for t, _ in terms), tuple(p for p, _ in patterns), tuple(e for e, _ in exclude),
                  description, source=where)
    try:
        theme.regex  # noqa: B018 - compile once to catch clashes between patterns (duplicate group names)
    except re.error as exc:
        raise LexiconError(f"{where}: theme {name!r}: its patterns cannot be combined ({exc.msg}); "
                           "rename duplicate (?P<name>...) groups") from None
    return theme


def _load_yaml(path: Path, text: str) -> tuple[Theme, ...]:
    import yaml

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 0
        raise LexiconError(f"{path}:{line}: not valid YAML ({exc.problem or exc.context}); "
                           "check indentation and quote patterns with '...'") from None
    if root is None:
        raise LexiconError(f"{path}:1: the theme dictionary is empty; it needs `themes:` with at least one theme")
    if not isinstance(root, yaml.MappingNode):
        raise LexiconError(f"{_where(path, root)}: the file must be a mapping with one key, `themes:`")
    themes_node = themes_key = None
    for key, value in root.value:
        k = _scalar(path, key, "a top-level key")
        if k != "themes":
            raise LexiconError(f"{_where(path, key)}: unknown top-level key {k!r}; the only key is `themes:`")
        if themes_key is not None:
            raise LexiconError(f"{_where(path, key)}: `themes:` appears twice (first at {_where(path, themes_key)}); "
                               "merge them")
        themes_node, themes_key = value, key
    if themes_node is None or not isinstance(themes_node, yaml.MappingNode) or not themes_node.value:
        where = _where(path, themes_node) if themes_node is not None else f"{path}:1"
        raise LexiconError(f"{where}: `themes:` must map each theme name to its terms (党建: {{terms: [...]}})")
    out: list[Theme] = []
    first: dict[str, str] = {}
    for key, value in themes_node.value:
        name = _scalar(path, key, "a theme name").strip()
        where = _where(path, key)
        if not name:
            raise LexiconError(f"{where}: a theme has an empty name")
        if name == NONE_THEME:
            raise LexiconError(f"{where}: {NONE_THEME!r} is reserved for sentences no theme codes; rename the theme")
        if name in first:
            raise LexiconError(f"{where}: theme {name!r} is defined twice (first at {first[name]}); merge the two")
        first[name] = where
        if not isinstance(value, yaml.MappingNode):
            raise LexiconError(f"{where}: theme {name!r} must be a mapping with `terms: [...]` "
                               f"(and optionally {', '.join(k for k in _THEME_KEYS if k != 'terms')})")
        fields: dict[str, Any] = {}
        terms_where = where
        for fkey, fvalue in value.value:
            fk = _scalar(path, fkey, "a theme field")
            if fk not in _THEME_KEYS:
                raise LexiconError(f"{_where(path, fkey)}: theme {name!r} has an unknown key {fk!r}; "
                                   f"allowed keys: {', '.join(_THEME_KEYS)}")
            if fk in fields:
                raise LexiconError(f"{_where(path, fkey)}: theme {name!r} has {fk!r} twice; merge them")
            if fk == "description":
                fields[fk] = _scalar(path, fvalue, "description")
            else:
                fields[fk] = _strings(path, fvalue, f"theme {name!r} {fk}")
                if fk == "terms":
                    terms_where = _where(path, fkey)
        out.append(_build(name, where, fields.get("description", ""), fields.get("terms", []),
                          fields.get("patterns", []), fields.get("exclude", []), terms_where))
    return tuple(out)


def _load_tsv(path: Path) -> tuple[Theme, ...]:
    from .lexicons import read_table

    rows = read_table(path, columns={"theme": "str", "kind": "str", "value": "str", "note": "str?"},
                      may_lack=("note",))
    order: list[str] = []
    parts: dict[str, dict[str, Any]] = {}
    kinds = ("term", "pattern", "exclude", "description")
    for r in rows:
        where = f"{path}:{r['_line']}"
        name, kind, value = r["theme"], r["kind"], r["value"]
        if kind not in kinds:
            raise LexiconError(f"{where}: kind {kind!r} is not one of {', '.join(kinds)}")
        if name == NONE_THEME:
            raise LexiconError(f"{where}: {NONE_THEME!r} is reserved for sentences no theme codes; rename the theme")
        if name not in parts:
            order.append(name)
            parts[name] = {"where": where, "description": "", "term": [], "pattern": [], "exclude": []}
        p = parts[name]
        if kind == "description":
            if p["description"]:
                raise LexiconError(f"{where}: theme {name!r} has a second description; keep one")
            p["description"] = value
        else:
            p[kind].append((value, where))
    if not parts:
        raise LexiconError(f"{path}:0: the theme dictionary has no rows")
    return tuple(_build(n, parts[n]["where"], parts[n]["description"], parts[n]["term"], parts[n]["pattern"],
                        parts[n]["exclude"], parts[n]["where"]) for n in order)


def load_themes(path: str | os.PathLike | None = None) -> tuple[Theme, ...]:
    """Read and validate a theme dictionary (YAML or TSV); every problem raises LexiconError naming ``file:line``.

    ``path`` defaults to ``data/lexicons/themes.yaml`` (``$PLAN_ANALYSIS_LEXICONS`` moves the folder). YAML: a
    ``themes:`` mapping of name → ``description``, ``terms`` (required), ``patterns``, ``exclude``; unknown keys,
    duplicate themes or terms, empty term lists and invalid or empty-matching regexes are errors. TSV: columns
    ``theme``, ``kind`` (term | pattern | exclude | description), ``value``, ``note``.

    >>> themes = load_themes()
    >>> themes[0].name, "三会一课" in themes[0].terms
    ('党建', True)
    """
    p = Path(path) if path is not None else lexicon_dir() / "themes.yaml"
    if path is not None and not p.is_absolute() and not p.exists():
        p = lexicon_dir() / p
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        if path is not None:  # the caller's own file
            raise LexiconError(f"{p}:0: theme dictionary not found: no such file (give the path of a YAML or TSV "
                               f"theme dictionary; {lexicon_dir() / 'themes.yaml'} shows the format)") from None
        raise LexiconError(f"{p}:0: theme dictionary not found (is the project's data/ folder present?)") from None
    except UnicodeDecodeError as exc:
        raise LexiconError(f"{p}:0: not UTF-8 ({exc.reason} at byte {exc.start}); save it as UTF-8") from None
    if p.suffix.lower() in (".yaml", ".yml"):
        themes = _load_yaml(p, text)
    elif p.suffix.lower() in (".tsv", ".txt"):
        themes = _load_tsv(p)
    else:
        raise LexiconError(f"{p}:0: unknown dictionary format {p.suffix!r}; use .yaml or .tsv")
    log.debug("loaded %d themes from %s", len(themes), p)
    return themes


def _themes(themes: Sequence[Theme] | str | os.PathLike | None) -> tuple[Theme, ...]:
    if themes is None or isinstance(themes, (str, os.PathLike)):
        return load_themes(themes)
    out = tuple(themes)
    if not out or not all(isinstance(t, Theme) for t in out):
        raise TypeError("themes must be a path to a dictionary, or Theme objects from load_themes()")
    return out


def theme_names(themes: Sequence[Theme] | str | os.PathLike | None = None) -> tuple[str, ...]:
    """Return the theme names in dictionary order.

    >>> theme_names()[:3]
    ('党建', '经济发展与招商引资', '产业项目')
    """
    return tuple(t.name for t in _themes(themes))


def describe_themes(themes: Sequence[Theme] | str | os.PathLike | None = None) -> pd.DataFrame:
    """One row per theme: ``theme``, ``description``, ``n_terms``, ``n_patterns``, ``n_exclude``, ``examples``, ``source``.

    >>> describe_themes().set_index("theme").loc["安全生产", "examples"][:4]
    '安全生产'
    """
    rows = [{"theme": t.name, "description": t.description, "n_terms": len(t.terms), "n_patterns": len(t.patterns),
             "n_exclude": len(t.exclude), "examples": "、".join(t.terms[:8]), "source": t.source}
            for t in _themes(themes)]
    return pd.DataFrame(rows, columns=["theme", "description", "n_terms", "n_patterns", "n_exclude", "examples",
                                       "source"])


# ---------------------------------------------------------------------------------------------- coding


def _code(text: str, themes: Sequence[Theme]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for t in themes:
        found = [m.group() for m in t.finditer(text)]
        if found:
            out[t.name] = found
    return out


def code_text(text: str, *, themes: Sequence[Theme] | str | os.PathLike | None = None) -> dict[str, tuple[str, ...]]:
    """Return the themes ``text`` is coded with, in dictionary order, each with the strings that matched.

    >>> code_text("深入践行新时代“枫桥经验”，充分发挥网格员作用")
    {'平安稳定与信访': ('枫桥经验',), '基层治理与网格': ('枫桥经验', '网格')}
    """
    return {k: tuple(v) for k, v in _code(text, _themes(themes)).items()}


# Coding many texts at once (what :func:`_code` gives each text alone, much faster). The texts of a piece are joined
# into one string. A prefilter over its characters (numpy, all themes at once) finds the texts that hold a hint of
# each theme: a literal every match contains (a term, or one of a pattern's ``required_literals``); only those texts
# are scanned for the theme, joined anew. Each regex of a theme then runs once over them instead of once per text,
# and a match is credited to the text it lies in. For regexes that only consume characters (no lookaround, anchors,
# backreferences or atomic groups) that gives each text exactly the matches it has alone — except in texts touched
# by a match (or an ``exclude`` string) running across a boundary between texts, or where two of a theme's regexes
# overlap: those texts are coded again alone. A theme whose regexes do more than consume characters is coded text
# by text.

#: regex operations that only consume characters: a match found in the joined texts is one in the text alone
_CONSUMING_OPS = frozenset(("LITERAL", "NOT_LITERAL", "IN", "ANY", "BRANCH", "SUBPATTERN", "MAX_REPEAT",
                            "MIN_REPEAT"))
#: the prefilter counts characters up to here (those beyond share the last count)
_BMP = 0x10000
#: the prefilter's hash table of character pairs
_PAIR_SLOTS = 1 << 20
#: characters put between joined texts, the first that no text holds
_SEPARATORS = ("\x01", "\x02", "\x03", "\x04", "\x05", "\x06", "\x07")


def _consuming(items: list) -> bool:
    """Whether a parsed regex only consumes characters (what a match is depends only on the text it covers)."""
    for op, av in items:
        name = str(op)
        if name not in _CONSUMING_OPS:
            return False
        if name == "BRANCH" and not all(_consuming(list(b)) for b in av[1]):
            return False
        if name == "SUBPATTERN" and not _consuming(list(av[-1])):
            return False
        if name in ("MAX_REPEAT", "MIN_REPEAT") and not _consuming(list(av[2])):
            return False
    return True


def _quick_start(items: list) -> bool:
    """Whether ``re`` can skip straight to where a match may begin: the regex starts with a literal character,
    a set of literal characters, or alternatives that each start with a literal character."""
    while items and str(items[0][0]) == "SUBPATTERN" and not items[0][1][1]:
        items = list(items[0][1][-1])
    if not items:
        return False
    op, av = items[0]
    if str(op) == "LITERAL":
        return True
    if str(op) == "IN":
        return all(str(o) == "LITERAL" for o, _ in av)
    if str(op) == "BRANCH":
        return all(b and str(list(b)[0][0]) == "LITERAL" for b in av[1])
    return False


@lru_cache(maxsize=256)
def _theme_scans(theme: Theme) -> tuple[re.Pattern[str], ...] | None:
    """The regexes to run over joined texts for ``theme``, in the order of its alternation, or ``None`` when its
    regexes must run on each text alone (they do more than consume characters, or can match the empty string)."""
    items = parse_regex(theme.regex)
    if items is None or not _consuming(items) or theme.regex.search("") is not None:
        return None
    if theme.exclude_regex is not None and theme.exclude_regex.search("") is not None:
        return None
    if _quick_start(items) or not theme.patterns:
        return (theme.regex,)
    # a pattern re cannot skip ahead for makes the whole alternation slow: one regex per alternative instead
    scans = [re.compile(_longest_first(theme.terms))] if theme.terms else []
    return (*scans, *(re.compile(f"(?:{p})") for p in theme.patterns))


def _hints(theme: Theme) -> tuple[str, ...] | None:
    """Literals one of which each match of ``theme`` contains (its terms and its patterns' required literals), or
    ``None`` when some pattern has none, or a match need not be made of the characters it covers (lookaround,
    anchors, empty matches: :func:`_theme_scans` gives ``None``)."""
    from .lexicons import required_literals

    if _theme_scans(theme) is None:
        return None
    hints = list(theme.terms)
    for p in theme.patterns:
        found = required_literals(re.compile(f"(?:{p})"))
        if not found:
            return None
        hints += found
    if not all(hints) or any(_MASK in h for h in hints):
        return None
    return tuple(hints)


# Not lexicons.HintIndex, which the load's rules use on one document at a time: its few numpy calls per text would
# cost more than the scan on sentences. (Aho-Corasick, which HintIndex used before, took 1.3 s on 9.5 M characters of
# sentences where this prefilter, batched over many texts, takes 0.29 s; it looks only for each hint's rarest piece,
# and may let a few more through.)
@dataclass(frozen=True)
class _Grams:
    """The prefilter's view of the themes' hints: every run of three characters of each hint (the whole hint when
    it is shorter) is a candidate gram; :func:`_may_match` looks for one per hint, the rarest in the text at hand
    (any piece of a hint lies in the text that holds the hint)."""

    hint: np.ndarray  # the hint of each candidate
    size: np.ndarray  # its length, 1–3
    chars: np.ndarray  # its characters (candidates × 3, 0 past its length)
    themes: np.ndarray  # each hint's theme as a bit mask: hints × 64-bit words, bit j % 64 of word j // 64
    everywhere: np.ndarray  # per theme: it has no hints, so every text may match it


@lru_cache(maxsize=16)
def _grams(themes: tuple[Theme, ...]) -> _Grams:
    """The candidate grams of every hint of ``themes`` (see :class:`_Grams`)."""
    hint, size, chars, masks = [], [], [], []
    words = (len(themes) + 63) // 64
    everywhere = np.zeros(len(themes), dtype=bool)
    for j, theme in enumerate(themes):
        hints = _hints(theme)
        if hints is None:
            everywhere[j] = True
            continue
        for h in sorted(set(hints)):
            n = min(len(h), 3)
            for o in range(len(h) - n + 1):
                hint.append(len(masks))
                size.append(n)
                chars.append([ord(c) for c in h[o:o + n]] + [0] * (3 - n))
            masks.append([(1 << j % 64) * (w == j // 64) for w in range(words)])
    return _Grams(np.array(hint, dtype=np.int64), np.array(size, dtype=np.int64),
                  np.array(chars, dtype=np.int64).reshape(-1, 3), np.array(masks, dtype=np.uint64).reshape(-1, words),
                  everywhere)


def _pair_slot(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """A hash of two characters into :data:`_PAIR_SLOTS` slots (32-bit arithmetic, wrapping)."""
    u32 = np.uint32
    return (first.astype(u32, copy=False) * u32(0x9E3779B1) + second.astype(u32, copy=False)) & u32(_PAIR_SLOTS - 1)


def _gram_keys(chars: np.ndarray, n: int) -> np.ndarray:
    """One number per gram of ``n`` characters (the first ``n`` columns of ``chars``; 21 bits each)."""
    key = np.zeros(len(chars), dtype=np.int64)
    for o in range(n):
        key = key << 21 | chars[:, o].astype(np.int64)
    return key


def _gram_table(g: _Grams, rows: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The chosen grams of length ``n`` (candidates ``rows``) as sorted keys and their themes' bit masks."""
    keys, masks = _gram_keys(g.chars[rows], n), g.themes[g.hint[rows]]
    order = np.argsort(keys, kind="stable")
    keys, masks = keys[order], masks[order]
    first = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    return keys[first], np.bitwise_or.reduceat(masks, first, axis=0)


def _gram_hits(chars: np.ndarray, at: np.ndarray, n: int, keys: np.ndarray,
               masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The positions among ``at`` where a gram of length ``n`` with a key in ``keys`` starts, and its themes."""
    at = at[at + n <= len(chars)]
    key = _gram_keys(np.stack([chars[np.minimum(at + o, len(chars) - 1)] for o in range(n)], axis=1), n)
    i = np.minimum(np.searchsorted(keys, key), len(keys) - 1)
    hit = keys[i] == key
    return at[hit], masks[i[hit]]


def _may_match(themes: tuple[Theme, ...], text: str, bounds: np.ndarray) -> np.ndarray:
    """Boolean matrix (text × theme): the texts joined in ``text`` that hold a hint of the theme (all texts for a
    theme without hints). Sound: a text without one cannot match the theme."""
    g = _grams(themes)
    out = np.zeros((len(bounds) - 1, len(themes)), dtype=bool)
    out[:, g.everywhere] = True
    chars = code_points(text)
    if not len(g.hint) or not len(chars):
        return out
    counts = np.bincount(np.minimum(chars, _BMP), minlength=_BMP + 1).astype(np.float64)
    rarity = np.where(np.arange(3) < g.size[:, None], counts[np.minimum(g.chars, _BMP)], 1.0).prod(axis=1)
    order = np.lexsort((np.arange(len(rarity)), rarity, g.hint))
    pick = order[np.r_[True, g.hint[order][1:] != g.hint[order][:-1]]]  # each hint's rarest gram
    pairs = pick[g.size[pick] > 1]
    paired = np.zeros(_PAIR_SLOTS, dtype=bool)  # the first two characters of the longer grams, hashed
    paired[_pair_slot(g.chars[pairs, 0], g.chars[pairs, 1])] = True
    may_pair = np.flatnonzero(paired[_pair_slot(chars[:-1], chars[1:])])
    hits = []
    for n in (1, 2, 3):
        rows = pick[g.size[pick] == n]
        if len(rows):
            keys, masks = _gram_table(g, rows, n)
            at = np.flatnonzero(np.isin(chars, keys)) if n == 1 else may_pair
            hits.append(_gram_hits(chars, at, n, keys, masks))
    pos, masks = np.concatenate([h[0] for h in hits]), np.concatenate([h[1] for h in hits])
    bits = np.unpackbits(masks.astype("<u8").view(np.uint8), axis=1, bitorder="little")[:, :len(themes)]
    row, theme = np.nonzero(bits)
    out[np.searchsorted(bounds, pos[row], side="right") - 1, theme] = True
    return out


def _separated(texts: Sequence[str]) -> tuple[str, str] | None:
    """``(separator, texts joined with it)`` for a separator no text holds, or ``None``."""
    for sep in _SEPARATORS:
        joined = sep.join(texts)
        if joined.count(sep) == len(texts) - 1:
            return sep, joined
    return None


@lru_cache(maxsize=256)
def _or_separator(rx: re.Pattern[str], sep: str) -> re.Pattern[str] | None:
    """``rx`` or else ``sep``, whose ``findall`` lists the matches and the separators between them without the cost
    of Match objects; ``None`` when that would not do: ``rx`` has groups, or ``re`` could not skip ahead in it."""
    items = parse_regex(rx)
    if rx.groups or items is None or not _quick_start(items):
        return None
    return re.compile(f"{rx.pattern}|{re.escape(sep)}", rx.flags)


def _items(rx: re.Pattern[str], sep: str, joined: str, starts: np.ndarray,
           redo: set[int]) -> tuple[np.ndarray, list[str]]:
    """The matches of ``rx`` in texts joined with ``sep`` (``starts``: where each text starts) and the text each
    starts in; texts a match runs across (it holds a separator) go to ``redo``."""
    srx = _or_separator(rx, sep)
    if srx is None:
        ms = list(rx.finditer(joined))
        found = [m.group() for m in ms]
        owner = np.searchsorted(starts, [m.start() for m in ms], side="right") - 1
    else:  # the text a match starts in is the number of separators before it
        items = srx.findall(joined)
        between = np.fromiter(map(sep.__eq__, items), dtype=bool, count=len(items))
        found = list(filter(sep.__ne__, items))
        owner = np.cumsum(between)[~between]
        if len(items) - len(found) == len(starts) - 1:  # every separator stands alone: no match runs across
            return owner, found
        passed = between.astype(np.int64)
        passed[~between] = np.fromiter((x.count(sep) for x in found), dtype=np.int64, count=len(found))
        owner = (np.cumsum(passed) - passed)[~between]
    for k, x in zip(owner.tolist(), found):
        if sep in x:
            redo.update(range(k, k + x.count(sep) + 1))
    return owner, found


def _blank_excluded(rx: re.Pattern[str], sep: str, joined: str, redo: set[int]) -> str:
    """Texts joined with ``sep`` with the ``exclude`` strings blanked as :meth:`Theme.finditer` does; texts an
    exclude string runs across go to ``redo`` (the separator stays)."""
    across: list[tuple[int, int]] = []

    def blank(m: re.Match[str]) -> str:
        s = m.group()
        if sep not in s:
            return _MASK * len(s)
        across.append((m.start(), s.count(sep)))
        return "".join(c if c == sep else _MASK for c in s)

    out = rx.sub(blank, joined)
    for start, m in across:
        k = joined.count(sep, 0, start)
        redo.update(range(k, k + m + 1))
    return out


#: ``(text indices, hits, matched strings joined with 、)`` of the texts a theme matches, by text
_Found = tuple[np.ndarray, np.ndarray, list[str]]


def _found_alone(theme: Theme, texts: Sequence[str], which: Iterable[int], terms: bool) -> _Found:
    """:func:`_found` for the texts at ``which`` (in order), each coded alone."""
    idx, hits, joined = [], [], []
    for i in which:
        f = [m.group() for m in theme.finditer(texts[i])]
        if f:
            idx.append(i)
            hits.append(len(f))
            joined.append("、".join(f) if terms else "")
    return np.array(idx, dtype=np.int64), np.array(hits, dtype=np.int64), joined


def _found(theme: Theme, texts: Sequence[str], terms: bool = True) -> _Found:
    """What :meth:`Theme.finditer` finds in each of ``texts`` alone, for the texts with a match (``terms=False``:
    the matched strings left empty)."""
    scans = _theme_scans(theme)
    if not texts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), []
    separated = _separated(texts) if scans is not None else None
    if separated is None:
        return _found_alone(theme, texts, range(len(texts)), terms)
    sep, joined = separated
    starts = np.zeros(len(texts), dtype=np.int64)  # where each text starts in the joined string
    np.cumsum(np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))[:-1] + 1, out=starts[1:])
    redo: set[int] = set()
    if theme.exclude_regex is not None:
        joined = _blank_excluded(theme.exclude_regex, sep, joined, redo)
    runs = [_items(rx, sep, joined, starts, redo) for rx in scans]
    owner, found = np.concatenate([o for o, _ in runs]), [x for _, f in runs for x in f]
    if len(runs) > 1:  # a text matched by two of the regexes: their matches may overlap, so it is coded alone
        ids, times = np.unique(np.concatenate([np.unique(o) for o, _ in runs]), return_counts=True)
        redo.update(ids[times > 1].tolist())
        order = np.argsort(owner, kind="stable")
        owner, found = owner[order], [found[i] for i in order.tolist()]
    if redo:
        keep = ~np.isin(owner, np.fromiter(redo, dtype=np.int64, count=len(redo)))
        owner, found = owner[keep], list(compress(found, keep))
    out = _by_text(owner, found, terms)
    if not redo:
        return out
    alone = _found_alone(theme, texts, sorted(redo), terms)
    order = np.argsort(np.concatenate([out[0], alone[0]]), kind="stable")
    matched = out[2] + alone[2]
    return (np.concatenate([out[0], alone[0]])[order], np.concatenate([out[1], alone[1]])[order],
            [matched[i] for i in order.tolist()])


def _by_text(owner: np.ndarray, found: list[str], terms: bool) -> _Found:
    """Matches in order, with the text each is in (``owner``, ascending), as one row per text."""
    if not len(owner):
        return owner, np.zeros(0, dtype=np.int64), []
    first = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    last = np.append(first[1:], len(owner))
    if terms:
        joined = ["、".join(found[a:b]) for a, b in zip(first.tolist(), last.tolist())]
    else:
        joined = [""] * len(first)
    return owner[first], last - first, joined


def _slots(themes: Sequence[Theme]) -> list[list[int]]:
    """Theme positions grouped by name, in order of first appearance (one group per theme unless names repeat)."""
    groups: dict[str, list[int]] = {}
    for i, t in enumerate(themes):
        groups.setdefault(t.name, []).append(i)
    return list(groups.values())


#: rows ``(text index, name slot, hits, matched strings joined with 、)``, by text and then slot (coded with
#: ``terms=False``, the list of matched strings is empty)
_Codes = tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]


def _last_wins(found: Sequence[_Found]) -> _Found:
    """Several themes' :func:`_found` under one name, as :func:`_code` keeps them: a text gets the matches of the
    last theme that has some."""
    got: dict[int, tuple[int, str]] = {}
    for idx, hits, terms in found:
        got.update(zip(idx.tolist(), zip(hits.tolist(), terms)))
    order = sorted(got)
    return (np.array(order, dtype=np.int64), np.array([got[k][0] for k in order], dtype=np.int64),
            [got[k][1] for k in order])


def _code_joined(args: tuple[Any, np.ndarray, tuple[Theme, ...], bool]) -> _Codes:
    """Code each text of a piece (``text``: the texts joined, their UTF-8 bytes, a list of them, or a snapshot's rows
    to read: :class:`~plan_analysis.corpus.SnapshotRows`; ``lengths``: theirs in characters) with every theme: what
    :func:`_code` gives each text alone, as rows per (text, theme name) with a match, themes in dictionary order
    (``terms=False``: no matched strings, an empty list: a string per row is 7 MB of the 850,000 rows of the 100 MB
    benchmark corpus, twice over while the pieces are joined)."""
    from .corpus import piece_texts

    text, lengths, themes, terms = args
    if not isinstance(text, (str, bytes)):  # a piece's texts, not yet joined
        text = "".join(piece_texts(text))
    text = text.decode("utf-8") if isinstance(text, bytes) else text
    bounds = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=bounds[1:])
    cuts = bounds.tolist()
    texts = [text[a:b] for a, b in zip(cuts[:-1], cuts[1:])]
    may = _may_match(themes, text, bounds)
    rows: list[_Found] = []
    for members in _slots(themes):
        found = []
        for i in members:
            which = np.flatnonzero(may[:, i])
            idx, hits, joined = _found(themes[i], [texts[k] for k in which.tolist()], terms)
            found.append((which[idx], hits, joined))
        rows.append(found[0] if len(found) == 1 else _last_wins(found))
    k = np.concatenate([r[0] for r in rows])
    j = np.repeat(np.arange(len(rows), dtype=np.int64), [len(r[0]) for r in rows])
    matched = [x for r in rows for x in r[2]]
    order = np.lexsort((j, k))
    return k[order], j[order], np.concatenate([r[1] for r in rows])[order], (
        [matched[i] for i in order.tolist()] if terms else [])


def _ancestors(sections: pd.DataFrame) -> dict[str, list[str]]:
    """section_id → [itself, parent, grandparent, …]."""
    parent = dict(zip(sections["section_id"].astype(str).tolist(),
                      sections["parent_id"].fillna("").astype(str).tolist()))
    out: dict[str, list[str]] = {}
    for sid in parent:
        chain, cur = [], sid
        while cur and cur not in chain:
            chain.append(cur)
            cur = parent.get(cur, "")
        out[sid] = chain
    return out


#: below this many characters of sentence text, :func:`code_sentences` runs in this process
PARALLEL_MIN_CHARS = 1_000_000


def _as_text(values: pd.Series) -> pd.Series:
    return values.fillna("").astype(str)


def _take(values: pd.Series, rows: np.ndarray) -> pd.Series:
    """``values.iloc[rows]``, taken from the span ``rows`` cover: a take from a whole Arrow column would first
    join all its chunks, for every piece."""
    if not len(rows):
        return values.iloc[:0]
    lo, hi = int(rows.min()), int(rows.max())
    span = values.iloc[lo:hi + 1]
    return span if len(rows) == len(span) and (np.diff(rows) == 1).all() else span.iloc[rows - lo]


def _text_lengths(values: pd.Series, rows: np.ndarray) -> np.ndarray:
    """The length of what :func:`_as_text` makes of each value at positions ``rows``."""
    import pyarrow.compute as pc

    column = arrow_strings(values)
    if column is not None:
        return np.asarray(pc.fill_null(pc.utf8_length(column), 0).to_numpy(), dtype=np.int64)[rows]
    step = 100_000  # a block at a time: no copy of all the texts at once
    return np.concatenate([np.zeros(0, dtype=np.int64)] + [
        _as_text(_take(values, rows[i:i + step])).str.len().to_numpy(dtype=np.int64) for i in range(0, len(rows), step)])


def _utf8_pieces(column: Any, rows: np.ndarray) -> list[memoryview]:
    """The UTF-8 bytes of the strings at positions ``rows`` of an Arrow string array (or chunked array), as
    slices of its data buffers in order (a null as empty; neighbouring strings in one slice); no copy."""
    import pyarrow as pa

    if not len(rows):
        return []
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    firsts = np.cumsum([0] + [len(c) for c in chunks])
    which = np.searchsorted(firsts, rows, side="right") - 1
    cut = np.flatnonzero(np.diff(which)) + 1
    out: list[memoryview] = []
    for a, b in zip(np.r_[0, cut].tolist(), np.r_[cut, len(rows)].tolist()):
        chunk = chunks[int(which[a])]
        _, offsets, data = chunk.buffers()
        if data is None:  # only empty strings (or nulls)
            continue
        width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
        offsets = np.frombuffer(offsets, dtype=width)[chunk.offset:chunk.offset + len(chunk) + 1].astype(np.int64)
        local = rows[a:b] - firsts[which[a]]
        starts, ends = offsets[local], offsets[local + 1]
        if chunk.null_count:  # a null's slot may hold bytes: it counts as empty
            ends = np.where(chunk.is_valid().to_numpy(zero_copy_only=False)[local], ends, starts)
        gaps = np.flatnonzero(starts[1:] != ends[:-1]) + 1  # where a string does not follow on from the last
        data = memoryview(data)
        out += [data[s:e] for s, e in zip(starts[np.r_[0, gaps]].tolist(), ends[np.r_[gaps - 1, -1]].tolist())
                if e > s]
    return out


def _joined(values: pd.Series, rows: np.ndarray | None = None) -> str | bytes:
    """What :func:`_as_text` makes of the values (those at positions ``rows``, if given), joined: for Arrow strings
    the UTF-8 bytes copied straight from the data buffers (no Python string per value; whoever codes them
    decodes them, in a worker when shared out), else a string.

    >>> _joined(pd.Series(["推进", None, "招商引资"], dtype="string[pyarrow]")).decode()
    '推进招商引资'
    """
    rows = np.arange(len(values), dtype=np.int64) if rows is None else np.asarray(rows, dtype=np.int64)
    column = arrow_strings(values)
    if column is None:
        return "".join(_as_text(_take(values, rows)).tolist())
    return b"".join(_utf8_pieces(column, rows))


#: a column of texts to code: ``(texts, rows, named)``: only the texts at positions ``rows`` (all, if ``None``; in
#: ascending order when ``named`` is given); ``named``, when the column is a snapshot's (``Corpus._snapshot_pieces``),
#: gives every text's length and names rows for a worker to read, so this process reads none of the text
_Column = tuple[pd.Series, np.ndarray | None, tuple[np.ndarray, Callable[..., Any]] | None]


def _code_many(columns: Sequence[_Column], themes: tuple[Theme, ...],
               workers: int | None, terms: bool = True, progress: bool = False) -> list[_Codes]:
    """The :func:`_code_joined` rows of each column's texts (:data:`_Column`), text indices counted from its first:
    one pool codes the pieces of every column.

    Pieces of about a million characters (smaller when shared out over processes, which happens when a column's
    texts are longer than :data:`PARALLEL_MIN_CHARS`); each piece's text is made only when a worker is ready for
    it, so memory holds a few pieces at a time. ``progress``: a bar of texts coded.
    """
    from .parallel import map_chunks, plan_pieces, progress_bar

    plans, n = [], 1
    for texts, rows, named in columns:
        rows = np.arange(len(texts), dtype=np.int64) if rows is None else np.asarray(rows, dtype=np.int64)
        lengths = named[0][rows] if named is not None else _text_lengths(texts, rows)
        used, bounds = plan_pieces(lengths, workers=workers, parallel_min=PARALLEL_MIN_CHARS,
                                   serial_piece=1_000_000)
        plans.append((texts, rows, lengths, bounds, named))
        n = max(n, used)

    def text_of(texts: pd.Series, rows: np.ndarray, named: Any) -> Any:
        if named is None:
            return _joined(texts, rows)
        whole = len(rows) == int(rows[-1]) - int(rows[0]) + 1  # rows ascend (see _Column)
        return named[1](int(rows[0]), int(rows[-1]) + 1, take=None if whole else rows - rows[0])

    pieces = ((text_of(texts, rows[a:b], named), lengths[a:b], themes, terms)
              for texts, rows, lengths, bounds, named in plans for a, b in bounds)
    results = map_chunks(_code_joined, pieces, workers=n)
    total = sum(len(rows) for _, rows, _, _, _ in plans)
    with progress_bar(total, desc="themes", unit="text", enabled=progress) as bar:

        def coded(bounds: list[tuple[int, int]]) -> Iterator[tuple[int, _Codes]]:
            for a, b in bounds:
                got = next(results)
                if bar is not None:
                    bar.update(b - a)
                yield a, got

        return [_concat(coded(bounds)) for _, _, _, bounds, _ in plans]


def code_sentences(corpus: "Corpus | str | Mapping[str, str]", *,
                   themes: Sequence[Theme] | str | os.PathLike | None = None, headings: bool = True,
                   workers: int | None = None, progress: bool = False) -> pd.DataFrame:
    """Code every sentence of ``corpus``: one row per (sentence, theme) it is coded with.

    ``corpus`` is a :class:`~plan_analysis.corpus.Corpus`, or a text or a mapping name → text
    (:func:`~plan_analysis.corpus.texts_corpus`), as for every function here that takes one.

    Columns (:data:`CODE_FIELDS`): ``doc_id``, ``sent_id``, ``section_id``, ``role``, ``theme``, ``hits`` (matches in
    the sentence's own text), ``terms`` (those matches, joined with 、), ``heading_hits`` and ``heading_terms``
    (matches in the titles of the sections containing the sentence: its own section and all ancestors; a heading
    sentence does not inherit from its own title, which is its text), ``via`` (``text``, ``heading`` or
    ``text+heading``), ``text``, ``raw_start``, ``raw_end``. A sentence is coded when ``hits + heading_hits > 0``.
    Every document is coded; the scoring functions choose which count. With ``headings=False`` only the
    sentence's own text counts. Sentences are shared out over ``workers`` processes (default: the CPUs available)
    when there are more than :data:`PARALLEL_MIN_CHARS` characters of them; the result is the same. ``progress``
    shows a bar of texts coded (sentences, then section titles).

    >>> from plan_analysis import load_corpus
    >>> c = load_corpus(["data/raw/001_64b46b310826ad2c.txt"], cache=False, progress=False)
    >>> rows = code_sentences(c)
    >>> rows.loc[rows["text"].str.startswith("二是夯实安全监管责任"), ["theme", "via"]].values.tolist()
    [['安全生产', 'text'], ['平安稳定与信访', 'heading']]
    """
    corpus = as_corpus(corpus, what="code_sentences")
    return _code_table(corpus, _themes(themes), headings=headings, workers=workers, progress=progress)


def _concat(pieces: Iterable[tuple[int, _Codes]]) -> _Codes:
    """The rows of pieces ``(start, codes)`` as one, text indices counted from the first piece's start."""
    pieces = list(pieces)
    if not pieces:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), []
    return (np.concatenate([k + a for a, (k, _, _, _) in pieces]), np.concatenate([j for _, (_, j, _, _) in pieces]),
            np.concatenate([h for _, (_, _, h, _) in pieces]), [m for _, (_, _, _, t) in pieces for m in t])


def _section_tree(sections: pd.DataFrame) -> tuple[pd.Index, np.ndarray, np.ndarray]:
    """The section ids (a repeated id once: its last row counts), the row of each, and the position of each one's
    parent among them (-1: no parent, or a parent that is not a section)."""
    every = pd.Index(sections["section_id"].astype(str).to_numpy())
    rows = np.flatnonzero(~every.duplicated(keep="last"))
    ids = every[rows]
    parents = sections["parent_id"].fillna("").astype(str).to_numpy()[rows]
    return ids, rows, ids.get_indexer(parents)


def _ancestor_pairs(parent: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(section, ancestor, depth)`` for every section and each of its ancestors (itself at depth 0, its parent
    at 1, …), by section and then depth; a chain ends where it would come back to a section already in it."""
    n = len(parent)
    levels = [np.arange(n, dtype=np.int64)]
    cur = levels[0]
    while len(levels) <= n:
        cur = np.where(cur >= 0, parent[np.maximum(cur, 0)], -1)
        for seen in levels:  # a cycle: stop before coming round again
            cur = np.where(cur == seen, -1, cur)
        if not (cur >= 0).any():
            break
        levels.append(cur)
    table = np.stack(levels, axis=1)  # section × depth, -1 past the chain's end
    section, depth = np.nonzero(table >= 0)  # row-major: by section, then depth
    return section.astype(np.int64), table[section, depth], depth.astype(np.int64)


def _ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The positions ``starts[i] … starts[i] + counts[i] - 1`` for every ``i``, in order."""
    ends = np.cumsum(counts)
    return np.repeat(starts - ends + counts, counts) + np.arange(int(ends[-1]) if len(ends) else 0, dtype=np.int64)


def _inherited(key_section: np.ndarray, key_heading: np.ndarray, ids: pd.Index, rows: np.ndarray,
               parent: np.ndarray, sections: pd.DataFrame, titles: _Codes, terms: bool) -> _Codes:
    """What a sentence inherits from section titles, per key ``(section position in ids or -1, is_heading)``:
    rows ``(key index, name slot, heading_hits, heading_terms)`` by key and then slot. A sentence inherits the
    matches of its section's title and of every ancestor's, in that order (terms joined with 、); a heading not
    those of its own title (its text). A section id of several rows has the last row's title and parent;
    ``titles``: the codes of every row's title."""
    k, slot, hits, found = titles
    position = np.full(len(sections), -1, dtype=np.int64)  # title row -> section position (its last row only)
    position[rows] = np.arange(len(rows))
    keep = position[k] >= 0
    order = np.lexsort((slot[keep], position[k][keep]))
    t_section, t_slot, t_hits = position[k][keep][order], slot[keep][order], hits[keep][order]
    t_found = np.array(found, dtype=object)[np.flatnonzero(keep)[order]] if terms else None
    t_first = np.searchsorted(t_section, np.arange(len(ids) + 1))
    section, ancestor, depth = _ancestor_pairs(parent)
    a_first = np.searchsorted(section, np.arange(len(ids) + 1))
    # key -> the ancestors it inherits from (a heading skips itself, always its first pair)
    known = np.flatnonzero(key_section >= 0)
    skip = key_heading[known].astype(np.int64)
    counts = a_first[key_section[known] + 1] - a_first[key_section[known]] - skip
    pair = _ranges(a_first[key_section[known]] + skip, counts)
    pair_key = np.repeat(known, counts)
    # ancestor -> its title's codes
    anc = ancestor[pair]
    counts = t_first[anc + 1] - t_first[anc]
    got = _ranges(t_first[anc], counts)
    key, dep = np.repeat(pair_key, counts), np.repeat(depth[pair], counts)
    order = np.lexsort((dep, t_slot[got], key))
    key, got = key[order], got[order]
    g_slot = t_slot[got]
    if not len(key):
        return key, g_slot, np.zeros(0, dtype=np.int64), []
    first = np.flatnonzero(np.r_[True, (key[1:] != key[:-1]) | (g_slot[1:] != g_slot[:-1])])
    g_hits = np.add.reduceat(t_hits[got], first)
    if terms:
        matched = t_found[got].tolist()
        cuts = [*first.tolist(), len(got)]
        joined = ["、".join(matched[a:b]) for a, b in zip(cuts[:-1], cuts[1:])]
    else:
        joined = []
    return key[first], g_slot[first], g_hits.astype(np.int64), joined


def _section_keys(sids: pd.Series, roles: pd.Series) -> tuple[np.ndarray, pd.Index, np.ndarray]:
    """The sentences' section ids encoded (codes into the index of their values; a missing one counts as ``""``) and
    which sentences are headings, for :func:`_inheritance`.

    The columns are encoded whole (and the codes taken at the rows wanted after): taking the rows' strings first,
    then sorting a key per sentence, held about 60 MB more while theme scores ran on the 100 MB benchmark corpus."""
    codes, values = pd.factorize(sids, use_na_sentinel=True)
    values = pd.Index(values).astype(str).append(pd.Index([""]))
    codes = np.where(codes < 0, len(values) - 1, codes).astype(np.int64)
    return codes, values, (roles.astype(str) == "heading").to_numpy()


def _inheritance(encoded: tuple[np.ndarray, pd.Index, np.ndarray], sections: pd.DataFrame, titles: _Codes, terms: bool,
                 rows: np.ndarray | None = None) -> _Codes:
    """:func:`_inherited` rows per sentence (by sentence, then slot), for sentences of these section ids and
    roles (``encoded``: :func:`_section_keys` of them; ``titles``: the codes of the sections' titles); sentences sharing
    a section and role share the work. With ``rows``, only the sentences at these positions, counted from 0 in the
    result."""
    codes, values, heads = encoded
    if rows is not None:
        codes, heads = codes[rows], heads[rows]
    # the keys (section id, is a heading) present, in ascending order, and each sentence's among them
    keys = codes * 2 + heads
    present = np.zeros(2 * len(values), dtype=bool)
    present[keys] = True
    key_values = np.flatnonzero(present)
    key_of = (np.cumsum(present) - 1)[keys]
    ids, first_rows, parent = _section_tree(sections)
    section_of_sid = ids.get_indexer(values)
    key, slot, hits, found = _inherited(section_of_sid[key_values // 2], key_values % 2, ids, first_rows, parent,
                                        sections, titles, terms)
    first = np.searchsorted(key, np.arange(len(key_values) + 1))  # each key's rows
    counts = first[key_of + 1] - first[key_of]
    sent = np.repeat(np.arange(len(key_of), dtype=np.int64), counts)
    at = np.repeat(first[key_of] - (np.cumsum(counts) - counts), counts) + np.arange(int(counts.sum()))
    return sent, slot[at], hits[at], [found[i] for i in at.tolist()] if terms else []


def _own_and_inherited(corpus: Corpus, th: tuple[Theme, ...], *, headings: bool, workers: int | None, terms: bool,
                       rows: np.ndarray, progress: bool = False) -> tuple[_Codes, _Codes]:
    """The codes of the sentences at positions ``rows`` from their own text and from the headings above them
    (:func:`_code_joined` rows; sentence ``i`` is ``rows[i]``)."""
    sents = corpus.sentences
    sections = corpus.sections
    ascending = bool(np.all(rows[1:] > rows[:-1]))  # (flatnonzero's) a worker then reads a run of rows of the snapshot
    own_text = (sents["text"], rows, corpus._snapshot_pieces("sentences") if ascending else None)
    if not (headings and len(sections) and len(rows)):
        return _code_many([own_text], th, workers, terms, progress)[0], _concat([])
    own, titles = _code_many([own_text, (sections["title"], None, None)], th, workers, terms, progress)
    keys = _section_keys(sents["section_id"], sents["role"])
    corpus._drop_pages()  # the two columns, read whole: their pages are not held while the headings' codes are found
    return own, _inheritance(keys, sections, titles, terms, rows=rows)


def _merged(own: _Codes, inherited: _Codes, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (sentence, name slot) with own or inherited matches as one key ``sentence * width + slot``, sorted,
    and where each of ``own``'s and ``inherited``'s rows is among them."""
    own_key, inh_key = own[0] * width + own[1], inherited[0] * width + inherited[1]
    keys = np.sort(np.concatenate([own_key, inh_key]), kind="stable")  # two sorted runs: merged, not sorted anew
    keys = keys[np.r_[True, keys[1:] != keys[:-1]]] if len(keys) else keys
    return keys, np.searchsorted(keys, own_key), np.searchsorted(keys, inh_key)


def _code_table(corpus: Corpus, th: tuple[Theme, ...], *, headings: bool, workers: int | None,
                fields: Sequence[str] = CODE_FIELDS, rows: np.ndarray | None = None,
                progress: bool = False) -> pd.DataFrame:
    """:func:`code_sentences`, with only the columns ``fields`` (what is not asked for is not worked out) and, with
    ``rows``, only the sentences at these positions (as if the others' rows were filtered out)."""
    sents = corpus.sentences
    rows = np.arange(len(sents)) if rows is None else np.asarray(rows, dtype=np.int64)
    terms = "terms" in fields or "heading_terms" in fields
    own, inherited = _own_and_inherited(corpus, th, headings=headings, workers=workers, terms=terms, rows=rows,
                                        progress=progress)
    df = _rows_frame(sents, rows, th, own, inherited, fields)
    log.info("coded %d sentences: %d sentence-theme rows", len(rows), len(df))
    return df


def _code_slots(corpus: Corpus, th: tuple[Theme, ...], *, headings: bool, workers: int | None,
                rows: np.ndarray, progress: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What :func:`code_sentences` finds, as arrays per (sentence, theme name) coded by its text or a heading:
    the sentence (its index in ``rows``), the name (its slot, :func:`_slots`) and ``hits``; by sentence, then slot.
    Themes that share a name count as one, as :func:`code_sentences` codes them."""
    own, inherited = _own_and_inherited(corpus, th, headings=headings, workers=workers, terms=False, rows=rows,
                                        progress=progress)
    width = len(_slots(th))
    keys, at_own, _ = _merged(own, inherited, width)
    hits = np.zeros(len(keys), dtype=np.int64)
    hits[at_own] = own[2]
    log.info("coded %d sentences: %d sentence-theme pairs", len(rows), len(keys))
    return keys // width, keys % width, hits


def _positions(sent: np.ndarray, slot: np.ndarray, slots: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """For rows by (sentence, name slot): the row each table row copies and its theme's place in the dictionary.

    One table row per theme of the slot's name (one unless themes share a name), by sentence and then place.
    """
    sizes = np.array([len(m) for m in slots], dtype=np.int64)
    places = np.array([i for m in slots for i in m], dtype=np.int64)
    copies = sizes[slot]
    pick = np.repeat(np.arange(len(slot), dtype=np.int64), copies)
    nth = np.arange(len(pick), dtype=np.int64) - np.repeat(np.cumsum(copies) - copies, copies)
    place = places[(np.cumsum(sizes) - sizes)[slot][pick] + nth]
    order = np.lexsort((place, sent[pick]))
    return pick[order], place[order]


def _repeated(values: Sequence[str], codes: np.ndarray) -> Any:
    """``values[codes]`` as a string column, without a Python string per row."""
    return pd.array(list(values), dtype="str").take(codes)


def _rows_frame(sents: pd.DataFrame, rows: np.ndarray, th: tuple[Theme, ...], own: _Codes, inherited: _Codes,
                fields: Sequence[str]) -> pd.DataFrame:
    """The :data:`CODE_FIELDS` table (only ``fields``): a row per (sentence, theme) with own or inherited matches,
    by sentence and then dictionary order; sentence ``i`` of the codes is row ``rows[i]`` of ``sents``."""
    fields = [f for f in CODE_FIELDS if f in fields]
    slots = _slots(th)
    width = len(slots)
    keys, at_own, at_inh = _merged(own, inherited, width)
    if not len(keys):
        df = pd.DataFrame([], columns=fields)
        for c in ("hits", "heading_hits", "raw_start", "raw_end"):
            if c in fields:
                df[c] = df[c].astype("int64")
        return df
    hits, heading_hits = np.zeros(len(keys), dtype=np.int64), np.zeros(len(keys), dtype=np.int64)
    hits[at_own], heading_hits[at_inh] = own[2], inherited[2]
    pick, place = _positions(keys // width, keys % width, slots)
    sent, hits, heading_hits = rows[(keys // width)[pick]], hits[pick], heading_hits[pick]

    def sentence(name: str) -> Any:  # the sentence column at each row, without a Python string per row
        values = sents[name].take(sent)
        if name in ("raw_start", "raw_end"):
            return values.astype("int64").to_numpy()
        return (_as_text(values) if name in ("section_id", "text") else values.astype(str)).array

    def found(got: _Codes, at: np.ndarray) -> Any:
        out = np.full(len(keys), "", dtype=object)
        out[at] = got[3]
        return out[pick]

    make = {
        "theme": lambda: _repeated([t.name for t in th], place), "hits": lambda: hits,
        "terms": lambda: found(own, at_own), "heading_hits": lambda: heading_hits,
        "heading_terms": lambda: found(inherited, at_inh),
        "via": lambda: _repeated(["heading", "text", "text+heading"], (hits > 0) * (1 + (heading_hits > 0))),
    }
    return pd.DataFrame({f: make[f]() if f in make else sentence(f) for f in fields}, columns=fields)


# ---------------------------------------------------------------------------------------------- documents, parts, years


_PERIODS = ((2006, 2010, "十一五"), (2011, 2015, "十二五"), (2016, 2020, "十三五"), (2021, 2025, "十四五"),
            (2026, 2030, "十五五"), (2031, 2035, "十六五"))


def estimated_year(label_year: Any, year_min: Any, year_max: Any) -> int | None:
    """The year a document most likely concerns: the title's year if the text's window allows it, else the window's middle.

    A one-sided window gives its one bound; no evidence at all gives ``None`` (a title year alone is not trusted,
    content mills label everything with the current year).

    >>> estimated_year(2024, 2014, 2016), estimated_year(2024, 2024, None), estimated_year(2024, None, None)
    (2015, 2024, None)
    """
    def val(x):
        return None if x is None or (not isinstance(x, str) and pd.isna(x)) else int(x)

    label, lo, hi = val(label_year), val(year_min), val(year_max)
    if lo is None and hi is None:
        return None
    if label is not None and (lo is None or label >= lo) and (hi is None or label <= hi):
        return label
    if lo is not None and hi is not None:
        return (lo + hi) // 2
    return lo if lo is not None else hi


def plan_period(year: Any) -> str | None:
    """The five-year-plan period a year falls in, e.g. ``'2021–2025 十四五'`` (sorts by year as a string).

    >>> plan_period(2015), plan_period(2024), plan_period(None)
    ('2011–2015 十二五', '2021–2025 十四五', None)
    """
    if year is None or (not isinstance(year, str) and pd.isna(year)):
        return None
    y = int(year)
    for lo, hi, name in _PERIODS:
        if lo <= y <= hi:
            return f"{lo}–{hi} {name}"
    return "≤2005" if y < 2006 else f"{y}"


def _documents(corpus: Corpus, include_all: bool) -> pd.DataFrame:
    """The documents scored (local plans unless ``include_all``) with ``year`` and ``period``; no ``text`` column."""
    docs = corpus.documents
    cols = [c for c in docs.columns if c != "text"]  # the text is in the sentences: no copy of it here
    if include_all:
        docs = docs[cols].copy()
    else:
        docs = docs.loc[docs["is_local_plan"].fillna(False).astype(bool), cols].copy()
    docs["year"] = pd.array([estimated_year(a, b, c) for a, b, c in
                             zip(docs["label_year"], docs["year_min"], docs["year_max"])], dtype="Int64")
    docs["period"] = pd.array([plan_period(y) for y in docs["year"]], dtype="string")
    return docs.reset_index(drop=True)


_SUMMARY_HEAD_RE = re.compile(r"总结|回顾|成[效绩就]|主要做法|存在(?:的)?(?:主要)?问题|亮点|上半年(?!.*下半年)")
_PLAN_HEAD_RE = re.compile(r"计划(?!生育)|思路|打算|安排|要点|下半年|重点工作|工作重点|重点任务|主要任务|目标任务|主要目标|"
                           r"措施|举措|主要考虑|总体要求|[0-9]{4}年(?:的)?(?:主要)?工作")
_PLAN_TYPES = {"plan", "思路", "personal plan"}
_SUMMARY_TYPES = {"summary"}
_MIXED_TYPES = {"summary+plan", "half-year summary+plan", "work report"}


def sentence_parts(corpus: "Corpus | str | Mapping[str, str]") -> pd.Series:
    """Which part of its document each sentence is in: ``summary``, ``plan`` or ``other`` (index: ``sent_id``).

    The first heading above a sentence (from the top) that reads like a review (总结, 回顾, 成效, 存在问题,
    上半年 …) or like a plan (计划, 思路, 安排, 下半年, 重点工作, 目标任务, 措施 …) decides. Otherwise a plan,
    思路 or personal plan is ``plan``, a summary is ``summary``, and in a summary+plan or work report a sentence
    before the first plan heading is ``summary`` and after it ``plan``; anything else is ``other``.

    >>> from plan_analysis import load_corpus
    >>> c = load_corpus(["data/raw/004_c7e8bd28e2541a55.txt"], cache=False, progress=False)
    >>> sentence_parts(c).value_counts().to_dict()
    {'summary': 44, 'plan': 11}
    """
    corpus = as_corpus(corpus, what="sentence_parts")
    sections = corpus.sections
    sids = sections["section_id"].astype(str).tolist()
    titles = dict(zip(sids, sections["title"].fillna("").astype(str).tolist()))
    starts = dict(zip(sids, sections["start"].astype("int64").tolist()))
    chains = _ancestors(sections)
    head_part: dict[str, str] = {}
    for sid, chain in chains.items():
        part = ""
        for anc in reversed(chain):  # from the top heading down
            t = titles.get(anc, "")
            if _SUMMARY_HEAD_RE.search(t):
                part = "summary"
                break
            if _PLAN_HEAD_RE.search(t):
                part = "plan"
                break
        head_part[sid] = part
    first_plan: dict[str, int] = {}
    for sid, part in head_part.items():
        if part == "plan":
            doc = sid.rsplit("/s", 1)[0]
            first_plan[doc] = min(first_plan.get(doc, 1 << 60), starts[sid])
    types = dict(zip(corpus.documents["doc_id"].astype(str).tolist(),
                     corpus.documents["doc_type"].fillna("").astype(str).tolist()))
    out = []
    s = corpus.sentences
    for doc_id, sid, start in zip(s["doc_id"].astype(str).tolist(), s["section_id"].fillna("").astype(str).tolist(),
                                  s["start"].astype("int64").tolist()):
        part = head_part.get(sid, "")
        if not part:
            dt = types.get(doc_id, "")
            if dt in _PLAN_TYPES:
                part = "plan"
            elif dt in _SUMMARY_TYPES:
                part = "summary"
            elif dt in _MIXED_TYPES and doc_id in first_plan:
                part = "summary" if int(start) < first_plan[doc_id] else "plan"
            else:
                part = "other"
        out.append(part)
    return pd.Series(out, index=s["sent_id"].astype(str).to_numpy(), name="part", dtype="string")


# ---------------------------------------------------------------------------------------------- scoring


def _isin(values: pd.Series, allowed: pd.Series) -> np.ndarray:
    """``values.isin(allowed)`` as a boolean array, in Arrow where it can (pandas' ``isin`` on Arrow strings loops
    over ``allowed`` in Python)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        column = pa.array(values)
        return np.asarray(pc.is_in(column, value_set=pa.array(allowed).cast(column.type)), dtype=bool)
    except (pa.ArrowException, TypeError, ValueError):
        return pd.Index(allowed).unique().get_indexer(values) >= 0


def _selected(corpus: Corpus, include_all: bool, themes, headings: bool, *, columns: Sequence[str] | None = None,
              parts: bool = True, fields: Sequence[str] = CODE_FIELDS, slots: bool = False, progress: bool = False,
              doc_id: str | None = None, workers: int | None = None):
    """Selected documents, their scored sentences (titles left out) and the coding of those sentences.

    The sentences have the columns ``columns`` (default: all; ``doc_id`` and ``sent_id`` always) and, unless
    ``parts=False``, ``part``; the coding has the columns ``fields`` (:func:`_code_table`), or with ``slots`` is
    :func:`_code_slots`'s arrays (a sentence's index is its row in the sentences returned). With ``doc_id``, only
    that document's sentences are kept and coded (the documents stay all those selected), over ``workers``
    processes (checked here, before any work, for every function that codes through this one).
    """
    resolve_workers(workers)
    docs = _documents(corpus, include_all)
    sents = corpus.sentences
    doc_ids, sent_ids = sents["doc_id"].astype(str), sents["sent_id"].astype(str)
    keep = _isin(doc_ids, docs["doc_id"].astype(str)) & (sents["role"].astype(str) != "title").to_numpy()
    if doc_id is not None:
        keep &= (doc_ids == doc_id).to_numpy(dtype=bool)
    # the ids are taken from their text versions: copying the table's own ones first would double them (about 30 MB
    # for the 100 MB benchmark corpus, which the allocator keeps)
    s = sents.loc[keep, [c for c in sents.columns
                         if c not in ("doc_id", "sent_id") and (columns is None or c in columns)]]
    s.insert(0, "sent_id", sent_ids.array[keep])
    s.insert(0, "doc_id", doc_ids.array[keep])
    if "section_id" in s.columns:
        s["section_id"] = s["section_id"].fillna("").astype(str)
    if parts:
        s["part"] = sentence_parts(corpus).reindex(s["sent_id"]).to_numpy()
    # only the sentences scored are coded: the rows of the others would be dropped here
    rows = np.flatnonzero(keep)
    corpus._drop_pages()  # the columns read whole to select the sentences: not held while they are coded
    if slots:
        codes = _code_slots(corpus, _themes(themes), headings=headings, workers=workers, rows=rows, progress=progress)
    else:
        codes = _code_table(corpus, _themes(themes), headings=headings, workers=workers, fields=fields, rows=rows,
                            progress=progress)
    return docs, s.reset_index(drop=True), codes


def _membership(unit: str, s: pd.DataFrame, corpus: Corpus) -> tuple[np.ndarray, Any, Any, Any]:
    """Which sentences make up each unit, one entry per (unit, sentence) in the order of ``s``: the sentence's
    row in ``s``, the unit's id, label and part (``None``: empty for every unit). A section holds its
    subsections' sentences; sentences before a document's first heading make up section ``…/s0``."""
    every = np.arange(len(s), dtype=np.int64)
    if unit == "document":
        return every, s["doc_id"].array, None, None
    if unit == "part":
        return every, (s["doc_id"] + "#" + s["part"]).array, s["part"].array, s["part"].array
    if unit == "sentence":
        return every, s["sent_id"].array, s["text"].astype(str).array, s["part"].array
    sections = corpus.sections
    chains = _ancestors(sections)
    titles = dict(zip(sections["section_id"].astype(str), sections["title"].fillna("").astype(str)))
    rows, units = [], []
    for i, (doc_id, sid) in enumerate(zip(s["doc_id"].tolist(), s["section_id"].tolist())):
        members = chains.get(sid, []) if sid else [f"{doc_id}/s0"]
        rows += [i] * len(members)
        units += members
    labels = [titles.get(m, "(before the first heading)") for m in units]
    pos = np.array(rows, dtype=np.int64)
    return pos, pd.array(units, dtype="str"), pd.array(labels, dtype="str"), s["part"].array.take(pos)


def _column(values: Any, at: np.ndarray) -> Any:
    """``values`` at positions ``at`` as a string column (``None``: all empty)."""
    if values is None:
        return _repeated([""], np.zeros(len(at), dtype=np.int64))
    return pd.array(values, dtype="str").take(at)


def _unit_scores(unit: str, s: pd.DataFrame, members: tuple[np.ndarray, Any, Any, Any],
                 codes: tuple[np.ndarray, np.ndarray, np.ndarray], names: Sequence[str],
                 doc_ids: pd.Index) -> tuple[pd.DataFrame, np.ndarray]:
    """The :func:`score_themes` table without the document columns, and each row's document (its position in
    ``doc_ids``). Units by document (in the order of ``doc_ids``) and then as met; a unit's rows in the order of
    ``names`` and then ``(none)`` (at sentence level only the names coded, or ``(none)``)."""
    pos, unit_ids, labels, parts = members
    code_pos, code_slot, code_hits = codes
    width = len(names)
    u, uniques = pd.factorize(unit_ids)
    n_units = len(uniques)
    first = np.full(n_units, len(u), dtype=np.int64)
    np.minimum.at(first, u, np.arange(len(u), dtype=np.int64))
    unit_doc = doc_ids.get_indexer(s["doc_id"].array.take(pos[first]))
    unit_order = np.lexsort((np.arange(n_units), unit_doc))
    # each code meets every member of its sentence's units
    if unit == "section":
        by_pos = np.argsort(pos, kind="stable")
        lo = np.searchsorted(pos[by_pos], code_pos, side="left")
        count = np.searchsorted(pos[by_pos], code_pos, side="right") - lo
        member = by_pos[_ranges(lo, count)]
        code = np.repeat(np.arange(len(code_pos), dtype=np.int64), count)
    else:  # a sentence is one member, at its own row (_membership): the code meets it alone, no index arrays made
        member, code = code_pos, slice(None)
    coded = np.zeros(len(s), dtype=bool)
    coded[code_pos] = True
    uncoded = np.flatnonzero(~coded[pos])
    if unit == "sentence":
        row_unit = np.concatenate([u[member], u[uncoded]])
        row_slot = np.concatenate([code_slot[code], np.full(len(uncoded), width, dtype=np.int64)])
        hits = np.concatenate([code_hits[code], np.zeros(len(uncoded), dtype=np.int64)])
        sentences = n_sentences = np.ones(len(row_unit), dtype=np.int64)
        rank = np.empty(n_units, dtype=np.int64)
        rank[unit_order] = np.arange(n_units, dtype=np.int64)
        order = np.lexsort((row_slot, rank[row_unit]))
        row_unit, row_slot, hits = row_unit[order], row_slot[order], hits[order]
    else:
        key = u[member] * (width + 1) + code_slot[code]
        size = n_units * (width + 1)
        none = u[uncoded] * (width + 1) + width
        # (none): hits and sentences both count the unit's sentences no theme codes
        hits = np.bincount(np.concatenate([key, none]), minlength=size,
                           weights=np.concatenate([code_hits[code], np.ones(len(none))]))
        sentences = np.bincount(np.concatenate([key, none]), minlength=size)
        row_unit = np.repeat(unit_order, width + 1)
        row_slot = np.tile(np.arange(width + 1, dtype=np.int64), n_units)
        hits, sentences = hits.astype(np.int64)[row_unit * (width + 1) + row_slot], sentences[row_unit * (width + 1) + row_slot]
        n_sentences = np.bincount(u, minlength=n_units).astype(np.int64)[row_unit]
    at = first[row_unit]  # the unit's first member
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(n_sentences > 0, sentences / np.maximum(n_sentences, 1), np.nan)
    table = pd.DataFrame({
        "doc_id": pd.array(s["doc_id"].array, dtype="str").take(pos[at]), "unit": _repeated([unit], row_slot * 0),
        "unit_id": pd.array(uniques, dtype="str").take(row_unit), "label": _column(labels, at),
        "part": _column(parts if unit != "document" else None, at),
        "theme": _repeated([*names, NONE_THEME], row_slot), "hits": hits, "sentences": sentences,
        "n_sentences": n_sentences, "share": share})
    return table, unit_doc[row_unit]


def score_themes(corpus: "Corpus | str | Mapping[str, str]", *, unit: Unit = "document", include_all: bool = False,
                 themes: Sequence[Theme] | str | os.PathLike | None = None, headings: bool = True,
                 workers: int | None = None, progress: bool = False) -> pd.DataFrame:
    """Tidy theme scores per sentence, section, part (plan / summary) or document.

    Columns (:data:`SCORE_FIELDS`): ``doc_id``, ``unit``, ``unit_id``, ``label`` (section title, part name or
    sentence text), ``part``, ``theme``, ``hits`` (dictionary matches in the unit's own sentences, each counted
    once), ``sentences`` (the unit's sentences coded with the theme, by their text or a heading above them),
    ``n_sentences``, ``share`` (= sentences / n_sentences), then the document columns ``source_file``, ``place``,
    ``admin_level``, ``province``, ``doc_type``, ``is_local_plan``, ``label_year``, ``year_min``, ``year_max``,
    ``year`` (:func:`estimated_year`) and ``period`` (:func:`plan_period`).

    Every unit gets a row for every theme (zeros included) plus a ``(none)`` row whose ``hits`` and
    ``sentences`` count the sentences no theme codes; at sentence level only the themes the sentence is coded
    with, or ``(none)``. A section includes its subsections; sentences before the first heading form section
    ``…/s0``. Document titles are not sentences here. Only local plans and summaries count unless ``include_all``.
    Themes that share a name count as one theme (coded as :func:`code_sentences` codes them). Texts are coded over
    ``workers`` processes (default: the CPUs available; small corpora here); ``progress`` shows a bar of texts
    coded.

    >>> from plan_analysis import load_corpus
    >>> c = load_corpus(["data/raw/001_64b46b310826ad2c.txt"], cache=False, progress=False)
    >>> doc = score_themes(c).set_index("theme")
    >>> doc.loc["安全生产", ["hits", "sentences", "n_sentences"]].tolist()
    [11, 2, 26]
    """
    corpus = as_corpus(corpus, what="score_themes")
    if unit not in ("sentence", "section", "part", "document"):
        raise ValueError(f"unit must be 'sentence', 'section', 'part' or 'document', not {unit!r}")
    th = _themes(themes)
    names = [th[m[0]].name for m in _slots(th)]
    columns = {"sentence": ("text",), "section": ("section_id",)}.get(unit, ())
    docs, s, codes = _selected(corpus, include_all, th, headings, columns=columns, parts=unit != "document",
                               slots=True, progress=progress, workers=workers)
    doc_cols = docs[["doc_id", *DOC_FIELDS]].astype({"doc_id": str}).reset_index(drop=True)
    df, at = _unit_scores(unit, s, _membership(unit, s, corpus), codes, names, pd.Index(doc_cols["doc_id"]))
    for c in DOC_FIELDS:
        df[c] = doc_cols[c].array.take(at)
    return df[list(SCORE_FIELDS)].reset_index(drop=True)


def document_themes(corpus: "Corpus | str | Mapping[str, str]", *, include_all: bool = False,
                    themes: Sequence[Theme] | str | os.PathLike | None = None, workers: int | None = None,
                    progress: bool = False) -> pd.DataFrame:
    """Document-level theme scores in exactly :data:`THEME_FIELDS`, with a ``(none)`` row per document.

    ``hits`` counts dictionary matches, ``share`` the share of the document's sentences coded with the theme (its
    own text or a heading above it). In the ``(none)`` row, ``hits`` is the number of sentences no theme codes and
    ``share`` their share: the lexicon's blind spot in that document. ``workers`` and ``progress`` as for
    :func:`score_themes`.

    >>> from plan_analysis import load_corpus
    >>> c = load_corpus(["data/raw/001_64b46b310826ad2c.txt"], cache=False, progress=False)
    >>> t = document_themes(c)
    >>> list(t.columns), t["theme"].iloc[-1]
    (['doc_id', 'source_file', 'place', 'theme', 'hits', 'share'], '(none)')
    """
    corpus = as_corpus(corpus, what="document_themes")
    return score_themes(corpus, unit="document", include_all=include_all, themes=themes, workers=workers,
                        progress=progress)[list(THEME_FIELDS)]


def theme_coverage(corpus: "Corpus | str | Mapping[str, str]", *, include_all: bool = False,
                   themes: Sequence[Theme] | str | os.PathLike | None = None, workers: int | None = None
                   ) -> pd.DataFrame:
    """Lexicon coverage per document: how many sentences the dictionary codes, with and without heading inheritance.

    Columns: ``doc_id``, ``source_file``, ``place``, ``doc_type``, ``n_sentences``, ``coded`` (by text or heading),
    ``uncoded``, ``uncoded_share``, ``coded_text`` (by the sentence's own text), ``uncoded_text_share``.
    Sentences are coded over ``workers`` processes, as in :func:`score_themes`.

    >>> from plan_analysis import load_corpus
    >>> c = load_corpus(["data/raw/001_64b46b310826ad2c.txt"], cache=False, progress=False)
    >>> theme_coverage(c)[["n_sentences", "coded", "uncoded"]].values.tolist()
    [[26, 26, 0]]
    """
    corpus = as_corpus(corpus, what="theme_coverage")
    th = _themes(themes)
    docs, s, codes = _selected(corpus, include_all, th, True, columns=(), parts=False, fields=("sent_id", "hits"),
                               workers=workers)
    coded = _isin(s["sent_id"], codes["sent_id"])
    coded_text = _isin(s["sent_id"], codes.loc[codes["hits"] > 0, "sent_id"])
    g = s.assign(coded=coded, coded_text=coded_text).groupby("doc_id", sort=False)
    out = pd.DataFrame({"n_sentences": g.size(), "coded": g["coded"].sum(), "coded_text": g["coded_text"].sum()})
    out = docs[["doc_id", "source_file", "place", "doc_type"]].astype({"doc_id": str}).merge(
        out.reset_index(), on="doc_id", how="left")
    for c in ("n_sentences", "coded", "coded_text"):
        out[c] = out[c].fillna(0).astype("int64")
    out["uncoded"] = out["n_sentences"] - out["coded"]
    denom = out["n_sentences"].where(out["n_sentences"] > 0)
    out["uncoded_share"] = out["uncoded"] / denom
    out["uncoded_text_share"] = (out["n_sentences"] - out["coded_text"]) / denom
    return out[["doc_id", "source_file", "place", "doc_type", "n_sentences", "coded", "uncoded", "uncoded_share",
                "coded_text", "uncoded_text_share"]]


def theme_sentences(corpus: "Corpus | str | Mapping[str, str]", *, theme: str | None = None,
                    doc_id: str | None = None, include_all: bool = False,
                    themes: Sequence[Theme] | str | os.PathLike | None = None,
                    via: Literal["any", "text", "heading"] = "any", workers: int | None = None) -> pd.DataFrame:
    """The sentences behind the numbers: every coded (sentence, theme), filtered by theme and/or document.

    ``theme="(none)"`` lists the sentences no theme codes. ``via="text"`` keeps sentences whose own text matches,
    ``"heading"`` those coded only through a heading. Columns: ``doc_id``, ``place``, ``doc_type``, ``part``,
    ``section`` (title of the sentence's section), ``sent_id``, ``theme``, ``via``, ``hits``, ``terms``,
    ``heading_terms``, ``text``, ``source_file``, ``raw_start``, ``raw_end``. Sentences are coded over
    ``workers`` processes, as in :func:`score_themes`.

    >>> from plan_analysis import load_corpus
    >>> c = load_corpus(["data/raw/001_64b46b310826ad2c.txt"], cache=False, progress=False)
    >>> theme_sentences(c, theme="安全生产", via="text")["terms"].tolist()
    ['应急', '安全监管、安委会、安全生产、事故、事故、安全生产、消防、安全隐患、安全监管、事故']
    """
    corpus = as_corpus(corpus, what="theme_sentences")
    th = _themes(themes)
    names = {t.name for t in th} | {NONE_THEME}
    if theme is not None and theme not in names:
        raise ValueError(f"no theme {theme!r}; themes: {', '.join(t.name for t in th)}, {NONE_THEME}")
    if via not in ("any", "text", "heading"):
        raise ValueError(f"via must be 'any', 'text' or 'heading', not {via!r}")
    # one theme's sentences need only that theme's coding; the uncoded ones need every theme's
    coding = th if theme in (None, NONE_THEME) else tuple(t for t in th if t.name == theme)
    docs, s, codes = _selected(corpus, include_all, coding, True, doc_id=doc_id, workers=workers)
    if doc_id is not None and doc_id not in set(docs["doc_id"].astype(str)):
        raise ValueError(f"no document {doc_id!r} among the selected documents"
                         f"{'' if include_all else ' (local plans only; pass include_all=True for every document)'}")
    # filter first: the whole table (every coding and every uncoded sentence, text included) is hundreds of MB on a
    # large corpus, and a call usually asks for one theme or one document of it
    coded = codes["sent_id"]
    if theme is not None:
        codes = codes[codes["theme"] == theme]
    if via == "text":
        codes = codes[codes["via"].isin(["text", "text+heading"])]
    elif via == "heading":
        codes = codes[codes["via"] == "heading"]
    parts = [codes.drop(columns=["role", "heading_hits"])]
    if theme in (None, NONE_THEME) and via != "heading":
        uncoded = s[~_isin(s["sent_id"], coded)]
        parts.append(pd.DataFrame({"doc_id": uncoded["doc_id"], "sent_id": uncoded["sent_id"],
                                   "section_id": uncoded["section_id"], "theme": NONE_THEME, "via": "", "hits": 0,
                                   "terms": "", "heading_terms": "", "text": uncoded["text"].astype(str),
                                   "raw_start": uncoded["raw_start"].astype("int64"),
                                   "raw_end": uncoded["raw_end"].astype("int64")}))
    rows = pd.concat(parts, ignore_index=True)
    titles = dict(zip(corpus.sections["section_id"].astype(str), corpus.sections["title"].fillna("").astype(str)))
    # as text even when no sentence has a titled section (the mapped column is then all NaN, float64)
    rows = rows.assign(section=rows["section_id"].map(titles).astype(object).fillna("").astype(str))
    rows = rows.merge(s[["sent_id", "part"]], on="sent_id", how="left").merge(
        docs[["doc_id", "place", "doc_type", "source_file"]].astype({"doc_id": str}), on="doc_id", how="left")
    trank = {t.name: i for i, t in enumerate(th)} | {NONE_THEME: len(th)}
    rows = (rows.assign(_s=pd.Index(s["sent_id"]).get_indexer(rows["sent_id"]), _t=rows["theme"].map(trank))
            .sort_values(["_s", "_t"], kind="stable"))
    return rows[["doc_id", "place", "doc_type", "part", "section", "sent_id", "theme", "via", "hits", "terms",
                 "heading_terms", "text", "source_file", "raw_start", "raw_end"]].reset_index(drop=True)


def top_themes(scores: pd.DataFrame, *, n: int = 3) -> pd.DataFrame:
    """One row per unit of a :func:`score_themes` table: its ``n`` largest themes and their shares, in unit order.

    Columns: ``doc_id``, ``unit_id``, ``place``, ``doc_type``, ``n_sentences``, ``top_themes`` and ``shares``
    (joined with " · "; ties keep dictionary order; themes no sentence carries are left out) and ``none_share``.

    >>> s = pd.DataFrame({"doc_id": "a", "unit_id": "a", "place": "甲镇", "doc_type": "plan", "n_sentences": 10,
    ...                   "theme": ["党建", "安全生产", "(none)"], "share": [0.2, 0.5, 0.3]})
    >>> top_themes(s).loc[0, ["top_themes", "shares"]].tolist()
    ['安全生产 · 党建', '50% · 20%']
    """
    check_count(n, "n is how many themes to list per unit, 1 or more")
    need = {"doc_id", "unit_id", "theme", "share", "n_sentences"}
    missing = sorted(need - set(scores.columns))
    if missing:
        raise ValueError(f"scores lack column(s) {', '.join(missing)}; pass a table from score_themes()")
    # whole-table operations: a pandas call per unit takes minutes for ten thousand documents
    unit = scores.groupby("unit_id", sort=False).ngroup().to_numpy()
    first = scores.drop_duplicates("unit_id")
    ranked = scores.assign(_u=unit, _row=np.arange(len(scores)))
    ranked = ranked[(ranked["theme"] != NONE_THEME) & (ranked["share"] > 0)]
    ranked = ranked.sort_values(["_u", "share", "_row"], ascending=[True, False, True]).groupby("_u").head(n)
    joined = ranked.assign(_pct=[f"{v:.0%}" for v in ranked["share"]]).groupby("_u").agg(
        top_themes=("theme", " · ".join), shares=("_pct", " · ".join))
    none = scores[scores["theme"] == NONE_THEME].drop_duplicates("unit_id").set_index("unit_id")["share"]
    at = np.arange(len(first))
    blank = [""] * len(first)
    return pd.DataFrame({
        "doc_id": first["doc_id"].to_numpy(), "unit_id": first["unit_id"].to_numpy(),
        "place": first["place"].to_numpy() if "place" in first else blank,
        "doc_type": first["doc_type"].to_numpy() if "doc_type" in first else blank,
        "n_sentences": first["n_sentences"].astype("int64").to_numpy(),
        "top_themes": joined["top_themes"].reindex(at, fill_value="").to_numpy(),
        "shares": joined["shares"].reindex(at, fill_value="").to_numpy(),
        "none_share": none.reindex(first["unit_id"]).astype(float).to_numpy(),
    })


def summarize_themes(scores: pd.DataFrame, *, by: str) -> pd.DataFrame:
    """Pool unit scores by a column: ``by``-value, ``theme``, ``units``, ``hits``, ``sentences``, ``n_sentences``, ``share``.

    The pooled share is the group's coded sentences over its sentences (long documents weigh more than short
    ones). Missing or empty values of ``by`` become ``(unknown)``.

    >>> s = pd.DataFrame({"doc_type": ["plan", "plan"], "theme": ["党建", "党建"], "hits": [3, 1],
    ...                   "sentences": [2, 1], "n_sentences": [10, 10]})
    >>> summarize_themes(s, by="doc_type")[["doc_type", "units", "share"]].values.tolist()
    [['plan', 2, 0.15]]
    """
    if by not in scores.columns:
        raise ValueError(missing_column(by, scores.columns, what="summarize_themes", table="the scores"))
    need = {"theme", "hits", "sentences", "n_sentences"}
    missing = sorted(need - set(scores.columns))
    if missing:
        raise ValueError(f"scores lack column(s) {', '.join(missing)}; pass a table from score_themes()")
    g = scores.assign(**{by: _group_values(scores[by])})
    order = list(pd.unique(scores["theme"]))
    out = (g.groupby([by, "theme"], sort=True, dropna=False)
           .agg(units=("theme", "size"), hits=("hits", "sum"), sentences=("sentences", "sum"),
                n_sentences=("n_sentences", "sum"))
           .reset_index())
    out["share"] = out["sentences"] / out["n_sentences"].where(out["n_sentences"] > 0)
    out["_t"] = out["theme"].map({t: i for i, t in enumerate(order)})
    return out.sort_values([by, "_t"], kind="stable").drop(columns="_t").reset_index(drop=True)


# ---------------------------------------------------------------------------------------------- comparing groups


def _group_values(col: pd.Series) -> pd.Series:
    vals = col.astype(object).where(col.notna(), None)
    return vals.map(lambda v: "(unknown)" if v is None or (isinstance(v, str) and not v.strip()) else v)


def _g2(a: float, n1: float, c: float, n2: float) -> float:
    """Log-likelihood G² of the 2×2 table [[a, n1-a], [c, n2-c]] (0 when a margin is empty)."""
    table = ((a, n1 - a), (c, n2 - c))
    total = n1 + n2
    cols = (a + c, total - a - c)
    rows = (n1, n2)
    if total <= 0 or 0 in cols or 0 in rows:
        return 0.0
    g = 0.0
    for i in range(2):
        for j in range(2):
            o = table[i][j]
            if o > 0:
                g += o * math.log(o / (rows[i] * cols[j] / total))
    return max(2.0 * g, 0.0)


def compare_themes(scores_or_corpus: pd.DataFrame | Corpus, *, by: str, target: Any = None,
                   include_all: bool = False, themes: Sequence[Theme] | str | os.PathLike | None = None,
                   workers: int | None = None) -> pd.DataFrame:
    """Compare each group of a column (or only ``target``) against all other units, theme by theme.

    ``scores_or_corpus`` is a corpus (scored at document level, or by plan/summary part when ``by="part"``, over
    ``workers`` processes as :func:`score_themes` does) or a
    document- or part-level table from :func:`score_themes`, filtered as you like; ``by`` is any of its columns
    (``place``, ``doc_type``, ``part``, ``year``, ``period``, ``province`` …). For each group and theme the
    2×2 table of coded / uncoded sentences in the group vs the rest gives the log-likelihood ``g2`` and its
    ``p_value`` (χ², 1 df), ``q_value`` (Benjamini–Hochberg over the rows returned) and the effect size
    ``log2_ratio`` of the two shares (+0.5 smoothing). Sentences of one document are not independent, so also
    ``p_units``: a Mann–Whitney test of per-unit shares (NaN with fewer than two units on a side).

    Columns: :data:`COMPARE_FIELDS`; ``direction`` is ``more`` or ``less`` (than the rest).

    >>> s = pd.DataFrame({"doc_id": ["a", "b"], "unit": "document", "place": ["甲镇", "乙镇"],
    ...                   "theme": ["安全生产", "安全生产"], "hits": [30, 2], "sentences": [30, 2],
    ...                   "n_sentences": [100, 100]})
    >>> r = compare_themes(s, by="place", target="甲镇").iloc[0]
    >>> r["direction"], round(float(r["g2"]), 2), bool(r["p_value"] < 0.001)
    ('more', 34.09, True)
    """
    from scipy import stats

    if isinstance(scores_or_corpus, pd.DataFrame):
        scores = scores_or_corpus
    else:
        scores = score_themes(scores_or_corpus, unit="part" if by == "part" else "document", include_all=include_all,
                              themes=themes, workers=workers)
    if by not in scores.columns:
        raise ValueError(missing_column(by, scores.columns, what="compare_themes", table="the scores"))
    need = {"theme", "sentences", "n_sentences"}
    missing = sorted(need - set(scores.columns))
    if missing:
        raise ValueError(f"scores lack column(s) {', '.join(missing)}; columns available: "
                         f"{', '.join(map(str, scores.columns))}")
    if "unit" in scores.columns and set(scores["unit"].unique()) & {"sentence", "section"}:
        raise ValueError("compare_themes needs scores where each sentence is counted once: "
                         "score_themes(corpus, unit='document') or unit='part', not sentence or section units")
    s = scores[scores["theme"] != NONE_THEME].assign(_g=_group_values(scores[by]))
    groups = list(pd.unique(s["_g"]))
    if target is not None:
        if target not in groups:
            more = f" and {len(groups) - 30:,} more" if len(groups) > 30 else ""
            raise ValueError(f"no group {target!r} in column {by!r}; groups: {', '.join(map(str, groups[:30]))}{more}")
        groups = [target]
    elif len(groups) < 2:
        raise ValueError(f"column {by!r} has only one value ({groups[0] if groups else 'none'}); nothing to compare")
    themes_order = list(pd.unique(s["theme"]))
    s = s.assign(_share=s["sentences"] / s["n_sentences"].where(s["n_sentences"] > 0))
    rows = []
    for theme in themes_order:
        t = s[s["theme"] == theme]
        sent = t["sentences"].to_numpy(dtype=float)
        n_sent = t["n_sentences"].to_numpy(dtype=float)
        shares = t["_share"].to_numpy(dtype=float)
        total_a, total_n = float(sent.sum()), float(n_sent.sum())
        # each group's rows, found once: a mask per group and theme is quadratic when the groups are documents
        where = t.groupby("_g", sort=False).indices
        for g in groups:
            at = where.get(g)
            if at is None:  # no unit of this group: nothing inside
                continue
            a, n1 = float(sent[at].sum()), float(n_sent[at].sum())
            c, n2 = total_a - a, total_n - n1
            if n1 <= 0 or n2 <= 0:
                continue
            g2 = _g2(a, n1, c, n2)
            share, rest = a / n1, c / n2
            p_units = float("nan")
            u_in = shares[at]
            u_in = u_in[~np.isnan(u_in)]
            if len(u_in) >= 2:  # the rest's shares are needed only then (one unit a group: never)
                outside = np.ones(len(t), dtype=bool)
                outside[at] = False
                u_out = shares[outside]
                u_out = u_out[~np.isnan(u_out)]
                if len(u_out) >= 2:
                    p_units = float(stats.mannwhitneyu(u_in, u_out, alternative="two-sided").pvalue)
            rows.append({"by": by, "group": g, "theme": theme, "units": len(at), "sentences": int(a),
                         "n_sentences": int(n1), "share": share, "rest_units": len(t) - len(at),
                         "rest_sentences": int(c), "rest_n_sentences": int(n2), "rest_share": rest,
                         "log2_ratio": math.log2(((a + 0.5) / (n1 + 1)) / ((c + 0.5) / (n2 + 1))), "g2": g2,
                         "p_value": math.nan, "p_units": p_units,
                         "direction": "more" if share > rest else ("less" if share < rest else "same")})
    out = pd.DataFrame(rows, columns=[c for c in COMPARE_FIELDS if c != "q_value"])
    out["p_value"] = stats.chi2.sf(out["g2"].to_numpy(dtype=float), 1) if len(out) else []
    out["q_value"] = stats.false_discovery_control(out["p_value"].to_numpy()) if len(out) else []
    grank = {g: i for i, g in enumerate(groups)}
    out = out.assign(_g=out["group"].map(grank)).sort_values(["_g", "p_value", "theme"], kind="stable")
    return out[list(COMPARE_FIELDS)].reset_index(drop=True)


# ---------------------------------------------------------------------------------------------- discovery


_NOT_A_WORD_RE = re.compile(r"^[\d.%‰+\-—–~～x×/年月日号个万亿元]+$")


_CONTENT_TAGS = ("n", "vn", "j", "l", "i", "eng")


def _content_words(texts: Sequence[str], groups: Sequence[str], *, workers: int | None = None) -> list[list[str]]:
    """The content words of each text, tokenizing each group (a document) in one call of the project tokenizer.

    Texts of a group are joined with line breaks (jieba never joins across them), so the words are those of
    tokenizing each text alone. Stopwords, single characters and numbers are left out, and so are words jieba's
    dictionary tags as verbs, adverbs, adjectives or function words (推进, 加强, 扎实 …): they run through every
    plan and would make every topic look alike. Policy terms and unknown words (place names, slogans) are kept.
    Groups are shared out over ``workers`` processes above :data:`PARALLEL_MIN_CHARS` characters; the words
    are the same.
    """
    from .parallel import map_chunks, plan_pieces
    from .tokenize import policy_terms, word_tag

    by_group: dict[str, list[int]] = {}
    for i, g in enumerate(groups):
        by_group.setdefault(g, []).append(i)
    members = list(by_group.values())
    lengths = [sum(len(texts[i]) + 1 for i in idx) for idx in members]
    n, bounds = plan_pieces(lengths, workers=workers, parallel_min=PARALLEL_MIN_CHARS, serial_piece=1_000_000)
    if n > 1:
        policy_terms(), word_tag("工作")  # loaded here, once, for the forked workers to share
    out: list[list[str]] = [[] for _ in texts]
    seen: dict[str, str] = {}  # one string per distinct word, however many pieces it comes back in
    pieces = ([[texts[i] for i in idx] for idx in members[a:b]] for a, b in bounds)
    for (a, b), got in zip(bounds, map_chunks(_group_content_words, pieces, workers=n)):
        for idx, words in zip(members[a:b], got):
            for i, ws in zip(idx, words):
                out[i] = ws if n == 1 else [seen.setdefault(w, w) for w in ws]
    return out


def _group_content_words(groups: list[list[str]]) -> list[list[list[str]]]:
    """For each group's texts, each text's content words (see :func:`_content_words`)."""
    from bisect import bisect_right

    from .tokenize import policy_terms, word_spans_of, word_tag

    keep = set(policy_terms())

    @lru_cache(maxsize=None)  # each distinct word of the piece is judged once
    def content(w: str) -> bool:
        tag = word_tag(w)
        return (len(w) >= 2 and not _NOT_A_WORD_RE.match(w)
                and (w in keep or tag is None or tag[1].startswith(_CONTENT_TAGS)))

    def joined(texts: list[str]) -> str:
        return "\n".join(text.replace("\n", " ") for text in texts)

    out = []
    # each group's texts joined by line breaks, segmented; each word goes back to the text it starts in
    for texts, spans in zip(groups, word_spans_of((joined(texts) for texts in groups), drop_stopwords=True)):
        words: list[list[str]] = [[] for _ in texts]
        starts, pos = [], 0
        for text in texts:
            starts.append(pos)
            pos += len(text) + 1
        for w, start, _ in spans:
            if content(w):
                words[bisect_right(starts, start) - 1].append(w)
        out.append(words)
    return out


def _given_words(words: list[str]) -> list[str]:
    """TF-IDF analyzer for units already tokenized by :func:`_content_words`."""
    return words


def discover_topics(corpus: "Corpus | str | Mapping[str, str]", *, n_topics: int = 8,
                    unit: Literal["sentence", "section"] = "sentence",
                    random_state: int = 0, include_all: bool = False, n_terms: int = 10, n_examples: int = 3,
                    themes: Sequence[Theme] | str | os.PathLike | None = None,
                    workers: int | None = None) -> pd.DataFrame:
    """Find topics the dictionary may miss: TF-IDF + NMF over sentences or sections, with coverage per topic.

    Sentences are coded, and words come from the project tokenizer run once per document, over ``workers``
    processes on a large corpus
    (content words only: stopwords, verbs, adverbs, single characters and numbers left out); TF-IDF keeps words
    in at least 2 units and at most half. NMF is deterministic (``init="nndsvda"``, fixed ``random_state``).
    Each unit belongs to its strongest topic. Columns (:data:`TOPIC_FIELDS`): ``topic`` (1 =
    largest), ``top_terms`` (joined with 、), ``units``, ``unit_share``, ``coverage`` (share of the topic's
    sentences whose own text the dictionary codes), ``main_theme`` and ``main_theme_share`` (the dictionary theme
    coding most of them), ``missed`` (coverage below one half: the dictionary does not see this topic),
    ``examples`` (the most typical units, joined with " | ") and ``example_ids``.

    >>> from plan_analysis import load_corpus
    >>> c = load_corpus(["data/raw/001_64b46b310826ad2c.txt"], cache=False, progress=False)
    >>> t = discover_topics(c, n_topics=2)
    >>> len(t), int(t["units"].sum()) <= 26
    (2, True)
    """
    corpus = as_corpus(corpus, what="discover_topics")
    from sklearn.decomposition import NMF
    from sklearn.feature_extraction.text import TfidfVectorizer
    import numpy as np

    if unit not in ("sentence", "section"):
        raise ValueError(f"unit must be 'sentence' or 'section', not {unit!r}")
    if n_topics < 1:
        raise ValueError(f"n_topics must be at least 1, not {n_topics}")
    if n_terms < 1 or n_examples < 0:
        raise ValueError(f"need n_terms of 1 or more and n_examples of 0 or more, got n_terms={n_terms}, "
                         f"n_examples={n_examples}")
    th = _themes(themes)
    docs, s, codes = _selected(corpus, include_all, th, False, columns=("section_id", "text"), parts=False,
                               fields=("sent_id", "theme", "hits"), workers=workers)
    by_text = codes[codes["hits"] > 0]
    coded_sents = set(by_text["sent_id"])
    if unit == "sentence":
        ids = s["sent_id"].tolist()
        texts = s["text"].astype(str).tolist()
        unit_docs = s["doc_id"].tolist()
        unit_sents = [[i] for i in ids]
    else:
        key = s["section_id"].where(s["section_id"] != "", s["doc_id"] + "/s0")
        grouped = s.assign(_k=key).groupby("_k", sort=False)
        ids = list(grouped.groups.keys())
        texts = ["".join(grouped.get_group(k)["text"].astype(str)) for k in ids]
        unit_docs = [str(grouped.get_group(k)["doc_id"].iloc[0]) for k in ids]
        unit_sents = [grouped.get_group(k)["sent_id"].tolist() for k in ids]
    if len(texts) < max(n_topics, 2):
        raise ValueError(f"only {len(texts)} {unit}s to model; need at least {max(n_topics, 2)} "
                         "(lower n_topics, or use unit='sentence' / include_all=True)")
    vec = TfidfVectorizer(analyzer=_given_words, min_df=2, max_df=0.5, sublinear_tf=True)
    words = _content_words(texts, unit_docs, workers=workers)
    try:  # only the vectorizer's own complaint (no terms left) is this one
        X = vec.fit_transform(words)
    except ValueError as exc:
        raise ValueError(f"no words left to model after filtering ({exc}); add documents or use unit='sentence'") from None
    if X.shape[1] < n_topics:
        raise ValueError(f"only {X.shape[1]} distinct words occur in two or more {unit}s; lower n_topics below that")
    model = NMF(n_components=n_topics, init="nndsvda", random_state=random_state, max_iter=1000)
    W = model.fit_transform(X)
    H = model.components_
    vocab = np.array(vec.get_feature_names_out())
    best = W.argmax(axis=1)
    has = W.max(axis=1) > 0
    sizes = [int(((best == k) & has).sum()) for k in range(n_topics)]
    order = sorted(range(n_topics), key=lambda k: (-sizes[k], k))
    theme_of: dict[str, list[str]] = {}  # a loop, not a groupby-apply: that took 13 s for half a million sentences
    for sid, name in zip(by_text["sent_id"].tolist(), by_text["theme"].tolist()):
        theme_of.setdefault(sid, []).append(name)
    rows = []
    for rank, k in enumerate(order, start=1):
        idx = np.lexsort((np.arange(len(vocab)), -H[k]))[:n_terms]
        members = np.flatnonzero((best == k) & has)
        sents = [sid for m in members for sid in unit_sents[m]]
        coverage = (sum(1 for sid in sents if sid in coded_sents) / len(sents)) if sents else float("nan")
        counts: dict[str, int] = {}
        for sid in sents:
            for name in theme_of.get(sid, []):
                counts[name] = counts.get(name, 0) + 1
        main = min(counts, key=lambda n: (-counts[n], [t.name for t in th].index(n))) if counts else ""
        typical = members[np.lexsort((members, -W[members, k]))] if len(members) else members
        ex_texts, ex_ids, seen = [], [], set()
        for m in typical:
            if texts[m] in seen:
                continue
            seen.add(texts[m])
            ex_texts.append(texts[m] if len(texts[m]) <= 160 else texts[m][:159] + "…")
            ex_ids.append(ids[m])
            if len(ex_texts) >= n_examples:
                break
        rows.append({"topic": rank, "top_terms": "、".join(vocab[idx]), "units": len(members),
                     "unit_share": len(members) / len(texts), "coverage": coverage, "main_theme": main,
                     "main_theme_share": (counts[main] / len(sents)) if main else 0.0,
                     "missed": bool(not sents or coverage < 0.5),
                     "examples": " | ".join(ex_texts), "example_ids": " ".join(ex_ids)})
    log.info("NMF: %d topics over %d %ss and %d words", n_topics, len(texts), unit, X.shape[1])
    return pd.DataFrame(rows, columns=list(TOPIC_FIELDS))
