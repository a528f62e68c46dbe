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

import re
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
# read off a decomposition (eigenvalues, singular values and vectors, pseudo-inverse, Cholesky and QR
# factors): a per-function shape rule
DECOMPOSITION = "decomposition"
KINDS = (ELEMENTWISE, SCALAR_VALUED, MATRIX, RESHAPING, DECOMPOSITION)

# The snippet dialects a record writes code for: the JAX check script (`jnp`), the NumPy closed
# form (`np`, the same generator with NumPy) and the function dialect (plain NumPy, 1-D vectors).
DIALECT_KEYS = ("jax", "numpy", "function")


@dataclass(frozen=True)
class Code:
    """A function's code in one snippet dialect, as a template. In `text`, `{a}` is the argument's
    code, `{a_atom}` the same parenthesised unless it is an atom, `{xp}` the array module (`jnp` or
    `np`), `{n}` the argument's row count and `{fn}` the function's name.

    For a function with an index (\\lambda_i(X)), `{i}` is the index's code: a 0-based integer.

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
    argument: str  # what it takes: "any", "square", "square, positive stable", "vector or square", "scalar"
    evaluate: Callable  # JAX: the value (a 2-D array) from the argument's value (a 2-D array)
    jax: Code | NoCode
    numpy: Code | NoCode
    function: Code | NoCode
    commands: tuple[str, ...] = ()  # backslash commands read as this function: ("det",) for \det
    words: tuple[str, ...] = ()  # words read as it inside \operatorname{...}, \mathrm, \text, \textrm
    greek: str | None = None  # a Greek letter read as it when that letter is not declared (\sigma)
    written: tuple[str, ...] = ()  # other spellings the grammar gives it, as templates with #1
    rendering: str = ""  # the canonical LaTeX with #1 for the argument; default: latex\left(#1\right)
    shape_rule: Callable | None = None  # reshaping and decompositions: (arg, arg shape, square) -> result shape
    # An indexed function is written as its letter with a subscript index before a bracketed argument,
    # \lambda_i(X) or q_i(X) (the letter undeclared); `evaluate` then takes the 0-based index as well.
    letter: str | None = None
    index_range: Callable | None = None  # indexed: (rows, cols) of the argument -> how many values i takes
    marks: tuple[str, ...] = ()  # superscripts read as this function of their base: X^{+}, X^{\dagger}
    # `matref derive`: (b, Y, dY) -> the differential of this function at Y along dY, built with the
    # tree builders `b` of matref._derive (so this module needs no tree code); None: derive has no rule.
    # An indexed function's rule takes the index as well: (b, Y, dY, i).
    differential: Callable | None = None
    # A matrix function f given by a power series (or analytic on the spectrum): (b, Y) -> f'(Y), the
    # scalar derivative applied to Y. It gives ∂ tr f(Y) = tr(f'(Y) ∂Y), and ∂f(Y) = f'(Y) ∂Y when ∂Y
    # commutes with Y; the differential of f(Y) itself in general has no closed form.
    derivative: Callable | None = None

    def render(self, arg: str, index: str = "i") -> str:
        """The canonical LaTeX of this function applied to the LaTeX `arg` (with `index`, if it takes one)."""
        if self.marks and not _is_symbol(arg):
            arg = rf"\left({arg}\right)"
        template = self.rendering or self.latex + r"\left(#1\right)"
        return template.replace("#1", arg).replace("#i", index)

    @property
    def spellings(self) -> tuple[str, ...]:
        """Every way to write the function that the parser accepts, as templates with #1 (and #i for the index)."""
        out = [rf"\{c}\left(#1\right)" for c in self.commands]
        out += [rf"\{style}{{{w}}}\left(#1\right)" for w in self.words
                for style in ("operatorname", "mathrm", "text", "textrm")]
        if self.greek:
            out.append(rf"\{self.greek}\left(#1\right)")
        if self.letter:
            name = "\\" + self.letter if len(self.letter) > 1 else self.letter
            out += [rf"{name}_{{#i}}\left(#1\right)", f"{name}_#i(#1)"]
            if len(self.letter) == 1:
                out.append(rf"\mathbf{{{self.letter}}}_{{#i}}(#1)")
        out += [f"#1^{{{m}}}" for m in self.marks] + [f"#1^{m}" for m in self.marks]
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


