"""KaTeX at build time: render TeX in one node process, swap the arithmatex placeholders in built HTML
for the rendered math, preload the fonts a page uses, and remember what was rendered.

The KaTeX is the one `package-lock.json` pins (in `node_modules/katex`); nothing of it is committed.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

RENDERER = Path(__file__).with_name("katex_render.mjs")
ASSETS = "assets/katex"  # where KaTeX's css/fonts/js land in the built site

Item = tuple[str, bool]  # (tex, display)


class KatexError(Exception):
    """KaTeX is missing, failed, or cannot render a formula; the message says which and where."""


def katex_dist(root: Path) -> Path:
    """`node_modules/katex/dist` under root, checked to be there."""
    dist = root / "node_modules" / "katex" / "dist"
    if not (dist / "katex.min.css").is_file():
        raise KatexError(f"KaTeX is not installed ({dist} is missing). Run scripts/setup, which runs "
                         "`npm ci` from package-lock.json.")
    return dist


def katex_version(dist: Path) -> str:
    """The installed KaTeX's version, from its package.json."""
    return json.loads((dist.parent / "package.json").read_text(encoding="utf-8"))["version"]


def render_batch(items: list[Item], dist: Path) -> tuple[str, list[dict]]:
    """Render (tex, display) pairs in one node process; returns (KaTeX version, one result per item).

    A result is `{"html": ...}` (maybe with `"warnings"`) or `{"error": ...}`.
    """
    node = shutil.which("node")
    if node is None:
        raise KatexError("node (20+) is needed to prerender the math; run scripts/setup")
    payload = json.dumps([{"tex": t, "display": d} for t, d in items])
    proc = subprocess.run([node, str(RENDERER), str(dist / "katex.mjs")], input=payload, capture_output=True,
                          text=True, encoding="utf-8")
    if proc.returncode != 0:
        raise KatexError(f"the KaTeX renderer failed (exit {proc.returncode}): {proc.stderr.strip()}")
    answer = json.loads(proc.stdout)
    if len(answer["results"]) != len(items):
        raise KatexError("the KaTeX renderer answered a different number of formulas")
    return answer["katex"], answer["results"]


@dataclass
class RenderCache:
    """Rendered formulas keyed by (KaTeX version, renderer, display, TeX), kept in one JSON file between builds.

    A formula is rendered once; a rebuild after a one-entry edit only sends KaTeX what is new. Errors
    are never cached, so a broken formula fails every build until it is fixed. The file is named after
    the KaTeX version and a hash of `katex_render.mjs`, whose options shape the HTML: a change to
    either renders everything afresh.
    """

    path: Path | None
    version: str
    results: dict[str, dict] = field(default_factory=dict)
    dirty: bool = False

    @classmethod
    def load(cls, directory: Path | None, version: str) -> "RenderCache":
        """The cache for this KaTeX version in directory (None: a cache that is never written)."""
        if directory is None:
            return cls(None, version)
        path = directory / f"katex-{version}-{digest(RENDERER.read_text(encoding='utf-8'))}.json"
        try:
            results = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            results = {}
        return cls(path, version, results)

    @staticmethod
    def key(item: Item) -> str:
        return ("D" if item[1] else "T") + item[0]

    def render(self, items: Iterable[Item], renderer: Callable[[list[Item]], tuple[str, list[dict]]]) -> list[dict]:
        """Results for items, asking the renderer only for those not seen before."""
        items = list(items)
        todo = [it for it in dict.fromkeys(items) if self.key(it) not in self.results]
        fresh: dict[str, dict] = {}
        if todo:
            version, answers = renderer(todo)
            if version != self.version:
                raise KatexError(f"KaTeX {version} answered, but node_modules says {self.version}: run scripts/setup")
            for it, res in zip(todo, answers):
                fresh[self.key(it)] = res
                if "error" not in res:
                    self.results[self.key(it)] = res
                    self.dirty = True
        return [self.results.get(self.key(it)) or fresh[self.key(it)] for it in items]

    def save(self) -> None:
        if self.path is None or not self.dirty:
            return
        save_json(self.path, self.results)
        self.dirty = False


