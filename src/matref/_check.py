"""Verdicts: does an identity hold at random inputs that honour its declarations?"""

from __future__ import annotations

import functools
import itertools
from dataclasses import asdict, dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from ._errors import CannotCheck, FormulaSyntaxError, MatrefError, ShapeClash
from ._language import Identity, parse_identity
from ._latex import latex
from ._numeric import Ctx, concrete, draw_value, evaluate, function_params
from ._tree import Differential, FnValue, Var

# float64 autodiff agrees with closed forms to <= 2e-13 (relative) on these well-conditioned inputs,
# and the nearest wrong answer measured was 1.6e-2 off: 1e-8 leaves orders of magnitude either side.
RTOL = 1e-8
DRAWS = 4

HOLDS, REFUTED, CANNOT = "holds", "refuted", "cannot check"


@dataclass
class Verdict:
    """The outcome of a check. `status` is "holds", "refuted" or "cannot check"."""

    status: str
    message: str
    formula: str
    where: str = ""
    layout: str = "denominator"
    max_rel_error: float | None = None
    tolerance: float = RTOL
    draws: int = 0
    sizes: dict[str, int] = field(default_factory=dict)
    details: list[str] = field(default_factory=list)

    @property
    def holds(self) -> bool:
        return self.status == HOLDS

    @property
    def exit_code(self) -> int:
        """0 holds, 1 refuted, 2 cannot check (the CLI's exit status)."""
        return {HOLDS: 0, REFUTED: 1}.get(self.status, 2)

    def to_dict(self) -> dict:
        return {**asdict(self), "holds": self.holds}

    def __str__(self) -> str:
        return "\n".join([f"{self.status}: {self.message}", *self.details])


@dataclass(frozen=True)
class _Compiled:
    identity: Identity
    run: object  # jitted (values, fns, dirs) -> (sides, scale)
    variables: dict  # name -> (concrete shape, props)
    functions: dict  # name -> (d_in, d_out)
    varying: tuple[str, ...]


# Each compiled check holds about 50 memory mappings of machine code; Linux allows a process 65,530
# by default, and past that XLA crashes. So keep only the most recent checks compiled.
@functools.lru_cache(maxsize=256)
def _compile(formula: str, where: str, layout: str) -> _Compiled:
    ident = parse_identity(formula, where, layout)
    sides, sizes, decls = ident.equation.sides, ident.sizes, ident.decls
    nodes = [n for s in sides for n in s.walk()]
    used = {n.name for n in nodes if isinstance(n, Var)}
    variables = {name: (concrete(decls[name].shape, sizes), decls[name].props) for name in sorted(used)}
    functions = {}
    for n in nodes:
        if isinstance(n, FnValue):
            d = decls[n.name]
            din, dout = concrete(d.domain, sizes), concrete(d.shape, sizes)
            functions[n.name] = (din[0] * din[1], dout[0] * dout[1])
    differentials = [n for n in nodes if isinstance(n, Differential)]
    varying = sorted({n.x.name for n in differentials if isinstance(n.x, Var)})
    if differentials and not varying:
        varying = sorted(used)
    varying = tuple(v for v in varying if "constant" not in decls[v].props)

    def run(values, fns, dirs, indices):
        tape: list = []
        ctx = Ctx(sizes, values, fns, dirs, varying, indices=indices, tape=tape)
        outs = tuple(evaluate(side, ctx) for side in sides)
        return outs, jnp.max(jnp.stack(tape))

    return _Compiled(ident, jax.jit(run), variables, functions, varying)


def draw_inputs(compiled: _Compiled, seed: int, draw: int):
    """Random (values, function parameters, directions) for one draw."""
    rng = np.random.default_rng([seed, draw])
    values = {name: draw_value(rng, shape, props) for name, (shape, props) in compiled.variables.items()}
    fns = {name: function_params(rng, din, dout) for name, (din, dout) in compiled.functions.items()}
    dirs = {name: rng.standard_normal(values[name].shape) for name in compiled.varying}
    return values, fns, dirs


MAX_INDEX_VALUES = 64


def _draws(compiled: _Compiled, seed: int, draws: int):
    """(values, fns, dirs, indices) to evaluate at: `draws` random draws, each at every value of
    the index letters (X_{ij}, J^{ij}) when there are at most 64 of them, else at 64 random ones."""
    ranges = compiled.identity.indices
    letters = list(ranges)
    combos = list(itertools.product(*(range(ranges[c]) for c in letters)))
    for k in range(draws):
        values, fns, dirs = draw_inputs(compiled, seed, k)
        chosen = combos
        if len(combos) > MAX_INDEX_VALUES:
            rng = np.random.default_rng([seed, k, 1])
            chosen = [combos[i] for i in rng.choice(len(combos), MAX_INDEX_VALUES, replace=False)]
        for combo in chosen:
            yield values, fns, dirs, {c: np.int32(v) for c, v in zip(letters, combo)}


