"""Render the numbered notebooks to a self-contained static HTML site.

:func:`build_report` executes every ``notebooks/NN_*.ipynb`` headless (working
directory = the notebooks folder, the corpus passed as the absolute path in
``$PLAN_ANALYSIS_CORPUS``), exports each to ``<out_dir>/<stem>.html`` and writes
``<out_dir>/index.html`` linking them with their title and status.

Starting a kernel and importing pandas, matplotlib and the package costs
seconds, and the profile notebook runs once per place, so ``workers`` ``python3``
kernels stay up for the whole build and each is reset to a fresh kernel's state
between notebooks (:data:`_KERNEL_RESET`). A page that ran without error is
cached under ``default_cache_dir()/report-pages``, keyed on everything it
depends on (notebook, parameters, corpus contents, package source, lexicons,
font, installed packages), so an unchanged rerun executes nothing.

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
import json
import logging
import os
import re
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

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
# The embedded font comes first in both stacks but covers only the characters past Latin-1 (its
# unicode-range, below): Chinese in printed output gets it, Latin letters and digits keep a monospace
# font. Listed after an installed monospace font instead, Chromium never falls back to it (tofu).
_MONO = f'"{FONT_FAMILY}", Menlo, Consolas, "DejaVu Sans Mono", "Liberation Mono", monospace'
_FONT_RANGE = "U+00B7,U+0100-10FFFF"
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


def _bound_glyphs_once(font) -> None:
    """Let each CFF glyph of ``font`` compute its bounding box once instead of three times.

    Saving recomputes ``hhea``, ``vhea`` and the CFF ``FontBBox``, each drawing every glyph to find
    its bounds; the result is the same each time, so the second and third draw are skipped (about
    a fifth of the subsetting time, byte-identical output).
    """
    if "CFF " not in font:
        return
    char_strings = font["CFF "].cff.topDictIndex[0].CharStrings
    for name in char_strings.keys():
        glyph = char_strings[name]
        glyph.calcBounds = functools.lru_cache(maxsize=1)(glyph.calcBounds)


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
            _bound_glyphs_once(font)
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
        f"font-style:normal;font-weight:400;font-display:block;unicode-range:{_FONT_RANGE}}}"
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
    cached: bool = False

    @property
    def status(self) -> str:
        """Short human status for the index page."""
        if self.ok:
            return "ok"
        where = f"cell {self.cell_index}: " if self.cell_index is not None else ""
        return f"failed ({where}{self.error})"


def _cell_source(cell) -> str:
    """A cell's source as one string (on disk it may be a list of lines)."""
    source = cell.get("source", "")
    return "".join(map(str, source)) if isinstance(source, list) else str(source)


def _notebook_title(nb, default: str) -> str:
    """First markdown heading of the notebook (parsed JSON or nbformat node), else ``default``."""
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            match = _HEADING_RE.search(_cell_source(cell))
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


# Runs once in a new kernel: imports the heavy modules (they stay loaded for every notebook the
# kernel runs) and records what _KERNEL_RESET puts back before each notebook.
_KERNEL_BASELINE = """
def _plan_analysis_baseline():
    import os, sys, types, warnings
    state = types.ModuleType("_plan_analysis_baseline")
    state.cwd, state.environ, state.path = os.getcwd(), dict(os.environ), list(sys.path)
    state.filters = list(warnings.filters)
    sys.modules[state.__name__] = state
    try:  # warm imports only: a notebook that needs a broken module reports the error itself
        import matplotlib.pyplot
        import plan_analysis
    except Exception:
        pass
_plan_analysis_baseline()
del _plan_analysis_baseline
"""

# Runs before each notebook but the first: what a notebook may change and a later one could see
# goes back to what a fresh kernel has (namespace, execution count, working directory, environment,
# sys.path, warning filters and the warnings already shown, open figures, matplotlib rcParams and
# pandas options). Imported modules and their caches stay: they do not change what a cell outputs.
_KERNEL_RESET = """
def _plan_analysis_reset():
    import os, sys, warnings
    state = sys.modules["_plan_analysis_baseline"]
    os.chdir(state.cwd)
    os.environ.clear()
    os.environ.update(state.environ)
    sys.path[:] = state.path
    warnings.filters[:] = state.filters
    warnings.onceregistry.clear()
    with warnings.catch_warnings():  # leaving it makes every module forget the warnings it has shown
        warnings.simplefilter("ignore")
        if "matplotlib.pyplot" in sys.modules:
            sys.modules["matplotlib.pyplot"].close("all")
        if "matplotlib" in sys.modules:
            sys.modules["matplotlib"].rc_file_defaults()
        if "pandas" in sys.modules:
            sys.modules["pandas"].reset_option("all")
    get_ipython().reset(new_session=True)
_plan_analysis_reset()
"""


