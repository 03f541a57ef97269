"""The corpus: load files, clean, split, parse and label them into tidy tables.

>>> c = load_corpus(["data/raw/001_64b46b310826ad2c.txt"], cache=False, progress=False)
>>> c.documents[["doc_id", "place", "doc_type", "label_year"]].values.tolist()
[['001_64b46b310826ad2c-1', '铁西街道', 'plan', 2024]]

Each file goes through one pure function of its name and bytes, :func:`process_file`
(decode → clean → split → sections, sentences, placeholders → metadata). :func:`load_corpus`
runs it over the files serially, in a pool of processes, or as a dask bag (on a
``dask.distributed`` cluster when a client is active), and assembles the per-file results
in file order, so every engine gives the same tables.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import mmap
import os
import re
import tempfile
import zlib
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain
from pathlib import Path
from typing import Any, Callable, Container, Iterable, Iterator, Literal, Mapping, Sequence

import numpy as np
import pandas as pd

from . import _patterns as P
from ._checks import nearest_column
from .lexicons import lexicon_fingerprint, pinned_lexicons
from .load import LoadError, RawText, decode_file, doc_stem, find_files, note_level, read_raw
from .meta import label_document, prepare_labelling
from .normalize import EDIT_KINDS, clean_text, placeholder_spans
from .offsets import OffsetMap, OffsetTable, offset_map_of, offset_table
from .parallel import arrow_strings, default_workers, map_chunks, resolve_workers, use_system_allocator
from .split import Heading, _lines, parse_heading, split_documents, split_sentences

__all__ = ["Corpus", "RawTexts", "FileResult", "load_corpus", "process_text", "process_file", "decode_file", "TABLES",
           "texts_corpus", "as_corpus", "documents_of", "require_columns", "default_cache_dir", "default_workers",
           "PARALLEL_MIN_BYTES", "MAX_FILE_MB"]

log = logging.getLogger(__name__)

#: the tables of a corpus and their columns
TABLES: dict[str, tuple[str, ...]] = {
    "documents": ("doc_id", "source_file", "doc_index", "title", "label", "split_how", "place", "admin_level",
                  "place_clue", "province", "province_clue", "doc_type", "doc_type_why", "is_local_plan",
                  "label_year", "year_min", "year_max", "year_evidence", "year_conflict", "label_year_plausible",
                  "published", "n_chars", "n_sentences", "n_placeholders", "placeholders_per_1000",
                  "raw_start", "raw_end", "clean_start", "clean_end", "text"),
    "sections": ("doc_id", "section_id", "parent_id", "level", "marker", "ordinal", "title", "start", "end",
                 "raw_start", "raw_end"),
    "sentences": ("doc_id", "sent_id", "section_id", "role", "text", "start", "end", "raw_start", "raw_end",
                  "n_placeholders"),
    "placeholders": ("doc_id", "source_file", "placeholder", "kind", "start", "end", "raw_start", "raw_end"),
    "edits": ("source_file", "doc_id", "stage", "kind", "raw_start", "raw_end", "removed", "inserted"),
}
_INT_COLS = {"doc_index", "level", "ordinal", "start", "end", "raw_start", "raw_end", "clean_start", "clean_end",
             "n_chars", "n_sentences",
             "n_placeholders", "label_year", "year_min", "year_max"}
_BOOL_COLS = {"is_local_plan", "year_conflict", "label_year_plausible"}
_FLOAT_COLS = {"placeholders_per_1000"}

#: files larger than this (in MB) are reported as skipped instead of processed (``max_file_mb`` changes it)
MAX_FILE_MB = 32
#: below this many bytes in all, ``engine="process"`` runs serially: a pool costs more than it saves
PARALLEL_MIN_BYTES = 1 << 20  # measured: on 2 cores a pool pays off from about 0.9 MB of text
#: the parent joins the tables of chunks of files into batches of about this many characters of text
_BATCH_CHARS = 1_000_000
#: files per chunk in a serial load (the process pool's chunks are sized by the number of files and workers)
_SERIAL_CHUNK = 16


def _array(col: str, values: list) -> Any:
    if col in _INT_COLS:
        return pd.array(values, dtype="Int64")
    if col in _BOOL_COLS:
        return pd.array(values, dtype="boolean")
    if col in _FLOAT_COLS:
        return np.array([math.nan if v is None else v for v in values], dtype="float64")
    return pd.array(values, dtype="string")


def _frame_from_columns(name: str, columns: Mapping[str, list]) -> pd.DataFrame:
    cols = TABLES[name]
    return pd.DataFrame({c: _array(c, list(columns[c])) for c in cols}, columns=list(cols))


@lru_cache(maxsize=None)
def _arrow_schema(name: str) -> Any:
    """The Arrow schema of table ``name`` as written from its data frame (with the pandas metadata that
    turns it back into the same column types)."""
    import pyarrow as pa

    return pa.Table.from_pandas(_frame(name, []), preserve_index=False).schema


def _arrow_table(name: str, columns: Mapping[str, list]) -> Any:
    """Table ``name`` as an Arrow table from plain Python column values: what :func:`_frame_from_columns` gives
    once written to Arrow, made without going through pandas."""
    import pyarrow as pa

    schema = _arrow_schema(name)
    return pa.Table.from_arrays([pa.array(columns[f.name], type=f.type, from_pandas=True) for f in schema],
                                schema=schema)


def _frame(name: str, rows: list[dict]) -> pd.DataFrame:
    return _frame_from_columns(name, _columns(name, rows))


def _columns(name: str, rows: list[dict]) -> dict[str, list]:
    return {c: [r.get(c) for r in rows] for c in TABLES[name]}


def _header_fields(removed: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for text in removed:
        for m in P.SITE_FIELD_RE.finditer(text):
            key = "".join(m.group(1).split())
            out.setdefault(key, m.group(2).strip())
        dm = P.DATETIME_LINE_RE.search(text)
        if dm:
            out.setdefault("发布时间", dm.group().strip())
    return out


def _sections(doc_id: str, text: str) -> tuple[list[dict], list[tuple[int, int, str, bool]]]:
    """Sections of one document and, for each heading line, (start, end, section_id, is_heading_span)."""
    rows: list[dict] = []
    stack: list[dict] = []
    spans: list[tuple[int, int, str, bool]] = []
    for ln in _lines(text):
        h: Heading | None = parse_heading(ln.text)
        if h is None:
            continue
        while stack and stack[-1]["level"] >= h.level:
            stack.pop()["end"] = ln.start
        sid = f"{doc_id}/s{len(rows) + 1}"
        title_end = ln.start + len(h.marker) + len(h.title)
        rest = ln.text[len(h.marker) + len(h.title):len(h.marker) + len(h.title) + 1]
        if rest in "。！？：:；":
            title_end += len(rest)
        row = {"doc_id": doc_id, "section_id": sid, "parent_id": stack[-1]["section_id"] if stack else "",
               "level": h.level, "marker": h.marker, "ordinal": h.ordinal, "title": h.title,
               "start": ln.start, "end": len(text)}
        rows.append(row)
        stack.append(row)
        spans.append((ln.start, min(title_end, ln.end), sid, True))
    return rows, spans


def _section_owner(sections: list[dict]):
    """Return ``owner(pos)``: the id of the deepest section containing ``pos`` ("" if none).

    Sections nest (a heading closes every open section of its level or deeper) and a nested
    section has a higher level, so the deepest one containing ``pos`` is the innermost. Calls
    must come with non-decreasing ``pos`` (sentences in order): one sweep, not sections × sentences.
    """
    order = sorted(range(len(sections)), key=lambda i: sections[i]["start"])
    stack: list[dict] = []
    nxt = 0

    def owner(pos: int) -> str:
        nonlocal nxt
        while nxt < len(order) and sections[order[nxt]]["start"] <= pos:
            sec = sections[order[nxt]]
            while stack and stack[-1]["end"] <= sec["start"]:
                stack.pop()
            stack.append(sec)
            nxt += 1
        while stack and stack[-1]["end"] <= pos:
            stack.pop()
        best, best_level = "", 0
        for sec in stack:  # normally only the top qualifies; checking all keeps ties as before
            if sec["start"] <= pos < sec["end"] and sec["level"] >= best_level:
                best, best_level = sec["section_id"], sec["level"]
        return best

    return owner


@pinned_lexicons()  # one version of the lexicons for the whole file, checked once
def _file_columns(raw: RawText) -> dict[str, dict[str, list]]:
    """The columns of every table for one decoded file (what :func:`process_text` frames)."""
    cleaned = clean_text(raw.text)
    text = cleaned.text
    omap = cleaned.offsets
    source = raw.source_file
    # documents are named after their file: "plan-1", or "浙江/plan-1" for a file in a subfolder, so that
    # files of the same name in different folders never share document ids
    stem = doc_stem(source)
    docs, furniture = split_documents(text)
    # edits: the cleaning edits, then the split's furniture; a document claims those inside its raw span
    e_kind = [e.kind for e in cleaned.edits]
    e_start = [e.start for e in cleaned.edits]
    e_end = [e.end for e in cleaned.edits]
    e_new = [e.new for e in cleaned.edits]
    e_stage = ["clean"] * len(e_kind)
    f_start, f_end = omap.raw_span_list([f.start for f in furniture], [f.end for f in furniture])
    e_kind += [f.kind for f in furniture]
    e_start += f_start
    e_end += f_end
    e_new += [""] * len(furniture)
    e_stage += ["split"] * len(furniture)
    e_doc = [""] * len(e_kind)
    # edits sorted by raw start, to find those inside a document's raw span by bisection
    by_start = sorted(range(len(e_kind)), key=e_start.__getitem__)
    starts = [e_start[i] for i in by_start]
    doc_rows, sec_rows = [], []
    sent = {c: [] for c in TABLES["sentences"]}
    ph = {c: [] for c in TABLES["placeholders"]}
    prev_raw_end = 0
    for k, d in enumerate(docs, start=1):
        doc_id = f"{stem}-{k}"
        dtext = text[d.start:d.end]
        raw_start, raw_end = omap.raw_span(d.start, d.end)
        inside = sorted(by_start[bisect_left(starts, prev_raw_end):bisect_left(starts, raw_end)]) \
            if prev_raw_end < raw_end else []
        header = _header_fields([raw.text[e_start[i]:e_end[i]] for i in inside if e_kind[i] == "site_header"])
        for i in inside:
            if not e_doc[i]:
                e_doc[i] = doc_id
        prev_raw_end = raw_end
        sections, heading_spans = _sections(doc_id, dtext)
        sec_a, sec_b = omap.raw_span_list([d.start + r["start"] for r in sections],
                                          [d.start + r["end"] for r in sections])
        for r, a, b in zip(sections, sec_a, sec_b):
            r["raw_start"], r["raw_end"] = a, b
        sec_rows.extend(sections)
        found = placeholder_spans(dtext)
        ph_starts = [p[0] for p in found]  # sorted by start
        ph_ends = [p[1] for p in found]
        ph_a, ph_b = omap.raw_span_list([d.start + x for x in ph_starts], [d.start + x for x in ph_ends])
        n_ph = len(found)
        ph["doc_id"] += [doc_id] * n_ph
        ph["source_file"] += [source] * n_ph
        ph["placeholder"] += [p[2] for p in found]
        ph["kind"] += [p[3] for p in found]
        ph["start"] += ph_starts
        ph["end"] += ph_ends
        ph["raw_start"] += ph_a
        ph["raw_end"] += ph_b
        # sentences, each in the deepest section that contains it
        owner_of = _section_owner(sections)
        h_starts = [hs for hs, _, _, _ in heading_spans]
        h_ends = [he for _, he, _, _ in heading_spans]
        title_len = len(d.title) if d.title and dtext.startswith(d.title) else 0
        spans = list(split_sentences(dtext))
        n_sent = len(spans)
        s_start = [a for a, _ in spans]
        s_end = [b for _, b in spans]
        roles = []
        for s, e in spans:
            h = bisect_right(h_starts, s) - 1  # heading lines are disjoint and in order
            if title_len and s == 0 and e <= title_len:
                roles.append("title")
            elif h >= 0 and s < h_ends[h]:
                roles.append("heading")
            else:
                roles.append("body")
        s_a, s_b = omap.raw_span_list([d.start + a for a in s_start], [d.start + b for b in s_end])
        sent["doc_id"] += [doc_id] * n_sent
        sent["sent_id"] += [f"{doc_id}/{i}" for i in range(1, n_sent + 1)]
        sent["section_id"] += [owner_of(a) for a in s_start]
        sent["role"] += roles
        sent["text"] += [dtext[a:b] for a, b in spans]
        sent["start"] += s_start
        sent["end"] += s_end
        sent["raw_start"] += s_a
        sent["raw_end"] += s_b
        sent["n_placeholders"] += [bisect_left(ph_starts, b) - bisect_left(ph_starts, a) if b > a else 0
                                   for a, b in spans]
        meta = label_document(dtext, title=d.title, label=d.label,
                              headings=[r["title"] for r in sections if r["level"] <= 3], header=header)
        doc_rows.append({"doc_id": doc_id, "source_file": source, "doc_index": k, "label": d.label,
                         "split_how": d.how, **meta, "n_chars": len(dtext), "n_sentences": n_sent,
                         "n_placeholders": n_ph, "placeholders_per_1000": 1000.0 * n_ph / max(len(dtext), 1),
                         "raw_start": raw_start, "raw_end": raw_end, "clean_start": d.start, "clean_end": d.end,
                         "text": dtext})
    edits = {"source_file": [source] * len(e_kind), "doc_id": e_doc, "stage": e_stage, "kind": e_kind,
             "raw_start": e_start, "raw_end": e_end, "removed": [raw.text[a:b] for a, b in zip(e_start, e_end)],
             "inserted": e_new}
    return {"documents": _columns("documents", doc_rows), "sections": _columns("sections", sec_rows),
            "sentences": sent, "placeholders": ph, "edits": edits}


def process_text(raw: RawText) -> dict[str, pd.DataFrame]:
    """Turn one decoded file into the corpus tables (see :data:`TABLES`).

    >>> from plan_analysis.load import read_raw
    >>> tables = process_text(read_raw("data/raw/001_64b46b310826ad2c.txt"))
    >>> len(tables["documents"]), tables["documents"]["place"].tolist()
    (1, ['铁西街道'])
    """
    if not isinstance(raw, RawText):
        raise TypeError(f"process_text takes a RawText (read_raw(path), or RawText(source_file, path, text, …)), "
                        f"not {type(raw).__name__}; for a text of your own, use texts_corpus({{name: text}})")
    return {name: _frame_from_columns(name, cols) for name, cols in _file_columns(raw).items()}


def as_corpus(source: Any, *, what: str = "this function") -> "Corpus":
    """Return the corpus a function works on: a :class:`Corpus` as it is, or one made of a text or a mapping.

    A string, or a mapping name → text, becomes a corpus by :func:`texts_corpus`; anything else raises a
    ``TypeError`` that names ``what`` (the calling function) and what to give instead.

    >>> as_corpus("推进改革。").documents["doc_id"].tolist()
    ['text-1']
    """
    if isinstance(source, Corpus):
        return source
    if isinstance(source, str):
        return texts_corpus({"text": source})
    if _is_texts(source):
        return texts_corpus(source)
    hint = _input_hint(source)
    if isinstance(source, pd.DataFrame):
        hint = ("; a table is not enough here, the corpus's sections and sentences are needed too (for some of its "
                "documents give corpus.select(doc_ids))")
    raise TypeError(f"{what} takes a Corpus (plan_analysis.load_corpus(...)), a str or a mapping name → text; "
                    f"got {type(source).__name__}{hint}")


def _is_texts(source: Any) -> bool:
    """Is ``source`` a mapping name → text, as :func:`texts_corpus` takes?"""
    return isinstance(source, Mapping) and bool(source) and all(isinstance(v, str) for v in source.values())


def _input_hint(source: Any) -> str:
    """What to do instead, for a few things a user may pass where a corpus is wanted."""
    if isinstance(source, (os.PathLike, bytes)):
        return "; to read files, load them first: plan_analysis.load_corpus(path)"
    if isinstance(source, (list, tuple)):
        return "; for texts in memory give a mapping name → text (plan_analysis.texts_corpus)"
    if isinstance(source, Mapping):
        if not source:
            return "; this mapping is empty: give at least one name → text"
        bad = next(((k, v) for k, v in source.items() if not isinstance(v, str)), None)
        if bad is not None:
            return f"; a mapping's values must be texts, but {bad[0]!r} holds a {type(bad[1]).__name__}"
    return ""


def documents_of(source: Any, *, what: str) -> tuple[pd.DataFrame, "Corpus | None"]:
    """Return the documents table a function works on, and the corpus it belongs to (``None`` for a table alone).

    ``source`` is a :class:`Corpus`, a mapping name → text (made a corpus by :func:`texts_corpus`), or a table with
    ``doc_id`` and ``text``; anything else raises an error that names ``what`` (the calling function).

    >>> documents_of({"甲镇": "推进改革。"}, what="f")[0]["doc_id"].tolist()
    ['甲镇-1']
    """
    if isinstance(source, Corpus):
        return source.documents, source
    if isinstance(source, pd.DataFrame):
        require_columns(source, ("doc_id", "text"), what=what, make="corpus.documents")
        return source, None
    if _is_texts(source):
        corpus = texts_corpus(source)
        return corpus.documents, corpus
    raise TypeError(f"{what} takes a Corpus (plan_analysis.load_corpus(...)), a documents table with doc_id and "
                    f"text, or a mapping name → text; got {type(source).__name__}{_input_hint(source)}")


def require_columns(table: Any, columns: Sequence[str], *, what: str, make: str) -> None:
    """Raise unless ``table`` is a data frame with ``columns``, naming those it lacks and where to get one (``make``).

    >>> require_columns(pd.DataFrame({"doc_id": []}), ["doc_id", "placeholder"], what="count_hidden",
    ...                 make="extract_targets(corpus)")
    Traceback (most recent call last):
    ...
    ValueError: count_hidden: the table has no column(s) placeholder (it has doc_id); give it a table from extract_targets(corpus)
    """
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"{what} takes a table (a pandas DataFrame) from {make}, got {type(table).__name__}")
    missing = [c for c in columns if c not in table.columns]
    if missing:
        has = ", ".join(map(str, table.columns[:12])) + (" …" if len(table.columns) > 12 else "") or "no columns"
        near = [m for m in (nearest_column(c, table.columns) for c in missing) if m]
        raise ValueError(f"{what}: the table has no column(s) {', '.join(missing)} (it has {has}"
                         + (f"; did you mean {', '.join(near)}?" if near else "") + f"); give it a table from {make}")


def texts_corpus(texts: Mapping[str, str]) -> "Corpus":
    """Build a :class:`~plan_analysis.corpus.Corpus` from in-memory texts, one file per name.

    Each text is cleaned, split and labelled as if read from ``<name>.txt``; raw offsets index
    the text given. Handy for examples and tests; documents are named ``<name>-1``, ``<name>-2`` ….

    >>> texts_corpus({"a": "聚焦发展。", "b": "推进改革。"}).documents["doc_id"].tolist()
    ['a-1', 'b-1']
    """
    if not texts:
        raise ValueError("texts is empty: give at least one name → text")
    parts: dict[str, list[pd.DataFrame]] = {}
    report, raw_texts = [], {}
    for name, text in texts.items():
        if not isinstance(text, str):
            raise TypeError(f"text of {name!r} must be a str, got {type(text).__name__}")
        data = text.encode("utf-8")
        raw = RawText(source_file=f"{name}.txt", path=Path(f"{name}.txt"), text=text, encoding="utf-8",
                      sha256=hashlib.sha256(data).hexdigest(), n_bytes=len(data))
        for table, df in process_text(raw).items():
            parts.setdefault(table, []).append(df)
        report.append({"source_file": raw.source_file, "status": "loaded", "encoding": "utf-8",
                       "n_bytes": raw.n_bytes, "n_chars": len(text), "reason": ""})
        raw_texts[raw.source_file] = text
    frames = {t: pd.concat(dfs, ignore_index=True) for t, dfs in parts.items()}
    return Corpus(**frames, load_report=pd.DataFrame(report, columns=["source_file", "status", "encoding", "n_bytes",
                                                                     "n_chars", "reason"]),
                  raw_texts=raw_texts)


#: the modules the per-file pipeline runs (tests/test_corpus.py checks the list is complete): editing any
#: other module (plots, report, themes …) keeps the processed tables
PIPELINE_MODULES = ("_checks.py", "_patterns.py", "corpus.py", "lexicons.py", "load.py", "meta.py", "normalize.py", "offsets.py",
                    "parallel.py", "segment.py", "split.py", "tokenize.py")


def source_fingerprint(*, scope: Literal["pipeline", "package"] = "pipeline",
                       root: str | os.PathLike | None = None) -> str:
    """Return a hash of the package's source: the pipeline modules (:data:`PIPELINE_MODULES`) or every module.

    The processed tables depend on the pipeline's source, a rendered report page on all of it;
    ``root`` hashes another copy of the package.

    >>> source_fingerprint() != source_fingerprint(scope="package")
    True
    """
    folder = Path(root) if root is not None else Path(__file__).resolve().parent
    names = PIPELINE_MODULES if scope == "pipeline" else \
        sorted(f.relative_to(folder).as_posix() for f in folder.rglob("*.py"))
    h = hashlib.sha256()
    for name in names:
        h.update(name.encode() + b"\0" + (folder / name).read_bytes() + b"\0")
    return h.hexdigest()


def code_fingerprint(*, scope: Literal["pipeline", "package"] = "pipeline") -> str:
    """Return a short hash of the source (:func:`source_fingerprint` of ``scope``) and the lexicons.

    Processed tables depend on the pipeline's source and the lexicons; values computed from them
    (the slogan words kept with a corpus snapshot) on the whole package's.

    >>> len(code_fingerprint()), code_fingerprint() != code_fingerprint(scope="package")
    (16, True)
    """
    return hashlib.sha256(f"{source_fingerprint(scope=scope)}\0{lexicon_fingerprint()}".encode()).hexdigest()[:16]


def default_cache_dir() -> Path:
    """Return the folder for processed tables (``$PLAN_ANALYSIS_CACHE`` overrides).

    >>> default_cache_dir().name in ("processed", os.path.basename(os.environ.get("PLAN_ANALYSIS_CACHE", "")))
    True
    """
    env = os.environ.get("PLAN_ANALYSIS_CACHE")
    return Path(env) if env else Path(__file__).resolve().parent.parent / "data" / "processed"


# --- one file: a pure function of (name, bytes) ------------------------------------------------

@dataclass
class FileResult:
    """What became of one input file: its load-report line and, when loaded, its table columns.

    ``columns`` maps each table of :data:`TABLES` to ``{column: values}`` (plain Python values,
    cheap to send between processes); ``None`` when the file was skipped.
    """

    source_file: str
    path: str
    status: str
    encoding: str = ""
    n_bytes: int = 0
    n_chars: int = 0
    reason: str = ""
    sha256: str = ""
    columns: dict[str, dict[str, list]] | None = None
    cached: bool = False

    @property
    def n_documents(self) -> int:
        return len(self.columns["documents"]["doc_id"]) if self.columns else 0

    def report_row(self) -> tuple[str, str, str, int, int, str]:
        return (self.source_file, self.status, self.encoding, self.n_bytes, self.n_chars, self.reason)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The file's tables as data frames (empty tables for a skipped file)."""
        cols = self.columns or {name: {c: [] for c in TABLES[name]} for name in TABLES}
        return {name: _frame_from_columns(name, cols[name]) for name in TABLES}


