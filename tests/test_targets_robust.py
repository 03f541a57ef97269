"""Figures in awkward text: long runs of figures with no break, digits before a placeholder, lists of bare
numbers sharing one unit; and the functions that take a targets table, given one read back from a CSV file."""

from __future__ import annotations

import math
import re
import sys
from pathlib import Path

import pandas as pd
import pytest

import plan_analysis as pa
import plan_analysis.targets as T
from plan_analysis.normalize import find_placeholders
from plan_analysis.targets import count_hidden, extract_targets, main_growth_targets, pair_targets

HERE = Path(__file__).resolve().parent
PROVINCIAL = HERE.parent / "data" / "corpora" / "provincial-2026" / "texts"


# --- work per figure is bounded ---------------------------------------------------------------------------

class _CountingPattern:
    """A compiled pattern that adds up how many characters each call reads: a search, up to where it matched (or
    all it was given); a match, what it matched; a substitution, split or iteration, all it was given."""

    def __init__(self, rx: re.Pattern[str], seen: list[int]) -> None:
        self.rx, self.seen = rx, seen

    def _given(self, string: str, pos: int = 0, endpos: int = sys.maxsize) -> int:
        return max(0, min(endpos, len(string)) - pos)

    def search(self, string, pos=0, endpos=sys.maxsize):
        m = self.rx.search(string, pos, endpos)
        self.seen.append(m.end() - pos if m else self._given(string, pos, endpos))
        return m

    def match(self, string, pos=0, endpos=sys.maxsize):
        m = self.rx.match(string, pos, endpos)
        self.seen.append(len(m.group()) if m else 1)
        return m

    def fullmatch(self, string, pos=0, endpos=sys.maxsize):
        m = self.rx.fullmatch(string, pos, endpos)
        self.seen.append(len(m.group()) if m else 1)
        return m

    def finditer(self, string, pos=0, endpos=sys.maxsize):
        self.seen.append(self._given(string, pos, endpos))
        return self.rx.finditer(string, pos, endpos)

    def findall(self, string, pos=0, endpos=sys.maxsize):
        self.seen.append(self._given(string, pos, endpos))
        return self.rx.findall(string, pos, endpos)

    def sub(self, repl, string, count=0):
        self.seen.append(len(string))
        return self.rx.sub(repl, string, count)

    def split(self, string, maxsplit=0):
        self.seen.append(len(string))
        return self.rx.split(string, maxsplit)

    def __getattr__(self, name):
        return getattr(self.rx, name)


@pytest.fixture
def characters_searched(monkeypatch):
    """``characters_searched(text)``: how many characters the patterns of the targets module are given to look at
    while the figures of ``text`` are extracted (every pattern counts; no cached answer hides a search)."""
    seen: list[int] = []
    for name, value in list(vars(T).items()):
        if isinstance(value, re.Pattern):
            monkeypatch.setattr(T, name, _CountingPattern(value, seen))

    def count(text: str) -> int:
        for f in (T._clean_indicator, T._is_no_object, T._period_word, T._section_default):
            f.cache_clear()
        seen.clear()
        assert len(extract_targets(text)) >= 300
        return sum(seen)

    return count


# flattened tables: a run of figures with no sentence or clause break (the third, the figures of seed 002's 奥恒制衣
# sentence), repeated 300 and 600 times; the last, a sentence of many short clauses
RUNS = {
    "amounts": "产值5亿元 ",
    "hidden rates": "xx%",
    "a seed sentence's figures": "总投资4000万元 注册资本20xx万元 租用园区标准厂房5200平方米 用工120人 税收180万元 ",
    "a plan's run": "计划完成工业产值5亿元，同比增长8% ",
}


@pytest.mark.parametrize("piece", RUNS.values(), ids=RUNS.keys())
def test_the_characters_searched_grow_with_the_text_not_with_its_square(piece, characters_searched):
    """Each figure's searches look at a window around it, not at the whole clause before it: twice the run, twice
    the characters searched (searching the clause before each figure made it four times)."""
    once, twice = characters_searched(piece * 300), characters_searched(piece * 600)
    assert twice <= 2.2 * once, f"{once:,} characters searched for 300 pieces, {twice:,} for 600"


def test_a_run_of_figures_reads_as_its_pieces_do():
    """A figure in a long run is read as it is read in a short one: the window changes nothing near it."""
    piece = "甲村总投资4000万元、注册资本20xx万元、租用标准厂房5200平方米、乙村用工120人、增长1x.x%、"
    cols = ["indicator", "value", "unit", "qualifier", "period", "kind", "is_growth_rate", "placeholder", "figure"]
    one = extract_targets(piece)[cols].astype(str).values.tolist()
    many = extract_targets(piece * 200)[cols].astype(str).values.tolist()
    assert many == one * 200


def test_a_long_clause_is_given_around_each_figure():
    """Each row of a long clause gives the part of it around its figure (the whole clause in every row made a table
    of the square of its length), with the raw offsets of that part."""
    text = "产值5亿元 " * 2000
    t = extract_targets(text)
    assert t["clause"].str.len().max() <= 2 * T._WINDOW + 10
    for r in t.iloc[[0, 1000, 1999]].itertuples():
        assert text[r.raw_start:r.raw_end].replace(" ", "") == r.clause and r.figure in r.clause


