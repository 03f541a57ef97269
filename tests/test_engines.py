"""Engines: serial, process pool and dask give the same tables, row for row; so do tokenisers."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import plan_analysis.corpus as corpus_mod
from plan_analysis import load_corpus
from plan_analysis.corpus import TABLES, RawTexts

ROOT = Path(__file__).resolve().parent.parent
RAW = ROOT / "data" / "raw"
PROVINCIAL = ROOT / "data" / "corpora" / "provincial-2026" / "texts"


def assert_same_corpus(a, b) -> None:
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True, obj=name)
    pd.testing.assert_frame_equal(a.load_report, b.load_report, obj="load_report")
    assert list(a.raw_texts) == list(b.raw_texts)


@pytest.fixture(scope="module")
def serial():
    return load_corpus([RAW, PROVINCIAL], cache=False, progress=False, engine="serial")


def test_process_pool_gives_identical_tables(serial, monkeypatch):
    monkeypatch.setattr(corpus_mod, "PARALLEL_MIN_BYTES", 0)  # use the pool even for a small corpus
    pooled = load_corpus([RAW, PROVINCIAL], cache=False, progress=False, engine="process", workers=2)
    assert_same_corpus(serial, pooled)
    assert len(serial.documents) == 17 + 31


def test_cached_run_gives_identical_tables_in_every_engine(serial, tmp_path, monkeypatch, cache_entries):
    monkeypatch.setattr(corpus_mod, "PARALLEL_MIN_BYTES", 0)
    cold = load_corpus([RAW, PROVINCIAL], cache=True, cache_dir=tmp_path, progress=False, engine="process")
    warm_pool = load_corpus([RAW, PROVINCIAL], cache=True, cache_dir=tmp_path, progress=False, engine="process")
    warm_serial = load_corpus([RAW, PROVINCIAL], cache=True, cache_dir=tmp_path, progress=False, engine="serial")
    for other in (cold, warm_pool, warm_serial):
        assert_same_corpus(serial, other)
    assert len(cache_entries(tmp_path)) == 5 + 31
    assert 1 < len(list(tmp_path.rglob("pack-*.z"))) < 5 + 31  # a pack per task of a few files, not a file per file


def test_batches_do_not_change_the_tables(serial, monkeypatch):
    monkeypatch.setattr(corpus_mod, "_BATCH_CHARS", 10_000)  # many small batches, concatenated
    monkeypatch.setattr(corpus_mod, "_SERIAL_CHUNK", 1)  # of whole chunks: a file each
    assert_same_corpus(serial, load_corpus([RAW, PROVINCIAL], cache=False, progress=False, engine="serial"))


def test_raw_texts_are_read_on_demand_and_checked(tmp_path):
    f = tmp_path / "a.txt"
    f.write_text("铁西街道2024年工作计划\n一、抓党建\n全面落实责任制。", encoding="utf-8")
    c = load_corpus(tmp_path, cache=False, progress=False)
    assert isinstance(c.raw_texts, RawTexts) and list(c.raw_texts) == ["a.txt"]
    assert c.raw_slice("a.txt", 0, 4) == "铁西街道"
    f.write_text("changed", encoding="utf-8")
    c.raw_texts._recent.clear()
    with pytest.raises(Exception, match="changed on disk"):
        c.raw_text("a.txt")


def test_progress_bar_counts_files_and_documents(capsys, monkeypatch):
    monkeypatch.setenv("TQDM_DISABLE", "")
    load_corpus(RAW, cache=False, progress=True, engine="serial")
    err = capsys.readouterr().err
    assert "documents" in err and "5/5" in err and "documents=17" in err


@pytest.fixture(scope="module")
def seed_corpus():
    return load_corpus(RAW, cache=False, progress=False)


#: each function with a bar of documents done: module, function, the bar's name, what the bar says of the result
DOCUMENT_BARS = [
    ("targets", "extract_targets", "targets", lambda r: f"figures={len(r)}"),
    ("tokenize", "tokenize_corpus", "tokenising", None),
    ("phrasing", "extract_slogans", "slogans", lambda r: f"slogans={len(r)}"),
    ("phrasing", "sentence_openings", "openings", None),
    ("phrasing", "register_features", "register", None),
    ("phrasing", "term_counts", "term counts", None),
]


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("module, name, desc, says", DOCUMENT_BARS, ids=[b[1] for b in DOCUMENT_BARS])
def test_long_work_shows_documents_done(seed_corpus, capsys, monkeypatch, workers, module, name, desc, says):
    mod = importlib.import_module(f"plan_analysis.{module}")
    monkeypatch.setenv("TQDM_DISABLE", "")
    for limit in ("PARALLEL_MIN_CHARS", "SLOGANS_PARALLEL_MIN_CHARS"):  # the pool too, for 17 documents
        if hasattr(mod, limit):
            monkeypatch.setattr(mod, limit, 0)
    fn = getattr(mod, name)
    n = len(seed_corpus.documents)
    result = fn(seed_corpus, workers=workers, progress=True)
    err = capsys.readouterr().err
    assert desc in err and f"{n}/{n}" in err
    assert says is None or says(result) in err
    fn(seed_corpus, workers=workers)
    assert capsys.readouterr().err == ""  # no bar unless asked


@pytest.mark.parametrize("workers", [1, 2])
def test_theme_coding_shows_texts_coded(capsys, monkeypatch, workers):
    from plan_analysis import themes

    monkeypatch.setenv("TQDM_DISABLE", "")
    monkeypatch.setattr(themes, "PARALLEL_MIN_CHARS", 0)  # the pool too, for the bundled corpus
    c = load_corpus(RAW, cache=False, progress=False)
    n = len(c.sentences) + len(c.sections)  # every sentence, then every section title
    themes.code_sentences(c, workers=workers, progress=True)
    err = capsys.readouterr().err
    assert "themes" in err and f"{n}/{n}" in err
    scores = themes.score_themes(c, progress=True)
    err = capsys.readouterr().err
    assert "themes: 100%" in err
    pd.testing.assert_frame_equal(themes.score_themes(c), scores)
    themes.code_sentences(c, workers=workers)
    assert capsys.readouterr().err == ""  # no bar unless asked


def test_unknown_engine_is_refused():
    with pytest.raises(ValueError, match="engine"):
        load_corpus(RAW, engine="spark", progress=False)


def test_dask_on_a_local_cluster_gives_identical_tables():
    """dask.distributed with 2 worker processes over the provincial corpus == the serial path."""
    import distributed  # pinned in requirements.txt: a missing install must fail, not skip
    serial = load_corpus(PROVINCIAL, cache=False, progress=False, engine="serial")
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0",
                                  silence_logs=40) as cluster, distributed.Client(cluster) as client:
        on_cluster = load_corpus(PROVINCIAL, cache=False, progress=False, engine="dask")
        assert len(client.scheduler_info()["workers"]) == 2
    assert_same_corpus(serial, on_cluster)


def test_tokenize_many_in_processes_equals_serial(monkeypatch):
    from plan_analysis import tokenize as tk

    texts = load_corpus(PROVINCIAL, cache=False, progress=False).documents["text"].tolist()[:4]
    serial = [[t.word for t in tk.tokenize(x)] for x in texts]
    monkeypatch.setattr(tk, "PARALLEL_MIN_CHARS", 0)  # use the pool even for four reports
    assert tk.tokenize_many(texts, workers=2) == serial
    assert tk.tokenize_many(texts, workers=1) == serial
    kept = tk.tokenize_many(texts[:1], workers=2, drop_punct=False, drop_stopwords=True)
    assert kept == [[t.word for t in tk.tokenize(texts[0], drop_punct=False, drop_stopwords=True)]]


@pytest.mark.parametrize("workers", [1, 2])
def test_tokenize_many_keeps_one_object_per_distinct_word(monkeypatch, workers):
    """Across pieces too, in one process as in the pool: 15 M words must not be 15 M strings."""
    from plan_analysis import parallel
    from plan_analysis import tokenize as tk

    texts = load_corpus(PROVINCIAL, cache=False, progress=False).documents["text"].tolist()[:4]
    # every text a piece of its own
    monkeypatch.setattr(parallel, "plan_pieces", lambda lengths, *, workers, **_: (
        workers, [(i, i + 1) for i in range(len(lengths))]))
    words = tk.tokenize_many(texts, workers=workers)
    assert words == [[t.word for t in tk.tokenize(x)] for x in texts]
    flat = [w for ws in words for w in ws]
    assert len({id(w) for w in flat}) == len(set(flat)) < len(flat)

def test_tokenize_corpus_is_indexed_by_doc_id():
    from plan_analysis.tokenize import tokenize_corpus

    c = load_corpus(RAW, cache=False, progress=False)
    toks = tokenize_corpus(c, workers=1)
    assert toks.index.tolist() == c.documents["doc_id"].tolist() and toks.name == "tokens"
    assert "规上工业总产值" in toks["001_64b46b310826ad2c-1"]


def test_benchmark_runs_and_prints_the_table(tmp_path):
    """Only that the script runs end to end on a tiny corpus; its figures are not checked."""
    out = subprocess.run([sys.executable, "-m", "plan_analysis.bench", "--quick", "--docs", "15", "--mb", "0.1",
                          "--in-process", "--keep", str(tmp_path)],
                         capture_output=True, text=True, check=False, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    text = out.stdout
    for stage in ("read+regex", "load", "targets", "targets→file", "jieba.lcut", "tokenise×1", "tokenise", "slogans",
                  "full", "cached"):
        assert f"\n{stage} " in text, stage
    assert "goals (issue #7):" in text and "× read+regex" in text
    assert ("themes: not available" in text) or ("\nthemes " in text)


def test_peak_memory_sees_an_allocation_and_samples_less_when_sampling_costs_more():
    import time

    from plan_analysis.bench import PeakMemory

    with PeakMemory(interval=0.01, max_share=1.0) as fine:
        base = fine.peak
        block = bytearray(200_000_000)  # zero pages: resident only once written
        block[::4096] = b"x" * len(block[::4096])
        time.sleep(0.3)
        # a sample of a process this size takes longer on a busy machine (3 samples in 0.3 s were seen under a
        # parallel test run): wait for a few more, so the comparison below is about the sampler, not the load
        deadline = time.monotonic() + 20
        while fine.samples < 6 and time.monotonic() < deadline:
            time.sleep(0.05)
        del block
    assert fine.peak - base > 150e6
    with PeakMemory(interval=0.01, max_share=0.0001) as rare:
        time.sleep(0.3)
    assert rare.samples <= 3 < fine.samples


@pytest.mark.parametrize("module, function, key", [("targets", "extract_targets", "doc_id"),
                                                   ("themes", "code_sentences", "theme")])
def test_per_document_work_in_processes_equals_serial(serial, monkeypatch, module, function, key):
    import importlib

    mod = importlib.import_module(f"plan_analysis.{module}")
    one = getattr(mod, function)(serial, workers=1)
    monkeypatch.setattr(mod, "PARALLEL_MIN_CHARS", 0)  # use the pool even for the bundled corpus
    pooled = getattr(mod, function)(serial, workers=2)
    pd.testing.assert_frame_equal(one, pooled, check_exact=True)
    assert len(one) > 1000 and one[key].nunique() > 10


def test_map_chunks_reads_its_input_only_a_few_chunks_ahead():
    from plan_analysis.parallel import map_chunks

    pulled = []

    def chunks():
        for i in range(40):
            pulled.append(i)
            yield [i, i]

    results = map_chunks(sum, chunks(), workers=2)
    first = next(results)
    assert first == 0 and len(pulled) <= 5  # the two workers' work plus two ahead each, not all 40
    assert [first, *results] == [2 * i for i in range(40)] and len(pulled) == 40


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 50), max_size=60), st.integers(-3, 120))
def test_cut_by_size_is_the_greedy_cut(lengths, target):
    """Runs end at the first item that brings them to the target: what adding up item by item gives."""
    from plan_analysis.parallel import cut_by_size

    expected, start, total = [], 0, 0
    for i, n in enumerate(lengths):
        total += n
        if total >= target:
            expected.append((start, i + 1))
            start, total = i + 1, 0
    if start < len(lengths):
        expected.append((start, len(lengths)))
    assert cut_by_size(lengths, target) == expected


def _full_collections_while_working(n: int) -> int:
    """Make ``n`` reference cycles that live long enough to reach the oldest generation, drop them, and count the
    full collections that ran meanwhile."""
    import gc

    before = gc.get_stats()[2]["collections"]
    keep = []
    for i in range(n):
        node = [i]
        node.append(node)
        keep.append(node)
    del keep
    for _ in range(n):
        [[], []]
    return gc.get_stats()[2]["collections"] - before


def test_pool_workers_collect_cyclic_garbage_whatever_the_parent_held():
    """A parent that held many objects at its last full collection must not leave its workers unable to run one
    (their cyclic garbage, a chunk's texts and results, piled up: 180 instead of 36 MB per worker)."""
    import gc

    from plan_analysis.parallel import map_chunks

    held = [[i] for i in range(1_200_000)]
    gc.collect()  # the collector now counts 1.2 M long-lived objects
    try:
        runs = list(map_chunks(_full_collections_while_working, [150_000] * 4, workers=2))
    finally:
        del held
    assert all(r > 0 for r in runs), runs


def test_the_targets_warm_up_leaves_workers_no_dictionary_to_read(monkeypatch):
    """What extract_targets loads before forking is all its figures need: a worker that read jieba's dictionary
    again for a word set (the prepositions of 2亿元在我镇兴建, the verbs of 新建2家) would hold its own copy."""
    import plan_analysis.targets as targets_mod
    import plan_analysis.tokenize as tokenize_mod

    tokenize_mod._tagged_words.cache_clear()
    targets_mod._is_no_object.cache_clear()
    targets_mod._warm_up()

    def read_again():
        raise AssertionError("jieba's dictionary read after the warm-up")

    monkeypatch.setattr(tokenize_mod, "_dict_entries", read_again)
    targets_mod._is_no_object.cache_clear()  # the words are segmented again, their tags looked up in the sets
    t = targets_mod.extract_targets("投资2亿元在我镇兴建厂房，新建2家企业，投入1065万元覆盖4个村。")
    assert t["figure"].tolist() == ["2亿元", "2家", "1065万元", "4个"]


_ALLOCATOR_SCRIPT = """
import os, sys
import pyarrow as pa
from plan_analysis import load_corpus
from plan_analysis.parallel import map_chunks

def pool_name(_chunk):
    return pa.default_memory_pool().backend_name

if __name__ == "__main__":
    before = pa.default_memory_pool().backend_name
    if sys.argv[1] == "load":
        load_corpus(sys.argv[2], cache=False, progress=False, engine="serial")
        print(before, pa.default_memory_pool().backend_name)
    else:
        print(before, *sorted(set(map_chunks(pool_name, [[1], [2], [3], [4]], workers=2))))
"""


def _pool_names(tmp_path, *args, env=None):
    import os

    script = tmp_path / "pools.py"
    script.write_text(_ALLOCATOR_SCRIPT, encoding="utf-8")
    environ = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    out = subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, timeout=300,
                         env={**environ, **(env or {})}, check=True)
    return out.stdout.split()


