"""Symbolic dimensions and shapes, with unification for `I`, `0` and `\\mathbf{1}`, whose sizes
come from context."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Dim:
    """A dimension: `coeff` times the product of named sizes (`("m", "n")` is mn).

    Names starting with "?" are unknowns still to be inferred.
    """

    coeff: int = 1
    factors: tuple[str, ...] = ()

    def __mul__(self, other: "Dim") -> "Dim":
        return Dim(self.coeff * other.coeff, tuple(sorted(self.factors + other.factors)))

    @property
    def is_one(self) -> bool:
        return self.coeff == 1 and not self.factors

    @property
    def known(self) -> bool:
        return not any(f.startswith("?") for f in self.factors)

    def size(self, sizes: dict[str, int]) -> int:
        """The concrete size when each named dimension has the size `sizes[name]`."""
        return self.coeff * math.prod(_factor_size(f, sizes) for f in self.factors)

    def __str__(self) -> str:
        body = "".join(f if len(f) == 1 else f"[{f[4:-1]}({f[4:-1]}+1)/2]" if f.startswith("tri(")
                       else f"({f})" for f in self.factors)
        if not body:
            return str(self.coeff)
        return body if self.coeff == 1 else f"{self.coeff}{body}"


def triangular(n: "Dim") -> "Dim | None":
    """n(n+1)/2, the length of vech of an n×n matrix (None if n is not a plain size)."""
    if not n.factors:
        return Dim(n.coeff * (n.coeff + 1) // 2)
    if n.coeff == 1 and len(n.factors) == 1 and not n.factors[0].startswith("?"):
        return Dim(1, (f"tri({n.factors[0]})",))
    return None


def _factor_size(f: str, sizes: dict[str, int]) -> int:
    if f.startswith("tri("):
        k = sizes[f[4:-1]]
        return k * (k + 1) // 2
    return sizes[f]


ONE = Dim(1)
Shape = tuple[Dim, Dim]
SCALAR: Shape = (ONE, ONE)


def show(shape: Shape, sizes: dict[str, int] | None = None) -> str:
    """`n×m`, or `n×m (3×4)` when concrete sizes are known."""
    text = f"{shape[0]}×{shape[1]}"
    if sizes and all(d.known for d in shape) and any(d.factors for d in shape):
        text += f" ({shape[0].size(sizes)}×{shape[1].size(sizes)})"
    return text


def kind(shape: Shape) -> str:
    """'scalar', 'vector' (n×1 or 1×n) or 'matrix'."""
    ones = sum(d.is_one for d in shape)
    return "scalar" if ones == 2 else "vector" if ones == 1 else "matrix"


class Unifier:
    """Binds unknown dimensions (`?1`, `?2`, ...) to the dimensions they must equal."""

    def __init__(self) -> None:
        self._bound: dict[str, Dim] = {}
        self._count = itertools.count(1)

    def fresh(self) -> Dim:
        return Dim(1, (f"?{next(self._count)}",))

    def resolve(self, d: Dim) -> Dim:
        out = Dim(d.coeff)
        for f in d.factors:
            bound = self._bound.get(f)
            out = out * (self.resolve(bound) if bound is not None else Dim(1, (f,)))
        return out

    def resolve_shape(self, s: Shape) -> Shape:
        return (self.resolve(s[0]), self.resolve(s[1]))

    def unify(self, a: Dim, b: Dim) -> bool:
        a, b = self.resolve(a), self.resolve(b)
        if a == b:
            return True
        for x, y in ((a, b), (b, a)):
            if x.coeff == 1 and len(x.factors) == 1 and x.factors[0].startswith("?"):
                self._bound[x.factors[0]] = y  # a bare unknown takes whatever it meets
                return True
        for x, y in ((a, b), (b, a)):
            unknown = [f for f in x.factors if f.startswith("?")]
            if len(unknown) != 1 or not y.known:
                continue
            # x = c·u·(rest) must equal y: bind u = y / (c·rest) when that division is exact.
            rest = list(x.factors)
            rest.remove(unknown[0])
            left = list(y.factors)
            if y.coeff % x.coeff or any(f not in left or left.remove(f) for f in rest):
                continue
            self._bound[unknown[0]] = Dim(y.coeff // x.coeff, tuple(left))
            return True
        return False

    def unify_shapes(self, a: Shape, b: Shape) -> bool:
        return self.unify(a[0], b[0]) and self.unify(a[1], b[1])
