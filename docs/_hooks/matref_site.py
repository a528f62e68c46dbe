"""MkDocs hook that turns the matref catalogue into the reference site and prerenders its math.

Registered in mkdocs.yml under `hooks:`. It does three things, all at build time:

1. **Pages from the catalogue** (`on_config`, `on_files`): one `reference/<family>.md` per family, the
   index `reference/index.md`, `errata.md`, `pitfalls.md`, `study-note.md` and `coverage.md` are added as
   virtual files, never
   written to `docs/` and never committed. The nav entry `Reference: reference/index.md` is expanded
   into the index plus one page per family, in catalogue order.
2. **KaTeX assets** (`on_files`): `katex.min.css` and its fonts (plus the client-side renderer that
   only notebook pages load) are taken from `node_modules/katex/dist`, which `npm ci` fills from the
   lockfile. Nothing of KaTeX lives in the repository.
3. **Prerendered math** (`on_post_build`): every arithmatex span/div in the built HTML is rendered by
   the pinned KaTeX in **one** node process (`katex_render.mjs`) and replaced in place, so math is
   visible at first paint with no JavaScript; each page preloads the KaTeX fonts its math uses. A
   formula KaTeX cannot parse fails the build with a message naming the page, the entry and the TeX.

Notebook pages (mkdocs-jupyter) keep nbconvert's raw `$...$`; `on_post_page` gives just those pages
the local KaTeX auto-render script. `on_page_content`/`on_page_context` keep the snippet code out of
the search plugin's way (see there).
"""

from __future__ import annotations

import html
import importlib.util
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import Future
from pathlib import Path, PurePath
from typing import Any

from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files
from mkdocs.utils import get_relative_url

# A logger under "mkdocs." so that our warnings count towards `strict: true`.
log = logging.getLogger("mkdocs.hooks.matref_site")

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
RENDERER = HERE / "katex_render.mjs"
KATEX_DIST = ROOT / "node_modules" / "katex" / "dist"

LAYOUTS = (("denominator", "Denominator layout"), ("numerator", "Numerator layout"))
SNIPPETS = (("jax", "JAX check"), ("numpy", "NumPy"))
ASSETS = "assets/katex"  # where KaTeX's css/fonts/js land in the built site

_state: dict[str, Any] = {}


# --------------------------------------------------------------------------------------------------
# The catalogue
# --------------------------------------------------------------------------------------------------


def _import_matref():
    """Import matref, from the checkout being built when it is not installed (e.g. before setup)."""
    if importlib.util.find_spec("matref") is None:
        sys.path.insert(0, str(ROOT / "src"))
    # The notebook kernel is a separate process: let it import the same matref.
    src = str(ROOT / "src")
    parts = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if src not in parts:
        os.environ["PYTHONPATH"] = os.pathsep.join([*parts, src])
    import matref
    from matref import snippets

    return matref, snippets


def _load():
    matref, snippets = _import_matref()
    # `mkdocs serve` rebuilds in the same process: drop the cached catalogue so edits show up.
    cache_clear = getattr(matref.load_catalogue, "cache_clear", None)
    if cache_clear is not None:
        cache_clear()
    try:
        cat = matref.load_catalogue()
    except Exception as exc:  # a catalogue error is the build's error, stated plainly
        raise PluginError(f"matref: cannot load the catalogue: {exc}") from exc
    return cat, snippets


# --------------------------------------------------------------------------------------------------
# Markdown generation
# --------------------------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|!])")
_INLINE_MATH = re.compile(r"(\$[^$]+\$)")


def md_text(text: str) -> str:
    """Escape plain text for Markdown, leaving `$...$` math untouched (arithmatex renders it)."""
    parts = _INLINE_MATH.split(text)
    return "".join(p if i % 2 else _MD_SPECIAL.sub(r"\\\1", p).replace("&", "&amp;") for i, p in enumerate(parts))