#: a kernel that dies while starting is replaced; this many tries in all before its notebook's page fails
KERNEL_START_TRIES = 3


class _Kernel:
    """One kernel that runs notebooks one after another, reset to a fresh state before each.

    The kernel starts on first use, so a run served entirely from the cache starts none. A kernel
    that died, timed out or could not be reset is shut down and the next notebook gets a new one.
    """

    def __init__(self, *, cwd: Path, env: dict[str, str], timeout: int):
        self.cwd, self.env, self.timeout = cwd, env, timeout
        self.client = None
        self.fresh = False
        self._sockets: str | None = None  # the folder of its IPC sockets

    def execute(self, nb, result: NotebookResult) -> None:
        """Run ``nb`` in place; record any failure in ``result``."""
        from nbclient.exceptions import CellExecutionError

        current: dict[str, int] = {}

        def on_cell_start(cell, cell_index, **_kwargs):
            current["index"] = cell_index

        try:
            client = self._ready()
            client.nb = nb
            client.on_cell_start = on_cell_start
            client.execute(cleanup_kc=False)
        except CellExecutionError as exc:
            result.ok = False
            result.cell_index = current.get("index")
            result.error = f"{exc.ename}: {exc.evalue}"
        except Exception as exc:  # timeout, dead kernel, kernel failed to start...
            result.ok = False
            result.cell_index = current.get("index")
            result.error = f"{type(exc).__name__}: {exc}"
            self.close(now=True)  # it may be dead, or still busy with the cell that timed out
        else:
            hidden = _output_failure(nb)
            if hidden is not None:
                result.ok = False
                result.cell_index = hidden[0]
                result.error = f"{hidden[1]}: {hidden[2]}"

    def _ready(self):
        """Return the client of a kernel in a fresh state, starting a new kernel if needed."""
        if self.client is not None and not self.fresh:
            try:
                self._run_silent(_KERNEL_RESET)
            except Exception as exc:
                log.warning("could not reset the kernel (%s: %s); starting a new one", type(exc).__name__, exc)
                self.close(now=True)
        if self.client is None:
            self.start()
        self.fresh = False
        return self.client

    def start(self) -> None:
        """Start the kernel and import the heavy modules in it; a kernel that dies on the way is replaced, up to
        :data:`KERNEL_START_TRIES` times in all."""
        for attempt in range(1, KERNEL_START_TRIES + 1):
            try:
                self._start_once()
                return
            except Exception as exc:
                if attempt == KERNEL_START_TRIES:
                    raise
                log.warning("a kernel did not start (%s: %s); starting another", type(exc).__name__, exc)

    def _start_once(self) -> None:
        import nbformat
        from nbclient import NotebookClient

        client = NotebookClient(nbformat.v4.new_notebook(), timeout=self.timeout, kernel_name=KERNEL_NAME,
                                resources={"metadata": {"path": str(self.cwd)}}, log=_nbclient_log)
        client.km = client.create_kernel_manager()
        if os.name == "posix":
            # Unix sockets in a folder of its own, not TCP ports: two kernels starting at once could be given the
            # same free port, and one of them died ("Address already in use")
            self._sockets = tempfile.mkdtemp(prefix="plan-analysis-kernel-")
            client.km.transport = "ipc"
            client.km.ip = os.path.join(self._sockets, "kernel")
        self.client = client
        try:
            client.start_new_kernel(env=self.env)
            client.start_new_kernel_client()
            self._run_silent(_KERNEL_BASELINE)
        except BaseException:
            self.close(now=True)
            raise
        self.fresh = True

    def _run_silent(self, code: str) -> None:
        """Run ``code`` without output or history; raise if it fails."""
        client = self.client
        reply = client.wait_for_reply(client.kc.execute(code, silent=True, store_history=False))
        if reply is None:
            raise TimeoutError(f"no reply from the kernel within {self.timeout} s")
        content = reply["content"]
        if content.get("status") != "ok":
            raise RuntimeError(f"{content.get('ename', 'Error')}: {content.get('evalue', '')}")

    def close(self, *, now: bool = False) -> None:
        """Shut the kernel down (``now``: kill it without asking) and remove its sockets."""
        client, self.client = self.client, None
        sockets, self._sockets = self._sockets, None
        try:
            if client is None or client.km is None:
                return
            if now:
                client.shutdown_kernel = "immediate"
            try:
                client._cleanup_kernel()
            except Exception as exc:  # already gone: nothing left to do
                log.debug("kernel shutdown: %s: %s", type(exc).__name__, exc)
        finally:
            if sockets is not None:
                import shutil

                shutil.rmtree(sockets, ignore_errors=True)


