// Pure rules of the sync engine: backoff, batching, settlement, merge of pending edits.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { CONTRACT } from '../../../webapp/js/contract.js';
import {
  BATCH_MAX_BYTES, BATCH_MAX_COUNT, ENTITY_OF_OP, applyIntent, backoffDelay, createsRecord, distanceMetres,
  filterCases, isUnfiltered, movesFor, planSettlement, previewCheckin, rebase, retryDelay, takeBatch, toWire, withoutConflicts,
} from '../../../webapp/js/sync-rules.js';

const entry = (seq, op, data, extra = {}) => ({
  seq, op, data, mutation_id: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
  record_id: 'r1', status: 'pending', client_time: '2026-11-26T09:00:00+08:00', ...extra,
});

describe('backoff', () => {
  test('grows exponentially and stays within equal-jitter bounds', () => {
    for (const [attempt, ceiling] of [[0, 2000], [1, 4000], [2, 8000], [5, 64000]]) {
      assert.equal(backoffDelay(attempt, { random: () => 0 }), ceiling / 2);
      assert.equal(backoffDelay(attempt, { random: () => 0.999999 }), Math.round(ceiling * 0.9999995));
    }
  });

  test('is capped, also for absurd attempt counts', () => {
    assert.equal(backoffDelay(1000, { random: () => 1 }), 5 * 60 * 1000);
    assert.ok(backoffDelay(40, { random: () => 0 }) <= 5 * 60 * 1000);
  });

  test('jitter spreads devices that failed together', () => {
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelay(3)));
    assert.ok(delays.size > 10);
  });

  test("honours the server's Retry-After", () => {
    assert.equal(retryDelay(0, 30, { random: () => 0 }), 30_000);
    assert.equal(retryDelay(0, null, { random: () => 0 }), 1000);
  });
});

describe('batching', () => {
  const many = Array.from({ length: 250 }, (_, i) => entry(i + 1, 'case.update', { title: `t${i}` }));

  test('takes pending entries in order up to the count limit', () => {
    const batch = takeBatch(many, { maxCount: 100 });
    assert.equal(batch.length, 100);
    assert.deepEqual(batch.map((e) => e.seq), many.slice(0, 100).map((e) => e.seq));
  });

  test('skips rejected entries; they wait for the person', () => {
    const mixed = [entry(1, 'case.update', { title: 'a' }, { status: 'rejected' }), entry(2, 'case.update', { title: 'b' })];
    assert.deepEqual(takeBatch(mixed).map((e) => e.seq), [2]);
  });

  test('stops before the byte limit but always sends at least one', () => {
    const big = [1, 2, 3].map((i) => entry(i, 'case.update', { description: 'x'.repeat(1000) }));
    assert.equal(takeBatch(big, { maxBytes: 2500 }).length, 2);
    assert.equal(takeBatch(big, { maxBytes: 10 }).length, 1);
  });

  test('a batch stays within the push limits the server publishes', () => {
    assert.ok(BATCH_MAX_COUNT > 0 && BATCH_MAX_COUNT <= CONTRACT.push.max_mutations);
    assert.ok(BATCH_MAX_BYTES > 0 && BATCH_MAX_BYTES <= CONTRACT.push.max_bytes);
  });

  test('ops come from the server: their entity, and which of them create a record', () => {
    assert.equal(ENTITY_OF_OP['case.transition'], 'case');
    assert.equal(ENTITY_OF_OP['checkin.create'], 'checkin');
    assert.equal(createsRecord('case_event.create'), true);
    assert.equal(createsRecord('case.update'), false);
    assert.equal(createsRecord('case.delete'), false);
  });

  test('the wire form carries base_version only for case.update', () => {
    assert.equal(toWire(entry(1, 'case.update', {}, { base_version: 4 })).base_version, 4);
    assert.equal(toWire(entry(1, 'case.update', {}, { base_version: null })).base_version, 1);
    assert.equal('base_version' in toWire(entry(1, 'case.create', {})), false);
    assert.deepEqual(Object.keys(toWire(entry(1, 'case.create', {}))).sort(),
      ['client_time', 'data', 'mutation_id', 'op', 'record_id']);
  });
});

