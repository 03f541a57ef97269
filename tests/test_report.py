"""HTML report: offline pages with an embedded CJK subset font, failures
reported per notebook without stopping the others."""

from __future__ import annotations

import base64
import html as html_lib
import io
import logging
import re
import unicodedata

import nbformat
import pytest
from fontTools.ttLib import TTFont

from plan_analysis import report
from plan_analysis.report import FONT_FAMILY, build_report, embed_font

FONT_RE = re.compile(r"src:url\(data:font/woff;base64,([A-Za-z0-9+/=]+)\)")
TAG_RE = re.compile(r"<(script|link)\b[^>]*>", re.IGNORECASE)
EXTERNAL_ATTR_RE = re.compile(r"""\b(src|href)\s*=\s*["']?(https?:)?//""", re.IGNORECASE)


def _embedded_font(page: str) -> TTFont:
    fonts = FONT_RE.findall(page)
    assert len(fonts) == 1, f"expected one embedded font, found {len(fonts)}"
    return TTFont(io.BytesIO(base64.b64decode(fonts[0])))


def _cjk_chars(page: str) -> set[str]:
    text = html_lib.unescape(re.sub(r"<[^>]+>", " ", page))
    return {c for c in text if ord(c) > 0x7F and not c.isspace() and unicodedata.category(c)[0] != "C"}


def _external_refs(page: str) -> list[str]:
    return [tag for tag in (m.group(0) for m in TAG_RE.finditer(page)) if EXTERNAL_ATTR_RE.search(tag)]


# ---------------------------------------------------------------- embed_font

PAGE = (
    "<!DOCTYPE html><html><head><title>测试</title></head>"
    "<body><h1>铁西街道</h1><p>规上工业总产值增长5％，“招商引资”&amp;网格治理（枫桥经验）；</p>"
    "<table><tr><td>百禄镇</td><td>12.5亿元</td></tr></table></body></html>"
)


def test_embed_font_injects_font_face_in_head():
    page = embed_font(PAGE)
    head = page[: page.index("</head>")]
    assert f'@font-face{{font-family:"{FONT_FAMILY}"' in head
    assert "src:url(data:font/woff;base64," in head
    assert re.search(rf'body[^{{]*{{\s*font-family:\s*"{FONT_FAMILY}"', page)
    assert page.endswith(PAGE[PAGE.index("</head>"):])  # body untouched


def test_embedded_font_covers_page_and_is_a_small_subset():
    page = embed_font(PAGE)
    font = _embedded_font(page)
    cmap = font.getBestCmap()
    chars = _cjk_chars(PAGE)
    assert chars >= set("铁西街道％“”（）；")
    assert {c for c in chars if ord(c) not in cmap} == set()
    assert all(ord(c) in cmap for c in "AZaz09%&")  # ASCII is always included
    assert ord("鑫") not in cmap  # in the full font, but not on the page
    assert font.flavor == "woff"
    assert len(cmap) < 200


def test_embed_font_is_idempotent_and_works_without_head():
    once = embed_font(PAGE)
    twice = embed_font(once)
    assert twice.count("@font-face") == 1
    bare = embed_font("<p>前江街道</p>")
    assert bare.count("@font-face") == 1 and bare.endswith("<p>前江街道</p>")
    assert ord("前") in _embedded_font(bare).getBestCmap()


def test_strip_external_keeps_plain_links():
    page = (
        '<head><script src="https://cdn.example/require.js"></script>'
        "<link rel=stylesheet href=//cdn.example/x.css><script>var a = 1;</script></head>"
        '<body><a href="https://www.gov.cn/">来源</a></body>'
    )
    out = report._strip_external(page, "x")
    assert _external_refs(out) == []
    assert "<script>var a = 1;</script>" in out
    assert '<a href="https://www.gov.cn/">来源</a>' in out


def test_output_failure_detects_hidden_errors():
    v4 = nbformat.v4
    glyph = v4.new_code_cell("x")
    warning = "<ipython>:3: UserWarning: Glyph 57344 (\\ue000) missing from font(s) Noto Sans SC.\n"
    glyph.outputs = [v4.new_output("stream", name="stderr", text=warning)]
    allowed = v4.new_code_cell("y", metadata={"tags": ["raises-exception"]})
    allowed.outputs = [v4.new_output("error", ename="KeyError", evalue="k", traceback=[])]
    nb = v4.new_notebook(cells=[v4.new_markdown_cell("# t"), allowed, glyph])
    assert report._output_failure(nb)[:2] == (2, "UserWarning")
    nb.cells.pop()
    assert report._output_failure(nb) is None


def test_build_report_missing_dir(tmp_path):
    with pytest.raises(FileNotFoundError):
        build_report(notebooks_dir=tmp_path / "nope", out_dir=tmp_path / "out")


# -------------------------------------------------------------- build_report


