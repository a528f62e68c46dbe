"""The catalogue: every entry holds in both layouts, every erratum's wrong form is refuted, every
snippet runs verbatim, and a mutated right-hand side is always caught."""

import dataclasses
import re
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import matref
from matref import CatalogueError
from matref._errors import ShapeClash
from matref._catalogue import load_directory
from matref._tree import Equation, Node
from matref._verify import verify_entry
from matref.cli import main
from matref.snippets import DIALECTS, UnsupportedNode, dialect, jax_snippet
from matref.snippets._dialect import SnippetFailed
from mutants import COMPLEX_MUTATIONS, MUTATIONS, mutants

CATALOGUE = matref.load_catalogue()
ENTRIES = CATALOGUE.entries
LAYOUTS = ("denominator", "numerator")
ERRATA = [e for e in ENTRIES if e.kind == "erratum"]
PITFALLS = [e for e in ENTRIES if e.kind == "pitfall"]
STUDY_NOTE = "Study note 求导 (matrix derivatives)"


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.id)
def test_entry_holds_in_both_layouts(entry):
    result = verify_entry(entry)
    assert result.ok, f"{entry.location}: " + "; ".join(result.problems)


@pytest.mark.parametrize("entry", ERRATA, ids=lambda e: e.id)
def test_erratum_wrong_form_is_refuted_under_its_assumptions_and_correction_holds(entry):
    # The wrong form is checked under the source's own assumptions (wrong_where), which are recorded.
    assert entry.wrong_source and entry.explanation and entry.assumptions
    if entry.wrong_form is not None:
        verdict = matref.check(*entry.wrong_form)
        assert verdict.status == "refuted", f"{entry.id}: the wrong form is not refuted: {verdict}"
    assert matref.check(entry.formula, entry.where, entry.layout).holds


@pytest.mark.parametrize("entry", PITFALLS, ids=lambda e: e.id)
def test_pitfall_formula_holds_and_its_misreading_is_refuted(entry):
    assert entry.misreading and entry.explanation and entry.wrong_source is None
    assert matref.check(entry.formula, entry.where, entry.layout).holds
    assert matref.check(*entry.wrong_form).status == "refuted"


def test_the_cookbook_errata_are_the_genuine_ones():
    # (125), (126) hold under the Cookbook's stated symmetry and (128) holds for its matrix sine.
    wrong = {e.wrong_source for e in ERRATA}
    assert {"Matrix Cookbook (28)", "Matrix Cookbook (92)", "Matrix Cookbook (95)", "Matrix Cookbook (127)",
            "Matrix Cookbook (524)"} <= wrong
    assert not wrong & {"Matrix Cookbook (125)", "Matrix Cookbook (126)", "Matrix Cookbook (128)"}
    assert CATALOGUE.get("mc-128-elementwise-sine").kind == "pitfall"


@pytest.mark.parametrize("entry, layout, d", [(e, lay, d) for e in ENTRIES for lay in LAYOUTS for d in DIALECTS],
                         ids=lambda p: getattr(p, "id", None) or getattr(p, "name", None) or p)
def test_every_dialect_runs_verbatim(entry, layout, d):
    """Each dialect's text for each entry, executed exactly as shown, confirms the identity."""
    text = d.snippet(entry, layout)
    if text is None:  # counted in the summary (-ra) with the dialect's reason
        pytest.skip(f"no {d.label} snippet: {d.none_reason}")
    try:
        d.run_entry(text, entry, layout)
    except AssertionError as e:
        pytest.fail(f"{entry.id} ({layout}, {d.label} snippet) failed: {e}\n{text}")


SCRIPTS = [d for d in DIALECTS if d.name in ("jax", "numpy")]  # the self-checking scripts


@pytest.mark.parametrize("entry", ENTRIES[::13], ids=lambda e: e.id)  # a spread sample: each costs checks and scripts
def test_a_script_fails_on_a_wrong_right_side_in_either_layout(entry):
    """The scripts are proofs, with 1-D vectors too: a right side the checker refutes (doubled, or
    the other layout's form checked as this layout's: a transposed matrix derivative or Jacobian)
    makes them fail. Not expected to: the NumPy script where it cannot differentiate its left side
    (it computes the closed form alone), and a layout slip that 1-D arrays cannot show (see
    `_same_in_both_layouts_as_arrays`)."""
    for layout in LAYOUTS:
        formula = entry.formula_in(layout)
        wrong = [mutated for _, mutated in mutants(formula, entry.where, layout, ("doubled",))]
        other = entry.formula_in("numerator" if layout == "denominator" else "denominator")
        if " ".join(other.split()) != " ".join(formula.split()):
            wrong.append(other)  # the other layout's form, checked as this layout's
        for w in wrong:
            if matref.check(w, entry.where, layout, draws=1, quick=True).status != "refuted":
                continue  # not wrong (a zero right side doubled; the same array in both layouts)
            for d in SCRIPTS:
                try:
                    text = d.script(w, entry.where, layout)
                except ShapeClash:
                    continue  # refuted by its shapes: no script is made of it
                if text is None or d.name == "numpy" and _has_derivative_left(w, entry.where, layout) \
                        and "numeric_gradient" not in text:
                    continue
                if w != other and _zero_at_the_scripts_draw(d, entry, layout):
                    continue  # doubling changes nothing at the one draw a script makes
                try:
                    d.run(text, w, entry.where, layout)
                except SnippetFailed:
                    continue
                if w == other and _same_in_both_layouts_as_arrays(entry, layout):
                    continue
                pytest.fail(f"{entry.id} ({layout}): the {d.label} script passed a wrong right side: {w}\n{text}")


