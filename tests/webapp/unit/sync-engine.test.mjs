// The engine's orchestration with an in-memory store and a scripted server (both injected).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { ApiError } from '../../../webapp/js/api.js';
import { createSyncEngine } from '../../../webapp/js/sync.js';
import { planSettlement } from '../../../webapp/js/sync-rules.js';

function memoryStore(entries = []) {
  const meta = new Map([['auth', { token: 't', user: { id: 'u1' } }]]);
  const records = new Map();
  let outbox = entries.map((e, i) => ({ seq: i + 1, status: 'pending', record_id: `r${i}`, client_time: 'x', data: {}, op: 'case.update', mutation_id: `m${i}`, ...e }));
  return {
    meta, records, get outbox() { return outbox; },
    getMeta: async (k) => meta.get(k) ?? null,
    setMeta: async (k, v) => { if (v === null) meta.delete(k); else meta.set(k, v); },
    pendingEntries: async () => outbox.filter((e) => e.status === 'pending'),
    deviceStatus: async () => ({ pending: outbox.length }),
    settle: async (batch, results) => {
      const plan = planSettlement(batch, results);
      const done = new Set(plan.confirmed.map((c) => c.entry.seq));
      const rejected = new Map(plan.rejected.map((r) => [r.entry.seq, r.error]));
      outbox = outbox.filter((e) => !done.has(e.seq))
        .map((e) => (rejected.has(e.seq) ? { ...e, status: 'rejected', error: rejected.get(e.seq) } : e));
      return plan;
    },
    holdEntries: async (ids, error) => {
      outbox = outbox.map((e) => (ids.includes(e.mutation_id) && e.status === 'pending' ? { ...e, status: 'held', error } : e));
      return ids.length;
    },
    uploadPhotos: async () => ({ uploaded: 0 }),
    applyPull: async (changes, cursor, mark) => {
      for (const c of changes) {
        if (c.op === 'remove') records.delete(c.record_id);
        else records.set(c.record_id, { data: c.data, seen: mark ?? records.get(c.record_id)?.seen ?? null });
      }
      meta.set('cursor', cursor);
    },
    dropUnseen: async (mark) => {
      for (const [id, r] of records) if (r.seen !== mark && !outbox.some((e) => e.record_id === id)) records.delete(id);
    },
  };
}

/** A scripted server: push applies everything unless told otherwise; pull pages from a list. */
function fakeApi({ pages = [[]], pushError = null, pullError = null } = {}) {
  const calls = [];
  let page = 0;
  return {
    calls,
    async post(path, body) {
      calls.push(['push', body.mutations.length]);
      if (pushError) throw pushError();
      return { results: body.mutations.map((m) => ({ mutation_id: m.mutation_id, status: 'applied', version: 2 })) };
    },
    async get(path, query) {
      calls.push(['pull', query.cursor ?? null]);
      const failure = pullError?.(query);
      if (failure) throw failure;
      const changes = pages[Math.min(page, pages.length - 1)];
      page += 1;
      return { changes, cursor: `c${page}`, has_more: page < pages.length };
    },
  };
}

const timers = () => {
  const scheduled = [];
  return { scheduled, setTimer: (fn, ms) => { scheduled.push(ms); return scheduled.length; }, clearTimer: () => {} };
};

