// The IndexedDB-backed store the sync engine is given (page and service worker alike).
import { getBlob, storageInfo, uploadPending } from './blobs.js';
import { getMeta, setMeta } from './meta.js';
import { countPending, holdEntries, pendingEntries, settle } from './outbox.js';
import { applyPull, dropUnseen } from './records.js';
import { canSync } from './vault.js';

export const APP_VERSION = '1.6.1';

export const idbStore = {
  canSync,
  getMeta,
  setMeta,
  pendingEntries,
  settle,
  holdEntries,
  applyPull,
  dropUnseen,
  getBlob,
  uploadPhotos: uploadPending,
  async deviceStatus() {
    const counts = await countPending();
    const storage = await storageInfo().catch(() => ({}));
    const status = { pending: counts.intents + counts.photos, app_version: APP_VERSION, sw_version: (await getMeta('sw_version')) || APP_VERSION };
    if (Number.isInteger(storage.usage)) status.storage_used = storage.usage;
    return status;
  },
};