def _skipped(source_file: str, path: str, reason: str, n_bytes: int = 0) -> FileResult:
    return FileResult(source_file, path, "skipped", n_bytes=n_bytes, reason=reason)


def process_file(source_file: str, data: bytes, *, path: str | os.PathLike = "") -> FileResult:
    """Decode and process one file's bytes: the whole per-file pipeline, with no I/O.

    The result depends on nothing but ``source_file`` (which names the documents) and
    ``data``: this is the function the process pool and dask run on each file. A file that
    cannot be decoded is ``skipped`` with the reason; so is one the pipeline fails on (a bug,
    reported with the exception) rather than stopping a long run.

    >>> r = process_file("a.txt", "铁西街道2024年工作计划\\n一、抓党建\\n全面落实责任制。".encode("gb18030"))
    >>> r.status, r.encoding, r.columns["documents"]["place"]
    ('loaded', 'gb18030', ['铁西街道'])
    >>> process_file("empty.txt", b"").reason
    'empty file'
    """
    try:
        text, enc, note = decode_file(path or source_file, data)
    except ValueError as exc:
        return _skipped(source_file, str(path), str(exc), len(data))
    sha = hashlib.sha256(data).hexdigest()
    raw = RawText(source_file, Path(path or source_file), text, enc, sha, len(data), note)
    return _process_decoded(raw, str(path))


