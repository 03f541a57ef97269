"""Standard charts of the corpus, drawn with the project's CJK font.

Each function takes a tidy table, draws on ``ax`` (or a new figure) and returns the axes,
so notebooks stay narrative: one call per chart.
"""

from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from ._checks import missing_column
from .fonts import use_cjk_font

__all__ = ["plot_counts", "plot_year_evidence", "plot_placeholder_density", "plot_edits", "summarize_edits",
           "doc_labels"]


def _axes(ax: Axes | None, size: tuple[float, float]) -> Axes:
    use_cjk_font()
    if ax is None:
        _, ax = plt.subplots(figsize=size, layout="constrained")
    return ax


def _say_empty(ax: Axes | None, note: str, *, title: str = "") -> Axes:
    """Axes saying ``note`` where the chart would be: a chart of an empty table says so instead of failing."""
    ax = _axes(ax, (7, 2.2))
    ax.text(0.5, 0.5, note, ha="center", va="center", transform=ax.transAxes)
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


#: above this many rows, a chart with a row (or bar, or column) per document, place or pair draws a summary
#: instead: a figure a third of an inch per row is unreadable beyond it and, for thousands of rows, takes
#: matplotlib minutes to lay out
MAX_ROWS = 80
_BOX_COLOUR = "#08519c"


def _boxes(ax: Axes, columns: Sequence[np.ndarray], labels: Sequence[str], *, horizontal: bool = False) -> None:
    """One box plot per column (box: middle half; whiskers: 1.5 IQR; no outlier dots) and its mean as a red dot."""
    columns = [np.asarray(c, dtype=float) for c in columns]
    columns = [c[np.isfinite(c)] for c in columns]
    at = np.arange(len(columns))
    ax.boxplot(columns, positions=at, widths=0.6, showfliers=False, orientation="horizontal" if horizontal
               else "vertical", medianprops={"color": _BOX_COLOUR})
    means = np.array([c.mean() if c.size else np.nan for c in columns])
    xy = (means, at) if horizontal else (at, means)
    ax.plot(*xy, "o", color="#d62728", markersize=4, label="mean")
    (ax.set_yticks if horizontal else ax.set_xticks)(at, list(labels))
    ax.grid(axis="x" if horizontal else "y", alpha=0.3)
    ax.legend(loc="best", fontsize=8)


def doc_labels(documents: pd.DataFrame, *, width: int = 18) -> pd.Series:
    """Return a short readable label per document: ``doc_id · place or title``.

    >>> doc_labels(pd.DataFrame({"doc_id": ["001-1"], "place": ["铁西街道"], "title": ["铁西街道2024年工作计划"]})).tolist()
    ['001-1 · 铁西街道']
    """
    name = documents["place"].fillna("").astype(str)
    name = name.where(name != "", documents["title"].fillna("").astype(str).str.slice(0, width))
    name = name.where(name != "", "(untitled)")
    return documents["doc_id"].astype(str) + " · " + name


