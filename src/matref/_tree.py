"""The typed expression tree. Every node has a `shape` (rows, cols) of symbolic dimensions,
filled in by `_language` and final once parsing succeeds. Vectors are n×1 (or 1×n) matrices and
scalars are 1×1, as on paper."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass
from typing import Iterator

from ._shapes import SCALAR, Shape


@dataclass(eq=False)
class Node:
    shape: Shape = field(default=SCALAR, init=False, repr=False)

    def children(self) -> tuple["Node", ...]:
        return ()

    def walk(self) -> Iterator["Node"]:
        """This node and all nodes below it, parents first."""
        yield self
        for c in self.children():
            yield from c.walk()


@dataclass(eq=False)
class Var(Node):
    """A declared variable. `name` is its key in the declarations; `latex` how it is written."""

    name: str
    latex: str


@dataclass(eq=False)
class FnValue(Node):
    """A declared function symbol's value at `arg` (e.g. u(x))."""

    name: str
    latex: str
    arg: Node
    explicit: bool = False  # written as u(x) rather than u

    def children(self):
        return (self.arg,)


@dataclass(eq=False)
class Num(Node):
    value: float
    text: str


@dataclass(eq=False)
class Const(Node):
    """`I` (identity), `0` (zeros), `1` (ones vector `\\mathbf{1}`), `pi`; shapes from context."""

    which: str


@dataclass(eq=False)
class Entry(Node):
    """X_{ij} (or x_i, (AB)_{ij}, M_{23}): one entry of a value. `var` is a declared variable (which
    may then be differentiated by) or any matrix expression. `indices` are index letters, over
    whose every value the check runs, or fixed 1-based integers."""

    var: Node
    indices: tuple[str | int, ...]

    def children(self):
        return (self.var,)


@dataclass(eq=False)
class Size(Node):
    """A dimension letter used as a number (the n of 1/n when x is in R^n): the size drawn."""

    name: str


@dataclass(eq=False)
class Unit(Node):
    """J^{ij}: the single-entry matrix, 1 at (i, j) and 0 elsewhere; its size comes from context."""

    indices: tuple[str, str]


@dataclass(eq=False)
class SumOver:
    """How a sum was written, \\sum_{index=lower}^{upper} body, with the index free in `body` (its
    subscripts such as u_i(X) keep the letter). Kept beside the expansion so that the sum can be
    written again (in the other layout) for every size, not only for the size it was expanded at.
    `body` is None where the terms cannot be written with a free index (X^{r} needs a number)."""

    index: str
    lower: "Node"  # the bounds, built from numbers and sizes
    upper: "Node"
    body: "Node | None"
    sized: bool  # a bound is a size (n): the expansion differs from size to size


@dataclass(eq=False)
class Pattern(Node):
    """A 0/1 matrix fixed by sizes: `K` the commutation matrix K_{mn} (mn×mn, K vec A = vec Aᵀ for an
    m×n A; dims (m, n)) or `D` the duplication matrix D_n (n²×n(n+1)/2, D vech S = vec S for a
    symmetric S; dims (n,)). `text` is its subscript as written."""

    which: str
    dims: tuple
    text: str


@dataclass(eq=False)
class Block(Node):
    """A block matrix (\\begin{bmatrix} X & E \\\\ 0 & X \\end{bmatrix}): `rows` of blocks, all of one shape."""

    rows: tuple

    def children(self):
        return tuple(b for row in self.rows for b in row)


@dataclass(eq=False)
class Param(Node):
    """The variable of an enclosing integral (the a of \\int_0^1 ... \\,\\mathrm{d}a): a scalar whose
    value the integral's quadrature sets (`Ctx.indices`)."""

    name: str


@dataclass(eq=False)
class Integral(Node):
    """\\int_{lo}^{hi} body \\,\\mathrm{d}var over a finite interval, evaluated by Gauss-Legendre
    quadrature (`_numeric`)."""

    var: str
    body: Node
    lo: float
    hi: float
    lo_text: str = "0"
    hi_text: str = "1"

    def children(self):
        return (self.body,)


@dataclass(eq=False)
class Add(Node):
    terms: tuple[tuple[int, Node], ...]  # (sign, term)
    over: SumOver | None = None  # set when this is the expansion of a \\sum (the terms are its terms)

    def children(self):
        return tuple(t for _, t in self.terms)


