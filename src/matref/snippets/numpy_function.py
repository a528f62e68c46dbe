"""Dialect `function`: a plain NumPy function to paste, e.g.

    def grad_quadratic_form(x, A):
        return (A + A.T) @ x

Vectors are 1-D arrays (a row vector too: NumPy's `@` and `np.outer` know which product is meant,
because the tree's shapes do), scalars plain floats, matrices 2-D. The function computes the
derivative side of an identity from its closed form, in the layout asked for. Where a standard
numerically stable form exists it is used: softmax and row-wise softmax shifted by the maximum,
log-sum-exp, softplus as `np.logaddexp`, the logistic sigmoid without overflow.

There is no function (None) when the identity has no derivative on its left side (an algebraic
identity or a differential), or when every other side still has derivatives or symbols for unknown
functions (chain rules). The harness (`run`) executes the text verbatim, calls the function at random
inputs that honour the declarations, at two size assignments, and compares it with the JAX derivative.
"""

from __future__ import annotations

import re

import jax.numpy as jnp
import numpy as np

from .._language import Identity, parse_identity, sides_at
from .._numeric import Ctx, concrete, evaluate, symmetric_variables
from .._program import Program
from .._shapes import Dim, kind
from .._tree import Deriv, Differential, FnValue, Hessian, Integral, Node, Var
from ._arrays import HELPERS, _form, _Gen1, _NoFunction
from ._common import _ident, _inputs
from ._dialect import Dialect, SnippetFailed, execute

DIALECT_NAME = "NumPy function"


def _derivative_word(lhs: Node) -> str:
    if isinstance(lhs, Hessian):
        return "hessian"
    f, x = kind(lhs.f.shape), kind(lhs.wrt.shape)
    if f == "scalar":
        return "derivative" if x == "scalar" else "grad"
    return "jacobian" if f == "vector" and x == "vector" else "derivative"


def function_name(lhs: Node, id: str | None) -> str:
    """`grad_quadratic_form` from the entry id `seed-quadratic-form`: what is computed, then the id
    without its catalogue prefixes (seed-, ml-, mc-NNN-) and the words for what is computed."""
    word = _derivative_word(lhs)
    if not id:
        return word
    words = re.sub(r"^(seed|ml|mc-\d+)-", "", id).split("-")
    words = [w for w in words if w not in ("grad", "gradient", "jacobian", "hessian", "derivative")]
    name = "_".join([word, *words])
    return _ident(name)


def _dim_note(d: Dim) -> str:
    parts = [str(d.coeff)] if d.coeff != 1 or not d.factors else []
    return "*".join(parts + [f"{f[4:-1]}({f[4:-1]}+1)/2" if f.startswith("tri(") else f for f in d.factors])


def _shape_note(shape) -> str:
    """How the docstring states a shape: float, (n,) or (m, n*n)."""
    k = kind(shape)
    if k == "scalar":
        return "float"
    r, c = _dim_note(shape[0]), _dim_note(shape[1])
    return f"({r if shape[1].is_one else c},)" if k == "vector" else f"({r}, {c})"


def _plan(ident: Identity) -> tuple[Node, Node] | None:
    """(derivative side, closed form) when the identity makes a function, else None."""
    sides = ident.equation.sides
    lhs = sides[0]
    if not isinstance(lhs, (Deriv, Hessian)):
        return None
    if any(isinstance(n, FnValue) for n in lhs.walk()):
        return None
    for side in sides[1:]:
        if not any(isinstance(n, (Deriv, Hessian, Differential, FnValue, Integral)) for n in side.walk()):
            return lhs, side
    return None


def _size_source(declared: dict, letter: str):
    """(argument, axis, whether it is a matrix) whose size along axis is the letter, or None."""
    for p, d in declared.items():
        if kind(d.shape) != "scalar":
            for axis in (0, 1):
                if d.shape[axis] == Dim(1, (letter,)):
                    return _ident(p), axis, kind(d.shape) == "matrix"
    return None


