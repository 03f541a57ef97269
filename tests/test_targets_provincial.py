"""The 2026 GDP growth target of each of 31 provincial reports nobody here wrote (gold read by hand)."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest

from plan_analysis import load_corpus
from plan_analysis.targets import extract_targets

HERE = Path(__file__).resolve().parent
PROVINCIAL = HERE.parent / "data" / "corpora" / "provincial-2026" / "texts"


def _gold() -> list[dict[str, str]]:
    with (HERE / "gold" / "provincial_gdp_2026.tsv").open(encoding="utf-8") as fh:
        return list(csv.DictReader((ln for ln in fh if not ln.startswith("#")), delimiter="\t"))


@pytest.fixture(scope="module")
def gdp_rows():
    if not PROVINCIAL.is_dir():
        pytest.fail(f"the bundled provincial corpus is missing: expected {PROVINCIAL}")
    corpus = load_corpus(PROVINCIAL, progress=False)
    t = extract_targets(corpus, include_placeholders=False)
    t = t[(t["indicator_canonical"] == "地区生产总值") & (t["kind"] == "target") & t["is_growth_rate"]
          & (t["period"] == "")]
    return t


def _same(a: float, b: str) -> bool:
    return (math.isnan(a) and b == "") or (b != "" and not math.isnan(a) and abs(a - float(b)) < 1e-9)


def test_gdp_target_of_each_province(gdp_rows):
    gold = _gold()
    assert len(gold) == 31
    hits, report = 0, []
    for g in gold:
        rows = gdp_rows[gdp_rows["source_file"] == g["file"]]
        ok = (len(rows) == 1 and _same(rows["value"].iloc[0], g["value"]) and _same(rows["value_high"].iloc[0], g["value_high"])
              and (rows["qualifier"].iloc[0] == g["qualifier"].split("+")[0]))
        hits += ok
        if not ok:
            got = rows[["value", "value_high", "qualifier", "clause"]].values.tolist()
            report.append(f"{g['government']}: want {g['value']}–{g['value_high']} {g['qualifier']!r} ({g['clause']}), got {got}")
    print(f"\nGDP growth target found as the one target row: {hits} of 31")
    print("\n".join(report))
    assert hits >= 29, "\n".join(report)
