"""The site: a strict build, every formula through the pinned KaTeX, and a real browser on every page.

The site is built once per session (`mkdocs build --strict` into a temporary directory, notebook
cache off) and served from a thread on 127.0.0.1. The browser is Debian's chromium driven by
Playwright; when it is missing these tests fail and say to run scripts/setup.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse

import pytest

import matref
from matref.site import dialects
from site_helpers import (
    LAYOUT_LABELS,
    ROOT,
    launch_chromium,
    mkdocs_warnings,
    page_urls,
    render_katex,
    serve,
    snippets_in_html,
)

# One strict build (and the checkout's site caches) per test session: these tests run on one worker.
pytestmark = pytest.mark.xdist_group("site")

LAYOUTS = tuple(LAYOUT_LABELS)


# `built`, the session's one strict build, is a fixture of conftest.py: test_serve.py waits for it too.


@pytest.fixture(scope="session")
def site(built) -> Path:
    return built[0]


@pytest.fixture(scope="session")
def base_url(site):
    with serve(site) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        try:
            chromium = launch_chromium(p)
        except Exception as exc:  # missing or broken browser: a failure with the fix, never a skip
            pytest.fail(f"cannot start Debian's chromium ({exc}); run scripts/setup to install it", pytrace=False)
        yield chromium
        chromium.close()


def family_html(site: Path, page: str) -> str:
    """The built HTML of a family's page (`page`: a family's name, or a part's page, `Entry.page`)."""
    return (site / "reference" / page / "index.html").read_text(encoding="utf-8")


def reference_pages(catalogue) -> list[tuple[str, tuple]]:
    """Each family page (a split family has one per part): its URL under the site, and its entries."""
    return [(f"reference/{p.page}/", f.part_entries(p)) for f in catalogue.families for p in f.parts]


def has_layout_tabs(entry) -> bool:
    """Layout-independent entries show one formula (and the scripts of their own layout), no tabs."""
    return not entry.layout_independent


def shown_layouts(entry) -> tuple[str, ...]:
    return LAYOUTS if has_layout_tabs(entry) else (entry.layout,)


def norm_tex(tex: str) -> str:
    return " ".join(tex.split())


# --------------------------------------------------------------------------------------------------
# The build and the generated pages
# --------------------------------------------------------------------------------------------------


def test_strict_build_has_no_warnings(built):
    _, output = built
    assert mkdocs_warnings(output) == [], output


def test_every_catalogue_formula_compiles_in_the_pinned_katex(catalogue):
    items, what = [], []
    for e in catalogue.entries:
        for layout in LAYOUTS:
            items.append((e.formula_in(layout), True))
            what.append(f"{e.id} ({layout} layout)")
        if e.where:
            items.append((e.where, False))
            what.append(f"{e.id} (where)")
        if e.wrong_form is not None:
            tex, where, _ = e.wrong_form
            items += [(tex, True), (where, False)]
            what += [f"{e.id} (wrong form)", f"{e.id} (wrong form's where)"]
    version, results = render_katex(items)
    assert version.startswith("0.16."), version
    failures = [f"{w}: {tex!r}: {r.get('error') or r.get('warnings')}"
                for w, (tex, _), r in zip(what, items, results) if "error" in r or "warnings" in r]
    assert not failures, f"KaTeX {version} rejects:\n" + "\n".join(failures)


def test_one_page_per_family_part_with_every_entry_in_order(site, catalogue):
    for fam in catalogue.families:
        rows = []
        for part in fam.parts:
            text = family_html(site, part.page)
            ids = re.findall(r'<div class="matref-entry" data-entry="([^"]+)" data-kind="[a-z]+" id="([^"]+)"', text)
            assert ids == [(e.id, e.id) for e in fam.part_entries(part)], part.page  # the row's id is its permalink
            rows += [i for i, _ in ids]
        assert rows == [e.id for e in fam.entries], fam.name  # the parts together: every entry once, in order


def test_every_reference_page_is_within_the_page_weight_budget(site, catalogue):
    """A family page is at most 400 KB of HTML (issue 11: a page that loads and switches layouts
    fast): a family that outgrows it is split into parts ([[part]] in its TOML file)."""
    for url, _ in reference_pages(catalogue):
        size = (site / url / "index.html").stat().st_size
        assert size <= 400_000, f"{url} is {size} bytes: split its family further ([[part]])"


def test_a_permalink_from_before_a_family_was_split_finds_its_entry(browser, base_url, catalogue):
    """reference/<family>/#id of an entry now on a later part's page (or its --more link) lands on
    that page's row."""
    moved = [e for e in catalogue.entries if e.page != e.family]
    if not moved:
        pytest.skip("no family is split into parts")
    page = browser.new_page()
    page.set_default_timeout(10_000)
    for e, suffix in [(moved[0], ""), (moved[-1], "--more")]:
        page.goto(f"{base_url}reference/{e.family}/#{e.id}{suffix}")
        page.wait_for_url(f"**/reference/{e.page}/#{e.id}{suffix}")
        page.locator(f"#{e.id}").wait_for()
        if suffix:
            page.locator(f"#{e.id}--more").wait_for(state="visible")
    page.close()


