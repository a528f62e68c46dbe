"""Dialect `numpy`: a NumPy script that computes the closed form and, where the left side is the
gradient of a scalar function, checks it against central differences.

Vectors are 1-D arrays and scalars plain numbers: the function dialect's array code
(`_arrays._Script1`), with stable forms where one exists (softmax, log-sum-exp)."""

from __future__ import annotations

from .._functions import FUNCTIONS, NoCode
from .._language import parse_identity
from .._shapes import kind
from .._tree import Call, Deriv, Var
from ._common import _assemble, _free_name, _has_derivative, _ident, _inputs
from ._dialect import Dialect, script_runner
from ._arrays import HELPERS, _Script1

NUMERIC_GRADIENT = '''def numeric_gradient(f, x, h=1e-6):
    """Central differences: entry idx is (f(x + h e_idx) - f(x - h e_idx)) / 2h."""
    x = np.asarray(x, dtype=float)
    g = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[idx] = h
        g[idx] = (f(x + e) - f(x - e)) / (2 * h)
    return g'''
NUMERIC_WIRTINGER = '''def numeric_wirtinger(f, z, which="z", h=1e-6):
    """∂f/∂z ("z"), ∂f/∂z̄ ("conj") or the complex gradient 2 ∂f/∂z̄ ("gradient") by central
    differences along the real part (dx) and the imaginary part (dy) of each entry."""
    z = np.asarray(z, dtype=complex)
    g = np.zeros_like(z)
    for idx in np.ndindex(z.shape):
        e = np.zeros_like(z)
        e[idx] = h
        dx = (f(z + e) - f(z - e)) / (2 * h)
        dy = (f(z + 1j * e) - f(z - 1j * e)) / (2 * h)
        g[idx] = {"z": (dx - 1j * dy) / 2, "conj": (dx + 1j * dy) / 2, "gradient": dx + 1j * dy}[which]
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
    gen = _Script1(ident, "np", label="NumPy")
    closed = [gen.expr(s, {}) for s in sides[1:]]
    lhs = sides[0]
    tail = [f"closed_form = {closed[0].text}"]
    for c in closed[1:]:  # the same shape first: broadcasting could make a wrong shape agree
        tail += [f"assert np.shape(closed_form) == np.shape({c.text})",
                 f"assert np.allclose(closed_form, {c.text}, rtol=1e-8, atol=1e-10)"]
    defs: list[str] = []
    if not _has_derivative(lhs):
        tail.insert(0, f"lhs = {gen.expr(lhs, {}).text}")
        tail += ["assert np.shape(lhs) == np.shape(closed_form), (np.shape(lhs), np.shape(closed_form))",
                 "assert np.allclose(lhs, closed_form, rtol=1e-8, atol=1e-10)"]
    elif isinstance(lhs, Deriv) and isinstance(_plain(lhs.wrt), Var) and kind(lhs.f.shape) == "scalar" \
            and not _has_derivative(lhs.f):
        var = _plain(lhs.wrt)
        x = _ident(var.name)
        ret = gen.expr(lhs.f, {}).text  # a number: scalars are 0-d here
        name = _free_name(ident)
        if "complex" in ident.decls[var.name].props:
            which = "gradient" if lhs.written.startswith("nabla") else "z" if var is lhs.wrt else "conj"
            defs = [f"def {name}({x}):\n    return {ret}", NUMERIC_WIRTINGER]
            fd = f'numeric_wirtinger({name}, {x}, "{which}")'
        else:
            defs = [f"def {name}({x}):\n    return {ret}", NUMERIC_GRADIENT]
            fd = f"numeric_gradient({name}, {x})"
        fd += ".T" if lhs.layout == "numerator" and kind(lhs.wrt.shape) == "matrix" else ""  # a 1-D vector has no orientation
        # Central differences with h = 1e-6 are accurate to about 1e-9 here; 1e-5 leaves a wide margin.
        tail.append(f"assert np.shape({fd}) == np.shape(closed_form), np.shape(closed_form)")
        tail.append(f"assert np.allclose({fd}, closed_form, rtol=1e-5, atol=1e-7)")
    tail.append('print("closed form:", np.shape(closed_form))')
    head = [f"# {title}" if title else "# The closed form in NumPy",
            f"# {formula}",
            *([f"# where {where}"] if where else []),
            f"# {layout} layout",
            "import numpy as np",
            *(["import scipy.linalg"] if "scipy" in gen.used else []),
            "",
            "rng = np.random.default_rng(0)"]
    used = [HELPERS[h] for h in HELPERS if h in gen.used]  # softmax, eigenvector, commutation, ...
    return _assemble(head, _inputs(ident, "np", flat=True), used + sorted(gen.helpers) + defs, tail)


def _plain(wrt):
    """The variable of a derivative by x or by x̄ (a conjugate), else None."""
    if isinstance(wrt, Call) and wrt.fn == "conj":
        return wrt.arg
    return wrt if isinstance(wrt, Var) else None


def numpy_snippet(entry, layout: str) -> str | None:
    """The NumPy closed-form script of a catalogue entry in `layout`, or None (see numpy_script)."""
    return numpy_script(entry.formula_in(layout), entry.where, layout, title=entry.title)


DIALECT = Dialect(name="numpy", label="NumPy", language="python", script=numpy_script,
                  run=script_runner("closed form:", "NumPy closed form"),
                  none_reason="the closed form contains derivatives or a matrix function, which NumPy does not have")
