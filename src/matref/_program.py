"""A JAX function traced once at fixed shapes, then run with NumPy as often as needed.

Why: a check evaluates the same derivatives at many draws. Eager JAX re-traces `jax.jacobian` at
every draw and XLA-compiles each operation at each new shape (two thirds of a cold `matref verify`
was XLA compiling); `jax.jit` compiles a program per identity and size plan (~0.1-1 s each). Here
JAX traces once (the derivative is JAX's autodiff: the traced program is JAX's own jaxpr) and NumPy
executes the program's primitives, a few microseconds each and nothing to compile.

Safety: every primitive's result is checked against the shape and dtype JAX inferred for it while
tracing, so a rule that misreads a primitive fails loudly instead of computing something else.
A primitive without a NumPy rule here runs through JAX itself (`bind`), so nothing is ever
approximated; `tests/test_program.py` compares every rule with JAX's result on generated inputs.
"""

from __future__ import annotations

import functools
import weakref
from typing import Callable

import jax
import numpy as np
from jax.extend.core import ClosedJaxpr, Jaxpr, Literal

Rule = Callable[..., object]
RULES: dict[str, Rule] = {}


class Program:
    """`fn` traced at the shapes and dtypes of `example` (a pytree of arrays); call it with a
    pytree of the same structure to get `fn`'s outputs as NumPy arrays."""

    def __init__(self, fn: Callable, example):
        closed, shapes = jax.make_jaxpr(fn, return_shape=True)(example)
        self._closed = closed
        self._out_tree = jax.tree_util.tree_structure(shapes)
        self._in_tree = jax.tree_util.tree_structure(example)

    def __call__(self, args):
        leaves, tree = jax.tree_util.tree_flatten(args)
        if tree != self._in_tree:
            raise TypeError(f"expected arguments shaped like {self._in_tree}, got {tree}")
        for x, aval in zip(leaves, self._closed.in_avals):
            if np.shape(x) != aval.shape:  # traced at other shapes: the program does not apply
                raise TypeError(f"expected an argument of shape {aval.shape}, got {np.shape(x)}")
        with np.errstate(all="ignore"):  # IEEE results (log 0 = -inf) without warnings, as in JAX
            outs = run_jaxpr(self._closed.jaxpr, self._closed.consts, [np.asarray(x) for x in leaves])
        return jax.tree_util.tree_unflatten(self._out_tree, outs)

    @property
    def jaxpr(self) -> ClosedJaxpr:
        return self._closed


def run_jaxpr(jaxpr: Jaxpr, consts, args) -> list[np.ndarray]:
    """Evaluate `jaxpr` with NumPy: its constants `consts`, its inputs `args` (NumPy arrays)."""
    return _prepared(jaxpr).run(consts, args)


# Calls into sub-programs whose equations are copied into the caller's steps when it is prepared
# (each jnp function is such a call): running them as calls cost a nested run each, most
# of a replay's time inside loops (a scan over quadrature nodes evaluating expm).
INLINED = ("jit", "pjit", "closed_call", "core_call", "custom_jvp_call")


def _inlined(eqn) -> tuple[Jaxpr, list] | None:
    """(jaxpr, constants) of an equation that calls a sub-program the preparation inlines, else None."""
    if eqn.primitive.name not in INLINED:
        return None
    j = eqn.params.get("jaxpr", eqn.params.get("call_jaxpr"))
    if isinstance(j, ClosedJaxpr):
        return j.jaxpr, list(j.consts)
    return (j, []) if isinstance(j, Jaxpr) else None


