// Drafts of unsaved forms in IndexedDB: written a moment after each change, flushed at once when
// the page is hidden, left or re-rendered. Never synced; a save removes its draft in the same
// transaction as the intent (outbox.js), a discard removes it, nothing else does.
import { req, transact } from './db.js';
import { blobsToMarkers, markersToBlobs, open, seal, sealing } from './vault.js';
import { createDebouncer, draftAction, draftKey, newestDraftsFirst } from './draft-rules.js';

/** A draft, sealed at rest: its photos come back as Blobs. */
export async function getDraft(key) {
  return open(await transact(['drafts'], 'readonly', (tx) => req(tx.objectStore('drafts').get(key))), { reviver: markersToBlobs });
}

/** Every draft, newest first. */
export async function listDrafts() {
  const rows = await transact(['drafts'], 'readonly', (tx) => req(tx.objectStore('drafts').getAll()));
  return newestDraftsFirst(rows.map((row) => open(row, { reviver: markersToBlobs })));
}

export function deleteDraft(key) {
  return transact(['drafts'], 'readwrite', (tx) => { tx.objectStore('drafts').delete(key); });
}

/** Inside a transaction that includes 'drafts' (a save writing its intent). */
export function clearDraftIn(tx, key) {
  if (key) tx.objectStore('drafts').delete(key);
}

/** Put or extend a draft inside a transaction (a rejected move's note kept for the timeline). */
export async function appendToDraftIn(tx, { form, recordId, href, subject, state, append }) {
  const store = tx.objectStore('drafts');
  const key = draftKey(form, recordId);
  const existing = open(await req(store.get(key))); // photos stay as markers: sealed again as they were
  const at = new Date().toISOString();
  store.put(seal('drafts', {
    key, form, record_id: recordId, href, subject,
    state: existing ? append(existing.state) : state,
    created_at: existing?.created_at ?? at,
    updated_at: at,
  }));
}

const live = new Set(); // the keepers of forms on screen (or just left), in this page

/**
 * Keep a form's draft: `watch(form)` writes it a moment after each input or change; call
 * `changed()` for changes no event reports (a photo, a position, a row added).
 * @param {{form: string, recordId?: string|number|null, href: string, snapshot: () => object,
 *          pristine: object, subject: () => string, restored?: object|null}} options
 *   `snapshot()` is the form's state as stored (blobs included); `pristine` the same for the
 *   form as it started without a draft: a form brought back to it keeps no draft. `compare`
 *   picks what counts for that (a check-in's position, taken on opening, does not).
 */
export function keepDraft({ form, recordId = null, href, snapshot, pristine, subject, restored = null, compare = (state) => state }) {
  const key = draftKey(form, recordId);
  let createdAt = restored?.created_at ?? null;
  const worthKeeping = (state) => draftAction(compare(state), compare(pristine)) === 'put';
  const write = async () => {
    const state = snapshot();
    if (!worthKeeping(state)) {
      await deleteDraft(key);
      return;
    }
    const at = new Date().toISOString();
    createdAt ??= at;
    // Photos (Blobs) become markers first: reading a Blob takes a promise, which would end a transaction.
    const row = seal('drafts', { key, form, record_id: recordId, href, subject: subject(), state: sealing() ? await blobsToMarkers(state) : state, created_at: createdAt, updated_at: at });
    await transact(['drafts'], 'readwrite', (tx) => { tx.objectStore('drafts').put(row); });
  };
  const debouncer = createDebouncer(write);
  const changed = () => debouncer.schedule();
  const keeper = {
    key,
    element: null,
    changed,
    flush: () => debouncer.flush(),
    /** Write what is due, then stop (a form no longer on screen). */
    async close() {
      live.delete(keeper);
      await debouncer.close();
    },
    /**
     * Save the form: `work` is the transaction that writes the intent and deletes the draft. A
     * due write lands before it and none runs during it; if it fails (storage full), the keeper
     * goes on keeping the draft, what was typed meanwhile included, and the error is thrown on.
     */
    async save(work) {
      await keeper.close();
      try {
        return await work();
      } catch (error) {
        debouncer.reopen();
        live.add(keeper);
        changed();
        throw error;
      }
    },
    /** The person threw the draft away. */
    async discard() {
      live.delete(keeper);
      await debouncer.close({ write: false });
      await deleteDraft(key);
    },
    /** True while the form holds something a re-render would have to bring back. */
    get unsaved() { return debouncer.scheduled || worthKeeping(snapshot()); },
    watch(element) {
      keeper.element = element;
      element.addEventListener('input', changed);
      element.addEventListener('change', changed);
      return element;
    },
  };
  live.add(keeper);
  return keeper;
}

/** Write every due draft now (page hidden or left, a screen about to be replaced). */
export function flushDrafts() {
  return Promise.all([...live].map((keeper) => keeper.flush()));
}

/** Forget the keepers of forms no longer on screen (their last write is done by then). */
export async function pruneDrafts() {
  const gone = [...live].filter((keeper) => keeper.element && !keeper.element.isConnected);
  await Promise.all(gone.map((keeper) => keeper.close()));
}

/** True when a form on screen holds unsaved typing (a sync does not re-render under it). */
export function hasUnsavedDraft() {
  return [...live].some((keeper) => keeper.element?.isConnected && keeper.unsaved);
}
