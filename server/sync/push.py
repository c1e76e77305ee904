"""Push: re-execute a batch of intents in order, each exactly once (protocol rules 1-8)."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from server.domain.errors import RuleViolation
from server.errors import flatten_errors, is_transient
from server.fastpath.bulk_insert import insert_many
from server.fastpath.schema_load import CANONICAL_UUID
from server.models import Device, MutationReceipt, RejectedIntent
from server.models.base import table_of, utcnow
from server.schemas.base import UUIDString
from server.storage.json_text import to_json
from server.sync.case_numbers import NumberBlocks
from server.sync.context import Caller, RefData
from server.sync.feed import FeedWriter
from server.sync.ops import ApplyContext, BatchState, CheckContext, Mutation, Reader, run_check
from server.sync.ops_cases import creates_by_town, prefetch_cases
from server.sync.registry import REGISTRY
from server.text import column_text, storable

log = logging.getLogger(__name__)


def push(
    session: Session,
    caller: Caller,
    ref: RefData,
    writer: FeedWriter,
    mutations: list[Any],
    device_status: dict[str, Any] | None,
    *,
    note_device: bool = True,
) -> list[dict[str, Any]]:
    """Apply `mutations` for `caller`; returns one stored result per mutation, in order.

    The caller opened a feed unit of work (server.storage.database.begin_write) and commits.
    `note_device` False leaves the device's health record alone (rule 8): the intents came
    from the device, but the device itself did not push them (an import of its unsent work).

    An op refuses in its check step, which cannot write (server.sync.ops), so a refusal
    needs no savepoint: the batch runs in one. Anything else that goes wrong with an intent
    (a database constraint the rules did not foresee, a bug in a step) rolls the batch back,
    and it is redone intent by intent, each in a savepoint, so that only the intent that
    failed is rejected (rule 1) and the rest are applied. Transient database trouble (a lock
    timeout, a lost connection, a serialization failure) is not an intent's fault: it ends
    the push with nothing stored, and the device sends it again (rule 9).
    """
    start = writer.checkpoint()
    try:
        with session.connection().begin_nested():
            return apply_batch(
                session,
                caller,
                ref,
                writer,
                mutations,
                device_status,
                careful=False,
                note_device=note_device,
            )
    except Exception as error:
        if is_transient_failure(error):
            raise
        log.warning("%s in a batch; redoing it intent by intent", type(error).__name__)
        writer.reset_to(start)
        return apply_batch(
            session,
            caller,
            ref,
            writer,
            mutations,
            device_status,
            careful=True,
            note_device=note_device,
        )


def is_transient_failure(error: BaseException) -> bool:
    return isinstance(error, DBAPIError) and is_transient(error)


def apply_batch(
    session: Session,
    caller: Caller,
    ref: RefData,
    writer: FeedWriter,
    mutations: list[Any],
    device_status: dict[str, Any] | None,
    *,
    careful: bool,
    note_device: bool = True,
) -> list[dict[str, Any]]:
    """One pass over the batch; `careful` wraps every intent in its own savepoint and writes
    its new rows at once, so a failure is caught with the intent that caused it."""
    assert caller.device_id is not None
    writer.buffer_new_rows = not careful
    ids = [raw.get("mutation_id") for raw in mutations if isinstance(raw, dict)]
    # Rule 2: results already stored for this device and user are replayed, never re-applied;
    # another person's result under the same id is neither replayed nor overwritten.
    stored, foreign = load_receipts(
        session, caller.device_id, caller.user_id, [k for i in ids if (k := id_key(i))]
    )
    batch = BatchState(
        rejected_creates=load_rejected_creates(
            session, caller.device_id, caller.user_id, mutations
        ),
        existing_ids=load_existing_ids(session, mutations),
    )
    if not careful:
        prefetch_cases(Reader(session), batch, mutations)
        batch.numbers = NumberBlocks(creates_by_town(mutations))
    receipts: list[dict[str, Any]] = []
    rejections: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    for raw in mutations:
        key = raw.get("mutation_id") if isinstance(raw, dict) else None
        key = id_key(key)
        if key is not None and key in stored:
            results.append({**stored[key], "replayed": True})
            continue
        if key is not None and key in foreign:
            result = refuse_reused_id(key, raw, batch)
            rejections.append(rejection_row(caller, raw, result))
            results.append(result)
            continue
        # Rule 1: in order; a rejection writes nothing and never blocks the rest.
        result, mutation = apply_one(session, caller, writer, ref, raw, batch, careful)
        if result["status"] == "rejected":
            if mutation is not None and creates(mutation.op):
                batch.rejected_creates.add(mutation.record_id)
            rejections.append(rejection_row(caller, raw, result))
        if mutation is not None:
            stored[mutation.mutation_id] = result
            receipts.append(
                {
                    "device_id": caller.device_id,
                    "mutation_id": mutation.mutation_id,
                    "user_id": caller.user_id,
                    "result": to_json(result),
                    "created_at": utcnow(),
                }
            )
        results.append(result)
    conn = session.connection()
    if receipts:
        insert_many(conn, table_of(MutationReceipt), receipts)
    if rejections:
        insert_many(conn, table_of(RejectedIntent), rejections)
    if batch.numbers is not None:
        batch.numbers.give_back(conn)
    writer.finish()
    if note_device:
        record_device_status(session, caller.device_id, device_status)
    return results


def apply_one(
    session: Session,
    caller: Caller,
    writer: FeedWriter,
    ref: RefData,
    raw: Any,
    batch: BatchState,
    careful: bool = True,
) -> tuple[dict[str, Any], Mutation | None]:
    """Validate the envelope and run the op (in a savepoint when `careful`); returns the
    result to store. Outside careful mode any failure but a refusal propagates to `push`."""
    try:
        if not isinstance(raw, dict):
            raise ValidationError(["Not a valid mapping type."])
        envelope = REGISTRY.envelope_schema.load(raw)
    except ValidationError as error:
        mutation_id = valid_uuid(raw.get("mutation_id")) if isinstance(raw, dict) else None
        record_id = raw.get("record_id") if isinstance(raw, dict) else None
        mutation = None
        if mutation_id is not None:
            mutation = Mutation(mutation_id, str(raw.get("op")), str(record_id), {})
        result = rejected(
            mutation_id or _echo(raw),
            record_id,
            "validation_failed",
            flatten_errors(error.messages),
        )
        return result, mutation
    mutation = Mutation(**envelope)
    spec = REGISTRY.get(mutation.op)
    if not spec.buffered:
        writer.flush()  # it may read or refer to records created earlier in the batch
    check = CheckContext(Reader(session), ref, caller, mutation, batch)
    ctx = ApplyContext(session, writer, ref, caller, mutation, batch)
    if not careful:
        try:
            plan = run_check(spec, check, session.connection())
        except (ValidationError, RuleViolation) as error:
            batch.release(check.claimed)
            return rejected_result(mutation, error), mutation
        outcome = spec.apply(ctx, plan)  # any other failure propagates to `push`
    else:
        checkpoint = writer.checkpoint()
        try:
            with session.connection().begin_nested():
                outcome = spec.apply(ctx, run_check(spec, check, session.connection()))
        except Exception as error:
            if is_transient_failure(error):
                raise
            writer.rollback_to(checkpoint)
            batch.release(check.claimed)
            return rejected_result(mutation, error), mutation
    applied: dict[str, Any] = {
        "mutation_id": mutation.mutation_id,
        "status": outcome.status,
        "record_id": mutation.record_id,
        "version": outcome.version,
    }
    if outcome.status == "merged":
        applied["conflicts"] = outcome.conflicts
    return applied, mutation


def id_key(value: Any) -> str | None:
    """An id from the request in the form ids are stored in (a canonical UUID: the envelope
    schema stores every id so), or None when it cannot name a stored record."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    if CANONICAL_UUID.fullmatch(value):
        return value
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def creates(op: Any) -> bool:
    """Whether `op` names a pushable op that creates a record."""
    return isinstance(op, str) and op in REGISTRY.creating_ops


