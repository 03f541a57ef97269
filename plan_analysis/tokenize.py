"""Segment Chinese plan text with a private jieba tokenizer (never jieba's shared global one).

* The tokenizer is built lazily with jieba's dictionary plus ``data/lexicons/policy_terms.tsv``
  (规上工业, 招商引资, 枫桥经验 …), its cache file inside the project (``data/processed/jieba/``)
  and jieba's logging silenced. The pipeline cuts with :mod:`plan_analysis.segment`, the same
  words from numpy tables of that dictionary kept in the same folder (10 MB, not jieba's 62 MB of
  Python strings in every process); the jieba tokenizer itself is built only to make them.
  HMM is on (jieba's default): it joins unknown place names such as 秋长 or 百禄 into words
  instead of single characters, which matters for township texts.
* jieba splits at quote marks, ``·``, ``+`` and digits; terms containing them (“八八战略”, 1+4+X,
  石榴红·调解室, 人工智能+) are matched on the raw characters first and kept whole, as are any
  ``extra_words`` a caller passes (slogans found by the phrasing helpers). Extra words never
  change the shared tokenizer, so results do not depend on call order.
* Placeholders (xx, 20xx, ***, XX, A新时代) never become tokens.

>>> [t.word for t in tokenize("持续推进“千万工程”，规上工业增长xx%，以“1+4+X”为抓手", drop_punct=True)]
['持续', '推进', '千万工程', '规上工业', '增长', '以', '1+4+X', '为', '抓手']
"""

from __future__ import annotations

import logging
import re
import time
from bisect import bisect_left
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

from . import _patterns as P
from . import segment

__all__ = ["Token", "tokenize", "cut_words", "tokenize_many", "tokenize_corpus", "get_tokenizer", "policy_terms", "is_policy_term", "load_stopwords",
           "word_tag", "has_tag", "is_common_word", "word_spans_of", "WordScanner"]

log = logging.getLogger(__name__)
_PUNCT_RE = re.compile(rf"^[\s{P.CJK_PUNCT}!-/:-@\[-`{{-~、。，；：！？“”‘’（）《》【】—…·]+$")


@dataclass(frozen=True)
class Token:
    """A word and its ``[start, end)`` offsets in the text it came from."""

    word: str
    start: int
    end: int


def _cache_dir() -> Path:
    from .corpus import default_cache_dir

    return default_cache_dir() / "jieba"


#: the files kept beside jieba's cache of each kind: made for one dictionary and lexicon version each, so every
#: lexicon edit (or another jieba) adds one (a segmenter's tables are 10 MB); those among the last used and those
#: used within :data:`_KEEP_RECENT` seconds stay (versions used side by side do not rebuild each other's files)
_FILES_KEPT = {"segmenter-*.npz": 3, "words-*.txt": 16}
_KEEP_RECENT = 86_400


def _prune(folder: Path, pattern: str) -> list[Path]:
    """Remove the files ``pattern`` names in ``folder`` but the :data:`_FILES_KEPT` used last and any used within
    :data:`_KEEP_RECENT` seconds; return those removed. Called when a new one is written, so a run that only reads
    the cache lists nothing."""
    from .corpus import _all_but_newest, _mtime

    removed = []  # what is used is marked so by corpus._mark_used (its modification time)
    for stale in _all_but_newest(folder.glob(pattern), _FILES_KEPT[pattern]):
        if _mtime(stale) > time.time() - _KEEP_RECENT:
            continue
        try:
            stale.unlink()
        except OSError as exc:  # removed meanwhile by another process, or a folder we may not write to
            log.debug("not removing %s (%s)", stale, exc)
            continue
        log.info("removed %s: made for another dictionary or lexicon version and not used lately", stale)
        removed.append(stale)
    return removed


def _lexicon_key() -> str:
    from .lexicons import lexicon_fingerprint

    return lexicon_fingerprint()


@lru_cache(maxsize=2)
def _policy_rows(_key: str) -> tuple[tuple[str, str], ...]:
    from .lexicons import read_table

    rows = read_table("policy_terms.tsv", columns={"term": "str", "tag": "str?", "note": "str?"})
    return tuple((r["term"], r["tag"] or "n") for r in rows)


