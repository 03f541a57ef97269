"""Share work over processes: one pool recipe for loading, tokenising, target extraction and theme coding.

Work is cut into chunks of about equal size (by characters of text), mapped over a process pool
(``fork`` where the platform has it: workers start in milliseconds and inherit the parent's warmed
lexicons and tokenizer), and the results come back in input order, so a parallel run gives exactly
what a serial one does. Ctrl-C or a failure in a worker stops the whole pool at once.

>>> list(map_chunks(len, [["甲", "乙"], ["丙"]], workers=1))
[2, 1]
"""

from __future__ import annotations

import numbers
import os
import signal
from collections import deque
from contextlib import contextmanager
from itertools import chain, islice
from typing import Any, Callable, Iterable, Iterator, Sequence, TypeVar

__all__ = ["default_workers", "resolve_workers", "stop_pool", "cut_by_size", "plan_pieces", "text_lengths",
           "arrow_strings", "use_system_allocator", "map_chunks", "progress_bar"]

T = TypeVar("T")


def default_workers() -> int:
    """Return the number of CPUs this process may use (``os.cpu_count()`` where affinity is unknown).

    >>> 1 <= default_workers() <= (os.cpu_count() or 1)
    True
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def resolve_workers(workers: Any) -> int:
    """The number of processes a ``workers=`` option asks for: ``None`` for one per CPU, else a whole number ≥ 1.

    >>> resolve_workers(2), resolve_workers(None) == default_workers()
    (2, True)
    """
    if workers is None:
        return default_workers()
    if isinstance(workers, bool) or not isinstance(workers, numbers.Integral):
        raise TypeError(f"workers must be a whole number of processes or None, not {workers!r} "
                        f"({type(workers).__name__})")
    if workers < 1:
        raise ValueError(f"workers={workers!r}: give 1 or more processes (1 works here, without a pool), "
                         f"or None for one per CPU ({default_workers()} on this machine)")
    return int(workers)


def _start_worker() -> None:
    """Set up a pool worker: Ctrl-C left to the parent, and a garbage collector that collects."""
    import gc

    # Ctrl-C is the parent's to handle: it stops the pool; workers must not die mid-write on their own
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The parent froze its objects before forking (see map_chunks), but the collector still counts them as
    # long-lived: it collects the oldest generation only once a quarter of that many new objects have
    # survived, which in a worker can be never. Cyclic garbage holding a chunk's texts and results then
    # piled up (tokenising 100 MB: 180 instead of 36 MB private per worker). One collection here, of the few
    # objects not frozen, recounts the long-lived ones.
    gc.collect()


def _mp_context():
    import multiprocessing as mp

    # fork: workers start in milliseconds and inherit the parent's warmed lexicons and tokenizer
    return mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp.get_context()


def stop_pool(ex, *, grace: float = 15.0) -> None:
    """Ctrl-C or a failure: drop a process pool's queued work and stop its workers.

    Workers finish the chunk they are on (seconds) and exit; only one still busy after ``grace``
    seconds is killed. Killing a worker at once can cut a result off halfway through the pipe it
    shares with the parent, and the pool's reader thread then waits for the rest forever, so the
    interrupted program never exits.
    """
    import time

    procs = list((getattr(ex, "_processes", None) or {}).values())  # shutdown() forgets them
    ex.shutdown(wait=False, cancel_futures=True)
    deadline = time.monotonic() + grace
    for proc in procs:
        proc.join(max(0.0, deadline - time.monotonic()))
    for proc in procs:
        if proc.is_alive():
            proc.terminate()


def cut_by_size(lengths: Sequence[int], target: int) -> list[tuple[int, int]]:
    """Cut items of these ``lengths`` into runs ``(start, end)`` adding up to about ``target`` (order kept, none empty).

    A run ends at the first item that brings it to ``target`` or more; the last run takes what is left.

    >>> cut_by_size([2, 1, 3], 3)
    [(0, 2), (2, 3)]
    """
    import numpy as np

    ends = np.cumsum(np.asarray(lengths, dtype=np.int64))
    out: list[tuple[int, int]] = []
    start, done = 0, 0  # done: the total of the items before ``start``
    while start < len(ends):
        end = int(np.searchsorted(ends, done + target, side="left")) + 1  # the first item reaching the target
        end = min(max(end, start + 1), len(ends))
        out.append((start, end))
        start, done = end, int(ends[end - 1])
    return out


def plan_pieces(lengths: Sequence[int], *, workers: int | None, parallel_min: int, serial_piece: int,
                piece_min: int = 50_000, piece_max: int = 250_000) -> tuple[int, list[tuple[int, int]]]:
    """Decide how to share out items of these ``lengths``: ``(workers to use, [(start, end), …])``.

    Under ``parallel_min`` characters in all (or one item, or one worker) the work stays here, in
    pieces of ``serial_piece`` characters; otherwise pieces aim at 16 per worker, kept between
    ``piece_min`` and ``piece_max`` characters. (What a worker holds while it works grows with its
    piece: on the 100 MB benchmark corpus, pieces of at most 250,000 rather than 1,000,000 characters
    lowered the peak memory of target extraction by 65 MB, of tokenising by 47 MB, in the same time.)

    >>> plan_pieces([3, 3, 3], workers=2, parallel_min=100, serial_piece=5)
    (1, [(0, 2), (2, 3)])
    """
    import numpy as np

    n = resolve_workers(workers)
    total = int(np.sum(np.asarray(lengths, dtype=np.int64)))  # a list or an array (not made a list of ints)
    if n == 1 or len(lengths) < 2 or total < parallel_min:
        n, target = 1, serial_piece
    else:
        target = max(piece_min, min(piece_max, total // (n * 16)))
    return n, cut_by_size(lengths, target)


def text_lengths(texts: Any) -> list[int]:
    """The length of each text of a column (0 where there is none), without copying the column's text.

    >>> import pandas as pd
    >>> text_lengths(pd.Series(["推进", None, "招商引资"], dtype="string"))
    [2, 0, 4]
    """
    try:
        lengths = texts.str.len()
    except AttributeError:  # not a column of strings: measure what each value would be as text
        lengths = texts.fillna("").astype(str).str.len()
    return lengths.fillna(0).astype("int64").tolist()


def arrow_strings(values: Any) -> Any:
    """The Arrow array (or chunked array) behind a column of Arrow-backed strings (its own buffers, not a copy), else
    None.

    >>> import pandas as pd
    >>> arrow_strings(pd.Series(["推进"], dtype="string[pyarrow]")).to_pylist(), arrow_strings(pd.Series([1]))
    (['推进'], None)
    """
    import pandas as pd
    import pyarrow as pa

    dtype = values.dtype
    if not (isinstance(dtype, pd.StringDtype) and str(dtype.storage).startswith("pyarrow")):
        return None
    column = pa.array(values.array)
    return column if pa.types.is_string(column.type) or pa.types.is_large_string(column.type) else None


def use_system_allocator() -> str:
    """Have Arrow allocate from the C heap (``malloc``) in this process, unless ``ARROW_DEFAULT_MEMORY_POOL`` names a
    pool; return the name of the pool Arrow then uses.

    :func:`~plan_analysis.corpus.load_corpus` and :func:`map_chunks` (so every stage, and the workers forked from
    it) call this. Arrow's own default (mimalloc, in the wheels) keeps the memory it frees for reuse, and forked
    workers writing into the parent's kept pages copy them: on the 100 MB benchmark corpus the C heap lowered the
    peaks (all processes) of the load from 255 to 217 MB, of themes from 331 to 317, of slogans from 371 to 333,
    of targets from 433 to 410 and of targets to a file from 301 to 267, in the same time. The switch stays for
    the process (buffers made before are freed by the pool that made them); set ``ARROW_DEFAULT_MEMORY_POOL``
    (``mimalloc``, ``jemalloc`` or ``system``) before Arrow is first used to choose for yourself.

    >>> use_system_allocator() == __import__("pyarrow").default_memory_pool().backend_name
    True
    """
    import pyarrow as pa

    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):  # the user's choice, which Arrow has applied
        return pa.default_memory_pool().backend_name
    if pa.default_memory_pool().backend_name != "system":
        pa.set_memory_pool(pa.system_memory_pool())
    return "system"


def map_chunks(fn: Callable[[Any], T], chunks: Iterable[Any], *, workers: int | None = None) -> Iterator[T]:
    """Yield ``fn(chunk)`` for each chunk, in order: here when ``workers`` is 1, else over a process pool.

    ``fn`` must be a module-level function (it is sent to the workers by name). ``chunks`` may be a
    generator: it is read only as fast as the workers take work (a few chunks ahead), so a caller
    can build each chunk's data on demand and memory holds a few chunks, not all of them.

    >>> list(map_chunks(sum, [[1, 2], [3]], workers=1))
    [3, 3]
    """
    n = resolve_workers(workers)
    use_system_allocator()
    it = iter(chunks)
    if n == 1:
        for chunk in it:
            yield fn(chunk)
        return
    head = list(islice(it, 2))
    if len(head) < 2:
        for chunk in head:
            yield fn(chunk)
        return
    import gc
    from concurrent.futures import ProcessPoolExecutor

    # forked workers share the parent's memory until they write to it; frozen objects are left alone by the
    # workers' garbage collector, so its passes do not copy every page of the parent's heap into each worker
    gc.freeze()
    try:
        ex = ProcessPoolExecutor(max_workers=n, mp_context=_mp_context(), initializer=_start_worker)
        try:
            pending = deque(ex.submit(fn, chunk) for chunk in chain(head, islice(it, 2 * n - 2)))
            while pending:
                result = pending.popleft().result()
                for chunk in islice(it, 1):  # keep the workers 2 chunks ahead each
                    pending.append(ex.submit(fn, chunk))
                yield result
        except BaseException:
            stop_pool(ex)
            raise
        ex.shutdown(wait=True)
    finally:
        gc.unfreeze()


@contextmanager
def progress_bar(total: int, *, desc: str, unit: str, enabled: bool = True) -> Iterator[Any]:
    """A tqdm bar over ``total`` items when ``enabled`` and there is more than one item, else ``None``; closed on exit.

    >>> with progress_bar(3, desc="文件", unit="file", enabled=False) as bar:
    ...     bar is None
    True
    """
    if not enabled or total <= 1:
        yield None
        return
    from tqdm.auto import tqdm

    bar = tqdm(total=total, desc=desc, unit=unit)
    try:
        yield bar
    finally:
        bar.close()
