"""What the dialects share: Python names for symbols, the translation of a typed tree into array
code (2-D arrays: vectors n×1, scalars 0-d or 1×1, as the tree has them), the lines that draw
random inputs honouring the declarations, and PEP 8 assembly of a script.

Every node type the generator does not know raises `UnsupportedNode` (a `CannotCheck`), so a new
node in the language fails loudly in the harness and on the site build, never as wrong code.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass, field

from .._errors import Unsupported
from .._functions import DECOMPOSITION, ELEMENTWISE, FUNCTIONS, HELPERS, SCALAR_VALUED, Code, helper_code
from .._language import Identity, parse_identity
from .._operators import OPERATORS, Operand
from .._shapes import Dim, kind
from .._tree import (Add, Binary, Block, Call, Const, Deriv, Differential, Div, Entry, FnValue, Hessian, Integral,
                     Inverse, Mul, Node, Norm, Num, Param, Pattern, Power, Size, Transpose, Unit, Var, same_variable)

class UnsupportedNode(Unsupported):
    """The snippet generator has no translation for a node of the tree (e.g. one the language gained
    after the dialects were written). Names the node and the dialect."""

    def __init__(self, what: str, dialect: str):
        self.what, self.dialect = what, dialect
        super().__init__(f"the {dialect} snippet generator does not support {what} yet")


# Binding strength of generated Python: a weaker child gets parentheses.
P_ADD, P_MUL, P_UNARY, P_POW, P_ATOM = 1, 2, 3, 4, 5


def _ident(name: str) -> str:
    """A Python name for a symbol: `W_1` stays, `lambda` becomes `lambda_` (a keyword)."""
    name = re.sub(r"\W", "_", name)
    return name + "_" if keyword.iskeyword(name) else name


def _free_name(ident: Identity, also: set[str] = frozenset()) -> str:
    """A function name clashing with no symbol, dimension letter or name in `also`."""
    taken = {_ident(n) for n in ident.decls} | set(ident.sizes) | set(also)
    return next(c for c in ["f", "g", "h", "phi", "psi"] + [f"f{i}" for i in range(2, 99)] if c not in taken)


@dataclass
class _Code:
    text: str
    prec: int = P_ATOM
    rank: int = 2  # 0 for a 0-d scalar (trace, det, norm, declared scalar), else 2

    def wrap(self, at_least: int) -> str:
        return f"({self.text})" if self.prec < at_least else self.text


def operand(c: _Code, form: str = "matrix") -> Operand:
    """An operand's code as an operator record takes it (see `_operators.Operand`)."""
    return Operand(c.text, c.wrap(P_ATOM), c.wrap(P_UNARY), form)


def infix(code: tuple[str, str]) -> _Code:
    """An operator record's (code, binds) as a code object."""
    text, binds = code
    return _Code(text, P_MUL if binds == "product" else P_ATOM)


def fill(code: Code, node: Call, a: _Code, dim, xp: str, rank: int = 2) -> _Code:
    """The code of `node` from its record's template (see `_functions.Code`): `a` is the argument's
    code, `dim` the generator's way of writing a size."""
    code = code.for_argument(kind(node.arg.shape))
    if code.binds == "argument":
        return a
    n = dim(node.arg.shape[0]) if "{n}" in code.text else ""
    # the index: a letter the script defines (0-based), or the written 1-based number made 0-based
    i = node.index if isinstance(node.index, str) else "" if node.index is None else str(node.index - 1)
    text = code.text.format(a=a.text, a_atom=a.wrap(P_ATOM), xp=xp, n=n, fn=node.fn, i=i)
    return _Code(text, P_MUL if code.binds == "product" else P_ATOM, rank)


UNVECH = '''def unvech(v, n):
    """The symmetric n×n matrix whose lower triangle, column by column, is v."""
    upper = jnp.zeros((n, n)).at[jnp.triu_indices(n)].set(v.ravel())
    return upper + upper.T - jnp.diag(jnp.diag(upper))'''


