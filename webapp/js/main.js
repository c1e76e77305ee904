// Bootstrap: language, database, service worker, sync triggers, and the hash router.
import { createApi } from './api.js';
import { flushDrafts, hasUnsavedDraft, pruneDrafts } from './drafts.js';
import { language, loadCatalogue, setLanguage, t } from './i18n.js';
import { getMeta, setMeta } from './meta.js';
import { countPending } from './outbox.js';
import { referenceData } from './records.js';
import { APP_VERSION, idbStore } from './store.js';
import { createSyncEngine } from './sync.js';
import { registerWorker } from './sw-client.js';
import { loadTextSize } from './text-size.js';
import * as vault from './vault.js';
import * as chrome from './views/chrome.js';
import { ROUTES } from './views/routes.js';

const SYNC_INTERVAL_MS = 60_000;
const ONLINE_SETTLE_MS = 1000; // the online event fires before the link is usable
const UNLOCK_SYNC_DELAY_MS = 1000;
const channel = 'BroadcastChannel' in globalThis ? new BroadcastChannel('fengling') : null;

const app = {
  t,
  version: APP_VERSION,
  auth: null,
  locked: null,
  status: { state: 'idle' },
  navigate: (hash) => { if (location.hash === hash) render(); else location.hash = hash; },
  render: () => render(),
  refresh: () => refreshIfIdle(),
  /** After a local write: refresh counts, tell other tabs, try to sync. */
  async changed() {
    channel?.postMessage({ type: 'changed' });
    await chrome.renderStatus(app);
    requestBackgroundSync();
    app.sync('local-change');
  },
  sync: (reason) => (navigator.onLine ? app.engine.sync(reason) : Promise.resolve({ skipped: 'offline' })),
  async reference() { return referenceData(); },
  async counts() { return countPending(); },
  async setLanguage(lang) {
    await setMeta('lang', lang);
    await setLanguage(lang);
    chrome.renderFrame(app);
    await render();
  },
  // ---- the vault (vault.js): PIN lock, idle lock, recovery, revocation -------------------------
  changingPin: false,
  recovering: false,
  /** Lock (idle, "立即锁定", "锁定应用"): drafts are written (sealed) first, then the data key is forgotten. */
  async lock() {
    await flushDrafts();
    vault.lock();
    app.auth = null;
    await render(); // the address stays: after the PIN the worker is back on the same screen
  },
  /** The PIN opened the vault: back to the screen the worker was on. */
  async unlocked() {
    await render();
    // The screen reads and decrypts first (the case list: every case); the sync a moment later.
    setTimeout(() => app.sync('unlock'), UNLOCK_SYNC_DELAY_MS);
  },
  /** The password opened the vault (forgotten PIN): a new PIN is set next. */
  async recovered(auth) {
    app.changingPin = true;
    app.recovering = true; // a new PIN must be set: no Cancel back to the forgotten one
    await app.signedIn(auth);
  },
  changePin() {
    app.changingPin = true;
    app.render();
  },
  async pinSet() {
    app.changingPin = false;
    app.recovering = false;
    await setMeta('locked', null);
    app.navigate('#/home');
    app.sync('pin');
  },
  /** The server revoked this phone: nothing unsent, wipe it; otherwise keep it sealed (banner: export). */
  async revoked() {
    if ((await vault.unsentCount()) > 0) return;
    await vault.wipeLocalData();
    app.auth = null;
    app.navigate('#/login?wiped=revoked');
  },
  async signedIn(auth) {
    app.auth = auth;
    await setMeta('locked', null); // the password was checked: a lock of the version before the PIN is lifted
    await setMeta('auth_problem', null);
    navigator.storage?.persist?.().catch(() => {});
    app.navigate('#/home');
    app.sync('login');
  },
};

app.api = createApi({ getToken: async () => (await getMeta('auth'))?.token ?? null, getLanguage: language });
app.engine = createSyncEngine({
  store: idbStore,
  api: app.api,
  onStatus: async (status) => {
    app.status = { ...app.status, ...status };
    if (status.error?.code === 'device_revoked') await app.revoked();
    await chrome.renderStatus(app);
    if (status.state === 'idle') {
      chrome.networkBack(app);
      ensureEscrow(); // online and open: the moment to add a missing escrow
      // A finished sync may have brought data: refresh this tab and tell the others.
      channel?.postMessage({ type: 'changed' });
      await refreshIfIdle();
    } else if (status.state !== 'syncing' && routeOf(location.hash).name === 'home') {
      await refreshIfIdle(); // the home screen shows the last error
    }
  },
});

let escrowing = false;

/**
 * A vault without a server-wrapped copy of its data key (updated from the version before the
 * PIN) cannot be recovered with the password: while open and online, ask for this device's key
 * (POST /auth/device-key) and add the copy. Settings warns in words until it exists.
 */
async function ensureEscrow() {
  if (escrowing || !vault.isOpen() || vault.hasEscrow() || !navigator.onLine) return;
  escrowing = true;
  try {
    const body = await app.api.json('POST', '/auth/device-key', { json: {} });
    if (await vault.addEscrow(body.device_key)) refreshSettings();
  } catch {
    // Offline again, or refused: the next successful sync tries again.
  } finally {
    escrowing = false;
  }
}

let renderSeq = 0;
let rendering = 0;

