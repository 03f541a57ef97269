"""Charts of theme scores (:mod:`plan_analysis.themes`), drawn with the project's CJK font.

Each function takes a tidy table from :func:`~plan_analysis.themes.score_themes`,
:func:`~plan_analysis.themes.compare_themes` or :func:`~plan_analysis.themes.theme_coverage`, draws on ``ax``
(or a new figure) and returns the axes, so a notebook cell is one call.
"""

from __future__ import annotations

from typing import Any, Literal, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from .plots import MAX_ROWS, _axes, _boxes, _say_empty
from .themes import NONE_THEME, summarize_themes

__all__ = ["theme_matrix", "plot_theme_heatmap", "plot_theme_groups", "plot_theme_trend", "plot_comparison",
           "plot_coverage"]


def _doc_label(scores: pd.DataFrame) -> pd.Series:
    place = scores["place"].fillna("").astype(str) if "place" in scores.columns else pd.Series("", index=scores.index)
    return scores["doc_id"].astype(str) + " · " + place.where(place != "", "(no place)")


def theme_matrix(scores: pd.DataFrame, *, by: str = "doc_id", value: Literal["share", "hits", "sentences"] = "share"
                 ) -> pd.DataFrame:
    """Pool scores into a table with one row per value of ``by`` and one column per theme (``(none)`` last).

    ``by="doc_id"`` labels rows ``doc_id · place``; any other column is pooled with
    :func:`~plan_analysis.themes.summarize_themes` (share = coded sentences / sentences of the group).

    >>> s = pd.DataFrame({"doc_id": ["a", "a"], "place": ["甲镇", "甲镇"], "theme": ["党建", "(none)"],
    ...                   "hits": [3, 1], "sentences": [2, 1], "n_sentences": [4, 4]})
    >>> theme_matrix(s).values.tolist()
    [[0.5, 0.25]]
    """
    s = scores
    key = by
    if by == "doc_id":
        s = scores.assign(_doc=_doc_label(scores))
        key = "_doc"
    pooled = summarize_themes(s, by=key)
    order = list(pd.unique(scores["theme"]))
    order = [t for t in order if t != NONE_THEME] + ([NONE_THEME] if NONE_THEME in order else [])
    rows = list(pd.unique(pooled[key]))
    if by == "doc_id":
        rows = list(pd.unique(s[key]))
    m = pooled.pivot(index=key, columns="theme", values=value).reindex(index=rows, columns=order)
    m.index.name = by
    m.columns.name = "theme"
    return m


