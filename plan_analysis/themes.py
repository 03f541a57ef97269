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
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Literal, Sequence

import pandas as pd

from .lexicons import LexiconError, lexicon_dir

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
        alts = [re.escape(t) for t in sorted(set(self.terms), key=lambda t: (-len(t), t))]
        alts += [f"(?:{p})" for p in self.patterns]
        return re.compile("|".join(alts))

    @cached_property
    def exclude_regex(self) -> re.Pattern[str] | None:
        """The ``exclude`` strings (longest first) as one alternation, or ``None``."""
        if not self.exclude:
            return None
        return re.compile("|".join(re.escape(t) for t in sorted(set(self.exclude), key=lambda t: (-len(t), t))))

    def finditer(self, text: str):
        """Non-overlapping matches in ``text`` after blanking the ``exclude`` strings (offsets are kept)."""
        if self.exclude_regex is not None:
            text = self.exclude_regex.sub(lambda m: _MASK * len(m.group()), text)
        return self.regex.finditer(text)


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

    rows = read_table(path, columns={"theme": "str", "kind": "str", "value": "str", "note": "str?"})
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


def _ancestors(sections: pd.DataFrame) -> dict[str, list[str]]:
    """section_id → [itself, parent, grandparent, …]."""
    parent = dict(zip(sections["section_id"].astype(str), sections["parent_id"].fillna("").astype(str)))
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


def _code_chunk(args: tuple[list[str], tuple[Theme, ...]]) -> list[dict[str, list[str]]]:
    texts, themes = args
    return [_code(text, themes) for text in texts]


def _code_many(texts: pd.Series, themes: tuple[Theme, ...],
               workers: int | None) -> Iterator[tuple[int, int, list[dict[str, list[str]]]]]:
    """Yield ``(start, end, [_code(t, themes) for t in texts[start:end]])`` for consecutive pieces, in order.

    Pieces of about a million characters (smaller when shared out over processes, which happens when the texts
    are longer than :data:`PARALLEL_MIN_CHARS`); each piece's strings are made only when a worker is ready for
    them, so callers can turn each piece into rows before the next and memory holds a few pieces at a time.
    """
    from .parallel import map_chunks, plan_pieces

    lengths = texts.fillna("").astype(str).str.len().astype("int64").tolist() if len(texts) else []
    n, bounds = plan_pieces(lengths, workers=workers, parallel_min=PARALLEL_MIN_CHARS, serial_piece=1_000_000)
    pieces = ((texts.iloc[a:b].fillna("").astype(str).tolist(), themes) for a, b in bounds)
    for (a, b), codes in zip(bounds, map_chunks(_code_chunk, pieces, workers=n)):
        yield a, b, codes


def code_sentences(corpus: Corpus, *, themes: Sequence[Theme] | str | os.PathLike | None = None,
                   headings: bool = True, workers: int | None = None) -> pd.DataFrame:
    """Code every sentence of ``corpus``: one row per (sentence, theme) it is coded with.

    Columns (:data:`CODE_FIELDS`): ``doc_id``, ``sent_id``, ``section_id``, ``role``, ``theme``, ``hits`` (matches in
    the sentence's own text), ``terms`` (those matches, joined with 、), ``heading_hits`` and ``heading_terms``
    (matches in the titles of the sections containing the sentence: its own section and all ancestors; a heading
    sentence does not inherit from its own title, which is its text), ``via`` (``text``, ``heading`` or
    ``text+heading``), ``text``, ``raw_start``, ``raw_end``. A sentence is coded when ``hits + heading_hits > 0``.
    Every document is coded; the scoring functions choose which count. With ``headings=False`` only the
    sentence's own text counts. Sentences are shared out over ``workers`` processes (default: the CPUs available)
    when there are more than :data:`PARALLEL_MIN_CHARS` characters of them; the result is the same.

    >>> from plan_analysis import load_corpus
    >>> c = load_corpus(["data/raw/001_64b46b310826ad2c.txt"], cache=False, progress=False)
    >>> rows = code_sentences(c)
    >>> rows.loc[rows["text"].str.startswith("二是夯实安全监管责任"), ["theme", "via"]].values.tolist()
    [['安全生产', 'text'], ['平安稳定与信访', 'heading']]
    """
    return _code_table(corpus, _themes(themes), headings=headings, workers=workers, with_text=True)


