"""The command line: a thin layer over the library.

``python -m plan_analysis documents PATH... --format csv|jsonl [--with-text]`` prints one row per
document and ``targets PATH...`` one row per figure; problems with input files go to stderr, one
line per file. ``report`` renders the notebooks to a static HTML site.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Sequence

from .report import MAX_PROFILES

__all__ = ["main", "DOCUMENT_FIELDS"]

#: the fields the ``documents`` command prints, in order
DOCUMENT_FIELDS = ("doc_id", "source_file", "title", "place", "admin_level", "province", "doc_type",
                   "is_local_plan", "label_year", "year_min", "year_max", "year_evidence", "published",
                   "n_chars", "n_placeholders", "raw_start", "raw_end")


def _load(args: argparse.Namespace):
    """Load the corpus, reporting every file problem on stderr; ``None`` when nothing loaded."""
    from .corpus import load_corpus

    # every file problem is in the load report, printed below once per file: the loader's own log
    # lines about files would say the same thing a second time
    corpus = load_corpus(args.paths, cache=not args.no_cache, cache_dir=args.cache_dir, progress=args.progress,
                         workers=args.workers, log_files=args.verbose)
    for row in corpus.load_report.itertuples(index=False):
        if row.status != "loaded":
            print(f"plan-analysis: {row.source_file}: {row.reason}", file=sys.stderr)
        elif row.reason:
            print(f"plan-analysis: {row.source_file}: loaded, but {row.reason}", file=sys.stderr)
    if corpus.documents.empty:
        print("plan-analysis: no document could be loaded from "
              f"{', '.join(map(str, args.paths))}; give .txt files or folders holding them", file=sys.stderr)
        return None
    return corpus


def _documents_table(corpus, args: argparse.Namespace):
    return corpus.documents[list(DOCUMENT_FIELDS) + (["text"] if args.with_text else [])]


def _targets_table(corpus, args: argparse.Namespace):
    """The figures a piece at a time, so that a province's worth is printed without holding it all."""
    from .targets import TARGET_FIELDS, iter_targets

    for part in iter_targets(corpus, include_placeholders=not args.no_placeholders, kind=args.kind,
                             workers=args.workers, progress=args.progress):
        yield part[list(TARGET_FIELDS)]


def _themes_table(corpus, args: argparse.Namespace):
    from .themes import THEME_FIELDS, document_themes

    return document_themes(corpus, include_all=args.all, workers=args.workers,
                           progress=args.progress)[list(THEME_FIELDS)]


def _slogans_table(corpus, args: argparse.Namespace):
    from .phrasing import SLOGAN_FIELDS, extract_slogans

    return extract_slogans(corpus, workers=args.workers, progress=args.progress)[list(SLOGAN_FIELDS)]


def _reuse_table(corpus, args: argparse.Namespace):
    from .phrasing import REUSE_FIELDS, find_reuse

    return find_reuse(corpus, progress=args.progress)[list(REUSE_FIELDS)]


def _cmd_table(args: argparse.Namespace) -> int:
    """Load the corpus and print the command's table (``args.table``) in ``args.format``."""
    corpus = _load(args)
    if corpus is None:
        return 1
    from .corpus import write_pieces

    write_pieces(args.table(corpus, args), args.format, sys.stdout)
    return 0


def _verbose_too() -> argparse.ArgumentParser:
    """``-v`` after the command as well as before it (``plan-analysis targets x -v``); unset, it leaves the
    top level's value alone."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="log progress and details")
    return p


def _corpus_command(sub, name: str, help_: str, table) -> argparse.ArgumentParser:
    p = sub.add_parser(name, help=help_, parents=[_verbose_too()])
    p.add_argument("paths", nargs="+", help="files or folders of .txt documents")
    p.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    p.add_argument("--no-cache", action="store_true", help="do not read or write data/processed/")
    p.add_argument("--cache-dir", metavar="DIR", default=None,
                   help="where the cache is kept (default: data/processed/, or $PLAN_ANALYSIS_CACHE)")
    p.add_argument("--progress", action="store_true", help="show progress bars (files read, documents done) on stderr")
    p.add_argument("--workers", type=_positive, default=None, metavar="N",
                   help="processes to use for loading and extracting (default: one per CPU; 1: no pool)")
    p.set_defaults(func=_cmd_table, table=table)
    return p


def _positive(value: str) -> int:
    n = _whole(value)
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected 1 or more, got {n}")
    return n


def _whole(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None


def _non_negative(value: str) -> int:
    n = _whole(value)
    if n < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more, got {n}")
    return n


def _cmd_report(args: argparse.Namespace) -> int:
    from .report import build_report

    try:
        return build_report(notebooks_dir=args.notebooks, out_dir=args.out, corpus=args.corpus,
                            cache=not args.no_cache, max_profiles=args.max_profiles or None)
    except (FileNotFoundError, NotADirectoryError) as exc:  # a folder missing or a file: one line, not a traceback
        print(f"plan-analysis: {exc}", file=sys.stderr)
        return 2


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``plan-analysis``."""
    p = argparse.ArgumentParser(prog="plan-analysis", description=__doc__.split("\n\n")[0])
    p.add_argument("-v", "--verbose", action="store_true", help="log progress and details")
    sub = p.add_subparsers(dest="command", required=True)
    d = _corpus_command(sub, "documents", "one row per document: metadata, dating evidence, raw offsets",
                        _documents_table)
    d.add_argument("--with-text", action="store_true", help="add the cleaned text of each document")
    t = _corpus_command(sub, "targets", "one row per figure: indicator, value, unit, qualifier, period, kind, raw offsets",
                        _targets_table)
    t.add_argument("--kind", choices=("all", "target", "actual"), default="all", help="only targets or only reported figures")
    t.add_argument("--no-placeholders", action="store_true", help="leave out figures hidden behind placeholders (xx%%)")
    th = _corpus_command(sub, "themes", "document-level theme scores, plus the share of sentences no theme codes",
                         _themes_table)
    th.add_argument("--all", action="store_true", help="include documents that are not local plans or summaries")
    _corpus_command(sub, "slogans", "quoted slogans and numbered formulae, with counts and raw offsets", _slogans_table)
    _corpus_command(sub, "reuse", "passages shared between documents (template reuse), with similarity", _reuse_table)
    r = sub.add_parser("report", help="execute every notebook and write a static HTML site", parents=[_verbose_too()])
    r.add_argument("--corpus", default="data/raw", help="folder of documents the notebooks analyse")
    r.add_argument("--out", default="reports", help="output folder (index.html + one page per notebook)")
    r.add_argument("--notebooks", default="notebooks", help="folder of numbered notebooks")
    r.add_argument("--no-cache", action="store_true",
                   help="execute every notebook again, without reading or writing the page cache")
    r.add_argument("--max-profiles", type=_non_negative, default=MAX_PROFILES, metavar="N",
                   help=f"render township profiles for at most N places, those with the most text "
                        f"(default {MAX_PROFILES}; 0 renders all)")
    r.set_defaults(func=_cmd_report)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status.

    >>> main(["documents", "data/raw/001_64b46b310826ad2c.txt", "--no-cache"])  # doctest: +ELLIPSIS
    doc_id,source_file,title,place,...
    001_64b46b310826ad2c-1,001_64b46b310826ad2c.txt,铁西街道2024年工作计划,铁西街道,街道,吉林,plan,True,2024,...
    0
    """
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose or args.command == "report" else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:  # piped into head: stop quietly, as Unix tools do
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
