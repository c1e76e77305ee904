// Home: online/offline, pending work, last successful sync, errors; quick actions.
import { h, mount } from '../dom.js';
import { draftAge } from '../draft-rules.js';
import { listDrafts } from '../drafts.js';
import { formatTime, t } from '../i18n.js';
import { getMeta } from '../meta.js';
import { allEntries } from '../outbox.js';
import { pendingSummary } from '../status-rules.js';
import { reasonText } from './widgets.js';
import { attentionCard } from './attention.js';

export async function render(root, app) {
  const counts = await app.counts();
  const summary = pendingSummary(counts);
  const rejected = counts.rejected ? await rejectedWhat() : '';
  const drafts = await listDrafts();
  const lastSuccess = await getMeta('last_success');
  const last = await getMeta('last_sync');
  const user = app.auth.user;
  const error = last && !last.ok ? last.error : null;
  mount(root,
    h('section', { class: 'card status', id: 'home-status' },
      h('h1', {}, t('home.hello', { name: user.display_name })),
      h('p', { id: 'offline-ready', class: 'hint' }, document.body.dataset.offlineReady === 'yes' ? t('sw.ready_offline') : ''),
      h('dl', {},
        h('dt', {}, t('home.network')), h('dd', { id: 'home-network' }, navigator.onLine ? t('net.online') : t('net.offline')),
        h('dt', {}, t('home.pending')), h('dd', { id: 'home-pending', dataset: { records: summary.records, photos: summary.photos } }, t('pending.words', summary)),
        h('dt', {}, t('home.rejected')), h('dd', { id: 'home-rejected', dataset: { count: counts.rejected } },
          counts.rejected ? h('a', { href: '#/outbox' }, t('home.rejected_words', { n: counts.rejected, what: rejected })) : t('home.rejected_none')),
        counts.held ? [h('dt', {}, t('home.held')), h('dd', { id: 'home-held', class: 'error' }, String(counts.held))] : null,
        h('dt', {}, t('home.last_success')), h('dd', { id: 'home-last-sync' }, lastSuccess ? formatTime(lastSuccess) : t('sync.never'))),
      error ? h('p', { class: 'error', id: 'home-error' }, t('home.last_error'), ' ', reasonText(error)) : null),
    await attentionCard(app),
    drafts.length ? draftList(drafts) : null,
    h('section', { class: 'actions' },
      h('a', { class: 'action primary', href: '#/new-case' }, t('home.new_case')),
      h('a', { class: 'action', href: '#/route' }, t('home.checkin')),
      h('a', { class: 'action', href: '#/cases' }, t('home.cases')),
      h('a', { class: 'action', href: '#/outbox', id: 'home-outbox' }, t('pending.tile', summary),
        summary.attention ? h('span', { class: 'pill danger' }, t('pending.attention', { n: summary.attention })) : null)));
}

/** What was sent back, in words ("修改案件、登记纠纷"), so the count says what it counts. */
async function rejectedWhat() {
  const ops = [...new Set((await allEntries()).filter((e) => e.status === 'rejected').map((e) => e.op))];
  return ops.map((op) => t(`op.${op}`)).join('、');
}

/** Forms left unsaved: what, about what, how long ago; each opens its form. */
function draftList(drafts) {
  const now = new Date();
  return h('section', { class: 'card', id: 'home-drafts' }, h('h2', {}, t('home.drafts', { n: drafts.length })),
    h('ul', { class: 'list' }, drafts.map((d) => h('li', { class: 'item', dataset: { draft: d.key } },
      h('a', { href: d.href },
        h('strong', {}, `${t(`draft.form.${d.form}`)}：${d.subject || t('draft.untitled')}`),
        h('span', { class: 'meta' }, ' · ', ageText(draftAge(d.updated_at, now))))))));
}

function ageText({ unit, n }) {
  return t(`draft.ago.${unit}`, { n });
}
