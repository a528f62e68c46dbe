"""The formula language: parsing, shapes, layouts, and the messages people see."""

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import matref
from matref import CannotCheck, FormulaSyntaxError, MatrefError, ShapeClash, parse_identity
from matref._latex import equation_latex

R = r"\mathbb{R}"


def shapes(formula, where, layout="denominator"):
    ident = parse_identity(formula, where, layout)
    return [f"{s.shape[0]}x{s.shape[1]}" for s in ident.equation.sides]


@pytest.mark.parametrize("formula, where, layout, expected", [
    (r"\frac{\partial x^T A x}{\partial x} = (A+A^T)x", rf"x \in {R}^{{n}}, A \in {R}^{{n \times n}}", "denominator", "nx1"),
    (r"\frac{\partial x^T A x}{\partial x} = x^T(A+A^T)", rf"x \in {R}^{{n}}, A \in {R}^{{n \times n}}", "numerator", "1xn"),
    (r"\frac{\partial A x}{\partial x} = A^T", rf"x \in {R}^{{n}}, A \in {R}^{{m \times n}}", "denominator", "nxm"),
    (r"\frac{\partial A x}{\partial x} = A", rf"x \in {R}^{{n}}, A \in {R}^{{m \times n}}", "numerator", "mxn"),
    (r"\frac{\partial A x}{\partial x^T} = A", rf"x \in {R}^{{n}}, A \in {R}^{{m \times n}}", "denominator", "mxn"),
    (r"\frac{\partial \operatorname{tr}(AX)}{\partial X} = A^T", rf"A \in {R}^{{n \times m}}, X \in {R}^{{m \times n}}", "denominator", "mxn"),
    (r"\frac{\partial \operatorname{tr}(AX)}{\partial X} = A", rf"A \in {R}^{{n \times m}}, X \in {R}^{{m \times n}}", "numerator", "nxm"),
    (r"\nabla_X \operatorname{tr}(AX) = A^T", rf"A \in {R}^{{n \times m}}, X \in {R}^{{m \times n}}", "numerator", "mxn"),
    (r"\frac{\partial^2 x^T A x}{\partial x \partial x^T} = A + A^T", rf"x \in {R}^{{n}}, A \in {R}^{{n \times n}}", "numerator", "nxn"),
    (r"\operatorname{vec}(A X B) = (B^T \otimes A)\operatorname{vec}(X)",
     rf"A \in {R}^{{m \times n}}, X \in {R}^{{n \times p}}, B \in {R}^{{p \times q}}", "denominator", "mqx1"),
    (r"\frac{\partial}{\partial \alpha} \alpha X = X", rf"\alpha \in {R}, X \in {R}^{{m \times n}}", "denominator", "mxn"),
    # complex: Wirtinger derivatives follow the same layout rule (denominator: the shape of Z)
    (r"\frac{\partial \operatorname{tr}(Z^H Z)}{\partial Z} = \overline{Z}", r"Z \in \mathbb{C}^{m \times n}", "denominator", "mxn"),
    (r"\frac{\partial \operatorname{tr}(Z^H Z)}{\partial \bar{Z}} = Z^T", r"Z \in \mathbb{C}^{m \times n}", "numerator", "nxm"),
    (r"\frac{\partial A z}{\partial \bar{z}} = 0", r"z \in \mathbb{C}^{n}, A \in \mathbb{C}^{m \times n}", "denominator", "nxm"),
    (r"\nabla_Z \operatorname{tr}(Z^H Z) = 2 Z", r"Z \in \mathbb{C}^{m \times n}", "numerator", "mxn"),
    (r"\frac{\partial \operatorname{tr}(Z)}{\partial \Re Z} = I", r"Z \in \mathbb{C}^{n \times n}", "denominator", "nxn"),
])
def test_layout_rule_gives_these_shapes(formula, where, layout, expected):
    assert shapes(formula, where, layout) == [expected, expected]


