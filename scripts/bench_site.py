"""Benchmark the site: build time, and how soon the math on the largest reference page is visible.

Run with the project's venv (scripts/bench calls it): `.venv/bin/python scripts/bench_site.py [--runs N]`.

- `mkdocs build --strict` wall time, median of 3: with the notebook cache off (what CI pays,
  notebooks executed) and with a warm cache (an edit-and-rebuild); and once with no cache at all, in
  a fresh worktree of HEAD (a fresh clone's first build or `scripts/serve`: every derivation derived).
- On the largest generated reference page, served from 127.0.0.1, in headless Chromium with a
  fresh browser context (empty cache) per load: first contentful paint, the time the last KaTeX
  font arrived, and "math visible" = the later of the two (the math is prerendered HTML, so it is
  painted at FCP once its fonts are there). Median of N cold loads after one warm-up.
- That page's HTML size, raw and gzipped.
- The layout switch on that page: from the click to the next frame after the forced style and layout,
  the first after a load and the median of the 9 after it (each the median of 3 loads), as is and
  with the CPU throttled 4x through CDP (a phone's CPU).
- The edit loop of `mkdocs serve` (what `scripts/serve` runs): in a copy of the checkout (the
  caches copied too, as after a first serve), save a new form of one entry's formula and time until
  the served page holds it; median of 5 edits. Then the time until its background check is shown.

`--site DIR ...` measures sites already built (e.g. one per revision, built in the same session)
instead of building one: no build times then, and the page numbers of each site one after the other.
"""

from __future__ import annotations

import argparse
import gzip
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from site_helpers import (  # noqa: E402
    ROOT,
    build_env,
    build_site,
    copy_checkout,
    launch_chromium,
    mkdocs_serve,
    mkdocs_warnings,
    serve,
    wait_for,
)

TIMING_JS = """async () => {
  await document.fonts.ready;
  // On a busy machine `load` can come before the first paint: wait for it rather than miss it.
  const fcp = await new Promise(resolve => new PerformanceObserver((list, observer) => {
    const entry = list.getEntriesByName("first-contentful-paint")[0];
    if (entry) { observer.disconnect(); resolve(entry); }
  }).observe({type: "paint", buffered: true}));
  const fonts = performance.getEntriesByType("resource").filter(r => /KaTeX_.*\\.woff2?$/.test(r.name));
  return {
    fcp: fcp.startTime,
    fonts: fonts.length ? Math.max(...fonts.map(r => r.responseEnd)) : 0,
    katex: document.querySelectorAll(".katex").length,
  };
}"""


def first_build() -> float:
    """One strict build in a fresh worktree of HEAD, with none of the checkout's caches."""
    import subprocess

    with tempfile.TemporaryDirectory(prefix="matref-bench-clone-") as tmp:
        clone = Path(tmp) / "clone"
        subprocess.run(["git", "worktree", "add", "--detach", str(clone), "HEAD"], cwd=ROOT, check=True,
                       capture_output=True)
        try:
            (clone / "node_modules").symlink_to(ROOT / "node_modules")  # KaTeX, as set-up installed it
            env = {**build_env(), "PYTHONPATH": str(clone / "src")}
            env.pop("MATREF_JOBS")  # the tests' one-process setting: a contributor's build uses every core
            start = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir",
                                   str(Path(tmp) / "site")], cwd=clone, env=env, capture_output=True, text=True)
            seconds = time.perf_counter() - start
            if proc.returncode != 0:
                sys.exit(f"mkdocs build --strict failed in a fresh worktree:\n{proc.stdout}{proc.stderr}")
            return seconds
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(clone)], cwd=ROOT, capture_output=True)


