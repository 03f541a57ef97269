"""Edits in raw coordinates and the offset map from cleaned text back to the raw file.

Every change cleaning makes is an :class:`Edit` on the *raw* text (the decoded file):
a span ``[start, end)`` replaced by ``new`` (``""`` for a removal), with a ``kind`` naming
the reason. Applying the edit list to the raw text gives the cleaned text, and the
:class:`OffsetMap` built alongside maps any cleaned span back to its raw span.

>>> raw = "计划##paidbegin##增长"
>>> text, omap = apply_edits(raw, [Edit(2, 15, "", "paywall_marker")])
>>> text
'计划增长'
>>> raw[slice(*omap.raw_span(2, 4))]
'增长'
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from typing import Iterable, Sequence

__all__ = ["Edit", "OffsetMap", "OffsetTable", "apply_edits", "offset_map", "offset_table", "lift_edits"]


@dataclass(frozen=True, order=True)
class Edit:
    """One change to the raw text: ``raw[start:end]`` becomes ``new`` because of ``kind``.

    >>> e = Edit(1, 2, "，", "width"); "a,b"[e.start:e.end], e.new
    (',', '，')
    """

    start: int
    end: int
    new: str
    kind: str


class OffsetMap:
    """Map cleaned-text offsets to raw-text offsets.

    The cleaned text is a sequence of segments: *identity* runs copied from the raw text
    and *replacement* runs produced by an edit. A cleaned character in an identity run maps
    to exactly one raw character; one in a replacement run maps to the edit's whole raw span.

    >>> _, m = apply_edits("ab,cd", [Edit(2, 3, "，", "width")])
    >>> m.raw_span(0, 5)
    (0, 5)
    >>> m.raw_span(2, 3)
    (2, 3)
    """

    __slots__ = ("clean_starts", "clean_ends", "raw_starts", "raw_ends", "edit_index", "clean_len", "raw_len")

    def __init__(self, segments: Sequence[tuple[int, int, int, int, int]], clean_len: int, raw_len: int):
        self.clean_starts = [s[0] for s in segments]
        self.clean_ends = [s[1] for s in segments]
        self.raw_starts = [s[2] for s in segments]
        self.raw_ends = [s[3] for s in segments]
        self.edit_index = [s[4] for s in segments]
        self.clean_len = clean_len
        self.raw_len = raw_len

    def __len__(self) -> int:
        return len(self.clean_starts)

    def _segment(self, i: int) -> int:
        return bisect_right(self.clean_starts, i) - 1

    def char_span(self, i: int) -> tuple[int, int]:
        """Return the raw span of cleaned character ``i``."""
        if not 0 <= i < self.clean_len:
            raise IndexError(f"cleaned offset {i} outside 0..{self.clean_len - 1}")
        k = self._segment(i)
        if self.edit_index[k] < 0:
            r = self.raw_starts[k] + (i - self.clean_starts[k])
            return r, r + 1
        return self.raw_starts[k], self.raw_ends[k]

    def raw_pos(self, i: int) -> int:
        """Return the raw offset where cleaned position ``i`` (a boundary, 0..len) falls."""
        if i >= self.clean_len:
            return self.raw_ends[-1] if self.clean_starts else 0
        return self.char_span(i)[0]

    def raw_span(self, start: int, end: int) -> tuple[int, int]:
        """Return the raw span covering cleaned span ``[start, end)``."""
        if end <= start:
            p = self.raw_pos(start)
            return p, p
        return self.char_span(start)[0], self.char_span(end - 1)[1]

    def raw_span_list(self, starts: Sequence[int], ends: Sequence[int]) -> tuple[list[int], list[int]]:
        """Return the raw spans of many cleaned spans as two lists of ints, as :meth:`raw_span` gives.

        One loop with no method call per span and no numpy: for the few hundred spans of one
        file (its sentences, sections, placeholders) quicker than either.

        >>> _, m = apply_edits("ab,cd", [Edit(2, 3, "，", "width")])
        >>> m.raw_span_list([0, 2, 5], [5, 3, 5])
        ([0, 2, 5], [5, 3, 5])
        """
        cs, rs, re_, ei, n = self.clean_starts, self.raw_starts, self.raw_ends, self.edit_index, self.clean_len
        tail = re_[-1] if cs else 0
        out_a: list[int] = []
        out_b: list[int] = []
        for s, e in zip(starts, ends):
            if s < 0 or (e > n and e > s):  # the offset raw_span's IndexError names: the start's, else the end's
                raise IndexError(f"cleaned offset {s if not 0 <= s < n else e - 1} outside 0..{n - 1}")
            if s >= n:  # an empty span at (or past) the end
                out_a.append(tail)
                out_b.append(tail)
                continue
            k = bisect_right(cs, s) - 1
            a = rs[k] + (s - cs[k]) if ei[k] < 0 else rs[k]
            out_a.append(a)
            if e <= s:
                out_b.append(a)
                continue
            k = bisect_right(cs, e - 1, k) - 1
            out_b.append(rs[k] + (e - cs[k]) if ei[k] < 0 else re_[k])
        return out_a, out_b

    def raw_spans(self, starts, ends):
        """Return the raw spans of many cleaned spans at once: two int64 arrays, as :meth:`raw_span` gives.

        >>> _, m = apply_edits("ab,cd", [Edit(2, 3, "，", "width")])
        >>> [a.tolist() for a in m.raw_spans([0, 2, 5], [5, 3, 5])]
        [[0, 2, 5], [5, 3, 5]]
        """
        import numpy as np

        starts = np.asarray(starts, dtype=np.int64)
        table = OffsetTable(np.array([0, len(self)], dtype=np.int64), self.clean_starts, self.raw_starts,
                            self.raw_ends, np.asarray(self.edit_index, dtype=np.int64) < 0, [self.clean_len])
        return table.raw_spans(np.zeros(len(starts), dtype=np.int64), starts, ends)

    def clean_pos(self, raw: int) -> int:
        """Return the cleaned offset of raw offset ``raw`` (the next kept character if removed)."""
        k = bisect_right(self.raw_starts, raw) - 1
        if k < 0:
            return 0
        if raw < self.raw_ends[k]:
            if self.edit_index[k] < 0:
                return self.clean_starts[k] + (raw - self.raw_starts[k])
            return self.clean_starts[k]
        return self.clean_ends[k]

    def live_pieces(self, start: int, end: int) -> list[tuple[int, int, int, int, int]]:
        """Return the segments (clipped for identity runs) that cleaned ``[start, end)`` touches.

        Each piece is ``(clean_start, clean_end, raw_start, raw_end, edit_index)``;
        replacement pieces are never clipped.
        """
        if end <= start:
            return []
        out = []
        k = self._segment(start)
        while k < len(self.clean_starts) and self.clean_starts[k] < end:
            cs, ce, rs, re_, ei = (self.clean_starts[k], self.clean_ends[k], self.raw_starts[k],
                                   self.raw_ends[k], self.edit_index[k])
            if ei < 0:
                a, b = max(start, cs), min(end, ce)
                out.append((a, b, rs + (a - cs), rs + (b - cs), -1))
            else:
                out.append((cs, ce, rs, re_, ei))
            k += 1
        return out


def apply_edits(raw: str, edits: Sequence[Edit]) -> tuple[str, OffsetMap]:
    """Apply sorted, non-overlapping ``edits`` to ``raw``; return the text and its offset map.

    >>> apply_edits("a\\r\\nb", [Edit(1, 3, "\\n", "newline")])[0]
    'a\\nb'
    """
    omap = offset_map(edits, len(raw))
    parts = [raw[rs:re_] if ei < 0 else edits[ei].new
             for rs, re_, ei in zip(omap.raw_starts, omap.raw_ends, omap.edit_index)]
    return "".join(parts), omap


def offset_map(edits: Sequence[Edit], raw_len: int) -> OffsetMap:
    """Return the offset map of sorted, non-overlapping ``edits`` on a raw text of ``raw_len`` characters.

    Only positions and replacement lengths matter, so the raw text itself is not needed.

    >>> offset_map([Edit(2, 15, "", "paywall_marker")], 17).raw_span(2, 4)
    (15, 17)
    """
    return offset_map_of([e.start for e in edits], [e.end for e in edits], [len(e.new) for e in edits], raw_len)


def offset_map_of(starts: Sequence[int], ends: Sequence[int], new_lens: Sequence[int], raw_len: int) -> OffsetMap:
    """:func:`offset_map` of edits given as columns: edit ``i`` replaces ``[starts[i], ends[i])`` with
    ``new_lens[i]`` characters (the corpus keeps its edits so).

    >>> offset_map_of([2], [15], [0], 17).raw_span(2, 4)
    (15, 17)
    """
    segments: list[tuple[int, int, int, int, int]] = []
    pos = 0  # raw cursor
    out = 0  # clean cursor
    for idx, (start, end, n_new) in enumerate(zip(starts, ends, new_lens)):
        if start < pos or end < start or end > raw_len:
            raise ValueError(f"edits overlap or fall outside the text at edit [{start}, {end}) "
                             f"(cursor {pos}, length {raw_len})")
        if start > pos:
            n = start - pos
            segments.append((out, out + n, pos, start, -1))
            out += n
        if n_new:
            segments.append((out, out + n_new, start, end, idx))
            out += n_new
        pos = end
    if pos < raw_len:
        segments.append((out, out + raw_len - pos, pos, raw_len, -1))
        out += raw_len - pos
    return OffsetMap(segments, out, raw_len)


def lift_edits(edits: Sequence[Edit], text: str, omap: OffsetMap, new_edits: Iterable[Edit]) -> list[Edit]:
    """Merge edits found on the cleaned ``text`` into the raw-coordinate ``edits``.

    ``new_edits`` are in the coordinates of ``text`` (the result of applying ``edits``).
    The result is again sorted and non-overlapping in raw coordinates; an earlier
    replacement that a new edit rewrites is superseded (the new kind wins), while earlier
    removals stay recorded as they were.

    >>> raw = "甲\\u3000乙"
    >>> e1 = [Edit(1, 2, " ", "width")]
    >>> t, m = apply_edits(raw, e1)
    >>> lift_edits(e1, t, m, [Edit(1, 2, "", "space")])
    [Edit(start=1, end=2, new='', kind='space')]
    """
    superseded: set[int] = set()
    added: list[Edit] = []
    for d in new_edits:
        if d.end <= d.start:
            continue  # insertions are never produced by cleaning
        pieces = omap.live_pieces(d.start, d.end)
        if not pieces:
            continue
        # extend the replacement text over partially touched replacement segments
        first, last = pieces[0], pieces[-1]
        prefix = text[first[0] : d.start] if first[4] >= 0 and first[0] < d.start else ""
        suffix = text[d.end : last[1]] if last[4] >= 0 and last[1] > d.end else ""
        new_text = prefix + d.new + suffix
        runs: list[list[int]] = []
        for cs, ce, rs, re_, ei in pieces:
            if ei >= 0:
                superseded.add(ei)
            if runs and runs[-1][1] == rs:
                runs[-1][1] = re_
            else:
                runs.append([rs, re_])
        for j, (rs, re_) in enumerate(runs):
            added.append(Edit(rs, re_, new_text if j == 0 else "", d.kind))
    kept = [e for i, e in enumerate(edits) if i not in superseded]
    merged = sorted(kept + added)
    for a, b in zip(merged, merged[1:]):
        if b.start < a.end:
            raise ValueError(f"internal error: overlapping edits {a!r} and {b!r}")
    return merged


class OffsetTable:
    """The offset maps of many texts in flat arrays: spans in any of them map to raw offsets in one call.

    Text ``t``'s segments are rows ``first[t]`` to ``first[t + 1]`` of the segment columns
    (``clean_starts`` relative to the text, ``raw_starts``, ``raw_ends``, ``ident`` for identity
    runs); ``clean_lens[t]`` is its cleaned length. Built by :func:`offset_table`; one text's
    :meth:`OffsetMap.raw_spans` is the same mapping on a table of one.

    >>> t = offset_table([0, 1], [2, 0], [3, 1], [1, 0], [5, 3])
    >>> [a.tolist() for a in t.raw_spans([0, 1, 1], [2, 0, 2], [3, 2, 2])]
    [[2, 1, 3], [3, 3, 3]]
    """

    __slots__ = ("first", "clean_starts", "raw_starts", "raw_ends", "ident", "clean_lens", "_keys", "_stride")

    def __init__(self, first, clean_starts, raw_starts, raw_ends, ident, clean_lens):
        import numpy as np

        self.first = np.asarray(first, dtype=np.int64)
        self.clean_starts = np.asarray(clean_starts, dtype=np.int64)
        self.raw_starts = np.asarray(raw_starts, dtype=np.int64)
        self.raw_ends = np.asarray(raw_ends, dtype=np.int64)
        self.ident = np.asarray(ident, dtype=bool)
        self.clean_lens = np.asarray(clean_lens, dtype=np.int64)
        # one sorted key per segment, (text, clean start), so one search finds the segment of any position
        self._stride = int(self.clean_lens.max()) + 1 if len(self.clean_lens) else 1
        texts = np.repeat(np.arange(len(self.clean_lens), dtype=np.int64), np.diff(self.first))
        self._keys = texts * self._stride + self.clean_starts

    def __len__(self) -> int:
        return len(self.clean_lens)

    def raw_spans(self, texts, starts, ends):
        """Return the raw spans of cleaned spans ``[starts, ends)`` of texts ``texts`` (indexes): two int64 arrays.

        An empty span maps to an empty raw span where its position falls; a span outside its text
        raises ``IndexError``.
        """
        import numpy as np

        texts = np.asarray(texts, dtype=np.int64)
        starts = np.asarray(starts, dtype=np.int64)
        ends = np.asarray(ends, dtype=np.int64)
        if not (len(texts) == len(starts) == len(ends)):
            raise ValueError(f"texts, starts and ends differ in length ({len(texts)}, {len(starts)}, {len(ends)})")
        if not len(texts):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        if texts.min() < 0 or texts.max() >= len(self):
            raise IndexError(f"text index outside 0..{len(self) - 1}")
        n = self.clean_lens[texts]
        empty = ends <= starts
        first = np.where(empty, np.minimum(starts, n), starts)
        last = np.where(empty, first, ends - 1)
        bad = (first < 0) | (((first >= n) | (last >= n)) & ~empty)
        if bad.any():
            i = int(np.argmax(bad))
            raise IndexError(f"cleaned span [{int(starts[i])}, {int(ends[i])}) outside 0..{int(n[i])}")
        has = n > 0  # a text with no cleaned characters maps every (empty) span to 0
        base = texts * self._stride
        if not has.all():
            base = np.where(has, base, 0)
            first, last = np.where(has, first, 0), np.where(has, last, 0)
        n_seg = max(len(self._keys), 1)

        def span_of(i):
            k = np.searchsorted(self._keys, base + np.minimum(i, np.maximum(n - 1, 0)), side="right") - 1
            k = np.clip(k, 0, n_seg - 1)
            if not len(self._keys):
                return np.zeros_like(i), np.zeros_like(i)
            ident = self.ident[k]
            a = np.where(ident, self.raw_starts[k] + (i - self.clean_starts[k]), self.raw_starts[k])
            return a, np.where(ident, a + 1, self.raw_ends[k])

        a_first, _ = span_of(first)
        _, b_last = span_of(last)
        # an empty span at the very end maps to the raw end of the text's last segment
        last_seg = np.clip(self.first[texts + 1] - 1, 0, n_seg - 1)
        end_raw = self.raw_ends[last_seg] if len(self._keys) else np.zeros_like(first)
        raw_a = np.where(first >= n, end_raw, a_first)
        raw_b = np.where(empty, raw_a, b_last)
        if not has.all():
            raw_a, raw_b = np.where(has, raw_a, 0), np.where(has, raw_b, 0)
        return raw_a, raw_b


def offset_table(texts, starts, ends, new_lens, raw_lens) -> OffsetTable:
    """Build the :class:`OffsetTable` of many texts from their edits, all given as columns.

    Edit ``j`` replaces ``raw[starts[j]:ends[j]]`` of text ``texts[j]`` (an index into
    ``raw_lens``) by ``new_lens[j]`` characters; a text's edits must not overlap (any order).
    The same maps :func:`offset_map` builds, one text at a time, without an object per edit.

    >>> offset_table([0], [2], [15], [0], [17]).raw_spans([0], [2], [4])[0].tolist()
    [15]
    """
    import numpy as np

    texts = np.asarray(texts, dtype=np.int64)
    starts = np.asarray(starts, dtype=np.int64)
    ends = np.asarray(ends, dtype=np.int64)
    new_lens = np.asarray(new_lens, dtype=np.int64)
    raw_lens = np.asarray(raw_lens, dtype=np.int64)
    n_texts, n_edits = len(raw_lens), len(texts)
    if not (len(starts) == len(ends) == len(new_lens) == n_edits):
        raise ValueError("texts, starts, ends and new_lens differ in length")
    if n_edits and (texts.min() < 0 or texts.max() >= n_texts):
        raise IndexError(f"edit of a text outside 0..{n_texts - 1}")
    order = np.lexsort((ends, starts, texts))
    texts, starts, ends, new_lens = texts[order], starts[order], ends[order], new_lens[order]
    new_text = np.ones(n_edits, dtype=bool)
    new_text[1:] = texts[1:] != texts[:-1]
    prev_end = np.zeros(n_edits, dtype=np.int64)
    prev_end[1:] = ends[:-1]
    prev_end[new_text] = 0
    bad = (starts < prev_end) | (ends < starts) | (ends > raw_lens[texts])
    if bad.any():
        j = int(np.argmax(bad))
        raise ValueError(f"edits overlap or fall outside the text at edit [{int(starts[j])}, {int(ends[j])}) "
                         f"of text {int(texts[j])} (cursor {int(prev_end[j])}, length {int(raw_lens[texts[j]])})")
    last_end = np.zeros(n_texts, dtype=np.int64)
    last_end[texts] = ends  # sorted: the last edit of each text writes last
    # candidate segments: before each edit the untouched gap, then the edit's replacement; a text's tail last
    seg_text = np.concatenate([np.repeat(texts, 2), np.arange(n_texts, dtype=np.int64)])
    rank = np.concatenate([np.arange(2 * n_edits, dtype=np.int64), np.full(n_texts, 2 * n_edits, dtype=np.int64)])
    raw_a = np.concatenate([np.column_stack([prev_end, starts]).ravel(), last_end])
    raw_b = np.concatenate([np.column_stack([starts, ends]).ravel(), raw_lens])
    length = np.concatenate([np.column_stack([starts - prev_end, new_lens]).ravel(), raw_lens - last_end])
    ident = np.concatenate([np.tile([True, False], n_edits), np.ones(n_texts, dtype=bool)])
    keep = np.lexsort((rank, seg_text))
    keep = keep[length[keep] > 0]
    seg_text, raw_a, raw_b, length, ident = seg_text[keep], raw_a[keep], raw_b[keep], length[keep], ident[keep]
    first = np.searchsorted(seg_text, np.arange(n_texts + 1, dtype=np.int64))
    ends_clean = np.cumsum(length)
    starts_clean = ends_clean - length
    offset = np.zeros(n_texts + 1, dtype=np.int64)
    offset[1:] = np.concatenate([[0], ends_clean])[first[1:]]
    clean_lens = np.diff(offset)
    clean_starts = starts_clean - offset[:-1][seg_text] if len(seg_text) else starts_clean
    return OffsetTable(first, clean_starts, raw_a, raw_b, ident, clean_lens)