def _code_table(corpus: Corpus, th: tuple[Theme, ...], *, headings: bool, workers: int | None,
                with_text: bool) -> pd.DataFrame:
    """:func:`code_sentences` (``with_text=False``: the ``text`` column left empty, for scoring)."""
    sents = corpus.sentences
    sections = corpus.sections
    title_codes: dict[str, dict[str, list[str]]] = {}
    chains: dict[str, list[str]] = {}
    if headings and len(sections):
        title_codes = {sid: _code(str(title), th)
                       for sid, title in zip(sections["section_id"].astype(str), sections["title"].fillna(""))}
        chains = _ancestors(sections)
    order = [t.name for t in th]
    parts = []
    for lo, hi, codes in _code_many(sents["text"], th, workers):  # a piece at a time: rows never pile up
        piece = sents.iloc[lo:hi]
        doc_ids, sent_ids = piece["doc_id"].astype(str).tolist(), piece["sent_id"].astype(str).tolist()
        sids, roles = piece["section_id"].fillna("").astype(str).tolist(), piece["role"].astype(str).tolist()
        texts = piece["text"].fillna("").astype(str).tolist() if with_text else [""] * len(piece)
        raw_starts, raw_ends = piece["raw_start"].astype("int64").tolist(), piece["raw_end"].astype("int64").tolist()
        rows: list[tuple] = []
        for k, own in enumerate(codes):
            sid, role = sids[k], roles[k]
            inherited: dict[str, list[str]] = {}
            for anc in chains.get(sid, []):
                if role == "heading" and anc == sid:
                    continue
                for name, found in title_codes.get(anc, {}).items():
                    inherited.setdefault(name, []).extend(found)
            for name in order:
                a, b = own.get(name, []), inherited.get(name, [])
                if not a and not b:
                    continue
                via = "text+heading" if a and b else ("text" if a else "heading")
                rows.append((doc_ids[k], sent_ids[k], sid, role, name, len(a), "、".join(a), len(b), "、".join(b), via,
                             texts[k], raw_starts[k], raw_ends[k]))
        if rows:
            parts.append(pd.DataFrame(rows, columns=list(CODE_FIELDS)))
    df = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame([], columns=list(CODE_FIELDS))
    for c in ("hits", "heading_hits", "raw_start", "raw_end"):
        df[c] = df[c].astype("int64")
    log.info("coded %d sentences: %d sentence-theme rows", len(sents), len(df))
    return df


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


def sentence_parts(corpus: Corpus) -> pd.Series:
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
    sections = corpus.sections
    titles = dict(zip(sections["section_id"].astype(str), sections["title"].fillna("").astype(str)))
    starts = dict(zip(sections["section_id"].astype(str), sections["start"].astype("int64")))
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
    types = dict(zip(corpus.documents["doc_id"].astype(str), corpus.documents["doc_type"].fillna("").astype(str)))
    out = []
    s = corpus.sentences
    for doc_id, sid, start in zip(s["doc_id"].astype(str), s["section_id"].fillna("").astype(str),
                                  s["start"].astype("int64")):
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


def _selected(corpus: Corpus, include_all: bool, themes, headings: bool, *, with_text: bool = True):
    """Selected documents, their scored sentences (titles left out) and the coding of those sentences."""
    docs = _documents(corpus, include_all)
    ids = set(docs["doc_id"].astype(str))
    s = corpus.sentences
    keep = s["doc_id"].astype(str).isin(ids) & (s["role"].astype(str) != "title")
    s = s.loc[keep, [c for c in s.columns if with_text or c != "text"]].copy()
    s["doc_id"] = s["doc_id"].astype(str)
    s["sent_id"] = s["sent_id"].astype(str)
    s["section_id"] = s["section_id"].fillna("").astype(str)
    parts = sentence_parts(corpus)
    s["part"] = parts.reindex(s["sent_id"]).to_numpy()
    codes = _code_table(corpus, _themes(themes), headings=headings, workers=None, with_text=with_text)
    codes = codes[codes["sent_id"].isin(set(s["sent_id"]))]
    return docs, s.reset_index(drop=True), codes


