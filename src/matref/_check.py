"""Verdicts: does an identity hold at random inputs that honour its declarations?"""

from __future__ import annotations

import functools
import itertools
from dataclasses import asdict, dataclass, field

import jax.numpy as jnp
import numpy as np

from ._errors import CannotCheck, FormulaSyntaxError, MatrefError, ShapeClash
from ._language import Identity, parse_identity
from ._latex import latex
from ._numeric import (Ctx, complex_normal, concrete, draw_value, evaluate, forget_shared, function_params,
                       symmetric_variables)
from ._plans import DRAWS_PER_PLAN, Draw
from ._program import Program
from ._tree import Add, FnValue, Integral, Var

# float64 autodiff agrees with closed forms to <= 2e-13 (relative) on these well-conditioned inputs,
# and the nearest wrong answer measured was 1.6e-2 off: 1e-8 leaves orders of magnitude either side.
RTOL = 1e-8
# A side that is zero by cancellation (det(x x^T) = 0) keeps a rounding residue of about k·u times
# its intermediate values, u = 1.1e-16 and k the operations on the way (tens to hundreds): so the
# intermediates also count, but 1e4 times less than the sides (1e-12 of them, about 1e4·u). A term
# smaller than that next to its intermediates cannot hide at both drawn scales.
INTERMEDIATE_WEIGHT = 1e-4


def _scale(terms: float, intermediates: float) -> float:
    """What the difference of two sides is measured against: the largest side or top-level term,
    plus 1e-4 of the largest intermediate value (see INTERMEDIATE_WEIGHT)."""
    return terms + INTERMEDIATE_WEIGHT * intermediates

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
    sizes: dict[str, int] = field(default_factory=dict)  # the first plan's, or where it was refuted
    drawn_sizes: list[dict[str, int]] = field(default_factory=list)  # every size plan drawn
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
class _Plan:
    """What one size plan needs to draw inputs: concrete shapes at these sizes."""

    sizes: dict
    variables: dict  # name -> (concrete shape, props), in a fixed order
    functions: dict  # name -> (d_in, d_out)
    indices: dict  # index letter -> how many values it takes


@dataclass(frozen=True)
class _Traced:
    identity: Identity
    plans: tuple[_Plan, ...]
    # ([(values, fns, dirs, indices) per plan], plan numbers or None for all) -> [(sides, top-level
    # terms, intermediates) per plan]; a plan is traced the first time it runs
    run: object
    varying: tuple[str, ...]
    programs: dict  # plan index -> its traced Program, once the plan has run


def _plan(ident: Identity, sizes: dict, indices: dict, used: set[str]) -> _Plan:
    decls = ident.decls
    variables = {name: (concrete(decls[name].shape, sizes), decls[name].props) for name in sorted(used)}
    functions = {}
    for n in (n for s in ident.equation.sides for n in s.walk()):
        if isinstance(n, FnValue):
            d = decls[n.name]
            din, dout = concrete(d.domain, sizes), concrete(d.shape, sizes)
            # a complex side counts twice: the map works on real and imaginary parts (see `_numeric`)
            functions[n.name] = (din[0] * din[1] * (2 if "complex-domain" in d.props else 1),
                                 dout[0] * dout[1] * (2 if "complex-codomain" in d.props else 1))
    return _Plan(sizes, variables, functions, indices)


# Each size plan's check is traced once by JAX (sides, derivatives and all, at that plan's shapes)
# and the traced program is replayed with NumPy at every draw (`_program`): no XLA compilation,
# no re-tracing per draw. A cached identity keeps only its parsed tree and traced programs.
def _traced(formula: str, where: str, layout: str) -> _Traced:
    """The parsed identity with its plans, ready to run at draws (cached)."""
    return _cached(formula, where, layout)


