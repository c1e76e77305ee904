// Home: online/offline, pending work, last successful sync, errors; quick actions.
import { h, mount } from '../dom.js';
import { draftAge } from '../draft-rules.js';
import { listDrafts } from '../drafts.js';
import { formatTime, t } from '../i18n.js';
import { getMeta } from '../meta.js';
import { reasonText } from './widgets.js';
import { attentionCard } from './attention.js';

export async function render(root, app) {
  const counts = await app.counts();
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
        h('dt', {}, t('home.pending')), h('dd', { id: 'home-pending' }, t('home.pending_value', { intents: counts.intents, photos: counts.photos })),
        h('dt', {}, t('home.rejected')), h('dd', { id: 'home-rejected' }, String(counts.rejected)),
        counts.held ? [h('dt', {}, t('home.held')), h('dd', { id: 'home-held', class: 'error' }, String(counts.held))] : null,
        h('dt', {}, t('home.last_success')), h('dd', { id: 'home-last-sync' }, lastSuccess ? formatTime(lastSuccess) : t('sync.never'))),
      error ? h('p', { class: 'error', id: 'home-error' }, t('home.last_error'), ' ', reasonText(error)) : null),
    await attentionCard(app),
    drafts.length ? draftList(drafts) : null,
    h('section', { class: 'actions' },
      h('a', { class: 'action primary', href: '#/new-case' }, t('home.new_case')),
      h('a', { class: 'action', href: '#/route' }, t('home.checkin')),
      h('a', { class: 'action', href: '#/cases' }, t('home.cases')),
      h('a', { class: 'action', href: '#/outbox' }, t('home.outbox', { n: counts.intents + counts.failedPhotos + counts.rejected + counts.held }))));
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