def rejected_result(mutation: Mutation, error: Exception) -> dict[str, Any]:
    if isinstance(error, ValidationError):
        return rejected(
            mutation.mutation_id,
            mutation.record_id,
            "validation_failed",
            flatten_errors(error.messages),
        )
    if isinstance(error, RuleViolation):
        return rejected(mutation.mutation_id, mutation.record_id, error.code, error.details)
    if isinstance(error, IntegrityError):
        log.warning("constraint violated by mutation %s: %s", mutation.mutation_id, error.orig)
        return rejected(
            mutation.mutation_id,
            mutation.record_id,
            "validation_failed",
            {"_schema": ["Invalid input."]},
        )
    # A server bug met by this intent alone: logged in full, rejected and kept on the phone.
    log.error("server error in mutation %s", mutation.mutation_id, exc_info=error)
    return rejected(mutation.mutation_id, mutation.record_id, "server_error", {})


def rejected(
    mutation_id: Any, record_id: Any, code: str, details: dict[str, Any]
) -> dict[str, Any]:
    # Rule 3: nothing of it was written; the reason is stored and shown in the user's language.
    # What it echoes of the input is made storable (the phone keeps the original).
    return storable(
        {
            "mutation_id": mutation_id,
            "status": "rejected",
            "record_id": record_id if isinstance(record_id, str) else None,
            "error": {"code": code, "details": details},
        }
    )


def rejection_row(caller: Caller, raw: Any, result: dict[str, Any]) -> dict[str, Any]:
    data = raw.get("data") if isinstance(raw, dict) else raw
    record_id = result.get("record_id")
    return {
        "device_id": caller.device_id,
        "user_id": caller.user_id,
        # Text columns take neither NUL nor lone surrogates, whatever the request held.
        "mutation_id": column_text(str(result.get("mutation_id")))[:64],
        "op": column_text(str(raw.get("op") if isinstance(raw, dict) else ""))[:32],
        "record_id": column_text(record_id)[:64] if isinstance(record_id, str) else None,
        "data": storable(data),  # parsed from the request's JSON, so it stores as JSON
        "error_code": result["error"]["code"],
        "error_details": result["error"]["details"],
        "status": "open",
        "created_at": utcnow(),
    }


