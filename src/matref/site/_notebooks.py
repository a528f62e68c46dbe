"""Worked-example notebooks, executed with nbclient while the rest of the site is built.

Executing a notebook (kernel start, JAX and matplotlib imports, the cells) costs ~4.5 s on this kind
of machine. Run synchronously by the notebook plugin it would hold the whole build up; here it runs
in a thread from the moment the files are known and the build waits for it only when it reaches the
notebook's page. The executed copy is what the notebook plugin (set to `execute: false`) renders.

Executed copies are cached under a key of the notebook's bytes and matref's code (not the catalogue
data: an entry edit while serving should not re-run a 4.5 s notebook). Builds that must execute
(CI, the tests) turn the cache off.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path


def executed_path(notebook: Path, cache_dir: Path, code: str) -> Path:
    """Where the executed copy of notebook lives, keyed by its bytes and the code digest."""
    key = hashlib.sha256(notebook.read_bytes() + code.encode()).hexdigest()[:16]
    return cache_dir / f"{notebook.stem}-{key}.ipynb"


def execute(notebook: Path, dest: Path, *, timeout: int = 600) -> None:
    """Run every cell of notebook in a fresh kernel and write the executed notebook to dest.

    A cell that raises fails the run (nbclient's default): a traceback never reaches a page.
    """
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(notebook, as_version=4)
    NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(notebook.parent)}}).execute()
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, suffix=".ipynb.tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        nbformat.write(nb, f)
    os.replace(tmp, dest)


@dataclass
class NotebookRun:
    """One notebook being executed in a thread; `wait()` returns the executed copy or raises its error."""

    source: Path
    dest: Path
    error: BaseException | None = None
    thread: threading.Thread | None = field(default=None, repr=False)

    def start(self) -> "NotebookRun":
        def run():
            try:
                execute(self.source, self.dest)
            except BaseException as exc:  # handed to the build when it reaches the page
                self.error = exc

        self.thread = threading.Thread(target=run, name=f"notebook {self.source.name}", daemon=True)
        self.thread.start()
        return self

    def wait(self) -> Path:
        if self.thread is not None:
            self.thread.join()
        if self.error is not None:
            raise self.error
        return self.dest


def start(notebook: Path, cache_dir: Path, code: str, *, use_cache: bool) -> NotebookRun:
    """Start executing notebook unless a cached executed copy can be used."""
    dest = executed_path(notebook, cache_dir, code)
    if use_cache and dest.is_file():
        return NotebookRun(notebook, dest)
    if not use_cache:  # a private copy, so a concurrent build cannot read it half-written
        dest = Path(tempfile.mkdtemp(prefix="matref-nb-")) / notebook.name
    return NotebookRun(notebook, dest).start()
