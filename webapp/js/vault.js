// The vault: local data at rest is encrypted (AES-256-GCM) under a random data key that lives in
// memory only while the app is unlocked. On the phone the data key is kept only wrapped: under a
// key derived from the worker's PIN (PBKDF2-SHA-256) and under the server-held device key the
// login response carries (docs/security.md, "A lost phone"). Rows keep in clear only what the
// database's keys and indexes need (ids, statuses, times); everything else is sealed.
import { gcmKey } from './aes-gcm.js';
import { req, transact, wipeUserData } from './db.js';

export const PIN_ITERATIONS = 600_000;
export const MAX_PIN_FAILURES = 10;
export const MIN_PIN_LENGTH = 6;
export const DEFAULT_IDLE_MINUTES = 5;
export const IDLE_CHOICES = [1, 2, 5, 10, 15, 30];
const VAULT = 'vault';

let state = null; // the vault's clear record: {salt, iterations, pin, server, failures, user_id, username, idle_minutes}
let key = null; // {gcm, crypto, raw} while unlocked
// From the last login, until a PIN wraps the data key under it: {key, userId}. It is that
// person's key and wraps only that person's vault (a refused sign-in of someone else must not
// leave their key for the next PIN change of the person whose vault this is).
let deviceKeyInMemory = null;
// The login answer (token, user) of a sign-in on a phone without a PIN: kept in memory only, and
// written (sealed) by setPin. Before the PIN nothing of the person's is stored: no token, no data.
let heldAuth = null;

export class LockedError extends Error {
  constructor() { super('locked'); this.name = 'LockedError'; this.code = 'locked'; }
}

const b64 = (bytes) => { let s = ''; for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000)); return btoa(s); };
const unb64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
const unb64url = (text) => unb64(text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4));
const random = (n) => crypto.getRandomValues(new Uint8Array(n));

/** Read the vault's clear record (page start, service worker); the data key stays locked. */
export async function loadVault() {
  state = await transact(['meta'], 'readonly', async (tx) => (await req(tx.objectStore('meta').get(VAULT)))?.value ?? null);
  return state;
}

/**
 * Update the vault record as a read-modify-write inside one readwrite transaction: every tab
 * (and the service worker) changes the record on the phone, never its own stale copy. `change`
 * gets the record as stored now and returns the new one (null: delete, undefined: no change);
 * it must be synchronous. At the first PIN the sign-in held in memory is written with it, sealed.
 * Other tabs are told to read the record again (and to lock if the PIN changed).
 * @returns {Promise<object|null>} the record as stored after the update
 */
async function updateState(change, { auth = null, pinChanged = false } = {}) {
  let wrote = false;
  const next = await transact(['meta'], 'readwrite', async (tx) => {
    const meta = tx.objectStore('meta');
    const current = (await req(meta.get(VAULT)))?.value ?? null;
    const updated = change(current);
    if (updated === undefined) return current;
    if (updated) meta.put({ key: VAULT, value: updated });
    else meta.delete(VAULT);
    if (updated && auth) meta.put(seal('meta', { key: 'auth', value: auth }));
    wrote = true;
    return updated;
  });
  state = next;
  if (wrote) vaultChannel?.postMessage({ type: 'vault', pinChanged });
  return next;
}

const vaultChannel = 'BroadcastChannel' in globalThis ? new BroadcastChannel('fengling-vault') : null;
// Another tab changed the record: read it again; a changed PIN locks this tab too (its data key
// is the same, but the person must show the new PIN here as well).
vaultChannel?.addEventListener('message', async (event) => {
  if (event.data?.type !== 'vault') return;
  await loadVault();
  if (!state) key = null;
  globalThis.dispatchEvent?.(new CustomEvent('fengling:vault-changed', { detail: { pinChanged: Boolean(event.data.pinChanged) } }));
});