class _Prepared:
    """A jaxpr as a flat list of steps over numbered slots: one rule call per equation, with the
    equations of the sub-programs it calls (`INLINED`) in place of the calls.

    Two things are done once here rather than at every run. An equation whose inputs are all
    constants (literals, the constants of inlined calls, or results of such equations) is computed
    now and becomes a constant: jacfwd's basis of tangents (iota, eq, convert, broadcast) is about
    a quarter of a check's steps. And an equation whose results nothing reads is dropped."""

    def __init__(self, jaxpr: Jaxpr):
        self.size = 0
        self.literals: list[tuple[int, np.ndarray]] = []
        self._known: dict[int, np.ndarray] = {}  # while preparing: the slots whose value is already known
        self.steps: list = []
        self.consts = [self._slot() for _ in jaxpr.constvars]
        self.inputs = [self._slot() for _ in jaxpr.invars]
        with np.errstate(all="ignore"):  # as in `Program.__call__`
            self.outputs = self._add(jaxpr, self.consts + self.inputs)
        self._drop_unread()
        del self._known
        for _, value in self.literals:  # shared by every run: a rule writing into one fails loudly
            value.flags.writeable = False

    def _slot(self) -> int:
        self.size += 1
        return self.size - 1

    def _constant(self, value, dtype=None) -> int:
        i = self._slot()
        self._known[i] = np.asarray(value, dtype=dtype)
        self.literals.append((i, self._known[i]))
        return i

    def _add(self, jaxpr: Jaxpr, slots: list[int]) -> list[int]:
        """Add the steps of `jaxpr`, whose constants then inputs are in `slots`; its outputs' slots."""
        scope = dict(zip([*jaxpr.constvars, *jaxpr.invars], slots))

        def ref(v) -> int:
            if isinstance(v, Literal):
                return self._constant(v.val, v.aval.dtype)
            if v not in scope:
                scope[v] = self._slot()
            return scope[v]

        for eqn in jaxpr.eqns:
            ins = [ref(v) for v in eqn.invars]
            inner = _inlined(eqn)
            if inner is not None:
                body, consts = inner
                for v, slot in zip(eqn.outvars, self._add(body, [self._constant(c) for c in consts] + ins)):
                    scope[v] = slot
                continue
            name = eqn.primitive.name
            fn = RULES.get(name)
            if fn is None or not SUPPORTS.get(name, lambda _: True)(eqn.params):
                fn = functools.partial(_with_jax, eqn.primitive)
            outs = [(ref(v), v.aval.shape, v.aval.dtype) for v in eqn.outvars]
            step = (fn, eqn.params, ins, outs, eqn.primitive.multiple_results, name)
            if all(i in self._known for i in ins):  # constant: computed once, now
                _run(step, self._known)
                self.literals += [(slot, self._known[slot]) for slot, _, _ in outs]
            else:
                self.steps.append(step)
        return [ref(v) for v in jaxpr.outvars]

    def _drop_unread(self) -> None:
        """Drop the steps and constants that no output depends on."""
        read, kept = set(self.outputs), []
        for step in reversed(self.steps):
            if any(slot in read for slot, _, _ in step[3]):
                kept.append(step)
                read.update(step[2])
        self.steps = kept[::-1]
        self.literals = [(i, v) for i, v in self.literals if i in read]

    def run(self, consts, args) -> list[np.ndarray]:
        env: list = [None] * self.size
        for i, value in self.literals:
            env[i] = value
        for i, value in zip(self.consts, consts):
            env[i] = np.asarray(value)
        for i, value in zip(self.inputs, args):
            env[i] = value
        for step in self.steps:
            _run(step, env)
        return [env[i] for i in self.outputs]


def _run(step, env) -> None:
    """Run one step on the values in `env` (a list or dict by slot) and put its results there, each
    checked against the shape and dtype JAX inferred (see the module's docstring) and in that dtype."""
    fn, params, ins, outs, multiple, name = step
    result = fn(*[env[i] for i in ins], **params)
    for (i, shape, dtype), out in zip(outs, result if multiple else (result,)):
        out = np.asarray(out)
        if out.shape != shape:
            raise AssertionError(f"NumPy rule for {name} gave shape {out.shape}, JAX says {shape}")
        if out.dtype != dtype:
            if np.iscomplexobj(out) and not np.issubdtype(dtype, np.complexfloating):
                # a cast would drop the imaginary part without a word: a misread primitive
                raise AssertionError(f"NumPy rule for {name} gave complex {out.dtype}, JAX says {dtype}")
            out = out.astype(dtype)
        env[i] = out