def _process_decoded(raw: RawText, path: str) -> FileResult:
    """:func:`process_file` from the decoded file on (a cache miss of the load has decoded and hashed it already)."""
    res = FileResult(raw.source_file, path, "loaded", raw.encoding, raw.n_bytes, len(raw.text), raw.note, raw.sha256)
    try:
        res.columns = _file_columns(raw)
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop a run of thousands
        log.exception("%s: processing failed", raw.source_file)
        return FileResult(raw.source_file, path, "skipped", raw.encoding, raw.n_bytes, len(raw.text),
                          f"processing failed ({type(exc).__name__}: {exc}); please report this file", raw.sha256)
    return res


# --- the per-file cache: each file's tables as one zstd-compressed JSON blob, kept in packs -------
# A worker writes the blobs of the files it processed in one task into one pack (written atomically,
# under a name of its own), not a file per input file: creating thousands of small files cost more
# than compressing them (the cold load of the 100 MB benchmark corpus took 16.6 s with 9,045 cache files,
# 13.9 s with 566 packs, on the development machine).
# The parent reads the packs' headers once per load and hands each task the entries recorded for its
# file's name; the worker uses the one whose sha256 matches the file's bytes.
# A blob is the magic line, the JSON's length (8 bytes) and CRC-32 (4 bytes), then the JSON compressed
# by zstd (level 1, through pyarrow): 3x as fast as zlib at level 1 for 6% more bytes (1,000 files of the
# benchmark corpus: 0.05 s against 0.16 s, 8.6 against 8.1 MB). zstd frames carry no checksum: the CRC
# makes a damaged entry an error, never wrong tables.

_CACHE_MAGIC = b"plan-analysis-cache 3\n"
_PACK_MAGIC = b"plan-analysis-pack 1\n"
_PACK_GLOB = "pack-*.z"
#: columns left out of cache files and rebuilt on reading (they are slices of other text)
_DERIVED = {"sentences": "text", "edits": "removed"}


def _name_key(source_file: str) -> str:
    """The part of a cache entry's key that comes from the file's name."""
    return hashlib.sha1(source_file.encode("utf-8", "surrogatepass")).hexdigest()[:8]


def _json_default(o: Any) -> Any:
    if hasattr(o, "item"):  # numpy scalars
        return o.item()
    raise TypeError(f"cannot store {type(o).__name__} in the cache")


@lru_cache(maxsize=1)
def _codec() -> Any:
    import pyarrow as pa

    return pa.Codec("zstd", compression_level=1)


def _cache_dump(columns: dict[str, dict[str, list]]) -> bytes:
    slim = {name: {c: v for c, v in cols.items() if _DERIVED.get(name) != c} for name, cols in columns.items()}
    body = json.dumps(slim, ensure_ascii=False, separators=(",", ":"), default=_json_default).encode("utf-8",
                                                                                                     "surrogatepass")
    return b"".join([_CACHE_MAGIC, len(body).to_bytes(8, "big"), zlib.crc32(body).to_bytes(4, "big"),
                     _codec().compress(body, asbytes=True)])


def _cache_load(blob: bytes, raw_text: str) -> dict[str, dict[str, list]]:
    if not blob.startswith(_CACHE_MAGIC):
        raise ValueError("not a plan-analysis cache file")
    head = len(_CACHE_MAGIC)
    size, crc = int.from_bytes(blob[head:head + 8], "big"), int.from_bytes(blob[head + 8:head + 12], "big")
    packed = blob[head + 12:]
    if size > 100 * len(packed) + 4096:  # a damaged length must not ask for gigabytes
        raise ValueError(f"cache entry says {size} bytes for {len(packed)} compressed")
    try:
        body = _codec().decompress(packed, decompressed_size=size, asbytes=True)
    except OSError as exc:  # pyarrow reports bad data as an I/O error
        raise ValueError(f"cache entry does not decompress ({exc})") from None
    if zlib.crc32(body) != crc:
        raise ValueError("cache entry fails its checksum")
    columns = json.loads(body.decode("utf-8", "surrogatepass"))
    if set(columns) != set(TABLES):
        raise ValueError("cache file has other tables")
    for name, cols in TABLES.items():
        if set(columns[name]) != set(cols) - {_DERIVED.get(name)}:
            raise ValueError(f"cache file has other columns in {name}")
    docs = columns["documents"]
    doc_text = dict(zip(docs["doc_id"], docs["text"]))
    sents = columns["sentences"]
    sents["text"] = [doc_text[d][a:b] for d, a, b in zip(sents["doc_id"], sents["start"], sents["end"])]
    edits = columns["edits"]
    edits["removed"] = [raw_text[a:b] for a, b in zip(edits["raw_start"], edits["raw_end"])]
    return {name: {c: columns[name][c] for c in TABLES[name]} for name in TABLES}


def _cache_read(folder: Path, entries: Sequence[tuple[str, str, int, int]], sha256: str,
                raw_text: str) -> dict[str, dict[str, list]] | None:
    """The columns of the first of ``entries`` (sha256 prefix, pack, offset, length) holding this file, or ``None``."""
    for sha, pack, offset, length in entries:
        if sha != sha256[:24]:
            continue
        file = folder / pack
        try:
            with open(file, "rb") as fh:
                fh.seek(offset)
                blob = fh.read(length)
            if len(blob) != length:
                raise ValueError("pack is shorter than its header says")
            return _cache_load(blob, raw_text)
        except FileNotFoundError:
            continue
        except OSError as exc:
            log.warning("ignoring unreadable cache pack %s: %s", file, exc)
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            log.warning("ignoring a damaged entry of cache pack %s: %s", file, exc)
    return None


def _pack_index(folder: Path) -> dict[str, list[tuple[str, str, int, int]]]:
    """Every entry of the packs in ``folder``, by name key.

    Each key maps to ``[(sha256 prefix, pack, offset, length), ...]``, the newest pack first.
    """
    index: dict[str, list[tuple[str, str, int, int]]] = {}
    packs = []
    for p in folder.glob(_PACK_GLOB):
        try:
            packs.append((p.stat().st_mtime_ns, p.name, p))
        except OSError:  # removed meanwhile (by another load finding it damaged)
            continue
    for _mtime, name, file in sorted(packs, reverse=True):
        try:
            with open(file, "rb") as fh:
                head = fh.read(len(_PACK_MAGIC) + 8)
                if len(head) < len(_PACK_MAGIC) + 8 or not head.startswith(_PACK_MAGIC):
                    raise ValueError("not a plan-analysis cache pack")
                size = int.from_bytes(head[len(_PACK_MAGIC):], "big")
                entries = json.loads(fh.read(size))
            base = len(head) + size
            found = [(*key.partition("-")[::2], base + int(offset), int(length)) for key, offset, length in entries]
            for sha, name_key, offset, length in found:  # only a pack whose whole header reads is used
                index.setdefault(name_key, []).append((sha, name, offset, length))
        except OSError as exc:
            log.warning("ignoring unreadable cache pack %s: %s", file, exc)
        except (ValueError, TypeError, AttributeError) as exc:  # packs appear whole (renamed into place): damaged since
            log.warning("removing damaged cache pack %s: %s", file, exc)
            try:
                file.unlink()
            except OSError:
                pass
    return index


def _pack_write(folder: Path, blobs: Sequence[tuple[str, bytes]]) -> None:
    """Write ``(key, blob)`` pairs as one new pack in ``folder`` (atomically; a failure is logged, not raised)."""
    import uuid

    entries, offset = [], 0
    for key, blob in blobs:
        entries.append([key, offset, len(blob)])
        offset += len(blob)
    header = json.dumps(entries, separators=(",", ":")).encode()
    try:
        _write_atomic(folder / f"pack-{uuid.uuid4().hex}.z",
                      b"".join([_PACK_MAGIC, len(header).to_bytes(8, "big"), header, *(b for _, b in blobs)]))
    except OSError as exc:
        log.warning("could not write cache pack in %s: %s", folder, exc)


