"""The Errata, Pitfalls and Study note pages, and the admonitions errata and pitfalls share."""

from __future__ import annotations

import textwrap

from ._markdown import display_math, inline_math, md_text, relink, source_markdown

def alias_anchors(entry) -> list[str]:
    """Empty anchors for the ids merged into this entry, so their old permalinks land here."""
    return [f'<span id="{a}" class="matref-alias"></span>' for a in getattr(entry, "aliases", ())]


def wrong_form(entry) -> tuple[str, str, str] | None:
    """(formula, where, layout) of an erratum's wrong form, or None when it is not a formula."""
    form = getattr(entry, "wrong_form", None)
    if form is None and getattr(entry, "wrong", None):
        form = (entry.wrong, entry.where, entry.layout)
    return form


def wrong_admonition(entry, catalogue, base: str | None = None) -> str:
    """The form a source printed, refuted, with the reason."""
    src = md_text(entry.wrong_source or "a source")
    body = []
    form = wrong_form(entry)
    if form is not None:
        tex, where, layout = form
        title = f"Refuted: as printed in {src} ({layout} layout)"
        body.append(display_math(tex))
        if where and where != entry.where:
            body.append(f"where {inline_math(where)}\n{{: .matref-where }}")
    else:
        title = f"Refuted: as printed in {src}"
    if getattr(entry, "wrong_text", None):
        body.append(entry.wrong_text.strip())
    if getattr(entry, "assumptions", None):
        body.append(f"**What {src} assumes there:** {relink(entry.assumptions.strip(), base, catalogue)}")
    if getattr(entry, "explanation", None):
        body.append(relink(entry.explanation.strip(), base, catalogue))
    title = title.replace('"', "'")
    return f'!!! failure "{title}"\n\n' + textwrap.indent("\n\n".join(body), "    ")


def misreading_admonition(entry, catalogue, base: str | None = None) -> str:
    """A pitfall: the formula is right; this is the reading that gets it wrong (refuted)."""
    tex, where, layout = wrong_form(entry)
    body = [f"Read with {entry.misreading}, the formula becomes", display_math(tex)]
    if where and where != entry.where:
        body.append(f"where {inline_math(where)}\n{{: .matref-where }}")
    body += [f"which the checker refutes ({layout} layout).", relink(entry.explanation.strip(), base, catalogue)]
    return '!!! warning "Pitfall: how it goes wrong"\n\n' + textwrap.indent("\n\n".join(body), "    ")


def errata_page(cat) -> str:
    """Every erratum: the form as printed, refuted, beside the corrected one."""
    errata = [e for e in cat.entries if getattr(e, "kind", "identity") == "erratum"]
    out = [
        "# Errata",
        "",
        f"{len(errata)} places where a source prints a formula that is **wrong under the source's own "
        "assumptions**: the assumptions are quoted, the form as printed is refuted by the checker under "
        "them, and the corrected form is checked like every other identity. A formula that holds as its "
        "source means it but is easily misread is not an erratum: it is a [pitfall](pitfalls.md).",
        "",
    ]
    if not errata:
        out += ["The catalogue lists no errata yet.", ""]
    for e in errata:
        out += [
            f'<div class="matref-card" data-entry="{e.id}" data-kind="erratum" markdown>',
            "",
            f"## {md_text(e.title)} {{#{e.id}}}",
            "",
        ]
        out += [wrong_admonition(e, cat, "reference/"), ""]
        form = wrong_form(e)
        layout = form[2] if form else e.layout  # the corrected form in the layout of the wrong one
        out += [
            f'!!! success "Corrected ({layout} layout)"',
            "",
            textwrap.indent(display_math(e.formula_in(layout)), "    "),
            "",
        ]
        if e.where:
            out += [f"where {inline_math(e.where)}\n{{: .matref-where }}", ""]
        out += [f"[Full entry with both layouts and its check](reference/{e.page}.md#{e.id})", "", "</div>", ""]
    return "\n".join(out)


def pitfalls_page(cat) -> str:
    """Every pitfall: the formula that holds, and the reading that gets it wrong."""
    pitfalls = [e for e in cat.entries if getattr(e, "kind", "identity") == "pitfall"]
    out = [
        "# Pitfalls",
        "",
        f"{len(pitfalls)} {'formula that **holds** as its source means it' if len(pitfalls) == 1 else 'formulas that **hold** as their sources mean them'}"
        ", but that a common reading or implementation gets wrong. The formula is checked; so is the way "
        "it goes wrong. Nothing here is an error of the source (those are the [errata](errata.md)).",
        "",
    ]
    for e in pitfalls:
        out += [f'<div class="matref-card" data-entry="{e.id}" data-kind="pitfall" markdown>', "",
                *alias_anchors(e), f"## {md_text(e.title)} {{#{e.id}}}", "",
                f'!!! success "Holds ({e.layout} layout)"', "",
                textwrap.indent(display_math(e.formula_in(e.layout)), "    "), ""]
        if e.where:
            out += [f"where {inline_math(e.where)}\n{{: .matref-where }}", ""]
        out += [misreading_admonition(e, cat, "reference/"), "",
                "**Sources:** " + " · ".join(source_markdown(s, "") for s in e.sources) + "\n{: .matref-sources }", "",
                f"[Full entry with both layouts and its check](reference/{e.page}.md#{e.id})", "", "</div>", ""]
    return "\n".join(out)


def study_note_page(cat) -> str:
    """The study note matref grew from: what it is, and each of its statements with matref's reading."""
    from matref import _coverage
    note = _coverage.study_note()
    out = [
        f"# {note['note']['name']}",
        "",
        "matref grew out of a short study note in Chinese, titled **求导** (\"taking derivatives\"), copied "
        "from a web page whose rendered math had been flattened to text. It lists fifteen basic derivatives, "
        "defines the two layouts, 分母布局 (denominator layout: the result has as many rows as the "
        "denominator) and 分子布局 (numerator layout: as many rows as the numerator), notes that the two "
        "give transposes of each other, sketches gradient descent and the chain rule, and ends with trace "
        "identities. matref keeps its convention: denominator layout by default.",
        "",
        "The note writes capitals ($X$, $U$, $V$) also for vectors. Below, each statement is shown as the "
        "note writes it, then as matref reads it (lower-case letters are vectors) with the checker's verdict "
        "and a link to the entry. Where the note is wrong as written, the [errata](errata.md) say why.",
        "",
    ]
    k = 0
    for part in note["part"]:
        out += [f"## {md_text(part['title'])}", ""]
        for st in part["statements"]:
            k += 1
            out += [f'<div class="matref-study" markdown>', "", f"**{k}.** As written:", "",
                    display_math(st["written"]), ""]
            for i in st["entries"]:
                e = cat.get(i)
                verdict = _coverage.study_note_verdict(e)
                cls = "matref-verdict--wrong" if verdict.startswith("wrong") else "matref-verdict--holds"
                out += [f"matref reads it as [{md_text(e.title)}](reference/{e.page}.md#{e.id}), "
                        f'<span class="matref-verdict {cls}">{verdict}</span>:', "",
                        display_math(e.formula_in(e.layout)), ""]
                if e.where:
                    out += [f"where {inline_math(e.where)} ({e.layout} layout)\n{{: .matref-where }}", ""]
            out += ["</div>", ""]
    return "\n".join(out)


