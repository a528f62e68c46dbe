"""The NumPy replay of traced JAX programs (`matref._program`) computes what JAX computes.

Every NumPy rule is exercised by at least one function below, at generated shapes and values, and
compared with JAX running the same function; a rule no case exercises fails the coverage test."""

import jax
import jax.numpy as jnp
import jax.scipy.linalg
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jax.extend.core import ClosedJaxpr, Jaxpr

from matref import _program
from matref._program import RULES, Program


def _tri(a):
    return a + a.shape[-1] * jnp.eye(a.shape[-1])  # well away from singular


def _while(x):
    return jax.lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, c[1] @ x @ x.T / 4), (0, jnp.eye(x.shape[0])))[1]


def _scan(x):
    return jax.lax.scan(lambda c, row: (c + row, c * row), jnp.zeros(x.shape[1]), x, reverse=True)


def _cond(x):
    return (jax.lax.cond(jnp.sum(x) > 0, lambda y: y.T @ y, lambda y: -(y.T @ y), x),
            jax.lax.platform_dependent(x, cpu=lambda y: 2 * y, default=lambda y: y - 1),  # the CPU branch
            jax.lax.platform_dependent(x, tpu=lambda y: 2 * y, default=lambda y: y - 1))  # the default


def _sorts(x):
    # searchsorted compares in XLA's total order (lt_to, le_to; eq_to for complex numbers, by parts),
    # where -0 < +0 and NaN sorts last
    edges = jnp.sort(jnp.concatenate([x[:, 0], jnp.array([-0.0, 0.0, jnp.nan, -jnp.inf])]))
    queries = jnp.concatenate([x[:, -1], jnp.array([0.0, -0.0, jnp.nan, jnp.inf])])
    z = jnp.sort(x[:, 0] + 1j * jnp.round(x[:, -1]))
    return (jnp.sort(x, axis=0), jnp.argsort(x[:, 0]), jax.lax.sort((x[:, 0], x[:, -1]), num_keys=1),
            *(jnp.searchsorted(edges, queries, side=side) for side in ("left", "right")),
            jnp.searchsorted(z, z[::-1] + 0.5j, side="right"))


def _indexing(x):
    n, m = x.shape
    perm = jnp.argsort(x[:, 0])
    return (x[perm], x[:, perm[: min(n, m)]], x[1, 2 % m], x.at[perm[0], 0].set(7.0), x.at[perm].add(1.0),
            x.at[0].multiply(3.0), jnp.take(x, jnp.array([0, n - 1, n + 5]), axis=0, mode="fill", fill_value=-1.0),
            jnp.take(x, jnp.array([0, n + 5]), axis=0, mode="clip"))


def _dynamic(x, i):
    n = x.shape[0]
    return (jax.lax.dynamic_slice(x, (i, jnp.int32(0)), (2, x.shape[1])), jax.lax.dynamic_update_slice(x, jnp.ones((1, 1)), (i, i)),
            x[i % n], jnp.roll(x, 1, axis=0))


def _integers(x):
    k = jnp.round(x * 7).astype(jnp.int32)
    return k // 3, k % 3, jax.lax.div(k, jnp.int32(3)), jax.lax.rem(k, jnp.int32(-3)), k.astype(jnp.float64), jnp.argmax(x, axis=0), \
        jnp.argmin(x, axis=1), jnp.where(k > 0, k, -k), jax.lax.select_n(jnp.clip(k, 0, 2), x, -x, 2 * x)


def _shapes(x):
    y = jnp.pad(x, ((1, 0), (2, 1)))
    z = jax.lax.pad(x, 0.5, ((0, 0, 1), (-1, 2, 2)))
    return (y, z, jnp.concatenate([x, x], axis=1), jnp.split(x, [1], axis=0)[1], x[::-1, 1:], jnp.tile(x, (2, 1)),
            jnp.expand_dims(x, 0), jnp.squeeze(x[None]), jnp.broadcast_to(x[:, :1], x.shape), jnp.flip(x, 1),
            jnp.cumsum(x, axis=0), jax.lax.cumsum(x, axis=1, reverse=True), jnp.cumprod(x, axis=0),
            jax.lax.cummax(x, axis=0), jax.lax.cummin(x, axis=1, reverse=True), jnp.arange(x.shape[0]) * x[:, 0],
            jnp.eye(x.shape[0], x.shape[1], k=1) * x)