# The variable of a derivative by \operatorname{toeplitz}(T): T + toeplitz_sums(V - T) at V = T moves every
# entry of a diagonal together, and its gradient in V is laid out as a Toeplitz matrix.
TOEPLITZ_SUMS = '''def toeplitz_sums(e, symmetric):
    """Each entry replaced by the sum of its diagonal (of its diagonals +-k when symmetric)."""
    n = e.shape[0]
    i, j = np.indices((n, n))
    k = np.abs(i - j) if symmetric else i - j
    same = (k.reshape(-1, 1) == k.reshape(1, -1)).astype(float)  # (p, q) and (r, s) on one diagonal
    return (jnp.asarray(same) @ e.reshape(-1)).reshape(n, n)'''


# The quadrature an integral's code uses: the checker's rule (matref._numeric.QUAD_NODES points).
GAUSS_LEGENDRE = '''def gauss_legendre(k, lo, hi):
    """Nodes and weights of the k-point Gauss-Legendre rule on [lo, hi]."""
    t, w = np.polynomial.legendre.leggauss(k)
    return lo + (hi - lo) * (t + 1) / 2, (hi - lo) * w / 2'''
QUAD_NODES = 48  # as matref._numeric.QUAD_NODES (not imported: that module imports JAX)
# The commutation and duplication matrices (as matref._numeric builds them), for both array modules.
PATTERNS = {
    "K": '''def commutation(m, n):
    """K_mn: the mn x mn permutation with K vec(A) = vec(A^T) for an m x n A."""
    K = np.zeros((m * n, m * n))
    for i in range(m):
        for j in range(n):
            K[j + i * n, i + j * m] = 1
    return K''',
    "D": '''def duplication(n):
    """D_n: the n^2 x n(n+1)/2 matrix with D vech(S) = vec(S) for a symmetric n x n S."""
    D = np.zeros((n * n, n * (n + 1) // 2))
    k = 0
    for j in range(n):
        for i in range(j, n):
            D[i + j * n, k] = D[j + i * n, k] = 1
            k += 1
    return D''',
}


