"""Which keys are ignored, locked, preserved or translated (``ignoredKeys`` & co.).

The semantics follow the Lingo.dev CLI (v0, ``i18n.json`` buckets), so that a config written
for it means the same here:

* Docs (https://lingo.dev/en/cli/translation-keys, .../cli/key-locking, .../cli/key-ignoring,
  .../cli/key-preserving): patterns are key paths with ``/`` between nesting levels and ``*``
  as wildcard (``"navigation/menuItems/*"``, ``"internal/*"``); a ``.`` inside a segment is
  literal (``modules/ai.translation`` is the key ``ai.translation`` inside ``modules``). The
  docs do not say whether ``*`` crosses ``/`` nor whether naming an object covers its keys.
* Source (lingodotdev/lingo.dev, ``packages/cli/src/cli/utils/key-matching.ts`` and its
  spec): a key matches when it equals the pattern, starts with the pattern followed by
  ``/``, ``.`` or ``-`` (so ``inbox`` covers ``inbox/details``, ``inbox.title``, ``inbox-0``
  but not ``inbox_url``), or matches it as a ``minimatch`` glob, where ``*`` stays within one
  ``/`` segment (``api/*/users`` matches ``api/v1/users``, not ``api/users``) and ``**`` is a
  globstar spanning any number of segments.

What we do, and where we deliberately differ:

* ``*`` matches any characters within one segment, ``**`` as a whole segment matches any
  number of segments (zero included); other glob syntax (``?``, ``[...]``, ``{a,b}``, ``!``)
  is taken literally, since real keys contain such characters.
* A pattern covers everything below what it matches, also when it has wildcards:
  ``internal/*`` covers ``internal/a/b`` (Lingo.dev's literal prefix rule misses that, which
  contradicts the docs' intent of ignoring a whole section). The ``.``/``-`` continuation of
  the last segment is kept for compatibility: ``AuthenticationPage`` covers the flat key
  ``AuthenticationPage.title``.
* ``*`` also matches segments starting with a dot (minimatch would not, by default).

Patterns are matched against the escaped flat keys of ``daemon.keypaths``, so a ``/`` inside
an object key is written ``~1`` in a pattern too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

KeyClass = Literal["ignored", "locked", "preserved", "translate"]


def validate_pattern(pattern: str) -> str | None:
    """Why ``pattern`` is unusable, or ``None`` if it is fine (for the config loader's report)."""
    if not pattern:
        return "the pattern is empty"
    if pattern.startswith("/"):
        return "a key pattern must not start with '/'; write the path from the top-level key, e.g. 'legal/terms'"
    if "" in pattern.split("/"):
        return "the pattern has an empty segment ('//' or a trailing '/')"
    return None


def _segment_regex(segment: str) -> str:
    return "[^/]*".join(re.escape(part) for part in re.split(r"\*+", segment))


def pattern_regex(pattern: str) -> str:
    """The regex source that ``key + "/"`` must fully match for ``pattern`` to cover ``key``.

    Matching ``key + "/"`` turns "the segments so far, then anything below" into a simple
    suffix ``.*`` (every segment, the last included, ends with ``/``).
    """
    problem = validate_pattern(pattern)
    if problem is not None:
        raise ValueError(f"invalid key pattern {pattern!r}: {problem}")
    segments = pattern.split("/")
    out = []
    for index, segment in enumerate(segments):
        if segment == "**":
            out.append("(?:[^/]*/)*")
        elif index == len(segments) - 1:
            out.append(_segment_regex(segment) + r"(?:[.\-][^/]*)?/")
        else:
            out.append(_segment_regex(segment) + "/")
    return "".join(out) + ".*"


def _compile(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{pattern_regex(p)})" for p in patterns), re.DOTALL)


@dataclass(frozen=True)
class KeyRules:
    """The key patterns of one source, compiled once; ``classify`` is called for every key.

    Precedence is ignored > locked > preserved: a key that is both ignored and locked never
    reaches a target file. Raises ``ValueError`` for an invalid pattern (the config loader
    reports those earlier, with ``validate_pattern``).
    """

    locked: Sequence[str] = ()
    ignored: Sequence[str] = ()
    preserved: Sequence[str] = ()
    _ignored_re: re.Pattern[str] | None = field(init=False, repr=False, compare=False)
    _locked_re: re.Pattern[str] | None = field(init=False, repr=False, compare=False)
    _preserved_re: re.Pattern[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Tuples, so that the rules are hashable and no caller can change them afterwards.
        for name in ("locked", "ignored", "preserved"):
            value = getattr(self, name)
            if isinstance(value, str):
                raise TypeError(f"{name} must be a list of patterns, not a string")
            object.__setattr__(self, name, tuple(value))
        object.__setattr__(self, "_ignored_re", _compile(tuple(self.ignored)))
        object.__setattr__(self, "_locked_re", _compile(tuple(self.locked)))
        object.__setattr__(self, "_preserved_re", _compile(tuple(self.preserved)))

    def classify(self, key: str) -> KeyClass:
        """What to do with ``key``: leave it out, copy the source, keep the target, or translate."""
        probe = key + "/"
        if self._ignored_re is not None and self._ignored_re.fullmatch(probe):
            return "ignored"
        if self._locked_re is not None and self._locked_re.fullmatch(probe):
            return "locked"
        if self._preserved_re is not None and self._preserved_re.fullmatch(probe):
            return "preserved"
        return "translate"
