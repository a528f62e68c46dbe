"""Every function record (`matref._functions`) is complete and consistent, checked record by record
(parametrized over the registry, as JAX's own tests run one check per primitive). A new record gets
all of these checks without a line of test code: its spellings parse to it, its rendering parses back,
its JAX evaluation runs and is differentiable, every snippet dialect has code that agrees with that
evaluation or a reason why not, and the Conventions page lists it."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg

from matref import _syntax
from matref._functions import DIALECT_KEYS, ELEMENTWISE, FUNCTIONS, GREEK, KINDS, RESHAPING, WORDS, Code, NoCode
from matref._language import parse_identity
from matref._latex import latex
from matref._numeric import concrete
from matref._tree import Call
from matref.site import functions_table
from matref.snippets._common import JAX_HELPERS, _Code, fill
from matref.snippets.numpy_function import HELPERS

RECORDS = list(FUNCTIONS.values())
SIZES = {"n": 3}
WHERE = r"X \in \mathbb{R}^{n \times n}, t \in \mathbb{R}"
# Positive entries, so that log and sqrt are real; a random 3×3 matrix, so det and adj are generic;
# plus I, so that it is positive stable (eigenvalues 4.1, 1.5, 0.95) and sqrtm and logm are real.
SAMPLE = {"X": np.random.default_rng(0).uniform(0.5, 1.5, (3, 3)) + np.eye(3), "t": np.array([[-0.7]])}


def _arg(record) -> str:
    return "t" if record.argument == "scalar" else "X"


def _parsed(record, text: str) -> Call:
    node = parse_identity(f"{text} = {text}", WHERE).equation.sides[0]
    assert isinstance(node, Call), f"{text} did not parse as a function call"
    return node


each = pytest.mark.parametrize("record", RECORDS, ids=[r.name for r in RECORDS])


@each
def test_every_spelling_parses_to_the_function(record):
    assert record.spellings, f"{record.name} has no spelling the parser accepts"
    for spelling in record.spellings:
        node = _parsed(record, spelling.replace("#1", _arg(record)))
        assert node.fn == record.name, spelling
        assert latex(node.arg) == _arg(record)


@each
@pytest.mark.parametrize("inner", ["plain", "compound"])
def test_the_rendering_parses_back_to_the_same_tree(record, inner):
    arg = _arg(record) if inner == "plain" else ("t^{2}" if record.argument == "scalar" else "X^T X")
    text = record.render(arg)
    node = _parsed(record, text)
    assert node.fn == record.name
    assert latex(node) == text  # rendering the parsed tree gives the same LaTeX: a fixed point
    assert repr(_parsed(record, latex(node))) == repr(node)


@each
def test_kind_and_shape_rule(record):
    assert record.kind in KINDS
    assert (record.shape_rule is not None) == (record.kind == RESHAPING), "only reshaping functions need their own rule"
    node = _parsed(record, record.render(_arg(record)))
    if record.kind == ELEMENTWISE:
        assert node.shape == node.arg.shape


@each
def test_the_jax_evaluation_runs_has_the_parsed_shape_and_is_differentiable(record):
    node = _parsed(record, record.render(_arg(record)))
    a = jnp.asarray(SAMPLE[_arg(record)])
    value = record.evaluate(a)
    assert value.shape == concrete(node.shape, SIZES)
    assert np.all(np.isfinite(np.asarray(value)))
    grad = jax.grad(lambda x: jnp.sum(record.evaluate(x)))(a)  # the checker differentiates through it
    assert np.all(np.isfinite(np.asarray(grad)))


def _namespace() -> dict:
    ns = {"jax": jax, "jnp": jnp, "np": np, "scipy": scipy}
    exec(HELPERS["sigmoid"], ns)  # noqa: S102 - the function dialect's own helper
    for text in JAX_HELPERS.values():  # the JAX dialect's own definitions (sqrtm, logm)
        exec(text, ns)  # noqa: S102
    return ns


@each
@pytest.mark.parametrize("dialect", DIALECT_KEYS)
def test_every_dialect_has_code_that_agrees_with_jax_or_a_reason(record, dialect):
    code = record.code(dialect)
    if isinstance(code, NoCode):
        assert code.reason.strip(), f"{record.name}: {dialect} has no code and no reason"
        return
    assert isinstance(code, Code)
    node = _parsed(record, record.render(_arg(record)))
    xp = {"jax": "jnp", "numpy": "np", "function": "np"}[dialect]
    text = fill(code, node, _Code(_arg(record)), lambda d: str(d.size(SIZES)), xp).text
    value = eval(text, {**_namespace(), **SAMPLE})  # noqa: S307 - the record's own template
    expected = np.asarray(record.evaluate(jnp.asarray(SAMPLE[_arg(record)])))
    # The function dialect holds vectors as 1-D arrays and scalars as floats: compare the entries.
    np.testing.assert_allclose(np.ravel(np.real(value)), np.ravel(expected), rtol=1e-10, atol=1e-12,
                               err_msg=f"{record.name} in {dialect}: {text}")


@each
def test_the_conventions_table_lists_it(record):
    rows = [row for row in functions_table().splitlines() if f"| {record.meaning} |" in row]
    assert len(rows) == 1
    assert f"`{record.latex}`" in rows[0] or record.latex.startswith(r"\left")
    assert f"| {record.kind} |" in rows[0]


def test_the_parser_reads_its_tables_off_the_records():
    assert _syntax.FUNCS == {c for r in RECORDS for c in r.commands}
    assert set(WORDS.values()) | set(GREEK.values()) <= set(FUNCTIONS)
    assert all(r.name == name for name, r in FUNCTIONS.items())


def test_the_table_has_one_row_per_record():
    rows = functions_table().splitlines()[2:]
    assert len(rows) == len(RECORDS)
    assert len(functions_table(RECORDS[:2]).splitlines()) == 4


@each
def test_the_other_layout_moves_a_transpose_into_an_elementwise_function(record):
    """f(X)ᵀ = f(Xᵀ) value by value, so writing an identity in the other layout may simplify through f."""
    if record.kind != ELEMENTWISE or record.argument == "scalar":
        pytest.skip("not applied value by value to a matrix")
    from matref._layouts import other_layout_latex

    where = r"x \in \mathbb{R}^{n}, X \in \mathbb{S}^{n}, A \in \mathbb{R}^{n \times n}"
    # A Jacobian side is transposed in the other layout, and so is every other side: F(X)ᵀ = F(Xᵀ) = F(X).
    sides = parse_identity(rf"\frac{{\partial A x}}{{\partial x}} = {record.render('X')}", where).equation.sides
    assert other_layout_latex(sides, frozenset("X")).endswith(" = " + record.render("X"))
