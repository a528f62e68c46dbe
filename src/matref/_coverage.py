"""Which Matrix Cookbook equations (chapter 2, 33-144) and which rows of Wikipedia's identity tables
the catalogue covers, generated from the entries' sources, with the stated reason for each one it does
not (`catalogue/_coverage.toml`). The Cookbook's chapters and sections (`catalogue/_cookbook.toml`) and
Wikipedia's tables, row by row (`catalogue/_wikipedia.toml`), are data in the package. The site's
Coverage page is this data, so it cannot drift."""

from __future__ import annotations

import functools
import hashlib
import re
import tomllib
from dataclasses import dataclass
from importlib import resources

from ._catalogue import Catalogue
from ._errors import CatalogueError

COOKBOOK = range(33, 145)
COOKBOOK_SOURCE = re.compile(r"^Matrix Cookbook \((\d+)\)$")
COOKBOOK_SECTION_SOURCE = re.compile(r"^Matrix Cookbook, §([\d.]+) \(after eq\. (\d+)\)$")
WIKIPEDIA_SOURCE = re.compile(r"^Wikipedia: (.+) #(\d+)$")
STUDY_NOTE = "Study note 求导 (matrix derivatives)"


@dataclass(frozen=True)
class Row:
    """One equation or table row: the ids covering it and, where something is left out, why."""

    label: str
    ids: tuple[str, ...]
    reason: str | None = None
    text: str | None = None  # the row's formula (Wikipedia rows), LaTeX
    implied_by: tuple[str, ...] = ()  # entries stating a more general identity that contains the row

    @property
    def status(self) -> str:
        if self.ids:
            return "covered" if not self.reason else "partly covered"
        return "implied" if self.implied_by else "not covered"


@dataclass(frozen=True)
class Table:
    key: str
    caption: str
    rows: tuple[str, ...]


def _data(name: str) -> dict:
    path = resources.files("matref").joinpath("catalogue", name)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise CatalogueError(f"catalogue/{name}: invalid TOML: {e}") from None


@functools.cache
def _uncovered() -> tuple[dict, ...]:
    rows = _data("_coverage.toml").get("uncovered", [])
    for i, row in enumerate(rows):
        if not isinstance(row.get("source"), str) or not isinstance(row.get("reason"), str):
            raise CatalogueError(f"catalogue/_coverage.toml: [[uncovered]] number {i + 1} needs 'source' and 'reason'")
    return tuple(rows)


# ----- the Matrix Cookbook ---------------------------------------------------------------------

@functools.cache
def cookbook_chapters() -> tuple[dict, ...]:
    return tuple(_data("_cookbook.toml")["chapter"])


@functools.cache
def cookbook_sections() -> tuple[dict, ...]:
    return tuple(_data("_cookbook.toml")["section"])


def cookbook_chapter(n: int) -> dict | None:
    """The chapter holding equation (n), or None when (n) is in no recorded chapter."""
    return next((c for c in cookbook_chapters() if c["first"] <= n <= c["last"]), None)


def cookbook_section(n: int) -> dict | None:
    """The chapter-2 section holding equation (n)."""
    return next((s for s in cookbook_sections() if s["first"] <= n <= s["last"]), None)


def cookbook_rows(cat: Catalogue) -> list[Row]:
    """One row per Matrix Cookbook equation 33-144."""
    ids: dict[int, list[str]] = {n: [] for n in COOKBOOK}
    for e in cat.entries:
        for s in e.sources:
            m = COOKBOOK_SOURCE.match(s)
            if m and int(m.group(1)) in ids:
                ids[int(m.group(1))].append(e.id)
    reasons: dict[int, list[str]] = {}
    for row in _uncovered():
        m = COOKBOOK_SOURCE.match(row["source"])
        if m:
            reasons.setdefault(int(m.group(1)), []).append(row["reason"])
    return [Row(f"({n})", tuple(ids[n]), "; ".join(reasons[n]) if n in reasons else None) for n in COOKBOOK]


# ----- Wikipedia --------------------------------------------------------------------------------

@functools.cache
def wikipedia_tables() -> tuple[Table, ...]:
    return tuple(Table(t["key"], t["caption"], tuple(t["rows"])) for t in _data("_wikipedia.toml")["table"])


@functools.cache
def wikipedia_revision() -> dict:
    """What is known of the article revision the rows were numbered from, plus the SHA-256 of the row data."""
    raw = resources.files("matref").joinpath("catalogue", "_wikipedia.toml").read_bytes()
    return {**_data("_wikipedia.toml")["revision"], "rows_sha256": hashlib.sha256(raw).hexdigest()}


