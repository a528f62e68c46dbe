"""matref derive: derivatives by matrix differential calculus, every step checked before it is shown.

The method is identification: take the differential ∂f with the d-rules (product rule,
∂(X⁻¹) = -X⁻¹ ∂X X⁻¹, ∂ tr = tr ∂, Jacobi's formula, and each function record's own rule), write
every term as tr(M ∂X) (tr(AB) = tr(BA), tr(Aᵀ) = tr(A)), and read off ∂f/∂X = Mᵀ in denominator
layout. A vector f of a column x gives ∂f = M ∂x, and the derivative is Mᵀ in denominator
layout; anything of a scalar t gives ∂F = M ∂t. Each step is an identity that `check` verifies,
with every symbol but the variable declared constant, before the next one is taken; the result is
verified in both layouts. A step that does not hold stops the derivation and is reported as it
is: nothing unchecked is ever shown as derived.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from . import _syntax
from ._catalogue import SYMMETRIC_PROPS
from ._check import CANNOT, HOLDS, Verdict, check
from ._declarations import parse_where
from ._errors import CannotCheck, MatrefError, ShapeClash, Unsupported
from ._functions import DECOMPOSITION, ELEMENTWISE, FUNCTIONS, RESHAPING, SCALAR_VALUED
from ._language import parse_identity
from ._latex import latex
from ._layouts import layout_dependent, simplify_transpose, swap_derivatives
from ._operators import OPERATORS
from ._shapes import ONE, SCALAR, Shape, kind
from ._tree import (Add, Binary, Call, Const, Deriv, Differential, Div, FnValue, Hessian, Inverse, Mul, Node, Norm, Num,
                    Pattern, Power, Transpose, Var)


@dataclass
class Step:
    """One step of a derivation: the identity it states, the rule that gives it, and the checker's
    verdict on it (one per layout for the final step)."""

    rule: str
    formula: str
    verdicts: list[Verdict]
    numerator: str | None = None  # the final step only: the same identity in numerator layout

    @property
    def holds(self) -> bool:
        return all(v.holds for v in self.verdicts)


@dataclass
class Derivation:
    """The outcome of `derive`. `status` is "holds" (every step and the result verified), "refuted"
    (a step did not hold: a bug of matref's, reported rather than hidden) or "cannot check"."""

    expression: str
    by: str
    where: str
    status: str
    message: str
    steps: list[Step] = field(default_factory=list)
    gradient: str | None = None  # ∂f/∂X in denominator layout (for a scalar f the shape of X), once verified
    numerator: str | None = None  # the same derivative in numerator layout, once verified
    hessian: str | None = None  # ∂²f/∂x∂xᵀ, when asked for and verified
    layout: str = "denominator"  # the layout shown first (the text) or whose last step is listed (JSON)
    # A matrix F (or a vector of a matrix X) has no matrix ∂F/∂X: the result is then the Jacobian's
    # derivative ∂ vec F/∂ vec X, and this is its LaTeX (None: the result is ∂(EXPR)/∂X itself)
    derivative: str | None = None
    # With a complex variable whose expression is not holomorphic: the other Wirtinger derivative
    # ∂f/∂X̄ per layout, verified like the result (∂f/∂X)
    conjugate: dict[str, str] | None = None

    @property
    def holds(self) -> bool:
        return self.status == HOLDS

    @property
    def result(self) -> dict[str, str] | None:
        """The derivative's right side per layout: ∂(EXPR)/∂X = result[layout] holds in that layout."""
        if not self.holds:
            return None
        return {"denominator": self.gradient, "numerator": self.numerator}

    @property
    def exit_code(self) -> int:
        """0 derived and verified, 2 cannot derive (a refuted step included: derive never shows it as derived)."""
        return 0 if self.holds else 2

    def formulas(self) -> list[str]:
        """Each step's identity as LaTeX, the identification in `layout`."""
        return [s.numerator if s.numerator and self.layout == "numerator" else s.formula for s in self.steps]

    def to_dict(self) -> dict:
        """The JSON of `matref derive --json`."""
        if not self.holds:
            return {"status": "cannot derive", "message": self.message}
        result = dict(self.result)
        if self.hessian is not None:
            result["hessian"] = self.hessian
        out = {"status": "derived", "result": result, "steps": self.formulas()}
        if self.derivative is not None:  # result[layout] is this derivative, not ∂(EXPR)/∂X
            out["derivative"] = self.derivative
        if self.conjugate is not None:  # ∂(EXPR)/∂X̄ = conjugate[layout]
            out["conjugate"] = dict(self.conjugate)
        return out


def derive(expression: str, by: str, where: str = "", *, layout: str = "denominator", hessian: bool = False,
           seed: int = 0) -> Derivation:
    """The derivative ∂f/∂X of `expression` f (a scalar, or a vector or matrix; see the module
    docstring for which) by the declared variable `by`, derived step by step and every step
    checked; the result in both layouts (`layout` only says which one is shown first). With
    `hessian`, a scalar f of a column vector x goes on to ∂²f/∂x∂xᵀ: the differential of the
    gradient, written M ∂x. Never raises for bad input: problems come back as a Derivation with
    status "cannot check"."""
    if layout not in ("denominator", "numerator"):
        raise ValueError(f"layout must be 'denominator' or 'numerator', not {layout!r}")
    base = dict(expression=expression, by=by, where=where or "", layout=layout)
    try:
        out = _Derivation(expression, by, where or "", seed, hessian).run()
        out.layout = layout
        return out
    except ShapeClash as e:
        return Derivation(**base, status=CANNOT, message=f"the expression does not conform: {e}")
    except MatrefError as e:
        return Derivation(**base, status=CANNOT, message=str(e))
    except RecursionError:
        return Derivation(**base, status=CANNOT, message="the expression is nested too deeply")
    except Exception as e:  # noqa: BLE001 - a bug of ours must still not reach the user as a traceback
        return Derivation(**base, status=CANNOT, message=f"matref could not derive this (internal error "
                          f"{type(e).__name__}: {e}); please report it with the expression")


# ----- tree builders: each sets the node's shape, so that transposes can be pushed down -------------
def _shaped(node: Node, shape: Shape) -> Node:
    node.shape = shape
    return node


def _depends(node: Node) -> bool:
    return any(isinstance(n, Differential) for n in node.walk())


def _runs(factors) -> list[list[Node]]:
    """A product split, left to right, into runs: a 1×1 factor alone, a run whose product is 1×1
    (xᵀAx inside xᵀAx B), or the rest of the matrix chain. Scalars keep their order."""
    runs: list[list[Node]] = []
    current: list[Node] = []
    for f in factors:
        if kind(f.shape) == "scalar":
            runs.append([f])
            continue
        current.append(f)
        if kind((current[0].shape[0], current[-1].shape[1])) == "scalar":
            runs.append(current)
            current = []
    return runs + ([current] if current else [])


def _is_scalar(run: list[Node]) -> bool:
    return kind((run[0].shape[0], run[-1].shape[1])) == "scalar"


def _split_scalars(n: Node) -> tuple[list[Node], Node]:
    """A non-scalar product s A as ([s], A) when A is one factor; otherwise ([], n)."""
    if isinstance(n, Mul) and kind(n.shape) != "scalar":
        rest = [f for f in n.factors if kind(f.shape) != "scalar"]
        if len(rest) == 1:
            return [f for f in n.factors if kind(f.shape) == "scalar"], rest[0]
    return [], n


def _sign_out(n: Node) -> tuple[int, Node]:
    """-A as (-1, A), so that the sign joins the term's (cos' = -sin); anything else as (1, n)."""
    if isinstance(n, Add) and len(n.terms) == 1:
        return n.terms[0][0], n.terms[0][1]
    return 1, n


def _conjugate_leaf(n: Node) -> bool:
    """Whether n is ∂X̄, the conjugate of the differential (Wirtinger calculus), or its transpose
    written conj(∂Xᵀ) (the conjugate commutes with the transpose)."""
    return isinstance(n, Call) and n.fn == "conj" and (isinstance(n.arg, Differential) or (
        isinstance(n.arg, Transpose) and isinstance(n.arg.x, Differential)))


def _in_conjugate(n: Node) -> bool:
    """Whether the term n is linear in ∂X̄ rather than ∂X."""
    return any(_conjugate_leaf(m) for m in n.walk())


def _column(n: Node) -> bool:
    return n.shape[1].is_one


class Builders:
    """The small algebra the d-rules are written in (the function records' `differential` rules get
    an instance): products that keep scalars in front, transposes pushed to the leaves."""

    def __init__(self, symmetric: frozenset[str], real: frozenset[str] = frozenset()):
        self.symmetric = symmetric
        self.real = real  # symbols declared real: x̄ = x, and ∂x̄ = ∂x

    def num(self, value: float) -> Node:
        text = str(int(value)) if float(value).is_integer() else repr(float(value))
        return _shaped(Num(float(value), text), SCALAR)

    def identity(self, shape: Shape) -> Node:
        return _shaped(Const("I"), shape)

    def t(self, x: Node) -> Node:
        """xᵀ with transposes pushed down ((AB)ᵀ = BᵀAᵀ; scalars and matrices declared symmetric stay)."""
        return simplify_transpose(x, self.symmetric)

    def inv(self, x: Node) -> Node:
        return _shaped(Inverse(x), x.shape)

    def power(self, x: Node, p: int) -> Node:
        if p == 0:
            return self.num(1) if kind(x.shape) == "scalar" else self.identity(x.shape)
        return x if p == 1 else _shaped(Power(x, self.num(p)), x.shape)

    def call(self, fn: str, x: Node, index: str | int | None = None) -> Node:
        """fn(x), or fn_i(x) with an index (\\lambda_i(X), u_1(X))."""
        shape = FUNCTIONS[fn].shape(x, x.shape, lambda: x.shape[0])
        return _shaped(Call(fn, x, index), shape)

    def conj(self, x: Node) -> Node:
        """x̄ with the conjugate pushed to the leaves: conj(AB) = ĀB̄, conj(Aᵀ) = Āᵀ, conj(f(A)) = f(Ā)
        for the functions with real coefficients; numbers, I, 𝟏 and real-valued parts stay."""
        if isinstance(x, (Num, Const, Norm)) or (isinstance(x, Call) and x.fn in ("abs", "real", "imag")):
            return x
        if isinstance(x, Call) and x.fn == "conj":
            return x.arg
        if isinstance(x, (Var, Differential)) and (x.name if isinstance(x, Var) else getattr(x.x, "name", None)) \
                in self.real:
            return x
        if isinstance(x, Mul):
            return _shaped(Mul(tuple(self.conj(f) for f in x.factors)), x.shape)
        if isinstance(x, Add):
            return _shaped(Add(tuple((s, self.conj(t)) for s, t in x.terms)), x.shape)
        if isinstance(x, Transpose):
            return self.t(self.conj(x.x))
        if isinstance(x, Inverse):
            return self.inv(self.conj(x.x))
        if isinstance(x, Div):
            return _shaped(Div(self.conj(x.num), self.conj(x.den)), x.shape)
        if isinstance(x, Power):
            return _shaped(Power(self.conj(x.x), x.p), x.shape)
        if isinstance(x, Binary):
            return _shaped(Binary(x.op, self.conj(x.left), self.conj(x.right)), x.shape)
        if isinstance(x, Call) and x.index is None and FUNCTIONS[x.fn].kind in (ELEMENTWISE, SCALAR_VALUED, RESHAPING):
            return self.call(x.fn, self.conj(x.arg))
        return _shaped(Call("conj", x), x.shape)

    def neg(self, x: Node) -> Node:
        return _shaped(Add(((-1, x),)), x.shape)

    def add(self, terms: list[tuple[int, Node]], shape: Shape) -> Node:
        """The sum of signed terms (0 of `shape` when there are none)."""
        if not terms:
            return _shaped(Const("0"), shape)
        if len(terms) == 1 and terms[0][0] > 0:
            return terms[0][1]
        return _shaped(Add(tuple(terms)), terms[0][1].shape)

    def one(self, like: Node) -> Node:
        """1 of `like`'s shape: the number, the ones vector 𝟏, 𝟏ᵀ for a row, and 𝟏𝟏ᵀ for a matrix (a
        matrix of ones has no symbol of its own)."""
        if kind(like.shape) == "scalar":
            return self.num(1)
        rows, cols = like.shape
        if cols.is_one:
            return _shaped(Const("1"), like.shape)
        row = _shaped(Transpose(_shaped(Const("1"), (cols, ONE))), (ONE, cols))
        return row if rows.is_one else _shaped(Mul((_shaped(Const("1"), (rows, ONE)), row)), like.shape)

    def square(self, x: Node) -> Node:
        """x², elementwise: x ∘ x for a vector."""
        return self.power(x, 2) if kind(x.shape) == "scalar" else self.hadamard(x, x)

    def one_minus(self, x: Node) -> Node:
        return _shaped(Add(((1, self.one(x)), (-1, x))), x.shape)

    def one_plus(self, x: Node) -> Node:
        return _shaped(Add(((1, self.one(x)), (1, x))), x.shape)

    def over(self, y: Node, dy: Node) -> Node:
        """dy divided by y elementwise: dy / y for a scalar y, dy ⊘ y otherwise."""
        if kind(y.shape) == "scalar":
            return self.div(dy, y)
        return self.binary("hdiv", dy, y)

    def scalar_or_vector(self, y: Node, name: str) -> Node:
        if kind(y.shape) == "matrix" or (kind(y.shape) == "vector" and not y.shape[1].is_one):
            what = FUNCTIONS[name].latex if name in FUNCTIONS else name
            raise Unsupported(f"matref derive differentiates {what} of a scalar or a column vector only, "
                              f"not of {latex(y)}")
        return y

    def div(self, a: Node, den: Node) -> Node:
        if isinstance(a, Div):  # (a / s) / t = a / (s t)
            return _shaped(Div(a.num, self.mul(a.den, den)), a.shape)
        return _shaped(Div(a, den), a.shape)

    def hadamard(self, a: Node, b: Node) -> Node:
        """a ∘ b, with scalar factors taken out ((s A) ∘ B = s (A ∘ B)) and 𝟏 ∘ b = b."""
        sa, a = _split_scalars(a)
        sb, b = _split_scalars(b)
        if isinstance(a, Const) and a.which == "1":
            core = b
        elif isinstance(b, Const) and b.which == "1":
            core = a
        else:
            core = _shaped(Binary("hadamard", a, b), a.shape)
        return self.mul(*sa, *sb, core) if sa or sb else core

    def sized_identity(self, like: Node) -> Node:
        """I of `like`'s row count, written I_{n} (in I ⊗ a nothing else tells its size)."""
        eye = self.identity((like.shape[0], like.shape[0]))
        eye.sized = str(like.shape[0])
        return eye

    def eye(self, dim) -> Node:
        """I_{dim}, its size written (in A ⊗ I nothing else tells it)."""
        eye = self.identity((dim, dim))
        eye.sized = str(dim)
        return eye

    def commutation(self, m, n) -> Node:
        """K_{mn}: K_{mn} vec(A) = vec(Aᵀ) for an m×n A. The language writes its subscript with one
        letter or digit per size, so other sizes (2n, 10) are refused."""
        sub = f"{m}{n}"
        if len(sub) != 2 or "0" in sub:
            raise Unsupported(f"the commutation matrix for a {m}×{n} matrix cannot be written K_{{mn}} "
                              "(each size one letter or digit)")
        return _shaped(Pattern("K", (m, n), sub), (m * n, m * n))

    def kron(self, a: Node, b: Node) -> Node:
        return _shaped(Binary("kron", a, b), (a.shape[0] * b.shape[0], a.shape[1] * b.shape[1]))

    def binary(self, name: str, a: Node, b: Node) -> Node:
        """a op b for the operator record `name` (its shape by the record's rule)."""
        if name == "hadamard":  # takes scalars out and drops a 𝟏 factor
            return self.hadamard(a, b)
        return _shaped(Binary(name, a, b), OPERATORS[name].shape(a.shape, b.shape, lambda x, y: True))

    def elementwise(self, derivative: Node, dy: Node) -> Node:
        """f'(Y) ∘ ∂Y, or the plain product for a scalar Y."""
        return self.mul(derivative, dy) if kind(dy.shape) == "scalar" else self.hadamard(derivative, dy)

    def inner(self, a: Node, b: Node) -> Node:
        """⟨a, b⟩ = tr(aᵀb), written without the trace for vectors and scalars."""
        if kind(a.shape) == "scalar":
            return self.mul(a, b)
        if a.shape[1].is_one:
            return self.mul(self.t(a), b)
        if a.shape[0].is_one:
            return self.mul(a, self.t(b))
        return self.call("tr", self.mul(self.t(a), b))

    def mul(self, *factors: Node) -> Node:
        """The product, flattened, with numbers multiplied, 1 and redundant identities dropped, and
        scalar factors (and scalar runs such as xᵀAx inside a longer product) moved to the front."""
        flat: list[Node] = []
        for f in factors:
            if isinstance(f, Mul) and (kind(f.shape) != "scalar" or all(kind(g.shape) == "scalar" for g in f.factors)):
                flat.extend(f.factors)
            else:
                flat.append(f)
        value, scalars, chain = 1.0, [], []
        for run in _runs(flat):
            if len(run) == 1 and isinstance(run[0], Num):
                value *= run[0].value
            elif _is_scalar(run):
                scalars.append(run[0] if len(run) == 1 else _shaped(Mul(tuple(run)), SCALAR))
            else:
                chain.extend(run)
        if any(not (isinstance(f, Const) and f.which == "I") for f in chain):
            chain = [f for f in chain if not (isinstance(f, Const) and f.which == "I")]
        chain = self._powers(chain)
        scalars = self._scalar_powers(scalars)
        if value != 1:  # 2 (x / (2 s)) = x / s
            for group in (scalars, chain):
                for i, f in enumerate(group):
                    d, rest = self._leading_number(f.den) if isinstance(f, Div) else (None, None)
                    if d and (value / d).is_integer():
                        group[i] = f.num if rest is None else _shaped(Div(f.num, rest), f.shape)
                        return self.mul(self.num(value / d), *scalars, *chain)
        if any(isinstance(f, Const) and f.which == "0" for f in flat):  # 0 ∂x would read as the scalar 0
            runs = _runs(flat)
            matrix = [f for run in runs if not _is_scalar(run) for f in run]
            return _shaped(Const("0"), (matrix[0].shape[0], matrix[-1].shape[1]) if matrix else SCALAR)
        if not chain and len(scalars) == 1 and isinstance(scalars[0], Mul) and value == 1:
            return scalars[0]  # a scalar run on its own (xᵀAx)
        reciprocals = [f for f in scalars if isinstance(f, Div) and isinstance(f.num, Num) and f.num.value == 1]
        identity_only = len(chain) == 1 and isinstance(chain[0], Const)  # (1/t) I: kept, I drops in a product
        if len(reciprocals) == 1 and (len(scalars) > 1 or (chain and not identity_only)):  # (1/t) A = A / t
            rest = [f for f in scalars if f is not reciprocals[0]]
            return self.div(self.mul(self.num(value), *rest, *chain), reciprocals[0].den)
        out = ([self.num(value)] if value != 1 or not (scalars or chain) else []) + scalars + chain
        if len(out) == 1:
            return out[0]
        shape = (chain[0].shape[0], chain[-1].shape[1]) if chain else SCALAR
        return _shaped(Mul(tuple(out)), shape)

    def _leading_number(self, den: Node) -> tuple[float | None, Node | None]:
        """A denominator's leading number and the rest (None: there is none): 2 s gives (2, s)."""
        if isinstance(den, Num):
            return den.value, None
        if isinstance(den, Mul) and isinstance(den.factors[0], Num):
            return den.factors[0].value, self.mul(*den.factors[1:])
        return None, None

    def _scalar_powers(self, scalars: list[Node]) -> list[Node]:
        """Equal scalar factors as one power: det(X) det(X) = det(X)²."""
        out: list[tuple[Node, int]] = []
        for f in scalars:
            base, p = (f.x, int(f.p.value)) if isinstance(f, Power) and isinstance(f.p, Num) \
                and float(f.p.value).is_integer() and f.p.value > 0 else (f, 1)
            same = next((k for k, (g, _) in enumerate(out) if latex(g) == latex(base)), None)
            if same is None or isinstance(base, Num):
                out.append((base, p))
            else:
                out[same] = (out[same][0], out[same][1] + p)
        return [self.power(base, p) for base, p in out]

    def collect(self, terms: list[tuple[int, Node]]) -> list[tuple[int, Node]]:
        """The signed terms with equal terms merged (x + x = 2x)."""
        order, count = [], {}
        for s, t in terms:
            key = latex(t)
            if key not in count:
                order.append((key, t))
                count[key] = 0
            count[key] += s
        return [(1 if count[k] > 0 else -1, t if abs(count[k]) == 1 else self.mul(self.num(abs(count[k])), t))
                for k, t in order if count[k] != 0]

    def _powers(self, chain: list[Node]) -> list[Node]:
        """Equal neighbours in a matrix chain as one power: X X² = X³."""
        out: list[tuple[Node, int]] = []  # (base, exponent)
        for f in chain:
            base, p = (f.x, int(f.p.value)) if isinstance(f, Power) and isinstance(f.p, Num) \
                and float(f.p.value).is_integer() and f.p.value > 0 else (f, 1)
            if out and kind(base.shape) == "matrix" and latex(out[-1][0]) == latex(base):
                out[-1] = (out[-1][0], out[-1][1] + p)
            else:
                out.append((base, p))
        return [self.power(base, p) for base, p in out]

    def factor(self, terms: list[tuple[int, Node]], shape: Shape) -> Node:
        """The sum, with a matrix factor that every term ends (or starts) with taken out:
        A x + Aᵀ x = (A + Aᵀ) x."""
        for end in (-1, 0):
            factors = [t.factors if isinstance(t, Mul) else (t,) for _, t in terms]
            if len(terms) < 2 or any(len(f) < 2 for f in factors):
                break
            common = factors[0][end]
            if kind(common.shape) == "scalar" or any(latex(f[end]) != latex(common) for f in factors):
                continue
            rest = [(s, self.mul(*(f[:-1] if end == -1 else f[1:]))) for (s, _), f in zip(terms, factors)]
            inner = self.add(self.collect(rest), (rest[0][1].shape[0], rest[0][1].shape[1]))
            return self.mul(inner, common) if end == -1 else self.mul(common, inner)
        return self.add(terms, shape)


# ----- the derivation ------------------------------------------------------------------------------
def _parse_expression(expression: str, wrt: str, where: str) -> Node:
    """The expression's tree. A bare function symbol whose argument the declarations leave open (u
    of a scalar when a and x are scalars) is read as inside ∂/∂wrt, applied to the variable, as a
    catalogue formula reads it; it is then written with its argument, u(x), so that every step
    reads the same without that context."""
    try:
        return parse_identity(f"{expression} = {expression}", where).equation.sides[0]
    except CannotCheck as plain:
        text = rf"\frac{{\partial}}{{\partial {wrt}}} \left({expression}\right)"
        try:
            f = parse_identity(f"{text} = {text}", where).equation.sides[0].f
        except MatrefError:
            raise plain from None
    for n in f.walk():
        if isinstance(n, FnValue):
            n.explicit = True
    return f


class _Derivation:
    def __init__(self, expression: str, wrt: str, where: str, seed: int, hessian: bool = False):
        self.expression, self.wrt_text, self.where, self.seed = expression, wrt, where, seed
        if len(_syntax.parse(expression).children) > 1:  # syntax errors point into the expression itself
            raise CannotCheck("give an expression to differentiate, not an identity (no '=')")
        decls = self.decls = parse_where(where)
        try:
            (name,) = parse_where(rf"{wrt} \in \mathbb{{R}}")
        except (MatrefError, ValueError):
            raise CannotCheck(f"--by {wrt!r}: name one declared variable, e.g. X or \\mathbf{{x}}") from None
        if name not in decls or decls[name].kind != "var":
            raise CannotCheck(f"{wrt} is not declared; declare it in the where clause "
                              rf"(e.g. {wrt} \in \mathbb{{R}}^{{n \times n}})")
        if "constant" in decls[name].props:
            raise CannotCheck(f"{wrt} is declared constant, so it cannot be the variable of differentiation")
        self.f = _parse_expression(expression, wrt, where)
        if any(isinstance(n, (Deriv, Differential)) for n in self.f.walk()):
            raise Unsupported("the expression already contains a derivative or differential")
        sized = next((n.over for n in self.f.walk() if isinstance(n, Add) and n.over is not None and n.over.sized), None)
        if sized is not None:  # its terms were read at one size: a result from them would hold at that size only
            raise Unsupported(f"matref derive does not differentiate a sum whose number of terms is a size "
                              f"(\\sum_{{{sized.index}={latex(sized.lower)}}}^{{{latex(sized.upper)}}})")
        self.name = name
        self.x = next((n for n in self.f.walk() if isinstance(n, Var) and n.name == name), None)
        if self.x is None:  # a constant: its differential is 0, and so is its derivative
            self.x = parse_identity(f"{wrt} = {wrt}", where).equation.sides[0]
        self._complex(decls, hessian)
        self.hessian = hessian
        if hessian and not (kind(self.f.shape) == "scalar" and kind(self.x.shape) == "vector"
                            and self.x.shape[1].is_one):
            raise Unsupported("the Hessian is derived for a scalar expression of a column vector")
        self.dx = _shaped(Differential(self.x), self.x.shape)
        symmetric = frozenset(n for n, d in decls.items() if d.props & SYMMETRIC_PROPS)
        real = frozenset(n for n, d in decls.items() if not d.props & {"complex", "complex-codomain"})
        self.b = Builders(symmetric, real)
        used = sorted({n.name for n in self.f.walk() if isinstance(n, Var)} - {name})
        # In a differential every symbol not declared constant varies: only X may vary here.
        consts = ", ".join(decls[n].latex for n in used)
        self.step_where = f"{where}, {consts} \\text{{ constant}}" if consts else where
        self.rules: list[str] = []
        self.steps: list[Step] = []
        self.of: tuple[Node, Node] | None = None  # (vec F, vec X) when the result is their derivative
        self.conjugate: Node | None = None  # ∂f/∂X̄ of a Wirtinger derivation, once identified

    def _complex(self, decls, hessian: bool) -> None:
        """With complex symbols, derive uses Wirtinger calculus: Z and Z̄ vary as if independent, the
        d-rules hold with a complex ∂Z, a conjugate gives ∂Z̄ (∂ conj(Y) = conj(∂Y)), and
        ∂f = tr(Gᵀ ∂Z) + tr(Hᵀ ∂Z̄) gives ∂f/∂Z = G and ∂f/∂Z̄ = H. Refused, naming the subterm: a
        function symbol (a general map, with no ∂u/∂z̄ of its own here), the spectral functions and
        the imaginary part of the variable; and the Hessian."""
        self.complex = any(d.props & {"complex", "complex-domain", "complex-codomain"} for d in decls.values())
        if not self.complex:
            return
        if hessian:
            raise Unsupported("the Hessian is derived for real variables; a complex symbol is declared")
        for n in self.f.walk():
            if not self.d_depends(n):
                continue
            if (isinstance(n, Call) and (n.fn == "imag" or FUNCTIONS[n.fn].kind == DECOMPOSITION)) \
                    or isinstance(n, FnValue) or (isinstance(n, Norm) and not self._euclidean(n)):
                raise Unsupported(f"with complex symbols, matref derive applies Wirtinger calculus to products, "
                                  f"inverses, traces, determinants, conjugates, real parts, moduli, Euclidean "
                                  f"norms and the elementwise functions, not to {latex(n)} "
                                  "(check a complex identity with matref check)")

    def _rule(self, name: str) -> None:
        if name not in self.rules:
            self.rules.append(name)

    # --- the d-rules: the differential as a list of signed terms, each linear in ∂X -------------
    def d(self, n: Node) -> list[tuple[int, Node]]:
        b = self.b
        if not self.d_depends(n):
            return []
        if isinstance(n, Var):
            return [(1, self.dx)]
        if isinstance(n, Add):
            return [(s * s2, t) for s, term in n.terms for s2, t in self.d(term)]
        if isinstance(n, Mul):
            if sum(1 for f in n.factors if self.d_depends(f)) > 1:
                self._rule("product rule")
            return [(s, b.mul(*n.factors[:i], t, *n.factors[i + 1:]))
                    for i, f in enumerate(n.factors) for s, t in self.d(f)]
        if isinstance(n, Transpose):
            self._rule("transpose")
            return [(s, b.t(t)) for s, t in self.d(n.x)]
        if isinstance(n, Inverse):
            self._rule("inverse")
            return [(-s, b.mul(n, t, n)) for s, t in self.d(n.x)]
        if isinstance(n, Power):
            return self._d_power(n)
        if isinstance(n, Div):
            out = [(s, b.div(t, n.den)) for s, t in self.d(n.num)]
            if self.d_depends(n.den):
                self._rule("quotient rule")
                out += [(-s, b.div(b.mul(n.num, t), b.power(n.den, 2))) for s, t in self.d(n.den)]
            return out
        if isinstance(n, Binary):  # the operator's record: d(A op B) = d_left(dA, B) + d_right(A, dB)
            op = OPERATORS[n.op]
            self._rule("product rule" if op.name != "hdiv" else "quotient rule")
            return [(s * s2, t2) for s, t in self.d(n.left) for s2, t2 in [op.d_left(b, n.left, n.right, t)]] + \
                   [(s * s2, t2) for s, t in self.d(n.right) for s2, t2 in [op.d_right(b, n.left, n.right, t)]]
        if isinstance(n, Norm):
            return self._d_norm(n)
        if isinstance(n, FnValue):
            return self._d_function_symbol(n)
        if isinstance(n, Call):
            return self._d_call(n)
        raise Unsupported(f"matref derive has no differential rule for {latex(n)}")

    def _d_function_symbol(self, n: FnValue) -> list[tuple[int, Node]]:
        """∂u for a declared function symbol u at its argument Y, by the chain rule through its
        derivative D = ∂u/∂Y (denominator layout): ⟨D, ∂Y⟩ for a scalar u, Dᵀ ∂Y when D is laid
        out, D ∂Y otherwise. D is a symbol: see `_argument_variable` for how it is written."""
        b = self.b
        y, wrt = n.arg, self._argument_variable(n)
        fk, yk = kind(n.shape), kind(y.shape)
        probe = _shaped(Deriv(n, wrt, "denominator"), SCALAR)
        if not layout_dependent(probe):
            shape = n.shape
        elif fk == "scalar":
            shape = y.shape
        elif yk == "scalar" and n.shape[1].is_one:
            shape = (n.shape[1], n.shape[0])
        elif fk == "vector" and yk == "vector" and n.shape[1].is_one and y.shape[1].is_one:
            shape = (y.shape[0], n.shape[0])
        else:
            raise Unsupported(f"matref derive has no layout for the derivative of {latex(n)} by {latex(wrt)}")
        deriv = _shaped(Deriv(n, wrt, "denominator"), shape)
        self._rule("function symbol" if isinstance(y, Var) else "chain rule (function symbol)")
        if fk == "scalar" and yk != "scalar":
            return [(s, b.inner(deriv, t)) for s, t in self.d(y)]
        return [(s, b.mul(b.t(deriv) if layout_dependent(probe) else deriv, t)) for s, t in self.d(y)]

    def _argument_variable(self, n: FnValue) -> Node:
        """What u's derivative is taken by, for u at its argument Y: Y itself when it is the variable or
        another function symbol's value (∂g(u)/∂u); for Y = C + (the rest) with a declared C found
        nowhere else in Y, C: moving C moves Y alike, so ∂u(Y)/∂C is u's derivative at Y."""
        y = n.arg
        if isinstance(y, Var) and y.name == self.name:
            return y
        if isinstance(y, FnValue):  # written bare, ∂f(g(u))/∂g: the language takes no g(u) below the bar
            bare = copy.copy(y)
            bare.explicit = False
            return bare
        if isinstance(y, Add):
            for s, term in y.terms:
                if (s == 1 and isinstance(term, Var) and term.name != self.name and term.shape == y.shape
                        and sum(isinstance(m, Var) and m.name == term.name for m in y.walk()) == 1):
                    return term
        raise Unsupported(f"matref derive differentiates a function symbol of {latex(self.x)}, of another function "
                          f"symbol, or of Y = C + ... with a symbol C found nowhere else in Y (then ∂u(Y)/∂C is "
                          f"its derivative), not {latex(n)}")

    def d_depends(self, n: Node) -> bool:
        """Whether `n` contains the variable of differentiation."""
        return any(isinstance(m, Var) and m.name == self.name for m in n.walk())

    def _d_power(self, n: Power) -> list[tuple[int, Node]]:
        b = self.b
        if not isinstance(n.p, Num) or not float(n.p.value).is_integer() or self.d_depends(n.p):
            raise Unsupported(f"matref derive differentiates integer powers only, not {latex(n)}")
        p = int(n.p.value)
        if kind(n.x.shape) == "scalar":
            if self.complex and p == 2 and isinstance(n.x, Call) and n.x.fn == "abs":
                self._rule("squared modulus")  # ∂|t|² = ∂(t t̄) = t̄ ∂t + t ∂t̄
                y = n.x.arg
                return [(s, b.mul(u, v)) for s, t in self.d(y) for u, v in ((b.conj(y), t), (y, b.conj(t)))]
            if isinstance(n.x, Norm) and p == 2 and self._euclidean(n.x):
                self._rule("squared norm")  # ∂‖Y‖² = 2⟨Y, ∂Y⟩; for a complex Y, ⟨Ȳ, ∂Y⟩ + ⟨Y, ∂Ȳ⟩
                if self.complex:
                    return [(s, u) for s, t in self.d(n.x.x) for u in self._re_inner(n.x.x, t)]
                return [(s, b.mul(b.num(2), b.inner(n.x.x, t))) for s, t in self.d(n.x.x)]
            self._rule("power rule")
            return [(s, b.mul(b.num(p), b.power(n.x, p - 1), t)) for s, t in self.d(n.x)]
        if p < 1:
            raise Unsupported(f"matref derive differentiates positive matrix powers only, not {latex(n)}")
        self._rule("matrix power")  # ∂(Yᵖ) = Σₖ Yᵏ ∂Y Yᵖ⁻¹⁻ᵏ
        return [(s, b.mul(b.power(n.x, k), t, b.power(n.x, p - 1 - k))) for s, t in self.d(n.x) for k in range(p)]

    @staticmethod
    def _euclidean(n: Norm) -> bool:
        return n.p == "F" or (n.p == "2" and kind(n.x.shape) != "matrix")

    def _d_norm(self, n: Norm) -> list[tuple[int, Node]]:
        if n.p == "2" and kind(n.x.shape) == "matrix":  # the spectral norm is σ₁: σ₁'s own rule
            self._rule("spectral norm (σ₁)")
            return self._indexed_rule("sval", n.x, 1)
        if not self._euclidean(n):
            raise Unsupported(f"matref derive has no differential rule for {latex(n)} (only the Euclidean "
                              "norm of a vector and the Frobenius norm)")
        self._rule("norm")  # ∂‖Y‖ = ⟨Y, ∂Y⟩ / ‖Y‖; for a complex Y, (⟨Ȳ, ∂Y⟩ + ⟨Y, ∂Ȳ⟩) / (2‖Y‖)
        if self.complex:
            b = self.b
            return [(s, b.div(u, b.mul(b.num(2), n))) for s, t in self.d(n.x) for u in self._re_inner(n.x, t)]
        return [(s, self.b.div(self.b.inner(n.x, t), n)) for s, t in self.d(n.x)]

    def _re_inner(self, y: Node, dy: Node) -> list[Node]:
        """The two terms of ∂ tr(Yᴴ Y) = tr(Ȳᵀ ∂Y) + tr(Yᵀ ∂Ȳ)."""
        b = self.b
        return [b.inner(b.conj(y), dy), b.inner(y, b.conj(dy))]

    def _d_call(self, n: Call) -> list[tuple[int, Node]]:
        b = self.b
        inner = n.arg.arg if isinstance(n.arg, Call) and n.arg.fn == "abs" else n.arg
        if n.fn == "conj":
            self._rule("conjugate")  # ∂ conj(Y) = conj(∂Y): for a complex variable, a term in ∂Z̄
            return [(s, b.conj(t)) for s, t in self.d(n.arg)]
        if n.fn == "real":  # Re Y = (Y + Ȳ)/2
            self._rule("real part")
            return [(s, b.div(u, b.num(2))) for s, t in self.d(n.arg) for u in (t, b.conj(t))]
        if n.fn == "abs" and self.complex:  # |t| = (t t̄)^{1/2}: ∂|t| = (t̄ ∂t + t ∂t̄) / (2|t|)
            self._rule("modulus")
            return [(s, b.div(b.mul(u, v), b.mul(b.num(2), n))) for s, t in self.d(n.arg)
                    for u, v in ((b.conj(n.arg), t), (n.arg, b.conj(t)))]
        # log|det Y| of a complex Y is Re log det Y, not holomorphic: the modulus's own rule applies there
        if n.fn == "log" and isinstance(inner, Call) and inner.fn == "det" and not (self.complex and inner is not n.arg):
            self._rule("log-determinant")  # ∂ log|det Y| = tr(Y⁻¹ ∂Y), Matrix Cookbook (43)
            return [(s, b.call("tr", b.mul(b.inv(inner.arg), t))) for s, t in self.d(inner.arg)]
        if n.fn == "tr" and isinstance(n.arg, Call) and FUNCTIONS[n.arg.fn].derivative is not None:
            # ∂ tr f(Y) = tr(f'(Y) ∂Y) for a matrix function f: term by term of its series,
            # tr(Yᵏ⁻¹⁻ʲ ∂Y Yʲ) = tr(Yᵏ⁻¹ ∂Y) by the cyclic property
            f = FUNCTIONS[n.arg.fn]
            self._rule(f"trace of a matrix function (∂ tr f(Y) = tr(f'(Y) ∂Y), f = {f.latex})")
            y = n.arg.arg
            sign, fp = _sign_out(f.derivative(b, y))
            return [(sign * s, b.call("tr", b.mul(fp, t))) for s, t in self.d(y)]
        record = FUNCTIONS[n.fn]
        if record.derivative is not None and self._commutes(n.arg):
            self._rule(f"matrix function of t A (∂Y commutes with Y: ∂f(Y) = f'(Y) ∂Y, f = {record.latex})")
            sign, fp = _sign_out(record.derivative(b, n.arg))
            return [(sign * s, b.mul(fp, t)) for s, t in self.d(n.arg)]
        if record.differential is None:
            if record.derivative is not None:
                raise Unsupported(f"matref derive differentiates {record.latex}(Y) only inside a trace or for "
                                  f"Y = t A with a scalar variable t; {latex(n)} is neither")
            raise Unsupported(f"matref derive has no differential rule for {record.latex} yet")
        if record.letter:
            self._rule(f"{record.latex} of a simple {'eigenvalue' if record.name == 'eigval' else 'singular value'}")
            return self._indexed_rule(record.name, n.arg, n.index)
        linear = record.kind == RESHAPING  # vec, vech, diag: ∂ f(Y) = f(∂Y)
        self._rule({"tr": "trace", "det": "determinant"}.get(n.fn, f"{record.latex} is linear" if linear
                                                              else f"chain rule ({record.latex})"))
        out = []
        for s, t in self.d(n.arg):
            r = record.differential(b, n.arg, t)
            out += [(s * s2, u) for s2, u in r.terms] if isinstance(r, Add) else [(s, r)]
        return out

    def _indexed_rule(self, fn: str, y: Node, index: str | int) -> list[tuple[int, Node]]:
        """∂ of the indexed function fn_index(Y) by its record's rule. The rule writes eigenvectors
        or singular vectors with their letters (q, u, v): refused where the where clause gives
        such a letter another meaning, which the steps would then read instead."""
        b = self.b
        out = []
        for s, t in self.d(y):
            r = FUNCTIONS[fn].differential(b, y, t, index)
            for node in r.walk():
                letter = FUNCTIONS[node.fn].letter if isinstance(node, Call) else None
                if letter and letter in self.decls:
                    raise Unsupported(f"the differential of {latex(self.b.call(fn, y, index))} is written with "
                                      f"{FUNCTIONS[node.fn].latex}(…), but {letter} is declared in the where clause")
            out.append((s, r))
        return out

    def _commutes(self, y: Node) -> bool:
        """Whether Y is t A for the scalar variable t and a matrix A free of it (so ∂Y = ∂t A
        commutes with Y)."""
        if kind(self.x.shape) != "scalar" or not self.d_depends(y):
            return False
        factors = y.factors if isinstance(y, Mul) else (y,)
        matrices = [f for f in factors if kind(f.shape) != "scalar"]
        return len(matrices) == 1 and not self.d_depends(matrices[0])

    # --- identification: each linear term as ⟨G, ∂X⟩, G by moving everything off ∂X ------------
    def gradient_of(self, n: Node, g: Node) -> list[tuple[int, Node]]:
        """Signed G's with ⟨g, n⟩ = Σ ⟨G, ∂X⟩, for `n` linear in ∂X and `g` of n's shape."""
        b = self.b
        if _conjugate_leaf(n) and isinstance(n.arg, Transpose):  # ⟨g, conj(∂Xᵀ)⟩ = ⟨gᵀ, ∂X̄⟩
            return self.gradient_of(_shaped(Call("conj", n.arg.x), n.arg.x.shape), b.t(g))
        if isinstance(n, Differential) or _conjugate_leaf(n):  # ∂X, or ∂X̄ in a Wirtinger term
            return [(1, g)]
        if isinstance(n, Transpose):
            return self.gradient_of(n.x, b.t(g))
        if isinstance(n, Add):
            return [(s * s2, h) for s, term in n.terms for s2, h in self.gradient_of(term, g)]
        if isinstance(n, Div) and not _depends(n.den):
            return self.gradient_of(n.num, b.div(g, n.den) if not (isinstance(g, Num) and g.value == 1)
                                    else b.div(b.num(1), n.den))
        if isinstance(n, Binary) and n.op == "hadamard":  # ⟨g, A ∘ Y⟩ = ⟨g ∘ A, Y⟩
            y, other = (n.left, n.right) if _depends(n.left) else (n.right, n.left)
            return self.gradient_of(y, b.hadamard(g, other) if kind(g.shape) != "scalar" else b.mul(g, other))
        if isinstance(n, Binary) and n.op == "kron":
            return self._gradient_of_kron(n, g)
        if isinstance(n, Binary) and n.op == "hdiv" and not _depends(n.right):  # ⟨g, Y ⊘ D⟩ = ⟨g ⊘ D, Y⟩
            return self.gradient_of(n.left, b.binary("hdiv", g, n.right) if kind(g.shape) != "scalar"
                                    else b.div(g, n.right))
        if isinstance(n, Call) and n.fn == "tr":  # ⟨g, tr Y⟩ = ⟨g I, Y⟩ (the trace of a scalar is itself)
            return self.gradient_of(n.arg, g if kind(n.arg.shape) == "scalar" else b.mul(g, b.identity(n.arg.shape)))
        if isinstance(n, Call) and n.fn == "phi":  # Φ masks entries, so it is self-adjoint: ⟨g, Φ(Y)⟩ = ⟨Φ(g), Y⟩
            return self.gradient_of(n.arg, b.call("phi", g))
        if isinstance(n, Call) and n.fn == "diag":  # diag maps a vector to a matrix and back
            h = b.call("diag", g)
            return self.gradient_of(n.arg, b.t(h) if h.shape != n.arg.shape else h)
        if isinstance(n, Mul):
            return self._gradient_of_product(n, g)
        raise Unsupported(f"matref derive cannot identify the gradient through {latex(n)}")

    def _gradient_of_kron(self, n: Binary, g: Node) -> list[tuple[int, Node]]:
        """⟨g, Y ⊗ B⟩ (or B ⊗ Y) for the cases that need no reshaping: columns, rows, and g = s I."""
        b = self.b
        left = _depends(n.left)
        y, other = (n.left, n.right) if left else (n.right, n.left)
        if n.shape[0].is_one:  # rows: ⟨g, Yᵀ... ⟩ = ⟨gᵀ, (Y ⊗ B)ᵀ⟩ with (Y ⊗ B)ᵀ = Yᵀ ⊗ Bᵀ
            return self.gradient_of(b.kron(b.t(n.left), b.t(n.right)), b.t(g))
        if _column(n):  # Y ⊗ b = (I ⊗ b) Y and b ⊗ Y = (b ⊗ I) Y for columns
            eye = b.sized_identity(y)
            m = b.kron(eye, other) if left else b.kron(other, eye)
            return self.gradient_of(y, b.mul(b.t(m), g))
        coeffs, core = _split_scalars(g)
        square = all(f.shape[0] == f.shape[1] for f in (y, other))  # tr(Y ⊗ B) = tr(Y) tr(B) needs both
        if square and isinstance(core, Const) and core.which == "I":  # ⟨s I, Y ⊗ B⟩ = ⟨s tr(B) I, Y⟩
            return self.gradient_of(y, b.mul(*coeffs, b.call("tr", other), b.identity(y.shape)))
        raise Unsupported(f"matref derive cannot identify the gradient through {latex(n)} (a Kronecker product "
                          "of matrices needs a reshaping the language does not have)")

    def _split(self, n: Mul) -> tuple[Node, list[Node], list[Node], list[Node]]:
        """A product linear in ∂X (the d-rules give such terms) as (y, home, coeffs, chain): y the
        factor holding ∂X, home its run (see `_runs`), coeffs the other 1×1 runs multiplied out, and
        chain the factors of the runs that are not 1×1, in order."""
        (y,) = [f for f in n.factors if _depends(f)]
        runs = _runs(n.factors)
        home = next(run for run in runs if any(f is y for f in run))
        coeffs = [self.b.mul(*run) for run in runs if run is not home and _is_scalar(run)]
        chain = [f for run in runs if not _is_scalar(run) for f in run]
        return y, home, coeffs, chain

    def _gradient_of_product(self, n: Mul, g: Node) -> list[tuple[int, Node]]:
        b = self.b
        y, home, coeffs, chain = self._split(n)
        if _is_scalar(home) and chain:  # ⟨g, s C⟩ = s ⟨g, C⟩ for the scalar run s holding ∂X
            outer, run = b.mul(*coeffs, b.inner(g, b.mul(*chain))), home
        else:
            outer, run = b.mul(*coeffs, g), (home if _is_scalar(home) else chain)
        i = next(k for k, f in enumerate(run) if f is y)
        left, right = run[:i], run[i + 1:]
        # ⟨g, L Y R⟩ = ⟨Lᵀ g Rᵀ, Y⟩
        parts = ([b.t(b.mul(*left))] if left else []) + [outer] + ([b.t(b.mul(*right))] if right else [])
        return self.gradient_of(y, b.mul(*parts))

    # --- steps ---------------------------------------------------------------------------------
    def _collect(self, terms: list[tuple[int, Node]]) -> list[tuple[int, Node]]:
        return self.b.collect(terms)

    def _trace_form(self, m: Node, dx: Node | None = None) -> Node:
        """⟨Mᵀ, ∂X⟩ written as tr(M ∂X), or M ∂X (∂x M for a row) without the trace (∂X̄ for `dx`
        in a Wirtinger term)."""
        b, dx = self.b, dx or self.dx
        if isinstance(m, Const) and m.which == "0":
            return _shaped(Const("0"), SCALAR)
        if kind(dx.shape) == "matrix":
            return b.call("tr", b.mul(m, dx))
        if kind(dx.shape) == "vector" and dx.shape[0].is_one:
            return b.mul(dx, m)
        return b.mul(m, dx)

    def _step(self, rule: str, rhs: Node, of: Node | None = None) -> bool:
        """Check `∂(of) = rhs` (of: f by default) and record it; False if it does not hold."""
        of = self.f if of is None else of
        formula = f"{latex(_shaped(Differential(of), of.shape))} = {latex(rhs)}"
        if self.steps and self.steps[-1].formula == formula:
            return True
        v = check(formula, self.step_where, "denominator", seed=self.seed)
        self.steps.append(Step(rule, formula, [v]))
        return v.holds

    def run(self) -> Derivation:
        b = self.b
        terms = self.d(self.f)
        out = Derivation(self.expression, self.wrt_text, self.where, HOLDS, "")
        out.steps = self.steps
        rules = "differential: " + ", ".join(self.rules) if self.rules else "differential (linear)"
        if terms and not self._step(rules, b.add(terms, self.f.shape)):
            return self._failed(out)
        if not terms and not self._step(f"differential: the expression does not depend on {latex(self.x)}",
                                        b.add([], self.f.shape)):
            return self._failed(out)
        try:
            if kind(self.f.shape) != "scalar" and any(_in_conjugate(t) for _, t in terms):
                raise Unsupported(f"matref derive identifies a Wirtinger derivative (terms in ∂{latex(self.x)} and "
                                  f"its conjugate) for a scalar only; {latex(self.f)} is not a scalar")
            if kind(self.f.shape) == "scalar":
                found = self._scalar_gradient(terms)
            else:
                found = self._linear_map(terms)
        except MatrefError as e:  # the verified differential is still worth showing
            out.status, out.message = CANNOT, f"{e}; the differential above is verified"
            return out
        if found is None:
            return self._failed(out)
        grad, rule = found
        f, x = self.of or (self.f, self.x)
        if isinstance(grad, Mul):  # numbers and scalars back in front after a transpose: 2 t uᵀ, not t · 2 uᵀ
            grad = b.mul(grad)
        d = _shaped(Deriv(f, x, "denominator"), grad.shape)
        # In numerator layout a layout-dependent derivative is the transpose (Conventions page), and so
        # is every layout-dependent derivative inside the result (∂u/∂x of a function symbol u).
        swapped = swap_derivatives(grad)
        numerator = b.t(swapped) if layout_dependent(_shaped(Deriv(f, x, "denominator"), SCALAR)) else swapped
        if isinstance(numerator, Mul):  # likewise: 2 σ vuᵀ, not σ · 2 vuᵀ
            numerator = b.mul(numerator)
        formula, other = f"{latex(d)} = {latex(grad)}", f"{latex(d)} = {latex(numerator)}"
        verdicts = [check(formula, self.where, "denominator", seed=self.seed),
                    check(other, self.where, "numerator", seed=self.seed)]
        self.steps.append(Step(rule, formula, verdicts, other))
        if not self.steps[-1].holds:
            return self._failed(out)
        out.numerator = latex(numerator)
        out.gradient = latex(grad)
        if self.conjugate is not None:
            conjugate = self._conjugate_step(f, x)
            if conjugate is None:
                return self._failed(out)
            out.conjugate = conjugate
        if self.of:
            out.derivative = latex(_shaped(Deriv(f, x, "denominator"), grad.shape))
        if self.hessian:
            try:
                h = self._hessian(grad)
            except MatrefError as e:
                out.status, out.message = CANNOT, f"{e}; the gradient above is verified"
                return out
            if h is None:
                return self._failed(out)
            out.hessian = latex(h)
        what = "the gradient and the Hessian hold" if self.hessian else "the derivative holds"
        out.message = f"{len(self.steps)} steps, each verified; {what} in both layouts"
        return out

    def _conjugate_step(self, f: Node, x: Node) -> dict[str, str] | None:
        """The other Wirtinger derivative, ∂f/∂X̄ = H, checked in both layouts as a step of its own:
        H per layout (None: the step did not hold)."""
        b, h = self.b, self.conjugate
        d = _shaped(Deriv(f, _shaped(Call("conj", x), x.shape), "denominator"), h.shape)
        numerator = b.t(swap_derivatives(h))
        formula, other = f"{latex(d)} = {latex(h)}", f"{latex(d)} = {latex(numerator)}"
        verdicts = [check(formula, self.where, "denominator", seed=self.seed),
                    check(other, self.where, "numerator", seed=self.seed)]
        self.steps.append(Step("and the other Wirtinger derivative, ∂f/∂Z̄ = H", formula, verdicts, other))
        if not self.steps[-1].holds:
            return None
        return {"denominator": latex(h), "numerator": latex(numerator)}

    def _hessian(self, grad: Node) -> Node | None:
        """∂²f/∂x∂xᵀ from the verified gradient g: ∂g = M ∂x, and M is the Hessian (None: a step failed)."""
        b = self.b
        self.rules = []
        terms = self.d(grad)
        if terms and not self._step("differential of the gradient: " + ", ".join(self.rules) if self.rules
                                    else "differential of the gradient (linear)", b.add(terms, grad.shape), grad):
            return None
        m = b.factor(self._collect([(s * s2, j) for s, t in terms for s2, j in self._jacobian_of(t)]),
                     (self.x.shape[0], self.x.shape[0]))
        if terms and not self._step("as M ∂x", b.mul(m, self.dx), grad):
            return None
        h = _shaped(Hessian(self.f, self.x, self.x), m.shape)
        formula = f"{latex(h)} = {latex(m)}"
        verdicts = [check(formula, self.where, layout, seed=self.seed) for layout in ("denominator", "numerator")]
        self.steps.append(Step("Hessian: ∂g = M ∂x for the gradient g gives ∂²f/∂x∂xᵀ = M (the same in both "
                               "layouts)", formula, verdicts))
        return m if self.steps[-1].holds else None

    def _scalar_gradient(self, terms) -> tuple[Node, str] | None:
        """A scalar f: each term as tr(M ∂X), collected, and ∂f/∂X = Mᵀ (None: a step failed)."""
        b = self.b
        if any(_in_conjugate(t) for _, t in terms):
            return self._wirtinger_gradient(terms)
        per_term = [(s, self.gradient_of(t, b.num(1))) for s, t in terms]
        traces = [(s, self._trace_form(b.t(b.add(hs, self.x.shape)))) for s, hs in per_term]
        if traces and not self._step("each term as tr(M ∂X): tr(AB) = tr(BA), tr(Aᵀ) = tr(A)"
                                     if kind(self.x.shape) == "matrix" else "each term as M ∂x",
                                     b.add(traces, SCALAR)):
            return None
        flat = [(s * s2, h) for s, hs in per_term for s2, h in hs]
        collected = b.factor(self._collect([(s, b.t(h)) for s, h in flat]), (self.x.shape[1], self.x.shape[0]))
        if len(traces) > 1 and not self._step("terms collected", self._trace_form(collected)):
            return None
        form = {"matrix": "tr(Gᵀ ∂X)", "scalar": "G ∂x"}.get(kind(self.x.shape),
                                                             "∂x Gᵀ" if self.x.shape[0].is_one else "Gᵀ ∂x")
        return b.factor(self._collect(flat), self.x.shape), (
            f"identification: ∂f = {form} gives ∂f/∂{'X' if form[0] == 't' else 'x'} = G "
            "in denominator layout, Gᵀ in numerator layout")

    def _wirtinger_gradient(self, terms) -> tuple[Node, str] | None:
        """A scalar f with terms in ∂Z and in ∂Z̄: ∂f = tr(Gᵀ ∂Z) + tr(Hᵀ ∂Z̄), collected apart, gives
        the Wirtinger derivatives ∂f/∂Z = G (the result) and ∂f/∂Z̄ = H (kept for its own step)."""
        b, shape = self.b, self.x.shape
        dzb = _shaped(Call("conj", self.dx), self.dx.shape)
        parts = [(s, self.gradient_of(t, b.num(1)), dzb if _in_conjugate(t) else None) for s, t in terms]
        traces = [(s, self._trace_form(b.t(b.add(hs, shape)), leaf)) for s, hs, leaf in parts]
        if not self._step("each term as tr(M ∂Z) or tr(N ∂Z̄): tr(AB) = tr(BA), tr(Aᵀ) = tr(A)"
                          if kind(shape) == "matrix" else "each term as M ∂z or N ∂z̄", b.add(traces, SCALAR)):
            return None
        g, h = (b.factor(self._collect([(s * s2, x) for s, hs, leaf in parts if (leaf is None) == plain
                                        for s2, x in hs]), shape) for plain in (True, False))
        if len(traces) > 1 and not self._step("terms collected", b.add(
                [(1, self._trace_form(b.t(g))), (1, self._trace_form(b.t(h), dzb))], SCALAR)):
            return None
        self.conjugate = h
        return g, ("identification (Wirtinger): ∂f = tr(Gᵀ ∂Z) + tr(Hᵀ ∂Z̄) gives ∂f/∂Z = G and ∂f/∂Z̄ = H in "
                   "denominator layout, Gᵀ and Hᵀ in numerator layout")

    def _linear_map(self, terms) -> tuple[Node, str] | None:
        """A vector or matrix f: ∂f = M ∂x, so the derivative is M or Mᵀ, whichever the layout rule
        gives (a column f of a column x: the n×m Mᵀ; anything of a scalar t: M or its transpose)."""
        b, x, f = self.b, self.x, self.f
        if kind(x.shape) == "scalar":
            maps = [(s, self._at_one(t)) for s, t in terms]
            rows = f.shape[0]
        elif kind(x.shape) == "vector" and x.shape[1].is_one and kind(f.shape) == "vector":
            # a row f is differentiated as the column fᵀ: the same numbers, so the same derivative
            column = f.shape[1].is_one
            maps = [(s * s2, m) for s, t in terms for s2, m in self._jacobian_of(t if column else b.t(t))]
            rows = f.shape[0] if column else f.shape[1]
        else:
            return self._vec_jacobian(terms)
        m = b.factor(self._collect(maps), (rows, x.shape[0]))
        shown = b.mul(m, self.dx) if kind(x.shape) == "scalar" or f.shape[1].is_one else b.t(b.mul(m, self.dx))
        if maps and not self._step("as M ∂t" if kind(x.shape) == "scalar" else "as M ∂x" if f.shape[1].is_one
                                   else "as (M ∂x)ᵀ", shown):
            return None
        # The layout rule says which: a layout-dependent derivative is Mᵀ in denominator layout (M is
        # the numerator-layout Jacobian), a matrix by a scalar is M in both. Shapes alone cannot tell
        # for a square M.
        text = latex(_shaped(Deriv(self.f, x, "denominator"), SCALAR))
        deriv = parse_identity(f"{text} = {text}", self.where).equation.sides[0]
        name = "∂x" if kind(x.shape) != "scalar" else "∂t"
        if not layout_dependent(deriv):
            return m, f"identification: ∂f = M {name} gives ∂f/{name} = M in both layouts"
        g = b.t(m)
        if g.shape != deriv.shape:
            raise Unsupported(f"matref derive cannot lay out the derivative of {latex(self.f)} by {latex(x)}")
        return g, f"identification: ∂f = M {name} gives ∂f/{name} = Mᵀ in denominator layout, M in numerator layout"

    def _vec_jacobian(self, terms) -> tuple[Node, str] | None:
        """A matrix F of a matrix or vector X (or a vector of a matrix): ∂ vec F = J vec(∂X) (Magnus &
        Neudecker's identification), so ∂ vec F/∂ vec X is Jᵀ in denominator layout and J in numerator
        layout. A column is its own vec. None: a step failed."""
        b, f, x = self.b, self.f, self.x
        vf, vx = (n if n.shape[1].is_one else b.call("vec", n) for n in (f, x))
        vdx = self.dx if x.shape[1].is_one else b.call("vec", self.dx)
        js = self._collect([(s * s2, j) for s, t in terms for s2, j in self._vec_of(t)])
        m = b.factor(js, (vf.shape[0], vx.shape[0]))
        if js and not self._step("vectorised: vec(A Y B) = (Bᵀ ⊗ A) vec Y, vec(Yᵀ) = K vec Y", b.mul(m, vdx), vf):
            return None
        self.of = (vf, vx)
        return b.t(m), ("identification: ∂ vec F = J vec(∂X) gives ∂ vec F/∂ vec X = Jᵀ in denominator layout, "
                        "J in numerator layout")

    def _vec(self, n: Node) -> Node:
        return n if n.shape[1].is_one else self.b.call("vec", n)

    def _vec_of(self, n: Node) -> list[tuple[int, Node]]:
        """Signed J's with vec(n) = Σ J vec(∂X), for `n` linear in ∂X."""
        b = self.b
        if isinstance(n, Differential):
            return [(1, b.identity((n.shape[0] * n.shape[1], n.shape[0] * n.shape[1])))]
        if isinstance(n, Transpose) and isinstance(n.x, Differential):
            if kind(n.x.shape) == "vector":  # a row's vec is its transpose's
                return [(1, b.identity((n.shape[0] * n.shape[1], n.shape[0] * n.shape[1])))]
            return [(1, b.commutation(*n.x.shape))]
        if isinstance(n, Add):
            return [(s * s2, j) for s, term in n.terms for s2, j in self._vec_of(term)]
        if isinstance(n, Div) and not _depends(n.den):
            return [(s, b.div(j, n.den)) for s, j in self._vec_of(n.num)]
        if isinstance(n, Call) and n.fn == "vec":
            return self._vec_of(n.arg)
        if isinstance(n, Binary) and n.op == "hadamard":  # vec(A ∘ Y) = diag(vec A) vec Y
            y, other = (n.left, n.right) if _depends(n.left) else (n.right, n.left)
            return [(s, b.mul(b.call("diag", self._vec(other)), j)) for s, j in self._vec_of(y)]
        if isinstance(n, Mul):
            y, home, coeffs, chain = self._split(n)
            if _is_scalar(home):  # s C with s = ⟨G, ∂X⟩ = vec(G)ᵀ vec(∂X): vec(s C) = vec(C) vec(G)ᵀ vec(∂X)
                s_node = home[0] if len(home) == 1 else _shaped(Mul(tuple(home)), SCALAR)
                c = self._vec(b.mul(*chain)) if chain else b.num(1)
                return [(s, b.mul(*coeffs, c, b.t(self._vec(g)))) for s, g in self.gradient_of(s_node, b.num(1))]
            i = next(k for k, f in enumerate(chain) if f is y)
            left, right = chain[:i], chain[i + 1:]
            if not left and not right:
                return [(s, b.mul(*coeffs, j)) for s, j in self._vec_of(y)]
            # vec(L Y R) = (Rᵀ ⊗ L) vec Y, with an identity of Y's size for a missing L or R
            lhs = b.mul(*left) if left else b.eye(y.shape[0])
            rhs = b.t(b.mul(*right)) if right else b.eye(y.shape[1])
            return [(s, b.mul(*coeffs, b.kron(rhs, lhs), j)) for s, j in self._vec_of(y)]
        raise Unsupported(f"matref derive cannot vectorise {latex(n)}")

    def _at_one(self, n: Node) -> Node:
        """A term linear in the scalar ∂t, with ∂t = 1: its coefficient."""
        b = self.b
        if isinstance(n, Differential):
            return b.num(1)
        if not _depends(n):
            return n
        if isinstance(n, Mul):
            return b.mul(*(self._at_one(f) for f in n.factors))
        if isinstance(n, Add):
            return b.add([(s, self._at_one(t)) for s, t in n.terms], n.shape)
        if isinstance(n, Transpose):
            return b.t(self._at_one(n.x))
        if isinstance(n, Div):
            return b.div(self._at_one(n.num), n.den)
        if isinstance(n, Call):
            return b.call(n.fn, self._at_one(n.arg))
        if isinstance(n, Binary):
            return b.binary(n.op, self._at_one(n.left), self._at_one(n.right))
        raise Unsupported(f"matref derive cannot identify the derivative through {latex(n)}")

    def _jacobian_of(self, n: Node) -> list[tuple[int, Node]]:
        """Signed M's with n = Σ M ∂x, for a column (or 1×1) `n` linear in the column ∂x."""
        b = self.b
        if isinstance(n, Differential):
            return [(1, b.identity((n.shape[0], n.shape[0])))]
        if isinstance(n, Add):
            return [(s * s2, m) for s, term in n.terms for s2, m in self._jacobian_of(term)]
        if kind(n.shape) == "scalar":  # a scalar s = gᵀ ∂x (the scalar identification)
            return [(s, b.t(g)) for s, g in self.gradient_of(n, b.num(1))]
        if isinstance(n, Div) and not _depends(n.den):
            return [(s, b.div(m, n.den)) for s, m in self._jacobian_of(n.num)]
        if isinstance(n, Binary) and n.op == "kron" and _column(n.left) and _column(n.right):
            left = _depends(n.left)  # y ⊗ a = (I ⊗ a) y, a ⊗ y = (a ⊗ I) y
            y, other = (n.left, n.right) if left else (n.right, n.left)
            eye = b.sized_identity(y)
            m = b.kron(eye, other) if left else b.kron(other, eye)
            return [(s, b.mul(m, j)) for s, j in self._jacobian_of(y)]
        if isinstance(n, Binary) and n.op == "hadamard":  # a ∘ y = diag(a) y
            y, other = (n.left, n.right) if _depends(n.left) else (n.right, n.left)
            return [(s, b.mul(b.call("diag", other), m)) for s, m in self._jacobian_of(y)]
        if isinstance(n, Binary) and n.op == "hdiv" and not _depends(n.right):  # y ⊘ d = diag(𝟏 ⊘ d) y
            inverse = b.binary("hdiv", b.one(n.right), n.right)
            return [(s, b.mul(b.call("diag", inverse), m)) for s, m in self._jacobian_of(n.left)]
        if isinstance(n, Mul):
            y, home, coeffs, chain = self._split(n)
            if _is_scalar(home):  # s C with the scalar s = gᵀ ∂x: C gᵀ ∂x
                s_node = home[0] if len(home) == 1 else _shaped(Mul(tuple(home)), SCALAR)
                return [(s, b.mul(*coeffs, *chain, m)) for s, m in self._jacobian_of(s_node)]
            i = next(k for k, f in enumerate(chain) if f is y)
            left, right = chain[:i], chain[i + 1:]
            r = b.mul(*right) if right else b.num(1)
            if kind(r.shape) == "scalar" and y.shape[1].is_one:  # L y r with y = M ∂x
                return [(s, b.mul(*coeffs, r, *left, m)) for s, m in self._jacobian_of(y)]
            if y.shape[0].is_one and left:  # L yᵀ R with y = M ∂x a column: L Rᵀ M ∂x
                return [(s, b.mul(*coeffs, *left, b.t(r), m)) for s, m in self._jacobian_of(b.t(y))]
        raise Unsupported(f"matref derive cannot identify the derivative through {latex(n)}")

    def _failed(self, out: Derivation) -> Derivation:
        bad = next(v for v in self.steps[-1].verdicts if not v.holds)
        out.status = bad.status
        what = "a derivation step does not hold (a bug in matref derive; please report it)" \
            if bad.status == "refuted" else "a step cannot be checked"
        out.message = f"{what}: {bad.message}"
        return out


__all__ = ["derive", "Derivation", "Step", "Builders"]