/** The screen a hash names; signed-out people always get the login screen, a locked app the lock. */
function routeOf(hash) {
  const [path, query] = (hash.slice(1) || '/home').split('?');
  const parts = path.split('/').filter(Boolean);
  const name = vault.isLocked() ? 'lock'
    : !app.auth || (app.locked && !vault.hasPin()) ? 'login' // locked by the version before the PIN: the password
      : !vault.hasPin() || app.changingPin ? 'pin'
        : parts[0] === 'login' ? 'login' : parts[0];
  return { name, view: ROUTES[name] || ROUTES.home, params: { id: parts[1], sub: parts[2], query: new URLSearchParams(query || '') } };
}

/**
 * Render the screen named by the hash; a newer render always wins over a slower older one.
 * @param {object|null} [auth] the stored sign-in, when start-up has just read it
 * @param {{yieldTo?: () => boolean}} [options] when it says so just before the new screen goes
 *   in, the screen stays (a refresh after a sync gives way to the person at work)
 */
async function render(auth, { yieldTo = () => false } = {}) {
  const seq = ++renderSeq;
  rendering += 1;
  try {
    await flushDrafts(); // what was just typed is in its draft before any screen reads it back
    [app.auth, app.locked] = await Promise.all([auth === undefined ? vault.heldLogin() ?? getMeta('auth') : auth, getMeta('locked')]);
    app.sealed = vault.isLocked();
    if (app.sealed) app.auth = null;
    const { name, view, params } = routeOf(location.hash);
    const staging = document.createElement('div');
    await view.render(staging, app, params);
    if (seq !== renderSeq || yieldTo()) return;
    document.getElementById('view').replaceChildren(...staging.childNodes);
    document.querySelector('#view [data-scroll-to]')?.scrollIntoView({ block: 'start' });
    pruneDrafts();
    chrome.markTab(name);
    await chrome.renderStatus(app);
  } finally {
    rendering -= 1;
  }
}

/** The person is at work on the screen: typing, holding an unsaved form, or making a choice. */
function busy() {
  const active = document.activeElement;
  if (active && ['INPUT', 'TEXTAREA', 'SELECT'].includes(active.tagName)) return true;
  return hasUnsavedDraft() || Boolean(document.querySelector('#view .confirm .question'));
}

/**
 * Re-render list-like screens after a sync; never under the person's work (checked again just
 * before the new screen goes in), never over a render already on its way.
 */
async function refreshIfIdle() {
  if (routeOf(location.hash).view.keepOnSync || rendering || busy()) return;
  await render(undefined, { yieldTo: busy });
}

function refreshSettings() {
  if (routeOf(location.hash).name === 'settings') refreshIfIdle();
}

function requestBackgroundSync() {
  navigator.serviceWorker?.ready
    .then((registration) => registration.sync?.register('fengling-sync'))
    .catch(() => {});
}

function startTriggers() {
  window.addEventListener('online', () => {
    chrome.networkBack(app);
    chrome.renderStatus(app);
    refreshSettings(); // signing out is offered again
    setTimeout(() => app.sync('online'), ONLINE_SETTLE_MS);
  });
  window.addEventListener('offline', () => {
    chrome.renderStatus(app);
    refreshSettings(); // offline with unsent work, locking replaces signing out
  });
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') app.sync('visible');
    else flushDrafts(); // the browser may be killed from here on without another word
  });
  window.addEventListener('pagehide', () => flushDrafts());
  startIdleLock();
  setInterval(() => app.sync('timer'), SYNC_INTERVAL_MS);
  window.addEventListener('hashchange', () => render());
  window.addEventListener('fengling:db-closed', () => chrome.showBanner(app, 'db_upgraded'));
  channel?.addEventListener('message', () => refreshIfIdle());
  // vault.js read the record again after another tab changed it: a new PIN locks this tab too;
  // a vault set up or removed elsewhere changes which screen this tab may show.
  window.addEventListener('fengling:vault-changed', (event) => {
    if (event.detail.pinChanged && vault.isOpen()) app.lock();
    else if (vault.isLocked() !== app.sealed) render();
  });
}

/** Lock after the idle time set in Settings (checked on a timer and when the page comes back). */
function startIdleLock() {
  let last = Date.now();
  const touch = () => { last = Date.now(); };
  for (const type of ['pointerdown', 'keydown', 'input', 'scroll']) document.addEventListener(type, touch, { capture: true, passive: true });
  const check = () => {
    if (vault.isOpen() && Date.now() - last > vault.idleMinutes() * 60_000) app.lock();
  };
  setInterval(check, 10_000);
  document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'visible') check(); else touch(); });
}

async function start() {
  loadCatalogue('zh-CN'); // always needed (the fallback): fetch it while the database opens
  await vault.loadVault(); // the app starts locked when a PIN is set
  const [lang, auth] = await Promise.all([getMeta('lang'), getMeta('auth'), loadTextSize()]);
  await setLanguage(lang || 'zh-CN');
  // A fresh start may be the updated app; the server says again if not. Nothing waits for this
  // write: reads made after it (the status bar's, the sync's) see it, as IndexedDB runs
  // transactions on the same store in the order they were made.
  const cleared = setMeta('update_required', null);
  chrome.renderFrame(app);
  startTriggers();
  await render(auth);
  await cleared;
  registerWorker(app);
  app.sync('start');
}

start().catch((error) => chrome.fatal(error));