def wikipedia_row(source: str) -> tuple[str, int] | None:
    """(table, row) for a `Wikipedia: <table> #<row>` source that names a listed row, else None."""
    m = WIKIPEDIA_SOURCE.match(source)
    if not m:
        return None
    table, n = m.group(1), int(m.group(2))
    for t in wikipedia_tables():
        if t.key == table and 1 <= n <= len(t.rows):
            return table, n
    return None


def wikipedia_rows(cat: Catalogue) -> dict[str, list[Row]]:
    """Per Wikipedia table, every row in order: the entries stating it, or why none does."""
    cited: dict[tuple[str, int], list[str]] = {}
    for e in cat.entries:
        for s in e.sources:
            key = wikipedia_row(s)
            if key is not None:
                cited.setdefault(key, []).append(e.id)
    notes: dict[tuple[str, int], dict] = {}
    for row in _uncovered():
        key = wikipedia_row(row["source"])
        if key is not None:
            notes[key] = row
    out: dict[str, list[Row]] = {}
    for t in wikipedia_tables():
        out[t.key] = [
            Row(f"#{n}", tuple(cited.get((t.key, n), ())), notes.get((t.key, n), {}).get("reason"), text,
                tuple(notes.get((t.key, n), {}).get("implied_by", ())))
            for n, text in enumerate(t.rows, 1)
        ]
    return out


def counts(cat: Catalogue) -> dict[str, int]:
    """The numbers the README and the site state, computed (never typed in by hand)."""
    kinds = {k: sum(1 for e in cat.entries if e.kind == k) for k in ("identity", "erratum", "pitfall")}
    wiki = [r for rows in wikipedia_rows(cat).values() for r in rows]
    book = cookbook_rows(cat)
    return {
        "entries": len(cat.entries), "identities": kinds["identity"], "errata": kinds["erratum"],
        "pitfalls": kinds["pitfall"], "variants": sum(1 for e in cat.entries if e.variant_of),
        "aliases": sum(len(e.aliases) for e in cat.entries),
        "wikipedia_rows": len(wiki), "wikipedia_covered": sum(r.status == "covered" for r in wiki),
        "wikipedia_partly": sum(r.status == "partly covered" for r in wiki),
        "wikipedia_implied": sum(r.status == "implied" for r in wiki),
        "cookbook_equations": len(book), "cookbook_covered": sum(r.status == "covered" for r in book),
        "cookbook_partly": sum(r.status == "partly covered" for r in book),
    }


# ----- the study note ------------------------------------------------------------------------------

@functools.cache
def study_note() -> dict:
    """The study note 求导: its name and its statements, part by part, with the entries reading each."""
    return _data("_study_note.toml")


def study_note_verdict(entry) -> str:
    """What matref found for the note's statement that `entry` reads."""
    if entry.kind == "erratum" and entry.wrong_source == STUDY_NOTE:
        return "wrong as written; the corrected form holds"
    return "holds as read"


# ----- the README's counts ------------------------------------------------------------------------

README_START, README_END = "<!-- counts: generated by `python -m matref._coverage`; a test keeps them current -->", "<!-- /counts -->"


def readme_counts(cat: Catalogue) -> str:
    c = counts(cat)
    not_wiki = c["wikipedia_rows"] - c["wikipedia_covered"] - c["wikipedia_partly"] - c["wikipedia_implied"]
    return (
        f"The catalogue holds **{c['entries']} entries**: {c['identities']} identities, {c['errata']} errata (a "
        f"source's formula that is wrong under the source's own assumptions, beside the corrected form) and "
        f"{c['pitfalls']} pitfall{'s' if c['pitfalls'] != 1 else ''} (a correct formula that a common "
        f"implementation gets wrong). Of the {c['wikipedia_rows']} rows of Wikipedia's *Matrix calculus* "
        f"identity tables, {c['wikipedia_covered']} are stated by an entry, {c['wikipedia_partly']} partly, "
        f"{c['wikipedia_implied']} only by a more general entry and {not_wiki} not at all (each with its reason); "
        f"of the Matrix Cookbook's {c['cookbook_equations']} chapter-2 equations, {c['cookbook_covered']} are "
        f"covered and {c['cookbook_partly']} partly."
    )


def _update_readme(path) -> bool:
    from ._catalogue import load_catalogue
    text = path.read_text(encoding="utf-8")
    i, j = text.index(README_START) + len(README_START), text.index(README_END)
    new = text[:i] + "\n" + readme_counts(load_catalogue()) + "\n" + text[j:]
    path.write_text(new, encoding="utf-8")
    return new != text


if __name__ == "__main__":  # python -m matref._coverage: rewrite the README's counts
    import pathlib
    import sys
    readme = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "README.md")
    print(("updated " if _update_readme(readme) else "already current: ") + str(readme))