def policy_terms() -> tuple[str, ...]:
    """Return the policy terms of ``data/lexicons/policy_terms.tsv``.

    >>> "枫桥经验" in policy_terms()
    True
    """
    return tuple(t for t, _ in _policy_rows(_lexicon_key()))


@lru_cache(maxsize=2)
def _policy_set(_key: str) -> frozenset[str]:
    return frozenset(t for t, _ in _policy_rows(_key))


def is_policy_term(word: str) -> bool:
    """True when ``word`` is one of :func:`policy_terms` (a set lookup, for loops over many words).

    >>> is_policy_term("枫桥经验"), is_policy_term("工作")
    (True, False)
    """
    return word in _policy_set(_lexicon_key())


@lru_cache(maxsize=2)
def _tokenizer(_key: str):
    import jieba

    logging.getLogger("jieba").setLevel(logging.WARNING)
    tok = jieba.Tokenizer()
    folder = _cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tok.tmp_dir = str(folder)
    except OSError as exc:  # a read-only checkout still works, it just rebuilds the prefix dict
        log.warning("jieba cache folder %s not writable (%s); using the system temp folder", folder, exc)
    tok.initialize()
    for term, tag in _policy_rows(_key):
        if re.fullmatch(f"[{P.HAN}]+", term):
            tok.add_word(term, freq=None, tag=tag)
            tok.suggest_freq(term, tune=True)
    return tok


def get_tokenizer():
    """Return the project's private ``jieba.Tokenizer`` with the policy terms loaded.

    >>> get_tokenizer().lcut("规上工业总产值增长")[:1]
    ['规上工业总产值']
    """
    return _tokenizer(_lexicon_key())


@lru_cache(maxsize=8)
def _protected(extra: tuple[str, ...], _key: str) -> "WordScanner | None":
    """The scanner of the words kept whole: the policy terms jieba would split, and ``extra``."""
    special = [t for t, _ in _policy_rows(_key) if not re.fullmatch(f"[{P.HAN}]+", t)]
    words = set(special) | set(w for w in extra if w)
    return WordScanner(words) if words else None


class WordScanner:
    """Find many words in a text, the leftmost first and at each place the longest.

    What scanning with the alternation of the words, longest first, finds (``re.finditer``),
    from one numpy pass over the text: the places where a character starting some word stands
    (a lookup in a table indexed by code point), a sorted-key lookup of the pair of characters there, then
    ``str.startswith`` of that pair's words, longest first, at those places in order. A regex
    of the 7,423 slogans of the 100 MB benchmark corpus, nested by common prefix, took 40% of the
    time of counting its words; with this scanner, segmenting with those slogans takes as long as
    without them.

    >>> WordScanner(["推进", "推进工作", "工作"]).spans("推进工作和工作")
    [(0, 4), (5, 7)]
    """

    def __init__(self, words: Iterable[str]):
        import numpy as np

        words = {w for w in words if w}
        #: one-character words, by code point (a set, and a sorted array for numpy)
        self._single = frozenset(ord(w) for w in words if len(w) == 1)
        self._single_codes = np.array(sorted(self._single), dtype=np.uint32)
        groups: dict[int, list[str]] = {}
        for w in words:
            if len(w) >= 2:
                groups.setdefault((ord(w[0]) << 21) | ord(w[1]), []).append(w)
        keys = sorted(groups)
        #: the first two characters of the longer words as one code, sorted, and the words of each, longest first
        self._keys = np.array(keys, dtype=np.uint64)
        self._groups = [sorted(groups[k], key=len, reverse=True) for k in keys]
        #: per code point: does some word start with it
        self._first = np.zeros(0x110000, dtype=bool)
        self._first[[k >> 21 for k in keys] + self._single_codes.tolist()] = True

    def spans(self, text: str) -> list[tuple[int, int]]:
        """The ``(start, end)`` of each word found in ``text``, in order, none overlapping."""
        import numpy as np

        if not text or not (len(self._keys) or self._single):
            return []
        code = P.code_points(text)
        at = np.flatnonzero(self._first[code])  # every place where some word may start
        if not len(at):
            return []
        nxt = np.zeros(len(at), dtype=np.uint32)
        inside = at + 1 < len(code)
        nxt[inside] = code[at[inside] + 1]
        pairs = (code[at].astype(np.uint64) << np.uint64(21)) | nxt
        k = np.searchsorted(self._keys, pairs) if len(self._keys) else np.zeros(len(at), dtype=np.int64)
        k[k >= len(self._keys)] = 0
        hit = self._keys[k] == pairs if len(self._keys) else np.zeros(len(at), dtype=bool)
        if self._single:
            keep = hit | np.isin(code[at], self._single_codes)
        else:
            keep = hit
        out: list[tuple[int, int]] = []
        pos = 0
        single, groups = self._single, self._groups
        for p, g, h in zip(at[keep].tolist(), k[keep].tolist(), hit[keep].tolist()):
            if p < pos:
                continue
            if h:
                for w in groups[g]:
                    if text.startswith(w, p):
                        pos = p + len(w)
                        out.append((p, pos))
                        break
                else:
                    h = False
            if not h and ord(text[p]) in single:
                pos = p + 1
                out.append((p, pos))
        return out