def check(formula: str, where: str = "", layout: str = "denominator", *, draws: int = DRAWS, seed: int = 0,
          rtol: float = RTOL) -> Verdict:
    """Check `formula` (LaTeX, `LHS = RHS`) under the declarations `where`, in `layout`.

    Both sides are evaluated at `draws` random inputs; the identity holds when every pair of
    sides agrees to `rtol`, normwise, relative to the largest quantity in the identity.
    Never raises for bad input: problems come back as a "cannot check" verdict.
    """
    base = dict(formula=formula, where=where or "", layout=layout, tolerance=rtol)
    try:
        compiled = _compile(formula, where or "", layout)
    except ShapeClash as e:
        return Verdict(REFUTED, str(e), **base, details=["(the shapes do not fit, so no numbers were needed)"])
    except FormulaSyntaxError as e:
        return Verdict(CANNOT, str(e), **base, details=[p for p in [e.pointer()] if p])
    except MatrefError as e:
        return Verdict(CANNOT, str(e), **base)
    except RecursionError:
        return Verdict(CANNOT, "the formula is nested too deeply", **base)
    except Exception as e:  # noqa: BLE001 - a bug of ours must still not reach the user as a traceback
        return Verdict(CANNOT, f"matref could not read this input (internal error {type(e).__name__}: {e}); "
                       "please report it with the formula", **base)
    sides = compiled.identity.equation.sides
    sizes = compiled.identity.sizes
    base["sizes"] = dict(sizes)
    worst = (-1.0, None)
    for k, (values, fns, dirs, indices) in enumerate(_draws(compiled, seed, draws)):
        try:
            outs, scale = compiled.run(values, fns, dirs, indices)
        except Exception as e:  # noqa: BLE001 - a numerical failure inside JAX is reported, not raised
            return Verdict(CANNOT, f"evaluation failed: {type(e).__name__}: {str(e).splitlines()[0][:200]}", **base)
        outs = [np.asarray(o) for o in outs]
        scale = float(scale)
        bad = next((latex(sides[i]) for i, o in enumerate(outs) if not np.all(np.isfinite(o))),
                   None if np.isfinite(scale) else "a function inside a derivative")
        if bad is not None:
            return Verdict(CANNOT, f"{bad} is not finite at the random inputs (draw {k + 1}); "
                           "declare its domain (e.g. \\text{positive}, \\mathbb{S}^{n}_{++})", **base)
        for i in range(len(outs) - 1):
            diff = np.abs(outs[i] - outs[i + 1])
            rel = float(np.sqrt(np.sum(diff ** 2)) / scale) if scale > 0 else 0.0
            if rel > worst[0]:
                worst = (rel, (k, i, outs[i], outs[i + 1], diff, indices))
    rel, (k, i, a, b, diff, at) = worst
    dims = ", ".join(f"{d}={s}" for d, s in sizes.items())
    sizes_note = f" ({dims})" if dims else ""
    if rel <= rtol:
        return Verdict(HOLDS, f"{draws} random draws{_index_note(compiled)} in {layout} layout{sizes_note}; largest relative error "
                       f"{rel:.1e} (tolerance {rtol:.0e})", **base, max_rel_error=rel, draws=draws)
    r, c = np.unravel_index(np.argmax(diff), diff.shape)
    where_ = "" if a.shape == (1, 1) else f", entry ({r + 1}, {c + 1})"
    if at:
        where_ += " with " + ", ".join(f"{letter}={int(v) + 1}" for letter, v in at.items())
    pair = "the two sides" if len(sides) == 2 else f"side {i + 1} and side {i + 2}"
    details = [f"  left:  {latex(sides[i])}", f"  right: {latex(sides[i + 1])}",
               f"  at draw {k + 1}{where_}: left {a[r, c]:.6g}, right {b[r, c]:.6g}"]
    return Verdict(REFUTED, f"{pair} differ by {rel:.1e} (relative; tolerance {rtol:.0e}) in {layout} layout"
                   f"{sizes_note}", **base, max_rel_error=rel, draws=draws, details=details)


def _index_note(compiled: _Compiled) -> str:
    letters = ", ".join(compiled.identity.indices)
    return f" (each at every {letters})" if letters else ""


def clear_cache() -> None:
    """Forget compiled identities (the next check of each one compiles again)."""
    _compile.cache_clear()