def display_math(tex: str) -> str:
    body = "\n".join(line for line in tex.strip().splitlines() if line.strip())
    return f"$$\n{body}\n$$"


def inline_math(tex: str) -> str:
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
    out = []
    for label, body in items:
        out.append(f'=== "{label}"\n\n{textwrap.indent(body, "    ")}\n')
    return "\n".join(out)


def _snippets(entry, snippets, layout: str) -> dict[str, str | None]:
    """The scripts shown for one layout; NumPy's is None when the closed form itself has derivatives."""
    code = {}
    for lang, make in (("jax", snippets.jax_snippet), ("numpy", snippets.numpy_snippet)):
        try:
            code[lang] = make(entry, layout)
        except Exception as exc:  # name the entry: a bare traceback from deep in the generator is no help
            at = getattr(entry, "location", "") or entry.id
            raise PluginError(
                f"matref: cannot generate the {lang} snippet of '{entry.id}' ({at}) in {layout} layout: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
    return code


def snippet_tabs(entry, code: dict[str, str | None], layout: str) -> str:
    items = []
    for lang, label in SNIPPETS:
        if code[lang] is None:
            continue
        attrs = f'.matref-snippet data-entry="{entry.id}" data-layout="{layout}" data-lang="{lang}" data-search-exclude=""'
        items.append((label, fence(code[lang], lang="python", attrs=attrs)))
    return tabs(items)


def entry_body(entry, code: dict[str, str], layout: str, *, one_formula: bool) -> str:
    """What one layout tab holds: formula, declarations, snippets."""
    parts = [display_math(entry.formula_in(layout))]
    if one_formula:
        parts.append("Same in both layouts.\n{: .matref-layout-note }")
    if entry.where:
        parts.append(f"where {inline_math(entry.where)}\n{{: .matref-where }}")
    parts.append(snippet_tabs(entry, code, layout))
    return "\n\n".join(parts)


STUDY_NOTE = "Study note 求导 (matrix derivatives)"


def source_markdown(source: str, base: str = "../") -> str:
    """A source as the site shows it: the study note and Wikipedia rows link to their pages."""
    if source == STUDY_NOTE:
        return f"[{source}]({base}study-note.md)"
    m = re.match(r"^Wikipedia: (.+) #(\d+)$", source)
    if m:
        return f"[{md_text(source)}]({base}coverage.md#{wiki_anchor(m.group(1), int(m.group(2)))})"
    return md_text(source)


def wiki_anchor(table: str, row: int) -> str:
    return "wikipedia-" + re.sub(r"[^a-z0-9]+", "-", table.lower()).strip("-") + f"-{row}"


def relink(text: str, base: str | None) -> str:
    """Entry text links to `#id` (an entry on the same family page); on another page they need the family page."""
    if base is None or "cat" not in _state:
        return text
    cat = _state["cat"]

    def page(m: re.Match) -> str:
        try:
            e = cat.get(m.group(1))
        except KeyError:
            return m.group(0)
        return f"]({base}{e.family}.md#{e.id})"

    return re.sub(r"\]\(#([a-z0-9-]+)\)", page, text)


def alias_anchors(entry) -> list[str]:
    """Empty anchors for the ids merged into this entry, so their old permalinks land here."""
    return [f'<span id="{a}" class="matref-alias"></span>' for a in getattr(entry, "aliases", ())]


def entry_markdown(entry, snippets, *, heading: str = "##") -> str:
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
        code = _snippets(entry, snippets, entry.layout)
        out.append(entry_body(entry, code, entry.layout, one_formula=True))
    else:
        out.append(tabs([(label, entry_body(entry, _snippets(entry, snippets, layout), layout, one_formula=False))
                         for layout, label in LAYOUTS]))
    out.append("")
    if kind == "erratum":
        out.append(wrong_admonition(entry))
        out.append("")
    if kind == "pitfall":
        out.append(misreading_admonition(entry))
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


def wrong_form(entry) -> tuple[str, str, str] | None:
    """(formula, where, layout) of an erratum's wrong form, or None when it is not a formula."""
    form = getattr(entry, "wrong_form", None)
    if form is None and getattr(entry, "wrong", None):
        form = (entry.wrong, entry.where, entry.layout)
    return form


def wrong_admonition(entry, base: str | None = None) -> str:
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
        body.append(f"**What {src} assumes there:** {relink(entry.assumptions.strip(), base)}")
    if getattr(entry, "explanation", None):
        body.append(relink(entry.explanation.strip(), base))
    title = title.replace('"', "'")
    return f'!!! failure "{title}"\n\n' + textwrap.indent("\n\n".join(body), "    ")


def misreading_admonition(entry, base: str | None = None) -> str:
    """A pitfall: the formula is right; this is the reading that gets it wrong (refuted)."""
    tex, where, layout = wrong_form(entry)
    body = [f"Read with {entry.misreading}, the formula becomes", display_math(tex)]
    if where and where != entry.where:
        body.append(f"where {inline_math(where)}\n{{: .matref-where }}")
    body += [f"which the checker refutes ({layout} layout).", relink(entry.explanation.strip(), base)]
    return '!!! warning "Pitfall: how it goes wrong"\n\n' + textwrap.indent("\n\n".join(body), "    ")


def family_page(family, snippets) -> str:
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
        out.append(entry_markdown(entry, snippets))
    return "\n".join(out)


def index_page(cat) -> str:
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


def errata_page(cat) -> str:
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
            f'<div class="matref-entry" data-entry="{e.id}" data-kind="erratum" markdown>',
            "",
            f"## {md_text(e.title)} {{#{e.id}}}",
            "",
        ]
        out += [wrong_admonition(e, "reference/"), ""]
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
        out += [f"[Full entry with both layouts and its check](reference/{e.family}.md#{e.id})", "", "</div>", ""]
    return "\n".join(out)


