"""Robustness: the whole per-file pipeline on arbitrary text, bad input files, a read-only raw corpus,
and interruptions that must never leave a half-written cache or page that a later run trusts."""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import shutil
import signal
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import plan_analysis.corpus as corpus_mod
from plan_analysis import load_corpus, phrasing, process_text, targets, texts_corpus, themes, tokenize
from plan_analysis.corpus import TABLES, _cache_dump, _cache_load, process_file
from plan_analysis.load import RawText
from plan_analysis.normalize import clean_text

ROOT = Path(__file__).resolve().parent.parent
RAW = ROOT / "data" / "raw"
PROVINCIAL = ROOT / "data" / "corpora" / "provincial-2026" / "texts"
TEXT = "铁西街道2024年工作计划\n一、抓党建\n规上工业总产值前三季度计划增长24%；招商引资实际到位内资全年计划完成7亿元。\n"


# --- properties over the whole per-file pipeline ----------------------------------------------------

cjk_heavy = st.text(alphabet=st.one_of(
    st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
    st.characters(min_codepoint=0x3000, max_codepoint=0x303F),
    st.characters(min_codepoint=0xFF01, max_codepoint=0xFF5E),
    st.sampled_from(list("\n\n\r\t ,.;:!?()\"'%0123456789xX*")),
), max_size=400)

_FRAGMENTS = [
    # titles and compilation furniture
    "前江街道2023年度工作总结及2024年度工作计划\n", "xx镇2024年工作计划\n", "乡镇工作计划篇1\n", "乡镇工作计划篇2\n",
    "目 录\n1.镇2024年工作计划\n2.街道2024年工作思路\n", "街道2024年工作思路\n", "2024年政府工作报告\n",
    # headings of every level
    "一、", "二、", "（一）", "(二)", "1.", "2、", "（1）", "①", "一是", "二是", "第一，",
    # bodies with figures, placeholders and dating phrases
    "规上工业总产值增长24%。", "地区生产总值增长5%左右", "完成固定资产投资7.06亿元,同比 增长-40.8%", "增速xx.xx%，",
    "20xx年", "***平方公里", "XX模塑", "A新时代", "国税收入2.26亿元，地税收入1.11亿元。", "深入贯彻党的二十大精神，",
    "紧扣“三严三实”", "“1+4+X”", "上午9:30召开会议", "拆除面积约15,749平方米", "９０％",
    # content-mill and site furniture
    "##paidbegin##", "##paidend##", "^【&更多素材搜索哒哒文库#】", "的.位置", "索引号: 11330/2024-0012\n",
    "成文日期: 2024-02-22\n", "小编为您带来了\n", "相关文章:\n", "打印 | 关闭\n",
    # whitespace of every kind
    "\n", "\n\n\n", "\r\n", " ", "\u3000", "\u00a0", "\u200b", "\t",
]
plan_like = st.lists(st.sampled_from(_FRAGMENTS), max_size=60).map("".join)
any_text = st.one_of(st.text(max_size=300), cjk_heavy, plan_like)


def _clean_edits(edits: pd.DataFrame) -> list[tuple[int, int, str]]:
    e = edits[edits["stage"] == "clean"]
    return sorted(zip(e["raw_start"].tolist(), e["raw_end"].tolist(), e["inserted"].tolist()))


def _replay(raw: str, edits: list[tuple[int, int, str]], start: int, end: int) -> str:
    """Apply the clean-stage edits recorded inside raw[start:end] to that slice."""
    out, pos = [], start
    for a, b, new in edits:
        if a >= start and b <= end:
            out.append(raw[pos:a])
            out.append(new)
            pos = b
    out.append(raw[pos:end])
    return "".join(out)


def _check_tables(raw: str, tables: dict[str, pd.DataFrame], *, coverage: bool = True) -> None:
    docs, edits = tables["documents"], tables["edits"]
    replay_edits = _clean_edits(edits)
    for name, cols in TABLES.items():
        assert tuple(tables[name].columns) == cols
    # every span and offset slices back to the raw text
    for a, b, removed in zip(edits["raw_start"], edits["raw_end"], edits["removed"]):
        assert 0 <= a <= b <= len(raw)
        assert raw[a:b] == removed
    for a, b, text in zip(docs["raw_start"], docs["raw_end"], docs["text"]):
        assert 0 <= a <= b <= len(raw)
        assert _replay(raw, replay_edits, a, b) == text
    sents = tables["sentences"]
    for a, b, text in zip(sents["raw_start"], sents["raw_end"], sents["text"]):
        assert _replay(raw, replay_edits, a, b) == text
    # and a sentence is its document's text from start to end (phrasing workers cut sentences out that way)
    doc_text = dict(zip(docs["doc_id"], docs["text"]))
    for d, a, b, text in zip(sents["doc_id"], sents["start"], sents["end"], sents["text"]):
        assert doc_text[d][a:b] == text
    secs = tables["sections"]
    for a, b, title in zip(secs["raw_start"], secs["raw_end"], secs["title"]):
        assert 0 <= a <= b <= len(raw)
        assert title in _replay(raw, replay_edits, a, b)
    ph = tables["placeholders"]
    for a, b, p in zip(ph["raw_start"], ph["raw_end"], ph["placeholder"]):
        assert raw[a:b] == p
    # every raw character is kept in a document or is in the removal record (line breaks between
    # documents and furniture excepted)
    if coverage:
        covered = bytearray(len(raw))
        for frame in (docs, edits):
            for a, b in zip(frame["raw_start"], frame["raw_end"]):
                covered[a:b] = b"\x01" * (b - a)
        assert {raw[i] for i in range(len(raw)) if not covered[i]} <= {"\n"}


def test_text_before_a_toc_is_kept():
    raw = "前言一段话\n目 录\n1.甲\n2.乙\n甲\n内容一\n乙\n内容二"
    tables = process_text(RawText("t.txt", Path("t.txt"), raw, "utf-8", "", 0))
    covered = set()
    for frame in (tables["documents"], tables["edits"]):
        for a, b in zip(frame["raw_start"], frame["raw_end"]):
            covered.update(range(a, b))
    assert {raw[i] for i in range(len(raw)) if i not in covered} <= {"\n"}


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(any_text)
def test_pipeline_never_raises_and_every_span_maps_back(text):
    tables = process_text(RawText("t.txt", Path("t.txt"), text, "utf-8", "", len(text.encode("utf-8", "surrogatepass"))))
    _check_tables(text, tables)


_FIGURE_CHARS = set("0123456789xX")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(any_text)
def test_figures_never_raise_slice_back_and_keep_placeholders_empty(text):
    """extract_targets on any text: each figure's raw span lies in the text and holds the figure's digits (and
    placeholder x's, in order); a figure with an x is a placeholder with no value; every other has a finite one."""
    from plan_analysis.targets import extract_targets

    for r in extract_targets(text).itertuples():
        assert 0 <= r.raw_start <= r.raw_end <= len(text)
        raw = unicodedata.normalize("NFKC", text[r.raw_start:r.raw_end])
        digits = "".join(ch for ch in r.figure if ch in _FIGURE_CHARS).lower()
        assert digits in "".join(ch for ch in raw if ch in _FIGURE_CHARS).lower(), (r.figure, raw)
        if "x" in digits:
            assert r.placeholder, r.figure
        if r.placeholder:
            assert math.isnan(r.value) and math.isnan(r.base_value), r.figure
        else:
            assert math.isfinite(r.value), r.figure


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(any_text)
def test_cleaning_is_idempotent_on_the_pipeline_output(text):
    cleaned = clean_text(text).text
    assert clean_text(cleaned).text == cleaned
    tables = process_text(RawText("t.txt", Path("t.txt"), text, "utf-8", "", 0))
    for doc in tables["documents"]["text"]:
        assert clean_text(doc).text == doc


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=600), any_text.map(lambda t: t.encode("utf-8")),
                 plan_like.map(lambda t: t.encode("gb18030")), plan_like.map(lambda t: t.encode("utf-16"))))
