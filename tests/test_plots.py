"""Charts with a row per document, place or pair stay readable for a large corpus: above ``max_documents``
(``max_rows``, ``max_groups``) they draw a summary, and the summary counts what it stands for."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from plan_analysis import load_corpus, plots  # noqa: E402
from plan_analysis import theme_plots  # noqa: E402


@pytest.fixture(scope="module")
def documents():
    return load_corpus("data/raw", cache=False, progress=False).documents


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _heights(ax):
    return [p.get_height() for p in ax.patches]


def test_year_evidence_counts_claimed_years_for_many_documents(documents):
    many = pd.concat([documents.assign(doc_id=documents["doc_id"] + f"-copy{k}") for k in range(6)],
                     ignore_index=True)
    assert len(many) > 80
    ax = plots.plot_year_evidence(many, max_documents=80)
    assert ax.figure.get_size_inches()[1] < 10
    claimed = many["label_year"].notna()
    assert sum(_heights(ax)) == claimed.sum()  # a stacked bar per claimed year: every document with one
    ruled_out = (many["label_year_plausible"] == False).fillna(False).sum()  # noqa: E712 (NA stays NA)
    assert ruled_out == 6 * 5  # the bundled corpus has five titles whose year the text rules out
    red = [p.get_height() for p in ax.patches if matplotlib.colors.to_hex(p.get_facecolor()) == "#d62728"]
    assert sum(red) == ruled_out and f"{ruled_out:,} titles ruled out" in ax.get_title()
    few = plots.plot_year_evidence(documents, max_documents=80)
    assert len(few.get_yticklabels()) == len(documents)  # a row per document


def test_placeholder_density_and_hidden_figures_for_many_documents():
    docs = pd.DataFrame({"doc_id": [f"d{i}" for i in range(200)], "place": "", "title": "",
                         "placeholders_per_1000": [float(i % 5) for i in range(200)]})
    ax = plots.plot_placeholder_density(docs, max_documents=80)
    assert sum(_heights(ax)) == 160 and "160 of 200 documents" in ax.get_title()
    assert len(plots.plot_placeholder_density(docs.head(30), max_documents=80).patches) == 30
    hidden = pd.DataFrame({"doc_id": [f"d{i}" for i in range(100)], "figures": 10, "hidden": [i % 4 for i in range(100)]})
    ax = plots.plot_hidden_figures(hidden, max_documents=80)
    assert sum(_heights(ax)) == 75  # the documents hiding any figure
    assert "150 of 1,000 figures hidden" in ax.get_title() and "75 of 100 documents" in ax.get_title()


def test_gdp_targets_and_plan_vs_actual_for_many_rows():
    values = np.round(np.linspace(4.0, 9.0, 101), 2)
    gdp = pd.DataFrame({"place": [f"p{i}" for i in range(101)], "value": values, "value_high": np.nan,
                        "qualifier": ["以上" if i == 20 else "" for i in range(101)]})
    ax = plots.plot_gdp_targets(gdp, national=(4.5, 5.0), max_rows=80)
    above = int((values > 5.0).sum()) + int(values[20] == 5.0)  # 5.0 以上 reaches above the range too
    assert f"{above} of 101 above" in ax.get_title()
    assert sum(p.get_height() for bars in ax.containers for p in bars) == 101  # the histogram counts every target
    pairs = pd.DataFrame({"is_growth_rate": True, "doc_id": [f"d{i}" for i in range(90)], "indicator_canonical": "GDP",
                          "actual": [5.0] * 90, "target": [4.0 + (i % 3) for i in range(90)]})
    ax = plots.plot_plan_vs_actual(pairs, max_rows=80)
    assert [len(c.get_offsets()) for c in ax.collections] == [30, 60]  # planned above reported: 6.0 only
    assert "90 pairs, 30 planned above reported" in ax.get_title()


def _medians(ax):
    return [float(line.get_ydata()[0]) if line.get_xdata()[0] != line.get_xdata()[1] else float(line.get_xdata()[0])
            for line in ax.lines if line.get_color() == plots._BOX_COLOUR]


def test_theme_heatmap_and_growth_targets_box_plots_for_many_rows():
    rows = []
    for i in range(100):
        rows += [{"doc_id": f"d{i:03d}", "place": f"p{i}", "theme": "党建", "hits": 1, "sentences": i % 10,
                  "n_sentences": 10},
                 {"doc_id": f"d{i:03d}", "place": f"p{i}", "theme": "(none)", "hits": 0, "sentences": 1,
                  "n_sentences": 10}]
    ax = theme_plots.plot_theme_heatmap(pd.DataFrame(rows), max_rows=80)
    assert ax.figure.get_size_inches()[1] < 10 and "100 values of doc_id" in ax.get_title()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["党建", "(none)"]
    assert _medians(ax) == [pytest.approx(45.0), pytest.approx(10.0)]  # shares 0–90 %, and 10 % uncoded
    targets = pd.DataFrame({"is_growth_rate": True, "kind": "target", "placeholder": False,
                            "indicator_canonical": ["GDP"] * 30 + ["固定资产投资"] * 30,
                            "place": [f"p{i}" for i in range(30)] * 2,
                            "value": [5.0 + i % 3 for i in range(30)] + [8.0] * 30,
                            "value_high": [np.nan] * 29 + [9.0] + [np.nan] * 30, "qualifier": ""})
    ax = plots.plot_growth_targets(targets, max_groups=20)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["GDP (30)", "固定资产投资 (30)"]
    assert _medians(ax) == [pytest.approx(6.0), pytest.approx(8.0)]
    assert ax.get_legend() is not None and len(ax.get_legend().get_texts()) == 1  # the mean, not 30 places


def test_theme_coverage_box_plots_for_many_documents():
    cov = pd.DataFrame({"doc_id": [f"d{i:03d}" for i in range(100)], "place": "", "n_sentences": 10,
                        "coded": [5 + i % 5 for i in range(100)], "coded_text": [5] * 100})
    ax = theme_plots.plot_coverage(cov, max_documents=80)
    assert ax.figure.get_size_inches()[1] < 10
    assert [t.get_text() for t in ax.get_yticklabels()] == ["coded by its own text", "coded only through a heading",
                                                           "no theme (none)"]
    # own text 50 % everywhere; through a heading 0–40 % (median 20); none 10–50 % (median 30)
    assert _medians(ax) == [pytest.approx(50.0), pytest.approx(20.0), pytest.approx(30.0)]
    assert "100 documents, 70% of all sentences coded" in ax.get_title()
    assert len(theme_plots.plot_coverage(cov.head(20), max_documents=80).patches) == 60  # three bars a document


def test_a_corpus_that_needed_no_cleaning_gets_an_edits_chart_saying_so(corpus_of):
    clean = corpus_of({"甲镇": "甲镇2024年工作计划\n一、抓党建\n全面落实责任制。"}, folder_name="clean")
    assert clean.edits[clean.edits["stage"] == "clean"].empty
    ax = plots.plot_edits(clean.edits)
    assert [t.get_text() for t in ax.texts] == ["no edits"] and not ax.patches
    counted = plots.plot_edits(load_corpus("data/raw", cache=False, progress=False).edits)
    assert len(counted.patches) > 3 and not counted.texts


def _charts_of(corpus):
    """Every chart the notebooks draw, on the tables of ``corpus`` as the notebooks make them."""
    from plan_analysis import phrasing, phrasing_plots, themes
    from plan_analysis.targets import count_hidden, extract_targets, main_growth_targets, pair_targets

    docs = corpus.documents
    targets = extract_targets(corpus).merge(docs[["doc_id", "place"]], on="doc_id")
    scores = themes.score_themes(corpus)
    return {
        "counts": lambda: plots.plot_counts(docs, "doc_type"),
        "year_evidence": lambda: plots.plot_year_evidence(docs),
        "placeholder_density": lambda: plots.plot_placeholder_density(docs),
        "edits": lambda: plots.plot_edits(corpus.edits),
        "growth_targets": lambda: plots.plot_growth_targets(targets),
        "gdp_targets": lambda: plots.plot_gdp_targets(main_growth_targets(targets)),
        "hidden_figures": lambda: plots.plot_hidden_figures(count_hidden(targets), docs),
        "plan_vs_actual": lambda: plots.plot_plan_vs_actual(pair_targets(targets)),
        "coverage": lambda: theme_plots.plot_coverage(themes.theme_coverage(corpus)),
        "theme_heatmap": lambda: theme_plots.plot_theme_heatmap(scores),
        "theme_groups": lambda: theme_plots.plot_theme_groups(themes.score_themes(corpus, unit="part"), by="part"),
        "theme_trend": lambda: theme_plots.plot_theme_trend(scores),
        "comparison": lambda: theme_plots.plot_comparison(themes.compare_themes(scores, by="doc_id")
                                                          if docs["doc_id"].nunique() > 1 else scores.iloc[0:0]),
        "verb_profile": lambda: phrasing_plots.plot_verb_profile(phrasing.verb_profile(corpus)),
        "register": lambda: phrasing_plots.plot_register(phrasing.register_features(corpus)).axes[0],
        "slogan_matrix": lambda: phrasing_plots.plot_slogan_matrix(phrasing.extract_slogans(corpus)),
    }


_EMPTY_CHARTS = ["counts", "year_evidence", "placeholder_density", "edits", "growth_targets", "gdp_targets",
                 "hidden_figures", "plan_vs_actual", "coverage", "theme_heatmap", "theme_groups", "theme_trend",
                 "comparison", "verb_profile", "register", "slogan_matrix"]


@pytest.mark.parametrize("chart", _EMPTY_CHARTS)
def test_a_chart_of_nothing_says_so(chart):
    """A corpus with no documents (every file unreadable) draws a note where each chart would be, never fails."""
    nothing = load_corpus("data/raw", cache=False, progress=False).select([])
    assert nothing.documents.empty
    ax = _charts_of(nothing)[chart]()
    notes = [t.get_text() for t in ax.texts]
    assert len(notes) == 1 and notes[0].startswith(("no ", "none ", "nothing ")), notes
    assert not ax.patches and not ax.images and not ax.lines


def test_charts_of_one_document_without_figures_say_so(documents):
    """The first bundled document states no growth figure: the figure charts say so, the others draw."""
    one = load_corpus("data/raw", cache=False, progress=False).select(documents["doc_id"].iloc[:1])
    charts = _charts_of(one)
    for chart in ("hidden_figures", "plan_vs_actual", "growth_targets"):
        assert [t.get_text() for t in charts[chart]().texts][0].startswith("no "), chart
    drawn = charts["theme_heatmap"]()
    assert drawn.images and "no " not in " ".join(t.get_text() for t in drawn.texts)


def test_a_count_chart_of_many_values_keeps_the_most_frequent_and_sums_the_rest():
    # 40 provinces, the k-th holding k documents: 14 bars of the most frequent, one bar for the other 26
    docs = pd.DataFrame({"province": [f"省{k:02d}" for k in range(1, 41) for _ in range(k)],
                         "is_local_plan": [k % 2 == 0 for k in range(1, 41) for _ in range(k)]})
    for by in (None, "is_local_plan"):
        ax = plots.plot_counts(docs, "province", by=by)
        labels = [t.get_text() for t in ax.get_yticklabels()]
        assert len(labels) == 15 and labels[0] == "(26 others)" and labels[-1] == "省40"
        assert labels[1:] == [f"省{k:02d}" for k in range(27, 41)]
        assert sum(p.get_width() for p in ax.patches) == len(docs)  # nothing dropped
        plt.close(ax.figure)
    every = plots.plot_counts(docs, "province", top=None)
    assert len(every.get_yticklabels()) == 40
    with pytest.raises(ValueError, match="top must be at least 2"):
        plots.plot_counts(docs, "province", top=1)
