"""Find input files, decode them, and say what happened to each one.

Every file given (or found in a folder) ends up either decoded or named in the load report
with the reason it was not: nothing is skipped silently.

>>> decode_bytes("铁西街道".encode("gb18030"))
('铁西街道', 'gb18030', '')
>>> decode_bytes(b"\\xef\\xbb\\xbf\\xe8\\xae\\xa1\\xe5\\x88\\x92")
('计划', 'utf-8-sig', '')
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import pandas as pd

__all__ = ["RawText", "LoadError", "decode_bytes", "decode_file", "doc_stem", "find_files", "read_raw", "read_texts", "TEXT_SUFFIXES"]

log = logging.getLogger(__name__)

#: file endings read as text; others found in a folder are reported as skipped
TEXT_SUFFIXES = (".txt", ".text", ".md", ".docx", ".html", ".htm")
_BLOCK_TAGS = ("p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "table",
               "title", "dd", "dt", "pre", "blockquote")
_FURNITURE_TAGS = ("script", "style", "noscript", "nav", "header", "footer", "aside", "form", "iframe", "button",
                   "select", "svg", "template")
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF file (extract its text first)"),
    (b"PK\x03\x04", "a ZIP container (.docx/.xlsx? extract its text first)"),
    (b"\xd0\xcf\x11\xe0", "an old Office file (.doc/.xls; extract its text first)"),
    (b"\x7fELF", "an executable"),
    (b"\x1f\x8b", "a gzip archive"),
)


class LoadError(Exception):
    """A file could not be turned into text; the message names the file and the reason."""

    def __init__(self, path: str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


@dataclass(frozen=True)
class RawText:
    """A decoded input file. ``text`` is what every ``raw_start``/``raw_end`` offset indexes."""

    source_file: str
    path: Path
    text: str
    encoding: str
    sha256: str
    n_bytes: int
    note: str = ""


def _plausible(text: str) -> bool:
    if not text:
        return False
    good = sum(1 for ch in text if ch.isprintable() or ch in "\n\r\t")
    han = sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff")
    return good / len(text) > 0.97 and (han > 0 or text.isascii())


def decode_bytes(data: bytes) -> tuple[str, str, str]:
    """Decode ``data`` as UTF-8 (BOM or not), UTF-16/32 with BOM, UTF-16 without BOM, or GB18030.

    Returns ``(text, encoding, note)``; ``note`` says what was repaired (a truncated final
    character). Raises ``ValueError`` with the reason when the bytes are not text.

    >>> decode_bytes("计划".encode("utf-16"))[1]
    'utf-16'
    >>> decode_bytes("计划".encode("utf-8")[:-1])
    ('计', 'utf-8', 'truncated multi-byte character at the end: 2 byte(s) dropped')
    """
    if not data.strip():
        raise ValueError("empty file" if not data else "file holds only whitespace")
    for bom, enc in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"),
                     (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            try:
                return data.decode(enc), enc, ""
            except UnicodeDecodeError as exc:
                raise ValueError(f"has a {enc} byte-order mark but does not decode as {enc} ({exc.reason} at byte {exc.start})") from None
    for magic, what in _MAGIC:
        if data.startswith(magic):
            raise ValueError(f"binary file: looks like {what}")
    utf8_error, first_bad = "", 0
    try:
        utf8 = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data" and exc.start >= len(data) - 3:
            return (data[: exc.start].decode("utf-8"), "utf-8",
                    f"truncated multi-byte character at the end: {len(data) - exc.start} byte(s) dropped")
        utf8_error, first_bad = f"{exc.reason} at byte {exc.start}", exc.start
    else:  # UTF-8, unless NULs make it implausible: UTF-16 without a byte-order mark (ASCII in it is valid UTF-8)
        if b"\x00" not in data or _plausible(utf8):
            return utf8, "utf-8", ""
    if b"\x00" in data:
        for enc in ("utf-16-le", "utf-16-be"):
            try:
                text = data.decode(enc)
            except UnicodeDecodeError:
                continue
            if _plausible(text):
                return text, enc, ""
        if not utf8_error:
            return utf8, "utf-8", ""
        raise ValueError("binary file: contains NUL bytes and is not UTF-16 text")
    damaged = _damaged_utf8(data, first_bad)
    if damaged is not None:
        return damaged
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise ValueError(f"undecodable: not UTF-8 ({utf8_error}), UTF-16 or GB18030 ({exc.reason} at byte {exc.start})") from None
    if not _plausible(text):
        raise ValueError(f"undecodable: not UTF-8 ({utf8_error}); as GB18030 it is not plausible text")
    return text, "gb18030", ""


#: a file is read as UTF-8 with a few bytes replaced when it has at most this many invalid sequences …
_MAX_BAD_UTF8 = 8
#: … and at least this many well-formed non-ASCII characters for each one
_GOOD_PER_BAD_UTF8 = 50


def note_level(note: str) -> int:
    """The logging level of a loaded file's note: a warning when text was lost or replaced, else information."""
    return logging.WARNING if "truncated" in note or "replaced" in note else logging.INFO


