"""jieba's cut, exactly, from compact numpy tables instead of jieba's dictionary of 500,000 Python strings.

jieba 0.42.1 keeps every word of its dictionary and every prefix of one in a ``dict`` (``FREQ``):
with the policy terms that is 498,000 strings and 62 MB in every process that segments, which
is most of the pipeline (metadata, targets, themes, phrasing). Here the same entries are numpy
arrays, one table per word length: a sorted 64-bit key of the word's characters (its code
points packed exactly up to three characters, hashed beyond and then checked against the
characters), and ``log(frequency) - log(total)`` (NaN for a prefix that is no word). The tables
come to 10 MB, are built once from the project's jieba tokenizer and kept in its cache folder.

What is found is what jieba finds: at each place the words of the dictionary that begin there
(jieba follows prefixes while they are in ``FREQ``; every prefix of a word is, so those are the
words that begin there), found a length at a time for the whole text; then jieba's route, backward
over the places with the same floating-point sums in the same order and the same tie rule (the
longer word); then jieba's runs of single characters, cut by its own HMM when the run is no word.
``tests/test_segment.py`` checks the words against ``jieba.Tokenizer.lcut`` on the bundled and
provincial texts and on arbitrary text, with and without the HMM.

>>> cut("规上工业总产值增长6.5%", tables=load_tables())
['规上工业总产值', '增长', '6.5%']
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from functools import lru_cache
from math import log as _ln
from pathlib import Path
from typing import Any, Mapping

from . import _patterns as P

__all__ = ["SegmentTables", "build_tables", "load_tables", "cut"]

log = logging.getLogger(__name__)

#: changes the key of the tables kept on disk when how they are made changes
_TABLES_VERSION = 1
#: up to this many characters a word's key is its code points packed (21 bits each), exact
_EXACT = 3
#: multipliers of the hash of longer words; the first that gives no two words of a length the same key is used
_MULTIPLIERS = (0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93)


@dataclass(frozen=True, eq=False)
class SegmentTables:
    """The dictionary as arrays: for each word length ``L``, ``keys[L]`` (sorted ``uint64``), ``weights[L]``
    (``log(freq) - log(total)``, NaN for a prefix that is no word) and, from ``_EXACT + 1`` characters on,
    ``chars[L]`` (the entries' code points, one row each, in key order); ``neg`` is ``0.0 - log(total)``, the
    score of a character jieba's dictionary does not hold; ``multiplier`` the hash's."""

    keys: tuple[Any, ...]
    weights: tuple[Any, ...]
    chars: tuple[Any, ...]
    neg: float
    multiplier: int

    @property
    def max_len(self) -> int:
        return len(self.keys) - 1


def _step(h: Any, c: Any, length: int, multiplier: int) -> Any:
    """The key of a string of ``length`` characters from the key of its first ``length - 1`` and its last ``c``."""
    import numpy as np

    if length <= _EXACT:
        return (h << np.uint64(21)) | c.astype(np.uint64)
    return h * np.uint64(multiplier) + c.astype(np.uint64)


def _keys_of(chars: Any, multiplier: int) -> Any:
    import numpy as np

    h = np.zeros(len(chars), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(chars.shape[1]):
            h = _step(h, chars[:, j], j + 1, multiplier)
    return h


def build_tables(freq: Mapping[str, int], total: int) -> SegmentTables:
    """The tables of jieba's ``FREQ`` (every word and every prefix of one, 0 for a prefix only) and ``total``.

    >>> t = build_tables({"推": 3, "推进": 5, "进": 2}, 10)
    >>> t.max_len, [len(k) for k in t.keys]
    (2, [0, 2, 1])
    """
    import numpy as np

    by_len: dict[int, list[tuple[str, int]]] = {}
    for word, f in freq.items():
        if word:
            by_len.setdefault(len(word), []).append((word, f))
    max_len = max(by_len, default=0)
    logtotal = _ln(total) if total > 0 else 0.0
    for multiplier in _MULTIPLIERS:
        keys: list[Any] = [np.zeros(0, dtype=np.uint64)]
        weights: list[Any] = [np.zeros(0, dtype=np.float64)]
        chars: list[Any] = [np.zeros((0, 0), dtype=np.uint32)]
        clash = False
        for length in range(1, max_len + 1):
            entries = by_len.get(length, [])
            rows = np.array([[ord(ch) for ch in w] for w, _ in entries], dtype=np.uint32).reshape(len(entries),
                                                                                                 length)
            k = _keys_of(rows, multiplier)
            order = np.argsort(k, kind="stable")
            k = k[order]
            if len(k) > 1 and (k[1:] == k[:-1]).any():
                clash = True
                break
            # the weight as jieba's route computes it: log(freq) - logtotal, in Python floats
            w = np.array([_ln(f) - logtotal if f else np.nan for _, f in entries], dtype=np.float64)[order]
            keys.append(k)
            weights.append(w)
            chars.append(rows[order] if length > _EXACT else np.zeros((0, length), dtype=np.uint32))
        if not clash:
            return SegmentTables(tuple(keys), tuple(weights), tuple(chars), 0.0 - logtotal, multiplier)
    raise ValueError("segmenter tables: every hash multiplier gives two words the same key; "
                     "add a multiplier to segment._MULTIPLIERS")


@lru_cache(maxsize=1)
def _block_mask() -> Any:
    """Per code point: is it a character of jieba's blocks of words (``P.JIEBA_BLOCK_RE``)."""
    import numpy as np

    mask = np.zeros(0x110000, dtype=bool)
    for a, b in P.JIEBA_BLOCK_RANGES:
        mask[ord(a):ord(b) + 1] = True
    return mask


def _candidates(code: Any, tables: SegmentTables) -> tuple[list[int], list[int], list[float]]:
    """The words of the dictionary beginning at each place of a block, as CSR lists: ``ptr`` (``len(code) + 1``
    offsets), and per word its length and weight, by place and then length."""
    import numpy as np

    n = len(code)
    inside = _block_mask()[code]
    outside = np.flatnonzero(~inside)
    at = np.flatnonzero(inside)
    # the end of each place's block: the next character outside a block
    block_end = np.append(outside, n)[np.searchsorted(outside, at)]
    h = np.zeros(len(at), dtype=np.uint64)
    pos_parts, len_parts, w_parts = [], [], []
    with np.errstate(over="ignore"):
        for length in range(1, tables.max_len + 1):
            if not len(at):
                break
            fits = at + length <= block_end
            if not fits.all():
                at, h, block_end = at[fits], h[fits], block_end[fits]
                if not len(at):
                    break
            h = _step(h, code[at + length - 1], length, tables.multiplier)
            keys = tables.keys[length]
            if not len(keys):
                break
            i = np.searchsorted(keys, h)
            i[i >= len(keys)] = 0
            found = keys[i] == h
            if length > _EXACT and found.any():
                hit = np.flatnonzero(found)
                same = (tables.chars[length][i[hit]] == code[at[hit, None] + np.arange(length)]).all(axis=1)
                found[hit[~same]] = False
            at, h, i, block_end = at[found], h[found], i[found], block_end[found]
            w = tables.weights[length][i]
            word = ~np.isnan(w)
            if word.any():
                pos_parts.append(at[word])
                len_parts.append(np.full(int(word.sum()), length, dtype=np.int64))
                w_parts.append(w[word])
    if pos_parts:
        pos = np.concatenate(pos_parts)
        order = np.argsort(pos, kind="stable")  # by place; lengths stay in increasing order within a place
        lengths = np.concatenate(len_parts)[order]
        weights = np.concatenate(w_parts)[order]
        ptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(pos, minlength=n), out=ptr[1:])
        return ptr.tolist(), lengths.tolist(), weights.tolist()
    return [0] * (n + 1), [], []


