"""Symbols and the where clause: a declared variable, a function symbol applied to its
argument (written or implied), the identity I_n, e, \\pi, a size n; and the message for an undeclared one."""

from __future__ import annotations

import copy
import re

from lark import Tree

from .._declarations import Decl, word
from .._errors import CannotCheck, ShapeClash, UndeclaredSymbol
from .._latex import latex
from .._shapes import SCALAR, Dim, show, triangular
from .._tree import Const, FnValue, Node, Num, Param, Pattern, Size, Var


def _size_subscript(sub: str, text: str) -> Dim:
    """The size written as the subscript of I_n: a dimension letter or a number."""
    if sub.isdigit() and int(sub) > 0:
        return Dim(int(sub))
    if len(sub) == 1 and sub.isalpha():
        return Dim(1, (sub,))
    raise CannotCheck(f"{text}: write the identity's size as one letter or a number, e.g. I_{{n}}")


# Function names people type without a backslash, and how to write them.
PLAIN_FUNCTIONS = {"tr": r"\operatorname{tr}", "Tr": r"\operatorname{tr}", "det": r"\det", "log": r"\log",
                   "exp": r"\exp", "diag": r"\operatorname{diag}", "vec": r"\operatorname{vec}",
                   "adj": r"\operatorname{adj}", "logdet": r"\log\det", "sin": r"\sin", "cos": r"\cos"}


def _undeclared(text: str, source: str) -> str:
    """The message for an undeclared symbol, with the likeliest intended meaning when there is one."""
    for word, command in PLAIN_FUNCTIONS.items():
        if re.search(rf"(?<![\\A-Za-z{{]){word}(?![A-Za-z])", source) and text in word:
            return f"{text} is not declared: did you mean the function {command}? (write '{command}', not '{word}')"
    return (f"{text} is not declared; declare it in the where clause, e.g. '{text} \\in \\mathbb{{R}}^{{n \\times n}}' "
            f"(a matrix), '{text} \\in \\mathbb{{R}}^{{n}}' (a vector) or '{text} \\in \\mathbb{{R}}' (a scalar)")


class SymbolsMixin:
    """Reading symbols; mixed into the resolver, which holds the declarations."""

    def symbol(self, key: tuple[str, str], item: Tree) -> Node:
        name, text = key
        decl = self.decls.get(name)
        if name in self.indices:
            return Num(float(self.indices[name]), str(self.indices[name]))
        if name in self.free_indices:  # the letter itself, in a sum's terms written once (never evaluated)
            return self._node(Var(name, text), SCALAR)
        if name in self.params:
            return self._node(Param(name), SCALAR)
        if decl is None:
            if name == "I" or (name.startswith("I_") and "I" not in self.decls):
                c = Const("I")
                d = self.u.fresh() if name == "I" else _size_subscript(name[2:], text)
                c.shape = (d, d)
                return c
            if name == "pi":
                return Const("pi")
            if name == "e":  # Euler's number; e^{x} is read by `power`
                return self._node(Const("e"), SCALAR)
            if name in self.dimension_letters:  # the n of 1/n when x is in R^n: the size drawn
                return self._node(Size(name), SCALAR)
            pattern = self.pattern(name)
            if pattern is not None:
                return pattern
            if name == "i":  # undeclared, not an index and not a size: the imaginary unit
                return self._node(Const("i"), SCALAR)
            entry = self.entry(key)
            if entry is not None:
                return entry
            raise UndeclaredSymbol(_undeclared(text, self.source))
        if decl.kind == "const":
            return Num(float(decl.value), decl.latex)
        if decl.kind == "fn":
            return self.fn_value(decl, None)
        return self._node(Var(name, decl.latex), decl.shape)

    def pattern(self, name: str) -> Node | None:
        """K_{mn} (K_n is K_{nn}), the commutation matrix, or D_n, the duplication matrix, when K or D is
        not declared and the subscript is made of dimension letters or digits; else None."""
        base, _, sub = name.partition("_")
        if base not in ("K", "D") or base in self.decls or not sub:
            return None
        if not all(c.isdigit() and c != "0" or c in self.dimension_letters for c in sub):
            return None
        dims = tuple(Dim(int(c)) if c.isdigit() else Dim(1, (c,)) for c in sub)
        if base == "K" and len(dims) in (1, 2):
            m, n = dims if len(dims) == 2 else dims * 2
            return self._node(Pattern("K", (m, n), sub), (m * n, m * n))
        if base == "D" and len(dims) == 1:
            return self._node(Pattern("D", dims, sub), (dims[0] * dims[0], triangular(dims[0])))
        raise CannotCheck(f"{base}_{{{sub}}}: write the commutation matrix as K_{{mn}} (or K_{{n}}) and the "
                          "duplication matrix as D_{n}, with dimension letters")

    def fn_value(self, decl: Decl, arg: Node | None) -> Node:
        explicit = arg is not None
        if arg is None:
            arg = self.implicit_argument(decl)
        if not self.u.unify_shapes(arg.shape, decl.domain):
            raise ShapeClash(f"{decl.latex} takes a {show(decl.domain)} argument, but {latex(arg)} is "
                             f"{show(self.u.resolve_shape(arg.shape))}")
        return self._node(FnValue(decl.name, decl.latex, arg, explicit), decl.shape)

    def implicit_argument(self, decl: Decl) -> Node:
        """What a bare function symbol is applied to: the innermost variable of differentiation
        with its domain's shape, else the only declared symbol with that shape."""
        for wrt in reversed(self.wrt_stack):
            if isinstance(wrt, (Var, FnValue)) and wrt.shape == decl.domain and wrt.name != decl.name:
                return copy.copy(wrt)
        if decl.name in self.resolving_fns:
            raise CannotCheck(f"the argument of {decl.latex} is circular; write it explicitly, e.g. {decl.latex}(x)")
        shaped = [d for d in self.decls.values()
                  if d.name != decl.name and d.kind in ("var", "fn") and d.shape == decl.domain
                  and "constant" not in d.props]
        # A variable is a likelier argument than another function's value: prefer the variables.
        candidates = [d for d in shaped if d.kind == "var"] or shaped
        if len(candidates) != 1:
            names = ", ".join(d.latex for d in candidates) or "nothing declared"
            raise CannotCheck(f"cannot tell what {decl.latex} is applied to ({names} has its domain's shape); "
                              f"write {decl.latex}(x)")
        c = candidates[0]
        if c.kind == "var":
            return self._node(Var(c.name, c.latex), c.shape)
        self.resolving_fns.add(decl.name)
        try:
            return self.fn_value(c, None)
        finally:
            self.resolving_fns.discard(decl.name)
