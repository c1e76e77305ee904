// The outbox: every local change is a record write plus an intent, in one transaction.
import { req, transact } from './db.js';
import { appendToDraftIn, clearDraftIn } from './drafts.js';
import { open, seal, sealBlob } from './vault.js';
import { appendSent, sentItem } from './status-rules.js';
import { CASE_SETTLEMENT, ENTITY_OF_OP, caseSettlement, createsRecord, dependsOnRecord, planSettlement, rebase, withoutConflicts } from './sync-rules.js';

const nowIso = () => new Date().toISOString();

/** An intent the server failed on (5xx) alone: kept, not sent again until the person retries. */
export const HELD = 'held';

/** Why an entry waits with a held create: it needs the record the create makes. */
export const HELD_WITH = 'held_with_record';

/** The version the server gives a conflict when it is settled (ops_cases.settle_conflict). */
const SETTLED_CONFLICT_VERSION = 2;

/** Entries for one record (any status), in outbox order. */
export async function entriesFor(tx, recordId) {
  const entries = (await req(tx.objectStore('outbox').index('record_id').getAll(recordId))).map((e) => open(e));
  return entries.sort((a, b) => a.seq - b.seq);
}

/** Recompute a record's shown data from its server state and its outbox entries. */
export async function refreshRecord(tx, entity, id, { author, entries } = {}) {
  const records = tx.objectStore('records');
  const existing = open(await req(records.get([entity, id])));
  const record = existing || { entity, id, version: null, server: null, confirmed: [], author: author || null };
  const own = (entries || (await entriesFor(tx, id))).filter((e) => e.entity === entity);
  const mine = entity === 'case' ? [...own, ...await settlementsAbout(tx, id)].sort((a, b) => a.seq - b.seq) : own;
  const { data, confirmed } = rebase(record, mine);
  // A conflict's settlement shows on its case too (sync-rules.js: caseSettlement).
  for (const caseId of new Set(own.map((e) => e.about?.case_id).filter(Boolean))) await refreshRecord(tx, 'case', caseId);
  if (data === null && !mine.length) {
    if (existing) records.delete([entity, id]);
    return null;
  }
  const updated = {
    ...record,
    data,
    confirmed,
    pending: mine.filter((e) => e.status === 'pending').length,
    rejected: mine.filter((e) => e.status === 'rejected').length,
    held: mine.filter((e) => e.status === HELD).length,
  };
  records.put(seal('records', updated));
  return updated;
}

/** Pending (or held) conflict settlements about a case, as the case sees them: only the
 * conflict entries are opened, the others are skipped by their clear `entity`. */
async function settlementsAbout(tx, caseId) {
  const index = tx.objectStore('outbox').index('status');
  const rows = [...await req(index.getAll('pending')), ...await req(index.getAll(HELD))];
  return rows.filter((row) => row.entity === 'conflict').map((row) => caseSettlement(open(row)))
    .filter((e) => e?.record_id === caseId);
}

/**
 * Queue an intent and apply it locally, atomically with its photos and the removal of the
 * form's draft.
 * @param {{op: string, record_id: string, data: object, base_version?: number|null,
 *          about?: {case_id: string, field: string, incoming: *}}} intent `about`, for a
 *          conflict's settlement: its case and values, kept on the phone, never sent
 * @param {{blobs?: {sha256: string, blob: Blob, type: string, size: number}[], author?: string,
 *          draftKey?: string|null}} [options]
 */
export async function enqueue(intent, { blobs = [], author = null, draftKey = null } = {}) {
  const stores = ['records', 'outbox', 'blobs', ...(draftKey ? ['drafts'] : [])];
  // Photos are sealed before the transaction (WebCrypto's promises would end it); their hash
  // stays the one of the plain bytes that are uploaded.
  const rows = await Promise.all(blobs.map((blob) => sealBlob({ ...blob, state: 'pending', created_at: nowIso() })));
  return transact(stores, 'readwrite', async (tx) => {
    const entry = await addEntry(tx, intent, { blobs: rows, author });
    clearDraftIn(tx, draftKey);
    return entry;
  });
}

