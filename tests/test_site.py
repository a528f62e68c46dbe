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
from matref.snippets import jax_snippet, numpy_snippet
from site_helpers import (
    LAYOUT_LABELS,
    ROOT,
    build_site,
    launch_chromium,
    mkdocs_warnings,
    page_urls,
    render_katex,
    serve,
    snippets_in_html,
)

LAYOUTS = tuple(LAYOUT_LABELS)


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """(site directory, build output) of one strict build for the whole session."""
    site = tmp_path_factory.mktemp("site")
    proc, _ = build_site(site)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{output}"
    return site, output


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


def family_html(site: Path, family: str) -> str:
    return (site / "reference" / family / "index.html").read_text(encoding="utf-8")


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


def test_one_page_per_family_with_every_entry_in_order(site, catalogue):
    for fam in catalogue.families:
        text = family_html(site, fam.name)
        ids = re.findall(r'<div class="matref-entry" data-entry="([^"]+)"', text)
        assert ids == [e.id for e in fam.entries], fam.name
        for e in fam.entries:
            assert f'<h2 id="{e.id}">' in text, f"{e.id}: heading anchor missing"


def test_reference_index_links_every_identity(site, catalogue):
    text = (site / "reference" / "index.html").read_text(encoding="utf-8")
    for e in catalogue.entries:
        assert f'href="{e.family}/#{e.id}"' in text, e.id


def test_errata_page_lists_every_erratum(site, catalogue):
    text = (site / "errata" / "index.html").read_text(encoding="utf-8")
    listed = re.findall(r'<div class="matref-entry" data-entry="([^"]+)"', text)
    assert listed == [e.id for e in catalogue.entries if e.kind == "erratum"]


def test_all_math_is_prerendered(site):
    for path in site.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        raw = re.findall(r'<(?:span|div) class="arithmatex">(?!<span class="katex)(.{0,80})', text)
        assert not raw, f"{path.relative_to(site)}: math left for the browser: {raw[:3]}"


def test_page_shows_the_exact_snippet_text(site, catalogue):
    """The code blocks hold exactly what snippets generate (and what the harness runs)."""
    generate = {"jax": jax_snippet, "numpy": numpy_snippet}
    for fam in catalogue.families:
        shown = {(eid, layout, lang): code for eid, layout, lang, code in snippets_in_html(family_html(site, fam.name))}
        for e in fam.entries:
            for layout in shown_layouts(e):
                for lang, make in generate.items():
                    want = make(e, layout)
                    got = shown.get((e.id, layout, lang))
                    if want is None:  # no NumPy form when the closed form itself has derivatives
                        assert got is None, f"{e.id}: a {lang} snippet is shown but none is generated"
                        continue
                    assert got is not None, f"{e.id}: no {lang} snippet for the {layout} layout"
                    assert got.rstrip("\n") == want.rstrip("\n"), f"{e.id} {layout} {lang}: page differs"


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

SELECTED_LAYOUTS_JS = """() =>
  [...document.querySelectorAll(".tabbed-set")]
    .filter(s => [...s.querySelectorAll(":scope > .tabbed-labels > label")]
                   .some(l => l.textContent.trim() === "Numerator layout"))
    .map(s => {
      const input = s.querySelector(":scope > input:checked");
      return s.querySelector(`:scope > .tabbed-labels > label[for="${input.id}"]`).textContent.trim();
    })
"""