def test_any_bytes_load_or_are_skipped_with_a_reason(data):
    res = process_file("f.txt", data)
    assert res.status in ("loaded", "skipped")
    if res.status == "skipped":
        assert res.reason and res.columns is None and not res.reason.startswith("processing failed")
    else:
        text = corpus_mod.decode_file("f.txt", data)[0]
        assert res.n_chars == len(text) and res.sha256 == hashlib.sha256(data).hexdigest()
        _check_tables(text, res.tables())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(any_text)
def test_cache_round_trip_is_exact(text):
    res = process_file("f.txt", text.encode("utf-8"))
    if res.columns is None:
        return
    raw = corpus_mod.decode_file("f.txt", text.encode("utf-8"))[0]
    back = _cache_load(_cache_dump(res.columns), raw)
    for name in TABLES:
        pd.testing.assert_frame_equal(corpus_mod._frame_from_columns(name, back[name]),
                                      corpus_mod._frame_from_columns(name, res.columns[name]), check_exact=True)


def test_a_cache_entry_changed_anywhere_is_refused_never_read_wrong():
    """zstd frames carry no checksum: the entry's own CRC and length make any changed byte an error."""
    res = process_file("f.txt", TEXT.encode("utf-8"))
    blob = _cache_dump(res.columns)
    sound = _cache_load(blob, TEXT)
    assert sound["documents"]["place"] == ["铁西街道"]
    refused = 0
    for i in range(len(blob)):
        for flip in (0x01, 0x80):
            damaged = blob[:i] + bytes([blob[i] ^ flip]) + blob[i + 1:]
            try:
                back = _cache_load(damaged, TEXT)
            except ValueError:
                refused += 1
            else:  # a bit the compressed frame does not use: the same tables, or nothing
                assert back == sound
    assert refused > 1.9 * len(blob)
    huge = blob[:len(corpus_mod._CACHE_MAGIC)] + (1 << 60).to_bytes(8, "big") + blob[len(corpus_mod._CACHE_MAGIC) + 8:]
    with pytest.raises(ValueError, match="says"):  # refused before anything is allocated
        _cache_load(huge, TEXT)
    with pytest.raises(ValueError):
        _cache_load(blob[:-5], TEXT)


# --- a folder of bad inputs -------------------------------------------------------------------------

