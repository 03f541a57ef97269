"""HTML report: offline pages with an embedded CJK subset font, failures
reported per notebook without stopping the others."""

from __future__ import annotations

import base64
import html as html_lib
import io
import logging
import os
import re
import shutil
import time
import unicodedata
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from fontTools.ttLib import TTFont

from plan_analysis import load_corpus, report
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


def test_a_missing_corpus_is_an_error_not_a_report_of_nothing(tmp_path, capsys):
    """A mistyped corpus folder stops the build with its name (the pages of an empty corpus would render)."""
    from plan_analysis.cli import main

    with pytest.raises(FileNotFoundError, match="corpus not found: .*typo"):
        build_report(notebooks_dir="notebooks", out_dir=tmp_path / "out", corpus=tmp_path / "typo")
    assert not (tmp_path / "out").exists()
    assert main(["report", "--corpus", str(tmp_path / "typo"), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "plan-analysis: corpus not found:" in err and "typo" in err and "Traceback" not in err
    assert main(["report", "--notebooks", str(tmp_path / "nb"), "--out", str(tmp_path / "out")]) == 2
    assert "plan-analysis: notebooks directory not found:" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


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
    monkeypatch.setenv("PLAN_ANALYSIS_CACHE", str(tmp_path / "cache"))
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


# ---------------------------------------------------------- kernels and cache

PLACES_TEXT = {
    "a.txt": "东风镇2024年工作计划\n一、强经济\n规上工业总产值全年计划增长12%，招商引资全年计划完成3亿元。\n",
    "b.txt": "西湖街道2024年工作计划\n一、保民生\n年内新建2家老年食堂，确保群众满意。\n",
}


def _code_notebook(*cells: str, title: str = "小笔记本", profile: bool = False):
    v4 = nbformat.v4
    nb = v4.new_notebook(cells=[v4.new_markdown_cell(f"# {title}")] + [v4.new_code_cell(c) for c in cells])
    if profile:
        nb.cells.insert(1, v4.new_code_cell('PLACE = ""\nDOC_ID = ""', metadata={"tags": ["parameters"]}))
        nb.metadata["plan_analysis"] = {"profile": True}
    return nb


@pytest.fixture
def project(tmp_path, monkeypatch, report_folders):
    """A notebooks folder, a two-document corpus and a private cache; ``executed`` lists what ran."""
    nb_dir, corpus = report_folders(PLACES_TEXT)
    # the package source is hashed for real in test_package_hash_follows_the_source; here it stays put
    # even if someone edits the package while the tests run
    monkeypatch.setattr("plan_analysis.corpus.source_fingerprint", lambda **_: "package source")
    executed: list[str] = []
    real_execute = report._Kernel.execute

    def execute(self, nb, result):
        executed.append(result.notebook.name if result.html_name.endswith(f"{result.notebook.stem}.html")
                        else f"{result.notebook.name} [{result.title}]")
        return real_execute(self, nb, result)

    monkeypatch.setattr(report._Kernel, "execute", execute)

    class Project:
        pass

    p = Project()
    p.nb_dir, p.corpus, p.executed, p.cache = nb_dir, corpus, executed, tmp_path / "cache" / report.CACHE_SUBDIR
    p.runs = 0

    def build(**kwargs):
        p.runs += 1
        executed.clear()
        out = tmp_path / f"out{p.runs}"
        kwargs.setdefault("workers", 1)  # one kernel: these notebooks are tiny, starting a kernel is not
        status = build_report(notebooks_dir=nb_dir, out_dir=out, corpus=corpus, timeout=120, **kwargs)
        return status, out

    p.build = build
    return p


def test_an_unchanged_rerun_executes_nothing(project, caplog):
    nbformat.write(_code_notebook("print('第一页')"), project.nb_dir / "01_one.ipynb")
    # names the cache folder, whose contents change with every run: not an input
    nbformat.write(_code_notebook("print('第二页', '../cache')", title="第二"), project.nb_dir / "02_two.ipynb")
    nbformat.write(_code_notebook("print('地方', PLACE or DOC_ID)", title="档案", profile=True),
                   project.nb_dir / "10_profile.ipynb")
    status, first = project.build()
    assert status == 0
    assert sorted(project.executed) == ["01_one.ipynb", "02_two.ipynb", "10_profile.ipynb [东风镇]",
                                        "10_profile.ipynb [西湖街道]"]
    assert len(list(project.cache.glob("*.json"))) == 4

    started = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(report._Kernel, "start", lambda self: started.append(self))
        with caplog.at_level(logging.INFO, logger="plan_analysis"):
            status, second = project.build()
    assert status == 0
    assert project.executed == [] and started == []  # no notebook ran, no kernel started
    for name in ("01_one.html", "02_two.html", "10_profile-01.html", "10_profile-02.html"):
        assert (second / name).read_bytes() == (first / name).read_bytes(), name
    assert "西湖街道" in (second / "10_profile-02.html").read_text(encoding="utf-8")
    infos = [r.getMessage() for r in caplog.records]
    assert any(m == "done 01_one.ipynb from the cache" for m in infos)
    assert any(m.startswith("4 of 4 page(s) from the cache") for m in infos)
    assert ">cached<" in (second / "index.html").read_text(encoding="utf-8")

    status, _ = project.build(cache=False)  # bypass: everything runs again
    assert status == 0 and len(project.executed) == 4


def test_a_change_to_any_input_runs_the_pages_again(project, monkeypatch):
    (project.nb_dir / "inputs").mkdir()
    (project.nb_dir / "inputs" / "national.txt").write_text("4.5", encoding="utf-8")
    nbformat.write(_code_notebook("print('第一页')"), project.nb_dir / "01_one.ipynb")
    nbformat.write(_code_notebook("print(open('./inputs/national.txt').read())", title="读文件"),
                   project.nb_dir / "02_reads.ipynb")
    assert project.build()[0] == 0 and len(project.executed) == 2

    # a notebook cell
    nb = nbformat.read(project.nb_dir / "01_one.ipynb", as_version=4)
    nb.cells[1].source = "print('第一页，改过')"
    nbformat.write(nb, project.nb_dir / "01_one.ipynb")
    status, out = project.build()
    assert status == 0 and project.executed == ["01_one.ipynb"]
    assert "改过" in (out / "01_one.html").read_text(encoding="utf-8")

    # a file the notebook names
    (project.nb_dir / "inputs" / "national.txt").write_text("5.0", encoding="utf-8")
    assert project.build()[0] == 0 and project.executed == ["02_reads.ipynb"]

    # a corpus file, same size and modification time: the contents count
    path = project.corpus / "a.txt"
    stat = path.stat()
    path.write_text(PLACES_TEXT["a.txt"].replace("12%", "13%"), encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size
    assert project.build()[0] == 0 and sorted(project.executed) == ["01_one.ipynb", "02_reads.ipynb"]

    # the package source and the lexicons
    assert project.build()[0] == 0 and project.executed == []
    monkeypatch.setattr("plan_analysis.corpus.source_fingerprint", lambda **_: "edited source")
    assert project.build()[0] == 0 and len(project.executed) == 2
    monkeypatch.setattr("plan_analysis.lexicons.lexicon_fingerprint", lambda: "edited lexicon")
    assert project.build()[0] == 0 and len(project.executed) == 2
    assert project.build()[0] == 0 and project.executed == []


def test_package_hash_follows_the_source(tmp_path):
    from plan_analysis.corpus import source_fingerprint

    package = tmp_path / "plan_analysis"
    shutil.copytree(Path(report.__file__).parent, package, ignore=shutil.ignore_patterns("__pycache__"))

    def fingerprints():
        return source_fingerprint(scope="package", root=package), source_fingerprint(root=package)

    before, pipeline = fingerprints()
    assert fingerprints() == (before, pipeline)
    themes = package / "themes.py"  # not a pipeline module: pages change, corpus tables do not
    themes.write_text(themes.read_text(encoding="utf-8").replace("def ", "def  ", 1), encoding="utf-8")
    edited, same = fingerprints()
    assert edited != before and same == pipeline
    (package / "extra.py").write_text("", encoding="utf-8")
    with_extra = fingerprints()
    assert with_extra[0] not in (before, edited)
    (package / "notes.txt").write_text("not source", encoding="utf-8")
    assert fingerprints() == with_extra
    split = package / "split.py"
    split.write_text(split.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert fingerprints()[1] != pipeline


def test_parameters_are_part_of_the_key():
    key = report._page_key("build", "notebook", {"PLACE": "东风镇", "DOC_ID": ""})
    assert key == report._page_key("build", "notebook", {"DOC_ID": "", "PLACE": "东风镇"})
    assert key != report._page_key("build", "notebook", {"PLACE": "西湖街道", "DOC_ID": ""})
    assert key != report._page_key("build", "notebook", {"PLACE": "", "DOC_ID": "东风镇"})
    assert key != report._page_key("build", "notebook", None)
    assert key != report._page_key("other build", "notebook", {"PLACE": "东风镇", "DOC_ID": ""})


def test_a_failing_notebook_is_never_cached(project):
    nbformat.write(_code_notebook("print('好')"), project.nb_dir / "01_ok.ipynb")
    nbformat.write(_code_notebook("raise ValueError('坏了')", title="坏"), project.nb_dir / "02_fail.ipynb")
    (project.nb_dir / "03_not_json.ipynb").write_text('{"cells": [', encoding="utf-8")
    (project.nb_dir / "04_not_a_notebook.ipynb").write_text('{"cells": 5}', encoding="utf-8")
    for _ in range(2):
        status, out = project.build()
        assert status == 1
        assert "坏了" in (out / "02_fail.html").read_text(encoding="utf-8")
        assert "JSONDecodeError" in (out / "03_not_json.html").read_text(encoding="utf-8")
        assert "not a notebook" in (out / "04_not_a_notebook.html").read_text(encoding="utf-8")
        assert "4 page(s), 3 failed" in (out / "index.html").read_text(encoding="utf-8")
    assert project.executed == ["02_fail.ipynb"]  # the second time, only the failed one ran again
    assert len(list(project.cache.glob("*.json"))) == 1


def test_a_damaged_or_half_written_cache_entry_is_not_trusted(project, monkeypatch, caplog):
    nbformat.write(_code_notebook("print('完整的一页')"), project.nb_dir / "01_one.ipynb")
    status, first = project.build()
    [entry] = project.cache.glob("*.json")
    text = entry.read_text(encoding="utf-8")

    entry.write_text(text[: len(text) // 2], encoding="utf-8")  # cut short
    with caplog.at_level(logging.WARNING, logger="plan_analysis"):
        status, out = project.build()
    assert status == 0 and project.executed == ["01_one.ipynb"]
    assert "完整的一页" in (out / "01_one.html").read_text(encoding="utf-8")
    assert any("ignoring cached page" in r.getMessage() and entry.name in r.getMessage() for r in caplog.records)

    entry.write_text(text.replace("完整的一页", "篡改的一页"), encoding="utf-8")  # complete, but altered
    assert project.build()[0] == 0 and project.executed == ["01_one.ipynb"]
    assert project.build()[0] == 0 and project.executed == []  # repaired by the run before

    # a write interrupted before the rename leaves nothing a later run reads
    for path in project.cache.glob("*"):
        path.unlink()
    real_replace = os.replace

    def crash(src, dst):
        if Path(dst).parent == project.cache:
            raise KeyboardInterrupt
        real_replace(src, dst)

    monkeypatch.setattr(report.os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        project.build()
    monkeypatch.setattr(report.os, "replace", real_replace)
    assert list(project.cache.glob("*")) == []
    assert project.build()[0] == 0 and project.executed == ["01_one.ipynb"]


def test_a_reused_kernel_starts_each_notebook_fresh(project):
    (project.nb_dir / "warner.py").write_text(
        "import warnings\n\ndef warn():\n    warnings.warn('只警告一次？', UserWarning)\n", encoding="utf-8")
    leave_traces = (
        "import os, sys, warnings\nimport pandas as pd\nimport matplotlib\nimport matplotlib.pyplot as plt\n"
        "import warner\nwarner.warn()\n"
        "LEFT_OVER = 1\nos.environ['LEFT_OVER'] = '1'\nsys.path.append('/left/over')\n"
        "pd.set_option('display.max_colwidth', 7)\nmatplotlib.rcParams['font.size'] = 31\n"
        "warnings.simplefilter('ignore')\nplt.figure()\nos.chdir('..')"
    )
    check = (
        "import os, sys, warnings\nimport pandas as pd\nimport matplotlib\nimport matplotlib.pyplot as plt\n"
        "print(f'execution count {get_ipython().execution_count}')\n"
        "assert 'LEFT_OVER' not in globals() and 'LEFT_OVER' not in os.environ\n"
        "assert '/left/over' not in sys.path and os.path.exists('warner.py')\n"
        "assert pd.get_option('display.max_colwidth') == 50 and matplotlib.rcParams['font.size'] == 10\n"
        "assert plt.get_fignums() == []\n"
        "import warner\nwarner.warn()"
    )
    nbformat.write(_code_notebook(leave_traces, title="留下痕迹"), project.nb_dir / "01_traces.ipynb")
    nbformat.write(_code_notebook(check, title="检查"), project.nb_dir / "02_check.ipynb")
    nbformat.write(_code_notebook("import os\nos._exit(1)", title="崩溃"), project.nb_dir / "03_dies.ipynb")
    nbformat.write(_code_notebook(check, title="再检查"), project.nb_dir / "04_check.ipynb")
    starts = []
    real_start = report._Kernel.start

    def start(self):
        starts.append(1)
        real_start(self)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(report._Kernel, "start", start)
        status, out = project.build()
    pages = {n: (out / f"{n}.html").read_text(encoding="utf-8") for n in ("01_traces", "02_check", "04_check")}
    dead = re.search(r'<tr class="failed"><td><a href="03_dies.html">.*?</tr>', (out / "index.html").read_text("utf-8"))
    assert dead and "DeadKernelError" in dead.group(0)
    assert status == 1 and len(project.executed) == 4
    assert len(starts) == 2  # one kernel for the first three notebooks, a new one after the crash
    assert "plan-analysis-failure" not in pages["02_check"] and "plan-analysis-failure" not in pages["04_check"]
    for name, page in pages.items():
        assert "只警告一次？" in page, name  # the warning shows in every notebook, not just the first
    # numbered as in a new kernel (04_check runs in one, started after the crash)
    counts = [re.search(r"execution count (\d+)", pages[n]).group(1) for n in ("02_check", "04_check")]
    assert counts[0] == counts[1]


def test_profile_pages_of_places_no_longer_in_the_corpus_are_removed(project, tmp_path, caplog):
    nbformat.write(_code_notebook("print('第一页')"), project.nb_dir / "01_one.ipynb")
    nbformat.write(_code_notebook("print('地方', PLACE or DOC_ID)", title="档案", profile=True),
                   project.nb_dir / "10_profile.ipynb")
    out = tmp_path / "site"
    (out / "10_profile-notes.html").parent.mkdir(parents=True)
    (out / "10_profile-notes.html").write_text("not a profile page: kept", encoding="utf-8")
    assert build_report(notebooks_dir=project.nb_dir, out_dir=out, corpus=project.corpus, timeout=120, workers=1) == 0
    assert {p.name for p in out.glob("10_profile-0*.html")} == {"10_profile-01.html", "10_profile-02.html"}
    first_file = sorted(project.corpus.iterdir())[0]
    first_file.unlink()  # one place fewer
    with caplog.at_level(logging.INFO, logger="plan_analysis"):
        assert build_report(notebooks_dir=project.nb_dir, out_dir=out, corpus=project.corpus, timeout=120,
                            workers=1) == 0
    assert {p.name for p in out.glob("10_profile-0*.html")} == {"10_profile-01.html"}
    assert (out / "10_profile-notes.html").exists()
    assert any("removed 1 profile page(s) of an earlier run: 10_profile-02.html" in r.getMessage()
               for r in caplog.records)


def test_max_profiles_renders_the_places_with_most_text_and_names_the_others(project, tmp_path, caplog):
    nbformat.write(_code_notebook("print('第一页')"), project.nb_dir / "01_one.ipynb")
    nbformat.write(_code_notebook("print('地方', PLACE or DOC_ID)", title="档案", profile=True),
                   project.nb_dir / "10_profile.ipynb")
    assert len(PLACES_TEXT["a.txt"]) > len(PLACES_TEXT["b.txt"])  # 东风镇 has more text than 西湖街道
    out = tmp_path / "site"
    with caplog.at_level(logging.WARNING, logger="plan_analysis"):
        assert build_report(notebooks_dir=project.nb_dir, out_dir=out, corpus=project.corpus, timeout=120,
                            workers=1, max_profiles=1) == 0
    assert [p.name for p in out.glob("10_profile-*.html")] == ["10_profile-01.html"]
    assert "地方 东风镇" in (out / "10_profile-01.html").read_text(encoding="utf-8")
    index = (out / "index.html").read_text(encoding="utf-8")
    assert re.search(r"<summary>1 more places have no profile page here.*?</summary><p>西湖街道</p>", index)
    assert any("2 places have a profile; rendering the 1 with the most text" in r.getMessage() for r in caplog.records)
    assert [label for label, _ in report.choose_profiles(
        load_corpus(project.corpus, cache=False, progress=False).documents, max_profiles=None)[0]] == ["东风镇", "西湖街道"]
    with pytest.raises(ValueError, match="max_profiles must be 0 or more"):
        report.choose_profiles(pd.DataFrame(), max_profiles=-1)


def test_printed_chinese_gets_the_embedded_font_and_latin_keeps_a_monospace_one():
    # Chromium does not fall back from an installed monospace font to a web font listed after it: the
    # embedded font comes first and its unicode-range leaves ASCII to the monospace fonts
    page = embed_font("<html><head></head><body><pre>铁西街道: 1 document(s)</pre></body></html>")
    face = re.search(r"@font-face\{[^}]*\}", page).group()
    assert "unicode-range:U+00B7,U+0100-10FFFF" in face
    assert re.search(rf'pre, code[^{{]*{{\s*font-family:\s*"{FONT_FAMILY}", [^;]*monospace', page)


def test_the_report_counts_the_corpus_words_once_for_every_page(tmp_path, report_folders, caplog):
    """Before any page runs, the report counts the corpus's words into its snapshot, where every profile page's
    keyness reads them; a rerun whose pages all come from the cache counts nothing."""
    nb_dir, corpus = report_folders(PLACES_TEXT)
    nbformat.write(_code_notebook(
        "import os\nimport plan_analysis as pa\nfrom plan_analysis import phrasing\n"
        "c = pa.load_corpus(os.environ['PLAN_ANALYSIS_CORPUS'], progress=False)\n"
        "print('计数已在', phrasing._kept_token_counts(c) is not None)", title="档案", profile=True),
        nb_dir / "10_profile.ipynb")
    nbformat.write(_code_notebook("print('第一页')"), nb_dir / "01_one.ipynb")
    with caplog.at_level(logging.INFO, logger="plan_analysis"):
        status = build_report(notebooks_dir=nb_dir, out_dir=tmp_path / "out", corpus=corpus, workers=1)
    assert status == 0
    for page in ("10_profile-01.html", "10_profile-02.html"):
        assert "计数已在 True" in (tmp_path / "out" / page).read_text(encoding="utf-8")
    assert len(list((tmp_path / "cache").rglob("derived/token_counts-*.arrow"))) == 1
    assert "counting the corpus's words once for every page" in caplog.text

    caplog.clear()
    with caplog.at_level(logging.INFO, logger="plan_analysis"):
        assert build_report(notebooks_dir=nb_dir, out_dir=tmp_path / "out", corpus=corpus, workers=1) == 0
    assert "3 of 3 page(s) from the cache" in caplog.text
    assert "counting the corpus's words" not in caplog.text


def test_pruning_the_page_cache_removes_old_pages_and_left_over_temporary_files(tmp_path):
    now = time.time()
    files = {name: tmp_path / name for name in ("page.a.json", "page.b.json", ".tmp-old", ".tmp-new")}
    for path in files.values():
        path.write_text("{}", encoding="utf-8")
    two_days, too_old = now - 2 * 86400, now - (report._CACHE_MAX_AGE_DAYS + 1) * 86400
    os.utime(files["page.b.json"], (too_old, too_old))
    os.utime(files[".tmp-old"], (two_days, two_days))
    report._prune_cache(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".tmp-new", "page.a.json"]


def test_report_files_are_written_whole_and_readable_by_all(tmp_path, monkeypatch):
    page = tmp_path / "page.html"
    report._write_atomic(page, "<p>第一版</p>")
    assert page.read_text(encoding="utf-8") == "<p>第一版</p>" and page.stat().st_mode & 0o777 == 0o644

    def fail(*_a, **_k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="No space"):
        report._write_atomic(page, "<p>第二版</p>")
    assert page.read_text(encoding="utf-8") == "<p>第一版</p>"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["page.html"]  # no temporary file left behind


def test_words_are_not_counted_ahead_for_a_corpus_without_a_snapshot(monkeypatch, caplog):
    from plan_analysis import phrasing

    def refuse(*_a, **_k):
        raise AssertionError("counted with nowhere to keep the counts")

    monkeypatch.setattr(phrasing, "_count_terms", refuse)
    with caplog.at_level(logging.INFO, logger="plan_analysis"):
        report._count_words_once(load_corpus("data/raw", cache=False, progress=False))
    assert "no snapshot to keep its word counts in" in caplog.text


def test_a_kernel_that_dies_while_starting_is_replaced(project, monkeypatch, caplog):
    """Two kernels starting at once could be given the same TCP port, and one died before replying: the report
    then stopped with a traceback. Kernels now talk over sockets of their own, and one that dies is replaced."""
    nbformat.write(_code_notebook("print('第一页')"), project.nb_dir / "01_one.ipynb")
    nbformat.write(_code_notebook("print('第二页')", title="第二"), project.nb_dir / "02_two.ipynb")
    real = report._Kernel._start_once
    deaths = []
    transports = []

    def start_once(self):
        if len(deaths) < 2:  # the first two kernels die: the one started ahead and the first retry
            deaths.append(1)
            raise RuntimeError("Kernel died before replying to kernel_info")
        real(self)
        transports.append((self.client.km.transport, Path(self.client.km.ip).parent.is_dir()))

    monkeypatch.setattr(report._Kernel, "_start_once", start_once)
    with caplog.at_level(logging.WARNING, logger="plan_analysis"):
        status, out = project.build(workers=1)
    assert status == 0 and sorted(project.executed) == ["01_one.ipynb", "02_two.ipynb"]
    assert "第二页" in (out / "02_two.html").read_text(encoding="utf-8")
    assert "a kernel did not start (RuntimeError: Kernel died before replying to kernel_info)" in caplog.text
    if os.name == "posix":
        assert transports == [("ipc", True)]


def test_a_kernel_that_never_starts_fails_its_pages_not_the_report(project, monkeypatch):
    nbformat.write(_code_notebook("print('第一页')"), project.nb_dir / "01_one.ipynb")

    def start_once(self):
        raise RuntimeError("Kernel died before replying to kernel_info")

    monkeypatch.setattr(report._Kernel, "_start_once", start_once)
    status, out = project.build(workers=2)  # both kernels are started ahead of the notebooks, and fail
    assert status == 1
    page = (out / "01_one.html").read_text(encoding="utf-8")
    assert "plan-analysis-failure" in page and "Kernel died before replying to kernel_info" in page
    assert re.search(r"<tr class=\"failed\"><td><a href=\"01_one.html\"", (out / "index.html").read_text(encoding="utf-8"))
