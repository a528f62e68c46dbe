"""matref derive: generated scalar expressions are derived and every step (and the gradient, in both
layouts) is confirmed by the checker; every function record's differential rule is exercised; a
wrong rule is caught by the step that uses it; bad input gives a reason, never a traceback."""

from __future__ import annotations

import dataclasses
import json
import re
import shlex
import tomllib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matref._check import check
from matref._derive import derive
from matref._functions import ELEMENTWISE, FUNCTIONS, RESHAPING
from matref.cli import main

WHERE = (r"X \in \mathbb{R}^{n \times n} \text{ invertible}, A, B \in \mathbb{R}^{n \times n}, "
         r"u, v, w \in \mathbb{R}^{n}")


# ----- generated expressions --------------------------------------------------------------------
def _matrix(rng, depth: int) -> str:
    """A random n×n expression in X and the constants A, B (only X is ever inverted: it is drawn
    well conditioned, a sum need not be)."""
    leaves = ["X", "A", "B", "X^T", "X^{-1}"]
    if depth == 0 or rng.random() < 0.3:
        return leaves[rng.integers(len(leaves))]
    a, b = _matrix(rng, depth - 1), _matrix(rng, depth - 1)
    return [f"{a} {b}", f"({a} + {b})", f"({a} {b})^T", f"2 {a}", f"({a} - {b})"][rng.integers(5)]


def _scalar(rng, depth: int) -> str:
    m = _matrix(rng, depth)
    forms = [rf"\operatorname{{tr}}({m})", f"u^T {m} v", rf"\|{m}\|_F^2", f"w^T {m}^T {m} w",
             rf"\operatorname{{tr}}(\operatorname{{sinm}}({m}))", rf"\lambda_{{1}}({m} + {m}^T)"]
    s = forms[rng.integers(len(forms))]
    if rng.random() < 0.4:  # a product or sum of two scalar parts
        other = forms[rng.integers(len(forms))].replace("{m}", "").replace(m, _matrix(rng, 1))
        s = f"{s} + {other}" if rng.random() < 0.5 else f"({s}) ({other})"
    return s


def _generated(count: int) -> list[str]:
    out = []
    rng = np.random.default_rng(2026)
    while len(out) < count:
        s = _scalar(rng, 2)
        if "X" in s and s not in out:
            out.append(s)
    return out


GENERATED = _generated(12)


@pytest.mark.parametrize("expression", GENERATED)
def test_generated_expressions_derive_and_every_step_holds(expression):
    result = derive(expression, "X", WHERE)
    assert result.holds, f"{result.status}: {result.message}\n" + "\n".join(
        f"  {s.rule}: {s.formula}" for s in result.steps)
    assert all(s.holds for s in result.steps) and result.steps
    last = result.steps[-1]
    assert [v.layout for v in last.verdicts] == ["denominator", "numerator"]
    assert last.numerator and last.formula.endswith(result.gradient)


