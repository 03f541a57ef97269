"""Benchmark the pipeline on a large synthetic corpus made from the bundled documents.

``python -m plan_analysis.bench [--docs 10000] [--mb 100] [--quick] [--workers N]`` builds a
corpus of about ``--docs`` documents / ``--mb`` MB in a temporary folder by varying the real
documents (the seeds in ``data/raw`` and the provincial reports: place names and figures
replaced, paragraphs shuffled and cut to size, compilations kept whole, some files in GB18030,
with a BOM or CRLF line ends), then measures each stage in a fresh subprocess:

* ``read+regex``: the baseline — read each file, decode it, one regex pass (figures ``\\d+(.\\d+)?%?``);
  it takes a second or two, so it runs three times and the median counts;
* ``load``: load_corpus cold (decode, clean, split, sections/sentences, metadata, cache writes);
* ``targets``: extract_targets over the loaded corpus;
* ``targets→file``: :func:`~plan_analysis.targets.write_targets`, the same table written to a Parquet file a piece
  at a time (what a corpus whose figures do not fit in memory uses);
* ``jieba.lcut``: the baseline — single-process ``jieba.lcut`` over every document's text;
* ``tokenise×1``: the project tokenizer in one process (what the parallel run divides);
* ``tokenise``: :func:`~plan_analysis.tokenize.tokenize_corpus`, parallel over documents;
* ``themes``: ``score_themes(corpus, unit="document")`` (when plan_analysis.themes exists);
* ``slogans``: :func:`~plan_analysis.phrasing.extract_slogans`, parallel over documents;
* ``full``: load, targets, tokenise and themes from cold, as a user's first run does;
* ``cached``: load_corpus again over the same files: the snapshot the ``load`` stage left (all tables at once).

For each it prints seconds, MB/s, documents/s, peak memory (the sum over the stage's process
and its workers, PSS where the kernel gives it) and the ratios to the two baselines. Each stage
runs twice: once timed, with memory sampled rarely (reading PSS costs the kernel a page walk
per process: sampling every 50 ms took a fifth of two cores and slowed the stage it measured),
then once for memory, sampled every 50 ms (its time is not reported); ``--one-pass`` skips the
second run, and the peaks are then lower bounds. The two baselines run once (their memory is not
a goal). Then come the goals of issue #7, each with
pass or fail. It also renders all notebooks on the bundled corpus twice (cold, then with the
cache) into a temporary folder. It is a script that prints figures, not a test: nothing here
fails a build.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TextIO

__all__ = ["build_corpus", "run_benchmark", "main", "STAGES"]

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "data" / "raw"
PROVINCIAL = ROOT / "data" / "corpora" / "provincial-2026" / "texts"

STAGES = ("read+regex", "load", "targets", "targets→file", "jieba.lcut", "tokenise×1", "tokenise", "themes",
          "slogans", "full", "cached")
#: what the stages are measured against: timed only (no memory run), and not held to the memory goal
BASELINES = ("read+regex", "jieba.lcut")
#: runs of the read+regex baseline; its median is the one reported
BASELINE_RUNS = 3
_BASELINE_RE = re.compile(r"\d+(?:\.\d+)?%?")

# goals of issue #7
GOAL_STAGE_VS_REGEX = 5.0
GOAL_TOKENISE_SPEEDUP = 1.8
GOAL_CACHED_SHARE = 0.10
GOAL_PEAK_VS_CORPUS = 4.0
GOAL_NOTEBOOKS_COLD_S = 60.0


# --- the synthetic corpus ------------------------------------------------------------------------

_SYLLABLES = "东西南北前后新老青白金石龙凤安平永兴长乐福寿宝丰和泰华阳明清河山湖桥林溪云松梅兰竹柳星光塘"
_SUFFIXES = ("镇", "镇", "乡", "街道", "街道", "县", "区")
_PROVINCES = ("北京", "天津", "河北", "山西", "辽宁", "吉林", "江苏", "浙江", "安徽", "福建", "江西", "山东", "河南",
              "湖北", "湖南", "广东", "广西", "海南", "重庆", "四川", "贵州", "云南", "陕西", "甘肃", "青海", "宁夏")


@dataclass
class SyntheticCorpus:
    """Where the corpus was written, how many files and bytes, and how many documents to expect."""

    folder: Path
    files: int
    n_bytes: int
    expected_docs: int


@dataclass
class _Template:
    text: str
    place: str
    province: str
    n_docs: int


def _templates() -> tuple[list[_Template], list[_Template]]:
    """Single documents (raw slices, junk included) and whole multi-document seed files."""
    from .corpus import load_corpus

    folders = [p for p in (SEEDS, PROVINCIAL) if p.is_dir()]
    if not folders:
        raise SystemExit(f"no bundled documents found under {ROOT / 'data'}: run from a checkout of plan-analysis")
    corpus = load_corpus(folders, cache=False, progress=False, engine="serial")
    singles, compilations = [], []
    counts = corpus.documents.groupby("source_file").size()
    for row in corpus.documents.itertuples():
        raw = corpus.raw_slice(row.source_file, row.raw_start, row.raw_end)
        if len(raw) > 200:
            place = row.place if isinstance(row.place, str) and "x" not in row.place.lower() else ""
            singles.append(_Template(raw, place, row.province if isinstance(row.province, str) else "", 1))
    for source, n in counts.items():
        if n > 1:
            compilations.append(_Template(corpus.raw_text(source), "", "", int(n)))
    return singles, compilations


def _place(rng: random.Random) -> str:
    return "".join(rng.sample(_SYLLABLES, 2)) + rng.choice(_SUFFIXES)


def _vary_numbers(text: str, rng: random.Random) -> str:
    def sub(m: re.Match[str]) -> str:
        whole, frac = m.group(1), m.group(2) or ""
        lo = 10 ** (len(whole) - 1) if len(whole) > 1 else 0
        new = str(rng.randint(lo, 10 ** len(whole) - 1))
        if frac:
            new += "." + "".join(rng.choice("0123456789") for _ in range(len(frac) - 1))
        return new

    # one- to three-digit figures only: years and long numbers keep their shape
    return re.sub(r"(?<![0-9.])([0-9]{1,3})(\.[0-9]+)?(?![0-9])", sub, text)


def _vary(t: _Template, size: int, pool: list[_Template], rng: random.Random) -> str:
    text = t.text
    if t.place:
        text = text.replace(t.place, _place(rng))
    if t.province and rng.random() < 0.5:
        text = text.replace(t.province, rng.choice(_PROVINCES))
    lines = text.split("\n")
    title, body = lines[0], lines[1:]
    if rng.random() < 0.5:  # shuffle paragraphs in blocks of a few lines
        blocks = [body[i:i + 4] for i in range(0, len(body), 4)]
        rng.shuffle(blocks)
        body = [ln for b in blocks for ln in b]
    while sum(len(ln) * 3 for ln in body) < size and len(body) < 100_000:  # too short: borrow paragraphs
        body += rng.choice(pool).text.split("\n")[1:]
    # cut to about `size` bytes (CJK is 3 bytes a character in UTF-8), at a random place
    total = 0
    chars = [len(ln) * 3 + 1 for ln in body]
    start = rng.randrange(0, max(1, len(body) // 3)) if sum(chars) > 2 * size else 0
    out = [title]
    for ln, n in zip(body[start:], chars[start:]):
        if total >= size:
            break
        out.append(ln)
        total += n
    return _vary_numbers("\n".join(out), rng)


def _encode(text: str, rng: random.Random) -> bytes:
    r = rng.random()
    if r < 0.04:
        return text.encode("gb18030", errors="replace")
    if r < 0.08:
        return text.encode("utf-8-sig")
    if r < 0.12:
        return text.replace("\n", "\r\n").encode("utf-8")
    return text.encode("utf-8")


def build_corpus(folder: str | os.PathLike, *, docs: int = 10_000, mb: float = 100.0,
                 seed: int = 2026) -> SyntheticCorpus:
    """Write a corpus of about ``docs`` documents and ``mb`` MB into ``folder`` (one ``.txt`` per file).

    Single documents are varied copies of real ones cut to a size drawn around ``mb / docs``;
    about 3 % of the files are whole seed compilations (several documents each), varied too.
    """
    rng = random.Random(seed)
    singles, compilations = _templates()
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    target = mb * 1e6
    n_docs = n_bytes = i = 0
    while n_docs < docs:
        left_docs = docs - n_docs
        per_doc = max(1500.0, (target - n_bytes) / left_docs) if n_bytes < target else 1500.0
        if compilations and rng.random() < 0.03 and left_docs > 10:
            t = rng.choice(compilations)
            text = _vary_numbers(t.text, rng)
            for s in singles:  # vary the place names the compilation shares with the single templates
                if s.place and s.place in text:
                    text = text.replace(s.place, _place(rng))
            k = t.n_docs
        else:
            size = int(min(max(rng.lognormvariate(0, 0.6) * per_doc * 0.85, 800), per_doc * 8))
            text = _vary(rng.choice(singles), size, singles, rng)
            k = 1
        data = _encode(text, rng)
        (out / f"{i:05d}.txt").write_bytes(data)
        i += 1
        n_docs += k
        n_bytes += len(data)
    return SyntheticCorpus(out, i, n_bytes, n_docs)


# --- measuring ------------------------------------------------------------------------------------

class PeakMemory:
    """Sample the memory of this process and all its descendants; ``peak_mb`` is the largest sum seen.

    Uses PSS (shared pages split between the processes sharing them) where the kernel offers
    it, else RSS. Reading PSS makes the kernel walk each process's pages (about 10 ms per
    500 MB), and on two cores a sampler that ran every 50 ms took a fifth of the time it was
    measuring; so samples come every ``interval`` seconds at most, and less often when a
    sample costs more than ``max_share`` of one core. A peak shorter than the gap between
    samples can be missed.
    """

    def __init__(self, interval: float = 0.05, *, max_share: float = 0.05):
        self.interval = interval
        self.max_share = max_share
        self.peak = 0
        self.samples = 0
        self.kind = "pss"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> int:
        import psutil

        me = psutil.Process()
        total = 0
        try:
            procs = [me] + me.children(recursive=True)
        except psutil.Error:
            procs = [me]
        for p in procs:
            try:
                if self.kind == "pss":
                    try:
                        total += p.memory_full_info().pss
                        continue
                    except (AttributeError, psutil.AccessDenied):
                        self.kind = "rss"
                total += p.memory_info().rss
            except psutil.Error:
                pass
        self.samples += 1
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            t0 = time.perf_counter()
            self.peak = max(self.peak, self._sample())
            cost = time.perf_counter() - t0
            self._stop.wait(max(self.interval, cost / self.max_share))

    def __enter__(self) -> "PeakMemory":
        self.peak = self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._sample())

    @property
    def peak_mb(self) -> float:
        return self.peak / 1e6


def _corpus_bytes(folder: Path) -> tuple[int, list[Path]]:
    files = sorted(p for p in folder.rglob("*.txt") if p.is_file())
    return sum(p.stat().st_size for p in files), files


def _themes_available() -> bool:
    try:
        from . import themes  # noqa: F401
    except Exception:  # noqa: BLE001 - being written concurrently; any import problem means "not available"
        return False
    return hasattr(themes, "score_themes")


def _utf8_bytes(texts: Any) -> int:
    """UTF-8 bytes of a column of texts (missing ones count 0).

    >>> import pandas as pd
    >>> _utf8_bytes(pd.Series(["推进", None, "ab"], dtype="string"))
    8
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(texts, type=pa.large_string(), from_pandas=True)
    return int(pc.sum(pc.binary_length(arr)).as_py() or 0)


