"""Checks of option values, shared by the modules that take them."""

from __future__ import annotations

from typing import Any


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