def test_reference_index_lists_every_entry_with_its_tex_family_by_family(site, catalogue):
    """The index lists every entry once, in catalogue order, under its family's heading, each with
    its formula as TeX for the browser to render: no formula is prerendered there, so the page stays
    within the page-weight budget whatever the catalogue's size."""
    text = (site / "reference" / "index.html").read_text(encoding="utf-8")
    listed = re.findall(r'<li data-entry="([^"]+)"><a href="([^"/]+)/#([^"]+)">', text)
    assert listed == [(e.id, e.page, e.id) for fam in catalogue.families for e in fam.entries]
    headings = [text.index(f'href="{fam.name}/"') for fam in catalogue.families]
    assert headings == sorted(headings)
    for fam, at in zip(catalogue.families, headings):
        assert text.index(f'<li data-entry="{fam.entries[0].id}"') > at, fam.name
    boxes = re.findall(r'<span class="matref-index__formula" data-tex="[^"]*"'
                       r'(?: data-tex-numerator="[^"]*")?>(.*?)</span>', text)
    assert len(boxes) == len(catalogue.entries) and not any(boxes), "a formula box is missing or not empty"
    assert 'class="katex' not in text and "katex-display" not in text, "prerendered KaTeX on the index"
    assert len(text.encode("utf-8")) <= 400_000, f"the index is {len(text.encode('utf-8'))} bytes of HTML"
    # The scripts that render the formulas are there, and only this page loads KaTeX's script.
    for src in re.findall(r'<script\b[^>]*\bsrc="([^"]+)"', text):
        assert (site / "reference" / src.split("?")[0]).is_file(), src
    assert re.search(r'<script defer src="\.\./assets/katex/katex\.min\.js">', text)
    assert 'src="../javascripts/matref-index.js"' in text
    home = (site / "index.html").read_text(encoding="utf-8")
    assert "katex.min.js" not in home and "matref-index.js" not in home


def test_reference_index_links_every_identity(site, catalogue):
    text = (site / "reference" / "index.html").read_text(encoding="utf-8")
    for e in catalogue.entries:
        assert f'href="{e.page}/#{e.id}"' in text, e.id


def test_errata_page_lists_every_erratum(site, catalogue):
    text = (site / "errata" / "index.html").read_text(encoding="utf-8")
    listed = re.findall(r'<div class="matref-card" data-entry="([^"]+)"', text)
    assert listed == [e.id for e in catalogue.entries if e.kind == "erratum"]


def test_all_math_is_prerendered(site):
    for path in site.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        raw = re.findall(r'<(?:span|div) class="arithmatex">(?!<span class="katex)(.{0,80})', text)
        assert not raw, f"{path.relative_to(site)}: math left for the browser: {raw[:3]}"


def test_no_page_but_a_notebook_stops_its_parser_for_a_script(site):
    """External scripts are deferred (bench: the first paint no longer waits on Material's bundle);
    notebook pages keep theirs in order, as their own scripts expect."""
    checked = 0
    for path in site.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        if "jp-Notebook" in text:
            continue
        blocking = re.findall(r'<script src="[^"]*"', text)
        assert not blocking, f"{path.relative_to(site)}: {blocking}"
        checked += bool(re.search(r'<script defer src="[^"]*assets/javascripts/bundle\.', text))
    assert checked > 10  # the bundle is there, deferred, on every ordinary page


def test_page_shows_the_exact_snippet_text(site, catalogue):
    """The code a row opens holds exactly what snippets generate (and what the harness runs)."""
    generate = {d.name: d.snippet for d in dialects()}
    assert {"jax", "numpy", "function"} <= set(generate)
    for fam in catalogue.families:
        for e in fam.entries:
            fragment = (site / "reference" / "_code" / f"{e.id}.html").read_text(encoding="utf-8")
            shown = {(eid, layout, lang): code for eid, layout, lang, code in snippets_in_html(fragment)}
            for layout in shown_layouts(e):
                for lang, make in generate.items():
                    want = make(e, layout)
                    got = shown.get((e.id, layout, lang))
                    if want is None:  # the dialect has no form for this entry (see its none_reason)
                        assert got is None, f"{e.id}: a {lang} snippet is shown but none is generated"
                        continue
                    assert got is not None, f"{e.id}: no {lang} snippet for the {layout} layout"
                    assert got.rstrip("\n") == want.rstrip("\n"), f"{e.id} {layout} {lang}: page differs"