def save_json(path: Path, data) -> None:
    """Write `data` as JSON atomically (a crash mid-write must not leave half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f)
    os.replace(tmp, path)


_ARITHMATEX = re.compile(r'<(span|div) class="arithmatex">(.*?)</\1>', re.DOTALL)
_DELIMS = {"span": (r"\(", r"\)"), "div": (r"\[", r"\]")}
_ENTRY = '<div class="matref-entry" data-entry="'
_ROW = 'data-entry="'


def tex_of(tag: str, inner: str) -> str:
    """The TeX inside one arithmatex placeholder, without its \\( \\) or \\[ \\] delimiters."""
    tex = html.unescape(inner).strip()
    left, right = _DELIMS[tag]
    if tex.startswith(left) and tex.endswith(right):
        tex = tex[len(left):-len(right)]
    return tex.strip()


def formulas_in(text: str) -> list[tuple[Item, int]]:
    """Every (tex, display) placeholder in a built page, with its offset."""
    return [((tex_of(m.group(1), m.group(2)), m.group(1) == "div"), m.start()) for m in _ARITHMATEX.finditer(text)]


def entry_at(text: str, pos: int) -> str:
    """' (entry <id>)' when the formula at pos sits inside a catalogue entry's block."""
    start = text.rfind(_ROW, 0, pos)
    if start < 0:
        return ""
    start += len(_ROW)
    return " (entry " + text[start:text.index('"', start)] + ")"


@dataclass
class Prerendered:
    """What prerendering a set of pages gave: the new texts, and KaTeX's complaints."""

    pages: dict[str, str]
    errors: list[str]
    warnings: list[str]
    distinct: int


def prerender_pages(pages: dict[str, str], render: Callable[[list[Item]], list[dict]], version: str) -> Prerendered:
    """Swap every arithmatex placeholder in pages (name -> HTML) for KaTeX's HTML.

    `render` maps (tex, display) items to KaTeX results (e.g. `RenderCache.render`). Errors name
    the pages and entries a formula appears on; pages with errors are left as they were.
    """
    where: dict[Item, list[str]] = {}
    for name, text in pages.items():
        for item, pos in formulas_in(text):
            where.setdefault(item, []).append(f"{name}{entry_at(text, pos)}")
    keys = list(where)
    results = render(keys) if keys else []
    rendered: dict[Item, str] = {}
    errors, warnings = [], []
    for key, res in zip(keys, results):
        pages_of = ", ".join(sorted(set(where[key])))
        if "error" in res:
            errors.append(f"  on {pages_of}:\n    TeX:   {key[0]}\n    error: {res['error']}")
            continue
        warnings += [f"KaTeX {version} (strict mode) on {pages_of}: {w} in {key[0]}" for w in res.get("warnings", ())]
        rendered[key] = res["html"]
    if errors:
        return Prerendered(dict(pages), errors, warnings, len(keys))

    out = {name: _swap_math(text, rendered) if 'class="arithmatex"' in text else text for name, text in pages.items()}
    return Prerendered(out, [], warnings, len(keys))


def _swap_math(text: str, rendered: dict[Item, str]) -> str:
    """One page with its placeholders replaced by KaTeX's HTML, its styles as the page's classes.

    A fragment (no <head>: an entry's code and derivation, fetched into its family page, which
    carries KaTeX's stylesheet) keeps KaTeX's inline styles: page classes would clash with the page's.
    """
    if "</head>" not in text:
        return _ARITHMATEX.sub(lambda m: f'<{m.group(1)} class="arithmatex">'
                               f'{rendered[(tex_of(m.group(1), m.group(2)), m.group(1) == "div")]}</{m.group(1)}>', text)
    styles = PageStyles()
    shown: list[str] = []

    def swap(m: re.Match) -> str:
        tag = m.group(1)
        math = rendered[(tex_of(tag, m.group(2)), tag == "div")]
        shown.append(math)
        return f'<{tag} class="arithmatex">{styles.move(math)}</{tag}>'

    return styles.into_head(preload_fonts(_ARITHMATEX.sub(swap, text), "".join(shown)))


