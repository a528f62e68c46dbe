"""Verify catalogue entries: each identity in both layouts, each erratum's wrong form refuted, and
(optionally) every generated snippet run verbatim; in parallel, remembering what was verified.

A verification is a function of what it reads: the entry's checked fields (or, for snippets, every
field a snippet shows), the seed, matref's code and the versions of the libraries that compute it.
`verification_key` and `inputs_digest` name those inputs; a `VerdictStore` keeps one record per key,
so a second `matref verify` re-checks only what changed, and `mkdocs serve` only the entries edited.
A record is written only by a run that finished; a change to any input is a new key, never a reuse.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field, fields
from importlib import metadata
from pathlib import Path
from typing import Callable, Iterable

from ._catalogue import Entry
from ._check import Verdict, check
from ._language import LAYOUTS
from ._workers import in_workers

# Everything a check of an entry reads; a title or a note edit changes none of it.
CHECKED_FIELDS = ("formula", "where", "layout", "other_layout", "wrong", "wrong_where", "wrong_layout")
# The libraries whose numbers a verdict is made of (a new version is a new verification).
LIBRARIES = ("jax", "jaxlib", "numpy", "lark")


@dataclass
class EntryResult:
    """What verifying one entry found. `ok` is True when everything is as the catalogue claims."""

    entry: Entry
    layouts: dict[str, Verdict] = field(default_factory=dict)
    wrong: Verdict | None = None
    errors: list[str] = field(default_factory=list)  # what failed to run: a snippet, or the check itself
    seconds: float = 0.0  # what verifying it took (for a reused record: when it last ran)
    reused: bool = False  # True when this is a stored record of an identical verification

    @property
    def problems(self) -> list[str]:
        out = [f"{layout} layout: {v.status}: {v.message}" for layout, v in self.layouts.items() if not v.holds]
        if self.wrong is not None and self.wrong.status != "refuted":
            out.append(f"the wrong form ({self.entry.wrong_source}) is not refuted: {self.wrong.status}: "
                       f"{self.wrong.message}")
        return out + self.errors

    @property
    def ok(self) -> bool:
        return not self.problems

    def record(self) -> dict:
        """The JSON-able record a `VerdictStore` keeps."""
        return {"layouts": {k: asdict(v) for k, v in self.layouts.items()},
                "wrong": None if self.wrong is None else asdict(self.wrong),
                "errors": list(self.errors), "seconds": round(self.seconds, 3)}

    @classmethod
    def from_record(cls, entry: Entry, record: dict) -> "EntryResult":
        return cls(entry, {k: Verdict(**v) for k, v in record["layouts"].items()},
                   None if record["wrong"] is None else Verdict(**record["wrong"]),
                   list(record["errors"]), record["seconds"], reused=True)


def verify_entry(entry: Entry, seed: int = 0, snippets: bool = False) -> EntryResult:
    """Check `entry` in both layouts (and its wrong form, for an erratum); with `snippets`, also run
    each dialect's snippet of each layout that holds, verbatim."""
    start = time.perf_counter()
    result = EntryResult(entry)
    for layout in LAYOUTS:
        result.layouts[layout] = check(entry.formula_in(layout), entry.where, layout, seed=seed)
    if entry.wrong_form is not None:
        formula, where, layout = entry.wrong_form
        result.wrong = check(formula, where, layout, seed=seed)
    if snippets:
        result.errors = run_snippets(entry, [la for la, v in result.layouts.items() if v.holds])
    result.seconds = time.perf_counter() - start
    return result


def run_snippets(entry: Entry, layouts: Iterable[str]) -> list[str]:
    """Run every dialect's snippet of `entry` in each of `layouts`; what failed, one line each."""
    from .snippets import DIALECTS

    errors = []
    for layout in layouts:
        for d in DIALECTS:
            try:
                text = d.snippet(entry, layout)
                if text is not None:
                    d.run_entry(text, entry, layout)
            except Exception as exc:  # noqa: BLE001 - any failure of a snippet is reported
                errors.append(f"{d.label} snippet ({layout}): {type(exc).__name__}: {exc}")
    return errors


# -- what a verification reads ----------------------------------------------------------------------

def code_digest(package: Path | None = None, without: tuple[str, ...] = ()) -> str:
    """A hash of matref's code (its .py and grammar files under `package`, default matref's own, but
    not those under the sub-packages named in `without`); the catalogue's data is not code: an
    entry reaches a key through its own fields."""
    package = Path(__file__).parent if package is None else package
    h = hashlib.sha256()
    for path in sorted(package.rglob("*")):
        if path.suffix in (".py", ".lark") and "__pycache__" not in path.parts \
                and path.relative_to(package).parts[0] not in without:
            h.update(path.relative_to(package).as_posix().encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:16]


