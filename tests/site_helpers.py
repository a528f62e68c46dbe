"""Helpers for the site tests and scripts/bench_site.py: build, serve, render math, drive Chromium.

Kept free of pytest so the benchmark can use them too.
"""

from __future__ import annotations

import contextlib
import functools
import html
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
LAYOUT_LABELS = {"denominator": "Denominator layout", "numerator": "Numerator layout"}


def build_env(*, notebook_cache: bool = False) -> dict[str, str]:
    env = dict(os.environ)
    env["NO_MKDOCS_2_WARNING"] = "1"  # Material's end-of-life banner is not a build problem
    env["MATREF_NOTEBOOK_CACHE"] = "true" if notebook_cache else "false"
    env["MATREF_KATEX_CACHE"] = "true" if notebook_cache else "false"  # a test build renders every formula afresh
    env.setdefault("JAX_PLATFORMS", "cpu")
    # The suite already runs one pytest worker per core: a build's own derivation workers would
    # only compete with the other pytest worker for the same cores.
    env.setdefault("MATREF_JOBS", "1")
    return env


def build_site(dest: Path, *, notebook_cache: bool = False) -> tuple[subprocess.CompletedProcess, float]:
    """`mkdocs build --strict` into dest; returns the finished process and the wall time."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(dest)],
        cwd=ROOT,
        env=build_env(notebook_cache=notebook_cache),
        capture_output=True,
        text=True,
    )
    return proc, time.perf_counter() - t0


def mkdocs_warnings(output: str) -> list[str]:
    """MkDocs' own WARNING/ERROR lines (not the notebook kernel's chatter on stderr)."""
    return [line for line in output.splitlines() if re.match(r"^(WARNING|ERROR)\s+-", line)]


def render_katex(items: list[tuple[str, bool]]) -> tuple[str, list[dict]]:
    """Render (tex, display) pairs with the pinned KaTeX in one node process (no cache)."""
    from matref.site import render_batch
    from matref.site._katex import katex_dist

    return render_batch(items, katex_dist(ROOT))


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A browser that closes a tab mid-download is not an error worth a traceback.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@contextlib.contextmanager
def serve(directory: Path) -> Iterator[str]:
    """Serve a directory on 127.0.0.1 (random port) from a thread; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = _Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="site-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def launch_chromium(playwright):
    """Debian's chromium through Playwright; never a downloaded browser."""
    if not Path(CHROMIUM).exists():
        raise FileNotFoundError(
            f"{CHROMIUM} is missing: run scripts/setup, which installs Debian's chromium for the browser tests"
        )
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


def page_urls(site: Path) -> list[str]:
    """Site-relative URLs of every HTML page (directory URLs as MkDocs writes them); code fragments are
    parts of pages, fetched by the page that shows them, so they are not listed."""
    urls = []
    for path in sorted(site.rglob("*.html")):
        rel = path.relative_to(site).as_posix()
        if rel.startswith("reference/_code/"):
            continue
        urls.append(rel[: -len("index.html")] if rel.endswith("index.html") else rel)
    return urls


_SNIPPET = re.compile(
    r'<div class="[^"]*\bmatref-snippet\b[^"]*" data-entry="([^"]+)" '
    r'data-layout="([^"]+)" data-lang="([^"]+)"[^>]*>.*?<pre>.*?<code>(.*?)</code></pre>',
    re.DOTALL,
)


def snippets_in_html(text: str) -> list[tuple[str, str, str, str]]:
    """(entry id, layout, lang, code text) for every snippet block in built HTML (a code fragment)."""
    return [(m[0], m[1], m[2], html.unescape(re.sub(r"<[^>]+>", "", m[3]))) for m in _SNIPPET.findall(text)]


def copy_checkout(source: Path, dest: Path, *, caches: bool = True) -> Path:
    """A copy of the checkout at source in dest (node_modules linked, not copied) to edit freely.

    With caches, the site's caches come along (rendered formulas, executed notebooks, verdicts), as
    a checkout that has been built before has them.
    """
    top = {".git", ".venv", "node_modules", "site", ".pytest_cache", ".cache"}  # src/matref/site is code
    shutil.copytree(source, dest, symlinks=True, ignore=lambda d, names: [
        n for n in names if n == "__pycache__" or (Path(d) == source and n in top)])
    os.symlink(ROOT / "node_modules", dest / "node_modules")
    if caches and (source / ".cache" / "matref-site").is_dir():
        shutil.copytree(source / ".cache" / "matref-site", dest / ".cache" / "matref-site")
    return dest


def fetch(url: str) -> str | None:
    """The text at url, None when nothing answers there (yet)."""
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.read().decode("utf-8")
    except OSError:
        return None


def wait_for(url: str, test, timeout: float, *, alive=lambda: True) -> str | None:
    """Poll url every 20 ms until test(text) holds; that text, or None on timeout or once not alive()."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout and alive():
        text = fetch(url)
        if text is not None and test(text):
            return text
        time.sleep(0.02)
    return None


@contextlib.contextmanager
def mkdocs_serve(repo: Path, *args: str) -> Iterator[tuple[str, Path, subprocess.Popen]]:
    """`mkdocs serve` in repo (its own src/ on the path) on a free port; yields (base URL, log, process)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**build_env(notebook_cache=True), "PYTHONPATH": str(repo / "src")}
    log = repo / "serve.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "mkdocs", "serve", "-a", f"127.0.0.1:{port}", *args],
                                cwd=repo, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            yield f"http://127.0.0.1:{port}/", log, proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
