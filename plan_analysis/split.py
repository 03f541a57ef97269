"""Split cleaned text into documents, and documents into a heading tree and sentences.

Compilations come in three shapes: pieces marked ``篇N``, an 汇编 with a 目录 whose entries
reappear as titles, and documents glued together with no marker at all. The last are found
from title lines (a short line naming a 计划/总结/思路 after a blank line) and from restarts of
the heading numbering (a second ``一、`` after ``三、``; a ``（一）`` where the document so far
never used that level).

>>> text = "甲镇2024年工作计划\\n一、抓党建\\n全面落实党建工作责任制。\\n\\n乙街道2023年工作总结\\n一、回顾\\n经济运行平稳。"
>>> [(d.title, d.how) for d in split_documents(text)[0]]
[('甲镇2024年工作计划', 'whole file'), ('乙街道2023年工作总结', 'title line')]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterator

from . import _patterns as P

__all__ = ["DocSpan", "Furniture", "Heading", "split_documents", "parse_heading", "find_headings",
           "split_sentences", "chinese_ordinal"]

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def chinese_ordinal(s: str) -> int:
    """Return the value of a small Chinese or Arabic numeral (up to 99), circled digits too.

    >>> [chinese_ordinal(x) for x in ("三", "十", "十一", "二十三", "12", "⑾")]
    [3, 10, 11, 23, 12, 11]
    """
    s = s.strip()
    if s.isdigit() and s.isascii():
        return int(s)
    if len(s) == 1 and s in P.CIRCLED:
        return P.CIRCLED.index(s) + 1
    if len(s) == 1 and s in P.CIRCLED2:
        return P.CIRCLED2.index(s) + 1
    if "十" in s:
        tens, _, ones = s.partition("十")
        return (_CN_DIGITS.get(tens, 1) if tens else 1) * 10 + (_CN_DIGITS.get(ones, 0) if ones else 0)
    if len(s) == 1 and s in _CN_DIGITS:
        return _CN_DIGITS[s]
    return 0


@dataclass(frozen=True)
class Heading:
    """A heading marker at the start of a line: its level (1 = 一、 … 6 = 一是), ordinal and title."""

    level: int
    ordinal: int
    marker: str
    title: str
    inline_body: bool


def parse_heading(line: str) -> Heading | None:
    """Return the heading a line starts with, or ``None``.

    >>> parse_heading("（三）坚持宜居宜业，城乡面貌持续改善。")
    Heading(level=2, ordinal=3, marker='（三）', title='坚持宜居宜业，城乡面貌持续改善', inline_body=False)
    >>> parse_heading("一是落实落细党建责任。深化主题教育").title
    '落实落细党建责任'
    >>> parse_heading("1-4月份，完成工业总产值92.53亿元") is None
    True
    """
    if not line or line[0] not in P.HEADING_FIRST:
        return None
    for level, _name, rx in P.HEADING_MARKERS:
        m = rx.match(line)
        if not m:
            continue
        num = next((g for g in m.groups() if g), "")
        ordinal = chinese_ordinal(num)
        if ordinal <= 0:
            continue
        rest = line[m.end():]
        if level == 6 and not rest:
            continue
        cut = (P.HEADING_TITLE_END_6_RE if level == 6 else P.HEADING_TITLE_END_RE).search(rest)
        if cut and cut.start() <= 60:
            title = rest[: cut.start()]
            inline = bool(rest[cut.end():].strip())
        else:
            title = rest if len(rest) <= 60 else rest[:60]
            inline = len(rest) > 60
        return Heading(level, ordinal, line[: m.end()].strip(), title.strip(), inline)
    return None


@dataclass
class DocSpan:
    """A document found in a cleaned file text: ``text[start:end]``, its title line and piece label."""

    start: int
    end: int
    title: str = ""
    label: str = ""
    how: str = ""


@dataclass(frozen=True)
class Furniture:
    """A compilation line that belongs to no document (compilation title, 目录, 篇N marker)."""

    start: int
    end: int
    kind: str
    text: str


@dataclass
class _Line:
    start: int
    end: int
    text: str
    heading: Heading | None = field(default=None)


def _lines(text: str, start: int = 0, end: int | None = None) -> list[_Line]:
    end = len(text) if end is None else end
    out = []
    pos = start
    while pos <= end:
        nl = text.find("\n", pos, end)
        stop = end if nl < 0 else nl
        out.append(_Line(pos, stop, text[pos:stop]))
        if nl < 0:
            break
        pos = nl + 1
    return out


def _is_title_line(line: str) -> bool:
    s = line.strip()
    if not 4 <= len(s) <= 60 or parse_heading(s) is not None:
        return False
    if re.search(r"[。；！？!?：:，,]", s) or s.endswith(("：", ":")):
        return False
    if not P.TITLE_WORDS_RE.search(s):
        return False
    return bool(re.search(r"(?:19|20)[0-9x]{2}|[0-9x]{2,4}年|(?:镇|乡|街道|街办|区|县|市|省)|工作|政府", s))


def _furniture_and_pieces(text: str) -> tuple[list[Furniture], list[DocSpan]]:
    lines = _lines(text)
    furniture: list[Furniture] = []
    nonblank = [ln for ln in lines if ln.text.strip()]
    # compilation title among the first lines
    for ln in nonblank[:3]:
        if P.COMPILATION_TITLE_RE.fullmatch(ln.text) and not P.PIECE_MARKER_RE.fullmatch(ln.text):
            furniture.append(Furniture(ln.start, ln.end, "compilation_title", ln.text))
            break
    # 目录 block
    toc_titles: list[str] = []
    for i, ln in enumerate(lines):
        if P.TOC_HEAD_RE.fullmatch(ln.text):
            j = i + 1
            while j < len(lines) and lines[j].text.strip() and P.TOC_ENTRY_RE.fullmatch(lines[j].text):
                toc_titles.append(P.TOC_ENTRY_RE.fullmatch(lines[j].text).group(1).strip())
                j += 1
            if toc_titles:
                furniture.append(Furniture(ln.start, lines[j - 1].end, "toc", text[ln.start:lines[j - 1].end]))
            break
    markers = [ln for ln in lines if P.PIECE_MARKER_RE.fullmatch(ln.text)]
    for ln in markers:
        furniture.append(Furniture(ln.start, ln.end, "piece_marker", ln.text))
    furniture.sort(key=lambda f: f.start)
    after_furniture = max((f.end for f in furniture), default=0) if not markers else 0

    pieces: list[DocSpan] = []
    if markers:
        bounds = [(m.end, m.text) for m in markers]
        first_start = markers[0].start
        covered = [f for f in furniture if f.end <= first_start]
        rest_start = max((f.end for f in covered), default=0)
        if text[rest_start:first_start].strip():
            pieces.append(DocSpan(rest_start, first_start, label="", how="before first piece marker"))
        for k, (s, label) in enumerate(bounds):
            e = markers[k + 1].start if k + 1 < len(markers) else len(text)
            pieces.append(DocSpan(s, e, label=label, how="piece marker 篇N"))
    elif toc_titles:
        starts = []
        search_from = after_furniture
        for title in toc_titles:
            for ln in lines:
                if ln.start >= search_from and ln.text.strip() == title:
                    starts.append((ln.start, title))
                    search_from = ln.end
                    break
        if starts:
            if text[after_furniture:starts[0][0]].strip():
                pieces.append(DocSpan(after_furniture, starts[0][0], how="before first 目录 entry"))
            for k, (s, title) in enumerate(starts):
                e = starts[k + 1][0] if k + 1 < len(starts) else len(text)
                pieces.append(DocSpan(s, e, label=title, how="目录 entry"))
        else:
            pieces.append(DocSpan(after_furniture, len(text), how="whole file"))
    else:
        start = max((f.end for f in furniture), default=0)
        pieces.append(DocSpan(start, len(text), how="whole file"))
    # text outside every piece and every furniture line (a preface before a 目录 …) is a piece too:
    # nothing may fall out of both the documents and the edit record
    taken = sorted([(f.start, f.end) for f in furniture] + [(p.start, p.end) for p in pieces])
    pos, extra = 0, []
    for a, b in taken + [(len(text), len(text))]:
        if a > pos and text[pos:a].strip():
            extra.append(DocSpan(pos, a, how="outside the compilation structure"))
        pos = max(pos, b)
    pieces = sorted(pieces + extra, key=lambda p: p.start)
    return furniture, pieces


def _title_boundaries(lines: list[_Line]) -> list[int]:
    """Indexes of lines that open a new document with a title line (after a blank line).

    A title line right after another (a page's <title> repeated as its heading, a subtitle)
    stays in the same document.
    """
    out = []
    seen_text = 0
    for i, ln in enumerate(lines):
        if _is_title_line(ln.text) and (i == 0 or (not lines[i - 1].text.strip() and seen_text >= 10)):
            out.append(i)
            seen_text = 0
            continue
        seen_text += len(ln.text.strip())
    return out


def _restart_boundaries(lines: list[_Line]) -> list[int]:
    """Indexes of lines that open a glued document, found from restarts of heading numbering."""
    out: list[int] = []
    top: int | None = None
    last: dict[int, int] = {}
    top_count = 0
    used_levels: set[int] = set()
    levels_in_top_section: set[int] = set()
    prev_heading_idx: int | None = None
    for i, ln in enumerate(lines):
        if P.ANNEX_RE.match(ln.text):
            # an annex (附件) restarts its own numbering inside the same document
            top, last, top_count, used_levels, levels_in_top_section = None, {}, 0, set(), set()
            prev_heading_idx = None
            continue
        h = ln.heading
        if h is None or h.level == 6:
            continue
        boundary = False
        if top is not None and prev_heading_idx is not None:
            if h.level == top and h.ordinal == 1 and last.get(top, 0) >= 2:
                boundary = True
            elif h.level < top and h.ordinal == 1 and top_count >= 2:
                boundary = True
            elif (h.level > top and h.ordinal == 1 and h.level not in used_levels
                  and any(lv > h.level for lv in levels_in_top_section) and last.get(top, 0) >= 2):
                boundary = True
        if boundary:
            start = _intro_start(lines, prev_heading_idx, i)
            out.append(start)
            top, last, top_count, used_levels, levels_in_top_section = None, {}, 0, set(), set()
        if top is None:
            top = h.level
        if h.level == top:
            top_count += 1
            levels_in_top_section = set()
        elif h.level < top:
            top = h.level
            top_count = 1
            levels_in_top_section = set()
        else:
            levels_in_top_section.add(h.level)
        used_levels.add(h.level)
        last[h.level] = h.ordinal
        for lv in list(last):
            if lv > h.level:
                del last[lv]
        prev_heading_idx = i
    return out


def _intro_start(lines: list[_Line], prev: int | None, here: int) -> int:
    """Where a glued document begins: the paragraphs between the previous heading's body and ``here``."""
    if prev is None:
        return here
    paras = [j for j in range(prev + 1, here) if lines[j].text.strip() and lines[j].heading is None]
    if not paras:
        return here
    h = lines[prev].heading
    if h is not None and not h.inline_body and len(lines[prev].text) <= 60:
        paras = paras[1:]  # the first paragraph is the previous heading's body
    # a glued document opens with one introductory paragraph at most
    return paras[-1] if paras else here


def split_documents(text: str) -> tuple[list[DocSpan], list[Furniture]]:
    r"""Split a cleaned file text into documents; return them and the compilation furniture.

    Each :class:`DocSpan` covers ``text[start:end]`` (its title line included when it has
    one); furniture lines (compilation title, 目录, ``篇N`` markers) belong to no document.

    >>> docs, furniture = split_documents("政府工作计划篇1\n一、抓党建\n政府工作计划篇2\n一、促发展")
    >>> [d.label for d in docs], [f.kind for f in furniture]
    (['政府工作计划篇1', '政府工作计划篇2'], ['piece_marker', 'piece_marker'])
    """
    furniture, pieces = _furniture_and_pieces(text)
    docs: list[DocSpan] = []
    for piece in pieces:
        lines = [ln for ln in _lines(text, piece.start, piece.end)]
        for ln in lines:
            ln.heading = parse_heading(ln.text)
        starts = set(_title_boundaries(lines))
        # restarts are looked for inside each titled stretch
        cuts = sorted(starts | {0})
        more: set[int] = set()
        for a, b in zip(cuts, cuts[1:] + [len(lines)]):
            for j in _restart_boundaries(lines[a:b]):
                if j > 0:
                    more.add(a + j)
        bounds = sorted(starts | more | {0})
        for a, b in zip(bounds, bounds[1:] + [len(lines)]):
            chunk = [ln for ln in lines[a:b] if ln.text.strip()]
            if not chunk:
                continue
            title = chunk[0].text.strip() if _is_title_line(chunk[0].text) else ""
            if not title and a == 0:
                # a web page may put a breadcrumb or caption above the title
                title = next((ln.text.strip() for ln in chunk[1:5] if _is_title_line(ln.text)), "")
            how = piece.how
            if a in more:
                how = "heading numbering restarts"
            elif a in starts and a > 0:
                how = "title line"
            docs.append(DocSpan(chunk[0].start, chunk[-1].end, title=title, label=piece.label, how=how))
    return docs, furniture


def find_headings(text: str) -> Iterator[tuple[int, int, Heading]]:
    """Yield ``(line_start, line_end, heading)`` for every heading line of a document text.

    >>> [(h.level, h.marker) for _, _, h in find_headings("一、总体\\n（一）经济\\n1、工业\\n一是稳增长。")]
    [(1, '一、'), (2, '（一）'), (3, '1、'), (6, '一是')]
    """
    for ln in _lines(text):
        h = parse_heading(ln.text)
        if h is not None:
            yield ln.start, ln.end, h


def split_sentences(text: str) -> Iterator[tuple[int, int]]:
    """Yield ``(start, end)`` of each sentence (ends at 。！？ with closing quotes, or a line end).

    >>> t = "一是抓学习。深化“主题教育”！\\n二是促发展"
    >>> [t[s:e] for s, e in split_sentences(t)]
    ['一是抓学习。', '深化“主题教育”！', '二是促发展']
    """
    pos = 0
    for m in P.SENTENCE_END_RE.finditer(text):
        end = m.end() if m.group() != "\n" else m.start()
        s, e = _strip_span(text, pos, end)
        if e > s:
            yield s, e
        pos = m.end()
    s, e = _strip_span(text, pos, len(text))
    if e > s:
        yield s, e


def _strip_span(text: str, s: int, e: int) -> tuple[int, int]:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    return s, e