def pitfalls_page(cat) -> str:
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
        out += [f'<div class="matref-entry" data-entry="{e.id}" data-kind="pitfall" markdown>', "",
                *alias_anchors(e), f"## {md_text(e.title)} {{#{e.id}}}", "",
                f'!!! success "Holds ({e.layout} layout)"', "",
                textwrap.indent(display_math(e.formula_in(e.layout)), "    "), ""]
        if e.where:
            out += [f"where {inline_math(e.where)}\n{{: .matref-where }}", ""]
        out += [misreading_admonition(e, "reference/"), "",
                "**Sources:** " + " · ".join(source_markdown(s, "") for s in e.sources) + "\n{: .matref-sources }", "",
                f"[Full entry with both layouts and its check](reference/{e.family}.md#{e.id})", "", "</div>", ""]
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
                out += [f"matref reads it as [{md_text(e.title)}](reference/{e.family}.md#{e.id}), "
                        f'<span class="matref-verdict {cls}">{verdict}</span>:', "",
                        display_math(e.formula_in(e.layout)), ""]
                if e.where:
                    out += [f"where {inline_math(e.where)} ({e.layout} layout)\n{{: .matref-where }}", ""]
            out += ["</div>", ""]
    return "\n".join(out)


_STATUS = {"covered": "covered", "partly covered": "partly", "implied": "implied",
           "not covered": "**not covered**"}


def _links(ids, by_id) -> str:
    return ", ".join(f"[{md_text(by_id[i].title)}](reference/{by_id[i].family}.md#{i})" for i in ids if i in by_id)


def _coverage_rows(rows, by_id) -> list[str]:
    out = ["| | Status | Entries | What is left out, and why |", "|---|---|---|---|"]
    for row in rows:
        reason = md_text(" ".join(row.reason.split())) if row.reason else ""
        out.append(f"| {md_text(row.label)} | {_STATUS.get(row.status, row.status)} | {_links(row.ids, by_id)} | {reason} |")
    return out


