"""matref.site on its own: the pure functions behind the site, without MkDocs or a browser."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import pytest

from matref.site import RenderCache, code_fragments, expand_nav, generated_pages, prerender_pages
from matref.site import _katex, _markdown, _notebooks
from matref.snippets import Dialect

ROOT = Path(__file__).resolve().parents[1]


def test_md_text_escapes_markdown_but_not_math():
    assert _markdown.md_text("a_b *c* $x_1^T$ [d]") == r"a\_b \*c\* $x_1^T$ \[d\]"


def test_fence_outgrows_backticks_inside_the_code():
    block = _markdown.fence("x = '```'", lang="python", attrs=".c")
    assert block.startswith("````python {.c}\n") and block.endswith("\n````")


def test_sources_link_to_the_study_note_and_wikipedia_rows():
    assert _markdown.source_markdown("Study note 求导 (matrix derivatives)") == \
        "[Study note 求导 (matrix derivatives)](../study-note.md)"
    assert _markdown.source_markdown("Wikipedia: scalar-by-vector #12").endswith(
        "(../coverage.md#wikipedia-scalar-by-vector-12)")
    assert _markdown.source_markdown("Matrix Cookbook (81)") == "Matrix Cookbook (81)"


def test_relink_points_same_page_links_at_the_family_page(catalogue):
    e = catalogue.entries[0]
    assert _markdown.relink(f"see [it](#{e.id})", "reference/", catalogue) == \
        f"see [it](reference/{e.family}.md#{e.id})"
    later = next((e for e in catalogue.entries if e.page != e.family), None)  # on a split family's later page
    if later is not None:
        assert _markdown.relink(f"[it](#{later.id})", "", catalogue) == f"[it]({later.page}.md#{later.id})"
    assert _markdown.relink("[x](#no-such-entry)", "reference/", catalogue) == "[x](#no-such-entry)"


def test_expand_nav_lists_every_family_after_the_index(catalogue):
    nav = [{"Home": "index.md"}, {"Reference": "reference/index.md"}]
    assert expand_nav(nav, catalogue.families)
    pages = nav[1]["Reference"]
    assert pages[0] == "reference/index.md"
    assert [next(iter(p)) for p in pages[1:]] == [f.title for f in catalogue.families]
    for fam, item in zip(catalogue.families, pages[1:]):
        value = item[fam.title]
        if len(fam.parts) == 1:
            assert value == f"reference/{fam.name}.md"
        else:  # a split family is a section of its pages, in order
            assert [next(iter(p.values())) for p in value] == [f"reference/{p.page}.md" for p in fam.parts]
    assert not expand_nav([{"Home": "index.md"}], catalogue.families)


class _IndexRows(HTMLParser):
    """The index rows of a page, as a browser reads them: (entry, href, data-tex, data-tex-numerator)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.rows, self.entry, self.href = [], None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "li" and "data-entry" in a:
            self.entry = a["data-entry"]
        elif tag == "a" and self.entry:
            self.href = a["href"]
        elif tag == "span" and a.get("class") == "matref-index__formula":
            self.rows.append((self.entry, self.href, a.get("data-tex"), a.get("data-tex-numerator")))


def test_index_rows_carry_each_layouts_tex_escaped_so_it_round_trips():
    """Every index row holds its entry's TeX for the browser to render: the one form when both layouts
    read the same, else both; characters HTML gives meaning to come back exactly as written."""
    from matref.site._reference import index_page

    def entry(id, den, num, *, independent=False, kind="identity"):
        return SimpleNamespace(id=id, family="fam", page="fam", title=f"Title of {id}", kind=kind, formula=den,
                               layout="denominator", layout_independent=independent,
                               formula_in=lambda layout: den if layout == "denominator" else num)

    tricky = r"""\text{a "b" & 'c'} < x > y &amp; z"""
    entries = [
        entry("both", tricky, tricky + " ^T"),
        entry("same", tricky, "  " + tricky.replace(" ", "  ")),  # the same TeX, spaced differently
        entry("independent", r"\operatorname{tr}(A)", "ignored", independent=True, kind="erratum"),
    ]
    part = SimpleNamespace(title="A & B", page="fam")
    fam = SimpleNamespace(name="fam", title="A & B", entries=entries, parts=[part], part_entries=lambda p: entries)
    page = index_page(SimpleNamespace(entries=entries, families=[fam]))
    parser = _IndexRows()
    parser.feed(page)
    assert parser.rows == [
        ("both", "fam/#both", tricky, tricky + " ^T"),
        ("same", "fam/#same", tricky, None),
        ("independent", "fam/#independent", r"\operatorname{tr}(A)", None),
    ]
    assert '<span class="matref-tag">erratum</span>' in page and "## [A &amp; B](fam.md)" in page
    assert page.count('src="../assets/katex/katex.min.js"') == 1