def _build(formula: str, where: str, layout: str) -> _Traced:
    ident = parse_identity(formula, where, layout)
    decls = ident.decls
    used = {n.name for each in ident.plan_sides for s in each for n in s.walk() if isinstance(n, Var)}
    plans = tuple(_plan(ident, sizes, idx, used) for sizes, idx in zip(ident.plans, ident.plan_indices))
    # A differential varies every symbol not declared constant, whether or not its own
    # differential is written: d(XY) = dX Y misses X dY, and must be refuted.
    varying = tuple(sorted(v for v in used if "constant" not in decls[v].props))
    symmetric = symmetric_variables(decls)

    def run_one(sides, sizes, values, fns, dirs, indices):
        tape: list = []
        values = {k: jnp.asarray(v) for k, v in values.items()}  # JAX arrays (`.at` needs them)
        ctx = Ctx(sizes, values, fns, dirs, varying, indices=indices, tape=tape, symmetric=symmetric)
        outs, terms = [], []
        for side in sides:
            parts = [(sign, evaluate(t, ctx)) for sign, t in (side.terms if isinstance(side, Add) else [(1, side)])]
            total = parts[0][1] if parts[0][0] > 0 else -parts[0][1]
            for sign, v in parts[1:]:
                total = total + v if sign > 0 else total - v
            outs.append(total)
            terms += [v for _, v in parts]
        return outs, terms, tape

    programs: dict[int, Program] = {}  # traced at a plan's first draw, then replayed

    def run(per_plan, which=None):
        out = []
        for p, args in zip(range(len(plans)) if which is None else which, per_plan):
            if p not in programs:
                programs[p] = Program(functools.partial(_apply, run_one, ident.plan_sides[p], plans[p].sizes), args)
            out.append(programs[p](args))
        return out

    return _Traced(ident, plans, run, varying, programs)


def _apply(run_one, sides, sizes, args):
    return run_one(sides, sizes, *args)


_cached = functools.lru_cache(maxsize=1024)(_build)


def _norm(a) -> float:
    """The Frobenius norm of a real or complex array (vdot conjugates its first argument: Σ|a|²)."""
    a = np.asarray(a).ravel()
    return float(np.sqrt(np.vdot(a, a).real))


# Inputs have singular values in [0.1, 2] and a few rows: an intermediate value 1e10 times larger
# than every side and term (and than 1) is a blow-up, such as the inverse of a numerically singular
# matrix, where float64 keeps under 6 digits and the tolerance would grow with it. Such a draw is
# evidence of nothing: it is not counted, and a check with no other draw cannot say "holds".
DEGENERATE = 1e10


def _measure(outs, terms, tape) -> tuple[list[np.ndarray], float, bool]:
    """The sides as NumPy arrays, what their difference is measured against (see `_scale`), and
    whether the draw is degenerate (see DEGENERATE)."""
    outs = [np.asarray(o) for o in outs]
    largest_term = max([_norm(o) for o in outs] + [_norm(t) for t in terms])
    intermediates = max([_norm(v) for v in tape], default=0.0)
    return outs, _scale(largest_term, intermediates), intermediates > DEGENERATE * max(1.0, largest_term)


def draw_inputs(traced: _Traced, plan: int, seed: int, draw: Draw):
    """Random (values, function parameters, directions) for one draw of one plan."""
    p = traced.plans[plan]
    rng = np.random.default_rng([seed, plan, draw.index])
    values = {name: draw_value(rng, shape, props, draw.scale(i, len(p.variables)), draw.form)
              for i, (name, (shape, props)) in enumerate(p.variables.items())}
    fns = {name: function_params(rng, din, dout) for name, (din, dout) in p.functions.items()}
    # a complex symbol varies along a complex direction: a real one would hide a dropped conjugate
    dirs = {name: complex_normal(rng, values[name].shape) if np.iscomplexobj(values[name])
            else rng.standard_normal(values[name].shape) for name in traced.varying}
    return values, fns, dirs


MAX_INDEX_VALUES = 64


def _index_values(p: _Plan, seed: int, plan: int, draw: int) -> list[dict]:
    """The values of the index letters (X_{ij}, J^{ij}) to evaluate at: all of them when there are
    at most 64, else 64 random ones."""
    letters = list(p.indices)
    combos = list(itertools.product(*(range(p.indices[c]) for c in letters)))
    if len(combos) > MAX_INDEX_VALUES:
        rng = np.random.default_rng([seed, plan, draw, 1])
        combos = [combos[i] for i in rng.choice(len(combos), MAX_INDEX_VALUES, replace=False)]
    return [{c: np.int32(v) for c, v in zip(letters, combo)} for combo in combos]