def _wikipedia_rows(table, rows, by_id) -> list[str]:
    out = ["| Row | Identity | Status | Entries stating it | Why not, or what is left out |", "|---|---|---|---|---|"]
    for n, row in enumerate(rows, 1):
        anchor = wiki_anchor(table, n)
        why = md_text(" ".join(row.reason.split())) if row.reason else ""
        if row.implied_by:
            why = f"Implied by {_links(row.implied_by, by_id)}. {why}"
        text = inline_math(row.text.replace("|", "\\vert "))
        out.append(f'| <span id="{anchor}"></span>{row.label} | {text} | {_STATUS.get(row.status, row.status)} | '
                   f"{_links(row.ids, by_id)} | {why} |")
    return out


def coverage_page(cat) -> str:
    """The catalogue against the Matrix Cookbook and Wikipedia, from matref's coverage data."""
    from matref import _coverage
    c = _coverage.counts(cat)
    out = [
        "# Coverage",
        "",
        "What the catalogue covers, computed from the entries' sources when the site is built. Where an "
        "equation or a table row is left out, or only partly checked, the reason is stated.",
        "",
        f"The catalogue holds **{c['entries']}** entries: **{c['identities']}** identities, **{c['errata']}** "
        f"errata and **{c['pitfalls']}** pitfalls (each erratum and pitfall also carries a checked correct "
        f"formula). {c['variants']} identities are deliberate variants of another entry (the study note's own "
        f"statements, a network layer's letters); {c['aliases']} ids of merged duplicates stay as permalinks.",
        "",
        "| Family | Entries | Identities | Errata | Pitfalls |",
        "|---|---:|---:|---:|---:|",
    ]
    for fam in cat.families:
        kinds = Counter(getattr(e, "kind", "identity") for e in fam.entries)
        out.append(f"| [{md_text(fam.title)}](reference/{fam.name}.md) | {len(fam.entries)} | {kinds['identity']} | "
                   f"{kinds['erratum']} | {kinds['pitfall']} |")
    out += [f"| **All** | **{c['entries']}** | **{c['identities']}** | **{c['errata']}** | **{c['pitfalls']}** |", ""]
    by_id = {e.id: e for e in cat.entries}
    rows = _coverage.cookbook_rows(cat)
    n = Counter(r.status for r in rows)
    out += [
        "## The Matrix Cookbook, chapter 2",
        "",
        f"Equations {rows[0].label} to {rows[-1].label} of the Matrix Cookbook (version of 2012-11-15), the "
        f"derivatives chapter: **{n['covered']}** covered, **{n['partly covered']}** partly covered, "
        f"**{n['not covered']}** not covered. Entries also cite equations of chapters 1 and 10.",
        "",
        *_coverage_rows(rows, by_id),
        "",
    ]
    rev = _coverage.wikipedia_revision()
    wiki = _coverage.wikipedia_rows(cat)
    out += [
        "## Wikipedia's identity tables",
        "",
        f"Every row of every identity table of the Wikipedia article *{rev['article']}*, numbered in order "
        "within its table; entries cite a row as `Wikipedia: scalar-by-vector #12`. Coverage counts rows, "
        f"not citing entries: **{c['wikipedia_covered']}** of **{c['wikipedia_rows']}** rows are stated by an "
        f"entry, {c['wikipedia_partly']} partly, {c['wikipedia_implied']} only implied by a more general entry, "
        f"{c['wikipedia_rows'] - c['wikipedia_covered'] - c['wikipedia_partly'] - c['wikipedia_implied']} not "
        "covered.",
        "",
        "**Which revision.** " + md_text(f"Revision id: {rev['revision_id']}. Date: {rev['date']}. Copy the "
                                         f"rows were numbered from: {rev['copy']}.") +
        f" SHA-256 of matref's row list (`catalogue/_wikipedia.toml`): `{rev['rows_sha256']}`. "
        + md_text(rev["excluded"]),
        "",
    ]
    for t in _coverage.wikipedia_tables():
        trows = wiki[t.key]
        k = Counter(r.status for r in trows)
        out += [f"### {md_text(t.caption)}", "",
                f"Cited as `Wikipedia: {t.key} #n`. {k['covered']} of {len(trows)} rows covered"
                + (f", {k['partly covered']} partly" if k['partly covered'] else "")
                + (f", {k['implied']} implied" if k['implied'] else "") + ".", "",
                *_wikipedia_rows(t.key, trows, by_id), ""]
    return "\n".join(out)