def _zero_at_the_scripts_draw(d, entry, layout) -> bool:
    """Whether the entry's own script finds its right side zero at its draw (then a wrong factor
    there shows nothing: the checker, which draws every size plan, is the one to refute it)."""
    from matref.snippets._dialect import execute
    namespace, _ = execute(d.snippet(entry, layout), "the entry's script")
    value = namespace.get("rhs", namespace.get("closed_form"))
    return value is not None and np.allclose(value, 0)


def _has_derivative_left(formula, where, layout) -> bool:
    from matref._tree import Deriv, Differential, Hessian
    lhs = matref.parse_identity(formula, where, layout).equation.sides[0]
    return any(isinstance(n, (Deriv, Hessian, Differential)) for n in lhs.walk())


def _same_in_both_layouts_as_arrays(entry, layout) -> bool:
    """Whether every derivative in the entry is one that 1-D arrays hold the same way in both
    layouts (by a vector or a number, of a number or by a number), so that its two layouts'
    forms are the same array."""
    from matref._shapes import kind
    from matref._tree import Deriv, Hessian
    ident = matref.parse_identity(entry.formula_in(layout), entry.where, layout)
    derivs = [n for s in ident.equation.sides for n in s.walk() if isinstance(n, (Deriv, Hessian))]
    return all(isinstance(n, Deriv) and (kind(n.wrt.shape) != "matrix" and kind(n.f.shape) == "scalar"
                                         or kind(n.wrt.shape) == "scalar") for n in derivs)


class _NewNode(Node):
    """A node type the snippet generators have never seen (as the language gains new ones)."""


@pytest.mark.parametrize("d", DIALECTS, ids=lambda d: d.name)
def test_a_node_no_dialect_knows_is_a_named_error(d, monkeypatch):
    # Whether the identity holds does not matter here: only that every dialect translates its sides.
    ident = matref.parse_identity(r"\frac{\partial \operatorname{tr}(A)}{\partial A} = \operatorname{tr}(A) I",
                                  r"A \in \mathbb{R}^{n \times n}")
    rhs = dataclasses.replace(ident.equation.sides[1])
    trace = dataclasses.replace(rhs.factors[0])
    trace.arg = _NewNode()  # tr(<new node>) I: the generator meets it below nodes it knows
    trace.arg.shape = rhs.factors[0].arg.shape
    rhs.factors = (trace, *rhs.factors[1:])
    rhs.shape, trace.shape = ident.equation.sides[1].shape, rhs.factors[0].shape  # replace() leaves shape out
    fake = dataclasses.replace(ident, equation=Equation([ident.equation.sides[0], rhs], ident.equation.layout))
    monkeypatch.setattr(sys.modules[d.script.__module__], "parse_identity", lambda *a, **k: fake)
    with pytest.raises(UnsupportedNode, match="_NewNode"):
        d.script(ident.formula, ident.where, ident.layout)


KINDS = [k for k in MUTATIONS if k != "doubled"]


@pytest.mark.parametrize("index, entry", list(enumerate(ENTRIES)), ids=lambda p: p.id if hasattr(p, "id") else str(p))
def test_a_mutated_right_side_is_refuted(index, entry):
    # Every entry gets the factor-2 mutant plus one of the others in turn, so each kind is exercised
    # across the catalogue without compiling four extra checks per entry.
    kinds = ("doubled", KINDS[index % len(KINDS)])
    found = mutants(entry.formula, entry.where, entry.layout, kinds)
    if entry.formula.rstrip().endswith("= 0"):
        pytest.skip("the right side is zero, so scaling it changes nothing")
    assert found, f"{entry.id}: no mutant"
    for name, mutated in found:
        # One draw per size plan, the plans in turn until one refutes: a wrong mutant differs at any draw.
        verdict = matref.check(mutated, entry.where, entry.layout, draws=1, quick=True)
        assert verdict.status == "refuted", f"{entry.id}: {name} mutant was not refuted: {mutated}"


