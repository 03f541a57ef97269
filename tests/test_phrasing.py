"""Phrasing: slogans and formulae on real seed sentences, keyness with a known answer, KWIC offsets,
template reuse on planted copies, word-cloud glyph coverage, and the ``slogans``/``reuse`` commands."""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
import os
import re
import random
import subprocess
import sys
import time
from pathlib import Path

import matplotlib
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from plan_analysis import clean_text, load_corpus
from plan_analysis import phrasing as ph
from plan_analysis.fonts import find_cjk_font
from plan_analysis.tokenize import tokenize

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"
D000_2 = "000_7170b9d65b80f81b-2"
D001 = "001_64b46b310826ad2c-1"
D002_5 = "002_edca951219e605da-5"
D003_1 = "003_f7a6677d878e2b53-1"
D003_2 = "003_f7a6677d878e2b53-2"
D004 = "004_c7e8bd28e2541a55-1"


@pytest.fixture(scope="module")
def corpus():
    # not read from a snapshot: values kept with one (slogan words, token counts, from this run or an earlier
    # one) would stand in for the counting these tests check; tests of what is kept load their own
    return load_corpus(RAW, cache=False, progress=False)


@pytest.fixture(scope="module")
def slogans(corpus):
    return ph.extract_slogans(corpus)


def _pairs(text: str) -> list[tuple[str, str]]:
    return [(r.slogan, r.kind) for r in ph.extract_slogans(text).itertuples()]


# --- slogans and formulae on real seed sentences (expected lists written by hand) ---------------
SEED_SENTENCES = [
    (D004, "坚定不移践行“八八战略”，牢牢把握迭代升级的“1586”专项行动总要求，奋力打造“创智新天地·拥江未来城”，",
     [("八八战略", "quoted"), ("1586", "formula"), ("创智新天地·拥江未来城", "quoted")]),
    (D004, "以“1+4+X”辖区管理体系为抓手，着力破解辖区管理主体不明、职责边界不清等难点问题，",
     [("1+4+X", "formula")]),
    (D004, "全面系统贯彻创新深化、改革攻坚、开放提升“三个一号工程”要求，积极落实招商引资“头号工程”，以稳增长作为“第一主题”，",
     [("三个一号工程", "formula"), ("头号工程", "quoted"), ("第一主题", "quoted")]),
    (D003_1, "认真开展“x+x+N”类生态环境问题整改，加强集镇污水治理，",
     [("x+x+N", "formula")]),
    (D003_2, "始终以“六治六提”“六比六晒”作风建设的行动自觉，呈现“你追我赶、争先进位”的良好态势，",
     [("六治六提", "formula"), ("六比六晒", "formula"), ("你追我赶、争先进位", "quoted")]),
    (D003_2, "（二）抓实“两条主线”，民生福祉保障有力", [("两条主线", "formula")]),
    (D000_2, "研发创新“补链”、重点领域“延链”、供应链“稳链”五大工程，将XX模塑产业链进行优势重组和资源共享，",
     [("补链", "quoted"), ("延链", "quoted"), ("稳链", "quoted"), ("五大工程", "formula")]),
    (D000_2, "升华城镇设施、服务、产业、品质、治理五大方面，打造功能便民环境美、共享乐民生活美、兴业富民产业美、"
             "魅力亲民人文美、善治为民治理美的“五美”目标，",
     [("五大方面", "formula"), ("五美", "formula")]),
    (D002_5, "增强三种意识。", [("三种意识", "formula")]),
]

# real sentences with numerals or quotes that hold no slogan or formula
NOT_SLOGANS = [
    (D004, "深入学习贯彻党的二十大精神及历次全会精神，"),                      # 二十大: a congress, not a formula
    (D004, "深入学习贯彻省委十五届四次全会、市委十四届五次全会和区委十届五次全会部署要求，"),  # sessions
    ("000_7170b9d65b80f81b-1", "严格日常管理，深挖“沉睡”、“低效”编制，"),       # emphasis of a common word
    (D003_1, "目前，两个村级集体电子产业项目已实现实质性开工投产，"),               # a count, not a formula
    (D004, "一是主要指标稳步增长。"),
]


@pytest.mark.parametrize("doc_id, sentence, expected", SEED_SENTENCES, ids=[s[2][0][0] for s in SEED_SENTENCES])
def test_slogans_in_seed_sentences(corpus, doc_id, sentence, expected):
    assert sentence in corpus.text(doc_id), "the seed sentence must be real"
    assert _pairs(sentence) == expected


@pytest.mark.parametrize("doc_id, sentence", NOT_SLOGANS, ids=[s[1][:8] for s in NOT_SLOGANS])
def test_no_false_slogans_in_seed_sentences(corpus, doc_id, sentence):
    assert sentence in corpus.text(doc_id)
    assert _pairs(sentence) == []


def test_placeholder_formula_is_flagged():
    s = ph.extract_slogans("配强“x+x+N”网格力量，以“1+4+X”为抓手")
    assert s.set_index("slogan")["placeholder"].to_dict() == {"x+x+N": True, "1+4+X": False}
    assert set(s["kind"]) == {"formula"}


def test_corpus_slogans_per_document(corpus, slogans):
    assert tuple(slogans.columns[:len(ph.SLOGAN_FIELDS)]) == ph.SLOGAN_FIELDS
    d004 = slogans[slogans["doc_id"] == D004].set_index("slogan")
    for s in ("八八战略", "1586", "1+4+X", "三个一号工程", "枫桥经验", "大综合一体化"):
        assert s in d004.index, s
    assert d004.at["二次开发", "count"] == 3  # “二次开发” quoted twice and written once more
    assert d004.at["三个一号工程", "kind"] == "formula"
    assert not slogans.duplicated(["doc_id", "slogan"]).any(), "one row per (document, slogan)"
    d003 = set(slogans.loc[slogans["doc_id"] == D003_2, "slogan"])
    assert {"六治六提", "两条主线", "三大支撑", "x+x+N"} <= d003
    assert "二十大精神" not in set(slogans["slogan"])


def test_slogan_offsets_slice_back_to_raw(corpus, slogans):
    for r in slogans.itertuples():
        raw = corpus.raw_slice(r.source_file, r.raw_start, r.raw_end)
        assert clean_text(raw).text == r.slogan, (r.doc_id, r.slogan, raw)
        assert r.slogan in r.sentence


def test_slogans_are_the_same_over_processes(corpus, slogans, monkeypatch):
    monkeypatch.setattr(ph, "SLOGANS_PARALLEL_MIN_CHARS", 0)  # the pool, for the bundled corpus too
    pd.testing.assert_frame_equal(ph.extract_slogans(corpus, workers=2), slogans)
    pd.testing.assert_frame_equal(ph.extract_slogans(corpus, workers=1), slogans)


def _clear_of_quotes_the_plain_way(text: str, quoted) -> set[tuple[int, int]]:
    """The formula matches of ``text`` that touch no quoted span, each tested against every span in turn."""
    return {m.span() for rx in (ph._MEASURE_RE, ph._PARALLEL_RE, ph._DIGIT_FORMULA_RE) for m in rx.finditer(text)
            if not any(qs - 1 <= m.start() < qe + 1 or qs - 1 < m.end() <= qe + 1 for qs, qe, _ in quoted)}


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(["五大工程", "两条主线", "六治六提", "1+4+X", "“", "”", "，", "的", "甲", "推进"]),
                max_size=12).map("".join), st.data())
