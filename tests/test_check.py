"""The checker: known-true and known-false identities, mutants, verdict fields and the CLI."""

import json
import os
from dataclasses import replace

import numpy as np
import pytest

import matref
from matref.cli import main
from mutants import mutants

R = r"\mathbb{R}"
X_A = rf"x \in {R}^{{n}}, A \in {R}^{{n \times n}}"
MAT = rf"A \in {R}^{{m \times n}}, B \in {R}^{{n \times m}}, X \in {R}^{{n \times n}}"

TRUE = [
    (r"\frac{\partial x^T A x}{\partial x} = (A + A^T) x", X_A, "denominator"),
    (r"\frac{\partial x^T A x}{\partial x} = x^T (A + A^T)", X_A, "numerator"),
    (r"\frac{\partial x^T A x}{\partial x} = 2 A x", rf"x \in {R}^{{n}}, A \in \mathbb{{S}}^{{n}}", "denominator"),
    (r"\frac{\partial a^T x}{\partial x} = a", rf"x, a \in {R}^{{n}}", "denominator"),
    (r"\frac{\partial \|x\|_2}{\partial x} = \frac{x}{\|x\|_2}", rf"x \in {R}^{{n}}", "denominator"),
    (r"\frac{\partial \operatorname{tr}(A X B)}{\partial X} = A^T B^T",
     rf"A \in {R}^{{p \times m}}, X \in {R}^{{m \times n}}, B \in {R}^{{n \times p}}", "denominator"),
    (r"\frac{\partial \log |\det X|}{\partial X} = X^{-T}", rf"X \in {R}^{{n \times n}}", "denominator"),
    (r"\frac{\partial \log \det X}{\partial X} = X^{-1}", rf"X \in \mathbb{{S}}^{{n}}_{{++}}", "denominator"),
    (r"\frac{\partial \operatorname{tr}(X^{-1})}{\partial X} = -(X^{-2})^T", rf"X \in {R}^{{n \times n}}", "denominator"),
    (r"\partial (X Y) = (\partial X) Y + X \partial Y", rf"X \in {R}^{{m \times n}}, Y \in {R}^{{n \times p}}", "denominator"),
    (r"\partial(X^{-1}) = -X^{-1} (\partial X) X^{-1}", rf"X \in {R}^{{n \times n}}", "denominator"),
    (r"\partial \det X = \det(X) \operatorname{tr}(X^{-1} \partial X)", rf"X \in {R}^{{n \times n}}", "denominator"),
    (r"\partial (X \otimes Y) = \partial X \otimes Y + X \otimes \partial Y", rf"X \in {R}^{{m \times n}}, Y \in {R}^{{p \times q}}", "denominator"),
    (r"\partial (X \circ Y) = \partial X \circ Y + X \circ \partial Y", rf"X, Y \in {R}^{{m \times n}}", "denominator"),
    (r"\frac{\partial \operatorname{vec}(A X B)}{\partial \operatorname{vec}(X)^T} = B^T \otimes A",
     rf"A \in {R}^{{m \times n}}, X \in {R}^{{n \times p}}, B \in {R}^{{p \times q}}", "denominator"),
    (r"\frac{\partial^2 \log(1 + \exp(a^T x))}{\partial x \partial x^T} = \sigma(a^T x) (1 - \sigma(a^T x)) a a^T",
     rf"x, a \in {R}^{{n}}", "denominator"),
    (r"\frac{\partial \sigma(x)}{\partial x} = \operatorname{diag}(\sigma(x) \odot (\mathbf{1} - \sigma(x)))",
     rf"x \in {R}^{{n}}", "denominator"),
    (r"\frac{d}{d t} \operatorname{expm}(t A) = A \operatorname{expm}(t A)", rf"t \in {R}, A \in {R}^{{n \times n}}", "denominator"),
    (r"\frac{\partial Q x}{\partial x} = Q^T", rf"x \in {R}^{{n}}, Q \in {R}^{{n \times n}} \text{{ orthogonal}}", "denominator"),
    (r"\frac{\partial z(y)}{\partial x} = \frac{\partial y}{\partial x} \frac{\partial z(y)}{\partial y}",
     rf"x \in {R}^{{n}}, y : {R}^{{n}} \to {R}^{{n}}, z : {R}^{{n}} \to {R}^{{n}}", "denominator"),
    (r"Q^T Q = I", rf"Q \in {R}^{{n \times n}} \text{{ orthogonal}}", "denominator"),
    (r"\frac{\partial}{\partial x} (u^T v) = \frac{\partial u}{\partial x} v + \frac{\partial v}{\partial x} u",
     rf"x \in {R}^{{n}}, u, v : {R}^{{n}} \to {R}^{{m}}", "denominator"),
    (r"\frac{\partial \operatorname{tr}(u u^T)}{\partial x} = 2 \frac{\partial u}{\partial x} u",
     rf"x \in {R}^{{n}}, u : {R}^{{n}} \to {R}^{{m}}", "denominator"),
    (r"X^{3} = X X X", rf"X \in {R}^{{n \times n}}", "denominator"),
    (r"X^{k} X = X^{4}", rf"X \in {R}^{{n \times n}}, k = 3", "denominator"),
    (r"\frac{\partial \operatorname{tr}(X^{k})}{\partial X} = k (X^{k-1})^T", rf"X \in {R}^{{n \times n}}, k = 3", "denominator"),
    (r"\partial(X^{k}) = \sum_{r=0}^{k-1} X^{r} (\partial X) X^{k-1-r}", rf"X \in {R}^{{n \times n}}, k = 4", "denominator"),
    (r"\frac{\partial X^{k}}{\partial X_{ij}} = \sum_{r=0}^{k-1} X^{r} J^{ij} X^{k-1-r}", rf"X \in {R}^{{n \times n}}, k = 3", "denominator"),
    (r"\frac{\partial a^T X b}{\partial X_{ij}} = a^T J^{ij} b", rf"a \in {R}^{{m}}, X \in {R}^{{m \times n}}, b \in {R}^{{n}}", "numerator"),
    (r"\frac{\partial \operatorname{tr}(A X)}{\partial \operatorname{vech}(X)} = \operatorname{vech}(A + A^T - A \circ I)",
     rf"A \in {R}^{{n \times n}}, X \in \mathbb{{S}}^{{n}}", "denominator"),
]

