"""The Conventions page's table of functions, generated from the function records (`matref._functions`)
so that the page lists exactly what the parser accepts. `docs/conventions.md` holds FUNCTIONS_MARK where
the table goes; the MkDocs glue replaces it."""

from __future__ import annotations

from .._functions import FUNCTIONS, Function

FUNCTIONS_MARK = "<!-- matref:functions -->"

_STYLES = ("operatorname", "mathrm", "text", "textrm")


def _written(record: Function) -> str:
    """How to write the function, shortest forms first: commands, \\operatorname words, other forms."""
    forms = [record.latex] if not record.latex.startswith(r"\left") else []  # the canonical spelling first
    forms += [rf"\{c}" for c in record.commands]
    forms += [rf"\operatorname{{{w}}}" for w in record.words if w not in record.commands]
    if record.greek:
        forms.append(rf"\{record.greek}")
    forms += [w.replace("#1", "t" if record.argument == "scalar" else "X") for w in record.written]
    return ", ".join(f"`{f}`" for f in dict.fromkeys(forms))


def functions_table(records=None) -> str:
    """The Markdown table of every function of the formula language, one row per record."""
    rows = ["| You write | Meaning | Kind | Argument |", "|---|---|---|---|"]
    for r in (records if records is not None else FUNCTIONS.values()):
        rows.append(f"| {_written(r)} | {r.meaning} | {r.kind} | {r.argument} |")
    return "\n".join(rows)
