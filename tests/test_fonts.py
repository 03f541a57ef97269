"""The CJK font guarantee: a font is always found, covers the corpus, and
matplotlib fails loudly (strict mode) instead of drawing boxes."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import matplotlib
import pytest
from matplotlib.figure import Figure

from plan_analysis import fonts
from plan_analysis.fonts import find_cjk_font, missing_glyphs, use_cjk_font

RAW = Path(__file__).resolve().parents[1] / "data" / "raw"

# Real words and punctuation from the bundled corpus.
CORPUS_WORDS = [
    "铁西街道", "规上工业总产值", "招商引资", "网格治理", "枫桥经验", "秋长",
    "百禄镇", "灌南", "前江街道", "亿元", "％", "“", "”", "（", "）", "；",
    "、", "。", "：", "——", "《", "》",
]

# Characters a CJK UI font is unlikely to have: CJK Ext-B/Ext-G, private use.
RARE_CANDIDATES = ["\U0002A6A5", "\U00030000", "\ue000", "\U0010fffd"]


def _rare_char() -> str:
    for ch in RARE_CANDIDATES:
        if missing_glyphs(ch):
            return ch
    raise AssertionError(f"the pinned CJK font covers every candidate in {RARE_CANDIDATES!r}: add a character it lacks")


@pytest.fixture
def rc():
    """Isolate rcParams changes made by use_cjk_font()."""
    with matplotlib.rc_context():
        yield


def _render(title: str) -> bytes:
    fig = Figure(figsize=(3, 2))
    ax = fig.add_subplot()
    ax.plot([1, 2, 3], [-1, 0, 2])
    ax.set_title(title)
    ax.set_xlabel("年份")
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def test_font_found():
    path = find_cjk_font()
    assert path.is_file()
    assert not missing_glyphs(fonts.SAMPLE_TEXT, path)


@pytest.mark.parametrize("word", CORPUS_WORDS)
def test_font_covers_corpus_words(word):
    assert missing_glyphs(word) == set()


def test_font_covers_whole_bundled_corpus():
    text = "".join(p.read_text(encoding="utf-8") for p in sorted(RAW.glob("*.txt")))
    assert text, "no corpus files found"
    assert missing_glyphs(text) == set()


def test_missing_glyphs_reports_absent_and_ignores_whitespace():
    rare = _rare_char()
    assert missing_glyphs(f"街道\t\n\u3000 {rare}\x00\ufeff") == {rare}


def test_bundled_fallback_when_no_system_font(monkeypatch):
    monkeypatch.setattr(fonts, "_system_font", lambda: None)
    fonts.find_cjk_font.cache_clear()
    try:
        path = find_cjk_font()
        assert path.name == fonts.BUNDLED_FILE
        assert missing_glyphs("".join(CORPUS_WORDS), path) == set()
    finally:
        fonts.find_cjk_font.cache_clear()


def test_clear_error_when_nothing_found(monkeypatch):
    monkeypatch.setattr(fonts, "_system_font", lambda: None)
    monkeypatch.setattr(fonts, "_bundled_font", lambda: None)
    fonts.find_cjk_font.cache_clear()
    try:
        with pytest.raises(RuntimeError, match="pylopdf") as info:
            find_cjk_font()
        assert "Noto Sans CJK SC" in str(info.value)
        assert "requirements.txt" in str(info.value)
    finally:
        fonts.find_cjk_font.cache_clear()


def test_chinese_title_renders_without_warning(rc):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        path = use_cjk_font()
        png = _render("各街道2024年增长目标（亿元）")
    assert png.startswith(b"\x89PNG")
    assert path == find_cjk_font()
    assert matplotlib.rcParams["axes.unicode_minus"] is False


def test_strict_mode_turns_missing_glyph_into_error(rc):
    rare = _rare_char()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # only use_cjk_font's own filter may raise
        use_cjk_font(strict=True)
        with pytest.raises(UserWarning, match="missing from font"):
            _render(f"街道{rare}")


def test_non_strict_mode_only_warns(rc):
    rare = _rare_char()
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        use_cjk_font(strict=False)
        with pytest.warns(UserWarning, match="missing from font"):
            _render(f"街道{rare}")


def test_use_cjk_font_is_idempotent(rc):
    with warnings.catch_warnings():
        first = use_cjk_font()
        n_filters = len(warnings.filters)
        second = use_cjk_font()
        assert first == second
        assert len(warnings.filters) == n_filters
    family = matplotlib.rcParams["font.sans-serif"]
    assert family.count(family[0]) == 1


def test_font_path_works_for_wordcloud():
    from wordcloud import WordCloud

    cloud = WordCloud(font_path=str(find_cjk_font()), width=120, height=80, random_state=0)
    cloud.generate_from_frequencies({"招商引资": 5, "网格治理": 3, "亿元": 2})
    assert {word for (word, _), *_ in cloud.layout_} <= {"招商引资", "网格治理", "亿元"}
