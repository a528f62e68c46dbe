"""The MkDocs glue: one `SiteBuild` per build, its methods are the MkDocs events.

`docs/_hooks/matref_site.py` creates one and hands MkDocs its methods. Everything the build needs to
remember between events lives on that object; everything that outlives a build (rendered formulas,
executed notebooks, verdicts) lives on disk under `.cache/matref-site/`, because `mkdocs serve` reloads
the hook, and with it any state, on every rebuild.

While serving, this module (imported once, unlike the hook) also keeps `SESSION`: the code fragments
already highlighted, the background checker, and the last build, which a catalogue edit updates in
place instead of building the whole site again (see `_incremental.py`).
"""

from __future__ import annotations

import logging
import os
import re
import time
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.utils import CountHandler, get_relative_url

from matref._verify import VerdictStore, code_digest, verification_key

from . import _checks, _derivations, _incremental, _katex, _notebooks, _search
from ._code import SnippetError
from ._conventions import FUNCTIONS_MARK, OPERATORS_MARK, functions_table, operators_table
from ._dialects import dialects
from ._pages import code_fragments, expand_nav, generated_pages
from ._reference import home_families

# Markers a hand-written page may hold; on_page_markdown replaces them with catalogue data.
FAMILIES_MARK = "<!-- matref:families -->"
ENTRY_COUNT_MARK = "<!-- matref:entry-count -->"

# A logger under "mkdocs." so that our warnings count towards `strict: true`.
log = logging.getLogger("mkdocs.hooks.matref_site")

# nbconvert's MathJax loader; with `custom_mathjax_url: ""` it is an inert <script src="">. Drop it.
_MATHJAX = re.compile(r'\s*<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->', re.DOTALL)
# nbconvert's Mermaid loader imports Mermaid from a CDN when a notebook has a diagram. Drop it too:
# the site loads nothing from another host (a diagram would stay as its source text).
_MERMAID = re.compile(r'<script type="module">(?:(?!</script>).)*?jp-Mermaid.*?</script>', re.DOTALL)

# The saved layout applied before the first paint (matref.js handles the switch itself).
_EARLY_LAYOUT = ('<script>try{if(localStorage.getItem("matref.layout")==="numerator")'
                 'document.body.classList.add("matref-numerator")}catch(e){}</script>')
_BODY = re.compile(r"<body\b[^>]*>")
# Material's bundle and matref.js load at the end of <body> without `defer`: the parser stops for
# them, and the first paint waits on the bundle's 110 KB (about 30-40 ms of the reference pages'
# time to visible math, scripts/bench). Deferred, they still run in order, before DOMContentLoaded.
_BLOCKING_SCRIPT = re.compile(r'<script src="([^"]*(?:assets/javascripts/bundle\.[0-9a-f]+\.min\.js|'
                              r'javascripts/matref\.js))"></script>')
# Material's search worker, named in the page's configuration; matref-search.js wraps it.
_WORKER = re.compile(r'"search": "[^"]*assets/javascripts/workers/(search\.[0-9a-f]+\.min\.js)"')

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


class Session:
    """What outlives one build of `mkdocs serve` (this module is imported once; the hook is not)."""

    def __init__(self):
        self.serving = False
        self.fragments: dict = {}  # code fragment memo, see code_fragments
        self.checker: _checks.Checker | None = None
        self.baseline: dict[str, str] = {}  # entry id -> check key at the first build: what counts as edited
        self.last: SiteBuild | None = None  # the build a data edit can update in place


SESSION = Session()


def _flag(value, default: bool) -> bool:
    if value is None:
        return default
    return str(value).strip().lower() not in ("0", "false", "no", "off", "")