@pytest.mark.parametrize("text", [
    r"x^\top = x^{\top} = x^{\mathsf T} = x^{\mathsf{T}} = x^T",
    r"\operatorname{tr}(A) = \mathrm{tr}(A) = \text{tr}(A) = \operatorname{Tr} A = \operatorname{tr} A",
    r"|A| = \det A = \det(A) = \left| A \right|",
    r"\mathbf{x}^T \boldsymbol{x} = \bm{x}^T x = \|x\|_2^2",
    r"A^{-T} = (A^{-1})^T = (A^T)^{-1}",
    r"\frac{x}{\|x\|_2} = \frac{1}{\|x\|_2} x",
    r"A \cdot B = A B",
])
def test_equivalent_notations_hold(text):
    where = rf"x \in {R}^{{n}}, A, B \in {R}^{{n \times n}}"
    assert matref.check(text, where).status == "holds"


@pytest.mark.parametrize("text", [
    r"Z^H = \overline{Z}^T = \bar{Z}^T = \left(\overline{Z}\right)^{\top} = \overline{Z^T}",
    r"Z^{-H} = (Z^{-1})^H = (Z^H)^{-1}",
    r"z^* = \bar{z} = \bar z = \overline{z} = \operatorname{conj}(z) = z^{*}",
    r"\operatorname{Re}(z) = \Re z = \mathrm{Re}(z) = \frac{z + \bar{z}}{2}",
    r"\operatorname{Im}(z) = \Im z = \frac{z - \bar{z}}{2 i}",
    r"|z|^2 = z \bar{z} = \operatorname{Re}(z)^2 + \operatorname{Im}(z)^2",
])
def test_equivalent_complex_notations_hold(text):
    where = r"z \in \mathbb{C}, Z \in \mathbb{C}^{n \times n}"
    assert matref.check(text, where).status == "holds"


@pytest.mark.parametrize("formula, where, message", [
    (r"\frac{\partial x^T A}{\partial x} = A^T", rf"x \in {R}^{{n}}, A \in {R}^{{n \times m}}",
     "the right side A^T is m×n (4×3) but the derivative"),
    (r"A x = x", rf"x \in {R}^{{n}}, A \in {R}^{{m \times n}}", "is m×1 (4×1)"),
    (r"x A = 0", rf"x \in {R}^{{n}}, A \in {R}^{{n \times n}}", "the product (x)(A) does not conform: n×1 times n×n"),
    (r"A + x = 0", rf"x \in {R}^{{n}}, A \in {R}^{{n \times n}}", "cannot add A (n×n) and x (n×1)"),
    (r"\operatorname{tr}(A) = 0", rf"A \in {R}^{{m \times n}}", "needs a square matrix, but A is m×n"),
    (r"A^{-1} = A", rf"A \in {R}^{{m \times n}}", "an inverse needs a square matrix"),
    (r"\frac{\partial A}{\partial x} = 0", rf"x \in {R}^{{n}}, A \in {R}^{{n \times n}}", "is a tensor"),
])
def test_shape_clashes_name_the_culprit(formula, where, message):
    with pytest.raises(ShapeClash, match=None) as info:
        parse_identity(formula, where)
    assert message in str(info.value)


