"""Code fragments: one small HTML file per entry with its snippets in every dialect and layout.

A family page links each row to its fragment and `layouts.js` fetches it when the row is opened, so
the scripts (most of a page's weight when inlined) cost nothing until someone wants them. The text
in a fragment is exactly what the dialect generates, which is what the test harness runs.
"""

from __future__ import annotations

import html

from ._dialects import Dialect
from ._reference import LAYOUT_CLASS, LAYOUTS


class SnippetError(Exception):
    """A snippet generator failed; the message names the entry, the dialect and the layout."""


def highlight(code: str) -> str:
    """Python highlighted with the token classes Material's stylesheet colours."""
    from pygments import highlight as pyg
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import PythonLexer

    return pyg(code, PythonLexer(), HtmlFormatter(nowrap=True))


def code_fragment(entry, dialects: tuple[Dialect, ...]) -> str:
    """The fragment of one entry: per layout shown (one if layout-independent), a tab per dialect.

    The tabs are plain buttons and every panel is in the HTML unhidden: `matref.js` shows one panel
    per group (the reader's last choice of dialect, else the first tab) as soon as the fragment is
    inserted, and the fragment opened on its own, without the script, shows every dialect.
    """
    layouts = (entry.layout,) if entry.layout_independent else LAYOUTS
    groups = []
    for layout in layouts:
        cls = "" if entry.layout_independent else f" {LAYOUT_CLASS[layout]}"
        tabs, panels = [], []
        for d in dialects:
            code = dialect_code(entry, d, layout)
            if code is None:
                continue
            label = html.escape(d.label)
            tabs.append(f'<button type="button" role="tab" class="matref-tab" data-lang="{d.name}">{label}</button>')
            panels.append(
                f'<div class="matref-snippet" data-entry="{entry.id}" data-layout="{layout}" data-lang="{d.name}" role="tabpanel">'
                f'<div class="matref-snippet__bar"><span>{label} · {layout} layout</span>'
                f'<button type="button" class="matref-copy" title="Copy to clipboard">copy</button></div>'
                f'<div class="highlight"><pre><code>{highlight(code)}</code></pre></div></div>'
            )
        if panels:
            groups.append(f'<div class="matref-snippets{cls}" data-layout="{layout}">'
                          f'<div class="matref-tabs" role="tablist">{"".join(tabs)}</div>\n'
                          + "\n".join(panels) + "\n</div>")
    return "\n".join(groups) + "\n"


def dialect_code(entry, d: Dialect, layout: str) -> str | None:
    """One dialect's code, with the entry named when the generator fails."""
    try:
        return d.snippet(entry, layout)
    except Exception as exc:
        raise SnippetError(
            f"cannot generate the {d.name} snippet of '{entry.id}' ({entry.location}) in {layout} layout: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