def _membership(unit: str, s: pd.DataFrame, corpus: Corpus) -> pd.DataFrame:
    """(unit_id, sent_id, label, part) rows: which sentences make up each unit."""
    if unit == "document":
        return pd.DataFrame({"unit_id": s["doc_id"], "sent_id": s["sent_id"], "label": "", "part": ""})
    if unit == "part":
        return pd.DataFrame({"unit_id": s["doc_id"] + "#" + s["part"], "sent_id": s["sent_id"], "label": s["part"],
                             "part": s["part"]})
    if unit == "sentence":
        return pd.DataFrame({"unit_id": s["sent_id"], "sent_id": s["sent_id"], "label": s["text"].astype(str),
                             "part": s["part"]})
    sections = corpus.sections
    chains = _ancestors(sections)
    titles = dict(zip(sections["section_id"].astype(str), sections["title"].fillna("").astype(str)))
    top_part: dict[str, str] = {}
    rows_u, rows_s, rows_l, rows_p = [], [], [], []
    for doc_id, sent_id, sid, part in zip(s["doc_id"], s["sent_id"], s["section_id"], s["part"]):
        members = chains.get(sid, []) if sid else [f"{doc_id}/s0"]
        for m in members:
            rows_u.append(m)
            rows_s.append(sent_id)
            rows_l.append(titles.get(m, "(before the first heading)"))
            top_part.setdefault(m, part)
            rows_p.append(top_part[m])
    return pd.DataFrame({"unit_id": rows_u, "sent_id": rows_s, "label": rows_l, "part": rows_p})