# ----- worked cases: shapes of wrt (vector, matrix, non-square), domains, collecting terms -------------
CASES = [
    ("x^T A x", "x", r"x \in \mathbb{R}^{n}, A \in \mathbb{R}^{n \times n}", r"\left(A + A^T\right) x"),
    ("x^T x", "x", r"x \in \mathbb{R}^{n}", "2 x"),
    (r"\operatorname{tr}(X^T A X)", "X", r"X \in \mathbb{R}^{n \times m}, A \in \mathbb{S}^{n}", "2 A X"),
    (r"\|X u - v\|_2^2", "X", r"X \in \mathbb{R}^{m \times n}, u \in \mathbb{R}^{n}, v \in \mathbb{R}^{m}",
     r"2 \left(X u - v\right) u^T"),
    (r"\log\det(X)", "X", r"X \in \mathbb{S}^{n}_{++}", "X^{-1}"),
    (r"\det(X)", "X", r"X \in \mathbb{R}^{n \times n}", r"\det\left(X\right) X^{-T}"),
    (r"\operatorname{tr}(X^{3})", "X", r"X \in \mathbb{R}^{n \times n}", None),
    (r"\log(1 + \exp(-y w^T x))", "w", r"w, x \in \mathbb{R}^{n}, y \in \mathbb{R}", None),
    (r"\|X\|_F", "X", r"X \in \mathbb{R}^{m \times n}", None),
    (r"a^T X^{-1} b", "X", r"X \in \mathbb{R}^{n \times n} \text{ invertible}, a, b \in \mathbb{R}^{n}", None),
    (r"x A x^T", "x", r"x \in \mathbb{R}^{1 \times n}, A \in \mathbb{R}^{n \times n}", None),
    (r"\operatorname{tr}(X - X)", "X", r"X \in \mathbb{R}^{n \times n}", "0"),
    (r"\operatorname{tr}(A)", "X", r"X, A \in \mathbb{R}^{n \times n}", "0"),  # X does not occur: 0
    (r"\|x\|_2 - \|x\|_2", "x", r"x \in \mathbb{R}^{n}", "0"),  # the collected form is 0, not 0 ∂x
    # a quotient whose differential starts with ∂X: \frac{\partial X}{t} would read as a derivative
    (r"\operatorname{tr}(\frac{X}{\operatorname{tr}(X)})", "X", r"X \in \mathbb{R}^{n \times n}", None),
    (r"\log(t)", "t", r"t \in \mathbb{R}_{+}", r"\frac{1}{t}"),
    # vectors by a vector: ∂f = M ∂x, and ∂f/∂x = Mᵀ in denominator layout (square M: shapes cannot tell)
    ("A x", "x", r"x \in \mathbb{R}^{n}, A \in \mathbb{R}^{m \times n}", "A^T"),
    ("A X x", "x", r"x \in \mathbb{R}^{n}, A, X \in \mathbb{R}^{n \times n}", "X^T A^T"),
    (r"x \odot x", "x", r"x \in \mathbb{R}^{n}", r"2 \operatorname{diag}\left(x\right)"),
    (r"\exp(x)", "x", r"x \in \mathbb{R}^{n}", r"\operatorname{diag}\left(\exp\left(x\right)\right)"),
    ("(x^T x) x", "x", r"x \in \mathbb{R}^{n}", None),
    ("x x^T a", "x", r"x, a \in \mathbb{R}^{n}", r"\left(x^T a\right) I + a x^T"),
    ("x^T A", "x", r"x \in \mathbb{R}^{n}, A \in \mathbb{R}^{n \times m}", "A"),
    (r"\frac{x}{\|x\|_2}", "x", r"x \in \mathbb{R}^{n}", None),
    # by a scalar: a vector's derivative is a row in denominator layout, a matrix's is M in both
    (r"\sin(t) a", "t", r"a \in \mathbb{R}^{n}, t \in \mathbb{R}", r"\cos\left(t\right) a^T"),
    ("t A + t^{2} B", "t", r"A, B \in \mathbb{R}^{n \times n}, t \in \mathbb{R}", "A + 2 t B"),
    # function symbols of the variable: their derivative stays a symbol, laid out in each layout
    ("u^T v", "x", r"x \in \mathbb{R}^{n}, u, v : \mathbb{R}^{n} \to \mathbb{R}^{m}",
     r"\frac{\partial u}{\partial x} v + \frac{\partial v}{\partial x} u"),
    ("a u", "X", r"X \in \mathbb{R}^{m \times n}, u : \mathbb{R}^{m \times n} \to \mathbb{R}, a \in \mathbb{R}",
     r"a \frac{\partial u}{\partial X}"),
]


@pytest.mark.parametrize("expression,wrt,where,gradient", CASES, ids=[c[0] for c in CASES])
def test_worked_cases(expression, wrt, where, gradient):
    result = derive(expression, wrt, where)
    assert result.holds, f"{result.status}: {result.message}"
    if gradient is not None:
        assert result.gradient == gradient


HESSIANS = [
    ("x^T A x", r"x \in \mathbb{R}^{n}, A \in \mathbb{R}^{n \times n}", "A + A^T"),
    (r"\|x\|_2^2", r"x \in \mathbb{R}^{n}", "2 I"),
    ("u^T x", r"x, u \in \mathbb{R}^{n}", "0"),
    (r"\log(1 + \exp(w^T x))", r"x, w \in \mathbb{R}^{n}", None),
    (r"(x^T x)^{2}", r"x \in \mathbb{R}^{n}", None),
]


@pytest.mark.parametrize("expression,where,hessian", HESSIANS, ids=[h[0] for h in HESSIANS])
def test_hessians_go_on_from_the_verified_gradient(expression, where, hessian):
    result = derive(expression, "x", where, hessian=True)
    assert result.holds, f"{result.status}: {result.message}"
    assert result.steps[-1].rule.startswith("Hessian") and result.gradient is not None
    if hessian is not None:
        assert result.hessian == hessian