@dataclass
class _Gen:
    ident: Identity
    xp: str  # "jnp" or "np"
    defs: list[str] = field(default_factory=list)
    helpers: set[str] = field(default_factory=set)
    count: int = 0

    @property
    def dialect(self) -> str:
        return "JAX" if self.xp == "jnp" else "NumPy"

    def dim(self, d: Dim) -> str:
        parts = [str(d.coeff)] if d.coeff != 1 or not d.factors else []
        factors = [f"({f[4:-1]} * ({f[4:-1]} + 1) // 2)" if f.startswith("tri(") else f for f in d.factors]
        return " * ".join(parts + factors)

    def shape(self, node: Node) -> str:
        return f"({self.dim(node.shape[0])}, {self.dim(node.shape[1])})"

    def scalar0(self, c: _Code) -> str:
        """A 0-d scalar from code that may be a 1×1 array (jax.grad needs 0-d outputs)."""
        return c.text if c.rank == 0 else f"{c.wrap(P_ATOM)}[0, 0]"

    def expr(self, node: Node, bound: dict[str, str]) -> _Code:  # noqa: C901 - one case per node type
        xp = self.xp
        if isinstance(node, Var):
            name = bound.get(node.name, _ident(node.name))
            return _Code(name, rank=0 if kind(node.shape) == "scalar" else 2)
        if isinstance(node, FnValue):
            if ("fn:" + node.name) in bound:
                return _Code(bound["fn:" + node.name])
            arg = self.expr(node.arg, bound)
            return _Code(f"{_ident(node.name)}({arg.text})", rank=0 if kind(node.shape) == "scalar" else 2)
        if isinstance(node, Entry):  # X_{ij}, c_i: one entry of a 2-D array (a written number is 1-based)
            at = [str(i - 1) if isinstance(i, int) else i for i in node.indices]
            if len(at) == 1:
                at = [at[0], "0"] if node.var.shape[1].is_one else ["0", at[0]]
            return _Code(f"{self.expr(node.var, bound).wrap(P_ATOM)}[{at[0]}, {at[1]}]", rank=0)
        if isinstance(node, Unit):  # J^{ij}: 1 at (i, j), 0 elsewhere
            (i, j), (r, c) = node.indices, (self.dim(node.shape[0]), self.dim(node.shape[1]))
            return _Code(f"{xp}.outer({xp}.eye({r})[{i}], {xp}.eye({c})[{j}])")
        if isinstance(node, Num):
            v = node.value
            return _Code(str(int(v)) if v == int(v) else repr(v), rank=0)
        if isinstance(node, Param):
            return _Code(bound.get("param:" + node.name, _ident(node.name)), rank=0)
        if isinstance(node, Block):
            rows = ", ".join("[" + ", ".join(self.expr(b, bound).text for b in row) + "]" for row in node.rows)
            return _Code(f"{xp}.block([{rows}])")
        if isinstance(node, Size):  # a dimension letter as a number: the script defines the sizes
            return _Code(self.dim(Dim(1, (node.name,))), rank=0)
        if isinstance(node, Pattern):
            self.helpers.add(PATTERNS[node.which])
            name = "commutation" if node.which == "K" else "duplication"
            return _Code(f"{xp}.asarray({name}({', '.join(self.dim(d) for d in node.dims)}))")
        if isinstance(node, Integral):  # a Gauss-Legendre sum over the nodes
            self.helpers.add(GAUSS_LEGENDRE)
            v = _ident(node.var)
            body = self.expr(node.body, {**bound, "param:" + node.var: v})
            rule = f"gauss_legendre({QUAD_NODES}, {node.lo!r}, {node.hi!r})"
            return _Code(f"sum(w * {body.wrap(P_UNARY)} for {v}, w in zip(*{rule}))", P_ATOM, body.rank)
        if isinstance(node, Const):
            if node.which == "I":
                return _Code(f"{xp}.eye({self.dim(node.shape[0])})")
            if node.which == "pi":
                return _Code(f"{xp}.pi", rank=0)
            if node.which == "i":
                return _Code("1j", rank=0)
            return _Code(f"{xp}.{'ones' if node.which == '1' else 'zeros'}({self.shape(node)})")
        if isinstance(node, Add):
            parts, rank = [], 0
            for i, (sign, term) in enumerate(node.terms):
                c = self.expr(term, bound)
                rank = max(rank, c.rank)
                text = c.wrap(P_MUL if sign > 0 or i == 0 else P_MUL)
                parts.append(("-" if sign < 0 else "") + text if i == 0 else ("- " if sign < 0 else "+ ") + text)
            return _Code(" ".join(parts), P_ADD, rank)
        if isinstance(node, Mul):
            codes = [self.expr(f, bound) for f in node.factors]
            text, rank = codes[0].wrap(P_MUL), codes[0].rank
            acc = node.factors[0].shape  # shape of the product so far: a 1×1 one scales the next factor
            for f, c in zip(node.factors[1:], codes[1:]):
                scalar = kind(acc) == "scalar" or kind(f.shape) == "scalar"
                text += (" * " if scalar else " @ ") + c.wrap(P_UNARY)
                rank = max(rank, c.rank) if scalar else 2
                acc = f.shape if kind(acc) == "scalar" else acc if kind(f.shape) == "scalar" else (acc[0], f.shape[1])
            return _Code(text, P_MUL, rank)
        if isinstance(node, Binary):
            a, b = self.expr(node.left, bound), self.expr(node.right, bound)
            return infix(OPERATORS[node.op].code(operand(a), operand(b), xp))
        if isinstance(node, Transpose):
            c = self.expr(node.x, bound)
            return c if c.rank == 0 else _Code(f"{c.wrap(P_ATOM)}.T")
        if isinstance(node, Inverse):
            return _Code(f"{xp}.linalg.inv({self.expr(node.x, bound).text})")
        if isinstance(node, Power):
            base = self.expr(node.x, bound)
            if kind(node.x.shape) == "scalar":
                return _Code(f"{base.wrap(P_ATOM)} ** {self.expr(node.p, bound).wrap(P_ATOM)}", P_POW, base.rank)
            return _Code(f"{xp}.linalg.matrix_power({base.text}, {int(node.p.value)})")
        if isinstance(node, Div):
            num, den = self.expr(node.num, bound), self.expr(node.den, bound)
            return _Code(f"{num.wrap(P_MUL)} / {den.wrap(P_UNARY)}", P_MUL, max(num.rank, den.rank))
        if isinstance(node, Call):
            return self.call(node, bound)
        if isinstance(node, Norm):
            a = self.expr(node.x, bound)
            if node.p == "2" and kind(node.x.shape) == "matrix":
                return _Code(f"{xp}.linalg.norm({a.text}, 2)", rank=0)
            if node.p == "*":
                return _Code(f'{xp}.linalg.norm({a.text}, "nuc")', rank=0)
            if node.p == "1":
                return _Code(f"{xp}.linalg.norm({a.text}, 1)" if kind(node.x.shape) == "matrix"
                             else f"{xp}.abs({a.text}).sum()", rank=0)
            return _Code(f"{xp}.linalg.norm({a.text})", rank=0)
        if isinstance(node, Deriv):
            return self.derivative(node, bound)
        if isinstance(node, Hessian):
            return self.hessian(node, bound)
        if isinstance(node, Differential):
            return self.differential(node, bound)
        raise UnsupportedNode(f"the node {type(node).__name__}", self.dialect)

    def call(self, node: Call, bound) -> _Code:
        xp, a = self.xp, self.expr(node.arg, bound)
        record = FUNCTIONS.get(node.fn)
        code = record.code("jax" if xp == "jnp" else "numpy") if record else None
        if not isinstance(code, Code):
            raise UnsupportedNode(f"the function {node.fn!r}", self.dialect)
        # A scalar-valued function gives a 0-d scalar; an elementwise one keeps its argument's rank.
        rank = 0 if record.kind == SCALAR_VALUED else a.rank if record.kind == ELEMENTWISE else 2
        if record.kind == DECOMPOSITION and kind(node.shape) == "scalar":  # \lambda_i(X), \sigma_i(X)
            rank = 0
        helper = code.for_argument(kind(node.arg.shape)).helper
        if helper in HELPERS:  # a definition the record's code calls (eigenvector, sqrtm, adjugate, ...)
            self.helpers.add(helper_code(helper, xp))
        return fill(code, node, a, self.dim, xp, rank)

    # ----- derivatives (JAX only) -----------------------------------------------------------------
    def _variable(self, wrt: Node, bound) -> tuple[str, str, dict[str, str]]:
        """(parameter name, starting point code, bindings inside the function) for a variable."""
        if isinstance(wrt, Var):
            p = _ident(wrt.name)
            return p, bound.get(wrt.name, p), {**bound, wrt.name: p}
        if isinstance(wrt, FnValue):
            p = _ident(wrt.name)
            return p, self.expr(wrt, bound).text, {**bound, "fn:" + wrt.name: p}
        if isinstance(wrt, Entry):  # X_{ij}: the function of that one entry
            X = bound.get(wrt.var.name, _ident(wrt.var.name))
            at = ", ".join(wrt.indices) if len(wrt.indices) == 2 else \
                (f"{wrt.indices[0]}, 0" if wrt.var.shape[1].is_one else f"0, {wrt.indices[0]}")
            return "v", f"{X}[{at}]", {**bound, wrt.var.name: f"jnp.asarray({X}).at[{at}].set(v)"}
        if wrt.fn in ("real", "imag"):  # by the real (imaginary) part: the other part stays
            X = bound.get(wrt.arg.name, _ident(wrt.arg.name))
            rebuilt = f"(v + 1j * jnp.imag({X}))" if wrt.fn == "real" else f"(jnp.real({X}) + 1j * v)"
            return "v", f"jnp.{wrt.fn}({X})", {**bound, wrt.arg.name: rebuilt}
        x = wrt.arg  # vec(X), vech(X), diag(X) or toeplitz(T)
        if wrt.fn == "toeplitz":  # one value per diagonal (per pair ±k when symmetric), as the checker does
            X = self.expr(x, bound).wrap(P_ATOM)
            sym = bool(self.ident.decls[x.name].props & {"symmetric", "spd", "psd"})
            self.helpers.add(TOEPLITZ_SUMS)
            return "v", X, {**bound, x.name: f"({X} + toeplitz_sums(v - {X}, {sym}))"}
        r, c = self.dim(x.shape[0]), self.dim(x.shape[1])
        start = self.expr(wrt, bound).text
        if wrt.fn == "vech":
            self.helpers.add(UNVECH)
            return "v", start, {**bound, x.name: f"unvech(v, {r})"}
        if wrt.fn == "diag":
            X = self.expr(x, bound).wrap(P_ATOM)
            return "d", start, {**bound, x.name: f"({X} + jnp.diag((d - {start}).ravel()))"}
        return "v", start, {**bound, x.name: f"v.reshape({c}, {r}).T"}

    def _function(self, body: Node, param: str, inner: dict[str, str], scalar: bool) -> str:
        """A named function (at top level) or a lambda (inside another function) of `param`."""
        code = self.expr(body, inner)
        if isinstance(body, FnValue) and code.text == f"{_ident(body.name)}({param})":
            return _ident(body.name)  # differentiate the function symbol itself
        ret = self.scalar0(code) if scalar else code.text
        if inner.keys() - self.ident.decls.keys() - {k for k in inner if k.startswith("fn:")} or len(inner) > 1:
            return f"(lambda {param}: {ret})"
        name = _free_name(self.ident, {d.split("(")[0][4:] for d in self.defs})
        self.defs.append(f"def {name}({param}):\n    return {ret}")
        return name

    def derivative(self, node: Deriv, bound) -> _Code:
        if _complex_variable(self.ident, node.wrt):
            return self.wirtinger(node, bound)
        param, start, inner = self._variable(node.wrt, bound)
        fk, xk = kind(node.f.shape), kind(node.wrt.shape)
        den = node.layout == "denominator"
        if fk == "scalar":
            fn = self._function(node.f, param, inner, scalar=True)
            # jax.grad needs a real value; a complex one (a complex identity) takes the forward Jacobian
            complex_values = any("complex" in d.props for d in self.ident.decls.values())
            text = f"jax.{'jacfwd' if complex_values else 'grad'}({fn})({start})"
            return _Code(text if den else text + ".T", rank=0 if xk == "scalar" else 2)
        fn = self._function(node.f, param, inner, scalar=False)
        jac = f"jax.jacobian({fn})({start})"
        if xk == "scalar":
            return _Code(jac if fk == "matrix" or not den else jac + ".T")
        m = self.dim(node.f.shape[0] if node.f.shape[1].is_one else node.f.shape[1])
        n = self.dim(node.wrt.shape[0] if node.wrt.shape[1].is_one else node.wrt.shape[1])
        text = f"{jac}.reshape({m}, {n})"  # entry (i, j) = ∂f_i/∂x_j
        return _Code(text + ".T" if den else text)

    def wirtinger(self, node: Deriv, bound) -> _Code:
        """A derivative by a complex variable z (or z̄): from the partials by its real and imaginary
        parts, with the helper WIRTINGER."""
        conj = isinstance(node.wrt, Call) and node.wrt.fn == "conj"
        var = node.wrt.arg if conj else node.wrt
        if not isinstance(var, (Var, FnValue, Entry)):
            raise UnsupportedNode(f"a derivative by {type(var).__name__} of a complex variable", self.dialect)
        param, start, inner = self._variable(var, bound)
        self.helpers.add(WIRTINGER)
        fn = self._function(node.f, param, inner, scalar=kind(node.f.shape) == "scalar")
        which = "gradient" if node.written.startswith("nabla") else "conj" if conj else "z"
        jac = f'wirtinger({fn}, {start}, "{which}")'
        fk, xk = kind(node.f.shape), kind(node.wrt.shape)
        den = node.layout == "denominator"
        if fk == "scalar":
            return _Code(jac if den else jac + ".T", rank=0 if xk == "scalar" else 2)
        if xk == "scalar":
            return _Code(jac if fk == "matrix" or not den else jac + ".T")
        m = self.dim(node.f.shape[0] if node.f.shape[1].is_one else node.f.shape[1])
        n = self.dim(node.wrt.shape[0] if node.wrt.shape[1].is_one else node.wrt.shape[1])
        text = f"{jac}.reshape({m}, {n})"  # entry (i, j) = ∂f_i/∂z_j
        return _Code(text + ".T" if den else text)

    def hessian(self, node: Hessian, bound) -> _Code:
        param, start, inner = self._variable(node.a, bound)
        n = self.dim(node.shape[0])
        if same_variable(node.a, node.b):
            fn = self._function(node.f, param, inner, scalar=True)
            return _Code(f"jax.hessian({fn})({start}).reshape({n}, {n})")
        pb, startb, inner2 = self._variable(node.b, inner)
        code = self.scalar0(self.expr(node.f, inner2))
        m = self.dim(node.shape[1])
        return _Code(f"jax.jacfwd(jax.grad(lambda {param}, {pb}: {code}, argnums=1))({start}, {startb})"
                     f".reshape({m}, {n}).T")

    def differential(self, node: Differential, bound) -> _Code:
        varying = self.varying
        if isinstance(node.x, Var) and not bound:
            return _Code(f"d{_ident(node.x.name)}" if node.x.name in varying else f"{self.xp}.zeros({self.shape(node)})")
        names = [v for v in varying]
        inner = {**bound, **{v: _ident(v) for v in names}}
        body = self.expr(node.x, inner).text
        params = ", ".join(_ident(v) for v in names)
        prim = ", ".join(bound.get(v, _ident(v)) for v in names)
        tang = ", ".join(f"d{_ident(v)}" for v in names)
        comma = "," if len(names) == 1 else ""
        return _Code(f"jax.jvp(lambda {params}: {body}, ({prim}{comma}), ({tang}{comma}))[1]")