COMPLEX = [e for e in ENTRIES if "complex" in {p for d in matref.parse_identity(e.formula, e.where, e.layout).decls.values()
                                                 for p in d.props}]


@pytest.mark.parametrize("entry", COMPLEX, ids=lambda e: e.id)
def test_a_complex_slip_in_the_right_side_is_refuted(entry):
    """A conjugate dropped from the right side, or its H written as T, is refuted (in both layouts)."""
    for layout in LAYOUTS:
        found = mutants(entry.formula_in(layout), entry.where, layout, tuple(COMPLEX_MUTATIONS))
        for name, mutated in found:
            verdict = matref.check(mutated, entry.where, layout, draws=1, quick=True)
            assert verdict.status == "refuted", f"{entry.id}: {name} mutant was not refuted ({layout}): {mutated}"


def test_complex_slips_are_tried_across_the_complex_family():
    tried = {name for e in COMPLEX for name, _ in mutants(e.formula, e.where, e.layout, tuple(COMPLEX_MUTATIONS))}
    assert tried == set(COMPLEX_MUTATIONS)
    assert len(COMPLEX) >= 40


SEED_IDS = [
    "seed-transpose-by-vector", "seed-vector-by-transpose", "seed-row-times-matrix", "seed-linear-map-by-transpose",
    "seed-linear-map", "seed-row-vector-times-matrix", "seed-squared-norm", "seed-quadratic-form",
    "seed-quadratic-form-hessian", "seed-layout-transposition", "seed-inner-product-rule", "seed-outer-product-rule",
    "seed-least-squares-residual", "seed-bilinear-form", "seed-gram-quadratic", "seed-chain-rule",
    "layout-scalar-by-vector", "layout-jacobian-columns", "seed-layout-matrix-typos", "trace-cyclic", "trace-transpose",
    "trace-scalar-multiple", "seed-grad-trace-ab", "seed-grad-by-transpose", "seed-grad-trace-abatc",
    "seed-grad-determinant", "seed-grad-trace-atb", "seed-grad-trace-atba", "seed-grad-trace-abat",
]


@pytest.mark.parametrize("id", SEED_IDS)
def test_the_study_note_is_complete(id):
    assert STUDY_NOTE in CATALOGUE.get(id).sources


def test_study_note_errata_are_recorded():
    errata = {e.id for e in ERRATA if e.wrong_source == STUDY_NOTE}
    assert errata == {"seed-row-vector-times-matrix", "seed-inner-product-rule", "seed-layout-matrix-typos"}
    # item 12 holds for the only reading that makes it a matrix identity (a scalar x)
    assert CATALOGUE.get("seed-outer-product-rule").kind == "identity"


def test_no_bare_seed_label():
    for e in ENTRIES:
        assert "seed" not in e.sources and e.wrong_source != "seed", e.id


def test_ids_are_unique_and_formulas_in_both_layouts_are_derived():
    ids = [e.id for e in ENTRIES]
    assert len(ids) == len(set(ids))
    e = CATALOGUE.get("seed-quadratic-form")
    assert e.formula_in("numerator") == r"\frac{\partial x^T A x}{\partial x} = x^T \left(A^T + A\right)"
    assert CATALOGUE.get("seed-grad-trace-ab").layout_independent


# A sum up to a size, written in an identity whose other layout is derived: the derived form must keep
# the sum (not its expansion at the first size), so it holds at every size. Gradients G, each written as
# sums that equal it, and sums whose terms depend on the index.
R = r"\mathbb{R}"
SUMMED_GRADIENTS = [
    (r"\frac{\partial \operatorname{tr}(A X)}{\partial X}", "A^T", rf"A \in {R}^{{n \times m}}, X \in {R}^{{m \times n}}"),
    (r"\frac{\partial x^T A x}{\partial x}", "(A + A^T) x", rf"A \in {R}^{{n \times n}}, x \in {R}^{{n}}"),
    (r"\frac{\partial A x}{\partial x}", "A^T", rf"A \in {R}^{{m \times n}}, x \in {R}^{{n}}"),
]
SUMS_OF = [r"\sum_{{i=1}}^{{n}} \frac{{1}}{{n}} ({g})", r"\sum_{{i=0}}^{{n-1}} \frac{{1}}{{n}} \left({g}\right)",
           r"\frac{{1}}{{2}} ({g}) + \sum_{{i=1}}^{{n}} \frac{{1}}{{2 n}} ({g})"]
SIZED_SUMS = [(f"{lhs} = {form.format(g=g)}", where) for lhs, g, where in SUMMED_GRADIENTS for form in SUMS_OF] + [
    (r"\frac{\partial \|X\|_*}{\partial X} = \sum_{i=1}^{n} u_i(X) v_i(X)^T", rf"X \in {R}^{{2n \times n}}"),
    (r"\frac{\partial \|X\|_F^2}{\partial X} = 2 \sum_{i=1}^{n} \sigma_i(X) u_i(X) v_i(X)^T", rf"X \in {R}^{{n \times 2n}}"),
]