# --------------------------------------------------------------------------------------------------
# MkDocs events
# --------------------------------------------------------------------------------------------------


def _expand_nav(nav: list, families) -> bool:
    """Replace `Reference: reference/index.md` by the index plus one page per family."""
    for i, item in enumerate(nav):
        if isinstance(item, dict):
            (title, value), = item.items()
            if value == "reference/index.md":
                pages = ["reference/index.md"] + [{f.title: f"reference/{f.name}.md"} for f in families]
                nav[i] = {title: pages}
                return True
            if isinstance(value, list) and _expand_nav(value, families):
                return True
    return False


def on_config(config):
    cat, snippets = _load()
    _state.clear()
    _state.update(cat=cat, snippets=snippets)
    if config.nav is not None and not _expand_nav(config.nav, cat.families):
        raise PluginError("matref: the nav needs an entry `Reference: reference/index.md` for the hook to expand")
    return config


def _katex_dist() -> Path:
    if not (KATEX_DIST / "katex.min.css").is_file():
        raise PluginError(
            f"matref: KaTeX is not installed ({KATEX_DIST} is missing). Run scripts/setup, which runs "
            "`npm ci` from package-lock.json."
        )
    return KATEX_DIST


def on_files(files: Files, config) -> Files:
    _start_notebooks(files, config)  # first: they run in their kernels while the pages are generated
    cat, snippets = _state["cat"], _state["snippets"]
    t0 = time.perf_counter()
    pages = {f"reference/{fam.name}.md": family_page(fam, snippets) for fam in cat.families}
    pages["reference/index.md"] = index_page(cat)
    pages["errata.md"] = errata_page(cat)
    pages["pitfalls.md"] = pitfalls_page(cat)
    pages["study-note.md"] = study_note_page(cat)
    pages["coverage.md"] = coverage_page(cat)
    for uri, content in pages.items():
        if files.get_file_from_path(uri) is not None:
            raise PluginError(f"matref: docs/{uri} is generated from the catalogue; delete the file in docs/")
        files.append(File.generated(config, uri, content=content))

    log.info("matref: generated %d pages from %d catalogue entries in %.2f s",
             len(pages), len(cat.entries), time.perf_counter() - t0)
    dist = _katex_dist()
    assets = [dist / "katex.min.css", dist / "katex.min.js", dist / "contrib" / "auto-render.min.js"]
    assets += sorted((dist / "fonts").iterdir())
    for path in assets:
        uri = f"{ASSETS}/{path.relative_to(dist).as_posix()}"
        files.append(File.generated(config, uri, abs_src_path=str(path)))
    # Pages are converted in this order: notebooks last, so they have the longest head start.
    notebooks = [f for f in files if f.src_uri in _state.get("notebooks", {})]
    if notebooks:
        files = Files([f for f in files if f not in notebooks] + notebooks)
    return files


# --------------------------------------------------------------------------------------------------
# Notebooks, executed alongside the rest of the build
# --------------------------------------------------------------------------------------------------
# mkdocs-jupyter executes a notebook when it converts the page, and the build waits: the kernel
# start, the imports (JAX, matplotlib) and the cells cost ~4.5 s of a ~12 s build, on one of the two
# cores. So the hook starts the same conversion (same function, same arguments) in a thread as soon
# as the files are known, and hands mkdocs-jupyter the result when it asks for it. Anything that does
# not match exactly (another mkdocs-jupyter version, other arguments) falls through to the plugin's
# own, synchronous call; an execution error surfaces when the page is converted, as before.