_PREPARED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # jaxpr -> its steps, while it lives


def _prepared(jaxpr: Jaxpr) -> _Prepared:
    steps = _PREPARED.get(jaxpr)
    if steps is None:
        steps = _PREPARED[jaxpr] = _Prepared(jaxpr)
    return steps


def _with_jax(primitive, *invals, **params):
    """A primitive without a NumPy rule: JAX evaluates it (compiled once per shape, then cached)."""
    outs = primitive.bind(*invals, **params)
    return [np.asarray(o) for o in outs] if primitive.multiple_results else np.asarray(outs)


def rule(*names: str):
    def register(fn: Rule) -> Rule:
        for name in names:
            RULES[name] = fn
        return fn
    return register


# ----- sub-programs run as a whole (calls are inlined, see INLINED; a custom JVP's primal is
# inlined too, its JVP having been used while tracing) --------------------------------------------

def _closed(closed: ClosedJaxpr, *args):
    return run_jaxpr(closed.jaxpr, closed.consts, list(args))


@rule("cond")
def _cond(index, *args, branches, **_):
    return _closed(branches[int(index)], *args)


@rule("while")
def _while(*args, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):
    cconsts, bconsts, carry = args[:cond_nconsts], args[cond_nconsts:cond_nconsts + body_nconsts], \
        list(args[cond_nconsts + body_nconsts:])
    while bool(_closed(cond_jaxpr, *cconsts, *carry)[0]):
        carry = _closed(body_jaxpr, *bconsts, *carry)
    return carry


@rule("scan")
def _scan(*args, jaxpr, length, reverse, num_consts, num_carry, **_):
    consts, carry, xs = args[:num_consts], list(args[num_consts:num_consts + num_carry]), args[num_consts + num_carry:]
    ys = []
    for i in (reversed(range(length)) if reverse else range(length)):
        out = _closed(jaxpr, *consts, *carry, *(x[i] for x in xs))
        carry, y = out[:num_carry], out[num_carry:]
        ys.append(y)
    if reverse:
        ys.reverse()
    n_ys = len(jaxpr.out_avals) - num_carry
    stacked = [np.stack([y[k] for y in ys]) if ys else np.zeros((0, *jaxpr.out_avals[num_carry + k].shape),
                                                                  jaxpr.out_avals[num_carry + k].dtype)
               for k in range(n_ys)]
    return [*carry, *stacked]


@rule("platform_index")
def _platform_index(*, platforms, **_):
    # which of a `lax.platform_dependent`'s branches applies: the one for the platform JAX runs on
    # (NumPy stands in for that platform's kernels), else the default branch (listed as None)
    here = jax.default_backend()
    match = [i for i, names in enumerate(platforms) if names is not None and here in names]
    default = [i for i, names in enumerate(platforms) if names is None]
    return np.int32((match or default)[0])


# ----- elementwise -----------------------------------------------------------------------------

def _elementwise(name: str, fn):
    RULES[name] = lambda *xs, **_: fn(*xs)


for _name, _fn in {
    "add": np.add, "add_any": np.add, "sub": np.subtract, "mul": np.multiply, "neg": np.negative,
    "max": np.maximum, "min": np.minimum, "abs": np.abs, "sign": np.sign, "floor": np.floor, "ceil": np.ceil,
    "exp": np.exp, "log": np.log, "log1p": np.log1p, "expm1": np.expm1, "sqrt": np.sqrt,
    "rsqrt": lambda x: 1 / np.sqrt(x), "sin": np.sin, "cos": np.cos, "tan": np.tan, "tanh": np.tanh,
    "logistic": lambda x: 1 / (1 + np.exp(-x)), "square": np.square, "pow": np.power, "atan2": np.arctan2,
    "eq": np.equal, "ne": np.not_equal, "lt": np.less, "le": np.less_equal, "gt": np.greater,
    "ge": np.greater_equal, "and": np.bitwise_and, "or": np.bitwise_or, "not": np.invert,
    "is_finite": np.isfinite, "stop_gradient": np.asarray, "copy": np.copy, "copy_p": np.copy,
    "real": np.real, "imag": np.imag, "conj": np.conj,
}.items():
    _elementwise(_name, _fn)


