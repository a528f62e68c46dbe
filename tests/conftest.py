"""Strict numerics for every test: float64, and no silent rank or dtype promotion, so a formula
cannot pass by broadcasting."""

import jax
import pytest

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_rank_promotion", "raise")
# What XLA still compiles (the JAX snippets run with XLA itself, in one test); see
# matref._numeric.compile_quickly.
from matref._numeric import compile_quickly  # noqa: E402

compile_quickly()

DECL_NN = r"x \in \mathbb{R}^{n}, A \in \mathbb{R}^{n \times n}"


@pytest.fixture(autouse=True, scope="session")
def _no_recorded_verdicts(tmp_path_factory):
    """`matref verify` run by a test records its verdicts in a directory of this session, never reads
    the user's: a test that reused a record of an earlier run would test nothing."""
    mp = pytest.MonkeyPatch()
    mp.setenv("MATREF_CACHE_DIR", str(tmp_path_factory.mktemp("verdicts")))
    yield
    mp.undo()


@pytest.fixture(autouse=True, scope="module")
def _release_compiled_code():
    """Free compiled programs between test modules: each holds memory mappings, and a process that
    accumulates a few thousand hits the kernel's limit (XLA then aborts)."""
    yield
    from matref._check import clear_cache
    clear_cache()
    jax.clear_caches()


@pytest.fixture(scope="session")
def catalogue():
    import matref
    return matref.load_catalogue()


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """(site directory, build output) of one strict build for the whole session. It also fills the
    checkout's site caches (derivations above all, minutes of work), which the `mkdocs serve` test
    copies: so that test asks for this fixture, to run after the build instead of repeating it."""
    from site_helpers import build_site

    site = tmp_path_factory.mktemp("site")
    proc, _ = build_site(site)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{output}"
    return site, output
