"""The corpus: load files, clean, split, parse and label them into tidy tables.

>>> c = load_corpus(["data/raw/001_64b46b310826ad2c.txt"], cache=False, progress=False)
>>> c.documents[["doc_id", "place", "doc_type", "label_year"]].values.tolist()
[['001_64b46b310826ad2c-1', '铁西街道', 'plan', 2024]]
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import pandas as pd

from . import _patterns as P
from .lexicons import lexicon_fingerprint
from .load import RawText, read_texts
from .meta import label_document
from .normalize import clean_text, find_placeholders
from .split import Heading, _lines, parse_heading, split_documents, split_sentences

__all__ = ["Corpus", "load_corpus", "process_text", "TABLES", "default_cache_dir"]

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


def _frame(name: str, rows: list[dict]) -> pd.DataFrame:
    cols = TABLES[name]
    df = pd.DataFrame(rows, columns=list(cols))
    for c in cols:
        if c in _INT_COLS:
            df[c] = df[c].astype("Int64")
        elif c in _BOOL_COLS:
            df[c] = df[c].astype("boolean")
        elif c == "placeholders_per_1000":
            df[c] = df[c].astype("float64")
        else:
            df[c] = df[c].astype("string")
    return df


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


def process_text(raw: RawText) -> dict[str, pd.DataFrame]:
    """Turn one decoded file into the corpus tables (see :data:`TABLES`)."""
    cleaned = clean_text(raw.text)
    text = cleaned.text
    omap = cleaned.offsets
    stem = Path(raw.source_file).stem
    docs, furniture = split_documents(text)
    edits_rows = [{"source_file": raw.source_file, "doc_id": "", "stage": "clean", "kind": e.kind,
                   "raw_start": e.start, "raw_end": e.end, "removed": raw.text[e.start:e.end], "inserted": e.new}
                  for e in cleaned.edits]
    for f in furniture:
        rs, re_ = omap.raw_span(f.start, f.end)
        edits_rows.append({"source_file": raw.source_file, "doc_id": "", "stage": "split", "kind": f.kind,
                           "raw_start": rs, "raw_end": re_, "removed": raw.text[rs:re_], "inserted": ""})
    doc_rows, sec_rows, sent_rows, ph_rows = [], [], [], []
    prev_raw_end = 0
    for k, d in enumerate(docs, start=1):
        doc_id = f"{stem}-{k}"
        dtext = text[d.start:d.end]
        raw_start, raw_end = omap.raw_span(d.start, d.end)
        header = _header_fields([r["removed"] for r in edits_rows
                                 if r["kind"] == "site_header" and prev_raw_end <= r["raw_start"] < raw_end])
        for r in edits_rows:
            if not r["doc_id"] and prev_raw_end <= r["raw_start"] < raw_end:
                r["doc_id"] = doc_id
        prev_raw_end = raw_end
        sections, heading_spans = _sections(doc_id, dtext)
        for s in sections:
            s["raw_start"], s["raw_end"] = omap.raw_span(d.start + s["start"], d.start + s["end"])
        sec_rows.extend(sections)
        ph = find_placeholders(dtext)
        for p in ph.itertuples(index=False):
            rs, re_ = omap.raw_span(d.start + p.start, d.start + p.end)
            ph_rows.append({"doc_id": doc_id, "source_file": raw.source_file, "placeholder": p.placeholder,
                            "kind": p.kind, "start": p.start, "end": p.end, "raw_start": rs, "raw_end": re_})
        ph_starts = sorted(int(s) for s in ph["start"])
        # sentences, each in the deepest section that contains it
        sec_bounds = [(s["start"], s["end"], s["section_id"], s["level"]) for s in sections]
        title_len = len(d.title) if d.title and dtext.startswith(d.title) else 0
        n_sent = 0
        for s, e in split_sentences(dtext):
            n_sent += 1
            owner = ""
            best_level = 0
            for a, b, sid, lvl in sec_bounds:
                if a <= s < b and lvl >= best_level:
                    owner, best_level = sid, lvl
            role = "body"
            if title_len and s == 0 and e <= title_len:
                role = "title"
            elif any(hs <= s < he for hs, he, _, _ in heading_spans):
                role = "heading"
            rs, re_ = omap.raw_span(d.start + s, d.start + e)
            sent_rows.append({"doc_id": doc_id, "sent_id": f"{doc_id}/{n_sent}", "section_id": owner, "role": role,
                              "text": dtext[s:e], "start": s, "end": e, "raw_start": rs, "raw_end": re_,
                              "n_placeholders": sum(1 for p in ph_starts if s <= p < e)})
        meta = label_document(dtext, title=d.title, label=d.label,
                              headings=[s["title"] for s in sections if s["level"] <= 3], header=header)
        n_ph = len(ph)
        doc_rows.append({"doc_id": doc_id, "source_file": raw.source_file, "doc_index": k, "label": d.label,
                         "split_how": d.how, **meta, "n_chars": len(dtext), "n_sentences": n_sent,
                         "n_placeholders": n_ph, "placeholders_per_1000": 1000.0 * n_ph / max(len(dtext), 1),
                         "raw_start": raw_start, "raw_end": raw_end, "clean_start": d.start, "clean_end": d.end,
                         "text": dtext})
    return {
        "documents": _frame("documents", doc_rows),
        "sections": _frame("sections", sec_rows),
        "sentences": _frame("sentences", sent_rows),
        "placeholders": _frame("placeholders", ph_rows),
        "edits": _frame("edits", edits_rows),
    }


def code_fingerprint() -> str:
    """Return a short hash of the package source and lexicons: processed tables depend on both."""
    h = hashlib.sha256()
    for f in sorted(Path(__file__).resolve().parent.glob("*.py")):
        h.update(f.name.encode())
        h.update(f.read_bytes())
    h.update(lexicon_fingerprint().encode())
    return h.hexdigest()[:16]


def default_cache_dir() -> Path:
    """Return the folder for processed tables (``$PLAN_ANALYSIS_CACHE`` overrides)."""
    env = os.environ.get("PLAN_ANALYSIS_CACHE")
    return Path(env) if env else Path(__file__).resolve().parent.parent / "data" / "processed"


def _cache_read(folder: Path) -> dict[str, pd.DataFrame] | None:
    if not (folder / "COMPLETE").exists():
        return None
    try:
        return {name: pd.read_parquet(folder / f"{name}.parquet") for name in TABLES}
    except (OSError, ValueError) as exc:
        log.warning("ignoring unreadable cache %s: %s", folder, exc)
        return None


def _cache_write(folder: Path, tables: dict[str, pd.DataFrame]) -> None:
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=folder.parent))
    try:
        for name, df in tables.items():
            df.to_parquet(tmp / f"{name}.parquet", index=False)
        (tmp / "COMPLETE").write_text("ok\n", encoding="utf-8")
        if folder.exists():
            shutil.rmtree(folder, ignore_errors=True)
        os.replace(tmp, folder)
    except OSError as exc:
        log.warning("could not write cache %s: %s", folder, exc)
        shutil.rmtree(tmp, ignore_errors=True)


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
    raw_texts: dict[str, str] = field(default_factory=dict, repr=False)
    _maps: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def raw_text(self, source_file: str) -> str:
        """Return the decoded raw text of ``source_file`` (what raw offsets index)."""
        try:
            return self.raw_texts[source_file]
        except KeyError:
            raise KeyError(f"{source_file!r} is not in this corpus; files: {', '.join(self.raw_texts)}") from None

    def raw_slice(self, source_file: str, raw_start: int, raw_end: int) -> str:
        """Return ``raw_text(source_file)[raw_start:raw_end]``."""
        return self.raw_text(source_file)[int(raw_start):int(raw_end)]

    def raw_span(self, doc_id: str, start: int, end: int) -> tuple[int, int]:
        """Map a span of a document's cleaned text (``[start, end)``) to raw offsets in its file."""
        row = self._doc_row(doc_id)
        source = str(row["source_file"])
        if source not in self._maps:
            self._maps[source] = clean_text(self.raw_text(source)).offsets
        base = int(row["clean_start"])
        return self._maps[source].raw_span(base + int(start), base + int(end))

    def _doc_row(self, doc_id: str) -> pd.Series:
        if not hasattr(self, "_doc_index") or self._doc_index is None or len(self._doc_index) != len(self.documents):
            self._doc_index = self.documents.set_index("doc_id")
        try:
            return self._doc_index.loc[doc_id]
        except KeyError:
            raise KeyError(f"no document {doc_id!r}; see corpus.documents['doc_id']") from None

    def text(self, doc_id: str) -> str:
        """Return the cleaned text of one document."""
        rows = self.documents.loc[self.documents["doc_id"] == doc_id, "text"]
        if rows.empty:
            raise KeyError(f"no document {doc_id!r}; see corpus.documents['doc_id']")
        return str(rows.iloc[0])

    def __repr__(self) -> str:
        skipped = int((self.load_report["status"] != "loaded").sum()) if len(self.load_report) else 0
        return (f"<Corpus: {len(self.documents)} documents from {len(self.raw_texts)} files"
                f"{f' ({skipped} skipped)' if skipped else ''}, {len(self.sentences)} sentences, "
                f"{len(self.edits)} edits, {len(self.placeholders)} placeholders>")


