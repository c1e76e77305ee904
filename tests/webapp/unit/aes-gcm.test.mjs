// The synchronous AES-256-GCM gives exactly WebCrypto's bytes, both ways, and refuses tampering.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { webcrypto } from 'node:crypto';
import { gcmKey } from '../../../webapp/js/aes-gcm.js';

const { subtle } = webcrypto;
const random = (n) => webcrypto.getRandomValues(new Uint8Array(n));

test('encrypts to the same bytes as WebCrypto, for lengths around block edges', async () => {
  for (const length of [0, 1, 15, 16, 17, 31, 32, 33, 100, 1000, 4099]) {
    const raw = random(32);
    const iv = random(12);
    const data = random(length);
    const key = await subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']);
    const expected = new Uint8Array(await subtle.encrypt({ name: 'AES-GCM', iv }, key, data));
    const mine = gcmKey(raw);
    assert.deepEqual(mine.encrypt(iv, data), expected, `length ${length}`);
    assert.deepEqual(mine.decrypt(iv, expected), data);
  }
});

test('refuses a changed byte, a wrong key and a wrong IV', () => {
  const raw = random(32);
  const iv = random(12);
  const sealed = gcmKey(raw).encrypt(iv, new TextEncoder().encode('大堰镇 13800138000'));
  const changed = sealed.slice();
  changed[3] ^= 1;
  assert.throws(() => gcmKey(raw).decrypt(iv, changed), /altered/);
  assert.throws(() => gcmKey(random(32)).decrypt(iv, sealed), /altered/);
  assert.throws(() => gcmKey(raw).decrypt(random(12), sealed), /altered/);
});