def score_themes(corpus: Corpus, *, unit: Unit = "document", include_all: bool = False,
                 themes: Sequence[Theme] | str | os.PathLike | None = None, headings: bool = True) -> pd.DataFrame:
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

    >>> from plan_analysis import load_corpus
    >>> c = load_corpus(["data/raw/001_64b46b310826ad2c.txt"], cache=False, progress=False)
    >>> doc = score_themes(c).set_index("theme")
    >>> doc.loc["安全生产", ["hits", "sentences", "n_sentences"]].tolist()
    [11, 2, 26]
    """
    if unit not in ("sentence", "section", "part", "document"):
        raise ValueError(f"unit must be 'sentence', 'section', 'part' or 'document', not {unit!r}")
    th = _themes(themes)
    names = [t.name for t in th]
    docs, s, codes = _selected(corpus, include_all, th, headings, with_text=unit == "sentence")
    members = _membership(unit, s, corpus)
    members = members.merge(s[["sent_id", "doc_id"]], on="sent_id", how="left")
    if unit == "sentence":
        coded = codes[["sent_id", "theme", "hits"]].assign(sentences=1)
        df = members.merge(coded, on="sent_id", how="left")
        df["theme"] = df["theme"].fillna(NONE_THEME)
        df["hits"] = df["hits"].fillna(0).astype("int64")
        df["sentences"] = 1
        df["n_sentences"] = 1
    else:
        n = members.groupby("unit_id", sort=False).agg(doc_id=("doc_id", "first"), label=("label", "first"),
                                                       part=("part", "first"), n_sentences=("sent_id", "size"))
        hit = members.merge(codes[["sent_id", "theme", "hits"]], on="sent_id")
        agg = hit.groupby(["unit_id", "theme"], sort=False).agg(hits=("hits", "sum"), sentences=("sent_id", "nunique"))
        grid = pd.MultiIndex.from_product([n.index, names], names=["unit_id", "theme"])
        agg = agg.reindex(grid, fill_value=0).reset_index()
        any_coded = set(codes["sent_id"])
        none = (members.assign(uncoded=~members["sent_id"].isin(any_coded))
                .groupby("unit_id", sort=False)["uncoded"].sum().astype("int64"))
        none_rows = pd.DataFrame({"unit_id": none.index, "theme": NONE_THEME, "hits": none.to_numpy(),
                                  "sentences": none.to_numpy()})
        df = pd.concat([agg, none_rows], ignore_index=True).merge(n.reset_index(), on="unit_id", how="left")
    df["share"] = df["sentences"] / df["n_sentences"].where(df["n_sentences"] > 0)
    df["unit"] = unit
    doc_cols = docs[["doc_id", *DOC_FIELDS]].astype({"doc_id": str})
    df = df.merge(doc_cols, on="doc_id", how="left")
    # stable order: documents as in the corpus, units as met, themes in dictionary order, (none) last
    doc_rank = {d: i for i, d in enumerate(docs["doc_id"].astype(str))}
    unit_rank = {u: i for i, u in enumerate(pd.unique(members["unit_id"]))}
    theme_rank = {t: i for i, t in enumerate([*names, NONE_THEME])}
    df = (df.assign(_d=df["doc_id"].map(doc_rank), _u=df["unit_id"].map(unit_rank), _t=df["theme"].map(theme_rank))
          .sort_values(["_d", "_u", "_t"], kind="stable").drop(columns=["_d", "_u", "_t"]))
    for c in ("hits", "sentences", "n_sentences"):
        df[c] = df[c].astype("int64")
    df["part"] = df["part"].fillna("").astype(str) if unit != "document" else ""
    return df[list(SCORE_FIELDS)].reset_index(drop=True)


def document_themes(corpus: Corpus, *, include_all: bool = False,
                    themes: Sequence[Theme] | str | os.PathLike | None = None) -> pd.DataFrame:
    """Document-level theme scores in exactly :data:`THEME_FIELDS`, with a ``(none)`` row per document.

    ``hits`` counts dictionary matches, ``share`` the share of the document's sentences coded with the theme (its
    own text or a heading above it). In the ``(none)`` row, ``hits`` is the number of sentences no theme codes and
    ``share`` their share: the lexicon's blind spot in that document.

    >>> from plan_analysis import load_corpus
    >>> c = load_corpus(["data/raw/001_64b46b310826ad2c.txt"], cache=False, progress=False)
    >>> t = document_themes(c)
    >>> list(t.columns), t["theme"].iloc[-1]
    (['doc_id', 'source_file', 'place', 'theme', 'hits', 'share'], '(none)')
    """
    return score_themes(corpus, unit="document", include_all=include_all, themes=themes)[list(THEME_FIELDS)]


def theme_coverage(corpus: Corpus, *, include_all: bool = False,
                   themes: Sequence[Theme] | str | os.PathLike | None = None) -> pd.DataFrame:
    """Lexicon coverage per document: how many sentences the dictionary codes, with and without heading inheritance.

    Columns: ``doc_id``, ``source_file``, ``place``, ``doc_type``, ``n_sentences``, ``coded`` (by text or heading),
    ``uncoded``, ``uncoded_share``, ``coded_text`` (by the sentence's own text), ``uncoded_text_share``.

    >>> from plan_analysis import load_corpus
    >>> c = load_corpus(["data/raw/001_64b46b310826ad2c.txt"], cache=False, progress=False)
    >>> theme_coverage(c)[["n_sentences", "coded", "uncoded"]].values.tolist()
    [[26, 26, 0]]
    """
    th = _themes(themes)
    docs, s, codes = _selected(corpus, include_all, th, True)
    by_text = set(codes.loc[codes["hits"] > 0, "sent_id"])
    any_code = set(codes["sent_id"])
    g = s.assign(coded=s["sent_id"].isin(any_code), coded_text=s["sent_id"].isin(by_text)).groupby("doc_id", sort=False)
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


def theme_sentences(corpus: Corpus, *, theme: str | None = None, doc_id: str | None = None,
                    include_all: bool = False, themes: Sequence[Theme] | str | os.PathLike | None = None,
                    via: Literal["any", "text", "heading"] = "any") -> pd.DataFrame:
    """The sentences behind the numbers: every coded (sentence, theme), filtered by theme and/or document.

    ``theme="(none)"`` lists the sentences no theme codes. ``via="text"`` keeps sentences whose own text matches,
    ``"heading"`` those coded only through a heading. Columns: ``doc_id``, ``place``, ``doc_type``, ``part``,
    ``section`` (title of the sentence's section), ``sent_id``, ``theme``, ``via``, ``hits``, ``terms``,
    ``heading_terms``, ``text``, ``source_file``, ``raw_start``, ``raw_end``.

    >>> from plan_analysis import load_corpus
    >>> c = load_corpus(["data/raw/001_64b46b310826ad2c.txt"], cache=False, progress=False)
    >>> theme_sentences(c, theme="安全生产", via="text")["terms"].tolist()
    ['应急', '安全监管、安委会、安全生产、事故、事故、安全生产、消防、安全隐患、安全监管、事故']
    """
    th = _themes(themes)
    names = {t.name for t in th} | {NONE_THEME}
    if theme is not None and theme not in names:
        raise ValueError(f"no theme {theme!r}; themes: {', '.join(t.name for t in th)}, {NONE_THEME}")
    if via not in ("any", "text", "heading"):
        raise ValueError(f"via must be 'any', 'text' or 'heading', not {via!r}")
    docs, s, codes = _selected(corpus, include_all, th, True)
    if doc_id is not None and doc_id not in set(docs["doc_id"].astype(str)):
        raise ValueError(f"no document {doc_id!r} among the selected documents"
                         f"{'' if include_all else ' (local plans only; pass include_all=True for every document)'}")
    uncoded = s[~s["sent_id"].isin(set(codes["sent_id"]))]
    none = pd.DataFrame({"doc_id": uncoded["doc_id"], "sent_id": uncoded["sent_id"],
                         "section_id": uncoded["section_id"], "theme": NONE_THEME, "via": "", "hits": 0,
                         "terms": "", "heading_terms": "", "text": uncoded["text"].astype(str),
                         "raw_start": uncoded["raw_start"].astype("int64"),
                         "raw_end": uncoded["raw_end"].astype("int64")})
    rows = pd.concat([codes.drop(columns=["role", "heading_hits"]), none], ignore_index=True)
    if theme is not None:
        rows = rows[rows["theme"] == theme]
    if doc_id is not None:
        rows = rows[rows["doc_id"] == doc_id]
    if via == "text":
        rows = rows[rows["via"].isin(["text", "text+heading"]) | (rows["theme"] == NONE_THEME)]
    elif via == "heading":
        rows = rows[rows["via"] == "heading"]
    titles = dict(zip(corpus.sections["section_id"].astype(str), corpus.sections["title"].fillna("").astype(str)))
    rows = rows.assign(section=rows["section_id"].map(titles).fillna(""))
    rows = rows.merge(s[["sent_id", "part"]], on="sent_id", how="left").merge(
        docs[["doc_id", "place", "doc_type", "source_file"]].astype({"doc_id": str}), on="doc_id", how="left")
    rank = {sid: i for i, sid in enumerate(s["sent_id"])}
    trank = {t.name: i for i, t in enumerate(th)} | {NONE_THEME: len(th)}
    rows = (rows.assign(_s=rows["sent_id"].map(rank), _t=rows["theme"].map(trank))
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
    need = {"doc_id", "unit_id", "theme", "share", "n_sentences"}
    missing = sorted(need - set(scores.columns))
    if missing:
        raise ValueError(f"scores lack column(s) {', '.join(missing)}; pass a table from score_themes()")
    rows = []
    for unit_id, g in scores.groupby("unit_id", sort=False):
        themes_ = g[(g["theme"] != NONE_THEME) & (g["share"] > 0)].sort_values("share", ascending=False,
                                                                               kind="stable").head(n)
        none = g.loc[g["theme"] == NONE_THEME, "share"]
        first = g.iloc[0]
        rows.append({"doc_id": first["doc_id"], "unit_id": unit_id, "place": first.get("place", ""),
                     "doc_type": first.get("doc_type", ""), "n_sentences": int(first["n_sentences"]),
                     "top_themes": " · ".join(themes_["theme"]),
                     "shares": " · ".join(f"{v:.0%}" for v in themes_["share"]),
                     "none_share": float(none.iloc[0]) if len(none) else float("nan")})
    return pd.DataFrame(rows, columns=["doc_id", "unit_id", "place", "doc_type", "n_sentences", "top_themes", "shares",
                                       "none_share"])


def summarize_themes(scores: pd.DataFrame, *, by: str) -> pd.DataFrame:
    """Pool unit scores by a column: ``by``-value, ``theme``, ``units``, ``hits``, ``sentences``, ``n_sentences``, ``share``.

    The pooled share is the group's coded sentences over its sentences (long documents weigh more than short
    ones). Missing or empty values of ``by`` become ``(unknown)``.

    >>> s = pd.DataFrame({"doc_type": ["plan", "plan"], "theme": ["党建", "党建"], "hits": [3, 1],
    ...                   "sentences": [2, 1], "n_sentences": [10, 10]})
    >>> summarize_themes(s, by="doc_type")[["doc_type", "units", "share"]].values.tolist()
    [['plan', 2, 0.15]]
    """
    need = {"theme", "hits", "sentences", "n_sentences", by}
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
                   include_all: bool = False, themes: Sequence[Theme] | str | os.PathLike | None = None) -> pd.DataFrame:
    """Compare each group of a column (or only ``target``) against all other units, theme by theme.

    ``scores_or_corpus`` is a corpus (scored at document level, or by plan/summary part when ``by="part"``) or a
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
                              themes=themes)
    need = {"theme", "sentences", "n_sentences", by}
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
            raise ValueError(f"no group {target!r} in column {by!r}; groups: {', '.join(map(str, groups))}")
        groups = [target]
    elif len(groups) < 2:
        raise ValueError(f"column {by!r} has only one value ({groups[0] if groups else 'none'}); nothing to compare")
    themes_order = list(pd.unique(s["theme"]))
    s = s.assign(_share=s["sentences"] / s["n_sentences"].where(s["n_sentences"] > 0))
    rows = []
    for theme in themes_order:
        t = s[s["theme"] == theme]
        total_a, total_n = float(t["sentences"].sum()), float(t["n_sentences"].sum())
        for g in groups:
            inside = t["_g"] == g
            a, n1 = float(t.loc[inside, "sentences"].sum()), float(t.loc[inside, "n_sentences"].sum())
            c, n2 = total_a - a, total_n - n1
            if n1 <= 0 or n2 <= 0:
                continue
            g2 = _g2(a, n1, c, n2)
            share, rest = a / n1, c / n2
            u_in = t.loc[inside, "_share"].dropna().to_numpy()
            u_out = t.loc[~inside, "_share"].dropna().to_numpy()
            p_units = float("nan")
            if len(u_in) >= 2 and len(u_out) >= 2:
                p_units = float(stats.mannwhitneyu(u_in, u_out, alternative="two-sided").pvalue)
            rows.append({"by": by, "group": g, "theme": theme, "units": int(inside.sum()), "sentences": int(a),
                         "n_sentences": int(n1), "share": share, "rest_units": int((~inside).sum()),
                         "rest_sentences": int(c), "rest_n_sentences": int(n2), "rest_share": rest,
                         "log2_ratio": math.log2(((a + 0.5) / (n1 + 1)) / ((c + 0.5) / (n2 + 1))), "g2": g2,
                         "p_value": float(stats.chi2.sf(g2, 1)), "p_units": p_units,
                         "direction": "more" if share > rest else ("less" if share < rest else "same")})
    out = pd.DataFrame(rows, columns=[c for c in COMPARE_FIELDS if c != "q_value"])
    out["q_value"] = stats.false_discovery_control(out["p_value"].to_numpy()) if len(out) else []
    grank = {g: i for i, g in enumerate(groups)}
    out = out.assign(_g=out["group"].map(grank)).sort_values(["_g", "p_value", "theme"], kind="stable")
    return out[list(COMPARE_FIELDS)].reset_index(drop=True)