def test_the_hessian_needs_a_scalar_of_a_column_vector():
    result = derive(r"\operatorname{tr}(X)", "X", r"X \in \mathbb{R}^{n \times n}", hessian=True)
    assert result.status == "cannot check" and "column vector" in result.message


# ----- every function record's differential rule -------------------------------------------------
RULED = [r for r in FUNCTIONS.values() if r.differential is not None]
SCALAR_ARG = r"\frac{w^T w}{1 + w^T w}"  # in (0, 1): inside every function's domain, away from tan's poles
MATRIX_ARG = r"(X \odot X) \oslash (\mathbf{1} \mathbf{1}^T + X \odot X)"  # the same, entry by entry


def _uses(record) -> list[str]:
    """Expressions that apply the record's function to something that depends on X or w."""
    if record.kind == ELEMENTWISE:
        scalar = [record.render(SCALAR_ARG)]
        return scalar + ([f"u^T {record.render(MATRIX_ARG)} v"] if record.argument != "scalar" else [])
    if record.kind == RESHAPING:
        if record.name == "diag":
            return [f"u^T {record.render('X')}"]
        return [rf"\left({record.render('X')}\right)^T {record.render('A')}"]
    if record.name in ("chol", "phi"):  # matrix-valued: inside a trace, to reach a gradient
        return [rf"\operatorname{{tr}}(A {record.render('X')})"]
    return [record.render("X")]


# The rules for a simple eigenvalue and a simple singular value hold where the declarations make them
# simple (the checker draws such matrices), and write q_i, u_i, v_i: those letters stay undeclared.
# The Cholesky factor needs a positive definite argument.
SPECTRAL_WHERE = {"eigval": r"X \in \mathbb{S}^{n} \text{ simple spectrum}",
                  "sval": r"X \in \mathbb{R}^{m \times n} \text{ distinct singular values}",
                  "chol": r"X \in \mathbb{S}^{n}_{++}, A \in \mathbb{R}^{n \times n}"}


# A matrix argument to a function derive differentiates for scalars only, and the gradient through
# vec and vech (which needs an unvec the language does not have), are refused with these reasons.
REFUSALS = ("of a scalar or a column vector only", "cannot identify")


@pytest.mark.parametrize("record", RULED, ids=[r.name for r in RULED])
def test_every_differential_rule_is_confirmed(record):
    confirmed = False
    for expression in _uses(record):
        result = derive(expression, "X" if "X" in expression else "w", SPECTRAL_WHERE.get(record.name, WHERE))
        assert result.status != "refuted", f"{expression}: {result.message}"
        if result.steps:  # the differential was taken: its step must hold
            assert result.steps[0].holds, f"{expression}: {result.message}"
            confirmed = True
        if not result.holds:
            assert any(r in result.message for r in REFUSALS), f"{expression}: {result.message}"
    assert confirmed, f"no use of {record.latex} reached its differential rule"


def test_a_spectral_rule_is_refused_where_its_letters_are_declared():
    # u is declared a vector: u_1(X) in the steps would read as its entry, not the singular vector
    result = derive(r"\sigma_1(X)", "X", SPECTRAL_WHERE["sval"] + r", u \in \mathbb{R}^{n}")
    assert result.status == "cannot check" and "u is declared" in result.message and not result.steps


def test_a_wrong_rule_is_caught_by_its_step(monkeypatch):
    # Jacobi's formula with X instead of X^{-1}: the derivation must stop at the differential.
    wrong = dataclasses.replace(FUNCTIONS["det"], differential=lambda b, y, dy: b.mul(
        b.call("det", y), b.call("tr", b.mul(y, dy))))
    monkeypatch.setitem(FUNCTIONS, "det", wrong)
    result = derive(r"\det(X)", "X", r"X \in \mathbb{R}^{n \times n}")
    assert result.status == "refuted" and result.exit_code == 2 and result.gradient is None
    assert result.to_dict()["status"] == "cannot derive"
    assert len(result.steps) == 1 and not result.steps[0].holds


def test_a_wrong_identification_is_caught(monkeypatch):
    # Dropping every transpose while moving factors off dX gives A X B for tr(A X B X^T)'s first term.
    from matref._derive import Builders
    monkeypatch.setattr(Builders, "t", lambda self, x: x)
    result = derive(r"\operatorname{tr}(A X B X^T)", "X", r"X, A, B \in \mathbb{R}^{n \times n}")
    assert result.status == "refuted" and not result.steps[-1].holds


