// Pure rules of the sync engine: no DOM, no IndexedDB, no network (tested under Node).
import { CONTRACT } from './contract.js';

// The app's own tuning: pushes smaller than the server's limits, so a slow link loses less.
export const BATCH_MAX_COUNT = Math.min(100, CONTRACT.push.max_mutations);
export const BATCH_MAX_BYTES = Math.min(4 * 1024 * 1024, CONTRACT.push.max_bytes);
export const ENTITY_OF_OP = Object.freeze(Object.fromEntries(
  Object.entries(CONTRACT.ops).map(([op, { entity }]) => [op, entity])));

/** True for an op that creates its record (a rejected one takes its dependants along). */
export function createsRecord(op) {
  return CONTRACT.ops[op]?.creates === true;
}

/**
 * Exponential backoff with "equal jitter": half fixed, half random, capped.
 * @param {number} attempt 0 for the first retry
 * @param {{baseMs?: number, maxMs?: number, random?: () => number}} [options]
 */
export function backoffDelay(attempt, { baseMs = 2000, maxMs = 5 * 60 * 1000, random = Math.random } = {}) {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, Math.min(attempt, 30)));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** The wait before the next try: the server's Retry-After when it gave one, else backoff. */
export function retryDelay(attempt, retryAfterSeconds, options) {
  const backoff = backoffDelay(attempt, options);
  if (Number.isFinite(retryAfterSeconds) && retryAfterSeconds > 0) {
    return Math.max(retryAfterSeconds * 1000, Math.min(backoff, 60_000));
  }
  return backoff;
}

/** An outbox entry as the protocol's mutation. */
export function toWire(entry) {
  const mutation = {
    mutation_id: entry.mutation_id,
    op: entry.op,
    record_id: entry.record_id,
    client_time: entry.client_time,
    data: entry.data,
  };
  if (entry.op === 'case.update') mutation.base_version = entry.base_version ?? 1;
  else if (entry.op === 'conflict.resolve' && entry.base_version) mutation.base_version = entry.base_version;
  return mutation;
}

function byteLength(value) {
  return new TextEncoder().encode(JSON.stringify(value)).length;
}

/**
 * The first pending entries, in order, that fit one push (count and size limits).
 * A single entry larger than the limit still goes alone, so the server can say why.
 */
export function takeBatch(entries, { maxCount = BATCH_MAX_COUNT, maxBytes = BATCH_MAX_BYTES } = {}) {
  const batch = [];
  let bytes = 64;
  for (const entry of entries) {
    if (entry.status !== 'pending') continue;
    const size = byteLength(toWire(entry)) + 1;
    if (batch.length >= maxCount || (batch.length > 0 && bytes + size > maxBytes)) break;
    batch.push(entry);
    bytes += size;
  }
  return batch;
}

// Poison intents: one intent the server fails on (a bug) must not hold back the rest.
export const SERVER_FAULT_STRIKES = 3;

/**
 * A push failure that may be the batch's own fault: a 5xx. A 503 with Retry-After is the server
 * saying it is busy (its lock timeouts), so it stays an ordinary retry and is not counted.
 */
export function isServerFault(error) {
  const status = error?.status;
  if (!Number.isInteger(status) || status < 500 || status > 599) return false;
  return !(status === 503 && Number(error.retryAfter) > 0);
}

/** Single intents failing one after another, with nothing going through, mean the server is down. */
export const PROBES_BEFORE_OUTAGE = 3;

/** True when `entry` needs the record `recordId` to exist: the same record, or a case's entry. */
export function dependsOnRecord(entry, recordId) {
  return entry.record_id === recordId || entry.data?.case_id === recordId;
}

/**
 * Where isolating a failing batch stands (kept by the engine between pushes and runs):
 * `strikes` in a row for batches sharing intents with `failed`; `suspects`, the batch known to
 * fail (the front of what is pending), halved until one intent is left; `limit`, the batch
 * size meanwhile; `candidates`, intents that failed alone with no proof yet that the fault is
 * theirs; `lastOk`, whether the push just before went through (in this run); `misses`, single
 * intents failed in a row with nothing going through.
 */
export function initialIsolation() {
  return { strikes: 0, failed: [], suspects: [], limit: null, candidates: [], lastOk: false, misses: 0 };
}

