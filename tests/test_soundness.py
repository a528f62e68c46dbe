"""Soundness: each way a false identity could pass a random check, as a generated property.

Sizes (identities true at one size only), parities, structure forms, scale (a small term beside a
large one), differentials that drop a term, and hints that must not lead to a wrong verdict.
"""

import itertools
import random

import jax
import numpy as np
import pytest
from jax.extend.core import jaxpr_as_fun

import matref
from matref._check import _calls, _traced
from matref._numeric import draw_value
from matref._plans import PLANS, size_plans

R = r"\mathbb{R}"


def verdict(formula, where, layout="denominator", **kw):
    return matref.check(formula, where, layout, **kw)


# ----- sizes -------------------------------------------------------------------------------------

@pytest.mark.parametrize("count", range(1, 12))
def test_size_plans_vary_every_free_letter(count):
    """Each free letter: >= 3 sizes, both parities, 2 and a size >= 5; letters independent."""
    letters = [f"d{i}" for i in range(count)]
    rng = random.Random(count)
    fixed = {name: rng.randint(1, 7) for name in letters if rng.random() < 0.3}
    plans = size_plans(letters, fixed)
    assert len(plans) == PLANS >= 3
    for name in letters:
        values = [p[name] for p in plans]
        if name in fixed:
            assert set(values) == {fixed[name]}
            continue
        assert len(set(values)) >= 3 and {v % 2 for v in values} == {0, 1}
        assert 2 in values and max(values) >= 5 and 1 not in values
    free = [n for n in letters if n not in fixed]
    for a, b in itertools.combinations(free[:4], 2):
        assert all(p[a] != p[b] for p in plans[:4])  # in the Latin square the first four never coincide
        assert any(p[a] < p[b] for p in plans) and any(p[a] > p[b] for p in plans)
    for a, b in itertools.combinations(free, 2):
        assert any(p[a] == p[b] for p in plans)  # and every pair of free letters coincides once


def _letters_declared(count):
    names = ["m", "n", "p", "q", "r", "s"][:count]
    return names, ", ".join(rf"v_{{{k}}} \in {R}^{{{d}}}" for k, d in enumerate(names))


@pytest.mark.parametrize("count", [2, 3, 4, 6])
def test_an_identity_false_only_where_two_sizes_coincide_is_refuted(count):
    """det(XᵀX) det(XXᵀ) = 0 holds for every m×n X with m ≠ n (one of the two Gram matrices is
    singular) and fails for a square X: whichever two letters X's sizes are, some plan draws them
    equal. (The Latin square alone never did: it read 'holds'.)"""
    names, decls = _letters_declared(count)
    for a, b in itertools.permutations(names, 2):
        formula = r"\det(X^T X) \det(X X^T) = 0"
        v = verdict(formula, rf"{decls}, X \in {R}^{{{a} \times {b}}}")
        assert v.status == "refuted" and v.sizes[a] == v.sizes[b], (a, b, v)
        # a written entry raises a letter's sizes (X_{31} needs a >= 3); the letters still meet
        v = verdict(r"\det(X^T X) \det(X X^T) X_{31} = 0", rf"{decls}, X \in {R}^{{{a} \times {b}}}")
        assert v.status == "refuted" and v.sizes[a] == v.sizes[b], (a, b, v)


def cayley_hamilton(n):
    """X^n - c1 X^{n-1} + ... = 0 for n = 2, 3: true at its own n only."""
    X = r"\operatorname{tr}(X)"
    if n == 2:
        return rf"X^{{2}} - {X} X + \det(X) I = 0"
    return (rf"X^{{3}} - {X} X^{{2}} + \frac{{1}}{{2}}({X}^{{2}} - \operatorname{{tr}}(X^{{2}})) X - \det(X) I = 0")


@pytest.mark.parametrize("n", [2, 3])
def test_a_size_specific_identity_holds_at_its_size_and_is_refuted_elsewhere(n):
    formula = cayley_hamilton(n)
    assert verdict(formula, rf"X \in {R}^{{n \times n}}, n = {n}").holds
    assert verdict(formula, rf"X \in {R}^{{{n} \times {n}}}").holds
    v = verdict(formula, rf"X \in {R}^{{n \times n}}")
    assert v.status == "refuted" and v.sizes["n"] != n
    assert f"agrees at n={n}" in "\n".join(v.details)  # the refutation says where it holds


@pytest.mark.parametrize("k", [2, 3, 4, 5, 6])
def test_a_size_written_as_a_number_is_refuted_unless_fixed(k):
    assert verdict(rf"\operatorname{{tr}}(I_n) = {k}", rf"x \in {R}^{{n}}").status == "refuted"
    assert verdict(rf"\operatorname{{tr}}(I_n) = {k}", rf"x \in {R}^{{n}}, n = {k}").holds
    assert verdict(r"\operatorname{tr}(I_n) = n", rf"x \in {R}^{{n}}").holds


@pytest.mark.parametrize("n", [2, 3, 4, 5])
def test_parity_identities(n):
    formula = r"\det(-X) = \det(X)"  # true for even n only
    v = verdict(formula, rf"X \in {R}^{{n \times n}}, n = {n}")
    assert v.holds == (n % 2 == 0), v
    assert verdict(formula, rf"X \in {R}^{{n \times n}}").status == "refuted"


@pytest.mark.parametrize("formula", [r"\det(X^T X) = 0", r"\det(X X^T) = 0"])
def test_rank_identities_true_for_some_shapes_only(formula):
    assert verdict(formula, rf"X \in {R}^{{m \times n}}").status == "refuted"


# ----- structure forms ---------------------------------------------------------------------------

def _forms(props, n=4, count=8):
    rng = np.random.default_rng(0)
    return [draw_value(rng, (n, n), frozenset(props), form=f) for f in range(count)]


def test_orthogonal_draws_take_both_determinant_signs():
    signs = {round(float(np.linalg.det(q))) for q in _forms({"orthogonal"})}
    assert signs == {-1, 1}


