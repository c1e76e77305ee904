// The page's side of the service worker: register, say "ready offline", offer updates.
import { DB_VERSION } from './db.js';
import { setMeta } from './meta.js';
import * as chrome from './views/chrome.js';

/** Register /service-worker.js and wire the update prompt. */
export async function registerWorker(app) {
  if (!('serviceWorker' in navigator)) return;
  let reloading = false;
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    if (app.updateAccepted && !reloading) {
      reloading = true;
      location.reload();
    }
  });
  navigator.serviceWorker.addEventListener('message', (event) => {
    if (event.data?.type === 'synced') {
      chrome.renderStatus(app); // even under a person's typing, when the screen stays
      app.refresh();
    }
  });
  try {
    const registration = await navigator.serviceWorker.register('/service-worker.js', { type: 'module', scope: '/' });
    app.registration = registration;
    watchForUpdate(app, registration);
    await navigator.serviceWorker.ready;
    const version = await askVersion();
    if (version) await setMeta('sw_version', version);
    if (navigator.serviceWorker.controller) chrome.markOfflineReady(app, true);
    else navigator.serviceWorker.addEventListener('controllerchange', () => chrome.markOfflineReady(app, true), { once: true });
  } catch (error) {
    chrome.showBanner(app, 'sw_failed', { message: String(error?.message || error) });
  }
}

function watchForUpdate(app, registration) {
  const offer = (worker) => {
    if (!navigator.serviceWorker.controller) return; // first install: nothing to replace
    chrome.showBanner(app, 'update_ready', {
      action: () => {
        app.updateAccepted = true;
        worker.postMessage({ type: 'skip-waiting', db_version: DB_VERSION });
      },
    });
  };
  if (registration.waiting) offer(registration.waiting);
  registration.addEventListener('updatefound', () => {
    const worker = registration.installing;
    worker?.addEventListener('statechange', () => { if (worker.state === 'installed') offer(worker); });
  });
}

function askVersion() {
  const worker = navigator.serviceWorker.controller;
  if (!worker) return Promise.resolve(null);
  return new Promise((resolve) => {
    const port = new MessageChannel();
    const timer = setTimeout(() => resolve(null), 2000);
    port.port1.onmessage = (event) => { clearTimeout(timer); resolve(event.data?.version ?? null); };
    worker.postMessage({ type: 'version' }, [port.port2]);
  });
}
