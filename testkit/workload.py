"""Workloads: the five towns and case-sized mutations with realistic Chinese text."""

from __future__ import annotations

import uuid

TOWNS = ["dayan", "shenzhen", "xidian", "shiliang", "xiaojiang"]
TEXT = "两村交界处毛竹采伐权属不清，双方各执一词，网格员已到场初步调解，约定三日后再议。"


def case_mutation(i: int) -> dict:
    """A case.create of about 400 bytes of JSON with realistic Chinese text."""
    return {
        "mutation_id": str(uuid.uuid4()),
        "op": "case.create",
        "record_id": str(uuid.uuid4()),
        "client_time": "2026-11-26T09:12:00+08:00",
        "data": {
            "title": f"山林权属争议 {i}",
            "category": "land",
            "primary_town": TOWNS[i % 5],
            "severity": "medium",
            "description": TEXT[: 20 + i % 20],
            "parties": [{"name": "李某", "role": "applicant"}],
            "location": {"lat": 29.48, "lon": 121.17, "accuracy_m": 12},
        },
    }


def case_document(i: int) -> dict:
    """A case of about 640 bytes of UTF-8 JSON (Chinese title, description, parties), the
    record both sides of `bench/vs_pouchdb.py` store: a `case.create`'s data for Fengling, a
    document for PouchDB Server."""
    return {
        "title": f"山林权属争议 {i}",
        "category": "land",
        "primary_town": TOWNS[i % 5],
        "severity": "medium",
        "description": (TEXT * 3)[: 80 + i % 20],
        "parties": [
            {"name": "李某", "role": "applicant", "village": "上林村"},
            {"name": "王某", "role": "respondent", "village": "下林村"},
        ],
        "location": {"lat": 29.48, "lon": 121.17, "accuracy_m": 12},
        "reported_at": "2026-11-26T09:12:00+08:00",
    }