class SiteBuild:
    """The events of one MkDocs build of the matref site."""

    def __init__(self, root: Path):
        self.root = root
        self.cache_dir = root / ".cache" / "matref-site"
        self.cat = None
        self.dialects = ()
        self.notebooks: dict[str, _notebooks.NotebookRun] = {}
        self.sources: dict[Path, str] = {}
        self.status: dict[str, _checks.Status] = {}
        self.pages: dict[str, str] = {}      # generated Markdown, by path under docs/
        self.fragments: dict[str, str] = {}  # code fragments, by path in the site
        self.marks: dict[str, tuple[str, str]] = {}  # what the markers of a hand-written page became
        self.config = self.files = self.nav = self.env = None
        self.snapshot: _incremental.Snapshot = {}

    # -- serving -------------------------------------------------------------------------------

    def on_startup(self, command, dirty) -> None:
        SESSION.serving = command == "serve"

    def on_serve(self, server, config, builder):
        # A new verdict is written to this directory: watching it rebuilds and reloads the page.
        checks = self.cache_dir / "checks"
        checks.mkdir(parents=True, exist_ok=True)
        server.watch(str(checks))
        if getattr(server, "builder", None) is builder:  # MkDocs' own builder: try an update first
            server.builder = lambda: _rebuild(builder)
        return server

    def on_shutdown(self) -> None:
        if SESSION.checker is not None:
            SESSION.checker.close()

    def _watched(self) -> list[Path]:
        cfg = self.config
        return [Path(cfg.docs_dir), Path(cfg.config_file_path), *map(Path, cfg.watch), self.cache_dir / "checks"]

    def _data_dirs(self) -> list[Path]:
        import matref

        return [Path(matref.__file__).parent / "catalogue", self.cache_dir / "checks"]

    def _checker(self) -> _checks.Checker:
        if SESSION.serving and SESSION.checker is not None:  # one worker for the whole session
            return SESSION.checker
        checker = _checks.Checker(VerdictStore(self.cache_dir / "checks" / "verdicts.json"))
        if SESSION.serving:
            SESSION.checker = checker
        return checker

    def _statuses(self, cat) -> dict[str, _checks.Status]:
        """Each entry's check: what earlier checks found and, while serving, a background check of
        every entry edited since the server started (the others are checked by the test suite)."""
        checker = self._checker()
        if not SESSION.serving:
            return checker.status(cat.entries, check=lambda e: False)
        if not SESSION.baseline:
            SESSION.baseline = {e.id: verification_key(e) for e in cat.entries}
        return checker.status(cat.entries,
                              check=lambda e: SESSION.baseline.get(e.id) != verification_key(e))

    def _marks_for(self, url: str) -> tuple[str, str]:
        base = "../" * url.count("/")  # from the page's URL to the site root
        return home_families(self.cat, base), str(len(self.cat.entries))

    def update(self) -> bool:
        """Bring the served site up to date in place after a catalogue edit or a new verdict.

        False (nothing needs undoing: a full build follows, and reports what went wrong) when the
        change is more than data, the catalogue does not load, the navigation changes, or anything
        warns: a strict build would fail, so the update must not quietly succeed.
        """
        import matref
        from mkdocs.commands.build import _build_page, _populate_page

        t0 = time.perf_counter()
        now = _incremental.snapshot(self._watched())
        if not _incremental.only_data(_incremental.changed_paths(self.snapshot, now), self._data_dirs()):
            return False
        matref.load_catalogue.cache_clear()
        try:
            cat = matref.load_catalogue()
        except Exception:  # the full build says what is wrong
            return False
        if _incremental.nav_key(cat) != _incremental.nav_key(self.cat):
            return False
        status = self._statuses(cat)
        try:
            fragments = code_fragments(cat.entries, self.dialects, SESSION.fragments,
                                       _derivations.derivations(cat, self.cache_dir))
        except (SnippetError, _derivations.DerivationDisagrees):  # the full build says what is wrong
            return False
        pages = generated_pages(cat, status)
        self.cat, self.status = cat, status  # on_page_markdown of a hand-written page reads these
        todo = _incremental.changed_pages(self.pages, pages)
        for uri, marks in self.marks.items():
            page = self.files.get_file_from_path(uri).page
            if self._marks_for(page.url) != marks:
                todo.append(uri)
        site = Path(self.config.site_dir)
        search = next((p for p in self.config.plugins.values() if hasattr(getattr(p, "search_index", None), "entries")),
                      None)
        if todo and search is None:
            return False
        warnings = CountHandler()
        warnings.setLevel(logging.WARNING)
        logging.getLogger("mkdocs").addHandler(warnings)
        try:
            built = []
            for uri in todo:
                file = self.files.get_file_from_path(uri)
                if uri in pages:
                    file.content_string = pages[uri]
                _populate_page(file.page, self.config, self.files)
                if "<autoref" in file.page.content:  # cross-references are resolved across pages: full build
                    return False
                built.append(file.page)
            doc_files = self.files.documentation_pages(inclusion=InclusionLevel.is_in_serve)
            for f in doc_files:
                f.page.validate_anchor_links(files=self.files, log_level=self.config.validation.links.anchors)
            if warnings.get_counts():
                return False
            index, search.search_index.entries = search.search_index.entries, []
            for page in built:  # each adds its sections to the (now empty) search index
                _build_page(page, self.config, doc_files, self.nav, self.env)
            if warnings.get_counts():
                return False
            search.search_index.entries = _incremental.splice_sections(index, search.search_index.entries)
            rewritten = [uri for uri, text in fragments.items() if self.fragments.get(uri) != text]
            for uri in rewritten:
                (site / uri).write_text(fragments[uri], encoding="utf-8")
            if built:
                search.on_post_build(config=self.config)
                self._search_index(site)
                self._prerender(site, [Path(p.file.abs_dest_path) for p in built])
            if warnings.get_counts():  # e.g. KaTeX's strict mode on a new formula: the full build fails on it
                return False
        finally:
            logging.getLogger("mkdocs").removeHandler(warnings)
        self.pages, self.fragments, self.snapshot = pages, fragments, now
        log.info("matref: updated %d page(s) and %d code fragment(s) in place in %.2f s",
                 len(built), len(rewritten), time.perf_counter() - t0)
        return True

    # -- configuration and files ---------------------------------------------------------------

    def on_config(self, config):
        import matref

        self.config = config
        if SESSION.serving:  # before anything is read: an edit during the build shows up as a change
            self.snapshot = _incremental.snapshot(self._watched())
        # `mkdocs serve` rebuilds in the same process: drop the cached catalogue so edits show up.
        matref.load_catalogue.cache_clear()
        try:
            self.cat = matref.load_catalogue()
        except Exception as exc:  # a catalogue error is the build's error, stated plainly
            raise PluginError(f"matref: cannot load the catalogue: {exc}") from exc
        self.status = self._statuses(self.cat)
        failing = [e for e in self.cat.entries if self.status[e.id].state == _checks.FAILS]
        if failing and not SESSION.serving:  # serving shows them on their pages instead
            raise PluginError(
                f"matref: {len(failing)} catalogue entr{'y does' if len(failing) == 1 else 'ies do'} not hold "
                "(an earlier check of exactly this form found it; `matref verify --family F` checks again):\n"
                + "\n".join(f"  {e.location} '{e.id}': " + "; ".join(self.status[e.id].problems) for e in failing))
        self.dialects = dialects()
        if config.nav is not None and not expand_nav(config.nav, self.cat.families):
            raise PluginError("matref: the nav needs an entry `Reference: reference/index.md` to expand")
        return config

    def on_files(self, files: Files, config) -> Files:
        self._start_notebooks(files, config)  # first: they run in their kernels while the pages are generated
        t0 = time.perf_counter()
        pages = generated_pages(self.cat, self.status)
        try:
            fragments = code_fragments(self.cat.entries, self.dialects, SESSION.fragments if SESSION.serving else None,
                                       _derivations.derivations(self.cat, self.cache_dir))
        except (SnippetError, _derivations.DerivationDisagrees) as exc:
            raise PluginError(f"matref: {exc}") from exc
        self.pages, self.fragments, self.files = pages, fragments, files
        for uri, content in {**pages, **fragments}.items():
            if files.get_file_from_path(uri) is not None:
                raise PluginError(f"matref: docs/{uri} is generated from the catalogue; delete the file in docs/")
            files.append(File.generated(config, uri, content=content))
        log.info("matref: generated %d pages and %d code fragments from %d catalogue entries in %.2f s",
                 len(pages), len(fragments), len(self.cat.entries), time.perf_counter() - t0)
        try:
            dist = _katex.katex_dist(self.root)
        except _katex.KatexError as exc:
            raise PluginError(f"matref: {exc}") from exc
        assets = [dist / "katex.min.css", dist / "katex.min.js", dist / "contrib" / "auto-render.min.js"]
        assets += sorted((dist / "fonts").iterdir())
        for path in assets:
            files.append(File.generated(config, f"{_katex.ASSETS}/{path.relative_to(dist).as_posix()}",
                                        abs_src_path=str(path)))
        # Pages are converted in this order: notebooks last, so they have the longest head start.
        notebooks = [f for f in files if f.src_uri in self.notebooks]
        return Files([f for f in files if f not in notebooks] + notebooks) if notebooks else files

    def _start_notebooks(self, files: Files, config) -> None:
        plugin = config.plugins.get("mkdocs-jupyter")
        if plugin is None:
            return
        use_cache = _flag(config.extra.get("matref_notebook_cache"), True)
        code = code_digest()
        for f in files.documentation_pages():
            if f.src_uri.endswith(".ipynb") and plugin.should_include(f):
                run = _notebooks.start(Path(f.abs_src_path), self.cache_dir / "notebooks", code, use_cache=use_cache)
                self.notebooks[f.src_uri] = run
                # The notebook plugin (execute: false) renders the executed copy; the page keeps its URL.
                f.abs_src_path = str(run.dest)

    def on_nav(self, nav, config, files):
        self.nav = nav
        return nav

    def on_env(self, env, config, files):
        self.env = env
        return env

    def on_pre_page(self, page, config, files):
        run = self.notebooks.get(page.file.src_uri)
        if run is not None:
            try:
                run.wait()
            except Exception as exc:
                raise PluginError(f"matref: notebook {page.file.src_uri} failed: {type(exc).__name__}: {exc}") from exc
        return page

    # -- pages ---------------------------------------------------------------------------------

    def on_page_markdown(self, markdown: str, page, config, files) -> str:
        """Fill the markers hand-written pages leave for what the catalogue knows."""
        if FAMILIES_MARK in markdown or ENTRY_COUNT_MARK in markdown:
            families, count = self.marks[page.file.src_uri] = self._marks_for(page.url)
            markdown = markdown.replace(FAMILIES_MARK, families).replace(ENTRY_COUNT_MARK, count)
        return markdown.replace(FUNCTIONS_MARK, functions_table()).replace(OPERATORS_MARK, operators_table())

    def on_post_page(self, output: str, page, config) -> str:
        # Remember which source page each HTML file came from, for KaTeX error messages.
        self.sources[Path(page.file.abs_dest_path).resolve()] = page.file.src_uri
        worker = get_relative_url("javascripts/matref-search.js", page.url)
        output = _WORKER.sub(lambda m: f'"search": "{worker}?worker=../assets/javascripts/workers/{m.group(1)}"',
                             output, count=1)
        body = _BODY.search(output)
        if body is not None:
            output = output[:body.end()] + _EARLY_LAYOUT + output[body.end():]
        if not page.file.src_uri.endswith(".ipynb"):  # a notebook's own scripts expect Material's run first
            return _BLOCKING_SCRIPT.sub(r'<script defer src="\1"></script>', output)
        output = _MERMAID.sub("", _MATHJAX.sub("", output))
        rel = lambda p: get_relative_url(f"{_katex.ASSETS}/{p}", page.url)  # noqa: E731
        script = _NOTEBOOK_MATH.format(js=rel("katex.min.js"), auto=rel("contrib/auto-render.min.js"))
        return output.replace("</body>", script + "</body>", 1)

    def on_post_template(self, output: str, template_name: str, config) -> str:
        """The 404 page, like every other page: its scripts deferred."""
        return _BLOCKING_SCRIPT.sub(r'<script defer src="\1"></script>', output) if template_name.endswith(".html") \
            else output

    # -- math ----------------------------------------------------------------------------------

    def on_post_build(self, config) -> None:
        site = Path(config.site_dir)
        self._search_index(site)
        self._prerender(site)
        if SESSION.serving:  # the state a catalogue edit can update in place
            SESSION.last = self

    def _search_index(self, site: Path) -> None:
        import json

        path = site / "search" / "search_index.json"
        if path.is_file():
            index = _search.rewrite_index(json.loads(path.read_text(encoding="utf-8")), self.cat)
            path.write_text(json.dumps(index, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")

    def _prerender(self, site: Path, only: list[Path] | None = None) -> None:
        """Prerender the math of every built page (or of the pages in `only`, after an update)."""
        t0 = time.perf_counter()
        pages: dict[str, str] = {}
        paths: dict[str, Path] = {}
        for path in sorted(site.rglob("*.html")) if only is None else only:
            text = path.read_text(encoding="utf-8")
            if 'class="arithmatex"' in text:
                name = self.sources.get(path.resolve(), path.relative_to(site).as_posix())
                pages[name], paths[name] = text, path
        if not pages:
            return
        try:
            dist = _katex.katex_dist(self.root)
            version = _katex.katex_version(dist)
            use_cache = _flag(os.environ.get("MATREF_KATEX_CACHE"), True)
            cache = _katex.RenderCache.load(self.cache_dir if use_cache else None, version)
            done = _katex.prerender_pages(pages, lambda items: cache.render(items, lambda todo: _katex.render_batch(todo, dist)),
                                          version)
        except _katex.KatexError as exc:
            raise PluginError(f"matref: {exc}") from exc
        for w in done.warnings:
            log.warning("%s", w)
        if done.errors:
            raise PluginError(f"matref: KaTeX {version} cannot render {len(done.errors)} formula(s):\n"
                              + "\n".join(done.errors))
        cache.save()
        for name, text in done.pages.items():
            paths[name].write_text(text, encoding="utf-8")
        log.info("matref: prerendered %d distinct formulas on %d pages with KaTeX %s in %.2f s",
                 done.distinct, len(pages), version, time.perf_counter() - t0)


def _rebuild(full) -> None:
    """`mkdocs serve`'s builder: update the last build in place when only data changed, else `full()`."""
    last, SESSION.last = SESSION.last, None  # an update that fails half-way must not be built upon
    if last is not None:
        try:
            if last.update():
                SESSION.last = last
                return
        except Exception as exc:  # never worse than a full build, which reports real errors itself
            log.info("matref: in-place update failed (%s: %s); building the whole site", type(exc).__name__, exc)
    full()
