"""The Coverage page: the catalogue against the Matrix Cookbook and Wikipedia's identity tables."""

from __future__ import annotations

from collections import Counter

from ._markdown import inline_math, md_text, wiki_anchor

_STATUS = {"covered": "covered", "partly covered": "partly", "implied": "implied",
           "not covered": "**not covered**"}


def _links(ids, by_id) -> str:
    return ", ".join(f"[{md_text(by_id[i].title)}](reference/{by_id[i].page}.md#{i})" for i in ids if i in by_id)


def _coverage_rows(rows, by_id) -> list[str]:
    out = ["| | Status | Entries | What is left out, and why |", "|---|---|---|---|"]
    for row in rows:
        reason = md_text(" ".join(row.reason.split())) if row.reason else ""
        out.append(f"| {md_text(row.label)} | {_STATUS.get(row.status, row.status)} | {_links(row.ids, by_id)} | {reason} |")
    return out


def _wikipedia_rows(table, rows, by_id) -> list[str]:
    out = ["| Row | Identity | Status | Entries stating it | Why not, or what is left out |", "|---|---|---|---|---|"]
    for n, row in enumerate(rows, 1):
        anchor = wiki_anchor(table, n)
        why = md_text(" ".join(row.reason.split())) if row.reason else ""
        if row.implied_by:
            why = f"Implied by {_links(row.implied_by, by_id)}. {why}"
        text = inline_math(row.text.replace("|", "\\vert "))
        out.append(f'| <span id="{anchor}"></span>{row.label} | {text} | {_STATUS.get(row.status, row.status)} | '
                   f"{_links(row.ids, by_id)} | {why} |")
    return out


def coverage_page(cat) -> str:
    """The catalogue against the Matrix Cookbook and Wikipedia, from matref's coverage data."""
    from matref import _coverage
    c = _coverage.counts(cat)
    out = [
        "# Coverage",
        "",
        "What the catalogue covers, computed from the entries' sources when the site is built. Where an "
        "equation or a table row is left out, or only partly checked, the reason is stated.",
        "",
        f"The catalogue holds **{c['entries']}** entries: **{c['identities']}** identities, **{c['errata']}** "
        f"errata and **{c['pitfalls']}** pitfalls (each erratum and pitfall also carries a checked correct "
        f"formula). {c['variants']} identities are deliberate variants of another entry (the study note's own "
        f"statements, a network layer's letters); {c['aliases']} ids of merged duplicates stay as permalinks.",
        "",
        "| Family | Entries | Identities | Errata | Pitfalls |",
        "|---|---:|---:|---:|---:|",
    ]
    for fam in cat.families:
        kinds = Counter(getattr(e, "kind", "identity") for e in fam.entries)
        out.append(f"| [{md_text(fam.title)}](reference/{fam.name}.md) | {len(fam.entries)} | {kinds['identity']} | "
                   f"{kinds['erratum']} | {kinds['pitfall']} |")
    out += [f"| **All** | **{c['entries']}** | **{c['identities']}** | **{c['errata']}** | **{c['pitfalls']}** |", ""]
    by_id = {e.id: e for e in cat.entries}
    rows = _coverage.cookbook_rows(cat)
    n = Counter(r.status for r in rows)
    out += [
        "## The Matrix Cookbook, chapter 2",
        "",
        f"Equations {rows[0].label} to {rows[-1].label} of the Matrix Cookbook (version of 2012-11-15), the "
        f"derivatives chapter: **{n['covered']}** covered, **{n['partly covered']}** partly covered, "
        f"**{n['not covered']}** not covered. Entries also cite equations of chapters 1 and 10.",
        "",
        *_coverage_rows(rows, by_id),
        "",
    ]
    rev = _coverage.wikipedia_revision()
    wiki = _coverage.wikipedia_rows(cat)
    out += [
        "## Wikipedia's identity tables",
        "",
        f"Every row of every identity table of the Wikipedia article *{rev['article']}*, numbered in order "
        "within its table; entries cite a row as `Wikipedia: scalar-by-vector #12`. Coverage counts rows, "
        f"not citing entries: **{c['wikipedia_covered']}** of **{c['wikipedia_rows']}** rows are stated by an "
        f"entry, {c['wikipedia_partly']} partly, {c['wikipedia_implied']} only implied by a more general entry, "
        f"{c['wikipedia_rows'] - c['wikipedia_covered'] - c['wikipedia_partly'] - c['wikipedia_implied']} not "
        "covered.",
        "",
        "**Which revision.** " + md_text(f"Revision id: {rev['revision_id']}. Date: {rev['date']}. Copy the "
                                         f"rows were numbered from: {rev['copy']}.") +
        f" SHA-256 of matref's row list (`catalogue/_wikipedia.toml`): `{rev['rows_sha256']}`. "
        + md_text(rev["excluded"]),
        "",
    ]
    for t in _coverage.wikipedia_tables():
        trows = wiki[t.key]
        k = Counter(r.status for r in trows)
        out += [f"### {md_text(t.caption)}", "",
                f"Cited as `Wikipedia: {t.key} #n`. {k['covered']} of {len(trows)} rows covered"
                + (f", {k['partly covered']} partly" if k['partly covered'] else "")
                + (f", {k['implied']} implied" if k['implied'] else "") + ".", "",
                *_wikipedia_rows(t.key, trows, by_id), ""]
    return "\n".join(out)


