"""The bundled corpus, document by document, against expectations written by hand from the seeds."""

from __future__ import annotations

import os
import pickle
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plan_analysis import load_corpus, process_text
from plan_analysis.corpus import TABLES
from plan_analysis.load import RawText

RAW = Path(__file__).resolve().parent.parent / "data" / "raw"
PROVINCIAL = Path(__file__).resolve().parent.parent / "data" / "corpora" / "provincial-2026" / "texts"

# (doc_id suffix, opening words of the document, place, admin_level, province, doc_type, is_local_plan, label_year)
# written by reading the seeds; see shared/README.md for what each file holds.
GOLD = [
    ("000_7170b9d65b80f81b-1", "2024年度工作思路\n一、坚持改革引领", "", "区", "浙江", "思路", True, 2024),
    ("000_7170b9d65b80f81b-2", "街道2024年工作思路\n（一）壮大产业集群", "", "街道", "浙江", "思路", True, 2024),
    ("001_64b46b310826ad2c-1", "铁西街道2024年工作计划", "铁西街道", "街道", "吉林", "plan", True, 2024),
    ("002_edca951219e605da-1", "一、工作思路\n坚持以解放思想为先导", "三和镇", "镇", "安徽", "plan", True, 2024),
    ("002_edca951219e605da-2", "上半年我城管办工作取得了一些进步", "大托街道", "街道", "湖南", "plan", True, 2024),
    ("002_edca951219e605da-3", "上半年以来，在区委、区政府的坚强领导下", "秋长街道", "街道", "广东",
     "half-year summary+plan", True, 2024),
    ("002_edca951219e605da-4", "为深入贯彻《中华人民共和国政府信息公开条例》", "xx镇", "镇", "", "plan", True, 2024),
    ("002_edca951219e605da-5", "坚持以“服务领导、服务基层、服务群众”为宗旨", "", "市", "陕西", "plan", True, 2024),
    ("002_edca951219e605da-6", "北京市海淀区做为我市科技", "海淀区", "区", "北京", "research report", False, 2024),
    ("002_edca951219e605da-7", "从司法部门到县政府办公室", "", "县", "", "personal plan", False, 2024),
    ("002_edca951219e605da-8", "近日，全县计划免疫工作总结会议", "xx县", "县", "", "news", False, 2024),
    ("002_edca951219e605da-9", "（一）经济指标平稳上升。上半年我镇预计实现", "百禄镇", "镇", "江苏", "summary", True, 2024),
    ("002_edca951219e605da-10", "xx年，xx镇紧紧围绕县委、县政府", "xx镇", "镇", "江苏", "summary", True, 2024),
    ("003_f7a6677d878e2b53-1", "2023年工作总结及2024年工作计划（镇乡）", "xx镇", "镇", "安徽", "summary+plan", True, 2024),
    ("003_f7a6677d878e2b53-2", "2023年工作总结及2023年工作思路（街道）", "xx街道", "街道", "浙江", "summary+plan", True, 2023),
    ("003_f7a6677d878e2b53-3", "公路街办2023年上半年工作总结暨下半年工作计划", "公路街道", "街道", "江西",
     "half-year summary+plan", True, 2023),
    ("004_c7e8bd28e2541a55-1", "前江街道2023年度工作总结及2024年度工作计划", "前江街道", "街道", "浙江", "summary+plan", True, 2024),
]

# year windows the text must support (the year the document concerns must lie inside them)
YEARS = {
    "001_64b46b310826ad2c-1": (2024, 2024),   # 主题教育 2023–24, 党纪学习教育 2024, names 2024
    "002_edca951219e605da-1": (None, 2016),   # 美好乡村/三线三边 (Anhui, 2012–16), 计划生育
    "002_edca951219e605da-3": (2014, 2016),   # 三严三实 (put forward 2014, 专题教育 2015), 国税/地税 before 2018
    "002_edca951219e605da-6": (None, 2014),   # 人口计生委, merged away in March 2013 (+1 for late texts)
    "002_edca951219e605da-9": (None, 2018),   # 国税/地税
    "002_edca951219e605da-10": (None, 2014),  # 赣榆县 became 赣榆区 in 2014; 全面小康 still a goal
    "003_f7a6677d878e2b53-1": (2023, None),   # 二十大, 和美乡村, 暖民心行动; names 2024
    "004_c7e8bd28e2541a55-1": (2023, 2024),   # 二十大, 五经普, 杜苏芮 (2023), names 2024
}


@pytest.fixture(scope="module")
def corpus():
    return load_corpus(RAW, cache=False, progress=False)


def test_inventory_is_17_documents(corpus):
    counts = corpus.documents.groupby("source_file").size().to_dict()
    assert counts == {"000_7170b9d65b80f81b.txt": 2, "001_64b46b310826ad2c.txt": 1, "002_edca951219e605da.txt": 10,
                      "003_f7a6677d878e2b53.txt": 3, "004_c7e8bd28e2541a55.txt": 1}
    assert corpus.documents["doc_id"].tolist() == [g[0] for g in GOLD]


@pytest.mark.parametrize("gold", GOLD, ids=[g[0] for g in GOLD])
def test_document_labels(corpus, gold):
    doc_id, opening, place, level, province, doc_type, local, label_year = gold
    row = corpus.documents.set_index("doc_id").loc[doc_id]
    assert row["text"].startswith(opening)
    got = (row["place"], row["admin_level"], row["province"], row["doc_type"], bool(row["is_local_plan"]),
           row["label_year"])
    assert got == (place, level, province, doc_type, local, label_year), row[["place_clue", "province_clue", "doc_type_why"]].to_dict()


def test_overall_label_accuracy(corpus):
    docs = corpus.documents.set_index("doc_id")
    fields = ["place", "admin_level", "province", "doc_type", "is_local_plan", "label_year"]
    hits = total = 0
    for g in GOLD:
        for name, want in zip(fields, g[2:]):
            total += 1
            hits += docs.at[g[0], name] == want
    print(f"\nmetadata accuracy on the 17 seed documents: {hits}/{total} = {hits / total:.2%}")
    assert hits == total


@pytest.mark.parametrize("doc_id", sorted(YEARS))
def test_dating_from_evidence(corpus, doc_id):
    row = corpus.documents.set_index("doc_id").loc[doc_id]
    lo, hi = YEARS[doc_id]
    if lo is not None:
        assert row["year_min"] is not pd.NA and row["year_min"] >= lo, row["year_evidence"]
    if hi is not None:
        assert row["year_max"] is not pd.NA and row["year_max"] <= hi, row["year_evidence"]


