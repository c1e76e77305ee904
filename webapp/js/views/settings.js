// Settings: language, text size, account, storage, install state, export of unsent work, logout
// (or, offline with unsent work or drafts, locking the app instead); help.
import { wipeUserData } from '../db.js';
import { h, field, mount, select } from '../dom.js';
import { formatBytes, language, nameOf, t } from '../i18n.js';
import { storageInfo } from '../blobs.js';
import { getMeta } from '../meta.js';
import { TEXT_SIZES, setTextSize, textSize } from '../text-size.js';
import { IDLE_CHOICES, hasEscrow, idleMinutes, setIdleMinutes } from '../vault.js';
import { confirmButton, exportUnsent } from './widgets.js';

export async function render(root, app, { query } = {}) {
  const user = app.auth.user;
  const ref = await app.reference();
  const storage = await storageInfo();
  const counts = await app.counts();
  const unsent = counts.intents + counts.photos + counts.failedPhotos + counts.rejected + counts.held;
  const installed = matchMedia('(display-mode: standalone)').matches || navigator.standalone === true;
  const lang = select('lang', [{ value: 'zh-CN', label: '简体中文' }, { value: 'en', label: 'English' }], language(),
    { onchange: (e) => app.setLanguage(e.target.value) });
  const message = h('p', { role: 'status', class: 'hint' });
  mount(root,
    h('section', { class: 'card' }, h('h1', {}, t('settings.title')), field(t('settings.language'), lang),
      field(t('settings.text_size'), select('text_size', TEXT_SIZES.map((size) => ({ value: size, label: t(`settings.text.${size}`) })), textSize(),
        { onchange: (e) => setTextSize(e.target.value) }))),
    h('section', { class: 'card', id: 'account' }, h('h2', {}, t('settings.account')),
      h('dl', {},
        h('dt', {}, t('settings.user')), h('dd', {}, `${user.display_name} (${user.username})`),
        h('dt', {}, t('settings.role')), h('dd', {}, t(`role.${user.role}`)),
        h('dt', {}, t('settings.town')), h('dd', {}, nameOf(ref.towns.find((x) => x.code === user.town)) || '—'),
        h('dt', {}, t('settings.device')), h('dd', { class: 'mono' }, await getMeta('device_id')),
        h('dt', {}, t('settings.version')), h('dd', {}, app.version))),
    h('section', { class: 'card', id: 'security' }, h('h2', {}, t('settings.security')),
      hasEscrow() ? null : h('p', { class: 'error', id: 'no-escrow', role: 'status' }, t('settings.no_escrow')),
      field(t('settings.idle_lock'), select('idle', IDLE_CHOICES.map((n) => ({ value: String(n), label: t('settings.minutes', { n }) })), String(idleMinutes()),
        { onchange: async (e) => { await setIdleMinutes(Number(e.target.value)); } })),
      h('button', { type: 'button', id: 'change-pin', onclick: () => app.changePin() }, t('settings.change_pin')),
      h('button', { type: 'button', id: 'lock-now', onclick: () => app.lock() }, t('settings.lock_now'))),
    h('section', { class: 'card', id: 'storage' }, h('h2', {}, t('settings.storage')),
      h('dl', {},
        h('dt', {}, t('settings.used')), h('dd', {}, formatBytes(storage.usage)),
        h('dt', {}, t('settings.free')), h('dd', {}, formatBytes(storage.quota - storage.usage)),
        h('dt', {}, t('settings.persistent')), h('dd', { id: 'persisted' }, storage.persisted ? t('common.yes') : t('common.no')),
        h('dt', {}, t('settings.installed')), h('dd', {}, installed ? t('common.yes') : t('common.no'))),
      installed ? null : h('p', { class: 'hint nudge' }, t('settings.install_nudge')),
      storage.persisted ? null : h('button', { type: 'button', onclick: async () => { await navigator.storage?.persist?.(); app.render(); } }, t('settings.ask_persist'))),
    h('section', { class: 'card' }, h('h2', {}, t('settings.unsent', { n: unsent })),
      h('button', { type: 'button', id: 'export', onclick: async () => { const p = await exportUnsent(); message.textContent = t('settings.exported', { n: p.mutations.length }); } }, t('settings.export')),
      message),
    mustLock(counts) ? lockSection(app, unsent, counts.drafts) : h('section', { class: 'card' }, h('h2', {}, t('settings.logout')),
      unsent ? h('p', { class: 'error' }, t('settings.logout_warn', { n: unsent })) : null,
      counts.drafts ? h('p', { class: 'error', id: 'drafts-warn' }, t('settings.drafts_warn', { n: counts.drafts })) : null,
      confirmButton(t('settings.logout'), unsent ? t('settings.logout_confirm_unsent', { n: unsent }) : t('settings.logout_confirm'),
        () => logout(app), { class: 'danger', id: 'logout' })),
    help(query?.get('help')));
}

/** Help: what the worker may wonder about, out of the forms' way (the GPS coordinates' datum). */
function help(open) {
  const topic = (name, title, body) => h('details', { id: `help-${name}`, open: open === name, dataset: open === name ? { scrollTo: '' } : {} },
    h('summary', {}, t(title)), h('p', {}, t(body)));
  return h('section', { class: 'card', id: 'help' }, h('h2', {}, t('help.title')),
    topic('gps', 'help.gps_title', 'help.gps'),
    topic('sync', 'help.sync_title', 'help.sync'));
}

/** Offline, signing out would delete unsent work and drafts for good: it is not offered. */
function mustLock(counts) {
  return !navigator.onLine && counts.intents + counts.photos + counts.failedPhotos + counts.rejected + counts.held + counts.drafts > 0;
}

function lockSection(app, unsent, drafts) {
  return h('section', { class: 'card', id: 'lock-instead' }, h('h2', {}, t('settings.lock')),
    h('p', { class: 'error' }, t('settings.lock_instead', { n: unsent, drafts })),
    h('button', { type: 'button', class: 'primary', id: 'lock', onclick: () => app.lock() }, t('settings.lock')));
}

/** Revoke the token when online, then wipe this person's data (the person confirmed). */
async function logout(app) {
  // Gone offline since the screen was drawn: lock instead, nothing is deleted.
  if (mustLock(await app.counts())) { await app.lock(); return; }
  if (navigator.onLine) await app.api.json('POST', '/auth/logout').catch(() => {});
  await wipeUserData();
  app.auth = null;
  app.navigate('#/login');
}