def _failure_banner(result: NotebookResult) -> str:
    where = f" in cell {result.cell_index}" if result.cell_index is not None else ""
    return (
        '<div class="plan-analysis-failure" style="border:2px solid #c00;'
        'background:#fee;padding:0.8em;margin:1em;white-space:pre-wrap">'
        f"<strong>This notebook failed{where}:</strong> "
        f"{html_lib.escape(result.error)}</div>"
    )


@functools.lru_cache(maxsize=2)
def _exporter(show_code: bool):
    """The HTML exporter (building one compiles the templates, so it is reused; pages are exported on one thread,
    the report's writer, so it is never used by two threads at once)."""
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    return HTMLExporter(
        extra_loaders=[DictLoader({_TEMPLATE_NAME: _TEMPLATE})],
        template_file=_TEMPLATE_NAME,
        embed_images=True,
        exclude_input=not show_code,
        exclude_input_prompt=not show_code,
        exclude_output_prompt=not show_code,
        log=_nbconvert_log,
    )


def _export(nb, result: NotebookResult, *, cwd: Path, show_code: bool) -> str:
    """Export an executed notebook to offline HTML."""
    resources = {"metadata": {"name": result.title, "path": str(cwd)}}
    body, _ = _exporter(show_code).from_notebook_node(nb, resources=resources)
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
    """Write ``text`` to ``path`` atomically (see :func:`plan_analysis.corpus._write_atomic`), readable by all."""
    from .corpus import _write_atomic as write_atomic

    write_atomic(path, text.encode("utf-8"), mode=0o644)


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
                profiles: list[NotebookResult] | None = None, left_out: Sequence[str] = ()) -> str:
    def row(r: NotebookResult) -> str:
        cls = "ok" if r.ok else "failed"
        return (
            f'<tr class="{cls}"><td><a href="{html_lib.escape(r.html_name)}">'
            f"{html_lib.escape(r.title)}</a></td>"
            f"<td><code>{html_lib.escape(r.notebook.name)}</code></td>"
            f'<td class="status">{html_lib.escape(r.status)}</td>'
            f"<td>{'cached' if r.cached else f'{r.seconds:.1f} s'}</td></tr>"
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
    if left_out:
        names = "、".join(html_lib.escape(x) for x in left_out[:200]) + ("…" if len(left_out) > 200 else "")
        profile_table += (f"\n<details><summary>{len(left_out):,} more places have no profile page here (the "
                          f"{len(profiles):,} with the most text were rendered; <code>--max-profiles 0</code> "
                          f"renders all)</summary><p>{names}</p></details>")
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
    cell.id = "injected-parameters"  # not a random id: the same parameters give the same page
    idx = next((i for i, c in enumerate(nb.cells) if "parameters" in c.get("metadata", {}).get("tags", [])), -1)
    nb.cells.insert(idx + 1, cell)


def _is_profile(nb) -> bool:
    return bool(nb.get("metadata", {}).get("plan_analysis", {}).get("profile"))


# --------------------------------------------------------------------------
# the page cache: an executed page is reused while nothing it depends on changed

#: Bumped when the cache entry format or what the key covers changes.
_CACHE_FORMAT = 1
#: Sub-folder of :func:`plan_analysis.corpus.default_cache_dir` holding the cached pages.
CACHE_SUBDIR = "report-pages"
#: Cached pages not used for this many days are deleted.
_CACHE_MAX_AGE_DAYS = 30
# a string literal in a code cell that names a path, such as "../data/corpora/provincial-2026/texts"
_PATH_LITERAL_RE = re.compile(r"""(["'])((?:\.\.?/|/)[^"'\n]{0,300}?)\1""")


def _hash_tree(path: Path, *, skip: Path | None = None) -> str:
    """Hash of the names, sizes and contents of every file at or under ``path`` (not under ``skip``)."""
    import hashlib

    h = hashlib.sha256(str(path).encode())
    if not path.exists():
        return h.hexdigest() + "-missing"
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for file in files:
        if skip is not None and file.is_relative_to(skip):
            continue
        rel = file.name if file == path else file.relative_to(path).as_posix()
        try:
            with open(file, "rb") as fh:
                digest = f"{os.fstat(fh.fileno()).st_size}\0{hashlib.file_digest(fh, 'sha256').hexdigest()}"
        except OSError as exc:  # vanished or unreadable: the notebooks will see that too
            digest = f"unreadable: {exc}"
        h.update(f"\0{rel}\0{digest}".encode())
    return h.hexdigest()


def _hash_environment() -> str:
    """Hash of the Python version and the installed distributions (their ``*.dist-info`` names)."""
    import hashlib
    import sys

    names = []
    for entry in filter(None, sys.path):  # not "": the current folder is not where packages live
        with contextlib.suppress(OSError):
            names += [n for n in os.listdir(entry) if n.endswith((".dist-info", ".egg-info"))]
    return hashlib.sha256("\n".join([sys.version, sys.executable, KERNEL_NAME, *sorted(names)]).encode()).hexdigest()


def _hash_font() -> str:
    """Identity of the CJK font the pages embed and the charts draw with."""
    try:
        path = find_cjk_font()
    except RuntimeError as exc:  # no font: every page fails the same way, key on that
        return f"no font: {exc}"
    stat = path.stat()
    return f"{path}:{stat.st_size}:{stat.st_mtime_ns}"


def _build_fingerprint(*, nb_dir: Path, corpus: Path, show_code: bool, cache_root: Path,
                       tree_hash: Callable[[Path], str] | None = None) -> str:
    """Hash of what every page of this build depends on, apart from its notebook and parameters.

    ``tree_hash(path)``: :func:`_hash_tree` of ``path`` skipping ``cache_root`` (a build passes one
    that remembers its answers, so a folder several notebooks name is read once).
    """
    import hashlib

    from .corpus import source_fingerprint
    from .lexicons import lexicon_fingerprint

    tree_hash = tree_hash or (lambda path: _hash_tree(path, skip=cache_root))
    parts = [f"format {_CACHE_FORMAT}", f"notebooks {nb_dir}", f"show_code {show_code}",
             f"corpus {tree_hash(corpus)}", f"package {source_fingerprint(scope='package')}",
             f"lexicons {lexicon_fingerprint()}",
             f"font {_hash_font()}", f"environment {_hash_environment()}"]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _notebook_inputs(nb, nb_dir: Path, cache_root: Path) -> list[Path]:
    """Files or folders the notebook's code names by a path that exists, starting ``./``, ``../`` or ``/``.

    The notebooks folder and its parents are left out (they are not inputs), and so are the cache
    folder, what is in it and the folders holding it (their contents change with every run).
    """
    found: dict[Path, None] = {}
    excluded = {nb_dir, *nb_dir.parents}
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        for match in _PATH_LITERAL_RE.finditer(_cell_source(cell)):
            path = (nb_dir / match.group(2)).resolve()
            with contextlib.suppress(OSError, ValueError):
                if (path.exists() and path not in excluded and not path.is_relative_to(cache_root)
                        and not cache_root.is_relative_to(path)):
                    found[path] = None
    return list(found)


def _notebook_fingerprint(nb, nb_dir: Path, cache_root: Path, tree_hash: Callable[[Path], str] | None = None) -> str:
    """Hash of the notebook without outputs or execution counts, and of the inputs its code names."""
    import hashlib

    tree_hash = tree_hash or (lambda path: _hash_tree(path, skip=cache_root))
    h = hashlib.sha256()
    cells = [{k: v for k, v in cell.items() if k not in ("outputs", "execution_count")} for cell in nb.get("cells", [])]
    h.update(json.dumps({**nb, "cells": cells}, sort_keys=True, ensure_ascii=False).encode())
    for path in _notebook_inputs(nb, nb_dir, cache_root):
        h.update(tree_hash(path).encode())
    return h.hexdigest()


def _page_key(build: str, notebook: str, params: dict[str, str] | None) -> str:
    """Cache key of one page: the build and notebook fingerprints and the injected parameters.

    >>> _page_key("b", "n", {"PLACE": "铁西街道"}) == _page_key("b", "n", {"PLACE": "铁西街道"})
    True
    >>> _page_key("b", "n", {"PLACE": "铁西街道"}) == _page_key("b", "n", {"PLACE": "百禄镇"})
    False
    """
    import hashlib

    text = json.dumps([build, notebook, params], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def _page_slot(notebook: Path, params: dict[str, str] | None, corpus: Path, show_code: bool) -> str:
    """Name shared by the successive versions of one page (a new version replaces the old)."""
    import hashlib

    text = json.dumps([str(notebook), params, str(corpus), show_code], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _read_cached_page(folder: Path, slot: str, key: str) -> dict | None:
    """The cached page of ``slot`` under ``key``, or None when missing, damaged or for another key."""
    import hashlib

    path = folder / f"{slot}.{key}.json"
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
        html = entry["html"]
        # the key (which covers the format) is in the file name: only the contents can be wrong here
        problem = "contents do not match their checksum" if hashlib.sha256(html.encode()).hexdigest() != entry["sha256"] \
            else ""
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        problem = f"{type(exc).__name__}: {exc}"
    if problem:
        log.warning("ignoring cached page %s: %s", path, problem)
        return None
    with contextlib.suppress(OSError):
        os.utime(path)  # recently used: kept by the pruning
    return entry


def _write_cached_page(folder: Path, slot: str, key: str, result: NotebookResult, html: str) -> None:
    """Store a page atomically under ``key``, replacing the previous version of the same page."""
    import hashlib

    path = folder / f"{slot}.{key}.json"
    entry = {"title": result.title, "seconds": round(result.seconds, 3),
             "sha256": hashlib.sha256(html.encode()).hexdigest(), "html": html}
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _write_atomic(path, json.dumps(entry, ensure_ascii=False))
        for old in folder.glob(f"{slot}.*.json"):
            if old != path:
                old.unlink(missing_ok=True)
    except OSError as exc:
        log.warning("cannot cache page %s in %s: %s", result.html_name, folder, exc)


def _prune_cache(folder: Path) -> None:
    """Delete cached pages unused for ``_CACHE_MAX_AGE_DAYS`` and temporary files left by crashes."""
    now = time.time()
    for path in folder.glob("*"):
        with contextlib.suppress(OSError):
            age_days = (now - path.stat().st_mtime) / 86400
            if age_days > _CACHE_MAX_AGE_DAYS or (path.name.startswith(".tmp-") and age_days > 1):
                path.unlink()


# --------------------------------------------------------------------------
# building the site


@dataclass
class _Job:
    """One page to produce: a notebook (with parameters for a profile) and where its result goes."""

    result: NotebookResult
    source: str | None  # the notebook file's text, None when it could not be read
    read_error: str = ""
    params: dict[str, str] | None = None
    key: str = ""
    slot: str = ""

    @property
    def name(self) -> str:
        """The notebook's file name, with the profile's label."""
        nb = self.result.notebook.name
        return nb if self.params is None else f"{nb} [{self.result.title}]"


def _read_notebooks(paths: list[Path]) -> list[tuple[Path, str | None, dict | None, str]]:
    """``(path, text, parsed JSON, error)`` per notebook file; unreadable ones keep their error.

    Plain JSON, not nbformat: importing nbformat takes seconds (its schema validator), which a run
    served from the cache never needs. Kernels parse the text with nbformat before running it.
    """
    out = []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
            nb = json.loads(text)
            if not (isinstance(nb, dict) and isinstance(nb.get("cells", []), list)
                    and all(isinstance(c, dict) for c in nb.get("cells", []))
                    and isinstance(nb.get("metadata", {}), dict)):
                raise ValueError("not a notebook: expected a JSON object with a list of cells and a metadata object")
            out.append((path, text, nb, ""))
        except (OSError, ValueError) as exc:  # unreadable notebook (bad JSON, not UTF-8): its page shows the error
            out.append((path, None, None, f"{type(exc).__name__}: {exc}"))
    return out


def _page_jobs(notebooks) -> list[_Job]:
    """A job per numbered notebook that is not a profile template (an unreadable one included: its page says so)."""
    jobs = []
    for path, text, nb, error in notebooks:
        if nb is None or not _is_profile(nb):
            title = _notebook_title(nb, path.stem) if nb is not None else path.stem
            result = NotebookResult(notebook=path, html_name=f"{path.stem}.html", title=title)
            jobs.append(_Job(result=result, source=text, read_error=error))
    return jobs


#: the most township profiles one report renders unless asked for more: each is a notebook run of its own
MAX_PROFILES = 50


def choose_profiles(documents, *, max_profiles: int | None = MAX_PROFILES
                    ) -> tuple[list[tuple[str, dict[str, str]]], list[str]]:
    """The profiles to render and the labels of those left out: at most ``max_profiles`` (``None``: all).

    When there are more, the places with the most text are kept (a document of an unnamed place counts
    alone), in the order of :func:`profile_targets`.

    >>> import pandas as pd
    >>> docs = pd.DataFrame({"doc_id": ["a-1", "b-1", "b-2"], "place": ["铁西街道", "前江街道", "前江街道"],
    ...                      "is_local_plan": True, "n_chars": [900, 400, 600]})
    >>> choose_profiles(docs, max_profiles=1)
    ([('前江街道', {'PLACE': '前江街道', 'DOC_ID': ''})], ['铁西街道'])
    """
    if max_profiles is not None and max_profiles < 0:
        raise ValueError(f"max_profiles must be 0 or more (or None for all), got {max_profiles}")
    targets = profile_targets(documents)
    if max_profiles is None or len(targets) <= max_profiles:
        return targets, []
    size = (documents["n_chars"] if "n_chars" in documents else documents["text"].str.len()).fillna(0)
    by_place = size.groupby(documents["place"].fillna("").astype(str)).sum()
    by_doc = dict(zip(documents["doc_id"].astype(str), size))
    chars = [by_doc.get(p["DOC_ID"], 0) if p["DOC_ID"] else by_place.get(p["PLACE"], 0) for _, p in targets]
    keep = set(sorted(range(len(targets)), key=lambda i: (-chars[i], i))[:max_profiles])
    return ([t for i, t in enumerate(targets) if i in keep],
            [label for i, (label, _) in enumerate(targets) if i not in keep])


def _profile_jobs(notebooks, targets: list[tuple[str, dict[str, str]]]) -> list[_Job]:
    """A job per profile template and place (see :func:`profile_targets`)."""
    return [_Job(result=NotebookResult(notebook=path, html_name=f"{path.stem}-{k:02d}.html", title=label),
                 source=text, params=params)
            for path, text, nb, _ in notebooks if nb is not None and _is_profile(nb)
            for k, (label, params) in enumerate(targets, start=1)]


class _Keys:
    """Cache keys for the jobs of one build: what the pages share is hashed once."""

    def __init__(self, notebooks, *, nb_dir: Path, corpus: Path, show_code: bool, cache_root: Path):
        self.corpus, self.show_code = corpus, show_code
        # every notebook names the corpus folder: each folder is read and hashed once per build
        tree_hash = functools.cache(lambda path: _hash_tree(path, skip=cache_root))
        self.build = _build_fingerprint(nb_dir=nb_dir, corpus=corpus, show_code=show_code, cache_root=cache_root,
                                        tree_hash=tree_hash)
        self.notebooks = {path: _notebook_fingerprint(nb, nb_dir, cache_root, tree_hash)
                          for path, _, nb, _ in notebooks if nb is not None}

    def set(self, jobs: list[_Job]) -> None:
        """Set the cache key and slot of every job whose notebook could be read."""
        for job in jobs:
            if job.source is not None:
                job.key = _page_key(self.build, self.notebooks[job.result.notebook], job.params)
                job.slot = _page_slot(job.result.notebook, job.params, self.corpus, self.show_code)


def _has_cached_page(folder: Path, job: _Job) -> bool:
    """Whether the cache seems to hold the job's page (:func:`_read_cached_page` checks it when used)."""
    return bool(job.key) and (folder / f"{job.slot}.{job.key}.json").is_file()


def _execute_job(job: _Job, kernel: _Kernel):
    """Execute the job's notebook in ``kernel``; return the executed notebook (None if unreadable)."""
    import nbformat

    try:
        if job.source is None:
            raise ValueError(job.read_error)
        nb = nbformat.reads(job.source, as_version=4)
    except Exception as exc:  # not a valid notebook: its page shows the error
        job.result.ok = False
        job.result.error = job.read_error or f"{type(exc).__name__}: {exc}"
        return None
    if job.params is not None:
        _inject_parameters(nb, job.params)
    kernel.execute(nb, job.result)
    return nb


def _page_html(nb, result: NotebookResult, *, nb_dir: Path, show_code: bool) -> str:
    """The offline HTML page of an executed notebook (a fallback page if there is none or export fails)."""
    if nb is None:
        page = _fallback_page(result, result.error)
    else:
        try:
            page = _export(nb, result, cwd=nb_dir, show_code=show_code)
        except Exception as exc:
            log.error("cannot export %s to HTML: %s: %s", result.notebook.name, type(exc).__name__, exc)
            if result.ok:
                result.ok = False
                result.error = f"HTML export failed: {type(exc).__name__}: {exc}"
            page = _fallback_page(result, str(exc))
    return embed_font(_strip_external(page, result.notebook.name))


def _log_result(result: NotebookResult, name: str) -> None:
    if result.ok:
        log.info("done %s in %.1f s", name, result.seconds)
    else:
        where = f"cell {result.cell_index}" if result.cell_index is not None else "setup"
        log.error("FAILED %s at %s after %.1f s: %s", name, where, result.seconds, result.error)


class _Runner:
    """Worker threads that each own a reused kernel and take jobs in order; one more thread writes pages.

    Kernels only execute: exporting, embedding the font and writing happen on the writer thread in
    the order the kernels finish, so a kernel starts its next notebook while the last page is
    written. ``prestart`` kernels start at once (while the caller loads the corpus); the others on
    their first job that the cache cannot serve, so a run served entirely from the cache starts none.
    Use as a context manager: leaving it stops the workers and shuts their kernels down.
    """

    def __init__(self, *, out: Path, nb_dir: Path, env: dict[str, str], timeout: int, show_code: bool,
                 workers: int, cache_dir: Path | None, prestart: int = 0):
        import queue
        from concurrent.futures import ThreadPoolExecutor

        self.out, self.nb_dir, self.env, self.timeout = out, nb_dir, env, timeout
        self.show_code, self.cache_dir = show_code, cache_dir
        self.jobs: queue.Queue = queue.Queue()
        self.stop = threading.Event()
        self.n = max(1, workers)
        self.bar = None
        self.written: list = []
        self.writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="report-pages")
        self.pool = ThreadPoolExecutor(max_workers=self.n, thread_name_prefix="report-kernel")
        self.workers = [self.pool.submit(self._drain, i < prestart) for i in range(self.n)]

    def __enter__(self) -> "_Runner":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.stop.set()
            for future in self.written:
                future.cancel()
        for _ in range(self.n):
            self.jobs.put(None)  # wakes every worker that still waits for a job
        self.pool.shutdown(wait=True)
        self.writer.shutdown(wait=True, cancel_futures=True)
        if self.bar is not None:
            self.bar.close()

    def run(self, jobs: list[_Job]) -> None:
        """Produce every job's page: from the cache where it holds one, else on a kernel."""
        from tqdm import tqdm

        self.bar = tqdm(total=len(jobs), desc="pages", unit="page")
        for job in jobs:
            self.jobs.put(job)
        for _ in range(self.n):
            self.jobs.put(None)
        for future in self.workers:
            future.result()
        for future in list(self.written):
            future.result()

    def _drain(self, prestart: bool) -> None:
        kernel = _Kernel(cwd=self.nb_dir, env=self.env, timeout=self.timeout)
        try:
            if prestart:
                try:
                    kernel.start()
                except Exception as exc:  # the first notebook tries again, and its page says why if that fails too
                    log.warning("could not start a kernel ahead of the notebooks (%s: %s)", type(exc).__name__, exc)
            while not self.stop.is_set():
                job = self.jobs.get()
                if job is None or self.stop.is_set():
                    return
                started = time.monotonic()
                cached = (_read_cached_page(self.cache_dir, job.slot, job.key)
                          if self.cache_dir is not None and job.key else None)
                nb = None
                if cached is None:
                    log.info("start %s", job.name)
                    nb = _execute_job(job, kernel)
                self.written.append(self.writer.submit(self._finish, job, nb, started, cached))
        finally:
            kernel.close()

    def _finish(self, job: _Job, nb, started: float, cached: dict | None) -> None:
        result = job.result
        try:
            if cached is not None:
                page = cached["html"]
                result.title, result.cached = cached["title"], True
            else:
                page = _page_html(nb, result, nb_dir=self.nb_dir, show_code=self.show_code)
            _write_atomic(self.out / result.html_name, page)
            result.seconds = time.monotonic() - started
            if cached is not None:
                log.info("done %s from the cache", job.name)
            else:
                _log_result(result, job.name)
                if self.cache_dir is not None and result.ok and job.key:
                    _write_cached_page(self.cache_dir, job.slot, job.key, result, page)
            if self.bar is not None:
                self.bar.update(1)
        except BaseException:
            self.stop.set()  # e.g. Ctrl-C while writing: no further notebook starts
            raise


def build_report(
    *,
    notebooks_dir: str | Path = "notebooks",
    out_dir: str | Path = "reports",
    corpus: str | Path = "data/raw",
    timeout: int = 600,
    show_code: bool = False,
    profiles: bool = True,
    max_profiles: int | None = MAX_PROFILES,
    workers: int = 2,
    cache: bool = True,
) -> int:
    """Execute the numbered notebooks and write an offline HTML site; return 0 if all ran.

    The index page summarises the corpus and links every page. A notebook whose metadata has
    ``plan_analysis.profile`` (``10_township_profile.ipynb``) is run once per place instead, with
    ``PLACE``/``DOC_ID`` injected after its ``parameters`` cell (papermill's convention), for at most
    ``max_profiles`` places (``None``: all; see :func:`choose_profiles`); the index names the others. Notebooks
    run on ``workers`` kernels, each reused from one notebook to the next and reset to a fresh state
    in between. ``timeout`` is per cell, in seconds. Returns 1 if any page failed or no notebook was
    found; failing notebooks still get a page showing the error. A notebooks folder or corpus that does
    not exist raises ``FileNotFoundError`` (an ``out_dir`` that is a file, ``NotADirectoryError``) before anything
    is written.

    With ``cache`` (the default), each page that ran without error is kept under
    ``default_cache_dir()/report-pages`` and reused until its notebook, its parameters, the
    corpus files, a file the notebook names, the package source, the lexicons, the font or the
    installed packages change; ``cache=False`` executes every notebook and leaves the cache alone.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     build_report(notebooks_dir=tmp, out_dir=tmp, profiles=False)
    1
    """
    from tqdm.contrib.logging import logging_redirect_tqdm

    nb_dir = Path(notebooks_dir).resolve()
    if not nb_dir.is_dir():
        raise FileNotFoundError(f"notebooks directory not found: {notebooks_dir}")
    corpus_path = Path(corpus).resolve()
    if not corpus_path.exists():  # a typo: pages of an empty corpus would render, and hide it
        raise FileNotFoundError(f"corpus not found: {corpus} (give a folder of .txt files, or one file)")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"output folder {out_dir} is a file; give a folder (it is made if missing)")
    out.mkdir(parents=True, exist_ok=True)

    paths = sorted(nb_dir.glob(NOTEBOOK_GLOB))
    if not paths:
        log.error("no notebooks matching %s in %s", NOTEBOOK_GLOB, notebooks_dir)
    notebooks = _read_notebooks(paths)
    pages = _page_jobs(notebooks)
    cache_dir = keys = None
    if cache and paths:
        from .corpus import default_cache_dir

        cache_root = default_cache_dir().resolve()  # what is under it is never an input
        cache_dir = cache_root / CACHE_SUBDIR
        keys = _Keys(notebooks, nb_dir=nb_dir, corpus=corpus_path, show_code=show_code, cache_root=cache_root)
        keys.set(pages)
    to_run = [job for job in pages if cache_dir is None or not _has_cached_page(cache_dir, job)]

    with logging_redirect_tqdm(), _Runner(out=out, nb_dir=nb_dir, env=_kernel_env(corpus_path), timeout=timeout,
                                          show_code=show_code, workers=workers, cache_dir=cache_dir,
                                          prestart=min(workers, len(to_run))) as runner:
        documents = load_report = None
        if corpus_path.exists() and (paths or profiles):
            from .corpus import load_corpus

            log.info("loading corpus %s", corpus)
            loaded = load_corpus(corpus_path, progress=True)
            documents, load_report = loaded.documents, loaded.load_report
        left_out: list[str] = []
        profile_jobs = []
        if profiles and documents is not None:
            chosen, left_out = choose_profiles(documents, max_profiles=max_profiles)
            if left_out:
                log.warning("%d places have a profile; rendering the %d with the most text (max_profiles=%d). "
                            "Pass --max-profiles 0 (max_profiles=None) for all, or run "
                            "notebooks/10_township_profile.ipynb with PLACE set for one of the others", len(chosen) + len(left_out), len(chosen), max_profiles)
            profile_jobs = _profile_jobs(notebooks, chosen)
        if keys is not None:
            keys.set(profile_jobs)
        jobs = pages + profile_jobs
        if documents is not None and len(documents) and any(cache_dir is None or not _has_cached_page(cache_dir, job)
                                                            for job in jobs):
            _count_words_once(loaded)
        runner.run(jobs)
    if cache_dir is not None:
        log.info("%d of %d page(s) from the cache in %s", sum(job.result.cached for job in jobs), len(jobs), cache_dir)
        _prune_cache(cache_dir)

    results = [job.result for job in pages]
    profile_results = [job.result for job in profile_jobs]
    summary_html = _corpus_summary(documents, load_report)
    _write_atomic(out / "index.html", embed_font(_index_page(results, str(corpus), summary_html=summary_html,
                                                             profiles=profile_results, left_out=left_out)))
    profile_stems = {path.stem for path, _, nb, _ in notebooks if nb is not None and _is_profile(nb)}
    _remove_stale_profiles(out, profile_stems, keep={r.html_name for r in profile_results})
    failed = [job.name for job in jobs if not job.result.ok]
    if failed:
        log.error("%d of %d page(s) failed: %s", len(failed), len(jobs), ", ".join(failed))
    else:
        log.info("report written to %s (%d notebook(s), %d profile(s))", out / "index.html", len(results),
                 len(profile_results))
    return 1 if failed or not results else 0


def _count_words_once(corpus) -> None:
    """Count the corpus's words once for every page, kept with its snapshot (see
    :func:`plan_analysis.phrasing._token_counts_table`): each profile page's keyness and 03's tables read them,
    instead of each segmenting the corpus (on the 100 MB benchmark corpus, 5 s a profile page)."""
    from .phrasing import _token_counts_table

    if corpus._snapshot_folder() is None:  # nowhere to keep them (the cache cannot be written): each page counts
        log.info("the corpus has no snapshot to keep its word counts in: each page counts the words it needs")
        return
    log.info("counting the corpus's words once for every page")
    _token_counts_table(corpus, progress=True)


def _remove_stale_profiles(out: Path, stems: set[str], *, keep: set[str]) -> None:
    """Delete profile pages of an earlier run (``<stem>-NN.html``) that this run did not write: a page for a
    place the corpus no longer has must not stay in the folder people share."""
    stale = [p for stem in stems for p in out.glob(f"{stem}-*.html")
             if p.name not in keep and p.name[len(stem) + 1:-5].isdigit()]
    for page in stale:
        page.unlink(missing_ok=True)
    if stale:
        log.info("removed %d profile page(s) of an earlier run: %s", len(stale), ", ".join(sorted(p.name for p in stale)))


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
