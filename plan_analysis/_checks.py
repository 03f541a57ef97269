"""Checks of option values, shared by the modules that take them."""

from __future__ import annotations

import difflib
from typing import Any, Iterable


def check_count(value: Any, says: str, *, none: bool = False) -> None:
    """Raise ``ValueError(f"{says}, got {value!r}")`` unless ``value`` is a whole number of 1 or more (or ``None``,
    when ``none``); a bool is not a number here.

    >>> check_count(3, "n is how many to keep, 1 or more")
    >>> check_count(0, "n is how many to keep, 1 or more")
    Traceback (most recent call last):
    ...
    ValueError: n is how many to keep, 1 or more, got 0
    """
    if none and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{says}, got {value!r}")


def nearest_column(name: Any, columns: Iterable[Any]) -> str | None:
    """The column name most like ``name`` (a likely misspelling of it), or ``None``.

    >>> nearest_column("plcae", ["doc_id", "place"]), nearest_column("年份", ["doc_id"])
    ('place', None)
    """
    near = difflib.get_close_matches(str(name), [str(c) for c in columns], n=1, cutoff=0.6)
    return near[0] if near else None


def missing_column(name: Any, columns: Iterable[Any], *, what: str, option: str = "by", table: str = "the table",
                   more: str = "") -> str:
    """The message for an option naming a column ``table`` lacks: the value, the nearest column names, the choices.

    ``more`` ends the list of choices (", or pass a mapping doc_id → group").

    >>> missing_column("plcae", ["doc_id", "place", "text"], what="keyness", table="corpus.documents")
    "keyness: by='plcae' is not a column of corpus.documents; did you mean 'place'? Use one of: doc_id, place"
    """
    names = [str(c) for c in columns if c != "text"]
    near = nearest_column(name, names)
    shown = ", ".join(names[:30]) + (" …" if len(names) > 30 else "")
    use = f"did you mean {near!r}? Use" if near else "use"
    return f"{what}: {option}={name!r} is not a column of {table}; {use} one of: {shown}{more}"
