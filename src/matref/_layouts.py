"""Write an identity in the other layout.

In layout L' every layout-dependent derivative D equals the transpose of its value in L. So an
identity that holds in L holds in L' once each such D is replaced by Dᵀ; where a whole side is
such a Dᵀ, every side is transposed instead, and transposes are pushed inwards
((AB)ᵀ = BᵀAᵀ, (Aᵀ)ᵀ = A, scalars and symmetric matrices are their own transposes).
"""

from __future__ import annotations

import copy
import dataclasses

from ._errors import Unsupported
from ._functions import ELEMENTWISE, of_kind
from ._latex import equation_latex, latex
from ._shapes import kind
from ._tree import (Add, Binary, Call, Const, Deriv, Div, Hessian, Inverse, Mul, Node, Power, SumOver, Transpose,
                    Unit, Var)

# f(X)ᵀ = f(Xᵀ) for a function applied value by value.
TRANSPOSE_COMMUTES = of_kind(ELEMENTWISE)


def layout_dependent(node: Deriv) -> bool:
    """Whether this derivative's value changes with the layout (∇ and matrix-by-scalar do not)."""
    if node.written.startswith("nabla"):
        return False
    fk, xk = kind(node.f.shape), kind(node.wrt.shape)
    if fk == "scalar" and xk == "scalar":
        return False
    if fk == "matrix" and xk == "scalar":
        return False
    return True


def is_layout_independent(sides: list[Node]) -> bool:
    return not any(isinstance(n, Deriv) and layout_dependent(n) for s in sides for n in s.walk())


def other_layout_latex(sides: list[Node], symmetric: frozenset[str] = frozenset()) -> str:
    """The same identity as LaTeX for the other layout (equal to the input when layout-independent)."""
    sides = [_swap(s) for s in sides]
    if isinstance(sides[0], Transpose):
        sides = [simplify_transpose(s.x if isinstance(s, Transpose) else s, symmetric, transpose=not isinstance(s, Transpose))
                 for s in sides]
    sides = [_tidy(s, symmetric) for s in sides]
    for side in sides:
        for node in side.walk():
            if isinstance(node, Add) and node.over is not None and node.over.sized and node.over.body is None:
                o = node.over
                raise Unsupported(f"the other layout of \\sum_{{{o.index}={latex(o.lower)}}}^{{{latex(o.upper)}}} "
                                  "cannot be derived: its terms need the index as a number; write the formula for "
                                  "the other layout out")
    return equation_latex(sides, sums=True)


def _over(node: Add, body: Node | None) -> SumOver | None:
    """The written form of a sum whose terms were rewritten, with its body rewritten the same way."""
    if node.over is None:
        return None
    return dataclasses.replace(node.over, body=body)


def swap_derivatives(node: Node) -> Node:
    """`node` read in the other layout: every layout-dependent derivative D in it becomes Dᵀ."""
    return _swap(node)


def _swap(node: Node) -> Node:
    """Replace every layout-dependent derivative D by Dᵀ (inside derivatives too)."""
    node = copy.copy(node)
    for attr in ("f", "wrt", "x", "arg", "num", "den", "left", "right", "p", "a", "b"):
        if hasattr(node, attr) and isinstance(getattr(node, attr), Node) and not (isinstance(node, Deriv) and attr == "wrt"):
            setattr(node, attr, _swap(getattr(node, attr)))
    if isinstance(node, Add):
        node.terms = tuple((s, _swap(t)) for s, t in node.terms)
        node.over = _over(node, node.over and node.over.body and _swap(node.over.body))
    if isinstance(node, Mul):
        node.factors = tuple(_swap(f) for f in node.factors)
    if isinstance(node, Deriv) and layout_dependent(node):
        t = Transpose(node)
        t.shape = (node.shape[1], node.shape[0])
        return t
    return node


def _t(x: Node) -> Node:
    t = Transpose(x)
    t.shape = (x.shape[1], x.shape[0])
    return t