def _cut(text: str, hmm: bool, key: str) -> list[str]:
    return segment.cut(text, tables=segment._tables(key), hmm=hmm)


def cut_words(text: str, *, hmm: bool = True) -> list[str]:
    """Cut ``text`` into words exactly as ``get_tokenizer().lcut(text, HMM=hmm)`` does, without jieba's dictionary.

    No offsets, no placeholder or punctuation handling: the bare segmenter under :func:`tokenize`, from the
    compact tables of :mod:`plan_analysis.segment` (10 MB of arrays, where jieba's dictionary takes 62 MB of Python
    strings in each process).

    >>> cut_words("规上工业总产值增长6.5%")
    ['规上工业总产值', '增长', '6.5%']
    """
    return _cut(text or "", hmm, _lexicon_key())


def _word_spans(text: str, *, key: str, extra_words: Sequence[str] = (), drop_punct: bool = True,
                drop_stopwords: bool = False, hmm: bool = True) -> list[tuple[str, int, int]]:
    """The ``(word, start, end)`` triples behind :func:`tokenize` (``key``: the lexicon fingerprint)."""
    from .normalize import placeholder_spans

    if not text:
        return []
    blocked = [(s, e) for s, e, _, _ in placeholder_spans(text)]
    pieces: list[tuple[int, int, bool]] = []  # (start, end, is_protected)
    scanner = _protected(tuple(extra_words), key)
    pos = 0
    if scanner is not None:
        for a, b in scanner.spans(text):
            if a > pos:
                pieces.append((pos, a, False))
            pieces.append((a, b, True))
            pos = b
    if pos < len(text):
        pieces.append((pos, len(text), False))
    stop = _stopwords(key) if drop_stopwords else frozenset()
    out: list[tuple[str, int, int]] = []
    # a word [s, e) touches a placeholder when some placeholder starting before e ends after s: with the
    # placeholders sorted by start and a running maximum of their ends, that is one bisection per word
    blocked.sort()
    b_starts = [bs for bs, _ in blocked]
    b_max_end = list(accumulate((be for _, be in blocked), max))
    punct = _PUNCT_RE.match

    def emit(word: str, s: int, e: int) -> None:
        if b_starts:
            k = bisect_left(b_starts, e)
            if k and b_max_end[k - 1] > s:
                # drop placeholder characters but keep what surrounds them (xx镇 → 镇)
                kept = "".join(" " if any(bs <= s + i < be for bs, be in blocked) else ch for i, ch in enumerate(word))
                for m in re.finditer(r"\S+", kept):
                    emit(m.group(), s + m.start(), s + m.start() + len(m.group()))
                return
        # a word that starts with a Han character is neither punctuation nor blank: skip the regex
        if drop_punct and not ("\u4e00" <= word[0] <= "\u9fd5") and (punct(word) or not word.strip()):
            return
        if word in stop:
            return
        out.append((word, s, e))

    for s, e, protected in pieces:
        if protected:
            emit(text[s:e], s, e)
            continue
        off = s
        for w in _cut(text[s:e], hmm, key):
            emit(w, off, off + len(w))
            off += len(w)
    return out


