"""Typed tree -> numbers with JAX in float64, and random inputs that honour the declarations.

Derivatives are JAX's: `jax.jacfwd` (the full Jacobian) laid out by the layout rule, `jax.hessian`, and `jax.jvp`
for differentials. `_check` traces these once per size plan and replays them with NumPy (`_program`);
a derivative that recurs at the same sizes (the other layout, a derivation's next step) is traced
once (`_shared`).
"""

from __future__ import annotations

import math
import os
from collections import OrderedDict
from dataclasses import dataclass, field, replace

import jax
import jax.numpy as jnp
import jax.scipy.linalg
import numpy as np

from ._errors import CannotCheck
from ._functions import FUNCTIONS
from ._operators import OPERATORS
from ._shapes import Shape, kind
from ._tree import (Add, Binary, Block, Call, Const, Deriv, Differential, Div, Entry, FnValue, Hessian, Integral,
                    Inverse, Mul, Node, Norm, Num, Param, Pattern, Power, Size, Transpose, Unit, Var, same_variable,
                    structure)

jax.config.update("jax_enable_x64", True)

HIDDEN = 3  # width of the random smooth maps that stand in for function symbols


# XLA compiles an operation that a JAX snippet runs eagerly and `_eager` cannot replay, for one run:
# its optimisation passes cost more than they save there (a fifth of a snippet's CPU time once). These change how XLA compiles,
# not what the program computes (no fast math).
QUICK_COMPILE = ("--xla_backend_optimization_level=0", "--xla_llvm_disable_expensive_passes=true")


def compile_quickly() -> None:
    """Ask XLA for less optimisation (QUICK_COMPILE), keeping any XLA_FLAGS the user set. XLA reads the
    flags when JAX first uses its backend, so this must run before the first computation."""
    flags = os.environ.get("XLA_FLAGS", "")
    extra = [f for f in QUICK_COMPILE if f.split("=")[0] not in flags]
    os.environ["XLA_FLAGS"] = " ".join([flags, *extra]).strip()


def concrete(shape: Shape, sizes: dict[str, int]) -> tuple[int, int]:
    return shape[0].size(sizes), shape[1].size(sizes)


def vec(a):
    """Stack the columns of `a` (column-major), as an (rc)×1 column."""
    return a.T.reshape(-1, 1)


def unvec(v, shape: tuple[int, int]):
    return v.reshape(shape[1], shape[0]).T


def vech(a):
    """Stack the columns of the lower triangle of a square `a` (diagonal included)."""
    return a.T[jnp.triu_indices(a.shape[0])].reshape(-1, 1)


def commutation(m: int, n: int) -> np.ndarray:
    """K_{mn}: the mn×mn permutation matrix with K vec(A) = vec(Aᵀ) for an m×n A."""
    k = np.zeros((m * n, m * n))
    for i in range(m):
        for j in range(n):
            k[j + i * n, i + j * m] = 1.0  # A_ij sits at i + jm in vec A and at j + in in vec Aᵀ
    return k