WIRTINGER = '''def wirtinger(f, z, which="z"):
    """∂f/∂z = (∂f/∂x - i ∂f/∂y) / 2 at z = x + iy ("z"), ∂f/∂z̄ = (∂f/∂x + i ∂f/∂y) / 2 ("conj"),
    or the complex gradient ∂f/∂x + i ∂f/∂y ("gradient"): from forward derivatives by the real
    and imaginary parts, not from JAX's own complex convention."""
    jx, jy = jax.jacfwd(lambda x, y: f(x + 1j * y), argnums=(0, 1))(jnp.real(z), jnp.imag(z))
    return {"z": (jx - 1j * jy) / 2, "conj": (jx + 1j * jy) / 2, "gradient": jx + 1j * jy}[which]'''


def _complex_variable(ident: Identity, wrt: Node) -> bool:
    v = wrt.arg if isinstance(wrt, Call) and wrt.fn == "conj" else wrt
    if isinstance(v, FnValue):
        return "complex-codomain" in ident.decls[v.name].props
    if isinstance(v, Entry):
        v = v.var
    return isinstance(v, Var) and "complex" in ident.decls[v.name].props


def _complex_lines(v: str, r: str, c: str, k: str, props) -> list[str]:
    """Lines drawing a complex input (a standard complex Gaussian, then the declared structure)."""
    gauss = lambda shape: f"(rng.standard_normal({shape}) + 1j * rng.standard_normal({shape})) / np.sqrt(2)"  # noqa: E731
    if k == "scalar":
        return [f"{v} = complex({gauss('()')})"]
    if k == "vector":
        return [f"{v} = {gauss(f'({r}, {c})')}"] + ([f"{v} /= np.linalg.norm({v})"] if "unit" in props else [])
    if "diagonal" in props and props & {"unitary", "hermitian", "hpd", "hpsd"}:
        diagonal = {"unitary": f"np.exp(2j * np.pi * rng.uniform(0, 1, {r}))",  # unit moduli
                    "hermitian": f"rng.standard_normal({r})"}  # real
        entries = next((d for p, d in diagonal.items() if p in props), f"rng.uniform(1.0, 2.0, {r})")
        return [f"{v} = np.diag({entries}).astype(complex)"]
    lines = [f"{v} = {gauss(f'({r}, {c})')}"]
    if "unitary" in props:
        lines.append(f"{v}, _ = np.linalg.qr({v})  # unitary")
    elif "diagonal" in props:
        lines.append(f"{v} = np.diag(np.diag({v}))")
    elif props & {"hpd", "hpsd"}:
        lines.append(f"{v} = {v} @ {v}.conj().T + {r} * np.eye({r})  # Hermitian positive definite")
    elif "hermitian" in props:
        lines.append(f"{v} = {v} + {v}.conj().T  # Hermitian")
    return lines


