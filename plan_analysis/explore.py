"""Tables and explorers for notebooks: interactive in JupyterLab, static and safe in HTML reports.

Text from documents is untrusted: every table here escapes HTML, so a raw file holding
``<script>`` shows it as text. In JupyterLab the explorers are ipywidgets (dropdowns, a search
box); when a report is rendered (``PLAN_ANALYSIS_STATIC=1``, set by
:func:`plan_analysis.report.build_report`) or ipywidgets is missing they fall back to a static
table of the same rows.

>>> import pandas as pd
>>> html = show_table(pd.DataFrame({"clause": ["<script>alert(1)</script>增长24%"]})).to_html()
>>> "<script>" in html, "&lt;script&gt;" in html
(False, True)
"""

from __future__ import annotations

import os
import re
import unicodedata
from typing import Any, Literal, Sequence

import pandas as pd

__all__ = ["show_table", "explore_table", "pick_document", "search_corpus", "is_static"]

STATIC_ENV = "PLAN_ANALYSIS_STATIC"


def is_static() -> bool:
    """True when output is for a static HTML report (``$PLAN_ANALYSIS_STATIC`` set) or widgets are unavailable.

    >>> isinstance(is_static(), bool)
    True
    """
    if os.environ.get(STATIC_ENV, "") not in ("", "0"):
        return True
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return True
    return False


#: text columns of :func:`show_table` are at least this many characters wide (or their longest value's width)
TEXT_MIN_WIDTH = 12
#: the width of a narrow (Latin, digit) character, in widths of a Chinese character (1em)
NARROW_CHAR_WIDTH = 0.62
#: the text columns' minimum widths add up to at most this many em (a report page is about 90em of table text wide,
#: less the other columns and the cells' padding): a table of many text columns still fits the page, its wide
#: columns narrower (short ones, an id or a place, keep their width; none gets under 5em)
TEXT_WIDTH_BUDGET = 44


def show_table(df: pd.DataFrame, *, max_rows: int = 60, columns: Sequence[str] | None = None,
               max_chars: int = 120, layout: Literal["rows", "fields", "auto"] = "rows", precision: int = 2) -> Any:
    """Return an HTML-escaped, index-free view of ``df`` (at most ``max_rows`` rows, long text cut).

    ``layout="fields"`` turns it on its side, a line per column (``field``, then each row's
    value): a record of one or two documents reads down the page instead of across it; ``"auto"``
    does that for at most 3 rows. A text column is at least :data:`TEXT_MIN_WIDTH` Chinese characters wide
    (or as wide as its longest value; a Latin letter counts :data:`NARROW_CHAR_WIDTH`), so a title is not
    wrapped two characters a line and a column of codes takes no more room than it needs; with many text
    columns, all are narrower, to fit the page (:data:`TEXT_WIDTH_BUDGET`). The caption
    says when rows were left out (the first 60 of 264 rows), or that there are none. Decimals show
    ``precision`` digits (4 for the q-values of a comparison: 0.00 would hide which are significant).

    >>> show_table(pd.DataFrame({"a": ["铁西街道"] * 3}), max_rows=2).data.shape
    (2, 1)
    >>> show_table(pd.DataFrame({"place": ["铁西街道"], "year": [2024]}), layout="fields").data.values.tolist()
    [['place', '铁西街道'], ['year', '2024']]
    """
    if layout not in ("rows", "fields", "auto"):
        raise ValueError(f"layout must be 'rows', 'fields' or 'auto', got {layout!r}")
    if not isinstance(precision, int) or isinstance(precision, bool) or not 0 <= precision <= 15:
        raise ValueError(f"precision must be a whole number of digits from 0 to 15, got {precision!r}")
    view = df.loc[:, list(columns)] if columns is not None else df
    view = view.head(max_rows).copy()
    for c in view.columns:
        if _is_text(view[c]):
            view[c] = view[c].astype("string").str.slice(0, max_chars)
    if layout == "fields" or (layout == "auto" and 0 < len(view) <= 3):
        cells = [["" if pd.isna(v) else (f"{v:.{precision}f}" if isinstance(v, float) else str(v)) for v in view[c]]
                 for c in view.columns]
        view = pd.DataFrame([[str(c), *vals] for c, vals in zip(view.columns, cells)],
                            columns=["field", *(f"row {i + 1}" for i in range(len(view)))]).astype("string")
    # the column names too: a pivot's columns are values of the table (places, titles), text of the documents
    styler = (view.style.format(escape="html", na_rep="", precision=precision).format_index(escape="html", axis=1)
              .hide(axis="index"))
    styles = [{"selector": "td", "props": "text-align: left; vertical-align: top;"},
              {"selector": "th", "props": "text-align: left;"}]  # a heading over the column it names
    # numbers right-aligned, heading too, so their digits line up (not booleans: True/False are words)
    styles += [{"selector": f"td.col{i}, th.col{i}", "props": "text-align: right;"} for i, c in enumerate(view.columns)
               if pd.api.types.is_numeric_dtype(view[c]) and not pd.api.types.is_bool_dtype(view[c])]
    widths = {i: min(max((_display_width(v) for v in view[c].dropna().astype(str)), default=0.0), TEXT_MIN_WIDTH)
              for i, c in enumerate(view.columns) if _is_text(view[c])}
    widths = {i: w for i, w in widths.items() if w >= 3}  # not for a word or two (目标, plan): they fit anyway
    # short values (an id, a place) keep their width; the wide columns share what is left of the budget
    short = sum(w for w in widths.values() if w <= 6)
    wide = sum(w for w in widths.values() if w > 6)
    n_wide = sum(1 for w in widths.values() if w > 6)
    scale = min(1.0, max(TEXT_WIDTH_BUDGET - short, 5 * n_wide) / wide) if wide else 1.0
    for i, w in widths.items():
        em = w if w <= 6 else max(5.0, round(w * scale, 1))  # at least five characters a line
        styles.append({"selector": f"td.col{i}", "props": f"min-width: {em:g}em;"})
    if not len(view):
        styler = styler.set_caption("no rows")
    elif len(df) > max_rows:
        styler = styler.set_caption(f"the first {max_rows:,} of {len(df):,} rows")
    return styler.set_table_styles(styles)


