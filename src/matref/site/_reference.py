"""The reference pages: one page per family and the index (Markdown, generated from the catalogue)."""

from __future__ import annotations

import html
from collections import Counter

from ._dialects import Dialect
from ._ledgers import alias_anchors, misreading_admonition, wrong_admonition
from ._markdown import display_math, fence, inline_math, md_text, source_markdown, tabs

LAYOUTS = (("denominator", "Denominator layout"), ("numerator", "Numerator layout"))


class SnippetError(Exception):
    """A snippet generator failed; the message names the entry, the dialect and the layout."""

def snippet_code(entry, dialects: tuple[Dialect, ...], layout: str) -> dict[str, str | None]:
    """The scripts shown for one layout, by dialect key; None where a dialect has no form for the entry."""
    code = {}
    for d in dialects:
        try:
            code[d.key] = d.make(entry, layout)
        except Exception as exc:  # name the entry: a bare traceback from deep in the generator is no help
            at = getattr(entry, "location", "") or entry.id
            raise SnippetError(
                f"cannot generate the {d.key} snippet of '{entry.id}' ({at}) in {layout} layout: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
    return code


def snippet_tabs(entry, code: dict[str, str | None], layout: str, dialects: tuple[Dialect, ...]) -> str:
    """One tab per dialect that has code for the entry."""
    items = []
    for d in dialects:
        if code[d.key] is None:
            continue
        attrs = f'.matref-snippet data-entry="{entry.id}" data-layout="{layout}" data-lang="{d.key}" data-search-exclude=""'
        items.append((d.label, fence(code[d.key], lang="python", attrs=attrs)))
    return tabs(items)


def entry_body(entry, code: dict[str, str | None], layout: str, dialects, *, one_formula: bool) -> str:
    """What one layout tab holds: formula, declarations, snippets."""
    parts = [display_math(entry.formula_in(layout))]
    if one_formula:
        parts.append("Same in both layouts.\n{: .matref-layout-note }")
    if entry.where:
        parts.append(f"where {inline_math(entry.where)}\n{{: .matref-where }}")
    parts.append(snippet_tabs(entry, code, layout, dialects))
    return "\n\n".join(parts)

def entry_markdown(entry, dialects, catalogue, *, heading: str = "##") -> str:
    """One entry's section on its family page."""
    kind = getattr(entry, "kind", "identity")
    out = [
        f'<div class="matref-entry" data-entry="{entry.id}" data-kind="{kind}" markdown>',
        "",
        *alias_anchors(entry),
        f"{heading} {md_text(entry.title)} {{#{entry.id}}}",
        "",
    ]
    if kind == "erratum":
        out += ['<p class="matref-badge matref-badge--erratum">Erratum: corrected form</p>', ""]
    if kind == "pitfall":
        out += ['<p class="matref-badge matref-badge--pitfall">Pitfall: correct, often misread</p>', ""]
    if entry.layout_independent:
        # One formula, "same in both layouts", and the scripts of the layout it is written in.
        code = snippet_code(entry, dialects, entry.layout)
        out.append(entry_body(entry, code, entry.layout, dialects, one_formula=True))
    else:
        out.append(tabs([(label, entry_body(entry, snippet_code(entry, dialects, layout), layout, dialects, one_formula=False))
                         for layout, label in LAYOUTS]))
    out.append("")
    if kind == "erratum":
        out.append(wrong_admonition(entry, catalogue))
        out.append("")
    if kind == "pitfall":
        out.append(misreading_admonition(entry, catalogue))
        out.append("")
    if entry.notes:
        out += [f'<div class="matref-notes" markdown>\n\n{entry.notes.strip()}\n\n</div>', ""]
    if entry.sources:
        srcs = " · ".join(source_markdown(s) for s in entry.sources)
        out += [f"**Sources:** {srcs}\n{{: .matref-sources }}", ""]
    if entry.tags:
        chips = " ".join(f'<span class="matref-tag">{html.escape(t)}</span>' for t in entry.tags)
        out += [f'<p class="matref-tags">{chips}</p>', ""]
    out += ["</div>", ""]
    return "\n".join(out)


def family_page(family, dialects, catalogue) -> str:
    """A family's reference page."""
    out = [f"# {md_text(family.title)}", ""]
    if family.intro:
        out += [family.intro.strip(), ""]
    n = len(family.entries)
    kinds = Counter(getattr(e, "kind", "identity") for e in family.entries)
    count = f'{n} {"entry" if n == 1 else "entries"}'
    extra = [f"{kinds[k]} {word if kinds[k] == 1 else plural}" for k, word, plural in
             (("erratum", "erratum with its corrected form", "errata with their corrected forms"),
              ("pitfall", "pitfall", "pitfalls")) if kinds[k]]
    if extra:
        count += f" ({', '.join(extra)})"
    out += [
        f'<p class="matref-count">{count}, each checked by JAX autodiff in both layouts. The layout '
        "tabs switch every formula on every page.</p>",
        "",
    ]
    for entry in family.entries:
        out.append(entry_markdown(entry, dialects, catalogue))
    return "\n".join(out)


def index_page(cat) -> str:
    """The Reference index: every entry, family by family."""
    total = len(cat.entries)
    kinds = Counter(getattr(e, "kind", "identity") for e in cat.entries)
    out = [
        "# Reference",
        "",
        f"All {total} entries of the catalogue, family by family: {kinds['identity']} identities, "
        f"{kinds['erratum']} [errata](../errata.md) and {kinds['pitfall']} [pitfalls](../pitfalls.md). Each one is "
        "written once as LaTeX, checked by JAX autodiff in the denominator and numerator layouts, and "
        "shown beside the script that checks it. See [Conventions](../conventions.md) for what the "
        "notation means.",
        "",
    ]
    for fam in cat.families:
        out += [f"## [{md_text(fam.title)}]({fam.name}.md)", ""]
        for e in fam.entries:
            kind = getattr(e, "kind", "")
            mark = f' <span class="matref-tag">{kind}</span>' if kind in ("erratum", "pitfall") else ""
            out.append(f"- [{md_text(e.title)}]({fam.name}.md#{e.id}){mark}")
        out.append("")
    return "\n".join(out)


