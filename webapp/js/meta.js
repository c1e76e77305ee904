// Small key-value facts kept on the device: device id, token, user, cursor, sync status.
import { req, transact } from './db.js';
import { SEALED_META, isLocked, open, seal } from './vault.js';

/** A fact; a sealed one (the token) reads as null while the vault is locked. */
export function getMeta(key) {
  return transact(['meta'], 'readonly', async (tx) => {
    const row = await req(tx.objectStore('meta').get(key));
    if (row?.sealed && isLocked()) return null;
    return open(row)?.value ?? null;
  });
}

export function setMeta(key, value) {
  return transact(['meta'], 'readwrite', (tx) => {
    if (value === null || value === undefined) tx.objectStore('meta').delete(key);
    else if (SEALED_META.includes(key)) tx.objectStore('meta').put(seal('meta', { key, value }));
    else tx.objectStore('meta').put({ key, value });
  });
}

/** This device's id, made once with crypto.randomUUID() and kept across logins. */
export async function deviceId() {
  return transact(['meta'], 'readwrite', async (tx) => {
    const store = tx.objectStore('meta');
    const row = await req(store.get('device_id'));
    if (row) return row.value;
    const id = crypto.randomUUID();
    store.put({ key: 'device_id', value: id });
    return id;
  });
}
