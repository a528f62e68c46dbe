"""Which Matrix Cookbook equations (chapter 2, 33-144) and Wikipedia table rows the catalogue
covers, generated from the entries' sources, with the stated reason for each one it does not
(`catalogue/_coverage.toml`). The site's Coverage page is this data, so it cannot drift."""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass
from importlib import resources

from ._catalogue import Catalogue
from ._errors import CatalogueError

COOKBOOK = range(33, 145)
WIKIPEDIA_TABLES = ("scalar-by-vector", "vector-by-vector", "vector-by-scalar", "scalar-by-matrix",
                    "matrix-by-scalar", "scalar-by-scalar", "differential form")
_COOKBOOK_SOURCE = re.compile(r"^Matrix Cookbook \((\d+)\)$")


@dataclass(frozen=True)
class Row:
    """One equation or table row: the ids covering it and, where something is left out, why."""

    label: str
    ids: tuple[str, ...]
    reason: str | None = None

    @property
    def status(self) -> str:
        return "covered" if self.ids and not self.reason else "partly covered" if self.ids else "not covered"


@functools.cache
def _uncovered() -> tuple[dict, ...]:
    path = resources.files("matref").joinpath("catalogue", "_coverage.toml")
    if not path.is_file():
        return ()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise CatalogueError(f"catalogue/_coverage.toml: invalid TOML: {e}") from None
    rows = data.get("uncovered", [])
    for i, row in enumerate(rows):
        if not isinstance(row.get("source"), str) or not isinstance(row.get("reason"), str):
            raise CatalogueError(f"catalogue/_coverage.toml: [[uncovered]] number {i + 1} needs 'source' and 'reason'")
    return tuple(rows)


def cookbook_rows(cat: Catalogue) -> list[Row]:
    """One row per Matrix Cookbook equation 33-144."""
    ids: dict[int, list[str]] = {n: [] for n in COOKBOOK}
    for e in cat.entries:
        for s in e.sources:
            m = _COOKBOOK_SOURCE.match(s)
            if m and int(m.group(1)) in ids:
                ids[int(m.group(1))].append(e.id)
    reasons: dict[int, list[str]] = {}
    for row in _uncovered():
        m = _COOKBOOK_SOURCE.match(row["source"])
        if m:
            reasons.setdefault(int(m.group(1)), []).append(row["reason"])
    return [Row(f"({n})", tuple(ids[n]), "; ".join(reasons[n]) if n in reasons else None) for n in COOKBOOK]


def wikipedia_rows(cat: Catalogue) -> dict[str, list[Row]]:
    """Per Wikipedia table: a row per catalogue entry citing it, then the rows left out, with reasons."""
    out: dict[str, list[Row]] = {t: [] for t in WIKIPEDIA_TABLES}
    for e in cat.entries:
        for s in e.sources:
            if s.startswith("Wikipedia: ") and s[11:] in out:
                out[s[11:]].append(Row(e.title, (e.id,)))
    for row in _uncovered():
        if row["source"].startswith("Wikipedia: ") and row["source"][11:] in out:
            out[row["source"][11:]].append(Row(row.get("row", row["source"]), (), row["reason"]))
    return out
