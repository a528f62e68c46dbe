"""All generated pages, as Markdown keyed by their path under docs/, and the code fragments."""

from __future__ import annotations

from dataclasses import fields

from ._code import code_fragment
from ._coverage_page import coverage_page
from ._derivations import derivation_html
from ._dialects import Dialect
from ._ledgers import errata_page, pitfalls_page, study_note_page
from ._reference import code_url, family_page, index_page, sentence


def generated_pages(cat, status=None) -> dict[str, str]:
    """Every page the catalogue generates: one per family, the index, errata, pitfalls, study note, coverage.

    `status` (entry id -> `_checks.Status`, while serving) marks entries whose check is running or failed.
    """
    pages = {f"reference/{part.page}.md": family_page(fam, cat, status, part)
             for fam in cat.families for part in fam.parts}
    pages["reference/index.md"] = index_page(cat, status)
    pages["errata.md"] = errata_page(cat)
    pages["pitfalls.md"] = pitfalls_page(cat)
    pages["study-note.md"] = study_note_page(cat)
    pages["coverage.md"] = coverage_page(cat)
    return pages


def code_fragments(entries, dialects: tuple[Dialect, ...], memo: dict | None = None,
                   derivations: dict | None = None) -> dict[str, str]:
    """The code fragment of each entry, keyed by its path in the built site, with its collapsed
    Derivation block first where `derivations` (entry id -> `_derivations.derive_entry`'s record) has one.

    Highlighting every snippet costs seconds, so `mkdocs serve` passes a memo that lives across its
    rebuilds: an entry whose data did not change keeps its fragment.
    """
    derivations = derivations or {}
    if memo is None:
        return {code_url(e.id): derivation_html(derivations.get(e.id)) + code_fragment(e, dialects) for e in entries}
    out, used = {}, set()
    for e in entries:
        key = (fragment_key(e), tuple(d.name for d in dialects))
        if key not in memo:
            memo[key] = code_fragment(e, dialects)
        out[code_url(e.id)] = derivation_html(derivations.get(e.id)) + memo[key]
        used.add(key)
    for key in set(memo) - used:  # forms edited away: keep the memo the size of the catalogue
        del memo[key]
    return out


def fragment_key(entry) -> tuple:
    """Everything of an entry but where it sits in its file: moving an entry does not change its code."""
    return tuple(getattr(entry, f.name) for f in fields(entry) if f.name not in ("file", "line", "_forms"))


def expand_nav(nav: list, families) -> bool:
    """Replace `Reference: reference/index.md` in a MkDocs nav by the index plus one page per family
    (a section of its pages for a family split into parts).

    Changes nav in place; False when the nav has no such entry.
    """
    for i, item in enumerate(nav):
        if isinstance(item, dict):
            (title, value), = item.items()
            if value == "reference/index.md":
                nav[i] = {title: ["reference/index.md"] + [_family_nav(f) for f in families]}
                return True
            if isinstance(value, list) and expand_nav(value, families):
                return True
    return False


def _family_nav(family) -> dict:
    if len(family.parts) == 1:
        return {family.title: f"reference/{family.name}.md"}
    return {family.title: [{sentence(p.title): f"reference/{p.page}.md"} for p in family.parts]}