C = r"\mathbb{C}"
# Complex identities: Wirtinger derivatives, conjugate transposes, Hermitian and unitary inputs.
TRUE += [
    (r"\frac{\partial \operatorname{tr}(Z^H Z)}{\partial Z} = \overline{Z}", rf"Z \in {C}^{{m \times n}}", "denominator"),
    (r"\frac{\partial \operatorname{tr}(Z^H Z)}{\partial \bar{Z}} = Z^T", rf"Z \in {C}^{{m \times n}}", "numerator"),
    (r"\frac{\partial \det(Z)}{\partial Z} = \det(Z) Z^{-T}", rf"Z \in {C}^{{n \times n}}", "denominator"),
    (r"\frac{\partial x^H A x}{\partial \bar{x}} = A x", rf"x \in {C}^{{n}}, A \in {C}^{{n \times n}}", "denominator"),
    (r"\nabla_x \|A x - b\|^{2} = 2 A^H (A x - b)", rf"x \in {C}^{{n}}, A \in {C}^{{m \times n}}, b \in {C}^{{m}}", "numerator"),
    (r"\partial (Z^H A Z) = (\partial Z)^H A Z + Z^H A \partial Z", rf"Z \in {C}^{{n \times m}}, A \in {C}^{{n \times n}} \text{{ constant}}", "denominator"),
    (r"\frac{\partial \log \det A}{\partial A} = \overline{A^{-1}}", r"A \in \mathbb{H}^{n}_{++}", "denominator"),
    (r"(U x)^H U y = x^H y", rf"x, y \in {C}^{{n}}, U \in {C}^{{n \times n}} \text{{ unitary}}", "denominator"),
]

