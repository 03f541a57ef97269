"""Static tables of the notebooks: escaped, readable when narrow, and saying when they are empty."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from plan_analysis.explore import TEXT_MIN_WIDTH, TEXT_WIDTH_BUDGET, show_table

DOC = {"doc_id": "001_64b46b310826ad2c-1", "title": "铁西街道2024年工作总结及2025年工作计划",
       "label_year": 2024, "year_evidence": "<b>十四五</b>收官(2025)", "share": 0.4567}


def _widths(html: str) -> dict[int, str]:
    return {int(i): w for i, w in re.findall(r"td\.col(\d+)\s*\{\s*min-width:\s*([\d.]+em)", html)}


def test_a_record_on_its_side_has_a_line_per_field():
    view = show_table(pd.DataFrame([DOC, DOC]), layout="fields")
    assert list(view.data.columns) == ["field", "row 1", "row 2"]
    assert view.data["field"].tolist() == list(DOC)
    assert view.data["row 1"].tolist() == ["001_64b46b310826ad2c-1", DOC["title"], "2024", DOC["year_evidence"], "0.46"]
    html = view.to_html()
    assert "<b>十四五</b>" not in html and "&lt;b&gt;十四五&lt;/b&gt;" in html  # still escaped


@pytest.mark.parametrize("n, on_its_side", [(1, True), (3, True), (4, False)])
def test_auto_turns_a_table_of_up_to_three_rows_on_its_side(n, on_its_side):
    view = show_table(pd.DataFrame([DOC] * n), layout="auto")
    assert (list(view.data.columns)[0] == "field") is on_its_side
    assert view.data.shape == ((len(DOC), n + 1) if on_its_side else (n, len(DOC)))


def test_text_columns_are_wide_enough_for_a_title():
    df = pd.DataFrame([DOC] * 5).assign(kind="目标")
    widths = _widths(show_table(df).to_html())
    cols = list(df.columns)
    assert widths[cols.index("title")] == f"{TEXT_MIN_WIDTH}em"
    assert widths[cols.index("doc_id")] == f"{TEXT_MIN_WIDTH}em"
    assert cols.index("kind") not in widths  # two characters: no minimum
    assert cols.index("label_year") not in widths and cols.index("share") not in widths  # numbers
    # Latin letters are set narrower than Chinese characters: a code is not given the room of a title
    widths = _widths(show_table(df[["doc_id"]].assign(doc_type="summary+plan", mixed="十四五 (2019–2026)")).to_html())
    assert widths[1] == "7.4em"
    assert widths[2] == "10.4em"  # 3 Chinese characters and 12 narrow ones


def test_column_names_from_document_text_are_escaped():
    df = pd.DataFrame({"place": ["东风镇"], "year": [2024]}).pivot(index="year", columns="place", values="year")
    df.columns = ["<script>alert(1)</script>东风镇"]
    html = show_table(df).to_html()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;东风镇" in html


def test_a_column_of_missing_text_is_shown():
    df = pd.DataFrame({"doc_id": ["a-1", "b-1"], "place": pd.array([None, None], dtype="string"),
                       "note": [None, None]})
    html = show_table(df).to_html()
    assert "a-1" in html and 2 not in _widths(html)


def test_an_empty_table_says_so():
    html = show_table(pd.DataFrame(columns=["doc_id", "figure"])).to_html()
    assert "no rows" in html
    assert "no rows" not in show_table(pd.DataFrame([DOC])).to_html()


def test_an_unknown_layout_is_refused():
    with pytest.raises(ValueError, match="layout must be 'rows', 'fields' or 'auto', got 'wide'"):
        show_table(pd.DataFrame([DOC]), layout="wide")


def test_a_cut_table_says_how_many_rows_it_leaves_out():
    html = show_table(pd.DataFrame([DOC] * 1264), max_rows=60).to_html()
    assert "the first 60 of 1,264 rows" in html and html.count("001_64b46b310826ad2c-1") == 60
    assert "rows</caption>" not in show_table(pd.DataFrame([DOC] * 60), max_rows=60).to_html()


def test_a_table_of_many_text_columns_still_fits_the_page():
    df = pd.DataFrame([{f"text{k}": DOC["title"] for k in range(8)}] * 4)
    widths = [float(w[:-2]) for w in _widths(show_table(df).to_html()).values()]
    assert len(widths) == 8 and sum(widths) <= TEXT_WIDTH_BUDGET + 0.5 and min(widths) >= 5
    few = [float(w[:-2]) for w in _widths(show_table(df.iloc[:, :3]).to_html()).values()]
    assert few == [TEXT_MIN_WIDTH] * 3  # a few columns keep their full width
    ids = _widths(show_table(df.assign(doc_id="00000-1")[["doc_id", *df.columns]]).to_html())
    assert ids[0] == "4.3em"  # a short id keeps its width (it would break at its hyphen)
    # the eight titles share what is left, but none gets under 5em (five characters a line)
    assert sorted(ids)[1:] == list(range(1, 9)) and all(ids[i] == "5em" for i in range(1, 9))


def test_decimals_show_the_precision_asked_for():
    # a comparison's q-values: at 2 digits 0.0009 and 0.0464 were both 0.00 and 0.05
    df = pd.DataFrame({"theme": ["生态与人居环境", "城乡建设与基础设施"], "q_value": [0.000912, 0.046391]})
    assert ">0.00<" in show_table(df).to_html()
    html = show_table(df, precision=4).to_html()
    assert ">0.0009<" in html and ">0.0464<" in html
    assert show_table(pd.DataFrame([DOC]), layout="fields", precision=3).data["row 1"].iloc[-1] == "0.457"


@pytest.mark.parametrize("precision", [-1, 16, 2.5, True, "4"])
def test_a_precision_that_is_not_a_number_of_digits_is_refused(precision):
    with pytest.raises(ValueError, match=f"precision must be a whole number of digits from 0 to 15, got {precision!r}"):
        show_table(pd.DataFrame([DOC]), precision=precision)


def test_numbers_are_right_aligned_and_text_left():
    html = show_table(pd.DataFrame([DOC] * 2).assign(placeholder=False)).to_html()
    right = {int(i) for i in re.findall(r"td\.col(\d+) \{\s*text-align: right;", html)}
    assert right == {int(i) for i in re.findall(r"th\.col(\d+) \{\s*text-align: right;", html)}
    cols = list(DOC) + ["placeholder"]
    assert right == {cols.index("label_year"), cols.index("share")}
