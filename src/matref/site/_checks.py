"""What the site knows about each entry's check: verdicts kept on disk, checks run in a background process.

A page claims an entry was checked only when it holds. While `mkdocs serve` runs, an entry edited in
the catalogue is checked again in one worker process that stays up across rebuilds (JAX is imported
once, ~1 s; one entry in both layouts takes ~0.1-2 s after that), so a rebuild never waits for it:
the page shows "checking…" until the verdict is in, then a red banner if it does not hold.

Verdicts are kept under `.cache/matref-site/checks/` in a `matref._verify.VerdictStore`, the one
`matref verify` uses: keyed by what the check reads (the formula in both layouts, the where-clause, an
erratum's wrong form), matref's code and the numeric libraries, so a title or a note edit does not
re-check and a checker change re-checks everything. A strict `mkdocs build` fails on
an entry whose current form is known not to hold. Checking the whole catalogue takes minutes on two
cores, so the build does not do it: the test suite does (tests/test_catalogue.py), before CI builds.
"""

from __future__ import annotations

import html
import multiprocessing
import os
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Callable, Iterable

from matref._verify import EntryResult, VerdictStore, verification_key

HOLDS, CHECKING, FAILS = "holds", "checking", "fails"


@dataclass(frozen=True)
class Status:
    """One entry's check as the site shows it: holds, checking, or fails (with the problems found)."""

    state: str
    problems: tuple[str, ...] = ()


def verify(entry) -> dict:
    """Run in the worker: the record of verifying `entry` (see `matref._verify.EntryResult.record`)."""
    from matref._verify import verify_entry

    try:
        return verify_entry(entry).record()
    except Exception as exc:  # a checker crash is a verdict the page must show, not a lost thread
        return _failed(EntryResult(entry), f"the check itself failed: {type(exc).__name__}: {exc}")


def _failed(result, problem: str) -> dict:
    """The record of a verification that could not run, with its one problem."""
    return {**result.record(), "errors": [problem]}


def _leave_with(parent: int) -> None:
    """Worker initializer: exit once the process that started the worker is gone.

    `mkdocs serve` stopped by a signal (SIGTERM, a closed terminal) runs no shutdown hook, and the
    worker, blocked waiting for work, would otherwise live on as an orphan.
    """
    def watch():
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, name="leave with the server", daemon=True).start()


def status_html(status: Status | None) -> str:
    """The marker a row carries: nothing when it holds, a neutral note while checking, a red banner when not."""
    if status is None or status.state == HOLDS:
        return ""
    if status.state == CHECKING:
        return ('<div class="matref-check matref-check--running" role="status" markdown="0">'
                "checking… this edit has not been verified yet</div>")
    items = "".join(f"<li>{html.escape(p, quote=False)}</li>" for p in status.problems)
    return ('<div class="matref-check matref-check--fails" role="alert" markdown="0">'
            f"<strong>Does not hold, not verified:</strong><ul>{items}</ul></div>")


class Checker:
    """Checks entries in one background process and remembers the verdicts.

    `status(entries)` answers at once from what is known and queues what is not. When the queue runs
    dry the store is saved: in the directory `mkdocs serve` watches, that saving is the signal to
    rebuild and reload. `run` is what checks one entry; tests pass a plain function and no process
    is started.
    """

    def __init__(self, store: VerdictStore, *, run: Callable | None = None):
        self.store = store
        self._run = run
        self._pool: ProcessPoolExecutor | None = None
        self._pending: dict[str, Future] = {}
        self._lock = threading.Lock()

    def known(self, entry) -> Status | None:
        """The entry's status from the store, None when it has never been checked in this form."""
        record = self.store.get(verification_key(entry))
        if record is None:
            return None
        problems = tuple(EntryResult.from_record(entry, record).problems)
        return Status(FAILS, problems) if problems else Status(HOLDS)

    def status(self, entries: Iterable, *, check: Callable[[object], bool] = lambda e: True) -> dict[str, Status]:
        """Every entry's status. Entries never checked in their current form for which check(entry) is
        true are queued and reported as checking; the others are taken to hold (the tests check them)."""
        out = {}
        for e in entries:
            known = self.known(e)
            if known is not None:
                out[e.id] = known
            elif check(e):
                self._submit(e)
                out[e.id] = Status(CHECKING)
            else:
                out[e.id] = Status(HOLDS)
        return out

    def _submit(self, entry) -> None:
        key = verification_key(entry)
        with self._lock:
            if key in self._pending:
                return
            if self._run is not None:
                future: Future = Future()
                self._pending[key] = future
                try:
                    future.set_result(self._run(entry))
                except Exception as exc:
                    future.set_exception(exc)
            else:
                try:
                    future = self._worker().submit(verify, entry)
                except BrokenProcessPool:  # the worker died (its checks were reported): start another
                    self._pool = None
                    future = self._worker().submit(verify, entry)
                self._pending[key] = future
        future.add_done_callback(lambda f: self._done(entry, key, f))

    def _worker(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # spawn, not fork: the build process has threads (notebooks, the server)
            self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_leave_with, initargs=(os.getpid(),))
        return self._pool

    def _done(self, entry, key: str, future: Future) -> None:
        try:
            record = future.result()
        except Exception as exc:  # the worker died: say so on the page rather than hang at "checking"
            record = _failed(EntryResult(entry), f"the check could not run: {type(exc).__name__}: {exc}")
        with self._lock:
            self.store.put(key, record)
            self._pending.pop(key, None)
            if not self._pending:
                self.store.save()

    def busy(self) -> bool:
        with self._lock:
            return bool(self._pending)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
