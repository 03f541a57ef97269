"""Clean raw text with a record of every change, and mark placeholders.

Cleaning removes content-mill furniture (paywall markers, ad snippets, mill preambles,
"相关文章" lines, government-site header lines, anti-copy junk), applies an explicit width
policy (not NFKC: Chinese punctuation full-width inside Chinese text, digits/Latin/% half-width)
and tidies whitespace. Each change is an :class:`~plan_analysis.offsets.Edit` in raw
coordinates, so nothing is dropped silently and every cleaned span maps back to the raw file.

>>> c = clean_text("过去一年,前江街道##paidbegin##完成９０％")
>>> c.text
'过去一年，前江街道完成90%'
>>> sorted({e.kind for e in c.edits})
['paywall_marker', 'width']
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterator, Sequence

import pandas as pd

from . import _patterns as P
from ._checks import check_count
from .offsets import Edit, OffsetMap, apply_edits, lift_edits

__all__ = ["Cleaned", "clean_text", "find_placeholders", "placeholder_spans", "edits_frame", "EDIT_KINDS"]

#: every kind of edit cleaning can record, with what it means
EDIT_KINDS = {
    "newline": "CRLF, CR, NEL or Unicode line/paragraph separator made LF",
    "invisible": "zero-width or control character removed",
    "paywall_marker": "content-mill paywall/page marker removed (##paidbegin## …)",
    "ad": "advertising snippet removed (【&更多素材搜索…】)",
    "mill_preamble": "content-mill preamble/outro line removed (小编为您带来…)",
    "related_articles": "trailing '相关文章' line removed",
    "page_furniture": "web-page control line removed (下载/打印/全屏/收藏/字号/当前位置…)",
    "site_header": "government-site header line removed (索引号/发布机构/成文日期…; kept as metadata)",
    "anticopy": "anti-copy junk removed (the '.' in 的.位置)",
    "width": "character width normalised (half-width digits/Latin/%, full-width Chinese punctuation)",
    "quotes": "straight quotes inside Chinese text made curly",
    "space": "odd, leading, trailing or inter-Han space removed or made a plain space",
    "blank_lines": "run of blank lines collapsed, or blank lines at start/end removed",
}


@dataclass(frozen=True)
class Cleaned:
    """The result of :func:`clean_text`: cleaned ``text``, raw-coordinate ``edits`` and ``offsets``."""

    raw: str
    text: str
    edits: tuple[Edit, ...]
    offsets: OffsetMap

    def raw_span(self, start: int, end: int) -> tuple[int, int]:
        """Return the raw span of cleaned ``[start, end)``."""
        return self.offsets.raw_span(start, end)


# --- detectors: each takes the current text and yields edits in its coordinates ------------


def _han_or_cjk_punct(ch: str) -> bool:
    return bool(ch) and (P.HAN_RE.match(ch) is not None or "\u3000" <= ch <= "\u303f"
                         or "\uff01" <= ch <= "\uff65" or ch in "“”‘’…—·")


def _finditer(rx: re.Pattern[str], text: str, needs: Sequence[str] | None = None) -> Iterator[re.Match[str]]:
    """``rx.finditer(text)``, or nothing at once when ``text`` lacks every string a match needs (``needs``,
    by default ``P.NEEDS[rx]``; none known: always searched)."""
    needs = P.NEEDS.get(rx) if needs is None else needs
    if needs is not None and not any(n in text for n in needs):
        return iter(())
    return rx.finditer(text)


def _line_bounds(text: str, i: int) -> tuple[int, int]:
    """Start and end (before its line break) of the line holding position ``i``."""
    end = text.find("\n", i)
    return text.rfind("\n", 0, i) + 1, len(text) if end < 0 else end


def _detect_furniture(text: str) -> Iterator[Edit]:
    for m in _finditer(P.PAYWALL_RE, text):
        yield Edit(m.start(), m.end(), "", "paywall_marker")
    for m in _finditer(P.AD_RE, text):
        yield Edit(m.start(), m.end(), "", "ad")
    for m in _finditer(P.MILL_LINE_RE, text):
        yield Edit(m.start(), m.end(), "", "mill_preamble")
    for m in _finditer(P.RELATED_LINE_RE, text):
        yield Edit(m.start(), m.end(), "", "related_articles")
    for m in P.SITE_HEADER_LINE_RE.finditer(text):
        yield Edit(m.start(), m.end(), "", "site_header")
    for m in P.DATETIME_LINE_RE.finditer(text):
        yield Edit(m.start(), m.end(), "", "site_header")
    for m in P.UI_LINE_RE.finditer(text):
        yield Edit(m.start(), m.end(), "", "page_furniture")


def _detect_chars(text: str) -> Iterator[Edit]:
    i = text.find("\r")
    while i >= 0:
        if text.startswith("\r\n", i):
            yield Edit(i, i + 2, "\n", "newline")
        else:
            yield Edit(i, i + 1, "\n", "newline")
        i = text.find("\r", i + 1)
    for m in _finditer(P.OTHER_LINE_END_RE, text):
        yield Edit(m.start(), m.end(), "\n", "newline")
    for m in P.INVISIBLE_RE.finditer(text):
        yield Edit(m.start(), m.end(), "", "invisible")
    for m in P.ANTICOPY_RE.finditer(text):
        yield Edit(m.start(), m.end(), "", "anticopy")
    for m in P.FULL_TO_HALF_RE.finditer(text):
        yield Edit(m.start(), m.end(), P.FULL_TO_HALF[m.group()], "width")
    for m in P.FULL_DIGIT_PUNCT_RE.finditer(text):
        yield Edit(m.start(), m.end(), "." if m.group() == "．" else "-", "width")


def _detect_punct(text: str) -> Iterator[Edit]:
    # each pattern runs once over the whole text; a match counts only in a line holding a Han character,
    # and its neighbours are looked at within its line (a regex call per line per pattern took twice as long)
    lines: dict[int, bool] = {}  # line start -> the line holds a Han character

    def line_at(i: int) -> tuple[int, int, bool]:
        start, end = _line_bounds(text, i)
        han = lines.get(start)
        if han is None:
            han = lines[start] = P.HAN_RE.search(text, start, end) is not None
        return start, end, han

    for m in P.HALF_PUNCT_RE.finditer(text):
        i = m.start()
        start, end, han = line_at(i)
        if not han:
            continue
        ch = m.group()
        before = text[i - 1] if i > start else ""
        after = text[i + 1] if i + 1 < end else ""
        if ch == "," and before.isdigit() and P.THOUSANDS_AFTER_RE.match(text, i + 1, end):
            continue  # 15,749 stays
        if ch == ":" and before.isdigit() and after.isdigit():
            continue  # 9:30 stays
        if ch in "?!" and (before in "?!" or after in ("?", "!")):
            continue
        yield Edit(i, i + 1, P.HALF_TO_FULL[ch], "width")
    for m in P.PAREN_RE.finditer(text):
        if line_at(m.start())[2]:
            yield Edit(m.start(), m.end(), "（" if m.group() == "(" else "）", "width")
    for m in P.STRAIGHT_QUOTE_PAIR_RE.finditer(text):  # the pattern never crosses a line break
        if line_at(m.start())[2] and P.HAN_RE.search(m.group(1)):
            yield Edit(m.start(), m.start() + 1, "“", "quotes")
            yield Edit(m.end() - 1, m.end(), "”", "quotes")


def _detect_space(text: str) -> Iterator[Edit]:
    # only the lines holding a space need looking at: one scan finds them
    for pos, end in sorted({_line_bounds(text, m.start()) for m in P.SPACE_RUN_RE.finditer(text)}):
        yield from _line_space_edits(text[pos:end], pos)


def _line_space_edits(line: str, pos: int) -> Iterator[Edit]:
    """The space edits of one line starting at ``pos``: leading, trailing and odd inner runs, or all of a blank line."""
    end = pos + len(line)
    stripped = line.strip(P.LINE_SPACES)
    if stripped:
        lead = line.index(stripped[0])
        if lead:
            yield Edit(pos, pos + lead, "", "space")
        tail = len(line) - lead - len(stripped)
        if tail:
            yield Edit(end - tail, end, "", "space")
        # inner runs of space
        inner_start = pos + lead
        for m in P.SPACE_RUN_RE.finditer(stripped):
            k, j = m.span()
            if _han_or_cjk_punct(stripped[k - 1]) or _han_or_cjk_punct(stripped[j]):
                yield Edit(inner_start + k, inner_start + j, "", "space")
            elif m.group() != " ":
                yield Edit(inner_start + k, inner_start + j, " ", "space")
    elif line:
        yield Edit(pos, end, "", "space")


def _detect_blank_lines(text: str) -> Iterator[Edit]:
    n = len(text)
    lead = len(text) - len(text.lstrip("\n"))
    if lead:
        yield Edit(0, lead, "", "blank_lines")
    if lead == n:
        return
    tail = n - len(text.rstrip("\n"))
    if tail:
        yield Edit(n - tail, n, "", "blank_lines")
    i = text.find("\n\n\n", lead)
    while 0 <= i < n - tail:
        j = i
        while j < n - tail and text[j] == "\n":
            j += 1
        yield Edit(i + 2, j, "", "blank_lines")
        i = text.find("\n\n\n", j)


_PASSES: tuple[Callable[[str], Iterator[Edit]], ...] = (
    _detect_furniture, _detect_chars, _detect_punct, _detect_space, _detect_blank_lines,
)


def _resolve(found: Sequence[Edit]) -> list[Edit]:
    """Sort edits and drop any that overlap an earlier, longer one (the larger change wins)."""
    out: list[Edit] = []
    for e in sorted(found, key=lambda e: (e.start, -(e.end - e.start))):
        if e.end <= e.start:
            continue
        if out and e.start < out[-1].end:
            continue
        out.append(e)
    return out


def clean_text(text: str, *, max_rounds: int = 4) -> Cleaned:
    """Clean ``text``, recording every removal and rewrite as a raw-coordinate edit.

    The detectors run in order (furniture, characters, punctuation, spaces, blank lines),
    each on the output of the previous ones, and the whole chain repeats until it finds
    nothing more, so cleaning is idempotent.

    >>> c = clean_text("摆正自己的.位置 ,树立全局意识")
    >>> c.text
    '摆正自己的位置，树立全局意识'
    >>> [(e.kind, c.raw[e.start:e.end]) for e in c.edits]
    [('anticopy', '.'), ('space', ' '), ('width', ',')]
    """
    if not isinstance(text, str):
        raise TypeError(f"clean_text needs a str, got {type(text).__name__}")
    check_count(max_rounds, "max_rounds must be 1 or more (each round runs every cleaning pass)")
    edits: list[Edit] = []
    cur, omap = apply_edits(text, edits)
    for _ in range(max_rounds):
        changed = False
        for detect in _PASSES:
            found = _resolve(list(detect(cur)))
            if not found:
                continue
            changed = True
            edits = lift_edits(edits, cur, omap, found)
            cur, omap = apply_edits(text, edits)
        if not changed:
            break
    return Cleaned(text, cur, tuple(edits), omap)


def find_placeholders(text: str) -> pd.DataFrame:
    """Find placeholders and redactions (xx, 20xx, x.x, x+x+N, ***, XX, A新时代 …).

    Columns: ``start``, ``end`` (offsets in ``text``), ``placeholder`` (the characters) and
    ``kind`` (formula, year, number, redaction, date, name). Placeholders are never numbers. A number placeholder
    holds the digits written with its x's (2xx, 1x.x, 3,xxx: the number a figure reads), and a 20xx before a unit is
    one (注册资本20xx万元), where 20xx年 is a year.

    >>> find_placeholders("增速xx.xx%，20xx年，以A新时代为指导")[["placeholder", "kind"]].values.tolist()
    [['xx.xx', 'number'], ['20xx', 'year'], ['A', 'name']]
    """
    return pd.DataFrame(placeholder_spans(text), columns=["start", "end", "placeholder", "kind"]).astype(
        {"start": "int64", "end": "int64", "placeholder": "string", "kind": "string"}
    )


def placeholder_spans(text: str) -> list[tuple[int, int, str, str]]:
    """Return the placeholders of ``text`` as sorted ``(start, end, placeholder, kind)`` tuples (no table).

    The same findings as :func:`find_placeholders`, for callers that run once per document.

    >>> placeholder_spans("增长xx%")
    [(2, 4, 'xx', 'number')]
    """
    taken: list[tuple[int, int, str, str]] = []
    occupied: set[int] = set()
    for kind, rx in P.PLACEHOLDER_PATTERNS:
        for m in _finditer(rx, text, P.PLACEHOLDER_NEEDS[kind]):  # none if the text lacks every character needed
            start, end = m.span()
            if end <= start or any(i in occupied for i in range(start, end)):
                continue
            found = kind
            if kind == "year" and P.PLACEHOLDER_AMOUNT_AFTER_RE.match(text, end):
                found = "number"  # 20xx万元
            elif kind == "number":
                lead = P.PLACEHOLDER_THOUSANDS_BEFORE_RE.search(text, max(0, start - 16), start)
                start = lead.start() if lead else start  # 3,xxx
            taken.append((start, end, text[start:end], found))
            occupied.update(range(start, end))
    taken.sort()
    return taken


def edits_frame(cleaned: Cleaned, *, source_file: str = "") -> pd.DataFrame:
    """Return the edits of ``cleaned`` as a table.

    Columns: ``source_file``, ``kind``, ``raw_start``, ``raw_end``, ``removed`` (raw text),
    ``inserted`` (replacement text, empty for removals).

    >>> edits_frame(clean_text("甲 乙"))[["kind", "removed", "inserted"]].values.tolist()
    [['space', ' ', '']]
    """
    rows = [(source_file, e.kind, e.start, e.end, cleaned.raw[e.start : e.end], e.new) for e in cleaned.edits]
    return pd.DataFrame(rows, columns=["source_file", "kind", "raw_start", "raw_end", "removed", "inserted"]).astype(
        {"source_file": "string", "kind": "string", "raw_start": "int64", "raw_end": "int64",
         "removed": "string", "inserted": "string"}
    )
