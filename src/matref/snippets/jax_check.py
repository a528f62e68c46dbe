"""Dialect `jax`: a self-contained script that checks the identity with JAX automatic
differentiation (the proof shown beside each identity)."""

from __future__ import annotations

from .._language import parse_identity
from ._common import _assemble, _Gen, _inputs, _varying
from ._dialect import Dialect, script_runner


def jax_script(formula: str, where: str = "", layout: str = "denominator", title: str | None = None) -> str:
    """A self-contained script checking the identity with JAX autodiff (raises MatrefError if the
    identity cannot be parsed or does not conform)."""
    ident = parse_identity(formula, where, layout)
    gen = _Gen(ident, "jnp")
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
            "",
            'jax.config.update("jax_enable_x64", True)',
            "rng = np.random.default_rng(0)"]
    checks = [f"{name} = {code.text}" for name, code in zip(names, sides)]
    checks += [f"assert np.allclose({a}, {b}, rtol=1e-8, atol=1e-10), abs({a} - {b}).max()"
               for a, b in zip(names, names[1:])]
    checks.append(f'print("holds:", {names[0]}.shape if np.ndim({names[0]}) else "scalar")')
    return _assemble(head, _inputs(ident), sorted(gen.helpers) + gen.defs, checks)


def jax_snippet(entry, layout: str) -> str:
    """The JAX check script of a catalogue entry in `layout` (the text the site shows)."""
    return jax_script(entry.formula_in(layout), entry.where, layout, title=entry.title)


DIALECT = Dialect(name="jax", label="JAX check", language="python", script=jax_script,
                  run=script_runner("holds:", "JAX check"))