def _calls(traced: _Traced, seed: int, draws: int = DRAWS_PER_PLAN, which=None):
    """Arguments of each run of the traced check: the plans `which` (default all) at once, draw by
    draw, each at the values of its index letters (plans with fewer index values repeat theirs)."""
    for d in range(draws):
        inputs, index_values = [], []
        for p in range(len(traced.plans)) if which is None else which:
            draw = Draw(p, d, p * DRAWS_PER_PLAN + d)
            inputs.append(draw_inputs(traced, p, seed, draw))
            index_values.append(_index_values(traced.plans[p], seed, p, d))
        for k in range(max(len(v) for v in index_values)):
            at = [v[k % len(v)] for v in index_values]
            yield d, [(*inp, idx) for inp, idx in zip(inputs, at)]


def _sizes_text(sizes: dict) -> str:
    return ", ".join(f"{d}={s}" for d, s in sizes.items())


def check(formula: str, where: str = "", layout: str = "denominator", *, draws: int = DRAWS_PER_PLAN,
          seed: int = 0, rtol: float = RTOL, quick: bool = False) -> Verdict:
    """Check `formula` (LaTeX, `LHS = RHS`) under the declarations `where`, in `layout`.

    Both sides are evaluated at `draws` draws of every size plan (see `_plans`); the identity holds
    when, at each, the sides agree to `rtol`, normwise, relative to the largest of the sides and
    their top-level terms. Never raises for bad input: problems come back as "cannot check".

    `quick=True` runs the plans one after another and stops at the first that refutes: for callers
    that want the status of what they expect to be refuted (a refutation is then the first plan's
    worst draw, without the note of which sizes fail), at the cost of one plan's trace, not all.
    It never says "holds" where the full check does not: it says "refuted" where the full check
    might have met a non-finite value at a later plan first and said "cannot check".
    """
    base = dict(formula=formula, where=where or "", layout=layout, tolerance=rtol)
    try:
        traced = _traced(formula, where or "", layout)
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
    sides = traced.identity.equation.sides
    plans = traced.plans
    base["details"] = [f"  note: {n}" for n in traced.identity.notes]
    base["sizes"] = dict(plans[0].sizes)
    base["drawn_sizes"] = [dict(p.sizes) for p in plans]
    worst = (-1.0, None)
    skipped: dict[int, set] = {}  # plan -> its degenerate draws
    ran: set[int] = set()  # the plans run (all of them, unless quick stopped early)
    for d, which, args in _runs(traced, seed, draws, quick, lambda: worst[0] > rtol):
        try:
            results = traced.run(args, which)
        except Exception as e:  # noqa: BLE001 - a numerical failure inside JAX is reported, not raised
            return Verdict(CANNOT, f"evaluation failed: {type(e).__name__}: {str(e).splitlines()[0][:200]}", **base)
        for p, result, plan_args in zip(which, results, args):
            ran.add(p)
            outs, scale, degenerate = _measure(*result)
            bad = next((latex(sides[i]) for i, o in enumerate(outs) if not np.all(np.isfinite(o))),
                       None if np.isfinite(scale) else "a function inside a derivative or differential")
            if bad is not None:
                where_ = _sizes_text(plans[p].sizes)
                quadrature = any(isinstance(n, Integral) for s in sides for n in s.walk())
                return Verdict(CANNOT, f"{bad} is not finite at the random inputs (draw {d + 1}"
                               f"{', ' + where_ if where_ else ''})"
                               + ("; or an integral's quadrature did not converge (its 48- and 32-point rules "
                                  "disagree)" if quadrature else "") + "; declare its domain "
                               "(e.g. \\text{positive}, \\mathbb{S}^{n}_{++}, \\text{positive stable} for a matrix "
                               "logarithm or square root)", **base)
            if degenerate:
                skipped.setdefault(p, set()).add(d)
                continue
            for i in range(len(outs) - 1):
                diff = np.abs(outs[i] - outs[i + 1])
                rel = float(np.sqrt(np.sum(diff ** 2)) / scale) if scale > 0 else 0.0
                if rel > worst[0]:
                    worst = (rel, (p, d, i, outs[i], outs[i + 1], diff, plan_args[3]))
    per_plan, total = draws, len(ran) * draws
    if worst[1] is None:
        return Verdict(CANNOT, "every draw is numerically singular (an intermediate value, such as an inverse, "
                       f"is over {DEGENERATE:.0e} times the sides), so no draw can show anything; declare what "
                       "keeps it invertible (e.g. \\mathbb{S}^{n}_{++}, or sizes that give full rank)", **base)
    if skipped:
        base["details"] = base["details"] + [
            f"  note: {sum(len(v) for v in skipped.values())} of {total} draws "
            f"({'; '.join(_sizes_text(plans[p].sizes) or 'no sizes' for p in sorted(skipped))}) were numerically "
            f"singular (an intermediate value over {DEGENERATE:.0e} times the sides) and are not counted"]
    draws = total - sum(len(v) for v in skipped.values())
    rel, (p, d, i, a, b, diff, at) = worst
    drawn = _drawn_text(plans)
    if rel <= rtol:
        return Verdict(HOLDS, f"{draws} random draws{_index_note(traced)} in {layout} layout{drawn}; "
                       f"largest relative error {rel:.1e} (tolerance {rtol:.0e})", **base, max_rel_error=rel,
                       draws=draws)
    r, c = np.unravel_index(np.argmax(diff), diff.shape)
    where_ = "" if a.shape == (1, 1) else f", entry ({r + 1}, {c + 1})"
    if at:
        where_ += " with " + ", ".join(f"{letter}={int(v) + 1}" for letter, v in at.items())
    sizes = _sizes_text(plans[p].sizes)
    at_sizes = f" at {sizes}" if sizes else ""
    fails = _failing_note(traced, seed, rtol, per_plan) if len(plans) > 1 and sizes and not quick else ""
    pair = "the two sides" if len(sides) == 2 else f"side {i + 1} and side {i + 2}"
    details = base.pop("details") + [f"  left:  {latex(sides[i])}", f"  right: {latex(sides[i + 1])}",
               f"  at draw {d + 1}{at_sizes}{where_}: left {a[r, c]:.6g}, right {b[r, c]:.6g}"]
    if fails:
        details.append(f"  {fails}")
    base["sizes"] = dict(plans[p].sizes)
    return Verdict(REFUTED, f"{pair} differ by {rel:.1e} (relative; tolerance {rtol:.0e}) in {layout} layout"
                   f"{at_sizes}", **base, max_rel_error=rel, draws=draws, details=details)


