"""Flat key paths: ``/``-joined segments with JSON-Pointer escapes (``~0`` = ``~``, ``~1`` = ``/``)."""

from __future__ import annotations


def escape(segment: str) -> str:
    """Escape one object key so it can be a path segment."""
    return segment.replace("~", "~0").replace("/", "~1")


def unescape(segment: str) -> str:
    """Undo ``escape``."""
    return segment.replace("~1", "/").replace("~0", "~")


def join(segments: list[str] | tuple[str, ...]) -> str:
    """Join raw object keys into one flat key."""
    return "/".join(escape(s) for s in segments)


def split(key: str) -> list[str]:
    """Split a flat key into raw object keys."""
    if "~" not in key:  # nothing escaped: most keys
        return key.split("/")
    return [unescape(s) for s in key.split("/")]
