"""`python -m matref ...` is the `matref` command (for environments where its script is not on PATH)."""

from .cli import main

raise SystemExit(main())