def _write_atomic(file: Path, data: bytes | Callable[[Any], None], *, mode: int | None = None) -> None:
    """Write ``data`` (bytes, or a function writing to an open binary file) to ``file`` through a temporary file
    in the same folder and ``os.replace``; ``mode`` sets the file's permissions (a temporary file's are 0600).

    Readers see the old file or the new one, never part of one; an interruption (Ctrl-C, a
    crash) leaves at most a ``.tmp-*`` file that nothing reads.
    """
    file.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=file.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            if callable(data):
                data(fh)
            else:
                fh.write(data)
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, file)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_pieces(pieces: Any, fmt: Literal["csv", "jsonl"], out: Any) -> None:
    """Write a table, or the pieces of one in order, to the text stream ``out`` as CSV (one header) or JSON lines.

    >>> import io
    >>> buf = io.StringIO()
    >>> write_pieces(iter([pd.DataFrame({"镇": ["甲"]}), pd.DataFrame({"镇": ["乙"]})]), "csv", buf)
    >>> buf.getvalue().splitlines()
    ['镇', '甲', '乙']
    """
    if fmt not in ("csv", "jsonl"):
        raise ValueError(f"fmt must be 'csv' or 'jsonl', not {fmt!r}")
    for i, df in enumerate([pieces] if isinstance(pieces, pd.DataFrame) else pieces):
        if fmt == "csv":
            df.to_csv(out, index=False, header=i == 0)
        else:
            text = df.to_json(orient="records", lines=True, force_ascii=False)
            if text.strip():  # an empty table is no line at all (pandas gives one blank line)
                out.write(text if text.endswith("\n") else text + "\n")


def _load_one(path: str, source_file: str, folder: str | None, entries: Sequence[tuple[str, str, int, int]],
              max_bytes: int | None) -> tuple[FileResult, tuple[str, bytes] | None]:
    """Read one file, then take its tables from the cache or :func:`process_file` (run in workers).

    Returns the result and, for a file processed anew with the cache on, its cache entry (key, blob).
    """
    p = Path(path)
    try:
        size = p.stat().st_size
    except OSError:
        size = 0
    if max_bytes is not None and size > max_bytes:
        return _skipped(source_file, path, f"too large: {size / 1e6:.1f} MB, over the {max_bytes / 1e6:g} MB limit "
                                           "per file (split it, or raise load_corpus(max_file_mb=...))", size), None
    try:
        data = p.read_bytes()
    except PermissionError:
        return _skipped(source_file, path, "unreadable: permission denied", size), None
    except IsADirectoryError:
        return _skipped(source_file, path, "is a folder, not a file", size), None
    except OSError as exc:
        return _skipped(source_file, path, f"unreadable: {exc.strerror or exc}", size), None
    if folder is None:
        return process_file(source_file, data, path=path), None
    try:
        text, enc, note = decode_file(path, data)
    except ValueError as exc:
        return _skipped(source_file, path, str(exc), len(data)), None
    sha = hashlib.sha256(data).hexdigest()
    columns = _cache_read(Path(folder), entries, sha, text)
    if columns is not None:
        return FileResult(source_file, path, "loaded", enc, len(data), len(text), note, sha, columns, cached=True), None
    res = _process_decoded(RawText(source_file, p, text, enc, sha, len(data), note), path)
    if res.columns is None:
        return res, None
    try:
        blob = _cache_dump(res.columns)
    except (TypeError, ValueError) as exc:
        log.warning("could not cache %s: %s", source_file, exc)
        return res, None
    return res, (f"{sha[:24]}-{_name_key(source_file)}", blob)


@dataclass
class _Chunk:
    """A few files loaded: their results in file order, their columns taken out into one Arrow table per table
    of :data:`TABLES` (``None`` when none was loaded), each result's number of documents, and the characters of
    document text in all."""

    results: list[FileResult]
    tables: dict[str, Any] | None
    n_documents: list[int]
    n_chars: int


def _chunk_of(results: list[FileResult]) -> _Chunk:
    """Move the columns of ``results`` into Arrow tables: made here, in the worker, they travel to the parent as
    a few buffers instead of a Python object per value, and the parent (one process for all workers) does not
    make them."""
    loaded = [r.columns for r in results if r.columns is not None]
    docs = [r.n_documents for r in results]
    tables = None
    if loaded:
        tables = {name: _arrow_table(name, {c: list(chain.from_iterable(cols[name][c] for cols in loaded))
                                            for c in TABLES[name]}) for name in TABLES}
    chars = sum(len(t) for cols in loaded for t in cols["documents"]["text"])
    for r in results:
        r.columns = None
    return _Chunk(results, tables, docs, chars)


def _load_chunk(tasks: Sequence[tuple]) -> _Chunk:
    """Load a few files; the new cache entries go into one pack."""
    tasks = list(tasks)
    results, blobs = [], []
    for t in tasks:
        res, entry = _load_one(*t)
        results.append(res)
        if entry is not None:
            blobs.append(entry)
    if blobs:
        folder = Path(tasks[0][2])
        _pack_write(folder, blobs)
    return _chunk_of(results)


def _load_part(tasks: Sequence[tuple]) -> list[_Chunk]:
    """:func:`_load_chunk` as a dask bag partition (a sequence)."""
    return [_load_chunk(tasks)]


# --- the corpus -------------------------------------------------------------------------------

class RawTexts(Mapping[str, str]):
    """The decoded raw text of each loaded file, read again from disk when asked for.

    A corpus of thousands of files does not keep every raw text in memory: this mapping
    holds each file's path and sha256, decodes a file on access (the last few are kept) and
    refuses a file whose bytes changed since loading, since raw offsets would no longer fit.

    >>> t = RawTexts({"a.txt": "甲镇"})
    >>> t["a.txt"], list(t), len(t)
    ('甲镇', ['a.txt'], 1)
    """

    def __init__(self, texts: Mapping[str, str] | None = None, *, files: Mapping[str, tuple[str, str]] | None = None,
                 keep: int = 8):
        self._texts: dict[str, str] = dict(texts or {})
        self._files: dict[str, tuple[str, str]] = dict(files or {})
        self._order: list[str] = list(self._texts) + [k for k in self._files if k not in self._texts]
        self._recent: OrderedDict[str, str] = OrderedDict()
        self._keep = keep

    def __getitem__(self, source_file: str) -> str:
        if source_file in self._texts:
            return self._texts[source_file]
        if source_file in self._recent:
            self._recent.move_to_end(source_file)
            return self._recent[source_file]
        path, sha = self._files[source_file]
        raw = read_raw(path, source_file=source_file)
        if raw.sha256 != sha:
            raise LoadError(source_file, f"changed on disk since the corpus was loaded ({path}); load it again")
        self._recent[source_file] = raw.text
        while len(self._recent) > self._keep:
            self._recent.popitem(last=False)
        return raw.text

    def __contains__(self, source_file: object) -> bool:
        return source_file in self._texts or source_file in self._files

    def subset(self, files: Container[str]) -> "RawTexts":
        """The raw texts of these files only, read the same way (held, or from their snapshot on demand)."""
        return RawTexts({f: t for f, t in self._texts.items() if f in files},
                        files={f: v for f, v in self._files.items() if f in files}, keep=self._keep)

    def __iter__(self) -> Iterator[str]:
        return iter(self._order)

    def __len__(self) -> int:
        return len(self._order)

    def __repr__(self) -> str:
        return f"<RawTexts: {len(self)} files>"

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_recent": OrderedDict()}


_MAPS_KEPT = 16