def _notebook_args(plugin, path: str) -> dict[str, Any]:
    c = plugin.config
    execute = c["execute"] and not any(PurePath(path).match(p) for p in c["execute_ignore"] or ())
    return dict(execute=execute, kernel_name=c["kernel_name"], theme=c["theme"],
                allow_errors=c["allow_errors"], show_input=c["show_input"], no_input=c["no_input"],
                no_prompt=c["no_prompt"], remove_tag_config=c["remove_tag_config"],
                highlight_extra_classes=c["highlight_extra_classes"],
                include_requirejs=c["include_requirejs"], custom_mathjax_url=c["custom_mathjax_url"])


def _start_notebooks(files: Files, config) -> None:
    _state["notebooks"] = {}
    plugin = config.plugins.get("mkdocs-jupyter")
    if plugin is None or not plugin.config["execute"]:
        return
    try:
        from mkdocs_jupyter import convert
        from mkdocs_jupyter import plugin as nbplugin
    except ImportError:
        return
    real = getattr(convert.nb2html, "__wrapped__", convert.nb2html)
    pending: dict[tuple[str, str], Future] = {}
    for f in files.documentation_pages():
        if not plugin.should_include(f):
            continue
        args = _notebook_args(plugin, f.abs_src_path)
        if not args["execute"]:
            continue
        if plugin.config["cache"]:  # a cache hit never converts: nothing to start
            key = nbplugin._compute_cache_key(f.abs_src_path, plugin.config, True)
            if nbplugin._get_cache_path(plugin.config["cache_dir"], key).exists():
                continue
        future: Future = Future()

        def run(path=f.abs_src_path, args=args, future=future):
            try:
                future.set_result(real(path, **args))
            except BaseException as exc:  # handed to the main thread when the page is converted
                future.set_exception(exc)

        threading.Thread(target=run, name=f"notebook {f.src_uri}", daemon=True).start()
        pending[(f.abs_src_path, repr(sorted(args.items())))] = future
        _state["notebooks"][f.src_uri] = future

    def nb2html(path, **kwargs):
        future = pending.pop((path, repr(sorted(kwargs.items()))), None)
        return future.result() if future is not None else real(path, **kwargs)

    nb2html.__wrapped__ = real
    convert.nb2html = nb2html


# Keeping the snippets out of the search plugin's way. The code blocks are marked
# data-search-exclude, but Material's search plugin still walks every token <span> pygments wrote
# (about 200 000 tags at 300 identities, some 3 s of a build) before dropping them. So the hook hands
# the search plugin each generated page without its snippet blocks and puts them back right after.
_SNIPPET_BLOCK = re.compile(r'<div class="[^"]*\bmatref-snippet\b.*?</pre></div>', re.DOTALL)


@event_priority(-100)  # after every other plugin has changed the content, before on_page_context
def on_page_content(html: str, page, config, files) -> str:
    if 'matref-snippet' in html:
        _state.setdefault("snippet_html", {})[page.file.src_uri] = html
        return _SNIPPET_BLOCK.sub("", html)
    return html


@event_priority(-100)  # after the search plugin has indexed the page
def on_page_context(context, page, config, nav):
    full = _state.get("snippet_html", {}).pop(page.file.src_uri, None)
    if full is not None:
        page.content = full
    return context


# nbconvert's MathJax loader; with `custom_mathjax_url: ""` it is an inert <script src="">. Drop it.
_MATHJAX = re.compile(
    r'\s*<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->', re.DOTALL
)
# nbconvert's Mermaid loader imports Mermaid from a CDN when a notebook has a diagram. Drop it too:
# the site loads nothing from another host (a diagram would stay as its source text).
_MERMAID = re.compile(r'<script type="module">(?:(?!</script>).)*?jp-Mermaid.*?</script>', re.DOTALL)