def test_the_windows_are_wider_than_what_the_patterns_match():
    """The patterns read in a window around a figure, or searched once per clause, match fewer characters than the
    window (a match cut by its edge would read differently); \\s* aside, which :func:`_tail` takes whole."""
    from re import _parser

    def widest(rx):
        return _parser.parse(rx.pattern.replace(r"\s*", "")).getwidth()[1]

    once_per_clause = (T._PROJECTION_RE, T._STRONG_TARGET, T._SEEK_RE, T._STRONG_ACTUAL, T._TARGET_WORDS,
                       T._EXPECTED_RE, T._RATE_WORD_RE)
    assert max(map(widest, once_per_clause)) + 4 <= T._LONGEST  # (+ the longest look-ahead, 免疫)
    in_window = (T._GROWTH_BEFORE, T._DOWN, T._SHARE_BEFORE_RE, T._QUAL_BEFORE, T._QUAL_AFTER, T._RATE_AFTER_RE)
    assert max(map(widest, in_window)) < T._WINDOW
    assert widest(T._QUAL_AFTER) + widest(T._OBJECT_RE) + 2 < T._WINDOW  # _object_after, after 的
    assert T._CLAUSE_MAX >= 2 * T._WINDOW


def test_a_target_word_at_the_start_of_a_long_clause_still_counts():
    """What a clause says before its figures (计划) holds for all of them, however far the last one is."""
    t = extract_targets("2026年计划 " + "产值5亿元 税收1亿元 " * 300)
    assert set(t["kind"]) == {"target"} and len(t) == 600


def test_a_rate_word_at_the_start_of_a_long_clause_still_counts():
    t = extract_targets("各镇增速 " + "甲镇8% 乙镇7.5% " * 300)
    assert t["is_growth_rate"].all() and len(t) == 600


# --- digits before a placeholder belong to it --------------------------------------------------------------

# seed 002 (篇9, 篇3 and 篇1): the gold gives 20xx万元, 20xx多份, 20xx亩 as the figures
SEED_PLACEHOLDERS = [
    ("今年上半年百禄镇共引项目3个:一是连云港奥恒制衣有限公司,总投资4000万元,注册资本20xx万元,租用园区标准厂房5200平方米",
     "20xx万元", "注册资本", "万元"),
    ("上半年,我街道共出动人员2100多人(次),检查企业1511多间(次),人员密集场所370多间(次),共发出现场检查表20xx多份,下达责令限期整改指令书23份",
     "20xx多份", "发出现场检查表", "份"),
    ("重点打造好20xx亩石榴园和20xx亩竹柳基地,加大三和千张、萝卜包装宣传力度", "20xx亩", "石榴园", "亩"),
    ("税收增长1x.x%", "1x.x%", "税收", "%"),
    ("营收3,xxx万元", "3,xxx万元", "营收", "万元"),
    ("营收1,2xx.x万元", "1,2xx.x万元", "营收", "万元"),
    ("城镇新增就业2xx人", "2xx人", "城镇新增就业", "人"),
]


@pytest.mark.parametrize("text, figure, indicator, unit", SEED_PLACEHOLDERS, ids=[f for _, f, _, _ in SEED_PLACEHOLDERS])
def test_digits_before_a_placeholder_are_part_of_the_hidden_figure(text, figure, indicator, unit):
    t = extract_targets(text)
    row = t[t["figure"] == figure].iloc[:1]
    assert len(row) == 1, t[["indicator", "figure"]].values.tolist()
    assert row["indicator"].iloc[0] == indicator
    assert row["unit"].iloc[0] == unit and bool(row["placeholder"].iloc[0]) and math.isnan(row["value"].iloc[0])
    assert not t["indicator"].str.contains(r"[0-9]$").any()


def test_a_placeholder_is_never_a_number():
    text = "注册资本20xx万元，增长1x.x%，营收3,xxx万元，新增2xx人，完成x.xx亿元，增长5%，新建3个"
    t = extract_targets(text)
    hidden = t[t["figure"].str.contains("x")]
    assert len(hidden) == 5 and hidden["placeholder"].all() and hidden["value"].isna().all()
    assert not t.loc[~t["placeholder"], "figure"].str.contains("x").any()


def test_a_year_placeholder_is_still_no_figure():
    """20xx年 is a year: no figure, and the text before it is no indicator's end."""
    t = extract_targets("20xx年实现产值xx亿元，对10户20xx年贫困户泥砖房进行改造，(-20xx年)")
    assert t["figure"].tolist() == ["xx亿元", "10户"]
    assert t["indicator"].iloc[0] == "20xx年实现产值"


