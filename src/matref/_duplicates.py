"""Identities that are the same up to renaming of symbols.

Two entries state the same identity when their parsed, typed trees (in both layouts) are equal
after renaming every variable, function symbol and size letter in order of first appearance, and the
renamed symbols carry the same declarations (kind, shape, structure such as symmetric or constant).
`A^T B = C` and `X^T Y = Z` are the same; `a^T x` and `x^T a` are not (the trees differ), nor are two
arrangements of one right side (`(A + A^T) x` and `A x + A^T x`): those are restatements a reader
may want, and this test does not claim to find them.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict

from ._errors import CannotCheck, ShapeClash
from ._language import parse_identity
from ._shapes import Dim
from ._tree import Node


class _Renamer:
    def __init__(self, decls):
        self.decls = decls
        self.names: dict[str, str] = {}
        self.dims: dict[str, str] = {}

    def name(self, name: str) -> str:
        if name not in self.names:
            self.names[name] = f"s{len(self.names)}"
        return self.names[name]

    def dim(self, d) -> object:
        if isinstance(d, Dim):
            return ("dim", d.coeff, tuple(sorted(self.size(f) for f in d.factors)))
        return d

    def size(self, letter: str) -> str:
        if letter not in self.dims:
            self.dims[letter] = f"d{len(self.dims)}"
        return self.dims[letter]

    def shape(self, shape) -> tuple:
        return tuple(self.dim(d) for d in shape) if shape is not None else None

    def node(self, n) -> object:
        if isinstance(n, Node):
            fields = []
            for f in dataclasses.fields(n):
                # spelling (shape: renamed above; a sum's written form: its expansion is compared;
                # a Num's value, an integral's bounds and K_{mn}'s sizes are kept)
                if f.name in ("latex", "written", "explicit", "shape", "over", "text", "lo_text", "hi_text"):
                    continue
                value = getattr(n, f.name)
                if f.name == "name" and isinstance(value, str):
                    decl = self.decls.get(value)
                    value = (self.name(value), self.declaration(decl))
                fields.append((f.name, self.node(value)))
            return (type(n).__name__, self.shape(n.shape), tuple(fields))
        if isinstance(n, (tuple, list)):
            return tuple(self.node(x) for x in n)
        return self.dim(n)

    def declaration(self, decl) -> tuple | None:
        if decl is None:
            return None
        return (decl.kind, self.shape(decl.shape), self.shape(decl.domain), decl.value, tuple(sorted(decl.props)))


def canonical(formula: str, where: str, layout: str = "denominator") -> tuple | None:
    """A hashable form of the identity, equal for identities that differ only by renaming symbols;
    None when the formula does not parse (verification reports that)."""
    try:
        ident = parse_identity(formula, where, layout)
    except (CannotCheck, ShapeClash):
        return None
    r = _Renamer(ident.decls)
    return tuple(r.node(side) for side in ident.equation.sides)


def entry_key(entry) -> tuple | None:
    """The canonical form of an entry in both layouts (so the layout it is written in does not matter,
    and a gradient `\\nabla_X f`, the shape of X in both, differs from `\\frac{\\partial f}{\\partial X}`)."""
    keys = tuple(canonical(entry.formula_in(layout), entry.where, layout) for layout in ("denominator", "numerator"))
    return None if None in keys else keys


def duplicate_groups(entries) -> list[list]:
    """Groups of two or more entries that state the same identity up to renaming, in catalogue order."""
    groups: dict[tuple, list] = defaultdict(list)
    for e in entries:
        key = entry_key(e)
        if key is not None:
            groups[key].append(e)
    return [g for g in groups.values() if len(g) > 1]