def _is_symbol(text: str) -> bool:
    """Whether LaTeX `text` is one symbol (X, \\Sigma, W_1, \\mathbf{x}), which a superscript may follow bare."""
    return re.fullmatch(r"(\\[A-Za-z]+(\{[A-Za-z]\})?|[A-Za-z])(_\{?[A-Za-z0-9]\}?)?", text) is not None


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


# ----- decompositions: the conventions of the Conventions page, honoured here --------------------------
def _signed(v):
    """`v` (a vector) times the sign of its largest-magnitude entry, so that entry is positive: the
    sign convention of eigenvectors and right singular vectors. The sign is locally constant, so
    derivatives pass through it unchanged."""
    jnp = _jnp()
    return jnp.sign(v[jnp.argmax(jnp.abs(v))])


def _eigval(a, k):
    # eigh reads the symmetric part (a + aᵀ)/2; eigenvalues ascending, as numpy.linalg.eigh
    return _jnp().linalg.eigh(a)[0][k].reshape(1, 1)


def _eigvals(a):
    return _jnp().linalg.eigh(a)[0].reshape(-1, 1)


def _eigvec(a, k):
    v = _jnp().linalg.eigh(a)[1][:, k]
    return (v * _signed(v)).reshape(-1, 1)


def _svd(a, k):
    u, _, vt = _jnp().linalg.svd(a, full_matrices=False)  # singular values descending
    sign = _signed(vt[k])
    return u[:, k] * sign, vt[k] * sign


def _sval(a, k):
    return _jnp().linalg.svd(a, compute_uv=False)[k].reshape(1, 1)


def _qr(a):
    from ._errors import CannotCheck as _CannotCheck
    if a.shape[0] < a.shape[1]:
        raise _CannotCheck("Q(A) and R(A) are the thin QR factors of a tall or square A (m ≥ n); this A is wide")
    jnp = _jnp()
    q, r = jnp.linalg.qr(a)
    d = jnp.sign(jnp.diag(r))  # R's diagonal positive: the factorization is then unique
    return q * d[None, :], d[:, None] * r


def _phi(a):
    jnp = _jnp()
    return jnp.tril(a, -1) + jnp.diag(jnp.diag(a)) / 2


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


def _column_of(rows: bool):
    """A column with as many entries as the argument has rows (or columns)."""
    def rule(arg, shape: Shape, square) -> Shape:
        return (shape[0] if rows else shape[1], ONE)
    return rule


def _square_column(arg, shape: Shape, square) -> Shape:
    return (square(), ONE)


def _transposed(arg, shape: Shape, square) -> Shape:
    return (shape[1], shape[0])


def _r_shape(arg, shape: Shape, square) -> Shape:
    return (shape[1], shape[1])


def _scalar_of_any(arg, shape: Shape, square) -> Shape:
    return SCALAR


def _square_scalar(arg, shape: Shape, square) -> Shape:
    square()
    return SCALAR


def _square_same(arg, shape: Shape, square) -> Shape:
    d = square()
    return (d, d)


# ----- code shared by several records ----------------------------------------------------------------
def _same_name(name: str) -> dict:
    """The code of an elementwise function NumPy and jax.numpy both call `name`."""
    return dict(jax=Code("{xp}.{fn}({a})"), numpy=Code("{xp}.{fn}({a})"), function=Code("np.{fn}({a})"))