FALSE = [
    # complex: a dropped conjugate, H for T, the other Wirtinger derivative, JAX's convention for the gradient
    (r"\frac{\partial \operatorname{tr}(Z^H Z)}{\partial Z} = Z", rf"Z \in {C}^{{m \times n}}", "denominator"),
    (r"\frac{\partial \det(Z)}{\partial Z} = \det(Z) Z^{-H}", rf"Z \in {C}^{{n \times n}}", "denominator"),
    (r"\frac{\partial x^H A x}{\partial x} = A x", rf"x \in {C}^{{n}}, A \in \mathbb{{H}}^{{n}}", "denominator"),
    (r"\nabla_x \|A x - b\|^{2} = 2 A^T \overline{(A x - b)}", rf"x \in {C}^{{n}}, A \in {C}^{{m \times n}}, b \in {C}^{{m}}", "denominator"),
    (r"(U x)^T U y = x^T y", rf"x, y \in {C}^{{n}}, U \in {C}^{{n \times n}} \text{{ unitary}}", "denominator"),
    # missing factor 2 / wrong scale
    (r"\frac{\partial x^T x}{\partial x} = x", rf"x \in {R}^{{n}}", "denominator"),
    # A instead of A^T at non-symmetric inputs
    (r"\frac{\partial \operatorname{tr}(A X)}{\partial X} = A", rf"A, X \in {R}^{{n \times n}}", "denominator"),
    (r"\frac{\partial x^T A x}{\partial x} = 2 A x", X_A, "denominator"),
    (r"\frac{\partial \log |\det X|}{\partial X} = X^{-1}", rf"X \in {R}^{{n \times n}}", "denominator"),
    # wrong layout: the numerator answer in denominator layout (square, so only numbers tell)
    (r"\frac{\partial A x}{\partial x} = A", rf"x \in {R}^{{n}}, A \in {R}^{{n \times n}}", "denominator"),
    (r"\frac{\partial x^T A x}{\partial x} = (A + A^T) x", X_A, "numerator"),
    # transposition errors
    (r"\nabla_A \operatorname{tr}(A B A^T C) = C A B + C A^T B", rf"A, B, C \in {R}^{{n \times n}}", "denominator"),
    (r"\partial(X^{-1}) = -X^{-T} (\partial X) X^{-1}", rf"X \in {R}^{{n \times n}}", "denominator"),
    # a sign
    (r"\partial(X^{-1}) = X^{-1} (\partial X) X^{-1}", rf"X \in {R}^{{n \times n}}", "denominator"),
    # a missing term of a product rule
    (r"\frac{\partial}{\partial x} (u^T v) = \frac{\partial u}{\partial x} v", rf"x \in {R}^{{n}}, u, v : {R}^{{n}} \to {R}^{{m}}", "denominator"),
    # the chain rule in the wrong order (square Jacobians, so shapes do not catch it)
    (r"\frac{\partial z(y)}{\partial x} = \frac{\partial z(y)}{\partial y} \frac{\partial y}{\partial x}",
     rf"x \in {R}^{{n}}, y : {R}^{{n}} \to {R}^{{n}}, z : {R}^{{n}} \to {R}^{{n}}", "denominator"),
    # an off-by-one exponent inside a sum
    (r"\partial(X^{k}) = \sum_{r=0}^{k-1} X^{r} (\partial X) X^{k-r}", rf"X \in {R}^{{n \times n}}, k = 3", "denominator"),
    # the single-entry matrix transposed, caught at the (i, j) with i != j
    (r"\frac{\partial X}{\partial X_{ij}} = J^{ji}", rf"X \in {R}^{{n \times n}}", "denominator"),
    # the symmetric-matrix rule without removing the doubled diagonal
    (r"\frac{\partial \operatorname{tr}(A X)}{\partial \operatorname{vech}(X)} = \operatorname{vech}(A + A^T)",
     rf"A \in {R}^{{n \times n}}, X \in \mathbb{{S}}^{{n}}", "denominator"),
    # vec is column-major, not row-major
    (r"\operatorname{vec}(A X B) = (A \otimes B^T) \operatorname{vec}(X)",
     rf"A \in {R}^{{n \times n}}, X \in {R}^{{n \times n}}, B \in {R}^{{n \times n}}", "denominator"),
]


@pytest.mark.parametrize("formula, where, layout", TRUE)
def test_true_identities_hold(formula, where, layout):
    verdict = matref.check(formula, where, layout)
    assert verdict.status == "holds", str(verdict)
    assert verdict.max_rel_error <= verdict.tolerance


@pytest.mark.parametrize("formula, where, layout", FALSE)
def test_false_identities_are_refuted(formula, where, layout):
    verdict = matref.check(formula, where, layout)
    assert verdict.status == "refuted", str(verdict)


@pytest.mark.parametrize("formula, where, layout", TRUE)
def test_every_mutant_of_a_true_identity_is_refuted(formula, where, layout):
    found = mutants(formula, where, layout)
    assert found, "each identity should have at least one non-equivalent mutant"
    for name, mutated in found:
        verdict = matref.check(mutated, where, layout)
        assert verdict.status == "refuted", f"{name} mutant {mutated!r} was not refuted: {verdict}"


