"""Planning: what must be sent, written or deleted for one document. Pure; no I/O.

Rules per target locale and source key, by the key's rule class:

- ignored: never sent; removed from the target if present.
- locked, and non-string leaves (numbers, booleans, null): never sent; copied verbatim.
- preserved: sent once, only when the target has no value and we never handled it; never overwritten.
- translate: sent when its source checksum differs from the one last sent for that locale.
  A value already in the target that we have no record of is *adopted* (recorded, not sent),
  so pointing locsync at a project with existing translations does not retranslate them.
  A value we wrote that has since disappeared from the target is sent again.
  A value that differs from what we wrote was edited by hand: it is recorded as ``human``
  and never sent or overwritten again (until it is deleted from the target). Unless it is
  the value of a result received and not yet applied: then locsync wrote it and crashed
  before recording it, and applying that result settles the key.

Keys in the target that are not in the source are deleted when they were ours (we hold a
record, or the key was in the previous source snapshot); keys we never knew are left alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from daemon.checksums import key_checksums, value_hash
from daemon.formats.base import Leaf
from daemon.keyrules import KeyRules
from daemon.plurals import expand_for
from daemon.state.store import LocaleKeyRecord


@dataclass(frozen=True)
class LocaleInput:
    """What the planner needs to know about one target locale."""

    locale: str
    target: dict[str, Leaf] | None
    records: dict[str, LocaleKeyRecord]
    unapplied: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Per key, the values that results received for this locale but not yet applied carry."""


@dataclass
class LocalePlan:
    """The actions for one target locale, with a reason per key for ``locsync plan``."""

    locale: str
    send: dict[str, str] = field(default_factory=dict)
    send_values: dict[str, str] = field(default_factory=dict)
    write: dict[str, Leaf] = field(default_factory=dict)
    delete: list[str] = field(default_factory=list)
    adopt: dict[str, str] = field(default_factory=dict)
    human: dict[str, str] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)
    target_size: int = 0

    @property
    def has_local_changes(self) -> bool:
        return bool(self.write or self.delete or self.adopt or self.human)


@dataclass
class DocumentPlan:
    document: str
    source_checksums: dict[str, str]
    locales: list[LocalePlan]

    def data_to_send(self) -> dict[str, str]:
        """The union of keys any locale needs, in source order, as sent to the provider.

        Plural forms a locale needs but the source lacks (Polish ``few``) carry the source's
        ``other`` text, the same for every locale, so the union is well defined.
        """
        data: dict[str, str] = {}
        for plan in self.locales:
            for key, value in plan.send_values.items():
                data.setdefault(key, value)
        return data

    @property
    def locales_to_send(self) -> list[str]:
        return [plan.locale for plan in self.locales if plan.send]


def plan_document(
    document: str,
    source: dict[str, Leaf],
    previous_source: dict[str, str],
    locales: list[LocaleInput],
    rules: KeyRules,
) -> DocumentPlan:
    """Compare the source with what each target holds and what we recorded.

    Each locale is planned against the source expanded to its own plural categories.
    """
    all_checksums = key_checksums(source)
    plans = []
    for given in locales:
        localized = expand_for(source, given.locale)
        checksums = localized_checksums(source, all_checksums, localized)
        all_checksums.update(checksums)
        plan = _plan_locale(localized, checksums, previous_source, given, rules)
        plan.send_values = {k: v for k, v in localized.items() if k in plan.send and isinstance(v, str)}
        plans.append(plan)
    return DocumentPlan(document, all_checksums, plans)


def _plan_locale(
    source: dict[str, Leaf],
    checksums: dict[str, str],
    previous_source: dict[str, str],
    given: LocaleInput,
    rules: KeyRules,
) -> LocalePlan:
    target = given.target or {}
    records = given.records
    plan = LocalePlan(given.locale, target_size=len(target))
    for key, value in source.items():
        kind = rules.classify(key)
        record = records.get(key)
        present = key in target
        if kind == "ignored":
            if present:
                plan.delete.append(key)
                plan.reasons[key] = "ignored key present in target"
            continue
        if kind == "locked" or not isinstance(value, str):
            if not present or target[key] != value or type(target[key]) is not type(value):
                plan.write[key] = value
                plan.reasons[key] = "locked: copied from source" if kind == "locked" else "non-text value copied"
            continue
        if kind == "preserved":
            if not present and record is None:
                plan.send[key] = checksums[key]
                plan.reasons[key] = "preserved key missing: initialised once"
            continue
        if record is None:
            if present and isinstance(target[key], str):
                plan.adopt[key] = value_hash(target[key])
                plan.reasons[key] = "existing translation adopted"
            else:
                plan.send[key] = checksums[key]
                plan.reasons[key] = "new key"
            continue
        if present and record.written_hash is not None and record.provenance != "human":
            current = value_hash(target[key])
            # a value of a result received and not yet applied: locsync wrote it, and a crash
            # came before the record did (a chunk's records commit after its files). Not a
            # person's edit: applying that result again records it as locsync's (merge_result)
            if current != record.written_hash and target[key] not in given.unapplied.get(key, ()):
                plan.human[key] = current
                plan.reasons[key] = "edited by hand: kept"
                continue
        if record.provenance == "human" and present:
            continue
        if record.sent_checksum != checksums[key]:
            plan.send[key] = checksums[key]
            plan.reasons[key] = "source changed" if record.sent_checksum else "not yet sent"
        elif not present and record.written_hash is not None:
            plan.send[key] = checksums[key]
            plan.reasons[key] = "missing from target"
    for key in target:
        if key in source:
            continue
        if rules.classify(key) == "ignored":
            plan.delete.append(key)
            plan.reasons[key] = "ignored key present in target"
        elif key in records or key in previous_source:
            plan.delete.append(key)
            plan.reasons[key] = "deleted from source"
    return plan


def deletion_share(plan: LocalePlan) -> float:
    """The share of the target's keys this plan deletes (0 for an empty target)."""
    return len(plan.delete) / plan.target_size if plan.target_size else 0.0


def localized_checksums(source: dict[str, Leaf], source_checksums: dict[str, str],
                        localized: dict[str, Leaf]) -> dict[str, str]:
    """The checksums of ``expand_for(source, locale)``, reusing the source's where a key holds
    the same value: a document without plurals is its own expansion, and hashing its keys
    again for every locale was a third of a cold sync's 35,000 hashes."""
    if localized is source:
        return source_checksums
    return {key: source_checksums[key] if source.get(key, _ABSENT) is value else value_hash(value)
            for key, value in localized.items()}


_ABSENT = object()
