"""Every operator record (`matref._operators`) is complete and consistent, checked record by record
(as tests/test_functions.py does for functions). A new record gets all of these checks without a line
of test code: each of its commands parses to it and its rendering parses back, a mismatch of shapes is
refused with its name, every snippet dialect's code agrees with its JAX evaluation, its differential
rule is confirmed by the checker, and the Conventions page lists it."""

from __future__ import annotations

import re

import jax.numpy as jnp
import numpy as np
import pytest

import matref
from matref import _syntax
from matref._errors import ShapeClash
from matref._language import parse_identity
from matref._latex import latex
from matref._operators import COMMANDS, OPERATORS, Operand
from matref._shapes import Dim
from matref._tree import Binary
from matref.site import operators_table

RECORDS = list(OPERATORS.values())
each = pytest.mark.parametrize("op", RECORDS, ids=[op.name for op in RECORDS])
M, N, P, Q = (Dim(1, (d,)) for d in "mnpq")


def _same_shape(op) -> bool:
    """Whether the operator takes operands of one shape (it refuses an m×n beside a p×q)."""
    return op.shape((M, N), (P, Q), lambda a, b: False) is None


def _where(op) -> str:
    """Declarations for X op Y, with C of the result's shape."""
    if _same_shape(op):
        return r"X \in \mathbb{R}^{m \times n}, Y \in \mathbb{R}^{m \times n}, C \in \mathbb{R}^{m \times n}"
    rows, cols = op.shape((M, N), (P, Q), lambda a, b: True)
    return (rf"X \in \mathbb{{R}}^{{m \times n}}, Y \in \mathbb{{R}}^{{p \times q}}, "
            rf"C \in \mathbb{{R}}^{{{rows} \times {cols}}}")


@each
def test_every_command_parses_to_the_operator_and_renders_back(op):
    assert op.commands and all(COMMANDS[c] == op.name for c in op.commands)
    for command in op.commands:
        text = rf"X \{command} Y"
        node = parse_identity(f"{text} = {text}", _where(op)).equation.sides[0]
        assert isinstance(node, Binary) and node.op == op.name, command
        assert latex(node) == rf"X {op.latex} Y"  # the canonical spelling
    compound = rf"(A + X) {op.latex} 2 Y"
    where = _where(op) + r", A \in \mathbb{R}^{m \times n}"
    node = parse_identity(f"{compound} = {compound}", where).equation.sides[0]
    text = latex(node)
    assert text.startswith(rf"\left(A + X\right) {op.latex} ")  # the sum keeps its parentheses
    again = parse_identity(f"{text} = {text}", where).equation.sides[0]
    assert repr(again) == repr(node) and latex(again) == text  # rendering and parsing are a fixed point


@each
def test_mismatched_shapes_are_refused_with_the_operators_name(op):
    if not _same_shape(op):
        pytest.skip("takes operands of any shapes")
    where = r"X \in \mathbb{R}^{m \times n}, Y \in \mathbb{R}^{n \times m}"
    with pytest.raises(ShapeClash, match=re.escape(op.title)):
        parse_identity(rf"X {op.latex} Y = X", where)
    assert matref.check(rf"X {op.latex} Y = X", where).status == "refuted"


# operands in every form the function dialect distinguishes (it holds vectors 1-D)
FORMS = {"matrix": np.array([[1.5, -0.5, 2.0], [0.25, 3.0, -1.25]]), "col": np.array([[0.5], [-2.0]]),
         "row": np.array([[1.25, -0.75, 2.5]]), "scalar": np.array([[-1.5]])}


def _pairs(op):
    """(left form, right form) pairs the operator accepts."""
    if _same_shape(op):
        return [(f, f) for f in FORMS]
    return [(a, b) for a in FORMS for b in FORMS]


def _held(value: np.ndarray, form: str):
    """How the function dialect holds a value of this form: a float, a 1-D array or a matrix."""
    return float(value[0, 0]) if form == "scalar" else value.ravel() if form in ("col", "row") else value


@each
@pytest.mark.parametrize("dialect", ["jax", "numpy", "function"])
def test_every_dialect_agrees_with_the_jax_evaluation(op, dialect):
    for fa, fb in _pairs(op):
        a, b = FORMS[fa], FORMS[fb] + 3.0  # no zero entries: an operator may divide by them
        expected = np.asarray(op.evaluate(jnp.asarray(a), jnp.asarray(b)))
        if dialect == "function":
            text, _ = op.function(Operand("a", "a", "a", fa), Operand("b", "b", "b", fb))
            ns = {"np": np, "a": _held(a, fa), "b": _held(b, fb)}
        else:
            xp = "jnp" if dialect == "jax" else "np"
            text, _ = op.code(Operand("a", "a", "a"), Operand("b", "b", "b"), xp)
            ns = {"np": np, "jnp": jnp, "a": a, "b": b}
        value = eval(text, ns)  # noqa: S307 - the record's own template
        np.testing.assert_allclose(np.ravel(value), np.ravel(expected), rtol=1e-12, err_msg=f"{fa}, {fb}: {text}")


@each
@pytest.mark.parametrize("by", ["X", "Y"])
def test_the_differential_rule_is_confirmed_by_the_checker(op, by):
    # derive shows the differential only once the checker has confirmed it at random draws, with a
    # random weight C (a weight of ones would hide an operand order swapped in a Kronecker product)
    d = matref.derive(rf"\operatorname{{tr}}(C^T (X {op.latex} Y))", by, _where(op))
    assert d.steps and d.steps[0].rule.startswith("differential"), d.message
    assert d.steps[0].holds and rf"\partial {by}" in d.steps[0].formula, (d.steps[0].formula, d.message)


@each
def test_the_conventions_table_lists_it(op):
    rows = [row for row in operators_table().splitlines() if f"| {op.meaning} |" in row]
    assert len(rows) == 1 and all(rf"`A \{c} B`" in rows[0] for c in op.commands)


def test_the_lexer_reads_its_table_off_the_records():
    assert _syntax.OPERATOR_COMMANDS == COMMANDS
    assert len(operators_table().splitlines()) == 2 + len(RECORDS)
    assert all(op.name == name for name, op in OPERATORS.items())
