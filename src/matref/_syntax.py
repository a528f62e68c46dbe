"""LaTeX text -> syntax tree (lark), with the post-lexer that gives backslash commands and
bars their roles. No meaning is attached here; see `_language` for that."""

from __future__ import annotations

import functools
from importlib import resources
from typing import Iterator

from lark import Lark, Token, Tree
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from ._errors import FormulaSyntaxError
from ._functions import COMMANDS
from ._operators import COMMANDS as OPERATOR_COMMANDS  # \otimes, \odot, ...: see _operators

# Inputs beyond these limits are refused before parsing: a formula is a line of mathematics, and
# these bounds keep every later (recursive) stage far from Python's recursion limit.
MAX_LENGTH = 4000
MAX_DEPTH = 40

GREEK = frozenset(
    "alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi "
    "pi varpi rho varrho sigma varsigma tau upsilon phi varphi chi psi omega "
    "Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega ell".split()
)
FUNCS = COMMANDS  # backslash commands that name a function (\\det, \\log, ...): see _functions
STYLES = frozenset("operatorname mathrm text textrm mathsf mathbf boldsymbol bm mathbb mathcal mathit".split())
SIMPLE = {
    "frac": "FRAC", "dfrac": "FRAC", "tfrac": "FRAC", "sum": "SUM", "int": "INT",
    "begin": "BEGIN", "end": "END", "\\": "ROWSEP",
    "partial": "PARTIAL", "nabla": "NABLA",
    "top": "TOP", "intercal": "TOP", "mathsf": "STYLE",
    "cdot": "CDOT",
    "in": "IN", "to": "TO", "rightarrow": "TO", "times": "TIMES",
    "bar": "CONJ", "overline": "CONJ",
    "langle": "LANGLE", "rangle": "RANGLE", "succ": "SUCC", "succeq": "SUCC", "dagger": "DAGGER",
    "quad": None, "qquad": None, "displaystyle": None, "textstyle": None,
    "big": None, "Big": None, "bigg": None, "Bigg": None,
    "bigl": None, "bigr": None, "Bigl": None, "Bigr": None, "biggl": None, "biggr": None,
}
SPACING = frozenset([",", ";", ":", "!", " "])
# Tokens after which a `|` closes an open bar rather than opening a new one.
OPERAND_END = frozenset(["LETTER", "NUMBER", "GREEK", "RPAR", "RBRACK", "RBRACE", "RBAR", "RNORM", "TOP"])


class _PostLex:
    """Classify `\\command` tokens and decide whether each `|` or `\\|` opens or closes."""

    always_accept = ("CMD", "BAR")

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        return _frac_arguments(self._classify(stream))

    def _classify(self, stream: Iterator[Token]) -> Iterator[Token]:
        open_bars: list[str] = []  # "BAR" or "NORM", innermost last
        prev: str | None = None
        pending_left: str | None = None  # "left" or "right" seen, waiting for its delimiter
        for tok in stream:
            kind = tok.type
            if kind == "CMD":
                name = tok.value[1:]
                if name in SPACING:
                    continue
                if name in ("left", "right"):
                    pending_left = name
                    continue
                if name == "|" or name in ("Vert", "lVert", "rVert"):
                    kind = "DBAR" if name in ("|", "Vert") else ("LNORM" if name == "lVert" else "RNORM")
                elif name in ("vert", "lvert", "rvert"):
                    kind = "BAR" if name == "vert" else ("LBAR" if name == "lvert" else "RBAR")
                elif name in ("{", "}"):
                    raise _error(f"'\\{name}' (set braces) is not part of the formula language", tok)
                elif name in GREEK:
                    kind = "GREEK"
                elif name in FUNCS:
                    kind = "FUNC"
                elif name in OPERATOR_COMMANDS:
                    kind = "KOP"
                elif name in STYLES:
                    kind = "STYLE"
                elif name in SIMPLE:
                    kind = SIMPLE[name]
                    if kind is None:
                        continue
                elif name == "and" or name == "text":
                    kind = "STYLE"
                else:
                    raise _error(f"unknown command '\\{name}'", tok)
            if pending_left is not None:
                side, pending_left = pending_left, None
                if tok.value == ".":
                    continue
                if kind == "BAR":
                    kind = "LBAR" if side == "left" else "RBAR"
                elif kind == "DBAR":
                    kind = "LNORM" if side == "left" else "RNORM"
                elif kind not in ("LPAR", "RPAR", "LBRACK", "RBRACK", "LBAR", "RBAR", "LNORM", "RNORM",
                                  "LANGLE", "RANGLE"):
                    raise _error(f"'\\{side}' must be followed by a delimiter", tok)
            if kind in ("BAR", "DBAR"):
                want = "BAR" if kind == "BAR" else "NORM"
                if open_bars and open_bars[-1] == want and prev in OPERAND_END:
                    kind = "R" + want
                else:
                    kind = "L" + want
            if kind in ("LBAR", "LNORM"):
                open_bars.append(kind[1:])
            elif kind in ("RBAR", "RNORM"):
                if not open_bars or open_bars[-1] != kind[1:]:
                    raise _error("a closing bar has no opening bar", tok)
                open_bars.pop()
            if kind == "STYLE" and tok.value == "\\and":
                kind = "AND"
            prev = kind
            yield Token(kind, tok.value, tok.start_pos, tok.line, tok.column, tok.end_line, tok.end_column, tok.end_pos)
        if pending_left is not None:
            raise FormulaSyntaxError(f"'\\{pending_left}' at the end of the input needs a delimiter")