# ----- bad input -----------------------------------------------------------------------------------
BAD = [
    (r"\operatorname{tr}(A X", "X", "ends too early"),
    (r"x^T \otimes X", "X", "cannot vectorise x^T \\otimes \\partial X"),
    (r"\operatorname{tr}(A X)", "Y", "Y is not declared"),
    (r"\operatorname{tr}(A X)", "A X", "name one declared variable"),
    (r"\operatorname{tr}(A) = 1", "X", "not an identity"),
    (r"\operatorname{tr}(\operatorname{adj}(X))", "X", "no differential rule"),
    # the Fréchet derivative of expm has no closed form: only tr f(X) and f(t A) are derived
    (r"\operatorname{tr}(A \operatorname{expm}(X))", "X", "only inside a trace"),
    (r"\|X\|_*", "X", "Euclidean"),
    (r"\sum_{i=1}^{n} \sigma_i(X)", "X", "a sum whose number of terms is a size"),
    (r"\operatorname{tr}(A X)", "A", "constant"),
    (r"\log\det(X)", "X", "declare its domain"),
]


@pytest.mark.parametrize("expression,wrt,fragment", BAD, ids=[f"{b[0]} wrt {b[1]}" for b in BAD])
def test_bad_input_cannot_be_derived_with_a_reason(expression, wrt, fragment, capsys):
    where = r"X \in \mathbb{R}^{n \times n}, x \in \mathbb{R}^{n}, A \in \mathbb{R}^{n \times n} \text{ constant}"
    result = derive(expression, wrt, where)
    assert result.status == "cannot check" and result.gradient is None
    assert fragment in result.message
    assert main(["derive", expression, "--by", wrt, "--where", where]) == 2
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err and fragment in out.out
    assert main(["derive", expression, "--by", wrt, "--where", where, "--json"]) == 2
    data = json.loads(capsys.readouterr().out)
    assert data == {"status": "cannot derive", "message": result.message}


def test_a_verified_differential_is_shown_when_the_gradient_cannot_be_identified(capsys):
    args = [r"\left(\operatorname{vec}(X)\right)^T \operatorname{vec}(A)", "--by", "X",
            "--where", r"X, A \in \mathbb{R}^{n \times n}"]
    assert main(["derive", *args]) == 2
    out = capsys.readouterr()
    assert "Traceback" not in out.err and "✓" in out.out and "cannot identify" in out.out


def test_a_commutation_matrix_the_language_cannot_write_is_refused():
    # vec(Xᵀ) = K vec(X) for X of size 2n×n: K_{2nn} would be read as three sizes
    result = derive("X^T", "X", r"X \in \mathbb{R}^{2n \times n}")
    assert result.status == "cannot check" and "commutation matrix" in result.message
    assert derive("X^T", "X", r"X \in \mathbb{R}^{m \times n}").gradient == "K_{mn}^T"


def test_derive_is_part_of_the_python_api():
    import matref
    assert matref.derive is derive and "derive" in matref.__all__
    assert matref.derive("x^T x", "x", r"x \in \mathbb{R}^{n}").gradient == "2 x"


def test_cli_derive_prints_the_steps_and_json(capsys):
    where = r"x \in \mathbb{R}^{n}, A \in \mathbb{R}^{n \times n}"
    assert main(["derive", "x^T A x", "--by", "x", "--where", where]) == 0
    out = capsys.readouterr().out
    assert out.count("✓") >= 3 and r"\left(A + A^T\right) x" in out and "numerator layout" in out
    assert main(["derive", "x^T A x", "--wrt", "x", "--where", where, "--json"]) == 0  # --wrt: the same option
    data = json.loads(capsys.readouterr().out)
    assert list(data) == ["status", "result", "steps"] and data["status"] == "derived"
    assert data["result"] == {"denominator": r"\left(A + A^T\right) x", "numerator": r"x^T \left(A^T + A\right)"}
    assert all(isinstance(s, str) for s in data["steps"]) and data["steps"][-1].endswith(data["result"]["denominator"])
    # --layout numerator: the same result, shown first and closing the steps in numerator layout
    assert main(["derive", "x^T A x", "--by", "x", "--where", where, "--json", "--layout", "numerator"]) == 0
    numerator = json.loads(capsys.readouterr().out)
    assert numerator["result"] == data["result"] and numerator["steps"][-1].endswith(data["result"]["numerator"])
    assert main(["derive", "x^T A x", "--by", "x", "--where", where, "--layout", "numerator"]) == 0
    out = capsys.readouterr().out
    assert out.index("numerator layout:") < out.index("denominator layout:")


