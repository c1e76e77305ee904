// Fengling field app service worker: precache a versioned shell, serve it offline,
// never cache the API, and sync in the background where the browser supports it.
import { DB_VERSION } from './js/db.js';
import { createApi } from './js/api.js';
import { getMeta } from './js/meta.js';
import { idbStore } from './js/store.js';
import { loadVault } from './js/vault.js';
import { createSyncEngine } from './js/sync.js';

const VERSION = '1.6.1';
const PREFIX = 'fengling-shell-';
const CACHE = `${PREFIX}${VERSION}`;
export const PRECACHE = [
  '/',
  '/css/app.css',
  '/manifest.webmanifest',
  '/i18n/zh-CN.json',
  '/i18n/en.json',
  '/icons/icon-192.png',
  '/icons/icon-512.png',
  '/icons/maskable-512.png',
  '/js/aes-gcm.js',
  '/js/api.js',
  '/js/blobs.js',
  '/js/boot.js',
  '/js/contract.js',
  '/js/db.js',
  '/js/dom.js',
  '/js/draft-rules.js',
  '/js/drafts.js',
  '/js/i18n.js',
  '/js/main.js',
  '/js/meta.js',
  '/js/outbox.js',
  '/js/records.js',
  '/js/status-rules.js',
  '/js/store.js',
  '/js/sw-client.js',
  '/js/sync-rules.js',
  '/js/sync.js',
  '/js/text-size.js',
  '/js/unsent-file.js',
  '/js/vendor/noble-ciphers/_polyval.js',
  '/js/vendor/noble-ciphers/aes.js',
  '/js/vendor/noble-ciphers/utils.js',
  '/js/vault.js',
  '/js/views/attention.js',
  '/js/views/case-detail.js',
  '/js/views/case-form.js',
  '/js/views/cases.js',
  '/js/views/checkin.js',
  '/js/views/chrome.js',
  '/js/views/conflicts.js',
  '/js/views/home.js',
  '/js/views/lock.js',
  '/js/views/login.js',
  '/js/views/outbox.js',
  '/js/views/participants.js',
  '/js/views/pin.js',
  '/js/views/route.js',
  '/js/views/routes.js',
  '/js/views/settings.js',
  '/js/views/widgets.js',
];

// Shell files the browser may take from the cache without starting this worker.
const SHELL_ROUTES = ['/js/*', '/css/*', '/i18n/*', '/icons/*', '/manifest.webmanifest'];

self.addEventListener('install', (event) => {
  // The API never passes through this worker where the browser can route it around us.
  if (event.addRoutes && self.URLPattern) {
    event.addRoutes([{ condition: { urlPattern: new URLPattern({ pathname: '/api/*' }) }, source: 'network' }]);
    // Where the browser can also answer from a named cache itself, the shell skips the worker;
    // a browser that refuses this rule still has the fetch handler below.
    event.addRoutes([
      { condition: { urlPattern: new URLPattern({ pathname: '/', search: '' }), requestMode: 'navigate' }, source: { cacheName: CACHE } },
      ...SHELL_ROUTES.map((pathname) => ({ condition: { urlPattern: new URLPattern({ pathname }) }, source: { cacheName: CACHE } })),
    ]).catch(() => {});
  }
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await cache.addAll(PRECACHE.map((url) => new Request(url, { cache: 'reload' })));
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    await Promise.all(names.filter((n) => n.startsWith(PREFIX) && n !== CACHE).map((n) => caches.delete(n)));
    await self.clients.claim();
  })());
});

// Skip waiting only when asked, and only if this version can read the page's database.
self.addEventListener('message', (event) => {
  const { type, db_version: pageDb } = event.data || {};
  if (type === 'skip-waiting' && (pageDb ?? 0) <= DB_VERSION) self.skipWaiting();
  if (type === 'version') event.ports[0]?.postMessage({ version: VERSION });
});

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/api/')) return; // never cache the API
  if (event.request.mode === 'navigate') event.respondWith(shell(event.request));
  else if (PRECACHE.includes(url.pathname)) event.respondWith(fromCache(event.request, url.pathname));
});

// Opened once when the worker starts, not on every request.
const shellCache = caches.open(CACHE);

async function shell(request) {
  const cached = await (await shellCache).match('/');
  return cached || fetch(request);
}

async function fromCache(request, path) {
  const cached = await (await shellCache).match(path);
  return cached || fetch(request);
}

// Background Sync: the browser wakes us when the network returns, even with the app closed.
self.addEventListener('sync', (event) => {
  if (event.tag === 'fengling-sync') event.waitUntil(backgroundSync());
});

async function backgroundSync() {
  await loadVault(); // with a PIN set the token is sealed: a locked vault syncs nothing here
  const api = createApi({
    getToken: async () => (await getMeta('auth'))?.token ?? null,
    getLanguage: () => 'zh-CN', // stored reasons are shown by code in the page's language
  });
  const result = await createSyncEngine({ store: idbStore, api, setTimer: () => null, clearTimer: () => {} }).sync('background');
  const clients = await self.clients.matchAll({ type: 'window' });
  for (const client of clients) client.postMessage({ type: 'synced', ok: Boolean(result?.ok) });
  // A failed run rejects, so the browser schedules another background sync.
  if (result?.ok === false) throw new Error(result.error?.code || 'sync_failed');
}
