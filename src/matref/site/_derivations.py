"""The "Derivation" block of a catalogue entry: `matref derive` run on what its left side differentiates.

An entry whose left side is ∂f/∂X of an expression derive handles shows the derivation, collapsed,
in its row's panel, once the derived result agrees with the entry's right side (it is the same
expression, or the checker confirms `derived = right side` in both layouts): two independent
witnesses, the autodiff check of the entry and the derivation. Deriving costs about half a second
per entry, so a cold build derives in worker processes, one per core (`matref._workers`), and
results are kept on disk between builds, keyed by the entry's formula, where-clause and layout
and by a hash of the code that derives and checks (a change to derive, the language or the
checker derives everything afresh; see `_code_version`).
"""

from __future__ import annotations

import html
import json
import logging
from pathlib import Path

from .._workers import default_jobs, in_workers

from ._html import math_div
from ._katex import digest, save_json

log = logging.getLogger("mkdocs.hooks.matref_site")

LAYOUTS = ("denominator", "numerator")
LAYOUT_CLASS = {"denominator": "matref-den", "numerator": "matref-num"}  # shown by the layout switch


def _code_version() -> str:
    """What a derivation depends on besides the entry: all of matref's code but the site and the
    snippets (derive, the language, the checker, which confirms every step), this module, and the
    numeric libraries. A checker change derives everything afresh, as it checks every verdict again
    (`matref._verify.inputs_digest`); a change to how pages look does not."""
    from .._verify import inputs_digest
    return digest(inputs_digest(without=("site", "snippets")) + Path(__file__).read_text(encoding="utf-8"))


def derivable(entry) -> tuple[str, str, str, bool] | None:
    """(expression, variable, how the derivative is written, whether it is by vec of the variable)
    when the entry's left side is a derivative of an expression by a declared variable, its
    transpose or its vec, else None."""
    from .._errors import MatrefError
    from .._language import parse_identity
    from .._latex import latex
    from .._shapes import kind
    from .._tree import Call, Deriv, Var
    try:
        left = parse_identity(entry.formula, entry.where, entry.layout).equation.sides[0]
    except MatrefError:
        return None
    if not isinstance(left, Deriv):
        return None
    # by vec X of a matrix X: derive gives ∂ vec F/∂ vec X for a matrix or vector F, and a scalar's
    # gradient, whose vec it is (vec of a vector would be the vector itself: not taken)
    by_vec = isinstance(left.wrt, Call) and left.wrt.fn == "vec" and isinstance(left.wrt.arg, Var) \
        and kind(left.wrt.arg.shape) == "matrix"
    if not (isinstance(left.wrt, Var) or by_vec):
        return None
    by = left.wrt.arg if by_vec else left.wrt
    return latex(left.f, sums=True), latex(by), left.written, by_vec  # a \sum as written, not expanded at one size


def derive_entry(entry) -> dict:
    """The derivation of a derivable entry, as stored: status "derived" with the steps (rule, formula, the
    formula in numerator layout for the last)
    and the result per layout once it agrees with the entry in both layouts, else status and message."""
    from .._derive import derive
    expression, by, written, by_vec = derivable(entry)
    d = derive(expression, by, entry.where, layout=entry.layout)
    if not d.holds:
        return {"status": "cannot derive", "message": d.message}
    steps = [[s.rule, s.formula, None if written.startswith("nabla") else s.numerator] for s in d.steps]
    if by_vec and d.derivative is None:  # a scalar by vec X: the gradient's vec, a row in numerator layout
        g = rf"\operatorname{{vec}}\left({d.result['denominator']}\right)"
        return _restated(entry, {"denominator": g, "numerator": rf"\left({g}\right)^T"},
                         "by vec X: ∂f/∂ vec X = vec(∂f/∂X), the denominator-layout gradient", steps)
    if written.startswith("nabla") and d.conjugate is not None:  # a complex variable: ∇_Z f = 2 ∂f/∂Z̄
        return _complex_gradient(entry, d.conjugate["denominator"], steps)
    if written.endswith("-T"):  # by Xᵀ: derive's result transposed, that step checked as well
        return _by_transpose(entry, written, d.result, steps)
    # ∇f is the gradient in either layout: the denominator-layout result
    result = {layout: d.result["denominator" if written.startswith("nabla") else layout] for layout in LAYOUTS}
    return _agreeing(entry, result, steps)


def _complex_gradient(entry, conjugate: str, steps: list) -> dict:
    """∇_Z f = 2 ∂f/∂Z̄ (the Conventions page's complex gradient), the same in both layouts, from
    derive's other Wirtinger derivative; its step checked like the others."""
    from .._errors import MatrefError
    from .._language import parse_identity
    from .._latex import latex
    try:  # read beside the derivative, so that 2 (A z) is written 2 A z
        left = latex(parse_identity(entry.formula, entry.where, entry.layout).equation.sides[0])
        g = latex(parse_identity(rf"{left} = 2 \left({conjugate}\right)", entry.where, entry.layout).equation.sides[1])
    except MatrefError as e:
        return {"status": "cannot derive", "message": f"the complex gradient: {e}"}
    return _restated(entry, {"denominator": g, "numerator": g}, "the complex gradient: ∇_Z f = 2 ∂f/∂Z̄", steps)


