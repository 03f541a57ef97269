"""The project's segmenter gives jieba's own words, exactly, on the bundled texts and on arbitrary text."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from plan_analysis import tokenize as tk
from plan_analysis.load import decode_file

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = sorted((ROOT / "data" / "raw").glob("*.txt")) + \
    sorted((ROOT / "data" / "corpora" / "provincial-2026" / "texts").glob("*.txt"))

def _text(path: Path) -> str:
    return decode_file(path, path.read_bytes())[0]


# characters jieba treats differently: Han inside and outside its block range, letters, digits and
# the joiners of its block pattern (+#&._%-), rare Han (no HMM emission), whitespace and punctuation
_ALPHABET = st.one_of(
    st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
    st.characters(min_codepoint=0x3400, max_codepoint=0x4DBF),
    st.sampled_from(list("的了是在和规上工业总产值增长招商引资枫桥经验秋长百禄街道镇乡村振兴人工智能发展")),
    st.sampled_from(list("abcXYZ0123456789+#&._%-，。、；：“”（）\n\r\t \u3000")),
)
cjk_text = st.text(alphabet=_ALPHABET, max_size=300)
words_text = st.lists(st.sampled_from(["规上工业", "总产值", "增长", "6.5%", "招商引资", "黄磏港", "秋长", "xx%",
                                       "平安", "建设", "，", "人工智能+", "乡村", "振兴", "的", "了", "20xx年", "A"]),
                      max_size=40).map("".join)


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.name)
def test_cut_words_equals_jieba_on_every_bundled_file(path):
    text = _text(path)
    tok = tk.get_tokenizer()
    assert tk.cut_words(text) == tok.lcut(text)
    assert tk.cut_words(text, hmm=False) == tok.lcut(text, HMM=False)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=200), cjk_text, words_text))
def test_cut_words_equals_jieba_on_arbitrary_text(text):
    assert tk.cut_words(text) == tk.get_tokenizer().lcut(text)


def test_tokenize_is_unchanged_by_the_fast_segmenter(monkeypatch):
    texts = [_text(p) for p in BUNDLED[:8]]
    fast = [[(t.word, t.start, t.end) for t in tk.tokenize(x)] for x in texts]
    monkeypatch.setattr(tk, "_cut", lambda text, hmm, key: tk.get_tokenizer().lcut(text, HMM=hmm))  # jieba's own cut
    slow = [[(t.word, t.start, t.end) for t in tk.tokenize(x)] for x in texts]
    assert fast == slow
    assert sum(map(len, fast)) > 10_000


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(cjk_text, words_text))
def test_token_offsets_slice_back_and_skip_placeholders(text):
    from plan_analysis.normalize import placeholder_spans

    toks = tk.tokenize(text)
    blocked = {i for s, e, _, _ in placeholder_spans(text) for i in range(s, e)}
    last = 0
    for t in toks:
        assert text[t.start:t.end] == t.word
        assert t.start >= last
        assert not blocked.intersection(range(t.start, t.end))
        last = t.end


def test_tokenize_many_rejects_unknown_options():
    with pytest.raises(TypeError, match="drop_punctuation"):
        tk.tokenize_many(["推进"], workers=1, drop_punctuation=True)


def test_tokenize_many_refuses_one_text():
    """A str is a sequence of characters: tokenize_many("推进改革") would give one list per character."""
    with pytest.raises(TypeError, match=r"tokenize\(text\)"):
        tk.tokenize_many("推进改革", workers=1)


def test_is_common_word_agrees_with_the_tagged_dictionary_on_every_word():
    """The compact set of common words answers exactly what the full (frequency, tag) dictionary answers."""
    from plan_analysis.tokenize import _dict_tags, is_common_word

    tags = _dict_tags()
    for min_freq in (20, 3):
        differ = [w for w, (freq, tag) in tags.items()
                  if is_common_word(w, min_freq=min_freq) != (freq >= min_freq and not tag.startswith(("ns", "nr", "nz", "nt")))]
        assert not differ, differ[:10]
    assert not is_common_word("不在词典里的词")


def test_a_word_set_kept_on_disk_is_the_one_read_from_the_dictionary(tmp_path, monkeypatch, caplog):
    """The word sets are kept as files in the jieba cache folder: read back whole, rebuilt when the file is of
    another key or damaged, and built all the same when the folder cannot be written to."""
    from plan_analysis.tokenize import _dict_tags, _words_where

    monkeypatch.setenv("PLAN_ANALYSIS_CACHE", str(tmp_path / "cache"))
    want = frozenset(w for w, (_, tag) in _dict_tags().items() if tag == "p")

    def prepositions():
        return _words_where(lambda _, tag: tag == "p", name="test p")

    assert prepositions() == want
    (file,) = (tmp_path / "cache" / "jieba").glob("words-*.txt")
    assert file.read_text(encoding="utf-8").split("\n")[1:] == sorted(want)
    file.write_text(file.read_text(encoding="utf-8").replace("\n", "\n假词\n", 1), encoding="utf-8")
    assert "假词" in prepositions()  # the file is what is read
    for damage in ("another key\n在\n于", b"\xff\xfe"):
        file.write_bytes(damage if isinstance(damage, bytes) else damage.encode("utf-8"))
        assert prepositions() == want
        assert file.read_text(encoding="utf-8").split("\n")[1:] == sorted(want)  # rewritten
    monkeypatch.setenv("PLAN_ANALYSIS_CACHE", str(file / "not a folder"))
    assert prepositions() == want


def test_has_tag_agrees_with_the_tagged_dictionary_on_every_word():
    from plan_analysis.tokenize import _dict_tags, has_tag

    tags = _dict_tags()
    for wanted in (("v", "vn", "vd"), ("n",), ("ns", "nt")):
        differ = [w for w, (_, tag) in tags.items() if has_tag(w, tags=wanted) != (tag in wanted)]
        assert not differ, differ[:10]
    assert not has_tag("不在词典里的词")


@settings(max_examples=500, deadline=None)
@given(st.lists(st.text(alphabet="推进工作+x1𠀋\ud800", min_size=1, max_size=6), min_size=1, max_size=12),
       st.text(alphabet="推进工作+x1和𠀋\ud800", max_size=60))
@example(["推进", "推进工作", "工", "作和"], "推进工作和推进工推作和")
def test_the_word_scanner_finds_what_the_alternation_of_its_words_longest_first_finds(words, text):
    import re

    from plan_analysis.tokenize import WordScanner

    alternation = re.compile("|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True)))
    assert WordScanner(words).spans(text) == [m.span() for m in alternation.finditer(text)]


def test_the_word_scanner_finds_the_slogans_of_the_bundled_corpus_where_their_alternation_does():
    import re

    from plan_analysis import load_corpus
    from plan_analysis.phrasing import extract_slogans, slogan_words
    from plan_analysis.tokenize import WordScanner

    corpus = load_corpus([*(ROOT / "data" / "raw").glob("*.txt"), *BUNDLED[-10:]], cache=False, progress=False)
    words = slogan_words(extract_slogans(corpus))
    assert len(words) > 50
    alternation = re.compile("|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True)))
    scanner = WordScanner(words)
    found = 0
    for text in corpus.documents["text"]:
        want = [m.span() for m in alternation.finditer(text)]
        assert scanner.spans(text) == want
        found += len(want)
    assert found > 500
