"""Progress of a one-shot sync (``locsync sync --once``, ``locsync demo``) on a terminal.

One line, redrawn in place on a TTY (``\\r``); on anything else nothing is drawn, because
logs and CI output should stay line-oriented. No dependency beyond click.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TextIO

import click


@dataclass(frozen=True)
class SyncProgress:
    """Counts for the current one-shot sync (only the versions it submitted or waits for)."""

    documents: int = 0
    keys_planned: int = 0
    groups_queued: int = 0
    groups_submitted: int = 0
    jobs_total: int = 0
    jobs_done: int = 0

    def line(self) -> str:
        parts = [f"{self.documents} files scanned", f"{self.keys_planned} keys planned",
                 f"{self.groups_submitted}/{self.groups_queued} groups submitted"]
        if self.jobs_total:
            parts.append(f"{self.jobs_done}/{self.jobs_total} languages done")
        return ", ".join(parts)


class TerminalProgress:
    """Redraws ``SyncProgress.line()`` on one terminal line; silent when ``stream`` is not a TTY."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.enabled = stream.isatty()
        self._last = ""

    def __call__(self, progress: SyncProgress) -> None:
        line = progress.line()
        if not self.enabled or line == self._last:
            return
        pad = " " * max(0, len(self._last) - len(line))
        self._last = line
        click.echo(f"\r{line}{pad}", file=self.stream, nl=False)

    def close(self) -> None:
        if self.enabled and self._last:
            click.echo("", file=self.stream)