def test_symmetric_draws_are_indefinite_and_definite():
    kinds = set()
    for s in _forms({"symmetric"}, count=9):
        ev = np.linalg.eigvalsh(s)
        kinds.add("indefinite" if ev.min() < 0 < ev.max() else "positive" if ev.min() > 0 else "negative")
    assert kinds == {"indefinite", "positive", "negative"}


def test_semidefinite_draws_include_singular_ones():
    mins = [np.linalg.eigvalsh(s).min() for s in _forms({"psd"})]
    assert min(mins) < 1e-12 and max(mins) > 0.5 and min(mins) > -1e-12


@pytest.mark.parametrize("formula, where, holds", [
    (r"\det(Q) = 1", r"Q \in \mathbb{R}^{n \times n} \text{ orthogonal}", False),
    (r"\det(Q)^{2} = 1", r"Q \in \mathbb{R}^{n \times n} \text{ orthogonal}", True),
    (r"|\det S| = \det S", r"S \in \mathbb{S}^{n}", False),
    (r"|\det S| = \det S", r"S \in \mathbb{S}^{n}_{++}", True),
    (r"|\det X| = \det X", r"X \in \mathbb{R}^{n \times n}; \det X > 0", True),
    (r"|\det X| = \det X", r"X \in \mathbb{R}^{n \times n}", False),
    (r"A^T = -A", r"A \in \mathbb{R}^{n \times n} \text{ skew-symmetric}", True),
])
def test_structure_specific_identities(formula, where, holds):
    assert verdict(formula, where).holds == holds


# ----- matrix functions: non-normal draws, domains, quadrature ----------------------------------

def test_positive_stable_draws_are_stable_far_from_normal_and_take_both_spectra():
    spectra = set()
    for x in _forms({"stable"}, n=5):
        ev = np.linalg.eigvals(x)
        assert ev.real.min() > 0
        # a normal matrix commutes with its transpose; these are far from it
        assert np.linalg.norm(x @ x.T - x.T @ x) > 0.1 * np.linalg.norm(x) ** 2
        spectra.add("complex" if np.abs(ev.imag).max() > 1e-9 else "real")
    assert spectra == {"complex", "real"}


@pytest.mark.parametrize("wrong, where", [
    (r"\mathrm{d}(e^{X}) = e^{X} \mathrm{d}X", rf"X \in {R}^{{n \times n}}"),
    (r"\mathrm{d}(e^{X}) = \int_0^1 e^{a X} (\mathrm{d}X) e^{a X} \, \mathrm{d}a", rf"X \in {R}^{{n \times n}}"),
    (r"\mathrm{d}\operatorname{logm}(X) = X^{-1} \mathrm{d}X", rf"X \in {R}^{{n \times n}} \text{{ positive stable}}"),
    (r"\mathrm{d}\operatorname{logm}(X) = \mathrm{d}X \, X^{-1}", rf"X \in {R}^{{n \times n}} \text{{ positive stable}}"),
    (r"\mathrm{d}(\operatorname{sqrtm}(X)) = \frac{1}{2} \operatorname{sqrtm}(X)^{-1} \mathrm{d}X",
     rf"X \in {R}^{{n \times n}} \text{{ positive stable}}"),
    (r"e^{X + Y} = e^{X} e^{Y}", rf"X, Y \in {R}^{{n \times n}}"),
])
def test_matrix_function_rules_true_only_for_commuting_matrices_are_refuted(wrong, where):
    assert verdict(wrong, where).status == "refuted"


def test_sqrtm_and_logm_are_nan_on_the_negative_axis_and_right_off_it():
    from matref import _numeric
    on_axis = np.diag([-1.0, 2.0])
    assert np.isnan(np.asarray(_numeric.sqrtm(on_axis))).all()
    assert np.isnan(np.asarray(_numeric.logm(on_axis))).all()
    # eigenvalues 1.5 e^{±2.5i}: in the left half-plane but off the negative axis, so both exist
    c, s = 1.5 * np.cos(2.5), 1.5 * np.sin(2.5)
    a = np.array([[c, -s], [s, c]]) + np.array([[0.0, 0.7], [0.0, 0.0]])
    root = np.asarray(_numeric.sqrtm(a))
    np.testing.assert_allclose(root @ root, a, atol=1e-12)
    np.testing.assert_allclose(np.asarray(jax.scipy.linalg.expm(_numeric.logm(a))), a, atol=1e-12)


def test_the_quadrature_error_is_far_below_the_tolerance_at_drawn_inputs():
    """The logarithm's resolvent integrand, the hardest drawn: the checker's rule against one with twice
    the nodes, relative to the integrand's size, on positive stable draws at both scales."""
    from matref import _numeric
    rng = np.random.default_rng(7)
    for k in range(40):
        n = 2 + k % 5
        x = _numeric.positive_stable(rng, n, ((1.0, 2.0), (0.1, 0.3))[k % 2], complex_pairs=k % 4 < 2)
        e, eye = rng.standard_normal((n, n)), np.eye(n)

        def f(a):
            r = np.linalg.inv(a * (x - eye) + eye)
            return r @ e @ r

        def rule(points):
            nodes, weights = _numeric.gauss_legendre(points, 0.0, 1.0)
            return sum(w * f(t) for t, w in zip(nodes, weights)), sum(w * np.linalg.norm(f(t)) for t, w in zip(nodes, weights))

        used, size = rule(_numeric.QUAD_NODES)
        finer, _ = rule(2 * _numeric.QUAD_NODES)
        assert np.linalg.norm(used - finer) <= 1e-12 * size


def test_a_too_coarse_quadrature_says_cannot_check_not_a_verdict(monkeypatch):
    from matref import _check, _numeric
    formula = r"\mathrm{d}\operatorname{logm}(X) = \int_0^1 (a (X - I) + I)^{-1} (\mathrm{d}X) (a (X - I) + I)^{-1} \, \mathrm{d}a"
    where = rf"X \in {R}^{{n \times n}} \text{{ positive stable}}"
    _check.clear_cache()
    monkeypatch.setattr(_numeric, "QUAD_NODES", 8)
    monkeypatch.setattr(_numeric, "QUAD_CHECK_NODES", 6)
    try:
        coarse = verdict(formula, where)
    finally:
        _check.clear_cache()
    assert coarse.status == "cannot check", coarse
    assert "quadrature did not converge" in coarse.message
    monkeypatch.undo()
    assert verdict(formula, where).holds