def _varying(ident: Identity) -> list[str]:
    nodes = [n for s in ident.equation.sides for n in s.walk()]
    diffs = [n for n in nodes if isinstance(n, Differential)]
    names = sorted({n.x.name for n in diffs if isinstance(n.x, Var)})
    if diffs and not names:
        names = sorted({n.name for n in nodes if isinstance(n, Var)})
    return [v for v in names if "constant" not in ident.decls[v].props]


def _inputs(ident: Identity, xp: str = "jnp", sizes: dict[str, int] | None = None) -> list[str]:
    """Lines that define the sizes (`ident.sizes` unless given) and draw each input with its
    declared properties."""
    lines = []
    sizes = ident.sizes if sizes is None else sizes
    if sizes:
        names = list(sizes)
        lines.append(f"{', '.join(names)} = {', '.join(str(sizes[n]) for n in names)}"
                     + ("" if len(names) > 1 else ""))
    if ident.indices:
        letters = list(ident.indices)
        # one entry (the last row, the first column...); the checker itself tries every one
        picks = [ident.indices[c] - 1 if k % 2 == 0 else 0 for k, c in enumerate(letters)]
        lines.append(f"{', '.join(letters)} = {', '.join(map(str, picks))}  # an entry (0-based)")
    nodes = [n for s in ident.equation.sides for n in s.walk()]
    used = [n for n in dict.fromkeys(n.name for n in nodes if isinstance(n, Var))]
    fns = [n for n in dict.fromkeys(n.name for n in nodes if isinstance(n, FnValue))]
    gen = _Gen(ident, "np")
    for name in used:
        d = ident.decls[name]
        v, props = _ident(name), d.props
        r, c = gen.dim(d.shape[0]), gen.dim(d.shape[1])
        k = kind(d.shape)
        if "complex" in props:
            lines += _complex_lines(v, r, c, k, props)
        elif k == "scalar":
            lines.append(f"{v} = rng.uniform(0.5, 2.0)" if "positive" in props else f"{v} = rng.standard_normal()")
        elif k == "vector":
            if "positive" in props:
                lines.append(f"{v} = rng.uniform(0.5, 2.0, ({r}, {c}))")
            else:
                lines.append(f"{v} = rng.standard_normal(({r}, {c}))")
                if "unit" in props:
                    lines.append(f"{v} /= np.linalg.norm({v})")
        elif "toeplitz" in props:
            lines.append(f"t_{v} = rng.standard_normal(2 * {r} - 1)  # one value per diagonal")
            lines.append(f"{v} = t_{v}[np.abs(np.subtract.outer(np.arange({r}), np.arange({r})))]  # symmetric Toeplitz"
                         if "symmetric" in props else
                         f"{v} = t_{v}[np.subtract.outer(np.arange({r}), np.arange({r})) + {r} - 1]  # Toeplitz")
        elif "orthogonal" in props:
            lines.append(f"{v}, _ = np.linalg.qr(rng.standard_normal(({r}, {r})))")
        elif "diagonal" in props:
            lines.append(f"{v} = np.diag(rng.uniform(1.0, 2.0, {r}))" if props & {"positive", "spd", "psd"}
                         else f"{v} = np.diag(rng.standard_normal({r}))")
        elif props & {"spd", "psd"}:
            lines.append(f"{v} = rng.standard_normal(({r}, {r}))")
            lines.append(f"{v} = {v} @ {v}.T + {r} * np.eye({r})  # symmetric positive definite")
        elif "symmetric" in props:
            lines.append(f"{v} = rng.standard_normal(({r}, {r}))")
            lines.append(f"{v} = {v} + {v}.T  # symmetric")
        elif "positive" in props:
            lines.append(f"{v} = rng.uniform(0.5, 2.0, ({r}, {c}))")
        elif "stable" in props:
            lines.append(f"{v} = np.triu(rng.standard_normal(({r}, {r})), 1) + np.diag(rng.uniform(0.5, 2.0, {r}))")
            lines.append(f"Q_{v}, _ = np.linalg.qr(rng.standard_normal(({r}, {r})))")
            lines.append(f"{v} = Q_{v} @ {v} @ Q_{v}.T  # positive stable (eigenvalues 0.5 to 2), not normal")
        else:
            lines.append(f"{v} = rng.standard_normal(({r}, {c}))")
    for name in _varying(ident):
        v = _ident(name)
        if "complex" in ident.decls[name].props:  # a complex direction
            lines.append(f"d{v} = (rng.standard_normal(np.shape({v})) + 1j * rng.standard_normal(np.shape({v}))) / np.sqrt(2)")
            continue
        lines.append(f"d{v} = rng.standard_normal({v}.shape) if np.ndim({v}) else rng.standard_normal()"
                     if kind(ident.decls[name].shape) == "scalar" else f"d{v} = rng.standard_normal({v}.shape)")
    for name in fns:
        d = ident.decls[name]
        v = _ident(name)
        cin, cout = "complex-domain" in d.props, "complex-codomain" in d.props
        din = gen.dim(d.domain[0] * d.domain[1] * Dim(2 if cin else 1))
        dout = gen.dim(d.shape[0] * d.shape[1] * Dim(2 if cout else 1))
        lines.append("")
        lines.append("")
        lines.append(f"# {v}: a random smooth map standing in for any differentiable function"
                     + (" (of the real and imaginary parts: not holomorphic)" if cin or cout else ""))
        lines.append(f"L_{v}, C_{v} = rng.standard_normal(({dout}, {din})), rng.standard_normal(({dout}, 3))")
        lines.append(f"W_{v}, b_{v} = rng.standard_normal((3, {din})), rng.standard_normal((3, 1))")
        lines.append(f"c_{v} = rng.standard_normal(({dout}, 1))")
        lines.append("")
        lines.append("")
        arg = "z"
        lines.append(f"def {v}(z):")
        if kind(d.domain) == "scalar":
            lines.append(f"    z = {xp}.reshape(z, (1, 1))")
        elif not d.domain[1].is_one:
            lines.append("    z = z.T.reshape(-1, 1)  # vec")
        if cin:
            lines.append(f"    z = {xp}.concatenate([{xp}.real(z), {xp}.imag(z)])")
        out = f"L_{v} @ {arg} + C_{v} @ {xp}.tanh(W_{v} @ {arg} + b_{v}) + c_{v}"
        if cout:
            half = gen.dim(d.shape[0] * d.shape[1])
            lines.append(f"    w = {out}")
            out = f"w[:{half}] + 1j * w[{half}:]"
        if not d.shape[1].is_one:
            out = f"({out}).reshape({gen.dim(d.shape[1])}, {gen.dim(d.shape[0])}).T"
        elif kind(d.shape) == "scalar":
            out = f"({out})[0, 0]"
        lines.append(f"    return {out}")
    return lines


def _has_derivative(node: Node) -> bool:
    return any(isinstance(n, (Deriv, Hessian, Differential)) for n in node.walk())


def _assemble(head: list[str], inputs: list[str], defs: list[str], tail: list[str]) -> str:
    """Join the parts PEP 8 style: top-level functions get two blank lines around them."""
    text = "\n".join(head) + "\n\n" + "\n".join(inputs)
    for d in defs:
        text += "\n\n\n" + d
    text += ("\n\n\n" if defs else "\n\n") + "\n".join(tail)
    text = re.sub(r"\n*(\n\n\n(?:# .*\n)?(?:def |L_))", r"\1", text)
    return re.sub(r"\n{4,}", "\n\n\n", text).strip() + "\n"