/**
 * The next step after a push that failed with a server fault, given the failing batch's
 * mutation ids. `next` is 'backoff' (wait and retry, as for any transient failure) or
 * 'continue' (push again at once: half the failing batch, the other half, a probe or a
 * recheck). `setAside` lists the intents to set aside now.
 *
 * The third failure in a row of a batch (counting batches that share intents) halves it. From
 * then on the failing half is halved again and a half that goes through shows the fault is in
 * the other one, until the batch that fails is a single intent. Only one proof sets it aside:
 * it failed before, the server then took other intents in a push, and it fails alone in the
 * very next push. An outage gives no such proof, whenever it ends: a server coming back takes
 * the intent too. Without the proof the intent is a candidate: another intent goes alone as a
 * probe, and if the server takes it, the candidate goes alone again (a recheck). If three
 * single intents fail in a row with nothing going through, the server itself is down: nothing
 * is set aside, and the ordinary backoff goes on. With nothing else to send there is no probe;
 * the engine backs off (see `isolationBatch`, `afterRunFailed`).
 * @param {ReturnType<typeof initialIsolation>} state
 * @param {string[]} ids
 */
export function afterServerFault(state, ids) {
  const none = [];
  const base = { ...state, lastOk: false };
  const [only] = ids;
  if (ids.length === 1 && state.lastOk && (state.candidates.includes(only) || state.suspects.includes(only))) {
    // Kept failing while the server took something else just before: the fault is this intent's.
    const rest = { ...base, strikes: 0, failed: [], suspects: [], limit: null, candidates: state.candidates.filter((x) => x !== only) };
    return { state: rest, next: 'continue', setAside: [only] };
  }
  if (state.candidates.length) {
    // A probe or a recheck failed too: one more single failure with nothing going through.
    const misses = state.misses + 1;
    if (ids.length > 1 || misses >= PROBES_BEFORE_OUTAGE) {
      return { state: { ...initialIsolation(), strikes: 1, failed: ids }, next: 'backoff', setAside: none };
    }
    const candidates = state.candidates.includes(only) ? state.candidates : [...state.candidates, only];
    return { state: { ...base, candidates, misses }, next: 'continue', setAside: none };
  }
  if (!state.suspects.length) {
    const strikes = ids.some((id) => state.failed.includes(id)) ? state.strikes + 1 : 1;
    if (strikes < SERVER_FAULT_STRIKES) return { state: { ...base, strikes, failed: ids }, next: 'backoff', setAside: none };
  }
  if (ids.length > 1) {
    return { state: { ...base, strikes: 0, failed: [], suspects: ids, limit: Math.ceil(ids.length / 2) }, next: 'continue', setAside: none };
  }
  // Failed alone with no proof: a candidate, and a probe goes next.
  return { state: { ...base, strikes: 0, failed: [], suspects: [], limit: null, candidates: [only], misses: 1 }, next: 'continue', setAside: none };
}

/**
 * After a push that went through (`ids` sent): the fault is in the suspects not sent; a
 * candidate that went through was not at fault (the server was away); the others may now be
 * rechecked. The pull is no push and proves nothing about one.
 */
export function afterServed(state, ids) {
  const suspects = state.suspects.filter((x) => !ids.includes(x));
  const limit = suspects.length ? Math.ceil(suspects.length / 2) : null;
  const candidates = state.candidates.filter((x) => !ids.includes(x));
  return { ...state, strikes: 0, failed: [], suspects, limit, candidates, lastOk: true, misses: 0 };
}

/** A run begins: a push of an earlier run is no proof for this one. */
export function atRunStart(state) {
  return { ...state, lastOk: false };
}

/**
 * A run ended with a failure (a backoff, the network, the pull): candidates are forgotten, so an
 * outage never turns into proof. Intents that failed alone count their strikes on, so a lone
 * failing intent goes once per ordinary backoff.
 */
export function afterRunFailed(state) {
  if (!state.candidates.length) return { ...state, lastOk: false, misses: 0 };
  return { ...initialIsolation(), strikes: SERVER_FAULT_STRIKES - 1, failed: state.candidates };
}

/** The batch size to use: the 413 limit, and the halved size while isolating. */
export function isolationLimit(state, batchLimit) {
  return state.limit === null ? batchLimit : Math.min(batchLimit, state.limit);
}

/**
 * What the next push may hold, from the pending entries in order: `entries` (to fill a batch
 * from, at most `maxCount`). Right after a push went through, a candidate goes alone (the
 * recheck); otherwise candidates and whatever needs a candidate's new record (its edits,
 * the case's timeline) wait, and the rest is sent, one at a time while a candidate waits (a
 * probe). `waiting` says a candidate is waiting: with nothing else to send the engine backs off.
 * @param {ReturnType<typeof initialIsolation>} state
 * @param {{mutation_id: string, op: string, record_id: string, data?: object}[]} entries
 * @param {number} batchLimit
 */