def refuse_reused_id(key: str, raw: dict[str, Any], batch: BatchState) -> dict[str, Any]:
    """The intent reuses a mutation id this device already used for another person: it is
    not run (its receipt could not be stored, and the id is not theirs) and says so.

    Only devices re-bound to another person before migration 0008 can get here."""
    record_id = id_key(raw.get("record_id"))
    if record_id is not None and creates(raw.get("op")):
        batch.rejected_creates.add(record_id)  # later intents on it depend on a refused create
    return rejected(key, raw.get("record_id"), "mutation_id_reused", {})


def load_receipts(
    session: Session, device_id: str, user_id: str | None, mutation_ids: list[str]
) -> tuple[dict[str, dict[str, Any]], set[str]]:
    """The stored results of `mutation_ids` on this device that are `user_id`'s, and the ids
    whose stored result is someone else's.

    A receipt is the caller's when it names them, or names no one: migration 0008 leaves a
    receipt unattributed only on a device that has had a single user. A primary-key lookup.
    """
    if not mutation_ids:
        return {}, set()
    rows = (
        session.connection()
        .execute(
            select(
                MutationReceipt.mutation_id, MutationReceipt.user_id, MutationReceipt.result
            ).where(
                MutationReceipt.device_id == device_id,
                MutationReceipt.mutation_id.in_(set(mutation_ids)),
            )
        )
        .all()
    )
    own: dict[str, dict[str, Any]] = {}
    foreign: set[str] = set()
    for mutation_id, owner, result in rows:
        if owner is None or owner == user_id:
            own[mutation_id] = json.loads(result)
        else:
            foreign.add(mutation_id)
    return own, foreign


def load_existing_ids(session: Session, mutations: list[Any]) -> set[tuple[str, str]]:
    """Ids the batch's creates name that are already taken, found in one query per table."""
    tables = REGISTRY.create_tables
    wanted: dict[str, set[str]] = {entity: set() for entity in tables}
    for raw in mutations:
        if isinstance(raw, dict) and (record_id := id_key(raw.get("record_id"))):
            op = raw.get("op")
            if isinstance(op, str) and creates(op):
                wanted[REGISTRY.get(op).entity].add(record_id)
    taken: set[tuple[str, str]] = set()
    for entity, ids in wanted.items():
        if ids:
            table = tables[entity]
            found = (
                session.connection()
                .execute(select(table.c.id).where(table.c.id.in_(ids)))
                .scalars()
            )
            taken.update((entity, record_id) for record_id in found)
    return taken


def load_rejected_creates(
    session: Session, device_id: str, user_id: str | None, mutations: list[Any]
) -> set[str]:
    """Records of this device and user whose create the server refused earlier (rule 1).

    A device never changes its user (server.accounts.logins.bind_device); the user is matched
    too so that no one's refusals ever shape another person's push."""
    ids: set[str] = set()
    for raw in mutations:
        if isinstance(raw, dict):
            if record_id := id_key(raw.get("record_id")):
                ids.add(record_id)
            data = raw.get("data")
            if isinstance(data, dict) and isinstance(data.get("case_id"), str):
                if case_id := id_key(data["case_id"]):
                    ids.add(case_id)
    if not ids:
        return set()
    found = session.connection().execute(
        select(RejectedIntent.record_id).where(
            RejectedIntent.device_id == device_id,
            RejectedIntent.user_id == user_id,
            RejectedIntent.op.in_(REGISTRY.creating_ops),
            RejectedIntent.record_id.in_(ids),
        )
    )
    return {record_id for record_id in found.scalars() if record_id is not None}


def record_device_status(session: Session, device_id: str, status: dict[str, Any] | None) -> None:
    """Rule 8: the device object updates the server's view of the device."""
    now = utcnow()
    values: dict[str, Any] = {"last_seen_at": now, "last_push_at": now}
    if status:
        for key, column in (
            ("pending", "pending_count"),
            ("app_version", "app_version"),
            ("sw_version", "sw_version"),
            ("storage_used", "storage_used"),
        ):
            if key in status:
                values[column] = status[key]
    # Core on the connection: an ORM-enabled UPDATE would first look for Device objects
    # in the session to keep them in step.
    session.connection().execute(update(Device).where(Device.id == device_id).values(**values))


def valid_uuid(value: Any) -> str | None:
    try:
        return UUIDString()._deserialize(value, None, None)
    except (ValidationError, TypeError, AttributeError):
        return None


def _echo(raw: Any) -> Any:
    value = raw.get("mutation_id") if isinstance(raw, dict) else None
    return value if isinstance(value, (str, int)) and len(str(value)) <= 64 else None