def _elementwise(x):
    y = jnp.abs(x) + 0.5
    return (jnp.exp(x) - jnp.log(y) + jnp.log1p(y) - jnp.expm1(x), jnp.sqrt(y) * jax.lax.rsqrt(y), jnp.sin(x) + jnp.cos(x),
            jnp.tan(x / 4), jnp.tanh(x), jax.nn.sigmoid(x), x ** 3, y ** -2, y ** x, jnp.sign(x), jnp.floor(x),
            jnp.ceil(x), jnp.maximum(x, 0.1), jnp.minimum(x, 0.1), jnp.arctan2(x, y), jnp.square(x),
            jnp.isfinite(x / (x - x)), (x > 0) & (x < 1), (x > 0) | ~(x < 1), x == x.T[0, 0], x != 0, x >= 0, x <= 0,
            jnp.clip(x, -0.5, 0.5), jax.lax.stop_gradient(x), jnp.max(x), jnp.min(x, axis=0), jnp.prod(y, axis=1),
            jnp.any(x > 1), jnp.all(x > -1), jnp.sum(x, axis=(0, 1)))


def _linear_algebra(x):
    a = x.T @ x + jnp.eye(x.shape[1])
    t = _tri(x[: x.shape[1]] if x.shape[0] >= x.shape[1] else x[:, : x.shape[0]])
    b = jnp.ones((t.shape[0], 2))
    solves = [jax.scipy.linalg.solve_triangular(t, b, lower=lower, trans=trans, unit_diagonal=unit)
              for lower in (True, False) for trans in (0, 1) for unit in (True, False)]
    right = jax.lax.linalg.triangular_solve(t, b.T, left_side=False, lower=True, transpose_a=True)
    singular = [jax.scipy.linalg.solve_triangular(t.at[k, k].set(0.0), b, lower=lower)  # inf and nan, no error
                for k in (0, t.shape[0] - 1) for lower in (True, False)]
    return (jnp.linalg.inv(a), jnp.linalg.det(a), jnp.linalg.slogdet(a)[1], jax.lax.linalg.lu(x),
            jax.lax.linalg.lu(x.at[:, 0].set(0.0)), jnp.linalg.det(a.at[0].set(0.0)),  # singular: zero pivots
            jnp.linalg.solve(a, a[:, :1]),
            jnp.einsum("ij,jk->ik", x, x.T), jnp.einsum("bij,bjk->bik", x[None], x.T[None]), jnp.kron(x, x[:1]),
            jax.scipy.linalg.expm(x[: x.shape[1], : x.shape[1]] / 4 if x.shape[0] >= x.shape[1] else x[:, : x.shape[0]] / 4),
            *solves, right, *singular, jnp.trace(a))