def test_home_page_has_a_card_with_a_formula_per_family_before_the_story(site, catalogue):
    text = (site / "index.html").read_text(encoding="utf-8")
    cards = re.findall(r'<a class="matref-family" href="reference/([^/"]+)/">(.*?)</a>', text, re.DOTALL)
    assert [name for name, _ in cards] == [f.name for f in catalogue.families]
    for name, card in cards:
        assert 'class="katex' in card, f"{name}: its card shows no formula"
    assert text.index('for="__search"') < text.index('class="matref-family"') < text.index('id="how-an-identity-is-checked"')


def test_links_in_generated_html_lead_to_built_pages(site, catalogue):
    """Raw HTML escapes MkDocs' link rewriting (and its strict link check): follow each such link."""
    pages = ["index.html", "reference/index.html"] + [f"{url}index.html" for url, _ in reference_pages(catalogue)]
    for page in pages:
        text = (site / page).read_text(encoding="utf-8")
        for href in set(re.findall(r'<a\b[^>]*\bhref="([^"#?:]+)(?:#[^"]*)?"', text)):
            target = (site / page).parent / href
            assert (target / "index.html").is_file() or target.is_file(), f"{page}: {href} leads nowhere"


def test_site_links_its_source(site):
    text = (site / "index.html").read_text(encoding="utf-8")
    assert re.search(r'<a href="https?://[^"]+" title="Go to repository" class="md-source"', text), \
        "no link to the source in the header (repo_url)"


def test_no_katex_or_fonts_from_elsewhere(site):
    for path in site.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for url in re.findall(r'<(?:script|link|img)\b[^>]*\b(?:src|href)="([^"]+)"', text):
            assert not urlparse(url).netloc, f"{path.relative_to(site)} loads {url}"
        # Loaders that would fetch from elsewhere on demand (nbconvert's MathJax and Mermaid) are gone too.
        for script in re.findall(r"<script\b[^>]*>(.*?)</script>", text, re.DOTALL):
            assert not re.search(r"""(?:import\(|src=)\s*["']https?://""", script) and "jp-Mermaid" not in script, \
                f"{path.relative_to(site)} has a script that loads from another host"


# --------------------------------------------------------------------------------------------------
# In Chromium
# --------------------------------------------------------------------------------------------------

LAYOUT_JS = """() => ({
  body: document.body.classList.contains("matref-numerator") ? "numerator" : "denominator",
  radios: [...document.querySelectorAll('input[name="matref-layout"]:checked')].map(r => r.value),
})"""

VISIBLE_FORMULAS_JS = """() =>
  Object.fromEntries([...document.querySelectorAll(".matref-entry")].map(e => {
    const shown = [...e.querySelectorAll(".katex-display")].find(k => k.checkVisibility());
    const tex = shown ? shown.querySelector(".katex").getAttribute("aria-label") : null;
    return [e.dataset.entry, tex];
  }))
"""

UNRENDERED_JS = """() => ({
  katex: document.querySelectorAll(".katex").length,
  errors: document.querySelectorAll(".katex-error").length,
  raw: [...document.querySelectorAll(".arithmatex")].filter(a => !a.querySelector(".katex")).length,
  notebookRaw: [...document.querySelectorAll(".jupyter-wrapper .jp-RenderedMarkdown")]
                 .filter(m => /\\$\\$|\\\\\\(|\\\\\\[/.test(m.innerText)).length,
  emptyEntries: [...document.querySelectorAll(".matref-entry")]
                 .filter(e => !e.querySelector(".katex-display .katex")).map(e => e.dataset.entry),
})"""


@pytest.fixture(scope="session")
def page_visits(browser, base_url, site):
    """Load every page of the site once; record what went wrong and what each reference page shows."""
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(20_000)
    problems: list[str] = []
    shown: dict[str, dict] = {}
    current = [""]

    def on_request(request):
        url = urlparse(request.url)
        if url.scheme not in ("data", "blob", "about") and url.hostname != "127.0.0.1":
            problems.append(f"{current[0]}: request to another host: {request.url}")

    page.on("request", on_request)
    page.on("console", lambda m: problems.append(f"{current[0]}: console {m.type}: {m.text}")
            if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"{current[0]}: page error: {e}"))
    page.on("response", lambda r: problems.append(f"{current[0]}: HTTP {r.status} for {r.url}")
            if r.status >= 400 else None)
    urls = page_urls(site)
    for rel in urls:
        current[0] = rel or "/"
        page.goto(base_url + rel, wait_until="load")
        state = page.evaluate(UNRENDERED_JS)
        if state["errors"] or state["raw"] or state["notebookRaw"] or state["emptyEntries"]:
            problems.append(f"{current[0]}: math not rendered: {state}")
        if rel.startswith("reference/"):
            shown[rel] = page.evaluate(VISIBLE_FORMULAS_JS)
    page.wait_for_timeout(200)  # late console errors of the last page
    context.close()
    return urls, problems, shown