def test_bare_formulae_leave_out_exactly_the_matches_touching_a_quoted_phrase(text, data):
    """Quoted spans may nest, overlap, touch or come in any order: a match is left out when it starts, or its last
    character stands, within one character of any of them. (The other tests of a match do not look at quotes:
    what passes them is what the function gives with no quotes at all.)"""
    # spans begin anywhere, or a few characters from where a match begins or ends (the edges of the rule)
    edges = sorted({p + d for s, e, _ in ph._bare_formulae(text, []) for p in (s, e) for d in (-2, -1, 0, 1, 2)
                    if p + d >= 0})
    starts = st.one_of(st.integers(0, 60), st.sampled_from(edges)) if edges else st.integers(0, 60)
    spans = data.draw(st.lists(st.tuples(starts, st.integers(1, 8)), max_size=5))
    quoted = [(a, a + n, text[a:a + n]) for a, n in spans]
    got = {(s, e) for s, e, _ in ph._bare_formulae(text, quoted)}
    unquoted = {(s, e) for s, e, _ in ph._bare_formulae(text, [])}
    assert got == _clear_of_quotes_the_plain_way(text, quoted) & unquoted


def test_a_quote_inside_a_longer_one_does_not_shorten_it():
    text = "推进五大工程推进两条主线"
    assert [w for _, _, w in ph._bare_formulae(text, [])] == ["五大工程", "两条主线"]
    assert ph._bare_formulae(text, [(0, 13, text), (1, 2, "进")]) == []
    assert [w for _, _, w in ph._bare_formulae(text, [(1, 2, "进")])] == ["两条主线"]


def _sentence_the_plain_way(corpus, doc_id: str, pos: int) -> str:
    s = corpus.sentences
    mine = s[s["doc_id"] == doc_id].sort_values("start", kind="stable")
    before = mine[mine["start"] <= pos]
    if len(before) and pos < before["end"].iloc[-1]:
        return before["text"].iloc[-1]
    text = corpus.text(doc_id)
    return text[text.rfind("\n", 0, pos) + 1:text.find("\n", pos) if text.find("\n", pos) >= 0 else len(text)]


def test_the_sentence_at_a_place_is_the_one_holding_it_else_its_line(corpus):
    s = corpus.sentences
    got, want = [], []
    for d in (D001, D004, D003_2):
        text = corpus.text(d)
        mine = s[s["doc_id"] == d].sort_values("start", kind="stable")
        starts, ends = mine["start"].tolist(), mine["end"].tolist()
        for pos in range(0, len(text), 5):
            got.append(ph._sentence_around(text, starts, ends, pos))
            want.append(_sentence_the_plain_way(corpus, d, pos))
    assert got == want
    in_sentence = sum(w in set(s["text"]) for w in want)
    assert 0 < in_sentence < len(want)  # both ways of answering were used


def test_slogan_words_keep_slogans_whole(corpus):
    words = ph.slogan_words(corpus)
    assert "创智新天地·拥江未来城" in words and "x+x+N" not in words
    assert not any("，" in w for w in words)
    text = "奋力打造“创智新天地·拥江未来城”，深入开展“大走访大调研大服务大解题”助企服务活动"
    plain = [t.word for t in tokenize(text)]
    whole = [t.word for t in tokenize(text, extra_words=words)]
    assert "创智新天地·拥江未来城" not in plain
    assert "创智新天地·拥江未来城" in whole and "大走访大调研大服务大解题" in whole


# --- register and verbs ---------------------------------------------------------------------
def test_register_features_on_seed_001(corpus):
    f = ph.register_features(corpus)
    assert list(f.columns) == ["doc_id", "place", "feature", "value", "group"]
    v = f[f["doc_id"] == D001].set_index("feature")["value"]
    assert v["enum_fangmian"] == 3  # three 一方面…另一方面 pairs, counted by hand
    assert v["enum_yishi"] == 13    # 一是…三是 / 一是…四是 under the four headings
    assert v["opens:加强"] >= 1
    assert 0 < v["four_char_segment_share"] < 1
    assert set(ph.REGISTER_FEATURES) <= set(f["feature"])


def _openings_the_plain_way(corpus) -> list[tuple[str, str]]:
    """(first word, opening verb) of each body sentence and heading: its whole document tokenised, words from the
    sentence's start past its enumeration marker."""
    toks = {d: tokenize(t, drop_punct=True) for d, t in zip(corpus.documents["doc_id"], corpus.documents["text"])}
    out = []
    s = corpus.sentences
    for r in s[s["role"].isin(["body", "heading"])].itertuples():
        lead = ph._LEAD_RE.match(r.text)
        a = r.start + (lead.end() if lead else 0)
        words = [t.word for t in toks[r.doc_id] if a <= t.start < r.end][:4]
        out.append((words[0] if words else "", ph._opening_verb(words)))
    return out


def _fresh(corpus):
    """The same corpus as a new object: nothing worked out for the old one (the openings pass) is kept with it."""
    return corpus.select(corpus.documents["doc_id"])


@pytest.mark.parametrize("workers", [1, 2])
def test_sentence_openings_equal_the_plain_way_over_processes_too(corpus, monkeypatch, workers):
    monkeypatch.setattr(ph, "PARALLEL_MIN_CHARS", 0)  # the pool, for the bundled corpus too
    got = ph.sentence_openings(_fresh(corpus), workers=workers)
    assert list(zip(got["first_word"], got["verb"])) == _openings_the_plain_way(corpus)
    s = corpus.sentences
    assert got["sent_id"].tolist() == s.loc[s["role"].isin(["body", "heading"]), "sent_id"].tolist()
    assert (got["verb"] != "").sum() > 100


def test_register_features_are_the_same_over_processes(corpus, monkeypatch):
    one = ph.register_features(_fresh(corpus), workers=1)
    monkeypatch.setattr(ph, "PARALLEL_MIN_CHARS", 0)
    pd.testing.assert_frame_equal(ph.register_features(_fresh(corpus), workers=2), one)
    four = one[one["feature"] == "four_char_share"].set_index("doc_id")["value"]
    words = [t.word for t in tokenize(corpus.text(D001), drop_punct=True) if re.fullmatch(r"[\u4e00-\u9fff]+", t.word)]
    assert four[D001] == pytest.approx(sum(len(w) == 4 for w in words) / len(words))


def test_openings_and_register_features_tokenise_the_corpus_once(corpus, monkeypatch, tmp_path):
    import shutil

    from plan_analysis.lexicons import lexicon_dir

    alone_open = ph.sentence_openings(_fresh(corpus), workers=1)
    alone_reg = ph.register_features(_fresh(corpus), workers=1)
    calls = []
    real = ph._doc_openings
    # a piece is (texts, their sentences' starts, ends): len(piece[1]) documents
    monkeypatch.setattr(ph, "_doc_openings", lambda piece: calls.append(len(piece[1])) or real(piece))
    c = _fresh(corpus)
    reg = ph.register_features(c, workers=1)
    assert sum(calls) == len(c.documents)  # every document tokenised once …
    opened = ph.sentence_openings(c, workers=1)
    assert sum(calls) == len(c.documents)  # … and not again for the openings
    pd.testing.assert_frame_equal(reg, alone_reg)
    pd.testing.assert_frame_equal(opened, alone_open)
    opened.loc[0, "verb"] = "改动"  # the caller's table is theirs: the pass kept with the corpus is not changed
    assert ph.sentence_openings(c, workers=1).loc[0, "verb"] == alone_open.loc[0, "verb"]
    c.sentences = c.sentences.copy()  # new sentences: the pass is made again
    ph.sentence_openings(c, workers=1)
    assert sum(calls) == 2 * len(c.documents)
    folder = tmp_path / "lex"  # so is it after a lexicon edit (a policy verb can change the words)
    shutil.copytree(lexicon_dir(), folder)
    monkeypatch.setenv("PLAN_ANALYSIS_LEXICONS", str(folder))
    with (folder / "stopwords.txt").open("a", encoding="utf-8") as fh:
        fh.write("测试词\n")
    ph.sentence_openings(c, workers=1)
    assert sum(calls) == 3 * len(c.documents)