def _decompositions(x):
    a = x.T @ x + x[: x.shape[1], : x.shape[1]] if x.shape[0] >= x.shape[1] else x @ x.T  # symmetric or not
    f = lambda y: jnp.linalg.eigh(y)[1][:, -1] @ y[0] + jnp.sum(jnp.linalg.svd(y, compute_uv=False))  # noqa: E731
    one_triangle = [jax.lax.linalg.eigh(a, lower=lower, symmetrize_input=False) for lower in (True, False)]
    return (jnp.linalg.eigh(a), *one_triangle, jnp.linalg.svd(x, full_matrices=False),
            jnp.linalg.svd(x, full_matrices=True), jnp.linalg.svd(x.T, compute_uv=False), jnp.linalg.svd(x[None]),
            jax.jacobian(f)(a), jax.jvp(lambda y: jnp.linalg.svd(y, full_matrices=False), (x,), (jnp.ones_like(x),)),
            jnp.linalg.cholesky(a @ a.T + jnp.eye(a.shape[0])), jnp.linalg.cholesky(-a @ a.T),  # not definite: NaN
            jnp.linalg.cholesky(jnp.stack([a @ a.T + jnp.eye(a.shape[0]), -a @ a.T])),
            jnp.linalg.qr(x), jnp.linalg.qr(x, mode="complete"), jnp.linalg.qr(x.T),
            jax.jacobian(lambda y: jnp.linalg.qr(y)[1])(x if x.shape[0] >= x.shape[1] else x.T),  # JAX: tall only
            jax.grad(lambda y: jnp.sum(jnp.linalg.cholesky(y)))(a @ a.T + jnp.eye(a.shape[0])))


def _autodiff(x):
    f = lambda y: jnp.sum(jnp.tanh(y @ y.T) ** 2) + jnp.linalg.slogdet(y.T @ y + jnp.eye(y.shape[1]))[1]  # noqa: E731
    return jax.jacobian(f)(x), jax.hessian(f)(x), jax.jvp(f, (x,), (jnp.ones_like(x),))


def _matrix_functions(x):
    """The checker's sqrtm and logm (fori_loop iterations, a NaN guard) and their derivatives."""
    from matref import _numeric

    g = x.T @ x
    a = jnp.triu(g, 1) + jnp.diag(1 + jnp.diag(g))  # triangular, positive diagonal: positive stable, not normal
    return (_numeric.sqrtm(a), _numeric.logm(a), jax.jvp(_numeric.logm, (a,), (x.T @ x,)),
            jax.jacfwd(_numeric.sqrtm)(a), _numeric.sqrtm(-a))  # the last: NaN, no error


CASES = [_while, _scan, _cond, _sorts, _indexing, _integers, _shapes, _elementwise, _linear_algebra, _decompositions,
         _autodiff, _matrix_functions]


# ----- complex inputs: the primitives a complex check traces (conjugates, real and imaginary parts,
# complex products and factorizations, and the Wirtinger partials by the real and imaginary parts)

def _complex_elementwise(z):
    w = jnp.abs(z) + 0.5
    return (jnp.conj(z), jnp.real(z), jnp.imag(z), jnp.abs(z), jax.lax.complex(jnp.real(z), w), z * jnp.conj(z),
            z / (z + 2.0), jnp.exp(z / 4), jnp.log(z), jnp.sqrt(z), jnp.sign(z), z ** 3, z ** -2, z ** (0.5 + 1j),
            jnp.sin(z / 4), jnp.cos(z / 4), jnp.tanh(z / 4), -z, z - 1j, jnp.sum(z, axis=0), jnp.prod(z, axis=1),
            jnp.real(z).astype(jnp.complex128), z == jnp.conj(z),
            jnp.where(jnp.real(z) > 0, z, jnp.conj(z)), jnp.isfinite(z), jnp.cumsum(z, axis=0), z.T[::-1])


def _complex_linear_algebra(z):
    a = z.conj().T @ z + jnp.eye(z.shape[1])
    t = _tri(z[: z.shape[1]] if z.shape[0] >= z.shape[1] else z[:, : z.shape[0]])
    b = jnp.ones((t.shape[0], 2)) * (1 + 2j)
    solves = [jax.lax.linalg.triangular_solve(t, b, left_side=True, lower=lower, transpose_a=trans, conjugate_a=conj)
              for lower in (True, False) for trans in (True, False) for conj in (True, False)]
    return (jnp.linalg.inv(a), jnp.linalg.det(a), jnp.linalg.det(t), jnp.linalg.slogdet(a), jax.lax.linalg.lu(z),
            jnp.linalg.solve(a, a[:, :1]), jnp.einsum("ij,jk->ik", z, z.T), z.conj().T @ z, jnp.kron(z, z[:1]),
            jnp.linalg.matrix_power(a, 3), jnp.trace(a), *solves)