def _damaged_utf8(data: bytes, first: int) -> tuple[str, str, str] | None:
    """UTF-8 text with a few invalid bytes (a damaged copy), decoded with U+FFFD in their place; ``None`` when the
    bytes are not that (GB18030 text read as UTF-8 has an invalid sequence in almost every character)."""
    text = data.decode("utf-8", "replace")
    bad = text.count("\ufffd") - data.count("\ufffd".encode("utf-8"))
    good = len(text) - len(text.encode("ascii", "ignore")) - bad
    if not 0 < bad <= _MAX_BAD_UTF8 or good < _GOOD_PER_BAD_UTF8 * bad or not _plausible(text):
        return None
    return text, "utf-8", f"{bad} invalid UTF-8 byte sequence(s) replaced by U+FFFD (the first at byte {first})"


def docx_text(data: bytes) -> str:
    """Return the paragraphs of a .docx file, one per line (tables row by row, cells joined by a space).

    >>> import io, zipfile
    >>> buf = io.BytesIO()
    >>> with zipfile.ZipFile(buf, "w") as z:
    ...     z.writestr("word/document.xml", '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    ...                '<w:body><w:p><w:r><w:t>铁西街道</w:t></w:r><w:r><w:t>工作计划</w:t></w:r></w:p></w:body></w:document>')
    >>> docx_text(buf.getvalue())
    '铁西街道工作计划'
    """
    import io
    import zipfile
    import zlib
    from xml.etree import ElementTree as ET

    w = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            xml = z.read("word/document.xml")
    except KeyError:
        raise ValueError("not a readable .docx: it holds no word/document.xml") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError, OSError) as exc:
        raise ValueError(f"not a readable .docx: a damaged or encrypted ZIP ({exc})") from None
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise ValueError(f"not a readable .docx: its word/document.xml is not well-formed XML ({exc})") from None
    lines: list[str] = []
    body = root.find(f"{w}body")
    for block in (body if body is not None else []):
        if block.tag == f"{w}p":
            lines.append(_docx_para(block, w))
        elif block.tag == f"{w}tbl":
            for row in block.iter(f"{w}tr"):
                cells = [" ".join(_docx_para(p, w) for p in cell.iter(f"{w}p")).strip() for cell in row.iter(f"{w}tc")]
                lines.append(" ".join(c for c in cells if c))
    return "\n".join(lines)


def _docx_para(p, w: str) -> str:
    parts = []
    for node in p.iter():
        if node.tag == f"{w}t" and node.text:
            parts.append(node.text)
        elif node.tag == f"{w}tab":
            parts.append("\t")
        elif node.tag in (f"{w}br", f"{w}cr"):
            parts.append("\n")
    return "".join(parts)


def html_text(markup: str) -> str:
    r"""Return the readable text of an HTML page: scripts, styles, navigation, headers and footers dropped.

    Block elements become lines; table rows become one line with cells joined by a space, so a
    government site's 索引号/发布机构/成文日期 header survives as lines cleaning records as metadata.

    >>> html_text("<html><nav>首页</nav><table><tr><td>成文日期：</td><td>2024-02-22</td></tr></table><p>一、抓党建</p><script>x()</script></html>")
    '成文日期： 2024-02-22\n一、抓党建'
    """
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(markup, "html.parser")
    for tag in soup.find_all(_FURNITURE_TAGS):
        tag.decompose()
    for row in soup.find_all("tr"):
        cells = [c.get_text(" ", strip=True) for c in row.find_all(["td", "th"])]
        row.replace_with(soup.new_string("\n" + " ".join(c for c in cells if c) + "\n"))
    for br in soup.find_all("br"):
        br.replace_with(soup.new_string("\n"))
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.insert_before(soup.new_string("\n"))
        tag.insert_after(soup.new_string("\n"))
    text = soup.get_text()
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return "\n".join(line for line in lines if line)