def simplify_transpose(node: Node, symmetric: frozenset[str], transpose: bool = True) -> Node:
    """`node` (transposed if `transpose`) with transposes pushed down to the leaves."""
    if not transpose:
        return _tidy(node, symmetric)
    if kind(node.shape) == "scalar":
        return _tidy(node, symmetric)
    if isinstance(node, Transpose):
        return _tidy(node.x, symmetric)
    if isinstance(node, Var):
        return node if node.name in symmetric else _t(node)
    if isinstance(node, Unit):  # (J^{ij})ᵀ = J^{ji}
        u = Unit(node.indices[::-1])
        u.shape = (node.shape[1], node.shape[0])
        return u
    if isinstance(node, Const):
        if node.which == "I":
            return node
        if node.which == "0":
            c = copy.copy(node)
            c.shape = (node.shape[1], node.shape[0])
            return c
        return _t(node)  # the ones vector: its transpose is a row
    if isinstance(node, Add):
        out = Add(tuple((s, simplify_transpose(t, symmetric)) for s, t in node.terms),
                  _over(node, node.over and node.over.body and simplify_transpose(node.over.body, symmetric)))
    elif isinstance(node, Mul):
        # (AB)ᵀ = BᵀAᵀ. Scalar parts (a single 1×1 factor, or a run such as xᵀAx whose product is
        # 1×1) commute, so they stay in front, grouped, where a reader expects them.
        scalars, chain = [], []
        for block in _blocks(node.factors):
            if kind(_block_shape(block)) == "scalar":
                scalars.append(_tidy(block[0], symmetric) if len(block) == 1 else _group(block, symmetric))
            else:
                chain.extend(block)
        others = [simplify_transpose(f, symmetric) for f in reversed(chain)]
        out = Mul(tuple(scalars + others)) if len(scalars) + len(others) > 1 else (scalars + others)[0]
        if not isinstance(out, Mul):
            return out
    elif isinstance(node, Binary):
        out = Binary(node.op, simplify_transpose(node.left, symmetric), simplify_transpose(node.right, symmetric))
    elif isinstance(node, Inverse):
        out = Inverse(simplify_transpose(node.x, symmetric))
    elif isinstance(node, Power):
        out = Power(simplify_transpose(node.x, symmetric), node.p)
    elif isinstance(node, Div):
        out = Div(simplify_transpose(node.num, symmetric), node.den)
    elif isinstance(node, Call) and node.fn in TRANSPOSE_COMMUTES:
        out = Call(node.fn, simplify_transpose(node.arg, symmetric))
    elif isinstance(node, Call) and node.fn == "diag" and kind(node.arg.shape) == "vector":
        return _tidy(node, symmetric)
    elif isinstance(node, Hessian):
        out = Hessian(node.f, node.b, node.a, node.written)
    else:
        return _t(_tidy(node, symmetric))
    out.shape = (node.shape[1], node.shape[0])
    return out


def _blocks(factors) -> list[list[Node]]:
    """Split a product, read left to right as it is evaluated, into runs: each run either has a
    1×1 product (a scalar) or is part of the matrix chain."""
    blocks: list[list[Node]] = []
    current: list[Node] = []
    shape = None
    for f in factors:
        if kind(f.shape) == "scalar" and current:
            blocks.append([f])  # a lone scalar factor
            continue
        if current and kind(shape) == "scalar":
            blocks.append(current)
            current, shape = [], None
        current.append(f)
        shape = f.shape if shape is None else (shape[0], f.shape[1])
    if current:
        blocks.append(current)
    return blocks


def _block_shape(block: list[Node]):
    return (block[0].shape[0], block[-1].shape[1])


def _group(block: list[Node], symmetric: frozenset[str]) -> Node:
    m = Mul(tuple(_tidy(f, symmetric) for f in block))
    m.shape = _block_shape(block)
    return m


def _tidy(node: Node, symmetric: frozenset[str]) -> Node:
    """Simplify transposes wherever they occur below `node`."""
    if isinstance(node, Transpose):
        return simplify_transpose(node.x, symmetric)
    node = copy.copy(node)
    if isinstance(node, Add):
        node.terms = tuple((s, _tidy(t, symmetric)) for s, t in node.terms)
        node.over = _over(node, node.over and node.over.body and _tidy(node.over.body, symmetric))
    elif isinstance(node, Mul):
        flat = []
        for f in node.factors:
            f = _tidy(f, symmetric)
            flat.extend(f.factors if isinstance(f, Mul) else [f])
        node.factors = tuple(flat)
    else:
        for attr in ("f", "x", "arg", "num", "den", "left", "right"):
            if hasattr(node, attr) and isinstance(getattr(node, attr), Node):
                setattr(node, attr, _tidy(getattr(node, attr), symmetric))
    return node