def median_build(site: Path, *, notebook_cache: bool, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        proc, seconds = build_site(site, notebook_cache=notebook_cache)
        if proc.returncode != 0 or mkdocs_warnings(proc.stdout + proc.stderr):
            sys.exit(f"mkdocs build --strict failed:\n{proc.stdout}{proc.stderr}")
        times.append(seconds)
    return statistics.median(times)


def largest_reference_page(site: Path) -> Path:
    pages = [p for p in (site / "reference").glob("*/index.html")]
    if not pages:
        sys.exit("no generated reference page found")
    return max(pages, key=lambda p: p.stat().st_size)


def math_visible(site: Path, page: Path, runs: int) -> list[dict]:
    from playwright.sync_api import sync_playwright

    rel = page.parent.relative_to(site).as_posix() + "/"
    results = []
    with serve(site) as base, sync_playwright() as p:
        browser = launch_chromium(p)
        for i in range(runs + 1):  # the first load warms the server and the OS cache, not the browser's
            context = browser.new_context()
            tab = context.new_page()
            tab.goto(base + rel, wait_until="load")
            timing = tab.evaluate(TIMING_JS)
            context.close()
            if i:
                results.append(timing)
        browser.close()
    return results


SWITCH_JS = """async () => {
  const radios = [...document.querySelectorAll('.matref-switch input')].slice(0, 2);
  const times = [];
  for (let i = 0; i < 10; i++) {
    const t0 = performance.now();
    radios[(i + 1) % 2].click();
    document.body.offsetHeight;  // force the style recalculation and layout the switch causes
    await new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)));
    times.push(performance.now() - t0);
  }
  // The first switch builds the other layout's formulas; the later ones may re-use what it built.
  const later = times.slice(1).sort((a, b) => a - b);
  return [times[0], later[Math.floor(later.length / 2)]];
}"""


def switch_cost(site: Path, page: Path, loads: int = 3) -> tuple[float, float, float, float]:
    """ms per layout switch on page, as is and with the CPU throttled 4x: (first, later) for each.

    "first" is the first switch after a load (median over `loads` loads), "later" the median of the
    9 switches after it (median over the loads).
    """
    from playwright.sync_api import sync_playwright

    rel = page.parent.relative_to(site).as_posix() + "/"
    out = []
    with serve(site) as base, sync_playwright() as p:
        browser = launch_chromium(p)
        for rate in (1, 4):
            runs = []
            for _ in range(loads):
                context = browser.new_context(viewport={"width": 1366, "height": 768})
                tab = context.new_page()
                tab.goto(base + rel, wait_until="load")
                cdp = context.new_cdp_session(tab)
                cdp.send("Emulation.setCPUThrottlingRate", {"rate": rate})
                runs.append(tab.evaluate(SWITCH_JS))
                context.close()
            out += [statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)]
        browser.close()
    return tuple(out)


# The entry edited: `n tr(A) = tr(n A^T)` holds for every n, so each edit is a new formula (rendered,
# highlighted and checked afresh) that still holds.
EDITED = re.compile(r"^formula = '\\operatorname\{tr\}\(A\) = \\operatorname\{tr\}\(A\^T\)'$", re.MULTILINE)


