// Pure rules of drafts: their keys, when a write happens, whether a form holds anything worth
// keeping, how old a draft is. No DOM, no IndexedDB (tested under Node).

/** Wait after the last change before writing the draft (a flush on hide or pagehide writes at once). */
export const DRAFT_DELAY_MS = 400;

/** The forms that keep drafts; every one but the new case belongs to one record (case or site). */
export const DRAFT_FORMS = Object.freeze(['case.new', 'case.fix', 'case.edit', 'case.event', 'case.move', 'checkin.new']);

/**
 * One draft per form and record: "case.new", "case.edit:<case id>", "checkin.new:<site id>",
 * "case.fix:<outbox seq>".
 */
export function draftKey(form, recordId = null) {
  if (!DRAFT_FORMS.includes(form)) throw new Error(`unknown draft form ${form}`);
  const hasId = recordId !== null && recordId !== undefined && String(recordId) !== '';
  if (form === 'case.new') {
    if (hasId) throw new Error('a new case has no record yet');
    return form;
  }
  if (!hasId) throw new Error(`${form} needs its record`);
  return `${form}:${recordId}`;
}

/** The form and record a key names (the inverse of draftKey). */
export function parseDraftKey(key) {
  const at = key.indexOf(':');
  const form = at < 0 ? key : key.slice(0, at);
  if (!DRAFT_FORMS.includes(form)) return null;
  return { form, recordId: at < 0 ? null : key.slice(at + 1) };
}

/**
 * JSON with object keys sorted, photos by their hash only: equal for equal form contents, so a
 * form brought back to how it started is recognised.
 */
export function signature(value) {
  return JSON.stringify(normalise(value));
}

function normalise(value) {
  if (Array.isArray(value)) return value.map(normalise);
  if (value && typeof value === 'object') {
    if (typeof value.sha256 === 'string') return { sha256: value.sha256 };
    return Object.fromEntries(Object.keys(value).sort()
      .filter((k) => value[k] !== undefined)
      .map((k) => [k, normalise(value[k])]));
  }
  return value;
}

/** 'put' when the form differs from how it started, else 'delete' (nothing worth keeping). */
export function draftAction(snapshot, pristine) {
  return signature(snapshot) === signature(pristine) ? 'delete' : 'put';
}

/**
 * Runs `write` a moment after the last `schedule()`; `flush()` runs a scheduled write now;
 * `close()` flushes and stops (a saved or discarded form; `reopen()` if the save failed). Writes run one after
 * another, never two at once, and the returned promises settle when the write is done.
 */
export function createDebouncer(write, { delayMs = DRAFT_DELAY_MS, setTimer = globalThis.setTimeout, clearTimer = globalThis.clearTimeout } = {}) {
  let timer = null;
  let closed = false;
  let writing = Promise.resolve();
  const run = () => {
    writing = writing.then(() => write()).catch(() => {});
    return writing;
  };
  const cancel = () => {
    if (timer !== null) clearTimer(timer);
    timer = null;
  };
  return {
    schedule() {
      if (closed) return;
      cancel();
      timer = setTimer(() => { timer = null; run(); }, delayMs);
    },
    flush() {
      if (timer === null) return writing;
      cancel();
      return run();
    },
    async close({ write: last = true } = {}) {
      if (closed) return writing;
      const due = timer !== null;
      cancel();
      closed = true;
      return due && last ? run() : writing;
    },
    /** Take changes again after `close()` (a save that failed: the form is still being typed in). */
    reopen() {
      closed = false;
    },
    get scheduled() { return timer !== null; },
    get closed() { return closed; },
  };
}

/** How long ago, in the largest whole unit: {unit: 'now'|'minutes'|'hours'|'days', n}. */
export function draftAge(updatedAt, now) {
  const ms = new Date(now).getTime() - new Date(updatedAt).getTime();
  const minutes = Math.floor(Math.max(0, ms) / 60_000);
  if (minutes < 1) return { unit: 'now', n: 0 };
  if (minutes < 60) return { unit: 'minutes', n: minutes };
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return { unit: 'hours', n: hours };
  return { unit: 'days', n: Math.floor(hours / 24) };
}

/** Drafts newest first (the home screen's list). */
export function newestDraftsFirst(drafts) {
  return [...drafts].sort((a, b) => String(b.updated_at).localeCompare(String(a.updated_at)) || (a.key < b.key ? -1 : 1));
}
