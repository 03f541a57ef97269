"""Whole-table helpers that once looped per group: pair_targets and top_themes, on tables written by hand."""

from __future__ import annotations

import math

import pandas as pd

from plan_analysis.targets import pair_targets
from plan_analysis.themes import NONE_THEME, top_themes


def _fig(doc, ind, kind, value, *, unit="%", rate=True, place="甲镇", period="全年", placeholder=False, clause=""):
    return {"doc_id": doc, "place": place, "indicator_canonical": ind, "unit": unit, "is_growth_rate": rate,
            "kind": kind, "value": value, "qualifier": "左右" if kind == "target" else "", "period": period,
            "placeholder": placeholder, "clause": clause or f"{ind}{kind}{value}"}


def test_pair_targets_pairs_the_first_target_with_the_first_actual_of_each_group():
    t = pd.DataFrame([
        _fig("b", "地区生产总值", "actual", 5.2, place="乙镇"),
        _fig("b", "地区生产总值", "target", 5.0, place="乙镇"),
        _fig("b", "地区生产总值", "target", 6.0, place="乙镇"),   # a second target: not the first
        _fig("b", "地区生产总值", "actual", 4.0, place="乙镇"),   # a second actual: not the first
        _fig("a", "固定资产投资", "target", 8.0),
        _fig("a", "固定资产投资", "actual", 7.5, period="年均"),  # a yearly average is never paired
        _fig("a", "一般公共预算收入", "target", 3.0),
        _fig("a", "一般公共预算收入", "actual", 9.0, placeholder=True),  # hidden: never paired
        _fig("a", "社会消费品零售总额", "target", 6.0),
        _fig("a", "社会消费品零售总额", "actual", 2.0, unit="亿元", rate=False),  # another unit: no pair
        _fig("c", "地区生产总值", "target", 5.5, place=None),
        _fig("c", "地区生产总值", "actual", 5.1, place=None),
    ])
    by_doc = pair_targets(t)
    assert by_doc[["doc_id", "indicator_canonical", "target", "actual"]].values.tolist() == [
        ["b", "地区生产总值", 5.0, 5.2], ["c", "地区生产总值", 5.5, 5.1]]  # sorted by doc_id
    assert by_doc["difference"].round(2).tolist() == [0.2, -0.4]
    assert by_doc["target_clause"].tolist() == ["地区生产总值target5.0", "地区生产总值target5.5"]
    assert by_doc["is_growth_rate"].dtype == bool and by_doc["target_qualifier"].tolist() == ["左右", "左右"]
    by_place = pair_targets(t, by="place")
    assert by_place["place"].tolist() == ["乙镇"]  # a figure with no place is in no place's pair
    assert pair_targets(t[t["kind"] == "target"]).empty


def test_top_themes_ranks_each_unit_in_unit_order():
    rows = [("u2", "党建", 0.2), ("u2", "安全生产", 0.5), ("u2", "生态环保", 0.2), ("u2", "乡村振兴", 0.0),
            ("u2", NONE_THEME, 0.3), ("u1", "党建", 0.1), ("u3", NONE_THEME, 1.0)]
    s = pd.DataFrame([{"doc_id": u[:2], "unit_id": u, "doc_type": "plan", "n_sentences": 10, "theme": th,
                       "share": sh} for u, th, sh in rows])
    top = top_themes(s, n=2)
    assert top["unit_id"].tolist() == ["u2", "u1", "u3"]  # the order units first appear in
    # a tie (党建, 生态环保 at 20%) keeps the table's order; a zero share and (none) are never top themes
    assert top["top_themes"].tolist() == ["安全生产 · 党建", "党建", ""]
    assert top["shares"].tolist() == ["50% · 20%", "10%", ""]
    assert top["none_share"].iloc[0] == 0.3 and math.isnan(top["none_share"].iloc[1]) and top["none_share"].iloc[2] == 1.0
    assert top["place"].tolist() == ["", "", ""]  # no place column: blank
    assert top_themes(s, n=3)["top_themes"].iloc[0] == "安全生产 · 党建 · 生态环保"
