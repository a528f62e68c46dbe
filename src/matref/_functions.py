"""One record per function of the language (every value `Call.fn` can take).

A record holds everything matref knows about a function: how the parser accepts it, how it is
rendered back to LaTeX, its kind and shape rule, its JAX evaluation, its code in each snippet
dialect (or the reason there is none) and its row of the Conventions page. The parser, the LaTeX
renderer, the layout rule, the evaluator, the snippet generators and the site read these records,
so adding a function is one record here plus the checks tests/test_functions.py runs on every record.

This module imports neither JAX nor NumPy: parsing and rendering (`matref list`, `show`) must not pay
for them. The evaluations import JAX when they are first called.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ._errors import CannotCheck, Unsupported
from ._shapes import ONE, SCALAR, Shape, kind, show, triangular

# What a function does with the shape of its argument; the resolver, the layout rule and the
# snippet generators decide by kind.
ELEMENTWISE = "elementwise"  # value by value: the result has the argument's shape
SCALAR_VALUED = "scalar-valued"  # a square matrix to a scalar (tr, det)
MATRIX = "matrix function"  # a square matrix to a square matrix of the same size
RESHAPING = "reshaping"  # rearranges entries (vec, vech, diag): a per-function shape rule
KINDS = (ELEMENTWISE, SCALAR_VALUED, MATRIX, RESHAPING)

# The snippet dialects a record writes code for: the JAX check script (`jnp`), the NumPy closed
# form (`np`, the same generator with NumPy) and the function dialect (plain NumPy, 1-D vectors).
DIALECT_KEYS = ("jax", "numpy", "function")


@dataclass(frozen=True)
class Code:
    """A function's code in one snippet dialect, as a template. In `text`, `{a}` is the argument's
    code, `{a_atom}` the same parenthesised unless it is an atom, `{xp}` the array module (`jnp` or
    `np`), `{n}` the argument's row count and `{fn}` the function's name.

    `binds` says how tightly the result binds: "atom" (a call or subscript), "product" (a quotient:
    parenthesised as an operand of a product) or "argument" (the text is just `{a}`: it binds as the
    argument does). `helper` names a definition the dialect adds to the script once (the function
    dialect's `sigmoid`, or `scipy` for its import). `by_kind` replaces the template for an argument of
    that kind ("scalar", "vector" or "matrix"), e.g. diag of a vector builds a matrix.
    """

    text: str
    binds: str = "atom"
    helper: str | None = None
    by_kind: dict[str, "Code"] = field(default_factory=dict)

    def for_argument(self, arg_kind: str) -> "Code":
        return self.by_kind.get(arg_kind, self)


@dataclass(frozen=True)
class NoCode:
    """A dialect has no code for the function; `reason` says why (the CLI and the site may show it)."""

    reason: str


@dataclass(frozen=True)
class Function:
    """One function of the formula language. See the module docstring."""

    name: str  # the value of Call.fn
    kind: str  # one of KINDS
    latex: str  # the canonical LaTeX command, e.g. r"\operatorname{tr}"; also names it in messages
    meaning: str  # what it is, for the Conventions page (Markdown)
    argument: str  # what it takes: "any", "square", "vector or square", "scalar"
    evaluate: Callable  # JAX: the value (a 2-D array) from the argument's value (a 2-D array)
    jax: Code | NoCode
    numpy: Code | NoCode
    function: Code | NoCode
    commands: tuple[str, ...] = ()  # backslash commands read as this function: ("det",) for \det
    words: tuple[str, ...] = ()  # words read as it inside \operatorname{...}, \mathrm, \text, \textrm
    greek: str | None = None  # a Greek letter read as it when that letter is not declared (\sigma)
    written: tuple[str, ...] = ()  # other spellings the grammar gives it, as templates with #1
    rendering: str = ""  # the canonical LaTeX with #1 for the argument; default: latex\left(#1\right)
    shape_rule: Callable | None = None  # reshaping only: (arg, arg shape, square) -> result shape
    # `matref derive`: (b, Y, dY) -> the differential of this function at Y along dY, built with the
    # tree builders `b` of matref._derive (so this module needs no tree code); None: derive has no rule.
    differential: Callable | None = None

    def render(self, arg: str) -> str:
        """The canonical LaTeX of this function applied to the LaTeX `arg`."""
        template = self.rendering or self.latex + r"\left(#1\right)"
        return template.replace("#1", arg)

    @property
    def spellings(self) -> tuple[str, ...]:
        """Every way to write the function that the parser accepts, as templates with #1."""
        out = [rf"\{c}\left(#1\right)" for c in self.commands]
        out += [rf"\{style}{{{w}}}\left(#1\right)" for w in self.words
                for style in ("operatorname", "mathrm", "text", "textrm")]
        if self.greek:
            out.append(rf"\{self.greek}\left(#1\right)")
        return tuple(out) + self.written

    def code(self, dialect: str) -> Code | NoCode:
        """The record's code in one of DIALECT_KEYS."""
        return getattr(self, dialect)

    def shape(self, arg, arg_shape: Shape, square: Callable[[], object]) -> Shape:
        """The result's shape. `square()` checks that the argument is square (raising a ShapeClash
        that names this function) and returns its size."""
        if self.kind == ELEMENTWISE:
            return arg_shape
        if self.kind == SCALAR_VALUED:
            square()
            return SCALAR
        if self.kind == MATRIX:
            d = square()
            return (d, d)
        return self.shape_rule(arg, arg_shape, square)


# ----- JAX evaluations (imported when first called) ----------------------------------------------------
def _jnp():
    import jax.numpy as jnp
    return jnp


def _jax():
    import jax
    import jax.scipy.linalg  # noqa: F401 - expm lives in a submodule
    return jax


def _numeric():
    from . import _numeric
    return _numeric


def _elementwise(name: str) -> Callable:
    return lambda a: getattr(_jnp(), name)(a)


def _sin_cos_m(part: str) -> Callable:
    def evaluate(a):
        # expm([[0, -A], [A, 0]]) = [[cos A, -sin A], [sin A, cos A]]: real arithmetic throughout
        jnp = _jnp()
        n, z = a.shape[0], jnp.zeros_like(a)
        e = _jax().scipy.linalg.expm(jnp.block([[z, -a], [a, z]]))
        return e[n:, :n] if part == "sin" else e[:n, :n]
    return evaluate


def _diag(a):
    jnp = _jnp()
    return jnp.diag(a.reshape(-1)) if 1 in a.shape else jnp.diag(a).reshape(-1, 1)


# ----- per-function shape rules (reshaping) ----------------------------------------------------------
def _vec_shape(arg, shape: Shape, square) -> Shape:
    if not all(d.known for d in shape):
        from ._latex import latex  # _latex reads this module's records
        raise CannotCheck(f"cannot infer the size of {latex(arg)}")
    return (shape[0] * shape[1], ONE)


def _vech_shape(arg, shape: Shape, square) -> Shape:
    length = triangular(square())
    if length is None:
        raise Unsupported(rf"\operatorname{{vech}} of a {show(shape)} matrix: its size must be one letter or a number")
    return (length, ONE)


def _diag_shape(arg, shape: Shape, square) -> Shape:
    if kind(shape) == "vector":
        n = shape[0] if shape[1].is_one else shape[1]
        return (n, n)
    return (square(), ONE)


# ----- code shared by several records ----------------------------------------------------------------
def _same_name(name: str) -> dict:
    """The code of an elementwise function NumPy and jax.numpy both call `name`."""
    return dict(jax=Code("{xp}.{fn}({a})"), numpy=Code("{xp}.{fn}({a})"), function=Code("np.{fn}({a})"))


_NO_MATRIX_FUNCTIONS = NoCode("NumPy has no matrix exponential, sine or cosine (SciPy has)")
_NO_ADJUGATE = NoCode("neither JAX nor NumPy has an adjugate, and det(X) X^{-1} does not exist for a "
                      "singular X, which is where the adjugate matters")


def _elementwise_record(name: str, latex: str, meaning: str, commands=(), words=(), **kw) -> Function:
    return Function(name=name, kind=ELEMENTWISE, latex=latex, meaning=meaning, argument=kw.pop("argument", "any"),
                    evaluate=kw.pop("evaluate", None) or _elementwise(name), commands=commands, words=words,
                    **{**_same_name(name), **kw})


_RECORDS = (
    Function(
        name="tr", kind=SCALAR_VALUED, latex=r"\operatorname{tr}", argument="square",
        meaning="the trace", commands=("tr", "Tr"), words=("tr", "Tr", "trace"),
        evaluate=lambda a: _jnp().trace(a).reshape(1, 1),
        differential=lambda b, y, dy: b.call("tr", dy),
        jax=Code("{xp}.trace({a})"), numpy=Code("{xp}.trace({a})"), function=Code("np.trace({a})")),
    Function(
        name="det", kind=SCALAR_VALUED, latex=r"\det", argument="square",
        meaning="the determinant (bars around a matrix are its determinant)", commands=("det",), words=("det",),
        written=(r"\left|#1\right|", "|#1|"),
        evaluate=lambda a: _jnp().linalg.det(a).reshape(1, 1),
        # Jacobi's formula, Matrix Cookbook (42)
        differential=lambda b, y, dy: b.mul(b.call("det", y), b.call("tr", b.mul(b.inv(y), dy))),
        jax=Code("{xp}.linalg.det({a})"), numpy=Code("{xp}.linalg.det({a})"), function=Code("np.linalg.det({a})")),
    _elementwise_record(
        "abs", r"\left|\cdot\right|", "the absolute value of a scalar",
        written=(r"\left|#1\right|", "|#1|"), rendering=r"\left|#1\right|", argument="scalar",
        differential=lambda b, y, dy: b.div(b.mul(y, dy), b.call("abs", y))),  # d|t| = t dt / |t| (t ≠ 0)
    _elementwise_record("log", r"\log", "the natural logarithm, elementwise",
                        commands=("log", "ln"), words=("log", "ln"),
                        differential=lambda b, y, dy: b.over(y, dy)),
    _elementwise_record("exp", r"\exp", "the exponential, elementwise; `e^{t}` of a scalar is `\\exp(t)`",
                        commands=("exp",), words=("exp",),
                        differential=lambda b, y, dy: b.elementwise(b.call("exp", y), dy)),
    _elementwise_record("sin", r"\sin", "the sine, elementwise", commands=("sin",), words=("sin",),
                        differential=lambda b, y, dy: b.elementwise(b.call("cos", y), dy)),
    _elementwise_record("cos", r"\cos", "the cosine, elementwise", commands=("cos",), words=("cos",),
                        differential=lambda b, y, dy: b.neg(b.elementwise(b.call("sin", y), dy))),
    _elementwise_record("tan", r"\tan", "the tangent, elementwise", commands=("tan",), words=("tan",),
                        # 1 + tan(t)^2, for a scalar or a column t
                        differential=lambda b, y, dy: b.elementwise(
                            b.one_plus(b.square(b.call("tan", b.scalar_or_vector(y, "tan")))), dy)),
    _elementwise_record("tanh", r"\tanh", "the hyperbolic tangent, elementwise", commands=("tanh",), words=("tanh",),
                        # 1 - tanh(t)^2, for a scalar or a column t
                        differential=lambda b, y, dy: b.elementwise(
                            b.one_minus(b.square(b.call("tanh", b.scalar_or_vector(y, "tanh")))), dy)),
    _elementwise_record(
        "sigmoid", r"\sigma", r"the logistic sigmoid $1 / (1 + e^{-t})$, elementwise (when $\sigma$ is not declared)",
        greek="sigma", evaluate=lambda a: _jax().nn.sigmoid(a),
        jax=Code("jax.nn.sigmoid({a})"), numpy=Code("1 / (1 + np.exp(-{a_atom}))", binds="product"),
        # exp(-log(1 + exp(-t))): no overflow for either sign of t (the dialect's helper says so)
        function=Code("sigmoid({a})", helper="sigmoid"),
        # σ(t)(1 - σ(t)), for a scalar or a column t
        differential=lambda b, y, dy: b.elementwise(b.elementwise(
            b.call("sigmoid", b.scalar_or_vector(y, "sigmoid")), b.one_minus(b.call("sigmoid", y))), dy)),
    _elementwise_record("sqrt", r"\sqrt", "the square root, elementwise", commands=("sqrt",), words=("sqrt",),
                        written=(r"\sqrt{#1}",), rendering=r"\sqrt{#1}",
                        differential=lambda b, y, dy: b.over(b.mul(b.num(2), b.call("sqrt", y)), dy)),
    Function(
        name="vec", kind=RESHAPING, latex=r"\operatorname{vec}", argument="any", words=("vec",),
        meaning="the columns stacked into one column", shape_rule=_vec_shape,
        evaluate=lambda a: _numeric().vec(a),
        jax=Code("{a_atom}.T.reshape(-1, 1)"), numpy=Code("{a_atom}.T.reshape(-1, 1)"),
        # 1-D vectors there: vec of a vector is the vector itself
        function=Code('{a_atom}.ravel(order="F")', by_kind={"vector": Code("{a}", binds="argument"),
                                                           "scalar": Code("{a}", binds="argument")}),
        differential=lambda b, y, dy: b.call("vec", dy)),
    Function(
        name="vech", kind=RESHAPING, latex=r"\operatorname{vech}", argument="square", words=("vech",),
        meaning="the lower triangle (diagonal included), column by column: the free entries of a symmetric matrix",
        shape_rule=_vech_shape, evaluate=lambda a: _numeric().vech(a),
        jax=Code("{a_atom}.T[{xp}.triu_indices({n})][:, None]"),
        numpy=Code("{a_atom}.T[{xp}.triu_indices({n})][:, None]"),
        function=Code("{a_atom}.T[np.triu_indices({n})]"),
        differential=lambda b, y, dy: b.call("vech", dy)),
    Function(
        name="diag", kind=RESHAPING, latex=r"\operatorname{diag}", argument="vector or square", words=("diag",),
        meaning="the diagonal matrix of a vector, or the diagonal of a square matrix as a column",
        shape_rule=_diag_shape, evaluate=_diag,
        jax=Code("{xp}.diag({a})[:, None]", by_kind={"vector": Code("{xp}.diag({a_atom}.ravel())")}),
        numpy=Code("{xp}.diag({a})[:, None]", by_kind={"vector": Code("{xp}.diag({a_atom}.ravel())")}),
        function=Code("np.diag({a})"),
        differential=lambda b, y, dy: b.call("diag", dy)),
    Function(
        name="expm", kind=MATRIX, latex=r"\operatorname{expm}", argument="square", words=("expm",),
        meaning="the matrix exponential (its power series); `e^{X}` of a square matrix is `\\operatorname{expm}(X)`",
        evaluate=lambda a: _jax().scipy.linalg.expm(a),
        jax=Code("jax.scipy.linalg.expm({a})"), numpy=_NO_MATRIX_FUNCTIONS,
        function=Code("scipy.linalg.{fn}({a})", helper="scipy")),
    Function(
        name="sinm", kind=MATRIX, latex=r"\operatorname{sinm}", argument="square", words=("sinm",),
        meaning=r"the matrix sine (its power series; `\sin` stays elementwise)", evaluate=_sin_cos_m("sin"),
        # sin A = Im exp(iA) for a real A
        jax=Code("jax.scipy.linalg.expm(1j * {a_atom}).imag"), numpy=_NO_MATRIX_FUNCTIONS,
        function=Code("scipy.linalg.{fn}({a})", helper="scipy")),
    Function(
        name="cosm", kind=MATRIX, latex=r"\operatorname{cosm}", argument="square", words=("cosm",),
        meaning=r"the matrix cosine (its power series; `\cos` stays elementwise)", evaluate=_sin_cos_m("cos"),
        # cos A = Re exp(iA) for a real A
        jax=Code("jax.scipy.linalg.expm(1j * {a_atom}).real"), numpy=_NO_MATRIX_FUNCTIONS,
        function=Code("scipy.linalg.{fn}({a})", helper="scipy")),
    Function(
        name="adj", kind=MATRIX, latex=r"\operatorname{adj}", argument="square", words=("adj",),
        meaning="the adjugate (transposed cofactor matrix), also of a singular matrix",
        evaluate=lambda a: _numeric().adjugate(a),
        jax=_NO_ADJUGATE, numpy=_NO_ADJUGATE, function=_NO_ADJUGATE),
)

FUNCTIONS: dict[str, Function] = {r.name: r for r in _RECORDS}

# The parser's tables, read off the records.
COMMANDS: frozenset[str] = frozenset(c for r in _RECORDS for c in r.commands)  # lexed as function names
WORDS: dict[str, str] = {w: r.name for r in _RECORDS for w in (*r.commands, *r.words)}  # word -> Call.fn
GREEK: dict[str, str] = {r.greek: r.name for r in _RECORDS if r.greek}  # Greek letter -> Call.fn


def of_kind(k: str) -> tuple[str, ...]:
    """The names of the functions of kind `k`, in record order."""
    return tuple(r.name for r in _RECORDS if r.kind == k)
