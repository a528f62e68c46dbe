"""The reference pages: one compact table per family (per part, where a family's TOML file splits it
over several pages with `[[part]]` tables to keep each under 400 KB), and the index of every entry
with its formula.

Each entry is one row: its title (the permalink), its formula in both layouts (the body class picks
which shows, see `matref.js`), its where-clause and sources. Notes, the errata's refuted form and
the code are one click away in the row's panel; the code itself is a separate fragment per entry
(`_code.py`), fetched when the panel opens, so a family page stays small.

The index shows every entry's formula too, but not prerendered: KaTeX's HTML for all 339 formulas
is about 1.2 MB in one layout alone (3 MB in both), against a page budget of 400 KB. Each index row
carries its TeX instead (`data-tex`, and `data-tex-numerator` where the numerator layout reads
differently), about 100 KB of the page for the whole catalogue, and `matref-index.js` renders it
with the KaTeX script the site already ships, in the reader's layout, for the rows near the screen
(a layout switch re-renders only those). KaTeX's script (270 KB) is loaded by the index alone and
cached like any asset. Prerendering a compact form instead would still cost kilobytes per formula
and could not follow the layout switch without both forms.
"""

from __future__ import annotations

import html
import json
from collections import Counter

from ._checks import FAILS, HOLDS, status_html
from ._html import math_div, math_span, text_html
from ._katex import ASSETS
from ._ledgers import misreading_admonition, wrong_admonition
from ._markdown import relink, source_markdown

LAYOUTS = ("denominator", "numerator")
LAYOUT_CLASS = {"denominator": "matref-den", "numerator": "matref-num"}
BADGES = {"erratum": ("matref-badge--erratum", "erratum: corrected form"),
          "pitfall": ("matref-badge--pitfall", "pitfall: often misread")}

# Raw HTML (markdown="0") is not touched by MkDocs' link rewriting, so links in it are written as the
# built site's URLs (directory URLs, MkDocs' default, which mkdocs.yml keeps); `base` leads from the
# page's URL to the site root. A site test follows every such link.
LAYOUT_SWITCH = """<div class="matref-switch" markdown="0" role="radiogroup" aria-label="Layout of every formula">
<span class="matref-switch__label">Layout</span>
<label><input type="radio" name="matref-layout" value="denominator" checked> denominator</label>
<label><input type="radio" name="matref-layout" value="numerator"> numerator</label>
<a class="matref-switch__help" href="{base}conventions/#layouts" title="What the two layouts are">?</a>
</div>"""


def code_url(entry_id: str) -> str:
    """Where an entry's code fragment lives, relative to the site root."""
    return f"reference/_code/{entry_id}.html"


def reads_the_same(entry) -> bool:
    """Whether the entry's formula is written the same way in both layouts, so it is shown once.

    Some layout-dependent identities are still written the same way in both layouts (their layouts
    differ in the code, not the TeX): those too are shown once, as every copy costs page weight and
    work on each switch.
    """
    return entry.layout_independent or len({" ".join(entry.formula_in(layout).split()) for layout in LAYOUTS}) == 1


def formula_html(entry) -> str:
    """The entry's formula: one form when it reads the same in both layouts, else one per layout."""
    if reads_the_same(entry):
        return f'<div class="matref-formula">{math_div(entry.formula)}</div>'
    return "".join(f'<div class="matref-formula {LAYOUT_CLASS[layout]}">{math_div(entry.formula_in(layout))}</div>'
                   for layout in LAYOUTS)


def _panel(entry, catalogue) -> list[str]:
    """What opens under a row: notes, the refuted or misread form, tags, and the code (loaded on demand)."""
    out = [f'<div class="matref-panel" id="{entry.id}--more" hidden markdown="1">', ""]
    if entry.kind == "erratum":
        out += [wrong_admonition(entry, catalogue, ""), ""]  # "": links to entries on other family pages
    if entry.kind == "pitfall":
        out += [misreading_admonition(entry, catalogue, ""), ""]
    if entry.notes:  # a link to an entry (#id) may name one on another family page
        out += [relink(entry.notes.strip(), "", catalogue), ""]
    if entry.tags:
        chips = " ".join(f'<span class="matref-tag">{html.escape(t)}</span>' for t in entry.tags)
        out += [f'<p class="matref-tags" markdown="0">{chips}</p>', ""]
    layout_note = ("Reads the same in both layouts; the code is written in the "
                   f"{entry.layout} layout." if entry.layout_independent else "")
    out += [f'<div class="matref-code" data-src="../_code/{entry.id}.html" markdown="0">'
            f'<p class="matref-code__note">{layout_note}</p>'
            f'<a href="../_code/{entry.id}.html">The code that checks this identity</a></div>', "", "</div>"]
    return out


