// Pieces shared by several screens: photos, position, labels, export of unsent work.
import { cacheBlob, getBlob, hasRoom, preparePhoto } from '../blobs.js';
import { CONTRACT } from '../contract.js';
import { h, mount } from '../dom.js';
import { t } from '../i18n.js';
import { getMeta } from '../meta.js';
import { allEntries } from '../outbox.js';
import { unsentContent, unsentFileName, unsentFileText } from '../unsent-file.js';

/** Photo thumbnails: from this device's store, else fetched once from the server and kept. */
export function photoStrip(app, hashes) {
  const strip = h('div', { class: 'photos' });
  for (const hash of hashes || []) {
    const img = h('img', { alt: t('photo.alt'), class: 'thumb', dataset: { sha256: hash } });
    strip.append(img);
    loadPhoto(app, hash).then((blob) => {
      if (blob) img.src = URL.createObjectURL(blob);
      else img.classList.add('missing');
      img.dataset.loaded = blob ? 'yes' : 'no';
    });
  }
  return strip;
}

async function loadPhoto(app, hash) {
  const local = await getBlob(hash);
  if (local?.blob) return local.blob;
  if (!navigator.onLine) return null;
  try {
    const blob = await app.api.blob(`/blobs/${hash}`);
    await cacheBlob(hash, blob);
    return blob;
  } catch {
    return null;
  }
}

/**
 * A photo picker that compresses on the device and keeps the prepared photos in `photos`;
 * `onChange` runs once photos are added (compressed) or removed, `set` brings photos back.
 * @returns {{element: HTMLElement, photos: object[], set: (photos: object[]) => void}}
 */
export function photoPicker(label, { onChange = () => {} } = {}) {
  const photos = [];
  const preview = h('div', { class: 'photos' });
  const message = h('p', { class: 'hint', role: 'status' });
  const input = h('input', { type: 'file', accept: 'image/*', capture: 'environment', multiple: true, name: 'photos' });
  const redraw = () => mount(preview, photos.map((p, i) => h('figure', { class: 'thumb-box' },
    h('img', { class: 'thumb', src: URL.createObjectURL(p.blob), alt: t('photo.alt') }),
    h('button', { type: 'button', class: 'small', onclick: () => { photos.splice(i, 1); redraw(); onChange(); } }, t('photo.remove')))));
  input.addEventListener('change', async () => {
    message.textContent = t('photo.processing');
    for (const file of input.files) {
      if (!(await hasRoom())) {
        message.textContent = t('photo.no_room');
        input.value = '';
        return;
      }
      const photo = await preparePhoto(file);
      if (!photos.some((p) => p.sha256 === photo.sha256)) photos.push(photo);
    }
    input.value = '';
    message.textContent = t('photo.count', { n: photos.length });
    redraw();
    onChange();
  });
  const element = h('div', { class: 'field' }, h('label', {}, label, input), preview, message);
  const set = (kept) => {
    photos.splice(0, photos.length, ...kept);
    message.textContent = photos.length ? t('photo.count', { n: photos.length }) : '';
    redraw();
  };
  return { element, photos, set, ready: () => message.textContent !== t('photo.processing') };
}

/**
 * The quiet line over a form brought back from its draft, with the way to throw it away.
 * @param {{discard: () => Promise<void>}} keeper
 */
export function draftNotice(keeper, afterDiscard) {
  return h('p', { class: 'draft-notice', role: 'status', dataset: { draft: keeper.key } }, t('draft.restored'), ' ',
    h('button', { type: 'button', class: 'small', dataset: { action: 'discard-draft' }, onclick: async () => {
      await keeper.discard();
      await afterDiscard();
    } }, t('draft.discard')));
}

/**
 * Check required fields before a save. The first missing one is scrolled to and focused, every
 * missing one marked, and `message` (moved under the first) says in words what is missing.
 * @param {{control: HTMLElement, missing: boolean, text: string}[]} checks in screen order
 * @param {HTMLElement} message
 * @returns {boolean} true when something is missing (do not save)
 */
export function missingFields(checks, message) {
  for (const { control } of checks) control.removeAttribute('aria-invalid');
  const missing = checks.filter((c) => c.missing);
  message.textContent = missing[0]?.text ?? '';
  if (!missing.length) return false;
  for (const { control } of missing) control.setAttribute('aria-invalid', 'true');
  const first = missing[0].control;
  (first.closest('.field') || first).after(message);
  first.setAttribute('aria-describedby', message.id);
  first.scrollIntoView({ block: 'center' });
  first.focus({ preventScroll: true });
  return true;
}

/** A browser position as the app keeps it: WGS-84, accuracy in metres, and the fix's own time. */
export function fixOf(p) {
  return {
    lat: p.coords.latitude, lon: p.coords.longitude, accuracy_m: Math.round(p.coords.accuracy),
    fix_at: new Date(p.timestamp).toISOString(),
  };
}