@dataclass
class Corpus:
    """Tidy tables of a corpus; every span carries ``raw_start``/``raw_end`` into its raw file.

    Tables (columns in :data:`TABLES`): ``documents`` (one row per document, with metadata and
    cleaned ``text``), ``sections`` (heading tree), ``sentences``, ``placeholders``, ``edits``
    (every removal or rewrite, and compilation furniture left out of documents) and
    ``load_report`` (every input file: loaded or skipped, with the reason).
    """

    documents: pd.DataFrame
    sections: pd.DataFrame
    sentences: pd.DataFrame
    placeholders: pd.DataFrame
    edits: pd.DataFrame
    load_report: pd.DataFrame
    raw_texts: Mapping[str, str] = field(default_factory=dict, repr=False)
    _maps: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __getattr__(self, name: str) -> Any:
        """A table of a corpus read from a snapshot, made a DataFrame when first used (see :func:`_snapshot_read`)."""
        mapped = self.__dict__.get("_unread", {}).get(name)
        if mapped is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        frame = self.__dict__[name] = mapped.frame()
        return frame

    def __copy__(self) -> "Corpus":
        # a shallow copy shares everything, the mapped tables too: its snapshot's texts are still named for workers
        twin = Corpus.__new__(Corpus)
        twin.__dict__.update(self.__dict__)
        return twin

    def __getstate__(self) -> dict:
        # a table already made a DataFrame is pickled once, not also as the Arrow table it came from
        state = dict(self.__dict__)
        if state.get("_unread"):
            state["_unread"] = {k: v for k, v in state["_unread"].items() if k not in state}
        return state

    def _drop_pages(self) -> None:
        """Give back the pages of the snapshot's tables read so far (:meth:`MappedTable.drop_pages`): a stage calls
        this once its passes over whole columns are done, before the part that holds its results."""
        for mapped in self.__dict__.get("_unread", {}).values():
            mapped.drop_pages()

    def raw_text(self, source_file: str) -> str:
        """Return the decoded raw text of ``source_file`` (what raw offsets index)."""
        try:
            return self.raw_texts[source_file]
        except KeyError:
            files = list(self.raw_texts)
            more = f" and {len(files) - 10:,} more (corpus.load_report lists them)" if len(files) > 10 else ""
            raise KeyError(f"{source_file!r} is not in this corpus; files: {', '.join(files[:10])}{more}") from None

    def raw_slice(self, source_file: str, raw_start: int, raw_end: int) -> str:
        """Return ``raw_text(source_file)[raw_start:raw_end]``."""
        return self.raw_text(source_file)[int(raw_start):int(raw_end)]

    def raw_span(self, doc_id: str, start: int, end: int) -> tuple[int, int]:
        """Map a span of a document's cleaned text (``[start, end)``) to raw offsets in its file."""
        source, base = self._doc_position(doc_id)
        return self.file_offsets(source).raw_span(base + int(start), base + int(end))

    def file_offsets(self, source_file: str) -> OffsetMap:
        """Return the :class:`~plan_analysis.offsets.OffsetMap` from the cleaned text of ``source_file`` to its raw text.

        >>> c = load_corpus("data/raw/001_64b46b310826ad2c.txt", cache=False, progress=False)
        >>> c.file_offsets("001_64b46b310826ad2c.txt").raw_span(0, 4)
        (0, 4)
        """
        if source_file not in self._maps:
            while len(self._maps) >= _MAPS_KEPT:  # keep the offset maps of the last few files only
                self._maps.pop(next(iter(self._maps)))
            self._maps[source_file] = self._offset_map(source_file)
        return self._maps[source_file]

    def _derived(self, name: str, tables: pd.DataFrame | tuple[pd.DataFrame, ...], build: Callable[..., Any]) -> Any:
        """``build(*tables)``, kept until one of those tables is replaced (the tables are public attributes)."""
        tables = tables if isinstance(tables, tuple) else (tables,)
        cache = self.__dict__.setdefault("_derived_cache", {})
        hit = cache.get(name)
        if hit is None or any(a is not b or n != len(b) for (a, n), b in zip(hit[0], tables)):
            hit = cache[name] = (tuple((t, len(t)) for t in tables), build(*tables))
        return hit[1]

    def _snapshot_folder(self) -> Path | None:
        """The snapshot this corpus was read from, while its documents are the snapshot's (else ``None``)."""
        snap = self.__dict__.get("_snapshot")
        if snap is None or snap[1] is not self.documents or snap[2] != len(self.documents):
            return None
        return snap[0]

    def _snapshot_pieces(self, table: Literal["documents", "sentences"]
                         ) -> tuple[np.ndarray, Callable[[int, int], SnapshotRows]] | None:
        """The length of each text of ``table`` and how to name its rows ``a:b`` for a worker (:class:`SnapshotRows`;
        ``name(a, b, take=rows)`` for only ``rows`` of them, counted from ``a``), while its ``text`` column is still
        the Arrow buffers read from the snapshot (not replaced or edited); else ``None``. The lengths come from the
        table's other columns, so this process reads no text. Once the snapshot's file is gone (another load
        rotated it out of the cache), the texts themselves are given instead, as a list."""
        folder = self._snapshot_folder()
        mapped = self.__dict__.get("_unread", {}).get(table)
        frame = getattr(self, table)
        # the column is the snapshot's own while it is still the mapped table's buffers (an edit makes others)
        if folder is None or mapped is None or _buffer_key(frame["text"]) != _buffer_key(mapped.table.column("text")):
            return None
        if table == "documents":
            lengths = frame["n_chars"].to_numpy(dtype=np.int64, na_value=0)
        else:
            lengths = (frame["end"].to_numpy(dtype=np.int64, na_value=0)
                       - frame["start"].to_numpy(dtype=np.int64, na_value=0))
        path = mapped.path
        if not os.path.exists(path):  # rotated out of the cache: the texts are read from this process's tables
            return None
        # the record batches' first rows, as the load mapped them (one chunk of the column per batch)
        starts = np.concatenate([[0], np.cumsum([len(c) for c in mapped.table.column("text").chunks])]).astype(np.int64)

        def rows(a: int, b: int, take: np.ndarray | None = None) -> SnapshotRows | list[str]:
            if not os.path.exists(path):  # rotated out of the cache since (this process still has it mapped)
                texts = frame["text"].iloc[a:b] if take is None else frame["text"].iloc[a + np.asarray(take)]
                return piece_texts(texts)
            k = int(np.searchsorted(starts, a, side="right")) - 1
            return SnapshotRows(path, "text", a, b, batch=k, batch_start=int(starts[k]), take=take)

        return lengths, rows

    def _stored(self, name: str, key: str, build: Callable[[], Any] | None, *,
                form: Literal["json", "arrow"] = "json") -> Any:
        """``build()``, kept in the snapshot this corpus was read from, as ``name`` for ``key``.

        Another process over the same files (the next notebook, every profile page of a report)
        reads it instead of building it again. Only while the corpus's documents are the
        snapshot's (the table was not replaced), so a selection or an edited corpus builds its
        own; ``key`` names what else the value depends on (code, lexicons). ``form`` ``json``
        keeps a value JSON keeps; ``arrow`` keeps a ``pyarrow.Table``, read back memory-mapped.
        With ``build=None`` the value is only read: ``None`` when it is not kept (or the corpus
        has no snapshot). The file is written to a temporary name and renamed into place; one that
        cannot be read is built and written again, and a folder that cannot be written to only
        costs the saving.
        """
        import pyarrow as pa

        folder = self._snapshot_folder()
        if folder is None:
            return build() if build is not None else None
        path = folder / "derived" / f"{name}-{key}.{form}"
        try:
            if form == "arrow":
                import pyarrow.feather as feather

                return feather.read_table(path, memory_map=True)
            return json.loads(path.read_text(encoding="utf-8"))["value"]
        except FileNotFoundError:
            pass
        except (OSError, ValueError, KeyError, TypeError, pa.ArrowException) as exc:
            log.warning("ignoring damaged %s: %s", path, exc)
        if build is None:
            return None
        value = build()
        if form == "arrow":
            def write(fh: Any) -> None:
                with pa.ipc.new_file(fh, value.schema) as writer:
                    writer.write_table(value)
        else:
            write = json.dumps({"value": value}, ensure_ascii=False).encode("utf-8")
        try:
            _write_atomic(path, write)
        except (OSError, pa.ArrowException) as exc:
            log.info("%s not kept with the corpus snapshot (%s)", name, exc)
            return value
        # the values of other keys (an earlier version of the package, say): the last few written are kept
        for stale in _all_but_newest(path.parent.glob(f"{name}-*.{form}"), _DERIVED_KEPT):
            stale.unlink(missing_ok=True)
        return value

    def _offset_map(self, source: str) -> OffsetMap:
        """The offset map cleaning built for ``source``, rebuilt from its recorded edits (no re-cleaning)."""
        f = int(self._positions().files.get_indexer([source])[0])
        if f >= 0:
            cols = self._edit_columns()
            a, b = int(cols.first[f]), int(cols.first[f + 1])
        else:  # a file no document came from: its edits alone
            cols = _edit_columns(self.edits, pd.Index([source]))
            a, b = 0, len(cols.starts)
        return offset_map_of(cols.starts[a:b].tolist(), cols.ends[a:b].tolist(), cols.new_lens[a:b].tolist(),
                             self._raw_length(source))

    def _raw_length(self, source: str) -> int:
        """Characters in the decoded file (from the load report, so the file is not read again)."""
        def lengths(rep: pd.DataFrame) -> dict[str, Any]:
            loaded = rep[rep["status"] == "loaded"] if len(rep) else rep
            return dict(zip(loaded.get("source_file", []), loaded.get("n_chars", [])))

        n = self._derived("raw_lengths", self.load_report, lengths).get(source)
        return int(n) if n is not None and not pd.isna(n) else len(self.raw_text(source))

    def raw_spans(self, doc_ids: Sequence[str], starts: Sequence[int], ends: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """Map many document spans to raw offsets at once, as :meth:`raw_span` does (one offset table for all files).

        >>> c = load_corpus("data/raw/001_64b46b310826ad2c.txt", cache=False, progress=False)
        >>> [a.tolist() for a in c.raw_spans([c.documents["doc_id"][0]] * 2, [0, 2], [2, 4])]
        [[0, 2], [2, 4]]
        """
        if not (len(doc_ids) == len(starts) == len(ends)):
            raise ValueError(f"doc_ids, starts and ends differ in length ({len(doc_ids)}, {len(starts)}, {len(ends)})")
        pos = self._positions()
        rows = pos.ids.get_indexer(pd.Index(doc_ids, dtype=object))
        if (rows < 0).any():
            missing = list(doc_ids)[int(np.argmax(rows < 0))]
            raise KeyError(f"no document {missing!r}; see corpus.documents['doc_id']")
        return self._spans_at(rows, starts, ends)

    def _raw_spans_of_rows(self, rows: np.ndarray, starts: Sequence[int],
                           ends: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`raw_spans` of documents given by their rows in :attr:`documents` (no doc_id is looked up)."""
        if not (len(rows) == len(starts) == len(ends)):
            raise ValueError(f"rows, starts and ends differ in length ({len(rows)}, {len(starts)}, {len(ends)})")
        return self._spans_at(self._positions().row_of[np.asarray(rows, dtype=np.int64)], starts, ends)

    def _spans_at(self, at: np.ndarray, starts: Sequence[int], ends: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """Raw spans of spans of the documents at ``at`` (indexes into :meth:`_positions`)."""
        pos = self._positions()
        table = self._derived("span_table", (self.documents, self.edits, self.load_report), self._span_table)
        base = pos.bases[at]
        return table.raw_spans(pos.files_of[at], base + np.asarray(starts, dtype=np.int64),
                               base + np.asarray(ends, dtype=np.int64))

    def _positions(self) -> _DocPositions:
        """Where each document is: its file and clean start (built once per documents table)."""
        return self._derived("positions", self.documents, _doc_positions)

    def _span_table(self, docs: pd.DataFrame, edits: pd.DataFrame, _report: pd.DataFrame) -> OffsetTable:
        """The offset table of the documents' files (text ``i`` is ``_positions().files[i]``); the load report
        is a key because the files' raw lengths come from it."""
        cols = self._edit_columns()
        return offset_table(cols.files, cols.starts, cols.ends, cols.new_lens, self._raw_lengths())

    def _edit_columns(self) -> _EditColumns:
        """The cleaning edits of the documents' files as columns, by file (built once per documents and edits)."""
        return self._derived("edit_columns", (self.documents, self.edits),
                             lambda _docs, edits: _edit_columns(edits, self._positions().files))

    def _raw_lengths(self) -> np.ndarray:
        """The raw length of each of the documents' files (``_positions().files``)."""
        return self._derived("raw_length_column", (self.documents, self.load_report),
                             lambda _docs, _rep: np.asarray([self._raw_length(f) for f in self._positions().files],
                                                            dtype=np.int64))

    def _piece_offsets(self) -> Callable[[int, int], PieceOffsets]:
        """``name(a, b)``: what a worker needs to map clean spans of the documents of rows ``a:b`` to raw offsets
        (:class:`PieceOffsets`), so this process builds no offset table of the whole corpus."""
        pos, cols, raw_lens = self._positions(), self._edit_columns(), self._raw_lengths()

        def name(a: int, b: int) -> PieceOffsets:
            at = pos.row_of[a:b]
            files, local = np.unique(pos.files_of[at], return_inverse=True)
            counts = cols.first[files + 1] - cols.first[files]
            rows = (np.repeat(cols.first[files] - np.cumsum(counts) + counts, counts) + np.arange(int(counts.sum()))
                    if len(files) else np.zeros(0, dtype=np.int64))
            return PieceOffsets(local.reshape(-1).astype(np.int64), pos.bases[at],
                                np.repeat(np.arange(len(files), dtype=np.int64), counts),
                                cols.starts[rows], cols.ends[rows], cols.new_lens[rows], raw_lens[files])

        return name

    def _doc_position(self, doc_id: str) -> tuple[str, int]:
        """``(source_file, clean_start)`` of a document."""
        pos = self._positions()
        try:
            row = pos.ids.get_loc(doc_id)
        except KeyError:
            raise KeyError(f"no document {doc_id!r}; see corpus.documents['doc_id']") from None
        return pos.files[pos.files_of[row]], int(pos.bases[row])

    def text(self, doc_id: str) -> str:
        """Return the cleaned text of one document."""
        rows = self.documents.loc[self.documents["doc_id"] == doc_id, "text"]
        if rows.empty:
            raise KeyError(f"no document {doc_id!r}; see corpus.documents['doc_id']")
        return str(rows.iloc[0])

    def select(self, documents: Any) -> "Corpus":
        """A corpus of some documents only: their rows of every table, and every edit and report row of their files.

        ``documents`` is a boolean mask over :attr:`documents` (a Series or array) or doc_ids. Raw offsets
        still index the same raw files, and nothing recorded about those files is dropped, so every function
        runs on the part as on a corpus of its own (one place, one year, a sample of a large corpus).

        >>> c = load_corpus("data/raw", cache=False, progress=False)
        >>> part = c.select(c.documents["place"] == "铁西街道")
        >>> part.documents["place"].unique().tolist(), len(part.sentences) < len(c.sentences)
        (['铁西街道'], True)
        """
        docs = self.documents
        ids = docs["doc_id"].astype(str)
        if isinstance(documents, str):
            documents = [documents]
        if documents is None or isinstance(documents, (int, float, bool, np.generic)):
            raise TypeError(f"select takes a boolean mask over corpus.documents or doc_ids, not {documents!r}; for "
                            "the first n documents give corpus.documents['doc_id'][:n], for a random n corpus.sample(n)")
        if isinstance(documents, pd.Series) and pd.api.types.is_bool_dtype(documents.dtype):
            values = documents.to_numpy(dtype=bool, na_value=False)
        else:
            values = np.asarray(documents if isinstance(documents, (np.ndarray, pd.Series)) else list(documents))
        if values.dtype == bool:
            if len(values) != len(docs):
                raise ValueError(f"a mask of {len(values)} values for {len(docs)} documents; give one per row of "
                                 "corpus.documents, or doc_ids")
            keep = values
        else:
            wanted = pd.Index([str(d) for d in values])
            missing = wanted.difference(pd.Index(ids))
            if len(missing):
                raise KeyError(f"no document {', '.join(map(repr, missing[:5]))}"
                               f"{f' (and {len(missing) - 5} more)' if len(missing) > 5 else ''}; "
                               "see corpus.documents['doc_id']")
            keep = ids.isin(wanted).to_numpy()
        kept_ids = pd.Index(ids[keep].unique())
        files = pd.Index(docs["source_file"][keep].astype(str).unique())

        def rows_of(table: pd.DataFrame, column: str, values: pd.Index) -> pd.DataFrame:
            if not len(table):
                return table.copy()
            return table[table[column].astype(str).isin(values).to_numpy()].reset_index(drop=True)

        raw = self.raw_texts
        raw = raw.subset(files) if isinstance(raw, RawTexts) else {f: t for f, t in raw.items() if f in files}
        return Corpus(documents=docs[keep].reset_index(drop=True),
                      sections=rows_of(self.sections, "doc_id", kept_ids),
                      sentences=rows_of(self.sentences, "doc_id", kept_ids),
                      placeholders=rows_of(self.placeholders, "doc_id", kept_ids),
                      edits=rows_of(self.edits, "source_file", files),
                      load_report=rows_of(self.load_report, "source_file", files), raw_texts=raw)

    def sample(self, n: int, *, random_state: int = 0) -> "Corpus":
        """At most ``n`` documents drawn at random (:meth:`select`): the whole corpus when it has no more.

        For work whose cost grows faster than the corpus (pairs of texts, a topic model), on a sample of a
        large corpus; the same ``random_state`` draws the same documents.

        >>> c = load_corpus("data/raw", cache=False, progress=False)
        >>> len(c.sample(3).documents), c.sample(100) is c
        (3, True)
        """
        if n < 1:
            raise ValueError(f"n must be at least 1, got {n}")
        ids = self.documents["doc_id"]
        return self if len(ids) <= n else self.select(ids.sample(n, random_state=random_state))

    def __repr__(self) -> str:
        skipped = int((self.load_report["status"] != "loaded").sum()) if len(self.load_report) else 0
        return (f"<Corpus: {len(self.documents)} documents from {len(self.raw_texts)} files"
                f"{f' ({skipped} skipped)' if skipped else ''}, {len(self.sentences)} sentences, "
                f"{len(self.edits)} edits, {len(self.placeholders)} placeholders>")


@dataclass(frozen=True)
class MappedTable:
    """A table of a corpus snapshot, memory-mapped: its layout read, none of its values yet.

    :meth:`frame` makes it a DataFrame: text columns stay over the map (the pages a stage reads are all it costs);
    the numbers are copied into one array per column (the file holds them in record batches), and the map's pages
    they were copied from are then given back, so they are not this process's memory as well as the copy (30 MB of
    the sentences' 733,000 rows in the benchmark corpus).
    """

    table: Any  # pyarrow.Table over the map
    path: str
    #: the map itself (an ``mmap.mmap``), for :meth:`drop_pages`; ``None`` once pickled
    pages: Any = field(default=None, repr=False, compare=False)

    @classmethod
    def open(cls, path: str | os.PathLike) -> "MappedTable":
        import pyarrow as pa

        with open(path, "rb") as fh:
            if not os.fstat(fh.fileno()).st_size:  # nothing to map, and no Arrow file
                raise ValueError(f"{path} is empty: not an Arrow file")
            pages = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        # Arrow reads the file through this map, without copying
        return cls(pa.ipc.open_file(pa.py_buffer(pages)).read_all(), str(path), pages)

    def __reduce__(self) -> tuple:
        # pickled, the table travels by value: its buffers are no longer in a map of the file
        return MappedTable, (self.table, self.path)

    def drop_pages(self) -> None:
        """Give back the pages of the map this process has read so far.

        They are clean pages of the file, still in the system's page cache: a value used again is read back from
        there (a page fault, no disk read). Until then they are not counted in this process's memory, as every
        page a pass over a column touched otherwise is for as long as the table lives (the sentences' ids, read
        once to select and group them, held 45 MB while the theme scores of the 100 MB benchmark corpus were
        made). Where ``madvise`` is missing (Windows) nothing happens.
        """
        if self.pages is None or not hasattr(self.pages, "madvise") or not hasattr(mmap, "MADV_DONTNEED"):
            return
        try:
            self.pages.madvise(mmap.MADV_DONTNEED)
        except (OSError, ValueError) as exc:  # ValueError: closed; the pages are then gone anyway
            log.debug("pages of %s kept: %s", self.path, exc)

    def frame(self) -> pd.DataFrame:
        """The table as a DataFrame (Arrow's ``to_pandas(split_blocks=True)``); the map's pages read are given back."""
        frame = self.table.to_pandas(split_blocks=True)
        self.drop_pages()
        return frame


def _buffer_key(values: Any) -> tuple | None:
    """Where a column's Arrow buffers are (chunk offsets, lengths, buffer addresses), ``None`` when it has none: the
    same key means the same, unedited, values. ``values``: a Series, or an Arrow (chunked) array."""
    column = arrow_strings(values) if isinstance(values, pd.Series) else values
    if column is None:
        return None
    return tuple((c.offset, len(c), tuple(b.address if b is not None else 0 for b in c.buffers()))
                 for c in getattr(column, "chunks", [column]))


@dataclass(frozen=True)
class SnapshotRows:
    """Rows ``start:stop`` of a column of a corpus snapshot's table, named instead of sent: a worker reads them.

    A pool worker given this reads only its piece, through a memory map it closes again, so neither it nor the
    parent keeps the whole column's pages (100 MB for the 100 MB benchmark corpus) while the stage runs.
    :func:`piece_texts` gives the texts of a piece given either way.
    """

    path: str
    column: str
    start: int
    stop: int
    #: the record batch holding row ``start`` and the row it begins with (``Corpus._snapshot_pieces`` gives them from
    #: the mapped table's chunks); else the file's batches are looked through from the first
    batch: int = 0
    batch_start: int = 0
    #: only these rows, counted from ``start`` (all, if ``None``)
    take: np.ndarray | None = field(default=None, compare=False)

    def read(self) -> list[str]:
        """The column's values of rows ``start:stop`` (or those of them in ``take``; missing values as ``""``)."""
        import pyarrow as pa

        out: list[str] = []
        try:
            source = pa.memory_map(self.path)
        except FileNotFoundError:
            raise FileNotFoundError(f"the corpus snapshot {self.path} was removed while a stage was reading it "
                                    "(another load rotated it out of the cache); run the stage again") from None
        with source:
            reader = pa.ipc.open_file(source)
            row = self.batch_start
            for i in range(self.batch, reader.num_record_batches):
                if row >= self.stop:
                    break
                batch = reader.get_batch(i)
                a, b = max(self.start, row), min(self.stop, row + batch.num_rows)
                if a < b:
                    out += batch.column(self.column).slice(a - row, b - a).to_pylist()
                row += batch.num_rows
                del batch
        if len(out) != self.stop - self.start:
            raise ValueError(f"{self.path} holds {row} rows, not rows {self.start}:{self.stop}; load the corpus again")
        if self.take is not None:
            out = [out[i] for i in self.take.tolist()]
        return [t if t is not None else "" for t in out]


def text_of(value: Any) -> str:
    """A value of a text column as text: a string as it is, ``""`` for a missing one (None, NA, NaN), else ``str``.

    >>> text_of("推进"), text_of(None), text_of(float("nan")), text_of(2024)
    ('推进', '', '', '2024')
    """
    if isinstance(value, str):
        return value
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return ""
    return str(value)


def piece_texts(piece: Any) -> list[str]:
    """The texts of a piece of work (a :class:`SnapshotRows` read, a column of text, or a list), as strings.

    Every stage's workers take their texts from here, so each stage reads a missing text as ``""`` (as
    :func:`text_of` does), whichever way the piece came.

    >>> piece_texts(pd.Series(["推进", None, "落实"], dtype="str"))
    ['推进', '', '落实']
    """
    if isinstance(piece, SnapshotRows):
        return piece.read()
    texts = piece if isinstance(piece, list) else piece.tolist()
    return texts if all(type(t) is str for t in texts) else [text_of(t) for t in texts]


def text_pieces(docs: pd.DataFrame, corpus: "Corpus | None") -> tuple[list[int], Callable[..., Any]]:
    """The length of each document's text and how to name rows ``a:b`` of them for a worker (``name(a, b,
    take=rows)``: only ``rows`` of them, counted from ``a``).

    Named as :class:`SnapshotRows` when ``docs`` are the corpus's documents as read from its snapshot (the lengths
    then come from ``n_chars``, so this process reads no text), else as the column's rows themselves.
    """
    from .parallel import text_lengths

    named = corpus._snapshot_pieces("documents") if corpus is not None and docs is corpus.documents else None
    if named is None:
        text = docs["text"]

        def rows(a: int, b: int, take: np.ndarray | None = None) -> pd.Series:
            return text.iloc[a:b] if take is None else text.iloc[a + np.asarray(take, dtype=np.int64)]

        return (text_lengths(text) if len(docs) else []), rows
    return named[0].tolist(), named[1]


@dataclass(frozen=True)
class _DocPositions:
    """Each document's file and clean start, as columns: ``ids`` (unique; the last row of a repeated id wins, as a
    dict of them would), ``files`` (each file once), ``files_of`` (a document's file, an index into ``files``),
    ``bases`` (its clean start); ``row_of`` gives each row of the documents table its place in ``ids``."""

    ids: pd.Index
    files: pd.Index
    files_of: np.ndarray
    bases: np.ndarray
    row_of: np.ndarray


def _doc_positions(docs: pd.DataFrame) -> _DocPositions:
    all_ids = pd.Index(docs["doc_id"])
    keep = ~all_ids.duplicated(keep="last")
    ids = all_ids[keep]
    sources = docs["source_file"][keep].astype(str)
    files = pd.Index(pd.unique(sources))
    return _DocPositions(ids, files, files.get_indexer(sources).astype(np.int64),
                         docs["clean_start"][keep].to_numpy(dtype=np.int64, na_value=0),
                         ids.get_indexer(all_ids).astype(np.int64))


@dataclass(frozen=True)
class _EditColumns:
    """The cleaning edits of some files, by file: edit ``j`` is of file ``files[j]`` (an index into the files
    given), file ``f``'s edits are rows ``first[f]`` to ``first[f + 1]``."""

    files: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    new_lens: np.ndarray
    first: np.ndarray


def _large_strings(values: pd.Series) -> Any:
    """A column of text as Arrow ``large_string``: its own buffers when it has them (:func:`arrow_strings`), else
    converted (a column of only missing values too, which Arrow reads as its null type)."""
    import pyarrow as pa

    column = arrow_strings(values)
    column = pa.array(values.astype(object)) if column is None else column
    return column if column.type == pa.large_string() else column.cast(pa.large_string())


def _edit_columns(edits: pd.DataFrame, files: pd.Index) -> _EditColumns:
    """The cleaning edits (:data:`EDIT_KINDS`, not the split furniture) of ``files`` in ``edits``, as
    :class:`_EditColumns` (the edits of other files left out). Worked out in Arrow: no Python object per edit."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not len(edits):
        zero = np.zeros(0, dtype=np.int64)
        return _EditColumns(zero, zero, zero, zero, np.zeros(len(files) + 1, dtype=np.int64))
    file_of = pc.index_in(_large_strings(edits["source_file"]),
                          value_set=pa.array([str(f) for f in files], type=pa.large_string()))
    kinds = pa.array(sorted(EDIT_KINDS), type=pa.large_string())
    keep = pc.fill_null(pc.and_(pc.is_in(_large_strings(edits["kind"]), value_set=kinds), pc.is_valid(file_of)), False)
    mask = np.asarray(keep, dtype=bool)
    of = np.asarray(pc.filter(file_of, keep).to_numpy(), dtype=np.int64)
    new_lens = pc.fill_null(pc.utf8_length(pc.filter(_large_strings(edits["inserted"]), keep)), 0)
    order = np.argsort(of, kind="stable")
    of = of[order]
    return _EditColumns(of, edits["raw_start"].to_numpy(dtype=np.int64, na_value=0)[mask][order],
                        edits["raw_end"].to_numpy(dtype=np.int64, na_value=0)[mask][order],
                        np.asarray(new_lens.to_numpy(), dtype=np.int64)[order],
                        np.searchsorted(of, np.arange(len(files) + 1, dtype=np.int64)).astype(np.int64))


@dataclass(frozen=True)
class PieceOffsets:
    """What a worker needs to map clean spans of some documents to raw offsets: their files' cleaning edits.

    Document ``i`` is in file ``file_of[i]`` and starts at ``bases[i]`` of its cleaned text; the edits are columns
    (``edit_file[j]``: edit ``j``'s file); files are indexes into ``raw_lens``. Small: the few files of a piece of
    work, built by ``Corpus._piece_offsets``.
    """

    file_of: np.ndarray
    bases: np.ndarray
    edit_file: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    new_lens: np.ndarray
    raw_lens: np.ndarray

    def raw_spans(self, docs: np.ndarray, starts: Sequence[int], ends: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """Raw spans of the clean spans ``[starts, ends)`` of documents ``docs`` (indexes into ``file_of``)."""
        table = offset_table(self.edit_file, self.starts, self.ends, self.new_lens, self.raw_lens)
        docs = np.asarray(docs, dtype=np.int64)
        base = self.bases[docs]
        return table.raw_spans(self.file_of[docs], base + np.asarray(starts, dtype=np.int64),
                               base + np.asarray(ends, dtype=np.int64))


# --- engines: each yields one _Chunk per few tasks, in task order --------------------------------

def _run_serial(tasks: list[tuple]) -> Iterator[_Chunk]:
    for chunk in _chunks(tasks, _SERIAL_CHUNK):
        yield _load_chunk(chunk)


def _chunks(seq: Sequence, size: int) -> Iterator[Sequence]:
    for i in range(0, len(seq), size):
        yield seq[i:i + size]


def _run_process(tasks: list[tuple], workers: int) -> Iterator[_Chunk]:
    # a few files per task: fewer round trips, still small enough to balance two cores
    size = max(1, min(16, len(tasks) // (workers * 8)))
    yield from map_chunks(_load_chunk, _chunks(tasks, size), workers=workers)


def _run_dask(tasks: list[tuple], workers: int) -> Iterator[_Chunk]:
    try:
        import dask
        import dask.bag as db
    except ImportError:
        raise ImportError('engine="dask" needs dask: pip install "plan-analysis[dask]" '
                          '(or dask[bag] and distributed)') from None
    client = None
    try:
        from distributed import default_client

        client = default_client()
    except (ImportError, ValueError):
        client = None
    n_workers = len(client.scheduler_info().get("workers", {})) if client is not None else workers
    per_part = max(1, min(64, math.ceil(len(tasks) / (max(n_workers, 1) * 4))))
    bag = db.from_sequence(tasks, partition_size=per_part).map_partitions(_load_part)
    parts = bag.to_delayed()
    if client is not None:
        futures = client.compute(parts)
        try:
            for fut in futures:
                yield from fut.result()
                fut.release()
        except BaseException:
            client.cancel(futures)
            raise
        return
    for batch in _chunks(parts, max(1, 2 * workers)):
        for part in dask.compute(*batch, scheduler="processes", num_workers=workers):
            yield from part


# --- assembling results into tables -------------------------------------------------------------

class _Assembler:
    """Collect the tables of chunks of files in file order; join them a batch at a time.

    With ``sink`` (a folder), each batch is appended to an Arrow file per table there and then
    dropped, so the parent holds one batch, not the corpus; :meth:`finish_sink` completes the
    files. Without, the batches are kept and :meth:`frames` joins them into data frames.
    """

    def __init__(self, sink: Path | None = None) -> None:
        self.parts: dict[str, list[Any]] = {name: [] for name in TABLES}  # Arrow tables
        self.sink = sink
        self._writers: dict[str, Any] = {}
        self._pending: dict[str, list[Any]] = {name: [] for name in TABLES}
        self._chars = 0

    def add(self, chunk: _Chunk) -> None:
        if chunk.tables is None:
            return
        for name in TABLES:
            self._pending[name].append(chunk.tables[name])
        self._chars += chunk.n_chars
        if self._chars >= _BATCH_CHARS:
            self.flush()

    def flush(self) -> None:
        import pyarrow as pa

        if not self._pending["documents"]:
            return
        for name in TABLES:
            table = pa.concat_tables(self._pending[name]).combine_chunks()
            if self.sink is not None:
                self._writer(name).write_table(table)
            else:
                self.parts[name].append(table)
        self._pending = {name: [] for name in TABLES}
        self._chars = 0

    def _writer(self, name: str) -> Any:
        """The Arrow file of table ``name`` in the sink, opened on first use."""
        import pyarrow as pa

        if name not in self._writers:
            self._writers[name] = pa.ipc.new_file(str(self.sink / f"{name}.arrow"), _arrow_schema(name))
        return self._writers[name]

    def finish_sink(self) -> None:
        """Write the last batch and close the Arrow files (an empty table for one that got no rows)."""
        self.flush()
        for name in TABLES:
            self._writer(name)
            self._writers.pop(name).close()

    def abandon_sink(self) -> None:
        """Close the Arrow files without completing them (the folder is about to be removed)."""
        import pyarrow as pa

        for writer in self._writers.values():
            try:
                writer.close()
            except (OSError, pa.ArrowException):  # a half-written file in a folder being deleted
                pass
        self._writers.clear()

    def frames(self) -> dict[str, pd.DataFrame]:
        import pyarrow as pa

        self.flush()
        return {name: pa.concat_tables(self.parts.pop(name) or [_arrow_schema(name).empty_table()]).to_pandas()
                for name in TABLES}


def load_corpus(paths: str | os.PathLike | Sequence[str | os.PathLike], *, cache: bool = True,
                cache_dir: str | os.PathLike | None = None, progress: bool = True,
                engine: Literal["serial", "process", "dask"] = "process", workers: int | None = None,
                max_file_mb: float | None = MAX_FILE_MB, log_files: bool = True) -> Corpus:
    """Load files or folders into a :class:`Corpus`; files that cannot be read are in ``load_report``.

    Files are processed in parallel, one file per task, and streamed: the parent never holds
    the raw files (``corpus.raw_texts`` reads a file again when asked), and with ``cache`` it
    appends each batch of results to the snapshot's Arrow files on disk and returns the tables
    memory-mapped from there, so it holds one batch, not the whole corpus.
    ``engine``: ``"process"`` (default) runs a pool of ``workers`` processes (default: the
    CPUs available), or serially when the corpus is under :data:`PARALLEL_MIN_BYTES`;
    ``"serial"`` runs in this process; ``"dask"`` maps over a ``dask.bag`` of paths, on the
    active ``dask.distributed`` client when there is one. All engines give identical tables.

    Processed tables are cached per file (under ``data/processed/`` or ``$PLAN_ANALYSIS_CACHE``),
    keyed by the file's bytes and the code and lexicon versions, so edits to any of them
    rebuild; the entries of a task's files are written atomically as one pack, and damaged
    entries are ignored. A rerun over the
    same files (same paths, sizes and modification times) reads all tables at once from a
    snapshot of the last load (Arrow files, memory-mapped) without touching the files. Files over
    ``max_file_mb`` are skipped with the reason (``None``: no limit). Each file skipped, or loaded
    with a remark, is logged unless ``log_files`` is false (for a caller that prints the load
    report itself; other problems, such as a damaged cache pack, are logged either way).

    >>> c = load_corpus("data/raw", cache=False, progress=False, engine="serial")
    >>> len(c.documents), c.load_report["status"].value_counts().to_dict()
    (17, {'loaded': 5, 'skipped': 1})
    """
    if engine not in ("serial", "process", "dask"):
        raise ValueError(f"engine must be 'serial', 'process' or 'dask', not {engine!r}")
    n_workers = resolve_workers(workers)
    if max_file_mb is not None and not max_file_mb > 0:  # 0 or less skipped every file as "too large"
        raise ValueError(f"max_file_mb must be more than 0 (or None for no limit), got {max_file_mb!r}")
    found, problems = find_files(paths)
    use_system_allocator()  # Arrow's tables of the load (and its workers') from the C heap: see there
    cdir = Path(cache_dir) if cache_dir else default_cache_dir()
    fp = code_fingerprint() if cache else ""
    max_bytes = None if max_file_mb is None else int(max_file_mb * 1e6)
    snap = _snapshot_dir(cdir, fp, found, problems, max_bytes) if cache else None
    if snap is not None:
        corpus = _snapshot_read(snap, replay=log_files)
        if corpus is not None:
            _mark_used(snap)  # kept by the rotations of snapshots and versions for being used
            _mark_used(cdir / fp)
            return corpus
    tasks = _tasks(found, cdir / fp if cache else None, max_bytes)
    if engine == "process" and (n_workers == 1 or len(tasks) < 2 or _total_bytes(found) < PARALLEL_MIN_BYTES):
        engine = "serial"
    if engine == "process":  # forked workers inherit the dictionaries instead of each loading them (1 s, 80 MB)
        prepare_labelling()
    sink = _snapshot_start(snap) if snap is not None else None
    asm = _Assembler(sink=sink)
    try:
        rows, files, notes = _collect(tasks, problems, asm, engine=engine, workers=n_workers, progress=progress,
                                      say=log_files)
    except BaseException:
        if sink is not None:  # interrupted or failed: the half-written tables are never found
            asm.abandon_sink()
            _remove_tree(sink)
        raise
    report = _report_frame(rows)
    if cache:
        _rotate_versions(cdir, fp)
    if sink is None:
        return Corpus(**asm.frames(), load_report=report, raw_texts=RawTexts(files=files))
    corpus = _snapshot_finish(sink, snap, asm, report, files, notes)
    if corpus is None:  # the snapshot could not be completed: assemble in memory, from the per-file cache
        tasks = _tasks(found, cdir / fp, max_bytes)  # with the packs this load wrote
        asm = _Assembler()
        rows, files, notes = _collect(tasks, problems, asm, engine="serial", workers=1, progress=False, say=False)
        corpus = Corpus(**asm.frames(), load_report=_report_frame(rows), raw_texts=RawTexts(files=files))
    return corpus


def _tasks(found: Sequence[tuple[Path, str]], folder: Path | None, max_bytes: int | None) -> list[tuple]:
    """One task per file: its path and name, the cache folder and the cache entries recorded for its name."""
    index = _pack_index(folder) if folder is not None else {}
    where = str(folder.absolute()) if folder is not None else None
    return [(str(path.absolute()), name, where, index.get(_name_key(name), ()), max_bytes) for path, name in found]


def _report_frame(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["source_file", "status", "encoding", "n_bytes", "n_chars", "reason"])


def _collect(tasks: list[tuple], problems: Sequence[tuple[str, str]], asm: _Assembler, *, engine: str, workers: int,
             progress: bool, say: bool = True) -> tuple[list[tuple], dict[str, tuple[str, str]], list[tuple[int, str]]]:
    """Run the per-file pipeline over ``tasks`` into ``asm``; return the load report's rows, the files and what was logged."""
    from .parallel import progress_bar

    results = {"serial": lambda: _run_serial(tasks), "process": lambda: _run_process(tasks, workers),
               "dask": lambda: _run_dask(tasks, workers)}[engine]()
    rows = [(name, "skipped", "", 0, 0, reason) for name, reason in problems]
    files: dict[str, tuple[str, str]] = {}
    notes: list[tuple[int, str]] = []  # what the load logged about files, kept for the snapshot
    n_docs = 0
    try:
        with progress_bar(len(tasks), desc="documents", unit="file", enabled=progress) as bar:
            for chunk in results:
                asm.add(chunk)
                for res, n_documents in zip(chunk.results, chunk.n_documents):
                    rows.append(res.report_row())
                    note = None
                    if res.status == "loaded":
                        files[res.source_file] = (res.path, res.sha256)
                        n_docs += n_documents
                        if res.reason:
                            note = (note_level(res.reason), f"{res.source_file}: {res.reason}")
                    else:
                        note = (logging.WARNING, f"{res.source_file}: {res.reason}")
                    if note is not None:
                        notes.append(note)
                        if say:
                            log.log(*note)
                    if bar is not None:
                        bar.update(1)
                        bar.set_postfix(documents=n_docs, refresh=False)
    finally:
        close = getattr(results, "close", None)
        if close is not None:
            close()
    return rows, files, notes


# --- the corpus snapshot: all tables of one load, for a rerun over unchanged files ----------------
# One folder per (code + lexicons, file list with sizes and modification times, size limit), holding
# each table as an Arrow file and the files' paths and sha256; written to a temporary folder renamed
# into place, so a half-written snapshot is never found. RawTexts still checks each file's sha256.

_SNAPSHOTS_KEPT = 8
#: values kept with a snapshot (Corpus._stored): how many keys of each are kept (the token counts of the 100 MB
#: benchmark corpus take 82 MB, and every edit of the package starts a new key)
_DERIVED_KEPT = 2


def _snapshot_dir(cdir: Path, fp: str, found: Sequence[tuple[Path, str]], problems: Sequence[tuple[str, str]],
                  max_bytes: int | None) -> Path | None:
    h = hashlib.sha256(f"{fp}\0{max_bytes}\n".encode())
    try:
        for path, name in found:
            st = path.stat()
            h.update(f"{name}\0{path.absolute()}\0{st.st_size}\0{st.st_mtime_ns}\n".encode("utf-8", "surrogatepass"))
    except OSError:
        return None  # a file vanished or cannot be read: the per-file path reports it
    for name, reason in problems:
        h.update(f"{name}\0{reason}\n".encode("utf-8", "surrogatepass"))
    return cdir / fp / f"corpus-{h.hexdigest()[:24]}"


def _snapshot_read(folder: Path, *, replay: bool = True) -> Corpus | None:
    import pyarrow as pa

    if not (folder / "files.json").is_file():
        return None
    try:
        record = json.loads((folder / "files.json").read_text(encoding="utf-8"))
        files = {k: tuple(v) for k, v in record["files"].items()}
        notes = [(int(level), str(text)) for level, text in record["log"]]
        # only the files' layout is read here: a table's columns become a DataFrame on first use, so a stage that
        # never uses the sentences (targets) never has their 700,000 rows' numbers copied out of the map
        tables = {name: MappedTable.open(folder / f"{name}.arrow") for name in (*TABLES, "load_report")}
    except (OSError, ValueError, KeyError, TypeError, pa.ArrowException) as exc:
        log.warning("ignoring damaged corpus snapshot %s: %s", folder, exc)
        return None
    if replay:  # a rerun says again what the first load said about files
        for level, text in notes:
            log.log(level, "%s", text)
        log.info("corpus tables from the snapshot %s", folder)
    corpus = Corpus.__new__(Corpus)
    # the tables stay Arrow tables over the memory-mapped files until used (Corpus.__getattr__); mapped now, they
    # stay readable if the snapshot is rotated out of the cache before then
    corpus.__dict__.update(raw_texts=RawTexts(files=files), _maps={}, _unread=tables)
    # values built from these very tables may be kept next to them (Corpus._stored)
    corpus.__dict__["_snapshot"] = (folder, corpus.documents, len(corpus.documents))
    return corpus


def _snapshot_start(folder: Path) -> Path | None:
    """A fresh temporary folder next to where the snapshot ``folder`` goes, or ``None`` when none can be made."""
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=".tmp-corpus-", dir=folder.parent))
    except OSError as exc:
        log.info("corpus snapshot not written (%s); the tables are kept in memory", exc)
        return None


def _snapshot_finish(tmp: Path, folder: Path, asm: _Assembler, report: pd.DataFrame,
                     files: Mapping[str, tuple[str, str]], notes: Sequence[tuple[int, str]]) -> Corpus | None:
    """Complete the tables streamed into ``tmp``, rename it to ``folder`` (atomic) and return the corpus read from it.

    ``None`` when that fails (the per-file cache still holds every table)."""
    import pyarrow as pa

    try:
        asm.finish_sink()
        report.to_feather(tmp / "load_report.arrow", compression="uncompressed")
        record = {"files": dict(files), "log": [list(n) for n in notes]}  # the load's messages, said again on reuse
        (tmp / "files.json").write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
        try:
            os.rename(tmp, folder)
        except OSError:
            if not (folder / "files.json").is_file():
                raise
            log.info("another run wrote the corpus snapshot %s first; using it", folder)  # same key, same tables
        else:
            tmp = None
    except (OSError, ValueError, pa.ArrowException) as exc:
        log.info("corpus snapshot not written (%s); the per-file cache still holds every table", exc)
        return None
    finally:
        if tmp is not None:
            asm.abandon_sink()
            _remove_tree(tmp)
    _rotate_snapshots(folder.parent)
    return _snapshot_read(folder, replay=False)


def _mtime(p: Path) -> float:
    """When ``p`` was last modified (infinity for one removed meanwhile, by another run's rotation)."""
    try:
        return p.stat().st_mtime
    except OSError:
        return math.inf


def _all_but_newest(paths: Iterable[Path], keep: int) -> list[Path]:
    """``paths`` except the ``keep`` modified last."""
    return sorted(paths, key=_mtime)[:-keep] if keep > 0 else list(paths)


def _rotate_snapshots(parent: Path) -> None:
    """Keep the :data:`_SNAPSHOTS_KEPT` snapshots used last; remove temporary folders a killed run left a day ago."""
    import time

    old = _all_but_newest(parent.glob("corpus-*"), _SNAPSHOTS_KEPT)
    old += [p for p in parent.glob(".tmp-corpus-*") if _mtime(p) < time.time() - 86_400]
    for stale in old:
        _remove_tree(stale)


# --- versions: the cache of each code + lexicon version in a folder of its own, the last few kept ----
# Editing a lexicon (as users are meant to) or updating the code starts a new folder; without rotation
# each edit would leave a whole copy of the corpus's tables behind (723 MB for the 100 MB benchmark corpus).

_VERSIONS_KEPT = 3
_VERSION_RE = re.compile(r"[0-9a-f]{16}")
#: what a version folder holds: packs, snapshots, temporary files of interrupted writes, and the per-file
#: entries of earlier cache formats (``<sha256>-<name>.json.z`` files, and before them folders of that name)
_VERSION_ITEM_RE = re.compile(r"pack-[0-9a-f]{32}\.z|corpus-[0-9a-f]{24}|\.tmp-.*"
                              r"|[0-9a-f]{24}-[0-9a-f]{8}(?:\.json\.z)?")


def _mark_used(path: Path) -> None:
    """Record that a cache folder or file was just used (its modification time), where it may be written to.

    :func:`_rotate_versions` keeps the versions used last, :func:`~plan_analysis.tokenize._prune` the segmenter
    tables and word sets."""
    try:
        os.utime(path)
    except OSError:
        pass


def _rotate_versions(cdir: Path, current: str) -> None:
    """Keep the cache folders of the :data:`_VERSIONS_KEPT` versions used last (``current`` among them).

    Only folders named and filled as this module makes them are removed: anything else in
    ``cdir`` (report pages, a user's files) is left alone.
    """
    _mark_used(cdir / current)
    found = []
    try:
        for entry in os.scandir(cdir):
            if entry.name == current or not _VERSION_RE.fullmatch(entry.name):
                continue
            if not entry.is_dir(follow_symlinks=False):
                continue
            try:
                ours = all(_VERSION_ITEM_RE.fullmatch(name) for name in os.listdir(entry.path))
                found.append((entry.stat(follow_symlinks=False).st_mtime_ns, entry.path, ours))
            except OSError:  # removed meanwhile by another run
                continue
    except OSError:
        return
    found.sort(reverse=True)
    for _mtime, path, ours in found[_VERSIONS_KEPT - 1:]:
        if ours:
            log.info("removing the cache of an older code or lexicon version: %s", path)
            _remove_tree(Path(path))
        else:
            log.info("not removing %s: it holds files the cache did not write", path)


def _remove_tree(folder: Path) -> None:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)


def _total_bytes(found: Iterable[tuple[Path, str]]) -> int:
    total = 0
    for path, _ in found:
        try:
            total += path.stat().st_size
        except OSError:
            pass
    return total
