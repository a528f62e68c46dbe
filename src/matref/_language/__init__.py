"""Syntax tree + declarations -> typed expression tree, with every shape inferred and checked.

This is where notation gets its meaning: `x^T` is a transpose, `\\operatorname{tr} AB` is tr(AB),
`f(x)` applies a declared function symbol, `\\frac{\\partial F}{\\partial x}` is a derivative laid out
by the layout rule (see the site's Conventions page), and `|X|` is a determinant.

One module per job, all private; the rest of matref imports only what is re-exported here.

- `_identity`: parse_identity, the entry point, and the Identity it returns
- `_resolver`: the walk over lark's syntax tree, one method per grammar rule
- `_derivatives`: \\frac{\\partial}{\\partial x}, d/dt, \\nabla, Hessians, variables of differentiation
- `_products`: products and the other typed constructors, each node's shape checked
- `_symbols`: declared symbols and function symbols (the where clause), undeclared-symbol hints
- `_indices`: \\sum expansion, entries X_{ij}, the single-entry matrix J^{ij}
- `_sizes`: dimension letters, size plans, index ranges, the final shape check of both sides
- `_syntax_tree`: small questions about lark's tree (is it a bracket, what text it spells)
"""

from ._identity import LAYOUTS as LAYOUTS
from ._identity import Identity as Identity
from ._identity import parse_identity as parse_identity
from ._identity import sides_at as sides_at
