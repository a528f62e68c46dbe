"""The numbers behind matref's performance targets, measured on this machine.

Run through `scripts/bench`. Each figure is a median over repeated runs (min-max in brackets).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
MATREF = str(Path(PY).parent / "matref")
QUAD = r"\frac{\partial x^T A x}{\partial x} = (A + A^T) x"
QUAD_WHERE = r"x \in \mathbb{R}^{n}, A \in \mathbb{R}^{n \times n}"


def wall(cmd: list[str], env: dict | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start


def summary(xs: list[float], unit: str = "s", scale: float = 1.0) -> str:
    xs = [x * scale for x in xs]
    return f"{statistics.median(xs):.3g} {unit} ({min(xs):.3g}-{max(xs):.3g}, n={len(xs)})"


def startup(runs: int = 5) -> None:
    print("## A single `matref check` beside `python -c 'import jax'` (same run, alternating)")
    jax_t, check_t = [], []
    for _ in range(runs):
        jax_t.append(wall([PY, "-c", "import jax"]))
        check_t.append(wall([MATREF, "check", QUAD, "--where", QUAD_WHERE]))
    ratio = statistics.median(check_t) / statistics.median(jax_t)
    print(f"python -c 'import jax': {summary(jax_t)}")
    print(f"matref check: {summary(check_t)}")
    print(f"ratio: {ratio:.2f}x (target: within 1.5x)")
    print()


PER_IDENTITY = """
import statistics, sys, time
import matref
from matref._check import clear_cache
cold, warm, by_family = [], [], {}
for e in matref.load_catalogue().entries:
    clear_cache()
    t = time.perf_counter(); matref.check(e.formula, e.where, e.layout); cold.append(time.perf_counter() - t)
    by_family.setdefault(e.family, []).append(cold[-1])
    t = time.perf_counter(); matref.check(e.formula, e.where, e.layout); warm.append(time.perf_counter() - t)
for name, xs in (("cold", cold), ("warm", warm)):
    xs.sort()
    print(f"{name}: median {statistics.median(xs) * 1e3:.1f} ms, p90 {xs[int(0.9 * (len(xs) - 1))] * 1e3:.1f} ms"
          f" ({len(xs)} identities)")
# per family, so that a family whose checks cost more (decompositions run through JAX itself) shows
for family, xs in sorted(by_family.items()):
    print(f"cold, {family}: median {statistics.median(xs) * 1e3:.1f} ms, max {max(xs) * 1e3:.1f} ms ({len(xs)})")
"""


PER_FAMILY = """
import time
import matref
from matref._check import clear_cache
from matref._verify import verify_entry
for family in matref.load_catalogue().families:
    clear_cache()
    t = time.perf_counter()
    for e in family.entries:
        verify_entry(e)
    print(f"{family.name}: {time.perf_counter() - t:.1f} s for {len(family.entries)} entries (both layouts)")
"""


PER_DERIVATION = """
import statistics, time, tomllib
import matref
cases = tomllib.load(open("tests/derive_cases.toml", "rb"))["case"]
matref.derive(cases[0]["expression"], cases[0]["by"], cases[0]["where"])  # warm-up: imports, first compilations
times, derived = [], 0
for c in cases:
    t = time.perf_counter(); r = matref.derive(c["expression"], c["by"], c["where"]); times.append(time.perf_counter() - t)
    derived += r.holds
times.sort()
print(f"{statistics.median(times)} {times[int(0.9 * (len(times) - 1))]} {derived} {len(cases)}")
"""


def derivations() -> None:
    print("## `matref derive` per derivation, in process after one warm-up (tests/derive_cases.toml), "
          "beside `import jax`")
    jax_t = statistics.median(wall([PY, "-c", "import jax"]) for _ in range(3))
    median, p90, derived, total = _run(PER_DERIVATION, None).split()
    median, p90 = float(median), float(p90)
    print(f"python -c 'import jax': {jax_t:.2f} s (median of 3)")
    print(f"derive: median {median * 1e3:.0f} ms ({median / jax_t:.2f}x import jax), "
          f"p90 {p90 * 1e3:.0f} ms ({p90 / jax_t:.2f}x); {derived} of {total} derived, every step checked")
    print()


SHARE = """
import collections
from pathlib import Path
import matref
from matref.site._derivations import derivations
records = derivations(matref.load_catalogue(), Path(".cache/matref-site"))  # the site build's cache
count = collections.Counter(r["status"] for r in records.values())
print(f"{count['derived']} {len(records)}")
for why, n in collections.Counter(r["message"].split(" yet")[0][:70] for r in records.values()
                                  if r["status"] != "derived").most_common(4):
    print(f"{n}x {why}")