def plot_theme_heatmap(scores: pd.DataFrame, *, by: str = "doc_id", value: Literal["share", "hits", "sentences"] = "share",
                       ax: Axes | None = None, title: str = "", annotate: bool = True, max_rows: int = MAX_ROWS) -> Axes:
    """Heatmap of ``by`` (documents, places, doc types …) × theme; the ``(none)`` column is drawn in grey.

    Shares are shown in percent: the share of a row's sentences coded with the theme (several themes per
    sentence are possible, so a row does not sum to 100). Above ``max_rows`` rows, each theme's values over
    the rows are drawn as a box plot instead.

    >>> s = pd.DataFrame({"doc_id": ["a", "a"], "place": ["甲镇", "甲镇"], "theme": ["党建", "(none)"],
    ...                   "hits": [3, 1], "sentences": [2, 1], "n_sentences": [4, 4]})
    >>> plot_theme_heatmap(s).get_title()
    'Share of sentences coded with each theme (%), by doc_id'
    """
    m = theme_matrix(scores, by=by, value=value)
    if m.empty:
        return _say_empty(ax, "no theme scores", title=title or f"Themes by {by}")
    themes = [c for c in m.columns if c != NONE_THEME]
    has_none = NONE_THEME in m.columns
    n_rows, n_cols = m.shape
    scale = 100.0 if value == "share" else 1.0
    if n_rows > max_rows:
        ax = _axes(ax, (1.6 + 0.62 * n_cols, 4.6))
        _boxes(ax, [m[c].fillna(0).to_numpy(dtype=float) * scale for c in m.columns], [str(c) for c in m.columns])
        ax.tick_params(axis="x", labelrotation=40, labelsize=8)
        ax.set_ylabel("share of sentences (%)" if value == "share" else value)
        ax.set_title(title or (f"Share of sentences coded with each theme (%), over {n_rows:,} values of {by}"
                               if value == "share" else f"{value} per theme, over {n_rows:,} values of {by}"))
        return ax
    ax = _axes(ax, (1.6 + 0.62 * n_cols + (2.2 if by == "doc_id" else 1.0), 1.6 + 0.36 * n_rows))
    data = m[themes].to_numpy(dtype=float) * scale
    vmax = np.nanmax(data) if np.isfinite(data).any() else 1.0
    im = ax.imshow(data, aspect="auto", cmap="YlOrRd", vmin=0, vmax=max(vmax, 1e-9),
                   extent=(-0.5, len(themes) - 0.5, n_rows - 0.5, -0.5))
    xt = list(range(len(themes)))
    labels = list(themes)
    if has_none:
        nd = m[[NONE_THEME]].to_numpy(dtype=float) * scale
        ax.imshow(nd, aspect="auto", cmap="Greys", vmin=0, vmax=max(np.nanmax(nd) if np.isfinite(nd).any() else 1, 1e-9)
                  * 1.6, extent=(len(themes) + 0.1, len(themes) + 1.1, n_rows - 0.5, -0.5))
        xt.append(len(themes) + 0.6)
        labels.append(NONE_THEME)
        data = np.hstack([data, nd])
    if annotate and data.size <= 900:
        for i in range(n_rows):
            for j in range(data.shape[1]):
                v = data[i, j]
                if not np.isfinite(v):
                    continue
                x = xt[j]
                dark = j < len(themes) and v > 0.6 * vmax
                ax.text(x, i, f"{v:.0f}", ha="center", va="center", fontsize=7, color="white" if dark else "#222222")
    ax.set_xticks(xt, labels, rotation=40, ha="right", fontsize=8)
    ax.set_yticks(range(n_rows), [str(i) for i in m.index], fontsize=8)
    ax.set_xlim(-0.5, (len(themes) + 1.1) if has_none else len(themes) - 0.5)
    ax.set_ylim(n_rows - 0.5, -0.5)
    unit = "%" if value == "share" else value
    ax.figure.colorbar(im, ax=ax, shrink=0.6, label=f"{value} ({unit})" if value == "share" else value)
    ax.set_title(title or (f"Share of sentences coded with each theme (%), by {by}" if value == "share"
                           else f"{value} per theme, by {by}"))
    return ax


