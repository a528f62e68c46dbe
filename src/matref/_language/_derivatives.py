"""Derivative notation: \\frac{\\partial F}{\\partial x}, \\frac{d}{dt}, \\nabla_x, Hessians
(\\partial^2 and \\nabla^2), variables of differentiation such as x^T, X_{ij} and \\operatorname{vec}(X),
and the layout rule giving each derivative its shape (see the site's Conventions page)."""

from __future__ import annotations

import contextlib
import copy

from lark import Token, Tree

from .._declarations import symbol_key, word
from .._errors import CannotCheck, ShapeClash, UndeclaredSymbol, Unsupported
from .._functions import RESHAPING, WORDS, of_kind
from .._latex import latex
from .._shapes import Dim, Shape, kind, show
from .._tree import Call, Deriv, Div, FnValue, Hessian, Node, Var
from ._syntax_tree import TRANSPOSE_MARKS, _inner, _is_paren, _order, _scripts_after_name, _single_product, _text


class DerivativesMixin:
    """Reading derivatives; mixed into the resolver, whose `expr` reads the function differentiated."""

    def derivative(self, f: Node, wrt: Node, flip: bool, written: str) -> Node:
        fs, xs = self.shape(f), self.shape(wrt)
        if written.startswith("nabla"):
            layout = "numerator" if flip else "denominator"
            if kind(fs) != "scalar":
                raise ShapeClash(f"the gradient ∇ needs a scalar function, but {latex(f)} is {show(fs)}")
        else:
            layout = self.layout if not flip else ("numerator" if self.layout == "denominator" else "denominator")
        fk, xk = kind(fs), kind(xs)

        def length(s: Shape) -> Dim:
            return s[0] if s[1].is_one else s[1]

        if fk == "scalar":
            shape = xs if layout == "denominator" else (xs[1], xs[0])
        elif xk == "scalar":
            shape = fs if fk == "matrix" or layout == "numerator" else (fs[1], fs[0])
        elif fk == "vector" and xk == "vector":
            m, n = length(fs), length(xs)
            shape = (n, m) if layout == "denominator" else (m, n)
        else:
            raise ShapeClash(
                f"∂({latex(f)})/∂{latex(wrt)} of a {show(fs)} {fk} by a {show(xs)} {xk} is a tensor, not a "
                "matrix in either layout; differentiate vec of it by vec(X)^T, or use the differential ∂(F)")
        return self._node(Deriv(f, wrt, layout, written), shape)

    def hessian(self, f: Node, a: Node, b: Node, written: str = "frac") -> Node:
        if not self.is_scalar(f):
            raise ShapeClash(f"a second derivative needs a scalar function, but {latex(f)} is {show(self.shape(f))}")
        dims = []
        for v in (a, b):
            if self.complex_variable(v):
                raise Unsupported(f"second derivatives with respect to the complex {latex(v)} are not supported")
            s = self.shape(v)
            if kind(s) == "matrix":
                raise Unsupported(f"the Hessian with respect to the matrix {latex(v)} is a 4-tensor; "
                                  r"differentiate with respect to \operatorname{vec} of it")
            dims.append(s[0] if s[1].is_one else s[1])
        return self._node(Hessian(f, a, b, written), (dims[0], dims[1]))

    def complex_variable(self, v: Node) -> bool:
        """Whether a variable of differentiation is complex (z, \bar{z}, Z_{ij}, vec(Z))."""
        while not isinstance(v, (Var, FnValue)) and v.children():
            v = v.children()[0]
        if isinstance(v, FnValue):
            return "complex-codomain" in self.decls[v.name].props
        return isinstance(v, Var) and "complex" in self.decls[v.name].props

    def wrt(self, item: Tree, following: list[Tree]) -> tuple[Node, bool, int, int]:
        """Read one variable of differentiation: (node, transposed, power, items consumed)."""
        if item.data != "postfix":
            raise CannotCheck(f"'{self.src(item)}' is not a variable to differentiate by")
        atom = item.children[0]
        parts = None  # \partial \Re Z, \partial \operatorname{Im}(Z): the real or imaginary part as the variable
        if atom.data == "func" and atom.children[0].value in (r"\Re", r"\Im"):
            parts = "real" if atom.children[0].value == r"\Re" else "imag"
        elif atom.data == "styled" and WORDS.get(word(atom)) in ("real", "imag"):
            parts = WORDS[word(atom)]
        if parts is not None:
            if not following:
                raise CannotCheck(rf"write \partial \{'Re' if parts == 'real' else 'Im'} Z")
            x = self.expr(_inner(following[0])) if _is_paren(following[0]) else self.item(following[0])
            if not isinstance(x, Var) or "complex" not in self.decls[x.name].props:
                raise CannotCheck(r"only the real or imaginary part of a declared complex variable can be differentiated by")
            flip, power = self._wrt_scripts(following[0].children[1:] if _is_paren(following[0]) else [])
            return self.call(parts, x), flip, power, 2
        if atom.data == "conj":  # \partial \bar{z}: the Wirtinger derivative holding z fixed
            x = self.atom(atom).arg
            if not isinstance(x, (Var, FnValue)) or not self.complex_variable(x):
                raise CannotCheck(rf"'{self.src(item)}': only the conjugate of a declared complex variable can be "
                                  "differentiated by")
            flip, power = self._wrt_scripts(item.children[1:])
            return self.call("conj", x), flip, power, 1
        if atom.data == "styled" and word(atom) in of_kind(RESHAPING):  # ∂/∂vec(X), ∂/∂vech(X), ∂/∂diag(X)
            fn = word(atom)
            if not following or not _is_paren(following[0]):
                raise CannotCheck(rf"write \partial \operatorname{{{fn}}}(X)")
            x = self.expr(_inner(following[0]))
            if not isinstance(x, Var) or (fn != "vec" and kind(self.shape(x)) != "matrix"):
                raise Unsupported(rf"only \operatorname{{{fn}}} of a declared matrix can be differentiated by")
            if fn == "vech" and not self.decls[x.name].props & {"symmetric", "spd", "psd"}:
                raise CannotCheck(rf"\operatorname{{vech}}({x.latex}) parametrises a symmetric matrix: "
                                  rf"declare {x.latex} \in \mathbb{{S}}^{{n}}")
            if fn == "toeplitz" and "toeplitz" not in self.decls[x.name].props:
                raise CannotCheck(rf"\operatorname{{toeplitz}}({x.latex}) parametrises a Toeplitz matrix: "
                                  rf"declare {x.latex} \in \mathbb{{R}}^{{n \times n}} \text{{ Toeplitz}}")
            node = self.call(fn, x)
            flip, power = self._wrt_scripts(following[0].children[1:])
            return node, flip, power, 2
        key = symbol_key(item, allow_sup=True)
        if key is None:
            raise CannotCheck(f"'{self.src(item)}' is not a variable to differentiate by")
        decl = self.decls.get(key[0])
        if decl is None:
            entry = self.entry(key)
            if entry is not None:
                flip, power = self._wrt_scripts(item.children[2:])
                return entry, flip, power, 1
            raise UndeclaredSymbol(f"{key[1]} is not declared; add it to --where")
        if decl.kind == "const":
            raise CannotCheck(f"{decl.latex} is a fixed constant; it cannot be differentiated by")
        node = self.symbol(key, item)
        scripts = _scripts_after_name(item)
        if scripts and _text(scripts[0].children[0]) == "*":  # \partial z^*: the conjugate variable
            if kind(self.shape(node)) != "scalar":
                raise CannotCheck(rf"'\partial {key[1]}^*' is ambiguous for a vector or matrix (the conjugate in the "
                                  rf"Matrix Cookbook, the conjugate transpose elsewhere): write \partial \bar{{{key[1]}}}")
            if "complex" not in decl.props:
                raise CannotCheck(f"{key[1]} is real: differentiate by {key[1]} itself")
            node, scripts = self.call("conj", node), scripts[1:]
        flip, power = self._wrt_scripts(scripts)
        return node, flip, power, 1

    def _wrt_scripts(self, scripts) -> tuple[bool, int]:
        flip, power = False, 1
        for s in scripts:
            mark = _text(s.children[0])
            if s.data == "sup" and mark in TRANSPOSE_MARKS:
                flip = not flip
            elif s.data == "sup" and mark == "2":
                power = 2
            else:
                raise CannotCheck(f"'{mark}' is not understood on a variable of differentiation")
        return flip, power

    def denominator(self, items: list[Tree], d_form: bool) -> list[tuple[Node, bool, int]]:
        """The variables of differentiation in a derivative's denominator, in order."""
        specs = []
        i = 0
        while i < len(items):
            if d_form:
                if not self._is_d(items[i]):
                    raise CannotCheck(r"write the denominator as dx (or \mathrm{d}x)")
                i += 1
                if i >= len(items):
                    raise CannotCheck("the denominator 'd' needs a variable")
                target = items[i]
            else:
                if items[i].data != "diff":
                    raise CannotCheck(r"the denominator of a derivative is \partial x, \partial x^T "
                                      r"or \partial x \partial x^T")
                target = items[i].children[-1]
            node, flip, power, used = self.wrt(target, items[i + 1:])
            specs.append((node, flip, power))
            i += used
        return specs

    def _is_d(self, item: Tree) -> bool:
        if item.data != "postfix" or len(item.children) != 1 or "d" in self.decls:
            return False
        atom = item.children[0]
        return (atom.data == "letter" and atom.children[0].value == "d") or self._is_roman_d(item)

    def _is_roman_d(self, item: Tree) -> bool:
        if item.data != "postfix" or len(item.children) != 1:
            return False
        atom = item.children[0]
        return atom.data == "styled" and atom.children[0].value in (r"\mathrm", r"\operatorname") \
            and word(atom) == "d" and "d" not in self.decls

    def _is_derivative_operator(self, item: Tree) -> bool:
        atom = item.children[0] if item.data == "postfix" else None
        return atom is not None and atom.data in ("frac", "nabla")

    def _split_numerator(self, group: Tree) -> tuple[str, int, Tree | None]:
        """('partial'|'d'|'none', order, body) for a \\frac numerator."""
        if group.data == "partial_group":
            sup = [c for c in group.children if isinstance(c, Tree)]
            return "partial", _order(sup[0]) if sup else 1, None
        inner = next(c for c in group.children if isinstance(c, Tree))
        body = copy.deepcopy(inner)
        node = body
        while isinstance(node, Tree) and node.data in ("sum", "kterm", "product"):
            kids = [c for c in node.children if isinstance(c, Tree) and c.data not in ("sign",)]
            first = kids[0]
            if node.data == "product":
                idx = node.children.index(first)
                if first.data == "diff":
                    sups = [c for c in first.children if isinstance(c, Tree) and c.data == "sup"]
                    order = _order(sups[0]) if sups else 1
                    node.children[idx] = first.children[-1]
                    return "partial", order, body
                if self._is_d(first):
                    del node.children[idx]
                    rest = [c for c in node.children if isinstance(c, Tree)]
                    return "d", 1, body if rest else None
                return "none", 0, None
            node = first
        return "none", 0, None

    def _fraction_parts(self, atom: Tree):
        """(how, order, body, denominator items) of a \\frac; how is 'partial', 'd' or 'none'."""
        num, den = atom.children[1], atom.children[2]
        how, order, body = self._split_numerator(num)
        den_items = _single_product(den)
        if how == "d" and (not den_items or not self._is_d(den_items[0])):
            how = "none"
        return how, order, body, den_items

    def frac_operator(self, atom: Tree):
        how, order, body, den_items = self._fraction_parts(atom)
        if how == "none" or body is not None:
            return None
        specs = self.denominator(den_items or [], d_form=(how == "d"))

        def op(f: Node) -> Node:
            return self._apply_derivative(f, specs, order, "op")

        op.wrt = [s[0] for s in specs]  # in scope while the operand is read (for implicit arguments)
        return op

    def frac(self, atom: Tree) -> Node:
        how, order, body, den_items = self._fraction_parts(atom)
        if how == "none":
            num, den = atom.children[1], atom.children[2]
            top, bottom = self.expr(num), self.expr(den)
            if not self.is_scalar(bottom):
                raise ShapeClash(f"\\frac{{{latex(top)}}}{{{latex(bottom)}}}: the denominator must be a scalar, "
                                 f"but it is {show(self.shape(bottom))}")
            return self._node(Div(top, bottom), self.shape(top))
        if den_items is None:
            raise CannotCheck(r"the denominator of a derivative is \partial x, \partial x^T or \partial x \partial x^T")
        specs = self.denominator(den_items, d_form=(how == "d"))
        with self._differentiating([s[0] for s in specs]):
            f = self.expr(body)
        return self._apply_derivative(f, specs, order, "frac")

    @contextlib.contextmanager
    def _differentiating(self, variables: list[Node]):
        """Variables of differentiation in scope: a bare function symbol is applied to the innermost."""
        self.wrt_stack.extend(variables)
        try:
            yield
        finally:
            del self.wrt_stack[len(self.wrt_stack) - len(variables):]

    def _apply_derivative(self, f: Node, specs, order: int, written: str) -> Node:
        total = sum(p for _, _, p in specs)
        if total != order:
            raise CannotCheck(f"the numerator's order ({order}) does not match the denominator's ({total})")
        if order == 1:
            (node, flip, _), = specs
            return self.derivative(f, node, flip, written + ("-T" if flip and written == "frac" else ""))
        if order == 2:
            if len(specs) == 1:
                return self.hessian(f, specs[0][0], specs[0][0])
            return self.hessian(f, specs[0][0], specs[1][0])
        raise Unsupported("derivatives of order higher than 2 are not supported")

    def nabla_operator(self, item: Tree):
        scripts = item.children[1:]
        subs = [s for s in scripts if s.data == "sub"]
        sups = [s for s in scripts if s.data == "sup"]
        if len(subs) != 1:
            raise CannotCheck(r"write the gradient as \nabla_x f (with the variable as a subscript)")
        arg = subs[0].children[0]
        arg_items = [Tree("postfix", [Tree("letter" if arg.type == "LETTER" else "greek", [arg])])] \
            if isinstance(arg, Token) else (_single_product(arg) or [])
        if not arg_items:
            raise CannotCheck(r"write the gradient as \nabla_x f")
        node, flip, power, used = self.wrt(arg_items[0], arg_items[1:])
        if isinstance(node, Call) and node.fn in ("conj", "real", "imag"):
            raise CannotCheck(rf"write the gradient by the complex variable itself: \nabla_z f is the complex gradient "
                              rf"2 \partial f / \partial \bar{{z}}; for the other Wirtinger derivative write \frac{{\partial f}}{{\partial {latex(node)}}}")
        if sups and _text(sups[0].children[0]) != "2":
            raise CannotCheck(r"only \nabla^2 (the Hessian) is understood")

        def op(f: Node) -> Node:
            if sups:
                return self.hessian(f, node, node, "nabla")
            return self.derivative(f, node, flip, "nabla-T" if flip else "nabla")

        op.wrt = [node]
        return op