def test_old_documents_labelled_2024_are_not_dated_2024(corpus):
    docs = corpus.documents
    taxed = docs[docs["text"].str.contains("国税|地税")]
    assert set(taxed["doc_id"]) == {"002_edca951219e605da-3", "002_edca951219e605da-9"}
    assert (taxed["label_year"] == 2024).all()
    assert (taxed["year_max"] <= 2018).all()
    assert not taxed["label_year_plausible"].any()
    assert "国税" in " ".join(taxed["year_evidence"])


def test_published_from_site_header(corpus):
    docs = corpus.documents.set_index("doc_id")
    assert docs.at["004_c7e8bd28e2541a55-1", "published"] == "2024-02-22"
    assert (docs.drop(index="004_c7e8bd28e2541a55-1")["published"] == "").all()


def _replay(raw: str, edits: pd.DataFrame, start: int, end: int) -> str:
    """Apply the recorded clean-stage edits inside raw[start:end] to that slice."""
    inside = edits[(edits["stage"] == "clean") & (edits["raw_start"] >= start) & (edits["raw_end"] <= end)]
    out, pos = [], start
    for e in inside.sort_values("raw_start").itertuples():
        out.append(raw[pos:e.raw_start])
        out.append(e.inserted)
        pos = e.raw_end
    out.append(raw[pos:end])
    return "".join(out)


def test_every_span_slices_back_to_the_raw_file(corpus):
    docs = corpus.documents.set_index("doc_id")
    for source, raw in corpus.raw_texts.items():
        edits = corpus.edits[corpus.edits["source_file"] == source]
        ids = docs.index[docs["source_file"] == source]
        for row in corpus.sentences[corpus.sentences["doc_id"].isin(ids)].itertuples():
            assert _replay(raw, edits, row.raw_start, row.raw_end) == row.text
        for row in docs.loc[ids].itertuples():
            assert _replay(raw, edits, row.raw_start, row.raw_end) == row.text
        for row in corpus.sections[corpus.sections["doc_id"].isin(ids)].itertuples():
            assert row.title in _replay(raw, edits, row.raw_start, row.raw_end)
    for row in corpus.placeholders.itertuples():
        assert corpus.raw_slice(row.source_file, row.raw_start, row.raw_end) == row.placeholder


def test_documents_and_furniture_cover_the_raw_text(corpus):
    """Every raw character is in a document, in the edit record, or is a line break between them."""
    for source, raw in corpus.raw_texts.items():
        covered = [False] * len(raw)
        for r in corpus.documents[corpus.documents["source_file"] == source].itertuples():
            covered[r.raw_start:r.raw_end] = [True] * (r.raw_end - r.raw_start)
        for r in corpus.edits[corpus.edits["source_file"] == source].itertuples():
            covered[r.raw_start:r.raw_end] = [True] * (r.raw_end - r.raw_start)
        missing = {raw[i] for i, c in enumerate(covered) if not c}
        assert missing <= {"\n"}, (source, missing)


def test_compilation_furniture_is_recorded(corpus):
    split_edits = corpus.edits[corpus.edits["stage"] == "split"]
    assert split_edits.groupby("source_file")["kind"].apply(sorted).to_dict() == {
        "000_7170b9d65b80f81b.txt": ["compilation_title", "toc"],
        "002_edca951219e605da.txt": ["piece_marker"] * 8,
    }
    toc = split_edits[split_edits["kind"] == "toc"]["removed"].iloc[0]
    assert toc.startswith("目 录") and "2.街道2024年工作思路" in toc


def test_heading_tree(corpus):
    secs = corpus.sections[corpus.sections["doc_id"] == "004_c7e8bd28e2541a55-1"]
    top = secs[secs["level"] == 1]["title"].tolist()
    assert top == ["2023年工作回顾", "2024年工作计划"]
    second = secs[secs["parent_id"] == secs[secs["level"] == 1]["section_id"].iloc[1]]["title"].tolist()
    assert second == ["持续争先进位，改革攻坚提能升级，加快建设都市现代产业集聚高地",
                      "持续提高站位，深化创新引领发展，倾力打造拥江未来城市示范样板",
                      "持续融合统筹，协同发力高效治理，共同绘就幸福共富和美家园图景",
                      "持续破难解题，塑造变革实干敢为，全面展现干部争创一流担当作为"]
    s001 = corpus.sections[corpus.sections["doc_id"] == "001_64b46b310826ad2c-1"]
    assert s001[s001["level"] == 6]["marker"].tolist()[:3] == ["一是", "二是", "三是"]
    assert s001[s001["level"] == 1]["title"].tolist() == ["重党建，领全局", "强经济，促发展", "保民生，增福祉", "促安全，维稳定"]


def test_sentences_belong_to_sections(corpus):
    sents = corpus.sentences.set_index("sent_id")
    target = sents[sents["text"].str.contains("规上工业总产值前三季度计划增长24%")]
    assert len(target) == 1
    sec = corpus.sections.set_index("section_id").loc[target["section_id"].iloc[0]]
    assert (sec["marker"], sec["title"]) == ("一是", "着重完成重点经济指标")
    title = sents[(sents["doc_id"] == "001_64b46b310826ad2c-1") & (sents["role"] == "title")]["text"].tolist()
    assert title == ["铁西街道2024年工作计划"]


def test_placeholder_counts(corpus):
    n = corpus.documents.set_index("doc_id")["n_placeholders"]
    assert n["001_64b46b310826ad2c-1"] == 0
    assert n["003_f7a6677d878e2b53-1"] > 150
    assert n["000_7170b9d65b80f81b-2"] == 6  # XX redactions
    assert (corpus.placeholders.groupby("doc_id").size().reindex(n.index, fill_value=0) == n).all()