# ----- expressions not from the catalogue: the JSON contract, checked in both layouts ---------
DATA = tomllib.loads((Path(__file__).parent / "derive_cases.toml").read_text(encoding="utf-8"))["case"]


@pytest.mark.parametrize("case", DATA, ids=[f"{c['expression']} by {c['by']}" for c in DATA])
def test_derived_results_hold_as_the_json_says(case):
    """`\\frac{\\partial (EXPR)}{\\partial X} = result[layout]` holds in that layout for each case, as
    the JSON promises (for a matrix of a matrix, JSON's `derivative`, ∂ vec F/∂ vec X, in place of
    that derivative); a textbook answer, where the case gives one, equals the derived result."""
    result = derive(case["expression"], case["by"], case["where"])
    assert result.holds, f"{result.status}: {result.message}"
    data = result.to_dict()
    assert data["status"] == "derived" and set(data["result"]) == {"denominator", "numerator"}
    assert ("derivative" in data) == bool(case.get("jacobian")), data.get("derivative")
    left = data.get("derivative", rf"\frac{{\partial ({case['expression']})}}{{\partial {case['by']}}}")
    for layout, rhs in data["result"].items():
        formula = f"{left} = {rhs}"
        verdict = check(formula, case["where"], layout)
        assert verdict.holds, f"{layout}: {formula}: {verdict.message}"
    for layout, rhs in data.get("conjugate", {}).items():  # a complex variable: ∂(EXPR)/∂X̄ as well
        formula = rf"\frac{{\partial ({case['expression']})}}{{\partial \overline{{{case['by']}}}}} = {rhs}"
        verdict = check(formula, case["where"], layout)
        assert verdict.holds, f"{layout}: {formula}: {verdict.message}"
    if "expected" in case:
        verdict = check(f"{data['result']['denominator']} = {case['expected']}", case["where"])
        assert verdict.holds, f"{data['result']['denominator']} vs {case['expected']}: {verdict.message}"


def _differentiated(formula: str, where: str, layout: str = "denominator") -> str | None:
    """The LaTeX of what a formula's left side differentiates (None: it is not a derivative)."""
    from matref._language import parse_identity
    from matref._latex import latex
    from matref._tree import Deriv
    left = parse_identity(formula, where, layout).equation.sides[0]
    return latex(left.f) if isinstance(left, Deriv) else None


def test_the_data_file_has_forty_expressions_not_from_the_catalogue():
    from matref._catalogue import load_catalogue
    catalogue = {_differentiated(e.formula, e.where, e.layout) for e in load_catalogue().entries} - {None}
    # a Jacobian case is what its vec is differentiated for: vec F by vec X, as the catalogue writes it
    ours = [_differentiated(rf"\frac{{\partial \operatorname{{vec}}({c['expression']})}}{{\partial "
                            rf"\operatorname{{vec}}({c['by']})}} = 0" if c.get("jacobian") else
                            rf"\frac{{\partial ({c['expression']})}}{{\partial {c['by']}}} = 0", c["where"])
            for c in DATA]
    assert len(DATA) >= 40 and len(set(ours)) == len(ours) - 1  # \|A - XY\|_F^2 appears by X and by Y
    assert catalogue and not set(ours) & catalogue


# The pages whose `$ matref derive ...` transcripts must be what matref prints now.
TRANSCRIPT_PAGES = ("derive.md", "matrixcalculus-org.md")


def _transcripts(page: str) -> list[tuple[list[str], str]]:
    """(argv, output shown) for every `$ matref derive ...` in a console block of docs/`page`."""
    text = (Path(__file__).parent.parent / "docs" / page).read_text(encoding="utf-8")
    found = []
    for block in re.findall(r"```console\n(.*?)```", text, re.DOTALL):
        for part in re.split(r"^\$ ", block, flags=re.MULTILINE)[1:]:
            lines = part.splitlines()
            command, i = lines[0], 0
            while command.endswith("\\"):
                i += 1
                command = command[:-1] + lines[i]
            found.append((shlex.split(command)[1:], "\n".join(lines[i + 1:]) + "\n"))
    return found


