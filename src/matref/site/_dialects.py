"""The snippet dialects the site shows, in one place.

Today they are the two functions `matref.snippets` offers; when `matref.snippets` grows a registry of
dialects, this is the only place that changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Dialect:
    """One kind of snippet: its key (also the `data-lang` of its code block), its tab label, its generator.

    `make(entry, layout)` returns the code, or None when the dialect has no form for the entry.
    """

    key: str
    label: str
    make: Callable[[object, str], str | None]


def dialects() -> tuple[Dialect, ...]:
    """The dialects in the order the site shows them."""
    from matref import snippets

    return (
        Dialect("jax", "JAX check", snippets.jax_snippet),
        Dialect("numpy", "NumPy", snippets.numpy_snippet),
    )