export const hasPin = () => Boolean(state);
export const isOpen = () => key !== null;
/** A vault exists and its data key is not in memory: every screen waits behind the PIN. */
export const isLocked = () => Boolean(state) && key === null;
export const failures = () => state?.failures ?? 0;
export const vaultUser = () => (state ? { id: state.user_id, username: state.username } : null);
export const idleMinutes = () => state?.idle_minutes ?? DEFAULT_IDLE_MINUTES;
export const pendingDeviceKey = () => deviceKeyInMemory !== null;
/** The sign-in waiting for its PIN (memory only), or null. */
export const heldLogin = () => heldAuth;
/** A sign-in on a phone without a PIN: nothing is written until setPin seals it. */
export function holdLogin(auth) { heldAuth = auth; }
/** Whether the data key is also wrapped under the server's device key (a forgotten PIN is recoverable). */
export const hasEscrow = () => Boolean(state?.server);
/** The sync engine runs only while a PIN exists and the data key is in memory. */
export const canSync = () => Boolean(state) && key !== null;

async function useKey(raw) {
  key = { raw, gcm: gcmKey(raw), crypto: await crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']) };
}

async function pinKey(pin, salt, iterations) {
  const material = await crypto.subtle.importKey('raw', new TextEncoder().encode(pin), 'PBKDF2', false, ['deriveKey']);
  return crypto.subtle.deriveKey({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, material, { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
}

async function wrap(wrappingKey, raw) {
  const iv = random(12);
  const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, wrappingKey, raw));
  return b64(concat(iv, sealed));
}

async function unwrap(wrappingKey, text) {
  const bytes = unb64(text);
  return new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: bytes.subarray(0, 12) }, wrappingKey, bytes.subarray(12)));
}

const importDeviceKey = (text) => crypto.subtle.importKey('raw', unb64url(text), 'AES-GCM', false, ['encrypt', 'decrypt']);