# ----- function symbols ----------------------------------------------------------------------
# A declared function u stands for any differentiable function, so an identity about u must fail
# for the random map drawn in its place unless it holds for every function. Each functional
# equation below holds for a special class (odd about 0 plus a constant, affine, even, linear) and
# must be refuted, for a scalar function and for a vector map of a vector.
SPECIAL_CLASS_EQUATIONS = [
    "{u}({x}) + {u}(-{x}) = 2 {u}(0 {x})",  # odd plus a constant: the map without its bias
    r"\frac{{\partial {u}({x})}}{{\partial {x}}} = -\frac{{\partial {u}(-{x})}}{{\partial {x}}}",  # an even derivative
    "{u}(2 {x}) = 2 {u}({x}) - {u}(0 {x})",  # affine
    "{u}(-{x}) = {u}({x})",  # even
    "{u}(0 {x}) = 0 {u}({x})",  # through the origin
]
FUNCTION_SYMBOLS = [("f", "t", rf"t \in {R}, f : {R} \to {R}"),
                    ("u", "x", rf"x \in {R}^{{n}}, u : {R}^{{n}} \to {R}^{{m}}")]


@pytest.mark.parametrize("equation", SPECIAL_CLASS_EQUATIONS)
@pytest.mark.parametrize("u, x, where", FUNCTION_SYMBOLS, ids=["scalar", "vector"])
def test_an_equation_true_only_for_a_class_of_functions_is_refuted(equation, u, x, where):
    formula = equation.format(u=u, x=x)
    assert verdict(formula, where).status == "refuted", formula


# ----- scale -------------------------------------------------------------------------------------

@pytest.mark.parametrize("k", [6, 12, 24, 40])
def test_a_small_term_cannot_hide_behind_a_large_one(k):
    """Dropping the +x (or +a) next to a high power is refuted at every power."""
    where = rf"x, a \in {R}^{{n}}, X \in {R}^{{n \times n}}"
    assert verdict(rf"(X^{{{k}}} + I) x = X^{{{k}}} x + x", where).holds
    assert verdict(rf"(X^{{{k}}} + I) x = X^{{{k}}} x", where).status == "refuted"
    grad = rf"\frac{{\partial}}{{\partial x}} (x^T X^{{{k}}} x + a^T x)"
    assert verdict(rf"{grad} = (X^{{{k}}} + (X^{{{k}}})^T) x + a", where).holds
    assert verdict(rf"{grad} = (X^{{{k}}} + (X^{{{k}}})^T) x", where).status == "refuted"
    assert verdict(rf"(X^{{{k}}} + I) x = X^{{{k}}} x + x", where).holds


# Identities true only near 0: every drawn input used to have singular values (magnitudes) of at most
# 2, so each of these read "holds". Each fails wherever its input is drawn large, which must happen
# whichever place the input has among the others (they are dummies: + a - a).
BALL_IDENTITIES = [  # (formula, declaration of its input T)
    (r"|2 - |T|| = 2 - |T|", rf"T \in {R}"),
    (r"|2 - |T|| = 2 - |T|", r"T \in \mathbb{C}"),
    (r"|3 - \|T\|_2| = 3 - \|T\|_2", rf"T \in {R}^{{n}}"),
    (r"|2 - \|T\|_2| = 2 - \|T\|_2", rf"T \in {R}^{{m \times n}}"),
]
# Identities true inside a ball that only some large draws leave: the one input is large at many draws.
PERIODIC_IDENTITIES = [
    (r"|\sin(T)| = \sin(|T|)", rf"T \in {R}"),  # true for |T| <= π
    (r"\log(e^{T}) = T", r"T \in \mathbb{C}"),  # true for |Im T| < π
    (r"|\det(2 I + T)| = \det(2 I + T)", rf"T \in {R}^{{n \times n}}"),  # no real eigenvalue below -2
]


def _renamed(formula, where, name, dummies):
    left, right = formula.replace("T", name).split(" = ")
    left += "".join(f" + {d} - {d}" for d in dummies)
    return f"{left} = {right}", ", ".join([where.replace("T", name)] + [rf"{d} \in {R}" for d in dummies])


@pytest.mark.parametrize("formula, where", BALL_IDENTITIES)
@pytest.mark.parametrize("others", [0, 1, 3, 5])
def test_an_identity_true_only_near_zero_is_refuted_whichever_input_it_is(formula, where, others):
    letters = "abcdef"[:others + 1]
    for name in letters:  # the input T renamed, so that it takes each place among the sorted inputs
        v = verdict(*_renamed(formula, where, name, [d for d in letters if d != name]))
        assert v.status == "refuted", (name, letters, v)


@pytest.mark.parametrize("formula, where", PERIODIC_IDENTITIES)
def test_an_identity_true_only_within_a_period_or_a_branch_is_refuted(formula, where):
    for name, dummies in [("a", []), ("b", ["a"])]:
        v = verdict(*_renamed(formula, where, name, dummies))
        assert v.status == "refuted", (name, v)


# ----- differentials -----------------------------------------------------------------------------

def _product_rules(seed):
    """A random product of 2-4 conformable factors, some declared constant, with its product rule."""
    rng = random.Random(seed)
    count = rng.randint(2, 4)
    names = ["A", "B", "C", "D"][:count]
    dims = [rng.choice("mnpq") for _ in range(count + 1)]
    constant = {n for n in names if rng.random() < 0.3}
    where = ", ".join(rf"{n} \in {R}^{{{dims[i]} \times {dims[i + 1]}}}" + (r" \text{ constant}" if n in constant else "")
                      for i, n in enumerate(names))
    terms = []
    for i, n in enumerate(names):
        if n in constant:
            continue
        terms.append(" ".join(rf"(\partial {m})" if j == i else m for j, m in enumerate(names)))
    return rf"\partial({' '.join(names)})", terms, where


