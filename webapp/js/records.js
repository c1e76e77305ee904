// Local copies of server records: pulled state plus pending local intents on top.
import { req, transact } from './db.js';
import { caseSettlement, rebase } from './sync-rules.js';
import { open, openAll, seal } from './vault.js';

/**
 * Apply one pulled page and its cursor in one transaction.
 * @param {object[]} changes protocol changes
 * @param {string} cursor
 * @param {string|null} resyncMark set on every record a resync pull returns
 */
export function applyPull(changes, cursor, resyncMark = null) {
  return transact(['records', 'outbox', 'meta'], 'readwrite', async (tx) => {
    const records = tx.objectStore('records');
    const outbox = (await req(tx.objectStore('outbox').getAll())).map((e) => open(e));
    const byRecord = new Map();
    for (const e of outbox.sort((a, b) => a.seq - b.seq)) {
      // A conflict's settlement also counts as a change of its case (sync-rules.js).
      for (const one of [e, caseSettlement(e)].filter(Boolean)) {
        if (!byRecord.has(one.record_id)) byRecord.set(one.record_id, []);
        byRecord.get(one.record_id).push(one);
      }
    }
    for (const change of changes) {
      const key = [change.entity, change.record_id];
      const mine = (byRecord.get(change.record_id) || []).filter((e) => e.entity === change.entity);
      const existing = open(await req(records.get(key)));
      if (change.op === 'remove' && !mine.length) {
        records.delete(key);
        continue;
      }
      const record = existing || { entity: change.entity, id: change.record_id, confirmed: [] };
      if (change.op === 'remove') Object.assign(record, { server: null, version: null, confirmed: [] });
      else Object.assign(record, { server: change.data, version: change.version });
      const { data, confirmed } = rebase(record, mine);
      records.put(seal('records', {
        ...record,
        data,
        confirmed,
        seen: resyncMark ?? record.seen ?? null,
        pending: mine.filter((e) => e.status === 'pending').length,
        rejected: mine.filter((e) => e.status === 'rejected').length,
        held: mine.filter((e) => e.status === 'held').length,
      }));
    }
    tx.objectStore('meta').put({ key: 'cursor', value: cursor });
  });
}

/** After a resync: drop local records the fresh pull did not return, unless intents need them. */
export function dropUnseen(resyncMark) {
  return transact(['records', 'outbox'], 'readwrite', async (tx) => {
    const outbox = await req(tx.objectStore('outbox').getAll());
    const needed = new Set(outbox.map((e) => e.record_id));
    const records = tx.objectStore('records');
    const all = await req(records.getAll());
    let dropped = 0;
    for (const r of all) {
      if (r.seen !== resyncMark && !needed.has(r.id)) {
        records.delete([r.entity, r.id]);
        dropped += 1;
      }
    }
    return dropped;
  });
}

/** Keys starting with the entity ([entity, id], [entity, reported_at]); an array sorts after any id or time. */
const ofEntity = (entity) => IDBKeyRange.bound([entity], [entity, []]);

/** All records of an entity, read by key range (quicker than through the `entity` index). */
export async function list(entity) {
  // Read in chunks, and decrypt each (WebCrypto, off the main thread) while the next is read.
  const opening = [];
  await transact(['records'], 'readonly', async (tx) => {
    const store = tx.objectStore('records');
    let range = ofEntity(entity);
    for (;;) {
      const rows = await req(store.getAll(range, LIST_CHUNK));
      if (rows.length) opening.push(openAll(rows));
      if (rows.length < LIST_CHUNK) return;
      const last = rows[rows.length - 1];
      range = IDBKeyRange.bound([last.entity, last.id], [entity, []], true);
    }
  });
  return (await Promise.all(opening)).flat();
}

const LIST_CHUNK = 1000;

/** An entity's rows as stored (sealed). */
export function rawList(entity) {
  return transact(['records'], 'readonly', (tx) => req(tx.objectStore('records').getAll(ofEntity(entity))));
}

/**
 * The newest `limit` records of an entity by `data.reported_at` (ties: larger id first), read
 * from the `entity_reported` index without touching the others: a list's first page. (Counting
 * them all would cost as much as reading them, so no count.)
 * @returns {Promise<object[]>}
 */
export async function newest(entity, limit) {
  return openAll(await transact(['records'], 'readonly', (tx) => {
    const index = tx.objectStore('records').index('entity_reported');
    if (index.getAllRecords) { // one request (recent Chromium), where a cursor takes one per step
      const request = index.getAllRecords({ query: ofEntity(entity), count: limit, direction: 'prev' });
      return req(request).then((rows) => rows.map((row) => row.value));
    }
    return new Promise((resolve, reject) => {
      const request = index.openCursor(ofEntity(entity), 'prev');
      const rows = [];
      request.onsuccess = () => {
        const cursor = request.result;
        if (cursor) rows.push(cursor.value);
        if (cursor && rows.length < limit) cursor.continue();
        else resolve(rows);
      };
      request.onerror = () => reject(request.error);
    });
  }));
}

export async function get(entity, id) {
  return open(await transact(['records'], 'readonly', (tx) => req(tx.objectStore('records').get([entity, id]))));
}

/** Timeline entries of a case, oldest first. */
export async function eventsOf(caseId) {
  const rows = await openAll(await transact(['records'], 'readonly', (tx) => req(tx.objectStore('records').index('case_id').getAll(caseId))));
  return rows.filter((r) => r.entity === 'case_event')
    .sort((a, b) => String(a.data.created_at || a.data.at).localeCompare(String(b.data.created_at || b.data.at)));
}

/** Mark a conflict's outcome as seen on this device (settling one is `conflict.resolve`). */
export function setConflictHandled(id, how) {
  return transact(['records'], 'readwrite', async (tx) => {
    const store = tx.objectStore('records');
    const record = open(await req(store.get(['conflict', id])));
    if (record) store.put(seal('records', { ...record, handled: how }));
  });
}

/** Reference data as maps by code, for forms and labels (one transaction for all five). */
export async function referenceData() {
  const [towns, categories, sites, routes, users] = await Promise.all((await transact(['records'], 'readonly', (tx) => Promise.all(
    ['town', 'category', 'site', 'route', 'user'].map((e) => req(tx.objectStore('records').getAll(ofEntity(e)))),
  ))).map(openAll));
  const data = (rows) => rows.map((r) => ({ id: r.id, ...r.data }));
  return {
    towns: data(towns),
    categories: data(categories),
    sites: data(sites),
    routes: data(routes),
    users: new Map(users.map((u) => [u.id, u.data])),
  };
}