def test_every_page_loads_clean_in_chromium(page_visits):
    """Zero KaTeX errors, zero console errors, nothing from any host but 127.0.0.1, no 404s."""
    urls, problems, _ = page_visits
    assert len(urls) >= 8, urls
    assert not problems, "\n".join(problems)


def test_every_identity_formula_is_rendered(page_visits, catalogue):
    """Each identity's section holds a rendered formula: the catalogue's TeX, in the default tab."""
    _, _, shown = page_visits
    for url, entries in reference_pages(catalogue):
        on_page = shown.get(url)
        assert on_page is not None, f"{url} was not loaded"
        for e in entries:
            assert on_page.get(e.id) is not None, f"{e.id}: no rendered formula in its section"
            first = shown_layouts(e)[0]
            assert norm_tex(on_page[e.id]) == norm_tex(e.formula_in(first)), e.id


def _layout_family(catalogue):
    """A family page with layout-dependent entries, and another one (for the cross-page check): each
    (its URL under the site, its entries)."""
    pages = [(url, entries) for url, entries in reference_pages(catalogue) if any(has_layout_tabs(e) for e in entries)]
    if not pages:
        pytest.fail("no catalogue entry depends on the layout, so the layout switch cannot be tested")
    return pages[0], (pages[1] if len(pages) > 1 else None)


def choose_layout(page, layout: str) -> None:
    page.locator(f'.matref-switch input[value="{layout}"]').first.check()


def test_layout_switch_shows_every_formula_in_the_chosen_layout_and_is_remembered(browser, base_url, catalogue):
    (url, entries), other = _layout_family(catalogue)
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(base_url + url, wait_until="load")
    assert page.evaluate(LAYOUT_JS) == {"body": "denominator", "radios": ["denominator"]}
    shown = page.evaluate(VISIBLE_FORMULAS_JS)
    for e in entries:
        assert norm_tex(shown[e.id]) == norm_tex(e.formula_in(shown_layouts(e)[0])), e.id

    choose_layout(page, "numerator")
    assert page.evaluate(LAYOUT_JS) == {"body": "numerator", "radios": ["numerator"]}
    shown = page.evaluate(VISIBLE_FORMULAS_JS)
    for e in entries:
        assert norm_tex(shown[e.id]) == norm_tex(e.formula_in(shown_layouts(e)[-1])), e.id

    page.reload(wait_until="load")
    assert page.evaluate(LAYOUT_JS) == {"body": "numerator", "radios": ["numerator"]}, "not remembered"
    if other is not None:
        page.goto(base_url + other[0], wait_until="load")
        assert page.evaluate(LAYOUT_JS)["body"] == "numerator", f"the choice did not carry over to {other[0]}"
    context.close()


def test_layout_switch_changes_only_the_body_class(browser, base_url, site):
    """The cost of a switch is one style recalculation: the only DOM change is the class on <body>."""
    big = max((site / "reference").glob("*/index.html"), key=lambda p: p.stat().st_size)
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{base_url}reference/{big.parent.name}/", wait_until="load")
    page.evaluate("""() => {
      window.__mutations = [];
      new MutationObserver(ms => ms.forEach(m => window.__mutations.push(
        [m.type, m.target.nodeName, m.attributeName,
         (m.target.closest && m.target.closest(".md-search") ? "md-search " : "") + (m.target.className || "")])))
        .observe(document.documentElement, {subtree: true, attributes: true, childList: true, characterData: true});
    }""")
    choose_layout(page, "numerator")
    page.wait_for_timeout(50)  # let the observer deliver (not a timing assertion)
    # Material's search box fills in its own status when its index arrives, whenever that is: not ours.
    mutations = [m for m in page.evaluate("window.__mutations") if not str(m[3]).startswith("md-search")]
    assert mutations and all(m[:3] == ["attributes", "BODY", "class"] for m in mutations), mutations
    assert page.evaluate(LAYOUT_JS)["body"] == "numerator"
    context.close()


INDEX_FORMULAS_JS = """async () => {
  // Bring each row to the middle of the screen, then wait (frames, not a clock) for its formula.
  const frame = () => new Promise(r => requestAnimationFrame(r));
  const out = {};
  for (const row of document.querySelectorAll(".matref-index li[data-entry]")) {
    row.scrollIntoView({block: "center"});
    const box = row.querySelector(".matref-index__formula");
    for (let i = 0; i < 120 && !box.querySelector(".katex, .katex-error"); i++) await frame();
    const k = box.querySelector(".katex");
    out[row.dataset.entry] = k && k.checkVisibility() ? [k.getAttribute("role"), k.getAttribute("aria-label")] : null;
  }
  return {shown: out, errors: document.querySelectorAll(".katex-error").length};
}"""

INDEX_LABEL_JS = """id => {
  const k = document.querySelector(`li[data-entry="${id}"] .katex`);
  return k && k.getAttribute("aria-label");
}"""