def test_cache_round_trip_gives_identical_tables(tmp_path, cache_entries):
    cold = load_corpus(RAW, cache=True, cache_dir=tmp_path, progress=False)
    warm = load_corpus(RAW, cache=True, cache_dir=tmp_path, progress=False)
    for name in ("documents", "sections", "sentences", "placeholders", "edits"):
        pd.testing.assert_frame_equal(getattr(cold, name), getattr(warm, name))
    assert len(cache_entries(tmp_path)) == 5 and len(list(tmp_path.rglob("pack-*.z"))) == 1  # one pack, five files
    drop_snapshots(tmp_path)  # the per-file cache alone gives the same tables
    per_file = load_corpus(RAW, cache=True, cache_dir=tmp_path, progress=False)
    for name in ("documents", "sections", "sentences", "placeholders", "edits", "load_report"):
        pd.testing.assert_frame_equal(getattr(cold, name), getattr(per_file, name))


def drop_snapshots(cache_dir):
    import shutil

    for snap in Path(cache_dir).rglob("corpus-*"):
        shutil.rmtree(snap)


def test_half_written_cache_is_not_trusted(tmp_path):
    load_corpus(RAW / "001_64b46b310826ad2c.txt", cache=True, cache_dir=tmp_path, progress=False)
    (entry,) = list(tmp_path.rglob("pack-*.z"))
    entry.write_bytes(entry.read_bytes()[:100])  # as if a write had been cut short
    drop_snapshots(tmp_path)
    again = load_corpus(RAW / "001_64b46b310826ad2c.txt", cache=True, cache_dir=tmp_path, progress=False)
    assert again.documents["place"].tolist() == ["铁西街道"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from([
    "xx镇2024年工作计划\n", "一、", "（一）", "1、", "一是", "规上工业总产值增长24%。", "国税收入2.26亿元。",
    "\n", "\n\n", "##paidbegin##", "政府工作计划篇1\n", "目 录\n1.甲\n2.乙\n", "甲\n", "乙\n", "xx", "。", ",",
]), max_size=30).map("".join))
def test_pipeline_never_raises_and_spans_slice_back(text):
    raw = RawText("t.txt", Path("t.txt"), text, "utf-8", "", len(text.encode()))
    tables = process_text(raw)
    for row in tables["placeholders"].itertuples():
        assert _replay(text, tables["edits"], row.raw_start, row.raw_end) == row.placeholder
    for row in tables["documents"].itertuples():
        assert 0 <= row.raw_start <= row.raw_end <= len(text)
    for row in tables["sentences"].itertuples():
        assert 0 <= row.raw_start < row.raw_end <= len(text)
        assert _replay(text, tables["edits"], row.raw_start, row.raw_end) == row.text


@pytest.mark.parametrize("folder", [RAW, RAW.parent / "corpora" / "provincial-2026" / "texts"], ids=["seeds", "provincial"])
def test_offset_maps_rebuilt_from_the_edit_record_equal_cleanings_own(folder):
    from plan_analysis.normalize import clean_text

    c = load_corpus(folder, cache=False, progress=False)
    for source in c.raw_texts:
        own = clean_text(c.raw_text(source)).offsets
        rebuilt = c._offset_map(source)
        assert (rebuilt.clean_starts, rebuilt.raw_starts, rebuilt.raw_ends, rebuilt.clean_len) == \
            (own.clean_starts, own.raw_starts, own.raw_ends, own.clean_len), source


def test_literal_hints_never_rule_out_a_pattern_that_matches():
    """Every dating/province/indicator rule and theme pattern that matches a bundled document contains one of its hints."""
    import re

    from plan_analysis.lexicons import read_table, required_literals
    from plan_analysis.load import decode_file

    folders = [RAW, RAW.parent / "corpora" / "provincial-2026" / "texts"]
    texts = [decode_file(p, p.read_bytes())[0] for f in folders for p in sorted(f.glob("*.txt"))]
    patterns = [r["pattern"] for name in ("provinces.tsv", "dating.tsv", "indicators.tsv")
                for r in read_table(name, columns={"pattern": "regex"})]
    from plan_analysis.themes import load_themes  # theme coding skips sentences by these hints too

    patterns += [re.compile(f"(?:{p})") for theme in load_themes() for p in theme.patterns]
    hinted = matched = 0
    for rx in patterns:
        hints = required_literals(rx)
        hinted += hints is not None
        for text in texts:
            for m in rx.finditer(text):
                matched += 1
                assert hints is None or any(h in m.group() for h in hints), (rx.pattern, m.group(), hints)
    assert hinted > 0.8 * len(patterns) and matched > 500
    assert required_literals(re.compile("[一-龥]+")) is None
    assert required_literals(re.compile("(?:治理)?[^甲]")) is None
    assert required_literals(re.compile("a(?:b|c)d", re.IGNORECASE)) is None
    # groups, alternatives and small character sets are followed; the set with the longest shortest hint wins
    assert required_literals(re.compile("(?:苏州|无锡)(?![东西]?路)")) == ("苏州", "无锡")
    assert required_literals(re.compile("皖(?:北|南)")) == ("皖北", "皖南")
    assert required_literals(re.compile("新冠(?!军)|核酸检测")) == ("新冠", "核酸检测")
    assert required_literals(re.compile("亲清|[“\"]亲[”\"]")) == ("亲清", "“亲”", "“亲\"", "\"亲”", "\"亲\"")
    assert required_literals(re.compile("(?:深入)?推进(?:乡村振兴)+")) == ("乡村振兴",)  # a repeat breaks the run


_HINT_ALPHABET = st.sampled_from(list("国税地二十大新冠核酸xX*𠮷") + ["\ud83d"])  # an astral character, a lone surrogate


@settings(max_examples=300, deadline=None)
@given(hints=st.lists(st.one_of(st.none(), st.lists(st.text(_HINT_ALPHABET, min_size=1, max_size=4), min_size=1,
                                                    max_size=4).map(tuple)), max_size=12),
       text=st.one_of(st.text(_HINT_ALPHABET, max_size=60), st.text(max_size=60)))
def test_hint_index_agrees_with_a_substring_test_per_rule(hints, text):
    """The one-pass scan gives exactly the rules a plain ``in`` test per hint gives, in rule order."""
    from plan_analysis.lexicons import HintIndex

    expected = [i for i, h in enumerate(hints) if h is None or any(x in text for x in h)]
    assert HintIndex(hints).candidates(text) == expected