async function addEntry(tx, intent, { blobs = [], author = null } = {}) {
  const entry = {
    mutation_id: crypto.randomUUID(),
    op: intent.op,
    entity: ENTITY_OF_OP[intent.op],
    record_id: intent.record_id,
    base_version: intent.base_version ?? null,
    client_time: nowIso(),
    created_at: nowIso(),
    data: intent.data,
    status: 'pending',
  };
  if (intent.about) entry.about = intent.about;
  if (!entry.entity) throw new Error(`unknown op ${intent.op}`);
  // An edit or entry for a case whose create is held waits with it: sent, it would be refused.
  const create = await heldCreateFor(tx, entry);
  if (create) Object.assign(entry, heldWith(create));
  entry.seq = await req(tx.objectStore('outbox').add(seal('outbox', entry)));
  for (const row of blobs) tx.objectStore('blobs').put(row);
  await refreshRecord(tx, entry.entity, entry.record_id, { author });
  return entry;
}

async function heldCreateFor(tx, entry) {
  const ids = [...new Set([entry.record_id, entry.data?.case_id].filter(Boolean))];
  for (const id of ids) {
    const create = (await entriesFor(tx, id)).find((e) => e.status === HELD && createsRecord(e.op) && dependsOnRecord(entry, e.record_id));
    if (create) return create;
  }
  return null;
}

function heldWith(create) {
  return { status: HELD, held_with: create.mutation_id, error: { code: HELD_WITH, status: null, message: '' }, held_at: nowIso() };
}

/** Entries the engine may send, in order. */
export function pendingEntries() {
  return transact(['outbox'], 'readonly', async (tx) => {
    const all = (await req(tx.objectStore('outbox').getAll())).map((e) => open(e));
    return all.filter((e) => e.status === 'pending').sort((a, b) => a.seq - b.seq);
  });
}

/** Every entry (pending, rejected, held), for the outbox screen and the export. */
export function allEntries() {
  return transact(['outbox'], 'readonly', async (tx) => (await req(tx.objectStore('outbox').getAll())).map((e) => open(e)));
}

export function countPending() {
  return transact(['outbox', 'blobs', 'drafts'], 'readonly', async (tx) => ({
    intents: await req(tx.objectStore('outbox').index('status').count('pending')),
    rejected: await req(tx.objectStore('outbox').index('status').count('rejected')),
    held: await req(tx.objectStore('outbox').index('status').count(HELD)),
    photos: await req(tx.objectStore('blobs').index('state').count('pending')),
    failedPhotos: await req(tx.objectStore('blobs').index('state').count('failed')), // refused: never wiped
    drafts: await req(tx.objectStore('drafts').count()),
  }));
}

/**
 * Set intents aside after the server failed on each of them alone (by mutation id): they stay on
 * the phone, shown as "服务器无法处理", and are not sent again until the person retries. A held
 * create takes its pending dependants along (edits of the record, a case's timeline and moves):
 * sent without it, the server would refuse them for good. Returns how many entries were held.
 */
export function holdEntries(mutationIds, error) {
  return transact(['records', 'outbox'], 'readwrite', async (tx) => {
    const outbox = tx.objectStore('outbox');
    const wanted = new Set(mutationIds);
    const pending = (await req(outbox.index('status').getAll('pending'))).map((e) => open(e)).sort((a, b) => a.seq - b.seq);
    const held = pending.filter((e) => wanted.has(e.mutation_id));
    const changed = [];
    for (const entry of held) {
      outbox.put(seal('outbox', { ...entry, status: HELD, error, held_at: nowIso() }));
      changed.push(entry);
    }
    for (const create of held.filter((e) => createsRecord(e.op))) {
      for (const entry of pending) {
        if (wanted.has(entry.mutation_id) || changed.includes(entry) || !dependsOnRecord(entry, create.record_id)) continue;
        outbox.put(seal('outbox', { ...entry, ...heldWith(create) }));
        changed.push(entry);
      }
    }
    for (const entry of changed) await refreshRecord(tx, entry.entity, entry.record_id);
    return changed.length;
  });
}