# Definitions a snippet adds once when it uses an indexed or factor function; `{xp}` is jnp or np.
# They symmetrize as the evaluation does (NumPy's eigh would read only the lower triangle).
HELPERS = {
    "eigenvector": '''def eigenvector(a, i):
    """The unit eigenvector of (a + a.T) / 2 for its i-th smallest eigenvalue (0-based),
    signed so that its largest-magnitude entry is positive."""
    v = {xp}.linalg.eigh((a + a.T) / 2)[1][:, i]
    return v * {xp}.sign(v[{xp}.argmax({xp}.abs(v))])''',
    "singular_vectors": '''def singular_vectors(a, i):
    """(u_i, v_i) for the i-th largest singular value (0-based), signed so that the largest-
    magnitude entry of v_i is positive."""
    u, _, vt = {xp}.linalg.svd(a, full_matrices=False)
    sign = {xp}.sign(vt[i][{xp}.argmax({xp}.abs(vt[i]))])
    return u[:, i] * sign, vt[i] * sign''',
    "toeplitz_of": '''def toeplitz_of(a):
    """The Toeplitz matrix with the first column and the first row of a square a."""
    i, j = {xp}.indices(a.shape)
    return {xp}.where(i >= j, a[i - j, 0], a[0, j - i])''',
    "diagonal_sums": '''def diagonal_sums(a):
    """The Toeplitz matrix whose (i, j) entry is the sum of a's diagonal j - i (the Cookbook's alpha)."""
    n = a.shape[0]
    sums = {xp}.array([{xp}.trace(a, offset=k) for k in range(1 - n, n)])  # a's diagonal k = a.T's diagonal -k
    i, j = {xp}.indices(a.shape)
    return sums[i - j + n - 1]''',
    "qr_positive": '''def qr_positive(a):
    """The thin QR factors of a tall or square a, with R's diagonal positive."""
    q, r = {xp}.linalg.qr(a)
    d = {xp}.sign({xp}.diag(r))
    return q * d[None, :], d[:, None] * r''',
    # JAX's own sqrtm has no derivative (it goes through a complex Schur form) and JAX has no logm: these
    # are the iterations the checker uses (matref._numeric.sqrtm, logm), plain rational functions of X.
    # Neither JAX nor NumPy has an adjugate.
    "sqrtm": '''def sqrtm(X):
    """Principal square root: the product-form Denman-Beavers iteration (differentiable)."""
    Y, M, I = X, X, {xp}.eye(X.shape[0])
    for _ in range(10):
        M_inv = {xp}.linalg.inv(M)
        Y, M = Y @ (I + M_inv) / 2, (I + (M + M_inv) / 2) / 2
    return Y''',
    "logm": '''def logm(X):
    """Principal logarithm: 6 square roots, then 64 * 2 atanh((R - I)(R + I)^-1) as a series."""
    I, R = {xp}.eye(X.shape[0]), X
    for _ in range(6):
        Y, M = R, R
        for _ in range(10):
            M_inv = {xp}.linalg.inv(M)
            Y, M = Y @ (I + M_inv) / 2, (I + (M + M_inv) / 2) / 2
        R = Y
    Z = {xp}.linalg.solve((R + I).T, (R - I).T).T
    return 128 * sum({xp}.linalg.matrix_power(Z, 2 * k + 1) / (2 * k + 1) for k in range(14))''',
    "adjugate": '''def adjugate(X):
    """The adjugate from cofactors (minors), so that it exists for a singular X too."""
    n = X.shape[0]
    minor = lambda i, j: {xp}.delete({xp}.delete(X, i, axis=0), j, axis=1)
    return {xp}.array([[(-1) ** (i + j) * {xp}.linalg.det(minor(i, j)) for i in range(n)] for j in range(n)])''',
}


def helper_code(name: str, xp: str) -> str:
    """The text of HELPERS[name] for the array module `xp`."""
    return HELPERS[name].replace("{xp}", xp)


def _both(text: str, function: str | None = None, helper: str | None = None, **kw) -> dict:
    """The same template in the JAX and NumPy dialects; `function` for the function dialect (1-D vectors)."""
    return dict(jax=Code(text, helper=helper, **kw), numpy=Code(text, helper=helper, **kw),
                function=Code(function if function is not None else text.replace("{xp}", "np"), helper=helper, **kw))


