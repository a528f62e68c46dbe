"""The Conventions page's tables of functions and operators, generated from their records
(`matref._functions`, `matref._operators`) so that the page lists exactly what the parser accepts.
`docs/conventions.md` holds FUNCTIONS_MARK and OPERATORS_MARK where the tables go; the MkDocs glue
replaces them."""

from __future__ import annotations

from .._functions import FUNCTIONS, Function
from .._operators import OPERATORS

FUNCTIONS_MARK = "<!-- matref:functions -->"
OPERATORS_MARK = "<!-- matref:operators -->"

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


def operators_table(records=None) -> str:
    """The Markdown table of every infix operator of the formula language, one row per record."""
    rows = ["| You write | Meaning | Operands |", "|---|---|---|"]
    for op in (records if records is not None else OPERATORS.values()):
        written = " or ".join(f"`A \\{c} B`" for c in op.commands)
        rows.append(f"| {written} | {op.meaning} | {op.operands} |")
    return "\n".join(rows)
