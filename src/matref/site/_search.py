"""A search index that understands formulas, for Material's search.

Material's search plugin indexes the built pages: raw TeX, one section per heading. This module
replaces what it wrote for the reference pages with one document per catalogue entry:

- `title`: the entry's title (plain text: results show it as it reads, never TeX);
- `text`: the formula as readable text (`∂(xᵀAx)/∂x = (A + Aᵀ)x`), where-clause and sources;
- `keys` (a field of its own, boosted, never shown): the formula *compacted* the way people type it
  (`x^T A x`, `xTAx` → `xtax`; `tr(AXB)` → `traxb`; `log det`, `log|X|` → `logdet…`), Cookbook numbers
  (`81`, `mc81`, `cookbook81`) and synonyms (`hessian`, `softmax`, `logdet`, ...).

Queries are compacted the same way by `matref-search.js` (see `compact_query`, mirrored there),
before Material's own search worker sees them. Other pages keep their documents, with TeX turned
into readable text.
"""

from __future__ import annotations

import html
import re

from .._operators import OPERATORS
from ._reference import LAYOUTS

# TeX commands that carry no searchable meaning of their own.
_DROP = re.compile(r"\\(?:left|right|big|Big|bigg|Bigg|partial|frac|dfrac|tfrac|nabla|mathrm|mathbf|mathbb|"
                   r"operatorname|text|quad|qquad|displaystyle|limits)\b|\\[,;:! ]")
_TRANSPOSE = re.compile(r"\^\s*(?:\{\s*(?:T|\\top|\\intercal)\s*\}|T|\\top|\\intercal)")
_DETBARS = re.compile(r"(?<!\\)\|([^|]+?)(?<!\\)\|")
_GROUPS = re.compile(r"\{([^{}]*)\}|\(([^()]*)\)|\[([^\[\]]*)\]")
_COOKBOOK = re.compile(r"Matrix Cookbook \((\d+)\)")

# Words readers search for that a formula does not spell: key -> how to spot it in an entry.
SYNONYMS: dict[str, re.Pattern] = {
    "hessian": re.compile(r"\\partial\^2|\\nabla\^2|hessian", re.I),
    "gradient": re.compile(r"\\nabla|gradient", re.I),
    "jacobian": re.compile(r"jacobian", re.I),
    "logdet": re.compile(r"\\(?:log|ln)\s*(?:\\det|\||\\lvert)|log-?det", re.I),
    "softmax": re.compile(r"softmax", re.I),
    "logsumexp": re.compile(r"log-?sum-?exp", re.I),
    "quadratic": re.compile(r"x\^T A x|quadratic", re.I),
    "inverse": re.compile(r"\^\{-1\}|inverse", re.I),
    "kronecker": re.compile(r"\\otimes|kronecker", re.I),
}


def compact(text: str) -> str:
    """Text or TeX as a run of lower-case letters and digits: `x^T A x` and `xTAx` both give `xtax`."""
    text = _TRANSPOSE.sub("t", text)
    text = re.sub(r"\\ln\b", r"\\log", text)  # the catalogue writes ln, readers type log
    text = _DROP.sub(" ", text)
    text = text.replace("\\", " ")
    return re.sub(r"[^a-z0-9]", "", text.lower())


def compact_query(query: str) -> str:
    """A query as `matref-search.js` rewrites it: the compacted whole, then its longer words.

    Kept in step with the JavaScript by the site tests (a table of queries in Chromium).
    """
    whole = compact(query)
    if whole.isdigit():  # a bare number in a matrix-calculus reference is a Cookbook equation number
        whole = f"mc{whole}"
    # a word inside the compacted whole (`cookbook` of `cookbook81`, `log` of `logdet`) only adds noise
    words = [w for w in (re.sub(r"[^a-z0-9]", "", w.lower()) for w in query.split()) if len(w) >= 3 and w not in whole]
    return " ".join(dict.fromkeys([whole, *words]))


def _pieces(tex: str) -> list[str]:
    """The sides of a formula and every bracketed sub-expression, innermost first."""
    tex = _DETBARS.sub(r" \\det(\1) ", tex.replace("\\|", "‖"))
    # A bare derivative operator in front (`\frac{\partial}{\partial X} f`, `\nabla_X f`) is not what
    # anyone types: drop it, so the side reads as the expression it differentiates.
    tex = re.sub(r"\\frac\{\\partial(?:\^\{?\d\}?)?\}\{[^{}]*\}|\\nabla(?:\^2)?_(?:\{[^{}]*\}|\w)", " ", tex)
    out = [side for side in re.split(r"=|\\approx", tex)]
    work = tex
    while True:
        found = list(_GROUPS.finditer(work))
        if not found:
            break
        for m in found:
            out.append(next(g for g in m.groups() if g is not None))
        work = _GROUPS.sub(" ", work)
    return out


def entry_keys(entry) -> list[str]:
    """The searchable keys of one entry (see the module docstring)."""
    keys: list[str] = []
    for layout in LAYOUTS:
        for piece in _pieces(entry.formula_in(layout)):
            k = compact(piece)
            if len(k) >= 2:
                keys.append(k)
    for source in entry.sources:
        for n in _COOKBOOK.findall(source):
            keys += [n, f"mc{n}", f"cookbook{n}", f"matrixcookbook{n}"]
    blob = " ".join([entry.title, entry.formula, " ".join(entry.tags), entry.id])
    keys += [name for name, pattern in SYNONYMS.items() if pattern.search(blob)]
    keys += [compact(t) for t in entry.tags]
    return list(dict.fromkeys(keys))


