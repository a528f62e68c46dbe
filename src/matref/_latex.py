"""Typed tree -> LaTeX in the formula language (so the output parses back to the same tree).
Used for error messages and for writing an identity in the other layout."""

from __future__ import annotations

from ._functions import FUNCTIONS
from ._operators import OPERATORS
from ._shapes import kind
from ._tree import (Add, Binary, Block, Call, Const, Deriv, Differential, Div, Entry, FnValue, Hessian, Integral,
                    Inverse, Mul, Node, Norm, Num, Param, Pattern, Power, Size, Transpose, Unit, Var)

# Binding strength: a child weaker than its context is parenthesised.
SUM, KRON, PRODUCT, PREFIX, ATOM = 1, 2, 3, 4, 5


def precedence(node: Node, sums: bool = False) -> int:
    if isinstance(node, Add):
        if sums and _written_as_sum(node):
            return PRODUCT  # \sum_{i=1}^{n} F binds like a product: its terms run to the end of one
        return SUM if len(node.terms) > 1 or node.terms[0][0] < 0 else precedence(node.terms[0][1], sums)
    if isinstance(node, Binary):
        return KRON
    if isinstance(node, Mul):
        return PRODUCT
    if isinstance(node, (Deriv, Differential)) and _prefix_form(node) or isinstance(node, Integral):
        return PREFIX
    return ATOM


def _prefix_form(node: Node) -> bool:
    if isinstance(node, Deriv):
        return node.written.startswith("nabla") or node.written == "op"
    return isinstance(node, Differential) and not isinstance(node.x, (Var, Const))


def _written_as_sum(node: Add) -> bool:
    return node.over is not None and node.over.body is not None


def wrap(node: Node, at_least: int, sums: bool = False) -> str:
    text = latex(node, sums)
    return rf"\left({text}\right)" if precedence(node, sums) < at_least else text


def _base(node: Node, sums: bool = False) -> str:
    """The base of a superscript: atoms as they are, anything else in parentheses."""
    plain = isinstance(node, (Var, Const, Norm, Entry, Size, Pattern)) or (isinstance(node, Num) and node.value >= 0) \
        or (isinstance(node, FnValue) and not node.explicit)
    text = latex(node, sums)
    return text if plain else rf"\left({text}\right)"


def _wrt(node: Node, transposed: bool = False, sums: bool = False) -> str:
    text = latex(node, sums)
    if transposed:
        text = _base(node, sums) + "^T" if not isinstance(node, Call) else text + "^T"
    return text


def _conjugate(node: Node) -> Node | None:
    """The argument of a conjugate, else None."""
    return node.arg if isinstance(node, Call) and node.fn == "conj" else None


