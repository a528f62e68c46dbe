"""Shipping: the publishing workflow, the one version number, and the wheel in a clean environment."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "site.yml"


def pyproject_version() -> str:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


# --------------------------------------------------------------------------------------------------
# The workflow
# --------------------------------------------------------------------------------------------------

def lint_workflow(path: Path) -> subprocess.CompletedProcess:
    """check-jsonschema with its bundled schema of GitHub workflows (no network)."""
    return subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows",
                           str(path)], capture_output=True, text=True)


def test_workflow_is_a_valid_github_workflow(tmp_path):
    proc = lint_workflow(WORKFLOW)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # The linter is not a rubber stamp: the same file with a misspelt key is rejected.
    broken = tmp_path / "broken.yml"
    broken.write_text(WORKFLOW.read_text(encoding="utf-8").replace("runs-on:", "run-on:", 1), encoding="utf-8")
    assert lint_workflow(broken).returncode != 0


def test_workflow_tests_then_publishes_the_strict_build_from_main():
    import yaml

    wf = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    triggers = wf[True] if True in wf else wf["on"]  # YAML 1.1 reads the key `on` as True
    assert triggers["push"]["branches"] == ["main"]
    build = wf["jobs"]["test-and-build"]
    runs = [s.get("run", "") for s in build["steps"]]
    uses = [s.get("uses", "").split("@")[0] for s in build["steps"]]
    test_at = runs.index("scripts/test")  # the README's test command, as written there
    build_at = next(i for i, r in enumerate(runs) if re.search(r"mkdocs build --strict\b", r))
    assert test_at < build_at < uses.index("actions/upload-pages-artifact")
    env = build["steps"][build_at]["env"]
    assert {"MATREF_SITE_URL", "MATREF_REPO_URL"} <= set(env)
    publish = wf["jobs"]["publish"]
    assert publish["needs"] == "test-and-build"
    assert [s["uses"].split("@")[0] for s in publish["steps"]] == ["actions/deploy-pages"]
    assert publish["permissions"] == {"pages": "write", "id-token": "write"}
    assert "scripts/test" in (ROOT / "README.md").read_text(encoding="utf-8")


# --------------------------------------------------------------------------------------------------
# One version
# --------------------------------------------------------------------------------------------------

def test_one_version_number_written_in_pyproject_only():
    import matref

    version = pyproject_version()
    assert matref.__version__ == version
    for module in ("matref", "matref.cli"):  # `python -m matref` is the command too
        out = subprocess.run([sys.executable, "-m", module, "--version"], capture_output=True, text=True)
        assert out.stdout.strip() == f"matref {version}", out.stderr
    written = [p.relative_to(ROOT).as_posix() for p in (ROOT / "src").rglob("*.py")
               if re.search(rf"""["']{re.escape(version)}["']""", p.read_text(encoding="utf-8"))]
    assert written == [], f"the version is written again in {written}; read matref.__version__ instead"


def test_changelog_has_a_section_for_this_version():
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert re.search(rf"^## {re.escape(pyproject_version())}\b", text, re.MULTILINE), \
        "CHANGELOG.md has no '## <version>' section for the version in pyproject.toml"


# --------------------------------------------------------------------------------------------------
# The wheel, installed where there is no Node, no docs extras and no checkout
# --------------------------------------------------------------------------------------------------

def run(cmd, **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.mark.packaging
def test_wheel_installs_and_runs_in_a_clean_environment(tmp_path):
    """Build the wheel from a copy of the sources, install it (with the pinned dependencies, from the
    package index pip is configured with) into a new venv without system site-packages, and run
    every CLI command from there with PATH holding only that venv: no Node, no checkout, no docs."""
    src = tmp_path / "src-copy"  # builds write build/ and *.egg-info; keep them out of the checkout
    shutil.copytree(ROOT / "src", src / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path / "dist"), str(src)])
    wheel, = (tmp_path / "dist").glob("matref-*.whl")
    assert wheel.name.startswith(f"matref-{pyproject_version()}-")

    venv = tmp_path / "venv"
    bin_ = venv / "bin"
    # Nothing of this environment leaks in: no PYTHONPATH (a checkout on it would count as installed),
    # no active venv, PATH holding only the new venv's bin (so no node).
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env.update(PATH=str(bin_), JAX_PLATFORMS="cpu", XDG_CACHE_HOME=str(tmp_path / "cache"))
    env.pop("MATREF_CACHE_DIR", None)
    run([sys.executable, "-m", "venv", str(venv)], env=env)
    # --no-compile: Python writes the bytecode of the modules the commands import as they run; compiling
    # all of JAX's ahead of time took about 5 s of this test's 35 s and tests nothing of ours
    run([bin_ / "python", "-m", "pip", "install", "-q", "--no-compile", "-c", ROOT / "requirements.lock", wheel],
        env=env)
    installed = run([bin_ / "python", "-m", "pip", "list", "--format=freeze"], env=env).stdout.lower()
    for docs_only in ("mkdocs", "playwright", "nbclient", "pytest"):
        assert f"\n{docs_only}==" not in f"\n{installed}", f"{docs_only} came with the wheel"

    def matref(*args: str) -> str:
        return run([bin_ / "matref", *args], env=env, cwd=tmp_path).stdout

    assert matref("--version").strip() == f"matref {pyproject_version()}"
    assert "holds" in matref("check", r"\frac{\partial x^T A x}{\partial x} = (A + A^T) x",
                             "--where", r"x \in \mathbb{R}^{n}, A \in \mathbb{R}^{n \times n}")
    assert "trace-grad-xa" in matref("list", "--grep", "trace")
    assert "A^T" in matref("show", "trace-grad-xa")
    code = matref("snippet", "seed-quadratic-form", "--dialect", "function")
    assert "def " in code and "(A + A.T) @ x" in code
    assert "all 5 entries verified" in matref("verify", "--family", "eigenvalues", "--snippets")
    assert (tmp_path / "cache" / "matref" / "verdicts.json").is_file()  # the user's cache directory
    assert "5 of them as an identical earlier run found" in matref("verify", "--family", "eigenvalues", "--snippets")