"""


def derivation_share() -> None:
    print("## Catalogue derivative identities whose row shows a derivation (derived, and agreeing with the entry)")
    sys.stdout.flush()
    first, *reasons = _run(SHARE, None).splitlines()
    shown, total = map(int, first.split())
    print(f"{shown} of {total} ({shown / total:.0%}; aim 80%); most common reasons derive stops:")
    for line in reasons:
        print(f"  {line}")
    print()


def _run(code: str, src: Path | None) -> str:
    env = {**os.environ, **({"PYTHONPATH": str(src)} if src else {})}
    return subprocess.run([PY, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT).stdout.strip()


def per_identity(before: Path | None) -> None:
    print("## Per-identity check cost, in process (cold = parse + first evaluation, warm = again)")
    for label, src in (("before", before), ("now", None)) if before else (("now", None),):
        for line in _run(PER_IDENTITY, src).splitlines():
            print(f"{label} {line}")
    print()


def per_family() -> None:
    print("## Check cost per family, in process (what `matref verify --family F` spends on checks)")
    for line in _run(PER_FAMILY, None).splitlines():
        print(line)
    print()


def catalogue(before: Path | None) -> None:
    print("## Whole catalogue: `matref verify` (every entry in both layouts, errata) beside `import jax`, same run")
    jax_t = statistics.median(wall([PY, "-c", "import jax"]) for _ in range(3))
    print(f"python -c 'import jax': {jax_t:.2f} s (median of 3)")

    def line(label: str, seconds: float) -> None:
        print(f"{label}: {seconds:.1f} s ({seconds / jax_t:.0f}x import jax)")

    cmd = [PY, "-m", "matref.cli", "verify"]
    if before:  # a revision from before `--jobs` and recorded verdicts: its one way of running
        line("before, checks (one process)", wall(cmd, {**os.environ, "PYTHONPATH": str(before)}))
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "MATREF_CACHE_DIR": cache}  # no record of an earlier run: cold
        line("now, checks, one process (-j 1), nothing reused", wall([*cmd, "-j", "1", "--no-cache"], env))
        line(f"now, checks and snippets, cold ({os.cpu_count()} processes, nothing recorded yet)",
             wall([*cmd, "--snippets"], env))
        line("now, checks and snippets, warm (each identical verification's record reused)",
             wall([*cmd, "--snippets"], env))
    print()


def suite() -> None:
    print("## The whole test suite (`scripts/test`, what CI runs)")
    sys.stdout.flush()
    seconds = wall([str(ROOT / "scripts" / "test"), "-q"])
    print(f"scripts/test: {seconds:.0f} s ({seconds / 60:.1f} min)")
    print()


@contextlib.contextmanager
def revision(rev: str | None):
    """A checkout of `rev` (for before/after numbers in the same run), removed afterwards."""
    if not rev:
        yield None
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "before"
        subprocess.run(["git", "worktree", "add", "--detach", str(path), rev], cwd=ROOT, check=True,
                       capture_output=True)
        try:
            yield path / "src"
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(path)], cwd=ROOT, capture_output=True)


def site() -> None:
    script = ROOT / "scripts" / "bench_site.py"
    if script.exists():
        print("## Site")
        sys.stdout.flush()
        subprocess.run([PY, str(script)], check=False, cwd=ROOT)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="skip the whole-catalogue and site runs")
    parser.add_argument("--before", metavar="REV", help="also measure git revision REV, in the same run")
    parser.add_argument("--suite", action="store_true", help="also time the whole test suite (many minutes)")
    args = parser.parse_args()
    print(f"# matref benchmark ({os.cpu_count()} cores, Python {sys.version.split()[0]})\n")
    startup()
    with revision(args.before) as before:
        per_identity(before)
        derivations()
        derivation_share()
        if not args.quick:
            per_family()
            catalogue(before)
    if not args.quick:
        site()
    if args.suite:
        suite()


if __name__ == "__main__":
    main()