def _size_parameters(ident: Identity) -> list[str]:
    """Dimension letters the function takes as arguments (no other argument has that size)."""
    lhs, rhs = _plan(ident)
    gen = _Gen1(ident, "np")
    gen.expr(rhs, {})
    declared = {p: ident.decls[p] for p in _parameters(ident, lhs, rhs) if p in ident.decls}
    return [letter for letter in gen.letters if _size_source(declared, letter) is None]


def _parameters(ident: Identity, lhs: Node, rhs: Node) -> list[str]:
    """Declared names the function takes: the variable of differentiation first, then the others in
    the order they appear; then the index letters of an entry derivative."""
    order = [n.name for n in lhs.walk() if isinstance(n, Var)]
    wrt = lhs.wrt if isinstance(lhs, Deriv) else lhs.a
    first = [n.name for n in wrt.walk() if isinstance(n, Var)]
    names = list(dict.fromkeys(first + order + [n.name for n in rhs.walk() if isinstance(n, Var)]))
    return names + [i for i in ident.indices]


def function_script(formula: str, where: str = "", layout: str = "denominator", title: str | None = None,
                   id: str | None = None) -> str | None:
    """The derivative side of the identity as a plain NumPy function to paste (1-D vectors, float
    scalars), named after `id`; None when the identity does not make one (see the module)."""
    ident = parse_identity(formula, where, layout)
    plan = _plan(ident)
    if plan is None:
        return None
    lhs, rhs = plan
    gen = _Gen1(ident, "np")
    try:
        body = gen.expr(rhs, {})
    except _NoFunction:
        return None
    params = _parameters(ident, lhs, rhs)
    declared = {p: ident.decls[p] for p in params if p in ident.decls}
    # Sizes come from the arguments, so one function serves every size.
    prologue, args = [], [_ident(p) for p in params]
    for letter in gen.letters:
        source = _size_source(declared, letter)
        if source is None:
            args.append(letter)  # no argument has this size: the caller passes it
            continue
        v, axis, is_matrix = source
        prologue.append(f"{letter} = {v}.shape[{axis}]" if is_matrix else f"{letter} = len({v})")
    shapes = ", ".join([f"{_ident(p)}: {_shape_note(d.shape)}" for p, d in declared.items()]
                       + [f"{a}: int" for a in args if a in gen.letters or a in ident.indices])
    result = _shape_note(lhs.shape)
    name = function_name(lhs, id)
    what = title or {"grad": "Gradient", "hessian": "Hessian", "jacobian": "Jacobian"}.get(
        _derivative_word(lhs), "Derivative")
    doc = f'    """{what} ({layout} layout).\n\n    {shapes} -> {result}\n    """'
    lines = [f"def {name}({', '.join(args)}):", doc, *(f"    {line}" for line in prologue), f"    return {body.text}"]
    imports = ["import numpy as np"] + (["import scipy.linalg"] if "scipy" in gen.used else [])
    helpers = [HELPERS[h] for h in HELPERS if h in gen.used]
    head = [f"# {formula}", *([f"# where {where}"] if where else [])]
    return "\n".join(head + imports) + "\n\n\n" + "\n\n\n".join(helpers + ["\n".join(lines)]) + "\n"


def function_snippet(entry, layout: str) -> str | None:
    """The pasteable function of a catalogue entry in `layout` (named after its id), or None."""
    return function_script(entry.formula_in(layout), entry.where, layout, title=entry.title, id=entry.id)


# ----- the harness -----------------------------------------------------------------------------------

_DEF = re.compile(r"^def (\w+)\(", re.MULTILINE)


def _inputs_script(ident: Identity, seed: int, sizes: dict[str, int]) -> str:
    """NumPy code drawing the inputs as the JAX check's script draws them (vectors 2-D, as the
    tree has them)."""
    head = ["import numpy as np", f"rng = np.random.default_rng({seed})"]
    return "\n".join(head + _inputs(ident, sizes=sizes)) + "\n"


