"""Eager JAX replayed with NumPy (`matref._eager`) gives what XLA gives, compiling nothing.

The catalogue's JAX snippets are run this way everywhere else in the suite; here a spread of them
also runs with XLA itself (as a reader runs them), and the two runs must agree."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import matref
from matref._eager import numpy_eager
from matref.snippets import jax_check
from matref.snippets._dialect import execute

ENTRIES = matref.load_catalogue().entries
LAYOUTS = ("denominator", "numerator")
# float64 both ways, with operations in another order (NumPy's kernels, not XLA's): the entries'
# draws have condition numbers under 1e3 and a few dozen operations, so results agree to well under
# 1e3 * 50 * 2.2e-16 ~ 1e-11 relative; the snippets' own tolerance is 1e-8.
RTOL = 1e-10


@pytest.fixture
def compiles():
    """The XLA compilations that happen while the test runs (a list of their durations)."""
    seen = []

    def listen(name, seconds, **_):
        if name == "/jax/core/compile/backend_compile_duration":
            seen.append(seconds)
    jax.monitoring.register_event_duration_secs_listener(listen)
    yield seen
    jax.monitoring.unregister_event_duration_listener(listen)


def _work(x, a):
    """Eager operations of every sort a snippet runs: primitives, jitted library functions,
    transformations, Python numbers (weakly typed), complex numbers and integer indexing."""
    f = lambda y: jnp.trace(y.T @ a @ y) + jnp.linalg.slogdet(a @ a.T + jnp.eye(3))[1] * jnp.sum(jnp.sin(y))  # noqa: E731
    return {
        "grad": jax.grad(f)(x),
        "hessian": jax.hessian(lambda v: v @ a @ v * 2)(x[:, 0]),
        "jacfwd": jax.jacfwd(lambda y: jnp.linalg.inv(a) @ y)(x),
        "weak": jnp.asarray(2) * 1.5,
        "complex": jnp.conj(x + 1j * x).T @ (a + 0.5j),
        "index": x[jnp.arange(2), 1] + jnp.asarray(x).at[0, 0].set(7.0)[:2, 0],
        "linalg": jnp.linalg.eigh(a + a.T)[0] + jnp.linalg.svd(a, compute_uv=False),
    }


def test_eager_work_is_replayed_as_xla_computes_it_with_nothing_compiled(compiles):
    rng = np.random.default_rng(0)
    x, a = rng.standard_normal((3, 2)), rng.standard_normal((3, 3))
    jax.clear_caches()  # else an operation XLA compiled earlier runs compiled (JAX's fast path)
    with numpy_eager():
        got = _work(x, a)
    assert compiles == [], f"{len(compiles)} XLA compilations under numpy_eager"
    expected = _work(x, a)  # XLA
    for name, want in expected.items():
        have = got[name]
        assert isinstance(have, jax.Array), name
        assert (have.shape, have.dtype, have.weak_type) == (want.shape, want.dtype, want.weak_type), name
        np.testing.assert_allclose(have, want, rtol=RTOL, atol=RTOL, err_msg=name)


def test_outside_the_block_xla_runs_again(compiles):
    with numpy_eager():
        pass
    jnp.sin(jnp.arange(7.0) * 1.25)  # a shape no other test uses: compiled afresh
    assert compiles, "XLA did not compile outside numpy_eager: the hook leaked out of its block"


def test_jax_errors_are_raised_as_before():
    with numpy_eager(), pytest.raises(TypeError, match="dot_general requires contracting dimensions"):
        jnp.ones((2, 3)) @ jnp.ones((2, 3))


@pytest.mark.parametrize("entry", ENTRIES[::23], ids=lambda e: e.id)  # a spread: ~25 entries, both layouts
def test_a_jax_snippet_gives_the_same_left_side_with_xla_and_replayed(entry):
    for layout in LAYOUTS:
        text = jax_check.DIALECT.snippet(entry, layout)
        if text is None:
            continue
        jax.clear_caches()  # else what XLA compiled earlier runs compiled (JAX's fast path)
        with numpy_eager():
            replayed, _ = execute(text, "replayed")
        compiled, printed = execute(text, "compiled")  # as a reader runs it: XLA compiles each operation
        assert printed.startswith("holds:"), (entry.id, layout, printed)
        for name in ("lhs", "rhs"):
            want, have = np.asarray(compiled[name]), np.asarray(replayed[name])
            assert have.shape == want.shape and have.dtype == want.dtype, (entry.id, layout, name)
            np.testing.assert_allclose(have, want, rtol=RTOL, atol=RTOL * max(1.0, np.abs(want).max()),
                                       err_msg=f"{entry.id} {layout} {name}")