_NO_MATRIX_FUNCTIONS = NoCode("NumPy has no matrix exponential, sine or cosine (SciPy has)")
_NO_ROOT_LOG = NoCode("NumPy has no matrix square root or logarithm (SciPy has)")
_NO_ADJUGATE = NoCode("NumPy has no adjugate, and det(X) X^{-1} does not exist for a singular X, which is "
                      "where the adjugate matters")


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
        "abs", r"\left|\cdot\right|", "the absolute value of a scalar (the modulus of a complex one)",
        written=(r"\left|#1\right|", "|#1|"), rendering=r"\left|#1\right|", argument="scalar",
        differential=lambda b, y, dy: b.div(b.mul(y, dy), b.call("abs", y))),  # d|t| = t dt / |t| (real t ≠ 0)
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
                        # 1 + tan(t)^2, elementwise (1 is 𝟏 or 𝟏𝟏ᵀ for a vector or matrix t)
                        differential=lambda b, y, dy: b.elementwise(
                            b.one_plus(b.square(b.call("tan", y))), dy)),
    _elementwise_record("tanh", r"\tanh", "the hyperbolic tangent, elementwise", commands=("tanh",), words=("tanh",),
                        # 1 - tanh(t)^2, elementwise
                        differential=lambda b, y, dy: b.elementwise(
                            b.one_minus(b.square(b.call("tanh", y))), dy)),
    # The inverse trigonometric functions; arcsin and arccos are real on [-1, 1] only, so a draw outside
    # gives "cannot check" unless the formula keeps the argument there (e.g. \arcsin(\tanh t))
    _elementwise_record("arctan", r"\arctan", "the inverse tangent, elementwise", commands=("arctan",),
                        words=("arctan",),
                        # 1 / (1 + t^2), elementwise
                        differential=lambda b, y, dy: b.over(b.one_plus(b.square(y)), dy)),
    _elementwise_record("arcsin", r"\arcsin", "the inverse sine, elementwise", argument="entries in [-1, 1]",
                        commands=("arcsin",), words=("arcsin",),
                        # 1 / sqrt(1 - t^2), elementwise
                        differential=lambda b, y, dy: b.over(
                            b.call("sqrt", b.one_minus(b.square(y))), dy)),
    _elementwise_record("arccos", r"\arccos", "the inverse cosine, elementwise", argument="entries in [-1, 1]",
                        commands=("arccos",), words=("arccos",),
                        differential=lambda b, y, dy: b.neg(b.over(
                            b.call("sqrt", b.one_minus(b.square(y))), dy))),
    _elementwise_record(
        "sigmoid", r"\sigma", r"the logistic sigmoid $1 / (1 + e^{-t})$, elementwise (when $\sigma$ is not declared)",
        greek="sigma", evaluate=lambda a: _jax().nn.sigmoid(a),
        jax=Code("jax.nn.sigmoid({a})"), numpy=Code("1 / (1 + np.exp(-{a_atom}))", binds="product"),
        # exp(-log(1 + exp(-t))): no overflow for either sign of t (the dialect's helper says so)
        function=Code("sigmoid({a})", helper="sigmoid"),
        # σ(t)(1 - σ(t)), elementwise
        differential=lambda b, y, dy: b.elementwise(b.elementwise(
            b.call("sigmoid", y), b.one_minus(b.call("sigmoid", y))), dy)),
    _elementwise_record("sqrt", r"\sqrt", "the square root, elementwise", commands=("sqrt",), words=("sqrt",),
                        written=(r"\sqrt{#1}",), rendering=r"\sqrt{#1}",
                        differential=lambda b, y, dy: b.over(b.mul(b.num(2), b.call("sqrt", y)), dy)),
    # Complex values (complex declarations: \mathbb{C}, \mathbb{H}). The conjugate transpose Z^H is the
    # transpose of the conjugate: conj commutes with transposition, so the layout rule needs no new case.
    _elementwise_record(
        "conj", r"\overline", r"the complex conjugate, elementwise: `\bar{z}`, `\overline{Z}`; `Z^H` is "
        r"$\overline{Z}^T$ (`Z^*` only of a scalar: of a matrix it means the conjugate in the Matrix Cookbook "
        "and the conjugate transpose elsewhere, so matref refuses to guess)",
        words=("conj",), written=(r"\bar{#1}", r"\overline{#1}"), rendering=r"\overline{#1}"),
    _elementwise_record(
        "real", r"\operatorname{Re}", r"the real part, elementwise (`\Re` too)", commands=("Re",),
        words=("Re", "real")),
    _elementwise_record(
        "imag", r"\operatorname{Im}", r"the imaginary part, elementwise (`\Im` too)", commands=("Im",),
        words=("Im", "imag")),
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
        derivative=lambda b, y: b.call("expm", y),
        jax=Code("jax.scipy.linalg.expm({a})"), numpy=_NO_MATRIX_FUNCTIONS,
        function=Code("scipy.linalg.{fn}({a})", helper="scipy")),
    Function(
        name="sinm", kind=MATRIX, latex=r"\operatorname{sinm}", argument="square", words=("sinm",),
        meaning=r"the matrix sine (its power series; `\sin` stays elementwise)", evaluate=_sin_cos_m("sin"),
        derivative=lambda b, y: b.call("cosm", y),
        # sin A = Im exp(iA) for a real A
        jax=Code("jax.scipy.linalg.expm(1j * {a_atom}).imag"), numpy=_NO_MATRIX_FUNCTIONS,
        function=Code("scipy.linalg.{fn}({a})", helper="scipy")),
    Function(
        name="cosm", kind=MATRIX, latex=r"\operatorname{cosm}", argument="square", words=("cosm",),
        meaning=r"the matrix cosine (its power series; `\cos` stays elementwise)", evaluate=_sin_cos_m("cos"),
        derivative=lambda b, y: b.neg(b.call("sinm", y)),
        # cos A = Re exp(iA) for a real A
        jax=Code("jax.scipy.linalg.expm(1j * {a_atom}).real"), numpy=_NO_MATRIX_FUNCTIONS,
        function=Code("scipy.linalg.{fn}({a})", helper="scipy")),
    Function(
        name="sqrtm", kind=MATRIX, latex=r"\operatorname{sqrtm}", argument="square, positive stable", words=("sqrtm",),
        meaning=r"the principal matrix square root, the one whose eigenvalues have positive real part: it exists "
                r"for a matrix with no eigenvalue on the closed negative real axis (declare it "
                r"`\text{positive stable}`); `\sqrt` stays elementwise",
        evaluate=lambda a: _numeric().sqrtm(a),
        derivative=lambda b, y: b.div(b.inv(b.call("sqrtm", y)), b.num(2)),  # (1/2) Y^{-1/2}
        # JAX's own sqrtm goes through a complex Schur form without a derivative: the snippet defines
        # a differentiable one (the iteration the checker uses)
        jax=Code("sqrtm({a})", helper="sqrtm"), numpy=_NO_ROOT_LOG,
        function=Code("scipy.linalg.{fn}({a})", helper="scipy")),
    Function(
        name="logm", kind=MATRIX, latex=r"\operatorname{logm}", argument="square, positive stable", words=("logm",),
        meaning=r"the principal matrix logarithm, the one whose eigenvalues have imaginary part in "
                r"$(-\pi, \pi)$: real for a real matrix with no eigenvalue on the closed negative real axis "
                r"(declare it `\text{positive stable}`); `\log` stays elementwise",
        evaluate=lambda a: _numeric().logm(a),
        derivative=lambda b, y: b.inv(y),
        jax=Code("logm({a})", helper="logm"), numpy=_NO_ROOT_LOG,
        function=Code("scipy.linalg.{fn}({a})", helper="scipy")),
    Function(
        name="adj", kind=MATRIX, latex=r"\operatorname{adj}", argument="square", words=("adj",),
        meaning="the adjugate (transposed cofactor matrix), also of a singular matrix",
        evaluate=lambda a: _numeric().adjugate(a),
        # JAX has none either: the JAX script defines one from cofactors
        jax=Code("adjugate({a})", helper="adjugate"), numpy=_NO_ADJUGATE, function=_NO_ADJUGATE),
)