def test_verb_profile_rates(corpus):
    p = ph.verb_profile(corpus).set_index("doc_id")
    text = corpus.text(D004)
    assert p.at[D004, "聚焦"] == pytest.approx(1000 * text.count("聚焦") / len(text))
    assert p.at[D004, "聚焦"] > 0 and p.at[D001, "聚焦"] == 0


# --- keyness on a constructed corpus with a known answer --------------------------------------
KEY_DOCS = {
    "甲": "红星镇2024年工作计划\n一、聚焦产业发展。聚焦民生保障。聚焦基层治理。推进乡村振兴。\n二、聚焦安全生产。",
    "乙": "青山镇2024年工作计划\n一、推进产业发展。推进民生保障。推进基层治理。加强乡村振兴。\n二、推进安全生产。",
    "丙": "白水镇2024年工作计划\n一、推进产业发展。推进民生保障。加强基层治理。推进乡村振兴。\n二、推进安全生产。",
}


@pytest.fixture(scope="module")
def key_corpus(corpus_of):
    return corpus_of(KEY_DOCS, folder_name="keyness")


def test_keyness_known_answer(key_corpus):
    places = dict(zip(key_corpus.documents["doc_id"], key_corpus.documents["place"]))
    assert sorted(places.values()) == sorted(["红星镇", "青山镇", "白水镇"])
    k = ph.keyness(key_corpus, by="place", target="红星镇", min_freq=2, top=None)
    over = k[k["direction"] == "over"]
    assert over.iloc[0]["term"] == "聚焦"
    row = over.iloc[0]
    assert (row["freq_target"], row["freq_rest"]) == (4, 0)
    # G² by hand (Rayson & Garside 2000) from the token totals of each side
    counts = ph.term_counts(key_corpus)
    target_ids = [d for d, p in places.items() if p == "红星镇"]
    c = counts[counts["doc_id"].isin(target_ids)]["count"].sum()
    d = counts[~counts["doc_id"].isin(target_ids)]["count"].sum()
    e1 = c * 4 / (c + d)
    assert row["g2"] == pytest.approx(2 * 4 * math.log(4 / e1))
    assert row["log_ratio"] == pytest.approx(math.log2((4 / c) / (0.5 / d)))
    under = k[k["direction"] == "under"].set_index("term")
    assert under.at["推进", "freq_target"] == 1 and under.at["推进", "freq_rest"] == 8
    assert "产业" not in set(k["term"])  # same rate in both parts: neither over nor under
    assert "红星" not in set(k["term"]) and "红星镇" not in set(k["term"])  # a place marks only itself
    assert {"term", "freq_target", "freq_rest", "g2", "p_value", "log_ratio", "direction"} <= set(k.columns)


def test_keyness_on_character_ngrams_and_mapping(key_corpus):
    k = ph.keyness(key_corpus, by="place", target="红星镇", unit="char2", min_freq=2)
    assert k.iloc[0]["term"] == "聚焦" and k.iloc[0]["direction"] == "over"
    era = {"红星镇": "early", "青山镇": "late", "白水镇": None}  # a document with no bucket is left out
    bucket = {d: era[p] for d, p in zip(key_corpus.documents["doc_id"], key_corpus.documents["place"])}
    k2 = ph.keyness(key_corpus, by=bucket, target="early", min_freq=1, top=None).set_index("term")
    assert (k2.at["推进", "freq_target"], k2.at["推进", "freq_rest"]) == (1, 4)


def test_term_counts_are_the_same_over_processes(corpus, monkeypatch):
    one = ph.term_counts(corpus, workers=1)
    monkeypatch.setattr(ph, "PARALLEL_MIN_CHARS", 0)  # the pool, for the bundled corpus too
    pd.testing.assert_frame_equal(ph.term_counts(corpus, workers=2), one)
    words = [t.word for t in tokenize(corpus.text(D001), drop_punct=True, drop_stopwords=True,
                                      extra_words=ph.slogan_words(corpus))]
    mine = one[one["doc_id"] == D001].set_index("term")["count"]
    assert mine["推进"] == words.count("推进") > 0
    by_group = ph.keyness_by_group(corpus, by="place", min_freq=2, top=5)
    pd.testing.assert_frame_equal(ph.keyness_by_group(corpus, by="place", min_freq=2, top=5, counts=one), by_group)


def test_keyness_counts_each_side_directly_as_the_count_table_does(corpus, monkeypatch):
    # without counts=, keyness sums each side in the workers; the table must be the one from term_counts
    monkeypatch.setattr(ph, "PARALLEL_MIN_CHARS", 0)  # the pool, for the bundled corpus too
    places = [p for p in corpus.documents["place"].dropna().unique() if p][:4]
    for unit in ("token", "char3"):
        table = ph.term_counts(corpus, unit=unit, workers=1)
        for target in (places[0], places[:2]):
            direct = ph.keyness(corpus, by="place", target=target, unit=unit, top=None, min_freq=2, workers=2)
            assert len(direct) > 20
            pd.testing.assert_frame_equal(direct, ph.keyness(corpus, by="place", target=target, top=None, min_freq=2,
                                                             counts=table))
        by_group = ph.keyness_by_group(corpus, by="place", targets=places, unit=unit, top=8, workers=2)
        assert set(by_group["group"]) == set(places)
        pd.testing.assert_frame_equal(by_group, ph.keyness_by_group(corpus, by="place", targets=places, top=8,
                                                                    counts=table))



def test_keyness_against_a_sample_of_the_rest(corpus):
    """``max_rest`` compares the target with that many documents of the rest, drawn at random; place names of the
    whole corpus are still left out."""
    table = ph.term_counts(corpus, unit="char3", workers=1)
    per_doc = table.groupby("doc_id")["count"].sum()
    place = "铁西街道"
    mine = set(corpus.documents.loc[corpus.documents["place"] == place, "doc_id"])
    rest = per_doc[~per_doc.index.isin(mine)]
    assert len(rest) > 3

    def rest_total(k):  # the rest's n-grams, from a term's rest frequency and rate per 10,000
        r = k[k["freq_rest"] > 0].iloc[0]
        return round(r["freq_rest"] / r["rate_rest"] * 1e4)

    whole = ph.keyness(corpus, by="place", target=place, unit="char3", top=None, min_freq=1)
    assert rest_total(whole) == rest.sum()
    one = ph.keyness(corpus, by="place", target=place, unit="char3", top=None, min_freq=1, max_rest=1)
    assert rest_total(one) in set(rest.tolist()) and rest_total(one) < rest.sum()
    pd.testing.assert_frame_equal(one, ph.keyness(corpus, by="place", target=place, unit="char3", top=None,
                                                  min_freq=1, max_rest=1, counts=table))
    three = [rest_total(ph.keyness(corpus, by="place", target=place, unit="char3", top=None, min_freq=1, max_rest=3,
                                   random_state=seed)) for seed in range(4)]
    sums = {sum(c) for c in itertools.combinations(rest.tolist(), 3)}
    assert set(three) <= sums and len(set(three)) > 1  # three documents each time, not always the same three
    pd.testing.assert_frame_equal(ph.keyness(corpus, by="place", target=place, unit="char3", top=None, min_freq=1,
                                             max_rest=len(rest)), whole)
    # 公路街道 is a place: 公路 in the text of xx镇 is left out, though the sample of one is another document
    road = corpus.documents.loc[corpus.documents["place"] == "公路街道", "doc_id"]
    mill = ph.keyness(corpus, by="place", target="xx镇", unit="char3", top=None, min_freq=1, max_rest=1)
    assert rest_total(mill) not in set(per_doc[road].tolist())
    assert not mill["term"].str.contains("公路").any()
    assert ph.keyness(corpus, by="place", target="xx镇", unit="char3", top=None, min_freq=1, max_rest=1,
                      drop_places=False)["term"].str.contains("公路").any()
    with pytest.raises(ValueError, match="max_rest must be at least 1"):
        ph.keyness(corpus, by="place", target=place, max_rest=0)

