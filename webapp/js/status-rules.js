// Pure rules of what the phone tells the worker about their work: what is unsent, what the
// server took, which cases changed since last opened, what a severity change does to the due date.

/** How many accepted intents the "已发送" history keeps (oldest dropped first). */
export const SENT_LOG_LIMIT = 200;

/**
 * The one definition of "pending", shown alike by the top bar, home and the outbox: records
 * (intents waiting to be sent) and photos (waiting to be uploaded), counted separately.
 * Rejected, held and refused work is not pending: it waits for the person, and is counted as
 * `attention`.
 * @param {{intents: number, photos: number, rejected?: number, held?: number, failedPhotos?: number}} counts
 */
export function pendingSummary(counts) {
  const records = counts.intents || 0;
  const photos = counts.photos || 0;
  const attention = (counts.rejected || 0) + (counts.held || 0) + (counts.failedPhotos || 0);
  return { records, photos, total: records + photos, attention };
}

/**
 * The history after a push: the accepted entries (newest first) before the older ones, at most
 * `limit`. An entry is kept once per mutation id (a replayed result adds nothing).
 * @param {object[]} log newest first
 * @param {object[]} accepted in the order the server took them
 */
export function appendSent(log, accepted, limit = SENT_LOG_LIMIT) {
  const seen = new Set();
  const merged = [];
  for (const item of [...accepted].reverse().concat(log || [])) {
    if (seen.has(item.mutation_id)) continue;
    seen.add(item.mutation_id);
    merged.push(item);
  }
  return merged.slice(0, limit);
}

/**
 * One history line for an accepted entry: what, on which record or case, and when the server
 * took it (its own time, else the phone's).
 */
export function sentItem(entry, { version = null, serverTime = null, at } = {}) {
  return {
    mutation_id: entry.mutation_id,
    op: entry.op,
    entity: entry.entity,
    record_id: entry.record_id,
    // A conflict's settlement names its case in `about`.
    case_id: entry.entity === 'case' ? entry.record_id : entry.data?.case_id ?? entry.about?.case_id ?? null,
    site_id: entry.entity === 'checkin' ? entry.data?.site_id ?? null : null,
    title: entry.data?.title ?? null,
    version,
    accepted_at: serverTime || at,
  };
}

/**
 * A case's mark in the list: 'new' (never opened on this phone), 'changed' (its version moved
 * since it was last opened), or null. A case the worker reported is no news to them. (The
 * cases a phone holds when it first shows the list count as seen: `baseline`.)
 * @param {{id: string, version: number|null, author?: string|null, data?: object}} record
 * @param {Record<string, number>} seen case id -> version last opened
 * @param {{userId?: string|null}} [options]
 */
export function caseMark(record, seen, { userId = null } = {}) {
  if (record.version === null || record.version === undefined) return null; // not on the server yet
  const last = seen?.[record.id];
  if (last === undefined) {
    if (userId && (record.data?.reported_by === userId || record.author === userId)) return null;
    return 'new';
  }
  return record.version > last ? 'changed' : null;
}

/** Every case as seen at its present version: the start of the marks on a phone. */
export function baseline(records) {
  return Object.fromEntries(records.filter((r) => r.version !== null && r.version !== undefined).map((r) => [r.id, r.version]));
}

/** The versions seen after opening a case (the versions of other cases are kept). */
export function markSeen(seen, record) {
  if (record.version === null || record.version === undefined) return seen || {};
  return { ...(seen || {}), [record.id]: Math.max(record.version, seen?.[record.id] ?? 0) };
}

/**
 * The due date a severity change would give: registered time plus the days for the new
 * severity (server: workflow.due_at), or null when it stays the same or cannot be told.
 * @param {{created_at?: string, reported_at?: string, severity?: string, due_at?: string}} data
 * @param {string} severity the new severity
 * @param {Record<string, number>} dueDays
 */
export function dueAfterSeverity(data, severity, dueDays) {
  if (!severity || severity === data.severity || !dueDays[severity]) return null;
  const from = Date.parse(data.created_at || '');
  if (Number.isNaN(from)) return null;
  const due = new Date(from + dueDays[severity] * 86_400_000).toISOString();
  return data.due_at && Date.parse(data.due_at) === Date.parse(due) ? null : due;
}

/** Other towns a case may involve: every town but its primary one. */
export function otherTowns(towns, primary) {
  return towns.filter((town) => town.code !== primary);
}

/** A phone number as a tel: link target (digits and a leading +), or null when there are none. */
export function telHref(phone) {
  const digits = String(phone || '').replace(/[^\d+]/g, '').replace(/(?!^)\+/g, '');
  return digits.replace(/\+/g, '').length >= 3 ? `tel:${digits}` : null;
}

/**
 * Whether a case is overdue (超期): open and past its due date, the server's rule
 * (workflow.is_overdue) with the open statuses from the contract. Never stored or sent: the
 * phone works it out from the case's status and due date whenever it shows the case.
 * @param {{status?: string, due_at?: string}} data
 * @param {number} now milliseconds since the epoch
 * @param {string[]} openStatuses CONTRACT.workflow.open_statuses
 */
export function isOverdue(data, now, openStatuses) {
  const due = Date.parse(data.due_at || '');
  return openStatuses.includes(data.status) && !Number.isNaN(due) && due < now;
}
