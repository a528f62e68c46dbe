"""The `matref` command: check your own identity, browse and verify the catalogue."""

from __future__ import annotations

import argparse
import json
import sys
import time

from rich.console import Console
from rich.table import Table

from ._errors import MatrefError

EXIT_HOLDS, EXIT_REFUTED, EXIT_CANNOT = 0, 1, 2
STYLE = {"holds": "bold green", "refuted": "bold red", "cannot check": "bold yellow"}
MARK = {"holds": "✓", "refuted": "✗", "cannot check": "?"}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="matref", description="A verified matrix-calculus reference.")
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
    c.add_argument("--draws", type=int, default=4, help="random draws (default 4)")

    ls = sub.add_parser("list", help="list the catalogue's identities")
    ls.add_argument("--family", help="only this family (see the first column)")

    sh = sub.add_parser("show", help="show one identity: formula in both layouts, sources, snippet")
    sh.add_argument("id")

    sn = sub.add_parser("snippet", help="print just the code of an identity's snippet")
    sn.add_argument("id")
    _dialect_options(sn, "")
    sn.add_argument("--layout", choices=["denominator", "numerator"], help="default: the entry's own")

    v = sub.add_parser("verify", help="verify the catalogue (both layouts, errata, snippets)")
    v.add_argument("--family", help="only this family")
    v.add_argument("--seed", type=int, default=0)
    v.add_argument("--snippets", action="store_true", help="also run every generated snippet")
    return p


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
                "verify": cmd_verify}[args.command](args, console)
    except MatrefError as e:
        Console(stderr=True, highlight=False).print(f"[bold yellow]matref:[/] {e}", markup=True)
        return EXIT_CANNOT
    except KeyboardInterrupt:
        return 130


def _plain(text: str) -> str:
    return text.replace("[", r"\[")


def cmd_check(args, console: Console) -> int:
    if args.snippet:
        from ._errors import ShapeClash
        from .snippets import dialect
        d = dialect(args.dialect)
        try:
            text = d.script(args.formula, args.where, args.layout)
        except ShapeClash as e:
            Console(stderr=True).print(f"refuted: {_plain(str(e))}; no snippet for an identity that does not conform")
            return EXIT_REFUTED
        if text is None:
            Console(stderr=True).print(f"no {d.label} snippet: {d.none_reason}; try --dialect jax")
            return EXIT_CANNOT
        sys.stdout.write(text)
        return EXIT_HOLDS
    if args.draws < 1 or args.draws > 1000:
        Console(stderr=True).print("--draws must be between 1 and 1000")
        return EXIT_CANNOT
    from ._check import check
    from ._numeric import enable_compilation_cache
    enable_compilation_cache()  # a repeated check skips XLA compilation
    verdict = check(args.formula, args.where, args.layout, draws=args.draws, seed=args.seed)
    if args.json:
        sys.stdout.write(json.dumps(verdict.to_dict(), ensure_ascii=False) + "\n")
    else:
        console.print(f"[{STYLE[verdict.status]}]{MARK[verdict.status]} {verdict.status}[/]: {_plain(verdict.message)}")
        for line in verdict.details:
            console.print(_plain(line))
    return verdict.exit_code


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


def cmd_list(args, console: Console) -> int:
    cat = _catalogue()
    if not console.is_terminal:  # piped: do not squeeze ids to the default 80 columns
        console = Console(width=200, highlight=False)
    table = Table("family", "id", "title", "sources", box=None, header_style="bold")
    for fam in _family(cat, args.family):
        for e in fam.entries:
            mark = {"erratum": " [red](erratum)[/]", "pitfall": " [yellow](pitfall)[/]"}.get(e.kind, "")
            table.add_row(fam.name, e.id, e.title + mark,
                          _plain(", ".join(e.sources)))
    console.print(table)
    return EXIT_HOLDS


def cmd_show(args, console: Console) -> int:
    from .snippets import jax_snippet
    e = _entry(_catalogue(), args.id)
    console.print(f"[bold]{_plain(e.title)}[/]  ({e.id}, {e.family})")
    if args.id != e.id:
        console.print(f"  ({args.id} was merged into {e.id})")
    if e.layout_independent:
        console.print(f"  same in both layouts:  {_plain(e.formula)}")
    else:
        for layout in ("denominator", "numerator"):
            console.print(f"  {layout + ' layout:':22s} {_plain(e.formula_in(layout))}")
    if e.where:
        console.print(f"  where {_plain(e.where)}")
    console.print(f"  sources: {_plain(', '.join(e.sources))}")
    if e.kind == "erratum":
        wrong = e.wrong or e.wrong_text
        console.print(f"  [red]as printed in {e.wrong_source}:[/] {_plain(wrong)}")
        console.print(f"  the source assumes: {_plain(e.assumptions)}")
        console.print(f"  {_plain(e.explanation)}")
    if e.kind == "pitfall":
        console.print(f"  [yellow]pitfall, {_plain(e.misreading)}:[/] {_plain(e.wrong)}")
        console.print(f"  {_plain(e.explanation)}")
    if e.notes:
        console.print(f"  note: {_plain(e.notes)}")
    console.print()
    sys.stdout.flush()
    console.print(_plain(jax_snippet(e, e.layout)), markup=False)
    return EXIT_HOLDS


def cmd_snippet(args, console: Console) -> int:
    from .snippets import dialect
    d = dialect(args.dialect)
    e = _entry(_catalogue(), args.id)
    text = d.snippet(e, args.layout or e.layout)
    if text is None:
        Console(stderr=True).print(f"{e.id}: no {d.label} snippet: {d.none_reason}; try --dialect jax")
        return EXIT_CANNOT
    sys.stdout.write(text)
    return EXIT_HOLDS


def cmd_verify(args, console: Console) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ._numeric import enable_compilation_cache
    from ._verify import verify_entry
    from .snippets import DIALECTS
    enable_compilation_cache()
    cat = _catalogue()
    entries = [e for fam in _family(cat, args.family) for e in fam.entries]
    results = []
    start = time.perf_counter()
    with Progress(TextColumn("[bold]verifying[/]"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("{task.fields[current]}"), console=console, transient=True) as progress:
        task = progress.add_task("verify", total=len(entries), current="")
        for e in entries:
            progress.update(task, current=e.id)
            r = verify_entry(e, seed=args.seed)
            if args.snippets:
                for layout in ("denominator", "numerator"):
                    if not r.layouts[layout].holds:
                        continue
                    for d in DIALECTS:
                        try:
                            text = d.snippet(e, layout)
                            if text is not None:
                                d.run_entry(text, e, layout)
                        except Exception as exc:  # noqa: BLE001 - any failure of a snippet is reported
                            r.snippet_errors.append(f"{d.label} snippet ({layout}): {type(exc).__name__}: {exc}")
            results.append(r)
            progress.advance(task)
    elapsed = time.perf_counter() - start
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
        console.print(f"[bold red]✗ {r.entry.id}[/] ({r.entry.location})")
        for p in r.problems:
            console.print(f"    {_plain(p)}")
    what = "checks and snippets" if args.snippets else "checks"
    if bad:
        console.print(f"[bold red]{len(bad)} of {len(results)} entries failed[/] ({what}, {elapsed:.1f} s)")
        return EXIT_REFUTED
    console.print(f"[bold green]all {len(results)} entries verified[/] in both layouts ({what}, {elapsed:.1f} s)")
    return EXIT_HOLDS


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