def test_pinned_lexicons_sees_one_version_inside_the_block_and_edits_after(tmp_path, monkeypatch):
    import shutil

    from plan_analysis.lexicons import lexicon_dir, lexicon_fingerprint, pinned_lexicons

    folder = tmp_path / "lex"
    shutil.copytree(lexicon_dir(), folder)
    monkeypatch.setenv("PLAN_ANALYSIS_LEXICONS", str(folder))
    before = lexicon_fingerprint()
    with pinned_lexicons():
        with (folder / "stopwords.txt").open("a", encoding="utf-8") as fh:
            fh.write("测试词\n")
        assert lexicon_fingerprint() == before  # the block keeps the version it started with
        with pinned_lexicons():  # nested blocks share it
            assert lexicon_fingerprint() == before
    assert lexicon_fingerprint() != before  # the edit shows once the block ends


def test_cache_fingerprint_covers_every_module_the_pipeline_runs():
    """Every module a pipeline module imports (at the top or inside a function) is in the cache key."""
    import ast

    from plan_analysis.corpus import PIPELINE_MODULES

    pkg = RAW.parent.parent / "plan_analysis"
    missing = set()
    for name in PIPELINE_MODULES:
        for node in ast.walk(ast.parse((pkg / name).read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                targets = [node.module] if node.module else [a.name for a in node.names]
                missing |= {f"{t.split('.')[0]}.py" for t in targets} - set(PIPELINE_MODULES)
    assert not missing, f"pipeline modules import {sorted(missing)}: add them to PIPELINE_MODULES"
    assert {"meta.py", "normalize.py", "split.py", "tokenize.py"} <= set(PIPELINE_MODULES)


def test_file_offsets_are_those_cleaning_built_for_every_file_one_without_documents_too(tmp_path):
    """A file's offset map, rebuilt from the edits table, is the one clean_text builds from the raw file, also for
    a file no document came from (all furniture: its edits are not among the documents' files)."""
    from plan_analysis.normalize import clean_text

    for name in ("001_64b46b310826ad2c.txt", "003_f7a6677d878e2b53.txt"):
        (tmp_path / name).write_bytes((RAW / name).read_bytes())
    (tmp_path / "furniture.txt").write_text("##paidbegin##\n^【&更多素材搜索哒哒文库#】\n相关文章：\n", encoding="utf-8")
    c = load_corpus(tmp_path, cache=False, progress=False, engine="serial")
    assert "furniture.txt" not in set(c.documents["source_file"])
    for f in c.load_report["source_file"]:
        got, want = c.file_offsets(f), clean_text(c.raw_text(f)).offsets
        assert (got.clean_starts, got.clean_ends, got.raw_starts, got.raw_ends, got.edit_index) == \
               (want.clean_starts, want.clean_ends, want.raw_starts, want.raw_ends, want.edit_index), f


def test_raw_spans_of_every_sentence_equal_raw_span_one_at_a_time(corpus):
    """The corpus-wide offset table gives each span what its own file's offset map gives, and what the table says."""
    s = corpus.sentences
    starts, ends = s["start"].astype("int64").tolist(), s["end"].astype("int64").tolist()
    # empty spans and spans from each end of a document too
    ids = s["doc_id"].tolist() * 2
    starts, ends = starts + [a for a in starts], ends + [a for a in starts]
    ra, rb = corpus.raw_spans(ids, starts, ends)
    one = [corpus.raw_span(d, a, b) for d, a, b in zip(ids, starts, ends)]
    assert list(zip(ra.tolist(), rb.tolist())) == one
    n = len(s)
    assert ra[:n].tolist() == s["raw_start"].astype("int64").tolist()
    assert rb[:n].tolist() == s["raw_end"].astype("int64").tolist()
    with pytest.raises(KeyError, match="no document 'nope'"):
        corpus.raw_spans(["nope"], [0], [1])


def test_raw_spans_of_document_rows_equal_raw_spans_of_their_ids_a_repeated_id_too(corpus):
    """Rows of the documents table stand for their doc_id: a repeated id means its last row, as by id."""
    import dataclasses

    docs = corpus.documents
    # the first document's row again at the top, with another clean start: by id, the later row wins
    first = docs.iloc[[0]].assign(clean_start=docs["clean_start"].iloc[0] + 3)
    odd = dataclasses.replace(corpus, documents=pd.concat([first, docs], ignore_index=True), _maps={})
    s = corpus.sentences
    for c in (corpus, odd):
        rows = pd.Index(c.documents["doc_id"]).get_indexer(s["doc_id"]) if c is corpus else \
            np.where(s["doc_id"] == docs["doc_id"].iloc[0], 0, pd.Index(docs["doc_id"]).get_indexer(s["doc_id"]) + 1)
        starts, ends = s["start"].astype("int64").to_numpy(), s["end"].astype("int64").to_numpy()
        by_row = c._raw_spans_of_rows(rows, starts, ends)
        by_id = c.raw_spans(s["doc_id"].tolist(), starts, ends)
        assert by_row[0].tolist() == by_id[0].tolist() and by_row[1].tolist() == by_id[1].tolist()
        assert by_row[0].tolist() == s["raw_start"].astype("int64").tolist()  # the last row is the true one
    with pytest.raises(ValueError, match="differ in length"):
        corpus._raw_spans_of_rows(np.array([0, 1]), [0], [1])


def test_a_selection_of_documents_is_a_corpus_of_its_own(corpus):
    from plan_analysis.targets import extract_targets

    docs = corpus.documents
    place = docs["place"].value_counts().index[0]
    part = corpus.select(docs["place"] == place)
    kept = set(docs.loc[docs["place"] == place, "doc_id"])
    assert set(part.documents["doc_id"]) == kept and len(part.documents) < len(docs)
    for name in ("sections", "sentences", "placeholders"):
        table = getattr(corpus, name)
        assert getattr(part, name).reset_index(drop=True).equals(
            table[table["doc_id"].isin(kept)].reset_index(drop=True)), name
    files = set(docs.loc[docs["place"] == place, "source_file"])
    assert set(part.edits["source_file"]) == set(corpus.edits.loc[corpus.edits["source_file"].isin(files),
                                                                   "source_file"])
    assert len(part.edits) == corpus.edits["source_file"].isin(files).sum()  # every edit of those files
    assert set(part.raw_texts) == files
    # what runs on the part is what runs on the whole, restricted to the part: offsets included
    whole = extract_targets(corpus, workers=1)
    pd.testing.assert_frame_equal(extract_targets(part, workers=1),
                                  whole[whole["doc_id"].isin(kept)].reset_index(drop=True))
    one = corpus.select([sorted(kept)[0]])
    assert one.documents["doc_id"].tolist() == [sorted(kept)[0]]
    assert corpus.select(sorted(kept)[0]).documents["doc_id"].tolist() == [sorted(kept)[0]]
    with pytest.raises(KeyError, match="no document 'nope'"):
        corpus.select(["nope"])
    with pytest.raises(ValueError, match="a mask of 2 values"):
        corpus.select([True, False])


def test_a_sample_of_documents_is_drawn_at_random_and_whole(corpus):
    """``sample(n)``: n documents of the corpus with all their rows, the same ones for the same seed."""
    ids = set(corpus.documents["doc_id"])
    assert len(ids) > 6
    draws = [set(corpus.sample(5, random_state=seed).documents["doc_id"]) for seed in range(4)]
    assert all(len(d) == 5 and d <= ids for d in draws) and len({frozenset(d) for d in draws}) > 1
    assert set(corpus.sample(5, random_state=2).documents["doc_id"]) == draws[2]
    part = corpus.sample(5, random_state=1)
    assert set(part.sentences["doc_id"]) == draws[1]
    assert len(part.sentences) == corpus.sentences["doc_id"].isin(draws[1]).sum()
    assert corpus.sample(len(ids)) is corpus
    with pytest.raises(ValueError, match="n must be at least 1"):
        corpus.sample(0)

def test_heading_first_characters_cover_every_heading_marker():
    """A line starting outside ``P.HEADING_FIRST`` matches no heading pattern (every code point tried)."""
    from plan_analysis import _patterns as P
    from plan_analysis.split import parse_heading

    tails = ("、标题", "）标题", "是标题", ". 标题", "．标题", "3）、标题", "一）标题", "")
    starters = set()
    for cp in range(0x10000):
        c = chr(cp)
        if 0xD800 <= cp < 0xE000:
            continue
        for tail in tails:
            if any(rx.match(c + tail) for _, _, rx in P.HEADING_MARKERS):
                starters.add(c)
                break
    assert starters and starters <= P.HEADING_FIRST, sorted(starters - P.HEADING_FIRST)
    assert parse_heading("（三）坚持宜居宜业。").level == 2 and parse_heading("⑾做好") is not None
    assert parse_heading(" 一、缩进") is None and parse_heading("") is None


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("甲乙的街道办事处镇乡县区市村长委xX，\n")), max_size=40))
def test_named_units_found_from_suffixes_equal_the_plain_scan(text):
    """meta._named_units (tried only two places before a suffix character) finds what finditer finds."""
    from plan_analysis import meta

    assert [m.span() for m in meta._named_units(text)] == [m.span() for m in meta._NAMED_UNIT_RE.finditer(text)]