_NAME_CHARS = "前江铁西红星青山镇乡街道区"
_PLACE = st.builds(lambda stem, suffix: stem + suffix, st.text(alphabet=_NAME_CHARS, max_size=4),
                   st.sampled_from(["", "镇", "乡", "街道", "街道办事处", "区", "县"]))


@given(places=st.lists(_PLACE, max_size=6), data=st.data())
def test_place_term_test_is_the_plain_definition(places, data):
    # the plain definition: a term holds a stem (a name less its suffix, 2+ characters), or is in a name
    # and not in that name's suffix; terms are pieces of the names (suffixes included) and random text
    full = [(p, next((s for s in ph._SUFFIXES if p.endswith(s) and len(p) > len(s)), "")) for p in places if p]
    stems = [p[: len(p) - len(s)] for p, s in full if len(p) - len(s) >= 2]
    pieces = sorted({p[i:j] for p in places for i in range(len(p)) for j in range(i + 1, len(p) + 1)})
    terms = data.draw(st.lists(st.sampled_from(pieces) if pieces else st.just(""), max_size=12))
    around = st.text(alphabet=_NAME_CHARS + "发展", max_size=3)
    terms += data.draw(st.lists(st.builds(lambda a, b, c: a + b + c, around, st.sampled_from(pieces or [""]), around),
                                max_size=12))
    test = ph._place_term_test(places)
    for t in terms:
        plain = len(t) >= 2 and (any(stem in t for stem in stems) or any(t in p and t not in s for p, s in full))
        assert test(t) == plain, (t, places)


def test_keyness_min_freq_and_errors(key_corpus):
    k = ph.keyness(key_corpus, by="place", target="红星镇", min_freq=6, top=None)
    assert set(k["term"]) <= {"推进", "聚焦"}
    assert (k["freq_target"] + k["freq_rest"] >= 6).all()
    with pytest.raises(ValueError, match="values present"):
        ph.keyness(key_corpus, by="place", target="黑土镇")
    with pytest.raises(KeyError, match="not a column"):
        ph.keyness(key_corpus, by="township", target="红星镇")


# --- KWIC -------------------------------------------------------------------------------------
def test_kwic_offsets_slice_back_to_raw(corpus):
    k = ph.kwic(corpus, "招商引资", window=10)
    assert len(k) >= 10 and set(k["match"]) == {"招商引资"}
    for r in k.itertuples():
        assert corpus.raw_slice(r.source_file, r.raw_start, r.raw_end) == "招商引资"
        text = corpus.text(r.doc_id)
        assert text[r.start:r.end] == r.match
        assert text[r.start - len(r.left):r.end + len(r.right)] == r.left + r.match + r.right
        assert len(r.left) <= 10 and len(r.right) <= 10
    rx = ph.kwic(corpus, r"[一二三四五六七八九十]是", regex=True)
    assert len(rx) > 50
    for r in rx.itertuples():
        assert r.match in corpus.raw_slice(r.source_file, r.raw_start, r.raw_end)


def test_kwic_maps_through_cleaning():
    raw = "过去一年,前江街道##paidbegin##完成９０％的任务"
    k = ph.kwic(raw, "90%")
    assert k["match"].tolist() == ["90%"]
    assert raw[k.at[0, "raw_start"]:k.at[0, "raw_end"]] == "９０％"
    with pytest.raises(ValueError, match="regular expression"):
        ph.kwic(raw, "(", regex=True)


# --- template reuse -----------------------------------------------------------------------------
PLANTED_A = "全年完成矛盾纠纷排查化解120件，调处成功率达到98%以上，红星镇群众安全感满意度持续提升。"
PLANTED_B = "全年完成矛盾纠纷排查化解85件，调处成功率达到95%以上，青山镇群众安全感满意度持续提升。"
REUSE_DOCS = {
    "a": ("红星镇2024年工作计划\n一、经济发展\n红星镇全年完成植树造林300亩，新建高标准农田2000亩，培育规上企业3家。\n"
          f"二、平安建设\n{PLANTED_A}\n深入推进秸秆禁烧，确保全年不发生一起火点。\n"
          "三、党的建设\n严格落实“三会一课”制度，开展主题党日活动12次。\n"),
    "b": ("青山镇2024年工作计划\n一、民生保障\n全年完成道路硬化5公里，新建老年食堂两家，城乡居民医保参保率稳定在95%以上。\n"
          f"二、社会治理\n{PLANTED_B}\n"
          "三、自身建设\n持续加强干部队伍建设，推动作风建设常态化长效化。\n"),
}


@pytest.fixture(scope="module")
def reuse_corpus(corpus_of):
    return corpus_of(REUSE_DOCS, folder_name="reuse")


def test_reuse_finds_the_planted_sentence(reuse_corpus):
    r = ph.find_reuse(reuse_corpus)
    assert tuple(r.columns[:len(ph.REUSE_FIELDS)]) == ph.REUSE_FIELDS
    assert len(r) == 1, r[["text_a", "text_b", "similarity"]]
    row = r.iloc[0]
    assert {row["text_a"], row["text_b"]} == {PLANTED_A, PLANTED_B}
    assert row["similarity"] == 1.0  # numbers and place names masked: identical
    docs = reuse_corpus.documents.set_index("doc_id")
    for side in ("a", "b"):
        source = docs.at[row[f"doc_{side}"], "source_file"]
        assert reuse_corpus.raw_slice(source, row[f"raw_start_{side}"], row[f"raw_end_{side}"]) == row[f"text_{side}"]


def test_reuse_depends_on_masking(reuse_corpus):
    assert ph.find_reuse(reuse_corpus, mask=False).empty  # the numbers and names alone keep them apart
    low = ph.find_reuse(reuse_corpus, mask=False, threshold=0.3)
    assert len(low) == 1 and 0.3 <= low.iloc[0]["similarity"] < 0.8