# ---------------------------------------------------------------------------------------------- discovery


_NOT_A_WORD_RE = re.compile(r"^[\d.%‰+\-—–~～x×/年月日号个万亿元]+$")


_CONTENT_TAGS = ("n", "vn", "j", "l", "i", "eng")


def _content_words(texts: Sequence[str], groups: Sequence[str]) -> list[list[str]]:
    """The content words of each text, tokenizing each group (a document) in one call of the project tokenizer.

    Texts of a group are joined with line breaks (jieba never joins across them), so the words are those of
    tokenizing each text alone. Stopwords, single characters and numbers are left out, and so are words jieba's
    dictionary tags as verbs, adverbs, adjectives or function words (推进, 加强, 扎实 …): they run through every
    plan and would make every topic look alike. Policy terms and unknown words (place names, slogans) are kept.
    """
    from bisect import bisect_right

    from .tokenize import policy_terms, tokenize, word_tag

    keep = set(policy_terms())
    out: list[list[str]] = [[] for _ in texts]
    by_group: dict[str, list[int]] = {}
    for i, g in enumerate(groups):
        by_group.setdefault(g, []).append(i)
    for idx in by_group.values():
        starts, pos = [], 0
        for i in idx:
            starts.append(pos)
            pos += len(texts[i]) + 1
        joined = "\n".join(texts[i].replace("\n", " ") for i in idx)
        for t in tokenize(joined, drop_stopwords=True):
            w = t.word
            if len(w) < 2 or _NOT_A_WORD_RE.match(w):
                continue
            tag = word_tag(w)
            if w in keep or tag is None or tag[1].startswith(_CONTENT_TAGS):
                out[idx[bisect_right(starts, t.start) - 1]].append(w)
    return out


