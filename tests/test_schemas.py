"""The fast feed serialiser gives exactly what the marshmallow schemas give."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from server.fastpath.schema_dump import FastDump
from server.schemas.cases import CaseDataSchema, CaseEventDataSchema, ConflictDataSchema
from server.schemas.checkins import CheckinDataSchema

NOW = datetime(2026, 11, 26, 1, 12, tzinfo=UTC)
RECORDS = [
    (
        CaseDataSchema,
        {
            "title": "山林界址争议",
            "category": "land",
            "primary_town": "dayan",
            "involved_towns": ["xidian"],
            "parties": [{"name": "李某", "role": "applicant"}],
            "description": "",
            "severity": "high",
            "location": None,
            "photos": ["ab" * 32],
            "reported_at": NOW,
            "number": "DY2026-00001",
            "status": "registered",
            "assignee": None,
            "due_at": NOW,
            "reported_by": "u1",
            "created_at": NOW,
            "updated_at": NOW,
            "is_cross_town": True,
            "town_mask": 5,
            "version": 1,
        },
    ),
    (
        CaseEventDataSchema,
        {
            "case_id": "c1",
            "kind": "status_change",
            "body": "已受理",
            "at": NOW,
            "photos": [],
            "by": None,
            "from_value": "registered",
            "to_value": "accepted",
            "created_at": NOW,
        },
    ),
    (
        ConflictDataSchema,
        {
            "entity": "case",
            "record_id": "c1",
            "field": "title",
            "kept": "甲",
            "incoming": {"x": 1},
            "by": "u1",
            "device_id": None,
            "at": NOW,
            "kept_by": "u2",
            "kept_at": NOW,
            "status": "resolved",
            "resolution": "kept",
            "resolved_by": "u2",
            "resolved_at": NOW,
        },
    ),
    (
        CheckinDataSchema,
        {
            "site_id": "s1",
            "at": NOW,
            "lat": 29.1,
            "lon": 121.2,
            "accuracy_m": 9.5,
            "fix_at": NOW,
            "activity": "visit",
            "participants": 3,
            "participant_names": ["王"],
            "participant_ids": ["m1"],
            "notes": "",
            "photos": [],
            "by": "u1",
            "town": "dayan",
            "distance_m": 12.5,
            "verified": True,
            "unverified_reason": None,
            "created_at": NOW,
        },
    ),
]


@pytest.mark.parametrize(("schema", "record"), RECORDS, ids=lambda v: getattr(v, "__name__", ""))
def test_fast_dump_matches_the_schema(schema, record):
    assert FastDump(schema())(record) == schema().dump(record)
