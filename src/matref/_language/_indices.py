"""Sums and indices: \\sum_{r=a}^{b} F expanded term by term, entries X_{ij}, x_i, M_{23},
and the single-entry matrix J^{ij}."""

from __future__ import annotations

import math

from lark import Token, Tree

from .._declarations import symbol_key
from .._errors import CannotCheck, ShapeClash, UndeclaredSymbol, Unsupported
from .._latex import latex
from .._shapes import SCALAR, kind, show
from .._tree import Add, Entry, Integral, Node, Num, Size, SumOver, Unit, Var
from ._sizes import _constant
from ._syntax_tree import _is_paren, _text


class IndicesMixin:
    """Reading sums and indexed entries; mixed into the resolver, which holds the indices in scope."""

    MAX_TERMS = 64

    def summation(self, item: Tree, rest: list[Tree], cdots: frozenset[int]) -> Node:
        """\\sum_{r=a}^{b} F: expanded into F with r = a, ..., b (the bounds must be fixed integers)."""
        scripts = {s.data: s.children[0] for s in item.children[1:]}
        binding = scripts.get("sub")
        if binding is None or not isinstance(binding, Tree) or binding.data != "binding" or "sup" not in scripts:
            raise CannotCheck(r"write a sum as \sum_{r=0}^{k-1} F, with fixed integer bounds")
        index = next(t.value for t in binding.children if isinstance(t, Token) and t.type == "LETTER")
        if index in self.decls or index in self.indices:
            raise CannotCheck(f"the summation index {index} is already declared; use another letter")
        bounds, written = [], []
        sized = False
        for tree in (next(c for c in binding.children if isinstance(c, Tree)), scripts["sup"]):
            try:
                node = self.expr(tree) if isinstance(tree, Tree) else self.item(Tree("postfix", [Tree(
                    "number" if tree.type == "NUMBER" else "letter", [tree])]))
            except UndeclaredSymbol:
                node = None
            value = None if node is None else _constant(node)
            if value is None and node is not None and any(isinstance(n, Size) for n in node.walk()):
                # A bound written with a size (\sum_{i=1}^{n}): expanded anew at each size plan.
                self.size_dependent = sized = True
                value = _constant(node, self.plan or {n: 2 for n in self.dimension_letters})
            if value is None or value != int(value):
                raise Unsupported(f"the bounds of a sum must be fixed integers or sizes; '{self.src(tree)}' is not "
                                  "(declare a fixed one in the where clause, e.g. k = 3)")
            bounds.append(int(value))
            written.append(node)
        values = range(bounds[0], bounds[1] + 1)
        if not rest:
            raise CannotCheck(r"'\sum' needs something to sum")
        if len(values) > self.MAX_TERMS:
            raise Unsupported(f"a sum of {len(values)} terms; at most {self.MAX_TERMS}")
        if not values:
            raise Unsupported("an empty sum: the upper bound is below the lower bound")

        def body() -> Node:
            return self.item(rest[0]) if _is_paren(rest[0]) and len(rest) == 1 else self.items(rest, cdots)

        terms = []
        for v in values:
            self.indices[index] = v
            try:
                terms.append((1, body()))
            finally:
                del self.indices[index]
        shape = self.shape(terms[0][1])
        for _, t in terms[1:]:
            if not self.u.unify_shapes(shape, t.shape):
                raise ShapeClash(f"the terms of the sum differ in shape: {show(shape)} and {show(self.shape(t))}")
        over = SumOver(index, written[0], written[1], self._free_body(index, body, shape), sized)
        if len(terms) == 1 and not sized:
            return terms[0][1]
        return self._node(Add(tuple(terms), over), shape)

    def _free_body(self, index: str, body, shape) -> Node | None:
        """The sum's terms with the index left free (so the sum can be written again), or None where
        they need it as a number (X^{r})."""
        self.free_indices.add(index)
        notes = len(self.notes)
        try:
            node = body()
            return node if self.u.unify_shapes(shape, node.shape) else None
        except (CannotCheck, ShapeClash):
            return None
        finally:
            self.free_indices.discard(index)
            del self.notes[notes:]

    def integral(self, item: Tree, rest: list[Tree], cdots: frozenset[int]) -> Node:
        """\\int_{lo}^{hi} F \\,\\mathrm{d}a over a finite interval with fixed bounds; `a` (an undeclared
        letter) is the variable of integration inside F."""
        scripts = {s.data: s.children[0] for s in item.children[1:]}
        if set(scripts) != {"sub", "sup"} or len(item.children) != 3:
            raise CannotCheck(r"write an integral as \int_0^1 F \, \mathrm{d}a, with fixed bounds")
        bounds = []
        for tree in (scripts["sub"], scripts["sup"]):
            text = _text(tree).strip()
            try:
                node = self.expr(tree) if isinstance(tree, Tree) else Num(float(tree.value), tree.value) \
                    if tree.type == "NUMBER" else None
            except (UndeclaredSymbol, CannotCheck):
                node = None
            value = None if node is None else _constant(node)
            if value is None or not math.isfinite(value):
                raise Unsupported(f"the bounds of an integral must be fixed numbers; '{text}' is not "
                                  "(an integral to infinity is not supported: substitute a finite interval)")
            bounds.append((float(value), text))
        if bounds[1][0] <= bounds[0][0]:
            raise Unsupported("the upper bound of an integral must be above its lower bound")
        if len(rest) < 3 or not self._is_d(rest[-2]) or symbol_key(rest[-1]) is None \
                or "_" in symbol_key(rest[-1])[0]:
            raise CannotCheck(r"an integral ends with the differential of its variable: \int_0^1 F \, \mathrm{d}a")
        var = symbol_key(rest[-1])[0]
        if var in self.decls or var in self.indices or var in self.params or var in self.dimension_letters:
            raise CannotCheck(f"the variable of integration {var} is also declared or in use; use another letter")
        body_items = rest[:-2]
        self.params.add(var)
        try:
            if _is_paren(body_items[0]) and len(body_items) == 1:
                body = self.item(body_items[0])
            else:
                body = self.items(body_items, frozenset(k for k in cdots if k < len(body_items)))
        finally:
            self.params.discard(var)
        (lo, lo_text), (hi, hi_text) = bounds
        return self._node(Integral(var, body, lo, hi, lo_text, hi_text), self.shape(body))

    def _index_letters(self, text: str, count: int, what: str, numbers: bool = False) -> tuple[str | int, ...]:
        """Index letters (or, with `numbers`, 1-based digits such as the 2, 3 of M_{23})."""
        text = text.replace(",", "")
        letters = tuple(text)
        ok = all(c.isalpha() or (numbers and c.isdigit() and c != "0") for c in letters)
        named = [c for c in letters if c.isalpha()]
        repeated = len(set(named)) != len(named) and not numbers  # X_{ii} is a diagonal entry; J^{ii} is refused
        if len(letters) != count or not ok or repeated:
            raise Unsupported(f"{what} needs {count} distinct index letter{'s' if count > 1 else ''}, "
                              f"not '{text}'")
        for c in named:
            if c in self.decls or (c in self.indices and not numbers):
                raise CannotCheck(f"the index {c} of {what} is also declared; use an undeclared letter")
        # A summation index in scope stands for its current value: x_i in \sum_{i=1}^{3} x_i.
        return tuple(int(c) if c.isdigit() else self.indices[c] if c in self.indices else c for c in letters)

    def unit(self, sup: Tree) -> Node:
        """J^{ij}, the single-entry matrix."""
        indices = self._index_letters(_text(sup.children[0]), 2, "J^{ij}")
        return self._node(Unit(indices), (self.u.fresh(), self.u.fresh()))

    def entry(self, key: tuple[str, str]) -> Node | None:
        """X_{ij}, x_i or M_{23} for a declared variable and undeclared index letters, else None."""
        base, _, sub = key[0].partition("_")
        decl = self.decls.get(base)
        if not sub or decl is None or decl.kind != "var" or kind(decl.shape) == "scalar":
            return None
        var = self._node(Var(base, decl.latex), decl.shape)
        return self.entry_of(var, sub, f"{decl.latex}_{{{sub}}}")

    def entry_of(self, value: Node, sub: str, what: str) -> Node:
        """The entry `sub` (letters or 1-based digits) of a vector or matrix value."""
        k = kind(self.shape(value))
        if k == "scalar":
            raise ShapeClash(f"{what}: {latex(value)} is a scalar; it has no entries")
        indices = self._index_letters(sub, 2 if k == "matrix" else 1, what, numbers=True)
        return self._node(Entry(value, indices), SCALAR)
