"""Strict numerics for every test: float64, and no silent rank or dtype promotion, so a formula
cannot pass by broadcasting."""

import jax
import pytest

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_rank_promotion", "raise")
# No persistent compilation cache here: after a thousand or so compilations in one process, JAX
# 0.10's CPU executable (de)serialisation segfaulted (seen twice, at different tests). Each check
# is still compiled only once per process.

DECL_NN = r"x \in \mathbb{R}^{n}, A \in \mathbb{R}^{n \times n}"


@pytest.fixture(scope="session")
def catalogue():
    import matref
    return matref.load_catalogue()