def _as_words(words: str | Iterable[str]) -> tuple[str, ...]:
    """A word or words as a tuple of words: one string is one word, not a sequence of characters.

    >>> _as_words("乡村振兴"), _as_words(["坚持", "推进"])
    (('乡村振兴',), ('坚持', '推进'))
    """
    return (words,) if isinstance(words, str) else tuple(words)


def tokenize(text: str, *, extra_words: Sequence[str] = (), drop_punct: bool = True,
             drop_stopwords: bool = False, hmm: bool = True) -> list[Token]:
    """Segment ``text`` into :class:`Token` objects with offsets into ``text``.

    ``extra_words`` are kept whole wherever they occur (slogans, formulae); placeholders are
    never tokens; ``drop_stopwords`` removes the words of ``data/lexicons/stopwords.txt``.

    >>> [t.word for t in tokenize("深化“红色领航+产业链党建”品牌", extra_words=["红色领航+产业链党建"])]
    ['深化', '红色领航+产业链党建', '品牌']
    """
    spans = _word_spans(text, key=_lexicon_key(), extra_words=_as_words(extra_words), drop_punct=drop_punct,
                        drop_stopwords=drop_stopwords, hmm=hmm)
    return [Token(w, s, e) for w, s, e in spans]


def word_spans_of(texts: Iterable[str], *, extra_words: Sequence[str] = (), drop_punct: bool = True,
                  drop_stopwords: bool = False, hmm: bool = True) -> Iterator[list[tuple[str, int, int]]]:
    """Yield each text's words as ``(word, start, end)``, what :func:`tokenize` gives without a Token object each.

    The lexicon folder is checked once for all the texts, not once per text: the helper for
    code that segments many texts (a worker's piece of a corpus).

    >>> [[w for w, _, _ in spans] for spans in word_spans_of(["推进乡村振兴", "抓党建"])]
    [['推进', '乡村振兴'], ['抓', '党建']]
    """
    key = _lexicon_key()
    extra_words = _as_words(extra_words)
    for text in texts:
        yield _word_spans(text, key=key, extra_words=extra_words, drop_punct=drop_punct,
                          drop_stopwords=drop_stopwords, hmm=hmm)


@lru_cache(maxsize=2)
def _stopwords(_key: str) -> frozenset[str]:
    from .lexicons import LexiconError, lexicon_dir

    path = lexicon_dir() / "stopwords.txt"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise LexiconError(f"{path}:0: stopword list not found") from None
    words = set()
    for n, line in enumerate(lines, start=1):
        w = line.strip()
        if not w or w.startswith("#"):
            continue
        if len(w.split()) != 1:
            raise LexiconError(f"{path}:{n}: one word per line, got {w!r}")
        words.add(w)
    return frozenset(words)


def load_stopwords() -> frozenset[str]:
    """Return the stopwords of ``data/lexicons/stopwords.txt`` (policy verbs are kept out of it).

    >>> "的" in load_stopwords(), "推进" in load_stopwords()
    (True, False)
    """
    return _stopwords(_lexicon_key())


def _dict_path() -> Path:
    import jieba

    return Path(jieba.__file__).resolve().parent / "dict.txt"


def _dict_stamp() -> str:
    """jieba's dictionary file as a cache key's part: its path, size and time (the word sets and the segmenter's
    tables kept on disk are remade when it changes)."""
    path = _dict_path()
    st = path.stat()
    return f"{path}|{st.st_size}|{st.st_mtime_ns}"


def _dict_entries() -> Iterator[tuple[str, int, str]]:
    """``(word, frequency, tag)`` for each line of jieba's dictionary, in file order."""
    with _dict_path().open(encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) == 3:
                yield parts[0], int(parts[1]), parts[2]


@lru_cache(maxsize=1)
def _dict_tags() -> dict[str, tuple[int, str]]:
    return {word: (freq, tag) for word, freq, tag in _dict_entries()}


def word_tag(word: str) -> tuple[int, str] | None:
    """Return ``(frequency, part-of-speech tag)`` of ``word`` in jieba's dictionary, or ``None``.

    >>> word_tag("发挥")[1]
    'v'
    """
    return _dict_tags().get(word)