@pytest.mark.parametrize("seed", range(10))
def test_differentials_vary_every_symbol_not_constant(seed):
    lhs, terms, where = _product_rules(seed)
    if not terms:
        assert verdict(f"{lhs} = 0", where).holds
        return
    assert verdict(f"{lhs} = {' + '.join(terms)}", where).holds
    for dropped in range(len(terms)):
        rest = [t for i, t in enumerate(terms) if i != dropped]
        rhs = " + ".join(rest) if rest else "0"
        assert verdict(f"{lhs} = {rhs}", where).status == "refuted", (lhs, rhs, where)


def test_differential_spellings_need_no_declared_d():
    where = rf"X \in {R}^{{m \times n}}, Y \in {R}^{{n \times p}}"
    for d in (r"\partial ", r"\mathrm{d}", "d"):
        assert verdict(f"{d}(X Y) = ({d}X) Y + X ({d}Y)", where).holds
        assert verdict(f"{d}(X Y) = ({d}X) Y", where).status == "refuted"


# ----- hints --------------------------------------------------------------------------------------

@pytest.mark.parametrize("typed, where, fixed", [
    (r"tr(A) = tr(A^T)", rf"A \in {R}^{{n \times n}}", r"\operatorname{tr}(A) = \operatorname{tr}(A^T)"),
    (r"\frac{\partial det(X)}{\partial X} = \det(X) X^{-T}", rf"X \in {R}^{{n \times n}}",
     r"\frac{\partial \det(X)}{\partial X} = \det(X) X^{-T}"),
])
def test_a_hint_followed_gives_the_right_verdict(typed, where, fixed):
    v = verdict(typed, where)
    assert v.status == "cannot check"
    command = next(c for c in (r"\operatorname{tr}", r"\det") if c in v.message)
    assert command in fixed and verdict(fixed, where).holds


def test_where_clause_hint_for_plain_spaces():
    v = verdict(r"x^T x = \|x\|^2", r"x \in R^n")
    assert v.status == "cannot check" and r"\mathbb{R}" in v.message
    assert verdict(r"x^T x = \|x\|^2", r"x \in \mathbb{R}^{n}").holds


@pytest.mark.parametrize("typed", [r"\operatorname{foo}(X) = X", r"\operatorname{adj}_{2}(X) = X"])
def test_messages_echo_the_text_as_typed(typed):
    v = verdict(typed, rf"X \in {R}^{{n \times n}}")
    assert v.status == "cannot check"
    fragment = typed.split("(")[0]
    assert fragment in v.message, v.message


# ----- notation textbooks print ------------------------------------------------------------------

NOTATION = [  # (true form, a false variant, where)
    (r"\frac12 x^T x = \tfrac{1}{2} \|x\|^2", r"\frac12 x^T x = \dfrac{1}{3} \|x\|^2", rf"x \in {R}^{{n}}"),
    (r"\frac1n x^T x = \frac{x^T x}{n}", r"\frac1n x^T x = \frac{x^T x}{2}", rf"x \in {R}^{{n}}"),
    (r"2 \times a = a + a", r"2 \times a = a", rf"a \in {R}"),
    (r"e^{a} e^{b} = e^{a + b}", r"e^{a} e^{b} = e^{a b}", rf"a, b \in {R}"),
    (r"e^{X} e^{-X} = I", r"e^{X} e^{X^T} = I", rf"X \in {R}^{{n \times n}}"),
    (r"\langle A, B \rangle = \operatorname{tr}(A^T B)", r"\langle A, B \rangle = \operatorname{tr}(A B^T) + 1",
     rf"A, B \in {R}^{{m \times n}}"),
    (r"I_n x = x", r"I_n x = 2 x", rf"x \in {R}^{{n}}"),
    (r"\sum_{i=1}^{n} x_i = \mathbf{1}^T x", r"\sum_{i=1}^{n-1} x_i = \mathbf{1}^T x", rf"x \in {R}^{{n}}"),
    (r"\operatorname{tr}(X) = \sum_{i=1}^{n} X_{ii}", r"\operatorname{tr}(X) = \sum_{i=1}^{n} X_{i1}", rf"X \in {R}^{{n \times n}}"),
    (r"\sum_{i=1}^{3} x_i = \mathbf{1}^T x", r"\sum_{i=1}^{2} x_i = \mathbf{1}^T x", rf"x \in {R}^{{n}}, n = 3"),
    (r"\operatorname{adj}(X) X = \det(X) I", r"\operatorname{adj}(X) X = I", rf"X \in {R}^{{n \times n}}"),
    (r"\frac{\partial \tan(x)}{\partial x} = \operatorname{diag}(\mathbf{1} + \tan(x) \odot \tan(x))",
     r"\frac{\partial \tan(x)}{\partial x} = \operatorname{diag}(\tan(x) \odot \tan(x))", rf"x \in {R}^{{n}}"),
    (r"\left\lVert x \right\rVert^2 = x^T x", r"\left\lVert x \right\rVert = x^T x", rf"x \in {R}^{{n}}"),
    (r"(A B)_{ij} = A_{i1} B_{1j} + A_{i2} B_{2j}", r"(A B)_{ij} = A_{i1} B_{1j}",
     rf"A \in {R}^{{m \times 2}}, B \in {R}^{{2 \times n}}"),
    (r"\frac{\partial (X^{-1})_{kl}}{\partial X_{ij}} = -(X^{-1})_{ki} (X^{-1})_{jl}",
     r"\frac{\partial (X^{-1})_{kl}}{\partial X_{ij}} = -(X^{-1})_{ik} (X^{-1})_{jl}", rf"X \in {R}^{{n \times n}}"),
    (r"M_{23} = M_{32}", r"M_{23} = M_{22}", r"M \in \mathbb{S}^{n}"),
    (r"\frac{\partial M_{12}}{\partial M_{12}} = 1", r"\frac{\partial M_{12}}{\partial M_{21}} = 1", rf"M \in {R}^{{n \times n}}"),
    (r"\frac{-\partial x^T x}{\partial x} = -2 x", r"\frac{-\partial x^T x}{\partial x} = 2 x", rf"x \in {R}^{{n}}"),
    (r"\frac{\partial \log \det X}{\partial X} = X^{-T}", r"\frac{\partial \log \det X}{\partial X} = X^{-1}",
     rf"X \in {R}^{{n \times n}} \text{{ and }} \det X > 0"),
    (r"\frac{\partial \log \det X}{\partial X} = X^{-1}", r"\frac{\partial \log \det X}{\partial X} = X",
     rf"x \in {R}^{{n}}; \quad X \in {R}^{{n \times n}}, X \succ 0"),
    (r"x^T A x = 0", r"x^T A x = x^T x", rf"x \in {R}^{{n}} \quad A \in {R}^{{n \times n}} \text{{ skew-symmetric}}"),
    (r"\int_0^1 a^{2} X \, \mathrm{d}a = \frac{1}{3} X", r"\int_0^1 a^{2} X \, da = \frac{1}{2} X", rf"X \in {R}^{{n \times n}}"),
    (r"K_{mn} \operatorname{vec}(X) = \operatorname{vec}(X^T)", r"K_{nm} \operatorname{vec}(X) = \operatorname{vec}(X^T)",
     rf"X \in {R}^{{m \times n}}"),
    (r"D_{n} \operatorname{vech}(S) = \operatorname{vec}(S)", r"D_{n} \operatorname{vech}(S) = \operatorname{vec}(S^{2})",
     r"S \in \mathbb{S}^{n}"),
    (r"\operatorname{sqrtm}(X)^{2} = X", r"\operatorname{sqrtm}(X)^{2} = X^T", rf"X \in {R}^{{n \times n}} \text{{ positive stable}}"),
]