def _display_width(text: str) -> float:
    """How wide ``text`` is set, in em: a Chinese character is 1, a Latin letter or digit :data:`NARROW_CHAR_WIDTH`.

    >>> _display_width("summary+plan"), _display_width("铁西街道")
    (7.4, 4.0)
    """
    wide = sum(1 for ch in text if unicodedata.east_asian_width(ch) in "WF")
    return round(wide + NARROW_CHAR_WIDTH * (len(text) - wide), 1)


def _is_text(column: pd.Series) -> bool:
    """A column of text (or of mixed objects, shown as text)."""
    return column.dtype == object or str(column.dtype) in ("string", "str")


def explore_table(df: pd.DataFrame, *, filters: Sequence[str] = (), search: str | None = None,
                  max_rows: int = 60, columns: Sequence[str] | None = None, static: bool | None = None) -> Any:
    """Filter ``df`` with a dropdown per column in ``filters`` and a text box over ``search``.

    Returns an ipywidgets box in JupyterLab; in a static report (or ``static=True``), the first
    ``max_rows`` rows as :func:`show_table`.

    >>> explore_table(pd.DataFrame({"place": ["铁西街道"], "figure": ["24%"]}), filters=["place"], static=True).data.shape
    (1, 2)
    """
    if is_static() if static is None else static:
        return show_table(df, max_rows=max_rows, columns=columns)
    import ipywidgets as w
    from IPython.display import display

    dropdowns = {c: w.Dropdown(options=["(all)"] + sorted(map(str, df[c].dropna().unique())), description=c)
                 for c in filters}
    box = w.Text(description=search or "", placeholder="contains…") if search else None
    out = w.Output()

    def refresh(*_: Any) -> None:
        sel = df
        for c, dd in dropdowns.items():
            if dd.value != "(all)":
                sel = sel[sel[c].astype(str) == dd.value]
        if box is not None and box.value:
            sel = sel[sel[search].astype(str).str.contains(box.value, regex=False)]
        out.clear_output()
        with out:
            print(f"{len(sel)} rows")
            display(show_table(sel, max_rows=max_rows, columns=columns))

    for dd in dropdowns.values():
        dd.observe(refresh, names="value")
    if box is not None:
        box.observe(refresh, names="value")
    refresh()
    controls = list(dropdowns.values()) + ([box] if box is not None else [])
    return w.VBox([w.HBox(controls), out])


