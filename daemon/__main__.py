"""``python -m daemon`` runs the CLI."""

from __future__ import annotations

from daemon.cli import main

main()