_SPECTRAL = (
    Function(
        name="eigval", kind=DECOMPOSITION, latex=r"\lambda_i", argument="square", letter="lambda",
        meaning=r"the $i$-th smallest eigenvalue of a symmetric matrix, $\lambda_1 \le \dots \le \lambda_n$ "
                r"(of the symmetric part $(X + X^T)/2$ when $X$ is not symmetric)",
        rendering=r"\lambda_{#i}\left(#1\right)", shape_rule=_square_scalar, index_range=lambda r, c: r,
        evaluate=_eigval, **_both("{xp}.linalg.eigvalsh(({a} + {a_atom}.T) / 2)[{i}]"),
        # ∂λ_i = q_iᵀ ∂Y q_i for a simple eigenvalue (Magnus & Neudecker ch. 8); λ_i reads the symmetric
        # part of Y, and q_iᵀ ∂Y q_i = q_iᵀ sym(∂Y) q_i, so the rule holds for any direction ∂Y
        differential=lambda b, y, dy, i: b.mul(b.t(b.call("eigvec", y, i)), dy, b.call("eigvec", y, i))),
    Function(
        name="eigvals", kind=DECOMPOSITION, latex=r"\lambda", argument="square", greek="lambda",
        meaning=r"the vector of all eigenvalues of a symmetric matrix, ascending: $\lambda(X) = (\lambda_1(X), "
                r"\dots, \lambda_n(X))^T$, so $\operatorname{diag}(\lambda(X))$ is $\Lambda$ in $X = Q \Lambda Q^T$ "
                r"(when $\lambda$ is not declared)",
        shape_rule=_square_column, evaluate=_eigvals,
        **_both("{xp}.linalg.eigvalsh(({a} + {a_atom}.T) / 2)[:, None]", "np.linalg.eigvalsh(({a} + {a_atom}.T) / 2)")),
    Function(
        name="eigvec", kind=DECOMPOSITION, latex=r"q_i", argument="square", letter="q",
        meaning=r"the unit eigenvector of a symmetric matrix for $\lambda_i$, its largest-magnitude entry positive",
        rendering=r"q_{#i}\left(#1\right)", shape_rule=_square_column, index_range=lambda r, c: r,
        evaluate=_eigvec, **_both("eigenvector({a}, {i})[:, None]", "eigenvector({a}, {i})", helper="eigenvector")),
    Function(
        name="sval", kind=DECOMPOSITION, latex=r"\sigma_i", argument="any", letter="sigma",
        meaning=r"the $i$-th largest singular value, $\sigma_1 \ge \dots \ge \sigma_{\min(m, n)}$ "
                r"($\sigma$ without an index stays the sigmoid)",
        rendering=r"\sigma_{#i}\left(#1\right)", shape_rule=_scalar_of_any, index_range=min,
        evaluate=_sval, **_both("{xp}.linalg.svd({a}, compute_uv=False)[{i}]"),
        # ∂σ_i = u_iᵀ ∂Y v_i for a simple nonzero singular value
        differential=lambda b, y, dy, i: b.mul(b.t(b.call("lsvec", y, i)), dy, b.call("rsvec", y, i))),
    Function(
        name="lsvec", kind=DECOMPOSITION, latex=r"u_i", argument="any", letter="u",
        meaning=r"the left singular vector for $\sigma_i$: $X v_i = \sigma_i u_i$",
        rendering=r"u_{#i}\left(#1\right)", shape_rule=_column_of(rows=True), index_range=min,
        evaluate=lambda a, k: _svd(a, k)[0].reshape(-1, 1),
        **_both("singular_vectors({a}, {i})[0][:, None]", "singular_vectors({a}, {i})[0]", helper="singular_vectors")),
    Function(
        name="rsvec", kind=DECOMPOSITION, latex=r"v_i", argument="any", letter="v",
        meaning=r"the right singular vector for $\sigma_i$, its largest-magnitude entry positive",
        rendering=r"v_{#i}\left(#1\right)", shape_rule=_column_of(rows=False), index_range=min,
        evaluate=lambda a, k: _svd(a, k)[1].reshape(-1, 1),
        **_both("singular_vectors({a}, {i})[1][:, None]", "singular_vectors({a}, {i})[1]", helper="singular_vectors")),
    Function(
        name="pinv", kind=DECOMPOSITION, latex=r"X^{+}", argument="any", marks=("+", r"\dagger"),
        meaning=r"the Moore-Penrose pseudo-inverse; $X^{\dagger}$ is the same",
        rendering="#1^{+}", shape_rule=_transposed,
        evaluate=lambda a: _jnp().linalg.pinv(a), **_both("{xp}.linalg.pinv({a})")),
    Function(
        name="chol", kind=DECOMPOSITION, latex=r"\operatorname{chol}", argument="positive definite", words=("chol",),
        meaning=r"the Cholesky factor: lower triangular $L$ with positive diagonal and $L L^T = X$ "
                r"(of the symmetric part of $X$)",
        shape_rule=_square_same, evaluate=lambda a: _jnp().linalg.cholesky(a),
        **_both("{xp}.linalg.cholesky(({a} + {a_atom}.T) / 2)"),
        # ∂L = L Φ(L⁻¹ ∂S L⁻ᵀ) for L = chol(Y) and ∂S = (∂Y + ∂Yᵀ)/2: chol reads the symmetric part
        # of Y, so the rule holds for every direction ∂Y, symmetric or not
        differential=lambda b, y, dy: b.mul(b.call("chol", y), b.call("phi", b.mul(
            b.inv(b.call("chol", y)), b.div(b.add([(1, dy), (1, b.t(dy))], dy.shape), b.num(2)),
            b.t(b.inv(b.call("chol", y))))))),
    Function(
        name="qr_q", kind=DECOMPOSITION, latex=r"\operatorname{Q}", argument="any", words=("Q",),
        meaning=r"the thin QR factor $Q$ of a tall or square $A = Q R$ (orthonormal columns; $R$'s diagonal positive)",
        shape_rule=lambda arg, shape, square: shape, evaluate=lambda a: _qr(a)[0],
        **_both("qr_positive({a})[0]", helper="qr_positive")),
    Function(
        name="qr_r", kind=DECOMPOSITION, latex=r"\operatorname{R}", argument="any", words=("R",),
        meaning=r"the thin QR factor $R$ of a tall or square $A = Q R$ (upper triangular, diagonal positive)",
        shape_rule=_r_shape, evaluate=lambda a: _qr(a)[1],
        **_both("qr_positive({a})[1]", helper="qr_positive")),
    Function(
        name="toeplitz", kind=RESHAPING, latex=r"\operatorname{toeplitz}", argument="square", words=("toeplitz",),
        meaning=r"the Toeplitz matrix with the first column and first row of $X$ (so $X$ itself for a Toeplitz $X$). "
                r"Differentiating by $\operatorname{toeplitz}(T)$, for $T$ declared `\text{Toeplitz}`, is by $T$'s free "
                r"values, one per diagonal (per pair of diagonals $\pm k$ for a symmetric $T$), laid out as a Toeplitz "
                r"matrix: the $(i, j)$ entry is the derivative by the value on $T$'s diagonal $i - j$, as in the Cookbook",
        shape_rule=lambda arg, shape, square: (square(), square()), evaluate=lambda a: _numeric().toeplitz_of(a),
        **_both("toeplitz_of({a})", helper="toeplitz_of")),
    Function(
        name="alpha", kind=MATRIX, latex=r"\alpha", argument="square", greek="alpha",
        meaning=r"the Cookbook's $\alpha(A)$ (when $\alpha$ is not declared): the Toeplitz matrix whose $(i, j)$ entry is "
                r"the sum of the diagonal of $A^T$ through $(i, j)$, $\alpha(A)_{ij} = \sum_{q - p = i - j} A_{pq}$",
        evaluate=lambda a: _numeric().diagonal_sums(a), **_both("diagonal_sums({a})", helper="diagonal_sums")),
    Function(
        name="phi", kind=MATRIX, latex=r"\Phi", argument="square", greek="Phi",
        meaning=r"the lower triangle with the diagonal halved, $\Phi(X)_{ij} = X_{ij}$ ($i > j$), "
                r"$X_{ii}/2$ ($i = j$), $0$ ($i < j$), as in the Cholesky derivative (when $\Phi$ is not declared)",
        evaluate=_phi, **_both("({xp}.tril({a}, -1) + {xp}.diag({xp}.diag({a})) / 2)"),
        differential=lambda b, y, dy: b.call("phi", dy)),  # linear: an entrywise mask
)
_RECORDS = _RECORDS + _SPECTRAL

FUNCTIONS: dict[str, Function] = {r.name: r for r in _RECORDS}

# The parser's tables, read off the records.
COMMANDS: frozenset[str] = frozenset(c for r in _RECORDS for c in r.commands)  # lexed as function names
WORDS: dict[str, str] = {w: r.name for r in _RECORDS for w in (*r.commands, *r.words)}  # word -> Call.fn
GREEK: dict[str, str] = {r.greek: r.name for r in _RECORDS if r.greek}  # Greek letter -> Call.fn
LETTERS: dict[str, str] = {r.letter: r.name for r in _RECORDS if r.letter}  # \lambda_i(X), q_i(X) -> Call.fn
MARKS: dict[str, str] = {m: r.name for r in _RECORDS for m in r.marks}  # X^{+} -> Call.fn


def of_kind(k: str) -> tuple[str, ...]:
    """The names of the functions of kind `k`, in record order."""
    return tuple(r.name for r in _RECORDS if r.kind == k)
