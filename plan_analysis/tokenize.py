"""A private jieba tokenizer (never jieba's shared global one) and word-class lookups.

The tokenizer is built lazily on first use, with its cache file inside the project
(``data/processed/jieba/``), and jieba's logging silenced.
"""

from __future__ import annotations

import logging
import os
from functools import lru_cache
from pathlib import Path

__all__ = ["get_tokenizer", "word_tag", "is_common_word"]

log = logging.getLogger(__name__)


def _cache_dir() -> Path:
    env = os.environ.get("PLAN_ANALYSIS_CACHE")
    base = Path(env) if env else Path(__file__).resolve().parent.parent / "data" / "processed"
    return base / "jieba"


@lru_cache(maxsize=1)
def get_tokenizer():
    """Return the project's private ``jieba.Tokenizer`` (built once, cache inside the project).

    >>> get_tokenizer().lcut("规上工业总产值增长")[:1]
    ['规上']
    """
    import jieba

    logging.getLogger("jieba").setLevel(logging.WARNING)
    tok = jieba.Tokenizer()
    folder = _cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tok.tmp_dir = str(folder)
    except OSError as exc:  # a read-only checkout still works, it just rebuilds the prefix dict
        log.warning("jieba cache folder %s not writable (%s); using the system temp folder", folder, exc)
    tok.initialize()
    return tok


@lru_cache(maxsize=1)
def _dict_tags() -> dict[str, tuple[int, str]]:
    import jieba

    path = Path(jieba.__file__).resolve().parent / "dict.txt"
    out: dict[str, tuple[int, str]] = {}
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) == 3:
                out[parts[0]] = (int(parts[1]), parts[2])
    return out


def word_tag(word: str) -> tuple[int, str] | None:
    """Return ``(frequency, part-of-speech tag)`` of ``word`` in jieba's dictionary, or ``None``.

    >>> word_tag("发挥")[1]
    'v'
    """
    return _dict_tags().get(word)


_PROPER = ("ns", "nr", "nz", "nt")


def is_common_word(word: str, *, min_freq: int = 20) -> bool:
    """True when ``word`` is a frequent dictionary word that is not a proper name (a verb, 责任, 项目 …).

    Used to tell a place name (大托, 百禄) from an ordinary word standing before 街道/镇
    (发挥街道, 同时镇).

    >>> is_common_word("发挥"), is_common_word("责任"), is_common_word("大托"), is_common_word("海淀")
    (True, True, False, False)
    """
    tag = word_tag(word)
    return tag is not None and tag[0] >= min_freq and not tag[1].startswith(_PROPER)