#: texts up to this long find their words by looking each string up (:func:`_lookup`, memoised), not by
#: numpy passes over the text, whose fixed cost (some 200 µs) is more than a short text's whole cut
_SHORT = 40


def _lookup(tables: SegmentTables, word: str) -> float | None:
    """The weight of ``word`` in ``tables``: None when it is no entry, NaN when it is a prefix only."""
    length = len(word)
    if length > tables.max_len:
        return None
    keys = tables.keys[length]
    if not len(keys):
        return None
    h = 0
    for j, ch in enumerate(word):
        h = ((h << 21) | ord(ch)) if j < _EXACT else (h * tables.multiplier + ord(ch)) & 0xFFFFFFFFFFFFFFFF
    i = int(keys.searchsorted(keys.dtype.type(h)))  # as uint64: a Python int above 2**63 would become a float
    if i >= len(keys) or int(keys[i]) != h:
        return None
    if length > _EXACT and tables.chars[length][i].tolist() != [ord(ch) for ch in word]:
        return None
    return float(tables.weights[length][i])


def _candidates_short(text: str, tables: SegmentTables) -> tuple[list[int], list[int], list[float]]:
    """:func:`_candidates` by looking up each prefix at each place, as jieba does, for a short text."""
    get = _lookup_memo(tables)
    inside = P.JIEBA_BLOCK_RE.match
    n = len(text)
    ptr = [0] * (n + 1)
    lengths: list[int] = []
    weights: list[float] = []
    block_end = n
    for i in range(n):
        ptr[i] = len(lengths)
        if not inside(text, i, i + 1):
            continue
        if i == 0 or not inside(text, i - 1, i):
            m = P.JIEBA_BLOCK_RE.match(text, i)
            block_end = m.end()
        j = i + 1
        w = get(text[i:j])
        while w is not None:
            if w == w:  # not NaN: a word
                lengths.append(j - i)
                weights.append(w)
            j += 1
            if j > block_end:
                break
            w = get(text[i:j])
    ptr[n] = len(lengths)
    return ptr, lengths, weights