# --- TeX as readable text, for result previews -------------------------------------------------

_SYMBOLS = {
    **{c: op.symbol for op in OPERATORS.values() for c in op.commands},
    "circ": "∘",  # as written: \circ is the Hadamard product, and reads as ∘
    "partial": "∂", "nabla": "∇", "in": "∈", "times": "×",
    "cdot": "·", "sum": "Σ", "prod": "Π", "infty": "∞", "to": "→", "approx": "≈", "le": "≤", "ge": "≥",
    "leq": "≤", "geq": "≥", "neq": "≠", "mathbb{R}": "ℝ", "mathbb{S}": "𝕊", "mathbb{C}": "ℂ",
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε", "lambda": "λ",
    "mu": "μ", "sigma": "σ", "Sigma": "Σ", "theta": "θ", "phi": "φ", "psi": "ψ", "omega": "ω", "tau": "τ",
    "rho": "ρ", "eta": "η", "xi": "ξ", "pi": "π", "top": "T", "ldots": "…", "cdots": "⋯", "mid": "|",
    "lvert": "|", "rvert": "|", "|": "‖", "{": "{", "}": "}",
}
_SUP = str.maketrans("0123456789+-=()nTHijk", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿᵀᴴⁱʲᵏ")


def _sup(s: str) -> str:
    t = s.translate(_SUP)
    return t if all(c in "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿᵀᴴⁱʲᵏ" for c in t) else f"^({s})" if len(s) > 1 else f"^{s}"


def tex_to_text(tex: str) -> str:
    """TeX as plain Unicode text for a search result (readable, not typeset)."""
    t = " ".join(tex.split())
    t = re.sub(r"\\mathbb\{(\w)\}", lambda m: _SYMBOLS.get(f"mathbb{{{m.group(1)}}}", m.group(1)), t)
    for _ in range(4):  # nested fractions
        t = re.sub(r"\\[dt]?frac\{([^{}]*)\}\{([^{}]*)\}", r"(\1)/(\2)", t)
    t = re.sub(r"\\(?:operatorname|mathrm|text|mathbf|boldsymbol)\{([^{}]*)\}", r"\1", t)
    t = re.sub(r"\\(?:left|right|big|Big|bigg|Bigg)\b\s*\\?", "", t)
    t = re.sub(r"\^\{([^{}]*)\}", lambda m: _sup(m.group(1).replace("\\top", "T")), t)
    t = re.sub(r"\^(\\top|\w)", lambda m: _sup("T" if m.group(1) == "\\top" else m.group(1)), t)
    t = re.sub(r"_\{([^{}]*)\}", r"_\1", t)
    t = re.sub(r"\\([A-Za-z]+|[|{}])", lambda m: _SYMBOLS.get(m.group(1), m.group(1)), t)
    t = re.sub(r"\\[,;:! ]", " ", t).replace("{", "").replace("}", "")
    return re.sub(r"\s+", " ", t).strip()


_MATH_IN_TEXT = re.compile(r"\\\((.*?)\\\)|\\\[(.*?)\\\]", re.DOTALL)


def readable(text: str) -> str:
    """Search-index text with its `\\( \\)` and `\\[ \\]` math turned into readable text."""
    return _MATH_IN_TEXT.sub(lambda m: html.escape(tex_to_text(html.unescape(m.group(1) or m.group(2))), quote=False),
                             text)


def entry_document(entry) -> dict:
    """The search document of one entry."""
    shown = entry.formula_in("denominator")
    parts = [f"<p>{html.escape(tex_to_text(shown), quote=False)}</p>"]
    if entry.where:
        parts.append(f"<p>where {html.escape(tex_to_text(entry.where), quote=False)}</p>")
    if entry.sources:
        parts.append(f"<p>{html.escape(' · '.join(entry.sources), quote=False)}</p>")
    doc = {"location": f"reference/{entry.page}/#{entry.id}", "title": html.escape(entry.title, quote=False),
           "text": "".join(parts), "keys": " ".join(entry_keys(entry))}
    if entry.variant_of:  # a restatement: let the entry it restates come first
        doc["boost"] = 0.8
    return doc


def rewrite_index(index: dict, catalogue) -> dict:
    """Material's search index with one document per entry in place of the reference pages' sections."""
    pages = {f"reference/{p.page}/": f.part_entries(p) for f in catalogue.families for p in f.parts}
    docs = []
    for doc in index["docs"]:
        path = doc["location"].split("#")[0]
        if path in pages:
            if "#" not in doc["location"]:  # the page itself stays, with its introduction
                docs.append({**doc, "text": readable(doc["text"])[:600]})
                docs += [entry_document(e) for e in pages[path]]
            continue
        docs.append({**doc, "title": readable(doc["title"]), "text": readable(doc["text"])})
    fields = dict(index["config"].get("fields") or {})
    fields.setdefault("title", {"boost": 1000.0})
    fields.setdefault("text", {"boost": 1.0})
    fields["keys"] = {"boost": 5000.0}  # a formula typed the way the entry is written beats a word in its notes
    return {**index, "config": {**index["config"], "fields": fields}, "docs": docs}