@pytest.mark.parametrize("text, want", [
    ("注册资本20xx万元", [("20xx", "number")]),
    ("共发出现场检查表20xx多份", [("20xx", "number")]),
    ("重点打造好20xx亩石榴园", [("20xx", "number")]),
    ("20xx年实现产值", [("20xx", "year")]),
    ("对20xx年度工作", [("20xx", "year")]),
    ("(-20xx年)", [("20xx", "year")]),
    ("税收增长1x.x%", [("1x.x", "number")]),
    ("营收3,xxx万元", [("3,xxx", "number")]),
    ("新增2xx人", [("2xx", "number")]),
])
def test_a_placeholder_span_is_the_figure_s_number(text, want):
    """find_placeholders reads the same number as the figure does (leading digits included), and 20xx before a
    unit as a hidden amount, not a year."""
    got = find_placeholders(pa.clean_text(text).text)
    assert list(zip(got["placeholder"], got["kind"])) == want


# --- a list of bare numbers shares the unit of the last ----------------------------------------------------

YUNNAN = ("累计认定国家地理标志保护产品134个，蔬菜、小浆果设施产量占比分别提高15、22个百分点，花卉产量全球第一。"
          "农村卫生户厕覆盖率、污水治理（管控）率、生活垃圾处理设施覆盖率分别提高20.9、36.2、54个百分点。")


def test_bare_numbers_listed_before_a_unit_are_figures_of_it():
    """2026 Yunnan report: 分别提高15、22个百分点 is two figures of the same indicator, both rises."""
    t = extract_targets(YUNNAN)
    rows = t[t["unit"] == "个百分点"]
    assert rows["value"].tolist() == [15.0, 22.0, 20.9, 36.2, 54.0]
    assert rows["figure"].tolist() == ["15", "22个百分点", "20.9", "36.2", "54个百分点"]
    assert rows["indicator"].tolist()[:2] == ["蔬菜、小浆果设施产量占比"] * 2
    assert rows["indicator"].nunique() == 2 and not rows["indicator"].str.contains("[0-9]").any()
    assert rows["is_growth_rate"].all() and set(rows["direction"]) == {"增长"}


@pytest.mark.parametrize("text", ["第1、2个", "1、30个行政村完成改造", "完成1/4、1/3", "2025、2026年", "304、305国道",
                                  "G15、G25高速", "共3、4期工程"])
def test_numbers_that_are_no_list_of_one_unit_stay_out(text):
    t = extract_targets(text)
    assert len(t) <= 1 and not t["figure"].str.fullmatch(r"[0-9.,x]+").any()


# --- the functions that take a targets table read one back from a CSV file ---------------------------------

@pytest.fixture(scope="module")
def provincial_targets():
    names = sorted(PROVINCIAL.glob("*.txt"))[:6]
    texts = {p.stem: p.read_text(encoding="utf-8") for p in names}
    texts["甲镇"] = "一、上半年工作\n完成固定资产投资xx亿元，同比增长5%。\n二、下半年工作计划\n固定资产投资增长6%。"
    corpus = pa.texts_corpus(texts)
    return extract_targets(corpus, workers=1)


def _rows(df: pd.DataFrame) -> list[list[str]]:
    return df.astype(str).replace({"nan": "", "<NA>": "", "None": ""}).values.tolist()


@pytest.mark.parametrize("read", [{}, {"keep_default_na": False}], ids=["read_csv", "keep_default_na=False"])
def test_a_targets_table_read_back_from_csv_gives_the_same_answers(provincial_targets, tmp_path, read):
    f = tmp_path / "targets.csv"
    provincial_targets.to_csv(f, index=False)
    back = pd.read_csv(f, **read)
    main = main_growth_targets(provincial_targets)
    assert len(main) >= 5
    assert _rows(main_growth_targets(back)[["doc_id", "value", "qualifier", "clause"]]) == \
        _rows(main[["doc_id", "value", "qualifier", "clause"]])
    pairs = pair_targets(provincial_targets)
    assert len(pairs)
    assert _rows(pair_targets(back)) == _rows(pairs)
    assert _rows(count_hidden(back)) == _rows(count_hidden(provincial_targets))


def test_a_value_column_of_words_is_named_with_what_to_do(provincial_targets):
    t = provincial_targets.copy()
    t["value"] = t["value"].astype(object)
    t.loc[t.index[0], "value"] = "about five"
    with pytest.raises(ValueError, match=r"column 'value'.*'about five'.*read_csv"):
        pair_targets(t)


@pytest.mark.parametrize("folder", [HERE.parent / "data" / "raw", PROVINCIAL])
def test_reading_by_windows_gives_the_rows_reading_whole_clauses_gives(folder, monkeypatch):
    """A clause over _CLAUSE_MAX is read a window each side of each figure, and what is said before a figure is looked
    up once per clause; a shorter one is read whole. Reading every clause by windows (the limit at 0) gives the
    same rows on the real texts, all but the part of the clause shown and its offsets."""
    corpus = pa.load_corpus(folder, cache=False, progress=False, engine="serial")
    whole = extract_targets(corpus, workers=1)
    monkeypatch.setattr(T, "_CLAUSE_MAX", 0)
    windows = extract_targets(corpus, workers=1)
    same = [c for c in whole.columns if c not in ("clause", "raw_start", "raw_end")]
    assert len(whole) > 200
    pd.testing.assert_frame_equal(windows[same], whole[same])
    assert (windows["clause"].str.len() <= whole["clause"].str.len()).all()