@rule("div")
def _div(x, y, **_):
    if np.issubdtype(x.dtype, np.integer):  # lax.div rounds towards zero, like C
        return np.sign(x) * np.sign(y) * (np.abs(x) // np.abs(y))
    return np.divide(x, y)


@rule("rem")
def _rem(x, y, **_):
    return np.fmod(x, y)  # the sign of the dividend, like C (and lax.rem)


@rule("integer_pow")
def _integer_pow(x, *, y):
    return np.power(x, y) if y >= 0 else 1 / np.power(x, -y)


def _total_order(x) -> np.ndarray:
    """Keys that order as XLA's TOTALORDER comparison does: integers as they are; floats by their
    bits, -NaN < -inf < ... < -0 < +0 < ... < inf < NaN (negative floats' magnitude bits flipped)."""
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        return x
    bits = x.view(np.dtype(f"int{8 * x.dtype.itemsize}"))
    return np.where(bits < 0, bits ^ np.iinfo(bits.dtype).max, bits)


for _name, _fn in {"lt_to": np.less, "le_to": np.less_equal, "eq_to": np.equal}.items():  # searchsorted's
    _elementwise(_name, lambda x, y, _fn=_fn: _fn(_total_order(x), _total_order(y)))


@rule("select_n")
def _select_n(which, *cases):
    if which.dtype == np.bool_:
        return np.where(which, cases[1], cases[0]) if len(cases) == 2 else cases[0]
    return np.choose(which, cases)


@rule("clamp")
def _clamp(lo, x, hi):
    return np.clip(x, lo, hi)


@rule("convert_element_type")
def _convert(x, *, new_dtype, **_):
    if np.iscomplexobj(x) and not np.issubdtype(new_dtype, np.complexfloating):
        x = np.real(x)  # lax keeps the real part, as NumPy does, but NumPy warns
    return x.astype(new_dtype)


@rule("complex")
def _complex(x, y):
    return x + 1j * y if x.dtype != np.float32 else (x + np.complex64(1j) * y)


# ----- shapes ----------------------------------------------------------------------------------

@rule("reshape")
def _reshape(x, *, new_sizes, dimensions=None, **_):
    if dimensions is not None:
        x = np.transpose(x, dimensions)
    return np.reshape(x, new_sizes)


@rule("transpose")
def _transpose(x, *, permutation):
    return np.transpose(x, permutation)


@rule("broadcast_in_dim")
def _broadcast_in_dim(x, *, shape, broadcast_dimensions, **_):
    expanded = [1] * len(shape)
    for src, dst in enumerate(broadcast_dimensions):
        expanded[dst] = x.shape[src]
    x = np.reshape(x, expanded)
    return x if x.shape == tuple(shape) else np.broadcast_to(x, shape)


@rule("squeeze")
def _squeeze(x, *, dimensions):
    return np.squeeze(x, axis=tuple(dimensions))


@rule("expand_dims")
def _expand_dims(x, *, dimensions):
    return np.expand_dims(x, tuple(dimensions))


@rule("rev")
def _rev(x, *, dimensions):
    return np.flip(x, axis=tuple(dimensions)) if dimensions else x


@rule("iota")
def _iota(*, dtype, shape, dimension, **_):
    ramp = np.arange(shape[dimension], dtype=dtype).reshape([-1 if d == dimension else 1 for d in range(len(shape))])
    return np.broadcast_to(ramp, shape)


@rule("concatenate")
def _concatenate(*xs, dimension):
    return np.concatenate(xs, axis=dimension)


@rule("split")
def _split(x, *, sizes, axis):
    return np.split(x, np.cumsum(sizes)[:-1], axis=axis)


@rule("slice")
def _slice(x, *, start_indices, limit_indices, strides):
    strides = strides or (1,) * x.ndim
    return x[tuple(slice(s, e, k) for s, e, k in zip(start_indices, limit_indices, strides))]


def _clamped_starts(x_shape, sizes, starts) -> list[int]:
    # lax.dynamic_slice clamps each start so that the slice stays inside the array
    return [min(max(int(s), 0), n - k) for s, n, k in zip(starts, x_shape, sizes)]


@rule("dynamic_slice")
def _dynamic_slice(x, *starts, slice_sizes):
    at = _clamped_starts(x.shape, slice_sizes, starts)
    return x[tuple(slice(s, s + k) for s, k in zip(at, slice_sizes))]


@rule("dynamic_update_slice")
def _dynamic_update_slice(x, update, *starts):
    at = _clamped_starts(x.shape, update.shape, starts)
    out = np.array(x)
    out[tuple(slice(s, s + k) for s, k in zip(at, update.shape))] = update
    return out


@rule("pad")
def _pad(x, value, *, padding_config):
    # interior padding first, then edges; negative edges crop (lax.pad semantics)
    for axis, (_, _, interior) in enumerate(padding_config):
        if interior > 0 and x.shape[axis] > 1:
            n = x.shape[axis]
            shape = list(x.shape)
            shape[axis] = n + (n - 1) * interior
            spread = np.full(shape, value, dtype=x.dtype)
            index = [slice(None)] * x.ndim
            index[axis] = slice(None, None, interior + 1)
            spread[tuple(index)] = x
            x = spread
    for axis, (lo, hi, _) in enumerate(padding_config):
        widths = [(0, 0)] * x.ndim
        widths[axis] = (max(lo, 0), max(hi, 0))
        x = np.pad(x, widths, constant_values=value)
        index = [slice(None)] * x.ndim
        index[axis] = slice(-min(lo, 0), x.shape[axis] + min(hi, 0))
        x = x[tuple(index)]
    return x


# ----- reductions ------------------------------------------------------------------------------

def _reduction(name: str, fn):
    RULES[name] = lambda x, *, axes, **_: fn(x, axis=tuple(axes))


for _name, _fn in {"reduce_sum": np.sum, "reduce_max": np.max, "reduce_min": np.min, "reduce_prod": np.prod,
                   "reduce_or": np.any, "reduce_and": np.all}.items():
    _reduction(_name, _fn)


def _argmax(x, *, axes, index_dtype):
    return np.argmax(x, axis=axes[0]).astype(index_dtype)


def _argmin(x, *, axes, index_dtype):
    return np.argmin(x, axis=axes[0]).astype(index_dtype)


RULES["argmax"], RULES["argmin"] = _argmax, _argmin


def _cumulative(name: str, fn):
    def run(x, *, axis, reverse):
        if reverse:
            return np.flip(fn(np.flip(x, axis), axis=axis), axis)
        return fn(x, axis=axis)
    RULES[name] = run


for _name, _fn in {"cumsum": np.cumsum, "cumprod": np.cumprod,
                   "cummax": np.maximum.accumulate, "cummin": np.minimum.accumulate}.items():
    _cumulative(_name, _fn)


# ----- linear algebra --------------------------------------------------------------------------

_LETTERS = "abcdefghijklmnopqrstuvwxyz"


@rule("dot_general")
def _dot_general(x, y, *, dimension_numbers, **_):
    """Contract x and y: output axes are the batch axes, then x's free axes, then y's free axes."""
    if x.ndim == 2 and y.ndim == 2 and dimension_numbers == (((1,), (0,)), ((), ())):
        return np.matmul(x, y)  # a matrix product, most of them: a third of einsum's time
    return np.einsum(_contraction(x.ndim, y.ndim, dimension_numbers), x, y)


@functools.lru_cache(maxsize=None)
def _contraction(x_ndim: int, y_ndim: int, dimension_numbers) -> str:
    """The einsum spec of a dot_general (see `_dot_general`)."""
    (xc, yc), (xb, yb) = dimension_numbers
    letters = iter(_LETTERS)
    xs = [next(letters) for _ in range(x_ndim)]
    ys = [next(letters) for _ in range(y_ndim)]
    for i, j in zip(xc, yc):
        ys[j] = xs[i]
    for i, j in zip(xb, yb):
        ys[j] = xs[i]
    batch = [xs[i] for i in xb]
    free_x = [xs[i] for i in range(x_ndim) if i not in xc and i not in xb]
    free_y = [ys[j] for j in range(y_ndim) if j not in yc and j not in yb]
    return f"{''.join(xs)},{''.join(ys)}->{''.join(batch + free_x + free_y)}"


@rule("triangular_solve")
def _triangular_solve(a, b, *, left_side, lower, transpose_a, conjugate_a, unit_diagonal):
    """Solve op(a) x = b (left_side) or x op(a) = b, reading only a's lower or upper triangle.

    NumPy's LAPACK solve (LU with partial pivoting: ~7 µs for a 5x5, against ~45 µs for substitution
    in Python; both backward stable, so they agree to rounding). Where a diagonal entry is zero, that
    solve refuses, and substitution row by row, as LAPACK's trsm (what JAX calls), gives the inf or
    nan JAX gives. (Not SciPy's dtrtrs: ~8 ms per 5x5 call here, and importing it 0.5 s.)
    """
    a = np.tril(a) if lower else np.triu(a)
    if conjugate_a:
        a = np.conj(a)
    if unit_diagonal:  # the diagonal is not read: ones
        a = a.copy()
        a[..., range(a.shape[-1]), range(a.shape[-1])] = 1
    op = np.swapaxes(a, -1, -2) if transpose_a else a
    if not left_side:  # x op(a) = b  <=>  op(a)^T x^T = b^T
        op, b = np.swapaxes(op, -1, -2), np.swapaxes(b, -1, -2)
    try:
        x = np.linalg.solve(op, b)
        return x if left_side else np.swapaxes(x, -1, -2)
    except np.linalg.LinAlgError:
        pass
    n = op.shape[-1]
    forward = lower != transpose_a  # op(a) is lower triangular
    if not left_side:
        forward = not forward
    x = np.zeros(np.broadcast_shapes(op.shape[:-2], b.shape[:-2]) + b.shape[-2:], dtype=np.result_type(op, b))
    for i in range(n) if forward else reversed(range(n)):
        done = slice(0, i) if forward else slice(i + 1, n)
        row = b[..., i, :] - np.einsum("...k,...kj->...j", op[..., i, done], x[..., done, :])
        x[..., i, :] = row if unit_diagonal else row / op[..., i, i, None]
    return x if left_side else np.swapaxes(x, -1, -2)


@rule("lu")
def _lu(a):
    """LU with partial pivoting, as LAPACK's getrf: the packed factors, the row swaps, the permutation.

    Written out rather than taken from SciPy (importing scipy.linalg costs half a second, more than
    `matref check` spends on anything else); the matrices here are at most a few dozen rows.
    """
    m, n = a.shape[-2:]
    lu = np.array(a, dtype=a.dtype)
    pivots = np.empty((*a.shape[:-2], min(m, n)), dtype=np.int32)
    perm = np.empty((*a.shape[:-2], m), dtype=np.int32)
    for index in np.ndindex(*a.shape[:-2]):
        f = lu[index]
        order = np.arange(m, dtype=np.int32)
        for k in range(min(m, n)):
            # the first largest, as LAPACK's i?amax: by |Re| + |Im| for complex entries (izamax)
            column = f[k:, k]
            size = np.abs(column.real) + np.abs(column.imag) if np.iscomplexobj(column) else np.abs(column)
            p = k + int(np.argmax(size))
            pivots[index + (k,)] = p
            if p != k:
                f[[k, p]] = f[[p, k]]
                order[[k, p]] = order[[p, k]]
            if f[k, k] != 0:  # a zero pivot leaves the column as it is (singular; JAX does not raise)
                f[k + 1:, k] /= f[k, k]
                f[k + 1:, k + 1:] -= np.outer(f[k + 1:, k], f[k, k + 1:])
        perm[index] = order
    return [lu, pivots, perm]


@rule("custom_linear_solve")
def _custom_linear_solve(*args, const_lengths, jaxprs):
    # the solve itself; matvec and the transposes only matter for derivatives, already taken
    consts, at = [], 0
    for length in const_lengths:
        consts.append(args[at:at + length])
        at += length
    return _closed(jaxprs.solve, *consts[2], *args[at:])


# ----- indexing: XLA's gather and scatter, without batching dimensions -------------------------

def _mode(mode) -> str:
    return getattr(mode, "name", str(mode))


def _window_start(operand_shape, window, index_map, start) -> tuple[list[int], bool]:
    """Where a slice or update window starts, clamped into the operand; and whether it had to be."""
    at = [0] * len(operand_shape)
    for k, d in enumerate(index_map):
        at[d] = int(start[k])
    clamped = [min(max(s, 0), n - w) for s, n, w in zip(at, operand_shape, window)]
    return clamped, clamped != at


def _no_batching(params) -> bool:
    dn = params["dimension_numbers"]
    return _mode(params["mode"]) in ("CLIP", "FILL_OR_DROP", "PROMISE_IN_BOUNDS") and not dn.operand_batching_dims


def _gather_fill(dtype, fill_value):
    if fill_value is not None:
        return fill_value
    if np.issubdtype(dtype, np.inexact):
        return np.nan
    if dtype == np.bool_:
        return True
    return np.iinfo(dtype).min if np.issubdtype(dtype, np.signedinteger) else np.iinfo(dtype).max


@rule("gather")
def _gather(operand, indices, *, dimension_numbers, slice_sizes, mode, fill_value=None, **_):
    """One slice of `operand` per index vector (the last axis of `indices`), at the output's
    batch axes; the slice's non-collapsed axes are the output's `offset_dims`."""
    dn = dimension_numbers
    collapsed = set(dn.collapsed_slice_dims)
    window = [s for d, s in enumerate(slice_sizes) if d not in collapsed]
    batch = indices.shape[:-1]
    rank = len(batch) + len(window)
    offset_dims = [int(d) for d in dn.offset_dims]
    batch_dims = [d for d in range(rank) if d not in offset_dims]
    shape = [0] * rank
    for d, s in zip(offset_dims, window):
        shape[d] = s
    for d, s in zip(batch_dims, batch):
        shape[d] = s
    out = np.empty(shape, dtype=operand.dtype)
    fill = _mode(mode) == "FILL_OR_DROP"
    for b in np.ndindex(*batch):
        at, moved = _window_start(operand.shape, slice_sizes, dn.start_index_map, indices[b])
        piece = operand[tuple(slice(s, s + k) for s, k in zip(at, slice_sizes))].reshape(window)
        if fill and moved:
            piece = np.full(window, _gather_fill(operand.dtype, fill_value), dtype=operand.dtype)
        where = [slice(None)] * rank
        for d, i in zip(batch_dims, b):
            where[d] = i
        out[tuple(where)] = piece
    return out


def _scatter(combine):
    def run(operand, indices, updates, *, dimension_numbers, mode, **_):
        """Each update window (the `update_window_dims` of `updates`) written into a copy of
        `operand` at its index vector; windows that do not fit are dropped (XLA), or clamped (CLIP)."""
        dn = dimension_numbers
        window_dims = [int(d) for d in dn.update_window_dims]
        scatter_dims = [d for d in range(updates.ndim) if d not in window_dims]
        inserted = set(dn.inserted_window_dims)
        window = [1] * operand.ndim
        sizes = iter(updates.shape[d] for d in window_dims)
        for d in range(operand.ndim):
            if d not in inserted:
                window[d] = next(sizes)
        out = np.array(operand)
        for u in np.ndindex(*[updates.shape[d] for d in scatter_dims]):
            at, moved = _window_start(operand.shape, window, dn.scatter_dims_to_operand_dims, indices[u])
            if moved and _mode(mode) != "CLIP":
                continue
            pick = [slice(None)] * updates.ndim
            for d, i in zip(scatter_dims, u):
                pick[d] = i
            target = tuple(slice(s, s + k) for s, k in zip(at, window))
            out[target] = combine(out[target], updates[tuple(pick)].reshape(window))
        return out
    return run


RULES["scatter"] = _scatter(lambda old, new: new)
RULES["scatter-add"] = RULES["scatter_add"] = _scatter(np.add)
RULES["scatter-mul"] = RULES["scatter_mul"] = _scatter(np.multiply)


# The symmetric eigendecomposition, the SVD, Cholesky and QR: NumPy calls the same LAPACK drivers as
# JAX on the CPU (syevd, gesdd, potrf, geqrf), so the eigen- and singular vectors and Q come out with
# the same signs, not merely up to sign; tests/test_program.py compares the raw factors. (Every use in matref fixes the signs
# afterwards anyway, so a flipped pair could not change a verdict.)
@rule("eigh")
def _eigh(a, *, lower, **_):
    """(eigenvectors, eigenvalues ascending) of the symmetric matrix in a's lower or upper triangle."""
    w, v = np.linalg.eigh(a, UPLO="L" if lower else "U")
    return [v, w]


@rule("svd")
def _svd(a, *, full_matrices, compute_uv, **_):
    """(singular values descending, U, Vᵀ), or the singular values alone."""
    if not compute_uv:
        return [np.linalg.svd(a, compute_uv=False)]
    u, s, vt = np.linalg.svd(a, full_matrices=full_matrices)
    return [s, u, vt]


@rule("cholesky")
def _cholesky(a, **_):
    """The lower Cholesky factor from a's lower triangle; all NaN where a is not positive definite,
    as JAX's (LAPACK's potrf either way)."""
    try:
        return np.linalg.cholesky(a)
    except np.linalg.LinAlgError:
        if a.ndim > 2:
            return np.stack([_cholesky(b) for b in a])
        return np.full_like(a, np.nan)


@rule("qr")
def _qr(a, *, full_matrices, **_):
    """(Q, R) by Householder reflections (LAPACK's geqrf and orgqr, as JAX's)."""
    return list(np.linalg.qr(a, mode="complete" if full_matrices else "reduced"))


def _default_decomposition(params: dict) -> bool:
    """The rules above know the whole decomposition, sorted, by the default algorithm."""
    return params.get("subset_by_index") is None and params.get("sort_eigenvalues", True) \
        and params.get("algorithm") is None


@rule("sort")
def _sort(*operands, dimension, is_stable, num_keys):
    keys = operands[:num_keys]
    order = np.lexsort(tuple(np.moveaxis(k, dimension, -1) for k in reversed(keys)), axis=-1)
    order = np.moveaxis(order, -1, dimension)
    return [np.take_along_axis(x, order, axis=dimension) for x in operands]


@rule("tile")
def _tile(x, *, reps):
    return np.tile(x, reps)


# Rules that cover only some of a primitive's parameters; the rest go through JAX (`_with_jax`).
SUPPORTS: dict[str, Callable[[dict], bool]] = {
    "eigh": _default_decomposition, "svd": _default_decomposition, "qr": lambda p: not p.get("pivoting"),
    **{name: _no_batching for name in ("gather", "scatter", "scatter-add", "scatter_add", "scatter-mul", "scatter_mul")},
}