def fake_dialect(name, make):
    """A dialect whose entry snippets come from `make(entry, layout)`; never run."""
    return Dialect(name=name, label=name.title(), language="python", script=lambda *a, **k: None,
                   run=lambda *a: None, entry_snippet=make)


def test_site_shows_every_registered_dialect_function_first():
    from matref.snippets import DIALECTS
    from matref.site import dialects

    shown = dialects()
    assert sorted(d.name for d in shown) == sorted(d.name for d in DIALECTS)
    assert shown[0].name == "function"


def test_generated_pages_cover_every_entry_and_use_every_dialect(catalogue):
    calls = []

    def fake(entry, layout):
        calls.append((entry.id, layout))
        return f"# {entry.id} {layout}\n"

    pages = generated_pages(catalogue)
    assert {"reference/index.md", "errata.md", "pitfalls.md", "study-note.md", "coverage.md"} <= set(pages)
    for fam in catalogue.families:
        for part in fam.parts:
            text = pages[f"reference/{part.page}.md"]
            assert re.findall(r'class="matref-entry" id="([^"]+)" data-entry', text) == \
                [e.id for e in fam.part_entries(part)]
    fragments = code_fragments(catalogue.entries, (fake_dialect("fake", fake),))
    assert set(fragments) == {f"reference/_code/{e.id}.html" for e in catalogue.entries}
    assert {i for i, _ in calls} == {e.id for e in catalogue.entries}
    e = catalogue.entries[0]
    assert f"# {e.id} {e.layout}" in fragments[f"reference/_code/{e.id}.html"].replace("<span class=\"c1\">", "")


def test_a_failing_snippet_names_its_entry(catalogue):
    from matref.site._code import SnippetError

    def broken(entry, layout):
        raise ValueError("boom")

    with pytest.raises(SnippetError, match=r"cannot generate the bad snippet of '[a-z0-9-]+' .* boom"):
        code_fragments(catalogue.entries, (fake_dialect("bad", broken),))


def test_render_cache_asks_only_for_new_formulas_and_never_keeps_errors(tmp_path):
    asked = []

    def renderer(items):
        asked.append(list(items))
        return "9.9.9", [{"error": "bad"} if t == "\\bad" else {"html": f"<b>{t}</b>"} for t, _ in items]

    cache = RenderCache.load(tmp_path, "9.9.9")
    first = cache.render([("x", False), ("x", True), ("\\bad", True), ("x", False)], renderer)
    assert [r.get("html") for r in first] == ["<b>x</b>", "<b>x</b>", None, "<b>x</b>"]
    assert asked == [[("x", False), ("x", True), ("\\bad", True)]]
    cache.save()
    again = RenderCache.load(tmp_path, "9.9.9")
    again.render([("x", True), ("\\bad", True), ("y", False)], renderer)
    assert asked[-1] == [("\\bad", True), ("y", False)]  # the error is asked again: it must fail every build
    assert RenderCache.load(tmp_path, "1.0.0").results == {}  # another KaTeX renders everything afresh


def test_render_cache_is_not_reused_once_the_renderer_changes(tmp_path, monkeypatch):
    """The renderer's options (e.g. HTML only, the TeX as a label) shape every cached result."""
    renderer = tmp_path / "katex_render.mjs"
    renderer.write_text("// output: html", encoding="utf-8")
    monkeypatch.setattr(_katex, "RENDERER", renderer)
    cache = RenderCache.load(tmp_path, "9.9.9")
    cache.render([("x", False)], lambda items: ("9.9.9", [{"html": "<b>x</b>"}]))
    cache.save()
    assert RenderCache.load(tmp_path, "9.9.9").results != {}
    renderer.write_text("// output: htmlAndMathml", encoding="utf-8")
    assert RenderCache.load(tmp_path, "9.9.9").results == {}


def test_render_cache_refuses_a_different_katex(tmp_path):
    with pytest.raises(_katex.KatexError, match="9.9.9"):
        RenderCache.load(None, "1.0.0").render([("x", False)], lambda items: ("9.9.9", [{"html": ""}]))


PAGE = ('<html><head><link rel="stylesheet" href="../assets/katex/katex.min.css"></head><body>'
        '<div data-entry="e1"><span class="arithmatex">\\(x &lt; y\\)</span>'
        '<div class="arithmatex">\\[\\sum\\]</div></div></body></html>')