#: changes the key of the word sets kept on disk (see :func:`_words_where`) when how they are chosen changes
_WORD_SETS_VERSION = 1


def _words_where(keep: Callable[[int, str], bool], *, name: str) -> frozenset[str]:
    """The dictionary's words whose ``(frequency, tag)`` passes ``keep`` (a later line of a word wins, as in
    :func:`word_tag`).

    Reading the dictionary's 349,000 lines takes 0.15 s a set, in the parent before workers fork; so the set
    is kept as a file of words in the jieba cache folder, ``name`` naming the choice ``keep`` makes. The file's
    first line is its key (jieba's dictionary file, size and time, and ``name``): a file of another key is
    rebuilt, and a folder that cannot be written to only costs the 0.15 s.
    """
    import hashlib

    key = f"{_WORD_SETS_VERSION}|{_dict_stamp()}|{name}"
    file = _cache_dir() / f"words-{hashlib.sha1(key.encode()).hexdigest()[:16]}.txt"
    try:
        head, _, body = file.read_text(encoding="utf-8").partition("\n")
        if head == key:
            from .corpus import _mark_used

            _mark_used(file)
            return frozenset(body.split("\n")) if body else frozenset()
        log.info("word set %s was made from another dictionary; rebuilding it", file)
    except FileNotFoundError:
        pass
    except (OSError, UnicodeDecodeError) as exc:
        log.warning("word set %s unreadable (%s); rebuilding it", file, exc)
    words: set[str] = set()
    for word, freq, tag in _dict_entries():
        if keep(freq, tag):
            words.add(word)
        else:
            words.discard(word)
    from .corpus import _write_atomic

    try:
        _write_atomic(file, "\n".join([key, *sorted(words)]).encode("utf-8"), mode=0o644)
    except OSError as exc:
        log.debug("word set %s not written (%s)", file, exc)
    else:
        _prune(file.parent, "words-*.txt")
    return frozenset(words)


@lru_cache(maxsize=8)
def _tagged_words(tags: frozenset[str]) -> frozenset[str]:
    """The dictionary's words tagged with one of ``tags``."""
    return _words_where(lambda _, tag: tag in tags, name="tags " + " ".join(sorted(tags)))


def has_tag(word: str, *, tags: Iterable[str] = ("v", "vn", "vd")) -> bool:
    """True when ``word``'s part-of-speech tag in jieba's dictionary is one of ``tags`` (default: a verb).

    What ``word_tag(word)[1] in tags`` answers, from a set of just those words (a few MB)
    instead of the whole tagged dictionary (74 MB).

    >>> has_tag("发挥"), has_tag("企业"), has_tag("企业", tags=("n",))
    (True, False, True)
    """
    return word in _tagged_words(tags if isinstance(tags, frozenset) else frozenset(_as_words(tags)))


_PROPER = ("ns", "nr", "nz", "nt")


@lru_cache(maxsize=4)
def _common_words(min_freq: int) -> frozenset[str]:
    """The dictionary's words of at least ``min_freq`` that are not proper names."""
    return _words_where(lambda freq, tag: freq >= min_freq and not tag.startswith(_PROPER),
                        name=f"common {min_freq} not {' '.join(_PROPER)}")


def is_common_word(word: str, *, min_freq: int = 20) -> bool:
    """True when ``word`` is a frequent dictionary word that is not a proper name (a verb, 责任, 项目 …).

    Used to tell a place name (大托, 百禄) from an ordinary word standing before 街道/镇
    (发挥街道, 同时镇). Answered from a set of those words (62k for the default ``min_freq``,
    a tenth of the memory of the whole tagged dictionary :func:`word_tag` reads).

    >>> is_common_word("发挥"), is_common_word("责任"), is_common_word("大托"), is_common_word("海淀")
    (True, True, False, False)
    """
    return word in _common_words(int(min_freq))


# --- many texts at once, in parallel over processes ----------------------------------------------

#: below this many characters in all, :func:`tokenize_many` runs in this process
PARALLEL_MIN_CHARS = 300_000


