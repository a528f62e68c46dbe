"""Layer 5: every notebook under docs/examples executes without error.

The site build runs them too (mkdocs-jupyter, `allow_errors: false`), but only as part of a whole-site
build whose failure names a page, not a cell. This test runs each notebook on its own, in a fresh
kernel of this interpreter, and a failing cell fails it with the cell's traceback.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbclient
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "docs" / "examples"
NOTEBOOKS = sorted(p for p in EXAMPLES.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
TIMEOUT = 120  # seconds, per cell (nbclient's unit); each notebook runs in a few seconds on 2 cores


def _kernel_env() -> dict[str, str]:
    # The kernel is a separate process: make it import this checkout's matref, on the CPU.
    env = dict(os.environ)
    src = str(ROOT / "src")
    parts = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join([src, *parts])
    env.setdefault("JAX_PLATFORMS", "cpu")
    return env


def test_there_are_notebooks():
    assert NOTEBOOKS, f"no notebooks under {EXAMPLES}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(EXAMPLES)))
def test_notebook_executes(path: Path):
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        timeout=TIMEOUT,
        kernel_name="python3",  # jupyter_client runs the spec's "python" as sys.executable (the venv)
        allow_errors=False,  # the first failing cell raises CellExecutionError with its traceback
        resources={"metadata": {"path": str(path.parent)}},
    )
    try:
        client.execute(env=_kernel_env())
    except nbclient.exceptions.CellExecutionError as err:
        pytest.fail(f"{path.name}: a cell failed\n{err}", pytrace=False)
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, errors