def _complex_autodiff(z):
    def f(y):  # a non-holomorphic function: the checker's Wirtinger partials go by real inputs
        return jnp.trace(y.conj().T @ y) + jnp.linalg.det(y[:2, :2] @ y[:2, :2].conj().T + jnp.eye(2)) + jnp.sum(y ** 2)

    jx, jy = jax.jacfwd(lambda x, y: f(x + 1j * y), argnums=(0, 1))(jnp.real(z), jnp.imag(z))
    tangent = jax.jvp(lambda y: jnp.linalg.inv(y.T @ y.conj() + jnp.eye(y.shape[1])), (z,), (jnp.conj(z) * 1j,))[1]
    return (jx - 1j * jy) / 2, (jx + 1j * jy) / 2, tangent, jax.grad(lambda y: jnp.real(f(y)))(z)


COMPLEX_CASES = [_complex_elementwise, _complex_linear_algebra, _complex_autodiff]


def _inputs(seed: int, rows: int, cols: int):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((rows, cols))


def _close(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape and a.dtype == b.dtype, (a.shape, b.shape, a.dtype, b.dtype)
    # float64 results of the same algorithm in two libraries: differences of a few ulp times the
    # operations involved (<= ~1e-12 relative for these small, well-conditioned inputs)
    np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, equal_nan=True)


def _complex_inputs(seed: int, rows: int, cols: int):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((rows, cols)) + 1j * rng.standard_normal((rows, cols))


# Few sizes (JAX compiles the expected side once per shape); values vary freely.
_JITTED = {fn: jax.jit(fn) for fn in CASES + COMPLEX_CASES}


@pytest.mark.parametrize("fn", COMPLEX_CASES, ids=lambda f: f.__name__.strip("_"))
@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), rows=st.integers(2, 4), cols=st.integers(2, 4))
def test_replay_matches_jax_for_complex_inputs(fn, seed, rows, cols):
    z = _complex_inputs(seed, rows, cols)
    expected = _JITTED[fn](z)
    got = Program(fn, z)(z)
    jax.tree_util.tree_map(_close, got, expected)


def test_a_rule_dropping_an_imaginary_part_fails_loudly(monkeypatch):
    # A rule giving a complex value where JAX has a real one is refused, never cast (the cast would
    # drop the imaginary part silently).
    monkeypatch.setitem(RULES, "real", lambda x, **_: x)
    monkeypatch.setattr(_program, "_PREPARED", type(_program._PREPARED)())
    z = _complex_inputs(1, 2, 2)
    with pytest.raises(AssertionError, match="real"):
        Program(jnp.real, z)(z)


@pytest.mark.parametrize("fn", CASES, ids=lambda f: f.__name__.strip("_"))
@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), rows=st.integers(2, 4), cols=st.integers(2, 4))
def test_replay_matches_jax(fn, seed, rows, cols):
    x = _inputs(seed, rows, cols)
    expected = _JITTED[fn](x)
    got = Program(fn, x)(x)
    jax.tree_util.tree_map(_close, got, expected)


@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), rows=st.integers(2, 4), i=st.integers(-3, 8))
def test_replay_matches_jax_at_traced_indices(seed, rows, i):
    x = _inputs(seed, rows, 3)
    got = Program(lambda a: _dynamic(*a), (x, np.int32(i)))((x, np.int32(i)))
    jax.tree_util.tree_map(_close, got, _dynamic(jnp.asarray(x), jnp.int32(i)))