# true at odd n only, so at the first size plan (n = 3) and refuted at a later one
LATE = [(r"\det(-X) = -\det(X)", rf"X \in {R}^{{n \times n}}", "denominator")]


@pytest.mark.parametrize("formula, where, layout", TRUE[::2] + FALSE[::2] + LATE)  # each runs every check twice
def test_a_quick_check_agrees_with_the_full_one_and_stops_at_the_first_refuting_plan(formula, where, layout):
    """`quick` may only save work: the same status as the full check, for true and false identities
    and for every mutant of a true one; a refutation traces plans 0..k only, k the plan it reports."""
    from matref._check import _traced, clear_cache
    cases = [formula] + ([m for _, m in mutants(formula, where, layout)] if (formula, where, layout) in TRUE else [])
    for f in cases:
        clear_cache()
        quick = matref.check(f, where, layout, quick=True)
        traced = sorted(_traced(f, where, layout).programs) if quick.draws else []  # none: refuted by shapes
        full = matref.check(f, where, layout)
        assert quick.status == full.status, f"{f}: quick {quick}; full {full}"
        if quick.status == "refuted" and traced:
            assert traced == list(range(len(traced))), (f, traced)
            assert quick.sizes == full.drawn_sizes[traced[-1]], (f, traced, quick.sizes)


def test_refuted_verdict_says_by_how_much_and_where():
    v = matref.check(r"\frac{\partial x^T A x}{\partial x} = 2 A x", X_A)
    assert v.exit_code == 1 and not v.holds
    assert 1e-3 < v.max_rel_error < 10
    assert f"differ by {v.max_rel_error:.1e}" in v.message
    assert any("entry (" in d for d in v.details)


def test_identity_chains_check_every_pair():
    where = rf"A \in {R}^{{m \times n}}, B \in {R}^{{n \times p}}, C \in {R}^{{p \times m}}"
    assert matref.check(r"\operatorname{tr}(ABC) = \operatorname{tr}(CAB) = \operatorname{tr}(BCA)", where).holds
    v = matref.check(r"\operatorname{tr}(ABC) = \operatorname{tr}(CAB) = 2 \operatorname{tr}(BCA)", where)
    assert v.status == "refuted" and "side 2 and side 3" in v.message


def test_inputs_outside_the_domain_give_cannot_check():
    v = matref.check(r"\frac{\partial \mathbf{1}^T \log(x)}{\partial x} = \mathbf{1}", rf"x \in {R}^{{n}}")
    assert v.status == "cannot check" and "not finite" in v.message
    assert matref.check(r"\frac{\partial \mathbf{1}^T \log(x)}{\partial x} = \mathbf{1}", rf"x \in {R}^{{n}} \text{{ positive}}").status \
        == "refuted"  # the gradient is 1/x, not 1


def test_a_draw_is_reproducible_and_seeds_change_it():
    f, w = r"\frac{\partial x^T A x}{\partial x} = 2 A x", X_A
    assert matref.check(f, w, seed=1).max_rel_error == matref.check(f, w, seed=1).max_rel_error
    assert matref.check(f, w, seed=1).max_rel_error != matref.check(f, w, seed=2).max_rel_error


# ----- CLI ------------------------------------------------------------------------------------------

QUAD = r"\frac{\partial x^T A x}{\partial x} = (A + A^T) x"
WRONG = r"\frac{\partial x^T A x}{\partial x} = 2 A x"


@pytest.mark.parametrize("argv, code, text", [
    (["check", QUAD, "--where", X_A], 0, "holds"),
    (["check", WRONG, "--where", X_A], 1, "refuted: the two sides differ by"),
    (["check", WRONG, "--where", rf"x \in {R}^{{n}}, A \in \mathbb{{S}}^{{n}}"], 0, "holds"),
    (["check", QUAD, "--where", X_A, "--layout", "numerator"], 1, "refuted"),
    (["check", r"\frac{\partial u^T v}{\partial x} = \frac{\partial u^T}{\partial x} v + \frac{\partial v^T}{\partial x} u^T",
      "--where", rf"x \in {R}^{{n}}, u, v : {R}^{{n}} \to {R}^{{m}}"], 1, "does not conform: n×m times 1×m"),
    (["check", QUAD, "--where", rf"x \in {R}^{{n}}"], 2, "A is not declared"),
    (["check", r"\frac{\partial x}{", "--where", X_A], 2, "syntax error"),
    (["check", QUAD, "--where", X_A, "--draws", "0"], 2, "--draws"),
])
def test_cli_check_exit_status_and_message(argv, code, text, capsys):
    assert main(argv) == code
    out = capsys.readouterr()
    assert text in out.out + out.err


