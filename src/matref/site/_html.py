"""Raw-HTML building blocks for generated rows: escaped text with arithmatex placeholders for math.

Rows are written as raw HTML (Markdown only where an entry's own notes need it), so converting a
page costs little and the math placeholders reach the KaTeX prerenderer untouched.
"""

from __future__ import annotations

import html
import re

_INLINE_MATH = re.compile(r"(\$[^$]+\$)")


def math_span(tex: str) -> str:
    """An inline arithmatex placeholder (prerendered by KaTeX after the build)."""
    return f'<span class="arithmatex">\\({html.escape(" ".join(tex.split()), quote=False)}\\)</span>'


def math_div(tex: str) -> str:
    """A display arithmatex placeholder."""
    body = " ".join(tex.split())
    return f'<div class="arithmatex">\\[{html.escape(body, quote=False)}\\]</div>'


def text_html(text: str) -> str:
    """Plain text with `$...$` math, as HTML."""
    parts = _INLINE_MATH.split(text)
    return "".join(math_span(p[1:-1]) if i % 2 else html.escape(p, quote=False) for i, p in enumerate(parts))
