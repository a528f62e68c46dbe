"""matref: a verified matrix-calculus reference.

Identities are written once, in LaTeX; matref parses them, checks them against JAX automatic
differentiation at random inputs that honour their declarations, and generates runnable snippets.
"""

from ._check import Verdict as Verdict
from ._check import check as check
from ._errors import CannotCheck as CannotCheck
from ._errors import CatalogueError as CatalogueError
from ._errors import FormulaSyntaxError as FormulaSyntaxError
from ._errors import MatrefError as MatrefError
from ._errors import ShapeClash as ShapeClash
from ._language import Identity as Identity
from ._language import parse_identity as parse_identity

__all__ = ["check", "Verdict", "parse_identity", "Identity", "MatrefError", "CannotCheck",
           "FormulaSyntaxError", "ShapeClash", "CatalogueError"]
__version__ = "0.1.0"
