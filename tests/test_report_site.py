"""The rendered site: corpus summary, profile pages, static explorers, and escaping of document text."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from plan_analysis.report import build_report

ROOT = Path(__file__).resolve().parent.parent

HOSTILE = """东风镇2024年工作计划
一、强经济，促发展
规上工业总产值全年计划增长12%<script>alert(1)</script>，招商引资全年计划完成3亿元。
二、保民生
年内新建2家老年食堂<img src=x onerror=alert(2)>，确保群众满意。
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("site")
    corpus = tmp / "corpus"
    corpus.mkdir()
    (corpus / "hostile.txt").write_text(HOSTILE, encoding="utf-8")
    (corpus / "empty.txt").write_bytes(b"")
    nbs = tmp / "notebooks"
    nbs.mkdir()
    for name in ("00_corpus_overview.ipynb", "10_township_profile.ipynb"):
        shutil.copy(ROOT / "notebooks" / name, nbs / name)
    out = tmp / "out"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PLAN_ANALYSIS_CACHE", str(tmp / "cache"))
        status = build_report(notebooks_dir=nbs, out_dir=out, corpus=corpus)
    return status, out


def test_site_is_written_with_profiles(site):
    status, out = site
    assert status == 0
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "1 documents from 1 file(s); 1 file(s) not loaded" in index
    assert "empty.txt" in index and "empty file" in index
    assert 'href="10_township_profile-01.html"' in index and "东风镇" in index
    profile = (out / "10_township_profile-01.html").read_text(encoding="utf-8")
    assert "东风镇" in profile and "@font-face" in profile


@pytest.mark.parametrize("page", ["00_corpus_overview.html", "10_township_profile-01.html", "index.html"])
def test_document_text_is_escaped(site, page):
    _, out = site
    html = (out / page).read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in html
    assert not re.search(r"<img[^>]*onerror", html)
    if page != "index.html":
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html or "&lt;script&gt;" in html


def test_pages_need_no_network(site):
    _, out = site
    for page in out.glob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert not re.search(r"<script[^>]+src=[\"']https?:", html), page.name
        assert not re.search(r"<link[^>]+href=[\"']https?:", html), page.name


# random per run, whatever the kernel: the subset font's timestamp, pandas Styler and widget ids
_RANDOM_RE = re.compile(r'<style id="plan-analysis-cjk-font">.*?</style>|T_[0-9a-f]{5}'
                        r'|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|"model_id": "[0-9a-f]{32}"', re.S)


def test_a_profile_in_a_reused_kernel_equals_one_in_a_new_kernel(tmp_path, monkeypatch):
    """The second profile of a kernel shows exactly what it shows when it runs first in a new kernel."""
    from plan_analysis import report

    monkeypatch.setenv("PLAN_ANALYSIS_CACHE", str(tmp_path / "cache"))
    corpus, nbs = tmp_path / "corpus", tmp_path / "notebooks"
    corpus.mkdir()
    nbs.mkdir()
    (corpus / "a.txt").write_text(HOSTILE, encoding="utf-8")
    (corpus / "b.txt").write_text(HOSTILE.replace("东风镇", "西湖街道").replace("12%", "7%"), encoding="utf-8")
    shutil.copy(ROOT / "notebooks" / "10_township_profile.ipynb", nbs)
    build_report(notebooks_dir=nbs, out_dir=tmp_path / "both", corpus=corpus, workers=1, cache=False,
                 show_code=True)  # code and prompts too: more to compare
    assert "2 page(s), all ok" in (tmp_path / "both" / "index.html").read_text(encoding="utf-8")
    after_another = (tmp_path / "both" / "10_township_profile-02.html").read_text(encoding="utf-8")
    assert "西湖街道" in after_another

    real_targets = report.profile_targets
    monkeypatch.setattr(report, "profile_targets", lambda docs: real_targets(docs)[1:])
    build_report(notebooks_dir=nbs, out_dir=tmp_path / "alone", corpus=corpus, workers=1, cache=False,
                 show_code=True)  # code and prompts too: more to compare
    assert "1 page(s), all ok" in (tmp_path / "alone" / "index.html").read_text(encoding="utf-8")
    first = (tmp_path / "alone" / "10_township_profile-01.html").read_text(encoding="utf-8")
    assert _RANDOM_RE.sub("", first) == _RANDOM_RE.sub("", after_another)


_ANALYSES = ("01_themes.ipynb", "02_growth_targets.ipynb", "03_phrasing.ipynb")


@pytest.mark.parametrize("files", [
    {"a.txt": HOSTILE},  # one document: nothing to compare it with, too little text for topics
    {"a.txt": HOSTILE, "b.txt": HOSTILE.replace("12%", "7%")},  # two documents, one place: no rest of the place
    {"p.txt": "xx镇20xx年工作计划\n一、xx\nxx xx x.x ***\n"},  # nothing but placeholders: no figure, no word
    {"empty.txt": ""},  # no document at all
], ids=["one-document", "one-place", "placeholders-only", "no-document"])
def test_the_analysis_notebooks_run_on_a_tiny_corpus(tmp_path, report_folders, files):
    """A corpus too small for a comparison, a topic model or a chart gets pages that say so, not failed pages."""
    nbs, corpus = report_folders(files)
    for name in _ANALYSES:
        shutil.copy(ROOT / "notebooks" / name, nbs / name)
    status = build_report(notebooks_dir=nbs, out_dir=tmp_path / "out", corpus=corpus, profiles=False, cache=False)
    pages = {name: (tmp_path / "out" / name.replace(".ipynb", ".html")).read_text(encoding="utf-8")
             for name in _ANALYSES}
    assert {name for name, page in pages.items() if "plan-analysis-failure" in page} == set()
    assert status == 0
    for name, page in pages.items():  # the document's markup is shown as text on every page, never run
        assert "<script>alert(1)</script>" not in page, name
        assert not re.search(r"<img[^>]*onerror", page), name
