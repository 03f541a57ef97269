"""Render the numbered notebooks to a self-contained static HTML site.

:func:`build_report` executes every ``notebooks/NN_*.ipynb`` headless (one
fresh ``python3`` kernel each, working directory = the notebooks folder, the
corpus passed as the absolute path in ``$PLAN_ANALYSIS_CORPUS``), exports each
to ``<out_dir>/<stem>.html`` and writes ``<out_dir>/index.html`` linking them
with their title and status.

Every page must read correctly offline on a machine without any CJK font, so:

* images are embedded as ``data:`` URLs (matplotlib output already is;
  markdown images are inlined with ``embed_images``);
* nbconvert's lab template is used with the blocks that load require.js,
  MathJax, mermaid and the widget manager from CDNs overridden to nothing,
  and any remaining external ``<script src>``/``<link href>`` is stripped;
* :func:`embed_font` subsets the CJK font from :mod:`plan_analysis.fonts` to the
  characters of the page, and inlines it as a base64 WOFF ``@font-face``
  named ``PlanAnalysisCJK`` that the page CSS puts first.

A notebook fails when a cell raises, when an error is shown in its output
(e.g. the inline backend failing to draw a figure after the cell ran) or when
matplotlib warns that a glyph is missing. Its page is still written, with
the error visible, and the other notebooks still run.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import html as html_lib
import io
import logging
import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from plan_analysis.fonts import find_cjk_font, missing_glyphs

__all__ = ["build_report", "embed_font", "NotebookResult", "CORPUS_ENV", "FONT_FAMILY"]

log = logging.getLogger(__name__)

#: Environment variable through which notebooks receive the corpus directory.
CORPUS_ENV = "PLAN_ANALYSIS_CORPUS"
#: CSS family name of the embedded subset font.
FONT_FAMILY = "PlanAnalysisCJK"
#: Which notebooks make up the report.
NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"
KERNEL_NAME = "python3"

_STYLE_ID = "plan-analysis-cjk-font"
_SANS = f'"{FONT_FAMILY}", system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif'
_MONO = f'Menlo, Consolas, "DejaVu Sans Mono", "Liberation Mono", "{FONT_FAMILY}", monospace'
_FONT_CSS = f"""
:root, body {{
  --jp-ui-font-family: {_SANS};
  --jp-content-font-family: {_SANS};
  --jp-code-font-family: {_MONO};
  --jp-code-font-family-default: {_MONO};
}}
body, h1, h2, h3, h4, h5, h6, p, li, dt, dd, blockquote, table, caption, th, td,
.jp-Notebook, .jp-RenderedHTMLCommon, .jp-RenderedHTML, .jp-RenderedMarkdown {{
  font-family: {_SANS};
}}
pre, code, kbd, samp, .jp-RenderedText pre, .jp-OutputArea-output pre {{
  font-family: {_MONO};
}}
"""

# nbconvert's lab template minus everything fetched from a CDN.
_TEMPLATE_NAME = "plan_analysis_offline.html.j2"
_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
"""

