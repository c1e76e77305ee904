// Unsent work: pending intents, rejected ones with the server's reason (fix or discard), conflicts;
// and the "已发送" history of what the server took.
import { h, mount, select } from '../dom.js';
import { formatTime, t } from '../i18n.js';
import { failedBlobs } from '../blobs.js';
import { HELD, allEntries, discard, resubmit, retryHeld, sentLog } from '../outbox.js';
import { pendingSummary } from '../status-rules.js';
import { get, list } from '../records.js';
import { movesFor } from '../sync-rules.js';
import { conflictCard, outcomeNotice, unseenOutcomes } from './case-detail.js';
import { adviceText, openConflicts } from './attention.js';
import { confirmButton, exportUnsent, reasonText, statusLabel } from './widgets.js';

export async function render(root, app) {
  const entries = (await allEntries()).sort((a, b) => a.seq - b.seq);
  const pending = entries.filter((e) => e.status === 'pending');
  const rejected = entries.filter((e) => e.status === 'rejected');
  const held = entries.filter((e) => e.status === HELD);
  const all = await list('conflict');
  const conflicts = openConflicts(all, app.auth.user.id);
  const outcomes = unseenOutcomes(all, app.auth.user.id);
  const refused = await failedBlobs();
  const summary = pendingSummary(await app.counts());
  mount(root,
    refused.length ? h('section', { class: 'card', id: 'outbox-photos-failed' }, h('h2', {}, t('outbox.photos_failed', { n: refused.length })),
      h('ul', { class: 'list' }, refused.map((photo) => h('li', { class: 'item' },
        h('span', {}, formatTime(photo.created_at)), ' ', h('span', { class: 'error' }, reasonText({ code: photo.error })))))) : null,
    held.length ? h('section', { class: 'card', id: 'outbox-held' }, h('h2', {}, t('outbox.held', { n: held.length })),
      h('p', { class: 'hint' }, t('outbox.held_hint')),
      await Promise.all(held.map((e) => heldItem(app, e, held)))) : null,
    h('section', { class: 'card', id: 'outbox-rejected' }, h('h2', {}, t('outbox.rejected', { n: rejected.length })),
      rejected.length ? await Promise.all(rejected.map((e) => rejectedItem(app, e))) : h('p', { class: 'hint' }, t('outbox.none'))),
    h('section', { class: 'card', id: 'outbox-conflicts' }, h('h2', {}, t('outbox.conflicts', { n: conflicts.length })),
      await Promise.all(conflicts.map(async (c) => {
        const record = await get('case', c.data.record_id);
        return h('div', {}, h('a', { href: `#/case/${c.data.record_id}` }, record?.data?.title || ''), record ? conflictCard(app, record, c) : null);
      }))),
    outcomes.length ? h('section', { class: 'card', id: 'outbox-outcomes' }, h('h2', {}, t('outbox.outcomes', { n: outcomes.length })),
      await Promise.all(outcomes.map(async (c) => {
        const record = await get('case', c.data.record_id);
        return h('div', {}, h('a', { href: `#/case/${c.data.record_id}` }, record?.data?.title || ''), outcomeNotice(app, record, c));
      }))) : null,
    h('section', { class: 'card', id: 'outbox-pending', dataset: { records: summary.records, photos: summary.photos } },
      h('h2', {}, t('pending.outbox', summary)),
      h('ul', { class: 'list' }, await Promise.all(pending.map(async (e) => h('li', { class: 'item' },
        h('strong', {}, t(`op.${e.op}`)), ' ', await subject(e), h('span', { class: 'meta' }, ' · ', formatTime(e.client_time))))))),
    await sentSection());
}

/** "已发送": what the server took, on which case (number and title) or site, and when. */
async function sentSection() {
  const log = await sentLog();
  return h('section', { class: 'card', id: 'outbox-sent' }, h('h2', {}, t('sent.title', { n: log.length })),
    log.length ? h('ul', { class: 'list' }, await Promise.all(log.map(async (item) => h('li', { class: 'item', dataset: { op: item.op } },
      h('strong', {}, t(`op.${item.op}`)), ' ', await sentSubject(item),
      h('span', { class: 'meta' }, ' · ', t('sent.at', { time: formatTime(item.accepted_at) })))))) : h('p', { class: 'hint' }, t('sent.none')));
}

async function sentSubject(item) {
  if (item.case_id) {
    const record = await get('case', item.case_id);
    const number = record?.data?.number || t('cases.unnumbered');
    const title = record?.data?.title || item.title || t('sent.case_gone');
    return h('a', { href: `#/case/${item.case_id}`, class: 'sent-case' }, `${number} ${title}`);
  }
  if (item.site_id) return (await get('site', item.site_id))?.data?.name || '';
  return '';
}

async function subject(entry) {
  const caseId = entry.about?.case_id || (entry.entity === 'case' ? entry.record_id : entry.data?.case_id);
  if (caseId) return (await get('case', caseId))?.data?.title || entry.data?.title || '';
  if (entry.entity === 'checkin') return (await get('site', entry.data.site_id))?.data?.name || '';
  return '';
}

/**
 * An intent the server failed on by itself, or one held with its case: kept here until the
 * person retries or exports it (a case with what waits for it: retried and exported together).
 */