/** The current position as {lat, lon, accuracy_m, fix_at}: a new fix, never a cached one. */
export function currentPosition(timeout = 15_000) {
  return new Promise((resolve, reject) => {
    if (!navigator.geolocation) { reject(Object.assign(new Error('no geolocation'), { code: 0 })); return; }
    navigator.geolocation.getCurrentPosition(
      (p) => resolve(fixOf(p)),
      (error) => reject(error),
      { enableHighAccuracy: true, timeout, maximumAge: 0 },
    );
  });
}

/**
 * Watch the position (high accuracy) while `element` is on the page: `onFix` gets each new fix
 * ({lat, lon, accuracy_m, fix_at}) as it improves, `onError` a GeolocationPositionError (or
 * code 0: no geolocation at all). Stops by itself when the address changes or the element
 * leaves the page; the returned function stops it too.
 */
export function watchFix(element, { onFix, onError, timeout = 20_000 }) {
  if (!navigator.geolocation) { onError({ code: 0 }); return () => {}; }
  let shown = false;
  let id = navigator.geolocation.watchPosition(
    (p) => { if (!gone()) onFix(fixOf(p)); },
    (error) => { if (!gone()) onError(error); },
    { enableHighAccuracy: true, timeout, maximumAge: 0 },
  );
  const check = setInterval(gone, 2000);
  function stop() {
    if (id === null) return;
    navigator.geolocation.clearWatch(id);
    id = null;
    clearInterval(check);
    window.removeEventListener('hashchange', stop);
  }
  function gone() {
    if (element.isConnected) shown = true;
    else if (shown) stop();
    return id === null;
  }
  window.addEventListener('hashchange', stop);
  return stop;
}

/** Why there is no position, in plain words: permission, no signal, or too slow. */
export function gpsErrorText(error) {
  const code = error?.code;
  return t(code === 1 ? 'gps.denied' : code === 2 ? 'gps.unavailable' : code === 3 ? 'gps.timeout' : 'gps.unsupported');
}

export function positionText(position) {
  if (!position) return t('gps.none');
  return t('gps.value', { lat: position.lat.toFixed(5), lon: position.lon.toFixed(5), acc: Math.round(position.accuracy_m) });
}

export const statusLabel = (status) => t(`status.${status || CONTRACT.workflow.initial_status}`);

/** The reason the server gave, in the current language when we know the code. A wait
 * (`retry_after`, the login limit's) is said in the server's own words, asked for in this
 * language: "try again in 8 seconds", never a bare number. */
export function reasonText(error) {
  if (!error) return '';
  const { retry_after: wait, ...rest } = error.details || {};
  const known = t(`error.${error.code}`);
  const text = wait !== undefined && error.message ? error.message
    : known === `error.${error.code}` ? error.message || error.code : known;
  const details = Object.entries(rest).map(([k, v]) => `${detailLabel(k)}: ${detailValue(v)}`);
  return details.length ? `${text} (${details.join(', ')})` : text;
}

// Workflow details name statuses by code ({current: "escalated"}): show the words people know.
function detailLabel(key) {
  const label = t(`detail.${key}`);
  return label === `detail.${key}` ? key : label;
}

function detailValue(value) {
  if (Array.isArray(value)) return value.join('; ');
  if (value && typeof value === 'object') return JSON.stringify(value);
  const status = t(`status.${value}`);
  return status === `status.${value}` ? String(value) : status;
}

/**
 * Unsent work (intents with their photos) as a file a supervisor can import at the console
 * (unsent-file.js): everything the server has not confirmed, or the `entries` given (one intent
 * the server could not take). Returns the file's content.
 */
export async function exportUnsent({ entries = null } = {}) {
  const chosen = entries ?? (await allEntries());
  const photos = [];
  for (const hash of new Set(chosen.flatMap((e) => e.data?.photos || []))) {
    const row = await getBlob(hash);
    // Only photos the server lacks: not uploaded, not fetched from it, not refused by it.
    if (row?.blob && row.state === 'pending') photos.push({ sha256: hash, type: row.type, base64: await toBase64(row.blob) });
  }
  const content = unsentContent({
    exportedAt: new Date().toISOString(),
    deviceId: await getMeta('device_id'),
    user: (await getMeta('auth'))?.user ?? null,
    entries: chosen,
    photos,
  });
  const blob = new Blob([await unsentFileText(content)], { type: 'application/json' });
  const link = h('a', { href: URL.createObjectURL(blob), download: unsentFileName(content.exported_at, { single: Boolean(entries) }) });
  document.body.append(link);
  link.click();
  link.remove();
  return content;
}

async function toBase64(blob) {
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** A two-step confirmation inside the page (no blocking dialogs on phones). */
export function confirmButton(label, question, onConfirm, props = {}) {
  const wrap = h('span', { class: 'confirm' });
  const ask = () => mount(wrap,
    h('span', { class: 'question' }, question),
    h('button', { type: 'button', class: 'danger', onclick: async () => { await onConfirm(); } }, t('common.confirm')),
    h('button', { type: 'button', onclick: reset }, t('common.cancel')));
  const reset = () => mount(wrap, h('button', { type: 'button', ...props, onclick: ask }, label));
  reset();
  return wrap;
}