def _lexicon_patterns():
    from plan_analysis.lexicons import read_table

    for name, cols in (("dating.tsv", {"pattern": "regex", "year_min": "int?", "year_max": "int?", "label": "str",
                                       "note": "str?"}),
                       ("provinces.tsv", {"pattern": "regex", "province": "str", "weight": "int", "note": "str?"})):
        for r in read_table(name, columns=cols):
            yield r["pattern"]


def test_literal_first_rows_match_as_written_on_real_texts():
    """Every lexicon row literal_first rewrites finds the same matches as written, on the seeds and provincial texts."""
    from plan_analysis.lexicons import literal_first

    texts = [p.read_text(encoding="utf-8") for p in sorted(RAW.glob("*.txt"))]
    texts += [p.read_text(encoding="utf-8") for p in sorted(PROVINCIAL.rglob("*.txt"))]
    rewritten = matched = 0
    for rx in _lexicon_patterns():
        fast = literal_first(rx)
        if fast is rx:
            continue
        rewritten += 1
        for text in texts:
            spans = [m.span() for m in rx.finditer(text)]
            matched += len(spans)
            assert [m.span() for m in fast.finditer(text)] == spans, rx.pattern
    assert rewritten >= 5 and matched > 20


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_literal_first_rows_match_as_written_on_their_own_characters(data):
    """…and on text made of the characters of a rewritten row (where look-behinds and look-aheads bite)."""
    from plan_analysis.lexicons import literal_first

    rows = [(rx, literal_first(rx)) for rx in _lexicon_patterns()]
    rx, fast = data.draw(st.sampled_from([(a, b) for a, b in rows if a is not b]))
    chars = sorted({c for c in rx.pattern if "\u4e00" <= c <= "\u9fff" or c in "“”\"、"})
    pieces = st.sampled_from(chars + [m.group() for m in re.finditer("[\u4e00-\u9fff]{2,}", rx.pattern)])
    text = "".join(data.draw(st.lists(pieces, max_size=12)))
    assert [m.span() for m in fast.finditer(text)] == [m.span() for m in rx.finditer(text)]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["甲", "乙", "[甲乙]", "甲|乙", "丙丁"]), min_size=1, max_size=3),
       st.sampled_from(["丙丁", "丁", "丙丁?", "丙丁+乙"]), st.text(alphabet="甲乙丙丁 ", max_size=20))
def test_literal_first_keeps_matches_of_made_up_patterns(bodies, tail, text):
    """Made-up patterns: look-behinds of single characters, classes, alternatives, then a literal, maybe quantified."""
    from plan_analysis.lexicons import literal_first

    rx = re.compile("".join(f"(?<!{b})" for b in bodies) + tail)
    fast = literal_first(rx)
    assert [m.span() for m in fast.finditer(text)] == [m.span() for m in rx.finditer(text)], (rx.pattern, fast.pattern)


def _two_batch_corpus(tmp_path, monkeypatch):
    """A corpus read back from its snapshot whose tables hold two record batches: 20 files of a few plan sentences,
    written a batch per chunk of files loaded (16 files; a chunk's 700 characters are over the batch size here)."""
    import plan_analysis.corpus as corpus_module

    monkeypatch.setattr(corpus_module, "_BATCH_CHARS", 300)
    folder = tmp_path / "raw"
    folder.mkdir()
    for i in range(20):
        (folder / f"{i:02d}.txt").write_text(
            f"第{i}镇2024年工作计划\n一、发展经济\n规上工业总产值增长{i + 1}%。\n完成固定资产投资{i + 2}亿元。\n",
            encoding="utf-8")
    load_corpus(folder, cache=True, cache_dir=tmp_path / "cache", workers=1, progress=False)
    return load_corpus(folder, cache=True, cache_dir=tmp_path / "cache", workers=1, progress=False)


