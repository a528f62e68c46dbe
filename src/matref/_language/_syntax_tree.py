"""Small questions about lark's syntax tree that the resolver asks in many places:
is this item a bracket, what text does it spell, which scripts follow a symbol's name."""

from __future__ import annotations

from lark import Token, Tree

from .._declarations import tokens
from .._errors import Unsupported


TRANSPOSE_MARKS = {"T", r"\top", r"\intercal", r"\mathsfT", r"\mathrmT", r"\textT"}


def _order(sup: Tree) -> int:
    """The order n of \\partial^n (1 or 2)."""
    text = _text(sup.children[0])
    if text not in ("1", "2"):
        raise Unsupported(f"\\partial^{{{text}}}: only first and second derivatives are supported")
    return int(text)


def _scripts_after_name(item: Tree) -> list[Tree]:
    """The superscripts of a symbol's postfix, after the subscript that is part of its name."""
    has_sub = len(item.children) > 1 and item.children[1].data == "sub"
    return item.children[2:] if has_sub else item.children[1:]


def _is_paren(item: Tree) -> bool:
    """An item that is a bracketed group: `(...)`, `[...]` or `{...}`, perhaps with scripts."""
    if item.data != "postfix":
        return False
    atom = item.children[0]
    return isinstance(atom, Tree) and atom.data in ("paren", "group")


def _inner(item: Tree) -> Tree:
    atom = item.children[0]
    return next(c for c in atom.children if isinstance(c, Tree))


def _text(tree: Tree | Token) -> str:
    return "".join(t.value for t in tokens(tree) if t.type not in ("LBRACE", "RBRACE"))


def _single_product(tree: Tree) -> list[Tree] | None:
    """The items of `tree` if it is one product (no sums, no ⊗), else None."""
    while isinstance(tree, Tree) and tree.data in ("group", "paren"):
        tree = next(c for c in tree.children if isinstance(c, Tree))
    if tree.data == "sum" and len(tree.children) == 1:
        tree = tree.children[0]
    if tree.data == "kterm" and len(tree.children) == 1:
        tree = tree.children[0]
    if tree.data != "product":
        return None
    return [c for c in tree.children if isinstance(c, Tree)]