SAMPLING = {"timed": {"interval": 0.05, "max_share": 0.02}, "memory": {"interval": 0.05, "max_share": 1.0}}


def run_stage(stage: str, corpus_dir: str | os.PathLike, cache_dir: str | os.PathLike, *,
              workers: int | None = None, sampling: Literal["timed", "memory"] = "timed") -> dict[str, Any]:
    """Run one stage in this process; return its seconds, bytes, documents and peak memory.

    ``sampling="timed"``: memory is sampled rarely enough to cost at most 2% of a core (peaks are lower
    bounds); ``"memory"``: every 50 ms whatever it costs (the seconds are then slower than the stage).
    """
    import logging

    logging.getLogger("plan_analysis").setLevel(logging.ERROR)
    corpus_dir, cache_dir = Path(corpus_dir), Path(cache_dir)
    n_bytes, files = _corpus_bytes(corpus_dir)
    result: dict[str, Any] = {"stage": stage, "bytes": n_bytes, "docs": None, "note": ""}
    with PeakMemory(**SAMPLING[sampling]) as mem:
        if stage == "read+regex":
            t0 = time.perf_counter()
            hits = 0
            for f in files:
                hits += sum(1 for _ in _BASELINE_RE.finditer(f.read_bytes().decode("utf-8", "replace")))
            result["seconds"] = time.perf_counter() - t0
            result["docs"] = len(files)
            result["note"] = f"{hits} matches in {len(files)} files"
        elif stage in ("load", "cached"):
            from .corpus import load_corpus

            t0 = time.perf_counter()
            corpus = load_corpus(corpus_dir, cache=True, cache_dir=cache_dir, progress=False, workers=workers)
            result["seconds"] = time.perf_counter() - t0
            result["docs"] = len(corpus.documents)
            result["note"] = f"{len(corpus.sentences)} sentences, {len(corpus.edits)} edits"
        elif stage == "full":
            from .corpus import load_corpus
            from .targets import extract_targets
            from .tokenize import tokenize_corpus

            fresh = Path(tempfile.mkdtemp(prefix="full-", dir=cache_dir.parent))
            try:
                t0 = time.perf_counter()
                corpus = load_corpus(corpus_dir, cache=True, cache_dir=fresh, progress=False, workers=workers)
                targets = extract_targets(corpus)
                tokens = tokenize_corpus(corpus, workers=workers)
                parts = ["load", "targets", "tokenise"]
                if _themes_available():
                    from .themes import score_themes

                    score_themes(corpus, unit="document")
                    parts.append("themes")
                result["seconds"] = time.perf_counter() - t0
                result["docs"] = len(corpus.documents)
                result["note"] = f"{' + '.join(parts)}: {len(targets)} figures, {sum(map(len, tokens))} tokens"
            finally:
                shutil.rmtree(fresh, ignore_errors=True)
        else:
            from .corpus import load_corpus

            corpus = load_corpus(corpus_dir, cache=True, cache_dir=cache_dir, progress=False, workers=workers)
            result["docs"] = len(corpus.documents)
            # the document text's UTF-8 bytes, counted without making a Python string of every text (that list
            # would sit in this stage's peak memory)
            result["bytes"] = _utf8_bytes(corpus.documents["text"]) if stage.startswith(("jieba", "tokenise")) \
                else n_bytes
            if stage == "targets":
                from .targets import extract_targets

                t0 = time.perf_counter()
                targets = extract_targets(corpus)
                result["seconds"] = time.perf_counter() - t0
                result["note"] = f"{len(targets)} figures"
            elif stage == "targets→file":
                from .targets import write_targets

                fd, name = tempfile.mkstemp(suffix=".parquet", dir=cache_dir.parent)
                os.close(fd)
                try:
                    t0 = time.perf_counter()
                    write_targets(corpus, name)
                    result["seconds"] = time.perf_counter() - t0
                    result["note"] = f"a Parquet file of {os.path.getsize(name) / 1e6:.1f} MB"
                finally:
                    os.unlink(name)
            elif stage == "jieba.lcut":
                import logging as _logging

                import jieba

                jieba.setLogLevel(_logging.WARNING)
                jieba.initialize()
                texts = corpus.documents["text"].tolist()  # the baseline's input, ready before its clock starts
                t0 = time.perf_counter()
                n = sum(len(jieba.lcut(t)) for t in texts)
                result["seconds"] = time.perf_counter() - t0
                result["note"] = f"{n} tokens, one process"
            elif stage in ("tokenise", "tokenise×1"):
                from .parallel import resolve_workers
                from .segment import load_tables
                from .tokenize import tokenize_corpus

                n = 1 if stage == "tokenise×1" else resolve_workers(workers)
                load_tables()  # like jieba.initialize() for the baseline: forked workers inherit the tables
                t0 = time.perf_counter()
                tokens = tokenize_corpus(corpus, workers=n)
                result["seconds"] = time.perf_counter() - t0
                result["note"] = f"{sum(map(len, tokens))} tokens, {n} process{'es' if n > 1 else ''}"
            elif stage == "themes":
                if not _themes_available():
                    result["seconds"] = None
                    result["note"] = "themes: not available"
                else:
                    from .themes import score_themes

                    t0 = time.perf_counter()
                    scores = score_themes(corpus, unit="document")
                    result["seconds"] = time.perf_counter() - t0
                    result["note"] = f"{len(scores)} scores"
            elif stage == "slogans":
                from .phrasing import extract_slogans

                t0 = time.perf_counter()
                slogans = extract_slogans(corpus, workers=workers)
                result["seconds"] = time.perf_counter() - t0
                result["note"] = f"{len(slogans)} slogans and formulae"
            else:
                raise ValueError(f"unknown stage {stage!r}; stages: {', '.join(STAGES)}")
    result["peak_mb"] = mem.peak_mb
    result["memory"] = mem.kind
    result["memory_samples"] = mem.samples
    result["sampling"] = sampling
    return result


