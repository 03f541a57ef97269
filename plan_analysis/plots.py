"""Standard charts of the corpus, drawn with the project's CJK font.

Each function takes a tidy table, draws on ``ax`` (or a new figure) and returns the axes,
so notebooks stay narrative: one call per chart.
"""

from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes

from .fonts import use_cjk_font

__all__ = ["plot_counts", "plot_year_evidence", "plot_placeholder_density", "plot_edits", "summarize_edits",
           "doc_labels"]


def _axes(ax: Axes | None, size: tuple[float, float]) -> Axes:
    use_cjk_font()
    if ax is None:
        _, ax = plt.subplots(figsize=size, layout="constrained")
    return ax


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
                title: str = "") -> Axes:
    """Bar chart of how many rows have each value of ``column`` (stacked by ``by``).

    >>> plot_counts(pd.DataFrame({"doc_type": ["plan", "plan", "summary"]}), "doc_type").get_title()
    'documents by doc_type'
    """
    ax = _axes(ax, (7, 3.2))
    if by:
        table = df.groupby([column, by], dropna=False).size().unstack(fill_value=0)
        table.plot.barh(stacked=True, ax=ax)
        ax.legend(title=by, fontsize=8, loc="lower right")
    else:
        df[column].fillna("(empty)").replace("", "(empty)").value_counts().sort_values().plot.barh(ax=ax)
    ax.set_xlabel("documents")
    ax.set_ylabel("")
    ax.set_title(title or f"documents by {column}")
    return ax


def plot_year_evidence(documents: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """For each document, the year its title claims against the window its text supports.

    A bar spans ``year_min``–``year_max`` (an arrow where one side is open); the dot is the
    label year, red when the text rules it out.

    >>> docs = pd.DataFrame({"doc_id": ["a-1"], "place": ["百禄镇"], "title": [""], "label_year": [2024],
    ...                      "year_min": [pd.NA], "year_max": [2018], "label_year_plausible": [False]})
    >>> bool(plot_year_evidence(docs).get_xlim()[1] >= 2024)
    True
    """
    docs = documents.reset_index(drop=True)
    ax = _axes(ax, (8, 0.35 * len(docs) + 1.2))
    years = pd.concat([docs["label_year"], docs["year_min"], docs["year_max"]]).dropna()
    lo = int(years.min()) - 2 if len(years) else 2010
    hi = int(years.max()) + 2 if len(years) else 2026
    labels = doc_labels(docs)
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
            bad = row.get("label_year_plausible") is False or (pd.notna(row.get("label_year_plausible")) and not row.get("label_year_plausible"))
            ax.plot(int(row["label_year"]), i, "o", color="#d62728" if bad else "#333333", zorder=2)
    ax.set_yticks(range(len(docs)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(lo - 1, hi + 1)
    ax.set_xlabel("year (bar: supported by the text; dot: claimed by the title, red = ruled out)")
    ax.set_title("Label year vs the years the text supports")
    ax.grid(axis="x", alpha=0.3)
    return ax


def plot_placeholder_density(documents: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Placeholders (xx, 20xx, ***, …) per 1,000 characters, per document.

    >>> docs = pd.DataFrame({"doc_id": ["a-1"], "place": ["xx镇"], "title": [""], "placeholders_per_1000": [12.5]})
    >>> len(plot_placeholder_density(docs).patches)
    1
    """
    docs = documents.reset_index(drop=True)
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
    ax = _axes(ax, (7, 3.2))
    summary = summarize_edits(edits)
    if kinds is not None:
        summary = summary[summary["kind"].isin(kinds)]
    s = summary.groupby("kind")["edits"].sum().sort_values()
    s.plot.barh(ax=ax, color="#2ca02c", logx=True)
    ax.set_xlabel("number of edits (log scale)")
    ax.set_title("What cleaning changed, by kind")
    return ax


_QUAL_MARKERS = {"以上": ">", "不低于": "^", "不少于": "^", "超过": "^", "左右": "o", "约": "o", "以内": "v",
                 "力争": "*", "确保": "D", "": "s"}


def plot_growth_targets(targets: pd.DataFrame, *, by: str = "place", ax: Axes | None = None,
                        title: str = "Growth-rate targets by indicator") -> Axes:
    """Dot plot of growth-rate targets: one row per canonical indicator, one colour per ``by`` group.

    Ranges (4.5%–5%) are drawn as a line between their ends; the marker says the qualifier
    (> 以上, ^ 不低于/不少于, o 左右, * 力争, ■ none).
    """
    t = targets[targets["is_growth_rate"] & (targets["kind"] == "target") & ~targets["placeholder"]
                & (targets["indicator_canonical"] != "")].copy()
    inds = sorted(t["indicator_canonical"].unique())
    ax = _axes(ax, (9, 0.55 * max(len(inds), 2) + 1.6))
    groups = sorted(t[by].fillna("").replace("", "(unnamed)").unique()) if len(t) else []
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
                     ax: Axes | None = None) -> Axes:
    """Each place's GDP growth target against the national range (shaded): 层层加码 made visible."""
    g = gdp.copy()
    g["high"] = g["value_high"].fillna(g["value"])
    g = g.sort_values(["high", "value"]).reset_index(drop=True)
    ax = _axes(ax, (8, 0.28 * len(g) + 1.5))
    ax.axvspan(national[0], national[1], color="#cccccc", alpha=0.5, label=f"national {national[0]:g}–{national[1]:g}%")
    above = 0
    for i, r in g.iterrows():
        over = r["high"] > national[1] or (r["high"] >= national[1] and r["qualifier"] in ("以上", "不低于"))
        above += bool(over)
        colour = "#d62728" if over else "#1f77b4"
        if r["high"] != r["value"]:
            ax.plot([r["value"], r["high"]], [i, i], color=colour, lw=4, solid_capstyle="round")
        else:
            ax.plot(r["value"], i, _QUAL_MARKERS.get(r["qualifier"], "s"), color=colour, ms=7)
    ax.set_yticks(range(len(g)), g[label].astype(str), fontsize=8)
    ax.set_xlabel("2026 GDP growth target (%) — red: reaches above the national range")
    ax.set_title(f"GDP growth targets vs the national {national[0]:g}–{national[1]:g}%: {above} of {len(g)} above")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    return ax


def plot_hidden_figures(hidden: pd.DataFrame, documents: pd.DataFrame | None = None, *, ax: Axes | None = None) -> Axes:
    """Stacked bars per document: figures stated vs figures hidden behind placeholders."""
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


def plot_plan_vs_actual(pairs: pd.DataFrame, *, label: str = "doc_id", ax: Axes | None = None) -> Axes:
    """Planned against reported values (growth rates), one arrow per place and indicator."""
    p = pairs[pairs["is_growth_rate"]].reset_index(drop=True)
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
