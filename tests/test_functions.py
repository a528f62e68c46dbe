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
from matref._functions import (DECOMPOSITION, DIALECT_KEYS, ELEMENTWISE, FUNCTIONS, GREEK, KINDS, LETTERS, MARKS,
                               RESHAPING, WORDS, Code, NoCode, helper_code)
from matref._functions import HELPERS as FUNCTION_HELPERS
from matref._language import parse_identity
from matref._latex import latex
from matref._numeric import concrete
from matref._program import Program
from matref._tree import Call
from matref.site import functions_table
from matref.snippets._common import _Code, fill
from matref.snippets.numpy_function import HELPERS

RECORDS = list(FUNCTIONS.values())
SIZES = {"n": 3}
WHERE = r"X \in \mathbb{R}^{n \times n}, P \in \mathbb{S}^{n}_{++}, B \in \mathbb{R}^{n \times n}, t \in \mathbb{R}"
# Positive entries, so that log and sqrt are real; a random 3×3 matrix, so det and adj are generic
# (and its eigenvalues and singular values distinct); plus I, so that it is positive stable
# (eigenvalues 4.1, 1.5, 0.95) and sqrtm and logm are real; P positive definite, for the Cholesky factor.
_X = np.random.default_rng(0).uniform(0.5, 1.5, (3, 3)) + np.eye(3)
# B has entries in (-1, 1), where arcsin and arccos are real.
SAMPLE = {"X": _X, "P": _X @ _X.T + np.eye(3), "B": _X / 3 - 0.5, "t": np.array([[-0.7]])}
INDEX = 1  # the 0-based value of the index i of an indexed function (\lambda_i(X)) in these checks


def _arg(record) -> str:
    return {"scalar": "t", "positive definite": "P", "entries in [-1, 1]": "B"}.get(record.argument, "X")


def _evaluate(record, a):
    return record.evaluate(a, INDEX) if record.letter else record.evaluate(a)


def _parsed(record, text: str) -> Call:
    node = parse_identity(f"{text} = {text}", WHERE).equation.sides[0]
    assert isinstance(node, Call), f"{text} did not parse as a function call"
    return node


each = pytest.mark.parametrize("record", RECORDS, ids=[r.name for r in RECORDS])


@each
def test_every_spelling_parses_to_the_function(record):
    assert record.spellings, f"{record.name} has no spelling the parser accepts"
    for spelling in record.spellings:
        node = _parsed(record, spelling.replace("#1", _arg(record)).replace("#i", "i"))
        assert node.fn == record.name, spelling
        assert latex(node.arg) == _arg(record)


@each
@pytest.mark.parametrize("inner", ["plain", "compound"])
def test_the_rendering_parses_back_to_the_same_tree(record, inner):
    arg = _arg(record) if inner == "plain" else ("t^{2}" if record.argument == "scalar" else f"{_arg(record)}^T {_arg(record)}")
    text = record.render(arg)
    node = _parsed(record, text)
    assert node.fn == record.name
    assert latex(node) == text  # rendering the parsed tree gives the same LaTeX: a fixed point
    assert repr(_parsed(record, latex(node))) == repr(node)


@each
def test_kind_and_shape_rule(record):
    assert record.kind in KINDS
    assert (record.shape_rule is not None) == (record.kind in (RESHAPING, DECOMPOSITION)), \
        "only reshaping functions and decompositions need their own rule"
    node = _parsed(record, record.render(_arg(record)))
    if record.kind == ELEMENTWISE:
        assert node.shape == node.arg.shape


@each
def test_the_jax_evaluation_runs_has_the_parsed_shape_and_is_differentiable(record):
    node = _parsed(record, record.render(_arg(record)))
    a = np.asarray(SAMPLE[_arg(record)])
    # as the checker runs it: traced by JAX, replayed by NumPy (no XLA compilation per operation)
    value = Program(lambda x: _evaluate(record, x), a)(a)
    assert value.shape == concrete(node.shape, SIZES)
    assert np.all(np.isfinite(value))
    grad = Program(jax.grad(lambda x: jnp.sum(_evaluate(record, x))), a)(a)  # the checker differentiates through it
    assert np.all(np.isfinite(grad))