@pytest.mark.parametrize("formula, where", SIZED_SUMS)
def test_the_derived_other_layout_of_a_sum_up_to_a_size_holds_at_every_size(formula, where):
    entry = dataclasses.replace(CATALOGUE.entries[0], id="sized-sum", formula=formula, where=where,
                                layout="denominator", other_layout=None, _forms={})
    other = entry.formula_in("numerator")
    for layout, text in (("denominator", formula), ("numerator", other)):
        verdict = matref.check(text, where, layout)
        assert verdict.status == "holds", f"{layout}: {text}: {verdict}"
        function = dialect("function")  # a plain function serves every size: its sum runs to the size
        function.run(function.script(text, where, layout), text, where, layout)
    assert other.count(r"\sum") == formula.count(r"\sum"), other  # written as a sum, as on paper
    for name, mutated in mutants(formula, where, "denominator", ("doubled", "swapped")):
        # a mutant written at one size would be refuted at the others for the wrong reason
        assert mutated.count(r"\sum") == formula.count(r"\sum"), f"{name}: {mutated}"


def test_a_sum_whose_terms_need_the_index_as_a_number_asks_for_the_other_layout_written_out():
    formula = r"\frac{\partial \sum_{i=1}^{n} \mathbf{1}^T X^{i} \mathbf{1}}{\partial X} = X"
    entry = dataclasses.replace(CATALOGUE.entries[0], id="sized-power-sum", formula=formula,
                                where=rf"X \in {R}^{{n \times n}}", layout="denominator", other_layout=None, _forms={})
    with pytest.raises(CatalogueError, match="its terms need the index as a number; write the formula for the other"):
        entry.formula_in("numerator")


# ----- the loader rejects bad data with file:line messages -------------------------------------------

GOOD = """
[family]
title = "T"
order = 1

[[entry]]
id = "one"
title = "One"
formula = 'x^T x = \\|x\\|_2^2'
where = 'x \\in \\mathbb{R}^{n}'
sources = ["test"]
"""


def _two_entries(text: str) -> str:
    """GOOD with a second entry, `two`, after `one`."""
    return text + text[text.index("[[entry]]"):].replace('id = "one"', 'id = "two"')


@pytest.mark.parametrize("change, message", [
    (lambda t: t + t[t.index("[[entry]]"):], "t.toml:12: duplicate id 'one' (first used at cat/t.toml:6)"),
    (lambda t: t.replace('sources = ["test"]', 'sources = ["test"]\nsauces = 1'), "t.toml:12: unknown key 'sauces'"),
    (lambda t: t.replace('title = "One"\n', ""), "t.toml:6: entry is missing 'title'"),
    (lambda t: t.replace("x^T x =", "x^T x +"), "t.toml:9: entry 'one': formula: an identity needs '='"),
    (lambda t: t.replace("x^T x =", "x^T y ="), "t.toml:9: entry 'one': formula: y is not declared"),
    (lambda t: t.replace('id = "one"', 'id = "One Two"'), "t.toml:6: id 'One Two' must be lowercase"),
    (lambda t: t.replace('order = 1', 'order = "1"'), "t.toml:1: [family] needs"),
    (lambda t: t.replace('[[entry]]', '[[entry]]\nlayout = "diagonal"'), "t.toml:7: layout must be"),
    (lambda t: t.replace('[[entry]]', '[[entry]]\nkind = "erratum"'), "erratum 'one' is missing 'wrong_source'"),
    (lambda t: t.replace('[[entry]]', '[[entry]]\nkind = "pitfall"'), "pitfall 'one' is missing 'misreading'"),
    (lambda t: t.replace('[[entry]]', '[[entry]]\nkind = "typo"'), "kind must be one of identity, erratum, pitfall"),
    (lambda t: t.replace('sources = ["test"]', 'sources = ["test"]\nwrong_source = "x"'),
     "'wrong_source' belongs to an erratum or a pitfall"),
    (lambda t: t.replace('sources = ["test"]', 'sources = ["test"]\nvariant_of = "two"'), "variant_of names no other entry"),
    (lambda t: t.replace('sources = ["test"]', 'sources = ["test"]\naliases = ["one"]'), "duplicate id 'one'"),
    (lambda t: t.replace('title = "T"', 'title = "T'), "t.toml:3: invalid TOML"),
    (lambda t: t.replace('[[entry]]', '[[part]]\ntitle = "p"\nfirst = "two"\n\n[[entry]]', 1),
     "t.toml:6: a [[part]] needs a string 'title' and 'first'"),
    (lambda t: t.replace('[[entry]]', '[[part]]\ntitle = "p"\nfirst = "one"\nsize = 1\n\n[[entry]]', 1),
     "t.toml:6: unknown key(s) in [[part]]: size"),
    (lambda t: _two_entries(t).replace('[[entry]]', '[[part]]\ntitle = "p"\nfirst = "two"\n\n[[entry]]', 1),
     "t.toml:6: the first [[part]] must start at the file's first entry, 'one'"),
    (lambda t: _two_entries(t).replace('[[entry]]', '[[part]]\ntitle = "p"\nfirst = "one"\n\n'
                                       '[[part]]\ntitle = "q"\nfirst = "two"\n\n[[entry]]', 1),
     "t.toml:10: a later [[part]] needs a 'name'"),
    (lambda t: _two_entries(t).replace('[[entry]]', '[[part]]\ntitle = "p"\nfirst = "two"\nname = "b"\n\n'
                                       '[[part]]\ntitle = "q"\nfirst = "one"\n\n[[entry]]', 1),
     "t.toml:6: the first [[part]] must start"),
])
def test_loader_rejects_bad_data_with_file_and_line(tmp_path, change, message):
    directory = tmp_path / "cat"
    directory.mkdir()
    (directory / "t.toml").write_text(change(textwrap.dedent(GOOD)))
    with pytest.raises(CatalogueError) as info:
        load_directory(directory)
    assert message in str(info.value)