def _reference(ident: Identity, lhs: Node, data: dict, sizes: dict[str, int]) -> np.ndarray:
    """The derivative side at the drawn inputs: JAX's autodiff, traced once and run by NumPy (the
    checker's own evaluation, `matref._numeric.evaluate`), as a 2-D array."""
    names = sorted({n.name for n in lhs.walk() if isinstance(n, Var)})
    values = {name: np.asarray(data[_ident(name)], dtype=complex if np.iscomplexobj(data[_ident(name)]) else float)
              .reshape(concrete(ident.decls[name].shape, sizes)) for name in names}
    indices = {c: np.int32(data[c]) for c in ident.indices}

    def derivative(args):
        vals, at = args
        return evaluate(lhs, Ctx(sizes, {k: jnp.asarray(v) for k, v in vals.items()}, {}, {}, (), indices=at,
                                 symmetric=symmetric_variables(ident.decls)))

    return np.asarray(Program(derivative, (values, indices))((values, indices)))


def _other_sizes(ident: Identity) -> dict[str, int]:
    """Each free size one larger (so the other parity, and entry indices stay in range)."""
    return {k: v if ident.decls.get(k) is not None and ident.decls[k].kind == "const" else v + 1
            for k, v in ident.sizes.items()}


def load_function(text: str, label: str = "function"):
    """Execute the function text verbatim; (the function it defines last, its parameter names)."""
    namespace, _ = execute(text, label)
    name = _DEF.findall(text)[-1]
    return namespace[name], re.search(rf"^def {name}\((.*)\):", text, re.MULTILINE).group(1).split(", ")


def draw(ident: Identity, seed: int, sizes: dict[str, int], scale: float = 1.0) -> tuple[list, np.ndarray]:
    """(arguments for the function, the JAX derivative there): inputs drawn as the JAX check draws
    them (honouring the declarations), vectors made 1-D and scalars float; arrays times `scale`."""
    plan = _plan(ident)
    if plan is None:
        raise ValueError("the identity makes no function")
    lhs, rhs = plan
    data, _ = execute(_inputs_script(ident, seed, sizes), "inputs")
    # the derivative side at these sizes (a sum up to a size has as many terms as they say)
    data["reference"] = _reference(ident, sides_at(ident, sizes)[0], data, sizes)
    args = []
    for p in _parameters(ident, lhs, rhs):
        if p in ident.indices:
            args.append(int(data[p]))
            continue
        value = np.asarray(data[_ident(p)]) * scale
        k = kind(ident.decls[p].shape)
        if k == "scalar":
            args.append(complex(value) if np.iscomplexobj(value) else float(value))
        else:
            args.append(value.ravel() if k == "vector" else value)
    args += [sizes[letter] for letter in _size_parameters(ident)]
    return args, data["reference"]


def run_function(text: str, formula: str, where: str, layout: str) -> None:
    """Execute the function text verbatim, call it at random inputs (two seeds, two size assignments)
    and compare with the JAX derivative; raises SnippetFailed."""
    ident = parse_identity(formula, where, layout)
    fn, _ = load_function(text, f"function {layout}")
    lhs = _plan(ident)[0]
    for seed, sizes in ((0, ident.sizes), (1, _other_sizes(ident))):
        args, want = draw(ident, seed, sizes)
        try:
            got = fn(*args)
        except Exception as exc:  # noqa: BLE001 - the pasted function failing is the dialect's failure
            raise SnippetFailed(f"{fn.__name__}(...) at sizes {sizes}: {type(exc).__name__}: {exc}") from exc
        form = _form(lhs)
        expected_shape = () if form == "scalar" else (want.size,) if form in ("col", "row") else want.shape
        if np.shape(got) != expected_shape:
            raise SnippetFailed(f"{fn.__name__}(...) returned shape {np.shape(got)}, not {expected_shape} "
                                f"(sizes {sizes})")
        want = want.reshape(expected_shape)
        if not np.allclose(got, want, rtol=1e-8, atol=1e-10):
            raise SnippetFailed(f"{fn.__name__}(...) differs from the JAX derivative by "
                                f"{np.max(np.abs(got - want)):.2e} (sizes {sizes}, seed {seed})")


DIALECT = Dialect(name="function", label="NumPy function", language="python", script=function_script,
                  run=run_function, entry_snippet=function_snippet,
                  none_reason="no derivative side with a closed form free of derivatives and unknown functions "
                              "(an algebraic identity, a differential or a chain rule)")
