"""Government sites publish .html and .docx: both load, page furniture goes, the site header becomes metadata."""

from __future__ import annotations

import io
import zipfile

from plan_analysis import load_corpus
from plan_analysis.targets import extract_targets

PAGE = """<!DOCTYPE html><html><head><meta charset="gb2312"><title>前江街道2023年度工作总结及2024年度工作计划</title>
<script src="https://example.invalid/analytics.js"></script><style>body{color:red}</style></head>
<body><header><a href="/">首页</a> &gt; <a href="/zwgk">政务公开</a></header>
<nav><ul><li>机构设置</li><li>政策文件</li></ul></nav>
<table class="xxgk"><tr><td>索引号:</td><td>2953384/2024-00445</td><td>主题分类:</td><td>政务公开</td></tr>
<tr><td>发布机构:</td><td>前江街道</td><td>成文日期:</td><td>2024-02-22</td></tr></table>
<div class="article"><h1>前江街道2023年度工作总结及2024年度工作计划</h1>
<p>一、2023年工作回顾</p>
<p>全年累计引进外资1017万美元,完成浙商回归资金7885.2万元。</p>
<p>二、2024年工作计划</p><p>力争规上工业增加值增长8%以上。</p></div>
<footer>版权所有 © 某某街道办事处 技术支持</footer><script>track()</script></body></html>"""


def _docx(paragraphs: list[str]) -> bytes:
    ns = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    body = "".join(f"<w:p><w:r><w:t>{p}</w:t></w:r></w:p>" for p in paragraphs)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", f'<w:document xmlns:w="{ns}"><w:body>{body}</w:body></w:document>')
    return buf.getvalue()


def test_html_page_from_a_government_site(tmp_path):
    (tmp_path / "page.html").write_bytes(PAGE.encode("gb18030"))
    c = load_corpus(tmp_path, cache=False, progress=False)
    assert c.load_report["status"].tolist() == ["loaded"]
    doc = c.documents.iloc[0]
    assert doc["title"] == "前江街道2023年度工作总结及2024年度工作计划"
    assert doc["place"] == "前江街道" and doc["published"] == "2024-02-22"
    assert "track()" not in doc["text"] and "首页" not in doc["text"] and "版权所有" not in doc["text"]
    assert "机构设置" not in doc["text"]
    header = c.edits[c.edits["kind"] == "site_header"]["removed"].str.cat()
    assert "索引号" in header and "2953384/2024-00445" in header
    t = extract_targets(c)
    assert sorted(t["figure"]) == ["1017万美元", "7885.2万元", "8%"]
    assert t.set_index("figure").loc["8%", "kind"] == "target"


def test_docx(tmp_path):
    (tmp_path / "plan.docx").write_bytes(_docx(["铁西街道2024年工作计划", "一、强经济，促发展",
                                                  "规上工业总产值前三季度计划增长24%；年内新建2家社区老年食堂。"]))
    (tmp_path / "broken.docx").write_bytes(b"PK\x03\x04 not really a zip")
    c = load_corpus(tmp_path, cache=False, progress=False)
    rep = dict(zip(c.load_report["source_file"], c.load_report["reason"]))
    assert "not a readable .docx" in rep["broken.docx"]
    doc = c.documents.iloc[0]
    assert (doc["place"], doc["doc_type"], doc["label_year"]) == ("铁西街道", "plan", 2024)
    assert extract_targets(c)[["value", "unit"]].values.tolist() == [[24.0, "%"], [2.0, "家"]]
