// The sync engine: push the outbox in batches, upload photos, pull until has_more is false.
// Its store and transport are injected, so the orchestration is testable on its own.
import {
  afterRunFailed, afterServed, afterServerFault, atRunStart, initialIsolation, isServerFault, isolationBatch, retryDelay,
  takeBatch, toWire,
} from './sync-rules.js';

export const LOCK_NAME = 'fengling-sync';
const MAX_PUSH_ROUNDS = 200;
const MAX_PULL_PAGES = 2000;
const PULL_LIMIT = 500;

/**
 * @param {{store: object, api: object, locks?: LockManager|null, random?: () => number,
 *          setTimer?: Function, clearTimer?: Function, now?: () => Date,
 *          onStatus?: (status: object) => void}} deps
 */
export function createSyncEngine({
  store, api, locks = globalThis.navigator?.locks ?? null, random = Math.random,
  setTimer = globalThis.setTimeout, clearTimer = globalThis.clearTimeout,
  now = () => new Date(), onStatus = () => {},
}) {
  let running = null;
  let failures = 0;
  let retryTimer = null;
  let batchLimit = 100;
  let isolation = initialIsolation(); // finding the one intent a failing batch cannot get past
  let lastFault = null; // the server's answer to it, kept with the intent set aside

  let again = false;

  /**
   * Run one sync; while one runs, callers share it (single flight in this context), and one
   * more run follows it, so a change made during a run is never left for the next trigger.
   */
  function sync(reason = 'manual') {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      let result;
      let rounds = 0;
      do {
        again = false;
        rounds += 1;
        result = await withLock(() => runOnce(reason));
      } while (again && rounds < 3);
      return result;
    })().finally(() => { running = null; });
    return running;
  }

  // One sync at a time across tabs and the service worker.
  function withLock(work) {
    if (!locks) return work();
    return locks.request(LOCK_NAME, { ifAvailable: true }, (lock) => (lock ? work() : { skipped: 'locked' }));
  }

  async function runOnce(reason) {
    // The vault (store.canSync): nothing is pulled or pushed before a PIN exists and opens it.
    if (store.canSync && !store.canSync()) return { skipped: 'vault' };
    const auth = await store.getMeta('auth');
    if (!auth?.token) return { skipped: 'signed_out' };
    if (await store.getMeta('auth_problem')) return { skipped: 'auth_problem' };
    if (await store.getMeta('update_required')) return { skipped: 'update_required' };
    clearRetry();
    const startedAt = now().toISOString();
    await report({ state: 'syncing', reason });
    try {
      const pushed = await pushAll(auth.user?.id);
      const photos = await store.uploadPhotos(api);
      const pulled = await pullAll();
      failures = 0;
      const at = now().toISOString();
      // started_at: everything saved or changed on the server before it is in this run.
      await store.setMeta('last_sync', { at, ok: true, started_at: startedAt });
      await store.setMeta('last_success', at);
      await report({ state: 'idle', last_success_at: at, error: null });
      return { ok: true, pushed, photos, pulled };
    } catch (error) {
      isolation = afterRunFailed(isolation); // an outage is never proof: candidates are forgotten
      return handleFailure(error);
    }
  }

  async function pushAll(userId) {
    const totals = { sent: 0, confirmed: 0, rejected: 0, held: 0 };
    isolation = atRunStart(isolation);
    for (let round = 0; round < MAX_PUSH_ROUNDS; round += 1) {
      const plan = isolationBatch(isolation, await store.pendingEntries(), batchLimit);
      const batch = takeBatch(plan.entries, { maxCount: plan.maxCount });
      // An intent failing alone with nothing else to send proves nothing: the ordinary backoff.
      if (!batch.length && plan.waiting) throw lastFault ?? new Error('an intent failed alone');
      if (!batch.length) return totals;
      let response;
      try {
        response = await api.post('/sync/push', { device: await store.deviceStatus(), mutations: batch.map(toWire) });
      } catch (error) {
        if (error.status === 413 && batch.length > 1) {
          batchLimit = Math.max(1, Math.floor(batch.length / 2));
          continue;
        }
        if (isServerFault(error)) {
          // The same batch failing again and again may hold one intent the server cannot take.
          const step = afterServerFault(isolation, batch.map((e) => e.mutation_id));
          isolation = step.state;
          lastFault = error;
          totals.held += await hold(step.setAside);
          if (step.next === 'continue') continue;
        }
        throw error;
      }
      const settled = await store.settle(batch, response.results, userId, response.server_time ?? null);
      totals.sent += batch.length;
      totals.confirmed += settled.confirmed.length;
      totals.rejected += settled.rejected.length;
      if (settled.unanswered.length === batch.length) throw new Error('push answered none of the batch');
      isolation = afterServed(isolation, batch.map((e) => e.mutation_id));
    }
    return totals;
  }

  /** Set intents aside (the store holds a held create's dependants with it). */
  async function hold(ids) {
    if (!ids.length) return 0;
    return store.holdEntries(ids, { code: 'server_error', status: lastFault?.status ?? null, message: lastFault?.message || '' });
  }

  async function pullAll() {
    let resync = await store.getMeta('resync');
    let cursor = resync ? resync.cursor : await store.getMeta('cursor');
    let changes = 0;
    for (let page = 0; page < MAX_PULL_PAGES; page += 1) {
      let response;
      try {
        response = await api.get('/sync/pull', { cursor, limit: PULL_LIMIT });
      } catch (error) {
        if (error.status !== 410 || (resync && !resync.cursor)) throw error;
        // 410 resync_required: pull from scratch, keep the outbox, drop what is not returned.
        resync = { mark: crypto.randomUUID(), cursor: null };
        await store.setMeta('resync', resync);
        cursor = null;
        continue;
      }
      await store.applyPull(response.changes, response.cursor, resync?.mark ?? null);
      changes += response.changes.length;
      cursor = response.cursor;
      if (resync) await store.setMeta('resync', { ...resync, cursor });
      if (!response.has_more) break;
    }
    if (resync) {
      await store.dropUnseen(resync.mark);
      await store.setMeta('resync', null);
    }
    return changes;
  }

  async function handleFailure(error) {
    const problem = { code: error.code || 'error', message: error.message || String(error), status: error.status ?? null };
    if (error.status === 401) {
      // Keep the outbox; the person signs in again (after being offered an export).
      await store.setMeta('auth_problem', problem);
    } else if (error.status === 426) {
      await store.setMeta('update_required', problem);
    } else if (error.isTransient || error.status === undefined) {
      failures += 1;
      const delay = retryDelay(failures - 1, error.retryAfter, { random });
      retryTimer = setTimer(() => { retryTimer = null; sync('retry'); }, delay);
      problem.retry_in_ms = delay;
    }
    await store.setMeta('last_sync', { at: now().toISOString(), ok: false, error: problem });
    await report({ state: error.isNetwork ? 'offline' : 'error', error: problem });
    return { ok: false, error: problem };
  }

  function clearRetry() {
    if (retryTimer !== null) clearTimer(retryTimer);
    retryTimer = null;
  }

  async function report(status) {
    try { onStatus(status); } catch { /* a view's failure must not break sync */ }
  }

  return { sync, get isRunning() { return running !== null; }, get failures() { return failures; }, stop: clearRetry };
}
