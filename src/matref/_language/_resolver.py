"""Walking lark's syntax tree into a typed, shape-checked tree: one method per grammar rule
(t_sum, t_kterm, t_product, t_group), then products of items, prefix operators, atoms and scripts.
Derivative notation, products and shapes, symbols, and sums and indices are mixed in from
_derivatives, _products, _symbols and _indices."""

from __future__ import annotations

from lark import Token, Tree

from .._declarations import BOLD, Decl, symbol_key, tokens, word
from .._errors import CannotCheck, FormulaSyntaxError, ShapeClash, Unsupported
from .._functions import GREEK, LETTERS, MARKS, WORDS
from .._latex import latex
from .._operators import COMMANDS, OPERATORS
from .._shapes import ONE, Dim, Unifier, show
from .._tree import Add, Block, Const, Mul, Node, Num
from ._derivatives import DerivativesMixin
from ._indices import IndicesMixin
from ._products import ProductsMixin
from ._symbols import SymbolsMixin
from ._syntax_tree import TRANSPOSE_MARKS, _inner, _is_paren, _scripts_after_name, _text


class _Resolver(DerivativesMixin, ProductsMixin, IndicesMixin, SymbolsMixin):
    """The syntax tree walked into typed nodes, one method per grammar rule; the other jobs are mixed in."""

    def __init__(self, decls: dict[str, Decl], layout: str, source: str = "", plan: dict[str, int] | None = None):
        self.decls = decls
        self.layout = layout
        self.plan = plan  # sizes, when resolving anew for one size plan (sums up to a size)
        self.size_dependent = False  # the tree depends on the sizes (a sum up to n)
        self.notes: list[str] = []  # readings chosen where the notation was ambiguous
        self.source = source  # the formula as typed, so that messages echo it exactly
        # Dimension letters of the declarations: such a letter alone in a formula is that size.
        self.dimension_letters = {f for d in decls.values() for shape in (d.shape, d.domain) if shape
                                  for dim in shape for f in dim.factors if not f.startswith("tri(")}
        self.u = Unifier()
        self.wrt_stack: list[Node] = []
        self.resolving_fns: set[str] = set()
        self.indices: dict[str, int] = {}  # summation indices in scope, with their current values
        self.free_indices: set[str] = set()  # summation indices read as letters (a sum's terms written once)
        self.params: set[str] = set()  # variables of the integrals in scope

    def src(self, tree: Tree | Token) -> str:
        """The text of `tree` exactly as the user typed it."""
        toks = [t for t in tokens(tree) if t.start_pos is not None and t.end_pos is not None]
        if not toks or not self.source:
            return _text(tree)
        start = min(t.start_pos for t in toks)
        before = self.source[:start].rstrip()
        if before.endswith("\\left"):  # the post-lexer drops \left; the user typed it
            start = len(before) - len("\\left")
        return self.source[start:max(t.end_pos for t in toks)]

    # ----- structure: the equation, its sides, one method per grammar rule --------------------
    def equation(self, tree: Tree) -> list[Node]:
        sides = [self.side(c) for c in tree.children if isinstance(c, Tree)]
        if len(sides) < 2:
            raise FormulaSyntaxError("an identity needs '=': write LHS = RHS")
        for a, b in zip(sides, sides[1:]):
            self.u.unify_shapes(a.shape, b.shape)  # sizes of I, 0, 1 from the other side; a clash is reported later
        for side in sides:
            self._resolve_shapes(side)
        return sides

    def _resolve_shapes(self, root: Node) -> None:
        for node in root.walk():
            node.shape = self.u.resolve_shape(node.shape)
            if isinstance(node, Add) and node.over is not None and node.over.body is not None:
                self._resolve_shapes(node.over.body)  # a sum's terms written once are not among the children

    def side(self, tree: Tree) -> Node:
        node = self.expr(tree)
        return self._zero_if_literal(node)

    def _zero_if_literal(self, node: Node) -> Node:
        # A lone 0 as a side or a term means the zero of whatever shape the context needs.
        if isinstance(node, Num) and node.value == 0:
            z = Const("0")
            z.shape = (self.u.fresh(), self.u.fresh())
            return z
        return node

    def expr(self, tree: Tree) -> Node:
        handler = getattr(self, "t_" + tree.data, None)
        if handler is None:
            raise CannotCheck(f"'{self.src(tree)}' cannot be used here")
        return handler(tree)

    def t_sum(self, tree: Tree) -> Node:
        sign, terms = 1, []
        for c in tree.children:
            if c.data in ("sign", "addop"):
                sign = -1 if c.children[0].type == "MINUS" else 1
            else:
                terms.append((sign, self._zero_if_literal(self.expr(c))))
                sign = 1
        if len(terms) == 1 and terms[0][0] == 1:
            return terms[0][1]
        shape = terms[0][1].shape
        for _, t in terms[1:]:
            if not self.u.unify_shapes(shape, t.shape):
                raise ShapeClash(f"cannot add {latex(terms[0][1])} ({show(self.u.resolve_shape(shape))}) and "
                                 f"{latex(t)} ({show(self.u.resolve_shape(t.shape))})")
        return self._node(Add(tuple(terms)), shape)

    def t_kterm(self, tree: Tree) -> Node:
        node = self.expr(tree.children[0])
        for op, right in zip(tree.children[1::2], tree.children[2::2]):
            node = self.binary(OPERATORS[COMMANDS[op.value[1:]]], node, self.expr(right))
        return node

    def t_product(self, tree: Tree) -> Node:
        items, cdots = [], set()
        for c in tree.children:
            if isinstance(c, Tree):
                items.append(c)
            else:  # \cdot or \times: an explicit product, so `u \cdot (x)` is not u applied to x
                cdots.add(len(items))
        crosses = any(isinstance(c, Token) and c.type == "TIMES" for c in tree.children)
        try:
            node = self.items(items, frozenset(cdots))
        except ShapeClash:
            if not crosses:
                raise
            node = None
        if crosses and (node is None or isinstance(node, Mul) and sum(not self.is_scalar(f) for f in node.factors) > 1):
            # a \times b of two vectors is a cross product, which the language does not have
            raise Unsupported(f"'{self.src(tree)}': \\times is read as a product with a scalar; between "
                              "vectors it would be a cross product, which is not supported (use \\cdot or "
                              "juxtaposition for matrix products)")
        return node

    def t_group(self, tree: Tree) -> Node:
        return self.expr(next(c for c in tree.children if isinstance(c, Tree)))

    t_paren = t_group

    # ----- products of items and prefix operators -----------------------------------------------
    def items(self, items: list[Tree], cdots: frozenset[int] = frozenset()) -> Node:
        out: list[Node] = []
        i = 0
        while i < len(items):
            item = items[i]
            if item.data == "postfix" and item.children[0].data == "sum_op":
                out.append(self.summation(item, items[i + 1:], frozenset(k - i - 1 for k in cdots if k > i)))
                break
            if item.data == "postfix" and item.children[0].data == "int_op":
                out.append(self.integral(item, items[i + 1:], frozenset(k - i - 1 for k in cdots if k > i)))
                break
            indexed = self.indexed_function(item, items[i + 1] if i + 1 < len(items) and i + 1 not in cdots else None)
            if indexed is not None:
                out.append(indexed)
                i += 2
                continue
            op = self.prefix_operator(item)
            if op is not None:
                rest = items[i + 1:]
                if not rest:
                    raise CannotCheck(f"'{self.src(item)}' needs an argument")
                # tr(A) B is tr(A)·B, but \frac{\partial}{\partial s} (x - As)^T W (x - As) differentiates
                # the whole product, as matrix-calculus texts mean it.
                if _is_paren(rest[0]) and not self._is_derivative_operator(item):
                    out.append(self.scripts(op(self.expr(_inner(rest[0]))), rest[0].children[1:]))
                    i += 2
                    continue
                with self._differentiating(getattr(op, "wrt", [])):
                    operand = self.items(rest, frozenset(k - i - 1 for k in cdots if k > i))
                out.append(op(operand))
                break
            key = symbol_key(item, allow_sup=True) if item.data == "postfix" else None
            decl = self.decls.get(key[0]) if key else None
            if decl is not None and decl.kind == "fn" and i + 1 < len(items) and _is_paren(items[i + 1]) \
                    and i + 1 not in cdots \
                    and len(item.children) == (2 if "_" in key[0] else 1):
                arg = self.expr(_inner(items[i + 1]))
                try:
                    applied = self.fn_value(decl, arg)
                except ShapeClash as clash:
                    # u \left(\frac{\partial v}{\partial x}\right): u applied to it does not fit, so the
                    # reading that type-checks is the product of u (at its argument) and the bracket.
                    self.notes.append(f"read '{self.src(item)} {self.src(items[i + 1])}' as a product, not as "
                                      f"{decl.latex} applied to the bracket ({clash})")
                else:
                    out.append(self.scripts(applied, items[i + 1].children[1:]))
                    i += 2
                    continue
            if self._is_roman_d(item) or (self._is_d(item) and i + 1 < len(items)):  # \mathrm{d}X, dX
                if i + 1 >= len(items):
                    raise CannotCheck(r"'\mathrm{d}' needs something to take the differential of")  # pragma: no cover
                if self.prefix_operator(items[i + 1]) is not None:  # \mathrm{d} \log \det X
                    out.append(self.differential(self.items(items[i + 1:], frozenset(k - i - 1 for k in cdots if k > i))))
                    break
                out.append(self.differential(self.item(items[i + 1])))
                i += 2
                continue
            out.append(self.item(item))
            i += 1
        return self.mul(out)

    def indexed_function(self, item: Tree, after: Tree | None) -> Node | None:
        """\\lambda_i(X), \\sigma_1(X), q_i(X), u_i(X), v_i(X): an undeclared letter of an indexed function
        (see `_functions.LETTERS`) with a subscript index, followed by its bracketed argument; else None."""
        if item.data == "diff" and len(item.children) == 2 and after is not None:  # \partial \lambda_i(X)
            inner = self.indexed_function(item.children[1], after)
            return None if inner is None else self.differential(inner)
        if item.data != "postfix" or len(item.children) != 2 or item.children[1].data != "sub" \
                or after is None or not _is_paren(after):
            return None
        key = symbol_key(item)
        if key is None:
            return None
        base, _, sub = key[0].partition("_")
        if base not in LETTERS or base in self.decls or key[0] in self.decls:
            return None
        fn = LETTERS[base]
        (index,) = self._index_letters(sub, 1, f"{self.src(item)}(...)", numbers=True)
        if index in self.dimension_letters:  # a letter index runs over every value; a size letter would not
            raise Unsupported(f"'{self.src(item)}': {index} is a size here, and an index letter stands for every "
                              f"value (i = 1, 2, ...), not for the last one; for the last, fix the size in the where clause "
                              f"({index} = 3) and write the number (3), or use another letter for every index")
        node = self.call(fn, self.expr(_inner(after)), index)
        return self.scripts(node, after.children[1:])

    def prefix_operator(self, item: Tree):
        """A callable applying the operator `item` stands for, or None if it is an operand."""
        if item.data == "diff" and len(item.children) == 2:  # \partial \det X: the differential of det X
            inner = self.prefix_operator(item.children[-1])
            return None if inner is None else (lambda arg: self.differential(inner(arg)))
        if item.data != "postfix":
            return None
        atom, scripts = item.children[0], item.children[1:]
        name = None
        if atom.data == "func":
            name = atom.children[0].value[1:]
        elif atom.data == "styled" and atom.children[0].value[1:] in ("operatorname", "mathrm", "text", "textrm"):
            w = word(atom)
            if w in WORDS:
                name = w
        elif atom.data == "greek" and (letter := atom.children[0].value[1:]) in GREEK and letter not in self.decls:
            name = GREEK[letter]  # \sigma is the sigmoid unless the where clause declares sigma
        elif atom.data == "nabla":
            return self.nabla_operator(item)
        elif atom.data == "frac":
            return self.frac_operator(atom)
        if name is None:
            return None
        if scripts:
            raise Unsupported(f"scripts on a function name ('{self.src(item)}') are not supported; "
                              r"write e.g. \left(\log x\right)^2")
        fn = WORDS.get(name, name)
        return lambda arg: self.call(fn, arg)

    # ----- items, atoms and scripts -------------------------------------------------------------
    def item(self, item: Tree) -> Node:
        if item.data == "diff":
            if any(isinstance(c, Tree) and c.data == "sup" for c in item.children):
                raise CannotCheck(r"'\partial^2' belongs in the numerator of a \frac")
            return self.differential(self.item(item.children[-1]))
        if item.data != "postfix":
            return self.expr(item)
        key = symbol_key(item, allow_sup=True)
        if key is not None:
            scripts = _scripts_after_name(item)
            if key[0] == "J" and "J" not in self.decls and scripts and scripts[0].data == "sup":
                return self.scripts(self.unit(scripts[0]), scripts[1:])
            node = self.symbol(key, item)
            return self.scripts(node, scripts)
        atom, scripts = item.children[0], item.children[1:]
        if atom.data == "norm":
            p = None
            if scripts and scripts[0].data == "sub":
                p = _text(scripts[0].children[0])
                scripts = scripts[1:]
            return self.scripts(self.norm(self.expr(atom.children[1]), p), scripts)
        if scripts and scripts[0].data == "sub":
            if atom.data not in ("paren", "group"):
                raise Unsupported(f"a subscript is not understood here: '{self.src(item)}'")
            value = self.atom(atom)
            return self.scripts(self.entry_of(value, _text(scripts[0].children[0]), self.src(item)), scripts[1:])
        return self.scripts(self.atom(atom), scripts)

    def atom(self, atom: Tree) -> Node:
        kind_ = atom.data
        if kind_ == "number":
            text = atom.children[0].value
            return Num(float(text), text)
        if kind_ in ("paren", "group"):
            return self.expr(next(c for c in atom.children if isinstance(c, Tree)))
        if kind_ == "bars":
            return self.bars(self.expr(atom.children[1]))
        if kind_ == "inner":  # <A, B> = tr(A^T B), the Frobenius inner product (a^T b for vectors)
            a, b = (self.expr(c) for c in atom.children if isinstance(c, Tree))
            if not self.u.unify_shapes(self.shape(a), self.shape(b)):
                raise ShapeClash(f"the inner product <{latex(a)}, {latex(b)}> needs equal shapes; they are "
                                 f"{show(self.shape(a))} and {show(self.shape(b))}")
            return self.call("tr", self.mul([self.transpose(a), b]))
        if kind_ == "frac":
            return self.frac(atom)
        if kind_ == "conj":  # \bar{z}, \overline{Z}, \bar z
            arg = atom.children[1]
            if isinstance(arg, Token):
                return self.call("conj", self.item(Tree("postfix", [Tree("letter", [arg])])))
            return self.call("conj", self.expr(arg))
        if kind_ == "block":
            return self.block(atom)
        if kind_ == "styled":
            w = word(atom)
            style = atom.children[0].value[1:]
            if style in BOLD and w in ("0", "1"):
                c = Const(w)
                c.shape = (self.u.fresh(), self.u.fresh()) if w == "0" else (self.u.fresh(), ONE)
                return c
            raise CannotCheck(f"'{self.src(atom)}' is not understood here")
        if kind_ == "top":
            raise CannotCheck(r"'\top' only makes sense as a superscript (x^\top)")
        if kind_ == "partial_group":
            raise CannotCheck(r"a bare '\partial' belongs in the numerator of \frac{\partial}{\partial x}")
        if kind_ in ("func", "nabla"):
            raise CannotCheck(f"'{self.src(atom)}' needs an argument")
        raise CannotCheck(f"'{self.src(atom)}' is not understood here")

    def block(self, atom: Tree) -> Node:
        """\\begin{bmatrix} A & B \\\\ C & D \\end{bmatrix} with blocks of one shape (a lone 0 takes it)."""
        env = [word(c) for c in atom.children if isinstance(c, Tree) and c.data == "word"]
        if env[0] not in ("bmatrix", "pmatrix") or env[1] != env[0]:
            raise Unsupported(f"\\begin{{{env[0]}}} ... \\end{{{env[1]}}}: write a block matrix as "
                              r"\begin{bmatrix} A & B \\ C & D \end{bmatrix}")
        rows_tree = next(c for c in atom.children if isinstance(c, Tree) and c.data == "block_rows")
        rows = [[self._zero_if_literal(self.expr(e)) for e in row.children if isinstance(e, Tree)]
                for row in rows_tree.children if isinstance(row, Tree)]
        if len({len(r) for r in rows}) != 1:
            raise ShapeClash("the rows of a block matrix have different numbers of blocks")
        shape = self.shape(rows[0][0])
        for b in (b for r in rows for b in r):
            if not self.u.unify_shapes(shape, b.shape):
                raise Unsupported(f"a block matrix with blocks of different shapes ({show(self.u.resolve_shape(shape))} "
                                  f"and {show(self.shape(b))}); matref's block matrices have blocks of one shape")
        shape = self.shape(rows[0][0])
        node = Block(tuple(tuple(r) for r in rows))
        return self._node(node, (Dim(len(rows)) * shape[0], Dim(len(rows[0])) * shape[1]))

    def scripts(self, node: Node, scripts) -> Node:
        for s in scripts:
            if s.data == "sub":
                raise Unsupported(f"a subscript is not understood here: '_{_text(s.children[0])}'")
            node = self.superscript(node, s.children[0])
        return node

    def superscript(self, node: Node, arg) -> Node:
        mark = "".join(t.value for t in tokens(arg) if t.type not in ("LBRACE", "RBRACE")) \
            if isinstance(arg, Tree) else arg.value
        if mark in TRANSPOSE_MARKS:
            return self.transpose(node)
        if mark in ("H", "-H") and "H" not in self.decls:  # the conjugate transpose
            return self.transpose(self.call("conj", node if mark == "H" else self.inverse(node)))
        if mark == "*":
            if not self.is_scalar(node):
                raise CannotCheck(f"'{latex(node)}^*' is ambiguous: the Matrix Cookbook writes X^* for the conjugate, "
                                  r"much of linear algebra for the conjugate transpose; write \overline{X} or X^H")
            return self.call("conj", node)
        if mark.startswith("-") and mark[1:] in TRANSPOSE_MARKS:
            return self.transpose(self.inverse(node))
        if mark == "-1":
            return self.inverse(node)
        if mark in MARKS:  # X^{+}, X^{\dagger}
            return self.call(MARKS[mark], node)
        if isinstance(arg, Token):
            if arg.type == "NUMBER":
                exponent: Node = Num(float(arg.value), arg.value)
            else:
                exponent = self.item(Tree("postfix", [Tree("letter" if arg.type == "LETTER" else "greek", [arg])]))
        else:
            exponent = self.expr(arg if arg.data != "group" else next(c for c in arg.children if isinstance(c, Tree)))
        return self.power(node, exponent)
