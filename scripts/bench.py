"""The numbers behind matref's performance targets, measured on this machine.

Run through `scripts/bench`. Each figure is a median over repeated runs (min-max in brackets).
"""

from __future__ import annotations

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
    print(f"matref check (warm compile cache): {summary(check_t)}")
    print(f"ratio: {ratio:.2f}x (target: within 2.5x)")
    cold = []
    for _ in range(3):
        with tempfile.TemporaryDirectory() as cache:
            cold.append(wall([MATREF, "check", QUAD, "--where", QUAD_WHERE], {**os.environ, "MATREF_CACHE_DIR": cache}))
    print(f"matref check (empty compile cache): {summary(cold)}; ratio {statistics.median(cold) / statistics.median(jax_t):.2f}x")
    print()


def per_identity() -> None:
    import matref
    from matref._check import clear_cache
    print("## Per-identity check cost, in process (4 draws; cold = parse + trace + compile, warm = again)")
    cat = matref.load_catalogue()
    cold, warm = [], []
    for e in cat.entries:
        clear_cache()
        t = time.perf_counter()
        matref.check(e.formula, e.where, e.layout)
        cold.append(time.perf_counter() - t)
        t = time.perf_counter()
        matref.check(e.formula, e.where, e.layout)
        warm.append(time.perf_counter() - t)
    cold.sort(), warm.sort()
    p90 = lambda xs: xs[int(0.9 * (len(xs) - 1))]  # noqa: E731
    print(f"{len(cold)} identities; cold: {summary(cold, 'ms', 1e3)}, p90 {p90(cold) * 1e3:.0f} ms")
    print(f"warm: {summary(warm, 'ms', 1e3)}, p90 {p90(warm) * 1e3:.2f} ms (target: under 20 ms)")
    print()


def catalogue() -> None:
    print("## Whole catalogue: `matref verify --snippets` (every entry in both layouts, errata, every snippet)")
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "MATREF_CACHE_DIR": cache}
        cold = wall([MATREF, "verify", "--snippets"], env)
        warm = wall([MATREF, "verify", "--snippets"], env)
        checks_only = wall([MATREF, "verify"], env)
    print(f"cold (empty JAX compilation cache): {cold:.1f} s")
    print(f"warm (cache from the previous run): {warm:.1f} s")
    print(f"checks only, warm: {checks_only:.1f} s")
    print()


def site() -> None:
    script = ROOT / "scripts" / "bench_site.py"
    if script.exists():
        print("## Site")
        sys.stdout.flush()
        subprocess.run([PY, str(script)], check=False, cwd=ROOT)


def main() -> None:
    quick = "--quick" in sys.argv
    print(f"# matref benchmark ({os.cpu_count()} cores, Python {sys.version.split()[0]})\n")
    startup()
    per_identity()
    if not quick:
        catalogue()
        site()


if __name__ == "__main__":
    main()