describe('settlement', () => {
  test('matches results by mutation id; missing results stay pending', () => {
    const [a, b, c] = [1, 2, 3].map((i) => entry(i, 'case.update', {}));
    const plan = planSettlement([a, b, c], [
      { mutation_id: a.mutation_id.toUpperCase(), status: 'applied', version: 4 },
      { mutation_id: b.mutation_id, status: 'rejected', error: { code: 'stale_transition', message: 'm', details: {} } },
    ]);
    assert.deepEqual(plan.confirmed.map((x) => [x.entry.seq, x.version]), [[1, 4]]);
    assert.deepEqual(plan.rejected.map((x) => [x.entry.seq, x.error.code]), [[2, 'stale_transition']]);
    assert.deepEqual(plan.unanswered.map((x) => x.seq), [3]);
  });

  test('a merged result is confirmed with its conflicts; a replayed one like the original', () => {
    const a = entry(1, 'case.update', { title: 'mine', severity: 'high' });
    const conflicts = [{ field: 'title', kept: 'theirs', incoming: 'mine', conflict_id: 'c1' }];
    const plan = planSettlement([a], [{ mutation_id: a.mutation_id, status: 'merged', version: 6, conflicts, replayed: true }]);
    assert.equal(plan.confirmed[0].conflicts, conflicts);
    assert.deepEqual(withoutConflicts(a, conflicts).data, { severity: 'high' });
  });
});

describe('pending edits over pulled state', () => {
  const server = { title: 'server title', status: 'accepted', severity: 'low' };

  test('pending intents are re-applied in order over the server state', () => {
    const pending = [
      entry(1, 'case.update', { title: 'mine' }),
      entry(2, 'case.transition', { from: 'accepted', to: 'mediating' }),
      entry(3, 'case.update', { severity: 'high' }, { status: 'rejected' }),
    ];
    const { data } = rebase({ server, version: 3, confirmed: [] }, pending);
    assert.deepEqual(data, { title: 'mine', status: 'mediating', severity: 'low' });
  });

  test('a confirmed intent shows until the pull brings its version', () => {
    const confirmed = [{ intent: { op: 'case.update', data: { title: 'sent' } }, version: 4 }];
    assert.equal(rebase({ server, version: 3, confirmed }, []).data.title, 'sent');
    const caughtUp = rebase({ server: { ...server, title: 'sent' }, version: 4, confirmed }, []);
    assert.equal(caughtUp.data.title, 'sent');
    assert.deepEqual(caughtUp.confirmed, []);
  });

  test('a field the server set aside is not shown as if it had won', () => {
    const intent = withoutConflicts({ op: 'case.update', data: { title: 'lost' } }, [{ field: 'title' }]);
    const { data } = rebase({ server, version: 3, confirmed: [{ intent, version: 5 }] }, []);
    assert.equal(data.title, 'server title');
  });

  test('a local create has data before the server ever saw it', () => {
    const { data } = rebase({ server: null, version: null }, [entry(1, 'case.create', { title: 'new' })]);
    assert.deepEqual(data, { status: 'registered', assignee: null, number: null, title: 'new' });
  });

  test('server fields of a created record win over the local copy', () => {
    const local = applyIntent({ verified: true, distance_m: 3 }, { op: 'checkin.create', data: { notes: 'n' } });
    assert.deepEqual(local, { notes: 'n', verified: true, distance_m: 3 });
  });

  test('unknown ops are an error, never ignored', () => {
    assert.throws(() => applyIntent({}, { op: 'case.delete', data: {} }));
  });
});