def test_prerender_swaps_placeholders_and_preloads_the_common_fonts_it_uses():
    def render(items):
        assert items == [("x < y", False), ("\\sum", True)]
        return [{"html": '<span class="katex"><span class="mrel">&lt;</span></span>'},
                {"html": '<span class="katex"><span class="mop op-symbol large-op">∑</span></span>', "warnings": ["w"]}]

    done = prerender_pages({"p.md": PAGE, "plain.md": "<p>no math</p>"}, render, "0.16.0")
    assert not done.errors and done.distinct == 2
    out = done.pages["p.md"]
    assert "\\(" not in out and '<span class="mrel">' in out
    # the common font it uses is preloaded; a big operator's font is not (it is fetched when laid out)
    assert "KaTeX_Main-Regular.woff2" in out and "KaTeX_Size2-Regular.woff2" not in out
    assert "KaTeX_Math-Italic.woff2" not in out  # not used by this page's math
    assert done.pages["plain.md"] == "<p>no math</p>"
    assert done.warnings == ["KaTeX 0.16.0 (strict mode) on p.md (entry e1): w in \\sum"]


def test_prerender_moves_katex_styles_into_classes_of_the_page():
    """Each distinct inline style becomes one class, defined in the page's head, winning like the style did."""
    math = ('<span class="katex"><span class="mord" style="margin-right:0.1em;">x</span>'
            '<span style="top:-3em;margin-right:0.05em;"></span><span class="mspace" style="margin-right:0.1em;"></span></span>')
    done = prerender_pages({"p.md": PAGE}, lambda items: [{"html": math}] * len(items), "0.16.0")
    out = done.pages["p.md"]
    assert "style=" not in out.split("</head>")[1]
    assert out.count('<span class="mord k-0">x</span>') == 2 and out.count('<span class="mspace k-0">') == 2
    assert out.count('<span class="k-1">') == 2
    head = out.split("</head>")[0]
    assert head.count(".katex .k-0{margin-right:0.1em!important}") == 1
    assert head.count(".katex .k-1{top:-3em!important;margin-right:0.05em!important}") == 1


def test_prerender_errors_name_the_page_the_entry_and_the_tex():
    done = prerender_pages({"p.md": PAGE}, lambda items: [{"error": "KaTeX parse error"}] * len(items), "0.16.0")
    assert len(done.errors) == 2 and "on p.md (entry e1)" in done.errors[0] and "x < y" in done.errors[0]
    assert done.pages["p.md"] == PAGE


def test_notebook_cache_key_follows_the_notebook_and_the_code(tmp_path):
    nb = tmp_path / "a.ipynb"
    nb.write_text("{}")
    one = _notebooks.executed_path(nb, tmp_path / "c", "code1")
    assert one == _notebooks.executed_path(nb, tmp_path / "c", "code1")
    assert one != _notebooks.executed_path(nb, tmp_path / "c", "code2")
    nb.write_text("{ }")
    assert one != _notebooks.executed_path(nb, tmp_path / "c", "code1")


def test_the_site_package_imports_without_mkdocs():
    import os
    import subprocess
    import sys

    import matref

    env = dict(os.environ, PYTHONPATH=str(Path(matref.__file__).resolve().parents[1]))
    code = ("import sys; sys.modules['mkdocs'] = None; import matref.site; "
            "assert 'mkdocs' not in [m.split('.')[0] for m in sys.modules if sys.modules[m] is not None]")
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


def test_queries_and_entries_compact_alike(catalogue):
    from matref.site._search import compact_query, entry_keys

    assert compact_query("x^T A x") == compact_query("xTAx") == "xtax"
    assert compact_query("tr(AXB)") == "traxb"
    assert compact_query("MC (81)") == "mc81" and compact_query("81") == "mc81"
    assert "traxb" in entry_keys(catalogue.get("trace-grad-axb"))
    assert any(k.startswith("logdet") for k in entry_keys(catalogue.get("det-log-abs")))


def test_search_text_is_readable_not_tex():
    from matref.site._search import readable, tex_to_text

    assert tex_to_text(r"\frac{\partial x^T A x}{\partial x} = (A + A^T) x") == "(∂ xᵀ A x)/(∂ x) = (A + Aᵀ) x"
    assert readable(r"<p>where \(x \in \mathbb{R}^{n}\)</p>") == "<p>where x ∈ ℝⁿ</p>"


