"""Cleaning: real seed snippets, the width policy, the edit record and its offset map."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from plan_analysis.normalize import clean_text, edits_frame, find_placeholders
from plan_analysis.offsets import apply_edits

RAW = Path(__file__).resolve().parent.parent / "data" / "raw"


def _raw(name: str) -> str:
    return next(RAW.glob(f"{name}_*.txt")).read_text(encoding="utf-8")


# --- furniture, exactly as it stands in the seeds ------------------------------------------

def test_paywall_marker_inside_a_word_is_removed_and_recorded():
    snippet = "一是严管深挖夯##paidbegin##实底气。"
    c = clean_text(snippet)
    assert c.text == "一是严管深挖夯实底气。"
    assert [(e.kind, snippet[e.start:e.end]) for e in c.edits] == [("paywall_marker", "##paidbegin##")]


def test_ad_line_of_seed_000_is_removed():
    raw = _raw("000")
    c = clean_text(raw)
    assert "更多素材" not in c.text and "##paid" not in c.text
    ads = [raw[e.start:e.end] for e in c.edits if e.kind == "ad"]
    assert ads == ["^【&更多素材搜索哒哒文库#】"]


def test_mill_preamble_and_related_line_of_seed_002():
    raw = _raw("002")
    c = clean_text(raw)
    assert not c.text.startswith("在日常工作中")
    assert "九九公文网" not in c.text and "相关文章" not in c.text
    kinds = {e.kind for e in c.edits}
    assert {"mill_preamble", "related_articles", "anticopy"} <= kinds


@pytest.mark.parametrize("junk, clean", [
    ("摆正自己的.位置，树立全局意识", "摆正自己的位置，树立全局意识"),
    ("形成赏心悦目的'视觉效果。", "形成赏心悦目的视觉效果。"),
    ("按照“打防并举，上下联动”的.工作方针", "按照“打防并举，上下联动”的工作方针"),
])
def test_anticopy_junk(junk, clean):
    assert clean_text(junk).text == clean


def test_site_header_removed_and_kept_as_record():
    raw = _raw("004")
    c = clean_text(raw)
    assert c.text.startswith("前江街道2023年度工作总结及2024年度工作计划")
    header = "".join(raw[e.start:e.end] for e in c.edits if e.kind == "site_header")
    assert "成文日期: 2024-02-22" in header and "索引号" in header


# --- width policy ------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("过去一年,前江街道在区委区政府的坚强领导下", "过去一年，前江街道在区委区政府的坚强领导下"),
    ("(一)聚焦靶向发力,护航经济发展行稳致远。", "（一）聚焦靶向发力，护航经济发展行稳致远。"),
    ("使全街标准化建设率达到90％以上", "使全街标准化建设率达到90%以上"),
    ("全年计划完成７亿元", "全年计划完成7亿元"),
    ("同比增长77%;1-5月份工业增加值31.69亿元", "同比增长77%；1-5月份工业增加值31.69亿元"),
    ("完成固定资产投资7.06亿元,同比 增长-40.8%", "完成固定资产投资7.06亿元，同比增长-40.8%"),
    ("拆除面积约15,749平方米", "拆除面积约15,749平方米"),
    ('按照"公开为原则,不公开为例外"的要求', "按照“公开为原则，不公开为例外”的要求"),
    ("推动建立1-2个小区业主委员会", "推动建立1-2个小区业主委员会"),
    ("确保每季度编发《内部送阅件》1—2期", "确保每季度编发《内部送阅件》1—2期"),
    ("上午9:30召开会议", "上午9:30召开会议"),
    ("The 2024 plan, in English: fine.", "The 2024 plan, in English: fine."),
    ("中\u00a0文\u3000空\u2003格", "中文空格"),
])
def test_width_policy(raw, expected):
    assert clean_text(raw).text == expected


def test_crlf_and_bom_free_newlines():
    c = clean_text("第一行\r\n第二行\r第三行")
    assert c.text == "第一行\n第二行\n第三行"
    assert {e.kind for e in c.edits} == {"newline"}


def test_blank_lines_collapse_but_paragraph_breaks_stay():
    assert clean_text("\n\n甲\n\n\n\n乙\n\n").text == "甲\n\n乙"


# --- the record --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["000", "001", "002", "003", "004"])
def test_edits_reproduce_clean_text_and_map_back(name):
    raw = _raw(name)
    c = clean_text(raw)
    assert apply_edits(raw, c.edits)[0] == c.text
    # every kept character maps to itself in the raw file, every rewritten one to its source
    rewritten = {(e.start, e.end): e for e in c.edits}
    for i, ch in enumerate(c.text):
        rs, re_ = c.offsets.char_span(i)
        if (rs, re_) in rewritten:
            assert ch in rewritten[(rs, re_)].new
        else:
            assert raw[rs:re_] == ch, (i, ch, raw[rs:re_])
    # every raw character is either kept or inside exactly one edit
    covered = [0] * len(raw)
    for e in c.edits:
        for j in range(e.start, e.end):
            covered[j] += 1
    kept = set()
    for i in range(len(c.text)):
        rs, re_ = c.offsets.char_span(i)
        kept.update(range(rs, re_))
    for j in range(len(raw)):
        assert covered[j] == 1 or (covered[j] == 0 and j in kept), (j, raw[j])


def test_edits_frame_lists_removed_text():
    df = edits_frame(clean_text("摆正自己的.位置"), source_file="x.txt")
    assert df.to_dict("records") == [{"source_file": "x.txt", "kind": "anticopy", "raw_start": 5, "raw_end": 6,
                                      "removed": ".", "inserted": ""}]


# --- placeholders --------------------------------------------------------------------------------

def test_placeholders_in_seed_003_sentence():
    s = "规上工业产值xxxx.x万元，增速xx.xx%，限上商贸零销售额xxxx.x万元，总投资x.xx亿元，开展“x+x+N”类问题整改，以A新时代为指导，20xx年"
    got = find_placeholders(s)[["placeholder", "kind"]].values.tolist()
    assert got == [["xxxx.x", "number"], ["xx.xx", "number"], ["xxxx.x", "number"], ["x.xx", "number"],
                   ["x+x+N", "formula"], ["A", "name"], ["20xx", "year"]]


@pytest.mark.parametrize("text", ["“1+4+X”辖区管理体系", "1586专项行动", "省道s309两边", "国家4a级旅游景区", "10mw项目"])
def test_not_placeholders(text):
    assert find_placeholders(text).empty


def test_redactions():
    got = find_placeholders("辖区面积***平方公里，将XX模塑产业链重组，*月*日，A总书记考察")
    assert got["kind"].tolist() == ["redaction", "redaction", "date", "date", "name"]


# --- properties ----------------------------------------------------------------------------------

plan_like = st.lists(st.sampled_from([
    "一、", "（一）", "(二)", "1、", "一是", "推进", "规上工业总产值", "增长", "24%", "９０％", "xx", "20xx", "x.x",
    "***", "XX", "A新时代", ",", ";", ":", "。", "\n", "\n\n\n", " ", "\u3000", "\u00a0", "\r\n", "##paidbegin##",
    "^【&更多素材搜索哒哒文库#】", "的.位置", "'", '"', "(", ")", "索引号: 123\n", "小编为您带来了\n", "相关文章:\n",
]), max_size=40).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), plan_like, st.text(alphabet=st.characters(min_codepoint=0x3000, max_codepoint=0x9fff))))
def test_clean_never_raises_is_idempotent_and_maps_back(text):
    c = clean_text(text)
    assert clean_text(c.text).text == c.text
    assert apply_edits(text, c.edits)[0] == c.text
    for e in c.edits:
        assert 0 <= e.start < e.end <= len(text)
    for i in range(len(c.text)):
        rs, re_ = c.offsets.char_span(i)
        assert 0 <= rs < re_ <= len(text)
    if c.text:
        rs, re_ = c.offsets.raw_span(0, len(c.text))
        assert 0 <= rs <= re_ <= len(text)


#: text dense in what placeholders are made of: x's next to digits, thousands commas, points, X and *
placeholder_dense = st.text(alphabet="xx03,.+X* 年", max_size=12)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), plan_like, placeholder_dense))
def test_placeholder_spans_slice_back_and_never_overlap(text):
    found = find_placeholders(text)
    for row in found.itertuples():
        assert text[row.start:row.end] == row.placeholder
    # a number placeholder takes the digits before its x's (the 3, of 3,xxx): never those of another placeholder
    ends = found["end"].tolist()
    assert all(b <= a for a, b in zip(found["start"].tolist()[1:], ends))


def test_other_line_ends_become_newlines_and_are_recorded():
    # found by hypothesis: a lone NEL was neither kept in a document nor recorded as removed
    c = clean_text("甲镇\x85一、抓党建\u2028二、抓经济\u2029")
    assert c.text == "甲镇\n一、抓党建\n二、抓经济"
    assert [e.kind for e in c.edits] == ["newline", "newline", "blank_lines"]  # a final line end goes


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=200), st.lists(st.tuples(st.integers(-2, 210), st.integers(-2, 210)), max_size=30))
@example("甲,##paidbegin##乙 ,", [(1, 2), (0, 2), (2, 3), (1, 1), (4, 4), (4, 9), (-1, -1)])  # a rewrite before a removal
def test_vectorised_raw_spans_equal_raw_span_and_maps_need_no_raw_text(text, spans):
    from plan_analysis.offsets import offset_map

    c = clean_text(text)
    m = c.offsets
    rebuilt = offset_map(c.edits, len(text))
    assert (rebuilt.clean_starts, rebuilt.raw_starts, rebuilt.raw_ends) == (m.clean_starts, m.raw_starts, m.raw_ends)
    ok = []
    for a, b in spans:
        try:
            ok.append(((a, b), m.raw_span(a, b)))
        except IndexError as exc:
            with pytest.raises(IndexError):
                m.raw_spans([a], [b])
            with pytest.raises(IndexError, match=re.escape(str(exc))):
                m.raw_span_list([0, a], [0, b])
    if ok:
        ra, rb = m.raw_spans([s[0] for s, _ in ok], [s[1] for s, _ in ok])
        assert list(zip(ra.tolist(), rb.tolist())) == [r for _, r in ok]
        la, lb = m.raw_span_list([s[0] for s, _ in ok], [s[1] for s, _ in ok])
        assert list(zip(la, lb)) == [r for _, r in ok]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=80), plan_like), min_size=1, max_size=5),
       st.lists(st.tuples(st.integers(0, 4), st.integers(-2, 90), st.integers(-2, 90)), max_size=40),
       st.randoms(use_true_random=False))
def test_offset_table_maps_every_text_as_its_own_offset_map(texts, spans, rnd):
    from plan_analysis.offsets import offset_table

    cleaned = [clean_text(t) for t in texts]
    edits = [(i, e) for i, c in enumerate(cleaned) for e in c.edits]
    rnd.shuffle(edits)  # the table sorts a text's edits itself
    table = offset_table([i for i, _ in edits], [e.start for _, e in edits], [e.end for _, e in edits],
                         [len(e.new) for _, e in edits], [len(t) for t in texts])
    assert table.clean_lens.tolist() == [len(c.text) for c in cleaned]
    ok = []
    for i, a, b in spans:
        i %= len(texts)
        try:
            ok.append(((i, a, b), cleaned[i].offsets.raw_span(a, b)))
        except IndexError:
            with pytest.raises(IndexError):
                table.raw_spans([i], [a], [b])
    if ok:
        ra, rb = table.raw_spans(*zip(*[s for s, _ in ok]))
        assert list(zip(ra.tolist(), rb.tolist())) == [r for _, r in ok]


def test_offset_table_names_overlapping_edits():
    from plan_analysis.offsets import offset_table

    with pytest.raises(ValueError, match=r"edits overlap .* \[3, 6\) of text 1"):
        offset_table([0, 1, 1], [0, 2, 3], [2, 4, 6], [0, 0, 0], [10, 10])


def test_placeholder_shortcuts_name_every_kind_and_never_hide_a_match():
    from plan_analysis import _patterns as P

    assert set(P.PLACEHOLDER_NEEDS) == {kind for kind, _ in P.PLACEHOLDER_PATTERNS}
    samples = "增速xx.xx%，20xx年，x+x+N模式，XX公司，***平方米，2024年*月，A新时代，xxxx年"
    for kind, rx in P.PLACEHOLDER_PATTERNS:
        found = [m.group() for m in rx.finditer(samples)]
        assert found, kind
        assert all(any(ch in f for ch in P.PLACEHOLDER_NEEDS[kind]) for f in found), kind


def test_cleaning_needles_lie_in_every_match():
    """Each pattern's needles (``P.NEEDS``) cover its required literals: skipping a text without them hides nothing."""
    import re

    from plan_analysis import _patterns as P
    from plan_analysis.lexicons import required_literals

    assert P.AD_RE.pattern.startswith("\\^?【") and P.NEEDS[P.AD_RE] == ("【",)  # a literal every match begins with
    for rx, needles in P.NEEDS.items():
        if rx is P.AD_RE:
            continue
        literals = required_literals(rx)
        assert literals, rx.pattern
        for lit in literals:
            assert any(n in lit for n in needles), (rx.pattern[:40], lit)
    # and on the text of every seed: a line a pattern matches holds a needle
    texts = [p.read_text(encoding="utf-8") for p in sorted(Path("data/raw").glob("*.txt"))]
    hits = 0
    for rx, needles in P.NEEDS.items():
        for text in texts:
            for m in rx.finditer(text):
                hits += 1
                assert any(n in m.group() for n in needles), (rx.pattern[:40], m.group())
    assert hits >= 5
    assert re.compile(P.ANTICOPY_RE.pattern).findall("的.位置 a.b 的.b 1'2 规'划") == [".", "'"]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("的位.'．－1２٣ 甲\n")), max_size=30))
