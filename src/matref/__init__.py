"""matref: a verified matrix-calculus reference.

Identities are written once, in LaTeX; matref parses them, checks them against JAX automatic
differentiation at random inputs that honour their declarations, and generates runnable snippets.
"""

from typing import TYPE_CHECKING

from ._catalogue import Catalogue as Catalogue
from ._catalogue import Entry as Entry
from ._catalogue import Family as Family
from ._catalogue import load_catalogue as load_catalogue
from ._errors import CannotCheck as CannotCheck
from ._errors import CatalogueError as CatalogueError
from ._errors import FormulaSyntaxError as FormulaSyntaxError
from ._errors import MatrefError as MatrefError
from ._errors import ShapeClash as ShapeClash
from ._language import Identity as Identity
from ._language import parse_identity as parse_identity

if TYPE_CHECKING:  # for type checkers; at run time these load lazily, below
    from ._check import Verdict as Verdict
    from ._check import check as check
    from ._derive import Derivation as Derivation
    from ._derive import derive as derive


def __getattr__(name: str):
    # `check` and `Verdict` need JAX; importing them lazily keeps `matref list` and `show` fast.
    if name in ("check", "Verdict"):
        from . import _check
        return getattr(_check, name)
    if name in ("derive", "Derivation"):  # derive checks every step, so it needs JAX too
        from . import _derive
        return getattr(_derive, name)
    if name == "__version__":  # read from the package metadata only when asked (~25 ms)
        return _version()
    raise AttributeError(f"module 'matref' has no attribute {name!r}")


__all__ = ["check", "Verdict", "derive", "Derivation", "parse_identity", "Identity", "load_catalogue", "Catalogue", "Family", "Entry",
           "MatrefError", "CannotCheck", "FormulaSyntaxError", "ShapeClash", "CatalogueError"]


def _version() -> str:
    # pyproject.toml is the one place the number is written; an installed matref (wheel or editable)
    # carries it in its metadata. A checkout put on the path without installing has no metadata.
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("matref")
    except PackageNotFoundError:
        return "0+unknown"