def serve_edit_loop(source: Path, edits: int = 5) -> tuple[list[float], list[float]]:
    """Seconds from saving an entry's new formula to the page served with it, and to its check shown.

    Works on a copy of `source` (the checkout itself is never edited), with its caches copied so
    the first build is what a second `scripts/serve` pays.
    """
    with tempfile.TemporaryDirectory(prefix="matref-bench-serve-") as tmp:
        repo = copy_checkout(source, Path(tmp) / "repo")
        toml = repo / "src" / "matref" / "catalogue" / "traces.toml"
        original = toml.read_text(encoding="utf-8")
        if not EDITED.search(original):
            sys.exit("serve edit loop: the entry trace-transpose is not where the benchmark expects it")
        shown, checked = [], []
        with mkdocs_serve(repo) as (base, log, proc):
            page = base + "reference/traces/"
            try:
                if wait_for(page, lambda t: "trace-transpose" in t, 600, alive=lambda: proc.poll() is None) is None:
                    sys.exit(f"serve edit loop: the server never served {page}:\n{log.read_text()}")
                time.sleep(2)  # let the first build's watcher settle
                for n in range(2, 2 + edits):
                    tex = rf"\operatorname{{tr}}({n} A^T)"
                    text = EDITED.sub(lambda m: rf"formula = '{n} \operatorname{{tr}}(A) = {tex}'", original)
                    t0 = time.perf_counter()
                    toml.write_text(text, encoding="utf-8")
                    if wait_for(page, lambda t: tex in t, 120) is None:
                        sys.exit(f"serve edit loop: edit {n} never showed:\n{log.read_text()}")
                    shown.append(time.perf_counter() - t0)
                    if wait_for(page, lambda t: tex in t and "checking…" not in t, 120) is not None:
                        checked.append(time.perf_counter() - t0)
                    time.sleep(1)
            finally:
                if os.environ.get("MATREF_BENCH_VERBOSE"):  # what each rebuild did, for a surprising number
                    print(log.read_text(), file=sys.stderr)
    return shown, checked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="cold page loads to take the median of")
    parser.add_argument("--site", type=Path, nargs="+", metavar="DIR",
                        help="measure these built sites' pages instead of building one")
    parser.add_argument("--serve-only", action="store_true", help="only the `mkdocs serve` edit loop")
    parser.add_argument("--serve-source", type=Path, default=ROOT, metavar="DIR",
                        help="the checkout whose edit loop to measure (default: this one)")
    args = parser.parse_args()

    if args.site:
        for site in args.site:
            print(f"site: {site}")
            measure_pages(site, args.runs)
        return

    shown, checked = serve_edit_loop(args.serve_source.resolve())
    print(f"site: mkdocs serve, save of one entry's formula to the page served with it: median "
          f"{statistics.median(shown):.2f} s (each: {', '.join(f'{x:.2f}' for x in shown)}; target <= 2 s)")
    if checked:
        print(f"site: ... and to its background check's result on the page: median {statistics.median(checked):.2f} s "
              f"(n={len(checked)})")
    if args.serve_only:
        return

    print(f"site: mkdocs build --strict in a fresh worktree, no caches (every derivation derived, on "
          f"{os.cpu_count()} cores): {first_build():.1f} s")
    with tempfile.TemporaryDirectory(prefix="matref-bench-site-") as tmp:
        site = Path(tmp) / "site"
        cold = median_build(site, notebook_cache=False)
        median_build(site, notebook_cache=True, runs=1)  # fill the notebook cache
        warm = median_build(site, notebook_cache=True)
        print(f"site: mkdocs build --strict, median of 3: {cold:.2f} s (notebooks executed), "
              f"{warm:.2f} s (notebook cache warm)")
        measure_pages(site, args.runs)


def measure_pages(site: Path, runs: int) -> None:
    """Math visible, page weight and switch cost on site's largest reference page; the index's weight."""
    page = largest_reference_page(site)
    raw = page.read_bytes()
    timings = math_visible(site, page, runs)
    fcp = statistics.median(t["fcp"] for t in timings)
    fonts = statistics.median(t["fonts"] for t in timings)
    visible = statistics.median(max(t["fcp"], t["fonts"]) for t in timings)
    lo = min(max(t["fcp"], t["fonts"]) for t in timings)
    hi = max(max(t["fcp"], t["fonts"]) for t in timings)
    name = page.parent.relative_to(site).as_posix()
    print(f"site: largest reference page {name}/ ({timings[0]['katex']} formulas): math visible "
          f"{visible:.0f} ms (range {lo:.0f}-{hi:.0f}; FCP {fcp:.0f} ms, KaTeX fonts in {fonts:.0f} ms), "
          f"median of {len(timings)} cold loads in headless Chromium")
    print(f"site: that page's HTML: {len(raw) / 1024:.0f} KB raw, "
          f"{len(gzip.compress(raw, compresslevel=6)) / 1024:.1f} KB gzipped (target <= 400 KB raw)")
    index = site / "reference" / "index.html"
    print(f"site: the Reference index: {index.stat().st_size / 1024:.0f} KB raw")
    first, later, first4, later4 = switch_cost(site, page)
    print(f"site: layout switch on {name}/: {later:.1f} ms (target <= 50; the first one after a load "
          f"{first:.1f} ms), {later4:.1f} ms with 4x CPU throttling (target <= 200; first {first4:.1f} ms), "
          "medians in headless Chromium")


if __name__ == "__main__":
    main()