_EXTERNAL_RE = re.compile(
    r"""<script\b[^>]*\bsrc\s*=\s*["']?(?:https?:)?//[^>]*>.*?</script\s*>"""
    r"""|<link\b[^>]*\bhref\s*=\s*["']?(?:https?:)?//[^>]*>""",
    re.IGNORECASE | re.DOTALL,
)
_OWN_STYLE_RE = re.compile(rf'<style id="{_STYLE_ID}">.*?</style>', re.DOTALL)
_HEAD_END_RE = re.compile(r"</head\s*>", re.IGNORECASE)
_HEAD_START_RE = re.compile(r"<head\b[^>]*>", re.IGNORECASE)
_JSON_ESCAPE_RE = re.compile(r"\\u([0-9a-fA-F]{4})")
_HEADING_RE = re.compile(r"^ {0,3}#{1,6}[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
_GLYPH_RE = re.compile(r"Glyph \d+ .*missing from font", re.IGNORECASE)
_ANSI_RE = re.compile(r"\x1b\[[0-9;]*m")
_ASCII = "".join(chr(c) for c in range(0x20, 0x7F))


# --------------------------------------------------------------------------
# font embedding


@contextlib.contextmanager
def _quiet(logger_name: str, level: int = logging.WARNING):
    """Temporarily raise a chatty library logger's level (fontTools.subset logs every table at INFO)."""
    logger = logging.getLogger(logger_name)
    old = logger.level
    logger.setLevel(max(level, logger.getEffectiveLevel()))
    try:
        yield
    finally:
        logger.setLevel(old)


class _DropAltTextWarning(logging.Filter):
    """nbconvert warns for every matplotlib image without alt text; not actionable here."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Alternative text is missing" not in record.getMessage()


_nbconvert_log = logging.getLogger(f"{__name__}.nbconvert")
_nbconvert_log.addFilter(_DropAltTextWarning())
_nbclient_log = logging.getLogger(f"{__name__}.nbclient")


@functools.lru_cache(maxsize=2)
def _font_bytes(path: str) -> bytes:
    return Path(path).read_bytes()


def _page_chars(html: str) -> set[str]:
    """Characters a browser may have to draw for ``html`` (plus ASCII)."""
    text = html_lib.unescape(html)
    chars = set(text) | set(_ASCII)
    chars |= {chr(int(h, 16)) for h in _JSON_ESCAPE_RE.findall(text)}
    return {c for c in chars if c.isprintable() and not 0xD800 <= ord(c) <= 0xDFFF}


def _subset_woff(font_path: Path, chars: set[str]) -> bytes:
    """Subset the font to ``chars`` and return it as a zlib-compressed WOFF."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.flavor = "woff"
    options.with_zopfli = False
    options.desubroutinize = True
    options.notdef_outline = True
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6, 13, 14]  # keep copyright + licence (OFL)
    font = TTFont(io.BytesIO(_font_bytes(str(font_path))), fontNumber=0)
    try:
        with _quiet("fontTools"):
            subsetter = subset.Subsetter(options)
            subsetter.populate(unicodes=sorted(ord(c) for c in chars))
            subsetter.subset(font)
            out = io.BytesIO()
            subset.save_font(font, out, options)
    finally:
        font.close()
    return out.getvalue()


def embed_font(html: str, *, font_path: str | Path | None = None) -> str:
    """Return ``html`` with a subset CJK web font and CSS that uses it inlined.

    The font (default :func:`plan_analysis.fonts.find_cjk_font`) is cut down to
    the characters occurring in the page plus printable ASCII, encoded as WOFF
    and injected as a ``data:`` URL in a ``<style>`` at the end of ``<head>``.
    Calling it again replaces the previous font instead of adding a second.

    >>> page = embed_font("<html><head></head><body>铁西街道</body></html>")
    >>> '@font-face{font-family:"PlanAnalysisCJK"' in page and "data:font/woff;base64," in page
    True
    """
    path = Path(font_path) if font_path is not None else find_cjk_font()
    html = _OWN_STYLE_RE.sub("", html)
    chars = _page_chars(html)
    lacking = missing_glyphs("".join(chars), path)
    if lacking:
        log.warning(
            "font %s lacks %d character(s) used in the page: %s",
            path.name, len(lacking), "".join(sorted(lacking))[:40],
        )
    woff = _subset_woff(path, chars)
    log.debug("embedded %s: %d chars, %d bytes WOFF", path.name, len(chars), len(woff))
    data = base64.b64encode(woff).decode("ascii")
    style = (
        f'<style id="{_STYLE_ID}">'
        f'@font-face{{font-family:"{FONT_FAMILY}";'
        f'src:url(data:font/woff;base64,{data}) format("woff");'
        "font-style:normal;font-weight:400;font-display:block}"
        f"{_FONT_CSS}</style>"
    )
    end = _HEAD_END_RE.search(html)
    if end:
        return html[: end.start()] + style + "\n" + html[end.start():]
    start = _HEAD_START_RE.search(html)
    if start:
        return html[: start.end()] + style + html[start.end():]
    return style + "\n" + html


def _strip_external(html: str, name: str) -> str:
    """Remove ``<script src=http…>``/``<link href=http…>`` so the page works offline."""
    html, n = _EXTERNAL_RE.subn("", html)
    if n:
        log.warning("%s: removed %d external script/stylesheet reference(s)", name, n)
    return html


# --------------------------------------------------------------------------
# notebook execution and export