@pytest.mark.parametrize("true, false, where", [n for n in NOTATION if n[1] is not None])
def test_notation_textbooks_print(true, false, where):
    v = verdict(true, where)
    assert v.holds, v
    assert verdict(false, where).status == "refuted"


@pytest.mark.parametrize("true, false, where", NOTATION[::4])
def test_numpy_replay_and_jax_agree_on_every_traced_check(true, false, where):
    """The traced programs a check replays with NumPy give what JAX gives running them itself."""
    for formula in (true, false):
        matref.check(formula, where)
        compiled = _traced(formula, where, "denominator")
        for d, args in _calls(compiled, 0, 1):
            for p, got in enumerate(compiled.run(args)):
                program = compiled.programs[p].jaxpr
                leaves = jax.tree_util.tree_leaves(args[p])
                expected = jax.jit(jaxpr_as_fun(program))(*leaves)
                for a, b in zip(jax.tree_util.tree_leaves(got), expected):
                    # the same float64 operations in two libraries: rounding-level differences only
                    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_ambiguous_juxtaposition_takes_the_reading_that_type_checks_and_says_so():
    where = r"x \in \mathbb{R}^{n}, u : \mathbb{R}^{n} \to \mathbb{R}, v : \mathbb{R}^{n} \to \mathbb{R}^{n}"
    rule = r"\frac{\partial (u v)}{\partial x} = \frac{\partial u}{\partial x} v^T + u \left(\frac{\partial v}{\partial x}\right)"
    v = verdict(rule, where)
    assert v.holds and any(r"u \left(\frac{\partial v}{\partial x}\right)' as a product" in d for d in v.details)
    assert verdict(rule.replace(r"\frac{\partial u}{\partial x} v^T + ", ""), where).status == "refuted"


@pytest.mark.parametrize("formula", [r"a \times b = -b \times a", r"a^T \times b = b^T a"])
def test_times_between_vectors_is_not_silently_a_matrix_product(formula):
    """A cross product is not in the language: say so, rather than refute or multiply."""
    v = verdict(formula, rf"a, b \in {R}^{{3}}")
    assert v.status == "cannot check" and "cross product" in v.message


def test_a_numerically_singular_draw_is_no_evidence():
    # det(AB)(AB)^{-1} is the adjugate of AB, not 0. With m = 2, AB is singular for n > 2 and its
    # computed inverse is rounding noise of size ~1e16: those draws must neither agree nor count.
    # At a draw with one input large the computed AB can be exactly singular, its inverse infinite:
    # that reads as outside the domain ("cannot check"), which is no verdict either. Never "holds".
    v = verdict(r"\det(A B) (A B)^{-1} = 0", rf"A \in {R}^{{n \times m}}, B \in {R}^{{m \times n}}, m = 2")
    assert v.status in ("refuted", "cannot check"), v
    v = verdict(r"\det(A B) (A B)^{-1} = 0", rf"A \in {R}^{{n \times m}}, B \in {R}^{{m \times n}}, m = 2",
                draws=2)  # the unit and small scales only
    assert v.status == "refuted", v
    assert any("numerically singular" in d for d in v.details), v
    assert not any("agrees at" in d for d in v.details), v


def test_no_holds_without_a_draw_that_counts(monkeypatch):
    # Every draw degenerate (here: by a threshold no draw passes) must never read as "holds".
    import matref._check as checker
    monkeypatch.setattr(checker, "DEGENERATE", 0.0)
    checker.clear_cache()
    v = matref.check(r"\operatorname{tr}(A X) = \operatorname{tr}(X A)", rf"A \in {R}^{{n \times n}}, X \in {R}^{{n \times n}}")
    assert v.status == "cannot check" and "numerically singular" in v.message, v


# A differential, derivative or Hessian is only evidence where its function is defined: JAX's tangent
# of log det X is tr(X⁻¹ dX) even where det X < 0 and log det X is NaN. Each function with a domain
# below is checked with its true derivative under three operators: outside the declared domain the
# draws show nothing ("cannot check"); with the domain declared it holds.
DOMAINS = [  # (f, its true differential, its true derivative, the variable, its domain)
    (r"\log\det X", r"\operatorname{tr}(X^{-1} \mathrm{d}X)", r"X^{-T}",
     rf"X \in {R}^{{n \times n}}", r"\det X > 0"),
    (r"\log(x^T x - 3)", r"\frac{2 x^T \mathrm{d}x}{x^T x - 3}", r"\frac{2 x}{x^T x - 3}",
     rf"x \in {R}^{{n}}", None),
    (r"\sqrt{a - 4}", r"\frac{\mathrm{d}a}{2 \sqrt{a - 4}}", r"\frac{1}{2 \sqrt{a - 4}}", rf"a \in {R}", None),
]