_NOTEBOOK_MATH = """
<script defer src="{js}"></script>
<script defer src="{auto}"></script>
<script>
  // Notebook pages keep nbconvert's raw $...$; every other page's math was prerendered at build time.
  document.addEventListener("DOMContentLoaded", function () {{
    document.querySelectorAll(".jupyter-wrapper").forEach(function (el) {{
      renderMathInElement(el, {{
        delimiters: [
          {{left: "$$", right: "$$", display: true}}, {{left: "$", right: "$", display: false}},
          {{left: "\\\\(", right: "\\\\)", display: false}}, {{left: "\\\\[", right: "\\\\]", display: true}}
        ],
        throwOnError: false  // a bad formula shows as a red .katex-error, which the browser test catches
      }});
    }});
  }});
</script>
"""


def on_post_page(output: str, page, config) -> str:
    # Remember which source page each HTML file came from, for KaTeX error messages.
    _state.setdefault("sources", {})[Path(page.file.abs_dest_path).resolve()] = page.file.src_uri
    if not page.file.src_uri.endswith(".ipynb"):
        return output
    output = _MERMAID.sub("", _MATHJAX.sub("", output))
    rel = lambda p: get_relative_url(f"{ASSETS}/{p}", page.url)  # noqa: E731
    script = _NOTEBOOK_MATH.format(js=rel("katex.min.js"), auto=rel("contrib/auto-render.min.js"))
    return output.replace("</body>", script + "</body>", 1)


# --------------------------------------------------------------------------------------------------
# Prerendering
# --------------------------------------------------------------------------------------------------

_ARITHMATEX = re.compile(r'<(span|div) class="arithmatex">(.*?)</\1>', re.DOTALL)
_DELIMS = {"span": (r"\(", r"\)"), "div": (r"\[", r"\]")}


def _tex_of(tag: str, inner: str) -> str:
    tex = html.unescape(inner).strip()
    left, right = _DELIMS[tag]
    if tex.startswith(left) and tex.endswith(right):
        tex = tex[len(left):-len(right)]
    return tex.strip()


def _entry_at(text: str, pos: int) -> str:
    """' (entry <id>)' when the formula at pos sits inside a catalogue entry's section."""
    start = text.rfind('<div class="matref-entry" data-entry="', 0, pos)
    if start < 0:
        return ""
    start += len('<div class="matref-entry" data-entry="')
    return " (entry " + text[start:text.index('"', start)] + ")"


def render_batch(items: list[tuple[str, bool]]) -> tuple[str, list[dict]]:
    """Render (tex, display) pairs in one node process; returns (katex version, results)."""
    _katex_dist()
    node = shutil.which("node")
    if node is None:
        raise PluginError("matref: node (20+) is needed to prerender the math; run scripts/setup")
    payload = json.dumps([{"tex": t, "display": d} for t, d in items])
    proc = subprocess.run([node, str(RENDERER)], input=payload, capture_output=True, text=True,
                          encoding="utf-8", cwd=ROOT)
    if proc.returncode != 0:
        raise PluginError(f"matref: the KaTeX renderer failed (exit {proc.returncode}): {proc.stderr.strip()}")
    answer = json.loads(proc.stdout)
    if len(answer["results"]) != len(items):
        raise PluginError("matref: the KaTeX renderer answered a different number of formulas")
    return answer["katex"], answer["results"]


