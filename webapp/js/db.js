// IndexedDB: one memoised open, versioned upgrades that never drop the outbox.
export const DB_NAME = 'fengling';
export const DB_VERSION = 4;
export const STORES = { records: 'records', outbox: 'outbox', blobs: 'blobs', meta: 'meta', drafts: 'drafts' };

// Each step upgrades from version i to i + 1 inside the versionchange transaction.
const UPGRADES = [
  // v1: the first released layout.
  (db) => {
    db.createObjectStore('records', { keyPath: ['entity', 'id'] });
    db.createObjectStore('outbox', { keyPath: 'seq', autoIncrement: true });
    db.createObjectStore('blobs', { keyPath: 'sha256' });
    db.createObjectStore('meta', { keyPath: 'key' });
  },
  // v2: indexes for lists and timelines; outbox entries get a status, blobs an upload state.
  (db, tx) => {
    const records = tx.objectStore('records');
    records.createIndex('entity', 'entity');
    records.createIndex('case_id', 'data.case_id');
    const outbox = tx.objectStore('outbox');
    outbox.createIndex('record_id', 'record_id');
    outbox.createIndex('status', 'status');
    tx.objectStore('blobs').createIndex('state', 'state');
    migrateEach(outbox, (entry) => ({
      status: 'pending',
      entity: entry.op.split('.')[0],
      created_at: entry.client_time,
      ...entry,
    }));
    migrateEach(tx.objectStore('blobs'), (blob) => ({ state: 'pending', ...blob }));
  },
  // v3: records by entity and report time, so the case list's first page is read newest first
  // without reading every case (records with no data.reported_at are simply not in it).
  (db, tx) => {
    tx.objectStore('records').createIndex('entity_reported', ['entity', 'data.reported_at']);
  },
  // v4: drafts of unsaved forms, one per form and record (key "case.new", "case.edit:<id>", ...).
  // Never synced; the outbox and everything else stay as they are.
  (db) => {
    db.createObjectStore('drafts', { keyPath: 'key' });
  },
];

function migrateEach(store, change) {
  store.openCursor().onsuccess = (event) => {
    const cursor = event.target.result;
    if (!cursor) return;
    cursor.update(change(cursor.value));
    cursor.continue();
  };
}

let opening = null;

/**
 * Open the database once per context (page, worker); later calls share the promise.
 * @param {{name?: string, version?: number}} [options]
 * @returns {Promise<IDBDatabase>}
 */
export function openDb({ name = DB_NAME, version = DB_VERSION } = {}) {
  if (opening) return opening;
  opening = new Promise((resolve, reject) => {
    const request = indexedDB.open(name, version);
    request.onupgradeneeded = (event) => {
      const tx = request.transaction;
      for (let v = event.oldVersion; v < version; v += 1) UPGRADES[v](request.result, tx);
    };
    request.onsuccess = () => {
      const db = request.result;
      // Another tab wants a newer schema: let it, and open again on next use.
      db.onversionchange = () => {
        db.close();
        opening = null;
        globalThis.dispatchEvent?.(new Event('fengling:db-closed'));
      };
      resolve(db);
    };
    request.onerror = () => {
      opening = null;
      reject(request.error);
    };
    request.onblocked = () => globalThis.dispatchEvent?.(new Event('fengling:db-blocked'));
  });
  return opening;
}

/** Resolve an IDBRequest. */
export function req(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

/**
 * Run `work(tx)` in one transaction; resolves with its value once the transaction completes.
 * Never await the network inside `work`.
 * @template T
 * @param {string[]} stores
 * @param {'readonly'|'readwrite'} mode
 * @param {(tx: IDBTransaction) => Promise<T>|T} work
 * @returns {Promise<T>}
 */
export async function transact(stores, mode, work) {
  const db = await openDb();
  const tx = db.transaction(stores, mode);
  const done = new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new DOMException('aborted', 'AbortError'));
  });
  let value;
  try {
    value = await work(tx);
  } catch (error) {
    try { tx.abort(); } catch { /* already finished */ }
    await done.catch(() => {});
    throw error;
  }
  await done;
  return value;
}

/** Wipe everything but the device identity, language and text size (after a confirmed logout); the vault goes too. */
export async function wipeUserData() {
  await transact(Object.values(STORES), 'readwrite', async (tx) => {
    for (const name of ['records', 'outbox', 'blobs', 'drafts']) tx.objectStore(name).clear();
    const meta = tx.objectStore('meta');
    const keep = await req(meta.getAll());
    meta.clear();
    for (const row of keep) if (['device_id', 'lang', 'text_size'].includes(row.key)) meta.put(row);
  });
  globalThis.dispatchEvent?.(new Event('fengling:wiped')); // vault.js forgets its key and PIN record
}
