"""Merging values into target files, with the two guards that protect people's work.

0. Placeholders: a translation that loses, adds or breaks a placeholder or tag is not
   written (``daemon.placeholders``); the previous value stays and the key is reported.
1. Stale results: a result for version V is applied to a key only if V is the latest
   version sent for that key and locale, and the key's source still has the checksum
   that was sent. Keys that did not change since still apply.
2. Manual edits: a target value that differs from what we last wrote (and from the
   incoming value) was edited by hand. It is kept, recorded as ``human`` and reported;
   locsync never overwrites a ``human`` value. Deleting the key from the target file
   hands it back to locsync.

Files are written atomically; the state is updated after the file, and because applying
is idempotent (an already-written value counts as ours), a crash between the two is
repaired by applying again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import structlog

from daemon.atomic import atomic_write
from daemon.checksums import value_hash
from daemon.errors import FormatError
from daemon.formats.base import Format, Leaf, ParsedFile
from daemon.keyrules import KeyRules
from daemon.placeholders import problems
from daemon.state.store import LocaleKeyRecord

log = structlog.get_logger("locsync.writeback")


@dataclass
class MergeOutcome:
    """What a merge decided, key by key."""

    values: dict[str, Leaf]
    written: dict[str, tuple[str, str]] = field(default_factory=dict)
    kept_human: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    resend: list[str] = field(default_factory=list)
    rejected: dict[str, str] = field(default_factory=dict)


def merge_result(
    *,
    target: dict[str, Leaf] | None,
    result: dict[str, object],
    version: int,
    source: dict[str, Leaf],
    source_checksums: dict[str, str],
    records: dict[str, LocaleKeyRecord],
    rules: KeyRules,
) -> MergeOutcome:
    """Decide which translated keys of a version-``version`` result go into the target."""
    values = dict(target or {})
    outcome = MergeOutcome(values)
    for key, translated in result.items():
        record = records.get(key)
        stale = (
            key not in source
            or not isinstance(translated, str)
            or rules.classify(key) not in ("translate", "preserved")
            or record is None
            or record.sent_version != version
        )
        # The source moved on after this version was sent and nothing newer is in flight:
        # forget the send, so the next plan sends the key again even if the source text
        # has meanwhile returned to what this version carried.
        resend = not stale and record is not None and record.sent_checksum != source_checksums.get(key)
        if stale or resend:
            outcome.stale.append(key)
            if resend:
                outcome.resend.append(key)
            # The target already holds exactly this result's value, yet the record says
            # otherwise: this result was written before, and a crash came before its record did
            # (a chunk's records commit after its files). The value is ours, not a person's
            # edit: recorded as such, so no later plan or merge takes it for one and keeps it.
            # An older result than the one recorded cannot be that write (it came after the
            # recorded one); its value may equal the newer one's, whose own apply records it.
            if (record is not None and isinstance(translated, str) and values.get(key) == translated
                    and record.written_hash != value_hash(translated)
                    and version >= (record.written_version or 0)):
                outcome.written[key] = (value_hash(translated), "machine")
            continue
        assert isinstance(translated, str) and record is not None  # else it was stale, above
        broken = problems(str(source[key]), translated)
        if broken:
            outcome.rejected[key] = "; ".join(broken)
            continue
        if may_overwrite(values.get(key), key in values, translated, record):
            values[key] = translated
            outcome.written[key] = (value_hash(translated), "machine")
        else:
            outcome.kept_human.append(key)
            outcome.written[key] = (value_hash(values[key]), "human")
    return outcome


def may_overwrite(current: Leaf, present: bool, new: Leaf, record: LocaleKeyRecord | None) -> bool:
    """True unless the current value is a manual edit we must keep."""
    if not present:
        return True
    current_hash = value_hash(current)
    if current_hash == value_hash(new):
        return True
    if record is None or record.written_hash is None:
        return False
    return current_hash == record.written_hash and record.provenance != "human"


def apply_local(
    values: dict[str, Leaf], writes: dict[str, Leaf], deletes: list[str]
) -> tuple[dict[str, Leaf], dict[str, tuple[str, str]]]:
    """Apply locked copies and deletions (no guards: the source decides these)."""
    merged = dict(values)
    for key in deletes:
        merged.pop(key, None)
    for key, value in writes.items():
        merged[key] = value
    return merged, {k: (value_hash(v), "locked") for k, v in writes.items()}


def read_target(fmt: Format, path: Path, shown: str, locale: str | None = None) -> ParsedFile | None:
    """Parse the target file, or None when it does not exist yet."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise FormatError(shown, None, None, f"cannot read: {exc.strerror}") from exc
    return fmt.parse(data, path=shown, locale=locale)


def write_target(
    fmt: Format,
    path: Path,
    values: dict[str, Leaf],
    *,
    source: ParsedFile,
    target: ParsedFile | None,
    locale: str | None = None,
) -> bool:
    """Render and atomically write the target; False when the bytes would not change.

    Raises ``FileChangedError`` when the file changed since ``target`` was read.
    """
    rendered = fmt.render(values, source=source, target=target, locale=locale)
    if target is not None and rendered == target.raw:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, rendered, expected=target.raw if target is not None else None)
    return True
