"""Array code with 1-D vectors, as NumPy and JAX users write it: the translation of a typed tree
that every snippet dialect uses.

Vectors are 1-D arrays (a row vector too: NumPy's `@` and `np.outer` know which product is meant,
because the tree's shapes do), scalars plain numbers, matrices 2-D. Where a standard numerically
stable form exists it is used: softmax and row-wise softmax shifted by the maximum, log-sum-exp,
softplus as `np.logaddexp`, the logistic sigmoid without overflow; the helpers are in `HELPERS`.

- `_Gen1`: closed forms (what the NumPy function returns); derivatives and unknown functions raise
  `_NoFunction`.
- `_Script1`: the same for a self-contained script, which also defines function symbols and may
  hold integrals and sums written out. The JAX check (`jax_check._Jax1`) adds derivatives.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .._functions import FUNCTIONS, HELPERS as FUNCTION_HELPERS, Code, NoCode, helper_code
from .._language._sizes import _constant
from .._operators import OPERATORS
from .._shapes import Dim, kind
from .._tree import (Add, Binary, Block, Call, Const, Deriv, Differential, Div, Entry, FnValue, Hessian, Integral, Inverse,
                     Mul, Node, Norm, Num, Param, Pattern, Power, Size, Transpose, Unit, Var)
from ._common import (GAUSS_LEGENDRE, P_ADD, P_ATOM, P_MUL, P_POW, P_UNARY, PATTERNS, QUAD_NODES, UnsupportedNode,
                      _Code, _Gen, _ident, fill, infix, operand)

HELPERS = {
    "softmax": '''def softmax(z):
    """exp(z) / sum(exp(z)) for a 1-D z, shifted by max(z) so that exp cannot overflow."""
    e = np.exp(z - np.max(z))
    return e / np.sum(e)''',
    "softmax_rows": '''def softmax_rows(Z):
    """The softmax of each row of Z, shifted by the row's maximum so that exp cannot overflow."""
    E = np.exp(Z - np.max(Z, axis=1, keepdims=True))
    return E / np.sum(E, axis=1, keepdims=True)''',
    "logsumexp": '''def logsumexp(z):
    """log(sum(exp(z))), shifted by max(z) so that exp cannot overflow."""
    m = np.max(z)
    return m + np.log(np.sum(np.exp(z - m)))''',
    "sigmoid": '''def sigmoid(t):
    """1 / (1 + exp(-t)) as exp(-log(1 + exp(-t))): no overflow, full precision for both signs of t."""
    return np.exp(-np.logaddexp(0, -t))''',
    **PATTERNS,  # commutation (K) and duplication (D) matrices
}
HELPERS.update({name: helper_code(name, "np") for name in FUNCTION_HELPERS})  # eigenvector, ...


class _NoFunction(Exception):
    """The closed form needs something a plain NumPy function cannot take (a derivative, an
    unknown function symbol)."""


def _form(node: Node) -> str:
    """How a node's value is held: 'scalar' (a float), 'col' or 'row' (both 1-D) or 'matrix'."""
    k = kind(node.shape)
    if k == "vector":
        return "col" if node.shape[1].is_one else "row"
    return k


def _sum_of_exp(node: Node) -> Node | None:
    """`a` when node is 1ᵀexp(a) (the sum of exp over a vector a), else None."""
    if isinstance(node, Mul) and len(node.factors) == 2:
        one, e = node.factors
        if isinstance(one, Transpose) and isinstance(one.x, Const) and one.x.which == "1" \
                and isinstance(e, Call) and e.fn == "exp" and _form(e) == "col":
            return e.arg
    return None


def _is_ones(node: Node) -> bool:
    """Whether node is all ones: 1, 1ᵀ or 1 1ᵀ."""
    if isinstance(node, Const):
        return node.which == "1"
    if isinstance(node, Transpose):
        return _is_ones(node.x)
    return isinstance(node, Mul) and all(_is_ones(f) for f in node.factors)


def _is_ones_row(node: Node) -> bool:
    return isinstance(node, Transpose) and isinstance(node.x, Const) and node.x.which == "1"


def _is_ones_col(node: Node) -> bool:
    return isinstance(node, Const) and node.which == "1" and _form(node) == "col"


def _times(a, b):
    """The shape of a product: a 1×1 factor scales the other."""
    return b if kind(a) == "scalar" else a if kind(b) == "scalar" else (a[0], b[1])


def _chain_shape(factors: list[Node]):
    shape = factors[0].shape
    for f in factors[1:]:
        shape = _times(shape, f.shape)
    return shape


def _scalar_segments(factors: list[Node]) -> list[list[Node]]:
    """Cut a product where the running product is 1×1: `1ᵀX1 · 2 · 11ᵀ` is three segments, each a
    matrix product of its own (a lone scalar factor is one too)."""
    segments, current, shape = [], [], None
    for f in factors:
        current.append(f)
        shape = f.shape if shape is None else _times(shape, f.shape)
        if kind(shape) == "scalar":
            segments.append(current)
            current, shape = [], None
    return segments + ([current] if current else [])


def _product_of(factors: list[Node]) -> Node:
    """The product of `factors` as one node."""
    if len(factors) == 1:
        return factors[0]
    node = Mul(tuple(factors))
    node.shape = _chain_shape(factors)
    return node


def _row_sums_of_exp(node: Node) -> Node | None:
    """`A` when node is exp(A)1 (the row sums of exp over a matrix A), else None."""
    if isinstance(node, Mul) and len(node.factors) == 2:
        e, one = node.factors
        if isinstance(e, Call) and e.fn == "exp" and _form(e) == "matrix" \
                and isinstance(one, Const) and one.which == "1":
            return e.arg
    return None


@dataclass
class _Gen1(_Gen):
    """Array code with 1-D vectors and float scalars (the tree's n×1, 1×n and 1×1 made plain)."""

    label: str = "NumPy function"  # the dialect named in an error (UnsupportedNode)
    letters: list[str] = field(default_factory=list)  # dimension letters the code uses
    used: set[str] = field(default_factory=set)  # helpers the code calls
    subst: dict[int, str] = field(default_factory=dict)  # id(node) -> code replacing it (stable forms)

    @property
    def dialect(self) -> str:
        return self.label

    def dim(self, d: Dim) -> str:
        for f in d.factors:
            letter = f[4:-1] if f.startswith("tri(") else f
            if letter not in self.letters:
                self.letters.append(letter)
        return super().dim(d)

    def same(self, a: Node, b: Node) -> bool:
        """Whether two subtrees are the same expression (their code is generated deterministically)."""
        return _form(a) == _form(b) and self.expr(a, {}).text == self.expr(b, {}).text

    def expr(self, node: Node, bound: dict[str, str]) -> _Code:  # noqa: C901 - one case per node type
        if id(node) in self.subst:
            return _Code(self.subst[id(node)])
        form = _form(node)
        if isinstance(node, (Deriv, Hessian, Differential, FnValue)):
            raise _NoFunction(type(node).__name__)
        if isinstance(node, Entry):  # X_{ij}, c_i (a written number is 1-based; vectors are 1-D here)
            at = ", ".join(str(i - 1) if isinstance(i, int) else i for i in node.indices)
            return _Code(f"{self.expr(node.var, bound).wrap(P_ATOM)}[{at}]")
        if isinstance(node, Var):
            return _Code(bound.get(node.name, _ident(node.name)))
        if isinstance(node, Size):  # a dimension letter as a number: the function reads it off an argument
            return _Code(self.dim(Dim(1, (node.name,))))
        if isinstance(node, Pattern):
            self.used.add(node.which)
            name = "commutation" if node.which == "K" else "duplication"
            return _Code(f"{name}({', '.join(self.dim(d) for d in node.dims)})")
        if isinstance(node, Num):
            v = node.value
            return _Code(str(int(v)) if v == int(v) else repr(v))
        if isinstance(node, Size):  # the n of 1/n: read off an argument's shape like every size
            return _Code(self.dim(Dim(1, (node.name,))))
        if isinstance(node, Const):
            if node.which == "pi":
                return _Code(f"{self.xp}.pi")
            if node.which == "i":
                return _Code("1j")
            if node.which == "I":
                return _Code(f"{self.xp}.eye({self.dim(node.shape[0])})")
            if form == "scalar":
                return _Code("1.0" if node.which == "1" else "0.0")
            size = self.shape(node) if form == "matrix" else self.dim(node.shape[0 if form == "col" else 1])
            return _Code(f"{self.xp}.{'ones' if node.which == '1' else 'zeros'}({size})")
        if isinstance(node, Unit):
            i, j = node.indices
            if form == "matrix":
                return _Code(f"{self.xp}.outer({self.xp}.eye({self.dim(node.shape[0])})[{i}], {self.xp}.eye({self.dim(node.shape[1])})[{j}])")
            return _Code(f"{self.xp}.eye({self.dim(node.shape[0] if form == 'col' else node.shape[1])})"
                         f"[{i if form == 'col' else j}]")
        if isinstance(node, Add) and node.over is not None and node.over.sized:
            return self.summation(node, bound)
        if isinstance(node, Add):
            parts = []
            plain = any(not _is_ones(t) for _, t in node.terms)  # then all-ones terms broadcast as 1
            for n, (sign, term) in enumerate(node.terms):
                text = "1" if plain and form != "scalar" and _is_ones(term) else self.expr(term, bound).wrap(P_MUL)
                parts.append(("-" if sign < 0 else "") + text if n == 0 else ("- " if sign < 0 else "+ ") + text)
            return _Code(" ".join(parts), P_ADD)
        if isinstance(node, Mul):
            return self.product(node, bound)
        if isinstance(node, Binary):
            return self.binary(node, bound)
        if isinstance(node, Transpose):
            if isinstance(node.x, Transpose):
                return self.expr(node.x.x, bound)
            if isinstance(node.x, Const) and node.x.which == "I":
                return self.expr(node.x, bound)
            c = self.expr(node.x, bound)
            return _Code(f"{c.wrap(P_ATOM)}.T") if form == "matrix" else c  # a 1-D array has no orientation
        if isinstance(node, Inverse):
            c = self.expr(node.x, bound)
            return _Code(f"1 / {c.wrap(P_UNARY)}", P_MUL) if form == "scalar" else _Code(f"{self.xp}.linalg.inv({c.text})")
        if isinstance(node, Power):
            base = self.expr(node.x, bound)
            if form == "scalar":
                return _Code(f"{base.wrap(P_ATOM)} ** {self.expr(node.p, bound).wrap(P_ATOM)}", P_POW)
            p = int(node.p.value)
            if p in (0, 1):  # what the sums of the power rules expand to at their ends
                return _Code(f"{self.xp}.eye({self.dim(node.shape[0])})") if p == 0 else base
            return _Code(f"{self.xp}.linalg.matrix_power({base.text}, {p})")
        if isinstance(node, Div):
            return self.division(node, bound)
        if isinstance(node, Call):
            return self.call(node, bound)
        if isinstance(node, Norm):
            a = self.expr(node.x, bound)
            order = {"2": ", 2" if _form(node.x) == "matrix" else "", "1": ", 1", "F": "", "*": ', "nuc"'}.get(node.p)
            if order is None:
                raise UnsupportedNode(f"the norm ‖·‖_{node.p}", self.dialect)
            return _Code(f"{self.xp}.linalg.norm({a.text}{order})")
        raise UnsupportedNode(f"the node {type(node).__name__}", self.dialect)

    def summation(self, node: Add, bound: dict[str, str]) -> _Code:
        """A sum up to a size as Python's sum over a range, so that the function serves every size.
        The index letter is 0-based in the code (as an indexed function's index is); where the terms
        use it as a number it is written (i + 1)."""
        o = node.over
        if o.body is None:
            raise _NoFunction("a sum up to a size whose terms need the index as a number")
        for n in o.body.walk():
            if isinstance(n, Var) and n.name == o.index:
                self.subst[id(n)] = f"({o.index} + 1)"
        body = self.expr(o.body, bound)
        first = _constant(o.lower)
        lower = str(int(first) - 1) if first is not None else f"{self.bound(o.lower)} - 1"
        return _Code(f"sum({body.text} for {o.index} in range({lower}, {self.bound(o.upper)}))")

    def bound(self, node: Node) -> str:
        """A sum's bound (numbers and sizes) as code."""
        if _constant(node) is not None:
            return str(int(_constant(node)))
        if isinstance(node, Size):
            return self.dim(Dim(1, (node.name,)))
        if isinstance(node, Add):
            text = " ".join(("- " if s < 0 else "+ ") + self.bound(t) for s, t in node.terms)
            return "(" + text.removeprefix("+ ") + ")"
        if isinstance(node, Mul):
            return "(" + " * ".join(self.bound(f) for f in node.factors) + ")"
        raise UnsupportedNode(f"the bound {type(node).__name__} of a sum", self.dialect)

    def product(self, node: Mul, bound: dict[str, str]) -> _Code:
        """A chain of factors with `@`, `*` (a scalar factor) or `np.outer` (column times row)."""
        segments = _scalar_segments(list(node.factors))
        if len(segments) == 1:
            return self.chain(segments[0], bound)
        return _Code(" * ".join(self.chain(seg, bound).wrap(P_UNARY) for seg in segments), P_MUL)

    def chain(self, factors: list[Node], bound: dict[str, str]) -> _Code:
        """Factors whose running product is never 1×1 before the end (see _scalar_segments)."""
        # Sums written as products with ones: 1ᵀv, 1ᵀM (column sums), M1 (row sums), vᵀ1. As np.sum
        # they need no size and read as what they are.
        if len(factors) >= 2 and _is_ones_row(factors[0]) and not _is_ones(factors[1]):
            rest = _product_of(factors[1:])
            if _form(rest) in ("col", "matrix"):
                axis = "" if _form(rest) == "col" else ", axis=0"
                return _Code(f"{self.xp}.sum({self.expr(rest, bound).text}{axis})")
        if len(factors) >= 2 and _is_ones_col(factors[-1]) and not _is_ones(factors[-2]):
            rest = _product_of(factors[:-1])
            if _form(rest) in ("row", "matrix"):
                axis = "" if _form(rest) == "row" else ", axis=1"
                return _Code(f"{self.xp}.sum({self.expr(rest, bound).text}{axis})")
        factors = list(factors)
        i = 0
        while i < len(factors) - 1:  # diag(exp(A)1)⁻¹ exp(A): the row-wise softmax of A
            f, g = factors[i], factors[i + 1]
            if isinstance(f, Inverse) and isinstance(f.x, Call) and f.x.fn == "diag" \
                    and (a := _row_sums_of_exp(f.x.arg)) is not None \
                    and isinstance(g, Call) and g.fn == "exp" and self.same(g.arg, a):
                self.used.add("softmax_rows")
                self.subst[id(g)] = f"softmax_rows({self.expr(a, bound).text})"
                del factors[i]
            i += 1
        if len(factors) == 1:
            return self.expr(factors[0], bound)
        first = self.expr(factors[0], bound)
        text, prec, acc = first.wrap(P_MUL), P_MUL, _form(factors[0])
        for n, f in enumerate(factors[1:]):
            if n == 0:
                text = first.text if acc == "col" and _form(f) == "row" else text  # an argument of np.outer
            c, ff = self.expr(f, bound), _form(f)
            if acc == "scalar" or ff == "scalar":
                text, prec, acc = f"{text} * {c.wrap(P_UNARY)}", P_MUL, ff if acc == "scalar" else acc
            elif acc == "col" and ff == "row":  # `@` of two 1-D arrays is the inner product: say outer
                text, prec, acc = f"{self.xp}.outer({text}, {c.text})", P_ATOM, "matrix"
            else:  # row·col is a float, row·M a row, M·col a column, M·M a matrix
                text, prec = f"{text} @ {c.wrap(P_UNARY)}", P_MUL
                acc = {("row", "col"): "scalar", ("row", "matrix"): "row", ("matrix", "col"): "col"}.get(
                    (acc, ff), "matrix")
        return _Code(text, prec)

    def binary(self, node: Binary, bound: dict[str, str]) -> _Code:
        a, b = self.expr(node.left, bound), self.expr(node.right, bound)
        return infix(OPERATORS[node.op].function(operand(a, _form(node.left)), operand(b, _form(node.right))))

    def division(self, node: Div, bound: dict[str, str]) -> _Code:
        den, k = node.den, 1
        if isinstance(den, Power) and isinstance(den.p, Num) and den.p.value == int(den.p.value):
            den, k = den.x, int(den.p.value)
        a = _sum_of_exp(den)
        if a is not None:  # exp(a)…exp(a)ᵀ / (1ᵀexp(a))^k: k factors of softmax(a)
            factors = node.num.factors if isinstance(node.num, Mul) else (node.num,)
            exps = [f for f in factors
                    if isinstance(f, Call) and f.fn == "exp" and self.same(f.arg, a)
                    or isinstance(f, Transpose) and isinstance(f.x, Call) and f.x.fn == "exp" and self.same(f.x.arg, a)]
            if len(exps) == k:
                self.used.add("softmax")
                soft = f"softmax({self.expr(a, bound).text})"
                for f in exps:
                    self.subst[id(f.x if isinstance(f, Transpose) else f)] = soft
                return self.expr(node.num, bound)
        num, d = self.expr(node.num, bound), self.expr(node.den, bound)
        return _Code(f"{num.wrap(P_MUL)} / {d.wrap(P_UNARY)}", P_MUL)

    def call(self, node: Call, bound) -> _Code:
        fn, arg = node.fn, node.arg
        if fn == "log":
            a = _sum_of_exp(arg)
            if a is not None:
                self.used.add("logsumexp")
                return _Code(f"logsumexp({self.expr(a, bound).text})")
            if isinstance(arg, Add) and len(arg.terms) == 2 and all(s > 0 for s, _ in arg.terms):
                (_, one), (_, e) = arg.terms
                if (isinstance(one, Const) and one.which == "1" or isinstance(one, Num) and one.value == 1) \
                        and isinstance(e, Call) and e.fn == "exp":  # log(1 + exp(t)): the softplus
                    return _Code(f"{self.xp}.logaddexp(0, {self.expr(e.arg, bound).text})")
        a = self.expr(arg, bound)
        record = FUNCTIONS.get(fn)
        code = record.code("function") if record else None
        if isinstance(code, NoCode):  # the record says why plain NumPy cannot (the adjugate)
            raise _NoFunction(fn)
        if not isinstance(code, Code):
            raise UnsupportedNode(f"the function {fn!r}", self.dialect)
        helper = code.for_argument(kind(arg.shape)).helper
        if helper:  # a definition (sigmoid) or an import (scipy) the script then adds once
            self.used.add(helper)
        return fill(code, node, a, self.dim, "np")


@dataclass
class _Script1(_Gen1):
    """The same 1-D array code for a self-contained script: also the function symbols the script
    defines, integrals, parameters, block matrices, and sums up to a size written out where their
    terms need the index as a number. (The JAX check adds derivatives.)"""

    def expr(self, node: Node, bound: dict[str, str]) -> _Code:
        if id(node) in self.subst:
            return _Code(self.subst[id(node)])
        if isinstance(node, FnValue):
            if ("fn:" + node.name) in bound:
                return _Code(bound["fn:" + node.name])
            return _Code(f"{_ident(node.name)}({self.expr(node.arg, bound).text})")
        if isinstance(node, Param):
            return _Code(bound.get("param:" + node.name, _ident(node.name)))
        if isinstance(node, Integral):  # a Gauss-Legendre sum over the nodes
            self.helpers.add(GAUSS_LEGENDRE)
            v = _ident(node.var)
            body = self.expr(node.body, {**bound, "param:" + node.var: v})
            rule = f"gauss_legendre({QUAD_NODES}, {node.lo!r}, {node.hi!r})"
            return _Code(f"sum(w * {body.wrap(P_UNARY)} for {v}, w in zip(*{rule}))")
        if isinstance(node, Block):
            rows = ", ".join("[" + ", ".join(self.expr(b, bound).text for b in row) + "]" for row in node.rows)
            return _Code(f"{self.xp}.block([{rows}])")
        return super().expr(node, bound)

    def summation(self, node: Add, bound: dict[str, str]) -> _Code:
        if node.over.body is not None:
            return super().summation(node, bound)
        parts = []  # the terms at the script's sizes
        for n, (sign, term) in enumerate(node.terms):
            text = self.expr(term, bound).wrap(P_MUL)
            parts.append(("-" if sign < 0 else "") + text if n == 0 else ("- " if sign < 0 else "+ ") + text)
        return _Code(" ".join(parts), P_ADD)
