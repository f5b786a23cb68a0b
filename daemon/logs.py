"""Logging through structlog: key=value on a terminal, JSON otherwise (systemd, CI).

JSON is chosen when stderr is not a TTY, or when it is the journal (``$JOURNAL_STREAM``
names stderr's device and inode, as systemd sets it for ``StandardError=journal``).
Context (document, locale, group and job ids) is bound with ``structlog.contextvars``
where the work happens and merged into every event logged inside it.

A redaction processor runs before rendering and masks any field whose name looks like
a secret, so a stray ``api_key=...`` can never reach the journal.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog

_SECRET_NAME = re.compile(r"(?i)secret|token|api_?key|authorization|signature|password|cookie")


@functools.lru_cache(maxsize=1024)
def _names_a_secret(key: str) -> bool:
    """Whether a field of this name is masked; cached, as the same few dozen names recur in every
    event (a regex search per field was a quarter of the cost of a log line)."""
    return key != "event" and _SECRET_NAME.search(key) is not None


def redact(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in [key for key in event if _names_a_secret(key)]:
        event[key] = "**********"
    return event


def is_journal(stream: TextIO) -> bool:
    """True when ``stream`` is connected to journald (``$JOURNAL_STREAM`` is ``<device>:<inode>``)."""
    value = os.environ.get("JOURNAL_STREAM", "")
    device, _, inode = value.partition(":")
    try:
        stat = os.fstat(stream.fileno())
        return (int(device), int(inode)) == (stat.st_dev, stat.st_ino)
    except (ValueError, OSError):
        return False


def wants_json(stream: TextIO) -> bool:
    """The ``auto`` choice: JSON unless ``stream`` is a terminal, and always for the journal."""
    return is_journal(stream) or not stream.isatty()


def configure(*, json_output: bool | None = None, level: str = "info") -> None:
    """Configure structlog once per process. ``json_output`` defaults to ``wants_json(stderr)``.

    Loggers are cached on first use: without it every call binds a new logger through
    structlog's lazy proxy, about 4 % of the daemon's CPU per webhook delivery. The level is
    fixed for the process's life, so nothing needs the configuration to change later.
    Each event is one ``write`` of the whole line: ``print`` (structlog's PrintLogger) writes
    the newline separately, which under ``PYTHONUNBUFFERED=1`` (common in container images)
    is two syscalls per line, and lets another writer of the same stderr (a library's
    ``logging`` handler, a child process) land between a line and its newline.
    In-process tests never call this, so ``structlog.testing.capture_logs`` keeps working there.
    """
    if json_output is None:
        json_output = wants_json(sys.stderr)
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if json_output
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redact,
            structlog.processors.format_exc_info if json_output else structlog.processors.StackInfoRenderer(),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[level.upper()]),
        logger_factory=structlog.WriteLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(name)s %(levelname)s %(message)s")