def _runs(traced: _Traced, seed: int, draws: int, quick: bool, refuted):
    """(draw, plan numbers, their arguments) for each run of a check: every plan at each draw, or
    with `quick` one plan at a time, stopping after the first plan at which `refuted()`."""
    groups = [[p] for p in range(len(traced.plans))] if quick else [list(range(len(traced.plans)))]
    for which in groups:
        for d, args in _calls(traced, seed, draws, which):
            yield d, which, args
        if quick and refuted():
            return


def _drawn_text(plans) -> str:
    letters = list(plans[0].sizes)
    if not letters:
        return ""
    values = {n: list(dict.fromkeys(p.sizes[n] for p in plans)) for n in letters}
    return " (" + "; ".join(f"{n}=" + ",".join(map(str, v)) for n, v in values.items()) + ")"


def _failing_note(traced: _Traced, seed: int, rtol: float, draws: int) -> str:
    """Which size plans the identity fails at, and which it holds at (size-specific identities)."""
    bad, unknown = set(), set()  # unknown: a degenerate draw there (see DEGENERATE)
    for d, args in _calls(traced, seed, draws):
        try:
            results = traced.run(args)
        except Exception:  # noqa: BLE001 - only a note: the refutation stands without it
            return ""
        for p, result in enumerate(results):
            outs, scale, degenerate = _measure(*result)
            if degenerate:
                unknown.add(p)
                continue
            if any(_norm(outs[i] - outs[i + 1]) > rtol * scale for i in range(len(outs) - 1)):
                bad.add(p)
    good = [p for p in range(len(traced.plans)) if p not in bad and p not in unknown]
    if not good:
        return "it fails at every size drawn" + (" that is not numerically singular" if unknown else "")
    show = lambda ps: "; ".join(_sizes_text(traced.plans[p].sizes) for p in ps)  # noqa: E731
    return f"it fails at {show(sorted(bad))} and agrees at {show(good)}"


def _index_note(traced: _Traced) -> str:
    letters = ", ".join(str(c) for c in traced.identity.indices)
    return f" (each at every {letters})" if letters else ""


def clear_cache() -> None:
    """Forget traced identities and derivatives (the next check of each one traces it again)."""
    _cached.cache_clear()
    forget_shared()
