// AES-256-GCM, synchronous: the audited @noble/ciphers (vendored in ./vendor/, see
// scripts/vendor-webapp), whose bytes are WebCrypto's (12-byte IV, 16-byte tag, no additional
// data), checked against it in tests/webapp/unit/aes-gcm.test.mjs.
// Why not only WebCrypto: its promises end an IndexedDB transaction, and the storage layer reads,
// changes and writes encrypted rows inside one transaction (outbox.js, records.js). WebCrypto
// still does what runs outside a transaction: PBKDF2, key wrapping, photos, bulk list reads.
// No DOM, no IndexedDB.
import { gcm } from './vendor/noble-ciphers/aes.js';

/** A 32-byte key's sealer: encrypt(iv, bytes) → ciphertext + tag; decrypt refuses any change. */
export function gcmKey(rawKey) {
  if (rawKey.length !== 32) throw new Error('AES-256 needs a 32-byte key');
  const raw = Uint8Array.from(rawKey);
  return {
    encrypt: (iv, data) => gcm(raw, iv).encrypt(data),
    decrypt(iv, sealed) {
      try {
        return gcm(raw, iv).decrypt(sealed);
      } catch {
        throw Object.assign(new Error('wrong key or altered data'), { name: 'OperationError' });
      }
    },
  };
}
