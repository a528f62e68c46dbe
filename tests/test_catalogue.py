"""The catalogue: every entry holds in both layouts, every erratum's wrong form is refuted, every
snippet runs verbatim, and a mutated right-hand side is always caught."""

import contextlib
import io
import textwrap
from pathlib import Path

import pytest

import matref
from matref import CatalogueError
from matref._catalogue import load_directory
from matref._verify import run_snippet, verify_entry
from matref.cli import main
from matref.snippets import jax_snippet, numpy_snippet
from mutants import MUTATIONS, mutants

CATALOGUE = matref.load_catalogue()
ENTRIES = CATALOGUE.entries
LAYOUTS = ("denominator", "numerator")
ERRATA = [e for e in ENTRIES if e.kind == "erratum"]


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.id)
def test_entry_holds_in_both_layouts(entry):
    result = verify_entry(entry)
    assert result.ok, f"{entry.location}: " + "; ".join(result.problems)


@pytest.mark.parametrize("entry", ERRATA, ids=lambda e: e.id)
def test_erratum_wrong_form_is_refuted_and_correction_holds(entry):
    assert entry.wrong_source and entry.explanation
    if entry.wrong_form is not None:
        verdict = matref.check(*entry.wrong_form)
        assert verdict.status == "refuted", f"{entry.id}: the wrong form is not refuted: {verdict}"
    assert matref.check(entry.formula, entry.where, entry.layout).holds


@pytest.mark.parametrize("entry, layout", [(e, lay) for e in ENTRIES for lay in LAYOUTS],
                         ids=lambda p: p.id if hasattr(p, "id") else p)
def test_snippets_run_verbatim(entry, layout):
    texts = [("JAX", jax_snippet(entry, layout)), ("NumPy", numpy_snippet(entry, layout))]
    for kind, text in texts:
        if text is None:
            continue
        with contextlib.redirect_stdout(io.StringIO()) as out:
            try:
                run_snippet(text, f"{entry.id} {layout} {kind}")
            except Exception as e:
                pytest.fail(f"{entry.id} ({layout}, {kind} snippet) failed: {type(e).__name__}: {e}\n{text}")
        assert out.getvalue().startswith(("holds:", "closed form:")), f"{entry.id}: {out.getvalue()!r}"


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
        verdict = matref.check(mutated, entry.where, entry.layout, draws=2)
        assert verdict.status == "refuted", f"{entry.id}: {name} mutant was not refuted: {mutated}"


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
def test_the_seed_is_complete(id):
    assert "seed" in CATALOGUE.get(id).sources


def test_seed_errata_are_recorded():
    seed_errata = {e.id for e in ERRATA if e.wrong_source == "seed"}
    assert {"seed-row-vector-times-matrix", "seed-inner-product-rule", "seed-outer-product-rule",
            "seed-layout-matrix-typos"} <= seed_errata


def test_ids_are_unique_and_formulas_in_both_layouts_are_derived():
    ids = [e.id for e in ENTRIES]
    assert len(ids) == len(set(ids))
    e = CATALOGUE.get("seed-quadratic-form")
    assert e.formula_in("numerator") == r"\frac{\partial x^T A x}{\partial x} = x^T \left(A^T + A\right)"
    assert CATALOGUE.get("seed-grad-trace-ab").layout_independent


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
    (lambda t: t.replace('title = "T"', 'title = "T'), "t.toml:3: invalid TOML"),
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


def test_cli_verify_a_family(capsys):
    assert main(["verify", "--family", "layouts", "--snippets"]) == 0
    assert "all 6 entries verified" in capsys.readouterr().out


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
    assert any("seed-squared-norm" in r.ids for r in wikipedia_rows(CATALOGUE)["scalar-by-vector"])