def test_reference_index_renders_each_formula_near_the_screen_in_the_chosen_layout(browser, base_url, catalogue):
    """Scrolled into view, every index row shows its formula, rendered by KaTeX in the chosen layout
    and labelled with its TeX; a row far below the screen is not rendered at load; none fails."""
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    page.set_default_timeout(10_000)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    for layout in LAYOUTS:
        page.goto(f"{base_url}reference/", wait_until="load")
        choose_layout(page, layout)
        last = catalogue.families[-1].entries[-1].id
        assert page.evaluate(INDEX_LABEL_JS, last) is None, "a row far below the screen was rendered at load"
        state = page.evaluate(INDEX_FORMULAS_JS)
        assert state["errors"] == 0, f"{state['errors']} formulas failed to render ({layout} layout)"
        for e in catalogue.entries:
            assert state["shown"][e.id] is not None, f"{e.id}: no formula in view ({layout} layout)"
            role, label = state["shown"][e.id]
            assert role == "img" and norm_tex(label) == norm_tex(e.formula_in(layout)), f"{e.id} ({layout})"
    assert not problems, problems
    context.close()


ALL_INDEX_LABELS_JS = """() => Object.fromEntries([...document.querySelectorAll(".matref-index li[data-entry]")]
  .filter(row => row.querySelector(".katex"))
  .map(row => [row.dataset.entry, row.querySelector(".katex").getAttribute("aria-label")]))"""


def test_reference_index_follows_the_layout_switch(browser, base_url, catalogue):
    """Clicking the switch on the index re-renders the rows in view in the other layout; rows
    rendered earlier but now out of view show no stale form, and follow once scrolled back to; the
    choice holds after a reload and on the family pages."""
    differ = [e for e in catalogue.entries
              if norm_tex(e.formula_in("denominator")) != norm_tex(e.formula_in("numerator"))]
    if len(differ) < 2:
        pytest.fail("too few entries read differently in the two layouts to test the switch")
    first, later = differ[0], differ[-1]
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    page.set_default_timeout(10_000)

    def label_of(entry):
        row = page.locator(f'li[data-entry="{entry.id}"]')
        row.scroll_into_view_if_needed()
        row.locator(".katex").wait_for()
        return norm_tex(row.locator(".katex").get_attribute("aria-label"))

    page.goto(f"{base_url}reference/", wait_until="load")
    assert label_of(first) == norm_tex(first.formula_in("denominator"))
    assert label_of(later) == norm_tex(later.formula_in("denominator"))
    page.locator('.matref-switch label:has(input[value="numerator"])').click()
    page.wait_for_function(f"([id, tex]) => ({INDEX_LABEL_JS})(id) === tex",
                           arg=[later.id, norm_tex(later.formula_in("numerator"))])
    assert page.evaluate(LAYOUT_JS) == {"body": "numerator", "radios": ["numerator"]}
    shown = page.evaluate(ALL_INDEX_LABELS_JS)
    stale = [i for i, tex in shown.items() if norm_tex(tex) != norm_tex(catalogue.get(i).formula_in("numerator"))]
    assert first.id not in shown and not stale, (first.id in shown, stale)
    assert label_of(first) == norm_tex(first.formula_in("numerator"))
    assert page.locator(".katex-error").count() == 0
    page.reload(wait_until="load")
    assert label_of(later) == norm_tex(later.formula_in("numerator"))
    page.goto(f"{base_url}reference/{later.page}/", wait_until="load")
    assert page.evaluate(LAYOUT_JS)["body"] == "numerator"
    context.close()


FORMS_JS = """() => [...document.querySelectorAll(".matref-entry__formula, a.matref-family")].map(box => [
  box.closest("[data-entry]") ? box.closest("[data-entry]").dataset.entry : box.getAttribute("href"),
  [...box.querySelectorAll(".katex")].filter(k => k.checkVisibility()).map(k => [k.getAttribute("role"), k.getAttribute("aria-label")]),
  [...box.querySelectorAll(".katex")].length,
])"""


def test_every_formula_shows_exactly_one_form_in_each_layout(browser, base_url, catalogue):
    """On every family page and the home page, each formula box shows one form, the chosen layout's,
    labelled with its TeX for screen readers; an entry whose two layouts read the same holds one form."""
    showcase = {f"reference/{f.name}/": f.showcase_entry for f in catalogue.families}
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(10_000)
    for url, entries in [("", None)] + reference_pages(catalogue):
        page.goto(base_url + url, wait_until="load")  # once: the switch changes the page in place
        for layout in LAYOUTS:
            choose_layout(page, layout)
            boxes = page.evaluate(FORMS_JS)
            want = {e.id: e for e in entries} if entries else {href: e for href, e in showcase.items()}
            assert [key for key, _, _ in boxes] == list(want), url
            for key, shown, held in boxes:
                e = want[key]
                assert len(shown) == 1, f"{url} {key} ({layout} layout): {len(shown)} forms show"
                role, label = shown[0]
                assert role == "img" and norm_tex(label) == norm_tex(e.formula_in(layout)), f"{url} {key} ({layout})"
                same = len({norm_tex(e.formula_in(other)) for other in LAYOUTS}) == 1
                assert held == (1 if same else 2), f"{url} {key}: {held} forms in the page"
    context.close()