def test_character_first_patterns_match_as_the_leading_lookbehind_forms(text):
    """ANTICOPY_RE and FULL_DIGIT_PUNCT_RE (character first) find what their look-behind-first forms find."""
    import re

    from plan_analysis import _patterns as P

    han = f"[{P.HAN}]"
    anticopy = re.compile(f"(?<={han})[.'](?={han})")
    digit = re.compile(r"(?<=[0-9０-９])[．－](?=[0-9０-９])")
    assert [m.span() for m in P.ANTICOPY_RE.finditer(text)] == [m.span() for m in anticopy.finditer(text)]
    assert [m.span() for m in P.FULL_DIGIT_PUNCT_RE.finditer(text)] == [m.span() for m in digit.finditer(text)]


# the placeholder patterns as first written, look-behind first (the library's put a character first, for speed)
_PLAIN_PLACEHOLDERS = {
    "formula": r"(?<![A-Za-z0-9])x\s*\+\s*x(?:\s*\+\s*[A-Za-zx])*(?![A-Za-z0-9])",
    "year": r"(?<![A-Za-z0-9])(?:19|20)x{2}(?![A-Za-z0-9])|(?<![A-Za-z0-9])x{4}(?=\s*(?:年|—|-|－))",
    "number": r"(?<![A-Za-z0-9.])[0-9]*x+(?:\.[x0-9]+)?(?![A-Za-z0-9])",
    "redaction": r"(?<![A-Za-z0-9])X{2,}(?![A-Za-z0-9])|\*{2,}",
    "date": r"\*(?=\s*[年月日])",
    "name": r"(?<![A-Za-z0-9])[A-Z](?=新时代|总书记|同志|书记[^处]|主席|省长|市长)",
}


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("x X*1209.+ aA年-新时代书记处\n")), max_size=40))
def test_placeholder_patterns_match_as_their_plain_forms(text):
    """Every placeholder pattern finds the same spans as its plain look-behind-first form."""
    import re

    from plan_analysis import _patterns as P

    assert set(_PLAIN_PLACEHOLDERS) == {kind for kind, _ in P.PLACEHOLDER_PATTERNS}
    for kind, rx in P.PLACEHOLDER_PATTERNS:
        plain = re.compile(_PLAIN_PLACEHOLDERS[kind])
        assert [m.span() for m in rx.finditer(text)] == [m.span() for m in plain.finditer(text)], kind


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("12090 年前到至在力争取确保—-~～x\n")), max_size=30))
@example("在2019年，到2020年 至2021年前2022年，力争2023年争取2024年确保2025年—2026年~2027年 2028年")
@example("12019年 x2019年 2019年前 2019年以前 2020 年")
def test_explicit_year_pattern_matches_as_its_plain_form(text):
    """meta's explicit-year pattern (year first) finds what the look-behind-first form finds."""
    import re

    from plan_analysis import meta

    plain = re.compile(r"(?<![0-9—\-~～])(?<!到|至|前|在)(?<!力争|争取|确保)((?:19|20)[0-9]{2})"
                       r"(?=\s*年(?!前|以前|远景|目标|基本|全面|实现|建成|左右))")
    assert [m.span(1) for m in meta._EXPLICIT_YEAR_RE.finditer(text)] == [m.span(1) for m in plain.finditer(text)]