def test_the_load_and_the_pool_workers_allocate_arrow_memory_from_the_c_heap(tmp_path):
    # Arrow's default pool keeps what it frees, and forked workers copy the pages it keeps; the load and every
    # stage's workers allocate from malloc instead (each in a fresh process: the switch stays for the process)
    before, after = _pool_names(tmp_path, "load", str(RAW))
    assert after == "system", (before, after)
    before, *workers = _pool_names(tmp_path, "pool")
    assert workers == ["system"], (before, workers)


def test_a_pool_chosen_with_the_environment_variable_is_left_alone(tmp_path):
    import pyarrow as pa

    chosen = next((name for name, make in (("mimalloc", pa.mimalloc_memory_pool), ("jemalloc", pa.jemalloc_memory_pool))
                   if _available(make)), None)
    assert chosen is not None, "this pyarrow has neither mimalloc nor jemalloc: nothing to choose but the C heap"
    assert _pool_names(tmp_path, "load", str(RAW), env={"ARROW_DEFAULT_MEMORY_POOL": chosen}) == [chosen, chosen]
    assert _pool_names(tmp_path, "pool", env={"ARROW_DEFAULT_MEMORY_POOL": chosen}) == [chosen, chosen]


def _available(make) -> bool:
    try:
        make()
    except NotImplementedError:
        return False
    return True
