// The frame around every screen: top bar with status, banners, bottom tabs.
import { h, mount } from '../dom.js';
import { formatTime, t } from '../i18n.js';
import { getMeta } from '../meta.js';
import { pendingSummary } from '../status-rules.js';
import { exportUnsent } from './widgets.js';

const TABS = [
  ['home', '#/home', 'tab.home'],
  ['cases', '#/cases', 'tab.cases'],
  ['route', '#/route', 'tab.route'],
  ['outbox', '#/outbox', 'tab.outbox'],
  ['settings', '#/settings', 'tab.settings'],
];
const banners = new Map();

/** Top bar, banner area and tabs, in the current language. */
export function renderFrame(app) {
  document.title = t('app.name');
  mount(document.getElementById('topbar'),
    h('span', { class: 'brand' }, t('app.name')),
    h('span', { id: 'net-badge', class: 'badge', role: 'status' }),
    h('span', { id: 'pending-badge', class: 'badge' }),
    h('button', { id: 'sync-now', class: 'small', type: 'button', onclick: () => syncNow(app) }, t('sync.now')));
  mount(document.getElementById('tabs'),
    TABS.map(([name, href, key]) => h('a', { href, dataset: { tab: name } }, t(key))));
  renderBanners(app);
}

/** "立即同步": offline, the worker is told that nothing can go now and that it goes by itself later. */
async function syncNow(app) {
  if (!navigator.onLine) { showBanner(app, 'sync_offline'); return; }
  const result = await app.sync('manual');
  if (result?.skipped === 'offline' || (result?.ok === false && app.status.state === 'offline')) showBanner(app, 'sync_offline');
}

/** Back online or synced: the "no network" notice goes. */
export function networkBack(app) {
  hideBanner(app, 'sync_offline');
}

export function markTab(name) {
  for (const a of document.querySelectorAll('#tabs a')) a.classList.toggle('active', a.dataset.tab === name);
  document.getElementById('tabs').hidden = name === 'login' || name === 'lock' || name === 'pin';
}

/** Online badge, pending count and the sync button state. */
export async function renderStatus(app) {
  const badge = document.getElementById('net-badge');
  if (!badge) return;
  const online = navigator.onLine && app.status.state !== 'offline';
  badge.textContent = online ? t('net.online') : t('net.offline');
  badge.className = `badge ${online ? 'ok' : 'warn'}`;
  // Locked, the counts still show: they come from clear index fields (vault.js).
  const counts = app.auth || app.sealed ? await app.counts() : { intents: 0, photos: 0, rejected: 0 };
  const summary = pendingSummary(counts);
  const pending = document.getElementById('pending-badge');
  pending.textContent = summary.total ? t('pending.badge', summary) : t('pending.badge_none');
  pending.dataset.count = String(summary.total);
  pending.dataset.records = String(summary.records);
  pending.dataset.photos = String(summary.photos);
  pending.className = `badge ${summary.total ? 'warn' : 'ok'}`;
  const button = document.getElementById('sync-now');
  button.disabled = app.status.state === 'syncing';
  button.textContent = app.status.state === 'syncing' ? t('sync.running') : t('sync.now');
  await showLastSuccess(button);
  await syncProblems(app);
}

/**
 * The button's tooltip says when the last sync succeeded; its data attributes say when that
 * run started and ended, whether this page or the service worker ran it.
 */
async function showLastSuccess(button) {
  const last = await getMeta('last_sync');
  const success = last?.ok ? last : null;
  const at = success?.at ?? (await getMeta('last_success'));
  button.title = at ? `${t('home.last_success')} ${formatTime(at)}` : t('sync.never');
  button.dataset.lastSuccess = at ?? '';
  if (success?.started_at) button.dataset.lastSuccessStarted = success.started_at;
}

async function syncProblems(app) {
  const problem = await getMeta('auth_problem');
  if (problem && app.auth) showBanner(app, 'auth_problem', { message: t(`error.${problem.code}`, {}) });
  else hideBanner(app, 'auth_problem'); // locked (no auth): its export would need the PIN first
  if (await getMeta('update_required')) {
    showBanner(app, 'update_required');
    app.registration?.update().catch(() => {});
  }
}

/** Show a named banner (update ready, session problem, ...), replacing one of the same name. */
export function showBanner(app, name, options = {}) {
  banners.set(name, options);
  renderBanners(app);
}

export function hideBanner(app, name) {
  if (banners.delete(name)) renderBanners(app);
}

function renderBanners(app) {
  const root = document.getElementById('banners');
  if (!root) return;
  mount(root, [...banners.entries()].map(([name, options]) => banner(app, name, options)));
}

function banner(app, name, options) {
  const actions = [];
  if (name === 'update_ready') actions.push(h('button', { type: 'button', onclick: options.action }, t('update.reload')));
  if (name === 'auth_problem') {
    actions.push(h('button', { type: 'button', onclick: () => exportUnsent() }, t('settings.export')));
    actions.push(h('button', { type: 'button', onclick: () => app.navigate('#/login') }, t('login.again')));
  }
  if (name === 'db_upgraded') actions.push(h('button', { type: 'button', onclick: () => location.reload() }, t('update.reload')));
  return h('div', { class: `banner ${name}`, role: 'alert', dataset: { banner: name } },
    h('p', {}, t(`banner.${name}`), options.message ? ` ${options.message}` : ''), actions);
}

/** "Ready offline" once a service worker controls the page. */
export function markOfflineReady(app, ready) {
  document.body.dataset.offlineReady = ready ? 'yes' : 'no';
  const el = document.getElementById('offline-ready');
  if (el) el.textContent = ready ? t('sw.ready_offline') : '';
}

export function fatal(error) {
  const root = document.getElementById('view');
  mount(root, h('div', { class: 'banner error', role: 'alert' }, h('p', {}, String(error?.message || error))));
}
