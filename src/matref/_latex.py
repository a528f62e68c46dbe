"""Typed tree -> LaTeX in the formula language (so the output parses back to the same tree).
Used for error messages and for writing an identity in the other layout."""

from __future__ import annotations

from ._functions import FUNCTIONS
from ._shapes import kind
from ._tree import (Add, Binary, Call, Const, Deriv, Differential, Div, Entry, FnValue, Hessian, Inverse, Mul,
                    Node, Norm, Num, Power, Size, Transpose, Unit, Var)

# Binding strength: a child weaker than its context is parenthesised.
SUM, KRON, PRODUCT, PREFIX, ATOM = 1, 2, 3, 4, 5


def precedence(node: Node) -> int:
    if isinstance(node, Add):
        return SUM if len(node.terms) > 1 or node.terms[0][0] < 0 else precedence(node.terms[0][1])
    if isinstance(node, Binary):
        return KRON
    if isinstance(node, Mul):
        return PRODUCT
    if isinstance(node, (Deriv, Differential)) and _prefix_form(node):
        return PREFIX
    return ATOM


def _prefix_form(node: Node) -> bool:
    if isinstance(node, Deriv):
        return node.written.startswith("nabla") or node.written == "op"
    return isinstance(node, Differential) and not isinstance(node.x, (Var, Const))


def wrap(node: Node, at_least: int) -> str:
    text = latex(node)
    return rf"\left({text}\right)" if precedence(node) < at_least else text


def _base(node: Node) -> str:
    """The base of a superscript: atoms as they are, anything else in parentheses."""
    plain = isinstance(node, (Var, Const, Norm, Entry, Size)) or (isinstance(node, Num) and node.value >= 0) \
        or (isinstance(node, FnValue) and not node.explicit)
    text = latex(node)
    return text if plain else rf"\left({text}\right)"


def _wrt(node: Node, transposed: bool = False) -> str:
    text = latex(node)
    if transposed:
        text = _base(node) + "^T" if not isinstance(node, Call) else text + "^T"
    return text


def latex(node: Node) -> str:
    """The LaTeX of a typed tree."""
    if isinstance(node, Var):
        return node.latex
    if isinstance(node, FnValue):
        return rf"{node.latex}({latex(node.arg)})" if node.explicit else node.latex
    if isinstance(node, Num):
        return node.text
    if isinstance(node, Entry):
        sub = "".join(str(c) for c in node.indices)
        base = node.var.latex if isinstance(node.var, Var) else rf"\left({latex(node.var)}\right)"
        return f"{base}_{{{sub}}}"
    if isinstance(node, Size):
        return node.name
    if isinstance(node, Unit):
        return f"J^{{{''.join(node.indices)}}}"
    if isinstance(node, Const):
        if node.which == "I" and getattr(node, "sized", None):  # I_{n}: a size context cannot give (I ⊗ a)
            return f"I_{{{node.sized}}}"
        return {"I": "I", "0": "0", "1": r"\mathbf{1}", "pi": r"\pi"}[node.which]
    if isinstance(node, Add):
        out = []
        for i, (sign, term) in enumerate(node.terms):
            text = wrap(term, KRON)
            if i == 0:
                out.append(("-" if sign < 0 else "") + text)
            else:
                out.append(("- " if sign < 0 else "+ ") + text)
        return " ".join(out)
    if isinstance(node, Mul):
        parts = []
        for i, f in enumerate(node.factors):
            text = wrap(f, PRODUCT if i == len(node.factors) - 1 else ATOM)
            prev = node.factors[i - 1] if i else None
            # `2 3` would read as 23, and `u (x)` as u applied to x: separate those with \cdot.
            if parts and (isinstance(f, Num) or text[0].isdigit()
                          or (isinstance(prev, FnValue) and not prev.explicit and text.startswith(("(", r"\left(")))):
                parts.append(r"\cdot")
            parts.append(text)
        return " ".join(parts)
    if isinstance(node, Binary):
        op = r"\otimes" if node.op == "kron" else r"\odot"
        return f"{wrap(node.left, PRODUCT)} {op} {wrap(node.right, PRODUCT)}"
    if isinstance(node, Transpose):
        if isinstance(node.x, Inverse):
            return _base(node.x.x) + "^{-T}"
        return _base(node.x) + "^T"
    if isinstance(node, Inverse):
        if isinstance(node.x, Transpose):
            return _base(node.x.x) + "^{-T}"
        return _base(node.x) + "^{-1}"
    if isinstance(node, Power):
        return _base(node.x) + "^{" + latex(node.p) + "}"
    if isinstance(node, Div):
        num = latex(node.num)
        if num.startswith(r"\partial"):  # \frac{\partial x}{2} would read as a derivative
            num = rf"\left({num}\right)"
        return rf"\frac{{{num}}}{{{latex(node.den)}}}"
    if isinstance(node, Call):
        return FUNCTIONS[node.fn].render(latex(node.arg))
    if isinstance(node, Norm):
        sub = "_F" if node.p == "F" else f"_{node.p}"
        return rf"\left\|{latex(node.x)}\right\|{sub}"
    if isinstance(node, Deriv):
        flip = node.written.endswith("-T")
        if node.written.startswith("nabla"):
            return rf"\nabla_{{{_wrt(node.wrt, flip)}}} {wrap(node.f, PRODUCT)}"
        return rf"\frac{{\partial {wrap(node.f, PRODUCT)}}}{{\partial {_wrt(node.wrt, flip)}}}"
    if isinstance(node, Hessian):
        if node.a is node.b or latex(node.a) == latex(node.b):
            den = rf"\partial {latex(node.a)} \partial {_wrt(node.a, kind(node.a.shape) != 'scalar')}"
        else:
            den = rf"\partial {latex(node.a)} \partial {_wrt(node.b, kind(node.b.shape) != 'scalar')}"
        return rf"\frac{{\partial^2 {wrap(node.f, PRODUCT)}}}{{{den}}}"
    if isinstance(node, Differential):
        if isinstance(node.x, (Var, Const)):
            return rf"\partial {latex(node.x)}"
        return rf"\partial\left({latex(node.x)}\right)"
    raise TypeError(f"no LaTeX for {type(node).__name__}")  # pragma: no cover


def equation_latex(sides: list[Node]) -> str:
    return " = ".join(latex(s) for s in sides)
