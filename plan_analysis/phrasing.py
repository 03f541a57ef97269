"""Phrasing: slogans and numbered formulae, register, keyness, keyword in context, template reuse.

How a township phrases its plan says as much as what it plans. This module turns the formulaic
register into tidy tables, each row traceable to the raw file through ``raw_start``/``raw_end``:

* :func:`extract_slogans` — quoted phrases (“八八战略”) and numbered formulae (三个一号工程, 五大工程,
  六治六提, “1+4+X”, the placeholder formula “x+x+N”), counted per document;
  :func:`slogan_words` feeds them back to :func:`~plan_analysis.tokenize.tokenize` so they stay whole.
* :func:`register_features` (enumeration markers, opening verbs, 四字格, sentence length) and
  :func:`verb_profile` (坚持, 聚焦, 持续 … per 1,000 characters).
* :func:`keyness` — one group of documents against the rest, log-likelihood G² with a log-ratio
  effect size, on tokens or on character n-grams (so results do not hinge on segmentation).
* :func:`kwic` — keyword in context on the cleaned text, with raw offsets.
* :func:`find_reuse` — sentences or passages shared between different documents once numbers,
  placeholders and place names are masked (character shingles, MinHash + LSH, exact Jaccard).
* :func:`word_cloud` — from segmented tokens with the project's CJK font; missing glyphs raise.

Every function takes the corpus as its one positional argument (a plain string, or a mapping
name → text, is made into a corpus of its own by :func:`texts_corpus`); options are keyword-only.

>>> s = extract_slogans("坚定不移践行“八八战略”，全面落实“1+4+X”体系，深入实施五大工程。")
>>> s[["slogan", "kind", "count"]].values.tolist()
[['八八战略', 'quoted', 1], ['1+4+X', 'formula', 1], ['五大工程', 'formula', 1]]
"""

from __future__ import annotations

import math
import numbers
import re
from bisect import bisect_left, bisect_right
from collections import Counter
from difflib import SequenceMatcher
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Literal, Mapping, NamedTuple, Sequence

import numpy as np
import pandas as pd

from . import _patterns as P
from ._checks import check_count, missing_column
from .corpus import _is_texts, as_corpus, texts_corpus  # noqa: F401 - texts_corpus: also plan_analysis.phrasing's, as before
from .normalize import placeholder_spans
from .parallel import resolve_workers
from .tokenize import _as_words

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow as pa
    from wordcloud import WordCloud

    from .corpus import Corpus

__all__ = [
    "SLOGAN_FIELDS", "REUSE_FIELDS", "POLICY_VERBS", "REGISTER_FEATURES",
    "extract_slogans", "slogan_words", "classify_slogan", "texts_corpus",
    "sentence_openings", "register_features", "verb_profile",
    "term_counts", "keyness", "keyness_by_group",
    "kwic", "mask_text", "find_reuse",
    "word_frequencies", "word_cloud",
]

#: the columns the ``slogans`` command prints, in order
SLOGAN_FIELDS = ("doc_id", "source_file", "place", "slogan", "kind", "count", "raw_start")
#: the columns the ``reuse`` command prints, in order
REUSE_FIELDS = ("doc_a", "doc_b", "text_a", "text_b", "similarity", "raw_start_a", "raw_end_a",
                "raw_start_b", "raw_end_b")
#: the verbs plans lean on, compared by :func:`verb_profile`
POLICY_VERBS = ("坚持", "聚焦", "持续", "深化", "确保", "力争", "推进", "加强", "强化", "提升", "打造", "落实")

Unit = Literal["token", "char2", "char3", "char4"]

# --- slogans and formulae --------------------------------------------------------------------
_HAN = P.HAN
_NUM = "一二两三四五六七八九十"
_NUMS = _NUM + "双"
#: a quoted phrase: “…”, ‘…’, 「…」, 『…』 or straight "…" on one line (content in the named group)
_QUOTE_RE = re.compile(r"“(?P<a>[^“”\n]{1,60})”|‘(?P<b>[^‘’\n]{1,60})’|「(?P<c>[^「」\n]{1,60})」|"
                       r"『(?P<d>[^『』\n]{1,60})』|\"(?P<e>[^\"\n]{1,60})\"")
#: what a numbered formula names: 五大*工程*, 两条*主线*, 三大*支撑*, 四种*形态* …
_HEADS = ("一号工程|工程|专项行动|行动|战略|主线|支撑|目标|任务|体系|机制|制度|能力|意识|精神|课题|领域|区域|平台|品牌|"
          "举措|措施|重点|难点|攻坚战|攻坚|战役|板块|片区|形态|理念|原则|导向|抓手|要求|事项|中心|评比|方面|定位|"
          "提升|转变|狠抓|服务|环境|阵地|经验|模式|工作法|工作|功能|优势|保障|主题|基地|文章|规划|计划|清单|整治|"
          "建设|产业|战场|高地|示范|品质|融合")
# (each bare-formula pattern opens with a lookahead of the characters it can start with: it changes no match,
# but lets most places fail at once; the three took a third of the time on a 3 M-character text)
#: a numeral + measure + a formula head, with up to four characters between after 大 (五大文化区域),
#: two after 个/项/条/种 (三个一号工程, 两项重点工作) and none after 一 (一种精神, not 一项重要课题)
_MEASURE_RE = re.compile(
    rf"(?=[{_NUM}0-9])(?<![{_NUM}第每前后近约这那0-9])(?:(?:[二两三四五六七八九十]|[0-9]{{1,2}})大[{_HAN}]{{0,4}}|"
    rf"[二两三四五六七八九十]{{1,2}}[个项条种张支][{_HAN}]{{0,2}}|一[个项条种张支])(?:{_HEADS})")
#: two numerals in parallel: 六治六提, 一社一品, 双招双引, 三化九场景
_PARALLEL_RE = re.compile(
    rf"(?=[{_NUMS}])(?<![{_NUMS}])[{_NUMS}](?![{_NUMS}])[{_HAN}][{_NUMS}](?![{_NUMS}个])[{_HAN}](?![{_NUM}])")
#: digit formulae joined by +: 1+4+X, 1+N, x+x+N (a placeholder formula)
_DIGIT_FORMULA_RE = re.compile(
    r"(?=[0-9xXN])(?<![0-9A-Za-z.+])(?:[0-9]{1,2}|[xXN])(?:\s*\+\s*(?:[0-9]{1,2}|[xXNn]))+(?![0-9A-Za-z+])")
# whole quoted contents that make a formula
_Q_DIGIT_CODE_RE = re.compile(r"[0-9]{2,6}")
_Q_DIGIT_FORMULA_RE = re.compile(r"(?:[0-9]{1,2}|[A-Za-z])(?:\+(?:[0-9]{1,2}|[A-Za-z]))+")
_Q_MEASURE_RE = re.compile(rf"(?:[{_NUM}]{{1,2}}|[0-9]{{1,2}}(?=大))(?:大|个|项|条|种|张|支)[{_HAN}]{{1,6}}")
_Q_PARALLEL_RE = re.compile(rf"[{_NUMS}][{_HAN}][{_NUMS}][{_HAN}]{{1,4}}")
_Q_SHORT_RE = re.compile(rf"[{_NUMS}][{_HAN}]{{1,3}}")
#: a numeral followed by one of these is an ordinal, a time or an ordinary word (二次开发, 一线, 三级)
_NOT_FORMULA_SECOND = set("次号等月日年时点分级层线手把些旦致直切起同般样道体并律边向带方期季周届批轮")
#: below this many characters of document text, slogans are found here: a pool costs more than it saves
SLOGANS_PARALLEL_MIN_CHARS = 1_000_000
_SENT_PUNCT = set("。！？!?；;")
_PUNCT_IN = set("，、：,:；;")


def _is_common(word: str) -> bool:
    from .tokenize import is_common_word, is_policy_term

    return is_common_word(word) and not is_policy_term(word)


def classify_slogan(phrase: str, *, quoted: bool = True) -> Literal["formula", "quoted"] | None:
    """Return ``"formula"`` for a numbered formula, ``"quoted"`` for any other quoted phrase.

    A numbered formula is a numeral with a measure and a head (三个一号工程, 两条主线, 8大服务平台),
    two numerals in parallel (六治六提, 一社一品), a short numbered coinage (五美, 七优享, 双提升),
    a quoted digit code (1586; not a year) or digits joined by ``+`` (1+4+X, x+x+N). Numbered words that are
    ordinary vocabulary (一站式, 一盘棋, 二次开发) and slogans led by a doubled numeral (八八战略)
    stay ``"quoted"``. With ``quoted=False`` (a phrase found bare in the text) the answer is
    ``"formula"`` or ``None``.

    >>> [classify_slogan(p) for p in ["三个一号工程", "六治六提", "五美", "1586", "x+x+N", "八八战略", "一盘棋"]]
    ['formula', 'formula', 'formula', 'formula', 'formula', 'quoted', 'quoted']
    """
    p = phrase.strip()
    formula = False
    if ((_Q_DIGIT_CODE_RE.fullmatch(p) and not re.fullmatch(r"(?:19|20)[0-9]{2}", p))
            or _Q_DIGIT_FORMULA_RE.fullmatch(p.replace(" ", ""))):
        formula = True
    elif p and p[0] in _NUMS and not _is_common(p):
        second = p[1:2]
        if _Q_MEASURE_RE.fullmatch(p) or _Q_PARALLEL_RE.fullmatch(p):
            formula = True
        elif _Q_SHORT_RE.fullmatch(p) and second not in _NOT_FORMULA_SECOND and second not in _NUMS:
            formula = True
    elif re.fullmatch(rf"[0-9]{{1,2}}大[{_HAN}]{{1,6}}", p):
        formula = True
    if formula:
        return "formula"
    return "quoted" if quoted else None


def _quoted_spans(text: str, *, min_len: int, max_len: int,
                  classify: Callable[[str], str | None] = classify_slogan) -> list[tuple[int, int, str]]:
    """(start, end, content) of each quoted phrase worth keeping, offsets of the content; ``classify`` is
    :func:`classify_slogan` or a memo of it."""
    from .tokenize import is_policy_term

    out = []
    for m in _QUOTE_RE.finditer(text):
        name = m.lastgroup
        content = m.group(name)
        s = m.start(name)
        stripped = content.strip()
        if not stripped:
            continue
        s += len(content) - len(content.lstrip())
        content = stripped
        if not (min_len <= len(content) <= max_len):
            continue
        if any(ch in _SENT_PUNCT for ch in content):
            continue  # a quoted sentence, or quotes that do not pair up
        kind = classify(content)
        if kind != "formula" and not P.HAN_RE.search(content):
            continue
        if (kind == "quoted" and len(content) <= 2 and _is_common(content)
                and not is_policy_term(content)):
            continue  # emphasis of a single common word: “沉睡”, “自选”
        out.append((s, s + len(content), content))
    # quotes nested in a quote (“…‘加速跑’”) are found by the alternation only once: add them
    for s, e, content in list(out):
        for m in re.finditer(r"‘([^‘’]{1,60})’", content):
            inner = m.group(1).strip()
            if min_len <= len(inner) <= max_len and P.HAN_RE.search(inner):
                out.append((s + m.start(1), s + m.start(1) + len(inner), inner))
    return sorted(set(out))