@pytest.mark.parametrize("formula, where, kind, message", [
    (r"x^T y = 0", rf"x \in {R}^{{n}}", "undeclared", "y is not declared"),
    (r"\frac{\partial x}{\partial x = x", rf"x \in {R}^{{n}}", "syntax", "column"),
    (r"x + = x", rf"x \in {R}^{{n}}", "syntax", "column 5"),
    (r"x^T x", rf"x \in {R}^{{n}}", "syntax", "needs '='"),
    (r"\foo x = x", rf"x \in {R}^{{n}}", "syntax", r"unknown command '\foo'"),
    (r"$x = x$", rf"x \in {R}^{{n}}", "syntax", "without $ delimiters"),
    (r"x = x", r"x \in \mathbb{Q}^{n}", "unsupported", r"unknown space \mathbb{Q}"),
    (r"x = x", rf"x \in {R}^{{n}}, x \in {R}", "cannot", "declared twice"),
    (r"x = x", rf"x \in {R}^{{n}} \text{{ fancy}}", "cannot", "unknown property 'fancy'"),
    (r"\frac{\partial u}{\partial x} = 0", rf"x, y \in {R}^{{n}}, u : {R}^{{m}} \to {R}", "cannot", "cannot tell what u"),
        (r"x_{ii} = 0", rf"x \in {R}^{{n}}", "unsupported", "needs 1 distinct index letter"),
    (r"\frac{\partial x}{\partial X_{i}} = 0", rf"X \in {R}^{{n \times n}}, x \in {R}^{{n}}", "unsupported", "needs 2 distinct index letters"),
    (r"\frac{\partial x}{\partial x_{n}} = 0", rf"x \in {R}^{{n}}, n \in {R}", "cannot", "is also declared"),
    (r"\frac{\partial x}{\partial x_{i}} = 0", rf"x \in {R}^{{n}}, \operatorname{{vech}} \in {R}", "cannot", "cannot be declared"),
    (r"\frac{\partial^x f}{\partial x} = 0", rf"x \in {R}^{{n}}", "unsupported", "only first and second derivatives"),
    (r"\frac{\partial^{2.5}}{\partial x} x = 0", rf"x \in {R}^{{n}}", "unsupported", "only first and second"),
    (r"\sum_{i=1}^{q} x = x", rf"x \in {R}^{{n}}", "unsupported", "bounds of a sum must be fixed integers"),
    (r"\sum_{i=1}^{500} x = x", rf"x \in {R}^{{n}}", "unsupported", "at most 64"),
    (r"\sum_{x=1}^{2} x = x", rf"x \in {R}^{{n}}", "cannot", "index x is already declared"),
    (r"\sum_{i} x = x", rf"x \in {R}^{{n}}", "cannot", r"write a sum as"),
    (r"\frac{1}{\sigma_n(X)} = \|X^{-1}\|_2", rf"X \in {R}^{{n \times n}}", "unsupported", "n is a size here"),
    (r"\lambda_m(A) = \lambda_m(A)", rf"A \in \mathbb{{S}}^{{m}}", "unsupported", "not for the last one"),
])
def test_cannot_check_explains_why(formula, where, kind, message):
    with pytest.raises(CannotCheck) as info:
        parse_identity(formula, where)
    assert message in str(info.value)
    if kind == "syntax":
        assert isinstance(info.value, FormulaSyntaxError)


def test_operator_forms_see_their_variable_of_differentiation():
    # with x and y both in u's domain, a bare u means u of the variable being differentiated by
    where = rf"x, y \in {R}^{{n}}, u, v : {R}^{{n}} \to {R}^{{m}}"
    assert matref.check(r"\frac{\partial}{\partial x} u^T v = \frac{\partial u^T v}{\partial x}", where).holds
    assert matref.check(r"\nabla_y u^T v = \frac{\partial u(y)^T v(y)}{\partial y}", where).holds
    assert matref.check(r"\nabla_y u^T v = \frac{\partial u(x)^T v(y)}{\partial y}", where).status == "refuted"


def test_syntax_error_points_at_the_column():
    with pytest.raises(FormulaSyntaxError) as info:
        parse_identity(r"x + = x", rf"x \in {R}^{{n}}")
    assert info.value.column == 5
    assert info.value.pointer().splitlines()[1].index("^") == 2 + 4


@pytest.mark.parametrize("text", ["(" * 5000 + "x" + ")" * 5000 + " = x", "x + " * 3000 + "x = x", "{" * 100 + "x"])
def test_deep_or_huge_input_fails_cleanly(text):
    with pytest.raises(FormulaSyntaxError):
        parse_identity(text, rf"x \in {R}^{{n}}")


def test_moderately_long_flat_input_is_fine():
    text = " + ".join(["x"] * 200) + " = 200 x"
    assert matref.check(text, rf"x \in {R}^{{n}}").holds


TOKENS = [r"\frac", r"\partial", "x", "A", "^T", "^{-1}", "{", "}", "(", ")", "|", r"\|", "_2", "+", "-", "=",
          r"\operatorname{tr}", r"\nabla_", r"\otimes", r"\left(", r"\right)", "2", r"\cdot", " ", "^", "_", r"\det",
          r"\mathbf{1}", "I", r"\sigma", "u", r"\log", "[", "]", r"\\", "%", "$", "é", "\x00", "^{x}", "2.5",
          r"\sum_{r=0}^{2}", r"\operatorname{vech}", r"\partial^", "d", r"\int_0^1", r"\mathrm{d}", "a", "K_{nn}",
          "D_{n}", r"\operatorname{logm}", "&", r"\\", r"\begin{bmatrix}", r"\end{bmatrix}", "^H", "^*", r"\bar",
          r"\overline", r"\Re", "i", r"\Im", "z", "^{-H}"]