def test_reuse_ignores_same_document_and_merges_passages(tmp_path):
    shared = ("持续深化“网格+警格”融合机制，推动矛盾纠纷就地化解。", "全面推行河湖长制，强化水环境综合治理和日常巡查。")
    (tmp_path / "a.txt").write_text(f"甲镇工作计划\n{shared[0]}{shared[1]}\n{shared[0]}\n", encoding="utf-8")
    (tmp_path / "b.txt").write_text(f"乙街道工作计划\n做好秋冬季森林防火工作，落实各项防范措施。\n{shared[0]}{shared[1]}\n",
                                    encoding="utf-8")
    c = load_corpus(tmp_path, cache=False, progress=False)
    r = ph.find_reuse(c)
    assert (r["doc_a"] != r["doc_b"]).all()
    merged = r[r["n_units"] == 2]
    assert len(merged) == 1 and merged.iloc[0]["text_a"] == shared[0] + shared[1]


def test_reuse_refuses_a_flood_of_candidates_before_filling_memory():
    """One template sentence in 30 documents: 435 pairs; above max_candidates a clear error, None goes on."""
    line = "持续深化网格警格融合机制推动矛盾纠纷就地化解做到小事不出村大事不出镇。"
    texts = {f"d{i:02d}": f"第{i}号工作计划\n{line}\n今年另有安排{i}项。" for i in range(30)}
    with pytest.raises(ValueError, match=r"max_candidates=100 candidate pairs .*30 documents.*subset"):
        ph.find_reuse(texts, max_candidates=100)
    r = ph.find_reuse(texts, max_candidates=None)
    assert len(r) == 30 * 29 // 2 and (r["text_a"] == line).all() and (r["doc_a"] != r["doc_b"]).all()
    assert ph.find_reuse(texts).equals(r)  # under the default limit


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sets(st.integers(0, 2**32 - 1), min_size=1, max_size=40), min_size=1, max_size=30),
       st.integers(1, 50))
def test_minhash_in_blocks_equals_all_at_once(sets, block):
    import numpy as np

    flat = np.array([h for s in sets for h in sorted(s)], dtype=np.uint32)
    bounds = np.zeros(len(sets) + 1, dtype=np.int64)
    np.cumsum([len(s) for s in sets], out=bounds[1:])
    whole = ph._minhash(flat, bounds, 32, seed=7)
    old, ph._MINHASH_BLOCK = ph._MINHASH_BLOCK, block
    try:
        assert np.array_equal(ph._minhash(flat, bounds, 32, seed=7), whole)
    finally:
        ph._MINHASH_BLOCK = old
    # each signature column is the minimum over the set's members of a multiply-add-shift hash (odd 64-bit a)
    rng = np.random.default_rng(7)
    a = [2 * int(x) + 1 for x in rng.integers(0, 1 << 63, size=32, dtype=np.uint64)]
    b = [2 * int(x) for x in rng.integers(0, 1 << 63, size=32, dtype=np.uint64)]
    assert whole[-1].tolist() == [min(((a[k] * h + b[k]) % 2**64) >> 32 for h in sets[-1]) for k in range(32)]


def _shingles_the_plain_way(text: str, k: int) -> list[int]:
    """Fold each window of k characters (the whole text when shorter) into 64 bits, mix, keep the high 32."""
    out = set()
    for i in range(max(len(text) - k + 1, 1) if text else 0):
        h = 0
        for ch in text[i:i + k]:
            h = (h * 0x100000001B3 + ord(ch) + 1) % 2**64
        h ^= h >> 31
        h = (h * 0xBF58476D1CE4E5B9) % 2**64
        out.add(h >> 32)
    return sorted(out)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from("推进乡村振兴#，。A1") | st.characters(), max_size=30), max_size=12),
       st.integers(1, 5), st.integers(1, 60))
def test_shingles_a_block_at_a_time_equal_the_plain_way(texts, k, block):
    import numpy as np

    old, ph._SHINGLE_BLOCK = ph._SHINGLE_BLOCK, block
    try:
        flat, bounds = ph._shingle_sets(texts, k)
    finally:
        ph._SHINGLE_BLOCK = old
    assert flat.dtype == np.uint32 and len(bounds) == len(texts) + 1
    assert [flat[bounds[i]:bounds[i + 1]].tolist() for i in range(len(texts))] == \
        [_shingles_the_plain_way(t, k) for t in texts]


def test_reuse_finds_every_pair_a_comparison_of_all_pairs_finds(monkeypatch):
    """Sentences and copies with one to four characters added: Jaccard indexes from about 0.6 to 0.95, many near the
    threshold. LSH must find every pair that scoring all pairs exactly finds (the old hash family, whose columns
    moved together, missed about one in seventy)."""
    import random

    import numpy as np

    rng = random.Random(11)
    han = "推进乡村振兴建设完善服务体系加强基层治理提升群众满意度深化改革创新发展壮大集体经济优化营商环境落实安全生产责任"
    docs: dict[str, list[str]] = {f"d{i:02d}": [] for i in range(40)}
    for _ in range(120):
        base = "".join(rng.choice(han) for _ in range(rng.randint(12, 22)))
        a, b = rng.sample(sorted(docs), 2)
        docs[a].append(base + "。")
        docs[b].append(base + "".join(rng.choice(han) for _ in range(rng.randint(1, 4))) + "。")
    texts = {d: "\n".join(lines) for d, lines in docs.items() if lines}
    found = ph.find_reuse(texts, merge=False)
    monkeypatch.setattr(ph, "_minhash", lambda sh, bounds, num_perm, seed: np.zeros((len(bounds) - 1, num_perm),
                                                                                     dtype=np.uint64))
    every = ph.find_reuse(texts, merge=False, max_candidates=None)  # every pair of sentences is a candidate
    near = every["similarity"].between(0.8, 0.85).sum()
    assert near >= 20, "the test needs pairs near the threshold"
    key = ["doc_a", "doc_b", "start_a", "start_b"]
    assert sorted(map(tuple, found[key].values.tolist())) == sorted(map(tuple, every[key].values.tolist()))


def _candidates_the_plain_way(sig):
    """Every band's groups of equal signature rows, each pair of rows in a group added to a set in turn."""
    import numpy as np

    found = set()
    mix = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x27D4EB2F165667C5], dtype=np.uint64)
    for band in range(sig.shape[1] // 4):
        with np.errstate(over="ignore"):
            keys = (sig[:, band * 4:(band + 1) * 4] * mix).sum(axis=1)
        groups: dict[int, list[int]] = {}
        for i, key in enumerate(keys.tolist()):
            groups.setdefault(key, []).append(i)
        found |= {(i, j) for members in groups.values() for x, i in enumerate(members) for j in members[x + 1:]}
    return sorted(found)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 40), st.integers(2, 4), st.integers(0, 10_000))
def test_candidate_pairs_are_the_pairs_of_rows_sharing_a_band(n, values, seed):
    """Signatures of few values share bands often: groups of all sizes, the same pair in several bands."""
    import numpy as np

    sig = np.random.default_rng(seed).integers(0, values, size=(n, 16)).astype(np.uint64)
    s, t = ph._candidate_pairs(sig, rows_per_band=4)
    assert list(zip(s.tolist(), t.tolist())) == _candidates_the_plain_way(sig)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 3), min_size=1, max_size=30), st.integers(0, 10_000))
