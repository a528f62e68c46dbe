"""One record per infix product of the language (every value `Binary.op` can take): ⊗, ⊙, ⊘.

As with the function records (`_functions`), a record holds everything matref knows about its
operator: the LaTeX commands the parser reads as it, its shape rule, its JAX evaluation, its code in
each snippet dialect, its differential for `matref derive` and its row of the Conventions page.
The lexer, the resolver, the LaTeX renderer, the evaluator, the snippet generators, `derive` and the
site read these records, so adding an operator is one record here plus the checks that
tests/test_operators.py runs on every record.

These operators bind more loosely than ordinary products: A B ⊗ C is (AB) ⊗ C. Transposes,
inverses and powers are not records: they are the superscripts of the product algebra itself, and
each stage treats them as part of its grammar of products.

Like `_functions`, this module imports neither JAX nor NumPy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ._shapes import Shape


@dataclass(frozen=True)
class Operand:
    """An operand's code, as a snippet generator hands it to a record: as written, parenthesised to
    be an atom (`(a + b).T`), parenthesised to be a factor of a product (`(a + b) * c`), and its form
    in the dialect ("scalar", "col", "row" or "matrix"; the function dialect holds vectors 1-D)."""

    text: str
    atom: str
    factor: str
    form: str = "matrix"


@dataclass(frozen=True)
class Operator:
    """One infix product of the formula language. See the module docstring."""

    name: str  # the value of Binary.op
    commands: tuple[str, ...]  # LaTeX commands read as it; the first is how matref writes it
    symbol: str  # the Unicode character, for search previews and messages
    title: str  # its name in a sentence: "the Kronecker product"
    meaning: str  # what it is, for the Conventions page (Markdown)
    operands: str  # what it takes, for the Conventions page and the message when the shapes do not fit
    # (left shape, right shape, unify) -> the result's shape, or None when the operands do not fit;
    # `unify(a, b)` makes two shapes equal (it may bind unknown sizes) and says whether it could
    shape: Callable[[Shape, Shape, Callable], Shape | None]
    evaluate: Callable  # JAX: the value (a 2-D array) from the operands' values (2-D arrays)
    # (left, right, array module) -> (code, binds), binds "atom" (a call) or "product" (an infix that
    # binds as a factor of a product), in the JAX check script and the NumPy closed form (`xp` is
    # `jnp` or `np`), and in the function dialect (plain NumPy, vectors 1-D: the operands' forms known)
    code: Callable[[Operand, Operand, str], tuple[str, str]]
    function: Callable[[Operand, Operand], tuple[str, str]]
    # `matref derive`: d(A op B) = d_left(b, A, B, dA) + d_right(b, A, B, dB), each a (sign, term),
    # built with the tree builders `b` of matref._derive (so this module needs no tree code)
    d_left: Callable
    d_right: Callable

    @property
    def latex(self) -> str:
        return "\\" + self.commands[0]


def _jnp():
    import jax.numpy as jnp
    return jnp


def _same_shape(a: Shape, b: Shape, unify: Callable) -> Shape | None:
    return a if unify(a, b) else None


def _kron_shape(a: Shape, b: Shape, unify: Callable) -> Shape:
    # sizes of I in I ⊗ X may still be unknown: unification divides them out later
    return (a[0] * b[0], a[1] * b[1])


def _kron_function(a: Operand, b: Operand) -> tuple[str, str]:
    if "scalar" in (a.form, b.form):  # a scalar's Kronecker product is a plain product
        return f"{a.factor} * {b.factor}", "product"
    if a.form == b.form and a.form != "matrix":  # col⊗col and row⊗row stay 1-D
        return f"np.kron({a.text}, {b.text})", "atom"
    if (a.form, b.form) == ("col", "row"):
        return f"np.outer({a.text}, {b.text})", "atom"
    if (a.form, b.form) == ("row", "col"):
        return f"np.outer({b.text}, {a.text})", "atom"
    two_d = {"col": "[:, None]", "row": "[None, :]", "matrix": ""}  # np.kron needs the orientation
    return f"np.kron({a.atom}{two_d[a.form]}, {b.atom}{two_d[b.form]})", "atom"


OPERATORS: dict[str, Operator] = {op.name: op for op in (
    Operator(
        name="kron", commands=("otimes",), symbol="⊗", title="the Kronecker product",
        meaning="Kronecker product: the block matrix of the blocks $a_{ij} B$",
        operands="any two operands",
        shape=_kron_shape,
        evaluate=lambda a, b: _jnp().kron(a, b),
        code=lambda a, b, xp: (f"{xp}.kron({a.text}, {b.text})", "atom"),
        function=_kron_function,
        d_left=lambda b, A, B, dA: (1, b.binary("kron", dA, B)),
        d_right=lambda b, A, B, dB: (1, b.binary("kron", A, dB)),
    ),
    Operator(
        name="hadamard", commands=("odot", "circ"), symbol="⊙", title="the Hadamard product",
        meaning="Hadamard (elementwise) product",
        operands="operands of one shape",
        shape=_same_shape,
        evaluate=lambda a, b: a * b,
        code=lambda a, b, xp: (f"{a.factor} * {b.factor}", "product"),
        function=lambda a, b: (f"{a.factor} * {b.factor}", "product"),
        d_left=lambda b, A, B, dA: (1, b.binary("hadamard", dA, B)),
        d_right=lambda b, A, B, dB: (1, b.binary("hadamard", A, dB)),
    ),
    Operator(
        name="hdiv", commands=("oslash",), symbol="⊘", title="the Hadamard division",
        meaning="Hadamard (elementwise) division: $(A \\oslash B)_{ij} = a_{ij} / b_{ij}$",
        operands="operands of one shape",
        shape=_same_shape,
        evaluate=lambda a, b: a / b,
        code=lambda a, b, xp: (f"{a.factor} / {b.atom}", "product"),
        function=lambda a, b: (f"{a.factor} / {b.atom}", "product"),
        # d(A ⊘ B) = dA ⊘ B - (A ⊙ dB) ⊘ (B ⊙ B)
        d_left=lambda b, A, B, dA: (1, b.binary("hdiv", dA, B)),
        d_right=lambda b, A, B, dB: (-1, b.binary("hdiv", b.binary("hadamard", A, dB), b.binary("hadamard", B, B))),
    ),
)}

# LaTeX command (without its backslash) -> operator name: what the lexer and the resolver read
COMMANDS: dict[str, str] = {c: op.name for op in OPERATORS.values() for c in op.commands}
