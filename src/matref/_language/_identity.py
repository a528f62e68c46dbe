"""parse_identity: formula and where clause in, a typed and size-planned Identity out."""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass

from .. import _syntax
from .._declarations import Decl, parse_where
from .._errors import CannotCheck
from .._tree import Equation, Node
from ._resolver import _Resolver
from ._sizes import assign_sizes, check_sides, index_ranges


LAYOUTS = ("denominator", "numerator")


@dataclass
class Identity:
    """A parsed identity: the typed equation, its declarations and the sizes used to check it."""

    formula: str
    where: str
    layout: str
    equation: Equation
    decls: dict[str, Decl]
    sizes: dict[str, int]  # the first size plan: the sizes snippets and messages use
    indices: dict[str, int] = dataclasses.field(default_factory=dict)  # index letter -> how many values
    plans: tuple[dict[str, int], ...] = ()  # every size assignment the check draws (see _plans)
    plan_indices: tuple[dict[str, int], ...] = ()  # `indices` at each plan
    plan_sides: tuple[list[Node], ...] = ()  # the sides at each plan (they differ for a sum up to n)
    notes: tuple[str, ...] = ()  # readings chosen where the notation was ambiguous
    size_dependent: bool = False  # a sum runs up to a size: the sides differ from size to size


def sides_at(ident: Identity, sizes: dict[str, int]) -> list[Node]:
    """The identity's sides at `sizes` (any sizes, not only its plans'): a sum up to a size is
    expanded anew for them."""
    if not ident.size_dependent:
        return ident.equation.sides
    return _Resolver(ident.decls, ident.layout, ident.formula, sizes).equation(_syntax.parse(ident.formula))


@functools.lru_cache(maxsize=4096)
def parse_identity(formula: str, where: str = "", layout: str = "denominator") -> Identity:
    """Parse and type-check `formula` under the declarations `where`, in `layout`.

    Raises CannotCheck (syntax, undeclared symbols, unsupported notation) or ShapeClash
    (the identity is false as written because something does not conform). The result is cached
    and shared: treat its tree as read-only.
    """
    if layout not in LAYOUTS:
        raise CannotCheck(f"unknown layout {layout!r}; use 'denominator' or 'numerator'")
    decls = parse_where(where)
    tree = _syntax.parse(formula)
    try:
        resolver = _Resolver(decls, layout, formula)
        sides = resolver.equation(tree)
    except RecursionError:  # pragma: no cover - bounded by _syntax.MAX_DEPTH
        raise CannotCheck("the formula is nested too deeply") from None
    plans = assign_sizes(sides, decls)
    plan_sides = (sides,) * len(plans)
    if resolver.size_dependent:  # a sum up to a size: its expansion differs from plan to plan
        plan_sides = tuple(_Resolver(decls, layout, formula, plan).equation(tree) for plan in plans)
        sides = plan_sides[0]
    for each, plan in zip(plan_sides, plans):
        check_sides(each, plan)
    return Identity(formula, where or "", layout, Equation(sides, layout), decls, plans[0],
                    index_ranges(sides, plans[0]), plans,
                    tuple(index_ranges(each, plan) for each, plan in zip(plan_sides, plans)), plan_sides,
                    tuple(resolver.notes), resolver.size_dependent)