@settings(max_examples=400, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(TOKENS), max_size=40))
def test_fuzzed_token_soup_never_raises_anything_but_matref_errors(tokens):
    text = "".join(tokens)
    try:
        parse_identity(text, rf"x \in {R}^{{n}}, A \in {R}^{{n \times n}}, u : {R}^{{n}} \to {R}^{{n}}, z \in \mathbb{{C}}^{{n}}")
    except MatrefError:
        pass


@settings(max_examples=200, deadline=2000)
@given(st.text(max_size=200))
def test_fuzzed_unicode_never_raises_anything_but_matref_errors(text):
    for start_text, where in ((text, ""), ("x = x", text)):
        try:
            parse_identity(start_text, where)
        except MatrefError:
            pass


ROUND_TRIP = [
    (r"\frac{\partial \det(X^H A X)}{\partial \overline{X}} = \det(X^H A X) A X (X^H A X)^{-1}",
     r"X \in \mathbb{C}^{2n \times n}, A \in \mathbb{C}^{2n \times 2n}"),
    (r"\partial (Z^{-H}) = -Z^{-H} (\partial Z)^H Z^{-H} = \overline{\partial(Z^{-1})}^T", r"Z \in \mathbb{C}^{n \times n}"),
    (r"i \frac{\partial \operatorname{tr}(A X^H)}{\partial \Im X} = A", r"X, A \in \mathbb{C}^{m \times n}"),
    (r"\frac{\partial x^T A x}{\partial x} = (A + A^T) x", rf"x \in {R}^{{n}}, A \in {R}^{{n \times n}}"),
    (r"\nabla_A |A| = |A| A^{-T}", rf"A \in {R}^{{n \times n}}"),
    (r"\partial(X^{-1}) = -X^{-1} (\partial X) X^{-1}", rf"X \in {R}^{{n \times n}}"),
    (r"\frac{\partial u^T v}{\partial x} = \frac{\partial u^T}{\partial x} v + \frac{\partial v^T}{\partial x} u",
     rf"x \in {R}^{{n}}, u, v : {R}^{{n}} \to {R}^{{m}}"),
    (r"\frac{\partial \log \det(X^T A X)}{\partial X} = 2 A X (X^T A X)^{-1}", rf"X \in {R}^{{n \times m}}, A \in \mathbb{{S}}^{{n}}_{{++}}"),
    # a quotient of a differential: printed as \frac{\partial x}{2} it would read back as a derivative
    (r"\partial\left(\frac{x}{2}\right) = \frac{(\partial x)}{2}", rf"x \in {R}^{{n}}"),
]


@pytest.mark.parametrize("formula, where", ROUND_TRIP)
def test_printed_latex_parses_back_to_the_same_identity(formula, where):
    ident = parse_identity(formula, where)
    printed = equation_latex(ident.equation.sides)
    again = parse_identity(printed, where)
    assert equation_latex(again.equation.sides) == printed
    assert matref.check(printed, where).status == matref.check(formula, where).status


@pytest.mark.parametrize("formula, message", [
    (r"\int X \, \mathrm{d}a = X", "fixed bounds"),
    (r"\int_0^{b} X \, \mathrm{d}a = X", "fixed numbers"),
    (r"\int_1^0 X \, \mathrm{d}a = X", "above its lower bound"),
    (r"\int_0^1 X = X", "ends with the differential"),
    (r"\int_0^1 X \, \mathrm{d}X = X", "also declared"),
    (r"K_{ab} \operatorname{vec}(X) = \operatorname{vec}(X^T)", "not declared"),
    (r"K_{mnn} \operatorname{vec}(X) = \operatorname{vec}(X^T)", "commutation matrix as K_{mn}"),
    (r"\begin{matrix} X & X \end{matrix} = X", "write a block matrix as"),
    (r"\begin{bmatrix} X & X \\ X \end{bmatrix} = X", "different numbers of blocks"),
    (r"\begin{bmatrix} X & X^T \end{bmatrix} = X", "blocks of one shape"),
])
def test_integrals_and_commutation_matrices_written_wrong_are_named(formula, message):
    with pytest.raises(MatrefError, match=re.escape(message)):
        parse_identity(formula, rf"X \in {R}^{{m \times n}}")


