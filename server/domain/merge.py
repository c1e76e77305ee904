"""Field merge of a concurrent case update (protocol rule 4)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FieldConflict:
    field: str
    kept: Any
    incoming: Any


@dataclass(frozen=True)
class MergeResult:
    """`apply` holds the fields to write; `conflicts` the incoming values set aside."""

    apply: dict[str, Any]
    conflicts: list[FieldConflict] = field(default_factory=list)


def merge_fields(
    current: dict[str, Any], incoming: dict[str, Any], changed_by_others: set[str]
) -> MergeResult:
    """Take incoming values unless another writer changed the field since the device's base.

    A field another writer changed keeps the server's value when the values differ; the
    incoming value becomes a conflict. Equal values are no conflict and no write.
    """
    apply: dict[str, Any] = {}
    conflicts: list[FieldConflict] = []
    for name, value in incoming.items():
        if current.get(name) == value:
            continue
        if name in changed_by_others:
            conflicts.append(FieldConflict(name, current.get(name), value))
        else:
            apply[name] = value
    return MergeResult(apply=apply, conflicts=conflicts)


def fields_changed_by_others(
    history: list[tuple[str | None, set[str]]], device_id: str | None
) -> set[str]:
    """Fields written after the base version by changes that did not come from this device.

    `history` is (device_id, fields) of each change after the base version; console and
    job changes have no device and always count as concurrent.
    """
    changed: set[str] = set()
    for author_device, fields in history:
        if author_device is None or author_device != device_id:
            changed |= fields
    return changed
