"""Markdown building blocks shared by the generated pages (pure string functions)."""

from __future__ import annotations

import re
import textwrap

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|!])")
_INLINE_MATH = re.compile(r"(\$[^$]+\$)")

STUDY_NOTE = "Study note 求导 (matrix derivatives)"


def md_text(text: str) -> str:
    """Escape plain text for Markdown, leaving `$...$` math untouched (arithmatex renders it)."""
    parts = _INLINE_MATH.split(text)
    return "".join(p if i % 2 else _MD_SPECIAL.sub(r"\\\1", p).replace("&", "&amp;") for i, p in enumerate(parts))


def display_math(tex: str) -> str:
    """A `$$ ... $$` block without blank lines (a blank line would end the block)."""
    body = "\n".join(line for line in tex.strip().splitlines() if line.strip())
    return f"$$\n{body}\n$$"


def inline_math(tex: str) -> str:
    """`$...$` on one line."""
    return "$" + " ".join(tex.split()) + "$"


def fence(code: str, *, lang: str, attrs: str) -> str:
    """A fenced block that survives any backticks inside the code."""
    longest = max((len(m) for m in re.findall(r"`+", code)), default=0)
    ticks = "`" * max(3, longest + 1)
    if not code.endswith("\n"):
        code += "\n"
    return f"{ticks}{lang} {{{attrs}}}\n{code}{ticks}"


def tabs(items: list[tuple[str, str]]) -> str:
    """pymdownx.tabbed tabs; Material links tabs with equal labels across the whole site."""
    return "\n".join(f'=== "{label}"\n\n{textwrap.indent(body, "    ")}\n' for label, body in items)


def wiki_anchor(table: str, row: int) -> str:
    """The Coverage page's anchor of one Wikipedia table row."""
    return "wikipedia-" + re.sub(r"[^a-z0-9]+", "-", table.lower()).strip("-") + f"-{row}"


def source_markdown(source: str, base: str = "../") -> str:
    """A source as the site shows it: the study note and Wikipedia rows link to their pages."""
    if source == STUDY_NOTE:
        return f"[{source}]({base}study-note.md)"
    m = re.match(r"^Wikipedia: (.+) #(\d+)$", source)
    if m:
        return f"[{md_text(source)}]({base}coverage.md#{wiki_anchor(m.group(1), int(m.group(2)))})"
    return md_text(source)


def relink(text: str, base: str | None, catalogue) -> str:
    """Entry text links to `#id` (an entry of the catalogue); on another page they need the entry's page.

    `base` leads from the page to reference/ ("" on a reference page); None leaves the links as written."""
    if base is None:
        return text

    def page(m: re.Match) -> str:
        try:
            e = catalogue.get(m.group(1))
        except KeyError:
            return m.group(0)
        return f"]({base}{e.page}.md#{e.id})"

    return re.sub(r"\]\(#([a-z0-9-]+)\)", page, text)
