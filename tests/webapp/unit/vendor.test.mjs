// The vendored @noble/ciphers is exactly the release package-lock.json pins, byte for byte.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const read = (path) => readFileSync(`${root}${path}`);

test('webapp/js/vendor holds the @noble/ciphers release that package-lock.json pins', () => {
  const lock = JSON.parse(read('package-lock.json'));
  const pinned = lock.packages['node_modules/@noble/ciphers'].version;
  const vendored = 'webapp/js/vendor/noble-ciphers';
  assert.equal(read(`${vendored}/VERSION`).toString().trim(), pinned, 'run scripts/vendor-webapp');
  for (const file of ['aes.js', '_polyval.js', 'utils.js', 'LICENSE']) {
    assert.ok(read(`${vendored}/${file}`).equals(read(`node_modules/@noble/ciphers/${file}`)),
      `${file} differs from node_modules: run scripts/vendor-webapp`);
  }
});