def decode_file(path: str | os.PathLike, data: bytes) -> tuple[str, str, str]:
    """Decode a file's bytes by its ending: .docx → its paragraphs, .html/.htm → the page text, else text.

    Returns ``(text, encoding, note)``; raises ``ValueError`` with the reason when there is no text.

    >>> decode_file("a.txt", "计划".encode("gb18030"))
    ('计划', 'gb18030', '')
    """
    suffix = Path(path).suffix.lower()
    if suffix == ".docx":
        text = docx_text(data)
        if not text.strip():
            raise ValueError("the .docx holds no text")
        return text, "docx", "text extracted from .docx (raw offsets index the extracted text)"
    text, enc, note = decode_bytes(data)
    if suffix in (".html", ".htm"):
        text = html_text(text)
        if not text.strip():
            raise ValueError("the HTML page holds no text")
        return text, f"html/{enc}", "text extracted from HTML (raw offsets index the extracted text)"
    return text, enc, note


def doc_stem(source_file: str) -> str:
    """The name a file's documents are called by (``plan-1``, ``plan-2`` …): its name without ``.txt``.

    Other endings are kept, so that ``a.txt`` and ``a.md`` in one folder never share document ids.

    >>> doc_stem("浙江/计划.txt"), doc_stem("计划.md"), doc_stem("")
    ('浙江/计划', '计划.md', 'text')
    """
    if not source_file:
        return "text"
    return source_file[:-4] if source_file.endswith(".txt") else source_file


def _walk(folder: Path) -> Iterator[tuple[Path, str, str, str]]:
    """Every entry under ``folder`` as ``(path, name under folder, real path, problem)``, in name order: ``problem``
    is empty for a file to look at, else why the entry was not searched (hidden, a link back to a folder
    already searched)."""
    seen = {os.path.realpath(folder)}

    def walk(d: str, rel: str, real_d: str) -> Iterator[tuple[Path, str, str, str]]:
        try:
            with os.scandir(d) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            yield Path(d), rel or ".", real_d, f"skipped: a folder that cannot be listed ({exc.strerror or exc})"
            return
        for e in entries:
            name = f"{rel}/{e.name}" if rel else e.name
            link = e.is_symlink()
            real = os.path.realpath(e.path) if link else os.path.join(real_d, e.name)
            if e.name.startswith("."):
                yield Path(e.path), name, real, "skipped: hidden (its name starts with '.')" + (
                    "; a folder, not searched" if e.is_dir() else "")
            elif e.is_dir():  # a link to a folder is followed, once
                if real in seen:
                    yield Path(e.path), name, real, f"skipped: a link to a folder already searched ({real})"
                    continue
                seen.add(real)
                yield from walk(e.path, name, real)
            elif e.is_file() or link:  # a broken link is reported as unreadable when read
                yield Path(e.path), name, real, ""
            else:  # reading a pipe would wait for ever
                yield Path(e.path), name, real, "skipped: not a regular file (a pipe, socket or device)"

    yield from walk(str(folder), "", os.path.realpath(folder))


