"""Wrong variants of a true identity: the right side transposed, doubled, negated, or with two
factors of a product swapped. A mutant that happens to equal the original (say, the transpose of a
symmetric result) is not wrong, so `mutants` keeps only those that differ from the original right
side at random inputs."""

from __future__ import annotations

import copy
import dataclasses

import matref
from matref._latex import equation_latex, latex
from matref._shapes import kind
from matref._tree import Add, Call, Const, Mul, Node, Num, SumOver, Transpose


def _double(node: Node) -> Node:
    two = Num(2.0, "2")
    m = Mul((two, node))
    m.shape = node.shape
    return m


def _negate(node: Node) -> Node:
    a = Add(((-1, node),))
    a.shape = node.shape
    return a


def _transpose(node: Node) -> Node | None:
    if kind(node.shape) == "scalar" or node.shape[0] != node.shape[1]:
        return None
    t = Transpose(node)
    t.shape = node.shape
    return t


def _walk(node: Node):
    """The nodes below `node` as written: a sum's terms written once (with the index free), not its
    expansion at the sizes it was read at (which a mutant must not change, or it would hold at one size only)."""
    yield node
    over = getattr(node, "over", None)
    children = (over.body,) if over is not None and over.body is not None else node.children()
    for c in children:
        yield from _walk(c)


def _swap(node: Node) -> Node | None:
    """Swap the first two adjacent non-scalar factors of the first product found."""
    for n in _walk(node):
        if isinstance(n, Mul):
            fs = list(n.factors)
            for i in range(len(fs) - 1):
                if kind(fs[i].shape) != "scalar" and kind(fs[i + 1].shape) != "scalar":
                    fs[i], fs[i + 1] = fs[i + 1], fs[i]
                    swapped = copy.copy(n)
                    swapped.factors = tuple(fs)
                    return _replace(node, n, swapped)
    return None


def _replace(root: Node, old: Node, new: Node) -> Node:
    if root is old:
        return new
    root = copy.copy(root)
    for attr, value in list(vars(root).items()):
        if isinstance(value, SumOver) and value.body is not None:
            setattr(root, attr, dataclasses.replace(value, body=_replace(value.body, old, new)))
        elif isinstance(value, Node):
            setattr(root, attr, _replace(value, old, new))
        elif isinstance(value, tuple) and value and isinstance(value[0], Node):
            setattr(root, attr, tuple(_replace(v, old, new) for v in value))
        elif isinstance(value, tuple) and value and isinstance(value[0], tuple):
            setattr(root, attr, tuple((s, _replace(t, old, new)) for s, t in value))
    return root


def _drop_conjugate(node: Node) -> Node | None:
    """The first conjugate (z̄, or the conjugate inside Z^H) left out: Z^H becomes Z^T, z̄ becomes z."""
    for n in node.walk():
        if isinstance(n, Call) and n.fn == "conj":
            return _replace(node, n, n.arg)
    return None


def _h_as_t(node: Node) -> Node | None:
    """Every conjugate transpose Z^H written as a plain transpose Z^T (a common slip from real formulas)."""
    found = [n for n in node.walk() if isinstance(n, Transpose) and isinstance(n.x, Call) and n.x.fn == "conj"]
    for n in found:
        t = Transpose(n.x.arg)
        t.shape = n.shape
        node = _replace(node, n, t)
    return node if found else None


MUTATIONS = {"doubled": _double, "negated": _negate, "transposed": _transpose, "swapped": _swap}
# Complex slips, tried on every entry whose right side has a conjugate (tests/test_catalogue.py).
COMPLEX_MUTATIONS = {"conjugate dropped": _drop_conjugate, "H as T": _h_as_t}


def mutants(formula: str, where: str, layout: str, kinds=tuple(MUTATIONS)) -> list[tuple[str, str]]:
    """(name, mutated formula) for each mutation in `kinds` that changes the value of the right side."""
    ident = matref.parse_identity(formula, where, layout)
    sides = ident.equation.sides
    out = []
    for name in kinds:
        new_rhs = {**MUTATIONS, **COMPLEX_MUTATIONS}[name](sides[-1])
        if new_rhs is None:
            continue
        mutated = equation_latex(sides[:-1] + [new_rhs], sums=True)
        if name in ("doubled", "negated") and not (isinstance(sides[-1], Const) and sides[-1].which == "0"):
            out.append((name, mutated))  # 2R and -R differ from a right side R that is not identically 0
            continue
        # One draw per size plan, the plans in turn until one refutes: a wrong mutant differs at any draw.
        same = matref.check(f"{latex(sides[-1], True)} = {latex(new_rhs, True)}", where, layout,
                            draws=1, quick=True)
        if same.status != "refuted":
            continue  # an equivalent mutant (the transpose of a symmetric result, say): not wrong
        out.append((name, mutated))
    return out