@functools.cache
def inputs_digest(without: tuple[str, ...] = ()) -> str:
    """A hash of everything besides the entry that a verdict depends on: matref's code (but the
    sub-packages in `without`, see `code_digest`), the versions of Python and of the numeric
    libraries, and the machine's architecture."""
    versions = [f"{name}={_version(name)}" for name in LIBRARIES]
    data = [code_digest(without=without), sys.version, platform.machine(), *versions]
    return hashlib.sha256(json.dumps(data).encode()).hexdigest()[:16]


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "absent"


def verification_key(entry: Entry, seed: int = 0, snippets: bool = False) -> str:
    """The key of verifying `entry` this way: its checked fields (with `snippets`, every field a
    snippet can show), the seed and whether snippets run."""
    names = ([f.name for f in fields(entry) if f.name not in ("file", "line", "_forms")] if snippets
             else ["id", *CHECKED_FIELDS])
    data = [[name, getattr(entry, name)] for name in names] + [["seed", seed], ["snippets", snippets]]
    return hashlib.sha256(json.dumps(data, default=list).encode("utf-8")).hexdigest()[:24]


class VerdictStore:
    """Records of verifications, by `verification_key`, in one JSON file (None: in memory only).

    The file names the `inputs_digest` it was made under: read under any other, it is empty.
    """

    def __init__(self, path: Path | None, inputs: str | None = None):
        self.path = path
        self.inputs = inputs_digest() if inputs is None else inputs
        self.records: dict[str, dict] = {}
        if path is not None:
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                if data.get("inputs") == self.inputs and isinstance(data.get("records"), dict):
                    self.records = data["records"]
            except (OSError, ValueError, AttributeError):
                self.records = {}  # missing or unreadable: a cache, so start afresh

    def get(self, key: str) -> dict | None:
        return self.records.get(key)

    def put(self, key: str, record: dict) -> None:
        self.records[key] = record

    def save(self) -> None:
        """Write atomically; in a watched directory, this is what tells `mkdocs serve` to rebuild."""
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".verdicts", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"inputs": self.inputs, "records": self.records}, f, sort_keys=True)
        os.replace(tmp, self.path)


def default_store_path() -> Path:
    """Where `matref verify` keeps its records: $MATREF_CACHE_DIR, else the user's cache directory."""
    import platformdirs

    root = os.environ.get("MATREF_CACHE_DIR") or platformdirs.user_cache_dir("matref", appauthor=False)
    return Path(root) / "verdicts.json"


# -- many entries -----------------------------------------------------------------------------------

def _remember(store: VerdictStore, r: EntryResult, seed: int, snippets: bool) -> None:
    store.put(verification_key(r.entry, seed, snippets), r.record())
    if snippets:  # the checks alone are part of what ran: a later run without snippets reuses them
        store.put(verification_key(r.entry, seed, False), {**r.record(), "errors": []})


def verify_entries(entries: Iterable[Entry], *, seed: int = 0, snippets: bool = False, jobs: int = 1,
                   store: VerdictStore | None = None, fresh: bool = False,
                   done: Callable[[EntryResult], None] = lambda r: None) -> list[EntryResult]:
    """Verify each entry (see `verify_entry`), `jobs` at a time in worker processes
    (`matref._workers`), in the order given.

    With a `store`, an entry whose identical verification is recorded there is not run again (unless
    `fresh`), and every entry run is recorded, the store saved even when interrupted. The slowest
    entries (by their last recorded time) start first, so no long one is left for the end.
    `done(result)` is called as each finishes.
    """
    entries = list(entries)
    results: dict[int, EntryResult] = {}
    todo = []
    for i, e in enumerate(entries):
        record = None if store is None or fresh else store.get(verification_key(e, seed, snippets))
        if record is not None:
            results[i] = EntryResult.from_record(e, record)
            done(results[i])
        else:
            todo.append(i)
    if store is not None:  # unknown cost first (it may be long), then the slowest known
        last = {i: store.get(verification_key(entries[i], seed, False)) for i in todo}
        todo.sort(key=lambda i: -(last[i]["seconds"] if last[i] else float("inf")))

    def finished(i: int, r: EntryResult) -> None:
        results[i] = r
        if store is not None:
            _remember(store, r, seed, snippets)
        done(r)

    try:
        if jobs <= 1 or len(todo) <= 1:
            for i in todo:
                finished(i, verify_entry(entries[i], seed, snippets))
        else:
            in_workers(verify_entry, [(entries[i], seed, snippets) for i in todo], jobs,
                       lambda k, r: finished(todo[k], r), _start_worker, (snippets,))
    finally:
        if store is not None:
            store.save()
    return [results[i] for i in range(len(entries))]


def _start_worker(snippets: bool) -> None:
    if snippets:
        from ._numeric import compile_quickly

        compile_quickly()  # the few operations of the JAX snippets that XLA still runs (`matref._eager`)