def _words_chunk(args: tuple[Any, dict, dict[str, str] | None]) -> list[list[str]]:
    from .corpus import piece_texts

    texts, kwargs, seen = args
    texts = piece_texts(texts)
    # one object per distinct word: smaller to send back and to keep (``seen``: the caller's, across chunks)
    seen = {} if seen is None else seen
    return [[seen.setdefault(w, w) for w, _, _ in spans] for spans in word_spans_of(texts, **kwargs)]


def tokenize_many(texts: Sequence[str], *, workers: int | None = None, progress: bool = False,
                  **kwargs) -> list[list[str]]:
    """Return the words of each text, exactly ``[t.word for t in tokenize(text, **kwargs)]``.

    Texts are shared out over ``workers`` processes (default: the CPUs available), each with
    its own private tokenizer (jieba's own parallel mode is never used); small inputs run here.

    >>> tokenize_many(["推进规上工业增长", "招商引资"], workers=1)
    [['推进', '规上工业', '增长'], ['招商引资']]
    """
    from .corpus import piece_texts

    if isinstance(texts, str):  # a str is a sequence of characters: each would be tokenised as a text
        raise TypeError("tokenize_many takes a list of texts, not one text: for one text use tokenize(text) or "
                        "cut_words(text), or pass [text]")
    texts = piece_texts(list(texts))
    return _words_of_pieces([len(t) for t in texts], lambda a, b: texts[a:b], workers=workers, progress=progress,
                            kwargs=kwargs)


def _words_of_pieces(lengths: Sequence[int], texts_of: Callable[[int, int], Any], *, workers: int | None,
                     progress: bool, kwargs: dict) -> list[list[str]]:
    """The words of texts ``0 … len(lengths)``, read a piece at a time with ``texts_of(start, end)`` (what
    :func:`~plan_analysis.corpus.piece_texts` takes).

    Each piece's texts are made only when a worker is ready for them, so the caller's texts never
    all exist as Python strings at once.
    """
    from .parallel import map_chunks, plan_pieces, progress_bar

    # pieces of 20–100k characters: a few seconds of work each, and many more pieces than workers
    n_workers, bounds = plan_pieces(lengths, workers=workers, parallel_min=PARALLEL_MIN_CHARS,
                                    serial_piece=50_000, piece_min=20_000, piece_max=100_000)
    out: list[list[str]] = []
    seen: dict[str, str] = {}  # one object per distinct word across chunks
    here = n_workers == 1  # chunks run in this process and share ``seen``; from workers, words are joined to it
    with progress_bar(len(lengths), desc="tokenising", unit="doc", enabled=progress) as bar:
        pieces = ((texts_of(a, b), kwargs, seen if here else None) for a, b in bounds)
        for words in map_chunks(_words_chunk, pieces, workers=n_workers):
            out.extend(words if here else [[seen.setdefault(w, w) for w in ws] for ws in words])
            if bar is not None:
                bar.update(len(words))
    return out


def tokenize_corpus(corpus, *, workers: int | None = None, progress: bool = False, **kwargs):
    """Return the words of every document of ``corpus``, by ``doc_id``.

    ``corpus`` is a Corpus, a documents table (``doc_id`` and ``text``), or a mapping name → text.
    A ``pandas.Series`` of word lists named ``tokens``, in document order, identical to
    tokenising each document's ``text`` with :func:`tokenize` (``kwargs`` are passed on), but
    parallel over documents (see :func:`tokenize_many`).

    >>> import plan_analysis as pa
    >>> toks = tokenize_corpus(pa.load_corpus("data/raw", cache=False, progress=False), workers=1)
    >>> toks["001_64b46b310826ad2c-1"][:3]
    ['铁西', '街道', '2024']
    """
    import pandas as pd

    from .corpus import documents_of, text_pieces

    if isinstance(corpus, str):
        raise TypeError("tokenize_corpus takes a corpus, not one text: for one text use tokenize(text) or "
                        "cut_words(text)")
    docs, corpus = documents_of(corpus, what="tokenize_corpus")
    lengths, texts_of = text_pieces(docs, corpus)
    words = _words_of_pieces(lengths, texts_of, workers=workers, progress=progress, kwargs=kwargs)
    return pd.Series(words, index=pd.Index(docs["doc_id"].tolist(), name="doc_id"), name="tokens", dtype=object)
