"""The `where` clause: what each symbol is (shape, properties), parsed from ordinary notation
such as `x \\in \\mathbb{R}^{n}, A \\in \\mathbb{S}^{n}_{++}, u : \\mathbb{R}^{n} \\to \\mathbb{R}^{m}`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from lark import Token, Tree

from . import _syntax
from ._errors import CannotCheck, FormulaSyntaxError, Unsupported
from ._shapes import Dim, ONE, Shape, kind

# Words accepted after a space as properties (`A \in \mathbb{R}^{n \times n} \text{ invertible}`).
PROPERTY_WORDS = {
    "symmetric": "symmetric", "invertible": "invertible", "nonsingular": "invertible",
    "orthogonal": "orthogonal", "diagonal": "diagonal", "positive": "positive", "unit": "unit",
    "constant": "constant", "spd": "spd", "psd": "psd", "positivedefinite": "spd",
    "positivesemidefinite": "psd", "skewsymmetric": "skew", "antisymmetric": "skew",
    # eigenvalues (of a symmetric matrix) or singular values (of any other) well separated
    "simplespectrum": "distinct", "distincteigenvalues": "distinct", "distinctsingularvalues": "distinct",
    "unitary": "unitary", "hermitian": "hermitian",
    # every eigenvalue in the open right half-plane: the principal sqrtm and logm exist (and are real)
    "positivestable": "stable",
    # constant along each diagonal; with \mathbb{S}^{n}, a symmetric Toeplitz matrix
    "toeplitz": "toeplitz",
}
# Properties that only make sense for real values, and what to declare instead for complex ones.
REAL_ONLY = {"symmetric": r"\mathbb{H}^{n} (Hermitian)", "spd": r"\mathbb{H}^{n}_{++}", "psd": r"\mathbb{H}^{n}_{+}",
             "orthogonal": r"\text{unitary}", "positive": "a real space", "skew": "a real space",
             "posdet": "a real space"}
COMPLEX_ONLY = {"unitary": r"\text{orthogonal} (a real unitary matrix)", "hermitian": r"\mathbb{S}^{n} (a real Hermitian matrix)"}
# Words and spacing that separate declarations (`x \in \mathbb{R}^{n} \text{ and } A \in ...`).
SEPARATORS = re.compile(r"\\text\s*\{\s*(and|,|;)?\s*\}|\\q?quad\b")
BOLD = {"mathbf", "boldsymbol", "bm", "mathit", "mathrm"}


@dataclass(frozen=True)
class Decl:
    """One declared symbol. `kind` is 'var', 'fn' or 'const'."""

    name: str
    latex: str
    kind: str
    shape: Shape | None = None  # var: its shape; fn: its codomain
    domain: Shape | None = None  # fn only
    value: int | None = None  # const only
    props: frozenset[str] = frozenset()


def tokens(tree: Tree | Token) -> list[Token]:
    if isinstance(tree, Token):
        return [tree]
    return [t for c in tree.children for t in tokens(c)]


def word(tree: Tree) -> str:
    """The text inside a styled group: `\\operatorname{tr}` -> 'tr'."""
    return "".join(t.value.lstrip("\\") if t.type == "GREEK" else t.value
                   for t in tokens(tree) if t.type not in ("STYLE", "LBRACE", "RBRACE"))


def symbol_key(tree: Tree, allow_sup: bool = False) -> tuple[str, str] | None:
    """(name, latex) for a postfix node that is a symbol (x, \\alpha, \\mathbf{x}, W_1), else None.

    Boldface is notation, not identity: `\\mathbf{x}` and `x` are the same symbol. With
    `allow_sup`, superscripts after the (optional) subscript are ignored.
    """
    if tree.data != "postfix":
        return None
    atom, scripts = tree.children[0], list(tree.children[1:])
    scripts = scripts[:1] if scripts and scripts[0].data == "sub" else []
    if not allow_sup and len(tree.children) - 1 != len(scripts):
        return None
    if isinstance(atom, Token):  # pragma: no cover - atoms are always wrapped
        return None
    if atom.data == "letter":
        base, latex = atom.children[0].value, atom.children[0].value
    elif atom.data == "greek":
        base, latex = atom.children[0].value[1:], atom.children[0].value
    elif atom.data == "styled" and atom.children[0].value[1:] in BOLD:
        inner = [t for t in tokens(atom) if t.type in ("LETTER", "GREEK")]
        if len(inner) != 1 or any(t.type == "NUMBER" for t in tokens(atom)):
            return None
        base = inner[0].value.lstrip("\\")
        latex = "".join(t.value for t in tokens(atom))
    else:
        return None
    if scripts:
        sub = "".join(t.value for t in tokens(scripts[0].children[0]) if t.type not in ("LBRACE", "RBRACE"))
        return f"{base}_{sub}", f"{latex}_{{{sub}}}"
    return base, latex


def _dim(tree: Tree) -> Dim:
    d = Dim(1)
    for t in tokens(tree):
        d = d * (Dim(int(t.value)) if t.type == "NUMBER" else Dim(1, (t.value,)))
    return d


def _space(tree: Tree, text: str) -> tuple[Shape, set[str]]:
    style, *scripts = tree.children
    name = word(style)
    dims: list[Dim] = []
    sub = ""
    for s in scripts:
        if s.data == "space_sup":
            d = s.children[0]
            dims = [_dim(c) for c in d.children if isinstance(c, Tree)] or [_dim(d)]
        else:
            sub = "".join(t.value for t in tokens(s) if t.type == "PLUS")
    props: set[str] = set()
    if name in ("R", "C"):
        if name == "C":
            props.add("complex")
            if sub:
                raise CannotCheck(f"{text}: \\mathbb{{C}} has no positive part; declare a real space")
        if len(dims) > 2:
            raise Unsupported(f"{text}: tensors (more than two dimensions) are not supported")
        shape = (ONE, ONE) if not dims else (dims[0], ONE) if len(dims) == 1 else (dims[0], dims[1])
        if sub:
            props.add("positive")
    elif name == "S":
        if len(dims) != 1:
            raise CannotCheck(f"{text}: write \\mathbb{{S}}^{{n}} for symmetric n×n matrices")
        shape = (dims[0], dims[0])
        props.add({"": "symmetric", "+": "psd", "++": "spd"}.get(sub, "symmetric"))
    elif name == "H":  # Hermitian: \mathbb{H}^{n}, positive semidefinite _{+}, positive definite _{++}
        if len(dims) != 1:
            raise CannotCheck(f"{text}: write \\mathbb{{H}}^{{n}} for Hermitian n×n matrices")
        shape = (dims[0], dims[0])
        props |= {"complex", {"": "hermitian", "+": "hpsd", "++": "hpd"}.get(sub, "hermitian")}
    else:
        raise Unsupported(f"{text}: unknown space \\mathbb{{{name}}}; use \\mathbb{{R}}, \\mathbb{{C}}, "
                          "\\mathbb{S} or \\mathbb{H}")
    return shape, props


def parse_where(text: str) -> dict[str, Decl]:
    """Parse declarations into {name: Decl}. An empty text declares nothing."""
    if text is None or not text.strip():
        return {}
    # Separators become commas of the same length, so that error columns still point into `text`.
    spaced = SEPARATORS.sub(lambda m: "," + " " * (len(m.group(0)) - 1), text)
    try:
        tree = _syntax.parse(spaced, start="decls")
    except FormulaSyntaxError as e:
        e.text = text
        plain = re.search(r"\\in\s*(R|C|S)\s*\^", text)
        if plain:
            e.args = (f"{e.args[0]}; write the space as \\mathbb{{{plain.group(1)}}}^{{n}}",)
        raise
    out: dict[str, Decl] = {}
    pending_props: dict[str, set[str]] = {}

    def names(t: Tree) -> list[tuple[str, str]]:
        found = []
        for n in t.children:
            if not isinstance(n, Tree):
                continue
            key = symbol_key(n.children[0])
            if key is None:
                raise CannotCheck(f"'{' '.join(x.value for x in tokens(n))}' cannot be declared: "
                                  "declare single letters, optionally bold or subscripted")
            found.append(key)
        return found

    def props_of(ps: list[Tree]) -> set[str]:
        found = set()
        for p in ps:
            w = word(p.children[0]).lower().replace("-", "")
            if w not in PROPERTY_WORDS:
                raise CannotCheck(f"unknown property '{w}'; known: {', '.join(sorted(set(PROPERTY_WORDS.values())))}")
            found.add(PROPERTY_WORDS[w])
        return found

    def add(decl: Decl) -> None:
        if decl.name in out:
            raise CannotCheck(f"{decl.latex} is declared twice")
        out[decl.name] = decl

    for d in tree.children:
        if not isinstance(d, Tree) or d.data == "sep":
            continue
        if d.data == "decl_in":
            shape, props = _space(d.children[2], text)
            props |= props_of([c for c in d.children[3:] if isinstance(c, Tree) and c.data == "prop"])
            for name, latex in names(d.children[0]):
                add(Decl(name, latex, "var", shape=shape, props=frozenset(props)))
        elif d.data == "decl_fn":
            dom, dom_props = _space(d.children[2], text)
            cod, cod_props = _space(d.children[4], text)
            # A complex function symbol stands for a smooth function of the real and imaginary parts of its
            # argument, not a holomorphic one (which would hide every missing ∂/∂z̄ term of a chain rule).
            fn_props = frozenset({"complex-domain"} if "complex" in dom_props else set()) \
                | frozenset({"complex-codomain"} if "complex" in cod_props else set())
            for name, latex in names(d.children[0]):
                add(Decl(name, latex, "fn", shape=cod, domain=dom, props=fn_props))
        elif d.data == "decl_const":
            (name, latex), = names(Tree("names", [d.children[0]]))
            value = float(d.children[2].value)
            if value != int(value):
                raise CannotCheck(f"{latex} = {d.children[2].value}: fixed constants must be integers")
            add(Decl(name, latex, "const", value=int(value)))
        elif d.data == "decl_succ":  # X \succ 0 (definite), X \succeq 0 (semidefinite)
            if d.children[2].value != "0":
                raise CannotCheck(r"write X \succ 0 or X \succeq 0 (against zero)")
            prop = "spd" if d.children[1].value == r"\succ" else "psd"
            for name, _ in names(d.children[0]):
                pending_props.setdefault(name, set()).add(prop)
        elif d.data == "decl_det":  # \det X > 0
            func = d.children[0].value
            name_tree = d.children[1]
            postfix = name_tree.children[0]
            if len(postfix.children) == 1 and isinstance(postfix.children[0], Tree) \
                    and postfix.children[0].data == "paren":  # \det(X) > 0
                inner = [t for t in postfix.children[0].iter_subtrees_topdown() if t.data == "postfix"]
                name_tree = Tree("name", [inner[0]]) if inner else name_tree
            if func != r"\det" or d.children[-1].value != "0":
                raise CannotCheck(r"the only inequality understood on a function is \det X > 0")
            for name, _ in names(Tree("names", [name_tree])):
                pending_props.setdefault(name, set()).add("posdet")
        elif d.data == "decl_prop":
            props = props_of([c for c in d.children[1:] if isinstance(c, Tree)])
            for name, _ in names(d.children[0]):
                pending_props.setdefault(name, set()).update(props)
    for name, props in pending_props.items():
        if name not in out:
            raise CannotCheck(f"a property is given for {name}, which is not declared")
        if "complex" in out[name].props:  # Z \succ 0 of a complex Z: Hermitian positive (semi)definite
            props = { {"spd": "hpd", "psd": "hpsd"}.get(p, p) for p in props}
        out[name] = Decl(**{**out[name].__dict__, "props": out[name].props | props})
    for decl in out.values():
        _validate(decl)
    return out


def _validate(decl: Decl) -> None:
    if decl.kind != "var":
        return
    r, c = decl.shape
    square = {"symmetric", "psd", "spd", "orthogonal", "diagonal", "invertible", "skew", "posdet", "stable",
              "unitary", "hermitian", "hpd", "hpsd", "toeplitz"} & decl.props
    others = decl.props - {"toeplitz", "symmetric", "constant"}
    if "toeplitz" in decl.props and others:
        raise CannotCheck(f"{decl.latex}: Toeplitz together with '{sorted(others)[0]}' is not supported "
                          r"(a Toeplitz matrix may be declared in \mathbb{S}^{n}, or constant)")
    if "unitary" in decl.props and decl.props & {"hermitian", "hpd", "hpsd"}:
        raise CannotCheck(f"{decl.latex}: unitary and Hermitian together are not supported")
    if "complex" in decl.props:
        wrong = sorted(set(REAL_ONLY) & decl.props)
        if wrong:
            raise CannotCheck(f"{decl.latex} is complex, so '{wrong[0]}' does not apply; declare {REAL_ONLY[wrong[0]]}")
    else:
        wrong = sorted(set(COMPLEX_ONLY) & decl.props)
        if wrong:
            raise CannotCheck(f"{decl.latex} is real: '{wrong[0]}' is for complex matrices (declare "
                              rf"{decl.latex} \in \mathbb{{C}}^{{n \times n}}); for a real one declare {COMPLEX_ONLY[wrong[0]]}")
    if square and r != c:
        raise CannotCheck(f"{decl.latex} is declared {sorted(square)[0]} but is not square ({r}×{c})")
    if "distinct" in decl.props and kind(decl.shape) != "matrix":
        raise CannotCheck(f"{decl.latex} is declared with a simple spectrum but is not a matrix")
    if "unit" in decl.props and kind(decl.shape) != "vector":
        raise CannotCheck(f"{decl.latex} is declared a unit vector but is not a vector")