describe('workflow, geofence and search', () => {
  test('moves mirror the server workflow per role', () => {
    assert.deepEqual(movesFor('worker', 'registered'), []);
    assert.deepEqual(movesFor('supervisor', 'registered'), ['accepted']);
    assert.deepEqual(movesFor('worker', 'accepted'), ['mediating']);
    assert.deepEqual(movesFor('supervisor', 'escalated').sort(), ['closed', 'resolved']);
  });

  test('a worker at an accepted case may start mediating, and nothing else', () => {
    assert.deepEqual(movesFor('worker', 'accepted'), ['mediating']);
    assert.deepEqual(movesFor('supervisor', 'accepted'), ['mediating', 'escalated']);
  });

  test('a worker mediating may resolve on the spot; escalating is for the town', () => {
    assert.deepEqual(movesFor('worker', 'mediating'), ['resolved']);
    assert.deepEqual(movesFor('admin', 'mediating'), ['resolved', 'escalated']);
    assert.deepEqual(movesFor('worker', 'escalated'), []);
  });

  test('a closed case moves nowhere, and an unknown role or status gets no moves', () => {
    for (const role of ['worker', 'supervisor', 'admin']) assert.deepEqual(movesFor(role, 'closed'), []);
    assert.deepEqual(movesFor('visitor', 'accepted'), []);
    assert.deepEqual(movesFor('admin', 'archived'), []);
  });

  test('every status a move names is one of the workflow statuses', () => {
    const statuses = new Set(CONTRACT.workflow.statuses);
    assert.ok(statuses.has(CONTRACT.workflow.initial_status));
    for (const move of CONTRACT.workflow.moves) assert.ok(statuses.has(move.from) && statuses.has(move.to), move);
  });

  test('a check-in verifies with a fresh fix within the radius at a good enough accuracy', () => {
    const site = { lat: 29.4812, lon: 121.1703, radius_m: 150 };
    const at = Date.parse('2026-11-26T01:12:00Z');
    const fix = (extra) => ({ lat: 29.4812, lon: 121.1703, accuracy_m: 20, fix_at: '2026-11-26T01:11:30Z', ...extra });
    const reason = (position) => previewCheckin(position, site, at).reason;
    assert.equal(previewCheckin(fix(), site, at).verified, true);
    assert.equal(reason(fix()), null);
    assert.equal(reason(null), 'no_fix');
    assert.equal(reason(fix({ fix_at: '2026-11-26T01:07:00Z' })), 'stale_fix'); // five minutes old
    assert.equal(reason(fix({ fix_at: undefined })), 'stale_fix'); // its age unknown
    assert.equal(reason(fix({ accuracy_m: 400 })), 'poor_accuracy');
    assert.equal(reason(fix({ lat: 29.49 })), 'too_far');
    assert.ok(Math.abs(distanceMetres(29.48, 121.17, 29.49, 121.17) - 1112) < 5);
  });

  test('search matches title, number and parties; filters combine', () => {
    const cases = [
      { id: '1', data: { title: '山林纠纷', number: 'DY2026-00001', status: 'registered', primary_town: 'dayan', involved_towns: ['shenzhen'], reported_by: 'u1', reported_at: '2026-11-01' } },
      { id: '2', data: { title: '水渠', status: 'mediating', primary_town: 'shenzhen', involved_towns: [], parties: [{ name: '戴某' }], reported_by: 'u2', reported_at: '2026-11-02' } },
      { id: '3', data: { title: '本机新登记', status: 'registered', primary_town: 'dayan', involved_towns: [], reported_at: '2026-11-03' }, author: 'u1' },
    ];
    const ids = (filter) => filterCases(cases, filter, 'u1').map((c) => c.id);
    assert.deepEqual(ids({ q: 'dy2026' }), ['1']);
    assert.deepEqual(ids({ q: '戴某' }), ['2']);
    assert.deepEqual(ids({ town: 'shenzhen' }), ['2', '1']);
    assert.deepEqual(ids({ cross: true }), ['1']);
    assert.deepEqual(ids({ mine: true }), ['3', '1']);
    assert.deepEqual(ids({ status: 'registered', mine: true, q: '山林' }), ['1']);
  });

  test('the list is newest first, ties by the larger id, as the index read backwards gives it', () => {
    const at = (id, reported_at) => ({ id, data: { title: id, reported_at } });
    const cases = [
      at('a', '2026-11-02T08:00:00+00:00'), at('c', '2026-11-02T08:00:00+00:00'), at('d', undefined),
      at('b', '2026-11-03T08:00:00+00:00'), at('e', '2026-11-01T08:00:00+00:00'),
    ];
    // IndexedDB orders ['case', reported_at] by code unit, equal keys by primary key; 'prev'
    // reverses both. A case with no time is not in the index and comes last.
    assert.deepEqual(filterCases(cases, {}, 'u1').map((c) => c.id), ['b', 'c', 'a', 'e', 'd']);
  });

  test('a filter is empty only when nothing narrows the list', () => {
    assert.equal(isUnfiltered({ q: '', status: '', town: '', cross: false, mine: false }), true);
    assert.equal(isUnfiltered({ q: '   ' }), true);
    for (const narrowed of [{ q: '山林' }, { status: 'closed' }, { town: 'dayan' }, { cross: true }, { mine: true }]) {
      assert.equal(isUnfiltered(narrowed), false, JSON.stringify(narrowed));
    }
  });
});