TRANSCRIPTS = [(page, *t) for page in TRANSCRIPT_PAGES for t in _transcripts(page)]


@pytest.mark.parametrize("page", TRANSCRIPT_PAGES)
def test_each_transcript_page_has_derive_transcripts(page):
    """A page whose blocks stopped parsing (a renamed language tag, a changed prompt) would otherwise
    drop out of the comparison below silently."""
    transcripts = _transcripts(page)
    assert transcripts and all(argv[0] == "derive" for argv, _ in transcripts)


@pytest.mark.parametrize("page,argv,shown", TRANSCRIPTS, ids=[f"{t[0]}:{t[1][1]}" for t in TRANSCRIPTS])
def test_the_pages_show_what_matref_derive_prints(page, argv, shown, capsys):
    main(argv)
    out = capsys.readouterr()
    assert out.out + out.err == shown


LEAVES = st.sampled_from(["X", "A", "x", "u", "2", "I", "X^T", "x^T", "u^T"])
UNARY = [r"({})^T", r"({})^{{-1}}", r"({})^{{2}}", r"\operatorname{{tr}}({})", r"\det({})", r"\log({})",
         r"\exp({})", r"\sigma({})", r"\sqrt{{{}}}", r"\|{}\|_F", r"\|{}\|_2", r"\operatorname{{diag}}({})",
         r"\operatorname{{vec}}({})", r"\operatorname{{expm}}({})", "-{}", r"\lambda_{{1}}({})",
         r"\operatorname{{sinm}}({})", "g({} + C)"]
BINARY = ["{} {}", "({} + {})", "({} - {})", r"({} \odot {})", r"({} \otimes {})", r"\frac{{{}}}{{{}}}"]
EXPRESSIONS = st.recursive(
    LEAVES, lambda inner: st.one_of(
        st.builds(lambda f, a: f.format(a), st.sampled_from(UNARY), inner),
        st.builds(lambda f, a, b: f.format(a, b), st.sampled_from(BINARY), inner, inner)), max_leaves=8)
GENERATED_WHERE = (r"X, A, C \in \mathbb{R}^{n \times n}, x, u \in \mathbb{R}^{n}, "
                   r"g : \mathbb{R}^{n \times n} \to \mathbb{R}")
# Mostly made scalar, so that more of them get past the shape checks to the derivation.
SCALARS = st.one_of(EXPRESSIONS, EXPRESSIONS.map(r"\operatorname{{tr}}({})".format), EXPRESSIONS.map("u^T {} x".format))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SCALARS)
def test_generated_trees_never_reach_an_internal_error(monkeypatch_checks, expression):
    """Whatever the parser accepts, the d-rules and the identification either derive or give a
    reason; the checks are stubbed here (the tests above run them), so this explores many trees fast."""
    result = derive(expression, "X", GENERATED_WHERE)
    assert "internal error" not in result.message, result.message


@settings(max_examples=150, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(SCALARS, EXPRESSIONS), st.sampled_from(["X", "x"]))
def test_no_step_derived_from_a_generated_tree_is_refuted(expression, wrt):
    """The same trees, checked for real: a derivation may stop (a shape clash, a domain, a missing
    rule), but no step it takes is ever refuted by the checker."""
    result = derive(expression, wrt, GENERATED_WHERE)
    assert result.status != "refuted", "\n".join([result.message, *(s.formula for s in result.steps)])


# Complex trees: conjugates, real parts and moduli of complex symbols, derived by Wirtinger calculus.
COMPLEX_TREES = st.recursive(
    LEAVES, lambda inner: st.one_of(
        st.builds(lambda f, a: f.format(a), st.sampled_from(
            UNARY[:8] + [r"\overline{{{}}}", r"({})^H", r"\operatorname{{Re}}({})", r"|{}|^{{2}}", r"\|{}\|_F"]), inner),
        st.builds(lambda f, a, b: f.format(a, b), st.sampled_from(BINARY[:4]), inner, inner)), max_leaves=6)
COMPLEX_WHERE = r"X, A \in \mathbb{C}^{n \times n}, x, u \in \mathbb{C}^{n}"


@settings(max_examples=100, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(COMPLEX_TREES.map(r"\operatorname{{tr}}({})".format), COMPLEX_TREES.map("u^H {} x".format),
                 COMPLEX_TREES), st.sampled_from(["X", "x"]))