def entry_row(entry, catalogue, status=None) -> str:
    """One entry's row on its family page (the row's id is the entry's permalink).

    `status` (a `_checks.Status`, None when it holds) marks a row whose check is running or failed.
    """
    kind = entry.kind
    badge = ""
    if kind in BADGES:
        cls, text = BADGES[kind]
        badge = f' <span class="matref-badge {cls}">{text}</span>'
    aliases = "".join(f'<span id="{a}" class="matref-alias"></span>' for a in entry.aliases)
    what = "code and notes" if (entry.notes or kind != "identity") else "code"
    where = f'<div class="matref-where">where {math_span(entry.where)}</div>' if entry.where else ""
    sources = " · ".join(source_markdown(s) for s in entry.sources)
    return "\n".join([
        f'<div class="matref-entry" id="{entry.id}" data-entry="{entry.id}" data-kind="{kind}" markdown="1">',
        f'<div class="matref-entry__head" markdown="0">{aliases}'
        f'<a class="matref-entry__title" href="#{entry.id}" title="Permanent link to this identity">'
        f'{text_html(entry.title)}</a>{badge}'
        f'<button type="button" class="matref-more" aria-expanded="false" aria-controls="{entry.id}--more">'
        f'{what}</button></div>',
        *filter(None, [status_html(status)]),  # no line at all when it holds: the page as a strict build makes it
        f'<div class="matref-entry__formula" markdown="0">{formula_html(entry)}</div>',
        f'<div class="matref-entry__meta" markdown="1">',
        "",
        f'{where}',
        "",
        f"{sources}\n{{: .matref-sources }}" if sources else "",
        "",
        "</div>",
        *_panel(entry, catalogue),
        "</div>",
        "",
    ])


def family_page(family, catalogue, status=None, part=None) -> str:
    """A family's reference page (of `part`, default its first): its introduction, the layout switch
    and one row per entry.

    `status` maps entry ids to `_checks.Status` while serving; the page claims "checked" only for
    what holds.
    """
    status = status or {}
    part = part or family.parts[0]
    entries = family.part_entries(part)
    split = len(family.parts) > 1
    out = ["---", "hide: [toc]  # the table is the page's overview", "---", "",
           f"# {html.escape(page_title(family, part), quote=False)}", ""]
    if split:
        out += [_parts_bar(family, part), ""]
    if family.intro and part == family.parts[0]:
        out += [family.intro.strip(), ""]
    elif family.intro:  # a later part: the notation it defines, one click away above the table
        out += ['<details class="matref-intro" markdown="1">',
                f"<summary>About {html.escape(family.title, quote=False)}: notation and conventions</summary>", "",
                family.intro.strip(), "", "</details>", ""]
    n = len(entries)
    kinds = Counter(e.kind for e in entries)
    count = f'{n} {"entry" if n == 1 else "entries"}'
    extra = [f"{kinds[k]} {word if kinds[k] == 1 else plural}" for k, word, plural in
             (("erratum", "erratum with its corrected form", "errata with their corrected forms"),
              ("pitfall", "pitfall", "pitfalls")) if kinds[k]]
    if extra:
        count += f" ({', '.join(extra)})"
    unverified = [e for e in entries if e.id in status and status[e.id].state != HOLDS]
    if unverified:
        fails = sum(status[e.id].state == FAILS for e in unverified)
        claim = (f"{len(unverified)} not verified ({fails} that do not hold, {len(unverified) - fails} being "
                 "checked: marked below), the others checked numerically against JAX automatic "
                 "differentiation in both layouts")
    else:
        claim = "each checked numerically against JAX automatic differentiation in both layouts"
    out += [
        f'<p class="matref-count">{count}, {claim}. Open a row for its code and notes.</p>',
        "",
        LAYOUT_SWITCH.format(base="../../"),
        "",
        '<div class="matref-table" markdown="1">',
        "",
    ]
    out += [entry_row(e, catalogue, status.get(e.id)) for e in entries]
    out += ["</div>", ""]
    if split and part == family.parts[0]:  # the page whose address the family had before it was split
        out += [_elsewhere(family, part), ""]
    return "\n".join(out)


def page_title(family, part) -> str:
    """The title of a family's page: the family's, and the part's after a dash when it has several."""
    return f"{family.title} — {part.title}" if len(family.parts) > 1 else family.title


def _parts_bar(family, part) -> str:
    """The pages of a split family, this one marked: the way between them."""
    links = [f'<strong aria-current="page">{html.escape(sentence(p.title))}</strong>' if p == part else
             f'<a href="../{p.page}/">{html.escape(sentence(p.title))}</a>' for p in family.parts]
    n = len(family.entries)
    return (f'<nav class="matref-parts" markdown="0" aria-label="Pages of this family">'
            f'{html.escape(family.title)}, {n} entries on {len(family.parts)} pages: {" · ".join(links)}</nav>')


def _elsewhere(family, part) -> str:
    """Where the family's other entries are, by id (aliases too), for `matref.js`: a permalink to an
    entry on the family's first page from before the family was split (`reference/<family>/#id`)
    still finds its row."""
    where = {i: e.page for e in family.entries if e.page != part.page for i in (e.id, *e.aliases)}
    # ids and page names are lowercase words and hyphens: nothing in the JSON can end the script element
    return '<script type="application/json" id="matref-elsewhere">' + json.dumps(where, separators=(",", ":")) + "</script>"