def test_loader_accepts_good_data(tmp_path):
    directory = tmp_path / "cat"
    directory.mkdir()
    (directory / "t.toml").write_text(GOOD)
    cat = load_directory(directory)
    assert [e.id for e in cat.entries] == ["one"] and cat.entries[0].location == "cat/t.toml:6"


def test_parts_split_a_family_into_pages_in_entry_order(tmp_path):
    directory = tmp_path / "cat"
    directory.mkdir()
    parts = '[[part]]\ntitle = "first"\nfirst = "one"\n\n[[part]]\ntitle = "second"\nfirst = "two"\nname = "more"\n\n'
    text = textwrap.dedent(GOOD)
    text = text + text[text.index("[[entry]]"):].replace('id = "one"', 'id = "two"') \
        + text[text.index("[[entry]]"):].replace('id = "one"', 'id = "three"')
    (directory / "t.toml").write_text(text.replace("[[entry]]", parts + "[[entry]]", 1))
    fam, = load_directory(directory).families
    assert [(p.title, p.page) for p in fam.parts] == [("first", "t"), ("second", "t-more")]
    assert [[e.id for e in fam.part_entries(p)] for p in fam.parts] == [["one"], ["two", "three"]]
    assert [e.page for e in fam.entries] == ["t", "t-more", "t-more"] and [e.family for e in fam.entries] == ["t"] * 3
    # a part's page may not be another family's page
    (directory / "t-more.toml").write_text(textwrap.dedent(GOOD).replace('id = "one"', 'id = "four"'))
    with pytest.raises(CatalogueError, match=r"part 'second' would be shown on reference/t-more/, the page of cat/t-more.toml"):
        load_directory(directory)


def test_catalogue_files_are_packaged():
    files = {p.name for p in Path(matref.__file__).parent.joinpath("catalogue").glob("*.toml")}
    assert {"basics.toml", "traces.toml", "layouts.toml"} <= files


# ----- CLI over the catalogue ------------------------------------------------------------------------

def test_cli_list_show_snippet(capsys):
    assert main(["list", "--family", "layouts"]) == 0
    assert "layout-scalar-by-vector" in capsys.readouterr().out
    assert main(["show", "seed-quadratic-form"]) == 0
    out = capsys.readouterr().out
    assert "numerator layout" in out and "Matrix Cookbook (81)" in out
    assert main(["snippet", "seed-quadratic-form"]) == 0
    assert capsys.readouterr().out == jax_snippet(CATALOGUE.get("seed-quadratic-form"), "denominator")
    assert main(["snippet", "seed-quadratic-form", "--numpy", "--layout", "numerator"]) == 0
    assert "numeric_gradient" in capsys.readouterr().out
    assert main(["list", "--family", "nope"]) == 2


@pytest.mark.parametrize("d", DIALECTS, ids=lambda d: d.name)
def test_cli_snippet_prints_each_dialect(d, capsys):
    entry = CATALOGUE.get("seed-quadratic-form")
    assert main(["snippet", entry.id, "--dialect", d.name, "--layout", "numerator"]) == 0
    assert capsys.readouterr().out == d.snippet(entry, "numerator")


