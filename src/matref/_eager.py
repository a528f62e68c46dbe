"""Eager JAX without XLA: what a script runs eagerly is evaluated by `_program`'s NumPy rules.

Why: a JAX snippet runs its operations one at a time, and XLA compiles every operation anew at each
shape (~20 ms each; a Hessian snippet compiles ~150 of them). That was three quarters of the time
of running the catalogue's JAX snippets, which `matref verify --snippets` and CI do for every entry.

What changes and what does not: the snippet is executed verbatim, and JAX does everything it does
for it (tracing, autodiff, vmap, shape and dtype rules, each operation's jaxpr). Only the last step,
turning that jaxpr into machine code and running it, is replaced: the jaxpr is replayed with NumPy,
every result checked against the shape and dtype JAX inferred (`_program`), and the outputs are JAX
arrays again. A primitive without a NumPy rule still goes to XLA. The rules are compared with XLA's
results in tests/test_program.py, and the test suite also runs a spread of JAX snippets with XLA
itself (tests/test_eager.py), so the compiled path a reader takes stays exercised.

Hooks into one JAX function, `pjit._pjit_call_impl_python`, where both an eager operation and a
jitted function called eagerly compile and run their jaxpr. If a JAX release renames it, `numpy_eager`
does nothing and XLA compiles as before (slower, never different).
"""

from __future__ import annotations

import contextlib
import threading
from typing import Iterator

import jax
import numpy as np

from ._program import run_jaxpr

_state = threading.local()  # .on: inside numpy_eager() and not inside a replay on this thread
_installed: list = []  # the original function, once the hook is in place


@contextlib.contextmanager
def numpy_eager() -> Iterator[None]:
    """Within this block (on this thread), eager JAX operations and jitted functions called eagerly
    are replayed with NumPy rather than compiled by XLA; results are JAX arrays of the same
    shapes, dtypes and weak types."""
    _install()
    before = getattr(_state, "on", False)
    _state.on = True
    try:
        yield
    finally:
        _state.on = before


def _install() -> None:
    if _installed:
        return
    try:
        from jax._src import pjit
        original = pjit._pjit_call_impl_python
    except (ImportError, AttributeError):  # another JAX: XLA compiles as it always does
        _installed.append(None)
        return

    def replayed(*args, jaxpr, **params):
        if not getattr(_state, "on", False) or jaxpr.effects or not all(map(_plain, args)):
            return original(*args, jaxpr=jaxpr, **params)
        _state.on = False  # a primitive without a NumPy rule goes to JAX (`_program._with_jax`): to XLA
        try:
            with np.errstate(all="ignore"):  # IEEE results (log 0 = -inf) without warnings, as XLA gives
                ins = [np.asarray(a, dtype=aval.dtype) for a, aval in zip(args, jaxpr.in_avals)]
                outs = run_jaxpr(jaxpr.jaxpr, jaxpr.consts, ins)
        finally:
            _state.on = True
        # (outputs, executable, profiler, constant arguments): no executable, so JAX keeps no fast path
        return [_array(o, aval) for o, aval in zip(outs, jaxpr.out_avals)], None, None, []

    pjit._pjit_call_impl_python = replayed
    _installed.append(original)


def _plain(x) -> bool:
    """Whether `x` is a number or an ordinary array NumPy can hold (not a PRNG key, a token or a
    reference)."""
    if isinstance(x, (bool, int, float, complex)):  # JAX's typed Python scalars too (subclasses)
        return True
    dtype = getattr(x, "dtype", None)
    return isinstance(x, (np.ndarray, np.generic, jax.Array)) and dtype is not None \
        and not jax.dtypes.issubdtype(dtype, jax.dtypes.extended)


def _array(value: np.ndarray, aval) -> jax.Array:
    """A JAX array holding `value`, with JAX's weak type for it (a weakly typed result, such as
    `2 * x` of a Python int, must promote as it would under XLA)."""
    out = jax.device_put(value)  # a copy to the device, nothing compiled
    if getattr(aval, "weak_type", False):
        from jax._src import array, core
        out = array.ArrayImpl(core.ShapedArray(value.shape, value.dtype, weak_type=True), out.sharding,
                              out._arrays, committed=False)
    return out