export function isolationBatch(state, entries, batchLimit) {
  const waiting = entries.filter((e) => state.candidates.includes(e.mutation_id));
  if (state.lastOk && waiting.length) return { entries: [waiting[0]], maxCount: 1, waiting: true };
  const created = waiting.filter((e) => createsRecord(e.op)).map((e) => e.record_id);
  const rest = entries.filter((e) => !state.candidates.includes(e.mutation_id) && !created.some((id) => dependsOnRecord(e, id)));
  return { entries: rest, maxCount: waiting.length ? 1 : isolationLimit(state, batchLimit), waiting: waiting.length > 0 };
}

/**
 * Match push results to the entries sent, by mutation_id (rule 1: one result per mutation).
 * Entries without a result stay pending.
 */
export function planSettlement(batch, results) {
  const byId = new Map((results || []).map((r) => [String(r.mutation_id).toLowerCase(), r]));
  const plan = { confirmed: [], rejected: [], unanswered: [] };
  for (const entry of batch) {
    const result = byId.get(entry.mutation_id.toLowerCase());
    if (!result) plan.unanswered.push(entry);
    else if (result.status === 'applied' || result.status === 'merged') {
      plan.confirmed.push({ entry, version: result.version ?? null, conflicts: result.conflicts || [] });
    } else plan.rejected.push({ entry, error: result.error || { code: 'unknown', message: '' } });
  }
  return plan;
}

/** One intent applied to a record's data, as the server would if nobody else had changed it. */
export function applyIntent(data, intent) {
  switch (intent.op) {
    case 'case.create':
      return { status: CONTRACT.workflow.initial_status, assignee: null, number: null, ...intent.data };
    case 'case.update':
      return { ...(data || {}), ...intent.data };
    case 'case.transition':
      return { ...(data || {}), status: intent.data.to };
    case 'case.assign':
      return { ...(data || {}), assignee: intent.data.assignee };
    case 'case_event.create':
    case 'checkin.create':
      return { ...intent.data, ...(data || {}) };
    case 'conflict.resolve':
      // Settled here: no outcome notice for the author's own choice (see unseenOutcomes).
      return { ...(data || {}), status: 'resolved', resolution: RESOLUTION_OF_CHOICE[intent.data.choice], resolved_here: true };
    case CASE_SETTLEMENT:
      return settledCase(data, intent.about, intent.data);
    default:
      throw new Error(`unknown op ${intent.op}`);
  }
}

// How the server records each choice a phone makes (server/sync/ops_conflicts.py).
const RESOLUTION_OF_CHOICE = Object.freeze({ keep: 'kept', mine: 'resubmitted', both: 'both' });

/**
 * A local-only op: the effect of a pending `conflict.resolve` on its case, so the case shows
 * the worker's choice before the server has it. Never sent (its entry is the conflict's).
 */
export const CASE_SETTLEMENT = 'conflict.resolve/case';

/**
 * A case's data after settling a conflict, as the server computes it: keep changes nothing,
 * mine puts the author's value back, both appends it below the text in force under `label`.
 * @param {object|null} data the case's data
 * @param {{field: string, incoming: *}} about the conflict
 * @param {{choice: string, label?: string}} choice
 */
export function settledCase(data, about, { choice, label }) {
  if (!data || !about || choice === 'keep') return data;
  if (choice === 'mine') return { ...data, [about.field]: about.incoming };
  const joiner = about.field === 'description' ? '\n' : ' ';
  const current = String(data[about.field] ?? '').trimEnd();
  const head = [current, label].filter(Boolean).join(joiner);
  return { ...data, [about.field]: `${head}${joiner}${about.incoming ?? ''}` };
}

/** An outbox entry settling a conflict, seen from its case (null for any other entry). */
export function caseSettlement(entry) {
  if (entry.op !== 'conflict.resolve' || !entry.about?.case_id) return null;
  return { ...entry, op: CASE_SETTLEMENT, entity: 'case', record_id: entry.about.case_id };
}

/** A confirmed intent without the fields the server set aside in a merge (rule 4). */
export function withoutConflicts(intent, conflicts) {
  if (!conflicts?.length || intent.op !== 'case.update') return intent;
  const lost = new Set(conflicts.map((c) => c.field));
  const data = Object.fromEntries(Object.entries(intent.data).filter(([k]) => !lost.has(k)));
  return { ...intent, data };
}

