"""The snippet dialects the site shows: `matref.snippets.DIALECTS`, in the order of the tabs.

The registry is the one list of dialects (the CLI, `matref verify --snippets` and the tests use it
too), so a new dialect gets its tab with no change here. The site only chooses the order: the
function to paste comes first, because that is what most readers came for; the JAX check (the
proof) and the NumPy script follow in the registry's order.
"""

from __future__ import annotations

from matref.snippets import Dialect

# Shown first where the entry has it; the rest keep the registry's order.
FIRST = "function"


def dialects() -> tuple[Dialect, ...]:
    """The dialects in the order the site shows their tabs."""
    from matref.snippets import DIALECTS

    return tuple(sorted(DIALECTS, key=lambda d: d.name != FIRST))


__all__ = ["Dialect", "dialects", "FIRST"]