def test_cli_check_json_is_machine_readable(capsys):
    assert main(["check", WRONG, "--where", X_A, "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["status"] == "refuted" and data["holds"] is False and data["max_rel_error"] > 1e-3
    assert data["sizes"] in data["drawn_sizes"] and set(data["sizes"]) == {"n"}  # the sizes of the refuting draw


def test_cli_bad_usage_exits_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["check"])
    assert info.value.code == 2
    assert main(["show", "no-such-id"]) == 2
    assert "no identity with id" in capsys.readouterr().err


def test_cli_check_snippet_prints_a_script_that_runs(capsys):
    assert main(["check", QUAD, "--where", X_A, "--snippet"]) == 0
    script = capsys.readouterr().out
    assert script.startswith("# ") and "jax.grad" in script
    namespace: dict = {}
    exec(compile(script, "<snippet>", "exec"), namespace)  # the printed text, verbatim
    assert main(["check", WRONG, "--where", X_A, "--snippet"]) == 0
    wrong = capsys.readouterr().out
    with pytest.raises(AssertionError):
        exec(compile(wrong, "<snippet>", "exec"), {})


# ----- random inputs honour the declarations ----------------------------------------------------------

def _draws(props, shape=(4, 4), count=20):
    import numpy as np
    from matref._numeric import draw_value
    rng = np.random.default_rng(7)
    return [draw_value(rng, shape, frozenset(props)) for _ in range(count)]


def test_general_square_inputs_are_well_conditioned_and_never_symmetric():
    import numpy as np
    for a in _draws(()):
        assert np.linalg.cond(a) <= 2.0 + 1e-9  # singular values drawn in [1, 2]
        assert np.abs(a - a.T).max() > 1e-3
        assert np.abs(a - np.diag(np.diag(a))).max() > 1e-3


@pytest.mark.parametrize("props, test", [
    ({"symmetric"}, lambda a, np: np.allclose(a, a.T) and np.linalg.cond(a) <= 2.0 + 1e-9),
    ({"spd"}, lambda a, np: np.allclose(a, a.T) and np.linalg.eigvalsh(a).min() >= 1.0 - 1e-12),
    ({"orthogonal"}, lambda a, np: np.allclose(a.T @ a, np.eye(len(a)))),
    ({"diagonal"}, lambda a, np: np.allclose(a, np.diag(np.diag(a))) and np.abs(np.diag(a)).min() >= 1.0),
    ({"positive"}, lambda a, np: a.min() > 0),
])
def test_declared_properties_are_honoured(props, test):
    import numpy as np
    assert all(test(a, np) for a in _draws(props))


def test_vectors_and_scalars_honour_unit_and_positive():
    import numpy as np
    assert all(abs(np.linalg.norm(v) - 1) < 1e-12 for v in _draws({"unit"}, (5, 1)))
    assert all(v.min() > 0 for v in _draws({"positive"}, (5, 1)))
    assert all(s[0, 0] > 0 for s in _draws({"positive"}, (1, 1)))
    assert any(s[0, 0] < 0 for s in _draws((), (1, 1)))


def test_each_dimension_letter_gets_a_distinct_size_other_than_1():
    ident = matref.parse_identity(r"A B C = A B C", rf"A \in {R}^{{m \times n}}, B \in {R}^{{n \times p}}, C \in {R}^{{p \times q}}")
    sizes = list(ident.sizes.values())
    assert len(set(sizes)) == len(sizes) == 4 and 1 not in sizes


@pytest.mark.parametrize("user", ["", "--xla_cpu_enable_fast_math=false", "--xla_backend_optimization_level=2"])
def test_compile_quickly_adds_its_flags_and_keeps_the_users(user, monkeypatch):
    from matref._numeric import QUICK_COMPILE, compile_quickly
    monkeypatch.setenv("XLA_FLAGS", user)
    compile_quickly()
    flags = os.environ["XLA_FLAGS"].split()
    assert set(user.split()) <= set(flags)
    for f in QUICK_COMPILE:  # each option once: the user's value wins over ours
        assert sum(x.split("=")[0] == f.split("=")[0] for x in flags) == 1
# ----- what jax.grad returns for complex inputs (the Conventions page states it; checked here) -----

def _complex_functions():
    import jax.numpy as jnp
    return [lambda z: jnp.real(z * jnp.conj(z)), lambda z: jnp.real(z ** 2 * jnp.conj(z) * (1 + 2j)),
            lambda z: jnp.abs(jnp.exp(z) - 1j) ** 2, lambda z: jnp.imag(jnp.sin(z) * jnp.conj(z))]


@pytest.mark.parametrize("k", range(4))
@pytest.mark.parametrize("z", [3 + 4j, -0.3 + 0.7j, 1.5 - 0.2j])
def test_jax_grad_of_a_real_function_of_a_complex_variable_is_twice_the_wirtinger_derivative(k, z):
    """jax.grad(f)(z) = ∂f/∂x − i ∂f/∂y = 2 ∂f/∂z, the conjugate of the complex gradient 2 ∂f/∂z̄
    that matref's ∇ gives (its Wirtinger derivatives come from the real and imaginary partials)."""
    import jax
    import jax.numpy as jnp
    from matref._numeric import _wirtinger

    f = _complex_functions()[k]
    z0 = jnp.asarray([[z]])
    g = lambda v: (f(v[0, 0]).reshape(1, 1), f(v[0, 0]).reshape(1, 1))  # noqa: E731 - matref's form: value, aux
    dz = complex(_wirtinger(g, z0)[0][0, 0, 0, 0])
    gradient = complex(_wirtinger(g, z0, gradient=True)[0][0, 0, 0, 0])
    jax_grad = complex(jax.grad(f)(jnp.asarray(z)))
    assert np.isclose(jax_grad, 2 * dz, rtol=1e-12)
    assert np.isclose(jax_grad, np.conj(gradient), rtol=1e-12)
    assert not np.isclose(jax_grad, gradient, rtol=1e-6)  # genuinely the conjugate, not the same number
    h = 1e-6  # central differences by the real and imaginary parts agree with both to ~1e-9
    dx = (float(f(z + h)) - float(f(z - h))) / (2 * h)
    dy = (float(f(z + 1j * h)) - float(f(z - 1j * h))) / (2 * h)
    assert np.isclose(gradient, dx + 1j * dy, rtol=1e-6)


def test_jax_grad_of_a_holomorphic_function_is_its_complex_derivative():
    import jax
    import jax.numpy as jnp

    f = lambda z: jnp.exp(z) * z ** 3  # noqa: E731
    z = 0.4 - 1.1j
    got = complex(jax.grad(f, holomorphic=True)(jnp.asarray(z)))
    assert np.isclose(got, complex(np.exp(z) * (z ** 3 + 3 * z ** 2)), rtol=1e-12)
    with pytest.raises(TypeError):  # a complex output without holomorphic=True is refused, not guessed
        jax.grad(f)(jnp.asarray(z))


def test_a_derivative_is_traced_once_per_size_plan_for_both_layouts(monkeypatch):
    # The Jacobian is the same in both layouts (only its arrangement differs): traced once per plan.
    from matref import _check, _numeric
    _check.clear_cache()
    traced = []
    jacobian = _numeric._jacobian
    monkeypatch.setattr(_numeric, "_jacobian", lambda *a: traced.append(a) or jacobian(*a))
    for formula, where, layout in TRUE[:2]:  # x^T A x in both layouts
        assert matref.check(formula, where, layout).holds
    assert len(traced) == len(_check._traced(*TRUE[0]).plans)


@pytest.mark.parametrize("entry", matref.load_catalogue().entries[::40], ids=lambda e: e.id)
def test_sharing_derivative_traces_changes_no_number(entry, monkeypatch):
    # A shared trace is the same program: every verdict and error, to the last bit, as without it.
    from matref import _check, _numeric

    def verdicts():
        _check.clear_cache()
        return [matref.check(entry.formula_in(layout), entry.where, layout).to_dict()
                for layout in ("denominator", "numerator")]

    shared = verdicts()
    monkeypatch.setattr(_numeric, "_shared", lambda what, ctx, compute: compute(replace(ctx, tape=None)))
    assert verdicts() == shared
