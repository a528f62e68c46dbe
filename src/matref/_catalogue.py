"""The catalogue: identities as data, one TOML file per family in `matref/catalogue/`.

The loader validates everything and reports problems as `file:line: message`.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from ._errors import CannotCheck, CatalogueError, ShapeClash
from ._language import LAYOUTS, parse_identity
from ._layouts import is_layout_independent, other_layout_latex

ENTRY_KEYS = {"id", "title", "formula", "other_layout", "where", "layout", "sources", "notes", "tags", "kind",
              "wrong", "wrong_where", "wrong_layout", "wrong_source", "wrong_text", "explanation", "assumptions",
              "misreading", "aliases", "variant_of"}
REQUIRED = ("id", "title", "formula", "sources")
KINDS = ("identity", "erratum", "pitfall")
# An erratum: a source's form that is wrong as printed under the source's own assumptions (recorded).
ERRATUM_REQUIRED = ("wrong_source", "assumptions", "explanation")
# A pitfall: a correct formula that a common reading or implementation gets wrong (the misreading is refuted).
PITFALL_REQUIRED = ("misreading", "wrong", "explanation")
FAMILY_KEYS = {"title", "order", "intro", "showcase"}
PART_KEYS = {"title", "first", "name"}
ID_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
SYMMETRIC_PROPS = {"symmetric", "spd", "psd", "diagonal"}


def other(layout: str) -> str:
    return "numerator" if layout == "denominator" else "denominator"


@dataclass(frozen=True)
class Entry:
    """One catalogue identity; an erratum (a source's wrong form beside the correct one) or a pitfall (a
    correct formula beside the way a common reading gets it wrong) is an identity with its wrong form."""

    id: str
    title: str
    family: str
    formula: str
    where: str = ""
    layout: str = "denominator"
    other_layout: str | None = None  # the formula written out for the other layout (else derived)
    sources: tuple[str, ...] = ()
    notes: str | None = None
    tags: tuple[str, ...] = ()
    kind: str = "identity"
    wrong: str | None = None
    wrong_where: str | None = None
    wrong_layout: str | None = None
    wrong_source: str | None = None
    wrong_text: str | None = None  # an erratum that is not a formula (e.g. a misprinted matrix), in Markdown
    explanation: str | None = None
    assumptions: str | None = None  # erratum: what the source assumes where it prints the wrong form
    misreading: str | None = None  # pitfall: the common reading or implementation that gets it wrong
    aliases: tuple[str, ...] = ()  # ids merged into this entry: they stay permalinks to it
    variant_of: str | None = None  # a deliberate restatement of another entry (its notes say why)
    page: str = ""  # the site page that shows it, under reference/: its family's name, or a part's (`Part`)
    file: str = ""
    line: int = 0
    _forms: dict = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self):
        if not self.page:  # an entry made outside a family file (tests, `matref check`) sits on its family's page
            object.__setattr__(self, "page", self.family)

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}"

    def formula_in(self, layout: str) -> str:
        """The identity's LaTeX in `layout`: as written, or derived from the tree for the other layout."""
        if layout == self.layout:
            return self.formula
        if layout not in LAYOUTS:
            raise ValueError(f"unknown layout {layout!r}")
        if self.other_layout is not None:
            return self.other_layout
        if layout not in self._forms:
            try:
                ident = parse_identity(self.formula, self.where, self.layout)
            except ShapeClash:
                self._forms[layout] = self.formula  # does not conform: verify reports it
            else:
                if is_layout_independent(ident.equation.sides):
                    self._forms[layout] = self.formula
                    return self.formula
                sym = frozenset(n for n, d in ident.decls.items() if d.props & SYMMETRIC_PROPS)
                try:
                    self._forms[layout] = other_layout_latex(ident.equation.sides, sym)
                except CannotCheck as e:
                    raise CatalogueError(f"{self.location}: entry '{self.id}': {e}") from None
        return self._forms[layout]

    @property
    def layout_independent(self) -> bool:
        """True when the identity reads the same in both layouts."""
        if "independent" not in self._forms:
            try:
                ident = parse_identity(self.formula, self.where, self.layout)
                self._forms["independent"] = is_layout_independent(ident.equation.sides)
            except ShapeClash:
                self._forms["independent"] = False
        return self._forms["independent"]

    @property
    def wrong_form(self) -> tuple[str, str, str] | None:
        """(formula, where, layout) of an erratum's wrong form."""
        if self.wrong is None:
            return None
        return self.wrong, self.wrong_where if self.wrong_where is not None else self.where, \
            self.wrong_layout or self.layout


