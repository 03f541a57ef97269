"""The segmenter's tables give jieba's own words, by both ways of finding them, and are kept on disk safely."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import jieba
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plan_analysis import _patterns as P
from plan_analysis import segment as sg
from plan_analysis import tokenize as tk
from plan_analysis.load import decode_file

ROOT = Path(__file__).resolve().parent.parent
from test_tokenize import BUNDLED, cjk_text, words_text  # noqa: E402  (the same texts and strategies)


def test_block_characters_are_jiebas_on_every_code_point():
    every = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000)
    theirs = np.zeros(0x110000, dtype=bool)
    for m in jieba.re_han_default.finditer(every):
        theirs[[ord(ch) for ch in m.group()]] = True
    assert (sg._block_mask() == theirs).all()
    assert P.JIEBA_SKIP_RE.pattern == jieba.re_skip_default.pattern
    assert P.JIEBA_ENG_RE.pattern == jieba.re_eng.pattern


@pytest.mark.parametrize("short", [0, 10_000], ids=["by-arrays", "by-lookups"])
@pytest.mark.parametrize("path", BUNDLED[:6], ids=lambda p: p.name)
def test_both_ways_give_jiebas_words_on_bundled_files(path, short, monkeypatch):
    monkeypatch.setattr(sg, "_SHORT", short)
    text = decode_file(path, path.read_bytes())[0]
    tok = tk.get_tokenizer()
    assert sg.cut(text, tables=sg.load_tables()) == tok.lcut(text)
    assert sg.cut(text, tables=sg.load_tables(), hmm=False) == tok.lcut(text, HMM=False)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=120), cjk_text, words_text), st.sampled_from([0, 10_000]), st.booleans())
def test_both_ways_give_jiebas_words_on_arbitrary_text(text, short, hmm):
    old = sg._SHORT
    sg._SHORT = short
    try:
        assert sg.cut(text, tables=sg.load_tables(), hmm=hmm) == tk.get_tokenizer().lcut(text, HMM=hmm)
    finally:
        sg._SHORT = old


def test_a_word_longer_than_exact_packing_is_checked_against_its_characters():
    # two four-character words whose hash keys a multiplier of 0 makes equal (the key is then the last character)
    freq = {"甲": 0, "甲乙": 0, "甲乙丙": 0, "甲乙丙丁": 5, "戊": 0, "戊己": 0, "戊己庚": 0, "戊己庚丁": 7, "丁": 2}
    tables = sg.build_tables(freq, 100)
    assert tables.multiplier == sg._MULTIPLIERS[0]
    old = sg._MULTIPLIERS
    try:
        sg._MULTIPLIERS = (0,) + old
        clashed = sg.build_tables(freq, 100)
    finally:
        sg._MULTIPLIERS = old
    assert clashed.multiplier == old[0]  # the clash at multiplier 0 was seen and the next one taken
    # a four-character string with a word's key but other characters is no word
    assert sg._lookup(tables, "甲乙丙丁") is not None
    assert sg._lookup(tables, "甲乙丙戊") is None
    assert np.isnan(sg._lookup(tables, "甲乙"))


def test_tables_are_read_back_and_a_stale_or_damaged_file_is_rebuilt(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(tk, "_cache_dir", lambda: tmp_path)
    sg._tables.cache_clear()
    try:
        first = sg.load_tables()
        files = list(tmp_path.glob("segmenter-*.npz"))
        assert len(files) == 1
        key = sg._tables_key(tk._lexicon_key())
        again = sg._read(files[0], key)
        assert again is not None and again.max_len == first.max_len and again.multiplier == first.multiplier
        assert all((a == b).all() for a, b in zip(again.keys, first.keys))
        assert sg._read(files[0], key + "x") is None  # another dictionary
        files[0].write_bytes(b"not a zip")
        with caplog.at_level(logging.WARNING, logger="plan_analysis.segment"):
            assert sg._read(files[0], key) is None
        assert "unreadable" in caplog.text and files[0].name in caplog.text
        sg._tables.cache_clear()
        assert sg.cut("推进乡村振兴", tables=sg.load_tables()) == ["推进", "乡村振兴"]
        assert sg._read(files[0], key) is not None  # rewritten
    finally:
        sg._tables.cache_clear()


def _aged(path: Path, seconds: float) -> Path:
    """Write ``path`` (a stand-in file) last used ``seconds`` ago."""
    path.write_bytes(b"old")
    t = time.time() - seconds
    os.utime(path, (t, t))
    return path


def test_prune_keeps_the_files_used_last_and_those_used_within_a_day(tmp_path):
    day = 86_400
    a, b = _aged(tmp_path / "segmenter-a.npz", 5 * day), _aged(tmp_path / "segmenter-b.npz", 4 * day)
    c, d = _aged(tmp_path / "segmenter-c.npz", 2 * 3600), _aged(tmp_path / "segmenter-d.npz", 3600)
    e, f = _aged(tmp_path / "segmenter-e.npz", 1800), _aged(tmp_path / "segmenter-f.npz", 0)
    other = [_aged(tmp_path / "jieba.cache", 9 * day), _aged(tmp_path / "words-x.txt", 9 * day)]
    assert sorted(tk._prune(tmp_path, "segmenter-*.npz")) == [a, b]
    # c is not among the 3 used last but was used two hours ago: kept; other kinds of file are not looked at
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in [c, d, e, f, *other])


def test_old_segmenter_tables_are_removed_when_new_ones_are_made_and_reading_marks_a_file_used(tmp_path,
                                                                                                 monkeypatch):
    monkeypatch.setattr(tk, "_cache_dir", lambda: tmp_path)
    day = 86_400
    old = [_aged(tmp_path / f"segmenter-{n:016x}.npz", (5 - n) * day) for n in range(3)]
    sg._tables.cache_clear()
    try:
        sg.load_tables()  # none of the old files has this key: the tables are made and written
        made = [p for p in tmp_path.glob("segmenter-*.npz") if p not in old]
        assert len(made) == 1
        assert sorted(tmp_path.glob("segmenter-*.npz")) == sorted([made[0], *old[1:]])  # the oldest removed
        t = time.time() - 10 * day
        os.utime(made[0], (t, t))
        sg._tables.cache_clear()
        sg.load_tables()  # read back, not made again
        assert made[0].stat().st_mtime > time.time() - 3600
    finally:
        sg._tables.cache_clear()


def test_old_word_sets_are_removed_when_a_new_one_is_made(tmp_path, monkeypatch):
    monkeypatch.setattr(tk, "_cache_dir", lambda: tmp_path)
    monkeypatch.setitem(tk._FILES_KEPT, "words-*.txt", 1)
    stale = _aged(tmp_path / "words-0000000000000000.txt", 3 * 86_400)
    recent = _aged(tmp_path / "words-1111111111111111.txt", 3600)
    words = tk._words_where(lambda _freq, tag: tag == "p", name="tags p (pruning test)")
    assert "在" in words
    assert not stale.exists() and recent.exists() and len(list(tmp_path.glob("words-*.txt"))) == 2
    t = time.time() - 5 * 86_400
    made = next(p for p in tmp_path.glob("words-*.txt") if p != recent)
    os.utime(made, (t, t))
    assert tk._words_where(lambda _freq, tag: tag == "p", name="tags p (pruning test)") == words
    assert made.stat().st_mtime > time.time() - 3600  # read back: marked used


def test_the_pipeline_never_builds_jiebas_dictionary():
    sg.load_tables()  # the tables on disk, as after any first run
    code = (
        "import plan_analysis as pa\n"
        "from plan_analysis import tokenize as tk\n"
        "from plan_analysis.targets import extract_targets\n"
        "from plan_analysis.themes import score_themes\n"
        "c = pa.load_corpus('data/raw', cache=False, progress=False, workers=1)\n"
        "assert len(extract_targets(c, workers=1)) > 100\n"
        "assert len(score_themes(c, unit='document')) > 0\n"
        "assert len(tk.tokenize(c.documents['text'].iloc[0])) > 100\n"
        "print(tk._tokenizer.cache_info().currsize)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0", out.stdout + out.stderr