def _run_isolated(stage: str, corpus_dir: Path, cache_dir: Path, workers: int | None,
                  sampling: str = "timed") -> dict[str, Any]:
    cmd = [sys.executable, "-m", "plan_analysis.bench", "--stage", stage, "--corpus", str(corpus_dir),
           "--cache", str(cache_dir), "--sampling", sampling]
    if workers:
        cmd += ["--workers", str(workers)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=str(ROOT))
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        return {"stage": stage, "seconds": None, "bytes": 0, "docs": None, "peak_mb": None,
                "note": f"failed (exit {proc.returncode}): {proc.stderr.strip().splitlines()[-1:]}"}
    return json.loads(lines[-1])


def time_notebooks(work: Path, *, corpus: Path = SEEDS) -> dict[str, Any]:
    """Render every notebook on ``corpus`` twice into ``work``: cold (empty cache), then cached."""
    cache = work / "nb-cache"
    out: dict[str, Any] = {}
    for run in ("cold", "cached"):
        env = dict(os.environ, PLAN_ANALYSIS_CACHE=str(cache))
        code = ("import sys, logging; logging.disable(logging.WARNING); from plan_analysis.report import build_report; "
                f"sys.exit(build_report(notebooks_dir={str(ROOT / 'notebooks')!r}, out_dir={str(work / ('html-' + run))!r}, "
                f"corpus={str(corpus)!r}))")
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=str(ROOT),
                              check=False)
        out[run] = time.perf_counter() - t0
        out[f"{run}_ok"] = proc.returncode == 0
    out["notebooks"] = len(list((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")))
    return out


# --- the report ---------------------------------------------------------------------------------

def _fmt(x: float | None, spec: str = ".2f") -> str:
    return "—" if x is None else format(x, spec)


def _table(results: dict[str, dict[str, Any]], corpus_mb: float) -> list[str]:
    base = results.get("read+regex", {}).get("seconds")
    jieba_s = results.get("jieba.lcut", {}).get("seconds")
    head = f"{'stage':<12} {'seconds':>9} {'MB/s':>8} {'docs/s':>9} {'peak MB':>9} {'peak/corpus':>11} " \
           f"{'× read+regex':>13} {'× jieba':>8}  note"
    lines = [head, "-" * len(head)]
    for stage in STAGES:
        r = results.get(stage)
        if r is None:
            continue
        s = r.get("seconds")
        mbps = r["bytes"] / 1e6 / s if s else None
        dps = r["docs"] / s if s and r.get("docs") else None
        peak = r.get("peak_mb")
        vs_re = s / base if s and base else None
        vs_jieba = jieba_s / s if s and jieba_s and stage.startswith(("tokenise", "jieba")) else None
        lines.append(f"{stage:<12} {_fmt(s):>9} {_fmt(mbps):>8} {_fmt(dps, '.0f'):>9} {_fmt(peak, '.0f'):>9} "
                     f"{_fmt(peak / corpus_mb if peak else None):>11} {_fmt(vs_re, '.1f'):>13} "
                     f"{_fmt(vs_jieba):>8}  {r.get('note', '')}")
    return lines


def _goals(results: dict[str, dict[str, Any]], corpus_mb: float, nb: dict[str, Any] | None) -> list[str]:
    out = []

    def goal(ok: bool | None, text: str) -> None:
        out.append(f"[{'PASS' if ok else 'n/a ' if ok is None else 'FAIL'}] {text}")

    sec = {k: v.get("seconds") for k, v in results.items()}
    base = sec.get("read+regex")
    for stage in ("load", "targets", "targets→file", "themes", "slogans", "cached"):
        s = sec.get(stage)
        ratio = s / base if s and base else None
        goal(None if ratio is None else ratio <= GOAL_STAGE_VS_REGEX,
             f"{stage}: within {GOAL_STAGE_VS_REGEX:g}× of read+regex — {_fmt(ratio, '.1f')}×")
    if sec.get("tokenise") and sec.get("jieba.lcut"):
        sp = sec["jieba.lcut"] / sec["tokenise"]
        goal(sp >= GOAL_TOKENISE_SPEEDUP, f"tokenise: ≥ {GOAL_TOKENISE_SPEEDUP:g}× single-process jieba.lcut — {sp:.2f}×")
    if sec.get("tokenise") and sec.get("tokenise×1"):
        sp = sec["tokenise×1"] / sec["tokenise"]
        out.append(f"[info] tokenise: parallel vs the same tokenizer in one process — {sp:.2f}×; the tokenizer "
                   f"in one process vs jieba.lcut — {sec['jieba.lcut'] / sec['tokenise×1']:.2f}×"
                   if sec.get("jieba.lcut") else f"[info] tokenise: parallel vs one process — {sp:.2f}×")
    if sec.get("cached") and sec.get("load"):
        share = sec["cached"] / sec["load"]
        goal(share <= GOAL_CACHED_SHARE, f"cached load: ≤ {GOAL_CACHED_SHARE:.0%} of the cold load — {share:.1%}")
    peaks = {k: v.get("peak_mb") for k, v in results.items() if v.get("peak_mb") and k not in BASELINES}
    if peaks:
        worst = max(peaks, key=peaks.get)
        goal(all(p < GOAL_PEAK_VS_CORPUS * corpus_mb for p in peaks.values()),
             f"peak memory < {GOAL_PEAK_VS_CORPUS:g}× corpus ({GOAL_PEAK_VS_CORPUS * corpus_mb:.0f} MB) in every stage — "
             f"highest {worst} {peaks[worst]:.0f} MB = {peaks[worst] / corpus_mb:.1f}×")
    if nb:
        share = nb["cached"] / nb["cold"] if nb.get("cold") else None
        goal(nb["cold"] < GOAL_NOTEBOOKS_COLD_S and nb.get("cold_ok"),
             f"all {nb['notebooks']} notebooks on the bundled corpus cold in < {GOAL_NOTEBOOKS_COLD_S:g} s — "
             f"{nb['cold']:.1f} s{'' if nb.get('cold_ok') else ' (a notebook failed)'}")
        goal(share is not None and share <= GOAL_CACHED_SHARE,
             f"notebooks cached rerun ≤ {GOAL_CACHED_SHARE:.0%} of cold — {nb['cached']:.1f} s = {_fmt(share, '.0%')}")
    return out


def run_benchmark(*, docs: int = 10_000, mb: float = 100.0, workers: int | None = None, notebooks: bool = True,
                  isolate: bool = True, corpus: str | os.PathLike | None = None, keep: str | os.PathLike | None = None,
                  out: TextIO = sys.stdout, stages: tuple[str, ...] = STAGES, memory_pass: bool = True
                  ) -> dict[str, Any]:
    """Build (or reuse) a corpus, measure every stage, print the table and the goals; return the figures.

    With ``memory_pass``, each stage runs a second time for its peak memory (see :data:`SAMPLING`)."""
    from .parallel import resolve_workers

    n_workers = resolve_workers(workers)  # a bad number fails here, before building a corpus

    def say(text: str = "") -> None:
        print(text, file=out, flush=True)

    work = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="plan-analysis-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        if corpus:
            folder = Path(corpus)
            n_bytes, files = _corpus_bytes(folder)
            say(f"corpus: {folder} — {len(files)} files, {n_bytes / 1e6:.1f} MB")
        else:
            folder = work / "corpus"
            if folder.exists():
                shutil.rmtree(folder)
            t0 = time.perf_counter()
            syn = build_corpus(folder, docs=docs, mb=mb)
            n_bytes = syn.n_bytes
            say(f"corpus: {syn.files} files, {syn.n_bytes / 1e6:.1f} MB, about {syn.expected_docs} documents "
                f"(built in {time.perf_counter() - t0:.1f} s in {folder})")
        cache = work / "cache"
        if "load" in stages or not cache.is_dir():  # "load" fills it cold; other stages may reuse a kept one
            shutil.rmtree(cache, ignore_errors=True)
            cache.mkdir()
        say(f"machine: {os.cpu_count()} CPUs, {n_workers} workers; Python {sys.version.split()[0]}; "
            f"each stage {'in a fresh process' if isolate else 'in this process'}")
        results: dict[str, dict[str, Any]] = {}
        for stage in stages:  # "load" must run before the stages that read its cache
            if stage == "themes" and not _themes_available():
                results[stage] = {"stage": stage, "seconds": None, "bytes": n_bytes, "docs": None, "peak_mb": None,
                                  "note": "themes: not available"}
                say("themes: not available")
                continue
            def run(sampling: str) -> dict[str, Any]:
                return _run_isolated(stage, folder, cache, workers, sampling) if isolate else \
                    run_stage(stage, folder, cache, workers=workers, sampling=sampling)

            if stage == "read+regex":  # a second or two, so the run-to-run noise is large: the median of three
                runs = sorted((run("timed") for _ in range(BASELINE_RUNS)), key=lambda x: x.get("seconds") or 0.0)
                r = runs[len(runs) // 2]
                r["note"] += f"; median of {len(runs)}: " + ", ".join(_fmt(x.get("seconds")) for x in runs) + " s"
            else:
                r = run("timed")
            if memory_pass and r.get("seconds") is not None and stage not in BASELINES:
                if stage == "load":  # cold again: the timed run filled the cache
                    shutil.rmtree(cache, ignore_errors=True)
                    cache.mkdir()
                m = run("memory")
                r["peak_mb"] = max(filter(None, (r.get("peak_mb"), m.get("peak_mb"))), default=None)
                r["seconds_memory_run"] = m.get("seconds")
            results[stage] = r
            say(f"  {stage}: {_fmt(r.get('seconds'))} s, peak {_fmt(r.get('peak_mb'), '.0f')} MB"
                f"{'' if memory_pass and stage not in BASELINES else ' (at least)'}  {r.get('note', '')}")
        nb = None
        if notebooks:
            say("notebooks: rendering all of them on the bundled corpus, cold then cached …")
            nb = time_notebooks(work)
        corpus_mb = n_bytes / 1e6
        say()
        say(f"corpus {corpus_mb:.1f} MB; MB/s and docs/s over the stage's input (document text for jieba/tokenise)")
        for line in _table(results, corpus_mb):
            say(line)
        if nb:
            say(f"notebooks ({nb['notebooks']}, bundled corpus): cold {nb['cold']:.1f} s"
                f"{'' if nb['cold_ok'] else ' (failed)'}, cached {nb['cached']:.1f} s"
                f"{'' if nb['cached_ok'] else ' (failed)'}")
        say()
        say("goals (issue #7):")
        for line in _goals(results, corpus_mb, nb):
            say("  " + line)
        return {"stages": results, "notebooks": nb, "corpus_mb": corpus_mb}
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m plan_analysis.bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--docs", type=int, default=None, help="documents in the synthetic corpus (default 10000)")
    p.add_argument("--mb", type=float, default=None, help="its size in MB (default 100)")
    p.add_argument("--quick", action="store_true", help="a small run: 500 documents, 5 MB, no notebooks")
    p.add_argument("--workers", type=int, default=None, help="worker processes (default: the CPUs available)")
    p.add_argument("--no-notebooks", action="store_true", help="do not time the notebooks")
    p.add_argument("--in-process", action="store_true", help="run the stages in this process (less clean peaks)")
    p.add_argument("--corpus", help="benchmark this folder instead of a synthetic corpus")
    p.add_argument("--keep", help="work in this folder and keep it (corpus, cache, notebook pages)")
    p.add_argument("--stages", help=f"comma-separated stages to run (default all: {','.join(STAGES)}); "
                                    "without load, a cache kept with --keep is reused")
    p.add_argument("--one-pass", action="store_true",
                   help="run each stage once (timed; peaks sampled rarely, so lower bounds) instead of twice")
    p.add_argument("--stage", choices=STAGES, help=argparse.SUPPRESS)
    p.add_argument("--sampling", choices=tuple(SAMPLING), default="timed", help=argparse.SUPPRESS)
    p.add_argument("--cache", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.stage:  # one stage, in a fresh process started by run_benchmark
        print(json.dumps(run_stage(args.stage, args.corpus, args.cache, workers=args.workers,
                                   sampling=args.sampling)), flush=True)
        return 0
    docs = args.docs or (500 if args.quick else 10_000)
    mb = args.mb or (docs * 0.01)
    stages = STAGES
    if args.stages:
        stages = tuple(s.strip() for s in args.stages.split(",") if s.strip())
        unknown = [s for s in stages if s not in STAGES]
        if unknown:
            p.error(f"unknown stage(s) {', '.join(unknown)}; stages: {', '.join(STAGES)}")
    run_benchmark(docs=docs, mb=mb, workers=args.workers, notebooks=not (args.no_notebooks or args.quick),
                  isolate=not args.in_process, corpus=args.corpus, keep=args.keep, stages=stages,
                  memory_pass=not args.one_pass)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