describe('sync engine', () => {
  test('pushes the outbox in batches, then pulls until has_more is false', async () => {
    const store = memoryStore(Array.from({ length: 250 }, () => ({})));
    const change = (id) => ({ entity: 'case', record_id: id, op: 'upsert', version: 1, data: { title: id } });
    const api = fakeApi({ pages: [[change('a')], [change('b')], [change('c')]] });
    const result = await createSyncEngine({ store, api, locks: null, ...timers() }).sync();
    assert.equal(result.ok, true);
    assert.deepEqual(api.calls, [['push', 100], ['push', 100], ['push', 50], ['pull', null], ['pull', 'c1'], ['pull', 'c2']]);
    assert.equal(store.outbox.length, 0);
    assert.deepEqual([...store.records.keys()], ['a', 'b', 'c']);
    assert.equal(store.meta.get('cursor'), 'c3');
  });

  test('before a PIN opens the vault nothing is pushed or pulled, not even with a token', async () => {
    const store = { ...memoryStore([{}]), canSync: () => false };
    const api = fakeApi({ pages: [[{ entity: 'case', record_id: 'a', op: 'upsert', version: 1, data: { title: 'a' } }]] });
    const result = await createSyncEngine({ store, api, locks: null, ...timers() }).sync();
    assert.deepEqual(result, { skipped: 'vault' });
    assert.deepEqual(api.calls, []);
  });
  test('a successful sync records when it started, so "synced since I tapped" can be checked', async () => {
    const store = memoryStore([{}]);
    const clock = ['2026-11-26T08:00:00.000Z', '2026-11-26T08:00:02.500Z'];
    let reads = 0;
    const now = () => new Date(clock[Math.min(reads++, clock.length - 1)]);
    await createSyncEngine({ store, api: fakeApi(), locks: null, now, ...timers() }).sync();
    assert.deepEqual(store.meta.get('last_sync'),
      { at: '2026-11-26T08:00:02.500Z', ok: true, started_at: '2026-11-26T08:00:00.000Z' });
    assert.equal(store.meta.get('last_success'), '2026-11-26T08:00:02.500Z');
  });

  test('single flight: concurrent calls share one run, and a call during it runs once more', async () => {
    const store = memoryStore([{}]);
    const api = fakeApi();
    const engine = createSyncEngine({ store, api, locks: null, ...timers() });
    const [a, b] = [engine.sync('one'), engine.sync('two')];
    assert.equal(a, b);
    await a;
    assert.deepEqual(api.calls.map((c) => c[0]), ['push', 'pull', 'pull']);
  });

  test('one sync across tabs: when another holds the lock, this one steps aside', async () => {
    const store = memoryStore([{}]);
    const api = fakeApi();
    const locks = { request: async (name, options, fn) => fn(null) };
    const result = await createSyncEngine({ store, api, locks, ...timers() }).sync();
    assert.deepEqual(result, { skipped: 'locked' });
    assert.equal(api.calls.length, 0);
  });

  test('401 keeps the outbox and waits for the person to sign in again', async () => {
    const store = memoryStore([{}, {}]);
    const clock = timers();
    const api = fakeApi({ pushError: () => new ApiError(401, 'device_revoked', 'revoked') });
    const result = await createSyncEngine({ store, api, locks: null, ...clock }).sync();
    assert.equal(result.ok, false);
    assert.equal(store.outbox.length, 2);
    assert.equal(store.meta.get('auth_problem').code, 'device_revoked');
    assert.deepEqual(clock.scheduled, [], 'no automatic retry against a refused token');
    assert.deepEqual(await createSyncEngine({ store, api, locks: null, ...clock }).sync(), { skipped: 'auth_problem' });
  });

  test('426 stops syncing until the app is updated, outbox intact', async () => {
    const store = memoryStore([{}]);
    const api = fakeApi({ pushError: () => new ApiError(426, 'client_outdated', 'old') });
    await createSyncEngine({ store, api, locks: null, ...timers() }).sync();
    assert.equal(store.meta.get('update_required').code, 'client_outdated');
    assert.equal(store.outbox.length, 1);
  });

  test('network failures retry with growing, jittered delays', async () => {
    const store = memoryStore([{}]);
    const clock = timers();
    const api = fakeApi({ pushError: () => new ApiError(0, 'network', 'offline') });
    const engine = createSyncEngine({ store, api, locks: null, random: () => 0.5, ...clock });
    for (let i = 0; i < 4; i += 1) await engine.sync();
    assert.deepEqual(clock.scheduled, [1500, 3000, 6000, 12000]);
    assert.equal(store.outbox.length, 1);
    assert.equal(store.meta.get('last_sync').ok, false);
  });

  test('413 halves the batch and carries on', async () => {
    const store = memoryStore(Array.from({ length: 8 }, () => ({})));
    let refusals = 1;
    const api = fakeApi();
    const post = api.post;
    api.post = async (path, body) => {
      if (refusals-- > 0) { api.calls.push(['refused', body.mutations.length]); throw new ApiError(413, 'payload_too_large', ''); }
      return post(path, body);
    };
    await createSyncEngine({ store, api, locks: null, ...timers() }).sync();
    assert.deepEqual(api.calls.slice(0, 3), [['refused', 8], ['push', 4], ['push', 4]]);
  });

  test('rejected intents stay, with their reason, and do not block the rest', async () => {
    const store = memoryStore([{}, {}]);
    const api = fakeApi();
    api.post = async (path, body) => ({ results: [
      { mutation_id: body.mutations[0].mutation_id, status: 'rejected', error: { code: 'stale_transition', message: '…', details: {} } },
      { mutation_id: body.mutations[1].mutation_id, status: 'applied', version: 3 },
    ] });
    await createSyncEngine({ store, api, locks: null, ...timers() }).sync();
    assert.deepEqual(store.outbox.map((e) => [e.mutation_id, e.status, e.error.code]), [['m0', 'rejected', 'stale_transition']]);
  });

  test('410 resync pulls from scratch, keeps the outbox, drops records not returned', async () => {
    const store = memoryStore([{ record_id: 'local-new', status: 'rejected' }]);
    for (const id of ['gone', 'kept', 'local-new']) store.records.set(id, { data: {} });
    store.meta.set('cursor', 'old-epoch');
    const api = fakeApi({
      pages: [[{ entity: 'case', record_id: 'kept', op: 'upsert', version: 1, data: {} }]],
      pullError: (q) => (q.cursor === 'old-epoch' ? new ApiError(410, 'resync_required', '') : null),
    });
    const result = await createSyncEngine({ store, api, locks: null, ...timers() }).sync();
    assert.equal(result.ok, true);
    assert.deepEqual(api.calls, [['pull', 'old-epoch'], ['pull', null]]);
    assert.deepEqual([...store.records.keys()].sort(), ['kept', 'local-new']);
    assert.equal(store.outbox.length, 1);
    assert.equal(store.meta.get('resync'), undefined);
    assert.equal(store.meta.get('cursor'), 'c1');
  });

  test('a push answering none of its batch is a failure, not a silent loop', async () => {
    const store = memoryStore([{}]);
    const api = fakeApi();
    api.post = async () => ({ results: [] });
    const result = await createSyncEngine({ store, api, locks: null, ...timers() }).sync();
    assert.equal(result.ok, false);
    assert.equal(store.outbox.length, 1);
  });

  test('a batch failing with 500 three times is halved until the one intent is set aside; the rest is sent', async () => {
    const store = memoryStore(Array.from({ length: 6 }, () => ({})));
    const clock = timers();
    const api = fakeApi();
    const post = api.post;
    api.post = async (path, body) => {
      if (body.mutations.some((m) => m.mutation_id === 'm4')) {
        api.calls.push(['failed', body.mutations.length]);
        throw new ApiError(500, 'internal_error', 'boom');
      }
      return post(path, body);
    };
    const engine = createSyncEngine({ store, api, locks: null, random: () => 0, ...clock });
    assert.equal((await engine.sync()).ok, false);
    assert.equal((await engine.sync()).ok, false);
    assert.equal(clock.scheduled.length, 2, 'the first two are ordinary retries');
    const third = await engine.sync();
    assert.equal(third.ok, true);
    assert.equal(third.pushed.held, 1);
    assert.deepEqual(store.outbox.map((e) => [e.mutation_id, e.status, e.error.code, e.error.status]), [['m4', 'held', 'server_error', 500]]);
    assert.deepEqual(api.calls.filter((c) => c[0] !== 'pull'), [
      ['failed', 6], ['failed', 6], ['failed', 6], ['push', 3], ['failed', 2], ['push', 1], ['failed', 1], ['push', 1],
    ]);
    api.calls.length = 0;
    await engine.sync();
    assert.deepEqual(api.calls.map((c) => c[0]), ['pull'], 'a held intent is not sent again by itself');
  });

  test('a proxy answering 502 while the server restarts sets nothing aside, whatever the outbox holds', async () => {
    for (const n of [1, 2, 5]) {
      for (let down = 1; down <= 12; down += 1) {
        const store = memoryStore(Array.from({ length: n }, () => ({})));
        const api = fakeApi();
        let requests = 0;
        const restarting = () => { requests += 1; return requests <= down; };
        const post = api.post;
        api.post = async (path, body) => {
          if (restarting()) throw new ApiError(502, 'bad_gateway', 'Bad Gateway');
          return post(path, body);
        };
        const get = api.get;
        api.get = async (path, query) => {
          if (restarting()) throw new ApiError(502, 'bad_gateway', 'Bad Gateway');
          return get(path, query);
        };
        const engine = createSyncEngine({ store, api, locks: null, random: () => 0, ...timers() });
        let result;
        for (let run = 0; run < 15 && !result?.ok; run += 1) result = await engine.sync();
        assert.equal(result.ok, true, `${n} intents, down for ${down} requests`);
        assert.deepEqual(store.outbox, [], `${n} intents, down for ${down} requests: all sent, none held`);
      }
    }
  });

  test('a lone intent the server fails on is not set aside: it is retried with the ordinary backoff', async () => {
    const store = memoryStore([{}]);
    const clock = timers();
    const api = fakeApi({ pushError: () => new ApiError(500, 'internal_error', 'boom') });
    const engine = createSyncEngine({ store, api, locks: null, random: () => 0, ...clock });
    for (let run = 0; run < 6; run += 1) assert.equal((await engine.sync()).ok, false);
    assert.deepEqual(api.calls, Array.from({ length: 6 }, () => ['push', 1]), 'one push a run, never the pull as proof');
    assert.deepEqual(store.outbox.map((e) => e.status), ['pending']);
    assert.deepEqual(clock.scheduled, [1000, 2000, 4000, 8000, 16000, 32000]);
  });

  test('503 with Retry-After is the server busy: retried as before, never isolated', async () => {
    const store = memoryStore([{}, {}]);
    const clock = timers();
    const api = fakeApi({ pushError: () => new ApiError(503, 'temporarily_unavailable', 'busy', {}, 7) });
    const engine = createSyncEngine({ store, api, locks: null, random: () => 0, ...clock });
    for (let i = 0; i < 6; i += 1) await engine.sync();
    assert.deepEqual(api.calls, Array.from({ length: 6 }, () => ['push', 2]));
    assert.ok(store.outbox.every((e) => e.status === 'pending'));
    assert.ok(clock.scheduled.every((ms) => ms >= 7000));
  });
});
