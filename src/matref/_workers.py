"""Work spread over worker processes: `matref verify`'s entries, the site's derivations.

Each worker is a fresh Python process (spawn, not fork: JAX runs threads, and a forked copy of them
can deadlock), so it imports JAX once (~1 s) and then takes one item after another.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Callable, Sequence


def default_jobs() -> int:
    """$MATREF_JOBS if set, else one worker per core this process may use."""
    given = os.environ.get("MATREF_JOBS", "")
    if given.isdigit() and int(given) >= 1:
        return int(given)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def in_workers(fn: Callable, calls: Sequence[tuple], jobs: int, done: Callable[[int, object], None],
               initializer: Callable | None = None, initargs: tuple = ()) -> None:
    """Run `fn(*calls[i])` for every i, `jobs` at a time in worker processes, in the order given;
    `done(i, result)` in this process as each finishes. An exception in `fn` (or Ctrl-C) stops the
    workers at once and is raised here. `fn` and its arguments must pickle."""
    if not calls:  # no pool of zero workers
        return
    pool = ProcessPoolExecutor(min(jobs, len(calls)), mp_context=multiprocessing.get_context("spawn"),
                               initializer=_start, initargs=(initializer, initargs))
    running = {pool.submit(fn, *args): i for i, args in enumerate(calls)}
    try:
        while running:
            ready, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in ready:
                done(running.pop(future), future.result())
    except BaseException:  # stop the workers now, not after their current item
        for process in list(getattr(pool, "_processes", {}).values()):
            process.terminate()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


def _start(initializer: Callable | None, initargs: tuple) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle (it stops the workers)
    if initializer is not None:
        initializer(*initargs)