class PageStyles:
    """KaTeX's inline styles turned into classes of one page.

    KaTeX writes each box's geometry as an inline style (`style="margin-right:0.2778em;"` on most of
    its spans): a quarter of a family page's bytes, yet only a few hundred distinct values per page.
    Each distinct style becomes a class (`k-` and a number; the first style on the page is `k-0`),
    defined once in a <style> in the page's head. The rules are `!important` because an inline style
    beats every rule of a stylesheet, and KaTeX's own rules (`.katex .rule { border: 0 solid }`) must
    lose to these as they lost to the inline styles.
    """

    _STYLED = re.compile(r'<span(?: class="([^"]*)")? style="([^"]*)"')

    def __init__(self) -> None:
        self.names: dict[str, str] = {}

    def move(self, math: str) -> str:
        """KaTeX HTML with each `style` attribute replaced by a class."""
        def classed(m: re.Match) -> str:
            name = self.names.setdefault(m.group(2), f"k-{len(self.names):x}")
            return f'<span class="{m.group(1)} {name}"' if m.group(1) else f'<span class="{name}"'
        return self._STYLED.sub(classed, math)

    def rules(self) -> str:
        out = []
        for style, name in self.names.items():
            decls = [d.strip() for d in html.unescape(style).split(";") if d.strip()]
            out.append(f".katex .{name}{{{';'.join(d + '!important' for d in decls)}}}")
        return "\n".join(out)

    def into_head(self, text: str) -> str:
        """text with the <style> of the classes handed out, just before </head>."""
        if not self.names:
            return text
        at = text.find("</head>")
        if at < 0:
            raise KatexError("a page with math has no </head> to hold its KaTeX styles")
        return f"{text[:at]}<style>\n{self.rules()}\n</style>{text[at:]}"


# Which KaTeX font a class in KaTeX's HTML pulls in (from katex.css). The browser only asks for a font
# once layout meets text that uses it, i.e. after the CSS has arrived and the page is laid out; on a
# cold load that puts the math one round trip after first paint. Preloading the fonts a page is known
# to use fetches them alongside the CSS instead. Only the two that nearly every formula uses, though:
# each preloaded font is fetched and decoded before the first paint, and on the largest page all
# seven it uses made the math visible 25-50 ms later than these two did (scripts/bench_site.py, two
# interleaved runs of 15 cold loads); the rarer ones (bold, AMS, big delimiters) arrive in time anyway.
PRELOADED = ("KaTeX_Main-Regular", "KaTeX_Math-Italic")
_FONT_MARKERS = (
    (re.compile(r'class="(?:mrel|mbin|mopen|mclose|mpunct|minner|mord)"'), "KaTeX_Main-Regular"),
    (re.compile(r'class="[^"]*\bmathnormal\b'), "KaTeX_Math-Italic"),
    (re.compile(r'class="[^"]*\b(?:mathbb|amsrm|textbb)\b'), "KaTeX_AMS-Regular"),
    (re.compile(r'class="[^"]*\bmathbf\b'), "KaTeX_Main-Bold"),
    (re.compile(r'class="[^"]*\bboldsymbol\b'), "KaTeX_Math-BoldItalic"),
    (re.compile(r'class="[^"]*\b(?:mathsf|textsf)\b'), "KaTeX_SansSerif-Regular"),
    (re.compile(r'class="[^"]*\bmathcal\b'), "KaTeX_Caligraphic-Regular"),
    (re.compile(r'class="[^"]*\bsmall-op\b|class="delimsizing size1"'), "KaTeX_Size1-Regular"),
    (re.compile(r'class="[^"]*\blarge-op\b|class="delimsizing size2"'), "KaTeX_Size2-Regular"),
    (re.compile(r'class="delimsizing size3"'), "KaTeX_Size3-Regular"),
    (re.compile(r'class="delimsizing size4"'), "KaTeX_Size4-Regular"),
)
_KATEX_CSS = re.compile(r'<link rel="stylesheet" href="([^"]*)assets/katex/katex\.min\.css">')


def preload_fonts(text: str, math: str) -> str:
    """Add <link rel=preload> for the PRELOADED KaTeX fonts `math` (the page's formulas as KaTeX
    wrote them) uses, right before KaTeX's CSS in the page `text`."""
    css = _KATEX_CSS.search(text)
    if css is None:
        return text
    prefix = css.group(1)
    links = "".join(
        f'<link rel="preload" href="{prefix}{ASSETS}/fonts/{font}.woff2" as="font" type="font/woff2" crossorigin>'
        for pattern, font in _FONT_MARKERS if font in PRELOADED and pattern.search(math)
    )
    return text[: css.start()] + links + text[css.start():]


def digest(text: str) -> str:
    """A short content hash (cache keys)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