def plot_counts(df: pd.DataFrame, column: str, *, by: str | None = None, ax: Axes | None = None,
                title: str = "", top: int | None = 15) -> Axes:
    """Bar chart of how many rows have each value of ``column`` (stacked by ``by``).

    At most ``top`` bars: beyond that, the least frequent values share one bar, ``(N others)``,
    at the bottom (``top=None`` draws every value).

    >>> plot_counts(pd.DataFrame({"doc_type": ["plan", "plan", "summary"]}), "doc_type").get_title()
    'documents by doc_type'
    """
    if top is not None and top < 2:
        raise ValueError(f"top must be at least 2 (or None for every value), got {top}")
    for option, name in (("column", column), ("by", by)):
        if name and name not in df.columns:
            raise KeyError(missing_column(name, df.columns, what="plot_counts", option=option))
    if df.empty:
        return _say_empty(ax, "no documents", title=title or f"documents by {column}")
    ax = _axes(ax, (7, 3.2))
    values = df[column].astype(object).where(df[column].notna() & (df[column].astype(str) != ""), "(empty)").astype(str)
    counts = values.value_counts()
    order = list(counts.index[::-1])  # the most frequent at the top
    if top is not None and len(counts) > top:
        kept = list(counts.index[:top - 1])
        other = f"({len(counts) - len(kept)} others)"
        values = values.where(values.isin(kept), other)
        order = [other] + kept[::-1]
    if by:
        table = (pd.crosstab(values, df[by].astype(object).where(df[by].notna(), "(empty)").astype(str))
                 .reindex(order, fill_value=0))
        table.plot.barh(stacked=True, ax=ax)
        ax.legend(title=by, fontsize=8, loc="lower right")
    else:
        values.value_counts().reindex(order, fill_value=0).plot.barh(ax=ax)
    ax.set_xlabel("documents")
    ax.set_ylabel("")
    ax.set_title(title or f"documents by {column}")
    return ax


def _ruled_out(plausible: pd.Series) -> np.ndarray:
    """Where the text rules the label year out (``label_year_plausible`` false, not missing)."""
    return plausible.map(lambda v: v is not None and not pd.isna(v) and not bool(v)).to_numpy(dtype=bool)


def _year_verdicts(docs: pd.DataFrame, ax: Axes | None) -> Axes:
    """Documents by the year their title claims, stacked by what their text says of it."""
    ax = _axes(ax, (8, 3.8))
    bad = _ruled_out(docs["label_year_plausible"]) if "label_year_plausible" in docs else np.zeros(len(docs), bool)
    evidence = (docs["year_min"].notna() | docs["year_max"].notna()).to_numpy(dtype=bool)
    verdict = np.where(bad, "ruled out by the text", np.where(evidence, "within the years the text supports",
                                                               "no year evidence in the text"))
    claimed = docs["label_year"].notna().to_numpy(dtype=bool)
    table = (pd.crosstab(docs["label_year"][claimed].astype(int).to_numpy(), verdict[claimed])
             .reindex(columns=["within the years the text supports", "no year evidence in the text",
                               "ruled out by the text"], fill_value=0))
    if len(table):
        table.plot.bar(stacked=True, ax=ax, color=["#8fb8de", "#cccccc", "#d62728"], width=0.8, rot=0)
        ax.legend(fontsize=8)
    ax.set_xlabel("year claimed by the title")
    ax.set_ylabel("documents")
    ax.set_title(f"Label year vs the text, {len(docs):,} documents: {int(bad.sum()):,} titles ruled out, "
                 f"{int((~claimed).sum()):,} with no year in the title")
    ax.grid(axis="y", alpha=0.3)
    return ax