def test_cli_snippet_names_the_dialects_for_an_unknown_one(capsys):
    assert main(["snippet", "seed-quadratic-form", "--dialect", "fortran"]) == 2
    err = capsys.readouterr().err
    assert "fortran" in err and all(d.name in err for d in DIALECTS) and "Traceback" not in err
    assert dialect("numpy").name == "numpy"


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.id)
def test_cli_show_prints_the_snippet_that_runs(entry, capsys):
    """What `matref show` prints after the description is exactly the snippet, so it runs as printed
    (Rich markup escapes once leaked into it: `(x.T @ A @ x)\\[0, 0]`)."""
    assert main(["show", entry.id]) == 0
    out = capsys.readouterr().out
    d = dialect("jax")
    code = out[out.index("\n\n# ") + 2:]  # the description ends with a blank line; the script opens with a comment
    # Byte for byte the text test_every_dialect_runs_verbatim runs for this entry and layout: running
    # it again here would only repeat that test.
    assert code == d.snippet(entry, entry.layout)
    for line in [entry.formula, entry.title, *entry.sources]:
        assert line in out, f"{entry.id}: show does not print {line!r} verbatim"


ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.mark.parametrize("columns", [80, 120])
def test_cli_list_never_cuts_an_id(columns, monkeypatch, capsys):
    monkeypatch.setenv("TTY_COMPATIBLE", "1")  # render as for a terminal of that width
    monkeypatch.setenv("COLUMNS", str(columns))
    assert main(["list"]) == 0
    out = ANSI.sub("", capsys.readouterr().out)
    lines = out.splitlines()
    assert max(len(line.rstrip()) for line in lines) <= columns
    words = {w for line in lines for w in line.split()}
    cut = [e.id for e in ENTRIES if e.id not in words]
    assert not cut, f"ids not printed whole at {columns} columns: {cut[:5]}"


def _listed_ids(out: str) -> set[str]:
    return set(out.split()) & {e.id for e in ENTRIES}


def test_cli_list_grep_finds_every_entry_by_each_field_in_any_case(capsys):
    from matref.cli import _matches  # what `list --grep` keeps; the command itself runs on a spread
    for i, entry in enumerate(ENTRIES):
        for text in (entry.id.upper(), entry.title.lower(), entry.formula, entry.sources[0].swapcase()):
            assert _matches(entry, text), f"--grep {text!r} misses {entry.id}"
            if i % 10 == 0:
                assert main(["list", "--grep", text]) == 0
                assert entry.id in _listed_ids(capsys.readouterr().out), f"--grep {text!r} misses {entry.id}"


def test_cli_list_grep_lists_only_matches_and_says_when_none(capsys):
    assert main(["list", "--grep", "x^TAx"]) == 0  # spaces are ignored, as people type formulas
    listed = _listed_ids(capsys.readouterr().out)
    assert "seed-quadratic-form" in listed and len(listed) < len(ENTRIES) / 4
    for id in listed:
        e = CATALOGUE.get(id)
        hay = " ".join([e.id, *e.aliases, e.title, e.formula, e.other_layout or "", *e.sources]).lower()
        assert "x^tax" in "".join(hay.split()), id
    assert main(["list", "--grep", "no such identity anywhere"]) == 1
    captured = capsys.readouterr()
    assert "no identity matches" in captured.err and "Traceback" not in captured.err


def test_cli_verify_a_family(capsys):
    assert main(["verify", "--family", "layouts", "--snippets"]) == 0
    n = len(CATALOGUE.family("layouts").entries)
    assert f"all {n} entries verified" in capsys.readouterr().out


# ----- coverage of the Matrix Cookbook and Wikipedia ---------------------------------------------------

def test_every_cookbook_chapter_2_equation_is_covered_or_has_a_reason():
    from matref._coverage import cookbook_rows
    rows = cookbook_rows(CATALOGUE)
    assert [r.label for r in rows] == [f"({n})" for n in range(33, 145)]
    silent = [r.label for r in rows if not r.ids and not r.reason]
    assert not silent, f"Cookbook equations with neither an identity nor a reason: {silent}"


def test_coverage_rows_come_from_the_sources():
    from matref._coverage import cookbook_rows, wikipedia_rows
    row81 = cookbook_rows(CATALOGUE)[81 - 33]
    assert "seed-quadratic-form" in row81.ids
    row16 = wikipedia_rows(CATALOGUE)["scalar-by-vector"][16 - 1]
    assert row16.label == "#16" and "seed-squared-norm" in row16.ids


# ----- exact citations ---------------------------------------------------------------------------

def test_every_wikipedia_citation_resolves_to_a_listed_row():
    from matref._coverage import wikipedia_row
    bad = [(e.id, s) for e in ENTRIES for s in e.sources if s.startswith("Wikipedia") and wikipedia_row(s) is None]
    assert not bad, f"citations that name no row of the recorded tables: {bad}"


