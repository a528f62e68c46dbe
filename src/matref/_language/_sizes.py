"""The sizes an identity is checked at: its dimension letters, the fixed ones, the least
each must be, and how many values each index letter takes; the last shape checks of both sides."""

from __future__ import annotations

import math

from .._declarations import Decl
from .._errors import CannotCheck, ShapeClash, Unsupported
from .._latex import latex
from .._plans import size_plans
from .._shapes import Dim, show
from .._functions import FUNCTIONS
from .._tree import Add, Call, Const, Deriv, Entry, Hessian, Mul, Node, Num, Size, Unit


def dimension_letters(sides: list[Node], decls: dict[str, Decl]) -> list[str]:
    """The dimension letters of an identity, declaration order first."""
    names: list[str] = []

    def add(dim: Dim) -> None:
        for f in dim.factors:
            f = f[4:-1] if f.startswith("tri(") else f  # n(n+1)/2 follows from n
            if f not in names:
                names.append(f)

    for d in decls.values():
        for shape in (d.shape, d.domain):
            for dim in shape or ():
                add(dim)
    for side in sides:
        for node in side.walk():
            for dim in node.shape:
                add(dim)
    return names


def fixed_sizes(letters: list[str], decls: dict[str, Decl]) -> dict[str, int]:
    """Dimension letters given a size in the where clause (`n = 2`)."""
    fixed = {}
    for name in letters:
        decl = decls.get(name)
        if decl is not None and decl.kind == "const":
            if decl.value < 1:
                raise CannotCheck(f"{decl.latex} = {decl.value}: a size must be at least 1")
            fixed[name] = decl.value
    return fixed


MAX_LETTERS = 11


def assign_sizes(sides: list[Node], decls: dict[str, Decl]) -> tuple[dict[str, int], ...]:
    """The size plans of an identity (see `_plans`): several sizes per free dimension letter."""
    letters = dimension_letters(sides, decls)
    if len(letters) > MAX_LETTERS:
        raise Unsupported(f"too many dimension letters ({len(letters)}); at most {MAX_LETTERS}")
    return size_plans(letters, fixed_sizes(letters, decls), minimum_sizes(sides))


def _constant(node: Node, sizes: dict[str, int] | None = None) -> float | None:
    """The value of a node built from numbers (and, given `sizes`, sizes such as the n of a sum's
    bound) alone, e.g. the exponent -2; else None."""
    if isinstance(node, Num):
        return node.value
    if isinstance(node, Size):
        return None if sizes is None else float(sizes[node.name])
    if isinstance(node, Const) and node.which == "0":
        return 0.0
    if isinstance(node, Add):
        values = [_constant(t, sizes) for _, t in node.terms]
        return None if None in values else sum(s * v for (s, _), v in zip(node.terms, values))
    if isinstance(node, Mul):
        values = [_constant(f, sizes) for f in node.factors]
        return None if None in values else math.prod(values)
    return None


def _entry_dims(node: Entry) -> tuple[Dim, ...]:
    """The dimensions an entry's indices run over (one for a vector, two for a matrix)."""
    shape = node.var.shape
    if len(node.indices) == 2:
        return shape
    return (shape[0],) if shape[1].is_one else (shape[1],)


def minimum_sizes(sides: list[Node]) -> dict[str, int]:
    """Sizes a letter needs at least, so that fixed entries such as M_{23} exist (n >= 3)."""
    least: dict[str, int] = {}
    for side in sides:
        for node in side.walk():
            if isinstance(node, Entry):
                for index, dim in zip(node.indices, _entry_dims(node)):
                    if isinstance(index, int) and dim.coeff == 1 and len(dim.factors) == 1:
                        least[dim.factors[0]] = max(least.get(dim.factors[0], 2), index)
            if isinstance(node, Call) and isinstance(node.index, int):  # \sigma_3(X): both sides at least 3
                for dim in node.arg.shape:
                    if dim.coeff == 1 and len(dim.factors) == 1:
                        least[dim.factors[0]] = max(least.get(dim.factors[0], 2), node.index)
    return least


def index_ranges(sides: list[Node], sizes: dict[str, int]) -> dict[str, int]:
    """How many values each index letter (of X_{ij}, J^{ij}) takes, from the sizes it indexes."""
    ranges: dict[str, int] = {}

    def claim(letter: str, size: int) -> None:
        if ranges.setdefault(letter, size) != size:
            raise ShapeClash(f"the index {letter} runs over {ranges[letter]} values in one place "
                             f"and {size} in another")

    for side in sides:
        for node in side.walk():
            if isinstance(node, Entry):
                for letter, dim in zip(node.indices, _entry_dims(node)):
                    if isinstance(letter, int):
                        if letter > dim.size(sizes):
                            raise ShapeClash(f"{latex(node)}: the index {letter} exceeds the size "
                                             f"{dim.size(sizes)} of {latex(node.var)}")
                        continue
                    claim(letter, dim.size(sizes))
            elif isinstance(node, Unit):
                for letter, dim in zip(node.indices, node.shape):
                    claim(letter, dim.size(sizes))
            elif isinstance(node, Call) and node.index is not None:  # \lambda_i(X): i runs over n
                rows, cols = (d.size(sizes) for d in node.arg.shape)
                count = FUNCTIONS[node.fn].index_range(rows, cols)
                if isinstance(node.index, str):
                    claim(node.index, count)
                elif not 1 <= node.index <= count:
                    raise ShapeClash(f"{latex(node)}: the index {node.index} is not between 1 and {count}")
    return ranges


def check_sides(sides: list[Node], sizes: dict[str, int]) -> None:
    """At one size plan: every size is known, and the sides have one shape (else the identity is false)."""
    for side in sides:
        for node in side.walk():
            if not all(d.known for d in node.shape):
                raise CannotCheck(f"cannot infer the size of {latex(node)}; write it where its size is clear")
    for a, b in zip(sides, sides[1:]):
        if a.shape != b.shape:
            left = "the derivative" if isinstance(a, (Deriv, Hessian)) else "the left side"
            raise ShapeClash(f"the right side {latex(b)} is {show(b.shape, sizes)} but {left} "
                             f"{latex(a)} is {show(a.shape, sizes)}")