@dataclass(eq=False)
class Mul(Node):
    """Juxtaposition: matrix product, or scaling where a factor is 1×1."""

    factors: tuple[Node, ...]

    def children(self):
        return self.factors


@dataclass(eq=False)
class Binary(Node):
    """`kron` (⊗) or `hadamard` (⊙, ∘)."""

    op: str
    left: Node
    right: Node

    def children(self):
        return (self.left, self.right)


@dataclass(eq=False)
class Transpose(Node):
    x: Node

    def children(self):
        return (self.x,)


@dataclass(eq=False)
class Inverse(Node):
    x: Node

    def children(self):
        return (self.x,)


@dataclass(eq=False)
class Power(Node):
    """x^p: a matrix power for an integer p, or a scalar power."""

    x: Node
    p: Node

    def children(self):
        return (self.x, self.p)


@dataclass(eq=False)
class Div(Node):
    """\\frac{num}{den} with a scalar denominator."""

    num: Node
    den: Node

    def children(self):
        return (self.num, self.den)


@dataclass(eq=False)
class Call(Node):
    """A named function; `fn` names its record in `_functions.FUNCTIONS` (tr, det, abs, log, exp,
    sin, cos, tan, tanh, sigmoid, sqrt, vec, vech, diag, expm, sinm, cosm, sqrtm, logm, adj, and the
    decompositions). `index` picks one of several results, as the i of \\lambda_i(X): an index letter, over
    whose every value the check runs, or a fixed 1-based integer; None for a function that takes none."""

    fn: str
    arg: Node
    index: str | int | None = None

    def children(self):
        return (self.arg,)


@dataclass(eq=False)
class Norm(Node):
    """‖x‖ with p in {'2', '1', 'F', '*'} ('2' of a matrix is the spectral norm, '*' the nuclear norm)."""

    x: Node
    p: str

    def children(self):
        return (self.x,)


@dataclass(eq=False)
class Deriv(Node):
    """∂f/∂wrt laid out in `layout` ('denominator' or 'numerator'); `written` records how the
    source spelled it ('frac', 'frac-T' for ∂/∂x^T, 'nabla', 'nabla-T', 'd', 'op')."""

    f: Node
    wrt: Node  # Var, FnValue or Call('vec', Var)
    layout: str
    written: str = "frac"

    def children(self):
        return (self.f, self.wrt)


@dataclass(eq=False)
class Hessian(Node):
    """∂²f/∂a∂bᵀ: entry (i, j) = ∂²f/∂a_i∂b_j. The same in both layouts."""

    f: Node
    a: Node
    b: Node
    written: str = "frac"

    def children(self):
        return (self.f, self.a, self.b)


@dataclass(eq=False)
class Differential(Node):
    """∂(x): the directional derivative of x along the random directions of the varying symbols."""

    x: Node

    def children(self):
        return (self.x,)


@dataclass
class Equation:
    """A chain of sides that must all be equal: `sides[0] = sides[1] = ...`."""

    sides: list[Node]
    layout: str


def same_variable(a: Node, b: Node) -> bool:
    """Whether two variables of differentiation name the same thing (x and x, vec(X) and vec(X))."""
    if isinstance(a, Var) and isinstance(b, Var):
        return a.name == b.name
    if isinstance(a, FnValue) and isinstance(b, FnValue):
        return a.name == b.name
    if isinstance(a, Call) and isinstance(b, Call):
        return a.fn == b.fn and same_variable(a.arg, b.arg)
    if isinstance(a, Entry) and isinstance(b, Entry):
        return a.var.name == b.var.name and a.indices == b.indices
    return a is b


def structure(x) -> tuple:
    """A hashable key of a tree: equal for two trees exactly when every node has the same type, the
    same fields and the same shape (nodes themselves compare by identity). Raises TypeError on a
    field of a kind it does not know, so that nothing unknown can make two different trees equal."""
    if is_dataclass(x) and not isinstance(x, type):
        return (type(x).__qualname__, *((f.name, structure(getattr(x, f.name))) for f in fields(x)))
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, *map(structure, x))
    if isinstance(x, float):
        return ("float", repr(x))  # repr tells -0.0 from 0.0, which == does not
    if x is None or isinstance(x, (str, int)):  # bool is an int: the type name keeps True from 1
        return (type(x).__name__, x)
    raise TypeError(f"no structural key for a {type(x).__name__}")