def test_snapshot_pieces_name_the_rows_the_tables_hold(tmp_path, monkeypatch):
    from plan_analysis.corpus import piece_texts

    corpus = _two_batch_corpus(tmp_path, monkeypatch)
    for table in ("documents", "sentences"):
        texts = getattr(corpus, table)["text"]
        lengths, name = corpus._snapshot_pieces(table)
        starts = batch_starts(corpus._snapshot_folder() / f"{table}.arrow")
        assert len(starts) == 3 and 0 < starts[1] < len(texts)  # the pieces below cross a batch's end
        assert lengths.tolist() == texts.str.len().tolist()
        n, cut = len(texts), int(starts[1])
        for a, b in [(0, n), (cut - 2, cut + 3), (cut, n), (n - 1, n)]:
            assert piece_texts(name(a, b)) == texts.iloc[a:b].tolist()
        take = np.array([0, 2, 4])
        assert piece_texts(name(cut - 2, cut + 3, take=take)) == texts.iloc[[cut - 2, cut, cut + 2]].tolist()


def test_an_edited_text_column_is_not_read_from_the_snapshot(tmp_path, monkeypatch):
    from plan_analysis.targets import extract_targets
    from plan_analysis.tokenize import tokenize_corpus

    corpus = _two_batch_corpus(tmp_path, monkeypatch)
    assert corpus._snapshot_pieces("documents") is not None
    doc = corpus.documents["doc_id"].iloc[17]
    edited = "规上工业总产值增长99%。"
    corpus.documents.loc[corpus.documents["doc_id"] == doc, "text"] = edited
    # the column is no longer the snapshot's buffers: every stage reads the text as it now is
    assert corpus._snapshot_pieces("documents") is None
    assert tokenize_corpus(corpus, workers=1)[doc] == ["规上工业总产值", "增长", "99%"]
    figures = extract_targets(corpus, workers=1)
    assert figures.loc[figures["doc_id"] == doc, "figure"].tolist() == ["99%"]
    corpus.sentences["text"] = corpus.sentences["text"].str.replace("增长", "提高")
    assert corpus._snapshot_pieces("sentences") is None and corpus._snapshot_pieces("documents") is None


def test_stages_give_the_same_from_the_snapshot_as_from_the_tables(tmp_path):
    from plan_analysis.phrasing import (extract_slogans, keyness, register_features, sentence_openings,
                                        term_counts)
    from plan_analysis.targets import extract_targets
    from plan_analysis.themes import score_themes
    from plan_analysis.tokenize import tokenize_corpus

    snap = load_corpus(RAW, cache=True, cache_dir=tmp_path, progress=False)
    plain = load_corpus(RAW, cache=False, progress=False)
    assert snap._snapshot_pieces("documents") is not None and plain._snapshot_pieces("documents") is None
    place = snap.documents["place"].dropna().iloc[0]
    for stage in (extract_targets, extract_slogans, tokenize_corpus, lambda c: score_themes(c, unit="sentence"),
                  sentence_openings, register_features, lambda c: term_counts(c, unit="token"),
                  lambda c: term_counts(c, unit="char2"),
                  lambda c: keyness(c, by="place", target=place, unit="token", min_freq=1, top=None, max_rest=3)):
        got, want = stage(snap), stage(plain)
        assert len(got) >= 5
        (pd.testing.assert_series_equal if isinstance(got, pd.Series) else pd.testing.assert_frame_equal)(got, want)


def batch_starts(path) -> np.ndarray:
    """The first row of each record batch of an Arrow IPC file, and its number of rows last: the tests' own reading
    of what ``Corpus._snapshot_pieces`` takes from the mapped table's chunks."""
    import pyarrow as pa

    with pa.memory_map(str(path)) as source:
        reader = pa.ipc.open_file(source)
        sizes = [reader.get_batch(i).num_rows for i in range(reader.num_record_batches)]
    return np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)]).astype(np.int64)


def _tables(corpus):
    return {name: getattr(corpus, name) for name in (*TABLES, "load_report")}


def test_snapshot_tables_become_dataframes_when_first_used(tmp_path):
    # a corpus read from its snapshot makes a table a DataFrame only when it is used: figures need no sentences, so
    # their 700,000 rows in the benchmark corpus are never copied out of the map; each table, once used, is the one
    # a load without a cache gives
    from plan_analysis.targets import extract_targets

    load_corpus(RAW, cache=True, cache_dir=tmp_path, progress=False)
    corpus = load_corpus(RAW, cache=True, cache_dir=tmp_path, progress=False)
    plain = load_corpus(RAW, cache=False, progress=False)
    figures = extract_targets(corpus)
    pd.testing.assert_frame_equal(figures, extract_targets(plain))
    assert "sentences" not in vars(corpus) and "placeholders" not in vars(corpus)
    for name, want in _tables(plain).items():
        pd.testing.assert_frame_equal(getattr(corpus, name), want, obj=name)
        assert name in vars(corpus)
    assert getattr(corpus, "sentences") is corpus.sentences  # made once
    with pytest.raises(AttributeError, match="'Corpus' object has no attribute 'sentence'"):
        corpus.sentence


def test_snapshot_tables_not_yet_used_survive_rotation_copies_and_pickling(tmp_path):
    # a table not yet used is read from the snapshot's file mapped at the load: removing the snapshot (another load
    # rotating it out of the cache) loses nothing; a copy or a pickled corpus has every table too
    import copy

    plain = _tables(load_corpus(RAW, cache=False, progress=False))
    corpus = load_corpus(RAW, cache=True, cache_dir=tmp_path, progress=False)
    twin, thawed = copy.copy(corpus), pickle.loads(pickle.dumps(corpus))
    corpus.sections  # noqa: B018 - made a DataFrame: pickled as that alone, not also as its Arrow table
    assert "sections" not in pickle.loads(pickle.dumps(corpus)).__dict__["_unread"]
    assert "sentences" in pickle.loads(pickle.dumps(corpus)).__dict__["_unread"]
    corpus.sentences  # noqa: B018
    assert copy.copy(corpus)._snapshot_pieces("sentences") is not None  # a shallow copy still names the snapshot's texts
    drop_snapshots(tmp_path)
    for other in (corpus, twin, thawed):
        for name, want in plain.items():
            pd.testing.assert_frame_equal(getattr(other, name), want, obj=name)