@dataclass(frozen=True)
class Part:
    """A run of a family's entries shown on one site page (a large family is split so that a page stays
    light to load and to switch layouts on). The first part's page is the family's own, `reference/<family>/`;
    a later part's is `reference/<family>-<name>/`. Its title follows the family's after a dash
    ("Traces — higher powers, inverses and matrix functions")."""

    title: str
    page: str


@dataclass(frozen=True)
class Family:
    name: str
    title: str
    order: int
    intro: str
    entries: tuple[Entry, ...]
    showcase: str = ""  # the id of the entry the home page shows for this family ("" = its first entry)
    parts: tuple[Part, ...] = ()  # its pages, in order; one part (the family's title and page) unless split

    def __post_init__(self):
        if not self.parts:
            object.__setattr__(self, "parts", (Part(self.title, self.name),))

    def part_entries(self, part: Part) -> tuple[Entry, ...]:
        """The entries shown on `part`'s page, in order."""
        return tuple(e for e in self.entries if e.page == part.page)

    @property
    def showcase_entry(self) -> Entry:
        """The entry that stands for this family on the home page."""
        return next((e for e in self.entries if e.id == self.showcase), self.entries[0])


@dataclass(frozen=True)
class Catalogue:
    families: tuple[Family, ...]

    @property
    def entries(self) -> tuple[Entry, ...]:
        return tuple(e for f in self.families for e in f.entries)

    def get(self, id: str) -> Entry:
        """The entry with this id, or the one an old id was merged into (ids are permalinks)."""
        for e in self.entries:
            if e.id == id:
                return e
        for e in self.entries:
            if id in e.aliases:
                return e
        raise KeyError(id)

    def of_kind(self, kind: str) -> tuple[Entry, ...]:
        return tuple(e for e in self.entries if e.kind == kind)

    def family(self, name: str) -> Family:
        for f in self.families:
            if f.name == name:
                return f
        raise KeyError(name)


def _entry_lines(text: str) -> list[int]:
    return [i + 1 for i, line in enumerate(text.splitlines()) if line.strip() == "[[entry]]"]


def _key_line(text: str, start: int, key: str) -> int:
    """The line of `key = ...` inside the entry whose `[[entry]]` header is on line `start`."""
    lines = text.splitlines()
    for i in range(start, len(lines)):
        if lines[i].strip() == "[[entry]]":
            break
        if re.match(rf"\s*{re.escape(key)}\s*=", lines[i]):
            return i + 1
    return start


