"""Dialect `numpy`: a NumPy script that computes the closed form and, where the left side is the
gradient of a scalar function, checks it against central differences."""

from __future__ import annotations

from .._functions import FUNCTIONS, NoCode
from .._language import parse_identity
from .._shapes import kind
from .._tree import Call, Deriv, Var
from ._common import P_ATOM, _assemble, _free_name, _Gen, _has_derivative, _ident, _inputs
from ._dialect import Dialect, script_runner

NUMERIC_GRADIENT = '''def numeric_gradient(f, x, h=1e-6):
    """Central differences: entry idx is (f(x + h e_idx) - f(x - h e_idx)) / 2h."""
    x = np.asarray(x, dtype=float)
    g = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[idx] = h
        g[idx] = (f(x + e) - f(x - e)) / (2 * h)
    return g'''
def numpy_script(formula: str, where: str = "", layout: str = "denominator", title: str | None = None) -> str | None:
    """A plain NumPy script computing the closed form; where the left side is a gradient of a
    scalar function, it is checked against central differences. None when the closed form
    itself contains derivatives (NumPy has none)."""
    ident = parse_identity(formula, where, layout)
    sides = ident.equation.sides
    if any(_has_derivative(s) for s in sides[1:]):
        return None
    if any(isinstance(n, Call) and isinstance(FUNCTIONS[n.fn].numpy, NoCode) for s in sides for n in s.walk()):
        return None  # a function NumPy does not have (the record says why), e.g. the matrix exponential
    gen = _Gen(ident, "np")
    head = [f"# {title}" if title else "# The closed form in NumPy",
            f"# {formula}",
            *([f"# where {where}"] if where else []),
            f"# {layout} layout",
            "import numpy as np",
            "",
            "rng = np.random.default_rng(0)"]
    closed = [gen.expr(s, {}) for s in sides[1:]]
    lhs = sides[0]
    tail = [f"closed_form = {closed[0].text}"]
    tail += [f"assert np.allclose(closed_form, {c.text}, rtol=1e-8, atol=1e-10)" for c in closed[1:]]
    defs: list[str] = []
    if not _has_derivative(lhs):
        tail.insert(0, f"lhs = {gen.expr(lhs, {}).text}")
        tail.append("assert np.allclose(lhs, closed_form, rtol=1e-8, atol=1e-10)")
    elif isinstance(lhs, Deriv) and isinstance(lhs.wrt, Var) and kind(lhs.f.shape) == "scalar" \
            and not _has_derivative(lhs.f):
        x = _ident(lhs.wrt.name)
        body = gen.expr(lhs.f, {})
        ret = body.text if body.rank == 0 else f"{body.wrap(P_ATOM)}.item()"
        name = _free_name(ident)
        defs = [f"def {name}({x}):\n    return {ret}", NUMERIC_GRADIENT]
        fd = f"numeric_gradient({name}, {x})" + (".T" if lhs.layout == "numerator" else "")
        # Central differences with h = 1e-6 are accurate to about 1e-9 here; 1e-5 leaves a wide margin.
        tail.append(f"assert np.allclose({fd}, closed_form, rtol=1e-5, atol=1e-7)")
    tail.append('print("closed form:", np.shape(closed_form))')
    return _assemble(head, _inputs(ident, "np"), sorted(gen.helpers) + defs, tail)


def numpy_snippet(entry, layout: str) -> str | None:
    """The NumPy closed-form script of a catalogue entry in `layout`, or None (see numpy_script)."""
    return numpy_script(entry.formula_in(layout), entry.where, layout, title=entry.title)


DIALECT = Dialect(name="numpy", label="NumPy", language="python", script=numpy_script,
                  run=script_runner("closed form:", "NumPy closed form"),
                  none_reason="the closed form contains derivatives or a matrix function, which NumPy does not have")