# For each KaTeX box whose inline style the build moved into a class of the page: what the box
# computes to, and what it computes to with the style put back inline (an inline !important style
# wins over any rule, as KaTeX's inline style did).
MOVED_STYLES_JS = """() => {
  const rules = new Map();
  for (const sheet of document.styleSheets) {
    if (sheet.ownerNode.tagName !== "STYLE") continue;
    for (const rule of sheet.cssRules) {
      const m = /^\\.katex \\.(k-[0-9a-f]+)$/.exec(rule.selectorText || "");
      if (m) rules.set(m[1], rule.style);
    }
  }
  const boxes = [...document.querySelectorAll(".katex [class*='k-']")];
  const differ = [];
  for (const box of boxes) {
    const name = [...box.classList].find(c => rules.has(c));
    if (!name) { differ.push(`${box.className}: no rule`); continue; }
    const decls = rules.get(name);
    for (let i = 0; i < decls.length; i++) {
      const prop = decls[i];
      const moved = getComputedStyle(box).getPropertyValue(prop);
      box.style.setProperty(prop, decls.getPropertyValue(prop), "important");
      const inline = getComputedStyle(box).getPropertyValue(prop);
      box.removeAttribute("style");
      if (moved !== inline) differ.push(`${box.className} ${prop}: ${moved} instead of ${inline}`);
    }
  }
  return {boxes: boxes.length, rules: rules.size, differ: differ.slice(0, 10)};
}"""


def test_katex_styles_moved_into_classes_still_apply(browser, base_url, site):
    """The build turns KaTeX's inline styles into classes of the page (which class holds which style
    is tested in test_site_package): each class must win over every other rule, KaTeX's, Material's
    and matref's, as the inline style did, so each box computes to the style KaTeX gave it."""
    big = max((site / "reference").glob("*/index.html"), key=lambda p: p.stat().st_size)
    context = browser.new_context()
    page = context.new_page()
    for url in ("", f"reference/{big.parent.name}/"):
        page.goto(base_url + url, wait_until="load")
        state = page.evaluate(MOVED_STYLES_JS)
        assert state["boxes"] > 100 and state["rules"] > 10, (url, state)
        assert state["differ"] == [], (url, state)
    context.close()


ROWS_ON_SCREEN_JS = """() => {
  const header = document.querySelector(".md-header").getBoundingClientRect().bottom;
  const rows = [...document.querySelectorAll(".matref-entry")];
  rows[0].scrollIntoView();
  window.scrollBy(0, -header - 4);
  return rows.filter(r => { const b = r.getBoundingClientRect(); return b.top >= header - 1 && b.bottom <= innerHeight; }).length;
}"""


def test_traces_shows_at_least_eight_identities_per_desktop_screen(browser, base_url):
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    page.goto(f"{base_url}reference/traces/", wait_until="load")
    assert page.evaluate(ROWS_ON_SCREEN_JS) >= 8
    context.close()


# Every entry citing Matrix Cookbook (81) answers a query for (81).
CITE_81 = {"seed-quadratic-form", "form-quadratic", "inv-vector-inverse-quadratic", "norm-grad-weighted",
           "kron-quadratic-vec-gradient"}

# `logdet` names no one identity: any entry about the log-determinant answers it (the catalogue's tag).
LOG_DET = {e.id for e in matref.load_catalogue().entries if "log-determinant" in e.tags}

# Queries as people type them, and the entries that must be among the first three results.
SEARCHES = [
    ("x^T A x", {"seed-quadratic-form", "form-quadratic", "form-quadratic-gradient"}),
    ("xTAx", {"seed-quadratic-form", "form-quadratic", "form-quadratic-gradient"}),
    ("logdet", LOG_DET),
    ("log det", LOG_DET),
    ("81", CITE_81),
    ("Cookbook 81", CITE_81),
    ("MC (81)", CITE_81),
    ("softmax", {"vec-vector-softmax", "ml-softmax-cross-entropy-logits"}),
    ("Hessian", {"seed-quadratic-form-hessian", "form-quadratic-hessian", "vec-hessian-is-jacobian-of-gradient"}),
    ("tr(AXB)", {"trace-grad-axb"}),
]

SEARCH_RESULTS_JS = """() => [...document.querySelectorAll(".md-search-result__list a.md-search-result__link")]
  .map(a => ({href: a.getAttribute("href"), title: a.querySelector("h1, h2").textContent}))"""