def test_site_and_repo_urls_come_from_the_environment(monkeypatch):
    """mkdocs.yml reads both from the environment (the publishing workflow sets them)."""
    from mkdocs.config import load_config

    monkeypatch.setenv("MATREF_SITE_URL", "https://pages.example/matref/")
    monkeypatch.setenv("MATREF_REPO_URL", "https://forge.example/someone/matref")
    config = load_config(str(ROOT / "mkdocs.yml"))
    assert config.site_url == "https://pages.example/matref/"
    assert config.repo_url == "https://forge.example/someone/matref"
    monkeypatch.delenv("MATREF_SITE_URL")
    monkeypatch.delenv("MATREF_REPO_URL")
    config = load_config(str(ROOT / "mkdocs.yml"))
    assert config.site_url is None and config.repo_url  # serve keeps its root path; the source is linked


# -- the serve loop: what a catalogue edit rebuilds, and what a check shows -------------------------

def _edited(catalogue, entry_id, **changes):
    """The catalogue with one entry changed (as a save of its TOML file would change it)."""
    import dataclasses

    from matref._catalogue import Catalogue

    families = []
    for fam in catalogue.families:
        entries = tuple(dataclasses.replace(e, **changes) if e.id == entry_id else e for e in fam.entries)
        families.append(dataclasses.replace(fam, entries=entries))
    return Catalogue(tuple(families))


def test_an_edit_to_one_entry_changes_only_its_family_page_and_the_index(catalogue):
    from matref.site._incremental import changed_pages

    before = generated_pages(catalogue)
    after = generated_pages(_edited(catalogue, "trace-transpose", formula=r"2 \operatorname{tr}(A) = \operatorname{tr}(2 A^T)"))
    lists_it = [uri for uri, text in before.items() if "trace-transpose" in text]
    changed = changed_pages(before, after)
    # the family page shows the formula; other pages that list the entry change only if they show it
    assert "reference/traces.md" in changed and set(changed) <= set(lists_it)
    assert {"reference/traces.md", "reference/index.md"} <= set(lists_it)  # and the study note, which cites it
    assert not [uri for uri in lists_it if uri.startswith("reference/") and uri not in
                ("reference/traces.md", "reference/index.md")]
    assert changed_pages(before, generated_pages(catalogue)) == []


def test_the_fragment_memo_generates_only_what_changed_and_the_same_text(catalogue):
    calls = []

    def fake(entry, layout):
        calls.append(entry.id)
        return f"# {entry.formula}\n"

    d = (fake_dialect("fake", fake),)
    memo: dict = {}
    first = code_fragments(catalogue.entries, d, memo)
    assert first == code_fragments(catalogue.entries, d)  # the memo changes nothing in what is generated
    calls.clear()
    edited = _edited(catalogue, "trace-transpose", formula=r"\operatorname{tr}(A^T) = \operatorname{tr}(A)")
    second = code_fragments(edited.entries, d, memo)
    assert set(calls) == {"trace-transpose"}
    assert [u for u in second if second[u] != first[u]] == ["reference/_code/trace-transpose.html"]
    assert len(memo) == len(catalogue.entries)  # the old form is dropped


def test_a_refuted_entry_gets_a_red_banner_and_its_page_claims_no_check(catalogue):
    from matref.site._checks import CHECKING, FAILS, HOLDS, Status

    holds = {e.id: Status(HOLDS) for e in catalogue.entries}
    plain = generated_pages(catalogue)
    assert generated_pages(catalogue, holds) == plain  # a holding catalogue: the page the strict build makes

    message = "denominator layout: refuted: the two sides differ by 8.9e-01 <at n=3>"
    pages = generated_pages(catalogue, {**holds, "trace-transpose": Status(FAILS, (message,))})
    traces = pages["reference/traces.md"]
    row = traces[traces.index('id="trace-transpose"'):]
    row = row[:row.index('class="matref-entry" id=')]
    assert 'class="matref-check matref-check--fails"' in row and "Does not hold" in row
    assert "refuted: the two sides differ by 8.9e-01 &lt;at n=3&gt;" in row  # the verdict, escaped
    assert "each checked numerically" not in traces and "1 not verified (1 that do not hold" in traces
    assert "does not hold" in pages["reference/index.md"]
    assert [u for u in pages if pages[u] != plain[u]] == ["reference/traces.md", "reference/index.md"]

    running = generated_pages(catalogue, {**holds, "trace-transpose": Status(CHECKING)})["reference/traces.md"]
    assert "checking…" in running and "each checked numerically" not in running
    assert "matref-check--fails" not in running