@lru_cache(maxsize=2)
def _lookup_memo(tables: SegmentTables) -> Any:
    return lru_cache(maxsize=1 << 16)(lambda word: _lookup(tables, word))


def _route(text: str, code: Any, tables: SegmentTables) -> tuple[list[int], list[int], list[int]]:
    """jieba's route over every block of ``text``: for each place, the end (exclusive) of the word taken from
    there; with the candidates (:func:`_candidates`) for telling whether a run of characters is a word."""
    ptr, lengths, weights = _candidates(code, tables) if code is not None else _candidates_short(text, tables)
    n = len(text)
    score = [0.0] * (n + 1)
    end = list(range(1, n + 2))
    neg = tables.neg
    for i in range(n - 1, -1, -1):
        a = ptr[i]
        b = ptr[i + 1]
        if a == b:
            score[i] = neg + score[i + 1]  # a character no word starts with (or outside a block: unused)
            continue
        best = None
        for k in range(a, b):
            ln = lengths[k]
            s = weights[k] + score[i + ln]
            if best is None or s >= best:  # max() over (score, j): a tie goes to the longer word
                best = s
                end[i] = i + ln
        score[i] = best
    return end, ptr, lengths


@lru_cache(maxsize=1 << 16)
def _hmm_words(run: str) -> tuple[str, ...]:
    from jieba import finalseg

    return tuple(finalseg.cut(run))


def _is_word(i: int, j: int, ptr: list[int], lengths: list[int]) -> bool:
    """Is ``text[i:j]`` a word of the dictionary (a candidate at ``i`` of that length)."""
    return (j - i) in lengths[ptr[i]:ptr[i + 1]]


def cut(text: str, *, tables: SegmentTables, hmm: bool = True) -> list[str]:
    """Cut ``text`` into words exactly as jieba's ``Tokenizer.lcut(text, HMM=hmm)`` does with the dictionary
    ``tables`` were built from.

    >>> cut("推进乡村振兴", tables=load_tables())
    ['推进', '乡村振兴']
    """
    if not text:
        return []
    code = P.code_points(text) if len(text) > _SHORT else None
    end, ptr, lengths = _route(text, code, tables)
    out: list[str] = []
    pos = 0
    for block in P.JIEBA_BLOCK_RE.split(text):
        if not block:
            continue
        start = pos
        pos += len(block)
        if P.JIEBA_BLOCK_RE.match(block):
            i, run = start, ""
            if hmm:
                while i < pos:
                    j = end[i]
                    if j - i == 1:
                        run += text[i]
                    else:
                        if run:
                            _flush(run, i - len(run), i, ptr, lengths, out)
                            run = ""
                        out.append(text[i:j])
                    i = j
                if run:
                    _flush(run, pos - len(run), pos, ptr, lengths, out)
            else:
                while i < pos:  # jieba's __cut_DAG_NO_HMM: single letters and digits are joined
                    j = end[i]
                    word = text[i:j]
                    if j - i == 1 and P.JIEBA_ENG_RE.match(word):
                        run += word
                    else:
                        if run:
                            out.append(run)
                            run = ""
                        out.append(word)
                    i = j
                if run:
                    out.append(run)
        else:
            for piece in P.JIEBA_SKIP_RE.split(block):
                if P.JIEBA_SKIP_RE.match(piece):
                    out.append(piece)
                else:
                    out.extend(piece)
    return out


