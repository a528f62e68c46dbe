"""What the dialects share: Python names for symbols, the lines that draw random inputs honouring
the declarations (vectors 1-D for the dialects' code, n×1 for the function harness's draws), PEP 8
assembly of a script, the helpers scripts define, and `_Gen`, the translation of a typed tree into
array code as the tree has it (2-D arrays: vectors n×1, scalars 0-d or 1×1). The dialects
themselves use the 1-D translation built on it (`_arrays._Gen1`).

Every node type the generator does not know raises `UnsupportedNode` (a `CannotCheck`), so a new
node in the language fails loudly in the harness and on the site build, never as wrong code.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass, field

from .._errors import Unsupported
from .._functions import Code
from .._language import Identity
from .._operators import Operand
from .._shapes import Dim, kind
from .._tree import Call, Deriv, Differential, Entry, FnValue, Hessian, Node, Var

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
    """What every translation of a tree into array code keeps: the identity, the array module, the
    definitions and helpers the code needs, and how sizes are written. (`_arrays._Gen1` is
    the translation itself.)"""

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


def _complex_lines(v: str, r: str, c: str, k: str, props, vector_shape: str | None = None) -> list[str]:
    """Lines drawing a complex input (a standard complex Gaussian, then the declared structure);
    a vector has `vector_shape` (default `(r, c)`)."""
    gauss = lambda shape: f"(rng.standard_normal({shape}) + 1j * rng.standard_normal({shape})) / np.sqrt(2)"  # noqa: E731
    if k == "scalar":
        return [f"{v} = complex({gauss('()')})"]
    if k == "vector":
        shape = vector_shape or f"({r}, {c})"
        return [f"{v} = {gauss(shape)}"] + ([f"{v} /= np.linalg.norm({v})"] if "unit" in props else [])
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


def _inputs(ident: Identity, xp: str = "jnp", sizes: dict[str, int] | None = None, *, flat: bool = False) -> list[str]:
    """Lines that define the sizes (`ident.sizes` unless given) and draw each input with its
    declared properties. `flat`: vectors 1-D and function symbols of 1-D arrays (the dialects' code);
    else vectors n×1 as the tree has them (the function dialect's harness)."""
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
        vector = (r if d.shape[1].is_one else c) if flat else f"({r}, {c})"  # a vector's shape in the code
        if "complex" in props:
            lines += _complex_lines(v, r, c, k, props, vector if flat else None)
        elif k == "scalar":
            lines.append(f"{v} = rng.uniform(0.5, 2.0)" if "positive" in props else f"{v} = rng.standard_normal()")
        elif k == "vector":
            if "positive" in props:
                lines.append(f"{v} = rng.uniform(0.5, 2.0, {vector})")
            else:
                lines.append(f"{v} = rng.standard_normal({vector})")
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
        lines.append(f"W_{v}, b_{v} = rng.standard_normal((3, {din})), rng.standard_normal({'3' if flat else '(3, 1)'})")
        lines.append(f"c_{v} = rng.standard_normal({dout if flat else f'({dout}, 1)'})")
        lines.append("")
        lines.append("")
        arg = "z"
        lines.append(f"def {v}(z):")
        if kind(d.domain) == "scalar":
            lines.append(f"    z = {xp}.reshape(z, {'(1,)' if flat else '(1, 1)'})")
        elif not d.domain[1].is_one and not (flat and kind(d.domain) == "vector"):
            lines.append(f"    z = z.T.reshape({'-1' if flat else '-1, 1'})  # vec")
        if cin:
            lines.append(f"    z = {xp}.concatenate([{xp}.real(z), {xp}.imag(z)])")
        out = f"L_{v} @ {arg} + C_{v} @ {xp}.tanh(W_{v} @ {arg} + b_{v}) + c_{v}"
        if cout:
            half = gen.dim(d.shape[0] * d.shape[1])
            lines.append(f"    w = {out}")
            out = f"w[:{half}] + 1j * w[{half}:]"
        if not d.shape[1].is_one and not (flat and kind(d.shape) == "vector"):
            out = f"({out}).reshape({gen.dim(d.shape[1])}, {gen.dim(d.shape[0])}).T"
        elif kind(d.shape) == "scalar":
            out = f"({out})[0]" if flat else f"({out})[0, 0]"
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


