"""``python -m daemon`` runs the CLI (through the no-op fast path, like the ``locsync`` script)."""

from __future__ import annotations

from daemon.fastpath import main

main()