def test_wikipedia_coverage_lists_every_row_and_counts_rows():
    from matref._coverage import counts, wikipedia_rows, wikipedia_tables
    rows = wikipedia_rows(CATALOGUE)
    assert [len(r) for r in rows.values()] == [len(t.rows) for t in wikipedia_tables()]
    c = counts(CATALOGUE)
    assert c["wikipedia_rows"] == sum(len(t.rows) for t in wikipedia_tables()) == 115
    silent = [(t, r.label) for t, rs in rows.items() for r in rs if r.status == "not covered" and not r.reason]
    assert not silent, f"rows neither covered nor explained: {silent}"
    for t, rs in rows.items():  # an `implied_by` names real entries
        for r in rs:
            for i in r.implied_by:
                CATALOGUE.get(i)


def test_every_cited_cookbook_equation_exists_in_its_chapter():
    from matref._coverage import COOKBOOK_SECTION_SOURCE, COOKBOOK_SOURCE, cookbook_chapter, cookbook_section
    for e in ENTRIES:
        for s in [*e.sources, e.wrong_source or ""]:
            if not s.startswith("Matrix Cookbook"):
                continue
            m, sec = COOKBOOK_SOURCE.match(s), COOKBOOK_SECTION_SOURCE.match(s)
            assert m or sec, f"{e.id}: '{s}' is not a Cookbook citation matref knows how to read"
            if m:
                assert cookbook_chapter(int(m.group(1))) is not None, f"{e.id}: no chapter holds {s}"
            else:  # `§2.2 (after eq. 64)`: the equation is in that section
                assert cookbook_section(int(sec.group(2)))["number"] == sec.group(1), f"{e.id}: {s}"


def test_every_cookbook_chapter_4_equation_is_cited():
    # Chapter 4 (Complex Matrices) is covered whole: each of (225)-(259) is cited by an entry of the complex family.
    from matref._coverage import COOKBOOK_SOURCE, cookbook_chapter
    cited = {int(m.group(1)) for e in ENTRIES if e.family == "complex" for s in [*e.sources, e.wrong_source or ""]
             if (m := COOKBOOK_SOURCE.match(s))}
    chapter = cookbook_chapter(225)
    assert chapter["number"] == 4 and (chapter["first"], chapter["last"]) == (225, 259)
    assert set(range(225, 260)) <= cited, sorted(set(range(225, 260)) - cited)


def test_cookbook_numbering_anchors():
    # Facts checked against the sources: (13) is tr A = tr A^T (not (12)); (95) is the quotient's second form.
    from matref._coverage import cookbook_chapter, cookbook_section
    assert "Matrix Cookbook (13)" in CATALOGUE.get("trace-transpose").sources
    assert all("Matrix Cookbook (12)" not in e.sources for e in ENTRIES)
    assert cookbook_chapter(33)["number"] == 2 and cookbook_chapter(144)["number"] == 2
    assert cookbook_section(99)["number"] == "2.5" and cookbook_section(128)["number"] == "2.5"
    assert cookbook_section(132)["number"] == "2.7" and cookbook_section(64)["number"] == "2.2"


# ----- one entry per identity ----------------------------------------------------------------------

def test_no_two_identities_are_equal_up_to_renaming_unless_marked_as_variants():
    from matref._duplicates import duplicate_groups
    for group in duplicate_groups(ENTRIES):
        plain = [e.id for e in group if e.variant_of is None]
        assert len(plain) <= 1, f"the same identity up to renaming: {[e.id for e in group]}"
        for e in group:
            if e.variant_of is not None:
                assert e.variant_of in {g.id for g in group}, f"{e.id} restates {[g.id for g in group]}"
                assert e.notes and e.variant_of in e.notes, f"{e.id}: a variant says why it stays"


def test_the_renaming_test_finds_renamed_identities():
    from matref._duplicates import canonical
    x = r"x \in \mathbb{R}^{n}, A \in \mathbb{R}^{n \times n}"
    y = r"y \in \mathbb{R}^{m}, B \in \mathbb{R}^{m \times m}"
    a = canonical(r"\frac{\partial x^T A x}{\partial x} = (A + A^T) x", x)
    assert a == canonical(r"\frac{\partial y^T B y}{\partial y} = (B + B^T) y", y)
    assert a != canonical(r"\frac{\partial y^T B y}{\partial y} = (B^T + B) y", y)
    assert a != canonical(r"\frac{\partial x^T A x}{\partial x} = (A + A^T) x", x.replace(r"\mathbb{R}^{n \times n}", r"\mathbb{S}^{n}"))


def test_merged_ids_stay_permalinks(capsys):
    for e in ENTRIES:
        for old in e.aliases:
            assert CATALOGUE.get(old) is e
    assert CATALOGUE.get("eig-sum-gradient").id == "trace-grad-x"
    assert main(["show", "eig-sum-gradient"]) == 0
    out = capsys.readouterr().out
    assert "eig-sum-gradient was merged into trace-grad-x" in out


def test_readme_states_the_current_counts():
    from matref._coverage import README_END, README_START, readme_counts
    text = Path(__file__).resolve().parents[1].joinpath("README.md").read_text(encoding="utf-8")
    block = text[text.index(README_START) + len(README_START):text.index(README_END)].strip()
    assert block == readme_counts(CATALOGUE), "README counts are stale: run `python -m matref._coverage README.md`"