def load_corpus(paths: str | os.PathLike | Sequence[str | os.PathLike], *, cache: bool = True,
                cache_dir: str | os.PathLike | None = None, progress: bool = True) -> Corpus:
    """Load files or folders into a :class:`Corpus`; files that cannot be read are in ``load_report``.

    Processed tables are cached per file (parquet under ``data/processed/``), keyed by the
    file's bytes and the code and lexicon versions, so edits to any of them rebuild.
    """
    texts, report = read_texts(paths)
    cdir = Path(cache_dir) if cache_dir else default_cache_dir()
    fp = code_fingerprint() if cache else ""
    parts: dict[str, list[pd.DataFrame]] = {name: [] for name in TABLES}
    iterator = texts
    if progress and len(texts) > 1:
        from tqdm.auto import tqdm

        iterator = tqdm(texts, desc="documents", unit="file")
    for raw in iterator:
        tables = None
        folder = cdir / fp / f"{raw.sha256[:24]}-{hashlib.sha1(raw.source_file.encode()).hexdigest()[:8]}"
        if cache:
            tables = _cache_read(folder)
        if tables is None:
            tables = process_text(raw)
            if cache:
                _cache_write(folder, tables)
        for name, df in tables.items():
            parts[name].append(df)
    frames = {name: (pd.concat(dfs, ignore_index=True) if dfs else _frame(name, [])) for name, dfs in parts.items()}
    return Corpus(**frames, load_report=report, raw_texts={t.source_file: t.text for t in texts})
