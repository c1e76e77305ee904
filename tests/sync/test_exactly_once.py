"""Exactly once under replays: batches whose replies were lost are sent again three times,
shuffled, split in halves and interleaved with other devices. A thousand random cases: no
duplicate row, no duplicate feed or audit entry, and every replay returns the stored result."""

from __future__ import annotations

import random
from collections import Counter

from tests.factories import case_create, case_event, case_update

CASES = 1000
DEVICES = 4
BATCH = 50
TOWNS = ["dayan", "shenzhen", "xidian", "shiliang", "xiaojiang"]


def random_batch(rng: random.Random, town: str, known: dict[str, int], size: int) -> list[dict]:
    """Mostly new cases, with edits and timeline entries of cases this phone made earlier."""
    batch = []
    for _ in range(size):
        roll = rng.random()
        if known and roll < 0.15:
            case_id = rng.choice(list(known))
            batch.append(
                case_update(case_id, known[case_id], description=f"补充情况 {rng.random():.6f}")
            )
        elif known and roll < 0.3:
            batch.append(case_event(rng.choice(list(known)), "mediation", "再次调解"))
        else:
            involved = [rng.choice([t for t in TOWNS if t != town])] if roll > 0.8 else []
            batch.append(
                case_create(
                    town,
                    title=f"纠纷 {rng.randrange(10**6)}",
                    severity=rng.choice(["low", "medium", "high"]),
                    involved_towns=involved,
                )
            )
    return batch


def check_replay(device, batch: list[dict], stored: dict[str, dict]) -> None:
    results = device.push_ok(*batch)
    for mutation, result in zip(batch, results, strict=True):
        assert result.pop("replayed") is True
        assert result == stored[mutation["mutation_id"]]


def test_a_thousand_cases_resent_every_which_way_are_applied_once(login, rows, backend):
    from server.models import Case, CaseEvent, Change, FeedEntry, MutationReceipt

    rng = random.Random(20261126)
    devices = [login(f"{TOWNS[i % len(TOWNS)]}_worker") for i in range(DEVICES)]
    known: list[dict[str, int]] = [{} for _ in devices]
    stored: dict[str, dict] = {}
    pending: list[tuple[int, list[dict]]] = []  # batches whose replies were "lost"
    creates = 0
    case_ids: set[str] = set()  # every case.create the server acknowledged
    while creates < CASES:
        index = rng.randrange(DEVICES)
        device = devices[index]
        batch = random_batch(
            rng, TOWNS[index % len(TOWNS)], known[index], min(BATCH, CASES - creates)
        )
        results = device.push_ok(*batch)  # committed, but the phone never hears back
        for mutation, result in zip(batch, results, strict=True):
            assert result["status"] in ("applied", "merged"), result
            stored[mutation["mutation_id"]] = result
            if mutation["op"] in ("case.create", "case.update"):
                known[index][mutation["record_id"]] = result["version"]
            if mutation["op"] == "case.create":
                creates += 1
                case_ids.add(mutation["record_id"])
        pending.append((index, batch))
        if len(pending) >= 3 or creates >= CASES:
            # The phones come back: each lost batch is sent again, three different ways.
            for owner, lost in pending:
                device = devices[owner]
                check_replay(device, rng.sample(lost, len(lost)), stored)  # shuffled
                half = len(lost) // 2
                check_replay(device, lost[half:], stored)  # split in halves, back to front
                check_replay(device, lost[:half], stored)
                other = devices[(owner + 1) % DEVICES]
                extra = random_batch(rng, TOWNS[(owner + 1) % DEVICES % len(TOWNS)], {}, 3)
                for mutation, result in zip(extra, other.push_ok(*extra), strict=True):
                    stored[mutation["mutation_id"]] = result  # interleaved with another phone
                    creates += 1
                    case_ids.add(mutation["record_id"])
                check_replay(device, lost, stored)
            pending.clear()

    cases, events = rows(Case), rows(CaseEvent)
    assert len(case_ids) >= CASES
    assert sorted(c.id for c in cases) == sorted(case_ids)  # each once, none missing
    changes = rows(Change)
    per_mutation = Counter(c.mutation_id for c in changes if c.entity in ("case", "case_event"))
    assert per_mutation and max(per_mutation.values()) == 1  # each intent audited once
    assert len(rows(MutationReceipt)) == len(stored)
    feed = rows(FeedEntry)
    assert len({(f.entity, f.record_id) for f in feed}) == len(feed)
    assert len({f.seq for f in feed}) == len(feed)
    assert {e.id for e in events} <= {f.record_id for f in feed if f.entity == "case_event"}