function concat(a, b) {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

export const validPin = (pin) => new RegExp(`^[0-9]{${MIN_PIN_LENGTH},12}$`).test(pin);

/**
 * Set (or change) the PIN. The first time, a random data key is made and the existing plain
 * local data (an update from a version without the vault) is encrypted in place.
 * @param {string} pin
 * @param {{id: string, username: string}} user
 */
export async function setPin(pin, user) {
  if (!validPin(pin)) throw Object.assign(new Error('pin_too_short'), { code: 'pin_too_short' });
  if (state && !key) throw new LockedError();
  const first = !key;
  if (first) await useKey(random(32));
  const salt = random(16);
  const escrow = deviceKeyInMemory?.userId === user.id ? deviceKeyInMemory.key : null;
  const server = escrow ? await wrap(await importDeviceKey(escrow), key.raw) : null;
  const wrappedPin = await wrap(await pinKey(pin, salt, PIN_ITERATIONS), key.raw);
  const auth = heldAuth;
  try {
    await updateState((current) => {
      // Another tab set the first PIN meanwhile: its data key stands, this tab's new one must not.
      if (first && current) throw new LockedError();
      return {
        ...current,
        version: 1,
        salt: b64(salt),
        iterations: PIN_ITERATIONS,
        pin: wrappedPin,
        server: server ?? current?.server ?? null,
        failures: 0,
        user_id: user.id,
        username: user.username,
        idle_minutes: current?.idle_minutes ?? DEFAULT_IDLE_MINUTES,
      };
    }, { auth, pinChanged: !first });
  } catch (error) {
    if (first) key = null;
    throw error;
  }
  deviceKeyInMemory = null;
  heldAuth = null;
  if (first) await sealEverything();
}

export async function setIdleMinutes(minutes) {
  await updateState((current) => (current ? { ...current, idle_minutes: minutes } : undefined));
}

/**
 * Try a PIN. Each try is counted before it is checked (a killed app cannot try for free).
 * @returns {Promise<'open'|'wrong'|'blocked'>} blocked: too many wrong PINs, only the password
 *   (online) opens the vault now
 */
export async function unlockWithPin(pin) {
  // The count is read again and raised on the phone's record (all tabs share the ten tries),
  // and the PIN is checked against that fresh record, never this tab's copy.
  let blocked = false;
  const counted = await updateState((current) => {
    if (!current) return undefined;
    if (current.failures >= MAX_PIN_FAILURES) { blocked = true; return undefined; }
    return { ...current, failures: current.failures + 1 };
  });
  if (!counted) return 'open'; // no vault (wiped meanwhile): nothing to open
  if (blocked) return 'blocked';
  try {
    const raw = await unwrap(await pinKey(pin, unb64(counted.salt), counted.iterations), counted.pin);
    await useKey(raw);
  } catch {
    return (state?.failures ?? 0) >= MAX_PIN_FAILURES ? 'blocked' : 'wrong';
  }
  performance.mark?.('fengling:vault-open'); // bench/pwa_bench.py times the first render from here
  await resetFailures();
  return 'open';
}

/** The vault opened: only the count goes back to zero, onto the record as it is now. */
function resetFailures() {
  return updateState((current) => (current && current.failures !== 0 ? { ...current, failures: 0 } : undefined));
}

/**
 * A login answered with a device key: keep it in memory until a PIN wraps the data key under it;
 * while locked, try it on the escrowed copy (the password recovers a forgotten PIN).
 * @returns {Promise<boolean>} whether the vault is open now
 */
export async function afterLogin(deviceKey, user) {
  if (!deviceKey) return isOpen();
  deviceKeyInMemory = { key: deviceKey, userId: user.id };
  if (!state) return false;
  if (state.user_id !== user.id) return isOpen(); // their key is theirs: setPin checks whose
  if (!key && state.server) {
    try { await useKey(await unwrap(await importDeviceKey(deviceKey), state.server)); } catch { return false; }
  }
  if (key) {
    // The server's key may be new (a re-registered device): wrap under the one it has now. The
    // password opened the vault: the wrong-PIN count starts again.
    const server = await wrap(await importDeviceKey(deviceKey), key.raw);
    await updateState((current) => (current ? { ...current, server, failures: 0 } : undefined));
    deviceKeyInMemory = null;
  }
  return isOpen();
}

/**
 * The login hook (views/login.js): a locked vault opens with the device key of the same person;
 * another person, or a phone without escrow, gets a clean store only when nothing is unsent.
 * @throws {Error} code vault_locked (status 409) when the locked data holds unsent work
 */
export async function vaultLogin(body) {
  const locked = isLocked();
  const opened = await afterLogin(body.device_key, body.user);
  if (!locked || opened) return;
  if ((await unsentCount()) > 0) throw Object.assign(new Error('vault_locked'), { code: 'vault_locked', status: 409 });
  await wipeLocalData();
  deviceKeyInMemory = body.device_key ? { key: body.device_key, userId: body.user.id } : null;
}

/**
 * Add the server-wrapped copy a vault lacks (a phone updated from the version before the PIN):
 * the open data key is wrapped under the key POST /auth/device-key gave back. A copy already
 * there (another tab's) is left as it is.
 */
export async function addEscrow(deviceKey) {
  if (!key || !deviceKey) return false;
  const server = await wrap(await importDeviceKey(deviceKey), key.raw);
  await updateState((current) => (current && !current.server ? { ...current, server } : undefined));
  return hasEscrow();
}

/** Forget the data key: from now on nothing can be read or written until the PIN is entered. */
export function lock() {
  key = null;
}

/** Forget the vault itself (its data is being wiped in the same breath). */
export async function forgetVault() {
  key = null;
  deviceKeyInMemory = null;
  heldAuth = null;
  await updateState(() => null);
}

// ---- rows -------------------------------------------------------------------------------------

const ENCODER = new TextEncoder();
const DECODER = new TextDecoder();

/** What each store keeps in clear: its key path and what its indexes read. */
const CLEAR = {
  records: (r) => {
    const data = {};
    if (r.data?.case_id !== undefined) data.case_id = r.data.case_id;
    if (r.data?.reported_at !== undefined) data.reported_at = r.data.reported_at;
    return { entity: r.entity, id: r.id, seen: r.seen ?? null, data };
  },
  outbox: (e) => {
    const clear = { record_id: e.record_id, status: e.status, entity: e.entity, mutation_id: e.mutation_id };
    if (e.seq !== undefined) clear.seq = e.seq;
    return clear;
  },
  drafts: (d) => ({ key: d.key }),
  meta: (m) => ({ key: m.key }),
};

/** Whether rows written now are sealed (a vault is open), so a draft's Blobs must become markers. */
export const sealing = () => Boolean(key);

/**
 * Fail closed: without the data key in memory (no PIN yet, locked, a context that never opened
 * the vault, a tab that loaded "no vault" before another set the PIN) nothing is written at all,
 * never in clear. The version before the PIN's plain rows are sealed by setPin.
 */
function mustSeal() {
  if (!key) throw new LockedError();
}

/** Seal a row for `store` (synchronous, inside a transaction); throws LockedError without a key. */
export function seal(store, row) {
  mustSeal();
  const iv = random(12);
  return { ...CLEAR[store](row), sealed: concat(iv, key.gcm.encrypt(iv, ENCODER.encode(serialise(row)))) };
}

// A pulled record with nothing pending shows its server data as it is (the same object): it is
// sealed once, as IndexedDB's structured clone stored it once, which halves what the case list
// reads and decrypts.
const SAME = 'data_is_server';
const serialise = (row) => JSON.stringify(row.data && row.data === row.server ? { ...row, data: undefined, [SAME]: true } : row);

function revive(text, reviver) {
  const value = JSON.parse(text, reviver);
  if (value[SAME]) {
    value.data = value.server;
    delete value[SAME];
  }
  return value;
}

/** Open a row read from any store (synchronous); a plain row comes back as it is. */
export function open(row, { reviver } = {}) {
  if (!row?.sealed) return row;
  if (!key) throw new LockedError();
  const bytes = row.sealed instanceof Uint8Array ? row.sealed : new Uint8Array(row.sealed);
  const text = DECODER.decode(key.gcm.decrypt(bytes.subarray(0, 12), bytes.subarray(12)));
  const clear = { ...row }; delete clear.sealed;
  return withClearKeys(clear, revive(text, reviver));
}

// The fields a row is found by (its key path and the indexes that pick it): a sealed payload
// never overrides them, so a row read under one id is that id's row. (The payload itself is not
// yet bound to its row: docs/security.md, "A lost phone", Not covered.)
const KEY_FIELDS = ['entity', 'id', 'seq', 'key', 'sha256', 'record_id', 'mutation_id', 'status'];

function withClearKeys(clear, opened) {
  const out = { ...clear, ...opened };
  for (const name of KEY_FIELDS) if (clear[name] !== undefined) out[name] = clear[name];
  return out;
}

/** Open many rows; big reads (the case list) go to WebCrypto in parallel, off the main thread. */
export async function openAll(rows) {
  if (!rows.some((row) => row?.sealed)) return rows;
  if (!key) throw new LockedError();
  const k = key.crypto;
  return Promise.all(rows.map(async (row) => {
    if (!row?.sealed) return row;
    const bytes = row.sealed;
    const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: bytes.subarray(0, 12) }, k, bytes.subarray(12));
    const clear = { ...row }; delete clear.sealed;
    return withClearKeys(clear, revive(DECODER.decode(plain)));
  }));
}