def load_file(path: Path, label: str | None = None) -> Family:
    """Load and validate one family file."""
    label = label or path.name
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        m = re.search(r"line (\d+)", str(e))
        raise CatalogueError(f"{label}:{m.group(1) if m else 1}: invalid TOML: {e}") from None
    fam = data.get("family")
    if not isinstance(fam, dict):
        raise CatalogueError(f"{label}:1: missing [family] table (title, order, intro)")
    unknown = set(fam) - FAMILY_KEYS
    if unknown:
        raise CatalogueError(f"{label}:1: unknown key(s) in [family]: {', '.join(sorted(unknown))}")
    if not isinstance(fam.get("title"), str) or not isinstance(fam.get("order"), int):
        raise CatalogueError(f"{label}:1: [family] needs a string 'title' and an integer 'order'")
    extra = set(data) - {"family", "entry", "part"}
    if extra:
        raise CatalogueError(f"{label}:1: unknown table(s): {', '.join(sorted(extra))}")
    raw = data.get("entry", [])
    starts = _entry_lines(text)
    entries = []
    for k, item in enumerate(raw):
        line = starts[k] if k < len(starts) else 1
        where_ = f"{label}:{line}"
        unknown = set(item) - ENTRY_KEYS
        if unknown:
            raise CatalogueError(f"{label}:{_key_line(text, line, sorted(unknown)[0])}: unknown key "
                                 f"'{sorted(unknown)[0]}' (known: {', '.join(sorted(ENTRY_KEYS))})")
        for key in REQUIRED:
            if key not in item:
                raise CatalogueError(f"{where_}: entry is missing '{key}'")
        eid = item["id"]
        if not isinstance(eid, str) or not ID_PATTERN.match(eid):
            raise CatalogueError(f"{where_}: id {eid!r} must be lowercase words joined by hyphens")
        kind = item.get("kind", "identity")
        if kind not in KINDS:
            raise CatalogueError(f"{label}:{_key_line(text, line, 'kind')}: kind must be one of {', '.join(KINDS)}")
        if kind == "erratum":
            for key in ERRATUM_REQUIRED:
                if key not in item:
                    raise CatalogueError(f"{where_}: erratum '{eid}' is missing '{key}'")
            if "wrong" not in item and "wrong_text" not in item:
                raise CatalogueError(f"{where_}: erratum '{eid}' needs 'wrong' (a formula) or 'wrong_text'")
        if kind == "pitfall":
            for key in PITFALL_REQUIRED:
                if key not in item:
                    raise CatalogueError(f"{where_}: pitfall '{eid}' is missing '{key}'")
        if kind == "identity":
            stray = sorted(k for k in ("wrong", "wrong_text", "wrong_source", "misreading") if k in item)
            if stray:
                raise CatalogueError(f"{label}:{_key_line(text, line, stray[0])}: '{stray[0]}' belongs to an erratum "
                                     f"or a pitfall; entry '{eid}' is an identity")
        aliases = item.get("aliases", [])
        if not isinstance(aliases, list) or not all(isinstance(a, str) and ID_PATTERN.match(a) for a in aliases):
            raise CatalogueError(f"{label}:{_key_line(text, line, 'aliases')}: aliases must be a list of ids")
        for key in ("layout", "wrong_layout"):
            if key in item and item[key] not in LAYOUTS:
                raise CatalogueError(f"{label}:{_key_line(text, line, key)}: {key} must be 'denominator' or 'numerator'")
        for key in ("sources", "tags"):
            v = item.get(key, [])
            if not isinstance(v, list) or not all(isinstance(s, str) for s in v) or (key == "sources" and not v):
                raise CatalogueError(f"{label}:{_key_line(text, line, key)}: {key} must be a non-empty list of strings"
                                     if key == "sources" else f"{label}:{_key_line(text, line, key)}: {key} must be a list of strings")
        entry = Entry(
            id=eid, title=item["title"], family=path.stem, formula=item["formula"], other_layout=item.get("other_layout"),
            where=item.get("where", ""),
            layout=item.get("layout", "denominator"), sources=tuple(item["sources"]), notes=item.get("notes"),
            tags=tuple(item.get("tags", [])), kind=kind, wrong=item.get("wrong"), wrong_where=item.get("wrong_where"),
            wrong_layout=item.get("wrong_layout"), wrong_source=item.get("wrong_source"),
            wrong_text=item.get("wrong_text"), explanation=item.get("explanation"),
            assumptions=item.get("assumptions"), misreading=item.get("misreading"), aliases=tuple(aliases),
            variant_of=item.get("variant_of"), page=path.stem, file=label, line=line)
        _validate_formula(entry, "formula", entry.formula, entry.where, entry.layout, text, line, label)
        if entry.other_layout is not None:
            _validate_formula(entry, "other_layout", entry.other_layout, entry.where, other(entry.layout), text, line,
                              label)
        if entry.wrong_form:
            _validate_formula(entry, "wrong", *entry.wrong_form, text, line, label)
        entries.append(entry)
    showcase = fam.get("showcase", "")
    if showcase and showcase not in {e.id for e in entries}:
        raise CatalogueError(f"{label}:{_key_line(text, 1, 'showcase')}: showcase '{showcase}' is not an entry of this family")
    parts, entries = _parts(data.get("part", []), entries, path.stem, fam["title"], text, label)
    return Family(path.stem, fam["title"], fam["order"], fam.get("intro", ""), tuple(entries), showcase, parts)