def _write_notebooks(nb_dir, corpus):
    v4 = nbformat.v4
    ok = v4.new_notebook(cells=[
        v4.new_markdown_cell("# 测试报告\n\n铁西街道的增长目标。"),
        v4.new_code_cell("top_n = 3", metadata={"tags": ["parameters"]}),
        v4.new_code_cell(
            "import os\n"
            f"assert os.environ['PLAN_ANALYSIS_CORPUS'] == {str(corpus)!r}\n"
            f"assert os.getcwd() == {str(nb_dir)!r}\n"
            "import pandas as pd\n"
            "pd.DataFrame({'地区': ['秋长', '百禄镇'], '目标（亿元）': [1.5, 2.0]})"
        ),
        v4.new_code_cell(
            "import matplotlib.pyplot as plt\n"
            "from plan_analysis.fonts import use_cjk_font\n"
            "use_cjk_font()\n"
            "fig, ax = plt.subplots(figsize=(3, 2))\n"
            "ax.bar(['灌南', '前江街道'], [3, 5])\n"
            "ax.set_title('招商引资项目数')"
        ),
    ])
    fail = v4.new_notebook(cells=[
        v4.new_markdown_cell("# 会失败的笔记本"),
        v4.new_code_cell("x = 1"),
        v4.new_code_cell("raise ValueError('boom: 数据缺失')"),
        v4.new_code_cell("print('never reached')"),
    ])
    glyph = v4.new_notebook(cells=[
        v4.new_markdown_cell("# 缺字"),
        v4.new_code_cell(
            "import matplotlib.pyplot as plt\n"
            "from plan_analysis.fonts import use_cjk_font\n"
            "use_cjk_font()\n"
            "fig, ax = plt.subplots(figsize=(2, 2))\n"
            "ax.set_title('街道\\U0010fffd')"
        ),
    ])
    nbformat.write(ok, nb_dir / "01_ok.ipynb")
    nbformat.write(fail, nb_dir / "02_fail.ipynb")
    nbformat.write(glyph, nb_dir / "03_glyph.ipynb")
    nbformat.write(ok, nb_dir / "scratch.ipynb")  # not numbered: not part of the report


def test_build_report_end_to_end(tmp_path, monkeypatch, caplog):
    nb_dir = tmp_path / "notebooks"
    nb_dir.mkdir()
    (tmp_path / "corpus").mkdir()
    monkeypatch.chdir(tmp_path)
    _write_notebooks(nb_dir.resolve(), (tmp_path / "corpus").resolve())
    out = tmp_path / "site"

    with caplog.at_level(logging.INFO, logger="plan_analysis"):
        rc = build_report(notebooks_dir="notebooks", out_dir=out, corpus="corpus", timeout=120)

    assert rc != 0
    assert sorted(p.name for p in out.iterdir()) == [
        "01_ok.html", "02_fail.html", "03_glyph.html", "index.html",
    ]
    pages = {p.name: p.read_text(encoding="utf-8") for p in out.iterdir()}

    # every page: offline, with a font covering its Chinese text
    for name, page in pages.items():
        assert _external_refs(page) == [], name
        cmap = _embedded_font(page).getBestCmap()
        assert {c for c in _cjk_chars(page) if ord(c) not in cmap} == set(), name

    ok = pages["01_ok.html"]
    assert "<title>测试报告</title>" in ok
    assert re.search(r'<img[^>]+src="data:image/png;base64,', ok)
    assert "<table" in ok and "百禄镇" in ok
    assert "use_cjk_font()" not in ok  # code cells hidden by default
    assert "plan-analysis-failure" not in ok

    failed = pages["02_fail.html"]
    assert "plan-analysis-failure" in failed
    assert "ValueError" in failed and "boom" in failed
    assert "never reached" not in failed

    index = pages["index.html"]
    row_re = re.compile(r'<tr class="\w+"><td><a href="([^"]+)".*?</tr>')
    rows = {m.group(1): m.group(0) for m in row_re.finditer(index)}
    assert set(rows) == {"01_ok.html", "02_fail.html", "03_glyph.html"}
    assert "测试报告" in rows["01_ok.html"] and ">ok<" in rows["01_ok.html"]
    assert "会失败的笔记本" in rows["02_fail.html"]
    assert "failed" in rows["02_fail.html"] and "cell 2" in rows["02_fail.html"]
    assert "failed" in rows["03_glyph.html"] and "Glyph" in rows["03_glyph.html"]

    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("02_fail.ipynb" in m and "cell 2" in m and "ValueError" in m and "boom" in m for m in errors)
    assert any("03_glyph.ipynb" in m and "missing from font" in m for m in errors)
    infos = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert any(m.startswith("start 01_ok.ipynb") for m in infos)
    assert any(re.match(r"done 01_ok\.ipynb in \d+\.\d s", m) for m in infos)
    assert not any("scratch" in m for m in infos + errors)