/**
 * The data to show: the server's state, then confirmed intents the pull has not yet
 * brought back (version above the server's), then pending intents in outbox order.
 * @param {{server: object|null, version: number|null, confirmed?: object[]}} record
 * @param {object[]} pending outbox entries for this record, ordered by seq
 */
export function rebase(record, pending) {
  const serverVersion = record.version ?? 0;
  const confirmed = (record.confirmed || []).filter((c) => (c.version ?? Infinity) > serverVersion);
  let data = record.server ?? null;
  for (const c of confirmed) data = applyIntent(data, c.intent);
  // A held intent (the server failed on it) is still the worker's: shown, just not sent.
  for (const entry of pending) if (entry.status === 'pending' || entry.status === 'held') data = applyIntent(data, entry);
  return { data, confirmed };
}

/** Statuses a role may move a case to from `status`, in the server's workflow order. */
export function movesFor(role, status) {
  return CONTRACT.workflow.moves.filter((m) => m.from === status && m.roles.includes(role)).map((m) => m.to);
}

/** Distance in metres between two WGS-84 points (haversine). */
export function distanceMetres(lat1, lon1, lat2, lon2) {
  const rad = Math.PI / 180;
  const a = Math.sin(((lat2 - lat1) * rad) / 2) ** 2
    + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(((lon2 - lon1) * rad) / 2) ** 2;
  return 2 * 6371008.8 * Math.asin(Math.min(1, Math.sqrt(a)));
}

// How old a fix may be at the check-in, and how far ahead of it (the server's geofence rule).
export const FIX_FRESH_MS = 120_000;
export const FIX_AHEAD_MS = 120_000;

/**
 * Rule 6 preview, as the server decides: no fix → no_fix; a fix without its time or taken more
 * than two minutes before `atMs` → stale_fix; accuracy worse than the radius → poor_accuracy;
 * outside the radius → too_far; else verified (reason null).
 * @param {{lat:number, lon:number, accuracy_m:number, fix_at?:string}|null} position
 */
export function previewCheckin(position, site, atMs = Date.now()) {
  if (!position) return { distance_m: null, verified: false, reason: 'no_fix' };
  const distance = distanceMetres(position.lat, position.lon, site.lat, site.lon);
  const age = position.fix_at ? atMs - Date.parse(position.fix_at) : NaN;
  const reason = !(age <= FIX_FRESH_MS && age >= -FIX_AHEAD_MS) ? 'stale_fix'
    : position.accuracy_m > site.radius_m ? 'poor_accuracy'
      : distance > site.radius_m ? 'too_far' : null;
  return { distance_m: distance, verified: reason === null, reason };
}

/**
 * Newest first by `reported_at`, ties by larger id: the order of the `entity_reported` index read
 * backwards (strings compared by code unit, as IndexedDB does), so a list's first page can be
 * read from the index and is the same page the full sort gives. No time sorts last.
 */
function newestFirst(a, b) {
  const x = String(a.data.reported_at || '');
  const y = String(b.data.reported_at || '');
  if (x !== y) return x < y ? 1 : -1;
  if (a.id === b.id) return 0;
  return a.id < b.id ? 1 : -1;
}

/** True when a case filter lets every case through, so the list is simply the newest cases. */
export function isUnfiltered(filter) {
  return !(filter.q || '').trim() && !filter.status && !filter.town && !filter.cross && !filter.mine;
}

/**
 * Cases matching a search and filters, newest first.
 * @param {{id: string, data: object, pending?: number}[]} cases
 * @param {{q?: string, status?: string, town?: string, cross?: boolean, mine?: boolean}} filter
 * @param {string} userId
 */
export function filterCases(cases, filter, userId) {
  const q = (filter.q || '').trim().toLowerCase();
  return cases.filter(({ data, author }) => {
    if (!data) return false;
    if (filter.status && data.status !== filter.status) return false;
    if (filter.town && data.primary_town !== filter.town && !(data.involved_towns || []).includes(filter.town)) return false;
    if (filter.cross && !((data.involved_towns || []).length > 0)) return false;
    if (filter.mine && (data.reported_by ?? author) !== userId && data.assignee !== userId) return false;
    if (!q) return true;
    const haystack = [data.title, data.number, data.description, ...(data.parties || []).map((p) => p.name)]
      .filter(Boolean).join(' ').toLowerCase();
    return haystack.includes(q);
  }).sort(newestFirst);
}