@pytest.mark.parametrize("f, differential, derivative, var, domain", DOMAINS)
def test_no_verdict_from_draws_outside_a_functions_domain(f, differential, derivative, var, domain):
    name = var.split()[0]
    for formula in (rf"\mathrm{{d}}({f}) = {differential}", rf"\frac{{\partial {f}}}{{\partial {name}}} = {derivative}"):
        v = verdict(formula, var)
        assert v.status == "cannot check" and "not finite" in v.message, (formula, v)
        if domain:
            assert verdict(formula, f"{var}, {domain}").holds, (formula, domain)
    if "R}^{n}" in var:  # the Hessian of a scalar function of a vector
        v = verdict(rf"\frac{{\partial^2 {f}}}{{\partial {name} \partial {name}^T}} = 0", var)
        assert v.status == "cannot check" and "not finite" in v.message, v


# ----- complex values --------------------------------------------------------------------------
# A dropped conjugate, or H written where T is meant, changes an identity only through imaginary
# parts: the draws must be genuinely complex (never real, Hermitian or unitary unless declared) and
# every such slip must be refuted. Identities are generated; each true one has its slips beside it.

C = r"\mathbb{C}"


def _complex_forms(props, shape=(4, 4), count=6):
    rng = np.random.default_rng(7)
    return [draw_value(rng, shape, frozenset({"complex", *props}), form=f) for f in range(count)]


def test_complex_draws_are_never_real_hermitian_or_unitary_by_accident():
    for scale in ((1.0, 2.0), (0.1, 0.3)):
        rng = np.random.default_rng(11)
        for shape in ((4, 4), (3, 5), (5, 1), (1, 1)):
            z = draw_value(rng, shape, frozenset({"complex"}), scale)
            re, im = np.abs(z.real), np.abs(z.imag)
            # both parts of the size of the whole, not one of them negligible
            assert np.linalg.norm(im) > 0.2 * np.linalg.norm(z) and np.linalg.norm(re) > 0.2 * np.linalg.norm(z)
            if shape == (1, 1):  # a scalar's phase stays at least pi/8 from both axes
                assert min(re.item(), im.item()) > np.sin(np.pi / 8) * abs(z.item()) - 1e-15
            if shape[0] == shape[1] > 1:
                assert np.linalg.norm(z - z.conj().T) > 0.1 * np.linalg.norm(z)  # not Hermitian
                assert np.linalg.norm(z - z.T) > 0.1 * np.linalg.norm(z)  # not complex symmetric
                assert np.linalg.norm(z.conj().T @ z - np.eye(4)) > 0.1  # not unitary


def test_hermitian_draws_are_indefinite_and_definite_and_never_real():
    kinds = set()
    for s in _complex_forms({"hermitian"}, count=9):
        np.testing.assert_allclose(s, s.conj().T, atol=1e-14)
        # a definite draw is c I plus a Hermitian deviation (eigenvalues in [1, 2]): its imaginary part is the
        # deviation's, several percent of the whole, which is still 10^6 times the checker's tolerance
        assert np.linalg.norm(s.imag) > 0.05 * np.linalg.norm(s)
        ev = np.linalg.eigvalsh(s)
        kinds.add("indefinite" if ev.min() < 0 < ev.max() else "positive" if ev.min() > 0 else "negative")
    assert kinds == {"indefinite", "positive", "negative"}
    assert all(np.linalg.eigvalsh(s).min() > 0.5 for s in _complex_forms({"hpd"}))
    mins = [np.linalg.eigvalsh(s).min() for s in _complex_forms({"hpsd"})]
    assert min(mins) < 1e-12 and max(mins) > 0.5


def test_unitary_draws_are_unitary_and_not_real():
    for u in _complex_forms({"unitary"}):
        np.testing.assert_allclose(u.conj().T @ u, np.eye(4), atol=1e-13)
        assert np.linalg.norm(u.imag) > 0.3


def _complex_chains(seed):
    """A random conformable product of 2-4 complex matrices, each maybe conjugate-transposed."""
    rng = random.Random(seed)
    count = rng.randint(2, 4)
    names = ["A", "B", "D", "E"][:count]
    dims = [rng.choice("mnpq") for _ in range(count + 1)]
    h = [rng.random() < 0.5 for _ in names]
    where = ", ".join(rf"{n} \in {C}^{{{dims[i + 1] if h[i] else dims[i]} \times {dims[i] if h[i] else dims[i + 1]}}}"
                      for i, n in enumerate(names))
    return names, h, where


@pytest.mark.parametrize("seed", range(8))
def test_a_conjugate_transpose_slip_is_refuted(seed):
    """(A_1 ... A_k)^H = A_k^H ... A_1^H holds; with one H written as T, or one conjugate dropped, it is refuted."""
    names, h, where = _complex_chains(seed)
    factor = [f"{n}^H" if hi else n for n, hi in zip(names, h)]
    lhs = rf"\left({' '.join(factor)}\right)^H"
    flipped = [n if hi else f"{n}^H" for n, hi in zip(names, h)][::-1]
    assert verdict(f"{lhs} = {' '.join(flipped)}", where).holds
    for k in range(len(names)):
        t_for_h = list(flipped)
        t_for_h[k] = t_for_h[k].replace("^H", "^T") if "^H" in t_for_h[k] else t_for_h[k] + "^T"
        assert verdict(f"{lhs} = {' '.join(t_for_h)}", where).status == "refuted", t_for_h
        dropped = list(flipped)
        dropped[k] = rf"\overline{{{dropped[k]}}}"
        assert verdict(f"{lhs} = {' '.join(dropped)}", where).status == "refuted", dropped