/**
 * Send a held intent again, with the same mutation id: the server answered it with an error, so
 * it stored no result, and if it did apply it after all it replays that result. A held create
 * and the entries held with it go back together, whichever of them is retried.
 */
export function retryHeld(seq) {
  return transact(['records', 'outbox'], 'readwrite', async (tx) => {
    const outbox = tx.objectStore('outbox');
    const entry = open(await req(outbox.get(seq)));
    if (entry?.status !== HELD) return;
    const held = (await req(outbox.index('status').getAll(HELD))).map((e) => open(e));
    const root = (entry.held_with && held.find((e) => e.mutation_id === entry.held_with)) || entry;
    const group = [root, ...held.filter((e) => e.held_with === root.mutation_id && e.seq !== root.seq)];
    for (const e of group) {
      const fresh = { ...e, status: 'pending' };
      delete fresh.error;
      delete fresh.held_at;
      delete fresh.held_with;
      outbox.put(seal('outbox', fresh));
    }
    for (const e of group) await refreshRecord(tx, e.entity, e.record_id);
  });
}

/**
 * Settle a pushed batch by the server's results (only a server result settles an intent); the
 * accepted ones go into the "已发送" history with the server's time, in the same transaction.
 */
export function settle(batch, results, userId, serverTime = null) {
  const plan = planSettlement(batch, results);
  return transact(['records', 'outbox', 'meta'], 'readwrite', async (tx) => {
    const outbox = tx.objectStore('outbox');
    const records = tx.objectStore('records');
    const touched = new Map();
    for (const { entry, version, conflicts } of plan.confirmed) {
      outbox.delete(entry.seq);
      const record = open(await req(records.get([entry.entity, entry.record_id])));
      if (record) {
        // A settled conflict comes back as its version 2, whatever version its case reached.
        const own = entry.op === 'conflict.resolve' ? SETTLED_CONFLICT_VERSION : version;
        record.confirmed = [...(record.confirmed || []), { intent: withoutConflicts({ op: entry.op, data: entry.data }, conflicts), version: own }];
        records.put(seal('records', record));
      }
      for (const c of conflicts) records.put(seal('records', conflictRecord(entry, c, userId)));
      touched.set(`${entry.entity}|${entry.record_id}`, entry);
      const settlement = caseSettlement(entry);
      if (settlement) await confirmOnCase(records, settlement, version, touched);
    }
    for (const { entry, error } of plan.rejected) {
      outbox.put(seal('outbox', { ...entry, status: 'rejected', error, rejected_at: nowIso() }));
      touched.set(`${entry.entity}|${entry.record_id}`, entry);
    }
    for (const entry of touched.values()) await refreshRecord(tx, entry.entity, entry.record_id);
    if (plan.confirmed.length) await logSent(tx, plan.confirmed, serverTime);
    return plan;
  });
}

/** A settlement the server took shows on its case until the pull brings the case's new version. */
async function confirmOnCase(records, settlement, version, touched) {
  const record = open(await req(records.get(['case', settlement.record_id])));
  if (!record) return;
  const intent = { op: CASE_SETTLEMENT, data: settlement.data, about: settlement.about };
  records.put(seal('records', { ...record, confirmed: [...(record.confirmed || []), { intent, version }] }));
  touched.set(`case|${settlement.record_id}`, settlement);
}

async function logSent(tx, confirmed, serverTime) {
  const meta = tx.objectStore('meta');
  const log = open(await req(meta.get('sent_log')))?.value ?? [];
  const at = nowIso();
  const items = confirmed.map(({ entry, version }) => sentItem(entry, { version, serverTime, at }));
  meta.put(seal('meta', { key: 'sent_log', value: appendSent(log, items) }));
}

/** What the server took, newest first (at most SENT_LOG_LIMIT lines). */
export function sentLog() {
  return transact(['meta'], 'readonly', async (tx) => open(await req(tx.objectStore('meta').get('sent_log')))?.value ?? []);
}

function conflictRecord(entry, c, userId) {
  const data = { entity: 'case', record_id: entry.record_id, field: c.field, kept: c.kept, incoming: c.incoming, by: userId, status: 'open', at: nowIso() };
  return { entity: 'conflict', id: c.conflict_id, version: 1, server: data, data, confirmed: [], pending: 0, rejected: 0 };
}