/** A photo row: its bytes sealed with WebCrypto (outside any transaction). */
export async function sealBlob(row) {
  mustSeal();
  const { blob, ...clear } = row;
  const iv = random(12);
  const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key.crypto, await blob.arrayBuffer()));
  return { ...clear, sealed: concat(iv, sealed) };
}

export async function openBlob(row) {
  if (!row?.sealed) return row;
  if (!key) throw new LockedError();
  const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: row.sealed.subarray(0, 12) }, key.crypto, row.sealed.subarray(12));
  const clear = { ...row }; delete clear.sealed;
  return { ...clear, blob: new Blob([plain], { type: row.type }) };
}

// A draft's state holds photos as Blobs: sealed as base64 markers, brought back as Blobs.
const BLOB_MARK = '__blob_b64';

/** Turn every Blob in a value into a JSON marker (async: a Blob's bytes are read with a promise). */
export async function blobsToMarkers(value) {
  if (value instanceof Blob) return { [BLOB_MARK]: b64(new Uint8Array(await value.arrayBuffer())), type: value.type };
  if (Array.isArray(value)) return Promise.all(value.map(blobsToMarkers));
  if (value && typeof value === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(value)) out[k] = await blobsToMarkers(v);
    return out;
  }
  return value;
}

export const markersToBlobs = (k, v) => (v && typeof v === 'object' && typeof v[BLOB_MARK] === 'string' ? new Blob([unb64(v[BLOB_MARK])], { type: v.type }) : v);