@pytest.mark.parametrize("seed", range(6))
def test_wirtinger_derivatives_of_generated_forms(seed):
    """For f = tr(M Z N Z^H) (real when M, N are Hermitian), ∂f/∂Z = M^T Z̄ N^T, ∂f/∂Z̄ = M Z N,
    the complex gradient is 2 M Z N, and each slip (a conjugate dropped, T for H, the other
    Wirtinger derivative) is refuted, in both layouts (the numerator one is the transpose)."""
    rng = random.Random(seed)
    m, n = rng.choice("mn"), rng.choice("pq")
    space = lambda d: rf"\mathbb{{H}}^{{{d}}}" if rng.random() < 0.5 else rf"{C}^{{{d} \times {d}}}"  # noqa: E731
    where = rf"Z \in {C}^{{{m} \times {n}}}, M \in {space(m)}, N \in {space(n)}"
    f = r"\operatorname{tr}(M Z N Z^H)"
    true = {"denominator": [(r"\frac{\partial %s}{\partial Z} = M^T \bar{Z} N^T" % f),
                            (r"\frac{\partial %s}{\partial \bar{Z}} = M Z N" % f)],
            "numerator": [(r"\frac{\partial %s}{\partial Z} = N \bar{Z}^T M" % f),
                          (r"\frac{\partial %s}{\partial \bar{Z}} = N^T Z^T M^T" % f)]}
    false = [r"\frac{\partial %s}{\partial Z} = M^T Z N^T" % f, r"\frac{\partial %s}{\partial Z} = M Z N" % f,
             r"\frac{\partial %s}{\partial \bar{Z}} = M \bar{Z} N" % f, r"\frac{\partial %s}{\partial \bar{Z}} = M^T \bar{Z} N^T" % f,
             r"\frac{\partial %s}{\partial Z} = M^H \bar{Z} N^H" % f]
    for layout, formulas in true.items():
        for formula in formulas:
            assert verdict(formula, where, layout).holds, (formula, layout)
    for formula in false:
        assert verdict(formula, where).status == "refuted", formula
    if "H" in where.split("M")[1].split(",")[0] and "H" in where.split("N ")[1]:
        assert verdict(r"\nabla_Z %s = 2 M Z N" % f, where).holds  # real f: 2 ∂f/∂Z̄
        assert verdict(r"\nabla_Z %s = 2 M^T \bar{Z} N^T" % f, where).status == "refuted"


def test_wirtinger_derivatives_follow_their_definitions():
    """∂/∂z and ∂/∂z̄ are ½(∂/∂x ∓ i ∂/∂y) by the real and imaginary parts, for holomorphic and non-holomorphic f."""
    where = rf"z \in {C}, Z \in {C}^{{n \times n}}, A \in {C}^{{n \times n}}"
    for f in (r"z^3 \bar{z}", r"\exp(z) + |z|^2", r"\operatorname{tr}(A Z^H Z)", r"\det(Z) + \operatorname{tr}(\bar{Z})"):
        var = "Z" if "Z" in f else "z"
        parts = rf"\frac{{\partial {f}}}{{\partial \Re {var}}}", rf"\frac{{\partial {f}}}{{\partial \Im {var}}}"
        assert verdict(rf"\frac{{\partial {f}}}{{\partial {var}}} = \frac{{1}}{{2}} ({parts[0]} - i {parts[1]})", where).holds
        assert verdict(rf"\frac{{\partial {f}}}{{\partial \bar{{{var}}}}} = \frac{{1}}{{2}} ({parts[0]} + i {parts[1]})", where).holds
        assert verdict(rf"\frac{{\partial {f}}}{{\partial {var}}} = \frac{{1}}{{2}} ({parts[0]} + i {parts[1]})", where).status == "refuted"
    # holomorphic: ∂f/∂z̄ = 0 and ∂f/∂z the ordinary derivative
    assert verdict(r"\frac{\partial \det(Z)}{\partial \bar{Z}} = 0", where).holds
    assert verdict(r"\frac{\partial \det(Z)}{\partial Z} = \det(Z) Z^{-T}", where).holds
    assert verdict(r"\frac{\partial \det(Z)}{\partial Z} = \det(Z) Z^{-H}", where).status == "refuted"


def test_a_complex_differential_varies_along_a_complex_direction():
    where = rf"Z \in {C}^{{n \times m}}, A \in {C}^{{n \times n}} \text{{ constant}}"
    assert verdict(r"\partial (Z^H A Z) = (\partial Z)^H A Z + Z^H A \partial Z", where).holds
    assert verdict(r"\partial (Z^H A Z) = (\partial \bar{Z})^T A Z + Z^H A \partial Z", where).holds
    assert verdict(r"\partial (Z^H A Z) = (\partial Z)^T A Z + Z^H A \partial Z", where).status == "refuted"
    assert verdict(r"\partial (Z^H A Z) = Z^H A \partial Z", where).status == "refuted"


@pytest.mark.parametrize("formula, where, message", [
    (r"Z^* = \bar{Z}", rf"Z \in {C}^{{n \times n}}", "ambiguous"),
    (r"\frac{\partial \operatorname{tr}(Z)}{\partial Z^*} = 0", rf"Z \in {C}^{{n \times n}}", "ambiguous"),
    (r"X = X", rf"X \in {C}^{{n \times n}} \text{{ symmetric}}", "complex"),
    (r"X = X", r"X \in \mathbb{R}^{n \times n} \text{ unitary}", "real"),
    (r"\frac{\partial^2 z \bar{z}}{\partial z^2} = 0", rf"z \in {C}", "second derivatives"),
    (r"\nabla_{\bar{z}} z = 0", rf"z \in {C}", "gradient"),
    # a real function symbol of a complex value would be holomorphic, hiding the ∂/∂ū term of this chain rule
    (r"\frac{\partial g(u)}{\partial x} = \frac{\partial g(u)}{\partial u} \frac{\partial u}{\partial x}",
     rf"x \in {C}, u : {R} \to {R}, g : {R} \to {R}", "declare its domain"),
])
def test_complex_notation_that_would_be_a_guess_is_refused(formula, where, message):
    v = verdict(formula, where)
    assert v.status == "cannot check" and message in v.message, v