def test_pairs_of_texts_spread_over_their_units_of_two_documents(doc_of_unit, seed):
    """Units (with their documents) share a few texts: each pair of texts stands for the pairs of their units in two
    different documents, the unit of the earlier document first, and its count is theirs."""
    import numpy as np

    rng = np.random.default_rng(seed)
    n = len(doc_of_unit)
    text_of_unit = rng.integers(0, 4, size=n)
    doc_codes = np.array(doc_of_unit, dtype=np.int64)
    texts = sorted(set(text_of_unit.tolist()))
    units_of = [np.flatnonzero(text_of_unit == t) for t in texts]
    ts, tt = np.array([a for a in range(len(texts)) for b in range(a, len(texts))], dtype=np.int64), \
        np.array([b for a in range(len(texts)) for b in range(a, len(texts))], dtype=np.int64)
    counts = ph._unit_pair_counts(ts, tt, [np.unique(doc_codes[us], return_counts=True) for us in units_of])
    a, b, sim = ph._unit_pairs(ts, tt, np.arange(len(ts), dtype=np.float64), units_of, doc_codes)
    for k, (s_, t_) in enumerate(zip(ts.tolist(), tt.tolist())):
        want = {(min(i, j, key=lambda u: doc_codes[u]), max(i, j, key=lambda u: doc_codes[u]))
                for i in units_of[s_].tolist() for j in units_of[t_].tolist()
                if i != j and doc_codes[i] != doc_codes[j] and (s_ != t_ or i < j)}
        got = {(int(x), int(y)) for x, y in zip(a[sim == k], b[sim == k])}
        assert got == want and len(a[sim == k]) == len(want) == counts[k], (s_, t_)


def test_each_reused_pair_is_scored_with_its_own_two_texts():
    """Candidates are scored once per distinct pair of masked texts: every row's similarity is still the Jaccard index
    of its own two units' shingles (the texts below differ in one to four characters, so a score put on the wrong
    pair would show)."""
    import random

    rng = random.Random(5)
    han = "推进乡村振兴建设完善服务体系加强基层治理提升群众满意度深化改革创新发展"
    docs: dict[str, list[str]] = {f"d{i:02d}": [] for i in range(12)}
    bases = ["".join(rng.choice(han) for _ in range(16)) for _ in range(6)]
    for d in docs:
        for base in rng.sample(bases, 3):
            docs[d].append(base[:rng.randint(12, 16)] + "".join(rng.choice(han) for _ in range(rng.randint(0, 2))) + "。")
    found = ph.find_reuse({d: "\n".join(lines) for d, lines in docs.items()}, merge=False, threshold=0.5)
    assert len(found) > 50 and found["similarity"].nunique() > 5
    mask = ph._make_masker([])
    for r in found.itertuples():
        flat, bounds = ph._shingle_sets([mask(r.text_a), mask(r.text_b)], 4)
        assert r.similarity == round(ph._jaccard(flat[:bounds[1]], flat[bounds[1]:]), 4), (r.text_a, r.text_b)


_PLAN_BITS = ["推进乡村振兴战略，", "全年完成固定资产投资12亿元。", "xx镇完成税收20xx万元，", "深化“六治六提”行动，",
              "落实安全生产责任制。", "推进“1+4+X”网格建设，", "\n", "一是", "加强基层治理，提升群众满意度。", "“", "”",
              "持续深化网格警格融合机制。推动矛盾纠纷就地化解做到小事不出村。"]  # the last: two sentences, a passage


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.one_of(st.sampled_from(_PLAN_BITS), st.text(max_size=6)), max_size=14).map("".join),
                min_size=2, max_size=5),
       st.sampled_from(["sentence", "clause"]), st.booleans())
@example(["", "\n"], "sentence", False)  # no edit has a file: its column was Arrow's null type, not text
def test_reuse_and_slogans_never_raise_and_their_spans_map_back(texts, unit, merge):
    """Plan-like documents that share sentences, with arbitrary characters between: reuse pairs join two
    different documents, score within [0, 1], and every span's raw offsets are those of mapping it alone;
    every slogan's raw text cleans to the slogan."""
    c = ph.texts_corpus({f"d{i}": t for i, t in enumerate(texts)})
    r = ph.find_reuse(c, unit=unit, merge=merge, threshold=0.5, min_chars=4)
    assert (r["doc_a"] != r["doc_b"]).all()
    assert r["similarity"].between(0.5, 1).all() and r["containment"].between(0, 1).all()
    for row in r.itertuples():
        assert c.raw_span(row.doc_a, row.start_a, row.end_a) == (row.raw_start_a, row.raw_end_a)
        assert c.raw_span(row.doc_b, row.start_b, row.end_b) == (row.raw_start_b, row.raw_end_b)
        assert c.text(row.doc_a)[row.start_a:row.end_a] == row.text_a
        assert c.text(row.doc_b)[row.start_b:row.end_b] == row.text_b
    key = ["doc_a", "doc_b", "start_a", "start_b"]
    assert not r.duplicated(key).any()
    s = ph.extract_slogans(c)
    for row in s.itertuples():
        assert c.text(row.doc_id)[row.start:row.end] == row.slogan
        assert c.raw_span(row.doc_id, row.start, row.end) == (row.raw_start, row.raw_end)


def test_reuse_shows_each_long_step(capsys, monkeypatch):
    monkeypatch.setenv("TQDM_DISABLE", "")
    line = "持续深化网格警格融合机制推动矛盾纠纷就地化解做到小事不出村大事不出镇。"
    c = ph.texts_corpus({f"d{i:02d}": f"第{i}号工作计划\n{line}\n今年另有安排{i}项。" for i in range(8)})
    units = len(ph._units(c, "sentence"))
    found = ph.find_reuse(c, merge=False, progress=True)
    assert len(found) == 8 * 7 // 2
    err = capsys.readouterr().err
    assert "reuse: masking sentences: 100%" in err and f"{units}/{units}" in err
    assert "reuse: scoring candidates: 100%" in err and "28/28" in err
    assert "reuse: describing pairs: 100%" in err
    ph.find_reuse(c, merge=False)
    assert capsys.readouterr().err == ""


# --- word clouds ----------------------------------------------------------------------------
def test_word_cloud_uses_cjk_font_covering_every_word(corpus):
    from fontTools.ttLib import TTFont

    wc = ph.word_cloud(corpus, group="前江街道", width=400, height=200, max_words=60)
    assert Path(wc.font_path) == find_cjk_font()
    drawn = [w for (w, _), *_ in wc.layout_]
    assert len(drawn) >= 30
    with TTFont(wc.font_path, fontNumber=0, lazy=True) as font:
        cmap = font.getBestCmap()
    assert [w for w in drawn if any(ord(ch) not in cmap for ch in w)] == []
    assert "的" not in drawn and not any("xx" in w for w in drawn)
    assert {"持续", "聚焦"} & set(drawn), "policy verbs are not stopwords"


def test_word_frequencies_keep_slogans_and_drop_placeholders(corpus):
    f = ph.word_frequencies(corpus, group="xx街道")
    assert f["三民工程"] >= 1 or f["邻礼通·三民工程"] >= 1
    assert not any("xx" in w or "x+x" in w for w in f)
    assert "的" not in f


@pytest.mark.parametrize("group", [None, "xx街道"])
def test_word_frequencies_name_a_by_column_the_corpus_lacks(corpus, group):
    # without a group the misspelt column was ignored and the whole corpus counted
    with pytest.raises(KeyError, match=r"by='plcae' is not a column of corpus\.documents; did you mean 'place'\? Use one of"):
        ph.word_frequencies(corpus, by="plcae", group=group)


def test_word_cloud_refuses_a_font_without_the_glyphs(corpus):
    latin = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    with pytest.raises(ValueError, match="no glyph"):
        ph.word_cloud(corpus, group="前江街道", font_path=str(latin))


# --- command line ---------------------------------------------------------------------------
def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "plan_analysis", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=300, check=False)