@pytest.mark.parametrize("query, wanted", SEARCHES, ids=[q for q, _ in SEARCHES])
def test_search_understands_formulas(browser, base_url, query, wanted):
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{base_url}", wait_until="load")
    box = page.locator("input.md-search__input")
    box.fill(query)
    box.press("End")  # Material reads the query on keyup; fill() alone sends none
    page.wait_for_selector(".md-search-result__list a.md-search-result__link")
    results = page.evaluate(SEARCH_RESULTS_JS)
    entries = [r for r in results if "#" in r["href"]]
    top = [r["href"].split("#")[1].split("?")[0] for r in entries[:3]]
    assert wanted & set(top), f"{query!r}: first three entries {top}, wanted one of {sorted(wanted)}"
    for r in results:
        assert "\\" not in r["title"] and "$" not in r["title"], f"{query!r}: raw TeX in a result title: {r}"
    context.close()


def test_long_formulas_show_that_they_scroll_on_a_phone(browser, base_url):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(f"{base_url}reference/machine-learning/", wait_until="load")
    state = page.evaluate("""() => {
      const shown = [...document.querySelectorAll("div.arithmatex")].filter(k => k.checkVisibility());
      const wide = shown.filter(k => k.scrollWidth > k.clientWidth + 1);
      // The scroll box's own background: covers that scroll with the formula over shadows that do not.
      const affordance = k => { const s = getComputedStyle(k);
        return s.overflowX === "auto" && s.backgroundImage.includes("gradient") && s.backgroundAttachment.includes("local"); };
      return {wide: wide.length,
              plain: wide.filter(k => !affordance(k)).length,
              pageScrolls: document.documentElement.scrollWidth > innerWidth + 1};
    }""")
    assert state["wide"] > 0, "no formula overflows on a phone: the test needs another page"
    assert state["plain"] == 0, state
    assert not state["pageScrolls"], "a formula widens the whole page"
    context.close()


def test_copy_button_never_covers_code_on_a_phone(browser, base_url):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(f"{base_url}check/", wait_until="load")
    overlaps = page.evaluate("""() => [...document.querySelectorAll("pre > code")].flatMap(code => {
      const button = code.parentElement.parentElement.querySelector("button.md-code__button, .md-clipboard");
      if (!button) return [];
      const b = button.getBoundingClientRect();
      const range = document.createRange();
      range.selectNodeContents(code);
      return [...range.getClientRects()].filter(r => r.width > 0 && r.left < b.right && r.right > b.left
                                                  && r.top < b.bottom && r.bottom > b.top)
        .map(r => code.textContent.slice(0, 40));
    })""")
    assert overlaps == [], overlaps
    context.close()


def test_code_tabs_copy_the_snippet_the_harness_runs_in_every_dialect(browser, base_url, catalogue):
    """Each dialect is a tab; the function tab opens first; the copy button copies exactly what the
    dialect generates (and its harness runs); the chosen tab is remembered for the next row."""
    shown = dialects()
    entries = [e for e in catalogue.entries
               if has_layout_tabs(e) and all(d.snippet(e, "numerator") for d in shown)]
    if not entries:
        pytest.fail("no entry has layout-dependent forms and code in every dialect")
    entry = entries[0]
    other = next((e for e in entries[1:] if e.page == entry.page), None)
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{base_url}reference/{entry.page}/", wait_until="load")
    row = page.locator(f'.matref-entry[data-entry="{entry.id}"]')
    row.locator("button.matref-more").click()

    def visible_langs(r, layout):
        r.locator(f'.matref-snippets[data-layout="{layout}"] .matref-snippet').first.wait_for(state="attached")
        return r.locator(f'.matref-snippets[data-layout="{layout}"] .matref-snippet:visible').evaluate_all(
            "els => els.map(e => e.dataset.lang)")

    assert visible_langs(row, "denominator") == [shown[0].name]

    def copy(layout: str, lang: str) -> str:
        group = row.locator(f'.matref-snippets[data-layout="{layout}"]')
        group.locator(f'button.matref-tab[data-lang="{lang}"]').click()
        assert visible_langs(row, layout) == [lang]
        group.locator(f'.matref-snippet[data-lang="{lang}"] button.matref-copy').click()
        return page.evaluate("navigator.clipboard.readText()")

    for d in shown:
        assert copy("denominator", d.name) == d.snippet(entry, "denominator").rstrip("\n"), d.name
    choose_layout(page, "numerator")
    for d in shown:
        assert copy("numerator", d.name) == d.snippet(entry, "numerator").rstrip("\n"), d.name
    if other is not None:  # the last tab chosen is the one the next opened row shows
        row = page.locator(f'.matref-entry[data-entry="{other.id}"]')
        row.locator("button.matref-more").click()
        assert visible_langs(row, "numerator") == [shown[-1].name]
    context.close()


