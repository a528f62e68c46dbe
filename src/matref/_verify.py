"""Verify catalogue entries: each identity in both layouts, and each erratum's wrong form refuted."""

from __future__ import annotations

from dataclasses import dataclass, field

from ._catalogue import Entry
from ._check import Verdict, check
from ._language import LAYOUTS


@dataclass
class EntryResult:
    """What verifying one entry found. `ok` is True when everything is as the catalogue claims."""

    entry: Entry
    layouts: dict[str, Verdict] = field(default_factory=dict)
    wrong: Verdict | None = None
    snippet_errors: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        out = [f"{layout} layout: {v.status}: {v.message}" for layout, v in self.layouts.items() if not v.holds]
        if self.wrong is not None and self.wrong.status != "refuted":
            out.append(f"the wrong form ({self.entry.wrong_source}) is not refuted: {self.wrong.status}: "
                       f"{self.wrong.message}")
        return out + self.snippet_errors

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_entry(entry: Entry, seed: int = 0) -> EntryResult:
    """Check `entry` in both layouts (and its wrong form, for an erratum)."""
    result = EntryResult(entry)
    for layout in LAYOUTS:
        result.layouts[layout] = check(entry.formula_in(layout), entry.where, layout, seed=seed)
    if entry.wrong_form is not None:
        formula, where, layout = entry.wrong_form
        result.wrong = check(formula, where, layout, seed=seed)
    return result

