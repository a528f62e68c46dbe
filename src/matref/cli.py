"""The `matref` command: check your own identity, browse and verify the catalogue."""

from __future__ import annotations

import argparse
import json
import sys
import time

from rich.console import Console
from rich.text import Text

from ._errors import MatrefError
from ._plans import DRAWS_PER_PLAN, PLANS

EXIT_HOLDS, EXIT_REFUTED, EXIT_CANNOT = 0, 1, 2
STYLE = {"holds": "bold green", "refuted": "bold red", "cannot check": "bold yellow"}
MARK = {"holds": "✓", "refuted": "✗", "cannot check": "?"}


class _Version(argparse.Action):
    """`--version`, reading the package metadata only when asked (every other command skips it)."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, help="show matref's version and exit")

    def __call__(self, parser, namespace, values, option_string=None):
        from . import __version__
        sys.stdout.write(f"matref {__version__}\n")  # on stdout, as argparse's own version action
        parser.exit()


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="matref", description="A verified matrix-calculus reference.")
    p.add_argument("--version", action=_Version)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    c = sub.add_parser("check", help="check an identity written in LaTeX",
                       description="Check an identity numerically against JAX autodiff. "
                                   "Exit status: 0 holds, 1 refuted, 2 cannot check.")
    c.add_argument("formula", help=r"the identity, e.g. '\frac{\partial x^T x}{\partial x} = 2x'")
    c.add_argument("--where", default="", help=r"declarations, e.g. 'x \in \mathbb{R}^{n}'")
    c.add_argument("--layout", choices=["denominator", "numerator"], default="denominator")
    c.add_argument("--json", action="store_true", help="print a machine-readable verdict")
    c.add_argument("--snippet", action="store_true", help="print a runnable snippet instead (the JAX check by default)")
    _dialect_options(c, "with --snippet: ")
    c.add_argument("--seed", type=int, default=0, help="seed for the random inputs (default 0)")
    c.add_argument("--draws", type=int, default=DRAWS_PER_PLAN,
                   help=f"random draws at each of the {PLANS} size plans (default {DRAWS_PER_PLAN})")

    ls = sub.add_parser("list", help="list the catalogue's identities")
    ls.add_argument("--family", help="only this family (see the first column)")
    ls.add_argument("--grep", metavar="TEXT",
                    help="only identities whose id, title, formula or sources contain TEXT (any case)")

    sh = sub.add_parser("show", help="show one identity: formula in both layouts, sources, snippet")
    sh.add_argument("id")
    _dialect_options(sh, "")

    sn = sub.add_parser("snippet", help="print just the code of an identity's snippet")
    sn.add_argument("id")
    _dialect_options(sn, "")
    sn.add_argument("--layout", choices=["denominator", "numerator"], help="default: the entry's own")

    d = sub.add_parser("derive", help="derive the derivative of an expression, every step checked",
                       description="Derive the derivative of an expression by matrix differential calculus: "
                                   "the differential, each term as tr(M dX) (or M dx), then the derivative in both "
                                   "layouts; every step is checked before the next. Exit status: 0 derived and "
                                   "verified, 2 cannot derive.")
    d.add_argument("expression", help=r"the expression, e.g. '\operatorname{tr}(A X B X^T)'")
    d.add_argument("--by", "--wrt", dest="by", required=True,
                   help="the variable to differentiate by, e.g. X (--wrt is the same option)")
    d.add_argument("--where", default="", help=r"declarations, e.g. 'X, A, B \in \mathbb{R}^{n \times n}'")
    d.add_argument("--layout", choices=["denominator", "numerator"], default="denominator",
                   help="the layout whose result is shown first (the JSON steps end in it); both are always "
                        "derived and checked (default: denominator)")
    d.add_argument("--hessian", action="store_true",
                   help="go on to the Hessian (a scalar expression of a column vector)")
    d.add_argument("--json", action="store_true", help="print the derivation as JSON")
    d.add_argument("--seed", type=int, default=0, help="seed for the random inputs of the checks (default 0)")

    v = sub.add_parser("verify", help="verify the catalogue (both layouts, errata, snippets)")
    v.add_argument("--family", help="only this family")
    v.add_argument("--seed", type=int, default=0)
    v.add_argument("--snippets", action="store_true", help="also run every generated snippet")
    v.add_argument("--jobs", "-j", type=_at_least_one, metavar="N",
                   help="verify N entries at a time, each in its own process (default: $MATREF_JOBS, else one per core)")
    v.add_argument("--fresh", action="store_true",
                   help="verify every entry again, even those an identical earlier run verified")
    v.add_argument("--no-cache", action="store_true",
                   help="neither reuse nor record verdicts (they are kept in the user's cache directory, "
                        "or $MATREF_CACHE_DIR)")
    return p


def _at_least_one(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, not {text!r}")
    return n


def _dialect_options(p: argparse.ArgumentParser, prefix: str) -> None:
    # Names are checked against the registry when used, so building the parser imports nothing heavy.
    p.add_argument("--dialect", default="jax", metavar="NAME",
                   help=f"{prefix}the snippet dialect: jax (default), numpy, function (see docs/snippets.md)")
    p.add_argument("--numpy", dest="dialect", action="store_const", const="numpy",
                   help=f"{prefix}the NumPy closed form (same as --dialect numpy)")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    console = Console(highlight=False, soft_wrap=True)
    try:
        return {"check": cmd_check, "list": cmd_list, "show": cmd_show, "snippet": cmd_snippet,
                "derive": cmd_derive, "verify": cmd_verify}[args.command](args, console)
    except MatrefError as e:
        Console(stderr=True, highlight=False).print(Text.assemble(("matref:", "bold yellow"), f" {e}"))
        return EXIT_CANNOT
    except KeyboardInterrupt:
        return 130


def _err(*parts) -> None:
    Console(stderr=True, highlight=False, soft_wrap=True).print(Text.assemble(*parts))


def cmd_check(args, console: Console) -> int:
    if args.snippet:
        from ._errors import ShapeClash
        from .snippets import dialect
        d = dialect(args.dialect)
        try:
            text = d.script(args.formula, args.where, args.layout)
        except ShapeClash as e:
            _err(f"refuted: {e}; no snippet for an identity that does not conform")
            return EXIT_REFUTED
        if text is None:
            _err(f"no {d.label} snippet: {d.none_reason}; try --dialect jax")
            return EXIT_CANNOT
        sys.stdout.write(text)
        return EXIT_HOLDS
    if args.draws < 1 or args.draws > 1000:
        Console(stderr=True).print("--draws must be between 1 and 1000")
        return EXIT_CANNOT
    from ._check import check
    # No persistent compilation cache here: a check traces and replays with NumPy, and the few
    # constants JAX evaluates while tracing compile faster than the cache writes them to disk.
    verdict = check(args.formula, args.where, args.layout, draws=args.draws, seed=args.seed)
    if args.json:
        sys.stdout.write(json.dumps(verdict.to_dict(), ensure_ascii=False) + "\n")
    else:
        console.print(Text.assemble((f"{MARK[verdict.status]} {verdict.status}", STYLE[verdict.status]),
                                    f": {verdict.message}"))
        for line in verdict.details:
            console.print(Text(line))
    return verdict.exit_code


def cmd_derive(args, console: Console) -> int:
    from ._derive import derive
    result = derive(args.expression, args.by, args.where, layout=args.layout, hessian=args.hessian, seed=args.seed)
    if args.json:
        sys.stdout.write(json.dumps(result.to_dict(), ensure_ascii=False) + "\n")
        return result.exit_code
    for i, step in enumerate(result.steps, 1):
        mark = "holds" if step.holds else next(v.status for v in step.verdicts if not v.holds)
        console.print(Text.assemble((f"{i}. {MARK[mark]} ", STYLE[mark]), (step.rule, "bold")))
        if step.numerator and args.layout == "numerator":
            console.print(Text(f"   numerator layout: {step.numerator}"))
            console.print(Text(f"   denominator layout: {step.formula}"))
            continue
        console.print(Text(f"   {step.formula}"))
        if step.numerator:
            console.print(Text(f"   numerator layout: {step.numerator}"))
    status = result.status
    say = "derived" if result.holds else "cannot derive"
    console.print(Text.assemble((f"{MARK[status]} {say}", STYLE[status]), f": {result.message}"))
    failed = [v for s in result.steps for v in s.verdicts if not v.holds]
    for line in failed[0].details if failed else []:
        console.print(Text(line))
    return result.exit_code


def _catalogue():
    from ._catalogue import load_catalogue
    return load_catalogue()


def _family(cat, name: str | None):
    if name is None:
        return cat.families
    try:
        return (cat.family(name),)
    except KeyError:
        raise MatrefError(f"no family {name!r}; families: {', '.join(f.name for f in cat.families)}") from None


def _entry(cat, id: str):
    try:
        return cat.get(id)
    except KeyError:
        import difflib
        near = difflib.get_close_matches(id, [e.id for e in cat.entries], n=3)
        hint = f"; did you mean {', '.join(near)}?" if near else "; see `matref list`"
        raise MatrefError(f"no identity with id {id!r}{hint}") from None


def _matches(entry, needle: str) -> bool:
    """Whether `needle` occurs in the entry's id, merged ids, title, formula or sources, ignoring case
    (and, so that `x^TAx` finds `x^T A x`, also ignoring spaces)."""
    hay = "\n".join([entry.id, *entry.aliases, entry.title, entry.formula, entry.other_layout or "",
                     *entry.sources]).lower()
    needle = needle.lower()
    squeeze = "".join  # drop all whitespace
    return needle in hay or squeeze(needle.split()) in squeeze(hay.split())


def cmd_list(args, console: Console) -> int:
    cat = _catalogue()
    if not console.is_terminal:  # piped: no terminal width to honour, so keep each row on one line
        console = Console(width=200, highlight=False)
    entries = [(fam, e) for fam in _family(cat, args.family) for e in fam.entries
               if args.grep is None or _matches(e, args.grep)]
    if not entries:
        _err(f"no identity matches {args.grep!r}")
        return EXIT_REFUTED  # as grep does: 1 when nothing matches
    # Ids are what `show` and permalinks take: never cut or wrapped; titles and sources wrap instead.
    # Below 120 columns there is no room for four columns, so families become headings and the
    # sources (printed by `matref show`) are left out.
    wide = console.width >= 120
    from rich.table import Table
    table = Table(box=None, header_style="bold")
    if wide:
        table.add_column("family", no_wrap=True)
    table.add_column("id", no_wrap=True, min_width=max(len(e.id) for _, e in entries) + (0 if wide else 2))
    table.add_column("title", overflow="fold", ratio=3)
    if wide:
        table.add_column("sources", overflow="fold", ratio=2)
    heading = None
    for fam, e in entries:
        mark = {"erratum": (" (erratum)", "red"), "pitfall": (" (pitfall)", "yellow")}.get(e.kind, "")
        title = Text.assemble(e.title, mark)
        if wide:
            table.add_row(fam.name, e.id, title, Text(", ".join(e.sources)))
            continue
        if fam.name != heading:
            heading = fam.name
            table.add_row(Text(fam.name, "bold"), "", end_section=False)
        table.add_row(Text("  " + e.id), title)
    console.print(table)
    return EXIT_HOLDS


def cmd_show(args, console: Console) -> int:
    from .snippets import dialect
    d = dialect(args.dialect)
    e = _entry(_catalogue(), args.id)
    say = console.print
    say(Text.assemble((e.title, "bold"), f"  ({e.id}, {e.family})"))
    if args.id != e.id:
        say(Text(f"  ({args.id} was merged into {e.id})"))
    if e.layout_independent:
        say(Text(f"  same in both layouts:  {e.formula}"))
    else:
        for layout in ("denominator", "numerator"):
            say(Text(f"  {layout + ' layout:':22s} {e.formula_in(layout)}"))
    if e.where:
        say(Text(f"  where {e.where}"))
    say(Text(f"  sources: {', '.join(e.sources)}"))
    if e.kind == "erratum":
        say(Text.assemble("  ", (f"as printed in {e.wrong_source}:", "red"), f" {e.wrong or e.wrong_text}"))
        say(Text(f"  the source assumes: {e.assumptions}"))
        say(Text(f"  {e.explanation}"))
    if e.kind == "pitfall":
        say(Text.assemble("  ", (f"pitfall, {e.misreading}:", "yellow"), f" {e.wrong}"))
        say(Text(f"  {e.explanation}"))
    if e.notes:
        say(Text(f"  note: {e.notes}"))
    text = d.snippet(e, e.layout)
    if text is None:
        say(Text(f"  (no {d.label} snippet: {d.none_reason})"))
        return EXIT_HOLDS
    say()
    # The code goes out untouched: no markup, no highlighting, no wrapping, so it runs as printed.
    console.file.flush()
    sys.stdout.write(text)
    return EXIT_HOLDS


def cmd_snippet(args, console: Console) -> int:
    from .snippets import dialect
    d = dialect(args.dialect)
    e = _entry(_catalogue(), args.id)
    text = d.snippet(e, args.layout or e.layout)
    if text is None:
        _err(f"{e.id}: no {d.label} snippet: {d.none_reason}; try --dialect jax")
        return EXIT_CANNOT
    sys.stdout.write(text)
    return EXIT_HOLDS


def cmd_verify(args, console: Console) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ._verify import VerdictStore, default_store_path, verify_entries
    from ._workers import default_jobs
    cat = _catalogue()
    entries = [e for fam in _family(cat, args.family) for e in fam.entries]
    store = None if args.no_cache else VerdictStore(default_store_path())
    jobs = args.jobs or default_jobs()
    start = time.perf_counter()
    reused = 0
    with Progress(TextColumn("[bold]verifying[/]"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("{task.fields[current]}"), console=console, transient=True) as progress:
        task = progress.add_task("verify", total=len(entries), current="")

        def done(r):
            nonlocal reused
            reused += r.reused
            progress.update(task, advance=1, current=r.entry.id)

        results = verify_entries(entries, seed=args.seed, snippets=args.snippets, jobs=jobs, store=store,
                                 fresh=args.fresh, done=done)
    elapsed = time.perf_counter() - start
    from rich.table import Table
    table = Table("family", "entries", "hold (both layouts)", "errata refuted", "failed", box=None,
                  header_style="bold")
    for fam in _family(cat, args.family):
        rs = [r for r in results if r.entry.family == fam.name]
        errata = [r for r in rs if r.entry.wrong_form is not None]
        failed = sum(not r.ok for r in rs)
        table.add_row(fam.name, str(len(rs)), str(sum(all(v.holds for v in r.layouts.values()) for r in rs)),
                      f"{sum(r.wrong.status == 'refuted' for r in errata)}/{len(errata)}" if errata else "-",
                      f"[red]{failed}[/]" if failed else "0")
    console.print(table)
    bad = [r for r in results if not r.ok]
    for r in bad:
        console.print(Text.assemble((f"✗ {r.entry.id}", "bold red"), f" ({r.entry.location})"))
        for p in r.problems:
            console.print(Text(f"    {p}"))
    what = "checks and snippets" if args.snippets else "checks"
    how = f"{what}, {elapsed:.1f} s" + (f", {jobs} processes" if jobs > 1 and len(results) - reused > 1 else "")
    if reused:
        how += (f"; {reused} of them as an identical earlier run found (same fields, code and libraries; "
                "--fresh runs them again)")
    if bad:
        console.print(f"[bold red]{len(bad)} of {len(results)} entries failed[/] ({how})")
        return EXIT_REFUTED
    console.print(f"[bold green]all {len(results)} entries verified[/] in both layouts ({how})")
    return EXIT_HOLDS


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
