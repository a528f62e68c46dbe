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
    """The fragment of one entry: per layout shown (one if layout-independent), per dialect, a block."""
    layouts = (entry.layout,) if entry.layout_independent else LAYOUTS
    blocks = []
    for layout in layouts:
        cls = "" if entry.layout_independent else f" {LAYOUT_CLASS[layout]}"
        for d in dialects:
            code = dialect_code(entry, d, layout)
            if code is None:
                continue
            blocks.append(
                f'<div class="matref-snippet{cls}" data-entry="{entry.id}" data-layout="{layout}" data-lang="{d.key}">'
                f'<div class="matref-snippet__bar"><span>{html.escape(d.label)} · {layout} layout</span>'
                f'<button type="button" class="matref-copy" title="Copy to clipboard">copy</button></div>'
                f'<div class="highlight"><pre><code>{highlight(code)}</code></pre></div></div>'
            )
    return "\n".join(blocks) + "\n"


def dialect_code(entry, d: Dialect, layout: str) -> str | None:
    """One dialect's code, with the entry named when the generator fails."""
    try:
        return d.make(entry, layout)
    except Exception as exc:
        raise SnippetError(
            f"cannot generate the {d.key} snippet of '{entry.id}' ({entry.location}) in {layout} layout: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
