"""MkDocs hook: the matref site is built by `matref.site`; this file only connects it to MkDocs.

A hook rather than a plugin with an entry point: a hook is found by path in mkdocs.yml, so the site
builds from a fresh checkout (the checkout's `src/` is put on the path below) without re-installing
the package after every change to the glue, and the wheel users install declares no MkDocs plugin
for a tool they may not have. All the logic lives in `matref.site`, which is unit-tested on its own.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SRC = str(ROOT / "src")

if importlib.util.find_spec("matref") is None:  # building before scripts/setup installed matref
    sys.path.insert(0, SRC)
# The notebook kernel is a separate process: let it import the same matref as the build.
if SRC not in os.environ.get("PYTHONPATH", "").split(os.pathsep):
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (os.environ.get("PYTHONPATH"), SRC) if p)

from matref.site._mkdocs import SiteBuild  # noqa: E402

# MkDocs loads this module afresh for every build (also every `mkdocs serve` rebuild), so this one
# object lives exactly as long as the build whose events it handles. (What a serve session keeps
# across rebuilds lives in matref.site._mkdocs.SESSION, which is imported once.)
_build = SiteBuild(ROOT)
on_startup = _build.on_startup
on_serve = _build.on_serve
on_shutdown = _build.on_shutdown
on_config = _build.on_config
on_files = _build.on_files
on_nav = _build.on_nav
on_env = _build.on_env
on_pre_page = _build.on_pre_page
on_page_markdown = _build.on_page_markdown

on_post_page = _build.on_post_page
on_post_template = _build.on_post_template
on_post_build = _build.on_post_build