def _by_transpose(entry, written: str, derived: dict, steps: list) -> dict:
    """The derivative by Xᵀ from the derivative by X: in either layout ∂f/∂Xᵀ is (∂f/∂X)ᵀ (the
    other layout's ∂f/∂X, Conventions page), and ∇_{Xᵀ} f is (∇_X f)ᵀ, the numerator-layout ∂f/∂X."""
    from .._catalogue import SYMMETRIC_PROPS
    from .._errors import MatrefError
    from .._language import parse_identity
    from .._latex import latex
    from .._layouts import simplify_transpose
    ident = parse_identity(entry.formula, entry.where, entry.layout)
    symmetric = frozenset(n for n, d in ident.decls.items() if d.props & SYMMETRIC_PROPS)
    left = latex(ident.equation.sides[0])

    other = dict(zip(LAYOUTS, reversed(LAYOUTS)))

    def transposed(layout: str) -> str:
        """derived[layout]ᵀ, read in `layout`: the other layout's result as it is when it holds no
        derivative (whose meaning the layout changes), else transposed with transposes pushed to the
        leaves (read beside the derivative, which sizes an I)."""
        if r"\partial" not in derived[other[layout]]:
            return derived[other[layout]]
        t = parse_identity(rf"{left} = \left({derived[layout]}\right)^T", entry.where, layout).equation.sides[1]
        return latex(simplify_transpose(t.x, symmetric))

    # ∇_{Xᵀ} f read in numerator layout is the numerator-layout ∂f/∂X itself
    try:
        result = {layout: derived[layout] if written.startswith("nabla") and layout == "numerator"
                  else transposed(layout) for layout in LAYOUTS}
    except MatrefError as e:
        return {"status": "cannot derive", "message": f"by the transpose: {e}"}
    rule = "by the transpose: ∂f/∂Xᵀ = (∂f/∂X)ᵀ" if not written.startswith("nabla") else \
        "by the transpose: ∇_{Xᵀ} f = (∇_X f)ᵀ"
    return _restated(entry, result, rule, steps)


def _restated(entry, result: dict, rule: str, steps: list) -> dict:
    """A last step that writes derive's result as the entry's derivative (by Xᵀ, by vec X), checked
    in both layouts before it is shown; the result must then agree with the entry."""
    from .._check import check
    from .._language import parse_identity
    from .._latex import latex
    left = latex(parse_identity(entry.formula, entry.where, entry.layout).equation.sides[0])
    formulas = {layout: f"{left} = {result[layout]}" for layout in LAYOUTS}
    for layout in LAYOUTS:
        v = check(formulas[layout], entry.where, layout)
        if not v.holds:
            return {"status": "cannot derive", "message": f"{rule}, {layout} layout: {v.message}"}
    return _agreeing(entry, result, steps + [[rule, formulas["denominator"], formulas["numerator"]]])


def _agreeing(entry, result: dict, steps: list) -> dict:
    """The stored derivation once `result` agrees with the entry in both layouts, else why not.

    The check is `right side = result`. Its left side, the entry's derivative, is not evaluated
    again: derive's last step has already checked `derivative = result` by autodiff in both layouts
    (for a derivative by Xᵀ or vec X, `_restated` has checked it written as the entry writes it),
    and the entry's own check gives `derivative = right side`. Tracing the derivative a third time
    was half of a cold site build. Where the result is the right side itself, tree for tree (half
    the entries), the two agree wherever they are defined, and there is nothing to check."""
    from .._check import check
    for layout in LAYOUTS:  # the second witness: the entry's right side(s) and the derived result
        formula = _right_sides_and(entry, layout, result[layout])
        if _one_expression(formula, entry.where, layout):
            continue
        v = check(formula, entry.where, layout)
        if not v.holds:
            return {"status": "disagrees" if v.status == "refuted" else "cannot check",
                    "message": f"{layout} layout: {formula}: {v.message}"}
    # a ∇ entry's steps are shown as derived, in denominator layout only
    return {"status": "derived", "result": result, "layout": entry.layout, "steps": steps}


def _one_expression(formula: str, where: str, layout: str) -> bool:
    """Whether every side of `formula` is the same tree (`matref._tree.structure`)."""
    from .._errors import MatrefError
    from .._language import parse_identity
    from .._tree import structure
    try:
        return len({structure(side) for side in parse_identity(formula, where, layout).equation.sides}) == 1
    except (MatrefError, TypeError):  # unreadable, or a field structure does not know: check it
        return False


