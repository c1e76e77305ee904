// The shell's static promises: every module is precached, catalogues match, no innerHTML.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const webapp = fileURLToPath(new URL('../../../webapp/', import.meta.url));
const files = (dir) => readdirSync(dir, { withFileTypes: true })
  .flatMap((d) => (d.isDirectory() ? files(join(dir, d.name)) : [join(dir, d.name)]));
const modules = files(join(webapp, 'js')).filter((f) => f.endsWith('.js'));

test('the service worker precaches every module and catalogue, so the app opens offline', () => {
  const worker = readFileSync(join(webapp, 'service-worker.js'), 'utf8');
  const list = worker.slice(worker.indexOf('PRECACHE = ['), worker.indexOf('];', worker.indexOf('PRECACHE = [')));
  const precached = new Set([...list.matchAll(/'([^']+)'/g)].map((m) => m[1]));
  for (const file of [...modules, ...files(join(webapp, 'i18n'))]) {
    assert.ok(precached.has(`/${relative(webapp, file)}`), `${relative(webapp, file)} is not precached`);
  }
  assert.match(worker, /const VERSION = '[^']+'/);
});

/** Every module `entry` imports, directly or not, as site paths ('/js/db.js'). */
function importGraph(entry) {
  const seen = new Set();
  const visit = (file) => {
    const path = `/${relative(webapp, file)}`;
    if (seen.has(path)) return;
    seen.add(path);
    for (const [, spec] of readFileSync(file, 'utf8').matchAll(/^(?:import|export)\s[^;]*?\sfrom\s+['"]([^'"]+)['"]/gms)) {
      visit(join(dirname(file), spec));
    }
  };
  visit(join(webapp, entry));
  return seen;
}

test('index.html preloads exactly the modules its scripts import, so none waits for its importer', () => {
  const html = readFileSync(join(webapp, 'index.html'), 'utf8');
  const scripts = [...html.matchAll(/<script type="module" src="([^"]+)"( async)?><\/script>/g)].map((m) => m[1]);
  assert.deepEqual(scripts, ['/js/boot.js', '/js/main.js']);
  const preloaded = new Set([...html.matchAll(/<link rel="modulepreload" href="([^"]+)">/g)].map((m) => m[1]));
  const needed = new Set(scripts.flatMap((src) => [...importGraph(src.slice(1))]));
  for (const src of scripts) needed.delete(src); // the entry scripts themselves
  assert.deepEqual([...preloaded].sort(), [...needed].sort());
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script (the CSP forbids it)');
});

test('Chinese and English catalogues have the same keys', () => {
  const zh = JSON.parse(readFileSync(join(webapp, 'i18n/zh-CN.json'), 'utf8'));
  const en = JSON.parse(readFileSync(join(webapp, 'i18n/en.json'), 'utf8'));
  assert.deepEqual(Object.keys(zh).sort(), Object.keys(en).sort());
});

test('no module writes HTML from strings', () => {
  for (const file of modules) {
    const source = readFileSync(file, 'utf8');
    assert.doesNotMatch(source, /innerHTML|outerHTML|insertAdjacentHTML|document\.write/, relative(webapp, file));
  }
});

test('the worker version and the app version are bumped together', () => {
  const worker = readFileSync(join(webapp, 'service-worker.js'), 'utf8');
  const store = readFileSync(join(webapp, 'js/store.js'), 'utf8');
  assert.equal(worker.match(/const VERSION = '([^']+)'/)?.[1], store.match(/export const APP_VERSION = '([^']+)'/)?.[1]);
});