def _given_words(words: list[str]) -> list[str]:
    """TF-IDF analyzer for units already tokenized by :func:`_content_words`."""
    return words


def discover_topics(corpus: Corpus, *, n_topics: int = 8, unit: Literal["sentence", "section"] = "sentence",
                    random_state: int = 0, include_all: bool = False, n_terms: int = 10, n_examples: int = 3,
                    themes: Sequence[Theme] | str | os.PathLike | None = None) -> pd.DataFrame:
    """Find topics the dictionary may miss: TF-IDF + NMF over sentences or sections, with coverage per topic.

    Words come from the project tokenizer, run once per document (content words only: stopwords, verbs,
    adverbs, single characters and numbers left out); TF-IDF keeps words in at least 2 units and at most half. NMF is deterministic (``init="nndsvda"``, fixed
    ``random_state``). Each unit belongs to its strongest topic. Columns (:data:`TOPIC_FIELDS`): ``topic`` (1 =
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
    from sklearn.decomposition import NMF
    from sklearn.feature_extraction.text import TfidfVectorizer
    import numpy as np

    if unit not in ("sentence", "section"):
        raise ValueError(f"unit must be 'sentence' or 'section', not {unit!r}")
    if n_topics < 1:
        raise ValueError(f"n_topics must be at least 1, not {n_topics}")
    th = _themes(themes)
    docs, s, codes = _selected(corpus, include_all, th, False)
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
    try:
        X = vec.fit_transform(_content_words(texts, unit_docs))
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
    theme_of = by_text.groupby("sent_id")["theme"].apply(list).to_dict()
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