async function heldItem(app, entry, held) {
  const root = entry.held_with ? held.find((e) => e.mutation_id === entry.held_with) || entry : entry;
  const group = [root, ...held.filter((e) => e.held_with === root.mutation_id && e !== root)];
  const done = async (work) => { await work(); await app.changed(); app.render(); };
  return h('div', { class: 'rejection held', role: 'alert', dataset: { seq: String(entry.seq), op: entry.op } },
    h('p', {}, h('strong', {}, t(`op.${entry.op}`)), ' ', await subject(entry), ' · ', formatTime(entry.client_time)),
    h('p', { class: 'reason' }, t('outbox.reason'), ' ', reasonText(entry.error)),
    h('p', { class: 'advice hint' }, adviceText(entry.error)),
    h('div', { class: 'row' },
      h('button', { type: 'button', class: 'primary', dataset: { action: 'retry' }, onclick: () => done(() => retryHeld(entry.seq)) }, t('outbox.retry')),
      h('button', { type: 'button', dataset: { action: 'export' }, onclick: () => exportUnsent({ entries: group }) }, t('outbox.export_one')),
      confirmButton(t('outbox.discard'), t('outbox.discard_question'), () => done(() => discard(entry.seq)), { class: 'danger', dataset: { action: 'discard' } })));
}

async function rejectedItem(app, entry) {
  const done = async (work) => { await work(); await app.changed(); app.render(); };
  const note = entry.op === 'case.transition' ? (entry.data?.note || '').trim() : '';
  const actions = [note
    ? discardMove(app, entry, note, await subject(entry), done)
    : confirmButton(t('outbox.discard'), t('outbox.discard_question'), () => done(() => discard(entry.seq)), { class: 'danger', dataset: { action: 'discard' } })];
  if (entry.op === 'case.transition') actions.unshift(await transitionFix(app, entry, done));
  else if (entry.op === 'case.create') actions.unshift(h('a', { class: 'action', href: `#/new-case?fix=${entry.seq}` }, t('outbox.fix')));
  else {
    actions.unshift(h('button', { type: 'button', dataset: { action: 'resend' }, onclick: async () => {
      const record = entry.entity === 'case' ? await get('case', entry.record_id) : null;
      await done(() => resubmit(entry.seq, { base_version: record?.version ?? entry.base_version }));
    } }, t('outbox.resend')));
  }
  return h('div', { class: 'rejection', role: 'alert', dataset: { seq: String(entry.seq), op: entry.op } },
    h('p', {}, h('strong', {}, t(`op.${entry.op}`)), ' ', await subject(entry), ' · ', formatTime(entry.client_time)),
    entry.op === 'case.transition' ? h('p', {}, `${statusLabel(entry.data.from)} → ${statusLabel(entry.data.to)}`) : null,
    note ? h('p', { class: 'note' }, t('outbox.move_note'), ' ', note) : null,
    h('p', { class: 'reason' }, t('outbox.reason'), ' ', reasonText(entry.error)),
    h('p', { class: 'advice hint' }, adviceText(entry.error)),
    h('div', { class: 'row' }, actions));
}

/**
 * Discarding a move that had a note: the worker chooses to keep the note as a draft timeline
 * note (to finish and save later), to record it now as a plain timeline note, or to drop it.
 */
function discardMove(app, entry, note, caseTitle, done) {
  const wrap = h('span', { class: 'confirm discard-move' });
  const answer = (options) => () => done(() => discard(entry.seq, options));
  const choose = () => mount(wrap,
    h('span', { class: 'question' }, t('outbox.discard_move_question')),
    h('button', { type: 'button', class: 'primary', dataset: { action: 'note-to-draft' }, onclick: answer({ keepNote: 'draft', subject: caseTitle }) },
      t('outbox.note_to_draft')),
    h('button', { type: 'button', dataset: { action: 'note-to-timeline' }, onclick: answer({ keepNote: 'timeline', author: app.auth.user.id }) },
      t('outbox.note_to_timeline')),
    h('button', { type: 'button', class: 'danger', dataset: { action: 'discard-all' }, onclick: answer({}) }, t('outbox.note_discard')),
    h('button', { type: 'button', onclick: reset }, t('common.cancel')));
  const reset = () => mount(wrap, h('button', { type: 'button', class: 'danger', dataset: { action: 'discard' }, onclick: choose }, t('outbox.discard')));
  reset();
  return wrap;
}

/** A stale move is fixed by choosing again from the case's current status. */
async function transitionFix(app, entry, done) {
  const record = await get('case', entry.record_id);
  const current = record?.data?.status;
  const moves = current ? movesFor(app.auth.user.role, current) : [];
  if (!moves.length) return h('p', { class: 'hint' }, t('outbox.no_fix', { status: statusLabel(current) }));
  const choice = select('fix_to', moves.map((to) => ({ value: to, label: `${statusLabel(current)} → ${statusLabel(to)}` })), moves[0], { 'aria-label': t('outbox.fix') });
  return h('span', { class: 'fix' }, choice, h('button', { type: 'button', class: 'primary', dataset: { action: 'fix' }, onclick: () => done(
    () => resubmit(entry.seq, { data: { ...entry.data, from: current, to: choice.value } }),
  ) }, t('outbox.fix')));
}
