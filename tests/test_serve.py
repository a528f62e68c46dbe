"""`mkdocs serve` end to end: a catalogue edit is served from an in-place update, and checked.

Runs in a copy of the checkout, never the checkout itself. The copy is served with a config that
inherits mkdocs.yml without the notebook and API plugins (they have nothing to do with the edit
loop and would add a notebook run to a cold first build). Nothing here measures time: waits have
generous timeouts, and `scripts/bench` reports how fast the loop is.
"""

from __future__ import annotations

import re

import pytest

from site_helpers import ROOT, copy_checkout, mkdocs_serve, wait_for

# One strict build (and the checkout's site caches) per test session: these tests run on one worker.
pytestmark = pytest.mark.xdist_group("site")

# Everything of mkdocs.yml (theme, Markdown extensions, validation, the hook) but two plugins.
E2E_CONFIG = """INHERIT: mkdocs.yml
plugins:
  - search
nav:
  - Home: index.md
  - Conventions: conventions.md
  - Reference: reference/index.md
  - Errata: errata.md
  - Pitfalls: pitfalls.md
  - Coverage: coverage.md
  - Study note: study-note.md
not_in_nav: |
  check.md
  derive.md
  matrixcalculus-org.md
  snippets.md
  api.md
"""

ORIGINAL = r"formula = '\operatorname{tr}(A) = \operatorname{tr}(A^T)'"
WRONG_TEX = r"\operatorname{tr}(A) = 2 \operatorname{tr}(A^T)"


def row(page: str, entry_id: str) -> str:
    """One entry's row of a served family page."""
    start = page.index(f'<div class="matref-entry" data-entry="{entry_id}"')
    end = page.find('<div class="matref-entry" ', start + 1)
    return page[start:end if end > 0 else len(page)]


def test_an_edit_is_updated_in_place_marked_while_checking_and_a_refutation_is_shown(tmp_path, built):
    # `built` first: the strict build fills the checkout's caches, which the copy takes along
    repo = copy_checkout(ROOT, tmp_path / "repo")
    (repo / "mkdocs-e2e.yml").write_text(E2E_CONFIG, encoding="utf-8")
    toml = repo / "src" / "matref" / "catalogue" / "traces.toml"
    original = toml.read_text(encoding="utf-8")
    assert ORIGINAL in original, "the test edits trace-transpose, which has moved or changed"

    with mkdocs_serve(repo, "-f", "mkdocs-e2e.yml") as (base, log, proc):
        url = base + "reference/traces/"
        first = wait_for(url, lambda t: 'id="trace-transpose"' in t, 300, alive=lambda: proc.poll() is None)
        assert first is not None, f"the server never served {url}:\n{log.read_text()}"
        assert "matref-check" not in first  # nothing edited yet: no marker anywhere

        toml.write_text(original.replace(ORIGINAL, f"formula = '{WRONG_TEX}'"), encoding="utf-8")
        edited = wait_for(url, lambda t: "2 \\operatorname{tr}(A^T)" in t, 120)
        assert edited is not None, f"the edit never reached the page:\n{log.read_text()}"
        mark = row(edited, "trace-transpose")
        # Served before or after its check, never claimed as checked while it does not hold:
        assert "checking…" in mark or "Does not hold" in mark
        assert "each checked numerically" not in edited

        refuted = wait_for(url, lambda t: "Does not hold" in row(t, "trace-transpose"), 180)
        assert refuted is not None, f"the refutation never reached the page:\n{log.read_text()}"
        banner = row(refuted, "trace-transpose")
        assert 'class="matref-check matref-check--fails"' in banner and "refuted" in banner
        assert "does not hold" in (wait_for(base + "reference/", lambda t: True, 30) or "")

        toml.write_text(original, encoding="utf-8")  # back to the form the tests check: no marker
        back = wait_for(url, lambda t: "2 \\operatorname{tr}(A^T)" not in t and "matref-check" not in t, 120)
        assert back is not None, f"the page kept its marker after the edit was undone:\n{log.read_text()}"

    served = log.read_text()
    assert re.search(r"matref: updated \d+ page\(s\) and \d+ code fragment\(s\) in place", served), served
    assert "Traceback" not in served