def latex(node: Node, sums: bool = False) -> str:
    """The LaTeX of a typed tree. With `sums`, a \\sum is written as a sum where its terms can be
    written with the index free (else as its terms, at the sizes it was read at)."""
    if isinstance(node, Var):
        return node.latex
    if isinstance(node, FnValue):
        return rf"{node.latex}({latex(node.arg, sums)})" if node.explicit else node.latex
    if isinstance(node, Num):
        return node.text
    if isinstance(node, Entry):
        sub = "".join(str(c) for c in node.indices)
        base = node.var.latex if isinstance(node.var, Var) else rf"\left({latex(node.var, sums)}\right)"
        return f"{base}_{{{sub}}}"
    if isinstance(node, Size):
        return node.name
    if isinstance(node, Unit):
        return f"J^{{{''.join(node.indices)}}}"
    if isinstance(node, Param):
        return node.name
    if isinstance(node, Block):
        rows = r" \\ ".join(" & ".join(latex(b) for b in row) for row in node.rows)
        return rf"\begin{{bmatrix}} {rows} \end{{bmatrix}}"
    if isinstance(node, Pattern):
        return f"{node.which}_{{{node.text}}}"
    if isinstance(node, Integral):
        return rf"\int_{{{node.lo_text}}}^{{{node.hi_text}}} {wrap(node.body, PRODUCT)} \, \mathrm{{d}}{node.var}"
    if isinstance(node, Const):
        if node.which == "I" and getattr(node, "sized", None):  # I_{n}: a size context cannot give (I ⊗ a)
            return f"I_{{{node.sized}}}"
        return {"I": "I", "0": "0", "1": r"\mathbf{1}", "pi": r"\pi", "i": "i"}[node.which]
    if isinstance(node, Add) and sums and _written_as_sum(node):
        o = node.over
        return rf"\sum_{{{o.index}={latex(o.lower)}}}^{{{latex(o.upper)}}} {wrap(o.body, PRODUCT, sums)}"
    if isinstance(node, Add):
        out = []
        for i, (sign, term) in enumerate(node.terms):
            text = wrap(term, KRON, sums)
            if i == 0:
                out.append(("-" if sign < 0 else "") + text)
            else:
                out.append(("- " if sign < 0 else "+ ") + text)
        return " ".join(out)
    if isinstance(node, Mul):
        parts = []
        for i, f in enumerate(node.factors):
            text = wrap(f, PRODUCT if i == len(node.factors) - 1 else ATOM, sums)
            prev = node.factors[i - 1] if i else None
            # `2 3` would read as 23, and `u (x)` as u applied to x: separate those with \cdot.
            if parts and (isinstance(f, Num) or text[0].isdigit()
                          or (isinstance(prev, FnValue) and not prev.explicit and text.startswith(("(", r"\left(")))):
                parts.append(r"\cdot")
            parts.append(text)
        return " ".join(parts)
    if isinstance(node, Binary):
        # a divisor that is a product is parenthesised, so that x ⊘ (2 y) cannot be read as (x ⊘ 2) y
        right = PREFIX if node.op == "hdiv" else PRODUCT
        return f"{wrap(node.left, PRODUCT, sums)} {OPERATORS[node.op].latex} {wrap(node.right, right, sums)}"
    if isinstance(node, Transpose):
        if _conjugate(node.x) is not None:  # the conjugate transpose
            inner = _conjugate(node.x)
            if isinstance(inner, Inverse):
                return _base(inner.x) + "^{-H}"
            return _base(inner) + "^H"
        if isinstance(node.x, Inverse):
            return _base(node.x.x, sums) + "^{-T}"
        return _base(node.x, sums) + "^T"
    if isinstance(node, Inverse):
        if isinstance(node.x, Transpose):
            return _base(node.x.x, sums) + "^{-T}"
        return _base(node.x, sums) + "^{-1}"
    if isinstance(node, Power):
        return _base(node.x, sums) + "^{" + latex(node.p, sums) + "}"
    if isinstance(node, Div):
        num = latex(node.num, sums)
        if num.startswith(r"\partial"):  # \frac{\partial x}{2} would read as a derivative
            num = rf"\left({num}\right)"
        return rf"\frac{{{num}}}{{{latex(node.den, sums)}}}"
    if isinstance(node, Call):
        if node.fn == "conj" and isinstance(node.arg, Transpose):  # conj(Xᵀ) = X^H
            return latex(Transpose(Call("conj", node.arg.x)), sums)
        if node.index is not None:
            return FUNCTIONS[node.fn].render(latex(node.arg, sums), str(node.index))
        return FUNCTIONS[node.fn].render(latex(node.arg, sums))
    if isinstance(node, Norm):
        sub = "_F" if node.p == "F" else f"_{node.p}"
        return rf"\left\|{latex(node.x, sums)}\right\|{sub}"
    if isinstance(node, Deriv):
        flip = node.written.endswith("-T")
        if node.written.startswith("nabla"):
            return rf"\nabla_{{{_wrt(node.wrt, flip, sums=sums)}}} {wrap(node.f, PRODUCT, sums)}"
        return rf"\frac{{\partial {wrap(node.f, PRODUCT, sums)}}}{{\partial {_wrt(node.wrt, flip, sums=sums)}}}"
    if isinstance(node, Hessian):
        if node.a is node.b or latex(node.a, sums) == latex(node.b, sums):
            den = rf"\partial {latex(node.a, sums)} \partial {_wrt(node.a, kind(node.a.shape) != 'scalar')}"
        else:
            den = rf"\partial {latex(node.a, sums)} \partial {_wrt(node.b, kind(node.b.shape) != 'scalar')}"
        return rf"\frac{{\partial^2 {wrap(node.f, PRODUCT, sums)}}}{{{den}}}"
    if isinstance(node, Differential):
        if isinstance(node.x, (Var, Const)):
            return rf"\partial {latex(node.x, sums)}"
        return rf"\partial\left({latex(node.x, sums)}\right)"
    raise TypeError(f"no LaTeX for {type(node).__name__}")  # pragma: no cover


def equation_latex(sides: list[Node], sums: bool = False) -> str:
    return " = ".join(latex(s, sums) for s in sides)
