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
    """Bar chart of how many rows have each value of ``column`` (stacked by ``by``)."""
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
    """Placeholders (xx, 20xx, ***, …) per 1,000 characters, per document."""
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
    """Characters removed or rewritten by cleaning, by kind (log scale)."""
    ax = _axes(ax, (7, 3.2))
    summary = summarize_edits(edits)
    if kinds is not None:
        summary = summary[summary["kind"].isin(kinds)]
    s = summary.groupby("kind")["edits"].sum().sort_values()
    s.plot.barh(ax=ax, color="#2ca02c", logx=True)
    ax.set_xlabel("number of edits (log scale)")
    ax.set_title("What cleaning changed, by kind")
    return ax
