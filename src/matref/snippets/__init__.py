"""Runnable code generated from an identity's typed tree, in several dialects.

The text a dialect returns is exactly what the site shows, what `matref snippet` prints and what the
test harness executes.

The registry
------------
`DIALECTS` lists one `Dialect` record per dialect, in the order the site shows its tabs:

| name       | label          | what it is                                                        | None when            |
|------------|----------------|-------------------------------------------------------------------|----------------------|
| `jax`      | JAX check      | a script checking the identity with JAX autodiff (the proof)      | never                |
| `numpy`    | NumPy          | a script computing the closed form, gradients checked by central differences | closed form has derivatives or a matrix function |
| `function` | NumPy function | a function to paste: 1-D vectors, float scalars, stable softmax/log-sum-exp | no derivative side with a closed form (algebraic identities, differentials, chain rules) |

Each record holds `name`, `label` (tab title), `language` (code fence), `script(formula, where,
layout, title=None)` for any identity, `snippet(entry, layout)` for a catalogue entry,
`run(text, formula, where, layout)` (executes exactly `text` and confirms it; raises `SnippetFailed`)
and `none_reason` (why `script` may return None).

The CLI (`matref snippet ID --dialect NAME`, `matref verify --snippets`), the site's tabs and the
tests iterate over `DIALECTS`. Adding a dialect is one module here that defines `DIALECT`, plus one
line in `DIALECTS` below; the tests pick it up. A node type a generator does not translate raises
`UnsupportedNode` (a `CannotCheck`) naming the node and the dialect.
"""

from __future__ import annotations

from .._errors import MatrefError
from . import jax_check, numpy_closed, numpy_function
from ._common import UnsupportedNode
from ._dialect import Dialect, SnippetFailed
from .jax_check import jax_script, jax_snippet
from .numpy_closed import numpy_script, numpy_snippet
from .numpy_function import function_script, function_snippet

DIALECTS: tuple[Dialect, ...] = (jax_check.DIALECT, numpy_closed.DIALECT, numpy_function.DIALECT)


def dialect(name: str) -> Dialect:
    """The dialect called `name` (raises MatrefError naming the dialects there are)."""
    for d in DIALECTS:
        if d.name == name:
            return d
    raise MatrefError(f"no snippet dialect {name!r}; dialects: {', '.join(d.name for d in DIALECTS)}")


__all__ = ["DIALECTS", "Dialect", "SnippetFailed", "UnsupportedNode", "dialect",
           "function_script", "function_snippet", "jax_script", "jax_snippet", "numpy_script", "numpy_snippet"]