# ----- the pasteable NumPy function ---------------------------------------------------------------

FUNCTION = dialect("function")


def _makes_a_function(entry) -> bool:
    """The dialect's promise: a derivative on the left and another side free of derivatives,
    differentials, unknown function symbols, integrals (plain NumPy has no quadrature) and functions
    whose record says plain NumPy has no code for them (the adjugate)."""
    from matref._functions import FUNCTIONS, NoCode
    from matref._tree import Add, Call, Deriv, Differential, FnValue, Hessian, Integral
    sides = matref.parse_identity(entry.formula, entry.where, entry.layout).equation.sides
    lhs = sides[0]
    if not isinstance(lhs, (Deriv, Hessian)) or any(isinstance(n, FnValue) for n in lhs.walk()):
        return False

    def closed(side) -> bool:
        return not any(isinstance(n, (Deriv, Hessian, Differential, FnValue, Integral))
                       or isinstance(n, Call) and isinstance(FUNCTIONS[n.fn].function, NoCode)
                       # a sum up to a size whose terms were written out at one size (an inner bound
                       # uses the index): a function of that size only, which the dialect does not make
                       or isinstance(n, Add) and n.over is not None and n.over.sized and n.over.body is None
                       for n in side.walk())
    return any(closed(s) for s in sides[1:])


def test_the_function_dialect_keeps_its_promise_for_every_entry():
    gets = {e.id for e in ENTRIES if FUNCTION.snippet(e, e.layout) is not None}
    promised = {e.id for e in ENTRIES if _makes_a_function(e)}
    assert gets == promised, f"missing: {sorted(promised - gets)[:5]}, unexpected: {sorted(gets - promised)[:5]}"
    # 209 of 339 at the time of writing; the rest are algebraic identities, differentials and chain rules.
    assert len(gets) > len(ENTRIES) / 2


def test_the_function_for_the_quadratic_form_is_the_one_people_write():
    text = FUNCTION.snippet(CATALOGUE.get("seed-quadratic-form"), "denominator")
    assert "def grad_quadratic_form(x, A):" in text and text.rstrip().endswith("return (A + A.T) @ x")
    assert "[0, 0]" not in text and "reshape" not in text


@pytest.mark.parametrize("entry", [e for e in ENTRIES if _makes_a_function(e)][::7], ids=lambda e: e.id)
def test_the_function_harness_catches_a_wrong_value_and_a_column_vector(entry):
    text = FUNCTION.snippet(entry, entry.layout)
    body, ret = text.rsplit("    return ", 1)
    wrong = [f"2 * ({ret.strip()}) + 1e-3"]
    if re.search(r"-> \(\S+,\)", text):  # a vector result: returned as a column by mistake
        wrong.append(f"np.reshape({ret.strip()}, (-1, 1))")
    for w in wrong:
        with pytest.raises(AssertionError):
            FUNCTION.run_entry(f"{body}    return {w}\n", entry, entry.layout)


def test_the_stable_helpers_do_not_overflow():
    from matref.snippets.numpy_function import HELPERS
    ns = {}
    exec(compile("import numpy as np\n" + "\n\n".join(HELPERS.values()), "<helpers>", "exec"), ns)  # our own text
    big = np.array([1000.0, 1000.0, -1000.0])
    assert np.allclose(ns["softmax"](big), [0.5, 0.5, 0.0])
    assert np.isclose(ns["logsumexp"](big), 1000 + np.log(2))
    assert np.allclose(ns["softmax_rows"](np.stack([big, -big])), [[0.5, 0.5, 0.0], [0.0, 0.0, 1.0]])
    assert np.allclose(ns["sigmoid"](big), [1.0, 1.0, 0.0])
    assert np.isclose(ns["sigmoid"](-700.0), np.exp(-700.0), rtol=1e-12, atol=0)  # 1 / (1 + exp(700)) overflows


STABLE = [e for e in ENTRIES if _makes_a_function(e)
          and re.search(r"softmax|logsumexp|sigmoid|logaddexp", FUNCTION.snippet(e, e.layout) or "")]


@pytest.mark.parametrize("entry", STABLE, ids=lambda e: e.id)
def test_functions_with_a_stable_form_stay_finite_at_large_inputs(entry):
    # exp(1000) overflows; the max-shifted forms do not (and an overflow warning is an error here).
    from matref.snippets.numpy_function import draw, load_function
    ident = matref.parse_identity(entry.formula, entry.where, entry.layout)
    fn, _ = load_function(FUNCTION.snippet(entry, entry.layout))
    args, _ = draw(ident, 0, ident.sizes, scale=1000.0)
    assert np.all(np.isfinite(fn(*args)))