/**
 * On the first PIN: seal every plain row already on the phone. Photos and drafts are read and
 * sealed first (a Blob's bytes take a promise), then everything is written in one transaction;
 * a photo or draft written plain meanwhile (a sync, a form) is caught by another round.
 */
async function sealEverything() {
  for (let round = 0; round < 5 && (await sealRound()); round += 1) { /* again */ }
}

async function sealRound() {
  const blobs = await transact(['blobs'], 'readonly', (tx) => req(tx.objectStore('blobs').getAll()));
  const sealedBlobs = await Promise.all(blobs.filter((b) => !b.sealed && b.blob).map(sealBlob));
  const drafts = await transact(['drafts'], 'readonly', (tx) => req(tx.objectStore('drafts').getAll()));
  const sealedDrafts = [];
  for (const d of drafts.filter((row) => !row.sealed)) sealedDrafts.push(seal('drafts', await blobsToMarkers(d)));
  await transact(['records', 'outbox', 'blobs', 'drafts', 'meta'], 'readwrite', async (tx) => {
    for (const name of ['records', 'outbox']) {
      const store = tx.objectStore(name);
      for (const row of await req(store.getAll())) if (!row.sealed) store.put(seal(name, row));
    }
    for (const row of sealedBlobs) tx.objectStore('blobs').put(row);
    for (const row of sealedDrafts) tx.objectStore('drafts').put(row);
    const meta = tx.objectStore('meta');
    for (const name of SEALED_META) {
      const row = await req(meta.get(name));
      if (row && !row.sealed) meta.put(seal('meta', row));
    }
  });
  return sealedBlobs.length + sealedDrafts.length > 0; // another round finds what came meanwhile
}

/**
 * Meta keys sealed like rows: the bearer token and who is signed in; what was sent (titles) and
 * which cases were opened (ids).
 */
export const SEALED_META = ['auth', 'sent_log', 'seen_cases'];

/**
 * Work the phone must not lose: intents not confirmed (pending, held, rejected), photos not
 * uploaded (pending, or refused by the server), and drafts. Counted from clear index fields, so it works while locked.
 */
export function unsentCount() {
  return transact(['outbox', 'blobs', 'drafts'], 'readonly', async (tx) => {
    const [intents, photos, refused, drafts] = await Promise.all([
      req(tx.objectStore('outbox').count()),
      req(tx.objectStore('blobs').index('state').count('pending')),
      req(tx.objectStore('blobs').index('state').count('failed')), // refused by the server: still the worker's
      req(tx.objectStore('drafts').count()),
    ]);
    return intents + photos + refused + drafts;
  });
}

/** Wipe this person's data and the vault (wrong-PIN limit, revoked device, nothing unsent). */
export async function wipeLocalData() {
  await wipeUserData(); // its event forgets the vault in memory too
}

// db.js's wipe removes the vault's record: forget the key and the state with it.
globalThis.addEventListener?.('fengling:wiped', () => {
  key = null;
  state = null;
  heldAuth = null;
});
