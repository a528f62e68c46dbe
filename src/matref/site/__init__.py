"""The matref site, built from the catalogue: reference pages, errata, pitfalls, study note and coverage
pages (Markdown), KaTeX prerendered into the built HTML, executed worked examples.

Everything here is a function of the catalogue (plus KaTeX from `node_modules` for the math); the
MkDocs glue is `matref.site._mkdocs`, used by the thin hook `docs/_hooks/matref_site.py`. Nothing
here needs MkDocs except that glue, so `matref.site` imports without the docs extras.
"""

from ._conventions import FUNCTIONS_MARK as FUNCTIONS_MARK
from ._conventions import functions_table as functions_table
from ._conventions import OPERATORS_MARK as OPERATORS_MARK
from ._conventions import operators_table as operators_table
from ._dialects import Dialect as Dialect
from ._dialects import dialects as dialects
from ._katex import KatexError as KatexError
from ._katex import RenderCache as RenderCache
from ._katex import prerender_pages as prerender_pages
from ._katex import render_batch as render_batch
from ._pages import expand_nav as expand_nav
from ._pages import code_fragments as code_fragments
from ._pages import generated_pages as generated_pages

__all__ = ["Dialect", "dialects", "KatexError", "RenderCache", "prerender_pages", "render_batch", "expand_nav",
           "generated_pages", "code_fragments", "FUNCTIONS_MARK", "functions_table",
           "OPERATORS_MARK", "operators_table"]