def plot_year_evidence(documents: pd.DataFrame, *, ax: Axes | None = None, max_documents: int = MAX_ROWS) -> Axes:
    """For each document, the year its title claims against the window its text supports.

    A bar spans ``year_min``–``year_max`` (an arrow where one side is open); the dot is the
    label year, red when the text rules it out. Above ``max_documents`` documents, bars count
    the documents claiming each year: within the years the text supports, with no evidence, ruled out.

    >>> docs = pd.DataFrame({"doc_id": ["a-1"], "place": ["百禄镇"], "title": [""], "label_year": [2024],
    ...                      "year_min": [pd.NA], "year_max": [2018], "label_year_plausible": [False]})
    >>> bool(plot_year_evidence(docs).get_xlim()[1] >= 2024)
    True
    """
    docs = documents.reset_index(drop=True)
    if docs.empty:
        return _say_empty(ax, "no documents", title="Label year vs the years the text supports")
    if len(docs) > max_documents:
        return _year_verdicts(docs, ax)
    ax = _axes(ax, (8, 0.35 * len(docs) + 1.2))
    years = pd.concat([docs["label_year"], docs["year_min"], docs["year_max"]]).dropna()
    lo = int(years.min()) - 2 if len(years) else 2010
    hi = int(years.max()) + 2 if len(years) else 2026
    labels = doc_labels(docs)
    ruled_out = (_ruled_out(docs["label_year_plausible"]) if "label_year_plausible" in docs
                 else np.zeros(len(docs), bool))
    for i, row in docs.iterrows():
        ymin, ymax = row["year_min"], row["year_max"]
        if pd.notna(ymin) or pd.notna(ymax):
            a = int(ymin) if pd.notna(ymin) else lo
            b = int(ymax) if pd.notna(ymax) else hi
            ax.plot([a - 0.4, b + 0.4], [i, i], color="#8fb8de", lw=7, solid_capstyle="butt", zorder=1)
            if pd.isna(ymin):
                ax.annotate("", xy=(lo - 0.5, i), xytext=(lo + 0.5, i), arrowprops={"arrowstyle": "->", "color": "#8fb8de"})
            if pd.isna(ymax):
                ax.annotate("", xy=(hi + 0.5, i), xytext=(hi - 0.5, i), arrowprops={"arrowstyle": "->", "color": "#8fb8de"})
        if pd.notna(row["label_year"]):
            bad = ruled_out[i]
            ax.plot(int(row["label_year"]), i, "o", color="#d62728" if bad else "#333333", zorder=2)
    ax.set_yticks(range(len(docs)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(lo - 1, hi + 1)
    ax.set_xlabel("year (bar: supported by the text; dot: claimed by the title, red = ruled out)")
    ax.set_title("Label year vs the years the text supports")
    ax.grid(axis="x", alpha=0.3)
    return ax


def plot_placeholder_density(documents: pd.DataFrame, *, ax: Axes | None = None,
                             max_documents: int = MAX_ROWS) -> Axes:
    """Placeholders (xx, 20xx, ***, …) per 1,000 characters, per document.

    Above ``max_documents`` documents, a histogram over the documents that have any.

    >>> docs = pd.DataFrame({"doc_id": ["a-1"], "place": ["xx镇"], "title": [""], "placeholders_per_1000": [12.5]})
    >>> len(plot_placeholder_density(docs).patches)
    1
    """
    docs = documents.reset_index(drop=True)
    if docs.empty:
        return _say_empty(ax, "no documents", title="How much of each document is hidden behind placeholders")
    if len(docs) > max_documents:
        ax = _axes(ax, (7, 3.6))
        rate = docs["placeholders_per_1000"].to_numpy(dtype=float)
        some = rate[rate > 0]
        if some.size:
            ax.hist(some, bins=min(40, max(5, some.size // 20)), color="#ff7f0e")
        ax.set_xlabel("placeholders per 1,000 characters (documents with any)")
        ax.set_ylabel("documents")
        ax.set_title(f"Placeholders: {some.size:,} of {len(docs):,} documents hide something")
        ax.grid(axis="y", alpha=0.3)
        return ax
    ax = _axes(ax, (7, 0.3 * len(docs) + 1.2))
    s = pd.Series(docs["placeholders_per_1000"].to_numpy(), index=doc_labels(docs)).sort_values()
    s.plot.barh(ax=ax, color="#ff7f0e")
    ax.set_xlabel("placeholders per 1,000 characters")
    ax.set_title("How much of each document is hidden behind placeholders")
    return ax


def summarize_edits(edits: pd.DataFrame) -> pd.DataFrame:
    """One row per edit kind: ``kind``, ``stage``, ``edits``, ``chars_removed``, ``example``.

    >>> summarize_edits(pd.DataFrame({"kind": ["ad"], "stage": ["clean"], "removed": ["【&更多】"], "inserted": [""]}))["chars_removed"].tolist()
    [5]
    """
    e = edits.copy()
    e["chars_removed"] = e["removed"].str.len() - e["inserted"].str.len()
    out = (e.groupby(["stage", "kind"], as_index=False)
           .agg(edits=("kind", "size"), chars_removed=("chars_removed", "sum"),
                example=("removed", lambda s: s.iloc[0][:40])))
    return out.sort_values(["stage", "edits"], ascending=[True, False]).reset_index(drop=True)


def plot_edits(edits: pd.DataFrame, *, ax: Axes | None = None, kinds: Sequence[str] | None = None) -> Axes:
    """Characters removed or rewritten by cleaning, by kind (log scale).

    >>> edits = pd.DataFrame({"kind": ["ad", "width"], "stage": ["clean", "clean"], "removed": ["【&更多】", ","],
    ...                       "inserted": ["", "，"]})
    >>> plot_edits(edits).get_xscale()
    'log'
    """
    summary = summarize_edits(edits)
    if kinds is not None:
        summary = summary[summary["kind"].isin(kinds)]
    s = summary.groupby("kind")["edits"].sum().sort_values()
    if s.empty:  # a clean corpus (or no kind asked for)
        return _say_empty(ax, "no edits", title="What cleaning changed, by kind")
    ax = _axes(ax, (7, 3.2))
    ax.set_title("What cleaning changed, by kind")
    s.plot.barh(ax=ax, color="#2ca02c", logx=True)
    ax.set_xlabel("number of edits (log scale)")
    return ax


_QUAL_MARKERS = {"以上": ">", "不低于": "^", "不少于": "^", "超过": "^", "左右": "o", "约": "o", "以内": "v",
                 "力争": "*", "确保": "D", "": "s"}


def plot_growth_targets(targets: pd.DataFrame, *, by: str = "place", ax: Axes | None = None,
                        title: str = "Growth-rate targets by indicator", max_groups: int = 20) -> Axes:
    """Dot plot of growth-rate targets: one row per canonical indicator, one colour per ``by`` group.

    Ranges (4.5%–5%) are drawn as a line between their ends; the marker says the qualifier
    (> 以上, ^ 不低于/不少于, o 左右, * 力争, ■ none). Above ``max_groups`` groups (more than
    colours can tell apart), each indicator's targets are a box plot, a range counting as its upper end.
    """
    from .corpus import require_columns

    require_columns(targets, ("is_growth_rate", "kind", "placeholder", "indicator_canonical", "value", "value_high",
                              "qualifier"), what="plot_growth_targets", make="extract_targets(corpus)")
    if by not in targets.columns:  # the targets table has no place: join corpus.documents on doc_id for it
        raise KeyError(missing_column(by, targets.columns, what="plot_growth_targets",
                                      more=" (for place or doc_type, first merge corpus.documents on doc_id)"))
    t = targets[targets["is_growth_rate"] & (targets["kind"] == "target") & ~targets["placeholder"]
                & (targets["indicator_canonical"] != "")].copy()
    if t.empty:
        return _say_empty(ax, "no growth-rate target", title=title)
    inds = sorted(t["indicator_canonical"].unique())
    ax = _axes(ax, (9, 0.55 * max(len(inds), 2) + 1.6))
    groups = sorted(t[by].fillna("").replace("", "(unnamed)").unique()) if len(t) else []
    if len(groups) > max_groups:
        high = t["value_high"].fillna(t["value"])
        per = [high[t["indicator_canonical"] == i].to_numpy(dtype=float) for i in inds]
        _boxes(ax, per, [f"{i} ({len(v):,})" for i, v in zip(inds, per)], horizontal=True)
        ax.set_xlabel("target growth rate (%), a range at its upper end; (n): targets")
        ax.set_title(f"{title}: {len(t):,} targets of {len(groups):,} {by} values")
        return ax
    colours = plt.get_cmap("tab20")
    for gi, gname in enumerate(groups):
        sub = t[t[by].fillna("").replace("", "(unnamed)") == gname]
        offset = (gi - (len(groups) - 1) / 2) * 0.12
        for _, r in sub.iterrows():
            y = inds.index(r["indicator_canonical"]) + offset
            c = colours(gi % 20)
            if pd.notna(r["value_high"]):
                ax.plot([r["value"], r["value_high"]], [y, y], color=c, lw=2)
            ax.plot(r["value"] if pd.isna(r["value_high"]) else r["value_high"], y,
                    _QUAL_MARKERS.get(r["qualifier"], "s"), color=c, ms=7, label=gname)
    handles, labels = ax.get_legend_handles_labels()
    uniq = dict(zip(labels, handles))
    if uniq:
        ax.legend(uniq.values(), uniq.keys(), fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5), title=by)
    ax.set_yticks(range(len(inds)), inds)
    ax.set_xlabel("target growth rate (%)   markers: > 以上  ^ 不低于  o 左右  * 力争  ■ none")
    ax.set_title(title)
    ax.grid(axis="x", alpha=0.3)
    return ax


def plot_gdp_targets(gdp: pd.DataFrame, *, national: tuple[float, float] = (4.5, 5.0), label: str = "place",
                     ax: Axes | None = None, max_rows: int = MAX_ROWS) -> Axes:
    """Each place's GDP growth target against the national range (shaded): 层层加码 made visible.

    Above ``max_rows`` targets, a histogram of the targets (a range at its upper end) instead of a row each.
    """
    if gdp.empty:
        return _say_empty(ax, "no GDP growth target", title="GDP growth targets vs the national range")
    g = gdp.copy()
    g["high"] = g["value_high"].fillna(g["value"])
    g = g.sort_values(["high", "value"]).reset_index(drop=True)
    over = ((g["high"] > national[1]) | ((g["high"] >= national[1]) & g["qualifier"].isin(["以上", "不低于"])))
    above = int(over.sum())
    title = f"GDP growth targets vs the national {national[0]:g}–{national[1]:g}%: {above} of {len(g)} above"
    if len(g) > max_rows:
        ax = _axes(ax, (8, 3.6))
        ax.axvspan(national[0], national[1], color="#cccccc", alpha=0.5,
                   label=f"national {national[0]:g}–{national[1]:g}%")
        high = g["high"].to_numpy(dtype=float)
        high = high[np.isfinite(high)]
        if high.size:
            ax.hist(high, bins=np.arange(np.floor(high.min()), np.ceil(high.max()) + 0.75, 0.5), color="#1f77b4",
                    label="targets (a range at its upper end)")
        ax.set_xlabel("GDP growth target (%)")
        ax.set_ylabel(label)
        ax.set_title(title)
        ax.legend(loc="upper right", fontsize=8)
        ax.grid(axis="y", alpha=0.3)
        return ax
    ax = _axes(ax, (8, 0.28 * len(g) + 1.5))
    ax.axvspan(national[0], national[1], color="#cccccc", alpha=0.5, label=f"national {national[0]:g}–{national[1]:g}%")
    for i, r in g.iterrows():
        colour = "#d62728" if over[i] else "#1f77b4"
        if r["high"] != r["value"]:
            ax.plot([r["value"], r["high"]], [i, i], color=colour, lw=4, solid_capstyle="round")
        else:
            ax.plot(r["value"], i, _QUAL_MARKERS.get(r["qualifier"], "s"), color=colour, ms=7)
    ax.set_yticks(range(len(g)), g[label].astype(str), fontsize=8)
    ax.set_xlabel("2026 GDP growth target (%) — red: reaches above the national range")
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    return ax


def plot_hidden_figures(hidden: pd.DataFrame, documents: pd.DataFrame | None = None, *, ax: Axes | None = None,
                        max_documents: int = MAX_ROWS) -> Axes:
    """Stacked bars per document: figures stated vs figures hidden behind placeholders.

    Above ``max_documents`` documents, a histogram of the share of figures each document hides.
    """
    if hidden.empty:
        return _say_empty(ax, "no figures in these documents", title="How many figures each document states, "
                                                                    "and how many are hidden")
    if len(hidden) > max_documents:
        ax = _axes(ax, (7, 3.6))
        figures = hidden["figures"].to_numpy(dtype=float)
        hid = hidden["hidden"].to_numpy(dtype=float)
        some = hid > 0
        if some.any():
            ax.hist(100 * hid[some] / figures[some], bins=20, range=(0, 100), color="#ff7f0e")
        ax.set_xlabel("share of the document's figures hidden (%), documents hiding any")
        ax.set_ylabel("documents")
        ax.set_title(f"{int(hid.sum()):,} of {int(figures.sum()):,} figures hidden (xx, x.x, 20xx…); "
                     f"{int(some.sum()):,} of {len(hidden):,} documents hide some")
        ax.grid(axis="y", alpha=0.3)
        return ax
    h = hidden.copy()
    if documents is not None:
        h = h.merge(documents[["doc_id", "place", "title"]], on="doc_id", how="left")
        h.index = doc_labels(h)
    else:
        h.index = h["doc_id"]
    h = h.sort_values("figures")
    ax = _axes(ax, (8, 0.3 * len(h) + 1.4))
    pd.DataFrame({"stated": h["figures"] - h["hidden"], "hidden (xx, x.x, 20xx…)": h["hidden"]}).plot.barh(
        stacked=True, ax=ax, color=["#1f77b4", "#ff7f0e"])
    ax.set_xlabel("figures")
    ax.set_title("How many figures each document states, and how many are hidden")
    return ax


def plot_plan_vs_actual(pairs: pd.DataFrame, *, label: str = "doc_id", ax: Axes | None = None,
                        max_rows: int = MAX_ROWS) -> Axes:
    """Planned against reported values (growth rates), one arrow per place and indicator.

    Above ``max_rows`` pairs, a scatter of planned against reported, one dot per pair, with the diagonal.
    """
    p = pairs[pairs["is_growth_rate"].astype(bool)].reset_index(drop=True)  # an empty table's column is of objects
    if p.empty:
        return _say_empty(ax, "no growth rate both planned and reported", title="Reported vs planned growth")
    if len(p) > max_rows:
        ax = _axes(ax, (6.4, 6))
        up = (p["target"] > p["actual"]).to_numpy(dtype=bool)
        ax.scatter(p["actual"][up], p["target"][up], s=10, alpha=0.5, color="#d62728", label="planned above reported")
        ax.scatter(p["actual"][~up], p["target"][~up], s=10, alpha=0.5, color="#2ca02c",
                   label="planned at or below reported")
        both = pd.concat([p["actual"], p["target"]]).to_numpy(dtype=float)
        lo, hi = np.nanmin(both), np.nanmax(both)
        ax.plot([lo, hi], [lo, hi], color="#555555", lw=1)
        ax.set_xlabel("reported growth (%)")
        ax.set_ylabel("planned growth (%)")
        ax.set_title(f"Reported vs planned growth: {len(p):,} pairs, {int(up.sum()):,} planned above reported")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
        return ax
    ax = _axes(ax, (8, 0.3 * len(p) + 1.5))
    for i, r in p.iterrows():
        ax.annotate("", xy=(r["target"], i), xytext=(r["actual"], i),
                    arrowprops={"arrowstyle": "->", "color": "#d62728" if r["target"] > r["actual"] else "#2ca02c"})
        ax.plot(r["actual"], i, "o", color="#555555", ms=5)
        ax.plot(r["target"], i, "D", color="#1f77b4", ms=6)
    ax.set_yticks(range(len(p)), (p[label].astype(str) + " · " + p["indicator_canonical"]).tolist(), fontsize=8)
    ax.set_xlabel("growth rate (%): ● reported   ◆ planned   (arrow from reported to planned)")
    ax.set_title("Reported vs planned growth")
    ax.grid(axis="x", alpha=0.3)
    return ax