def test_a_table_replaced_before_its_first_use_is_not_read_from_the_snapshot(tmp_path):
    from plan_analysis.themes import score_themes

    load_corpus(RAW, cache=True, cache_dir=tmp_path, progress=False)
    corpus = load_corpus(RAW, cache=True, cache_dir=tmp_path, progress=False)
    plain = load_corpus(RAW, cache=False, progress=False)
    unedited = score_themes(plain, unit="sentence")
    plain.sentences["text"] = plain.sentences["text"].str.replace("发展", "").str.replace("经济", "")
    corpus.sentences = plain.sentences.copy()  # never read from the snapshot: its text is this table's
    assert corpus._snapshot_pieces("sentences") is None
    assert corpus._snapshot_pieces("documents") is not None
    got = score_themes(corpus, unit="sentence")
    pd.testing.assert_frame_equal(got, score_themes(plain, unit="sentence"))
    assert not got.equals(unedited)


def test_a_mapped_tables_frame_is_arrows_own_conversion(tmp_path, monkeypatch):
    # every table of a snapshot, numbers held batch by batch (the two-batch corpus) too, becomes the frame Arrow's own
    # conversion gives
    from plan_analysis.corpus import MappedTable

    corpus = _two_batch_corpus(tmp_path, monkeypatch)
    for name in (*TABLES, "load_report"):
        mapped = MappedTable.open(corpus._snapshot_folder() / f"{name}.arrow")
        if name == "sentences":
            assert mapped.table.column("start").num_chunks == 2
        pd.testing.assert_frame_equal(mapped.frame(), mapped.table.to_pandas(split_blocks=True), obj=name)


def test_a_mapped_table_whose_file_was_replaced_or_that_was_pickled_converts_what_it_holds(tmp_path):
    # a table pickled to another process (no longer over the map) converts the values it holds, and one whose file was
    # replaced since (same size, other numbers) those of the file it mapped; the file opened again gives the new ones
    import pyarrow as pa

    from plan_analysis.corpus import MappedTable

    corpus = load_corpus(RAW, cache=True, cache_dir=tmp_path, progress=False)
    path = corpus._snapshot_folder() / "sentences.arrow"
    mapped = MappedTable.open(path)
    want = mapped.table.to_pandas(split_blocks=True)
    thawed = pickle.loads(pickle.dumps(mapped))
    assert thawed.pages is None
    pd.testing.assert_frame_equal(thawed.frame(), want)
    shifted = mapped.table.set_column(mapped.table.schema.get_field_index("start"), "start",
                                      pa.compute.add(mapped.table.column("start"), 1))
    other = path.with_name("other.arrow")
    with pa.OSFile(str(other), "wb") as sink, pa.ipc.new_file(sink, shifted.schema) as writer:
        for batch in shifted.to_batches():
            writer.write_batch(batch)
    assert other.stat().st_size == path.stat().st_size
    other.replace(path)
    pd.testing.assert_frame_equal(mapped.frame(), want)
    assert MappedTable.open(path).frame()["start"].tolist() == (want["start"] + 1).tolist()


def _resident_kb(path) -> int:
    """The kB of this process's maps of ``path`` in memory now (Linux's /proc/self/smaps)."""
    total, inside = 0, False
    with open("/proc/self/smaps", encoding="utf-8") as fh:
        for line in fh:
            if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                inside = line.rstrip("\n").endswith(str(path))
            elif inside and line.startswith("Rss:"):
                total += int(line.split()[1])
    return total


linux_only = pytest.mark.skipif(not os.path.exists("/proc/self/smaps"), reason="reads /proc/self/smaps (Linux)")


def _long_named_folder(folder: Path) -> Path:
    """Four long-named plans of ten parts of 200 like lines, each with three half-width commas: 24,000 edits naming their file,
    a 12 MB table of edits (the seeds' snapshot files are so small that reading a byte brings in all their pages)."""
    line = "深入践行“八八战略”，全镇完成固定资产投资7.06亿元,同比增长12%,新建道路3条,改造农房20户。\n"
    folder.mkdir()
    parts = "".join(f"{n}、重点工作\n" + line * 200 for n in "一二三四五六七八九十")
    for i in range(4):
        (folder / f"{'某某镇二〇二三年工作总结和二〇二四年工作计划' * 3}_{i}.txt").write_text(
            "某镇2024年工作计划\n" + parts, encoding="utf-8")
    return folder


@linux_only
def test_a_mapped_table_gives_back_the_pages_it_read_and_reads_them_again(tmp_path):
    # the pages a pass over a column brought into memory are given back; a value read after that is the same
    from plan_analysis.corpus import MappedTable

    corpus = load_corpus(_long_named_folder(tmp_path / "texts"), cache=True, cache_dir=tmp_path, progress=False)
    path = corpus._snapshot_folder() / "edits.arrow"
    mapped = MappedTable.open(path)
    before = _resident_kb(path)
    files = mapped.table.column("source_file").to_pylist()  # every page of the column read
    assert _resident_kb(path) >= before + 4000  # (24,000 paths of some 230 bytes)
    mapped.drop_pages()
    assert _resident_kb(path) <= before
    assert mapped.table.column("source_file").to_pylist() == files
    assert pickle.loads(pickle.dumps(mapped)).pages is None  # pickled, there is no map to give pages back from
    pickle.loads(pickle.dumps(mapped)).drop_pages()


@linux_only
def test_a_mapped_tables_frame_gives_back_the_pages_its_numbers_were_copied_from(tmp_path):
    # the numbers are copied into one array per column; the map's pages they were read from are not held as well
    import pyarrow as pa

    from plan_analysis.corpus import MappedTable

    corpus = load_corpus(_long_named_folder(tmp_path / "texts"), cache=True, cache_dir=tmp_path, progress=False)
    path = corpus._snapshot_folder() / "edits.arrow"
    mapped = MappedTable.open(path)
    assert pa.types.is_int64(mapped.table.schema.field("raw_start").type)
    before = _resident_kb(path)
    frame = mapped.frame()
    assert _resident_kb(path) <= before
    assert frame["raw_start"].tolist() == mapped.table.column("raw_start").to_pylist()  # read back after the drop
    assert len(frame) >= 24_000


