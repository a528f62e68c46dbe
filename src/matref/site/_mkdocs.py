"""The MkDocs glue: one `SiteBuild` per build, its methods are the MkDocs events.

`docs/_hooks/matref_site.py` creates one and hands MkDocs its methods. Everything the build needs to
remember between events lives on that object; everything that outlives a build (rendered formulas,
executed notebooks) lives on disk under `.cache/matref-site/`, because `mkdocs serve` reloads the hook,
and with it any state, on every rebuild.
"""

from __future__ import annotations

import logging
import os
import re
import time
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files
from mkdocs.utils import get_relative_url

from . import _katex, _notebooks, _search
from ._code import SnippetError
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

    # -- configuration and files ---------------------------------------------------------------

    def on_config(self, config):
        import matref

        # `mkdocs serve` rebuilds in the same process: drop the cached catalogue so edits show up.
        matref.load_catalogue.cache_clear()
        try:
            self.cat = matref.load_catalogue()
        except Exception as exc:  # a catalogue error is the build's error, stated plainly
            raise PluginError(f"matref: cannot load the catalogue: {exc}") from exc
        self.dialects = dialects()
        if config.nav is not None and not expand_nav(config.nav, self.cat.families):
            raise PluginError("matref: the nav needs an entry `Reference: reference/index.md` to expand")
        return config

    def on_files(self, files: Files, config) -> Files:
        self._start_notebooks(files, config)  # first: they run in their kernels while the pages are generated
        t0 = time.perf_counter()
        pages = generated_pages(self.cat)
        try:
            fragments = code_fragments(self.cat.entries, self.dialects)
        except SnippetError as exc:
            raise PluginError(f"matref: {exc}") from exc
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
        code = _notebooks.code_digest(Path(__file__).resolve().parents[1])
        for f in files.documentation_pages():
            if f.src_uri.endswith(".ipynb") and plugin.should_include(f):
                run = _notebooks.start(Path(f.abs_src_path), self.cache_dir / "notebooks", code, use_cache=use_cache)
                self.notebooks[f.src_uri] = run
                # The notebook plugin (execute: false) renders the executed copy; the page keeps its URL.
                f.abs_src_path = str(run.dest)

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
        if FAMILIES_MARK in markdown:
            base = "../" * page.url.count("/")  # from the page's URL to the site root
            markdown = markdown.replace(FAMILIES_MARK, home_families(self.cat, base))
        if ENTRY_COUNT_MARK in markdown:
            markdown = markdown.replace(ENTRY_COUNT_MARK, str(len(self.cat.entries)))
        return markdown

    def on_post_page(self, output: str, page, config) -> str:
        # Remember which source page each HTML file came from, for KaTeX error messages.
        self.sources[Path(page.file.abs_dest_path).resolve()] = page.file.src_uri
        worker = get_relative_url("javascripts/matref-search.js", page.url)
        output = _WORKER.sub(lambda m: f'"search": "{worker}?worker=../assets/javascripts/workers/{m.group(1)}"',
                             output, count=1)
        body = _BODY.search(output)
        if body is not None:
            output = output[:body.end()] + _EARLY_LAYOUT + output[body.end():]
        if not page.file.src_uri.endswith(".ipynb"):
            return output
        output = _MERMAID.sub("", _MATHJAX.sub("", output))
        rel = lambda p: get_relative_url(f"{_katex.ASSETS}/{p}", page.url)  # noqa: E731
        script = _NOTEBOOK_MATH.format(js=rel("katex.min.js"), auto=rel("contrib/auto-render.min.js"))
        return output.replace("</body>", script + "</body>", 1)

    # -- math ----------------------------------------------------------------------------------

    def on_post_build(self, config) -> None:
        site = Path(config.site_dir)
        self._search_index(site)
        self._prerender(site)

    def _search_index(self, site: Path) -> None:
        import json

        path = site / "search" / "search_index.json"
        if path.is_file():
            index = _search.rewrite_index(json.loads(path.read_text(encoding="utf-8")), self.cat)
            path.write_text(json.dumps(index, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")

    def _prerender(self, site: Path) -> None:
        t0 = time.perf_counter()
        pages: dict[str, str] = {}
        paths: dict[str, Path] = {}
        for path in sorted(site.rglob("*.html")):
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