def test_the_checker_checks_an_entry_once_per_form_and_keeps_the_verdict(tmp_path, catalogue):
    from matref._verify import VerdictStore, verification_key
    from matref.site._checks import CHECKING, FAILS, HOLDS, Checker

    e = catalogue.get("trace-transpose")
    wrong = _edited(catalogue, e.id, formula=r"\operatorname{tr}(A) = 2 \operatorname{tr}(A^T)").get(e.id)
    checked = []

    def run(entry):
        checked.append(entry.formula)
        return _record(entry, "holds" if entry.formula == e.formula else "refuted")

    path = tmp_path / "checks" / "verdicts.json"
    checker = Checker(VerdictStore(path, "code"), run=run)
    assert checker.status([wrong], check=lambda x: False)[e.id].state == HOLDS  # not edited: the tests check it
    assert checker.status([wrong])[e.id].state == CHECKING
    assert checker.status([wrong])[e.id].state == FAILS and checked == [wrong.formula]
    assert path.is_file()  # saved when the queue ran dry: the signal `mkdocs serve` watches
    again = Checker(VerdictStore(path, "code"), run=run)
    assert again.status([wrong])[e.id].problems == ("denominator layout: refuted: differ",)
    assert checked == [wrong.formula]  # known: never checked twice
    assert verification_key(e) == verification_key(_edited(catalogue, e.id, title="Another title").get(e.id))
    other_code = Checker(VerdictStore(path, "other code"), run=run)
    assert other_code.status([wrong])[e.id].state == CHECKING  # a verdict of other code is not reused


def _record(entry, status: str) -> dict:
    """The record of verifying entry whose denominator layout has this status (the other holds)."""
    from matref._check import Verdict
    from matref._verify import EntryResult

    layouts = {"denominator": Verdict(status, "differ", entry.formula), "numerator": Verdict("holds", "", entry.formula)}
    return EntryResult(entry, layouts).record()


def test_only_data_edits_are_updated_in_place(tmp_path):
    from matref.site._incremental import changed_paths, only_data, snapshot

    cat, docs = tmp_path / "catalogue", tmp_path / "docs"
    cat.mkdir(), docs.mkdir()
    (cat / "traces.toml").write_text("a")
    (docs / "index.md").write_text("b")
    before = snapshot([cat, docs])
    (cat / "traces.toml").write_text("a, edited")
    after = snapshot([cat, docs])
    assert changed_paths(before, after) == {str(cat / "traces.toml")}
    assert only_data(changed_paths(before, after), [cat])
    (docs / "index.md").write_text("b, edited")
    assert not only_data(changed_paths(before, snapshot([cat, docs])), [cat])
    assert changed_paths(after, after) == set() and only_data(set(), [cat])


def test_a_strict_build_fails_on_an_entry_known_not_to_hold(tmp_path, catalogue):
    from types import SimpleNamespace

    from mkdocs.exceptions import PluginError

    from matref._verify import VerdictStore, verification_key
    from matref.site import _mkdocs

    build = _mkdocs.SiteBuild(tmp_path)
    e = catalogue.get("trace-transpose")
    store = VerdictStore(tmp_path / ".cache" / "matref-site" / "checks" / "verdicts.json")
    store.put(verification_key(e), _record(e, "refuted"))
    store.save()
    with pytest.raises(PluginError, match=r"(?s)1 catalogue entry does not hold.*traces.toml:\d+ 'trace-transpose': "
                                          r"denominator layout: refuted: differ"):
        build.on_config(SimpleNamespace(nav=None))


def test_rebuilt_pages_keep_their_place_in_the_search_index():
    from matref.site._incremental import splice_sections

    index = [{"location": "a/"}, {"location": "b/"}, {"location": "b/#x"}, {"location": "c/"}]
    fresh = [{"location": "b/", "new": 1}, {"location": "b/#y", "new": 1}, {"location": "d/", "new": 1}]
    assert [s["location"] for s in splice_sections(index, fresh)] == ["a/", "b/", "b/#y", "c/", "d/"]
    assert splice_sections(index, []) == index


def test_the_functions_table_has_a_row_per_function_record_and_the_conventions_page_its_marker():
    from matref._functions import FUNCTIONS
    from matref.site import FUNCTIONS_MARK, functions_table

    table = functions_table().splitlines()
    assert table[0].startswith("| You write |") and set(table[1]) <= set("|-")
    assert len(table) == 2 + len(FUNCTIONS)
    for record, row in zip(FUNCTIONS.values(), table[2:]):
        assert f"| {record.meaning} | {record.kind} | {record.argument} |" in row
    # Pipes only in code spans (|X|): outside them a pipe would split the Markdown table's cells.
    assert all(re.sub(r"`[^`]*`", "", row).count("|") == 5 for row in table)
    assert functions_table([]).count("\n") == 1  # a pure function of the records it is given
    assert FUNCTIONS_MARK in (ROOT / "docs" / "conventions.md").read_text()
