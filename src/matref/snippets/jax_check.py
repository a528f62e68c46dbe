"""Dialect `jax`: a self-contained script that checks the identity with JAX automatic
differentiation (the proof shown beside each identity).

Vectors are 1-D arrays and scalars 0-d, as NumPy and JAX users write them: the same array code as
the function dialect (`_arrays._Script1`), with `jnp` for `np` and the derivatives taken by JAX.
A derivative by a vector is then a 1-D array in both layouts (the layouts differ only in how a
column or a row is drawn); by a matrix, or of a vector by a vector, the layout decides which of the
two transposed arrays it is, and the script checks exactly that array. The two sides must have the
same shape before they are compared, so broadcasting cannot make them agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .._functions import FUNCTIONS, HELPERS as FUNCTION_HELPERS, Code, helper_code
from .._language import parse_identity
from .._shapes import kind
from .._tree import Call, Deriv, Differential, Entry, FnValue, Hessian, Node, Pattern, Var, same_variable
from ._common import (P_ATOM, TOEPLITZ_SUMS, UNVECH, WIRTINGER, UnsupportedNode,
                      _assemble, _Code, _complex_variable, _free_name, _ident, _inputs, _varying, fill)
from .._eager import numpy_eager
from ._dialect import Dialect, script_runner
from ._arrays import HELPERS, _form, _Script1

_NP = re.compile(r"(?<![\w.])np\.")


def to_jnp(text: str) -> str:
    """NumPy code as JAX code: `np.` calls become `jnp.` calls (they take the same arguments)."""
    return _NP.sub("jnp.", text)


@dataclass
class _Jax1(_Script1):
    """The dialects' 1-D array code in `jnp` (a script's: `_arrays._Script1`), with derivatives
    and differentials as JAX computes them."""

    @property
    def dialect(self) -> str:
        return "JAX"

    def expr(self, node: Node, bound: dict[str, str]) -> _Code:  # noqa: C901 - one case per node type
        if id(node) in self.subst:
            return _Code(self.subst[id(node)])
        if isinstance(node, Deriv):
            return self.derivative(node, bound)
        if isinstance(node, Hessian):
            return self.hessian(node, bound)
        if isinstance(node, Differential):
            return self.differential(node, bound)
        if isinstance(node, Pattern):  # a NumPy constant, made a JAX array so that `@` traces
            code = super().expr(node, bound)
            return _Code(f"jnp.asarray({code.text})")
        if isinstance(node, Var) and node.name in bound:
            return _Code(bound[node.name])
        return super().expr(node, bound)

    def call(self, node: Call, bound) -> _Code:
        record = FUNCTIONS.get(node.fn)
        if record is not None and kind(node.arg.shape) == "matrix" and _form(node) in ("matrix", "scalar"):
            # A function of a matrix to a matrix or a number reads the same with 1-D vectors: the JAX
            # dialect's own code (the matrix functions SciPy has and JAX does not have are helpers there).
            code = record.code("jax")
            if not isinstance(code, Code):
                raise UnsupportedNode(f"the function {node.fn!r}", self.dialect)
            helper = code.for_argument("matrix").helper
            if helper in FUNCTION_HELPERS:
                self.helpers.add(helper_code(helper, "jnp"))
            return fill(code, node, self.expr(node.arg, bound), self.dim, "jnp", 0 if _form(node) == "scalar" else 2)
        c = super().call(node, bound)
        return _Code(to_jnp(c.text), c.prec)

    def binary(self, node, bound) -> _Code:
        c = super().binary(node, bound)
        return _Code(to_jnp(c.text), c.prec)

    # ----- derivatives -------------------------------------------------------------------------
    def _variable(self, wrt: Node, bound) -> tuple[str, str, dict[str, str]]:
        """(parameter name, starting point code, bindings inside the function) for a variable."""
        if isinstance(wrt, Var):
            p = _ident(wrt.name)
            return p, bound.get(wrt.name, p), {**bound, wrt.name: p}
        if isinstance(wrt, FnValue):
            p = _ident(wrt.name)
            return p, self.expr(wrt, bound).text, {**bound, "fn:" + wrt.name: p}
        if isinstance(wrt, Entry):  # X_{ij}, c_i: the function of that one entry
            X = bound.get(wrt.var.name, _ident(wrt.var.name))
            at = ", ".join(str(i - 1) if isinstance(i, int) else i for i in wrt.indices)
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
            return "d", start, {**bound, x.name: f"({X} + jnp.diag(d - {start}))"}
        return "v", start, {**bound, x.name: f"v.reshape({c}, {r}).T"}

    def _function(self, body: Node, param: str, inner: dict[str, str]) -> str:
        """A named function (at top level) or a lambda (inside another function) of `param`."""
        code = self.expr(body, inner)
        if isinstance(body, FnValue) and code.text == f"{_ident(body.name)}({param})":
            return _ident(body.name)  # differentiate the function symbol itself
        if inner.keys() - self.ident.decls.keys() - {k for k in inner if k.startswith("fn:")} or len(inner) > 1:
            return f"(lambda {param}: {code.text})"
        name = _free_name(self.ident, {d.split("(")[0][4:] for d in self.defs})
        self.defs.append(f"def {name}({param}):\n    return {code.text}")
        return name

    def _laid_out(self, jac: str, node: Node) -> _Code:
        """The derivative array `jac` (JAX's: the function's shape, then the variable's) in the
        layout of `node`. Denominator: a derivative by a matrix is the gradient's shape (JAX's);
        a vector's Jacobian is transposed. Numerator: the other way round. By a vector or of a
        scalar by a scalar, both layouts are the same 1-D or 0-d array."""
        fk, xk = kind(node.f.shape), kind(node.wrt.shape)
        den = node.layout == "denominator"
        if fk == "scalar":
            return _Code(f"{jac}.T" if xk == "matrix" and not den else jac)
        if xk == "scalar":
            return _Code(jac)
        m = self.dim(node.f.shape[0] if node.f.shape[1].is_one else node.f.shape[1])
        n = self.dim(node.wrt.shape[0] if node.wrt.shape[1].is_one else node.wrt.shape[1])
        text = f"{jac}.reshape({m}, {n})"  # entry (i, j) = ∂f_i/∂x_j
        return _Code(f"{text}.T" if den else text)

    def derivative(self, node: Deriv, bound) -> _Code:
        if _complex_variable(self.ident, node.wrt):
            return self.wirtinger(node, bound)
        param, start, inner = self._variable(node.wrt, bound)
        fn = self._function(node.f, param, inner)
        if kind(node.f.shape) == "scalar":
            # jax.grad needs a real value; a complex one (a complex identity) takes the forward Jacobian
            complex_values = any("complex" in d.props for d in self.ident.decls.values())
            return self._laid_out(f"jax.{'jacfwd' if complex_values else 'grad'}({fn})({start})", node)
        return self._laid_out(f"jax.jacobian({fn})({start})", node)

    def wirtinger(self, node: Deriv, bound) -> _Code:
        """A derivative by a complex variable z (or z̄): from the partials by its real and imaginary
        parts, with the helper WIRTINGER."""
        conj = isinstance(node.wrt, Call) and node.wrt.fn == "conj"
        var = node.wrt.arg if conj else node.wrt
        if not isinstance(var, (Var, FnValue, Entry)):
            raise UnsupportedNode(f"a derivative by {type(var).__name__} of a complex variable", self.dialect)
        param, start, inner = self._variable(var, bound)
        self.helpers.add(WIRTINGER)
        fn = self._function(node.f, param, inner)
        which = "gradient" if node.written.startswith("nabla") else "conj" if conj else "z"
        return self._laid_out(f'wirtinger({fn}, {start}, "{which}")', node)

    def hessian(self, node: Hessian, bound) -> _Code:
        param, start, inner = self._variable(node.a, bound)
        n = self.dim(node.shape[0])
        scalar = kind(node.shape) == "scalar"  # by a scalar twice: a number, as JAX gives it
        if same_variable(node.a, node.b):
            fn = self._function(node.f, param, inner)
            return _Code(f"jax.hessian({fn})({start})" + ("" if scalar else f".reshape({n}, {n})"))
        pb, startb, inner2 = self._variable(node.b, inner)
        code = self.expr(node.f, inner2).text
        m = self.dim(node.shape[1])
        return _Code(f"jax.jacfwd(jax.grad(lambda {param}, {pb}: {code}, argnums=1))({start}, {startb})"
                     + ("" if scalar else f".reshape({m}, {n}).T"))

    def differential(self, node: Differential, bound) -> _Code:
        varying = self.varying
        if isinstance(node.x, Var) and not bound:
            if node.x.name in varying:
                return _Code(f"d{_ident(node.x.name)}")
            form = _form(node)
            return _Code("0.0" if form == "scalar" else f"jnp.zeros({self.shape(node)})" if form == "matrix"
                         else f"jnp.zeros({self.dim(node.shape[0] if form == 'col' else node.shape[1])})")
        inner = {**bound, **{v: _ident(v) for v in varying}}
        body = self.expr(node.x, inner).text
        params = ", ".join(_ident(v) for v in varying)
        prim = ", ".join(bound.get(v, _ident(v)) for v in varying)
        tang = ", ".join(f"d{_ident(v)}" for v in varying)
        comma = "," if len(varying) == 1 else ""
        return _Code(f"jax.jvp(lambda {params}: {body}, ({prim}{comma}), ({tang}{comma}))[1]")


def _helper_text(name: str) -> str:
    """A helper the 1-D code calls by name (softmax, eigenvector, commutation...), for JAX."""
    if name in FUNCTION_HELPERS:
        return helper_code(name, "jnp")
    if name in ("K", "D"):  # the commutation and duplication matrices are NumPy constants
        return HELPERS[name]
    return to_jnp(HELPERS[name])


def jax_script(formula: str, where: str = "", layout: str = "denominator", title: str | None = None) -> str:
    """A self-contained script checking the identity with JAX autodiff (raises MatrefError if the
    identity cannot be parsed or does not conform)."""
    ident = parse_identity(formula, where, layout)
    gen = _Jax1(ident, "jnp")
    gen.varying = _varying(ident)
    sides = [gen.expr(s, {}) for s in ident.equation.sides]
    names = ["lhs", "rhs"] + [f"side{i}" for i in range(3, len(sides) + 1)]
    head = [f"# {title}" if title else "# Checked by automatic differentiation",
            f"# {formula}",
            *([f"# where {where}"] if where else []),
            f"# {layout} layout",
            "import jax",
            "import jax.numpy as jnp",
            "import numpy as np",
            *(["import jax.scipy.linalg"] if "scipy" in gen.used else []),
            "",
            'jax.config.update("jax_enable_x64", True)',
            "rng = np.random.default_rng(0)"]
    checks = [f"{name} = {code.text}" for name, code in zip(names, sides)]
    for a, b in zip(names, names[1:]):  # the same shape first: broadcasting could make a wrong shape agree
        checks.append(f"assert np.shape({a}) == np.shape({b}), (np.shape({a}), np.shape({b}))")
        checks.append(f"assert np.allclose({a}, {b}, rtol=1e-8, atol=1e-10), abs({a} - {b}).max()")
    checks.append(f'print("holds:", np.shape({names[0]}) or "scalar")')
    used = [_helper_text(h) for h in HELPERS if h in gen.used and h != "scipy"]
    return _assemble(head, _inputs(ident, flat=True), used + sorted(gen.helpers) + gen.defs, checks)


def jax_snippet(entry, layout: str) -> str:
    """The JAX check script of a catalogue entry in `layout` (the text the site shows)."""
    return jax_script(entry.formula_in(layout), entry.where, layout, title=entry.title)


_run_compiled = script_runner("holds:", "JAX check")  # as a reader runs it: XLA compiles each operation


def run(text: str, formula: str, where: str, layout: str) -> None:
    """Run the script verbatim, with each operation JAX runs eagerly replayed by NumPy instead of
    compiled by XLA (`matref._eager`: the same jaxprs, ~5x faster over the catalogue)."""
    with numpy_eager():
        _run_compiled(text, formula, where, layout)


DIALECT = Dialect(name="jax", label="JAX check", language="python", script=jax_script, run=run)