def _namespace() -> dict:
    ns = {"jax": jax, "jnp": jnp, "np": np, "scipy": scipy}
    exec(HELPERS["sigmoid"], ns)  # noqa: S102 - the function dialect's own helper
    for name in ("sqrtm", "logm", "adjugate"):  # the JAX dialect's own definitions
        exec(helper_code(name, "jnp"), ns)  # noqa: S102 - the registry's own helper
    return ns


def _helpers(code, xp: str) -> dict:
    """The definition a record's code relies on (eigenvector, ...), in the dialect's array module."""
    ns = {"jnp": jnp, "np": np}
    if code.helper in FUNCTION_HELPERS:
        exec(helper_code(code.helper, xp), ns)  # noqa: S102 - the registry's own helper
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
    value = eval(text, {**_namespace(), **_helpers(code, xp), **SAMPLE, "i": INDEX})  # noqa: S307 - the record's own template
    a = np.asarray(SAMPLE[_arg(record)])
    expected = Program(lambda x: _evaluate(record, x), a)(a)  # the checker's value
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
    assert set(WORDS.values()) | set(GREEK.values()) | set(LETTERS.values()) | set(MARKS.values()) <= set(FUNCTIONS)
    assert all((r.letter is None) == (r.index_range is None) for r in RECORDS)
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


# Complex arguments: the functions a complex identity applies value by value (the where clause
# declares \mathbb{C}), evaluated and coded for complex inputs too. Not the matrix sine and cosine,
# whose snippets take the imaginary part of expm(iA) and so hold for real A only.
COMPLEX_SAMPLE = {"X": SAMPLE["X"] + 1j * np.random.default_rng(1).uniform(-1.0, 1.0, (3, 3)),
                  "B": SAMPLE["B"] + 0.3j * np.random.default_rng(2).uniform(-1.0, 1.0, (3, 3)),
                  "t": np.array([[-0.7 + 0.4j]])}
COMPLEX_RECORDS = [r for r in RECORDS if r.kind == ELEMENTWISE and r.name != "sigmoid"]


@pytest.mark.parametrize("record", COMPLEX_RECORDS, ids=[r.name for r in COMPLEX_RECORDS])
@pytest.mark.parametrize("dialect", DIALECT_KEYS)
def test_every_dialect_agrees_with_jax_on_complex_arguments(record, dialect):
    code = record.code(dialect)
    if isinstance(code, NoCode):
        pytest.skip(code.reason)
    where = r"X \in \mathbb{C}^{n \times n}, B \in \mathbb{C}^{n \times n}, t \in \mathbb{C}"
    text_in = record.render(_arg(record))
    node = parse_identity(f"{text_in} = {text_in}", where).equation.sides[0]
    xp = {"jax": "jnp", "numpy": "np", "function": "np"}[dialect]
    text = fill(code, node, _Code(_arg(record)), lambda d: str(d.size(SIZES)), xp).text
    value = eval(text, {**_namespace(), **COMPLEX_SAMPLE})  # noqa: S307 - the record's own template
    expected = np.asarray(record.evaluate(jnp.asarray(COMPLEX_SAMPLE[_arg(record)])))
    assert np.iscomplexobj(expected) or record.name in ("real", "imag", "abs")
    np.testing.assert_allclose(np.ravel(value), np.ravel(expected), rtol=1e-10, atol=1e-12, err_msg=text)


def test_conjugate_real_and_imaginary_parts_are_what_they_say():
    z = jnp.asarray(COMPLEX_SAMPLE["X"])
    conj, re, im = (FUNCTIONS[n].evaluate(z) for n in ("conj", "real", "imag"))
    np.testing.assert_array_equal(np.asarray(re) + 1j * np.asarray(im), np.asarray(z))
    np.testing.assert_array_equal(np.asarray(conj), np.asarray(re) - 1j * np.asarray(im))
    assert np.all(np.asarray(im) != 0)  # the sample is genuinely complex