def test_cli_progress_goes_to_stderr_only_when_asked():
    env = {k: v for k, v in os.environ.items() if k != "TQDM_DISABLE"}
    quiet = _cli("slogans", str(RAW), "--no-cache")
    loud = subprocess.run([sys.executable, "-m", "plan_analysis", "slogans", str(RAW), "--no-cache", "--progress"],
                          capture_output=True, text=True, cwd=ROOT, timeout=300, check=False, env=env)
    assert loud.returncode == quiet.returncode == 0, loud.stderr
    assert loud.stdout == quiet.stdout  # the table is the same; the bars are on stderr
    n = len(load_corpus(RAW, progress=False).documents)
    assert "slogans" in loud.stderr and f"{n}/{n}" in loud.stderr
    assert "slogans" not in quiet.stderr


def test_cli_slogans_csv_and_jsonl():
    out = _cli("slogans", str(RAW), "--format", "csv")
    assert out.returncode == 0, out.stderr
    rows = list(csv.reader(io.StringIO(out.stdout)))
    assert tuple(rows[0]) == ph.SLOGAN_FIELDS
    assert any(r[3] == "八八战略" and r[4] == "quoted" for r in rows[1:])
    assert any(r[3] == "1+4+X" and r[4] == "formula" for r in rows[1:])
    out = _cli("slogans", str(RAW / "004_c7e8bd28e2541a55.txt"), "--format", "jsonl")
    assert out.returncode == 0, out.stderr
    recs = [json.loads(line) for line in out.stdout.splitlines()]
    assert recs and all(tuple(r) == ph.SLOGAN_FIELDS for r in recs)
    assert {"八八战略", "1586", "三个一号工程"} <= {r["slogan"] for r in recs}


def test_cli_reuse_csv_and_jsonl(tmp_path):
    for name, text in REUSE_DOCS.items():
        (tmp_path / f"{name}.txt").write_text(text, encoding="utf-8")
    out = _cli("reuse", str(tmp_path), "--format", "csv", "--no-cache")
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert tuple(csv.reader(io.StringIO(out.stdout)).__next__()) == ph.REUSE_FIELDS
    assert len(rows) == 1 and float(rows[0]["similarity"]) == 1.0
    out = _cli("reuse", str(tmp_path), "--format", "jsonl", "--no-cache")
    recs = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(recs) == 1 and tuple(recs[0]) == ph.REUSE_FIELDS
    assert {recs[0]["text_a"], recs[0]["text_b"]} == {PLANTED_A, PLANTED_B}


def test_register_plot_stays_readable_for_many_documents():
    import matplotlib.pyplot as plt

    from plan_analysis.phrasing_plots import plot_register

    rows = [{"doc_id": f"d{i:04d}", "feature": f, "value": float(i % 17)}
            for i in range(500) for f in ("enum_yishi", "verb_opening_share")]
    many = plot_register(pd.DataFrame(rows), features_to_show=["enum_yishi", "verb_opening_share"], max_documents=80)
    assert many.get_size_inches()[1] < 10  # not 0.3 inch per document (150 inches)
    assert all("500 documents" in ax.get_title() for ax in many.axes)
    assert sum(p.get_height() for p in many.axes[0].patches) == 500  # a histogram of every document's value
    few = plot_register(pd.DataFrame(rows[:40]), features_to_show=["enum_yishi"], max_documents=80)
    assert len(few.axes[0].patches) == 20  # a bar per document
    plt.close("all")


def test_verb_profile_and_slogan_matrix_stay_readable_for_many_documents():
    import matplotlib.pyplot as plt

    from plan_analysis.phrasing_plots import plot_slogan_matrix, plot_verb_profile

    n = 500
    profile = pd.DataFrame({"doc_id": [f"d{i:04d}" for i in range(n)], "place": "", "n_chars": 1000,
                            "坚持": [float(i % 7) for i in range(n)], "聚焦": [float(i % 3) / 2 for i in range(n)]})
    ax = plot_verb_profile(profile, max_documents=80)
    assert ax.figure.get_size_inches()[1] < 10 and "500 documents" in ax.get_title()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["坚持", "聚焦"]
    medians = [line.get_ydata()[0] for line in ax.lines if line.get_color() == "#08519c"]
    assert medians == [3.0, 0.5]  # the median of 0..6 repeated, and of 0, 0.5, 1 repeated
    few = plot_verb_profile(profile.head(20), max_documents=80)
    assert len(few.get_yticklabels()) == 20  # a row per document
    # 400 documents: 八八战略 in every one, 千万工程 in every other, 五美 in one
    rows = [{"doc_id": f"d{i:04d}", "slogan": "八八战略", "kind": "quoted", "count": 1} for i in range(400)]
    rows += [{"doc_id": f"d{i:04d}", "slogan": "千万工程", "kind": "quoted", "count": 2} for i in range(0, 400, 2)]
    rows += [{"doc_id": "d0007", "slogan": "五美", "kind": "formula", "count": 1}]
    ax = plot_slogan_matrix(pd.DataFrame(rows), top=30, max_documents=80)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["八八战略", "千万工程", "五美"]
    assert [p.get_width() for p in ax.patches] == [400, 200, 1]
    assert ax.figure.get_size_inches()[0] < 10  # not 0.55 inch per document (220 inches)
    small = plot_slogan_matrix(pd.DataFrame(rows[:30]), top=30, max_documents=80)
    assert len(small.get_xticklabels()) == 30  # a column per document
    plt.close("all")


_RUN_TEXT = st.text(alphabet="安全生产#责任制镇a", max_size=40) | st.text(alphabet="ab", max_size=30)


@given(a=_RUN_TEXT, b=_RUN_TEXT, cut=st.tuples(st.integers(0, 40), st.integers(0, 40)), which=st.sampled_from("ab-"))
@settings(max_examples=800, deadline=None)
@example(a="abab安全xbab安全y", b="安全zbab", cut=(0, 0), which="-")  # two runs as long: the first in a
@example(a="𠀋\ud800ab𠀋\ud800", b="b𠀋\ud800a", cut=(0, 0), which="-")  # not in the BMP, a lone surrogate
def test_longest_common_run_is_what_sequence_matcher_finds(a, b, cut, which):
    from difflib import SequenceMatcher

    if which == "a":  # b a piece of a: the shortcut's case
        b = a[min(cut):max(cut)]
    elif which == "b":
        a = b[min(cut):max(cut)]
    m = SequenceMatcher(None, a, b, autojunk=False).find_longest_match(0, len(a), 0, len(b))
    assert ph._longest_common_run(a, b) == a[m.a:m.a + m.size]
    # the hashing path, which runs on long texts only, on these short ones
    saved = ph.RUN_HASH_MIN_CHARS
    ph.RUN_HASH_MIN_CHARS = 0
    try:
        assert ph._longest_common_run(a, b) == a[m.a:m.a + m.size]
    finally:
        ph.RUN_HASH_MIN_CHARS = saved


def test_longest_common_run_of_long_passages_is_what_sequence_matcher_finds():
    from difflib import SequenceMatcher

    texts = [t for t in load_corpus(RAW, cache=False, progress=False).documents["text"] if len(t) > 3000]
    assert len(texts) >= 3
    rng = random.Random(7)
    for _ in range(12):
        a, b = rng.sample(texts, 2)
        i, j = rng.randrange(len(a) - 2500), rng.randrange(len(b) - 2500)
        cases = [(a[i:i + 2500], b[j:j + 2500]), (a[i:i + 2500], a[i + 40:i + 2400] + "改" + a[i:i + 900])]
        for x, y in cases:
            m = SequenceMatcher(None, x, y, autojunk=False).find_longest_match(0, len(x), 0, len(y))
            assert m.size > 0
            assert ph._longest_common_run(x, y) == x[m.a:m.a + m.size]