def _frac_arguments(stream: Iterator[Token]) -> Iterator[Token]:
    """Brace the single-character arguments of \\frac, as TeX reads them: \\frac12 is \\frac{1}{2}."""
    def braced(tok: Token, value: str, offset: int) -> list[Token]:
        at = dict(line=tok.line, column=(tok.column or 1) + offset, end_line=tok.end_line,
                  end_column=(tok.column or 1) + offset + len(value), start_pos=(tok.start_pos or 0) + offset,
                  end_pos=(tok.start_pos or 0) + offset + len(value))
        return [Token("LBRACE", "{", **at), Token(tok.type, value, **at), Token("RBRACE", "}", **at)]

    want = 0  # arguments of the last \\frac still to read
    depth = 0  # brace depth inside an argument being read
    for tok in stream:
        if want and depth == 0 and tok.type == "LBRACE":
            depth = 1
            yield tok
            continue
        if depth:
            depth += {"LBRACE": 1, "RBRACE": -1}.get(tok.type, 0)
            if depth == 0:
                want -= 1
            yield tok
            continue
        if want and tok.type in ("NUMBER", "LETTER", "GREEK"):
            if tok.type == "NUMBER" and "." not in tok.value and len(tok.value) > 1:
                yield from braced(tok, tok.value[0], 0)
                want -= 1
                if want:
                    yield from braced(tok, tok.value[1], 1)
                    want -= 1
                if len(tok.value) > 2:
                    yield Token("NUMBER", tok.value[2:], tok.start_pos + 2, tok.line, tok.column + 2,
                                tok.end_line, tok.end_column, tok.end_pos)
                continue
            yield from braced(tok, tok.value, 0)
            want -= 1
            continue
        want = 2 if tok.type == "FRAC" else 0
        yield tok


class _Located(Exception):
    def __init__(self, message: str, column: int | None):
        self.message, self.column = message, column


def _error(message: str, tok: Token) -> _Located:
    return _Located(message, tok.column)


@functools.cache
def _parser() -> Lark:
    grammar = resources.files("matref").joinpath("_grammar.lark").read_text()
    try:  # lark caches the built LALR tables in the temp directory, keyed by the grammar
        return Lark(grammar, parser="lalr", lexer="basic", postlex=_PostLex(), start=["equation", "decls"],
                    propagate_positions=False, maybe_placeholders=False, cache=True)
    except OSError:  # pragma: no cover - an unwritable temp directory
        return Lark(grammar, parser="lalr", lexer="basic", postlex=_PostLex(), start=["equation", "decls"],
                    propagate_positions=False, maybe_placeholders=False)


def _depth(text: str) -> int:
    depth = deepest = 0
    for ch in text:
        if ch in "({[":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in ")}]":
            depth -= 1
    return deepest


_DESCRIBE = {
    "RBRACE": "'}'", "LBRACE": "'{'", "RPAR": "')'", "LPAR": "'('", "EQ": "'='", "$END": "the end of the input",
    "RBAR": "a closing '|'", "RNORM": "a closing '\\|'", "RBRACK": "']'",
}


def parse(text: str, start: str = "equation") -> Tree:
    """Parse `text` (an identity, or declarations with start="decls") into a lark syntax tree.

    Raises FormulaSyntaxError with a 1-based column on bad input; never anything else.
    """
    if not isinstance(text, str):
        raise FormulaSyntaxError("the formula must be a string")
    what = "declarations" if start == "decls" else "formula"
    if not text.strip():
        raise FormulaSyntaxError(f"the {what} is empty")
    if len(text) > MAX_LENGTH:
        raise FormulaSyntaxError(f"the {what} is {len(text)} characters long; the limit is {MAX_LENGTH}")
    if "$" in text:
        raise FormulaSyntaxError(f"write the {what} without $ delimiters", text, text.index("$") + 1)
    if _depth(text) > MAX_DEPTH:
        raise FormulaSyntaxError(f"the {what} nests brackets more than {MAX_DEPTH} deep")
    try:
        return _parser().parse(text, start=start)
    except _Located as e:
        raise FormulaSyntaxError(f"syntax error at column {e.column}: {e.message}", text, e.column) from None
    except UnexpectedCharacters as e:
        raise FormulaSyntaxError(
            f"syntax error at column {e.column}: unexpected character {text[e.pos_in_stream]!r}", text, e.column
        ) from None
    except UnexpectedEOF:
        raise FormulaSyntaxError(f"syntax error: the {what} ends too early", text, len(text) + 1) from None
    except UnexpectedToken as e:
        tok = e.token
        if tok.type == "$END":
            raise FormulaSyntaxError(f"syntax error: the {what} ends too early (unclosed bracket?)",
                                     text, len(text) + 1) from None
        expected = sorted(_DESCRIBE[t] for t in e.expected if t in _DESCRIBE)
        hint = f"; expected {' or '.join(expected)}" if expected and len(expected) <= 3 else ""
        raise FormulaSyntaxError(f"syntax error at column {tok.column}: unexpected {tok.value!r}{hint}",
                                 text, tok.column) from None
    except UnexpectedInput as e:  # any other lark input error
        raise FormulaSyntaxError(f"syntax error at column {getattr(e, 'column', '?')}", text) from None
    except FormulaSyntaxError as e:
        if not e.text:
            e.text = text
        raise
    except LarkError as e:  # pragma: no cover - a grammar bug, reported rather than crashing
        raise FormulaSyntaxError(f"could not parse the {what}: {e}") from None