def test_no_wirtinger_step_from_a_generated_complex_tree_is_refuted(expression, wrt):
    """Complex trees, checked for real: the checker takes ∂f/∂Z and ∂f/∂Z̄ from the real and
    imaginary partials, so a wrong conjugate rule or a term put on the wrong differential is refuted."""
    result = derive(expression, wrt, COMPLEX_WHERE)
    assert result.status != "refuted", "\n".join([result.message, *(s.formula for s in result.steps)])


@pytest.fixture(scope="module")
def monkeypatch_checks():
    from matref import _derive
    from matref._check import Verdict
    mp = pytest.MonkeyPatch()
    mp.setattr(_derive, "check", lambda formula, where, layout, seed=0: Verdict("holds", "stub", formula, where, layout))
    yield
    mp.undo()


# ----- the catalogue: a second witness for every derivative identity derive handles -----------------
# The site build derives every derivative identity of the catalogue and stops when a derived result and
# its entry disagree (tests/test_site.py's strict build runs it in CI). These tests show that stop works.

def _entry(formula: str):
    import dataclasses

    from matref._catalogue import load_catalogue
    # a fresh cache of the other layout's form: the catalogue entry's own holds its formula's
    return dataclasses.replace(load_catalogue().get("trace-grad-xtbx"), formula=formula, other_layout=None,
                               _forms={})


@pytest.mark.parametrize("wrong", [r"2 B X", r"B^T X", r"B X - B^T X"])
def test_a_derivation_that_disagrees_with_its_entry_stops_the_site_build(wrong):
    """An entry with a wrong right side (its own check would fail too) disagrees with its derivation,
    and the site's derivations refuse to go on, naming the entry."""
    from matref.site._derivations import DerivationDisagrees, derivations, derive_entry
    entry = _entry(r"\frac{\partial \operatorname{tr}(X^T B X)}{\partial X} = " + wrong)
    assert derive_entry(entry)["status"] == "disagrees"

    class Catalogue:
        entries = [entry]
    with pytest.raises(DerivationDisagrees, match="trace-grad-xtbx"):
        derivations(Catalogue, None)


def test_a_derivation_is_compared_with_the_right_side_alone_unless_the_left_side_reads_it():
    """The entry's derivative was checked against the result by derive's last step: the comparison
    leaves it out, except where the right side needs it (here the left side sizes the I in I ⊗ X)."""
    from matref._catalogue import load_catalogue
    from matref.site._derivations import _right_sides_and
    catalogue = load_catalogue()
    plain = catalogue.get("trace-grad-xtbx")
    assert _right_sides_and(plain, "denominator", "2 B X") == r"B X + B^T X = 2 B X"
    sized = catalogue.get("jacobian-vec-square")
    formula = _right_sides_and(sized, "denominator", r"X^T \otimes I_{n} + I_{n} \otimes X")
    assert formula.startswith(sized.formula_in("denominator") + " = ")


def test_a_derivative_by_the_transpose_is_derived_and_checked_as_a_last_step():
    """∂f/∂Xᵀ is derived by X and transposed, a step the checker confirms in both layouts; a right
    side of the right shape but wrong still disagrees."""
    from matref.site._derivations import derive_entry
    record = derive_entry(_entry(r"\frac{\partial \operatorname{tr}(X^T B X)}{\partial X^T} = X^T B^T + X^T B"))
    assert record["status"] == "derived", record
    rule, formula, numerator = record["steps"][-1]
    assert rule.startswith("by the transpose") and formula.endswith("= " + record["result"]["denominator"])
    assert record["result"] == {"denominator": r"X^T \left(B^T + B\right)", "numerator": r"\left(B + B^T\right) X"}
    assert numerator.endswith("= " + record["result"]["numerator"])
    wrong = derive_entry(_entry(r"\frac{\partial \operatorname{tr}(X^T B X)}{\partial X^T} = 2 X^T B"))
    assert wrong["status"] == "disagrees"


def test_a_derivation_that_agrees_is_kept_with_both_layouts():
    from matref.site._derivations import derivations
    entry = _entry(r"\frac{\partial \operatorname{tr}(X^T B X)}{\partial X} = B X + B^T X")

    class Catalogue:
        entries = [entry]
    record = derivations(Catalogue, None)[entry.id]
    assert record["status"] == "derived" and record["steps"]
    assert set(record["result"]) == {"denominator", "numerator"}