@pytest.mark.parametrize("formula, where", [
    (r"\mathrm{d}(e^{X}) = \int_0^1 e^{a X} (\mathrm{d}X) e^{(1 - a) X} \, \mathrm{d}a", rf"X \in {R}^{{n \times n}}"),
    (r"K_{mn} \operatorname{vec}(X) = \operatorname{vec}(X^T)", rf"X \in {R}^{{m \times n}}"),
    (r"D_{n} \operatorname{vech}(S) = \operatorname{vec}(S)", r"S \in \mathbb{S}^{n}"),
    (r"e^{\begin{bmatrix} X & \mathrm{d}X \\ 0 & X \end{bmatrix}} = \begin{bmatrix} e^{X} & \mathrm{d}(e^{X}) \\ 0 & e^{X} \end{bmatrix}",
     rf"X \in {R}^{{n \times n}}"),
    (r"\operatorname{logm}(X) = \int_0^{1} (X - I) (a (X - I) + I)^{-1} \, da", rf"X \in {R}^{{n \times n}} \text{{ positive stable}}"),
])
def test_integrals_and_pattern_matrices_render_and_parse_back(formula, where):
    ident = parse_identity(formula, where)
    text = equation_latex(ident.equation.sides)
    again = parse_identity(text, where)
    assert equation_latex(again.equation.sides) == text
    assert [s.shape for s in again.equation.sides] == [s.shape for s in ident.equation.sides]


def test_a_declared_k_or_d_is_a_variable_not_a_pattern_matrix():
    ident = parse_identity(r"D_{n} = D_{n}", rf"D \in {R}^{{n}}, X \in {R}^{{n \times n}}")
    assert type(ident.equation.sides[0]).__name__ == "Entry"
    assert shapes(r"K_{mn} = K_{mn}", rf"X \in {R}^{{m \times n}}") == ["mnxmn", "mnxmn"]
    assert shapes(r"D_{n} = D_{n}", rf"X \in {R}^{{n \times n}}") == ["nnx[n(n+1)/2]", "nnx[n(n+1)/2]"]


def _trees():
    """Every side of every catalogue entry in both layouts (each parsed afresh: new node objects)."""
    for e in matref.load_catalogue().entries[::7]:
        for layout in ("denominator", "numerator"):
            yield from parse_identity(e.formula_in(layout), e.where, layout).equation.sides


def _changed(value):
    """A value of the same kind, different from `value`; None for kinds that have no other."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value + 1
    if isinstance(value, str):
        return value + "'"
    return None


def test_the_structural_key_changes_with_every_field_and_shape_of_every_node():
    # matref._numeric shares a derivative's trace between trees with the same key: two trees that
    # differ anywhere must never share one.
    from dataclasses import fields

    from matref._shapes import Dim
    from matref._tree import Node, structure

    mutated = 0
    for tree in _trees():
        key = structure(tree)
        for node in tree.walk():
            for f in fields(node):
                old = getattr(node, f.name)
                new = (old[0] * Dim(2), old[1]) if f.name == "shape" else _changed(old)
                if new is None or isinstance(old, Node):
                    continue
                setattr(node, f.name, new)
                assert structure(tree) != key, f"changing {type(node).__name__}.{f.name} kept the key"
                setattr(node, f.name, old)
                mutated += 1
        assert structure(tree) == key
    assert mutated > 1000


def test_the_structural_key_is_equal_for_equal_trees_only():
    from matref._latex import latex
    from matref._tree import structure

    first, again = list(_trees()), list(_trees())
    assert all(structure(a) == structure(b) for a, b in zip(first, again))  # new objects, same trees
    by_key = {}
    for tree in first:
        by_key.setdefault(structure(tree), set()).add((latex(tree), tree.shape))
    assert all(len(v) == 1 for v in by_key.values())  # one key, one formula
    assert len(by_key) > 100
