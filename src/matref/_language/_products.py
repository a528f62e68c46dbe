"""Typed constructors: products (conformance, scalar times anything), transposes,
inverses, powers, function calls, |X|, norms; each node gets its shape here or a ShapeClash."""

from __future__ import annotations

from .._errors import ShapeClash, Unsupported
from .._functions import FUNCTIONS
from .._latex import latex
from .._operators import Operator
from .._shapes import SCALAR, Dim, Shape, kind, show
from .._tree import Binary, Call, Const, Differential, Inverse, Mul, Node, Norm, Num, Power, Transpose
from ._sizes import _constant


class ProductsMixin:
    """Building shaped nodes; mixed into the resolver, whose unifier `u` it uses."""

    def _node(self, node: Node, shape: Shape) -> Node:
        node.shape = shape
        return node

    def shape(self, node: Node) -> Shape:
        return self.u.resolve_shape(node.shape)

    def is_scalar(self, node: Node) -> bool:
        return kind(self.shape(node)) == "scalar"

    def square(self, node: Node, what: str) -> Dim:
        r, c = self.shape(node)
        if not self.u.unify(r, c):
            raise ShapeClash(f"{what} needs a square matrix, but {latex(node)} is {show((r, c))}")
        return self.u.resolve(r)

    def mul(self, factors: list[Node]) -> Node:
        if len(factors) == 1:
            return factors[0]
        shape = self.shape(factors[0])
        for i, f in enumerate(factors[1:], start=1):
            fs = self.shape(f)
            if kind(shape) == "scalar":
                shape = fs
            elif kind(fs) == "scalar":
                pass
            elif self.u.unify(shape[1], fs[0]):
                shape = (shape[0], self.u.resolve(fs[1]))
            else:
                left = latex(Mul(tuple(factors[:i]))) if i > 1 else latex(factors[0])
                raise ShapeClash(f"the product ({left})({latex(f)}) does not conform: "
                                 f"{show(shape)} times {show(fs)}")
        return self._node(Mul(tuple(factors)), shape)

    def binary(self, op: Operator, a: Node, b: Node) -> Node:
        """a ⊗ b, a ⊙ b, ...: the operator's record gives the shape, or None when they do not fit."""
        sa, sb = self.u.resolve_shape(a.shape), self.u.resolve_shape(b.shape)
        shape = op.shape(sa, sb, self.u.unify_shapes)
        if shape is None:
            raise ShapeClash(f"{op.title} {latex(Binary(op.name, a, b))} needs {op.operands}; "
                             f"they are {show(sa)} and {show(sb)}")
        return self._node(Binary(op.name, a, b), shape)

    def transpose(self, node: Node) -> Node:
        r, c = self.shape(node)
        return self._node(Transpose(node), (c, r))

    def inverse(self, node: Node) -> Node:
        d = self.square(node, "an inverse")
        return self._node(Inverse(node), (d, d))

    def power(self, node: Node, p: Node) -> Node:
        if isinstance(node, Const) and node.which == "e":  # e^{x} is exp(x); e^{X} the matrix exponential
            if self.is_scalar(p):
                return self.call("exp", p)
            if kind(self.shape(p)) == "matrix":
                return self.call("expm", p)
            raise ShapeClash(f"e^{{{latex(p)}}} of a vector: write \\exp({latex(p)}) for the elementwise exponential")
        value = _constant(p)
        if value is not None:
            p = Num(float(value), str(int(value)) if value == int(value) else repr(value))
        if not self.is_scalar(p):
            raise ShapeClash(f"the exponent {latex(p)} must be a scalar")
        if self.is_scalar(node):
            return self._node(Power(node, p), SCALAR)
        if value is None or value != int(value):
            raise Unsupported(f"a matrix power needs a fixed integer exponent, not {latex(p)}")
        p = Num(float(value), str(int(value)))
        d = self.square(node, "a matrix power")
        if p.value < 0:
            node, p = self.inverse(node), Num(-p.value, str(int(-p.value)))
        return self._node(Power(node, p), (d, d))

    def call(self, fn: str, arg: Node, index: str | int | None = None) -> Node:
        record = FUNCTIONS.get(fn)
        if record is None:  # pragma: no cover - the parser only produces names of records
            raise Unsupported(f"unknown function {fn}")
        if (index is None) != (record.letter is None):  # pragma: no cover - the resolver pairs them
            raise Unsupported(f"{record.latex} {'needs' if index is None else 'takes no'} index")
        if record.letter and kind(self.shape(arg)) != "matrix":
            raise ShapeClash(f"{record.latex} needs a matrix argument, but {latex(arg)} is {show(self.shape(arg))}")
        shape = record.shape(arg, self.shape(arg), lambda: self.square(arg, record.latex))
        return self._node(Call(fn, arg, index), shape)

    def bars(self, x: Node) -> Node:
        if self.is_scalar(x):
            return self._node(Call("abs", x), SCALAR)
        self.square(x, "|X| (the determinant)")
        return self._node(Call("det", x), SCALAR)

    def norm(self, x: Node, p: str | None) -> Node:
        k = kind(self.shape(x))
        if p is None:
            p = "F" if k == "matrix" else "2"
        if p not in ("1", "2", "F", "*"):
            raise Unsupported(f"the norm ‖·‖_{p} is not supported; use _1, _2, _F or _*")
        if p == "*" and k != "matrix":
            raise Unsupported(f"‖·‖_* is the nuclear norm of a matrix; {latex(x)} is not a matrix (use _2)")
        return self._node(Norm(x, p), SCALAR)

    def differential(self, x: Node) -> Node:
        return self._node(Differential(x), self.shape(x))