def _primitives(jaxpr: Jaxpr, seen: set) -> set:
    for eqn in jaxpr.eqns:
        seen.add(eqn.primitive.name)
        for value in eqn.params.values():
            for sub in value if isinstance(value, (tuple, list)) else [value]:
                if isinstance(sub, ClosedJaxpr):
                    _primitives(sub.jaxpr, seen)
                elif isinstance(sub, Jaxpr):
                    _primitives(sub, seen)
                elif hasattr(sub, "_fields"):  # custom_linear_solve keeps its programs in a named tuple
                    for part in sub:
                        if isinstance(part, ClosedJaxpr):
                            _primitives(part.jaxpr, seen)
    return seen


def test_every_numpy_rule_is_exercised():
    x = _inputs(0, 4, 3)
    seen: set = set()
    for fn in CASES:
        _primitives(jax.make_jaxpr(fn)(x).jaxpr, seen)
    for fn in COMPLEX_CASES:
        _primitives(jax.make_jaxpr(fn)(_complex_inputs(0, 4, 3)).jaxpr, seen)
    _primitives(jax.make_jaxpr(lambda a: _dynamic(*a))((x, np.int32(1))).jaxpr, seen)
    # spellings the JAX version in use does not emit, and rules for primitives no program here makes
    aliases = {"scatter_add", "scatter_mul", "copy", "copy_p", "expand_dims", "reduce_and"}
    missing = set(RULES) - seen - aliases
    assert not missing, f"NumPy rules no test case exercises: {sorted(missing)}"
    assert {"jit", "custom_jvp_call"} <= seen  # the calls the preparation inlines (INLINED)


@pytest.mark.parametrize("fn", CASES + COMPLEX_CASES, ids=lambda f: f.__name__.strip("_"))
def test_preparing_computes_constants_once_and_drops_what_nothing_reads(fn):
    # What runs at every draw is only what depends on the inputs and is needed for the outputs:
    # each step reads an input or another step's result, and something reads each step's result.
    x = (_complex_inputs if fn in COMPLEX_CASES else _inputs)(0, 4, 3)
    closed = jax.make_jaxpr(fn)(x)
    prepared = _program._prepared(closed.jaxpr)
    constants = {slot for slot, _ in prepared.literals}
    read = set(prepared.outputs)
    for _, _, ins, outs, _, name in reversed(prepared.steps):
        assert not set(ins) <= constants, f"{name} reads only constants: it is computed at every run"
        assert read & {slot for slot, _, _ in outs}, f"nothing reads the result of {name}"
        read.update(ins)
    assert constants <= read


def test_a_jacobian_runs_fewer_steps_than_its_equations():
    # jacfwd's basis of tangents (iota, eq, convert, broadcast) does not depend on the inputs
    x = _inputs(0, 4, 3)
    closed = jax.make_jaxpr(jax.jacfwd(lambda y: jnp.tanh(y @ y.T)))(x)
    assert len(_program._prepared(closed.jaxpr).steps) < len(closed.jaxpr.eqns)


def test_a_wrong_rule_fails_loudly(monkeypatch):
    # A rule that returns the wrong shape is caught against the shape JAX inferred, never used.
    monkeypatch.setitem(RULES, "transpose", lambda x, **_: x)
    monkeypatch.setattr(_program, "_PREPARED", type(_program._PREPARED)())
    x = _inputs(1, 2, 3)
    with pytest.raises(AssertionError, match="transpose"):
        Program(lambda a: a.T @ a, x)(x)


def test_a_primitive_without_a_rule_runs_through_jax(monkeypatch):
    monkeypatch.delitem(RULES, "tanh")
    monkeypatch.setattr(_program, "_PREPARED", type(_program._PREPARED)())
    x = _inputs(2, 3, 3)
    _close(Program(jnp.tanh, x)(x), jnp.tanh(x))


def test_arguments_of_another_structure_are_refused():
    x = _inputs(3, 2, 2)
    program = Program(lambda a: a[0] + a[1], (x, x))
    with pytest.raises(TypeError, match="expected arguments"):
        program((x, x, x))
    with pytest.raises(TypeError, match="expected an argument of shape"):
        program((x, _inputs(3, 3, 2)))