def _bad_folder(root: Path) -> Path:
    d = root / "bad"
    d.mkdir()
    (d / "good.txt").write_text(TEXT, encoding="utf-8")
    (d / "empty.txt").write_bytes(b"")
    (d / "binary.txt").write_bytes(bytes(range(256)) * 8)
    (d / "picture.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 200)
    (d / "gb18030.txt").write_bytes(TEXT.replace("铁西", "前江").encode("gb18030"))
    (d / "utf16.txt").write_bytes(TEXT.replace("铁西", "大托").encode("utf-16"))
    (d / "truncated.txt").write_bytes(TEXT.encode("utf-8") + "计".encode("utf-8")[:2])
    (d / "crlf.txt").write_bytes(TEXT.replace("\n", "\r\n").encode("utf-8"))
    (d / "placeholders.txt").write_text("xx镇20xx年工作计划\nxx xx xxxx *** XX x.x 20xx A新时代\n", encoding="utf-8")
    (d / "前江街道 2024年 工作计划.txt").write_text(TEXT.replace("铁西", "秋长"), encoding="utf-8")
    (d / "locked.txt").write_text(TEXT, encoding="utf-8")
    with (d / "huge.txt").open("wb") as fh:  # 50 MB, written in a few large blocks
        block = TEXT.encode("utf-8") * (4 * 1024 * 1024 // len(TEXT.encode("utf-8")))
        while fh.tell() < 50 * 1024 * 1024:
            fh.write(block)
    return d


@pytest.mark.parametrize("engine", ["serial", "process"])
def test_bad_inputs_one_clear_line_each_and_a_usable_corpus(tmp_path, engine, deny_reading):
    d = _bad_folder(tmp_path)
    deny_reading("locked.txt")
    started = time.perf_counter()
    c = load_corpus(d, cache=True, cache_dir=tmp_path / "cache", progress=False, engine=engine, workers=2)
    assert time.perf_counter() - started < 60
    rep = c.load_report.set_index("source_file")
    assert rep.index.is_unique and len(rep) == 12  # one line per file, none left out
    status = rep["status"].to_dict()
    reason = rep["reason"].to_dict()
    assert reason["empty.txt"] == "empty file"
    assert "binary" in reason["binary.txt"]
    assert "PNG" in reason["picture.txt"]
    assert reason["locked.txt"] == "unreadable: permission denied"
    assert reason["huge.txt"].startswith("too large: 5") and "max_file_mb" in reason["huge.txt"]
    assert rep.loc["huge.txt", "n_bytes"] >= 50 * 1024 * 1024
    assert "truncated" in reason["truncated.txt"] and status["truncated.txt"] == "loaded"
    assert rep.loc["gb18030.txt", "encoding"] == "gb18030" and rep.loc["utf16.txt", "encoding"] == "utf-16"
    loaded = {f for f, s in status.items() if s == "loaded"}
    assert loaded == {"good.txt", "gb18030.txt", "utf16.txt", "truncated.txt", "crlf.txt", "placeholders.txt",
                      "前江街道 2024年 工作计划.txt"}
    for line in rep.itertuples():  # each reason is one line
        assert "\n" not in line.reason
    # a usable corpus from the rest
    places = c.documents.set_index("source_file")["place"].to_dict()
    assert places["gb18030.txt"] == "前江街道" and places["utf16.txt"] == "大托街道"
    assert places["前江街道 2024年 工作计划.txt"] == "秋长街道"
    assert c.documents.loc[c.documents["source_file"] == "crlf.txt", "text"].iloc[0] == \
        c.documents.loc[c.documents["source_file"] == "good.txt", "text"].iloc[0]
    assert (c.placeholders["source_file"] == "placeholders.txt").sum() >= 8
    for row in c.placeholders.itertuples():
        assert c.raw_slice(row.source_file, row.raw_start, row.raw_end) == row.placeholder


def test_the_size_limit_can_be_raised(tmp_path):
    (tmp_path / "big.txt").write_bytes(TEXT.encode("utf-8") * 10_000)  # 1.3 MB, 10,000 headings
    skipped = load_corpus(tmp_path, cache=False, progress=False, max_file_mb=1)
    assert skipped.load_report["status"].tolist() == ["skipped"] and skipped.documents.empty
    loaded = load_corpus(tmp_path, cache=False, progress=False, max_file_mb=None)
    assert loaded.load_report["status"].tolist() == ["loaded"] and len(loaded.documents) == 1


def test_a_bug_in_one_file_does_not_stop_the_run(tmp_path, monkeypatch, caplog):
    (tmp_path / "a.txt").write_text(TEXT, encoding="utf-8")
    (tmp_path / "b.txt").write_text(TEXT.replace("铁西", "前江"), encoding="utf-8")
    real = corpus_mod._file_columns

    def flaky(raw):
        if raw.source_file == "a.txt":
            raise RuntimeError("boom")
        return real(raw)

    monkeypatch.setattr(corpus_mod, "_file_columns", flaky)
    c = load_corpus(tmp_path, cache=False, progress=False, engine="serial")
    rep = c.load_report.set_index("source_file")
    assert rep.loc["a.txt", "status"] == "skipped" and "processing failed (RuntimeError: boom)" in rep.loc["a.txt", "reason"]
    assert c.documents["source_file"].tolist() == ["b.txt"]


# --- the raw corpus is read, never written ---------------------------------------------------------

def _tree_hashes(folder: Path) -> dict[str, tuple[str, float]]:
    return {p.relative_to(folder).as_posix(): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_full_run_never_writes_to_data_raw(tmp_path, monkeypatch):
    from plan_analysis.report import build_report
    from plan_analysis.targets import extract_targets

    before = _tree_hashes(RAW)
    manifest = {line.split("\t")[0]: line.split("\t")[1] for line in
                (RAW / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines()[1:] if "\t" in line}
    monkeypatch.setenv("PLAN_ANALYSIS_CACHE", str(tmp_path / "cache"))
    c = load_corpus(RAW, progress=False)
    assert len(extract_targets(c)) > 0
    nb = tmp_path / "notebooks"
    nb.mkdir()
    shutil.copy(ROOT / "notebooks" / "00_corpus_overview.ipynb", nb)
    assert build_report(notebooks_dir=nb, out_dir=tmp_path / "out", corpus=RAW, profiles=False) == 0
    assert (tmp_path / "out" / "00_corpus_overview.html").stat().st_size > 10_000
    assert _tree_hashes(RAW) == before
    for name, (sha, _) in before.items():
        if name in manifest:
            assert manifest[name] == sha


# --- interruptions --------------------------------------------------------------------------------

def test_a_cache_write_cut_short_is_never_trusted(tmp_path, monkeypatch, cache_entries):
    files = [PROVINCIAL, RAW]  # 36 files: three packs of up to 16 in a serial load
    reference = load_corpus(files, cache=False, progress=False)
    real_replace = os.replace
    calls = {"n": 0}

    def crash_on_third(src, dst):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # as if Ctrl-C came between writing the data and renaming it
        return real_replace(src, dst)

    monkeypatch.setattr(corpus_mod.os, "replace", crash_on_third)
    with pytest.raises(KeyboardInterrupt):
        load_corpus(files, cache=True, cache_dir=tmp_path, progress=False, engine="serial")
    monkeypatch.setattr(corpus_mod.os, "replace", real_replace)
    assert len(list(tmp_path.rglob("pack-*.z"))) == 2 and len(cache_entries(tmp_path)) == 32  # the third never appeared
    assert not list(tmp_path.rglob(".tmp-*"))  # and its temporary file was removed
    again = load_corpus(files, cache=True, cache_dir=tmp_path, progress=False)
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(reference, name), getattr(again, name), check_exact=True)
    assert len(cache_entries(tmp_path)) == 36


def test_damaged_cache_packs_are_rebuilt(tmp_path, monkeypatch, caplog, cache_entries):
    files = [PROVINCIAL, RAW]
    reference = load_corpus(files, cache=True, cache_dir=tmp_path, progress=False, engine="serial")
    packs = sorted(tmp_path.rglob("pack-*.z"), key=lambda p: p.stat().st_mtime_ns)
    assert len(packs) == 3
    packs[0].write_bytes(b"")  # empty
    packs[1].write_bytes(packs[1].read_bytes()[:-20])  # truncated: its last entry is cut short
    data = bytearray(packs[2].read_bytes())
    at = data.index(corpus_mod._CACHE_MAGIC) + 30
    data[at:at + 40] = b"x" * 40  # garbage inside its first entry
    packs[2].write_bytes(bytes(data))
    for snap in tmp_path.rglob("corpus-*"):  # the snapshot of the whole load would hide the per-file cache
        shutil.rmtree(snap)
    with caplog.at_level(logging.WARNING, logger="plan_analysis.corpus"):
        again = load_corpus(files, cache=True, cache_dir=tmp_path, progress=False, engine="serial")  # logs here
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(reference, name), getattr(again, name), check_exact=True)
    assert "damaged cache pack" in caplog.text and "damaged entry of cache pack" in caplog.text
    assert not packs[0].exists()  # a pack whose header is unreadable is removed
    # every file now has a sound entry: a load that cannot process anything still gives the same tables
    for snap in tmp_path.rglob("corpus-*"):
        shutil.rmtree(snap)
    monkeypatch.setattr(corpus_mod, "_file_columns", lambda raw: 1 / 0)
    cached = load_corpus(files, cache=True, cache_dir=tmp_path, progress=False)
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(reference, name), getattr(cached, name), check_exact=True)


_INTERRUPTED = """
import sys, time, plan_analysis.corpus as c
c.PARALLEL_MIN_BYTES = 0
_process = c._file_columns
c._file_columns = lambda raw: (time.sleep(0.3), _process(raw))[1]  # slow enough to be interrupted on any machine
c.load_corpus(sys.argv[1:3], cache=True, cache_dir=sys.argv[3], progress=False, engine="process", workers=2)
print("finished")
"""


def test_ctrl_c_during_a_parallel_load_leaves_a_cache_a_later_run_can_trust(tmp_path, cache_entries):
    cache = tmp_path / "cache"
    proc = subprocess.Popen([sys.executable, "-c", _INTERRUPTED, str(PROVINCIAL), str(RAW), str(cache)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(cache_entries(cache)) < 3 and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    interrupted = time.monotonic()
    out, err = proc.communicate(timeout=60)
    assert time.monotonic() - interrupted < 20  # the workers are stopped, not left to finish the corpus
    assert "finished" not in out
    assert proc.returncode != 0 and "KeyboardInterrupt" in err
    n_before = len(cache_entries(cache))
    assert 0 < n_before < 36
    reference = load_corpus([PROVINCIAL, RAW], cache=False, progress=False, engine="serial")
    again = load_corpus([PROVINCIAL, RAW], cache=True, cache_dir=cache, progress=False, engine="serial")
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(reference, name), getattr(again, name), check_exact=True)
    assert len(cache_entries(cache)) == 36


_NOTEBOOK = {
    "cells": [{"cell_type": "markdown", "id": "title", "metadata": {}, "source": "# {title}"},
              {"cell_type": "code", "id": "code", "metadata": {}, "execution_count": None, "outputs": [],
               "source": "{code}"}],
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    "nbformat": 4, "nbformat_minor": 5,
}


def _notebook(path: Path, title: str, code: str) -> None:
    nb = json.loads(json.dumps(_NOTEBOOK).replace("{title}", title).replace("{code}", code))
    path.write_text(json.dumps(nb), encoding="utf-8")


def test_an_interrupted_report_leaves_complete_pages_only(tmp_path, monkeypatch):
    """Pages are written whole or not at all: an interruption keeps the previous good page."""
    from plan_analysis import report

    nbs, out = tmp_path / "nb", tmp_path / "out"
    nbs.mkdir()
    _notebook(nbs / "00_first.ipynb", "First", "print('一')")
    _notebook(nbs / "01_second.ipynb", "Second", "print('二')")
    monkeypatch.setenv("PLAN_ANALYSIS_CACHE", str(tmp_path / "cache"))
    # one notebook at a time, so "the second page written" is well defined
    assert report.build_report(notebooks_dir=nbs, out_dir=out, corpus=RAW, profiles=False, workers=1) == 0
    good = {p.name: p.read_bytes() for p in out.iterdir()}
    assert set(good) == {"00_first.html", "01_second.html", "index.html"}
    # second run: the first notebook now crashes, and the run is interrupted while writing the second page
    _notebook(nbs / "00_first.ipynb", "First", "raise RuntimeError('crash in a notebook')")
    real_mkstemp, real_fdopen = report.tempfile.mkstemp, report.os.fdopen
    pages: list[int] = []  # fd of each page file opened in this run, in order (fd numbers get reused)

    def mkstemp(*args, **kwargs):
        fd, name = real_mkstemp(*args, **kwargs)
        if Path(name).parent == out:
            pages.append(fd)
        return fd, name

    class Cut:  # writes half of the page, then Ctrl-C
        def __init__(self, fh):
            self.fh = fh

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

        def write(self, text):
            self.fh.write(text[: len(text) // 2])
            raise KeyboardInterrupt

    def fdopen(fd, *args, **kwargs):
        fh = real_fdopen(fd, *args, **kwargs)
        if len(pages) == 2 and fd == pages[1]:  # the second page of this run
            return Cut(fh)
        return fh

    monkeypatch.setattr(report.tempfile, "mkstemp", mkstemp)
    monkeypatch.setattr(report.os, "fdopen", fdopen)
    with pytest.raises(KeyboardInterrupt):
        report.build_report(notebooks_dir=nbs, out_dir=out, corpus=RAW, profiles=False, workers=1)
    names = {p.name for p in out.iterdir()}
    assert names == {"00_first.html", "01_second.html", "index.html"}  # no temporary or partial file left
    first = (out / "00_first.html").read_text(encoding="utf-8")
    assert "crash in a notebook" in first and first.rstrip().endswith("</html>")  # the crash is shown, whole
    assert (out / "01_second.html").read_bytes() == good["01_second.html"]  # the previous good page stays
    assert (out / "index.html").read_bytes() == good["index.html"]


def test_files_of_the_same_name_in_different_folders_keep_apart(tmp_path):
    for sub, place in (("浙江", "前江"), ("吉林", "铁西")):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "工作计划.txt").write_text(TEXT.replace("铁西", place), encoding="utf-8")
    c = load_corpus(tmp_path, cache=False, progress=False)
    docs = c.documents.set_index("doc_id")
    assert docs.index.is_unique and sorted(docs.index) == ["吉林/工作计划-1", "浙江/工作计划-1"]
    for doc_id, row in docs.iterrows():
        a, b = c.raw_span(doc_id, 0, 4)
        assert c.raw_slice(row["source_file"], a, b) == row["text"][:4] == row["place"]


# --- the corpus snapshot ------------------------------------------------------------------------------

def test_a_rerun_over_unchanged_files_reads_the_snapshot_only(tmp_path, monkeypatch):
    reference = load_corpus(RAW, cache=False, progress=False)
    load_corpus(RAW, cache=True, cache_dir=tmp_path, progress=False)
    (snap,) = list(tmp_path.rglob("corpus-*"))
    assert sorted(p.name for p in snap.iterdir()) == sorted([f"{n}.arrow" for n in (*TABLES, "load_report")] +
                                                          ["files.json"])

    def no_file_work(*args, **kwargs):
        raise AssertionError("a file was processed or its cache read although the snapshot fits")

    monkeypatch.setattr(corpus_mod, "_load_one", no_file_work)
    again = load_corpus(RAW, cache=True, cache_dir=tmp_path, progress=False, engine="serial")
    for name in (*TABLES, "load_report"):
        pd.testing.assert_frame_equal(getattr(reference, name), getattr(again, name), check_exact=True)
    assert again.raw_slice("001_64b46b310826ad2c.txt", 0, 4) == "铁西街道"


def test_a_cold_load_streams_its_tables_to_the_snapshot_batch_by_batch(tmp_path, monkeypatch):
    """The parent appends each batch to the snapshot's Arrow files and returns the tables read back from them."""
    import pyarrow as pa

    reference = load_corpus(RAW, cache=False, progress=False)
    monkeypatch.setattr(corpus_mod, "_BATCH_CHARS", 5_000)  # many batches from the small bundled corpus
    monkeypatch.setattr(corpus_mod, "_SERIAL_CHUNK", 1)  # of a file each (a batch joins whole chunks)
    cold = load_corpus(RAW, cache=True, cache_dir=tmp_path, progress=False)
    for name in (*TABLES, "load_report"):
        pd.testing.assert_frame_equal(getattr(reference, name), getattr(cold, name), check_exact=True)
    (snap,) = list(tmp_path.rglob("corpus-*"))
    with pa.memory_map(str(snap / "sentences.arrow")) as src:
        assert pa.ipc.open_file(src).num_record_batches > 1
    assert not list(tmp_path.rglob(".tmp-corpus-*"))


def test_a_snapshot_that_cannot_be_finished_still_gives_every_table(tmp_path, monkeypatch, caplog):
    reference = load_corpus(RAW, cache=False, progress=False)

    def disk_full(self):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(corpus_mod._Assembler, "finish_sink", disk_full)
    caplog.set_level("INFO", logger="plan_analysis")
    c = load_corpus(RAW, cache=True, cache_dir=tmp_path, progress=False)
    for name in (*TABLES, "load_report"):
        pd.testing.assert_frame_equal(getattr(reference, name), getattr(c, name), check_exact=True)
    assert "snapshot not written" in caplog.text
    assert not list(tmp_path.rglob("corpus-*")) and not list(tmp_path.rglob(".tmp-corpus-*"))


def test_an_interrupted_load_leaves_no_snapshot_to_trust(tmp_path, monkeypatch):
    real_add = corpus_mod._Assembler.add
    calls = []

    def add_then_interrupt(self, chunk):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        real_add(self, chunk)

    monkeypatch.setattr(corpus_mod, "_BATCH_CHARS", 5_000)  # batches are on disk when the interruption comes
    monkeypatch.setattr(corpus_mod, "_SERIAL_CHUNK", 1)  # a chunk per file: the third file interrupts
    monkeypatch.setattr(corpus_mod._Assembler, "add", add_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        load_corpus(RAW, cache=True, cache_dir=tmp_path, progress=False, engine="serial")
    assert len(calls) == 3
    assert not list(tmp_path.rglob("corpus-*")) and not list(tmp_path.rglob(".tmp-corpus-*"))


def test_a_changed_or_added_file_is_not_served_from_the_snapshot(tmp_path):
    corpus_dir = tmp_path / "corpus"
    shutil.copytree(RAW, corpus_dir)
    cache = tmp_path / "cache"
    load_corpus(corpus_dir, cache=True, cache_dir=cache, progress=False)
    f = corpus_dir / "001_64b46b310826ad2c.txt"
    f.write_text(f.read_text(encoding="utf-8").replace("铁西街道", "铁东街道"), encoding="utf-8")
    st = f.stat()
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    changed = load_corpus(corpus_dir, cache=True, cache_dir=cache, progress=False)
    assert "铁东街道" in changed.documents["place"].tolist() and "铁西街道" not in changed.documents["place"].tolist()
    (corpus_dir / "extra.txt").write_text("百禄镇2024年工作计划\n一、抓党建\n全面落实责任制。", encoding="utf-8")
    added = load_corpus(corpus_dir, cache=True, cache_dir=cache, progress=False)
    assert len(added.documents) == len(changed.documents) + 1
    assert len(list(cache.rglob("corpus-*"))) == 3


def test_a_half_written_or_damaged_snapshot_is_not_trusted(tmp_path, caplog):
    reference = load_corpus(RAW, cache=False, progress=False)
    load_corpus(RAW, cache=True, cache_dir=tmp_path, progress=False)
    (snap,) = list(tmp_path.rglob("corpus-*"))
    (snap / "sentences.arrow").write_bytes((snap / "sentences.arrow").read_bytes()[:200])  # damaged
    again = load_corpus(RAW, cache=True, cache_dir=tmp_path, progress=False)
    assert "damaged corpus snapshot" in caplog.text
    caplog.clear()
    (snap / "edits.arrow").write_bytes(b"")  # emptied: nothing to map
    emptied = load_corpus(RAW, cache=True, cache_dir=tmp_path, progress=False)
    assert "damaged corpus snapshot" in caplog.text
    (snap / "files.json").unlink()  # as if the folder had been copied without its last file
    third = load_corpus(RAW, cache=True, cache_dir=tmp_path, progress=False)
    for other in (again, emptied, third):
        for name in TABLES:
            pd.testing.assert_frame_equal(getattr(reference, name), getattr(other, name), check_exact=True)


def test_a_snapshot_rerun_says_what_the_first_load_said(tmp_path, caplog):
    import logging

    corpus_dir = tmp_path / "corpus"
    shutil.copytree(RAW, corpus_dir)
    (corpus_dir / "empty.txt").write_bytes(b"")
    runs = []
    for _ in range(2):
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="plan_analysis"):
            load_corpus(corpus_dir, cache=True, cache_dir=tmp_path / "cache", progress=False)
        runs.append([(r.levelno, r.getMessage()) for r in caplog.records
                     if r.name == "plan_analysis.corpus" and "snapshot" not in r.getMessage()])
    assert (logging.WARNING, "empty.txt: empty file") in runs[0]
    assert runs[1] == runs[0]
    assert any("from the snapshot" in r.getMessage() for r in caplog.records)
    assert not any("MANIFEST" in m for _, m in runs[1])  # listed in the load report, never a warning


def test_a_cache_folder_that_cannot_be_made_only_costs_the_cache(tmp_path, caplog):
    """A cache path under a file (so no folder can be made there) still loads, logging that no pack was written."""
    (tmp_path / "a-file").write_text("x", encoding="utf-8")
    reference = load_corpus(RAW, cache=False, progress=False)
    with caplog.at_level(logging.WARNING, logger="plan_analysis.corpus"):
        c = load_corpus(RAW, cache_dir=tmp_path / "a-file" / "cache", progress=False, engine="serial")
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(reference, name), getattr(c, name), check_exact=True)
    assert "could not write cache pack" in caplog.text


def test_a_pack_header_of_the_wrong_shape_is_removed(tmp_path, caplog):
    from plan_analysis.corpus import _PACK_MAGIC, _pack_index

    for name, header in (("pack-a.z", [[1, 0, 5]]), ("pack-b.z", {"a": 1}), ("pack-c.z", [["x-y", "0", "z"]])):
        body = json.dumps(header).encode()
        (tmp_path / name).write_bytes(_PACK_MAGIC + len(body).to_bytes(8, "big") + body + b"hello")
    with caplog.at_level(logging.WARNING, logger="plan_analysis.corpus"):
        assert _pack_index(tmp_path) == {}
    assert not list(tmp_path.iterdir()) and caplog.text.count("removing damaged cache pack") == 3


# --- older code and lexicon versions of the cache -----------------------------------------------------

def test_the_cache_keeps_the_versions_used_last_and_nothing_it_did_not_write(tmp_path, monkeypatch):
    """Each code or lexicon version caches in a folder of its own; a new one removes all but the last few used."""
    corpus_dir = tmp_path / "corpus"
    corpus_dir.mkdir()
    (corpus_dir / "a.txt").write_text(TEXT, encoding="utf-8")
    cache = tmp_path / "cache"
    (cache / "report-pages").mkdir(parents=True)  # the report's own cache, not a version
    foreign = cache / ("0" * 16)
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine", encoding="utf-8")  # named like a version, but not the cache's
    os.utime(foreign, (1, 1))
    earlier = cache / ("e" * 16)  # a version of an earlier cache format: a file, or a folder, per input file
    (earlier / ("a" * 24 + "-" + "b" * 8)).mkdir(parents=True)
    (earlier / ("c" * 24 + "-" + "d" * 8 + ".json.z")).write_bytes(b"x")
    os.utime(earlier, (2, 2))
    versions = [f"{i:016x}" for i in range(1, 6)]
    for i, fp in enumerate(versions):
        monkeypatch.setattr(corpus_mod, "code_fingerprint", lambda fp=fp: fp)
        load_corpus(corpus_dir, cache=True, cache_dir=cache, progress=False)
        assert list((cache / fp).glob("pack-*.z")) and list((cache / fp).glob("corpus-*"))
        for j, used in enumerate(versions[:i + 1]):  # used in this order, long ago
            if (cache / used).exists():
                os.utime(cache / used, (100 + j, 100 + j))
    kept = sorted(p.name for p in cache.iterdir())
    assert kept == sorted(["report-pages", "0" * 16, *versions[-corpus_mod._VERSIONS_KEPT:]])
    assert (foreign / "notes.txt").read_text(encoding="utf-8") == "mine"
    # a rerun of a kept version (from its snapshot) marks it used: the next new version keeps it
    monkeypatch.setattr(corpus_mod, "code_fingerprint", lambda: versions[-3])
    load_corpus(corpus_dir, cache=True, cache_dir=cache, progress=False)
    monkeypatch.setattr(corpus_mod, "code_fingerprint", lambda: "f" * 16)
    load_corpus(corpus_dir, cache=True, cache_dir=cache, progress=False)
    assert sorted(p.name for p in cache.iterdir() if p.name not in ("report-pages", "0" * 16)) == \
        sorted([versions[-3], versions[-1], "f" * 16])


def test_a_missing_file_names_a_few_of_many_files(tmp_path):
    corpus_dir = tmp_path / "corpus"
    corpus_dir.mkdir()
    for i in range(25):
        (corpus_dir / f"{i:02d}.txt").write_text(TEXT, encoding="utf-8")
    c = load_corpus(corpus_dir, cache=False, progress=False)
    with pytest.raises(KeyError) as err:
        c.raw_text("nope.txt")
    msg = str(err.value)
    assert "'nope.txt' is not in this corpus" in msg and "00.txt, 01.txt" in msg and "09.txt" in msg
    assert "10.txt" not in msg and "and 15 more" in msg


def test_the_snapshots_kept_are_the_ones_used_last(tmp_path, monkeypatch):
    monkeypatch.setattr(corpus_mod, "_SNAPSHOTS_KEPT", 2)
    cache = tmp_path / "cache"
    folders = {}
    for name in ("a", "b", "c"):
        folders[name] = tmp_path / name
        folders[name].mkdir()
        (folders[name] / f"{name}.txt").write_text(TEXT, encoding="utf-8")
    load_corpus(folders["a"], cache=True, cache_dir=cache, progress=False)
    load_corpus(folders["b"], cache=True, cache_dir=cache, progress=False)
    snaps = sorted(cache.rglob("corpus-*"))
    for i, snap in enumerate(sorted(snaps, key=lambda p: (p / "files.json").read_text(encoding="utf-8"))):
        os.utime(snap, (100 + i, 100 + i))  # a's snapshot made first, long ago; then b's
    load_corpus(folders["a"], cache=True, cache_dir=cache, progress=False)  # a rerun: a's snapshot is used
    load_corpus(folders["c"], cache=True, cache_dir=cache, progress=False)  # a new one: one of the others goes

    def no_file_work(*args, **kwargs):
        raise AssertionError("processed again: the snapshot was removed")

    monkeypatch.setattr(corpus_mod, "_load_one", no_file_work)
    assert load_corpus(folders["a"], cache=True, cache_dir=cache, progress=False).documents["source_file"].tolist() \
        == ["a.txt"]
    assert len(list(cache.rglob("corpus-*"))) == 2
    with pytest.raises(AssertionError, match="processed again"):
        load_corpus(folders["b"], cache=True, cache_dir=cache, progress=False)


# --- tables a user edited or built: missing texts, and the wrong kind of input --------------------

@pytest.mark.parametrize("missing", [None, math.nan])
def test_a_missing_text_in_a_documents_table_is_read_as_empty_by_every_stage(corpus_of, missing):
    from plan_analysis.phrasing import term_counts
    from plan_analysis.targets import extract_targets
    from plan_analysis.tokenize import tokenize_corpus

    c = corpus_of({"a": TEXT, "b": "xx镇2024年工作计划\n一、抓招商\n完成固定资产投资7.06亿元。\n"},
                  folder_name="missing")
    whole = extract_targets(c.documents, workers=1)
    docs = c.documents.copy()
    docs["text"] = docs["text"].astype(object)
    gone = docs["doc_id"].iloc[1]
    docs.loc[docs.index[1], "text"] = missing
    targets = extract_targets(docs, workers=1)  # raised TypeError (a str joined to None) before
    assert not (targets["doc_id"] == gone).any()
    kept = whole[whole["doc_id"] != gone].reset_index(drop=True)
    pd.testing.assert_frame_equal(targets, kept)
    assert tokenize_corpus(docs, workers=1)[gone] == []
    # a corpus whose texts the user edited: the missing one has no words (it was counted as the word "None")
    c.documents = docs
    counts = term_counts(c, workers=1)
    assert not (counts["doc_id"] == gone).any()
    assert "None" not in set(counts["term"]) and "nan" not in set(counts["term"])


def test_theme_functions_take_text_and_say_what_a_table_lacks():
    from plan_analysis import texts_corpus
    from plan_analysis.themes import code_sentences, score_themes

    text = "一、安全生产\n夯实安全监管责任，开展隐患排查整治。\n"
    assert code_sentences(text).equals(code_sentences(texts_corpus({"text": text})))
    assert "安全生产" in set(code_sentences(text)["theme"])
    c = texts_corpus({"a": text})
    with pytest.raises(TypeError, match=r"^score_themes takes a Corpus .*got DataFrame; .*corpus\.select"):
        score_themes(c.documents)  # was AttributeError: 'DataFrame' object has no attribute 'documents'


@pytest.mark.parametrize("call, wrong, says", [
    ("extract_targets", Path("a.txt"), r"^extract_targets takes a Corpus .*got PosixPath; .*load_corpus\(path\)"),
    ("tokenize_corpus", ["推进改革。"], r"^tokenize_corpus takes a Corpus .*got list; .*texts_corpus"),
    ("tokenize_corpus", "推进改革。", r"^tokenize_corpus takes a corpus, not one text: .*tokenize\(text\)"),
    ("extract_slogans", b"abc", r"^extract_slogans takes a Corpus .*got bytes; .*load_corpus\(path\)"),
    ("count_hidden", None, r"^count_hidden takes a table \(a pandas DataFrame\) from extract_targets\(corpus\), got NoneType"),
])
def test_the_wrong_kind_of_input_is_named_with_what_to_give(call, wrong, says):
    fn = next(getattr(m, call) for m in (targets, tokenize, phrasing) if hasattr(m, call))
    with pytest.raises(TypeError, match=says):
        fn(wrong)


@pytest.mark.parametrize("call", ["extract_targets", "tokenize_corpus"])
def test_a_documents_table_without_text_names_the_column(call):
    from plan_analysis import texts_corpus

    docs = texts_corpus({"a": "完成投资7亿元。"}).documents.drop(columns=["text"])
    fn = getattr(targets, call, None) or getattr(tokenize, call)
    with pytest.raises(ValueError, match=rf"^{call}: the table has no column\(s\) text \(it has doc_id, .*corpus\.documents"):
        fn(docs)


@pytest.mark.parametrize("call", ["count_hidden", "main_growth_targets", "pair_targets"])
def test_a_table_that_is_not_a_targets_table_names_what_it_lacks(call):
    from plan_analysis import texts_corpus

    docs = texts_corpus({"a": "完成投资7亿元。"}).documents
    with pytest.raises(ValueError, match=rf"^{call}: the table has no column\(s\) .*placeholder.*extract_targets\(corpus\)"):
        getattr(targets, call)(docs)
    fig = targets.extract_targets({"a": "一、2025年工作回顾\n地区生产总值增长5.2%。\n二、2026年工作安排\n"
                                         "今年的主要预期目标是：地区生产总值增长5%左右。"})
    assert len(getattr(targets, call)(fig)) == 1  # a targets table passes the check


def _column_calls():
    from plan_analysis import plots, texts_corpus, themes

    corpus = texts_corpus({"甲镇": "一、工作安排\n抓好党建工作。推进乡村振兴。", "乙镇": "推进乡村振兴。完成投资7亿元。"})
    scores = themes.score_themes(corpus)
    figures = targets.extract_targets(corpus)
    return {
        "word_frequencies": (KeyError, lambda: phrasing.word_frequencies(corpus, by="plcae")),
        "keyness": (KeyError, lambda: phrasing.keyness(corpus, by="plcae", target="甲镇")),
        "keyness_by_group": (KeyError, lambda: phrasing.keyness_by_group(corpus, by="plcae")),
        "summarize_themes": (ValueError, lambda: themes.summarize_themes(scores, by="plcae")),
        "compare_themes": (ValueError, lambda: themes.compare_themes(scores, by="plcae")),
        "plot_counts": (KeyError, lambda: plots.plot_counts(corpus.documents, "place", by="plcae")),
        "plot_counts column": (KeyError, lambda: plots.plot_counts(corpus.documents, "plcae")),
        "plot_growth_targets": (KeyError, lambda: plots.plot_growth_targets(figures.assign(place="甲镇"), by="plcae")),
    }


@pytest.mark.parametrize("call", ["word_frequencies", "keyness", "keyness_by_group", "summarize_themes",
                                  "compare_themes", "plot_counts", "plot_counts column", "plot_growth_targets"])
def test_a_misspelt_column_is_named_with_the_nearest_one(call):
    """by='plcae' says which function, the value, 'place' as the likely one and the columns to choose from
    (plot_counts and plot_growth_targets raised a bare KeyError: 'plcae')."""
    error, run = _column_calls()[call]
    option = "column" if call.endswith("column") else "by"
    with pytest.raises(error, match=rf"{call.split()[0]}: {option}='plcae' is not a column of .*; "
                                    r"did you mean 'place'\? Use one of: .*doc_id"):
        run()


def test_a_table_missing_a_column_names_the_nearest_one():
    figures = targets.extract_targets({"a": "今年的主要预期目标是：地区生产总值增长5%左右。"})
    with pytest.raises(ValueError, match=r"^pair_targets: the table has no column\(s\) docid \(it has .*; "
                                         r"did you mean doc_id\?\); give it a table from extract_targets"):
        targets.pair_targets(figures, by="docid")


def test_plot_growth_targets_says_how_to_get_a_place_column():
    from plan_analysis import plots

    figures = targets.extract_targets({"a": "今年的主要预期目标是：地区生产总值增长5%左右。"})
    with pytest.raises(KeyError, match=r"by='place' is not a column .*merge corpus\.documents on doc_id"):
        plots.plot_growth_targets(figures)  # by="place" is the default; a targets table has no place


def test_options_out_of_range_are_refused_with_the_choices():
    from plan_analysis.lexicons import LexiconError
    from plan_analysis.targets import extract_targets
    from plan_analysis.themes import score_themes

    with pytest.raises(ValueError, match=r"^kind must be 'all', 'target' or 'actual', not 'targets'"):
        extract_targets("完成投资7亿元。", kind="targets")  # gave an empty table
    with pytest.raises(LexiconError, match=r"my_themes\.yaml:0: theme dictionary not found: no such file .*themes\.yaml shows"):
        score_themes("推进改革。", themes="/nonexistent/my_themes.yaml")  # blamed a missing data/ folder


_WORKER_CALLS = {  # every public function with a workers= option, called on the smallest input it takes
    "load_corpus": lambda w, tmp: load_corpus(tmp, cache=False, progress=False, workers=w),
    "extract_targets": lambda w, tmp: targets.extract_targets("增长5%", workers=w),
    "iter_targets": lambda w, tmp: targets.iter_targets("增长5%", workers=w),
    "write_targets": lambda w, tmp: targets.write_targets({"a": "增长5%"}, tmp / "t.parquet", workers=w),
    "tokenize_corpus": lambda w, tmp: tokenize.tokenize_corpus({"a": "推进"}, workers=w),
    "tokenize_many": lambda w, tmp: tokenize.tokenize_many(["推进"], workers=w),
    "code_sentences": lambda w, tmp: themes.code_sentences("推进改革。", workers=w),
    "discover_topics": lambda w, tmp: themes.discover_topics("推进改革。", workers=w),
    "extract_slogans": lambda w, tmp: phrasing.extract_slogans("推进改革。", workers=w),
    "sentence_openings": lambda w, tmp: phrasing.sentence_openings("推进改革。", workers=w),
    "register_features": lambda w, tmp: phrasing.register_features("推进改革。", workers=w),
    "term_counts": lambda w, tmp: phrasing.term_counts("推进改革。", workers=w),
    "keyness": lambda w, tmp: phrasing.keyness(
        {"a": "推进。", "b": "聚焦。"}, by="doc_id", target="a-1", counts=pd.DataFrame(
            {"doc_id": ["a-1"], "term": ["推进"], "count": [1]}), workers=w),
    "keyness_by_group": lambda w, tmp: phrasing.keyness_by_group({"a": "推进。", "b": "聚焦。"}, by="doc_id", workers=w),
    "score_themes": lambda w, tmp: themes.score_themes("推进改革。", workers=w),
    "document_themes": lambda w, tmp: themes.document_themes("推进改革。", workers=w),
    "theme_coverage": lambda w, tmp: themes.theme_coverage("推进改革。", workers=w),
    "theme_sentences": lambda w, tmp: themes.theme_sentences("推进改革。", workers=w),
    "compare_themes": lambda w, tmp: themes.compare_themes(
        {"a": "甲镇2024年工作计划\n推进改革。", "b": "乙镇2024年工作计划\n抓好党建。"}, by="doc_id", workers=w),
}


def test_every_function_with_a_workers_option_is_in_the_check():
    import inspect

    import plan_analysis

    found = {name for m in (plan_analysis, corpus_mod, phrasing, targets, themes, tokenize) for name in getattr(m, "__all__", ())
             if callable(getattr(m, name, None)) and "workers" in inspect.signature(getattr(m, name)).parameters}
    assert found and found <= set(_WORKER_CALLS), sorted(found - set(_WORKER_CALLS))


@pytest.mark.parametrize("call", sorted(_WORKER_CALLS))
@pytest.mark.parametrize("workers, error, says", [
    (0, ValueError, r"^workers=0: give 1 or more processes .*or None for one per CPU"),
    (-1, ValueError, r"^workers=-1: give 1 or more processes"),
    (1.5, TypeError, r"^workers must be a whole number of processes or None, not 1\.5 \(float\)"),
    ("2", TypeError, r"^workers must be a whole number of processes or None, not '2' \(str\)"),
    (True, TypeError, r"^workers must be a whole number of processes or None, not True \(bool\)"),
])
def test_a_number_of_workers_that_means_nothing_is_refused_at_the_call(call, workers, error, says, tmp_path):
    # 0 and negative numbers ran on all CPUs or on one, silently (joblib's -1 means all CPUs); a text or a
    # keyness from given counts, which start no pool, took any value
    (tmp_path / "a.txt").write_text("推进改革。", encoding="utf-8")
    with pytest.raises(error, match=says):
        _WORKER_CALLS[call](workers, tmp_path)


@pytest.mark.parametrize("call", ["score_themes", "document_themes", "theme_coverage", "theme_sentences",
                                  "compare_themes", "discover_topics", "command line"])
def test_the_theme_functions_code_with_the_workers_asked_for(call, tmp_path, monkeypatch):
    """score_themes and the functions built on it coded over every CPU whatever was asked (they had no workers
    option, and `plan-analysis themes --workers 1` was ignored)."""
    from plan_analysis import parallel
    from plan_analysis.cli import main

    asked = []
    real = parallel.plan_pieces
    monkeypatch.setattr(parallel, "plan_pieces", lambda lengths, **kw: asked.append(kw["workers"]) or real(lengths, **kw))
    (tmp_path / "a.txt").write_text("甲镇2024年工作计划\n推进改革。抓好党建。\n", encoding="utf-8")
    if call == "command line":
        assert main(["themes", str(tmp_path / "a.txt"), "--no-cache", "--workers", "1"]) == 0
    elif call == "discover_topics":
        themes.discover_topics(load_corpus(RAW / "001_64b46b310826ad2c.txt", cache=False, progress=False), n_topics=2,
                               workers=1)
    else:
        _WORKER_CALLS[call](1, tmp_path)
    assert asked and set(asked) == {1}, asked


_SMALL = {"甲镇": "甲镇2024年工作计划\n持续推进“千万工程”，推进乡村振兴。\n", "乙镇": "乙镇2024年工作计划\n聚焦发展。聚焦民生。\n"}


@pytest.mark.parametrize("call, says", [
    # each was taken silently before: an empty table, every row but the last, or every file skipped as too large
    (lambda: phrasing.keyness(_SMALL, by="doc_id", target="甲镇-1", top=0), r"^top is how many terms .*got 0"),
    (lambda: phrasing.keyness(_SMALL, by="doc_id", target="甲镇-1", top=-1), r"^top is how many terms .*got -1"),
    (lambda: phrasing.keyness_by_group(_SMALL, by="doc_id", top=-2), r"^top is how many terms .*got -2"),
    (lambda: phrasing.word_cloud(_SMALL, width=-5), r"^width must be a whole number of 1 or more, got -5"),
    (lambda: themes.top_themes(themes.score_themes(_SMALL), n=0), r"^n is how many themes to list per unit, .*got 0"),
    (lambda: themes.discover_topics(_SMALL, n_terms=0), r"^need n_terms of 1 or more .*n_terms=0"),
    (lambda: themes.discover_topics(_SMALL, n_examples=-1), r"^need n_terms .*n_examples of 0 or more.*n_examples=-1"),
    (lambda: clean_text("推进 ,工作", max_rounds=0), r"^max_rounds must be 1 or more .*got 0"),
    (lambda: load_corpus("data/raw", cache=False, progress=False, max_file_mb=0),
     r"^max_file_mb must be more than 0 \(or None for no limit\), got 0"),
])
def test_an_option_that_means_nothing_is_refused_with_what_it_takes(call, says):
    with pytest.raises(ValueError, match=says):
        call()


def test_one_word_given_as_a_string_is_that_word_not_its_characters():
    assert [t.word for t in tokenize.tokenize("推进乡村振兴", extra_words="乡村振兴")] == ["推进", "乡村振兴"]
    assert [[w for w, _, _ in s] for s in tokenize.word_spans_of(["推进乡村振兴"], extra_words="乡村振兴")] \
        == [["推进", "乡村振兴"]]
    assert tokenize.has_tag("企业", tags="n") and not tokenize.has_tag("企业", tags="v")  # "vn" was {"v", "n"}
    assert tokenize.has_tag("发挥", tags="vn") == tokenize.has_tag("发挥", tags=("vn",))
    profile = phrasing.verb_profile(_SMALL, verbs="推进")
    assert list(profile.columns) == ["doc_id", "place", "n_chars", "推进"]  # was a column each for 推 and 进
    assert phrasing.mask_text("前江街道完成投资", places="前江街道") == phrasing.mask_text("前江街道完成投资", places=["前江街道"])
    assert phrasing.mask_text("前江街道完成投资", places="前江街道") != "前江街道完成投资"
    whole = phrasing.word_frequencies(_SMALL, slogans="千万工程")
    assert whole["千万工程"] == 1 and "千" not in whole
    by_group = phrasing.keyness_by_group(_SMALL, by="doc_id", targets="甲镇-1", min_freq=1)
    assert set(by_group["group"]) == {"甲镇-1"}  # was a target for each character


def test_canonical_indicator_takes_the_path_of_a_table_of_ones_own(tmp_path):
    from plan_analysis.lexicons import LexiconError
    from plan_analysis.targets import canonical_indicator

    mine = tmp_path / "my_indicators.tsv"
    mine.write_text("# my own\npattern\tcanonical\tapplies\tnote\n蓝莓\t特色农业产值\tany\t\n", encoding="utf-8")
    assert canonical_indicator("蓝莓基地", rules=mine) == "特色农业产值"
    assert canonical_indicator("蓝莓基地", rules=str(mine)) == "特色农业产值"
    assert canonical_indicator("蓝莓基地") == ""
    with pytest.raises(LexiconError, match=r"nope\.tsv:0: no such file"):  # was: not enough values to unpack
        canonical_indicator("蓝莓基地", rules=tmp_path / "nope.tsv")
    mine.write_text("pattern\tcanonical\tapplies\tnote\n蓝莓\t特色农业产值\tsometimes\t\n", encoding="utf-8")
    with pytest.raises(LexiconError, match=r"my_indicators\.tsv:2: applies must be rate, level or any, got 'sometimes'"):
        canonical_indicator("蓝莓基地", rules=mine)
    with pytest.raises(TypeError, match=r"^rules must be the path of an indicator table"):
        canonical_indicator("蓝莓基地", rules=["蓝莓"])


def test_tables_of_ones_own_may_leave_out_the_note_column(tmp_path):
    """A note says why a row holds; a user's three-column indicator table or theme TSV was refused for lacking it."""
    from plan_analysis.lexicons import LexiconError
    from plan_analysis.targets import canonical_indicator
    from plan_analysis.themes import code_text, load_themes

    mine = tmp_path / "my_indicators.tsv"
    mine.write_text("pattern\tcanonical\tapplies\n蓝莓\t特色农业产值\tany\n", encoding="utf-8")
    assert canonical_indicator("蓝莓基地", rules=mine) == "特色农业产值"
    themes = tmp_path / "my_themes.tsv"
    themes.write_text("theme\tkind\tvalue\n特色农业\tterm\t蓝莓基地\n", encoding="utf-8")
    assert [t.name for t in load_themes(themes)] == ["特色农业"]
    assert code_text("建设蓝莓基地。", themes=themes) == {"特色农业": ("蓝莓基地",)}
    themes.write_text("theme\tvalue\n特色农业\t蓝莓基地\n", encoding="utf-8")  # a column that is needed still is
    with pytest.raises(LexiconError, match=r"my_themes\.tsv:1: header lacks column\(s\) kind"):
        load_themes(themes)


def test_word_frequencies_read_a_mapping_of_texts_as_texts_and_refuse_a_mix():
    assert phrasing.word_frequencies(_SMALL) == phrasing.word_frequencies(texts_corpus(_SMALL))  # raised '>' on str
    assert phrasing.word_frequencies({"推进": 3, "聚焦": 2.0}) == {"推进": 3.0, "聚焦": 2.0}
    with pytest.raises(TypeError, match=r"^word_frequencies reads a mapping as word → frequency .*got '三' \(str\)"):
        phrasing.word_frequencies({"推进": 3, "聚焦": "三"})


@pytest.mark.parametrize("source, says", [
    ({}, r"got dict; this mapping is empty: give at least one name → text"),
    ({"甲镇": "推进改革。", "乙镇": None}, r"got dict; a mapping's values must be texts, but '乙镇' holds a NoneType"),
])
def test_a_mapping_that_is_not_texts_says_what_is_wrong_with_it(source, says):
    for call in (targets.extract_targets, themes.score_themes, phrasing.extract_slogans):
        with pytest.raises(TypeError, match=says):  # said only "got dict"
            call(source)


@pytest.mark.parametrize("wrong", [3, None, True])
def test_select_names_what_it_takes(corpus_of, wrong):
    c = corpus_of({"甲镇": "甲镇2024年工作计划\n推进改革。\n"}, folder_name="select")
    with pytest.raises(TypeError, match=r"^select takes a boolean mask over corpus\.documents or doc_ids, not .*corpus\.sample\(n\)"):
        c.select(wrong)  # was: 'int' object is not iterable