def _document_view(corpus: Any, doc_id: str, *, max_sentences: int) -> pd.DataFrame:
    sents = corpus.sentences[corpus.sentences["doc_id"] == doc_id]
    return sents[["role", "text", "raw_start", "raw_end"]].head(max_sentences)


def pick_document(corpus: Any, *, max_sentences: int = 80, static: bool | None = None) -> Any:
    """Pick a place, then one of its documents, and read its sentences with their raw offsets.

    >>> from plan_analysis import load_corpus
    >>> c = load_corpus("data/raw/001_64b46b310826ad2c.txt", progress=False)
    >>> pick_document(c, static=True).data["place"].tolist()
    ['铁西街道']
    """
    docs = corpus.documents
    if is_static() if static is None else static:
        return show_table(docs[["doc_id", "place", "doc_type", "label_year", "year_min", "year_max", "title"]],
                          max_rows=200)
    import ipywidgets as w
    from IPython.display import display

    places = sorted(docs["place"].fillna("").replace("", "(unnamed)").unique())
    place_dd = w.Dropdown(options=places, description="place")
    doc_dd = w.Dropdown(description="document")
    out = w.Output()

    def on_place(*_: Any) -> None:
        name = "" if place_dd.value == "(unnamed)" else place_dd.value
        ids = docs[docs["place"].fillna("") == name]["doc_id"].tolist()
        doc_dd.options = ids
        doc_dd.value = ids[0] if ids else None

    def on_doc(*_: Any) -> None:
        out.clear_output()
        if doc_dd.value:
            with out:
                display(show_table(_document_view(corpus, doc_dd.value, max_sentences=max_sentences), max_rows=max_sentences,
                                   max_chars=400))

    place_dd.observe(on_place, names="value")
    doc_dd.observe(on_doc, names="value")
    on_place()
    on_doc()
    return w.VBox([w.HBox([place_dd, doc_dd]), out])


def _search(corpus: Any, pattern: str, *, window: int) -> pd.DataFrame:
    rows = []
    try:
        rx = re.compile(pattern)
    except re.error:
        rx = re.compile(re.escape(pattern))
    for d in corpus.documents.itertuples():
        for m in rx.finditer(d.text):
            rs, re_ = corpus.raw_span(d.doc_id, m.start(), m.end())
            rows.append({"doc_id": d.doc_id, "place": d.place,
                         "left": d.text[max(0, m.start() - window):m.start()].replace("\n", " "),
                         "match": m.group(), "right": d.text[m.end():m.end() + window].replace("\n", " "),
                         "raw_start": rs, "raw_end": re_})
    return pd.DataFrame(rows, columns=["doc_id", "place", "left", "match", "right", "raw_start", "raw_end"])


def search_corpus(corpus: Any, pattern: str = "招商引资", *, window: int = 20, max_rows: int = 60,
                  static: bool | None = None) -> Any:
    """Keyword in context over the cleaned texts: a search box in JupyterLab, a static table in reports.

    ``pattern`` is a regular expression (a plain word works too); every hit carries raw offsets.

    >>> from plan_analysis import load_corpus
    >>> c = load_corpus("data/raw/001_64b46b310826ad2c.txt", progress=False)
    >>> search_corpus(c, "老年食堂", window=4, static=True).data[["left", "match", "right"]].values.tolist()
    [['2家社区', '老年食堂', '，全面提']]
    """
    if is_static() if static is None else static:
        return show_table(_search(corpus, pattern, window=window), max_rows=max_rows)
    import ipywidgets as w
    from IPython.display import display

    box = w.Text(value=pattern, description="search")
    out = w.Output()

    def refresh(*_: Any) -> None:
        out.clear_output()
        if box.value:
            hits = _search(corpus, box.value, window=window)
            with out:
                print(f"{len(hits)} hits")
                display(show_table(hits, max_rows=max_rows))

    box.observe(refresh, names="value")
    refresh()
    return w.VBox([box, out])