def duplication(n: int) -> np.ndarray:
    """D_n: the n²×n(n+1)/2 matrix with D vech(S) = vec(S) for a symmetric n×n S."""
    d = np.zeros((n * n, n * (n + 1) // 2))
    k = 0
    for j in range(n):
        for i in range(j, n):  # vech runs down the lower triangle column by column
            d[i + j * n, k] = d[j + i * n, k] = 1.0
            k += 1
    return d


def _diagonal_map(n: int, to) -> np.ndarray:
    """The n²×n² 0/1 matrix of a linear map of n×n matrices (row-major vec) that sends entry (r, s)
    to every (p, q) with to(p, q) == (r, s), or to r - s for a sum over a diagonal. Written as a
    constant matrix so that the traced program needs only a product."""
    m = np.zeros((n * n, n * n))
    for p in range(n):
        for q in range(n):
            for r in range(n):
                for s in range(n):
                    m[p * n + q, r * n + s] = float(to(p, q, r, s))
    return m


def _linear(a, m: np.ndarray):
    n = a.shape[0]
    return (jnp.asarray(m) @ a.reshape(-1)).reshape(n, n)


def toeplitz_of(a):
    """The Toeplitz matrix with the first column and the first row of a square `a`."""
    first = lambda p, q, r, s: (r, s) == ((p - q, 0) if p >= q else (0, q - p))
    return _linear(a, _diagonal_map(a.shape[0], first))


def diagonal_sums(a):
    """The Cookbook's alpha(a): the Toeplitz matrix whose (i, j) entry sums a's diagonal j - i
    (the diagonal of a.T through (i, j))."""
    return _linear(a, _diagonal_map(a.shape[0], lambda p, q, r, s: s - r == p - q))


def toeplitz_sums(e, symmetric: bool):
    """Each entry replaced by the sum of its diagonal (of its diagonals ±k when `symmetric`): the
    adjoint of spreading one value per diagonal, so that the gradient by a Toeplitz matrix's free
    values comes out laid out as a Toeplitz matrix."""
    same = (lambda p, q, r, s: abs(r - s) == abs(p - q)) if symmetric else (lambda p, q, r, s: r - s == p - q)
    return _linear(e, _diagonal_map(e.shape[0], same))


def unvech(v, n: int):
    """The symmetric n×n matrix whose vech is `v`."""
    upper = jnp.zeros((n, n), dtype=v.dtype).at[jnp.triu_indices(n)].set(v.reshape(-1))
    return upper + upper.T - jnp.diag(jnp.diag(upper))


def symmetric_variables(decls) -> frozenset:
    """The names of the variables declared symmetric (for `Ctx.symmetric`)."""
    return frozenset(k for k, d in decls.items() if d.props & {"symmetric", "spd", "psd"})


@dataclass(frozen=True)
class Ctx:
    """What evaluation needs: values of variables, parameters of function symbols, values that
    override a function symbol (for ∂f/∂y with y a function symbol), and differential directions."""

    sizes: dict
    values: dict
    fns: dict
    dirs: dict
    varying: tuple[str, ...]
    indices: dict = field(default_factory=dict)  # index letter -> its (traced) integer value
    overrides: dict = field(default_factory=dict)
    tape: list | None = None  # intermediate values, and the value of each function differentiated
    # variables declared symmetric (a symmetric Toeplitz matrix has fewer free values); None where the
    # caller did not say, so that a derivative by toeplitz(T) cannot silently take the wrong structure
    symmetric: frozenset | None = None

    def with_values(self, **kw) -> "Ctx":
        return replace(self, values={**self.values, **kw}, tape=None)


def evaluate(node: Node, ctx: Ctx):
    """The value of `node` as a 2-D float64 array of the node's concrete shape."""
    value = _eval(node, ctx)
    if ctx.tape is not None:
        ctx.tape.append(value)
    return value


def _scalar(a):
    return a[0, 0]


def _eval(node: Node, ctx: Ctx):  # noqa: C901 - one case per node type reads best as one function
    shape = concrete(node.shape, ctx.sizes)
    if isinstance(node, Var):
        return ctx.values[node.name]
    if isinstance(node, FnValue):
        if node.name in ctx.overrides:
            return ctx.overrides[node.name]
        z = vec(evaluate(node.arg, ctx))
        L, C, W, b, c = ctx.fns[node.name]
        if L.shape[1] == 2 * z.shape[0]:  # a complex domain: a smooth map of the real and imaginary parts
            z = jnp.concatenate([jnp.real(z), jnp.imag(z)])
        elif jnp.iscomplexobj(z):  # the real map would act on z holomorphically, hiding every ∂/∂z̄ term
            raise CannotCheck(f"{node.latex} is declared on a real space but applied to a complex value; "
                              r"declare its domain \mathbb{C}")
        out = L @ z + C @ jnp.tanh(W @ z + b) + c
        if out.shape[0] == 2 * shape[0] * shape[1]:  # a complex codomain: the first half real, the second imaginary
            half = shape[0] * shape[1]
            out = out[:half] + 1j * out[half:]
        return unvec(out, shape)
    if isinstance(node, Num):
        return jnp.full((1, 1), node.value, dtype=jnp.float64)
    if isinstance(node, Size):
        return jnp.full((1, 1), float(ctx.sizes[node.name]), dtype=jnp.float64)
    if isinstance(node, Entry):
        x = evaluate(node.var, ctx)
        at = _entry_at(node, ctx, x.shape)
        return x[at].reshape(1, 1)
    if isinstance(node, Block):
        return jnp.block([[evaluate(b, ctx) for b in row] for row in node.rows])
    if isinstance(node, Pattern):
        sizes = [d.size(ctx.sizes) for d in node.dims]
        return jnp.asarray(commutation(*sizes) if node.which == "K" else duplication(*sizes))
    if isinstance(node, Param):
        return jnp.reshape(ctx.indices[node.name], (1, 1)).astype(jnp.float64)
    if isinstance(node, Integral):
        return _integral(node, ctx)
    if isinstance(node, Unit):
        i, j = (ctx.indices[c] for c in node.indices)
        return jnp.zeros(shape, dtype=jnp.float64).at[i, j].set(1.0)
    if isinstance(node, Const):
        if node.which == "I":
            return jnp.eye(shape[0], dtype=jnp.float64)
        if node.which == "pi":
            return jnp.full((1, 1), math.pi, dtype=jnp.float64)
        if node.which == "i":
            return jnp.full((1, 1), 1j, dtype=jnp.complex128)
        return (jnp.ones if node.which == "1" else jnp.zeros)(shape, dtype=jnp.float64)
    if isinstance(node, Add):
        total = None
        for sign, term in node.terms:
            v = evaluate(term, ctx)
            v = v if sign > 0 else -v
            total = v if total is None else total + v
        return total
    if isinstance(node, Mul):
        acc = evaluate(node.factors[0], ctx)
        for f in node.factors[1:]:
            b = evaluate(f, ctx)
            if acc.shape == (1, 1):
                acc = _scalar(acc) * b
            elif b.shape == (1, 1):
                acc = acc * _scalar(b)
            else:
                acc = acc @ b
        return acc
    if isinstance(node, Binary):
        return OPERATORS[node.op].evaluate(evaluate(node.left, ctx), evaluate(node.right, ctx))
    if isinstance(node, Transpose):
        return evaluate(node.x, ctx).T
    if isinstance(node, Inverse):
        return jnp.linalg.inv(evaluate(node.x, ctx))
    if isinstance(node, Power):
        base, p = evaluate(node.x, ctx), evaluate(node.p, ctx)
        if base.shape == (1, 1):
            return base ** _scalar(p)
        return jnp.linalg.matrix_power(base, int(node.p.value))
    if isinstance(node, Div):
        return evaluate(node.num, ctx) / _scalar(evaluate(node.den, ctx))
    if isinstance(node, Call):
        if node.index is not None:  # a letter's current (0-based) value, or a 1-based number
            k = ctx.indices[node.index] if isinstance(node.index, str) else node.index - 1
            return FUNCTIONS[node.fn].evaluate(evaluate(node.arg, ctx), k)
        return FUNCTIONS[node.fn].evaluate(evaluate(node.arg, ctx))
    if isinstance(node, Norm):
        a = evaluate(node.x, ctx)
        if node.p == "1":
            n = jnp.sum(jnp.abs(a)) if kind(node.x.shape) != "matrix" else jnp.max(jnp.sum(jnp.abs(a), axis=0))
        elif node.p == "2" and kind(node.x.shape) == "matrix":
            n = jnp.linalg.norm(a, 2)
        elif node.p == "*":
            n = jnp.linalg.norm(a, "nuc")
        elif jnp.iscomplexobj(a):  # |a_i|², not a_i²
            n = jnp.sqrt(jnp.sum(a.real * a.real + a.imag * a.imag))
        else:
            n = jnp.sqrt(jnp.sum(a * a))
        return n.reshape(1, 1)
    if isinstance(node, Deriv):
        return _derivative(node, ctx)
    if isinstance(node, Hessian):
        return _hessian(node, ctx)
    if isinstance(node, Differential):
        return _differential(node, ctx)
    raise TypeError(f"cannot evaluate {type(node).__name__}")  # pragma: no cover


def _variable(wrt: Node, ctx: Ctx):
    """(starting point, function rebuilding the context at a new point) for a variable of differentiation."""
    if isinstance(wrt, Var):
        return ctx.values[wrt.name], lambda v: ctx.with_values(**{wrt.name: v})
    if isinstance(wrt, FnValue):
        start = evaluate(wrt, replace(ctx, tape=None))
        return start, lambda v: replace(ctx, overrides={**ctx.overrides, wrt.name: v}, tape=None)
    if isinstance(wrt, Entry):
        x = ctx.values[wrt.var.name]
        at = _entry_at(wrt, ctx, x.shape)
        return x[at].reshape(1, 1), lambda v: ctx.with_values(**{wrt.var.name: x.at[at].set(v[0, 0])})
    if isinstance(wrt, Call) and wrt.fn == "conj" and isinstance(wrt.arg, Var):
        # z̄ as the variable: z = conj(v), so the Wirtinger ∂/∂v is ∂/∂z̄ (see `_wirtinger`)
        x = ctx.values[wrt.arg.name]
        return jnp.conj(x), lambda v: ctx.with_values(**{wrt.arg.name: jnp.conj(v)})
    if isinstance(wrt, Call) and wrt.fn == "conj" and isinstance(wrt.arg, FnValue):  # ∂g/∂ū, u a function symbol
        start = evaluate(wrt.arg, replace(ctx, tape=None))
        return jnp.conj(start), lambda v: replace(ctx, overrides={**ctx.overrides, wrt.arg.name: jnp.conj(v)}, tape=None)
    if isinstance(wrt, Call) and wrt.fn in ("real", "imag") and isinstance(wrt.arg, Var):
        x = ctx.values[wrt.arg.name]
        if wrt.fn == "real":
            return x.real, lambda v: ctx.with_values(**{wrt.arg.name: v + 1j * x.imag})
        return x.imag, lambda v: ctx.with_values(**{wrt.arg.name: x.real + 1j * v})
    if isinstance(wrt, Call) and wrt.fn == "vec" and isinstance(wrt.arg, Var):
        x = ctx.values[wrt.arg.name]
        return vec(x), lambda v: ctx.with_values(**{wrt.arg.name: unvec(v, x.shape)})
    if isinstance(wrt, Call) and wrt.fn == "vech" and isinstance(wrt.arg, Var):
        # the symmetric matrix as a function of its n(n+1)/2 free entries
        x = ctx.values[wrt.arg.name]
        return vech(x), lambda v: ctx.with_values(**{wrt.arg.name: unvech(v, x.shape[0])})
    if isinstance(wrt, Call) and wrt.fn == "toeplitz" and isinstance(wrt.arg, Var):
        # a Toeplitz T as a function of one value per diagonal: T + (the diagonal sums of V - T), whose
        # derivative by V at V = T has in entry (i, j) the derivative by the value on diagonal i - j
        x = ctx.values[wrt.arg.name]
        if ctx.symmetric is None:
            raise TypeError("a derivative by toeplitz(T) needs Ctx.symmetric")  # pragma: no cover
        sym = wrt.arg.name in ctx.symmetric
        return x, lambda v: ctx.with_values(**{wrt.arg.name: x + toeplitz_sums(v - x, sym)})
    if isinstance(wrt, Call) and wrt.fn == "diag" and isinstance(wrt.arg, Var):
        # the diagonal entries move, the others stay
        x = ctx.values[wrt.arg.name]
        d = jnp.diag(x).reshape(-1, 1)
        return d, lambda v: ctx.with_values(**{wrt.arg.name: x + jnp.diag((v - d).reshape(-1))})
    raise TypeError(f"cannot differentiate by {type(wrt).__name__}")  # pragma: no cover


def _entry_at(node: Entry, ctx: Ctx, shape: tuple[int, int]) -> tuple:
    """The (row, column) of an entry: index letters take their current value, numbers are 1-based."""
    at = tuple(ctx.indices[c] if isinstance(c, str) else c - 1 for c in node.indices)
    if len(at) == 1:  # an entry of a vector, row or column
        at = (at[0], 0) if shape[1] == 1 else (0, at[0])
    return at


def adjugate(a):
    """The adjugate (transposed cofactor matrix), from minors, so that it exists for singular a too."""
    n = a.shape[0]
    if n == 1:
        return jnp.ones_like(a)
    keep = [np.array([k for k in range(n) if k != i]) for i in range(n)]
    cof = jnp.stack([jnp.stack([(-1.0) ** (i + j) * jnp.linalg.det(a[jnp.ix_(keep[i], keep[j])])
                                for j in range(n)]) for i in range(n)])
    return cof.T


# The principal square root and logarithm, for a matrix with no eigenvalue on the closed negative
# real axis. JAX's own (jax.scipy.linalg.sqrtm, no logm) go through a complex Schur form, which has no
# derivative; these are rational iterations of `a`, so JAX differentiates them exactly, and since the
# iterates converge uniformly near `a` (as analytic functions) their derivatives converge to the
# Fréchet derivative. A draw where an iteration has not converged gives NaN ("cannot check"),
# never a wrong number.
SQRT_STEPS = 10  # quadratic convergence: 6 steps reached rounding level on each of 1000 positive stable draws
SQRT_CONVERGED = 1e-10  # ‖M - I‖ at the end; the root's relative error is about half of it
LOG_ROOTS = 6  # square roots taken before the series: the eigenvalues move within |log λ| / 64 of 1
LOG_TERMS = 14  # terms of the atanh series; with ‖Z‖ <= 0.15 the rest is below 0.15^29 / 29 < 1e-24
LOG_SERIES_RADIUS = 0.15


def sqrtm(a):
    """The principal square root of an n×n `a` by the product form of the Denman-Beavers iteration
    (Higham, Functions of Matrices (2008), (6.29)): M <- (I + (M + M⁻¹)/2)/2, Y <- Y (I + M⁻¹)/2
    from M = Y = a; Y tends to a^{1/2} as M tends to I."""
    eye = jnp.eye(a.shape[0], dtype=a.dtype)

    def step(_, carry):
        y, m = carry
        m_inv = jnp.linalg.inv(m)
        return y @ (eye + m_inv) / 2, (eye + (m + m_inv) / 2) / 2

    y, m = jax.lax.fori_loop(0, SQRT_STEPS, step, (a, a))
    converged = jnp.sqrt(jnp.sum((m - eye) ** 2)) <= SQRT_CONVERGED
    return jnp.where(converged, y, jnp.nan)


def logm(a):
    """The principal logarithm of an n×n `a` by inverse scaling and squaring: r = a^{1/64} by
    repeated square roots, then log r = 2 atanh(Z) = 2 (Z + Z³/3 + ...) with Z = (r - I)(r + I)⁻¹,
    and log a = 64 log r."""
    eye = jnp.eye(a.shape[0], dtype=a.dtype)
    r = a
    for _ in range(LOG_ROOTS):
        r = sqrtm(r)
    z = jnp.linalg.solve((r + eye).T, (r - eye).T).T
    z2, power, total = z @ z, z, jnp.zeros_like(z)
    for k in range(LOG_TERMS):
        total = total + power / (2 * k + 1)
        power = power @ z2
    small = jnp.sqrt(jnp.sum(z ** 2)) <= LOG_SERIES_RADIUS
    return jnp.where(small, 2.0 ** (LOG_ROOTS + 1) * total, jnp.nan)


# Integrals over a finite interval by Gauss-Legendre quadrature. An n-point rule is exact for
# polynomials of degree 2n - 1, and for an integrand analytic inside the ellipse with foci lo, hi
# whose semi-axes sum to ρ half-lengths its error falls like ρ^{-2n}. Entire integrands (e^{aX} with
# ‖X‖ <= 2) are exact to rounding at 16 points. The hardest integrand drawn is the resolvent
# (a(X - I) + I)^{-1} E (a(X - I) + I)^{-1} of d logm X, with a double pole at a = 1/(1 - λ) just
# past 1 for an eigenvalue λ of modulus 0.1 (ρ ≈ 1.9) and non-normal X: measured on 300 positive
# stable draws at both scales, relative to the integrand's size, the error is 1e-5 at 16 points,
# 9e-10 at 24 and at the rounding floor (1.4e-13) from 32 on. Hence 48 points, and the check does
# not trust even that: it also computes the 32-point rule, and where the two differ by more than
# QUAD_AGREE of the integrand's size (the weighted sum of its norms) the value is NaN, which the
# checker reports as "cannot check". QUAD_AGREE = 1e-11 is a thousandth of the checker's tolerance.
QUAD_NODES, QUAD_CHECK_NODES, QUAD_AGREE = 48, 32, 1e-11


def gauss_legendre(k: int, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights of the k-point Gauss-Legendre rule on [lo, hi]."""
    t, w = np.polynomial.legendre.leggauss(k)
    half = (hi - lo) / 2
    return lo + half * (t + 1), half * w


def _integral(node: Integral, ctx: Ctx):
    inner = replace(ctx, tape=None)  # values inside the quadrature are not the identity's intermediates
    shape = concrete(node.shape, ctx.sizes)

    def quadrature(k: int):
        nodes, weights = gauss_legendre(k, node.lo, node.hi)
        # All nodes at once (vmap), not one after another (scan): the replay then runs each operation
        # once per draw on a stack of k matrices instead of k times, a third of a matrix-function check
        at = jax.vmap(lambda t: evaluate(node.body, replace(inner, indices={**inner.indices, node.var: t})))
        values = jnp.broadcast_to(at(jnp.asarray(nodes)), (k, *shape))
        w = jnp.asarray(weights)
        total = jnp.tensordot(w, values, axes=1)
        size = jnp.sum(w * jnp.sqrt(jnp.sum(values * values, axis=(1, 2))))
        return total, size

    fine, size = quadrature(QUAD_NODES)
    coarse, _ = quadrature(QUAD_CHECK_NODES)
    agree = jnp.sqrt(jnp.sum((fine - coarse) ** 2)) <= QUAD_AGREE * size
    return jnp.where(agree, fine, jnp.nan)


def _derivative(node: Deriv, ctx: Ctx):
    gradient = node.written.startswith("nabla")
    jac, value = _shared(("jacobian", node.f, node.wrt, gradient), ctx,
                         lambda c: _jacobian(node.f, node.wrt, gradient, c))  # jac: f.shape + x.shape
    if ctx.tape is not None:
        # A derivative is only meaningful where its function is defined (log of a negative is not):
        # a non-finite function value poisons the scale, which `check` reports as "cannot check".
        ctx.tape.append(value)
    fr, fc = jac.shape[:2]
    xr, xc = jac.shape[2:]
    fk, xk = kind(node.f.shape), kind(node.wrt.shape)
    den = node.layout == "denominator"
    if fk == "scalar":
        g = jac[0, 0]
        return g if den else g.T
    if xk == "scalar":
        d = jac[:, :, 0, 0]
        return d if fk == "matrix" or not den else d.T
    m = jac.reshape(fr * fc, xr * xc)  # entry (i, j) = ∂f_i/∂x_j: the numerator layout
    return m.T if den else m


def _jacobian(f: Node, wrt: Node, gradient: bool, ctx: Ctx):
    """(∂f/∂wrt as an array of shape f.shape + wrt.shape, f's value), whatever the layout."""
    x0, at = _variable(wrt, ctx)

    def value(v):
        y = evaluate(f, at(v))
        return y, y

    if jnp.iscomplexobj(x0):
        return _wirtinger(value, x0, gradient=gradient)
    # Forward mode: the inputs here have at most a few dozen entries, and tracing a forward
    # Jacobian costs about 30% less than a reverse one (tracing is most of a check's time).
    return jax.jacfwd(value, has_aux=True)(x0)


# Tracing a derivative (jacfwd, hessian, jvp) is most of a check's time. The same derivative at the
# same sizes comes back often: in both layouts of an entry (the arrangement differs, not the
# Jacobian), in every step of a derivation (all of them differentiate f), in an entry and its
# mutants. So each is traced as a `jax.jit` function of the context's arrays, kept under a key of
# everything else it reads: the tree's structure (`structure`), the sizes, what varies, what is
# symmetric. JAX then traces it once per key and input shapes and reuses that trace; the replay
# (`_program`) inlines the call, so what runs is unchanged.
_SHARED: OrderedDict = OrderedDict()
SHARED_KEPT = 2048  # the traces kept (least recently used dropped): a few MB


def _shared(what: tuple, ctx: Ctx, compute):
    """compute(ctx) for the computation `what` (a tuple of trees and plain values that decides
    everything `compute` does besides the context), traced once per context shape (see _SHARED)."""
    try:
        key = (structure(what), tuple(sorted(ctx.sizes.items())), ctx.varying, ctx.symmetric)
    except TypeError:  # a field `structure` does not know: traced here, not shared
        return compute(replace(ctx, tape=None))
    fn = _SHARED.get(key)
    if fn is None:
        sizes, varying, symmetric = ctx.sizes, ctx.varying, ctx.symmetric

        def pure(values, fns, dirs, indices, overrides):
            return compute(Ctx(sizes, values, fns, dirs, varying, indices, overrides, None, symmetric))

        fn = _SHARED[key] = jax.jit(pure)
        if len(_SHARED) > SHARED_KEPT:
            _SHARED.popitem(last=False)
    else:
        _SHARED.move_to_end(key)
    return fn(ctx.values, ctx.fns, ctx.dirs, ctx.indices, ctx.overrides)


def forget_shared() -> None:
    """Drop the shared derivative traces (see _SHARED)."""
    _SHARED.clear()


def _wirtinger(f, z0, gradient: bool = False):
    """(∂f/∂z, f's value) at z0 for a complex variable z = x + iy, from the partials by the real
    and imaginary parts: ∂f/∂z = ½(∂f/∂x − i ∂f/∂y), holding z̄ fixed. With `gradient`, the
    Matrix Cookbook's complex gradient ∂f/∂x + i ∂f/∂y (= 2 ∂f/∂z̄) instead. Never JAX's own
    complex convention: both partials are forward derivatives by real inputs."""
    (jx, jy), value = jax.jacfwd(lambda x, y: f(x + 1j * y), argnums=(0, 1), has_aux=True)(z0.real, z0.imag)
    return (jx + 1j * jy if gradient else (jx - 1j * jy) / 2), value


def _hessian(node: Hessian, ctx: Ctx):
    if ctx.tape is not None:  # only meaningful where the function is defined (see `_derivative`)
        ctx.tape.append(evaluate(node.f, replace(ctx, tape=None)))
    return _shared(("hessian", node.f, node.a, node.b), ctx, lambda c: _hessian_matrix(node.f, node.a, node.b, c))


def _hessian_matrix(f: Node, a: Node, b: Node, ctx: Ctx):
    """The second derivatives of a scalar f, by the entries of a (rows) and of b (columns)."""
    a0, at_a = _variable(a, ctx)
    if same_variable(a, b):
        h = jax.hessian(lambda v: evaluate(f, at_a(v))[0, 0])(a0)
        n = a0.size
        return h.reshape(n, n)
    b0, _ = _variable(b, ctx)

    def value(va, vb):
        c = at_a(va)
        _, at_b = _variable(b, c)
        return evaluate(f, at_b(vb))[0, 0]

    h = jax.jacfwd(jax.grad(value, argnums=1), argnums=0)(a0, b0)  # b.shape + a.shape
    return h.reshape(b0.size, a0.size).T


def _differential(node: Differential, ctx: Ctx):
    names = [n for n in ctx.varying if n in ctx.values]
    if not names:
        return jnp.zeros_like(evaluate(node.x, replace(ctx, tape=None)))
    value, tangent = _shared(("differential", node.x), ctx, lambda c: _tangent(node.x, names, c))
    if ctx.tape is not None:
        # JAX's tangent of log det X is tr(X⁻¹ dX) even where det X < 0 and the value is NaN: a
        # differential is only meaningful where its function is defined (see `_derivative`)
        ctx.tape.append(value)
    return tangent


def _tangent(x: Node, names: list[str], ctx: Ctx):
    """(x's value, its tangent when each variable in `names` moves along its direction in ctx.dirs)."""
    def f(*vs):
        return evaluate(x, ctx.with_values(**dict(zip(names, vs))))

    return jax.jvp(f, tuple(ctx.values[n] for n in names), tuple(ctx.dirs[n] for n in names))


# ----- random inputs ---------------------------------------------------------------------------

def orthogonal(rng: np.random.Generator, n: int) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


def well_conditioned(rng: np.random.Generator, r: int, c: int, scale=(1.0, 2.0), distinct: bool = False) -> np.ndarray:
    """U diag(s) Vᵀ with s in `scale`: never symmetric by accident, condition number at most
    scale[1] / scale[0]; with `distinct`, the singular values well separated (see `separated`)."""
    k = min(r, c)
    u, v = orthogonal(rng, r)[:, :k], orthogonal(rng, c)[:, :k]
    s = separated(rng, scale, k) if distinct else rng.uniform(*scale, k)
    return u @ np.diag(s) @ v.T


def separated(rng: np.random.Generator, scale, k: int) -> np.ndarray:
    """k magnitudes in `scale`, one in each of k equal slices and away from the slice ends, in random
    order: any two differ by at least a (k + k)-th of the range, so derivatives of eigenvalues and
    eigenvectors (which divide by the gaps) stay well conditioned, while values still vary."""
    lo, hi = scale
    return rng.permutation(lo + (hi - lo) * (np.arange(k) + rng.uniform(0.25, 0.75, k)) / k)


def _signs(rng: np.random.Generator, k: int) -> np.ndarray:
    """Random signs, both present when k >= 2 (so 'indefinite' really is)."""
    s = rng.choice([-1.0, 1.0], k)
    if k >= 2 and abs(s.sum()) == k:
        s[rng.integers(k)] *= -1
    return s


def unitary(rng: np.random.Generator, n: int) -> np.ndarray:
    """A random unitary matrix (Haar: QR of a complex Gaussian, phases fixed): never real."""
    q, r = np.linalg.qr(complex_normal(rng, (n, n)))
    d = np.diag(r)
    return q * (d / np.abs(d))


def complex_normal(rng: np.random.Generator, shape) -> np.ndarray:
    """Standard complex Gaussian entries: real and imaginary parts independent, each of variance ½."""
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) / math.sqrt(2)


def _phases(rng: np.random.Generator, k: int) -> np.ndarray:
    """Unit complex numbers e^{iθ} with θ at least π/8 away from each axis, in every quadrant:
    a scalar drawn with them is never nearly real or nearly imaginary."""
    return np.exp(1j * (rng.integers(0, 4, k) * np.pi / 2 + rng.uniform(np.pi / 8, 3 * np.pi / 8, k)))


def draw_complex(rng: np.random.Generator, shape: tuple[int, int], props: frozenset[str],
                 scale=(1.0, 2.0), form: int = 0) -> np.ndarray:
    """One random complex input (see `draw_value`): general matrices are U diag(s) Vᴴ with random
    unitary U and V, so never real, Hermitian or unitary by accident; Hermitian ones are Q diag(s) Qᴴ,
    indefinite, positive definite and negative definite in turn (positive semidefinite ones are
    singular every other draw); unitary ones Haar-distributed."""
    r, c = shape
    lo, hi = scale
    if (r, c) == (1, 1):
        return (rng.uniform(lo / 2, hi) * _phases(rng, 1)).reshape(1, 1)
    if r == 1 or c == 1:
        n = max(r, c)
        v = complex_normal(rng, n)
        v *= 1.0 / np.linalg.norm(v) if "unit" in props else rng.uniform(lo, hi) * math.sqrt(1.0 / n) * 1.5
        return v.reshape(r, c)
    if "unitary" in props:
        return np.diag(_phases(rng, r)) if "diagonal" in props else unitary(rng, r)
    s = rng.uniform(lo, hi, r)
    if "diagonal" in props:  # a Hermitian diagonal matrix is real
        if props & {"hpd", "hpsd"}:
            return np.diag(s).astype(complex)
        return np.diag(s * _signs(rng, r)).astype(complex) if "hermitian" in props else np.diag(s * _phases(rng, r))
    if props & {"hermitian", "hpd", "hpsd"}:
        q = unitary(rng, r)
        if "hpsd" in props and form % 2 == 1:
            s[rng.integers(r)] = 0.0  # singular: positive semidefinite, not definite
        elif "hermitian" in props:
            s = s * (_signs(rng, r), np.ones(r), -np.ones(r))[form % 3]
        return q @ np.diag(s) @ q.conj().T
    k = min(r, c)
    u, v = unitary(rng, r)[:, :k], unitary(rng, c)[:, :k]
    return u @ np.diag(rng.uniform(lo, hi, k)) @ v.conj().T


def draw_value(rng: np.random.Generator, shape: tuple[int, int], props: frozenset[str],
               scale=(1.0, 2.0), form: int = 0) -> np.ndarray:
    """One random input of `shape` with the declared properties.

    `scale` is the range of its singular values (magnitudes for scalars and vectors); `form`
    chooses among a structure's forms, so that successive draws cover them all: orthogonal
    matrices alternate determinant +1 and -1; symmetric ones are indefinite, positive definite
    and negative definite in turn; semidefinite ones are singular every other draw.
    """
    if "complex" in props:
        return draw_complex(rng, shape, props, scale, form)
    r, c = shape
    lo, hi = scale
    if (r, c) == (1, 1):
        mag = rng.uniform(lo / 2, hi)
        return np.array([[mag if "positive" in props else mag * _signs(rng, 1)[0]]])
    if r == 1 or c == 1:
        n = max(r, c)
        if "positive" in props:
            v = rng.uniform(lo / 2, hi, n)
        else:
            v = rng.standard_normal(n)
            v *= 1.0 if "unit" in props else rng.uniform(lo, hi) * math.sqrt(1.0 / n) * 1.5
            if "unit" in props:
                v /= np.linalg.norm(v)
        return v.reshape(r, c)
    if "orthogonal" in props:
        q = orthogonal(rng, r)
        want = 1.0 if form % 2 == 0 else -1.0
        if np.sign(np.linalg.det(q)) != want:
            q[:, 0] = -q[:, 0]
        return q
    if "toeplitz" in props:
        # one value per diagonal, of either sign and of the draw's scale (so no two diagonals agree and
        # a general Toeplitz matrix is never symmetric); a symmetric one mirrors its first column
        t = rng.uniform(lo, hi, 2 * r - 1) * _signs(rng, 2 * r - 1) / math.sqrt(r)
        i, j = np.indices((r, r))
        return t[np.abs(i - j) if "symmetric" in props else i - j + r - 1]
    s = separated(rng, scale, r) if "distinct" in props else rng.uniform(lo, hi, r)
    if "diagonal" in props:
        return np.diag(s if props & {"positive", "spd", "psd"} else s * _signs(rng, r))
    if "psd" in props:
        if form % 2 == 1:
            s[rng.integers(r)] = 0.0  # singular: positive semidefinite, not definite
        q = orthogonal(rng, r)
        return q @ np.diag(s) @ q.T
    if "spd" in props:
        q = orthogonal(rng, r)
        return q @ np.diag(s) @ q.T
    if "symmetric" in props:
        q = orthogonal(rng, r)
        sign = (_signs(rng, r), np.ones(r), -np.ones(r))[form % 3]
        return q @ np.diag(s * sign) @ q.T
    if "positive" in props:
        return rng.uniform(lo / 2, hi, (r, c))
    if "stable" in props:
        return positive_stable(rng, r, scale, complex_pairs=form % 2 == 0)
    if "skew" in props:
        a = well_conditioned(rng, r, c, scale)
        return (a - a.T) / 2
    a = well_conditioned(rng, r, c, scale, "distinct" in props)
    if "posdet" in props and np.linalg.det(a) < 0:
        a[:, 0] = -a[:, 0]
    return a


def positive_stable(rng: np.random.Generator, n: int, scale=(1.0, 2.0), complex_pairs: bool = True) -> np.ndarray:
    """A positive stable n×n matrix (every eigenvalue has a positive real part) that is far from
    normal: S T S⁻¹ with S well conditioned and T quasi-triangular, eigenvalue moduli in `scale`,
    complex pairs (with `complex_pairs`) at arguments up to ±1.25 rad, and a strictly upper part as
    large as the eigenvalues, so that a formula true only for normal or commuting matrices fails."""
    lo, hi = scale
    t = np.triu(rng.standard_normal((n, n)), 1) * (lo + hi) / 2
    i = 0
    while i < n:
        rho = rng.uniform(lo, hi)
        if complex_pairs and i + 1 < n and (i == 0 or rng.random() < 0.5):
            phi, c = rng.uniform(0.3, 1.25), rng.uniform(0.5, 2.0)
            a, b = rho * math.cos(phi), rho * math.sin(phi)
            t[i:i + 2, i:i + 2] = [[a, b * c], [-b / c, a]]  # eigenvalues a ± ib
            i += 2
        else:
            t[i, i] = rho
            i += 1
    s = well_conditioned(rng, n, n)
    return s @ t @ np.linalg.inv(s)


def function_params(rng: np.random.Generator, d_in: int, d_out: int):
    """Parameters (L, C, W, b, c) of the random smooth map z -> L z + C tanh(W z + b) + c.

    The bias b keeps the map from being odd about z = 0: without it, u(x) + u(-x) = 2 u(0) held
    at every draw, though it is false for almost every function."""
    scale = 1.0 / math.sqrt(d_in)
    return (rng.standard_normal((d_out, d_in)) * scale, rng.standard_normal((d_out, HIDDEN)),
            rng.standard_normal((HIDDEN, d_in)) * scale, rng.standard_normal((HIDDEN, 1)),
            rng.standard_normal((d_out, 1)))