def _punct_line_by_line(text):
    """normalize._detect_punct as first written: every pattern run on each line holding a Han character."""
    from plan_analysis import _patterns as P
    from plan_analysis.offsets import Edit

    out, pos = [], 0
    for line in text.split("\n"):
        if P.HAN_RE.search(line):
            for m in P.HALF_PUNCT_RE.finditer(line):
                i, ch = m.start(), m.group()
                before = line[i - 1] if i else ""
                if ch == "," and before.isdigit() and P.THOUSANDS_AFTER_RE.match(line, i + 1):
                    continue
                if ch == ":" and before.isdigit() and line[i + 1:i + 2].isdigit():
                    continue
                if ch in "?!" and (before in "?!" or line[i + 1:i + 2] in ("?", "!")):
                    continue
                out.append(Edit(pos + i, pos + i + 1, P.HALF_TO_FULL[ch], "width"))
            for m in P.PAREN_RE.finditer(line):
                out.append(Edit(pos + m.start(), pos + m.end(), "（" if m.group() == "(" else "）", "width"))
            for m in P.STRAIGHT_QUOTE_PAIR_RE.finditer(line):
                if P.HAN_RE.search(m.group(1)):
                    out.append(Edit(pos + m.start(), pos + m.start() + 1, "“", "quotes"))
                    out.append(Edit(pos + m.end() - 1, pos + m.end(), "”", "quotes"))
        pos += len(line) + 1
    return sorted(out)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('甲乙,;:!?()"1234 a\n')), max_size=60))
@example('甲,1,234,5\n9:30乙?!\n"甲"\n?甲 ("a")\n15,7491甲,\n!甲?')
def test_punctuation_found_over_the_whole_text_equals_line_by_line(text):
    from plan_analysis.normalize import _detect_punct

    assert sorted(_detect_punct(text)) == _punct_line_by_line(text)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("甲a1， \u3000\t\u00a0\n")), max_size=50))
@example(" 甲 \n\n \t\na  b\u3000c\n甲 乙 \n ")
def test_spaces_found_on_the_lines_holding_one_equal_every_line(text):
    """_detect_space looks only at lines holding a space; every line's edits, as first written, are the same."""
    from plan_analysis.normalize import _detect_space, _line_space_edits

    expected, pos = [], 0
    for line in text.split("\n"):
        expected += list(_line_space_edits(line, pos))
        pos += len(line) + 1
    assert list(_detect_space(text)) == expected
