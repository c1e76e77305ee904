// The unsent-work file v1: what it carries, its checksum, and reading it back as the server does.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';

import { toWire } from '../../../webapp/js/sync-rules.js';
import {
  UNSENT_FORMAT, UNSENT_VERSION, readUnsentFile, sha256Text, unsentContent, unsentFileName, unsentFileText,
} from '../../../webapp/js/unsent-file.js';

const id = (n) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const user = { id: id(900), username: 'dayan_worker', display_name: '大堰镇网格员', role: 'worker', town: 'dayan' };
const entries = [
  { seq: 7, mutation_id: id(7), op: 'case.update', entity: 'case', record_id: id(1), base_version: 3, client_time: '2026-11-26T09:07:00.000Z', data: { title: '改' }, status: 'rejected', error: { code: 'stale_record' } },
  { seq: 2, mutation_id: id(2), op: 'case.create', entity: 'case', record_id: id(1), base_version: null, client_time: '2026-11-26T09:02:00.000Z', data: { title: '竹林界桩争议', photos: ['ab'.repeat(32)] }, status: 'pending', created_at: 'x' },
  { seq: 5, mutation_id: id(5), op: 'case.transition', entity: 'case', record_id: id(1), base_version: null, client_time: '2026-11-26T09:05:00.000Z', data: { from: 'accepted', to: 'mediating', note: '' }, status: 'held', error: { code: 'server_error' } },
];
const photos = [{ sha256: 'ab'.repeat(32), type: 'image/jpeg', base64: '/9j/AA==' }];
const work = { exportedAt: '2026-11-26T10:15:30.123Z', deviceId: id(800), user, entries, photos };

describe('unsent-work file', () => {
  test('carries every unconfirmed entry, in outbox order, exactly as the engine pushes it', () => {
    const content = unsentContent(work);
    assert.deepEqual(content.mutations, [entries[1], entries[2], entries[0]].map(toWire));
    assert.deepEqual(content.mutations.map((m) => m.mutation_id), [id(2), id(5), id(7)]);
    assert.equal(content.mutations[2].base_version, 3);
    assert.ok(!('status' in content.mutations[0]) && !('error' in content.mutations[2]), 'phone-only fields stay home');
    assert.deepEqual(content.user, { id: id(900), username: 'dayan_worker', display_name: '大堰镇网格员' });
    assert.equal(content.device_id, id(800));
    assert.deepEqual(content.photos, photos);
  });

  test('wraps the content as text with the SHA-256 of its UTF-8 bytes', async () => {
    const text = await unsentFileText(unsentContent(work));
    const file = JSON.parse(text);
    assert.deepEqual(Object.keys(file), ['format', 'version', 'sha256', 'content']);
    assert.equal(file.format, UNSENT_FORMAT);
    assert.equal(file.version, UNSENT_VERSION);
    assert.equal(typeof file.content, 'string');
    // The same digest any other language computes over the content's UTF-8 bytes.
    assert.equal(file.sha256, createHash('sha256').update(Buffer.from(file.content, 'utf8')).digest('hex'));
    assert.deepEqual(JSON.parse(file.content), unsentContent(work));
    assert.deepEqual(await readUnsentFile(text), unsentContent(work));
  });

  test('half a character in a title still makes a valid UTF-8 file with a true checksum', async () => {
    const cut = { ...entries[1], data: { title: '争议\ud83d' } };
    const text = await unsentFileText(unsentContent({ ...work, entries: [cut] }));
    assert.ok(text.isWellFormed());
    const file = JSON.parse(text);
    assert.match(file.content, /\\ud83d/);
    assert.equal(file.sha256, createHash('sha256').update(Buffer.from(file.content, 'utf8')).digest('hex'));
    assert.equal((await readUnsentFile(text)).mutations[0].data.title, '争议\ud83d');
  });

  test('reading refuses what the server refuses', async () => {
    const text = await unsentFileText(unsentContent(work));
    const file = JSON.parse(text);
    const refused = async (changed) => (await readUnsentFile(changed).catch((e) => e)).code;
    assert.equal(await refused('not json'), 'not_unsent_file');
    assert.equal(await refused(JSON.stringify(unsentContent(work))), 'not_unsent_file');
    assert.equal(await refused(JSON.stringify({ ...file, version: 2 })), 'unknown_version');
    assert.equal(await refused(JSON.stringify({ ...file, content: file.content.replace('竹林', '竹子') })), 'checksum_mismatch');
    const broken = '{"mutations": [';
    assert.equal(await refused(JSON.stringify({ ...file, content: broken, sha256: await sha256Text(broken) })), 'content_not_json');
  });

  test('names the download by its time', () => {
    assert.equal(unsentFileName('2026-11-26T10:15:30.123Z'), 'fengling-unsent-2026-11-26T101530.json');
    assert.equal(unsentFileName('2026-11-26T10:15:30.123Z', { single: true }), 'fengling-intent-2026-11-26T101530.json');
  });
});
