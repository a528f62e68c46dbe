"""Strict numerics for every test: float64, and no silent rank or dtype promotion, so a formula
cannot pass by broadcasting."""

import jax
import pytest

from matref._numeric import enable_compilation_cache

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_rank_promotion", "raise")
enable_compilation_cache()

DECL_NN = r"x \in \mathbb{R}^{n}, A \in \mathbb{R}^{n \times n}"


@pytest.fixture(scope="session")
def catalogue():
    import matref
    return matref.load_catalogue()