@dataclass
class NotebookResult:
    """Outcome of rendering one notebook."""

    notebook: Path
    html_name: str
    title: str
    ok: bool = True
    seconds: float = 0.0
    cell_index: int | None = None
    error: str = ""

    @property
    def status(self) -> str:
        """Short human status for the index page."""
        if self.ok:
            return "ok"
        where = f"cell {self.cell_index}: " if self.cell_index is not None else ""
        return f"failed ({where}{self.error})"


def _notebook_title(nb, default: str) -> str:
    """First markdown heading of the notebook, else ``default``."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            match = _HEADING_RE.search(cell.source)
            if match:
                return match.group(1).strip()
    return default


def _output_failure(nb) -> tuple[int, str, str] | None:
    """Error hidden in outputs of a notebook whose cells all 'succeeded'.

    Catches errors raised after a cell finished (matplotlib's inline backend
    draws figures in a post-execute hook, so a strict missing-glyph error ends
    up as an error output, not a failed cell) and missing-glyph warnings.
    """
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if "raises-exception" in cell.metadata.get("tags", []):
            continue
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                return index, output.get("ename", "Error"), output.get("evalue", "")
            if output.output_type == "stream" and output.get("name") == "stderr":
                for line in _ANSI_RE.sub("", output.get("text", "")).splitlines():
                    if _GLYPH_RE.search(line):
                        return index, "UserWarning", line.strip()
    return None


def _kernel_env(corpus: Path) -> dict[str, str]:
    env = dict(os.environ)
    env[CORPUS_ENV] = str(corpus)
    env["PLAN_ANALYSIS_STATIC"] = "1"  # explorers render as static tables in the report
    env.pop("MPLBACKEND", None)  # let ipykernel pick the inline backend
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # quiet debugpy warning
    return env


def _execute(nb, result: NotebookResult, *, cwd: Path, env: dict[str, str], timeout: int) -> None:
    """Run ``nb`` in place; record any failure in ``result``."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    current: dict[str, int] = {}

    def on_cell_start(cell, cell_index, **_kwargs):
        current["index"] = cell_index

    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=KERNEL_NAME,
        resources={"metadata": {"path": str(cwd)}},
        on_cell_start=on_cell_start,
        log=_nbclient_log,
    )
    try:
        client.execute(env=env)
    except CellExecutionError as exc:
        result.ok = False
        result.cell_index = current.get("index")
        result.error = f"{exc.ename}: {exc.evalue}"
    except Exception as exc:  # timeout, dead kernel, kernel failed to start...
        result.ok = False
        result.cell_index = current.get("index")
        result.error = f"{type(exc).__name__}: {exc}"
    else:
        hidden = _output_failure(nb)
        if hidden is not None:
            result.ok = False
            result.cell_index = hidden[0]
            result.error = f"{hidden[1]}: {hidden[2]}"


def _failure_banner(result: NotebookResult) -> str:
    where = f" in cell {result.cell_index}" if result.cell_index is not None else ""
    return (
        '<div class="plan-analysis-failure" style="border:2px solid #c00;'
        'background:#fee;padding:0.8em;margin:1em;white-space:pre-wrap">'
        f"<strong>This notebook failed{where}:</strong> "
        f"{html_lib.escape(result.error)}</div>"
    )


def _export(nb, result: NotebookResult, *, cwd: Path, show_code: bool) -> str:
    """Export an executed notebook to offline HTML."""
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        extra_loaders=[DictLoader({_TEMPLATE_NAME: _TEMPLATE})],
        template_file=_TEMPLATE_NAME,
        embed_images=True,
        exclude_input=not show_code,
        exclude_input_prompt=not show_code,
        exclude_output_prompt=not show_code,
        log=_nbconvert_log,
    )
    resources = {"metadata": {"name": result.title, "path": str(cwd)}}
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    if not result.ok:
        body = re.sub(r"(<main\b[^>]*>)", lambda m: m.group(1) + _failure_banner(result), body, count=1)
    return body


def _fallback_page(result: NotebookResult, detail: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{html_lib.escape(result.title)}</title></head><body>"
        f"<h1>{html_lib.escape(result.title)}</h1>{_failure_banner(result)}"
        f"<pre>{html_lib.escape(detail)}</pre></body></html>\n"
    )