def plot_theme_groups(scores: pd.DataFrame, *, by: str = "part", groups: Sequence[Any] | None = None,
                      ax: Axes | None = None, title: str = "") -> Axes:
    """Grouped bars: for each theme, the pooled share of sentences coded with it in each group of ``by``.

    >>> s = pd.DataFrame({"part": ["plan", "summary"], "theme": ["党建", "党建"], "hits": [3, 1],
    ...                   "sentences": [2, 1], "n_sentences": [4, 4]})
    >>> len(plot_theme_groups(s).patches)
    2
    """
    pooled = summarize_themes(scores, by=by)
    if groups is not None:
        pooled = pooled[pooled[by].isin(list(groups))]
        order = [g for g in groups if g in set(pooled[by])]
    else:
        order = list(pd.unique(pooled[by]))
    if not order:
        note = "no theme scores" if groups is None else f"none of the groups asked for: {list(groups)}"
        return _say_empty(ax, note, title=title or f"Themes by {by}")
    themes = list(pd.unique(scores["theme"]))
    themes = [t for t in themes if t != NONE_THEME] + ([NONE_THEME] if NONE_THEME in themes else [])
    ax = _axes(ax, (8, 0.27 * len(themes) * max(1, len(order)) ** 0.5 + 1.4))
    height = 0.8 / max(len(order), 1)
    colours = plt.get_cmap("tab10")
    for k, g in enumerate(order):
        sub = pooled[pooled[by] == g].set_index("theme").reindex(themes)
        y = np.arange(len(themes)) + (k - (len(order) - 1) / 2) * height
        n_sent = int(sub["n_sentences"].max()) if sub["n_sentences"].notna().any() else 0
        units = int(sub["units"].max()) if sub["units"].notna().any() else 0
        ax.barh(y, sub["share"].fillna(0).to_numpy() * 100, height=height, color=colours(k % 10),
                label=f"{g} ({units} units, {n_sent} sentences)")
    ax.set_yticks(range(len(themes)), themes, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("share of sentences coded with the theme (%)")
    ax.legend(fontsize=8, loc="lower right", title=by)
    ax.grid(axis="x", alpha=0.3)
    ax.set_title(title or f"Themes by {by}")
    return ax


def plot_theme_trend(scores: pd.DataFrame, *, by: str = "period", themes: Sequence[str] | None = None, top: int = 6,
                     ax: Axes | None = None, title: str = "") -> Axes:
    """Pooled theme shares across the ordered values of ``by`` (periods, years); unknown values are left out.

    Without ``themes``, the ``top`` themes whose share changes most across the values are drawn; tick labels
    give the number of units (documents) behind each point, so a lone document is visible as such.

    >>> s = pd.DataFrame({"period": ["2011–2015 十二五", "2021–2025 十四五"], "theme": ["党建", "党建"],
    ...                   "hits": [1, 5], "sentences": [1, 4], "n_sentences": [10, 10]})
    >>> [t.get_text() for t in plot_theme_trend(s).get_xticklabels()]
    ['2011–2015 十二五\\n(1)', '2021–2025 十四五\\n(1)']
    """
    pooled = summarize_themes(scores, by=by)
    pooled = pooled[pooled[by] != "(unknown)"]
    pooled = pooled[pooled["theme"] != NONE_THEME]
    values = sorted(pd.unique(pooled[by]), key=lambda v: (str(type(v)), v))
    if not values:
        return _say_empty(ax, f"no known {by}", title=title or f"Themes across {by}")
    m = pooled.pivot(index=by, columns="theme", values="share").reindex(values) * 100
    units = pooled.groupby(by)["units"].max().reindex(values)
    if themes is None:
        spread = (m.max() - m.min()).sort_values(ascending=False, kind="stable")
        themes = list(spread.index[:top])
    ax = _axes(ax, (8, 4.2))
    x = np.arange(len(values))
    colours = plt.get_cmap("tab10")
    for k, t in enumerate(themes):
        if t in m.columns:
            ax.plot(x, m[t].to_numpy(), marker="o", color=colours(k % 10), label=t)
    ax.set_xticks(x, [f"{v}\n({int(u)})" for v, u in zip(values, units)], fontsize=8)
    ax.set_ylabel("share of sentences coded with the theme (%)")
    ax.set_xlabel(f"{by} (number of documents)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    ax.set_title(title or f"Themes across {by}")
    return ax


def plot_comparison(comparison: pd.DataFrame, *, group: Any = None, alpha: float = 0.05, ax: Axes | None = None,
                    title: str = "") -> Axes:
    """Bars of ``log2_ratio`` (group vs the rest) per theme for one group; coloured when ``q_value < alpha``.

    >>> c = pd.DataFrame({"by": "part", "group": "plan", "theme": ["党建", "安全生产"], "log2_ratio": [1.0, -0.5],
    ...                   "q_value": [0.01, 0.5], "share": [0.2, 0.1], "rest_share": [0.1, 0.14]})
    >>> [round(float(p.get_width()), 1) for p in plot_comparison(c).patches]
    [1.0, -0.5]
    """
    if comparison.empty:
        return _say_empty(ax, "nothing compared", title=title)
    g = comparison["group"].iloc[0] if group is None else group
    c = comparison[comparison["group"] == g].sort_values("log2_ratio", ascending=False, kind="stable")
    ax = _axes(ax, (8, 0.38 * len(c) + 1.6))
    colours = ["#d62728" if (q < alpha and r > 0) else "#1f77b4" if (q < alpha and r < 0) else "#bbbbbb"
               for q, r in zip(c["q_value"], c["log2_ratio"])]
    y = np.arange(len(c))
    ax.barh(y, c["log2_ratio"].to_numpy(), color=colours)
    for yi, (r, a, b) in enumerate(zip(c["log2_ratio"], c["share"], c["rest_share"])):
        ax.text(r + (0.03 if r >= 0 else -0.03), yi, f"{a * 100:.0f}% vs {b * 100:.0f}%", va="center",
                ha="left" if r >= 0 else "right", fontsize=7)
    ax.axvline(0, color="#333333", lw=0.8)
    ax.set_yticks(y, c["theme"].tolist(), fontsize=8)
    ax.invert_yaxis()
    lim = max(0.5, float(np.nanmax(np.abs(c["log2_ratio"].to_numpy()))) * 1.35) if len(c) else 1.0
    ax.set_xlim(-lim, lim)
    by = comparison["by"].iloc[0] if "by" in comparison.columns and len(comparison) else ""
    ax.set_xlabel(f"log2(share in {g} / share in the rest); coloured: q < {alpha:g}")
    ax.set_title(title or f"{by} = {g} vs the rest")
    return ax


def plot_coverage(coverage: pd.DataFrame, *, ax: Axes | None = None, title: str = "",
                  max_documents: int = MAX_ROWS) -> Axes:
    """Stacked bars per document: sentences coded by their own text, only through a heading, and not at all.

    Above ``max_documents`` documents, a box plot of each of the three shares over the documents.

    >>> cov = pd.DataFrame({"doc_id": ["a"], "place": ["甲镇"], "n_sentences": [10], "coded": [8], "coded_text": [6]})
    >>> [round(p.get_width()) for p in plot_coverage(cov).patches]
    [60, 20, 20]
    """
    c = coverage.reset_index(drop=True)
    if c.empty:
        return _say_empty(ax, "no documents", title=title or "How much of each document the theme dictionary codes")
    n = c["n_sentences"].where(c["n_sentences"] > 0)
    text = c["coded_text"] / n * 100
    heading = (c["coded"] - c["coded_text"]) / n * 100
    none = (c["n_sentences"] - c["coded"]) / n * 100
    if len(c) > max_documents:
        ax = _axes(ax, (8, 3.6))
        _boxes(ax, [text.to_numpy(dtype=float), heading.to_numpy(dtype=float), none.to_numpy(dtype=float)],
               ["coded by its own text", "coded only through a heading", "no theme (none)"], horizontal=True)
        ax.invert_yaxis()
        total = max(int(c["n_sentences"].sum()), 1)
        ax.set_xlabel("share of a document's sentences (%)")
        ax.set_title(title or f"How much of each document the theme dictionary codes: {len(c):,} documents, "
                              f"{100 * c['coded'].sum() / total:.0f}% of all sentences coded")
        return ax
    ax = _axes(ax, (8, 0.32 * len(c) + 1.6))
    y = np.arange(len(c))
    ax.barh(y, text.fillna(0), color="#2ca02c", label="coded by its own text")
    ax.barh(y, heading.fillna(0), left=text.fillna(0), color="#98df8a", label="coded only through a heading")
    ax.barh(y, none.fillna(0), left=(text + heading).fillna(0), color="#bbbbbb", label="no theme (none)")
    ax.set_yticks(y, _doc_label(c).tolist(), fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("share of the document's sentences (%)")
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title(title or "How much of each document the theme dictionary codes")
    return ax