def sentence(title: str) -> str:
    """A part's title standing alone (in a list of pages): its first letter capitalised."""
    return title[:1].upper() + title[1:]


def _tex_attr(tex: str) -> str:
    """TeX as the value of a double-quoted HTML attribute (the browser hands back exactly `tex`)."""
    return html.escape(" ".join(tex.split()), quote=True)


def index_row(entry, state: str = HOLDS) -> str:
    """One entry on the index: a link to its row holding its title and an empty box for its formula.

    The box carries the TeX (the denominator layout's, or the one form when both read the same, and
    the numerator layout's where it differs) for `matref-index.js` to render.
    """
    tex = f'data-tex="{_tex_attr(entry.formula)}"'
    if not reads_the_same(entry):
        tex = (f'data-tex="{_tex_attr(entry.formula_in("denominator"))}" '
               f'data-tex-numerator="{_tex_attr(entry.formula_in("numerator"))}"')
    badge = f' <span class="matref-tag">{entry.kind}</span>' if entry.kind in BADGES else ""
    if state != HOLDS:  # while serving: an edited entry being checked, or one that does not hold
        badge += (' <span class="matref-tag matref-check--fails">does not hold</span>' if state == FAILS
                  else ' <span class="matref-tag matref-check--running">checking…</span>')
    return (f'<li data-entry="{entry.id}"><a href="{entry.page}/#{entry.id}">'
            f'<span class="matref-index__title">{text_html(entry.title)}{badge}</span>'
            f'<span class="matref-index__formula" {tex}></span></a></li>')


def index_page(cat, status=None) -> str:
    """The Reference index: every entry by its title and formula, family by family, each a link to its row.

    The formulas arrive as TeX and are rendered in the browser (see the module's docstring); the
    page loads KaTeX's script and `matref-index.js`, which no other page needs. While serving, an
    entry that is not verified is marked (`status`: entry id -> its check).
    """
    status = status or {}
    total = len(cat.entries)
    kinds = Counter(e.kind for e in cat.entries)
    out = [
        "---", "hide: [toc]", "---", "",
        "# Reference",
        "",
        f"All {total} entries of the catalogue, family by family: {kinds['identity']} identities, "
        f"{kinds['erratum']} [{'erratum' if kinds['erratum'] == 1 else 'errata'}](../errata.md) and "
        f"{kinds['pitfall']} [{'pitfall' if kinds['pitfall'] == 1 else 'pitfalls'}](../pitfalls.md). Each one is "
        "written once as LaTeX and checked numerically against JAX automatic differentiation in the "
        "denominator and the numerator layout; an entry leads to its row on its family's page, with its "
        "assumptions, sources and code. [Conventions](../conventions.md) says what the notation means.",
        "",
        LAYOUT_SWITCH.format(base="../"),
        "",
    ]
    for fam in cat.families:
        out += [f"## [{html.escape(fam.title, quote=False)}]({fam.name}.md)", ""]
        for part in fam.parts:
            if len(fam.parts) > 1:
                out += [f"### [{html.escape(sentence(part.title), quote=False)}]({part.page}.md)", ""]
            out += ['<ul class="matref-index" markdown="0">']
            out += [index_row(e, status[e.id].state if e.id in status else HOLDS) for e in fam.part_entries(part)]
            out += ["</ul>", ""]
    # Deferred, so both run once the list is parsed, KaTeX first. The two fonts nearly every formula
    # uses are fetched alongside them, not once the first formula is laid out. (In a raw block, as
    # Markdown would wrap the <link>s in a paragraph.)
    out += ['<div markdown="0">',
            f'<script defer src="../{ASSETS}/katex.min.js"></script>',
            '<script defer src="../javascripts/matref-index.js"></script>',
            *(f'<link rel="preload" href="../{ASSETS}/fonts/{font}.woff2" as="font" type="font/woff2" crossorigin>'
              for font in ("KaTeX_Main-Regular", "KaTeX_Math-Italic")),
            "</div>", ""]
    return "\n".join(out)


def home_families(cat, base: str = "") -> str:
    """The home page's way in: one card per family with its title, its size and one formula.

    The formula is the family's `showcase` entry (set in its TOML file), shown in both layouts like
    every other formula so the layout switch applies here too. `base` leads from the page to the site root.
    """
    cards = []
    for fam in cat.families:
        e = fam.showcase_entry
        n = len(fam.entries)
        cards.append(
            f'<a class="matref-family" href="{base}reference/{fam.name}/">'
            f'<span class="matref-family__title">{html.escape(fam.title)}</span>'
            f'<span class="matref-family__count">{n} {"entry" if n == 1 else "entries"}</span>'
            f'{formula_html(e)}</a>')
    # The switch and the cards share one box, so the (sticky) switch stays with the cards and does
    # not follow the reader into the prose below them.
    return ('<div class="matref-home-families" markdown="0">\n' + LAYOUT_SWITCH.format(base=base) + "\n"
            '<div class="matref-families">\n' + "\n".join(cards) + "\n</div>\n</div>")