VISIBLE_FORMULAS_JS = """() =>
  Object.fromEntries([...document.querySelectorAll(".matref-entry")].map(e => {
    const shown = [...e.querySelectorAll(".katex-display")].find(k => k.getClientRects().length > 0);
    const tex = shown ? shown.querySelector("annotation[encoding='application/x-tex']").textContent : null;
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
    for fam in catalogue.families:
        on_page = shown.get(f"reference/{fam.name}/")
        assert on_page is not None, f"reference/{fam.name}/ was not loaded"
        for e in fam.entries:
            assert on_page.get(e.id) is not None, f"{e.id}: no rendered formula in its section"
            first = shown_layouts(e)[0]
            assert norm_tex(on_page[e.id]) == norm_tex(e.formula_in(first)), e.id


def _layout_family(catalogue):
    """A family page with layout tabs, and another page with them (for the cross-page check)."""
    fams = [f for f in catalogue.families if any(has_layout_tabs(e) for e in f.entries)]
    if not fams:
        pytest.fail("no catalogue entry depends on the layout, so the layout tabs cannot be tested")
    return fams[0], (fams[1] if len(fams) > 1 else None)


def test_layout_choice_switches_every_identity_and_survives_reload(browser, base_url, catalogue):
    fam, other = _layout_family(catalogue)
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{base_url}reference/{fam.name}/", wait_until="load")
    selected = page.evaluate(SELECTED_LAYOUTS_JS)
    assert selected and set(selected) == {"Denominator layout"}, selected

    first = next(e for e in fam.entries if has_layout_tabs(e))
    entry = page.locator(f'.matref-entry[data-entry="{first.id}"]')
    entry.locator(".tabbed-labels > label:visible", has_text="Numerator layout").first.click()

    def all_numerator():
        return set(page.evaluate(SELECTED_LAYOUTS_JS)) == {"Numerator layout"}

    page.wait_for_function(f"() => ({SELECTED_LAYOUTS_JS})().every(l => l === 'Numerator layout')")
    assert all_numerator()
    shown = page.evaluate(VISIBLE_FORMULAS_JS)
    for e in fam.entries:
        assert norm_tex(shown[e.id]) == norm_tex(e.formula_in(shown_layouts(e)[-1])), e.id

    page.reload(wait_until="load")
    page.wait_for_function(f"() => ({SELECTED_LAYOUTS_JS})().every(l => l === 'Numerator layout')", timeout=5000)
    assert all_numerator(), "the layout choice did not survive a reload"

    if other is not None:
        page.goto(f"{base_url}reference/{other.name}/", wait_until="load")
        page.wait_for_function(f"() => ({SELECTED_LAYOUTS_JS})().every(l => l === 'Numerator layout')",
                               timeout=5000)
        assert all_numerator(), f"the layout choice did not carry over to {other.name}"
    context.close()


def test_copy_button_copies_the_snippet_the_harness_runs(browser, base_url, catalogue):
    entry = next((e for e in catalogue.entries if has_layout_tabs(e) and numpy_snippet(e, "numerator")), None)
    if entry is None:
        pytest.fail("no catalogue entry has layout tabs and a NumPy snippet to copy")
    fam = catalogue.family(entry.family) if hasattr(catalogue, "family") else \
        next(f for f in catalogue.families if f.name == entry.family)
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{base_url}reference/{fam.name}/", wait_until="load")
    section = page.locator(f'.matref-entry[data-entry="{entry.id}"]')

    def copy(layout: str, lang: str) -> str:
        block = section.locator(f'.matref-snippet[data-layout="{layout}"][data-lang="{lang}"]')
        block.hover()
        block.locator('button.md-code__button[data-md-type="copy"]').click()
        return page.evaluate("navigator.clipboard.readText()")

    # Material trims trailing whitespace when it copies; the final newline is the only difference allowed.
    assert copy("denominator", "jax") == jax_snippet(entry, "denominator").rstrip("\n")
    section.locator(".tabbed-labels > label:visible", has_text="Numerator layout").first.click()
    assert copy("numerator", "jax") == jax_snippet(entry, "numerator").rstrip("\n")
    section.locator(".tabbed-labels > label:visible", has_text="NumPy").first.click()
    assert copy("numerator", "numpy") == numpy_snippet(entry, "numerator").rstrip("\n")
    context.close()


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
    assert re.findall(r'<div class="matref-entry" data-entry="([^"]+)"', pit) == pitfalls
    assert "Refuted: as printed" not in pit
    assert not any(f'data-entry="{i}"' in errata for i in pitfalls)


def test_merged_ids_are_anchors_on_the_surviving_entry(site, catalogue):
    for e in catalogue.entries:
        if e.aliases:
            text = family_html(site, e.family)
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
                assert f'href="../reference/{e.family}/#{e.id}"' in text, i
    assert "分母布局" in text and "分子布局" in text