def find_files(paths: str | os.PathLike | Iterable[str | os.PathLike]) -> tuple[list[tuple[Path, str]], list[tuple[str, str]]]:
    """Expand files and folders into ``(path, source_file)`` pairs, plus ``(name, reason)`` problems.

    Folders are searched recursively for text files (``TEXT_SUFFIXES``), following links to folders
    (once each); hidden files and folders and ``MANIFEST``/``README`` files are passed over and
    reported. ``source_file`` is the path relative to the folder given (or the file name for a
    file given directly). A file given twice (or through a link, or as a file and in its folder)
    is read once and the repeat reported; files whose names would give the same document ids are
    named by their whole path.

    >>> found, problems = find_files("data/raw")
    >>> [s for _, s in found][:2], problems
    (['000_7170b9d65b80f81b.txt', '001_64b46b310826ad2c.txt'], [('MANIFEST.tsv', 'skipped: a manifest/readme, not a document')])
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    found: list[tuple[Path, str]] = []
    problems: list[tuple[str, str]] = []
    first: dict[str, str] = {}  # real path of each file found → its name

    def add(f: Path, name: str, real: str) -> None:
        if real in first:
            problems.append((str(f), f"skipped: the same file as {first[real]}, read once"))
            return
        first[real] = name
        found.append((f, name))

    for p in paths:
        if os.fspath(p) == "":  # Path("") is the current folder: an unset variable would load all of it
            problems.append(("''", "not found: an empty path (an unset variable?); give a file or folder"))
            continue
        path = Path(p)
        if path.is_dir():
            before = len(found) + len(problems)
            for f, rel, real, problem in _walk(path):
                if problem:
                    problems.append((rel, problem))
                elif f.stem.upper() in ("MANIFEST", "README", "INDEX", "LICENSE"):
                    problems.append((rel, "skipped: a manifest/readme, not a document"))
                elif f.suffix.lower() not in TEXT_SUFFIXES:
                    problems.append((rel, f"skipped: not a text file ending ({f.suffix or 'no ending'}); "
                                          f"supported: {', '.join(TEXT_SUFFIXES)}"))
                else:
                    add(f, rel, real)
            if len(found) + len(problems) == before:
                problems.append((str(path), f"empty folder: no files ending in {', '.join(TEXT_SUFFIXES)}"))
        elif path.exists() or path.is_symlink():
            add(path, path.name, os.path.realpath(path))
        else:
            problems.append((str(path), "not found: no such file or folder"))
    # names (and the document ids made from them) unique: a name or id shared is replaced by the whole path
    names = Counter(s for _, s in found)
    stems = Counter(doc_stem(s) for _, s in found)
    if len(names) != len(found) or len(stems) != len(found):
        found = [(f, str(f) if names[s] > 1 or stems[doc_stem(s)] > 1 else s) for f, s in found]
        owner: dict[str, str] = {}  # left only by a file without an ending given beside the same name in .txt
        kept: list[tuple[Path, str]] = []
        for f, s in found:
            if owner.setdefault(doc_stem(s), s) == s:
                kept.append((f, s))
            else:
                problems.append((s, f"skipped: its documents would have the ids of {owner[doc_stem(s)]}'s; "
                                    "rename one of the two files"))
        found = kept
    return found, problems


def read_raw(path: str | os.PathLike, *, source_file: str | None = None) -> RawText:
    """Read and decode one file, raising :class:`LoadError` naming the file and the reason.

    >>> raw = read_raw("data/raw/001_64b46b310826ad2c.txt")
    >>> raw.encoding, raw.text[:13]
    ('utf-8', '铁西街道2024年工作计划')
    """
    p = Path(path)
    name = source_file or p.name
    try:
        data = p.read_bytes()
    except PermissionError:
        raise LoadError(name, "unreadable: permission denied") from None
    except IsADirectoryError:
        raise LoadError(name, "is a folder, not a file") from None
    except OSError as exc:
        raise LoadError(name, f"unreadable: {exc.strerror or exc}") from None
    try:
        text, enc, note = decode_file(p, data)
    except ValueError as exc:
        raise LoadError(name, str(exc)) from None
    return RawText(name, p, text, enc, hashlib.sha256(data).hexdigest(), len(data), note)


def read_texts(paths: str | os.PathLike | Sequence[str | os.PathLike]) -> tuple[list[RawText], pd.DataFrame]:
    """Read every file under ``paths``; return the decoded texts and the load report.

    Report columns: ``source_file``, ``status`` (``loaded`` or ``skipped``), ``encoding``,
    ``n_bytes``, ``n_chars``, ``reason`` (why skipped, or what was repaired).

    >>> texts, report = read_texts("data/raw")
    >>> len(texts), report["status"].value_counts().to_dict()
    (5, {'loaded': 5, 'skipped': 1})
    """
    found, problems = find_files(paths)
    texts: list[RawText] = []
    rows = [(name, "skipped", "", 0, 0, reason) for name, reason in problems]
    for path, name in found:
        try:
            raw = read_raw(path, source_file=name)
        except LoadError as exc:
            rows.append((name, "skipped", "", path.stat().st_size if path.exists() else 0, 0, exc.reason))
            log.warning("%s", exc)
            continue
        texts.append(raw)
        rows.append((name, "loaded", raw.encoding, raw.n_bytes, len(raw.text), raw.note))
        if raw.note:
            log.log(note_level(raw.note), "%s: %s", name, raw.note)
    report = pd.DataFrame(rows, columns=["source_file", "status", "encoding", "n_bytes", "n_chars", "reason"])
    return texts, report