def test_slogan_words_of_a_corpus_are_kept_with_its_snapshot(tmp_path, monkeypatch, caplog):
    """Another load of the same files (another notebook, another profile page) reads the corpus's slogan words
    instead of finding every slogan again; a selection, a replaced table or other code finds its own."""
    import plan_analysis.corpus as corpus_mod

    files = sorted(RAW.glob("*.txt"))
    first = load_corpus(files, cache_dir=tmp_path, progress=False)
    want = ph.slogan_words(ph.extract_slogans(first))  # from the table, as before
    assert len(want) > 20
    assert ph.slogan_words(first) == want
    assert len(list(tmp_path.rglob("derived/slogan_words-*.json"))) == 1

    calls = []
    real = ph.extract_slogans
    monkeypatch.setattr(ph, "extract_slogans", lambda *a, **k: calls.append(1) or real(*a, **k))
    again = load_corpus(files, cache_dir=tmp_path, progress=False)
    assert ph.slogan_words(again) == want and calls == []  # read, not found again

    part = again.select(again.documents["doc_id"].head(2).tolist())
    assert ph.slogan_words(part) == ph.slogan_words(ph.extract_slogans(part)) and calls
    calls.clear()
    again.documents = again.documents.head(2)  # a table replaced: not the snapshot's corpus any more
    ph.slogan_words(again)
    assert calls
    calls.clear()

    other = load_corpus(files, cache_dir=tmp_path, progress=False)
    monkeypatch.setattr(corpus_mod, "source_fingerprint", lambda **_: "other code")
    assert ph.slogan_words(other) == want and calls  # another key: found again, and kept beside the first
    assert len(list(tmp_path.rglob("derived/slogan_words-*.json"))) == 2
    monkeypatch.undo()

    # more keys: the two written last are kept
    real_code = corpus_mod.code_fingerprint
    derived = first.__dict__["_snapshot"][0] / "derived"
    for path in derived.glob("slogan_words-*.json"):
        os.utime(path, (time.time() - 100,) * 2)
    written = []
    for n, key in enumerate(("0123456789abcdef", "fedcba9876543210")):
        monkeypatch.setattr(corpus_mod, "code_fingerprint",
                            lambda *, scope="pipeline", _k=key: real_code(scope=scope) if scope == "pipeline" else _k)
        assert ph.slogan_words(load_corpus(files, cache_dir=tmp_path, progress=False)) == want
        written.append(derived / f"slogan_words-{key}.json")
        os.utime(written[-1], (time.time() - 99 + n,) * 2)
        assert written[-1].is_file()
    assert set(derived.glob("slogan_words-*.json")) == set(written)  # the older keys' files removed
    monkeypatch.undo()
    assert ph.slogan_words(first) == want  # this code's key again: written again

    for path in tmp_path.rglob("derived/slogan_words-*.json"):
        path.write_text('{"value": [', encoding="utf-8")  # damaged
    with caplog.at_level("WARNING", logger="plan_analysis"):
        assert ph.slogan_words(load_corpus(files, cache_dir=tmp_path, progress=False)) == want
    damaged = Path(re.search(r"ignoring damaged (\S+\.json)", caplog.text).group(1))
    assert json.loads(damaged.read_text(encoding="utf-8"))["value"] == want  # written again
    assert ph.slogan_words(load_corpus(files, cache=False, progress=False)) == want  # no snapshot: found here


def test_slogan_words_when_the_snapshot_cannot_be_written_to(tmp_path, monkeypatch, caplog):
    """A snapshot folder that refuses writes (read-only media, a full disk) only costs the saving."""
    import plan_analysis.corpus as corpus_mod

    files = sorted(RAW.glob("*.txt"))
    corpus = load_corpus(files, cache_dir=tmp_path, progress=False)
    want = ph.slogan_words(ph.extract_slogans(corpus))

    def refuse(*_a, **_k):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(corpus_mod.os, "replace", refuse)
    with caplog.at_level("INFO", logger="plan_analysis"):
        assert ph.slogan_words(corpus) == want
    assert "slogan_words not kept with the corpus snapshot" in caplog.text
    assert not list(tmp_path.rglob("derived/*")), "no file, not even a temporary one, is left behind"


def test_token_counts_of_a_corpus_are_kept_with_its_snapshot(tmp_path, monkeypatch, caplog):
    """term_counts counts a corpus's tokens once: the next load of the same files reads them, and keyness and
    keyness_by_group sum them, with the tables they give when they count; a selection counts its own."""
    files = sorted(RAW.glob("*.txt"))
    first = load_corpus(files, cache_dir=tmp_path, progress=False)
    places = [p for p in first.documents["place"].dropna().unique() if p][:4]
    ids = first.documents.loc[first.documents["place"] == places[0], "doc_id"].tolist()
    # counted, before anything is kept
    want_key = ph.keyness(first, by="doc_id", target=set(ids), min_freq=2, top=None, max_rest=6)
    want_groups = ph.keyness_by_group(first, by="place", targets=places, top=8)
    assert len(want_key) > 20 and set(want_groups["group"]) == set(places)
    assert not list(tmp_path.rglob("derived/token_counts-*"))
    counted = ph.term_counts(first)
    assert len(list(tmp_path.rglob("derived/token_counts-*.arrow"))) == 1
    words = [t.word for t in tokenize(first.text(D001), drop_punct=True, drop_stopwords=True,
                                      extra_words=ph.slogan_words(first))]
    assert counted[counted["doc_id"] == D001].set_index("term")["count"]["推进"] == words.count("推进") > 0

    def refuse(*_a, **_k):
        raise AssertionError("counted again")

    monkeypatch.setattr(ph, "_count_terms", refuse)
    monkeypatch.setattr(ph, "_term_totals", refuse)
    again = load_corpus(files, cache_dir=tmp_path, progress=False)
    pd.testing.assert_frame_equal(ph.term_counts(again), counted)
    pd.testing.assert_frame_equal(ph.keyness(again, by="doc_id", target=set(ids), min_freq=2, top=None, max_rest=6),
                                  want_key)
    pd.testing.assert_frame_equal(ph.keyness_by_group(again, by="place", targets=places, top=8), want_groups)
    with pytest.raises(AssertionError, match="counted again"):  # a selection is not the snapshot's corpus
        ph.keyness(again.select(again.documents["doc_id"].head(6).tolist()), by="doc_id", target=ids[0])
    with pytest.raises(AssertionError, match="counted again"):  # character n-grams are never kept
        ph.keyness(again, by="doc_id", target=set(ids), unit="char3")
    monkeypatch.undo()

    for path in tmp_path.rglob("derived/token_counts-*.arrow"):
        path.write_bytes(b"ARROW1 damaged")
    with caplog.at_level("WARNING", logger="plan_analysis"):
        pd.testing.assert_frame_equal(ph.term_counts(load_corpus(files, cache_dir=tmp_path, progress=False)), counted)
    assert "ignoring damaged" in caplog.text and "token_counts-" in caplog.text
    pd.testing.assert_frame_equal(ph.term_counts(load_corpus(files, cache=False, progress=False)), counted)