def _parts(raw: list, entries: list[Entry], family: str, title: str, text: str,
           label: str) -> tuple[tuple[Part, ...], list[Entry]]:
    """The family's pages from its `[[part]]` tables (title, first entry id, name of later ones), in
    order, and the entries with the page each sits on."""
    if not raw:
        return (Part(title, family),), entries
    lines = [i + 1 for i, line in enumerate(text.splitlines()) if line.strip() == "[[part]]"]
    index = {e.id: k for k, e in enumerate(entries)}
    starts, parts = [], []
    for k, item in enumerate(raw):
        where_ = f"{label}:{lines[k] if k < len(lines) else 1}"
        unknown = set(item) - PART_KEYS
        if unknown:
            raise CatalogueError(f"{where_}: unknown key(s) in [[part]]: {', '.join(sorted(unknown))} "
                                 f"(known: {', '.join(sorted(PART_KEYS))})")
        if not isinstance(item.get("title"), str) or item.get("first") not in index:
            raise CatalogueError(f"{where_}: a [[part]] needs a string 'title' and 'first', the id of its first entry "
                                 "in this file")
        start = index[item["first"]]
        if k == 0 and start != 0:
            raise CatalogueError(f"{where_}: the first [[part]] must start at the file's first entry, "
                                 f"'{entries[0].id}'")
        if starts and start <= starts[-1]:
            raise CatalogueError(f"{where_}: parts must follow the order of the entries: '{item['first']}' comes "
                                 "before the previous part's first entry")
        if k == 0:
            page = family  # the family's own page, so its address stays what it was before the split
        else:
            name = item.get("name")
            if not isinstance(name, str) or not ID_PATTERN.match(name):
                raise CatalogueError(f"{where_}: a later [[part]] needs a 'name' (lowercase words joined by "
                                     "hyphens): its page is reference/<family>-<name>/")
            page = f"{family}-{name}"
        starts.append(start)
        parts.append((item["title"], page))
    bounds = starts[1:] + [len(entries)]
    placed = [dataclasses.replace(e, page=page) for (_, page), a, b in zip(parts, starts, bounds) for e in entries[a:b]]
    return tuple(Part(t, page) for t, page in parts), placed


def _validate_formula(entry: Entry, key: str, formula: str, where: str, layout: str, text: str, line: int,
                      label: str) -> None:
    try:
        parse_identity(formula, where, layout)
    except ShapeClash:
        pass  # false as written: `matref verify` reports it (errata's wrong forms may do this on purpose)
    except CannotCheck as e:
        raise CatalogueError(f"{label}:{_key_line(text, line, key)}: entry '{entry.id}': {key}: {e}") from None


def load_directory(directory: Path) -> Catalogue:
    """Load every `*.toml` family file in `directory` (files starting with `_` are not families)."""
    families = [load_file(p, f"{directory.name}/{p.name}") for p in sorted(directory.glob("*.toml"))
                if not p.name.startswith("_")]
    seen: dict[str, Entry] = {}
    for fam in families:
        for e in fam.entries:
            for name in (e.id, *e.aliases):
                if name in seen:
                    raise CatalogueError(f"{e.location}: duplicate id '{name}' (first used at {seen[name].location})")
                seen[name] = e
    pages = {f.name: f"{directory.name}/{f.name}.toml" for f in families}
    for fam in families:
        for part in fam.parts[1:]:
            if part.page in pages:
                raise CatalogueError(f"{directory.name}/{fam.name}.toml: part '{part.title}' would be shown on "
                                     f"reference/{part.page}/, the page of {pages[part.page]}: rename the part")
            pages[part.page] = f"{directory.name}/{fam.name}.toml"
    for fam in families:
        for e in fam.entries:
            if e.variant_of is not None and (e.variant_of not in seen or e.variant_of == e.id):
                raise CatalogueError(f"{e.location}: entry '{e.id}': variant_of names no other entry: '{e.variant_of}'")
    return Catalogue(tuple(sorted(families, key=lambda f: (f.order, f.name))))


@functools.cache
def load_catalogue() -> Catalogue:
    """The catalogue shipped with matref (cached)."""
    return load_directory(Path(str(resources.files("matref").joinpath("catalogue"))))
