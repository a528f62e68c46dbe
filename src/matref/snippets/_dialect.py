"""The record every snippet dialect provides, and the harness that runs a generated script."""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from typing import Callable


class SnippetFailed(AssertionError):
    """Generated code did not run, or ran and did not confirm the identity."""


@dataclass(frozen=True)
class Dialect:
    """One snippet dialect.

    - `name`: what `matref snippet ID --dialect NAME` takes and the site's `data-lang`.
    - `label`: the tab title on the site; `language`: the code fence's language.
    - `script(formula, where, layout, title=None) -> str | None`: the text for any identity.
    - `none_reason`: why `script` may return None (said by the CLI and counted by the tests).
    - `entry_snippet(entry, layout)`: optional, for a dialect that uses more of an entry than its
      formula, where-clause and title (the function dialect names its function after the id).
    - `run(text, formula, where, layout)`: execute exactly `text` and confirm it (raises
      `SnippetFailed` otherwise); the only place generated code is executed.
    """

    name: str
    label: str
    language: str
    script: Callable[..., str | None]
    run: Callable[[str, str, str, str], None]
    none_reason: str = ""
    entry_snippet: Callable[..., str | None] | None = None  # (entry, layout), where an entry adds more than its formula

    def snippet(self, entry, layout: str) -> str | None:
        """The text of a catalogue entry in `layout` (what the site shows), or None."""
        if self.entry_snippet is not None:
            return self.entry_snippet(entry, layout)
        return self.script(entry.formula_in(layout), entry.where, layout, title=entry.title)

    def run_entry(self, text: str, entry, layout: str) -> None:
        """Run `text` (this dialect's snippet of `entry` in `layout`) and confirm it."""
        self.run(text, entry.formula_in(layout), entry.where, layout)


def execute(text: str, label: str) -> tuple[dict, str]:
    """Execute `text` verbatim in a fresh namespace; (its namespace, what it printed).

    Only ever called on text matref generated itself, never on user input."""
    out = io.StringIO()
    namespace = {"__name__": "__snippet__"}
    try:
        code = compile(text, f"<snippet {label}>", "exec")
        with contextlib.redirect_stdout(out):
            exec(code, namespace)  # noqa: S102 - our own generated code (see the docstring)
    except SnippetFailed:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure of generated code is the snippet's failure
        raise SnippetFailed(f"{label}: {type(exc).__name__}: {exc}") from exc
    return namespace, out.getvalue()


def script_runner(expect: str, label: str) -> Callable[[str, str, str, str], None]:
    """A `run` for self-checking scripts: they assert internally and finally print `expect`..."""
    def run(text: str, formula: str, where: str, layout: str) -> None:
        _, printed = execute(text, f"{label} {layout}")
        if not printed.startswith(expect):
            raise SnippetFailed(f"{label} ({layout}) printed {printed[:200]!r}, not {expect!r}...")
    return run