def test_derivation_block_is_collapsed_in_the_panel_with_rendered_steps(browser, base_url, site, catalogue):
    """A derivative identity that `matref derive` handles shows its derivation in the row's panel,
    collapsed, every step prerendered; opening it shows the steps."""
    from matref.site._derivations import derivable
    fragments = {e.id: (site / "reference" / "_code" / f"{e.id}.html").read_text(encoding="utf-8")
                 for e in catalogue.entries}
    derived = [e for e in catalogue.entries if '<details class="matref-derivation">' in fragments[e.id]]
    assert derived and all(derivable(e) for e in derived)  # only derivative identities carry one
    entry = derived[0]
    assert 'class="katex' in fragments[entry.id].split("</details>")[0]
    page = browser.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{base_url}reference/{entry.page}/", wait_until="load")
    row = page.locator(f'.matref-entry[data-entry="{entry.id}"]')
    row.locator("button.matref-more").click()
    block = row.locator("details.matref-derivation")
    block.wait_for(state="attached")
    assert block.get_attribute("open") is None and not row.locator("details.matref-derivation li").first.is_visible()
    block.locator("summary").click()
    assert row.locator("details.matref-derivation li .katex").first.is_visible()
    page.close()


# --------------------------------------------------------------------------------------------------
# Hand-written pages that quote the checker
# --------------------------------------------------------------------------------------------------

VERDICT_MARKS = {"✓ holds": "holds", "✗ refuted": "refuted", "? cannot check": "cannot check"}


def documented_checks() -> list[tuple[list[str], str]]:
    """(matref check argv, verdict shown) for every `$ matref check ...` in a console block of check.md."""
    import shlex

    text = (ROOT / "docs" / "check.md").read_text(encoding="utf-8")
    found = []
    for block in re.findall(r"```console\n(.*?)```", text, re.DOTALL):
        lines = block.splitlines()
        for i, line in enumerate(lines):
            if not line.startswith("$ matref check"):
                continue
            command, j = line[2:], i
            while command.endswith("\\"):
                j += 1
                command = command[:-1] + lines[j]
            shown = next(v for mark, v in VERDICT_MARKS.items() if lines[j + 1].startswith(mark))
            found.append((shlex.split(command)[2:], shown))
    return found


def test_check_page_shows_the_verdicts_matref_gives():
    """The CLI transcripts on docs/check.md: the verdict each one shows is the verdict matref gives."""
    import argparse

    cases = documented_checks()
    assert len(cases) >= 4, cases
    parser = argparse.ArgumentParser()
    parser.add_argument("formula")
    parser.add_argument("--where", default="")
    parser.add_argument("--layout", default="denominator")
    for argv, shown in cases:
        args = parser.parse_args(argv)
        verdict = matref.check(args.formula, where=args.where, layout=args.layout)
        assert verdict.status == shown, f"{argv}: the page shows {shown}, matref says {verdict.status}: {verdict.message}"


def test_pitfalls_have_their_own_page_never_under_refuted(site, catalogue):
    pit = (site / "pitfalls" / "index.html").read_text(encoding="utf-8")
    errata = (site / "errata" / "index.html").read_text(encoding="utf-8")
    pitfalls = [e.id for e in catalogue.entries if e.kind == "pitfall"]
    assert re.findall(r'<div class="matref-card" data-entry="([^"]+)"', pit) == pitfalls
    assert "Refuted: as printed" not in pit
    assert not any(f'data-entry="{i}"' in errata for i in pitfalls)


def test_merged_ids_are_anchors_on_the_surviving_entry(site, catalogue):
    for e in catalogue.entries:
        if e.aliases:
            text = family_html(site, e.page)
            for a in e.aliases:
                assert f'<span id="{a}" class="matref-alias"></span>' in text, a


def test_coverage_page_lists_every_wikipedia_row(site, catalogue):
    from matref._coverage import wikipedia_revision, wikipedia_tables
    text = (site / "coverage" / "index.html").read_text(encoding="utf-8")
    for t in wikipedia_tables():
        for n in range(1, len(t.rows) + 1):
            anchor = "wikipedia-" + re.sub(r"[^a-z0-9]+", "-", t.key.lower()).strip("-") + f"-{n}"
            assert f'id="{anchor}"' in text, anchor
    assert wikipedia_revision()["rows_sha256"] in text


def test_study_note_page_reads_every_statement(site, catalogue):
    from matref._coverage import study_note
    text = (site / "study-note" / "index.html").read_text(encoding="utf-8")
    for part in study_note()["part"]:
        for st in part["statements"]:
            for i in st["entries"]:
                e = catalogue.get(i)
                assert f'href="../reference/{e.page}/#{e.id}"' in text, i
    assert "分母布局" in text and "分子布局" in text