def _flush(run: str, i: int, j: int, ptr: list[int], lengths: list[int], out: list[str]) -> None:
    if len(run) == 1:
        out.append(run)
    elif not _is_word(i, j, ptr, lengths):
        out.extend(_hmm_words(run))
    else:
        out.extend(run)


# --- kept on disk --------------------------------------------------------------------------------

def _tables_key(lexicon_key: str) -> str:
    import jieba

    from .tokenize import _dict_stamp

    return f"{_TABLES_VERSION}|jieba {jieba.__version__}|{_dict_stamp()}|{lexicon_key}"


def _tables_file(folder: Path, key: str) -> Path:
    return folder / f"segmenter-{hashlib.sha1(key.encode()).hexdigest()[:16]}.npz"


def _save(file: Path, key: str, tables: SegmentTables) -> None:
    import numpy as np

    from .corpus import _write_atomic

    arrays: dict[str, Any] = {"key": np.array(key), "neg": np.array(tables.neg),
                              "multiplier": np.array(tables.multiplier, dtype=np.uint64)}
    for length in range(1, tables.max_len + 1):
        arrays[f"k{length}"] = tables.keys[length]
        arrays[f"w{length}"] = tables.weights[length]
        arrays[f"c{length}"] = tables.chars[length]
    _write_atomic(file, lambda fh: np.savez(fh, **arrays), mode=0o644)


def _read(file: Path, key: str) -> SegmentTables | None:
    import numpy as np

    try:
        with np.load(file, allow_pickle=False) as z:
            if str(z["key"]) != key:
                log.info("segmenter tables %s were made from another dictionary; rebuilding them", file)
                return None
            max_len = sum(1 for name in z.files if name[0] == "k" and name[1:].isdigit())
            keys = [np.zeros(0, dtype=np.uint64)] + [z[f"k{n}"] for n in range(1, max_len + 1)]
            weights = [np.zeros(0, dtype=np.float64)] + [z[f"w{n}"] for n in range(1, max_len + 1)]
            chars = [np.zeros((0, 0), dtype=np.uint32)] + [z[f"c{n}"] for n in range(1, max_len + 1)]
            return SegmentTables(tuple(keys), tuple(weights), tuple(chars), float(z["neg"]), int(z["multiplier"]))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError) as exc:
        log.warning("segmenter tables %s unreadable (%s); rebuilding them", file, exc)
        return None


@lru_cache(maxsize=2)
def _tables(lexicon_key: str) -> SegmentTables:
    from .corpus import _mark_used
    from .tokenize import _cache_dir, _prune, _tokenizer

    key = _tables_key(lexicon_key)
    file = _tables_file(_cache_dir(), key)
    tables = _read(file, key)
    if tables is not None:
        _mark_used(file)
        return tables
    had = _tokenizer.cache_info().currsize
    tok = _tokenizer(lexicon_key)
    tables = build_tables(tok.FREQ, tok.total)
    if not had:  # built only for the tables: let jieba's dictionary go
        _tokenizer.cache_clear()
    del tok
    try:
        _save(file, key, tables)
    except OSError as exc:
        log.warning("segmenter tables not written to %s (%s); they are rebuilt in each process", file, exc)
    else:
        _prune(file.parent, "segmenter-*.npz")
    return tables


def load_tables() -> SegmentTables:
    """The tables of the project's tokenizer (jieba's dictionary and the policy terms), from the cache folder or
    built there on first use (about 2 s, once).

    >>> load_tables().max_len >= 4
    True
    """
    from .lexicons import lexicon_fingerprint

    return _tables(lexicon_fingerprint())
