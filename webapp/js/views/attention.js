// "需要你处理" on home: the author's conflicts to settle and the work the server sent back or
// could not take, each naming its case (number and title) and linking to where it is handled.
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { HELD, allEntries } from '../outbox.js';
import { get, list } from '../records.js';
import { reasonText } from './widgets.js';

/** The author's conflicts still waiting for their choice (settled on this phone: not any more). */
export function openConflicts(conflicts, userId) {
  return conflicts.filter((c) => c.data?.status === 'open' && c.data.by === userId);
}

/** What to do about a rejection, in plain words; empty when the code has no advice. */
export function adviceText(error) {
  const key = `advice.${error?.code}`;
  const text = t(key);
  return text === key ? t('advice.other') : text;
}

/** The home screen's card, or null when nothing waits for the worker. */
export async function attentionCard(app) {
  const userId = app.auth.user.id;
  const conflicts = openConflicts(await list('conflict'), userId);
  const sentBack = (await allEntries()).filter((e) => e.status === 'rejected' || e.status === HELD)
    .sort((a, b) => a.seq - b.seq);
  if (!conflicts.length && !sentBack.length) return null;
  const items = [
    ...await Promise.all(conflicts.map(async (c) => item('conflict', `#/case/${c.data.record_id}`,
      t('attention.conflict', { field: t(`field.${c.data.field}`) }), await caseName(c.data.record_id), t('attention.conflict_do')))),
    ...await Promise.all(sentBack.map(async (e) => item(e.status === HELD ? 'held' : 'rejected', '#/outbox',
      t(e.status === HELD ? 'outbox.held_op' : 'outbox.rejected_op', { op: t(`op.${e.op}`) }) + reasonText(e.error),
      await subjectOf(e), adviceText(e.error)))),
  ];
  return h('section', { class: 'card attention', id: 'home-attention', role: 'region', 'aria-label': t('attention.title') },
    h('h2', {}, t('attention.title'), ' ', h('span', { class: 'pill warn' }, String(items.length))),
    h('ul', { class: 'list' }, items));
}

function item(kind, href, what, about, advice) {
  return h('li', { class: 'item', dataset: { kind } },
    h('a', { href },
      h('strong', { class: 'what' }, what),
      about ? h('span', { class: 'about' }, about) : null,
      h('span', { class: 'advice meta' }, advice)));
}

/** "DY-2026-0012 山塘放水纠纷" (or "（同步后编号）…" before the first sync). */
async function caseName(caseId) {
  const record = await get('case', caseId);
  if (!record?.data) return t('attention.unknown_case');
  return `${record.data.number || t('cases.unnumbered')} ${record.data.title || ''}`.trim();
}

async function subjectOf(entry) {
  const caseId = entry.about?.case_id || (entry.entity === 'case' ? entry.record_id : entry.data?.case_id);
  if (caseId) return caseName(caseId);
  if (entry.entity === 'checkin') {
    const site = await get('site', entry.data?.site_id);
    return site?.data?.name ? t('attention.site', { name: site.data.name }) : '';
  }
  return '';
}