@linux_only
def test_stages_give_back_the_snapshot_pages_their_passes_read(tmp_path):
    # theme scores, slogans and figures read whole columns of the snapshot's tables (ids to select and group
    # sentences, section ids, the edits' files) before their results pile up; those pages are not held after
    from plan_analysis.phrasing import extract_slogans
    from plan_analysis.targets import extract_targets
    from plan_analysis.themes import score_themes

    texts = _long_named_folder(tmp_path / "texts")
    load_corpus(texts, cache=True, cache_dir=tmp_path, progress=False)
    for stage, table, column in ((lambda c: score_themes(c, unit="document"), "sentences", "section_id"),
                                 (extract_slogans, "sentences", "doc_id"), (extract_targets, "edits", "source_file")):
        corpus = load_corpus(texts, cache=True, cache_dir=tmp_path, progress=False)
        path = corpus._snapshot_folder() / f"{table}.arrow"
        assert len(stage(corpus))
        held = _resident_kb(path)
        getattr(corpus, table)[column].tolist()  # read again: its pages come back
        assert held + 256 <= _resident_kb(path), (table, column, held)


@linux_only
def test_theme_scores_give_back_the_ids_they_selected_by_before_the_sentences_are_coded(tmp_path, monkeypatch):
    # selecting the sentences to score reads their document ids whole; coding them (a pool of workers) must not
    # start holding those pages, nor the scores end with them
    from plan_analysis import themes

    texts = _long_named_folder(tmp_path / "texts")
    load_corpus(texts, cache=True, cache_dir=tmp_path, progress=False)
    corpus = load_corpus(texts, cache=True, cache_dir=tmp_path, progress=False)
    path = corpus._snapshot_folder() / "sentences.arrow"
    held = []
    code_slots = themes._code_slots
    monkeypatch.setattr(themes, "_code_slots", lambda *a, **k: held.append(_resident_kb(path)) or code_slots(*a, **k))
    assert len(themes.score_themes(corpus, unit="document"))
    corpus.sentences["doc_id"].tolist()  # read again: its pages come back
    assert held and held[0] + 256 <= _resident_kb(path), held


def test_piece_offsets_map_spans_as_each_files_offset_map_does(corpus):
    # what a worker gets to map its piece's spans (extract_targets) against the offset map of each file, built from
    # its edits one by one: the same raw spans, also for pieces that cut a compilation's documents apart
    docs = corpus.documents
    files = docs["source_file"].tolist()
    inside = next(i for i in range(1, len(files)) if files[i] == files[i - 1])  # a cut between two of one file's
    name = corpus._piece_offsets()
    rng = np.random.default_rng(7)
    for a, b in [(0, len(docs)), (0, inside), (inside, len(docs)), (inside, inside + 1)]:
        local = rng.integers(0, b - a, size=300)
        lens = docs["n_chars"].to_numpy(dtype=np.int64)[a + local]
        starts = rng.integers(0, lens + 1)
        ends = np.minimum(starts + rng.integers(0, 60, size=len(starts)), lens)
        got = name(a, b).raw_spans(local, starts, ends)
        want = [corpus.raw_span(docs["doc_id"].iloc[a + i], s, e) for i, s, e in zip(local, starts, ends)]
        assert list(zip(got[0].tolist(), got[1].tolist())) == want


def test_stages_run_on_after_the_snapshot_is_rotated_out(tmp_path):
    # another load may remove a snapshot a corpus was read from (the cache keeps the last few): the corpus still has
    # its tables mapped, and the stages read their texts from those, before their work starts or while it runs
    from plan_analysis.corpus import SnapshotRows
    from plan_analysis.targets import extract_targets
    from plan_analysis.themes import score_themes
    from plan_analysis.tokenize import tokenize_corpus

    corpus = load_corpus(RAW, cache=True, cache_dir=tmp_path, progress=False)
    before = (extract_targets(corpus), tokenize_corpus(corpus), score_themes(corpus, unit="sentence"))
    lengths, name = corpus._snapshot_pieces("sentences")
    folder = corpus._snapshot_folder()
    drop_snapshots(tmp_path)
    assert not folder.exists()
    assert name(0, 3) == corpus.sentences["text"].iloc[0:3].tolist()  # named while the stage ran: given as texts
    with pytest.raises(FileNotFoundError, match="removed while a stage was reading it.*run the stage again"):
        SnapshotRows(str(folder / "sentences.arrow"), "text", 0, 3).read()
    after = (extract_targets(corpus), tokenize_corpus(corpus), score_themes(corpus, unit="sentence"))
    pd.testing.assert_frame_equal(before[0], after[0])
    pd.testing.assert_series_equal(before[1], after[1])
    pd.testing.assert_frame_equal(before[2], after[2])


@settings(max_examples=60, deadline=None)
@given(texts=st.lists(st.one_of(st.none(), st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)),
                      min_size=1, max_size=30),
       batch=st.integers(1, 7), data=st.data())
def test_snapshot_rows_read_any_rows_of_any_text(tmp_path_factory, texts, batch, data):
    # any text (none missing: read as ""), any cut into record batches, any run of rows and selection of it
    import pyarrow as pa

    from plan_analysis.corpus import SnapshotRows

    path = tmp_path_factory.mktemp("rows") / "t.arrow"
    table = pa.table({"n": pa.array(range(len(texts))), "text": pa.array(texts, type=pa.large_string())})
    with pa.ipc.new_file(str(path), table.schema) as writer:
        writer.write_table(table, max_chunksize=batch)
    starts = batch_starts(path)
    assert starts.tolist() == list(range(0, len(texts), batch)) + [len(texts)]
    a = data.draw(st.integers(0, len(texts) - 1))
    b = data.draw(st.integers(a + 1, len(texts)))
    take = data.draw(st.lists(st.integers(0, b - a - 1), unique=True).map(sorted))
    k = int(np.searchsorted(starts, a, side="right")) - 1
    want = ["" if t is None else t for t in texts]
    for first in [(0, 0), (k, int(starts[k]))]:  # from the first batch on, or from the one holding row a
        rows = SnapshotRows(str(path), "text", a, b, batch=first[0], batch_start=first[1])
        assert rows.read() == want[a:b]
        picked = SnapshotRows(str(path), "text", a, b, batch=first[0], batch_start=first[1], take=np.asarray(take))
        assert picked.read() == [want[a + i] for i in take]