# Which KaTeX font a class in KaTeX's HTML pulls in (from katex.css). The browser only asks for a font
# once layout meets text that uses it, i.e. after the CSS has arrived and the page is laid out; on a
# cold load that puts the math one round trip after first paint. Preloading the fonts a page is known
# to use fetches them alongside the CSS instead.
_FONT_MARKERS = (
    (re.compile(r'class="(?:mrel|mbin|mopen|mclose|mpunct|minner|mord)"'), "KaTeX_Main-Regular"),
    (re.compile(r'class="[^"]*\bmathnormal\b'), "KaTeX_Math-Italic"),
    (re.compile(r'class="[^"]*\b(?:mathbb|amsrm|textbb)\b'), "KaTeX_AMS-Regular"),
    (re.compile(r'class="[^"]*\bmathbf\b'), "KaTeX_Main-Bold"),
    (re.compile(r'class="[^"]*\bboldsymbol\b'), "KaTeX_Math-BoldItalic"),
    (re.compile(r'class="[^"]*\b(?:mathsf|textsf)\b'), "KaTeX_SansSerif-Regular"),
    (re.compile(r'class="[^"]*\bmathcal\b'), "KaTeX_Caligraphic-Regular"),
    (re.compile(r'class="[^"]*\bsmall-op\b|class="delimsizing size1"'), "KaTeX_Size1-Regular"),
    (re.compile(r'class="[^"]*\blarge-op\b|class="delimsizing size2"'), "KaTeX_Size2-Regular"),
    (re.compile(r'class="delimsizing size3"'), "KaTeX_Size3-Regular"),
    (re.compile(r'class="delimsizing size4"'), "KaTeX_Size4-Regular"),
)
_KATEX_CSS = re.compile(r'<link rel="stylesheet" href="([^"]*)assets/katex/katex\.min\.css">')


def preload_fonts(text: str) -> str:
    """Add <link rel=preload> for the KaTeX fonts this page's math uses, right before KaTeX's CSS."""
    css = _KATEX_CSS.search(text)
    if css is None:
        return text
    prefix = css.group(1)
    links = "".join(
        f'<link rel="preload" href="{prefix}{ASSETS}/fonts/{font}.woff2" as="font" type="font/woff2" crossorigin>'
        for pattern, font in _FONT_MARKERS if pattern.search(text)
    )
    return text[: css.start()] + links + text[css.start():]


def on_post_build(config) -> None:
    t0 = time.perf_counter()
    site = Path(config.site_dir)
    pages: dict[Path, str] = {}
    where: dict[tuple[str, bool], list[str]] = defaultdict(list)
    sources = _state.get("sources", {})
    for path in sorted(site.rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        if 'class="arithmatex"' not in text:
            continue
        pages[path] = text
        page = sources.get(path.resolve(), path.relative_to(site).as_posix())
        for m in _ARITHMATEX.finditer(text):
            key = (_tex_of(m.group(1), m.group(2)), m.group(1) == "div")
            where[key].append(f"{page}{_entry_at(text, m.start())}")
    if not where:
        return
    keys = list(where)
    version, results = render_batch(keys)
    rendered: dict[tuple[str, bool], str] = {}
    errors = []
    for key, res in zip(keys, results):
        pages_of = ", ".join(sorted(set(where[key])))
        if "error" in res:
            errors.append(f"  on {pages_of}:\n    TeX:   {key[0]}\n    error: {res['error']}")
            continue
        for w in res.get("warnings", ()):
            log.warning("KaTeX %s (strict mode) on %s: %s in %s", version, pages_of, w, key[0])
        rendered[key] = res["html"]
    if errors:
        raise PluginError(
            f"matref: KaTeX {version} cannot render {len(errors)} formula(s):\n" + "\n".join(errors)
        )

    def swap(m: re.Match) -> str:
        tag = m.group(1)
        key = (_tex_of(tag, m.group(2)), tag == "div")
        return f'<{tag} class="arithmatex">{rendered[key]}</{tag}>'

    for path, text in pages.items():
        path.write_text(preload_fonts(_ARITHMATEX.sub(swap, text)), encoding="utf-8")
    log.info("matref: prerendered %d distinct formulas on %d pages with KaTeX %s in %.2f s",
             len(keys), len(pages), version, time.perf_counter() - t0)