def _write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temp file in the same directory + os.replace."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _corpus_summary(documents, load_report) -> str:
    """HTML (escaped) summary of the corpus for the index page."""
    if documents is None:
        return ""
    esc = html_lib.escape
    n_files = int((load_report["status"] == "loaded").sum()) if load_report is not None else 0
    skipped = load_report[load_report["status"] != "loaded"] if load_report is not None else None
    parts = [f"<p>{len(documents)} documents from {n_files} file(s)"
             + (f"; {len(skipped)} file(s) not loaded" if skipped is not None and len(skipped) else "") + ".</p>"]
    for col, label in (("doc_type", "type"), ("admin_level", "level"), ("province", "province")):
        counts = documents[col].fillna("").replace("", "(unknown)").value_counts()
        parts.append(f"<p><strong>By {label}:</strong> "
                     + ", ".join(f"{esc(str(k))} {v}" for k, v in counts.items()) + "</p>")
    if skipped is not None and len(skipped):
        items = "".join(f"<li><code>{esc(str(r.source_file))}</code>: {esc(str(r.reason))}</li>"
                        for r in skipped.itertuples())
        parts.append(f"<details><summary>Files not loaded</summary><ul>{items}</ul></details>")
    return "\n".join(parts)


def _index_page(results: list[NotebookResult], corpus: str, *, summary_html: str = "",
                profiles: list[NotebookResult] | None = None) -> str:
    def row(r: NotebookResult) -> str:
        cls = "ok" if r.ok else "failed"
        return (
            f'<tr class="{cls}"><td><a href="{html_lib.escape(r.html_name)}">'
            f"{html_lib.escape(r.title)}</a></td>"
            f"<td><code>{html_lib.escape(r.notebook.name)}</code></td>"
            f'<td class="status">{html_lib.escape(r.status)}</td>'
            f"<td>{r.seconds:.1f} s</td></tr>"
        )

    rows = [row(r) for r in results]
    profiles = profiles or []
    failed = sum(not r.ok for r in results + profiles)
    total = len(results) + len(profiles)
    summary = f"{total} page(s), " + (f"{failed} failed" if failed else "all ok")
    profile_table = ""
    if profiles:
        profile_table = ("<h2>Profiles</h2>\n<table>\n<thead><tr><th>Place / document</th><th>Notebook</th>"
                         "<th>Status</th><th>Time</th></tr></thead>\n<tbody>\n"
                         + "\n".join(row(r) for r in profiles) + "\n</tbody>\n</table>")
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>plan-analysis report</title>
<style>
body {{ margin: 2em auto; max-width: 60em; padding: 0 1em; line-height: 1.5; color: #222; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ text-align: left; padding: 0.4em 0.8em; border-bottom: 1px solid #ddd; }}
tr.failed td.status {{ color: #b00; font-weight: bold; }}
tr.ok td.status {{ color: #070; }}
</style>
</head>
<body>
<main>
<h1>plan-analysis report</h1>
<p>Corpus: <code>{html_lib.escape(corpus)}</code> &middot; {summary}</p>
{summary_html}
<h2>Notebooks</h2>
<table>
<thead><tr><th>Notebook</th><th>File</th><th>Status</th><th>Time</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody>
</table>
{profile_table}
</main>
</body>
</html>
"""


def profile_targets(documents) -> list[tuple[str, dict[str, str]]]:
    """One profile per named place (all its local documents), one per document of an unnamed place.

    Returns ``(label, parameters)`` pairs; parameters are the profile notebook's ``PLACE`` and
    ``DOC_ID``.

    >>> import pandas as pd
    >>> docs = pd.DataFrame({"doc_id": ["a-1", "a-2", "b-1"], "place": ["铁西街道", "铁西街道", "xx镇"],
    ...                      "is_local_plan": [True, True, True]})
    >>> profile_targets(docs)
    [('铁西街道', {'PLACE': '铁西街道', 'DOC_ID': ''}), ('xx镇 · b-1', {'PLACE': '', 'DOC_ID': 'b-1'})]
    """
    out: list[tuple[str, dict[str, str]]] = []
    local = documents[documents["is_local_plan"].fillna(False).astype(bool)]
    seen: set[str] = set()
    for r in local.itertuples():
        place = str(r.place) if isinstance(r.place, str) else ""
        anonymous = not place or re.match(r"^(?:xx|XX|x+|X+)", place) is not None
        if anonymous:
            out.append((f"{place or '(unnamed)'} · {r.doc_id}", {"PLACE": "", "DOC_ID": str(r.doc_id)}))
        elif place not in seen:
            seen.add(place)
            out.append((place, {"PLACE": place, "DOC_ID": ""}))
    return out


def _inject_parameters(nb, params: dict[str, str]) -> None:
    """Insert an ``injected-parameters`` cell after the ``parameters`` cell (papermill's convention)."""
    import nbformat

    source = "# Parameters injected by plan_analysis.report\n" + "\n".join(f"{k} = {v!r}" for k, v in params.items())
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": ["injected-parameters"]})
    idx = next((i for i, c in enumerate(nb.cells) if "parameters" in c.get("metadata", {}).get("tags", [])), -1)
    nb.cells.insert(idx + 1, cell)


def _is_profile(nb) -> bool:
    return bool(nb.metadata.get("plan_analysis", {}).get("profile"))


def _render(path: Path, result: NotebookResult, *, nb_dir: Path, env: dict[str, str], timeout: int,
            show_code: bool, params: dict[str, str] | None = None) -> str:
    """Execute one notebook (with injected ``params``) and return its offline HTML page."""
    import nbformat

    nb = None
    try:
        nb = nbformat.read(path, as_version=4)
        if params is None:
            result.title = _notebook_title(nb, path.stem)
        else:
            _inject_parameters(nb, params)
        _execute(nb, result, cwd=nb_dir, env=env, timeout=timeout)
    except Exception as exc:  # unreadable notebook (bad JSON, wrong format)
        result.ok = False
        result.error = f"{type(exc).__name__}: {exc}"
    if nb is None:
        page = _fallback_page(result, result.error)
    else:
        try:
            page = _export(nb, result, cwd=nb_dir, show_code=show_code)
        except Exception as exc:
            log.error("cannot export %s to HTML: %s: %s", path.name, type(exc).__name__, exc)
            if result.ok:
                result.ok = False
                result.error = f"HTML export failed: {type(exc).__name__}: {exc}"
            page = _fallback_page(result, str(exc))
    return embed_font(_strip_external(page, path.name))


def _log_result(result: NotebookResult, name: str) -> None:
    if result.ok:
        log.info("done %s in %.1f s", name, result.seconds)
    else:
        where = f"cell {result.cell_index}" if result.cell_index is not None else "setup"
        log.error("FAILED %s at %s after %.1f s: %s", name, where, result.seconds, result.error)


def build_report(
    *,
    notebooks_dir: str | Path = "notebooks",
    out_dir: str | Path = "reports",
    corpus: str | Path = "data/raw",
    timeout: int = 600,
    show_code: bool = False,
    profiles: bool = True,
    workers: int = 2,
) -> int:
    """Execute the numbered notebooks and write an offline HTML site; return 0 if all ran.

    The index page summarises the corpus and links every page. A notebook whose metadata has
    ``plan_analysis.profile`` (``10_township_profile.ipynb``) is run once per place instead, with
    ``PLACE``/``DOC_ID`` injected after its ``parameters`` cell (papermill's convention), on
    ``workers`` kernels at a time. ``timeout`` is per cell, in seconds. Returns 1 if any page
    failed or no notebook was found; failing notebooks still get a page showing the error.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     build_report(notebooks_dir=tmp, out_dir=tmp, profiles=False)
    1
    """
    from concurrent.futures import ThreadPoolExecutor

    from tqdm import tqdm
    from tqdm.contrib.logging import logging_redirect_tqdm

    nb_dir = Path(notebooks_dir).resolve()
    if not nb_dir.is_dir():
        raise FileNotFoundError(f"notebooks directory not found: {notebooks_dir}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    corpus_path = Path(corpus).resolve()
    if not corpus_path.exists():
        log.warning("corpus %s does not exist", corpus)
    env = _kernel_env(corpus_path)

    paths = sorted(nb_dir.glob(NOTEBOOK_GLOB))
    if not paths:
        log.error("no notebooks matching %s in %s", NOTEBOOK_GLOB, notebooks_dir)

    import nbformat

    documents = load_report = None
    if corpus_path.exists() and (paths or profiles):
        from .corpus import load_corpus

        log.info("loading corpus %s", corpus)
        loaded = load_corpus(corpus_path, progress=True)
        documents, load_report = loaded.documents, loaded.load_report

    results: list[NotebookResult] = []
    profile_paths: list[Path] = []
    for path in paths:
        try:
            if _is_profile(nbformat.read(path, as_version=4)):
                profile_paths.append(path)
                continue
        except Exception:  # unreadable: _render reports it
            pass
        results.append(NotebookResult(notebook=path, html_name=f"{path.stem}.html", title=path.stem))

    def run_notebook(result: NotebookResult) -> None:
        log.info("start %s", result.notebook.name)
        started = time.monotonic()
        page = _render(result.notebook, result, nb_dir=nb_dir, env=env, timeout=timeout, show_code=show_code)
        _write_atomic(out / result.html_name, page)
        result.seconds = time.monotonic() - started
        _log_result(result, result.notebook.name)

    with logging_redirect_tqdm():
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            list(tqdm(pool.map(run_notebook, results), total=len(results), desc="notebooks", unit="nb"))

        profile_results: list[NotebookResult] = []
        if profiles and profile_paths and documents is not None:
            jobs = []
            for path in profile_paths:
                for k, (label, params) in enumerate(profile_targets(documents), start=1):
                    r = NotebookResult(notebook=path, html_name=f"{path.stem}-{k:02d}.html", title=label)
                    profile_results.append(r)
                    jobs.append((path, r, params))

            def run(job: tuple[Path, NotebookResult, dict[str, str]]) -> None:
                path, r, params = job
                started = time.monotonic()
                page = _render(path, r, nb_dir=nb_dir, env=env, timeout=timeout, show_code=show_code, params=params)
                _write_atomic(out / r.html_name, page)
                r.seconds = time.monotonic() - started
                _log_result(r, f"{path.name} [{r.title}]")

            with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
                list(tqdm(pool.map(run, jobs), total=len(jobs), desc="profiles", unit="page"))

    summary_html = _corpus_summary(documents, load_report)
    _write_atomic(out / "index.html", embed_font(_index_page(results, str(corpus), summary_html=summary_html,
                                                             profiles=profile_results)))
    failed = [r.notebook.name + (f" [{r.title}]" if r in profile_results else "")
              for r in results + profile_results if not r.ok]
    if failed:
        log.error("%d of %d page(s) failed: %s", len(failed), len(results) + len(profile_results), ", ".join(failed))
    else:
        log.info("report written to %s (%d notebook(s), %d profile(s))", out / "index.html", len(results),
                 len(profile_results))
    return 1 if failed or not results else 0


def find_browser() -> str | None:
    """Return the path of a headless-capable Chromium/Chrome, or ``None``.

    >>> find_browser() is None or find_browser().endswith(("chromium", "chromium-browser", "google-chrome", "chrome"))
    True
    """
    import shutil as _shutil

    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = _shutil.which(name)
        if path:
            return path
    return None


def screenshot(page: str | Path, png: str | Path, *, width: int = 1300, height: int = 2400) -> Path:
    """Render an HTML page to a PNG with headless Chromium, to look at a report as a reader would.

    Raises ``FileNotFoundError`` naming what to install when no browser is found (Debian:
    ``apt-get install chromium``). The browser runs offline with a throwaway profile.

    >>> import tempfile
    >>> tmp = Path(tempfile.mkdtemp())
    >>> _ = (tmp / "p.html").write_text("<h1>铁西街道</h1>", encoding="utf-8")
    >>> find_browser() is None or screenshot(tmp / "p.html", tmp / "p.png").stat().st_size > 0
    True
    """
    import subprocess

    browser = find_browser()
    if browser is None:
        raise FileNotFoundError("no Chromium or Chrome found on PATH; install one (Debian: apt-get install chromium)")
    page, png = Path(page).resolve(), Path(png).resolve()
    png.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={profile}", f"--window-size={width},{height}", f"--screenshot={png}", page.as_uri()]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    return png