def _right_sides_and(entry, layout: str, result: str) -> str:
    """`right side(s) = result`, when the right sides read alone exactly as they read in the entry
    (the same trees and shapes), else the entry's whole chain `= result`: a right side whose sizes
    only its left side fixes (`I ⊗ X`) or whose reading the left side settles needs it."""
    from .._errors import MatrefError
    from .._language import parse_identity
    from .._latex import latex
    whole = f"{entry.formula_in(layout)} = {result}"
    rights = parse_identity(entry.formula_in(layout), entry.where, layout).equation.sides[1:]
    alone = " = ".join([*(latex(side, sums=True) for side in rights), result])
    try:
        read = parse_identity(alone, entry.where, layout).equation.sides[:len(rights)]
    except MatrefError:
        return whole
    same = all(latex(a, sums=True) == latex(b, sums=True) and a.shape == b.shape for a, b in zip(read, rights))
    return alone if same else whole


class DerivationCache:
    """Derivations on disk, one JSON file per version of the deriving code."""

    def __init__(self, directory: Path | None):
        self.path = directory / f"derivations-{_code_version()}.json" if directory else None
        try:
            self.results = json.loads(self.path.read_text(encoding="utf-8")) if self.path else {}
        except (OSError, ValueError):
            self.results = {}
        self.dirty = False

    @staticmethod
    def key(entry) -> str:
        return digest("\n".join((entry.formula, entry.where, entry.layout)))

    def get(self, entry) -> dict | None:
        """The entry's derivation (None: not a derivative identity)."""
        if not derivable(entry):
            return None
        k = self.key(entry)
        if k not in self.results:
            self.put(entry, derive_entry(entry))
        return self.results[k]

    def put(self, entry, derivation: dict) -> None:
        self.results[self.key(entry)] = derivation
        self.dirty = True

    def missing(self, entries) -> list:
        """The derivable entries among `entries` with no derivation kept (one per key)."""
        todo = {self.key(e): e for e in entries if self.key(e) not in self.results and derivable(e)}
        return list(todo.values())

    def save(self) -> None:
        if self.path is None or not self.dirty:
            return
        save_json(self.path, self.results)
        self.dirty = False


class DerivationDisagrees(Exception):
    """A derivation the checker found to disagree with its entry: derive or the entry is wrong."""


def derivations(cat, directory: Path | None, jobs: int | None = None) -> dict[str, dict]:
    """Entry id -> its derivation, for every derivative identity of the catalogue (cached in directory);
    those not cached are derived `jobs` at a time (default: one per core) in worker processes.

    Raises DerivationDisagrees when a derived result and its entry disagree (a refutation, not a
    "cannot check"): the site build stops there, so the catalogue's derivative identities carry two
    witnesses in every build and CI, the autodiff check and the derivation."""
    cache = DerivationCache(directory)
    missing = cache.missing(cat.entries)
    # A cold build derives a few hundred entries, ~0.5 s each: spread them over the cores. A worker
    # costs ~2 s to start (JAX's import), so a handful (an edit while serving) is derived right here.
    jobs = min(default_jobs(), len(missing) // 8) if jobs is None else min(jobs, len(missing))
    if jobs > 1:
        log.info("matref: deriving %d entries in %d processes (kept for later builds)", len(missing), jobs)
        in_workers(derive_entry, [(e,) for e in missing], jobs, lambda i, d: cache.put(missing[i], d))
    out = {e.id: r for e in cat.entries if (r := cache.get(e)) is not None}
    cache.save()
    bad = [f"{i} ({e.location}): {out[i]['message']}" for e in cat.entries if (i := e.id) in out
           and out[i]["status"] == "disagrees"]
    if bad:
        raise DerivationDisagrees("a derivation disagrees with its entry (derive or the entry is wrong): "
                                  + "; ".join(bad))
    return out


def derivation_html(derivation: dict | None) -> str:
    """The collapsed "Derivation" block of an entry's panel (empty unless derived and agreeing): the
    steps, each confirmed by the checker, the last in both layouts. It travels in the entry's code
    fragment, fetched when the panel opens, so a family page does not carry it (KaTeX's HTML for
    every step would double a page's weight)."""
    if not derivation or derivation["status"] != "derived":
        return ""
    items = []
    for rule, formula, numerator in derivation["steps"]:
        forms = (math_div(formula) if numerator is None or numerator == formula else
                 f'<div class="{LAYOUT_CLASS["denominator"]}">{math_div(formula)}</div>'
                 f'<div class="{LAYOUT_CLASS["numerator"]}">{math_div(numerator)}</div>')
        items.append(f"<li><p>{html.escape(rule, quote=False)}</p>{forms}</li>")
    return ('<details class="matref-derivation"><summary>Derivation</summary>'
            '<p>Derived by <a href="../../derive/">matref derive</a>, every step confirmed by the checker; '
            "the result agrees with this identity in both layouts.</p>"
            f'<ol>{"".join(items)}</ol></details>')