COMPLEX_NOTATION = [
    (r"i^2 = -1", r"i^2 = 1", ""),
    (r"(1 + i)^2 = 2 i", r"(1 + i)^2 = 2", ""),
    # a size letter i stays a size (a real number), not the imaginary unit
    (r"(1 + i)^2 = 1 + 2 i + i^2", r"(1 + i)^2 = 2 i", rf"x \in {C}^{{i}}"),
    (r"|z|^2 = z \bar{z}", r"|z|^2 = z^2", rf"z \in {C}"),
    (r"x^H x = \|x\|^2", r"x^T x = \|x\|^2", rf"x \in {C}^{{n}}"),
    (r"U^H U = I", r"U^T U = I", rf"U \in {C}^{{n \times n}} \text{{ unitary}}"),
    (r"A^H = A", r"A^T = A", r"A \in \mathbb{H}^{n}"),
    (r"\operatorname{Re}(z) = \frac{z + \bar{z}}{2}", r"\operatorname{Re}(z) = \frac{z + z^*}{2 i}", rf"z \in {C}"),
    (r"\Im z = \frac{z - z^*}{2 i}", r"\Im z = \frac{z - z^*}{2}", rf"z \in {C}"),
    (r"\frac{\partial \log\det(A)}{\partial A} = A^{-T}", r"\frac{\partial \log\det(A)}{\partial A} = A^{-1}",
     r"A \in \mathbb{H}^{n}_{++}"),
    (r"\overline{A B} = \bar{A} \bar{B}", r"\overline{A B} = \bar{A} B", rf"A, B \in {C}^{{n \times n}}"),
]


@pytest.mark.parametrize("true, false, where", COMPLEX_NOTATION)
def test_complex_notation(true, false, where):
    v = verdict(true, where)
    assert v.holds, v
    assert verdict(false, where).status == "refuted"


@pytest.mark.parametrize("true, false, where", COMPLEX_NOTATION[::3])
def test_numpy_replay_and_jax_agree_on_complex_checks(true, false, where):
    test_numpy_replay_and_jax_agree_on_every_traced_check(true, false, where)


@pytest.mark.parametrize("shape", ["", "^{n}"])
def test_complex_function_symbols_are_not_analytic(shape):
    """A complex function symbol is a smooth function of the real and imaginary parts: its derivative
    by the conjugate is not zero, so a chain rule without the ∂/∂ū term is refuted."""
    where = rf"z \in {C}{shape}, u : {C}{shape} \to {C}, g : {C} \to {C}"
    assert verdict(r"\frac{\partial u}{\partial \bar{z}} = 0", where).status == "refuted"
    full = (r"\frac{\partial g(u)}{\partial z} = \frac{\partial g(u)}{\partial u} \frac{\partial u}{\partial z}"
            r" + \frac{\partial g(u)}{\partial \bar{u}} \frac{\partial \bar{u}}{\partial z}")
    assert verdict(full, where).holds
    assert verdict(full.split(" + ")[0], where).status == "refuted"


@pytest.mark.parametrize("props, test", [
    ({"hermitian", "diagonal"}, lambda a: np.allclose(a, a.conj().T) and np.allclose(a, np.diag(np.diag(a)))),
    ({"hpd", "diagonal"}, lambda a: np.allclose(a, np.diag(np.diag(a))) and np.all(np.diag(a).real > 0)
     and np.allclose(a.imag, 0)),
    ({"unitary", "diagonal"}, lambda a: np.allclose(a.conj().T @ a, np.eye(4)) and np.allclose(a, np.diag(np.diag(a)))
     and np.linalg.norm(a.imag) > 0.3),
    ({"diagonal"}, lambda a: np.allclose(a, np.diag(np.diag(a))) and np.all(np.abs(np.diag(a).imag) > 0.1)),
])
def test_complex_structures_combine(props, test):
    assert all(test(a) for a in _complex_forms(props))


# ----- Toeplitz structure ----------------------------------------------------------------------

def test_toeplitz_draws_are_toeplitz_and_symmetric_only_when_declared():
    for props, symmetric in (({"toeplitz"}, False), ({"toeplitz", "symmetric"}, True)):
        for t in _forms(props, n=5):
            assert np.allclose(t[1:, 1:], t[:-1, :-1])  # constant along every diagonal
            assert np.allclose(t, t.T) == symmetric
            assert len(np.unique(np.round(t[:, 0], 12))) == 5  # no two diagonals share a value


TOEPLITZ = rf"A \in {R}^{{n \times n}}, T \in {R}^{{n \times n}} \text{{ Toeplitz}}"
SYM_TOEPLITZ = rf"A \in {R}^{{n \times n}}, T \in \mathbb{{S}}^{{n}} \text{{ Toeplitz}}"
BY_T = r"\frac{\partial \operatorname{tr}(A T)}{\partial \operatorname{toeplitz}(T)} = "


@pytest.mark.parametrize("wrong, where", [
    (BY_T + "A^T", TOEPLITZ),  # the unstructured gradient
    (BY_T + r"\alpha(A^T)", TOEPLITZ),  # the diagonals of A rather than of A^T
    (BY_T + r"\alpha(A)", SYM_TOEPLITZ),  # the general rule applied to a symmetric Toeplitz matrix
    (BY_T + r"\alpha(A) + \alpha(A)^T - \alpha(A) \circ I", TOEPLITZ),  # the symmetric rule applied to a general one
])
def test_wrong_toeplitz_structure_is_refuted(wrong, where):
    assert verdict(wrong, where).status == "refuted"


@pytest.mark.parametrize("where", [rf"A \in {R}^{{n \times n}}, T \in {R}^{{n \times n}}",
                                   rf"A \in {R}^{{n \times n}}, T \in \mathbb{{S}}^{{n}}_{{++}} \text{{ Toeplitz}}",
                                   rf"A \in {R}^{{n \times n}}, T \in {R}^{{n \times m}} \text{{ Toeplitz}}"])
def test_a_derivative_by_toeplitz_needs_a_plain_toeplitz_declaration(where):
    v = verdict(BY_T + r"\alpha(A)", where)
    assert v.status == "cannot check" and "toeplitz" in v.message.lower(), v