REFUSED_COMPLEX = [
    (r"\operatorname{Im}(z)", "z", r"z \in \mathbb{C}", r"\operatorname{Im}"),
    (r"u(z)", "z", r"z \in \mathbb{C}, u : \mathbb{C} \to \mathbb{C}", "u(z)"),  # a general smooth map
    (r"\sigma_1(Z)", "Z", r"Z \in \mathbb{C}^{n \times n}", r"\sigma_{1}"),
]


@pytest.mark.parametrize("expression,by,where,subterm", REFUSED_COMPLEX, ids=[c[0] for c in REFUSED_COMPLEX])
def test_a_complex_construct_without_a_wirtinger_rule_is_refused_naming_it(expression, by, where, subterm, capsys):
    """Real d-rules would give a wrong Wirtinger derivative for these: derive names them and stops."""
    assert main(["derive", expression, "--by", by, "--where", where]) == 2
    said = "".join(capsys.readouterr())
    assert "Wirtinger" in said and subterm in said and "Traceback" not in said


def test_wirtinger_derivatives_of_a_complex_variable_both_checked():
    """∂f = tr(Gᵀ ∂Z) + tr(Hᵀ ∂Z̄): ∂f/∂Z = G is the result, ∂f/∂Z̄ = H a step of its own, each
    confirmed by the checker (which takes them from the real and imaginary partials)."""
    where = r"Z \in \mathbb{C}^{m \times n}"
    result = derive(r"\operatorname{tr}(Z Z^H)", "Z", where)
    assert result.holds and result.gradient == r"\overline{Z}"
    assert result.conjugate == {"denominator": "Z", "numerator": "Z^T"}
    assert result.steps[-1].formula == r"\frac{\partial \operatorname{tr}\left(Z Z^H\right)}{\partial \overline{Z}} = Z"
    assert result.to_dict()["conjugate"] == result.conjugate
    # a holomorphic expression has no ∂Z̄ term: no conjugate derivative is reported
    holomorphic = derive(r"\operatorname{tr}(A Z^{-1})", "Z", r"Z \in \mathbb{C}^{n \times n} \text{ invertible}, "
                         r"A \in \mathbb{C}^{n \times n}")
    assert holomorphic.holds and holomorphic.gradient == "-Z^{-T} A^T Z^{-T}" and holomorphic.conjugate is None
    assert "real variables" in derive(r"\operatorname{tr}(Z)", "Z", r"Z \in \mathbb{C}^{n \times n}",
                                      hessian=True).message
    # a matrix that is not holomorphic has no Jacobian here
    assert "for a scalar only" in derive("Z^H", "Z", where).message


def test_derivations_in_worker_processes_are_the_ones_derived_here():
    """A cold site build derives in worker processes: the same records as one process derives."""
    from matref._catalogue import load_catalogue
    from matref.site._derivations import derivable, derivations

    class Catalogue:
        entries = [e for e in load_catalogue().entries if derivable(e)][::80]
    assert len(Catalogue.entries) >= 3
    assert derivations(Catalogue, None, jobs=2) == derivations(Catalogue, None, jobs=1)


def test_a_result_that_is_the_right_side_itself_is_not_checked_again_and_any_other_is(monkeypatch):
    """Comparing a right side with itself, tree for tree, shows nothing (half the catalogue's
    derivations): it is skipped. A result written otherwise is checked against the right side."""
    from matref import _check
    from matref.site._derivations import derive_entry
    checked = []
    check = _check.check
    monkeypatch.setattr(_check, "check", lambda formula, *a, **k: checked.append(formula) or check(formula, *a, **k))
    derived = derive_entry(_entry(r"\frac{\partial \operatorname{tr}(X^T B X)}{\partial X} = B X + B^T X"))
    result = derived["result"]["denominator"]
    assert derived["status"] == "derived" and result != r"B X + B^T X"
    assert rf"B X + B^T X = {result}" in checked  # written otherwise: checked

    checked.clear()
    same = derive_entry(_entry(rf"\frac{{\partial \operatorname{{tr}}(X^T B X)}}{{\partial X}} = {result}"))
    assert same["status"] == "derived" and same["result"]["denominator"] == result
    assert not [f for f in checked if f.startswith(f"{result} = ")]  # the spy saw the other's check
