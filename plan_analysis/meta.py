"""Label a document: place, level, province, type, and years with the evidence for them.

A title's year is a claim, not a fact: :func:`estimate_years` bounds the year a document
concerns from dated phrases in its text (``data/lexicons/dating.tsv``: 国税/地税 ≤2018,
二十大 ≥2022 …) and from the years it names, and reports which phrases it used.

>>> m = label_document("一、上半年工作回顾\\n国税收入2.26亿元，地税收入1.11亿元。紧扣“三严三实”的主题。", label="政府2024年工作计划篇1")
>>> (m["label_year"], m["year_min"], m["year_max"])
(2024, 2014, 2017)
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from typing import Any, Iterable, Iterator

from . import _patterns as P
from .lexicons import HintIndex, lexicon_fingerprint, literal_first, read_table, required_literals
from .segment import load_tables
from .tokenize import cut_words, is_common_word

__all__ = ["label_document", "prepare_labelling", "estimate_years", "find_place", "find_province", "classify_doc_type",
           "DOC_TYPES", "LOCAL_DOC_TYPES"]

#: document types, and those that count as a local government's own plan or summary
DOC_TYPES = ("plan", "summary", "summary+plan", "思路", "half-year summary+plan", "work report",
             "research report", "personal plan", "news", "other")
LOCAL_DOC_TYPES = frozenset({"plan", "summary", "summary+plan", "思路", "half-year summary+plan", "work report"})

_LEVELS = ("街道", "镇", "乡", "县", "区", "市", "省")
_SELF_LEVEL_RE = re.compile(r"我(街道办|街道|街办|办|镇|乡|县|区|市|省)(?![长委])")
_WHOLE_LEVEL_RE = re.compile(r"全(街道|街|镇|乡|县|区|市|省)(?![长委])")
_SELF_MAP = {"街道办": "街道", "街道": "街道", "街办": "街道", "办": "街道", "街": "街道"}
_NAME_STOP_LAST = set("我全本该各每此其乡城集小名村")
_NAMED_UNIT_RE = re.compile(
    f"([{P.HAN}]{{2}}|xx|XX)(街道办事处|街道办|街道|街办|镇(?![村街区域级])|乡(?![村镇土亲愁里下风贤])|县(?![城域级乡])|区(?![域级块间])|市(?![场民区县级民政]))"
    "(?![长委政府党人])")
#: the first character of every suffix of _NAMED_UNIT_RE: a named unit's suffix starts two characters into it
_UNIT_SUFFIX_FIRST_RE = re.compile("[街镇乡县区市]")
_TITLE_PLACE_RE = re.compile(f"((?:(?!年|度)[{P.HAN}]){{2,8}}?|xx|XX)(街道办事处|街道办|街道|街办|镇|乡|自治区|省|市|县|区)(?=[0-9xX]{{2,4}}|关于|政府|人民政府|上半年|工作|年度)")
_ALIAS_RE_LIST = (
    re.compile(f"平安([{P.HAN}]{{2}})(?=[”\"。，；\n]|$)"),
    re.compile(f"([{P.HAN}]{{2}})集镇"),
    re.compile(f"新([{P.HAN}]{{2}})(?=[。！，；”])"),
)
_CONGRESS_RE = re.compile(f"在([{P.HAN}]{{2,8}}?(?:省|自治区|市))(?:第?[{P.CN_NUM}]{{1,3}})届\\s*人民代表大会")
_CONGRESS_DATE_RE = re.compile(r"((?:19|20)[0-9]{2})年[0-9]{1,2}月[0-9]{1,2}日\s*在[^。]{2,24}?人民代表大会")
_MUNICIPALITIES = ("北京市", "天津市", "上海市", "重庆市")
_TITLE_YEAR_RE = re.compile(r"((?:19|20)[0-9]{2})\s*年?")
_EXPLICIT_YEAR_RE = re.compile(  # the year first, then what must not stand before it (the engine skips to digits)
    r"((?:19|20)[0-9]{2})(?<![0-9—\-~～][0-9]{4})(?<!到[0-9]{4}|至[0-9]{4}|前[0-9]{4}|在[0-9]{4})"
    r"(?<!力争[0-9]{4}|争取[0-9]{4}|确保[0-9]{4})"
    r"(?=\s*年(?!前|以前|远景|目标|基本|全面|实现|建成|左右))")


def _norm_level(suffix: str) -> str:
    if suffix.startswith("街"):
        return "街道"
    if suffix in ("省", "自治区"):
        return "省"
    return suffix


def _self_level(text: str) -> str:
    c = Counter(_SELF_MAP.get(m.group(1), m.group(1)) for m in _SELF_LEVEL_RE.finditer(text))
    if not c:
        c = Counter(_SELF_MAP.get(m.group(1), m.group(1)) for m in _WHOLE_LEVEL_RE.finditer(text))
    return c.most_common(1)[0][0] if c else ""


def _title_level(title: str) -> str:
    tm = re.search(r"(街道|街办|镇乡|镇|乡|区|县|市)", title or "")
    if not tm:
        return ""
    return "镇" if tm.group(1) == "镇乡" else _norm_level(tm.group(1))


_FUNCTION_CHARS = set("的之了在内外与及等各是对为把被向从将")


def _looks_like_name(name: str, text: str, pos: int) -> bool:
    """A two-character name before 街道/镇: not a common non-noun word, and not the tail of a longer word."""
    if name[-1] in _NAME_STOP_LAST or is_common_word(name):
        return False
    lo = max(0, pos - 8)
    ctx = text[lo:pos + len(name)]
    starts, off = set(), 0
    for tok in cut_words(ctx):
        starts.add(off)
        off += len(tok)
    if (pos - lo) not in starts:
        return False  # the first character ends a longer word (区域|内街道)
    return not ((pos - lo + 1) in starts and (name[0] in _FUNCTION_CHARS or name[1] in _FUNCTION_CHARS))


def _named_units(text: str) -> Iterator[re.Match[str]]:
    """The matches ``_NAMED_UNIT_RE.finditer(text)`` gives, found from their suffixes (3× quicker).

    The pattern starts with any two Han characters, so the engine tried it at nearly every place;
    its suffix starts with one of a few characters, two places in, so trying it only there (and
    not inside the previous match) finds the same matches.
    """
    match = _NAMED_UNIT_RE.match
    pos = 0
    for s in _UNIT_SUFFIX_FIRST_RE.finditer(text):
        start = s.start() - 2
        if start < pos:
            continue
        m = match(text, start)
        if m:
            yield m
            pos = m.end()


def find_place(text: str, *, title: str = "") -> dict[str, str]:
    """Return ``place``, ``admin_level`` and ``place_clue`` for a document.

    The title wins; otherwise named units in the text (百禄镇, 大托街道), then names the text
    uses for itself (平安秋长, 三和集镇) joined to the level it calls itself (我街道, 我镇).
    Redacted names stay anonymous (``xx镇``).

    >>> find_place("上半年，我街道受理信访案件489宗。创建平安秋长。打造新秋长。")
    {'place': '秋长街道', 'admin_level': '街道', 'place_clue': 'text: 平安秋长, 新秋长 + 我街道'}
    >>> find_place("", title="铁西街道2024年工作计划")["place"]
    '铁西街道'
    """
    level_self = _self_level(text)
    if title:
        m = _TITLE_PLACE_RE.search(title)
        if m and not m.group(1).isdigit():
            level = _norm_level(m.group(2))
            name = m.group(1)
            suffix = "街道" if level == "街道" else m.group(2)
            if name + suffix in _MUNICIPALITIES:
                level = "省"
            return {"place": name + suffix, "admin_level": level, "place_clue": f"title: {m.group()}"}
    m = _CONGRESS_RE.search(text[:2000])
    # (a title wins; so does a report given before a people's congress)
    if m:
        level = "省" if m.group(1).endswith(("省", "自治区")) or m.group(1) in _MUNICIPALITIES else "市"
        return {"place": m.group(1), "admin_level": level, "place_clue": f"text: {m.group()}"}
    title_level = _title_level(title)
    cands: dict[str, Counter[str]] = {}
    clues: dict[str, list[str]] = {}
    for m in _named_units(text):
        name, suffix = m.group(1), m.group(2)
        if name not in ("xx", "XX") and not _looks_like_name(name, text, m.start()):
            continue
        cands.setdefault(name, Counter())[_norm_level(suffix)] += 1
        clues.setdefault(name, [])
        if m.group() not in clues[name]:
            clues[name].append(m.group())
    if level_self in ("街道", "镇", "乡"):
        for rx in _ALIAS_RE_LIST:
            for m in rx.finditer(text):
                name = m.group(1)
                if name[-1] in _NAME_STOP_LAST or is_common_word(name):
                    continue
                cands.setdefault(name, Counter())[level_self] += 1
                clues.setdefault(name, [])
                if m.group() not in clues[name]:
                    clues[name].append(m.group())
    scored = []
    for name, levels in cands.items():
        level = level_self if level_self in levels else levels.most_common(1)[0][0]
        bare = sum(levels.values()) if name in ("xx", "XX") else text.count(name)
        expected = title_level or level_self
        if expected and level != expected and bare < 3:
            continue  # a unit the text mentions in passing (台州市, xx县), not the author
        scored.append((bare + sum(levels.values()), level == level_self, name, level))
    if scored:
        score, _, name, level = max(scored)
        via_alias = not any(c.endswith(("街道", "镇", "乡", "县", "区", "市", "街办")) for c in clues[name])
        clue = ", ".join(clues[name][:4]) + (f" + 我{level_self}" if via_alias else "")
        return {"place": name + level, "admin_level": level, "place_clue": f"text: {clue}"}
    level = title_level or level_self
    return {"place": "", "admin_level": level, "place_clue": f"level only: {'title' if title_level else '我' + level}" if level else ""}


def _rule_table(name: str, columns: dict[str, str],
                fields: tuple[str, ...]) -> tuple[tuple[tuple[Any, ...], ...], HintIndex]:
    """A lexicon of rules: ``(pattern, *fields)`` per row, the pattern compiled literal first
    (:func:`~plan_analysis.lexicons.literal_first`), and the hint index of the patterns as written."""
    rows = read_table(name, columns=columns)
    return (tuple((literal_first(r["pattern"]), *(r[f] for f in fields)) for r in rows),
            HintIndex([required_literals(r["pattern"]) for r in rows]))


@lru_cache(maxsize=4)
def _province_rules(_key: str = "") -> tuple[tuple[tuple[re.Pattern[str], str, int], ...], HintIndex]:
    return _rule_table("provinces.tsv", {"pattern": "regex", "province": "str", "weight": "int", "note": "str?"},
                       ("province", "weight"))


def find_province(text: str, *, place: str = "") -> dict[str, str]:
    """Return ``province`` and ``province_clue`` from clue phrases (``data/lexicons/provinces.tsv``).

    Each distinct clue adds its weight once; the province with the highest total wins, and
    a tie is left undecided.

    >>> find_province("贯彻落实长春市两项地方标准要求")["province"]
    '吉林'
    """
    scores: Counter[str] = Counter()
    clues: dict[str, list[str]] = {}
    hay = place + "\n" + text
    rules, index = _province_rules(lexicon_fingerprint())
    for i in index.candidates(hay):  # the rules whose literal hints occur: the others cannot match
        rx, prov, weight = rules[i]
        m = rx.search(hay)
        if m:
            scores[prov] += weight
            clues.setdefault(prov, []).append(m.group())
    if not scores:
        return {"province": "", "province_clue": ""}
    ranked = scores.most_common()
    if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
        return {"province": "", "province_clue": "undecided: " + "; ".join(f"{p} ({', '.join(clues[p])})" for p, _ in ranked[:3])}
    best = ranked[0][0]
    return {"province": best, "province_clue": ", ".join(dict.fromkeys(clues[best]))}


@lru_cache(maxsize=4)
def _dating_rules(_key: str = "") -> tuple[tuple[tuple[re.Pattern[str], int | None, int | None, str], ...], HintIndex]:
    return _rule_table("dating.tsv", {"pattern": "regex", "year_min": "int?", "year_max": "int?", "label": "str",
                                      "note": "str?"}, ("year_min", "year_max", "label"))


def _window(lo: int | None, hi: int | None) -> str:
    if lo is not None and hi is not None:
        return f"{lo}" if lo == hi else f"{lo}–{hi}"
    if lo is not None:
        return f"≥{lo}"
    return f"≤{hi}"


def estimate_years(text: str) -> dict[str, Any]:
    """Bound the year a document concerns from dated phrases and the years it names.

    Returns ``year_min``, ``year_max`` (``None`` when unbounded), ``year_evidence`` (the
    phrases and windows used) and ``year_conflict`` (evidence that could not all hold; the
    years satisfying the most evidence are kept).

    >>> estimate_years("深入学习贯彻党的二十大精神，完成2023年工作任务")["year_min"]
    2023
    """
    constraints: list[tuple[int | None, int | None, str]] = []
    seen: set[str] = set()
    rules, index = _dating_rules(lexicon_fingerprint())
    for i in index.candidates(text):  # the rules whose literal hints occur: the others cannot match
        rx, lo, hi, label = rules[i]
        if label in seen:
            continue
        if rx.search(text):
            seen.add(label)
            constraints.append((lo, hi, f"{label} ({_window(lo, hi)})"))
    counts = Counter(int(m.group(1)) for m in _EXPLICIT_YEAR_RE.finditer(text))
    first_line = text.split("\n", 1)[0]
    years = [y for y, n in counts.items() if 1949 <= y <= 2040 and (n >= 2 or str(y) in first_line)]
    if years:
        y = max(years)
        constraints.append((y, None, f"names {y} (≥{y})"))
    if not constraints:
        return {"year_min": None, "year_max": None, "year_evidence": "", "year_conflict": False}
    lo_all = min([c[0] for c in constraints if c[0] is not None] + [c[1] for c in constraints if c[1] is not None]) - 1
    hi_all = max([c[0] for c in constraints if c[0] is not None] + [c[1] for c in constraints if c[1] is not None]) + 1
    best, best_years = -1, []
    for y in range(lo_all, hi_all + 1):
        n = sum(1 for lo, hi, _ in constraints if (lo is None or y >= lo) and (hi is None or y <= hi))
        if n > best:
            best, best_years = n, [y]
        elif n == best:
            best_years.append(y)
    conflict = best < len(constraints)
    ymin, ymax = min(best_years), max(best_years)
    has_lo = any(c[0] is not None for c in constraints)
    has_hi = any(c[1] is not None for c in constraints)
    year_min = ymin if has_lo and ymin > lo_all else None
    year_max = ymax if has_hi and ymax < hi_all else None
    used = [c[2] for c in constraints]
    return {"year_min": year_min, "year_max": year_max, "year_evidence": "; ".join(used), "year_conflict": conflict}


_HALF_RE = re.compile(r"上半年[^\n]{0,12}(?:总结|回顾)[^\n]{0,20}下半年|上半年(?:工作)?(?:总结|回顾)|下半年(?:工作)?(?:计划|思路|打算|安排|重点)")
_SUMMARY_HEAD_RE = re.compile(r"(?:工作)?(?:总结|回顾)|主要(?:工作|成效|做法)")
_PLAN_HEAD_RE = re.compile(r"(?:工作)?(?:计划|思路|打算|安排|重点|措施|举措)")


def classify_doc_type(text: str, *, title: str = "", headings: Iterable[str] = ()) -> tuple[str, str]:
    """Return ``(doc_type, why)`` for a document from its title, headings and wording.

    >>> classify_doc_type("", title="前江街道2023年度工作总结及2024年度工作计划")
    ('summary+plan', 'title: 总结 + 计划')
    >>> classify_doc_type("近日，全县计划免疫工作会议召开。会议指出，……会议强调，……")[0]
    'news'
    """
    t = title
    if t:
        if re.search(r"上半年[^\n]*总结[^\n]*下半年", t):
            return "half-year summary+plan", "title: 上半年总结 + 下半年计划"
        if re.search(r"总结", t) and re.search(r"计划|思路|打算|要点|安排", t):
            return "summary+plan", "title: 总结 + 计划"
        if "政府工作报告" in t:
            return "work report", "title: 政府工作报告"
        if "思路" in t:
            return "思路", "title: 思路"
        if re.search(r"计划|要点|安排|打算", t):
            return "plan", "title: 计划"
        if "总结" in t:
            return "summary", "title: 总结"
    head = text[:400]
    if re.search(r"个人工作计划|个人计划|我相信|自己的工作", text) and len(re.findall(r"自己", text)) >= 3:
        return "personal plan", "first-person: 自己/个人工作计划"
    if (head.startswith("近日") or re.search(r"^[^\n]{0,30}会议在[^\n]{0,30}召开", head)) and len(re.findall(r"会议(?:指出|强调|要求)", text)) >= 2:
        return "news", "news wording: 近日 … 会议指出/强调"
    hs = list(headings)
    if "调研报告" in text and any(re.search(r"建议|对策", h) for h in hs):
        return "research report", "调研报告 with a 建议 section"
    if "政府工作报告" in head or re.search(r"各位代表[：:]", head):
        return "work report", "opening: 各位代表"
    joined = "\n".join(hs)
    if _HALF_RE.search(joined) and re.search(r"下半年", joined) and re.search(r"上半年", joined):
        return "half-year summary+plan", "headings: 上半年回顾 + 下半年计划"
    has_summary = bool(re.search(r"(?:工作)?(?:总结|回顾)|取得的?(?:主要)?成[效绩]|主要做法", joined))
    has_plan = bool(re.search(r"(?:工作)?(?:计划|思路|打算|安排|要点)|主要措施|工作重点", joined))
    if has_summary and has_plan:
        return "summary+plan", "headings: 总结 + 计划"
    if has_plan:
        return "plan", "headings: 计划/思路/措施"
    past = len(re.findall(r"完成|实现|累计|同比|已(?:经)?|取得", text))
    future = len(re.findall(r"将|要|力争|确保|计划|推进|加快|加强", text))
    if re.search(r"(?:上半年|一年来|今年以来)[^\n]{0,40}(?:预计)?(?:实现|完成)", text[:600]) and past >= future / 2:
        return "summary", f"reports what was done ({past} past vs {future} future markers)"
    if future > past:
        return "plan", f"future wording ({future} future vs {past} past markers)"
    if past:
        return "summary", f"past wording ({past} past vs {future} future markers)"
    return "other", "no type evidence"


def _label_year(*texts: str) -> int | None:
    for t in texts:
        ys = [int(y) for y in _TITLE_YEAR_RE.findall(t or "")]
        if ys:
            return max(ys)
    return None


def prepare_labelling() -> None:
    """Load what :func:`label_document` needs now, not on first use: segmenter tables, word sets, rule tables.

    Call it before forking worker processes: they then share these tables instead of each
    reading or building them.

    >>> prepare_labelling()
    """
    key = lexicon_fingerprint()
    load_tables()
    is_common_word("的")
    _province_rules(key)
    _dating_rules(key)


def label_document(text: str, *, title: str = "", label: str = "", headings: Iterable[str] = (),
                   header: dict[str, str] | None = None) -> dict[str, Any]:
    r"""Return the metadata of one document, each field with its evidence where it has one.

    Keys: ``title``, ``place``, ``admin_level``, ``place_clue``, ``province``, ``province_clue``,
    ``doc_type``, ``doc_type_why``, ``is_local_plan``, ``label_year``, ``year_min``, ``year_max``,
    ``year_evidence``, ``year_conflict``, ``label_year_plausible``, ``published``.

    >>> m = label_document("一、重党建\n深化主题教育，扎实开展党纪学习教育。", title="铁西街道2024年工作计划")
    >>> m["place"], m["doc_type"], m["label_year"], m["year_max"]
    ('铁西街道', 'plan', 2024, 2025)
    """
    header = header or {}
    headings = list(headings)
    place = find_place(text, title=title)
    prov = find_province(text, place=place["place"])
    doc_type, why = classify_doc_type(text, title=title, headings=headings)
    years = estimate_years(text)
    label_year = _label_year(title, label)
    if label_year is None:
        cm = _CONGRESS_DATE_RE.search(text[:600])
        label_year = int(cm.group(1)) if cm else None
    plausible: bool | None = None
    if label_year is not None and (years["year_min"] is not None or years["year_max"] is not None):
        plausible = ((years["year_min"] is None or label_year >= years["year_min"])
                     and (years["year_max"] is None or label_year <= years["year_max"]))
    published = header.get("成文日期") or header.get("发布日期") or header.get("发布时间") or header.get("时间") or ""
    m = re.search(r"(19|20)[0-9]{2}-[0-9]{1,2}-[0-9]{1,2}", published)
    return {
        "title": title,
        **place,
        **prov,
        "doc_type": doc_type,
        "doc_type_why": why,
        "is_local_plan": doc_type in LOCAL_DOC_TYPES,
        "label_year": label_year,
        **years,
        "label_year_plausible": plausible,
        "published": m.group() if m else "",
    }