/**
 * Drop an intent the person chose to discard; a discarded create takes its dependants along.
 * A workflow move's note can be kept, in the same transaction: `keepNote` 'draft' adds it to the
 * case's draft timeline note, 'timeline' records it as a plain timeline note.
 * @param {number} seq
 * @param {{keepNote?: 'draft'|'timeline'|null, author?: string|null, subject?: string}} [options]
 */
export function discard(seq, { keepNote = null, author = null, subject = '' } = {}) {
  return transact(['records', 'outbox', 'blobs', 'drafts'], 'readwrite', async (tx) => {
    const outbox = tx.objectStore('outbox');
    const entry = open(await req(outbox.get(seq)));
    if (!entry) return;
    let doomed = [entry];
    if (createsRecord(entry.op)) {
      const all = (await req(outbox.getAll())).map((e) => open(e));
      doomed = all.filter((e) => dependsOnRecord(e, entry.record_id));
    }
    for (const e of doomed) outbox.delete(e.seq);
    for (const e of doomed) await refreshRecord(tx, e.entity, e.record_id);
    const note = entry.op === 'case.transition' ? (entry.data?.note || '').trim() : '';
    if (note && keepNote === 'timeline') {
      await addEntry(tx, { op: 'case_event.create', record_id: crypto.randomUUID(), data: {
        case_id: entry.record_id, kind: 'note', body: note, at: nowIso(), photos: [],
      } }, { author });
    } else if (note && keepNote === 'draft') {
      await appendToDraftIn(tx, {
        form: 'case.event', recordId: entry.record_id, href: `#/case/${entry.record_id}?draft=case.event`, subject,
        state: { kind: 'note', body: note, photos: [] },
        append: (state) => ({ ...state, body: state.body ? `${state.body}\n${note}` : note }),
      });
    }
  });
}

/**
 * Send a rejected intent again, as a new mutation (the old id's result is final on the server).
 * A fixed create gets a new record id, since the server refuses the rejected one for good.
 * Returns null, writing nothing and keeping the draft, when the entry is gone.
 */
export function resubmit(seq, { data, base_version, draftKey = null } = {}) {
  return transact(['records', 'outbox', ...(draftKey ? ['drafts'] : [])], 'readwrite', async (tx) => {
    const outbox = tx.objectStore('outbox');
    const entry = open(await req(outbox.get(seq)));
    // Gone (discarded meanwhile): nothing is written, so the form's draft stays.
    if (!entry) return null;
    const isCreate = createsRecord(entry.op);
    const recordId = isCreate ? crypto.randomUUID() : entry.record_id;
    const related = isCreate
      ? (await req(outbox.getAll())).map((e) => open(e)).filter((e) => e.seq !== seq && dependsOnRecord(e, entry.record_id))
      : [];
    const requeue = (e, changes) => {
      outbox.delete(e.seq);
      // A new entry: the store gives it a new seq, and the old rejection does not come along.
      const fresh = { ...e, ...changes, mutation_id: crypto.randomUUID(), status: 'pending' };
      delete fresh.seq;
      delete fresh.error;
      delete fresh.rejected_at;
      delete fresh.held_at;
      delete fresh.held_with;
      return req(outbox.add(seal('outbox', fresh)));
    };
    const newSeq = await requeue(entry, { record_id: recordId, data: data ?? entry.data, base_version: base_version ?? entry.base_version });
    for (const e of related) {
      const moved = e.record_id === entry.record_id ? { record_id: recordId } : { data: { ...e.data, case_id: recordId } };
      await requeue(e, moved);
    }
    for (const e of [entry, ...related]) await refreshRecord(tx, e.entity, e.record_id);
    await refreshRecord(tx, entry.entity, recordId);
    for (const e of related) if (e.record_id !== entry.record_id) await refreshRecord(tx, e.entity, e.record_id);
    clearDraftIn(tx, draftKey); // written: the draft goes in the same transaction
    return { seq: newSeq, record_id: recordId };
  });
}
