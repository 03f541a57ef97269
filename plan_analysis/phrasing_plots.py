"""Charts of phrasing, drawn with the project's CJK font: one call per chart in a notebook.

Each function takes a tidy table from :mod:`plan_analysis.phrasing` (or word clouds) and draws
on ``ax`` or a new figure; it returns the axes or the figure.

>>> import pandas as pd
>>> t = pd.DataFrame({"group": ["前江街道"], "term": ["聚焦"], "g2": [15.3], "direction": ["over"]})
>>> fig = plot_keyness_panels(t, top=5)
>>> [ax.get_title() for ax in fig.axes if ax.get_visible()]
['前江街道']
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .fonts import use_cjk_font
from .plots import MAX_ROWS, _axes, _boxes, _say_empty

if TYPE_CHECKING:  # pragma: no cover
    from wordcloud import WordCloud

__all__ = ["plot_keyness", "plot_keyness_panels", "plot_verb_profile", "plot_register", "plot_slogan_matrix",
           "plot_word_clouds"]

_OVER, _UNDER = "#1f77b4", "#d62728"


def _grid(n: int, ncols: int, size: tuple[float, float]) -> tuple[Figure, list[Axes]]:
    use_cjk_font()
    ncols = max(1, min(ncols, n))
    nrows = max(1, math.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size[0] * ncols, size[1] * nrows), layout="constrained",
                             squeeze=False)
    flat = list(axes.ravel())
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat


def plot_keyness(table: pd.DataFrame, *, ax: Axes | None = None, top: int = 15, title: str = "",
                 under: bool = False) -> Axes:
    """Draw horizontal bars of G² for the ``top`` over-used terms of a keyness table.

    The table comes from :func:`~plan_analysis.phrasing.keyness`; with ``under``, the under-used
    terms are added as negative bars in red.

    >>> t = pd.DataFrame({"term": ["聚焦", "推进"], "g2": [15.3, 4.1], "direction": ["over", "under"]})
    >>> [tick.get_text() for tick in plot_keyness(t, under=True).get_yticklabels()]
    ['推进', '聚焦']
    """
    over_t = table[table["direction"] == "over"].nlargest(top, "g2")
    parts = [over_t.assign(_v=over_t["g2"])]
    if under:
        under_t = table[table["direction"] == "under"].nlargest(top, "g2")
        parts.append(under_t.assign(_v=-under_t["g2"]))
    t = pd.concat(parts).sort_values("_v") if parts else table.iloc[0:0]
    ax = _axes(ax, (5, 0.28 * max(len(t), 3) + 1))
    colors = [_OVER if v >= 0 else _UNDER for v in t["_v"]]
    ax.barh(range(len(t)), t["_v"], color=colors)
    ax.set_yticks(range(len(t)), t["term"].astype(str), fontsize=9)
    ax.axvline(0, color="#555555", lw=0.6)
    ax.set_xlabel("G² (log-likelihood)" + ("; red: under-used" if under else ""))
    ax.set_title(title)
    if t.empty:
        ax.text(0.5, 0.5, "no term reaches min_freq", ha="center", va="center", transform=ax.transAxes, fontsize=9)
    return ax


def plot_keyness_panels(table: pd.DataFrame, *, top: int = 10, ncols: int = 3, group_col: str = "group",
                        labels: Mapping[str, str] | None = None) -> Figure:
    """Draw one bar chart of over-used terms per group, from :func:`~plan_analysis.phrasing.keyness_by_group`.

    >>> t = pd.DataFrame({"group": ["前江街道", "铁西街道"], "term": ["聚焦", "直播"], "g2": [15.3, 16.7],
    ...                   "direction": ["over", "over"]})
    >>> [ax.get_title() for ax in plot_keyness_panels(t).axes if ax.get_visible()]
    ['前江街道', '铁西街道']
    """
    groups = list(dict.fromkeys(table[group_col].astype(str)))
    fig, axes = _grid(len(groups), ncols, (4.2, 0.26 * top + 1.1))
    for ax, g in zip(axes, groups):
        plot_keyness(table[table[group_col].astype(str) == g], ax=ax, top=top, title=(labels or {}).get(g, g))
    if not groups:
        axes[0].set_visible(True)
        _say_empty(axes[0], "no group to show")
    return fig


def plot_verb_profile(profile: pd.DataFrame, *, ax: Axes | None = None, label_col: str = "label",
                      verbs: Sequence[str] | None = None, max_documents: int = MAX_ROWS) -> Axes:
    """Draw a heatmap of policy verbs per 1,000 characters: rows documents, columns verbs.

    Above ``max_documents`` documents a row each would be unreadable (and a figure hundreds of
    inches tall), so each verb's rates over the documents are drawn as a box plot instead.

    >>> p = pd.DataFrame({"doc_id": ["a"], "place": ["前江街道"], "n_chars": [1000], "坚持": [2.5], "聚焦": [0.0]})
    >>> [t.get_text() for t in plot_verb_profile(p).get_xticklabels()]
    ['坚持', '聚焦']
    """
    if verbs is None:
        verbs = [c for c in profile.columns if c not in ("doc_id", "place", "n_chars", "label", label_col)]
    if profile.empty:
        return _say_empty(ax, "no documents", title="Policy verbs per 1,000 characters")
    labels = profile[label_col] if label_col in profile.columns else profile["doc_id"]
    data = profile[list(verbs)].to_numpy(dtype=float)
    if len(profile) > max_documents:
        ax = _axes(ax, (0.6 * len(verbs) + 3, 4.2))
        _boxes(ax, list(data.T), list(verbs))
        ax.set_ylabel("per 1,000 characters")
        ax.set_title(f"Policy verbs per 1,000 characters: {len(profile):,} documents "
                     "(box: middle half, whiskers: 1.5 IQR)")
        return ax
    ax = _axes(ax, (0.6 * len(verbs) + 3, 0.36 * len(profile) + 1.4))
    im = ax.imshow(data, aspect="auto", cmap="Blues")
    ax.set_xticks(range(len(verbs)), list(verbs))
    ax.set_yticks(range(len(profile)), labels.astype(str), fontsize=8)
    top = np.nanmax(data) if data.size else 0
    for i in range(data.shape[0]):
        for j in range(data.shape[1]):
            v = data[i, j]
            if v > 0:
                ax.text(j, i, f"{v:.1f}", ha="center", va="center", fontsize=7,
                        color="white" if v > 0.6 * top else "#222222")
    ax.figure.colorbar(im, ax=ax, label="per 1,000 characters", shrink=0.8)
    ax.set_title("Policy verbs per 1,000 characters")
    return ax


def plot_register(features: pd.DataFrame, *, features_to_show: Sequence[str] = (
        "sentence_len_median", "four_char_segment_share", "enum_yishi_per_1000", "verb_opening_share"),
        label_col: str = "label", ncols: int = 4, titles: Mapping[str, str] | None = None,
        max_documents: int = MAX_ROWS) -> Figure:
    """Draw small multiples: one bar chart per register feature, one bar per document.

    ``features`` is the tidy table of :func:`~plan_analysis.phrasing.register_features`
    (with a ``label`` column, or ``doc_id`` is used). Above ``max_documents`` documents a bar each
    would be unreadable (and a figure hundreds of inches tall), so each feature is drawn as a histogram
    of its values over the documents instead.

    >>> f = pd.DataFrame({"doc_id": ["前江", "铁西"], "feature": ["enum_yishi", "enum_yishi"], "value": [5.0, 6.0]})
    >>> [ax.get_title() for ax in plot_register(f, features_to_show=["enum_yishi"]).axes]
    ['enum_yishi']
    """
    if features.empty:
        fig, axes = _grid(1, 1, (6, 2))
        _say_empty(axes[0], "no documents")
        return fig
    key = label_col if label_col in features.columns else "doc_id"
    wide = features.pivot_table(index=key, columns="feature", values="value", aggfunc="first", sort=False)
    missing = [f for f in features_to_show if f not in wide.columns]
    if missing:
        raise KeyError(f"features {missing} are not in the table; available: {', '.join(map(str, wide.columns[:40]))}")
    if len(wide) > max_documents:
        fig, axes = _grid(len(features_to_show), ncols, (3.6, 3.0))
        for ax, f in zip(axes, features_to_show):
            values = wide[f].dropna().to_numpy(dtype=float)
            ax.hist(values, bins=min(40, max(5, len(values) // 20)), color="#4c72b0")
            ax.set_title(f"{(titles or {}).get(f, f)}\n{len(values):,} documents", fontsize=10)
            ax.set_ylabel("documents", fontsize=8)
            ax.grid(axis="y", alpha=0.3)
        return fig
    fig, axes = _grid(len(features_to_show), ncols, (3.6, 0.3 * len(wide) + 1.2))
    for i, (ax, f) in enumerate(zip(axes, features_to_show)):
        s = wide[f]
        ax.barh(range(len(s)), s.fillna(0).to_numpy(), color="#4c72b0")
        if i % max(1, min(ncols, len(features_to_show))) == 0:
            ax.set_yticks(range(len(s)), s.index.astype(str), fontsize=8)
        else:
            ax.set_yticks(range(len(s)), [""] * len(s))
        ax.invert_yaxis()
        ax.set_title((titles or {}).get(f, f), fontsize=10)
        ax.grid(axis="x", alpha=0.3)
    return fig


def plot_slogan_matrix(slogans: pd.DataFrame, *, ax: Axes | None = None, top: int = 30, label_col: str = "label",
                       kind: str | None = None, max_documents: int = MAX_ROWS) -> Axes:
    """Draw where each slogan or formula stands: the ``top`` slogans against documents, cell = count.

    Slogans are ranked by the number of documents using them, then by count. When the ``top``
    slogans stand in more than ``max_documents`` documents, a column each would be unreadable, so
    each slogan gets a bar: the number of documents using it.

    >>> s = pd.DataFrame({"doc_id": ["a", "b"], "slogan": ["八八战略", "八八战略"], "kind": ["quoted", "quoted"],
    ...                   "count": [1, 2]})
    >>> [t.get_text() for t in plot_slogan_matrix(s).get_yticklabels()]
    ['八八战略']
    """
    s = slogans if kind is None else slogans[slogans["kind"] == kind]
    key = label_col if label_col in s.columns else "doc_id"
    if s.empty:
        return _say_empty(ax, "no slogan found")
    rank = s.groupby("slogan").agg(docs=(key, "nunique"), total=("count", "sum")).sort_values(
        ["docs", "total"], ascending=False).head(top)
    shown = s[s["slogan"].isin(rank.index)]
    n_docs = shown[key].nunique()
    if n_docs > max_documents:
        ax = _axes(ax, (8, 0.3 * len(rank) + 1.5))
        ax.barh(range(len(rank)), rank["docs"].to_numpy(), color="#e6550d")
        ax.set_yticks(range(len(rank)), rank.index.astype(str), fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel("documents using it")
        ax.grid(axis="x", alpha=0.3)
        ax.set_title(f"Slogans and formulae in most documents ({n_docs:,} documents use these {len(rank)})")
        return ax
    m = (shown.pivot_table(index="slogan", columns=key, values="count", aggfunc="sum", fill_value=0, sort=False)
         .reindex(rank.index))
    ax = _axes(ax, (0.55 * m.shape[1] + 3, 0.3 * m.shape[0] + 1.5))
    ax.imshow(m.to_numpy(dtype=float), aspect="auto", cmap="Oranges")
    ax.set_yticks(range(m.shape[0]), m.index.astype(str), fontsize=8)
    ax.set_xticks(range(m.shape[1]), m.columns.astype(str), rotation=60, ha="right", fontsize=8)
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            v = int(m.iat[i, j])
            if v:
                ax.text(j, i, str(v), ha="center", va="center", fontsize=7)
    ax.set_title("Slogans and formulae: where each appears (count)")
    return ax


def plot_word_clouds(clouds: Mapping[str, "WordCloud"], *, ncols: int = 2) -> Figure:
    """Show word clouds side by side with matplotlib ``imshow``, titled by their keys.

    >>> from plan_analysis.phrasing import word_cloud
    >>> fig = plot_word_clouds({"前江街道": word_cloud("聚焦发展，持续推进", width=100, height=60)})
    >>> fig.axes[0].get_title()
    '前江街道'
    """
    fig, axes = _grid(max(len(clouds), 1), ncols, (6, 3.4))
    for ax, (title, wc) in zip(axes, clouds.items()):
        ax.imshow(wc.to_array(), interpolation="bilinear")
        ax.set_title(str(title))
        ax.set_axis_off()
    if not clouds:
        _say_empty(axes[0], "no word cloud")
    return fig
