"""What a `mkdocs serve` rebuild may skip: which files changed, and which generated pages they change.

A save of one catalogue file used to cost a full build (~20 s: every snippet highlighted again, every
page converted again). When only catalogue data (or a check's verdict) changed and the navigation
did not, the site is updated in place: the pages whose generated Markdown differs are converted and
written again, nothing else. Anything else (a hand-written page, the code, mkdocs.yml) is a full build.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

Snapshot = dict[str, tuple[int, int]]  # path -> (mtime in ns, size)


def snapshot(roots: Iterable[Path]) -> Snapshot:
    """Every file under roots (files or directories) with its mtime and size; bytecode caches left out."""
    out: Snapshot = {}
    for root in roots:
        root = Path(root)
        if root.is_file():
            st = root.stat()
            out[str(root)] = (st.st_mtime_ns, st.st_size)
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if d != "__pycache__"]
            for name in filenames:
                path = os.path.join(dirpath, name)
                try:
                    st = os.stat(path)
                except FileNotFoundError:  # removed while we walked: the next rebuild sees it
                    continue
                out[path] = (st.st_mtime_ns, st.st_size)
    return out


def changed_paths(before: Snapshot, after: Snapshot) -> set[str]:
    """Paths added, removed or modified between two snapshots."""
    return {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}


def only_data(changed: Iterable[str], data_dirs: Iterable[Path]) -> bool:
    """True when every changed path lies under data_dirs (the catalogue, the verdicts): no code, no page.

    Anything else there (an editor's `.traces.toml.swp`) is not loaded by the catalogue, so treating it
    as data costs one reload that finds nothing new.
    """
    dirs = [str(Path(d)) + os.sep for d in data_dirs]
    return all(any(path.startswith(d) for d in dirs) for path in changed)


def nav_key(cat) -> tuple:
    """What of the catalogue the navigation shows: the families, their order and titles, and the ids.

    When it changes, every page's navigation and the set of files change: that is a full build.
    """
    return tuple((f.name, f.title, f.order, tuple(e.id for e in f.entries)) for f in cat.families)


def changed_pages(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """The pages (path -> Markdown) whose text differs, in after's order."""
    return [uri for uri, text in after.items() if before.get(uri) != text]


def splice_sections(index: list[dict], fresh: list[dict]) -> list[dict]:
    """The search index with the sections of rebuilt pages (fresh) where their old sections were.

    A section's page is its location up to the `#`; a page new to the index goes at the end. Keeping
    the order makes the served index the one a full build writes.
    """
    page = lambda section: section["location"].split("#")[0]  # noqa: E731
    by_page: dict[str, list[dict]] = {}
    for section in fresh:
        by_page.setdefault(page(section), []).append(section)
    out: list[dict] = []
    placed: set[str] = set()
    for section in index:
        p = page(section)
        if p not in by_page:
            out.append(section)
        elif p not in placed:
            out += by_page[p]
            placed.add(p)
    return out + [s for p, sections in by_page.items() if p not in placed for s in sections]
