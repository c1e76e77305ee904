// Photos: compressed on the device, stored by SHA-256, uploaded each on its own (HEAD, then PUT).
import { req, transact } from './db.js';
import { openBlob, sealBlob } from './vault.js';

export const MAX_EDGE = 1600;
export const JPEG_QUALITY = 0.8;
export const MIN_FREE_BYTES = 30 * 1024 * 1024;

/** Hex SHA-256 of a blob's bytes. */
export async function sha256(blob) {
  const digest = await crypto.subtle.digest('SHA-256', await blob.arrayBuffer());
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** Shrink a camera photo to at most MAX_EDGE pixels on its long side, as JPEG. */
export async function compress(file) {
  const bitmap = await createImageBitmap(file);
  const scale = Math.min(1, MAX_EDGE / Math.max(bitmap.width, bitmap.height));
  const width = Math.max(1, Math.round(bitmap.width * scale));
  const height = Math.max(1, Math.round(bitmap.height * scale));
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext('2d');
  context.fillStyle = '#fff';
  context.fillRect(0, 0, width, height);
  context.drawImage(bitmap, 0, 0, width, height);
  bitmap.close();
  return canvas.convertToBlob({ type: 'image/jpeg', quality: JPEG_QUALITY });
}

/** Whether there is room for more photos; capture stops before the device runs out. */
export async function hasRoom() {
  const estimate = await navigator.storage?.estimate?.();
  if (!estimate?.quota) return true;
  return estimate.quota - estimate.usage > MIN_FREE_BYTES;
}

/** A photo ready to be stored with its record: {sha256, blob, type, size}. */
export async function preparePhoto(file) {
  const blob = await compress(file);
  return { sha256: await sha256(blob), blob, type: blob.type, size: blob.size };
}

/** A photo row with its plain bytes as `blob` (sealed at rest, opened here). */
export async function getBlob(hash) {
  return openBlob(await transact(['blobs'], 'readonly', (tx) => req(tx.objectStore('blobs').get(hash))));
}

/** Photos to upload, still sealed (each is opened just before its upload). */
function pendingBlobs() {
  return transact(['blobs'], 'readonly', (tx) => req(tx.objectStore('blobs').index('state').getAll('pending')));
}

/**
 * Photos the server refused for good (unreadable, too many pixels): kept on the phone, counted
 * as unsent, and shown with the server's reason on the outbox screen. Clear fields only, so
 * this reads while locked too.
 */
export function failedBlobs() {
  return transact(['blobs'], 'readonly', (tx) => req(tx.objectStore('blobs').index('state').getAll('failed')))
    .then((rows) => rows.map(({ sealed, blob, ...clear }) => clear)); // eslint-disable-line no-unused-vars
}

function markBlob(hash, state, error = null) {
  return transact(['blobs'], 'readwrite', async (tx) => {
    const store = tx.objectStore('blobs');
    const row = await req(store.get(hash));
    if (row) store.put({ ...row, state, error });
  });
}

/** Keep a photo fetched from the server, so it shows offline later. */
export async function cacheBlob(hash, blob) {
  const row = await sealBlob({ sha256: hash, blob, type: blob.type, size: blob.size, state: 'remote' });
  return transact(['blobs'], 'readwrite', (tx) => { tx.objectStore('blobs').put(row); });
}

/**
 * Upload photos the server lacks, each on its own; a failed photo never holds the others back.
 * Network failures stop the run (the engine retries later).
 * @returns {Promise<{uploaded: number, skipped: number, failed: number}>}
 */
export async function uploadPending(api) {
  const counts = { uploaded: 0, skipped: 0, failed: 0 };
  for (const sealed of await pendingBlobs()) {
    const row = await openBlob(sealed);
    try {
      await api.head(`/blobs/${row.sha256}`);
      counts.skipped += 1;
    } catch (error) {
      if (error.status !== 404) throw error;
      try {
        await api.put(`/blobs/${row.sha256}`, row.blob, row.type);
        counts.uploaded += 1;
      } catch (putError) {
        if (putError.isTransient) throw putError;
        await markBlob(row.sha256, 'failed', putError.code);
        counts.failed += 1;
        continue;
      }
    }
    await markBlob(row.sha256, 'uploaded');
  }
  return counts;
}

/** Storage used and free, and whether it is persistent. */
export async function storageInfo() {
  const estimate = (await navigator.storage?.estimate?.()) || {};
  const persisted = (await navigator.storage?.persisted?.()) || false;
  return { usage: estimate.usage ?? null, quota: estimate.quota ?? null, persisted };
}