def _bare_formulae(text: str, quoted: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Numbered formulae written without quotes (五大工程), outside every quoted phrase."""
    from .tokenize import is_common_word

    # a match is dropped when it starts, or its last character stands, in [qs - 1, qe + 1) of a quoted phrase:
    # in the union of those ranges, found by one search among its merged bounds
    bounds: list[int] = []
    for qs, qe, _ in sorted(quoted):
        if bounds and qs - 1 <= bounds[-1]:
            bounds[-1] = max(bounds[-1], qe + 1)
        else:
            bounds += [qs - 1, qe + 1]

    def near_quote(i: int) -> bool:
        return bisect_right(bounds, i) % 2 == 1

    spans = []
    for rx in (_MEASURE_RE, _PARALLEL_RE, _DIGIT_FORMULA_RE):
        for m in rx.finditer(text):
            s, e = m.span()
            if bounds and (near_quote(s) or near_quote(e - 1)):
                continue
            word = m.group()
            if "的" in word:
                continue
            if rx is _PARALLEL_RE and (is_common_word(word) or word[1] in _NOT_FORMULA_SECOND
                                       or word[3] in _NOT_FORMULA_SECOND):
                continue  # 一心一意 (an idiom), 十届五次 (a session): not coinages
            spans.append((s, e, re.sub(r"\s+", "", word)))
    return spans


def _doc_records(corpus: "Corpus") -> list[dict[str, Any]]:
    docs = corpus.documents
    out = []
    for r in docs[["doc_id", "source_file", "place", "text"]].itertuples(index=False):
        place = "" if pd.isna(r.place) else str(r.place)
        out.append({"doc_id": str(r.doc_id), "source_file": str(r.source_file), "place": place, "text": str(r.text)})
    return out


def _sentence_around(text: str, starts: Sequence[int], ends: Sequence[int], pos: int) -> str:
    """The sentence of ``text`` holding position ``pos`` (sentence ``i`` is ``text[starts[i]:ends[i]]``, by start),
    else the line around it."""
    i = bisect_right(starts, pos) - 1
    if i >= 0 and pos < ends[i]:
        return text[starts[i]:ends[i]]
    a = text.rfind("\n", 0, pos) + 1
    b = text.find("\n", pos)
    return text[a:b if b >= 0 else len(text)]


_SLOGAN_DTYPES = {"count": "int64", "raw_start": "int64", "raw_end": "int64", "start": "int64", "end": "int64",
                  "quoted": "bool", "placeholder": "bool"}


#: the columns :func:`_doc_slogans` makes in the worker (``_doc``: the document's place in its piece)
_SLOGAN_PIECE_COLUMNS = ["_doc", "slogan", "start", "end", "kind", "quoted", "count", "placeholder", "sentence"]


def _doc_slogans(args: tuple[Any, np.ndarray, np.ndarray, np.ndarray, int, int, Any]) -> pd.DataFrame:
    """The slogans and formulae of a piece of documents, each at its first occurrence in its document.

    ``args``: the documents' texts (what :func:`~plan_analysis.corpus.piece_texts` takes); their sentences' starts
    and ends, by document then start; where each document's sentences begin in those (one more entry than texts);
    ``min_len``; ``max_len``; the piece's :class:`~plan_analysis.corpus.PieceOffsets` or ``None``. Rows
    (:data:`_SLOGAN_PIECE_COLUMNS`, then ``raw_start`` and ``raw_end`` with offsets) go by document, then by first
    occurrence. The table is made here, in the worker: it travels back as a few buffers, not as a tuple per
    slogan."""
    from .corpus import piece_texts
    from .lexicons import pinned_lexicons

    texts, sent_starts, sent_ends, cuts, min_len, max_len, offsets = args
    texts = piece_texts(texts)
    rows: list[tuple[Any, ...]] = []
    # a piece's phrases recur from document to document: each is classified and searched for placeholders once
    classify = lru_cache(maxsize=None)(classify_slogan)
    has_placeholder = lru_cache(maxsize=None)(lambda phrase: bool(placeholder_spans(phrase)) or "x+x" in phrase)

    with pinned_lexicons():  # one lexicon version for the piece: per-phrase lookups do not list the folder again
        for d, text in enumerate(texts):
            starts = sent_starts[cuts[d]:cuts[d + 1]].tolist()
            ends = sent_ends[cuts[d]:cuts[d + 1]].tolist()
            quoted = _quoted_spans(text, min_len=min_len, max_len=max_len, classify=classify)
            found: dict[str, list[Any]] = {}
            for s, e, phrase in quoted:
                rec = found.setdefault(phrase, [s, e, classify(phrase) or "quoted", True])
                if s < rec[0]:
                    rec[0], rec[1] = s, e
            for s, e, phrase in _bare_formulae(text, quoted):
                if not (min_len <= len(phrase) <= max_len):
                    continue
                rec = found.setdefault(phrase, [s, e, "formula", False])
                if s < rec[0]:
                    rec[0], rec[1] = s, e
            got = sorted(found.items(), key=lambda item: item[1][0])  # by first occurrence; stable
            rows += [(d, phrase, s, e, kind, q, max(text.count(phrase), 1), has_placeholder(phrase),
                      _sentence_around(text, starts, ends, s)) for phrase, (s, e, kind, q) in got]
    table = pd.DataFrame(rows, columns=_SLOGAN_PIECE_COLUMNS)
    if offsets is not None and len(table):
        table["raw_start"], table["raw_end"] = offsets.raw_spans(table["_doc"], table["start"], table["end"])
    return table


def extract_slogans(source: "Corpus | str", *, min_len: int = 2, max_len: int = 20, workers: int | None = None,
                    progress: bool = False) -> pd.DataFrame:
    """Find quoted slogans and numbered formulae, one row per (document, slogan).

    ``source`` is a :class:`~plan_analysis.corpus.Corpus` or a string (cleaned and split like a
    file named ``text.txt``; raw offsets then index that string). Quoted phrases are “…”, ‘…’, 「…」,
    『…』 and "…" of ``min_len``–``max_len`` characters (a two-character common word in quotes,
    “沉睡”, is emphasis and left out); formulae are found quoted or bare (see
    :func:`classify_slogan`). ``count`` counts every occurrence of the slogan's text in the
    document, quoted or not; ``raw_start``/``raw_end`` are those of its first occurrence and
    ``sentence`` the sentence it stands in.

    Columns: :data:`SLOGAN_FIELDS` + ``raw_end``, ``sentence``, ``start``, ``end`` (first
    occurrence in the document's cleaned text), ``quoted`` (it appears in quotes) and
    ``placeholder`` (it contains a placeholder, e.g. “x+x+N”). Documents are shared out over
    ``workers`` processes (default: the CPUs available) above :data:`SLOGANS_PARALLEL_MIN_CHARS`
    characters of text; the result is the same. ``progress`` shows a bar of documents done.

    >>> s = extract_slogans("深化“六治六提”“六比六晒”，配强“x+x+N”网格力量，抓实“两条主线”。")
    >>> s[["slogan", "kind", "placeholder"]].values.tolist()
    [['六治六提', 'formula', False], ['六比六晒', 'formula', False], ['x+x+N', 'formula', True], ['两条主线', 'formula', False]]
    """
    if min_len < 1 or max_len < min_len:
        raise ValueError(f"need 1 <= min_len <= max_len, got min_len={min_len}, max_len={max_len}")
    from .lexicons import pinned_lexicons
    from .corpus import text_pieces
    from .parallel import map_chunks, plan_pieces, progress_bar

    corpus = as_corpus(source, what="extract_slogans")
    docs = corpus.documents
    cols = list(SLOGAN_FIELDS) + ["raw_end", "sentence", "start", "end", "quoted", "placeholder"]
    lengths, texts_of = text_pieces(docs, corpus)
    n, bounds = plan_pieces(lengths, workers=workers, parallel_min=SLOGANS_PARALLEL_MIN_CHARS,
                            serial_piece=2_000_000)
    if n > 1:
        from .tokenize import is_common_word, is_policy_term

        with pinned_lexicons():  # the word sets, loaded once here for forked workers to share
            is_common_word("")
            is_policy_term("")

    # each document's sentences, by start: the workers cut each slogan's sentence out of the text they have (the
    # sentences' text column, read here, would bring every sentence into this process)
    sents = corpus.sentences
    codes, sent_docs = pd.factorize(sents["doc_id"]) if len(sents) else (np.zeros(0, dtype=np.int64), [])
    by_start = np.lexsort((sents["start"].to_numpy(dtype=np.int64), codes))  # by document, then start (stable)
    s_start = sents["start"].to_numpy(dtype=np.int64)[by_start]
    s_end = sents["end"].to_numpy(dtype=np.int64)[by_start]
    doc_cuts = np.searchsorted(codes[by_start], np.arange(len(sent_docs) + 1))
    slot = {str(d): k for k, d in enumerate(sent_docs)}
    ids = docs["doc_id"].astype(str).tolist()
    offsets_of = corpus._piece_offsets()  # each worker maps its slogans to raw offsets
    corpus._drop_pages()  # what was read of whole columns above is not held while the slogans pile up

    def pieces():  # each piece's texts are made only when the workers are ready for them
        for a, b in bounds:
            ks = [slot.get(doc_id) for doc_id in ids[a:b]]
            takes = [np.arange(doc_cuts[k], doc_cuts[k + 1]) if k is not None else np.zeros(0, dtype=np.int64)
                     for k in ks]
            take = np.concatenate(takes)
            cuts = np.concatenate([[0], np.cumsum([len(t) for t in takes])]).astype(np.int64)
            yield texts_of(a, b), s_start[take], s_end[take], cuts, min_len, max_len, offsets_of(a, b)

    parts: list[pd.DataFrame] = []
    found = 0
    with progress_bar(len(docs), desc="slogans", unit="doc", enabled=progress) as bar:
        for (a, b), part in zip(bounds, map_chunks(_doc_slogans, pieces(), workers=n)):
            if len(part):
                part["_doc"] += a
                parts.append(part)
                found += len(part)
            if bar is not None:
                bar.update(b - a)
                bar.set_postfix(slogans=found, refresh=False)
    if not parts:
        return pd.DataFrame([], columns=cols).astype(_SLOGAN_DTYPES)
    got = pd.concat(parts, ignore_index=True)
    del parts
    rows = got["_doc"].to_numpy(dtype=np.int64)
    start_a, end_a = got["start"].to_numpy(dtype=np.int64), got["end"].to_numpy(dtype=np.int64)
    raw_start, raw_end = got["raw_start"].to_numpy(dtype=np.int64), got["raw_end"].to_numpy(dtype=np.int64)
    places = ["" if pd.isna(p) else str(p) for p in docs["place"].astype(object)]
    df = pd.DataFrame({
        "doc_id": pd.array(ids, dtype="str").take(rows),
        "source_file": pd.array(docs["source_file"].astype(str).tolist(), dtype="str").take(rows),
        "place": pd.array(places, dtype="str").take(rows),
        "slogan": got["slogan"], "kind": got["kind"], "count": got["count"],
        "raw_start": raw_start, "raw_end": raw_end, "sentence": got["sentence"],
        "start": start_a, "end": end_a, "quoted": got["quoted"], "placeholder": got["placeholder"]}, columns=cols)
    return df.astype(_SLOGAN_DTYPES)


def slogan_words(source: "Corpus | str | pd.DataFrame") -> list[str]:
    """Return the slogans and formulae to keep whole when tokenizing (``tokenize(extra_words=...)``).

    ``source`` is a corpus, a text, or a table from :func:`extract_slogans`. Slogans holding a
    placeholder or punctuation (“不漏一家，不落一户”) are left out: they cannot be single words.

    >>> slogan_words("打造“五美”目标，践行“八八战略”")
    ['八八战略', '五美']
    """
    from .corpus import Corpus

    if isinstance(source, Corpus):
        # kept with the corpus snapshot: every profile page of a large corpus's report needs the whole corpus's
        # slogans, 3.5 s each on the 100 MB corpus
        from .corpus import code_fingerprint

        return source._stored("slogan_words", code_fingerprint(scope="package"),
                              lambda: _slogan_words_of(extract_slogans(source)))
    return _slogan_words_of(source if isinstance(source, pd.DataFrame) else extract_slogans(source))


def _slogan_words_of(table: pd.DataFrame) -> list[str]:
    """:func:`slogan_words` of a table from :func:`extract_slogans`."""
    if table.empty:
        return []
    # each distinct slogan once: a large corpus's table repeats them (231,623 rows, 7,779 slogans)
    keep = table.loc[~table["placeholder"].astype(bool), "slogan"].astype(str).unique()
    words = {w for w in keep if not any(ch in _PUNCT_IN or ch.isspace() for ch in w)
             and not re.search(r"[。！？“”‘’「」『』]", w)}
    return sorted(words, key=lambda w: (-len(w), w))


# --- register -------------------------------------------------------------------------------
_CLAUSE_START = r"(?:^|(?<=[。；;：:，,！？\n]))\s*"
_YISHI_RE = re.compile(_CLAUSE_START + rf"([{_NUM}]{{1,3}})(?:是|要)(?![的否])")
_FANGMIAN_RE = re.compile(r"(?<!另)一方面")
_LING_FANGMIAN_RE = re.compile(r"另一方面")
_DIYI_RE = re.compile(_CLAUSE_START + rf"(?:第[{_NUM}]{{1,3}}(?=[，、,：:])|首先|其次|再次|最后(?=[，、,：:]))")
#: enumeration and connective markers stripped before looking for the opening verb
_LEAD_RE = re.compile(
    rf"^(?:[{_NUM}]{{1,3}}\s*[、.．]|[（(]\s*[{_NUM}0-9]{{1,3}}\s*[）)]\s*[、.．]?|[0-9]{{1,2}}\s*[、.．]|"
    rf"[{P.CIRCLED}{P.CIRCLED2}]\s*[、.．]?|[{_NUM}]{{1,3}}(?:是|要)|第[{_NUM}]{{1,3}}[，、,：:]?|首先|其次|再次|最后|"
    r"同时|此外|另外|另一方面|一方面|[，、,：:；;\s])+")
#: modifiers that stand before the verb they modify (积极申报, 深入开展): skipped when finding the opening verb
_MODIFIERS = frozenset("积极 认真 切实 进一步 全力 大力 努力 不断 全面 着力 扎实 深入 继续 始终 坚决 严格 加快 主动 "
                       "稳步 有序 持续地 及时 精准 高标准 高质量 全方位 重点 统筹 逐步 务必 要 将 已 并 还 也 共 "
                       "已经 正在 年内 今年 全年 上半年 下半年 目前 截至 截止".split())


def _opening_verb(words: Sequence[str]) -> str:
    """The opening verb among the first words of a sentence (modifiers skipped), or ''."""
    from .tokenize import has_tag

    for w in words[:4]:
        if w in _MODIFIERS:
            continue
        if w in POLICY_VERBS or has_tag(w, tags=_OPENING_TAGS):
            return w
        return ""
    return ""


_OPENING_TAGS = frozenset(("v", "vd"))
_HAN_WORD_RE = re.compile(f"[{_HAN}]+")

#: below this many characters of document text, sentence openings, register features and term counts are worked out here
PARALLEL_MIN_CHARS = 300_000


def sentence_openings(source: "Corpus | str", *, workers: int | None = None, progress: bool = False) -> pd.DataFrame:
    """The opening word and opening verb of every body sentence and heading.

    Enumeration markers (一是, （一）, 1、, 第一，, 一方面) and modifiers (积极, 深入, 进一步 …)
    are skipped; ``verb`` is the first word jieba tags as a verb (``v``, ``vd``; not verbal
    nouns such as 工作) or one of :data:`POLICY_VERBS`, empty when the sentence does not open
    with one. Columns: ``doc_id``, ``sent_id``, ``role`` (``body`` or ``heading``), ``text``,
    ``first_word``, ``verb``. Documents are tokenised a piece at a time, over ``workers``
    processes (default: the CPUs available) above :data:`PARALLEL_MIN_CHARS` characters, so
    memory never holds every document's words; the result is the same. ``progress`` shows a bar of
    documents done.

    >>> sentence_openings("一是坚持党建引领。二是积极推进招商引资。")[["first_word", "verb"]].values.tolist()
    [['坚持', '坚持'], ['积极', '推进']]
    """
    sel, first, verb, _ = _openings(as_corpus(source, what="sentence_openings"), workers=workers, progress=progress,
                                    desc="openings")
    # the columns stay in Arrow: the sentences' text is not made into a Python string per sentence
    out = pd.DataFrame({c: sel[c].astype("str").array for c in ("doc_id", "sent_id", "role", "text")})
    out["first_word"], out["verb"] = first, verb
    return out


def _doc_openings(piece: tuple[Any, list[list[int]], list[list[int]]]) -> list[tuple[Any, ...]]:
    """For each document of ``(texts, its sentences' starts, their ends)`` (``texts``: what
    :func:`~plan_analysis.corpus.piece_texts` takes): the sentences' first words and opening verbs, then the counts
    of :func:`register_features` that need the document's words or text."""
    from .corpus import piece_texts
    from .tokenize import word_spans_of

    texts, all_starts, all_ends = piece
    docs = list(zip(piece_texts(texts), all_starts, all_ends))
    out = []
    # each document's words and offsets, as tokenize() gives them, without a Token object each
    for (text, sent_starts, sent_ends), spans in zip(docs, word_spans_of((d[0] for d in docs), drop_punct=True)):
        starts = [s for _, s, _ in spans]
        first, verbs = [], []
        for start, end in zip(sent_starts, sent_ends):
            lead = _LEAD_RE.match(text[start:end])
            k = bisect_left(starts, start + (lead.end() if lead else 0))
            words = []
            while k < len(spans) and starts[k] < end and len(words) < 4:
                words.append(spans[k][0])
                k += 1
            first.append(words[0] if words else "")
            verbs.append(_opening_verb(words))
        han = [w for w, _, _ in spans if _HAN_WORD_RE.fullmatch(w)]
        n4, nseg = _four_char_segments(text)
        fang = min(len(_FANGMIAN_RE.findall(text)), len(_LING_FANGMIAN_RE.findall(text)))
        out.append((first, verbs, len(text), len(han), sum(1 for w in han if len(w) == 4), n4, nseg,
                    len(_YISHI_RE.findall(text)), fang, len(_DIYI_RE.findall(text))))
    return out


def _openings(corpus: "Corpus", *, workers: int | None, progress: bool = False,
              desc: str = "openings") -> tuple[pd.DataFrame, np.ndarray, np.ndarray, list[tuple[Any, ...]]]:
    """The body sentences and headings, the first word and opening verb of each, and each document's
    :func:`_doc_openings` result (in document order).

    Both :func:`sentence_openings` and :func:`register_features` need this pass, which tokenises every document:
    it is kept with the corpus (until its documents or sentences are replaced, or a lexicon changes), so the
    second of them does not tokenise the corpus again. A bar asked for then fills at once.
    """
    from .lexicons import lexicon_fingerprint
    from .parallel import progress_bar

    key = f"openings:{lexicon_fingerprint()}"  # a lexicon edit (a verb, a policy term) changes the words
    with progress_bar(len(corpus.documents), desc=desc, unit="doc", enabled=progress) as bar:
        got = corpus._derived(key, (corpus.documents, corpus.sentences),
                              lambda docs, sents: _openings_pass(docs, sents, workers=workers, bar=bar,
                                                                 corpus=corpus))
        if bar is not None:
            bar.update(bar.total - bar.n)  # kept from an earlier call: done at once
    return got


def _openings_pass(docs: pd.DataFrame, s: pd.DataFrame, *, workers: int | None, bar: Any = None,
                   corpus: "Corpus | None" = None
                   ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, list[tuple[Any, ...]]]:
    """:func:`_openings` worked out: every document tokenised, over ``workers`` processes (``bar``: a bar of
    documents done, or None; ``corpus``: the one ``docs`` are of, whose snapshot the workers may read the texts
    from)."""
    from .corpus import text_pieces
    from .parallel import map_chunks, plan_pieces
    from .tokenize import has_tag

    rows = np.flatnonzero(s["role"].isin(["body", "heading"]).to_numpy(dtype=bool))
    sel = s.iloc[rows]
    by_doc = sel.groupby("doc_id", sort=False).indices if len(sel) else {}
    first = np.full(len(rows), "", dtype=object)
    verb = np.full(len(rows), "", dtype=object)
    if len(docs):
        has_tag("", tags=_OPENING_TAGS)  # the verb set, loaded once here for forked workers to share
    lengths, texts_of = text_pieces(docs, corpus)
    n, bounds = plan_pieces(lengths, workers=workers, parallel_min=PARALLEL_MIN_CHARS, serial_piece=200_000)
    ids = docs["doc_id"].astype(str).tolist()
    # the workers cut each sentence out of its document's text: the sentences' text column, read here, would bring
    # every sentence into this process
    starts, ends = sel["start"].to_numpy(dtype=np.int64), sel["end"].to_numpy(dtype=np.int64)
    none = np.zeros(0, dtype=np.int64)  # the sentences of a document that has none

    def pieces():  # each piece's texts are made only when the workers are ready for them
        for a, b in bounds:
            at = [by_doc.get(doc_id, none) for doc_id in ids[a:b]]
            yield texts_of(a, b), [starts[k].tolist() for k in at], [ends[k].tolist() for k in at]

    per_doc: list[tuple[Any, ...]] = []
    words: dict[str, str] = {}  # one string per distinct word: the pass is kept, and its words come back as copies
    for (a, b), found in zip(bounds, map_chunks(_doc_openings, pieces(), workers=n)):
        for doc_id, got in zip(ids[a:], found):
            fw = [words.setdefault(w, w) for w in got[0]]
            vb = [words.setdefault(w, w) for w in got[1]]
            at = by_doc.get(doc_id)
            if at is not None:
                first[at], verb[at] = fw, vb
            per_doc.append((fw, vb, *got[2:]))
        if bar is not None:
            bar.update(b - a)
    return sel, first, verb, per_doc


#: the scalar features of :func:`register_features` (opening verbs come on top, one row each)
REGISTER_FEATURES = {
    "n_chars": "characters of the cleaned document",
    "n_sentences": "body sentences",
    "sentence_len_mean": "mean body-sentence length, characters",
    "sentence_len_median": "median body-sentence length, characters",
    "long_sentence_share": "share of body sentences over 100 characters",
    "four_char_share": "share of word tokens (Han) that are four characters long (四字格: 攻坚克难, 招商引资)",
    "four_char_segment_share": "share of comma-delimited segments that are exactly four Han characters (团结拼搏，真抓实干)",
    "enum_yishi": "一是/二是/三要 … markers",
    "enum_yishi_per_1000": "一是 … markers per 1,000 characters",
    "enum_fangmian": "一方面 … 另一方面 pairs",
    "enum_fangmian_per_1000": "一方面 pairs per 1,000 characters",
    "enum_diyi": "第一，/首先/其次/最后 markers",
    "enum_diyi_per_1000": "第一 … markers per 1,000 characters",
    "n_headings": "headings in the heading tree",
    "heading_depth": "deepest heading level used",
    "verb_opening_share": "share of body sentences and headings that open with a verb",
}


def _four_char_segments(text: str) -> tuple[int, int]:
    """(segments of exactly four Han characters, all segments) between punctuation marks."""
    segs = [x.strip() for x in re.split(r"[，、；;：:。！？!?\n“”‘’（）()《》]", text) if x.strip()]
    return sum(1 for x in segs if re.fullmatch(f"[{_HAN}]{{4}}", x)), len(segs)


def register_features(source: "Corpus | str", *, workers: int | None = None, progress: bool = False) -> pd.DataFrame:
    """Register features per document, tidy: one row per (document, feature).

    Scalar features are listed in :data:`REGISTER_FEATURES` (sentence length, 四字格 share,
    enumeration markers and their rate per 1,000 characters, heading depth, share of
    verb-led openings); on top, ``opens:<verb>`` counts the body sentences and headings that
    open with each verb (see :func:`sentence_openings`). Columns: ``doc_id``, ``place``,
    ``feature``, ``value``, ``group`` (``size``, ``length``, ``rhythm``, ``enumeration``,
    ``headings``, ``opening``; ``opening_verb`` for the ``opens:<verb>`` rows). Documents are
    shared out over ``workers`` processes as in :func:`sentence_openings`; ``progress`` shows a bar
    of documents done.

    >>> f = register_features("一是坚持党建引领。二是推进招商引资，一方面招大引强，另一方面提质增效。")
    >>> f.set_index("feature").loc[["enum_yishi", "enum_fangmian", "opens:坚持"], "value"].tolist()
    [2.0, 1.0, 1.0]
    """
    corpus = as_corpus(source, what="register_features")
    from .parallel import text_lengths

    _, _, _, per_doc = _openings(corpus, workers=workers, progress=progress, desc="register")
    sents, secs, docs = corpus.sentences, corpus.sections, corpus.documents
    body = sents[sents["role"] == "body"]
    body_lens = np.asarray(text_lengths(body["text"]), dtype=np.int64)
    body_of = body.groupby("doc_id", sort=False).indices if len(body) else {}
    secs_of = secs.groupby("doc_id", sort=False).indices if len(secs) else {}
    levels = secs["level"]
    rows: list[dict[str, Any]] = []
    groups = {"n_chars": "size", "n_sentences": "size", "sentence_len_mean": "length", "sentence_len_median": "length",
              "long_sentence_share": "length", "four_char_share": "rhythm", "four_char_segment_share": "rhythm",
              "n_headings": "headings", "heading_depth": "headings", "verb_opening_share": "opening"}
    places = ["" if pd.isna(p) else str(p) for p in docs["place"].tolist()]
    for doc_id, place, (_, verbs, n_chars, n_han, n_four, n4, nseg, yishi, fang, diyi) in zip(
            docs["doc_id"].astype(str).tolist(), places, per_doc):
        n = max(n_chars, 1)
        lens = pd.Series(body_lens[body_of.get(doc_id, [])], dtype="int64")
        at = secs_of.get(doc_id, [])
        op = np.asarray(verbs, dtype=object)
        values = {
            "n_chars": float(n_chars),
            "n_sentences": float(len(lens)),
            "sentence_len_mean": float(lens.mean()) if len(lens) else math.nan,
            "sentence_len_median": float(lens.median()) if len(lens) else math.nan,
            "long_sentence_share": float((lens > 100).mean()) if len(lens) else math.nan,
            "four_char_share": (n_four / n_han) if n_han else math.nan,
            "four_char_segment_share": (n4 / nseg) if nseg else math.nan,
            "enum_yishi": float(yishi), "enum_yishi_per_1000": 1000.0 * yishi / n,
            "enum_fangmian": float(fang), "enum_fangmian_per_1000": 1000.0 * fang / n,
            "enum_diyi": float(diyi), "enum_diyi_per_1000": 1000.0 * diyi / n,
            "n_headings": float(len(at)),
            "heading_depth": float(levels.iloc[at].max()) if len(at) else 0.0,
            "verb_opening_share": float((op != "").mean()) if len(op) else math.nan,
        }
        for feat, val in values.items():
            rows.append({"doc_id": doc_id, "place": place, "feature": feat, "value": val,
                         "group": groups.get(feat, "enumeration")})
        for verb, cnt in Counter(v for v in op if v).most_common():
            rows.append({"doc_id": doc_id, "place": place, "feature": f"opens:{verb}",
                         "value": float(cnt), "group": "opening_verb"})
    return pd.DataFrame(rows, columns=["doc_id", "place", "feature", "value", "group"]).astype({"value": "float64"})


def verb_profile(source: "Corpus | str", *, verbs: Sequence[str] = POLICY_VERBS) -> pd.DataFrame:
    """How often each document uses each policy verb, per 1,000 characters of cleaned text.

    Occurrences are counted on the characters (not on tokens), so segmentation does not
    matter; 持续 inside 可持续 is not counted. Columns: ``doc_id``, ``place``, ``n_chars``, one
    column per verb (rate per 1,000 characters).

    >>> verb_profile("坚持稳中求进，持续推进可持续发展。", verbs=("坚持", "持续"))[["坚持", "持续"]].round(1).values.tolist()
    [[58.8, 58.8]]
    """
    verbs = list(dict.fromkeys(_as_words(verbs)))  # one verb given as a string is that verb, not its characters
    if not verbs or not all(isinstance(v, str) and v for v in verbs):
        raise ValueError(f"verbs must be non-empty strings, got {verbs!r}")
    corpus = as_corpus(source, what="verb_profile")
    rows = []
    for doc in _doc_records(corpus):
        text = doc["text"]
        n = max(len(text), 1)
        row: dict[str, Any] = {"doc_id": doc["doc_id"], "place": doc["place"], "n_chars": len(text)}
        for v in verbs:
            cnt = len(re.findall(re.escape(v), text))
            if v == "持续":
                cnt -= text.count("可持续")
            row[v] = 1000.0 * cnt / n
        rows.append(row)
    return pd.DataFrame(rows, columns=["doc_id", "place", "n_chars", *verbs])


# --- keyness ----------------------------------------------------------------------------------
_NUMERIC_TOKEN_RE = re.compile(r"^[0-9.,%‰\-—~～]+$")


def _token_lists(texts: Iterable[str], extra: Sequence[str], *, min_len: int = 2) -> Iterator[list[str]]:
    """For each text, the words of ``tokenize(text, extra_words=extra, drop_stopwords=True)`` counted as terms
    (of ``min_len`` characters or more, not numbers)."""
    from .tokenize import word_spans_of

    for spans in word_spans_of(texts, extra_words=extra, drop_punct=True, drop_stopwords=True):
        yield [w for w, _, _ in spans if not (len(w) < min_len or _NUMERIC_TOKEN_RE.match(w) or w.isspace())]


def _warm_token_lists(extra: Sequence[str]) -> None:
    """Load the tokenizer, stopwords and slogan pattern here, once, so forked workers share them."""
    list(_token_lists(["推进工作"], extra))


def _char_ngrams(text: str, n: int) -> list[str]:
    out = []
    for run in _HAN_WORD_RE.findall(text):
        out.extend(run[i:i + n] for i in range(len(run) - n + 1))
    return out


def _terms_of(texts: Iterable[str], extra: Sequence[str], unit: str) -> Iterator[list[str]]:
    """Each text's terms counted by :func:`term_counts`: tokens, or character n-grams of ``unit`` (``char3``)."""
    if unit == "token":
        yield from _token_lists(texts, extra)
    else:
        n = int(unit[-1])
        for text in texts:
            yield _char_ngrams(text, n)


def _check_unit(unit: Any) -> None:
    if unit not in ("token", "char2", "char3", "char4"):
        raise ValueError(f"unit must be 'token', 'char2', 'char3' or 'char4', got {unit!r}")


def term_counts(source: "Corpus | str", *, unit: Unit = "token", workers: int | None = None,
                progress: bool = False) -> pd.DataFrame:
    """Count terms per document: jieba tokens or character n-grams.

    Tokens leave out stopwords, numbers, placeholders and single characters and keep slogans
    whole; ``char2``–``char4`` are n-grams of runs of Han characters. Columns: ``doc_id``, ``term``, ``count``.
    Tokens are counted over ``workers`` processes (default: the CPUs available) above
    :data:`PARALLEL_MIN_CHARS` characters; the result is the same. ``progress`` shows a bar of documents done.
    Pass the table to :func:`keyness` and :func:`keyness_by_group` (``counts=``) to count once for many calls.
    A corpus's token counts are kept with its snapshot (see :func:`load_corpus`): the next process
    over the same files reads them, and :func:`keyness` uses them once they are there.

    >>> term_counts("推进“千万工程”，推进乡村振兴。")[["term", "count"]].values.tolist()
    [['推进', 2], ['千万工程', 1], ['乡村振兴', 1]]
    """
    _check_unit(unit)
    corpus = as_corpus(source, what="term_counts")
    if unit != "token" or corpus._snapshot_folder() is None:  # nowhere to keep them: no Arrow round trip
        return _count_terms(corpus, unit=unit, workers=workers, progress=progress)
    return _counts_frame(_token_counts_table(corpus, workers=workers, progress=progress))


def _token_counts_table(corpus: "Corpus", *, workers: int | None = None, progress: bool = False) -> "pa.Table":
    """:func:`term_counts` of tokens as an Arrow table (``doc_id`` and ``term`` dictionary-encoded), kept with the
    corpus's snapshot: counted once, then read by every process over the same files (notebook 03 and every
    profile page of a report count the same corpus)."""
    return corpus._stored("token_counts", _token_counts_key(), form="arrow", build=lambda: _counts_arrow(
        _count_terms(corpus, unit="token", workers=workers, progress=progress)))


def _token_counts_key() -> str:
    """What a corpus's token counts depend on beyond its tables: the package, the lexicons and jieba's dictionary."""
    import jieba

    from .corpus import code_fingerprint

    return f"{code_fingerprint(scope='package')}-jieba{jieba.__version__}"


def _counts_arrow(counts: pd.DataFrame) -> "pa.Table":
    """A :func:`term_counts` table as Arrow, ``doc_id`` and ``term`` dictionary-encoded (a code per row)."""
    import pyarrow as pa

    return pa.table({"doc_id": pa.array(counts["doc_id"], type=pa.string()).dictionary_encode(),
                     "term": pa.array(counts["term"], type=pa.string()).dictionary_encode(),
                     "count": pa.array(counts["count"], type=pa.int32())})  # a term's count in one document


def _counts_frame(table: "pa.Table") -> pd.DataFrame:
    """The :func:`term_counts` table of :func:`_counts_arrow`'s."""
    import pyarrow as pa

    return pd.DataFrame({"doc_id": pd.array(table.column("doc_id").cast(pa.string()), dtype="str"),
                         "term": pd.array(table.column("term").cast(pa.string()), dtype="str"),
                         "count": table.column("count").to_numpy().astype(np.int64)})


def _count_terms(corpus: "Corpus", *, unit: Unit, workers: int | None, progress: bool) -> pd.DataFrame:
    """:func:`term_counts`, counted."""
    from .corpus import text_pieces
    from .parallel import map_chunks, plan_pieces, progress_bar

    docs = corpus.documents
    extra = tuple(slogan_words(corpus)) if unit == "token" else ()
    lengths, texts_of = text_pieces(docs, corpus)
    # character n-grams are counted here: sending them back from workers costs more than counting them
    n, bounds = plan_pieces(lengths, workers=workers if unit == "token" else 1, parallel_min=PARALLEL_MIN_CHARS,
                            serial_piece=200_000)
    if n > 1:
        _warm_token_lists(extra)
    ids = docs["doc_id"].astype(str).tolist()

    def pieces():  # each piece's texts are made only when the workers are ready for them
        for a, b in bounds:
            yield texts_of(a, b), extra, unit

    frames = []  # a table per piece: the rows never all exist as Python tuples and strings at once
    with progress_bar(len(ids), desc="term counts", unit="doc", enabled=progress) as bar:
        for (a, b), (sizes, terms, cnts) in zip(bounds, map_chunks(_doc_term_counts, pieces(), workers=n)):
            frames.append(pd.DataFrame({"doc_id": pd.array(np.repeat(np.array(ids[a:b], dtype=object), sizes),
                                                           dtype="str"),
                                        "term": pd.array(terms, dtype="str"),
                                        "count": np.array(cnts, dtype=np.int64)}))
            del terms, cnts
            if bar is not None:
                bar.update(b - a)
    if not frames:
        return pd.DataFrame({"doc_id": pd.array([], dtype="str"), "term": pd.array([], dtype="str"),
                             "count": np.zeros(0, dtype=np.int64)})
    return pd.concat(frames, ignore_index=True)


def _doc_term_counts(args: tuple[Any, tuple[str, ...], str]) -> tuple[list[int], list[str], list[int]]:
    """For a piece's texts (what :func:`~plan_analysis.corpus.piece_texts` takes): how many distinct terms each has,
    then every text's terms and counts, in the order the terms first appear (see :func:`term_counts`)."""
    from .corpus import piece_texts

    texts, extra, unit = args
    texts = piece_texts(texts)
    sizes: list[int] = []
    terms: list[str] = []
    counts: list[int] = []
    for found in _terms_of(texts, extra, unit):
        c = Counter(found)
        sizes.append(len(c))
        terms.extend(c.keys())
        counts.extend(c.values())
    return sizes, terms, counts


def _term_totals(corpus: "Corpus", keys: Sequence[int | None], *, unit: Unit, workers: int | None,
                 progress: bool) -> dict[int, Counter]:
    """Each term's count summed over the documents of each key (``keys[i]`` is document i's; ``None`` skips it).

    Keyness compares sides of the corpus, not documents, so this sums in the workers and sends back one
    counter per key and piece: no per-document table, which for character n-grams of a large corpus is
    tens of millions of rows. Tokens and n-grams both go over ``workers`` processes above
    :data:`PARALLEL_MIN_CHARS` characters.
    """
    from .corpus import text_pieces
    from .parallel import map_chunks, plan_pieces, progress_bar

    docs = corpus.documents
    extra = tuple(slogan_words(corpus)) if unit == "token" else ()
    lengths, texts_of = text_pieces(docs, corpus)
    lengths = [n if k is not None else 0 for n, k in zip(lengths, keys)]
    n, bounds = plan_pieces(lengths, workers=workers, parallel_min=PARALLEL_MIN_CHARS, serial_piece=200_000)
    if n > 1 and unit == "token":
        _warm_token_lists(extra)

    def pieces():  # each piece's texts are made only when the workers are ready for them
        for a, b in bounds:
            take = [i for i, k in enumerate(keys[a:b]) if k is not None]
            if not take:
                yield [], [], extra, unit
                continue
            first, last = take[0], take[-1] + 1  # the rows from the first kept to the last, and which of them
            yield (texts_of(a + first, a + last, take=np.asarray(take, dtype=np.int64) - first),
                   [keys[a + i] for i in take], extra, unit)

    totals: dict[int, Counter] = {}
    with progress_bar(len(docs), desc="term counts", unit="doc", enabled=progress) as bar:
        for (a, b), part in zip(bounds, map_chunks(_piece_term_totals, pieces(), workers=n)):
            for k, c in part.items():
                if k in totals:
                    totals[k].update(c)
                else:
                    totals[k] = c
            if bar is not None:
                bar.update(b - a)
    return totals


def _piece_term_totals(args: tuple[Any, list[int], tuple[str, ...], str]) -> dict[int, Counter]:
    """One counter of terms per key over a piece's texts (what :func:`~plan_analysis.corpus.piece_texts` takes; see
    :func:`_term_totals`)."""
    from .corpus import piece_texts

    texts, keys, extra, unit = args
    texts = piece_texts(texts)
    out: dict[int, Counter] = {}
    for found, k in zip(_terms_of(texts, extra, unit), keys):
        out.setdefault(k, Counter()).update(found)
    return out


def _group_labels(corpus: "Corpus", by: "str | Mapping[str, Any] | pd.Series", *, what: str = "keyness") -> pd.Series:
    """doc_id → group label (``what``: the calling function, for the message when ``by`` names no column)."""
    docs = corpus.documents
    ids = docs["doc_id"].astype(str)
    if isinstance(by, str):
        if by not in docs.columns:
            raise KeyError(missing_column(by, docs.columns, what=what, table="corpus.documents",
                                          more=", or pass a mapping doc_id → group"))
        return pd.Series(docs[by].to_numpy(dtype=object), index=ids)
    mapping = by.to_dict() if isinstance(by, pd.Series) else dict(by)
    return pd.Series([mapping.get(d) for d in ids], index=ids, dtype=object)


def _as_set(target: Any) -> set:
    if isinstance(target, (list, tuple, set, frozenset, pd.Index, np.ndarray, pd.Series)):
        return set(target)
    return {target}


def _place_term_test(places: Iterable[Any]) -> Callable[[str], bool]:
    """A test: is a term (part of) a place name, beyond its generic suffix (前江, 江街道 — not 街道)?"""
    full: list[tuple[str, str]] = []
    for p in dict.fromkeys(places):
        p = "" if p is None or (isinstance(p, float) and math.isnan(p)) else str(p)
        if not p or re.search(r"[xX*]", p):
            continue
        suffix = next((s for s in _SUFFIXES if p.endswith(s) and len(p) > len(s)), "")
        full.append((p, suffix))
    stems = {p[: len(p) - len(s)] for p, s in full if len(p) - len(s) >= 2}
    # every piece of two or more characters of a name that is not a piece of its suffix: a term is one of
    # them, or holds a stem, exactly when it is in some name beyond its suffix or names a place in itself;
    # sets, not a scan of every name for every term (thousands of places × a million n-grams)
    inside = {p[i:j] for p, s in full for i in range(len(p)) for j in range(i + 2, len(p) + 1) if p[i:j] not in s}

    def test(term: str) -> bool:
        n = len(term)
        if n < 2:
            return False
        return term in inside or any(term[i:j] in stems for i in range(n - 1) for j in range(i + 2, n + 1))

    return test


def _g2(a: np.ndarray, b: np.ndarray, c: float, d: float) -> np.ndarray:
    """Log-likelihood G² (Rayson & Garside 2000) of frequencies a (in c tokens) vs b (in d tokens)."""
    e1 = c * (a + b) / (c + d)
    e2 = d * (a + b) / (c + d)
    with np.errstate(divide="ignore", invalid="ignore"):
        t1 = np.where(a > 0, a * np.log(a / e1), 0.0)
        t2 = np.where(b > 0, b * np.log(b / e2), 0.0)
    return 2.0 * (t1 + t2)


def _known_labels(corpus: "Corpus", by: "str | Mapping[str, Any] | pd.Series", *, what: str = "keyness") -> pd.Series:
    """doc_id → group label, for the documents whose group is known (not None, NaN or NA)."""
    labels = _group_labels(corpus, by, what=what)
    known = labels.map(lambda v: v is not None and not (isinstance(v, float) and math.isnan(v)) and v is not pd.NA)
    return labels[known]


def _target_mask(labels: pd.Series, target: Any, by: Any) -> pd.Series:
    """doc_id → is in ``target``, for the known labels; an error if the target or the rest is empty."""
    wanted = _as_set(target)
    in_target = labels.map(lambda v: v in wanted)
    if not in_target.any():
        present = sorted({str(v) for v in labels})
        raise ValueError(f"no document has {by if isinstance(by, str) else 'group'} in {sorted(map(str, wanted))}; "
                         f"values present: {', '.join(present[:30])}")
    if in_target.all():
        raise ValueError(f"every document is in target {sorted(map(str, wanted))}: there is no rest to compare against")
    return in_target


def _kept_token_counts(corpus: "Corpus") -> "pa.Table | None":
    """The corpus's token counts if they are kept with its snapshot (see :func:`term_counts`), else ``None``."""
    return corpus._stored("token_counts", _token_counts_key(), None, form="arrow")


class _CodedCounts(NamedTuple):
    """A :func:`term_counts` table as codes: row i is ``terms[term_codes[i]]`` counted ``n[i]`` times in
    ``docs[doc_codes[i]]``."""

    docs: list[str]
    doc_codes: np.ndarray
    terms: np.ndarray
    term_codes: np.ndarray
    n: np.ndarray


def _code_counts(counts: "pd.DataFrame | pa.Table") -> _CodedCounts:
    """The codes of a :func:`term_counts` table, or of its Arrow form kept with a snapshot (codes already)."""
    if isinstance(counts, pd.DataFrame):
        doc_codes, docs = pd.factorize(counts["doc_id"].astype(str))
        term_codes, terms = pd.factorize(counts["term"].astype(str))
        return _CodedCounts([str(d) for d in docs], doc_codes, np.asarray(terms, dtype=object), term_codes,
                            counts["count"].to_numpy(dtype=np.float64))
    doc, term = _one_chunk(counts.column("doc_id")), _one_chunk(counts.column("term"))
    return _CodedCounts(doc.dictionary.to_pylist(), doc.indices.to_numpy(zero_copy_only=False),
                        np.asarray(term.dictionary.to_pylist(), dtype=object), term.indices.to_numpy(zero_copy_only=False),
                        _one_chunk(counts.column("count")).to_numpy(zero_copy_only=False).astype(np.float64))


def _one_chunk(column: Any) -> Any:
    """A column of a table as one array: its one chunk as it is (``combine_chunks`` would copy the memory-mapped
    codes), else ``combine_chunks``."""
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()


def _sides_from_counts(coded: _CodedCounts, in_target: pd.Series) -> tuple[pd.Series, pd.Series]:
    """term → count in the target and in the rest, from the codes of a :func:`term_counts` table: sums over
    codes, no string per row (one call costs milliseconds on the 6.8 million rows of the 100 MB corpus)."""
    side = pd.Series(np.where(in_target.to_numpy(dtype=bool), 0, 1), index=in_target.index.astype(str))
    row_side = side.reindex(coded.docs).fillna(-1).to_numpy(dtype=np.int64)[coded.doc_codes]
    out = []
    for s in (0, 1):
        rows = row_side == s
        total = np.bincount(coded.term_codes[rows], weights=coded.n[rows], minlength=len(coded.terms))
        nz = np.flatnonzero(total)
        out.append(pd.Series(total[nz].astype(np.int64), index=pd.Index(coded.terms[nz]), dtype="int64"))
    return out[0], out[1]


#: what ``top=`` of keyness is, for the error a wrong one raises
_TOP_SAYS = "top is how many terms to keep each way, 1 or more (None keeps all)"
_KEYNESS_COLUMNS = ["term", "freq_target", "freq_rest", "g2", "p_value", "p_bonferroni", "log_ratio", "direction",
                    "rate_target", "rate_rest"]


def _keyness_table(ft: pd.Series, fr: pd.Series, corpus: "Corpus", *, min_freq: int, top: int | None,
                   drop_places: bool) -> pd.DataFrame:
    """The keyness statistics of term counts in the target (``ft``) against the rest (``fr``); see :func:`keyness`."""
    from scipy.stats import chi2

    table = pd.concat([ft.rename("freq_target"), fr.rename("freq_rest")], axis=1).fillna(0)
    c, d = float(table["freq_target"].sum()), float(table["freq_rest"].sum())
    if c == 0 or d == 0:
        return pd.DataFrame(columns=_KEYNESS_COLUMNS)
    table = table[(table["freq_target"] + table["freq_rest"]) >= min_freq]
    if drop_places:
        is_place = _place_term_test(corpus.documents["place"])
        table = table[[not is_place(t) for t in table.index.astype(str)]]
    a = table["freq_target"].to_numpy(float)
    b = table["freq_rest"].to_numpy(float)
    g2 = _g2(a, b, c, d)
    p = chi2.sf(g2, 1)
    lr = np.log2((np.where(a > 0, a, 0.5) / c) / (np.where(b > 0, b, 0.5) / d))
    out = pd.DataFrame({
        "term": table.index.astype(str), "freq_target": a.astype("int64"), "freq_rest": b.astype("int64"),
        "g2": g2, "p_value": p, "p_bonferroni": np.minimum(1.0, p * max(len(table), 1)), "log_ratio": lr,
        "direction": np.where(a / c >= b / d, "over", "under"),
        "rate_target": 1e4 * a / c, "rate_rest": 1e4 * b / d,
    })
    out = out[a / c != b / d]  # identical rates: neither over- nor under-used
    out = out.sort_values(["g2", "term"], ascending=[False, True], kind="stable")
    parts = [out[out["direction"] == "over"], out[out["direction"] == "under"]]
    if top is not None:
        parts = [p_.head(top) for p_ in parts]
    return pd.concat(parts, ignore_index=True)[_KEYNESS_COLUMNS]


def _as_counts(counter: Mapping[str, int] | None) -> pd.Series:
    return pd.Series(dict(counter or {}), dtype="int64")


def keyness(source: "Corpus | str", *, by: "str | Mapping[str, Any] | pd.Series", target: Any,
            unit: Unit = "token", min_freq: int = 3, top: int | None = 30, drop_places: bool = True,
            counts: pd.DataFrame | None = None, max_rest: int | None = None, random_state: int = 0,
            workers: int | None = None, progress: bool = False) -> pd.DataFrame:
    """Terms over- and under-used by a group of documents against the rest of the corpus.

    ``by`` names a column of ``corpus.documents`` (``place``, ``doc_type``, ``doc_id`` …) or maps
    doc_id → group (an estimated-year bucket, say); ``target`` is one group value or several;
    the rest is every document with another, known group (documents mapped to ``None`` or
    missing are left out).
    For each term used at least ``min_freq`` times in the two parts together (and not at the
    very same rate in both): ``g2``, the
    log-likelihood of Rayson & Garside (2000); ``p_value`` (χ², 1 df) and ``p_bonferroni``
    (times the number of terms tested); ``log_ratio``, the binary log of the ratio of relative
    frequencies (Hardie 2014; a zero count counts as 0.5); ``direction`` ``over`` or ``under``.
    ``unit`` is ``token`` (jieba words, slogans whole, stopwords out) or ``char2``–``char4``
    (character n-grams, independent of segmentation). ``top`` keeps that many terms per
    direction, over-used first (``None`` keeps all). ``drop_places`` leaves out terms that are
    (part of) a document's place name (铁西, 江街道), which trivially mark their own document;
    generic words such as 街道 stay. Pass ``counts`` (from :func:`term_counts`) to reuse one
    count table across calls; without it, a corpus's token counts kept with its snapshot (once
    :func:`term_counts` has counted them) are summed, else the two sides are counted directly, over ``workers``
    processes on a large corpus, with a bar of documents done if ``progress``. With ``max_rest``, a
    rest of more documents is a random sample of that many (drawn with ``random_state``): one place
    against a corpus of thousands need not segment them all. Place names are still those of the whole corpus.

    Columns: ``term``, ``freq_target``, ``freq_rest``, ``g2``, ``p_value``, ``p_bonferroni``,
    ``log_ratio``, ``direction``, ``rate_target``, ``rate_rest`` (per 10,000 terms).

    >>> k = keyness({"a": "聚焦发展。聚焦民生。聚焦项目。", "b": "推进发展。推进民生。推进项目。"},
    ...             by="doc_id", target="a-1", min_freq=2)
    >>> k[["term", "freq_target", "freq_rest", "direction"]].values.tolist()
    [['聚焦', 3, 0, 'over'], ['推进', 0, 3, 'under']]
    """
    if min_freq < 1:
        raise ValueError(f"min_freq must be at least 1, got {min_freq}")
    check_count(top, _TOP_SAYS, none=True)
    if max_rest is not None and max_rest < 1:
        raise ValueError(f"max_rest must be at least 1 (or None for the whole rest), got {max_rest}")
    _check_unit(unit)
    resolve_workers(workers)  # checked even when counts kept or given leave nothing to count
    corpus = as_corpus(source, what="keyness")
    in_target = _target_mask(_known_labels(corpus, by), target, by)
    is_target = in_target.to_numpy(dtype=bool)
    rest = in_target.index[~is_target]
    if max_rest is not None and len(rest) > max_rest:
        kept = rest.to_series().sample(max_rest, random_state=random_state)
        in_target = in_target[is_target | in_target.index.isin(kept)]
    if counts is None and unit == "token":
        counts = _kept_token_counts(corpus)
    if counts is None:
        side = {d: 0 if t else 1 for d, t in in_target.items()}
        keys = [side.get(d) for d in corpus.documents["doc_id"].astype(str)]
        totals = _term_totals(corpus, keys, unit=unit, workers=workers, progress=progress)
        ft, fr = _as_counts(totals.get(0)), _as_counts(totals.get(1))
    else:
        ft, fr = _sides_from_counts(_code_counts(counts), in_target)
    return _keyness_table(ft, fr, corpus, min_freq=min_freq, top=top, drop_places=drop_places)


def keyness_by_group(source: "Corpus", *, by: "str | Mapping[str, Any] | pd.Series",
                     targets: Iterable[Any] | None = None,
                     unit: Unit = "token", min_freq: int = 3, top: int | None = 15,
                     drop_places: bool = True, counts: pd.DataFrame | None = None, workers: int | None = None,
                     progress: bool = False) -> pd.DataFrame:
    """Run :func:`keyness` for each group in turn against all other documents, stacked.

    ``targets`` defaults to every non-empty group value; terms are counted once for all groups (or pass
    ``counts``, from :func:`term_counts`, to reuse a table counted before).
    Columns: ``group`` + those of :func:`keyness`.

    >>> k = keyness_by_group({"a": "聚焦发展。聚焦民生。", "b": "推进发展。推进民生。"}, by="doc_id", min_freq=2)
    >>> k[k["direction"] == "over"][["group", "term"]].values.tolist()
    [['a-1', '聚焦'], ['b-1', '推进']]
    """
    if min_freq < 1:
        raise ValueError(f"min_freq must be at least 1, got {min_freq}")
    check_count(top, _TOP_SAYS, none=True)
    _check_unit(unit)
    resolve_workers(workers)
    corpus = as_corpus(source, what="keyness_by_group")
    if targets is None:
        targets = [v for v in dict.fromkeys(_group_labels(corpus, by, what="keyness_by_group")) if v is not None and v == v and str(v) != ""]
    targets = [targets] if isinstance(targets, str) else list(targets)  # one group named as a string: that group
    labels = _known_labels(corpus, by, what="keyness_by_group")
    masks = [_target_mask(labels, t, by) for t in targets]  # every target checked before anything is counted
    if counts is None and unit == "token" and targets:
        counts = _kept_token_counts(corpus)
    coded = _code_counts(counts) if counts is not None else None  # once for every target
    if coded is None and targets:
        # one count per group value a target names, and one for the rest; a target's rest is the total minus it
        values = list(dict.fromkeys(v for t in targets for v in _as_set(t)))
        index = {v: i for i, v in enumerate(values)}
        key = {d: index.get(v, -1) for d, v in labels.items()}
        totals = _term_totals(corpus, [key.get(d) for d in corpus.documents["doc_id"].astype(str)], unit=unit,
                              workers=workers, progress=progress)
        everything: Counter = Counter()
        for c in totals.values():
            everything.update(c)
        total = _as_counts(everything)
    parts = []
    for t, in_target in zip(targets, masks):
        if coded is not None:
            ft, fr = _sides_from_counts(coded, in_target)
        else:
            mine: Counter = Counter()
            for v in _as_set(t):
                mine.update(totals.get(index[v], {}))
            ft = _as_counts(mine)
            fr = total.sub(ft, fill_value=0).astype("int64")
            fr = fr[fr > 0]
        k = _keyness_table(ft, fr, corpus, min_freq=min_freq, top=top, drop_places=drop_places)
        parts.append(k.assign(group=str(t)))
    if not parts:
        return pd.DataFrame(columns=["group", *_KEYNESS_COLUMNS])
    out = pd.concat(parts, ignore_index=True)
    return out[["group"] + [c for c in out.columns if c != "group"]]


# --- keyword in context ----------------------------------------------------------------------
def kwic(source: "Corpus | str", pattern: str, *, regex: bool = False, window: int = 20) -> pd.DataFrame:
    """Keyword in context: every match of ``pattern`` in the cleaned text, with ``window`` characters each side.

    ``pattern`` is literal unless ``regex``. ``start``/``end`` index the document's cleaned text
    (``corpus.text(doc_id)``), ``raw_start``/``raw_end`` the raw file (``corpus.raw_slice``).
    ``left + match + right`` is always a slice of the cleaned text. Columns: ``doc_id``,
    ``source_file``, ``place``, ``left``, ``match``, ``right``, ``start``, ``end``, ``raw_start``, ``raw_end``.

    >>> kwic("全力推进招商引资，持续优化营商环境。", "招商引资", window=4)[["left", "match", "right"]].values.tolist()
    [['全力推进', '招商引资', '，持续优']]
    """
    if not isinstance(pattern, str) or not pattern:
        raise ValueError("pattern must be a non-empty string (a word, or a regular expression with regex=True)")
    if window < 0:
        raise ValueError(f"window must be >= 0 characters, got {window}")
    try:
        rx = re.compile(pattern if regex else re.escape(pattern))
    except re.error as exc:
        raise ValueError(f"pattern {pattern!r} is not a valid regular expression ({exc}); "
                         "pass regex=False to search for it literally") from None
    corpus = as_corpus(source, what="kwic")
    raw_span = corpus.raw_span
    rows = []
    for doc in _doc_records(corpus):
        text = doc["text"]
        for m in rx.finditer(text):
            s, e = m.span()
            if e == s:
                continue
            rs, re_ = raw_span(doc["doc_id"], s, e)
            rows.append({"doc_id": doc["doc_id"], "source_file": doc["source_file"], "place": doc["place"],
                         "left": text[max(0, s - window):s], "match": m.group(), "right": text[e:e + window],
                         "start": s, "end": e, "raw_start": rs, "raw_end": re_})
    cols = ["doc_id", "source_file", "place", "left", "match", "right", "start", "end", "raw_start", "raw_end"]
    return pd.DataFrame(rows, columns=cols).astype({c: "int64" for c in ("start", "end", "raw_start", "raw_end")})


# --- template reuse --------------------------------------------------------------------------
_MASK = "#"
_PLACE_SUFFIX_RE = re.compile(rf"([{_HAN}]{{2}})(?=街道办事处|街道|街办|镇|乡|县|区|市)")
_DIGITS_RE = re.compile(r"[0-9]+(?:[.,][0-9]+)*")
_KEEP_RE = re.compile(rf"[^{_HAN}A-Za-z#]+")
#: characters that do not stand in a two-character place name (街道在区委 is not a place 道在)
_NOT_IN_NAME = set("在的了与及对把将为是全我各本该每其此这那市县区镇乡街道村省")
#: a character + suffix that make an ordinary word, not the end of a place name (社区, 城市, 集镇)
_GENERIC_UNITS = frozenset("社区 辖区 园区 片区 城区 新区 小区 山区 景区 市区 郊区 矿区 库区 校区 厂区 街区 营区 分区 "
                           "城市 超市 都市 门市 股市 集市 城镇 集镇 乡镇 村镇 重镇 名镇 小镇 强镇 城县 街道".split())
_SUFFIXES = ("街道办事处", "街道办", "街道", "街办", "自治区", "镇", "乡", "县", "区", "市", "省")


def _place_names(places: Iterable[str]) -> list[str]:
    names = set()
    for p in places:
        p = (p or "").strip()
        if not p or re.search(r"[xX*]", p):
            continue
        for suf in _SUFFIXES:
            if p.endswith(suf) and len(p) - len(suf) >= 2:
                names.add(p[: -len(suf)])
                break
        else:
            names.add(p)
    return sorted(names, key=len, reverse=True)


def mask_text(text: str, *, places: Iterable[str] = ()) -> str:
    """Mask what varies between copies of a template: numbers, placeholders and place names become ``#``.

    ``places`` are names to mask wherever they stand (the corpus's ``place`` values: 前江街道 masks
    前江, wherever it appears); any other two-character name before 镇/街道/县/区/市 is masked too
    (not in ordinary words such as 社区, 辖区, 城市, nor 街道在区委 → 道在). Punctuation and spaces
    are dropped.

    >>> mask_text("前江街道完成投资9.5亿元，百禄镇完成xx亿元。", places=["前江街道"])
    '#街道完成投资#亿元#镇完成#亿元'
    """
    return _make_masker(_as_words(places))(text)


def _make_masker(places: Iterable[str]) -> Callable[[str], str]:
    from .tokenize import is_common_word

    names = _place_names(places)
    names_re = re.compile("|".join(re.escape(n) for n in names)) if names else None

    def mask(text: str) -> str:
        spans = placeholder_spans(text)  # it skips the kinds whose characters the text lacks
        if spans:
            chars = list(text)
            for s, e, _, _ in spans:
                chars[s:e] = "\0" * (e - s)
            text = "".join(chars)
        t = _DIGITS_RE.sub("\0", text)
        if names_re is not None:
            t = names_re.sub("\0", t)

        def _name(m: re.Match) -> str:
            w = m.group(1)
            after = t[m.end():m.end() + 1]
            if (any(ch in _NOT_IN_NAME for ch in w) or w[-1] + after in _GENERIC_UNITS or is_common_word(w)
                    or is_common_word(w + after)):
                return w
            return "\0"

        t = _PLACE_SUFFIX_RE.sub(_name, t)
        t = _KEEP_RE.sub("", t.replace("\0", _MASK))
        return re.sub(f"{_MASK}+", _MASK, t)

    return mask


#: characters of text whose shingles :func:`_shingle_sets` hashes at a time (its work arrays: 8 bytes × a few × this)
_SHINGLE_BLOCK = 1 << 21
_SHINGLE_MUL = np.uint64(0x100000001B3)
_SHINGLE_MIX = np.uint64(0xBF58476D1CE4E5B9)


def _shingle_sets(texts: Sequence[str], k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each text's distinct ``k``-character shingles, hashed to 32 bits and sorted, one text after another:
    ``(flat, bounds)``, text ``i``'s being ``flat[bounds[i]:bounds[i + 1]]``. A text of ``k`` characters or fewer
    is one shingle; an empty text has none. Hashed with numpy a block of texts at a time (a Python call per
    shingle took a third of :func:`find_reuse`)."""
    from .parallel import cut_by_size

    parts, counts = [], np.zeros(len(texts), dtype=np.int64)
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    for a, b in cut_by_size(lengths, _SHINGLE_BLOCK):
        lens = lengths[a:b]
        codes = P.code_points("".join(texts[a:b])).astype(np.uint64) + 1
        n_sh = np.where(lens == 0, 0, np.maximum(lens - k + 1, 1))
        firsts = np.repeat(np.cumsum(lens) - lens, n_sh)
        pos = firsts + (np.arange(len(firsts), dtype=np.int64) - np.repeat(np.cumsum(n_sh) - n_sh, n_sh))
        width = np.repeat(np.minimum(lens, k), n_sh)
        h = np.zeros(len(pos), dtype=np.uint64)
        last = max(len(codes) - 1, 0)
        for j in range(k):
            step = h * _SHINGLE_MUL + codes[np.minimum(pos + j, last)] if len(codes) else h
            h = np.where(j < width, step, h)
        h ^= h >> np.uint64(31)
        h *= _SHINGLE_MIX
        h = (h >> np.uint64(32)).astype(np.uint32)
        owner = np.repeat(np.arange(b - a, dtype=np.int64), n_sh)
        order = np.lexsort((h, owner))
        h, owner = h[order], owner[order]
        new = np.ones(len(h), dtype=bool)
        new[1:] = (h[1:] != h[:-1]) | (owner[1:] != owner[:-1])
        parts.append(h[new])
        counts[a:b] = np.bincount(owner[new], minlength=b - a)
    bounds = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(counts, out=bounds[1:])
    flat = np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint32)
    return flat, bounds


#: shingles hashed at a time by :func:`_minhash` (its work arrays: 16 hashes × this × 8 bytes, a few of them)
_MINHASH_BLOCK = 1 << 20


def _minhash(shingles: np.ndarray, bounds: np.ndarray, num_perm: int, seed: int) -> np.ndarray:
    """MinHash signatures (one row per set, ``num_perm`` columns), each column a multiply-add-shift hash.

    Set ``i`` is ``shingles[bounds[i]:bounds[i + 1]]`` (none may be empty); the sets are hashed a block at a
    time, so memory does not grow with the corpus beyond the signatures."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 1 << 63, size=num_perm, dtype=np.uint64) * np.uint64(2) + np.uint64(1)  # odd, 64 bits
    b = rng.integers(0, 1 << 63, size=num_perm, dtype=np.uint64) * np.uint64(2)
    shift = np.uint64(32)
    n = len(bounds) - 1
    sig = np.empty((n, num_perm), dtype=np.uint64)
    step = 16
    first = 0
    while first < n:
        # whole sets up to about _MINHASH_BLOCK shingles (at least one set)
        last = max(first + 1, int(np.searchsorted(bounds, bounds[first] + _MINHASH_BLOCK, side="right")) - 1)
        flat = shingles[bounds[first]:bounds[last]].astype(np.uint64)
        offsets = bounds[first:last] - bounds[first]
        for j in range(0, num_perm, step):
            aa, bb = a[j:j + step, None], b[j:j + step, None]
            hv = (aa * flat[None, :] + bb) >> shift  # multiply-add-shift: wraps mod 2^64, the high 32 bits kept
            sig[first:last, j:j + step] = np.minimum.reduceat(hv, offsets, axis=1).T
        first = last
    return sig


def _units(corpus: "Corpus", unit: str) -> list[dict[str, Any]]:
    s = corpus.sentences
    s = s[s["role"] != "title"]
    out = []
    for r in s[["doc_id", "text", "start", "end"]].itertuples(index=False):
        doc_id, text, start = str(r.doc_id), str(r.text), int(r.start)
        if unit == "sentence":
            out.append({"doc_id": doc_id, "start": start, "end": int(r.end), "text": text})
            continue
        pos = 0
        for m in re.finditer(r"[，；;：:。！？!?]|$", text):
            seg = text[pos:m.end()]
            a = pos + len(seg) - len(seg.lstrip())
            seg_s = seg.strip()
            if seg_s:
                out.append({"doc_id": doc_id, "start": start + a, "end": start + a + len(seg_s), "text": seg_s})
            pos = m.end()
            if m.end() >= len(text):
                break
    return out


def find_reuse(source: "Corpus | str", *, min_chars: int = 12, threshold: float = 0.8, mask: bool = True,
               unit: Literal["sentence", "clause"] = "sentence", shingle: int = 4, num_perm: int = 128,
               merge: bool = True, max_candidates: int | None = 5_000_000, progress: bool = False) -> pd.DataFrame:
    """Sentences (or clauses) shared between different documents: template reuse and copying.

    Each sentence of at least ``min_chars`` characters (punctuation not counted) is masked
    (:func:`mask_text`: numbers, placeholders and place names become ``#``; ``mask=False``
    keeps them), cut into character ``shingle``-grams and compared through MinHash signatures
    (``num_perm`` hashes, LSH bands of four) to find candidates; every candidate pair is then
    scored exactly, ``similarity`` being the Jaccard index of the two shingle sets, and kept
    when it reaches ``threshold``. Pairs within one document are not reported. With ``merge``,
    runs of consecutive pairs (sentence i, i+1 … of one document against j, j+1 … of the
    other) become one passage, scored again as a whole (and kept apart if the whole falls
    below ``threshold``). ``unit="clause"`` compares comma-delimited clauses, which
    finds template phrases (在区委区政府的坚强领导下) inside otherwise different sentences.

    Candidate pairs grow with the square of how often a sentence recurs: in a corpus where one
    template sentence stands in thousands of documents they would fill the memory. Above
    ``max_candidates`` (about 100 bytes each) a ``ValueError`` says so before that happens; pass
    ``None`` to go on, or a subset of documents (:meth:`~plan_analysis.corpus.Corpus.select`), a higher
    ``min_chars`` or ``threshold``.
    ``progress`` shows a bar for each long step: masking the units, scoring the candidate pairs and
    describing the pairs kept.

    Columns: :data:`REUSE_FIELDS` + ``shared`` (the longest masked run the two have in common),
    ``containment`` (shared shingles over those of the shorter side: 1.0 when one side is a
    template phrase the other merely extends),
    ``place_a``, ``place_b``, ``start_a``, ``end_a``, ``start_b``, ``end_b`` (cleaned text),
    ``source_file_a``, ``source_file_b``, ``n_units``, ``unit``; sorted by similarity (highest first), then the
    longer ``text_a``, the two documents in corpus order, ``start_a`` and ``start_b``.

    >>> r = find_reuse({"a": "红星镇全年完成矛盾纠纷排查化解120件，调处成功率达到98%。",
    ...                 "b": "青山镇全年完成矛盾纠纷排查化解85件，调处成功率达到95%。"})
    >>> r[["doc_a", "doc_b", "similarity"]].values.tolist()
    [['a-1', 'b-1', 1.0]]
    """
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold is a Jaccard similarity in (0, 1], got {threshold}")
    if min_chars < 1 or shingle < 1:
        raise ValueError(f"min_chars and shingle must be positive, got min_chars={min_chars}, shingle={shingle}")
    if unit not in ("sentence", "clause"):
        raise ValueError(f"unit must be 'sentence' or 'clause', got {unit!r}")
    rows_per_band = 4
    if num_perm < rows_per_band or num_perm % rows_per_band:
        raise ValueError(f"num_perm must be a positive multiple of {rows_per_band}, got {num_perm}")
    from .parallel import progress_bar

    corpus = as_corpus(source, what="find_reuse")
    docs = {d["doc_id"]: d for d in _doc_records(corpus)}
    order = {d: i for i, d in enumerate(docs)}
    place_masker = _make_masker(d["place"] for d in docs.values())

    def masker(text: str) -> str:
        return place_masker(text) if mask else _KEEP_RE.sub("", text)

    units = []
    candidate_units = _units(corpus, unit)
    with progress_bar(len(candidate_units), desc=f"reuse: masking {unit}s", unit=unit, enabled=progress) as bar:
        for u in candidate_units:
            if bar is not None:
                bar.update()  # about 0.3 µs: nothing beside masking a unit
            if len(re.sub(r"[\W_]", "", u["text"])) < min_chars:
                continue  # characters that count: Han, Latin letters and digits
            masked = masker(u["text"])
            if masked.replace(_MASK, "") == "":
                continue
            u["masked"] = masked
            units.append(u)
    del candidate_units
    cols = list(REUSE_FIELDS) + ["shared", "containment", "place_a", "place_b", "start_a", "end_a", "start_b", "end_b",
                                 "source_file_a", "source_file_b", "n_units", "unit"]
    if len(units) < 2:
        return pd.DataFrame(columns=cols)
    # index of each unit within its document, for merging consecutive pairs
    per_doc: dict[str, int] = {}
    for u in units:
        u["i"] = per_doc.get(u["doc_id"], 0)
        per_doc[u["doc_id"]] = u["i"] + 1
    # Units of the same masked text have the same shingles and signature: they meet the same candidates and
    # score the same. So the comparison runs on distinct texts (a template recurs: on 1,500 documents of the
    # benchmark corpus, 2.3 million candidate pairs of clauses were 47 thousand pairs of texts), and the pairs
    # of texts that reach the threshold are then spread back over their units.
    text_ids: dict[str, int] = {}
    tid = np.array([text_ids.setdefault(u["masked"], len(text_ids)) for u in units], dtype=np.int64)
    by_text = np.argsort(tid, kind="stable")
    units_of = np.split(by_text, np.flatnonzero(np.diff(tid[by_text])) + 1)  # each text's units, ascending
    doc_codes = np.array([order[u["doc_id"]] for u in units], dtype=np.int64)
    # each text's shingles, sorted, one after another in one array (a set per unit took ~8 kB each)
    shingles, bounds = _shingle_sets(list(text_ids), shingle)
    del text_ids
    sig = _minhash(shingles, bounds, num_perm, seed=20261122)
    ts, tt = _candidate_pairs(sig, rows_per_band=rows_per_band)
    del sig
    # each text's documents and how many of its units each holds; a text whose units stand in two documents or
    # more is a candidate with itself
    text_docs = [np.unique(doc_codes[us], return_counts=True) for us in units_of]
    again = np.flatnonzero([len(ds) >= 2 for ds, _ in text_docs])
    ts, tt = np.concatenate([ts, again]), np.concatenate([tt, again])
    n_pairs = _unit_pair_counts(ts, tt, text_docs)
    del text_docs
    if max_candidates is not None and int(n_pairs.sum()) > max_candidates:
        top = int(max(len(us) for us in units_of))
        raise ValueError(
            f"find_reuse: more than max_candidates={max_candidates:,} candidate pairs ({int(n_pairs.sum()):,}, among "
            f"{len(units):,} {unit}s of {len(docs):,} documents; one text alone stands in {top:,} {unit}s). The "
            f"same text recurs across very many documents. Run it on a subset of documents (corpus.select(...): one "
            f"place or year, or a sample), raise min_chars or threshold, or pass max_candidates=None to go on "
            f"(about 100 bytes of memory per pair).")
    keep = n_pairs > 0
    ts, tt, n_pairs = ts[keep], tt[keep], n_pairs[keep]
    cut = bounds.tolist()
    scores = np.empty(len(ts), dtype=np.float64)
    with progress_bar(int(n_pairs.sum()), desc="reuse: scoring candidates", unit="pair", enabled=progress) as bar:
        for k, (s_, t_, n) in enumerate(zip(ts.tolist(), tt.tolist(), n_pairs.tolist())):
            scores[k] = _jaccard(shingles[cut[s_]:cut[s_ + 1]], shingles[cut[t_]:cut[t_ + 1]])
            if bar is not None:
                bar.update(n)
    kept = scores >= threshold
    i_of, j_of, sim = _unit_pairs(ts[kept], tt[kept], scores[kept], units_of, doc_codes)
    del ts, tt, n_pairs, scores, kept, units_of
    pairs = list(zip(i_of.tolist(), j_of.tolist(), sim.tolist()))
    del i_of, j_of, sim
    if merge:
        pairs = _merge_pairs(pairs, units, docs, masker, shingle, threshold)
    else:
        pairs = [(i, j, s, 1) for i, j, s in pairs]
    rows = []
    # template text recurs: the same two masked texts meet again and again; their longest shared run and
    # shingles in common are worked out once
    described: dict[tuple[str, str], tuple[str, int]] = {}
    with progress_bar(len(pairs), desc="reuse: describing pairs", unit="pair", enabled=progress) as bar:
        for ia, ib, sim_ab, n_units in pairs:
            if bar is not None:
                bar.update()
            ua, ub = ia if isinstance(ia, dict) else units[ia], ib if isinstance(ib, dict) else units[ib]
            da, db = docs[ua["doc_id"]], docs[ub["doc_id"]]
            sa = ua["shingles"] if isinstance(ia, dict) else shingles[cut[tid[ia]]:cut[tid[ia] + 1]]
            sb = ub["shingles"] if isinstance(ib, dict) else shingles[cut[tid[ib]]:cut[tid[ib] + 1]]
            pair = (ua["masked"], ub["masked"])
            known = described.get(pair)
            if known is None:
                known = described[pair] = (_longest_common_run(*pair), np.intersect1d(sa, sb, assume_unique=True).size)
            rows.append((ua["doc_id"], ub["doc_id"], da["text"][ua["start"]:ua["end"]],
                         db["text"][ub["start"]:ub["end"]], round(float(sim_ab), 4), known[0],
                         round(known[1] / max(min(len(sa), len(sb)), 1), 4), da["place"], db["place"],
                         ua["start"], ua["end"], ub["start"], ub["end"], da["source_file"], db["source_file"], n_units))
    del described, pairs
    if not rows:
        return pd.DataFrame(columns=cols)
    return _reuse_table(rows, corpus, order, unit=unit, columns=cols)


#: the fields of a row of :func:`find_reuse` before its raw offsets are added, in order
_REUSE_ROW = ("doc_a", "doc_b", "text_a", "text_b", "similarity", "shared", "containment", "place_a", "place_b",
              "start_a", "end_a", "start_b", "end_b", "source_file_a", "source_file_b", "n_units")


def _candidate_pairs(sig: np.ndarray, *, rows_per_band: int) -> tuple[np.ndarray, np.ndarray]:
    """The pairs of rows ``(s, t)``, ``s < t``, of signatures ``sig`` that agree on a whole LSH band, sorted, as two
    arrays.

    Each band's groups of equal keys give their pairs as numpy codes ``s * n + t``; duplicates (a pair found in
    several bands) are removed whenever the codes found since grow past those known to be distinct, so the work
    arrays stay within a few times the result."""
    n, num_perm = sig.shape
    mix = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x27D4EB2F165667C5],
                   dtype=np.uint64)[:rows_per_band]
    found: list[np.ndarray] = []
    known = pending = 0  # distinct codes in found[0] after the last compaction; codes appended since

    def compact() -> None:
        nonlocal found, known, pending
        merged = np.unique(np.concatenate(found)) if found else np.zeros(0, dtype=np.int64)
        found, known, pending = [merged], len(merged), 0

    seen_groups: set[bytes] = set()  # the same group in another band adds no new pair
    for band in range(num_perm // rows_per_band):
        block = sig[:, band * rows_per_band:(band + 1) * rows_per_band]
        with np.errstate(over="ignore"):
            keys = (block * mix).sum(axis=1)  # wraps mod 2^64; a collision only adds a candidate
        idx = np.argsort(keys, kind="stable")
        sorted_keys = keys[idx]
        starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
        ends = np.r_[starts[1:], len(idx)]
        for g in np.flatnonzero(ends - starts >= 2):
            members = idx[starts[g]:ends[g]]  # ascending: the sort is stable
            group = members.tobytes()
            if group in seen_groups:
                continue
            seen_groups.add(group)
            x, y = np.triu_indices(len(members), 1)
            found.append(members[x].astype(np.int64) * n + members[y])
            pending += len(x)
            if pending > max(known, 1 << 20):
                compact()
    compact()
    pairs = found[0]
    return pairs // max(n, 1), pairs % max(n, 1)


def _unit_pair_counts(ts: np.ndarray, tt: np.ndarray,
                      text_docs: Sequence[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """For each pair of texts ``(ts[k], tt[k])`` (the same text twice for its own repeats): how many pairs of their
    units stand in two different documents. ``text_docs[t]``: text ``t``'s documents (sorted) and its units in each."""
    out = np.empty(len(ts), dtype=np.int64)
    for k, (s_, t_) in enumerate(zip(ts.tolist(), tt.tolist())):
        (ds, ns), (dt, nt) = text_docs[s_], text_docs[t_]
        if s_ == t_:
            n = int(ns.sum())
            out[k] = (n * n - int((ns * ns).sum())) // 2
        else:
            _, a, b = np.intersect1d(ds, dt, assume_unique=True, return_indices=True)
            out[k] = int(ns.sum()) * int(nt.sum()) - int((ns[a] * nt[b]).sum())
    return out


def _unit_pairs(ts: np.ndarray, tt: np.ndarray, sims: np.ndarray, units_of: Sequence[np.ndarray],
                doc_codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pairs of units of different documents that pairs of texts stand for, each with its text pair's similarity:
    ``(a, b, similarity)``, ``a`` the unit of the document that comes first."""
    parts_a, parts_b, parts_s = [], [], []
    for s_, t_, sim in zip(ts.tolist(), tt.tolist(), sims.tolist()):
        us, ut = units_of[s_], units_of[t_]
        if s_ == t_:
            x, y = np.triu_indices(len(us), 1)
            a, b = us[x], us[y]
        else:
            a, b = np.repeat(us, len(ut)), np.tile(ut, len(us))
        apart = doc_codes[a] != doc_codes[b]
        a, b = a[apart], b[apart]
        first = doc_codes[a] < doc_codes[b]
        parts_a.append(np.where(first, a, b))
        parts_b.append(np.where(first, b, a))
        parts_s.append(np.full(len(a), sim))
    if not parts_a:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    return np.concatenate(parts_a), np.concatenate(parts_b), np.concatenate(parts_s)


def _reuse_table(rows: list[tuple[Any, ...]], corpus: "Corpus", order: Mapping[str, int], *, unit: str,
                 columns: list[str]) -> pd.DataFrame:
    """The table of :func:`find_reuse` from its rows (:data:`_REUSE_ROW`), with raw offsets, sorted (see there).

    Sorted before the table is made, so its columns are built once, in their final order."""
    data = dict(zip(_REUSE_ROW, zip(*rows)))
    rows.clear()
    sim = np.asarray(data["similarity"], dtype=np.float64)
    len_a = np.fromiter(map(len, data["text_a"]), dtype=np.int64, count=len(sim))
    oa = np.fromiter((order[d] for d in data["doc_a"]), dtype=np.int64, count=len(sim))
    ob = np.fromiter((order[d] for d in data["doc_b"]), dtype=np.int64, count=len(sim))
    start_a = np.asarray(data["start_a"], dtype=np.int64)
    start_b = np.asarray(data["start_b"], dtype=np.int64)
    perm = np.lexsort((start_b, start_a, ob, oa, -len_a, -sim))
    out: dict[str, Any] = {}
    for name in _REUSE_ROW:
        values = data.pop(name)
        if name in ("similarity", "containment"):
            out[name] = np.asarray(values, dtype=np.float64)[perm]
        elif name in ("start_a", "end_a", "start_b", "end_b", "n_units"):
            out[name] = np.asarray(values, dtype=np.int64)[perm]
        else:
            out[name] = pd.array(values, dtype="str").take(perm)
    for side in ("a", "b"):
        out[f"raw_start_{side}"], out[f"raw_end_{side}"] = corpus.raw_spans(
            out[f"doc_{side}"].tolist(), out[f"start_{side}"], out[f"end_{side}"])
    out["unit"] = pd.array([unit] * len(perm), dtype="str")
    return pd.DataFrame(out, columns=columns)


#: below this many characters in both texts, :func:`_longest_common_run` asks difflib (faster there)
RUN_HASH_MIN_CHARS = 2000
#: an odd multiplier, so invertible modulo 2**64: the hash of a run of text is a difference of prefix sums
_RUN_HASH_BASE = 0x9E3779B97F4A7C15


def _powers(base: int, n: int) -> np.ndarray:
    """``base**k`` modulo 2**64 for ``k`` in ``0 … n - 1``."""
    steps = np.full(n, base, dtype=np.uint64)
    steps[0] = 1
    return np.cumprod(steps, dtype=np.uint64)


def _longest_common_run(a: str, b: str) -> str:
    """The longest run of characters ``a`` and ``b`` share (the first in ``a`` of those as long), as
    :class:`difflib.SequenceMatcher` finds it.

    For long texts (:data:`RUN_HASH_MIN_CHARS`), by bisecting its length: ``a`` and ``b`` share a run
    of ``n`` characters when the hash of one of ``a``'s is among those of ``b``'s (all computed at
    once with numpy) and that run is in ``b``; then they share one of every shorter length.
    SequenceMatcher took up to 0.1 s for two nearly equal passages of 7,000 characters: 2.8 of
    the 3.3 s it spent describing the reused sentences of 1,500 documents of the 100 MB corpus
    went to pairs of 2,000 characters or more.

    >>> _longest_common_run("全面落实#镇安全生产责任制", "落实安全生产责任")
    '安全生产责任'
    """
    if len(a) >= len(b) and b in a:
        return b
    if a in b:
        return a
    if len(a) + len(b) < RUN_HASH_MIN_CHARS:
        m = SequenceMatcher(None, a, b, autojunk=False).find_longest_match(0, len(a), 0, len(b))
        return a[m.a:m.a + m.size]
    lo, hi, at = 0, min(len(a), len(b)) - 1, 0  # neither holds the other: the run is shorter than both
    size = max(len(a), len(b)) + 1
    powers, inverses = _powers(_RUN_HASH_BASE, size), _powers(pow(_RUN_HASH_BASE, -1, 1 << 64), size)
    prefixes = []
    for text in (a, b):  # P[i] = sum of code[k] * base**k for k < i
        codes = P.code_points(text).astype(np.uint64)
        prefix = np.zeros(len(codes) + 1, dtype=np.uint64)
        np.cumsum(codes * powers[:len(codes)], dtype=np.uint64, out=prefix[1:])
        prefixes.append(prefix)
    pa_, pb_ = prefixes
    while lo < hi:
        n = (lo + hi + 1) // 2
        # the run at i hashes to (P[i + n] - P[i]) / base**i
        ha = (pa_[n:] - pa_[:-n]) * inverses[:len(pa_) - n]
        hb = set(((pb_[n:] - pb_[:-n]) * inverses[:len(pb_) - n]).tolist())
        # hashes can collide: the first run of a that is in b is the one
        first = next((i for i, h in enumerate(ha.tolist()) if h in hb and a[i:i + n] in b), -1)
        if first < 0:
            hi = n - 1
        else:
            lo, at = n, first
    return a[at:at + lo]


def _merge_pairs(pairs: list[tuple[int, int, float]], units: list[dict[str, Any]], docs: dict[str, dict[str, Any]],
                 masker: Callable[[str], str], shingle: int, threshold: float) -> list[tuple[Any, Any, float, int]]:
    """Join runs of consecutive unit pairs (a_i ~ b_j, a_i+1 ~ b_j+1 …) into passages.

    A passage spans the text from its first to its last unit, short units in between included;
    its similarity is computed again on that whole span, and when it falls below ``threshold``
    the run is reported as its separate pairs instead. A passage's side carries its ``shingles``.
    """
    by_key = {(units[i]["doc_id"], units[i]["i"], units[j]["doc_id"], units[j]["i"]): (i, j, s) for i, j, s in pairs}
    runs: list[list[tuple[int, int, float]]] = []
    sides: list[dict[str, Any]] = []  # a run's two passages, two per run of more than one pair
    # a template passage meets many others: each (document, start, end) is made once, and each distinct text
    # (the same passage stands in many documents) masked and shingled once
    passages: dict[tuple[str, int, int], dict[str, Any]] = {}
    masked_of: dict[str, str] = {}
    for key in sorted(by_key, key=lambda k: (k[0], k[2], k[1], k[3])):
        da, ia, db, ib = key
        if (da, ia - 1, db, ib - 1) in by_key:
            continue  # inside a run: handled from the run's start
        run = [by_key[key]]
        while (da, ia + len(run), db, ib + len(run)) in by_key:
            run.append(by_key[(da, ia + len(run), db, ib + len(run))])
        runs.append(run)
        if len(run) > 1:
            ends = ((da, units[run[0][0]], units[run[-1][0]]), (db, units[run[0][1]], units[run[-1][1]]))
            for doc_id, first, last in ends:
                where = (doc_id, first["start"], last["end"])
                side = passages.get(where)
                if side is None:
                    text = docs[doc_id]["text"][first["start"]:last["end"]]
                    masked = masked_of.get(text)
                    if masked is None:
                        masked = masked_of[text] = masker(text)
                    side = passages[where] = {"doc_id": doc_id, "start": first["start"], "end": last["end"],
                                              "masked": masked}
                sides.append(side)
    distinct = list(passages.values())
    slot: dict[str, int] = {}
    where_in = [slot.setdefault(side["masked"], len(slot)) for side in distinct]
    flat, bounds = _shingle_sets(list(slot), shingle)  # every distinct passage text at once
    for side, k in zip(distinct, where_in):
        side["shingles"] = flat[bounds[k]:bounds[k + 1]]
    del passages, distinct, masked_of, slot
    out: list[tuple[Any, Any, float, int]] = []
    pairs_of_sides = iter(zip(sides[::2], sides[1::2]))
    for run in runs:
        if len(run) == 1:
            i, j, s = run[0]
            out.append((i, j, s, 1))
            continue
        side_a, side_b = next(pairs_of_sides)
        sim = _jaccard(side_a["shingles"], side_b["shingles"])
        if sim >= threshold:
            out.append((side_a, side_b, sim, len(run)))
        else:
            out.extend((i, j, s, 1) for i, j, s in run)
    return out


def _jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """The Jaccard index of two sorted arrays of distinct shingles."""
    both = np.intersect1d(a, b, assume_unique=True).size
    return both / (len(a) + len(b) - both) if len(a) + len(b) else 0.0


# --- word clouds -----------------------------------------------------------------------------
def word_frequencies(source: Any, *, by: str = "place", group: Any = None, min_len: int = 2,
                     slogans: Sequence[str] | None = None) -> Counter:
    """Count the words a word cloud draws: segmented tokens, slogans whole, stopwords out.

    Stopwords exclude the policy verbs (坚持, 推进 … are kept); numbers and placeholders never
    count. ``source`` is a corpus (``group`` selects the documents whose ``by`` column equals it, or
    is in it when a list), a text, a mapping name → text (as :func:`~plan_analysis.corpus.texts_corpus` takes), a
    sequence of words or :class:`~plan_analysis.tokenize.Token` objects, or a mapping word → frequency (numbers:
    used as is, placeholders removed). ``slogans`` are
    the words kept whole (default: :func:`slogan_words` of the whole corpus; pass them to
    save recomputing them for each group).

    >>> word_frequencies("持续推进“千万工程”，持续深化改革，规上工业增长xx%").most_common(2)
    [('持续', 2), ('推进', 1)]
    """
    def _clean(words: Iterable[tuple[str, float]]) -> Counter:
        out: Counter = Counter()
        for w, f in words:
            w = str(w)
            if len(w) < min_len or _NUMERIC_TOKEN_RE.match(w):
                continue
            if placeholder_spans(w):
                continue
            out[w] += f
        return out

    if isinstance(source, Mapping) and not _is_texts(source):
        bad = next((f for f in source.values() if not isinstance(f, numbers.Real)), None)
        if bad is not None:
            raise TypeError(f"word_frequencies reads a mapping as word → frequency (a number) or name → text, not "
                            f"a mix: got {bad!r} ({type(bad).__name__})")
        return _clean((w, float(f)) for w, f in source.items() if f and f > 0)
    if isinstance(source, (list, tuple)) and not isinstance(source, str):
        words = [t.word if hasattr(t, "word") else str(t) for t in source]
        from .tokenize import load_stopwords

        stop = load_stopwords()
        return _clean((w, 1) for w in words if w not in stop)
    corpus = as_corpus(source, what="word_frequencies")
    docs = corpus.documents
    if by not in docs.columns:  # checked with or without a group: a misspelt column is never ignored
        raise KeyError(missing_column(by, docs.columns, what="word_frequencies", table="corpus.documents"))
    if group is not None:
        wanted = _as_set(group)
        docs = docs[docs[by].astype(object).isin(wanted)]
        if docs.empty:
            present = sorted({str(v) for v in corpus.documents[by].dropna()})
            raise ValueError(f"no document has {by} in {sorted(map(str, wanted))}; "
                             f"values present: {', '.join(present[:30])}")
    extra = slogan_words(corpus) if slogans is None else list(_as_words(slogans))
    cnt: Counter = Counter()
    for found in _token_lists(docs["text"].astype(str), extra, min_len=min_len):
        cnt.update(found)
    return _clean(cnt.items())


def word_cloud(source: Any, *, by: str = "place", group: Any = None, font_path: str | None = None,
               max_words: int = 100, width: int = 800, height: int = 400, background_color: str = "white",
               min_len: int = 2, slogans: Sequence[str] | None = None, random_state: int = 0,
               colormap: str | None = None) -> "WordCloud":
    """A word cloud from segmented tokens, drawn with the project's CJK font.

    Frequencies come from :func:`word_frequencies` (same ``source``/``by``/``group``/``slogans``).
    ``font_path`` defaults to :func:`~plan_analysis.fonts.find_cjk_font`, the font
    :func:`~plan_analysis.fonts.use_cjk_font` gives matplotlib. wordcloud draws empty boxes
    for characters its font lacks, silently; here a :class:`ValueError` names them instead.
    Show it with ``ax.imshow(wc.to_array())``.

    >>> wc = word_cloud("持续推进“千万工程”，持续深化改革，聚焦乡村振兴", width=200, height=100)
    >>> sorted(w for (w, _), *_ in wc.layout_)[:2]
    ['乡村振兴', '千万工程']
    """
    from wordcloud import WordCloud

    from .fonts import find_cjk_font, missing_glyphs

    for name, value in (("max_words", max_words), ("width", width), ("height", height)):
        check_count(value, f"{name} must be a whole number of 1 or more")
    freqs = word_frequencies(source, by=by, group=group, min_len=min_len, slogans=slogans)
    if not freqs:
        raise ValueError("no words to draw: the selection is empty once stopwords, numbers and placeholders are out")
    path = str(font_path) if font_path is not None else str(find_cjk_font())
    top = dict(freqs.most_common(max_words))
    missing = missing_glyphs("".join(top), path)
    if missing:
        bad = [w for w in top if any(ch in missing for ch in w)][:10]
        raise ValueError(f"font {path} has no glyph for {''.join(sorted(missing))!r} (in {', '.join(bad)}); "
                         "wordcloud would draw boxes. Pass font_path= a font that covers them "
                         "(plan_analysis.find_cjk_font()) or leave those words out")
    wc = WordCloud(font_path=path, width=width, height=height, background_color=background_color,
                   max_words=max_words, random_state=random_state, prefer_horizontal=1.0, collocations=False,
                   colormap=colormap)
    return wc.generate_from_frequencies(top)
