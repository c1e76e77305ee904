// Poison intents: the halving rule that sets aside the one intent the server fails on.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  SERVER_FAULT_STRIKES, afterRunFailed, afterServed, afterServerFault, atRunStart, createsRecord, dependsOnRecord,
  initialIsolation, isServerFault, isolationBatch, isolationLimit, rebase,
} from '../../../webapp/js/sync-rules.js';

const ids = (n) => Array.from({ length: n }, (_, i) => `m${i}`);
const updates = (list) => list.map((id) => ({ mutation_id: id, op: 'case.update', record_id: `r-${id}`, data: {} }));

/**
 * The engine's loop over a scripted server, with the engine's own rules: each request (push or
 * pull) is numbered; `serverDown(n)` fails request n with a 5xx (an outage: pushes and pulls
 * alike), and a push holding a poisoned intent fails (a bug). A backoff or a failed pull ends
 * the run (as the engine's handleFailure does); a run ends with the pull. A create set aside
 * takes its pending dependants along (as the store's holdEntries does). Returns what was sent
 * (and every push, in order), what was set aside (and held with it), what is left and how many
 * pushes and runs it took. `arriving(run)` names intents the worker saves before that run.
 */
function simulate(all, poisoned, { batchLimit = 100, maxRuns = 20, serverDown = () => false, arriving = () => [] } = {}) {
  let state = initialIsolation();
  const entries = Array.isArray(all) && typeof all[0] === 'string' ? updates(all) : [...all];
  const pending = [...entries];
  const sent = [];
  const heldIds = [];
  const heldWith = [];
  const log = [];
  let requests = 0;
  let pushes = 0;
  let runs = 0;
  const remove = (list) => { for (const id of list) pending.splice(pending.findIndex((e) => e.mutation_id === id), 1); };
  const hold = (list) => {
    const creates = pending.filter((e) => list.includes(e.mutation_id) && createsRecord(e.op));
    heldIds.push(...list);
    remove(list);
    const along = pending.filter((e) => creates.some((c) => dependsOnRecord(e, c.record_id))).map((e) => e.mutation_id);
    heldWith.push(...along);
    remove(along);
  };
  while (runs < maxRuns) {
    runs += 1;
    pending.push(...updates(arriving(runs)));
    state = atRunStart(state);
    let failed; // set by every way out of the pushes
    for (;;) {
      const plan = isolationBatch(state, pending, batchLimit);
      const batch = plan.entries.slice(0, plan.maxCount).map((e) => e.mutation_id);
      if (!batch.length) { failed = plan.waiting; break; }
      requests += 1;
      pushes += 1;
      log.push(batch);
      if (serverDown(requests) || batch.some((id) => poisoned.includes(id))) {
        const step = afterServerFault(state, batch);
        state = step.state;
        hold(step.setAside);
        if (step.next === 'backoff') { failed = true; break; }
      } else {
        remove(batch);
        sent.push(...batch);
        state = afterServed(state, batch);
      }
    }
    if (!failed) {
      requests += 1; // the pull
      failed = serverDown(requests);
    }
    if (failed) state = afterRunFailed(state);
    else if (!pending.length) break;
  }
  return { sent, held: heldIds, heldWith, log, pushes, runs, pending: pending.map((e) => e.mutation_id), state };
}

describe('which failures count', () => {
  test('500, 502, 504 and other 5xx count; 503 with Retry-After is the server busy', () => {
    for (const status of [500, 502, 504, 507, 599]) assert.equal(isServerFault({ status }), true, String(status));
    assert.equal(isServerFault({ status: 503, retryAfter: 5 }), false);
    assert.equal(isServerFault({ status: 503, retryAfter: null }), true);
    for (const status of [0, 400, 401, 413, 426, 429, 600]) assert.equal(isServerFault({ status }), false, String(status));
    assert.equal(isServerFault(new Error('no status')), false);
  });
});

describe('halving a batch the server keeps failing on', () => {
  test('two failures in a row are ordinary retries; the third halves the batch', () => {
    let step = afterServerFault(initialIsolation(), ids(10));
    assert.equal(step.next, 'backoff');
    step = afterServerFault(step.state, ids(10));
    assert.equal(step.next, 'backoff');
    assert.equal(step.state.strikes, SERVER_FAULT_STRIKES - 1);
    step = afterServerFault(step.state, ids(10));
    assert.equal(step.next, 'continue');
    assert.equal(step.state.limit, 5);
    assert.equal(isolationLimit(step.state, 100), 5);
    assert.equal(isolationLimit(step.state, 3), 3, 'a smaller 413 limit still applies');
  });

  test('a push that goes through breaks the run of failures', () => {
    let step = afterServerFault(initialIsolation(), ids(4));
    step = afterServerFault(step.state, ids(4));
    step = { state: afterServed(step.state, ids(4)) };
    step = afterServerFault(step.state, ids(4));
    assert.equal(step.next, 'backoff');
    assert.equal(step.state.strikes, 1);
  });

  test('a batch that changed but still holds the failing intents keeps counting', () => {
    let step = afterServerFault(initialIsolation(), ['a', 'b']);
    step = afterServerFault(step.state, ['a', 'b', 'c']);
    assert.equal(step.state.strikes, 2);
    step = afterServerFault(step.state, ['x']);
    assert.equal(step.state.strikes, 1, 'unrelated: counting starts again');
  });

  test('the poisoned intent is found wherever it is, and everything else is sent', () => {
    const all = ids(37);
    for (let at = 0; at < all.length; at += 1) {
      const result = simulate(all, [all[at]], { batchLimit: 16 });
      assert.deepEqual(result.held, [all[at]], `poison at ${at}`);
      assert.deepEqual([...result.sent].sort(), all.filter((_, i) => i !== at).sort(), `poison at ${at}`);
      assert.deepEqual(result.pending, []);
      assert.deepEqual(atRunStart(result.state), initialIsolation(), 'back to full batches afterwards');
    }
  });

  test('isolation costs the three strikes and about log2(batch) more pushes, not a push per intent', () => {
    const all = ids(100);
    const result = simulate(all, ['m63']);
    assert.deepEqual(result.held, ['m63']);
    assert.equal(result.runs, 3, 'two backoffs, then one run isolates and sends the rest');
    assert.ok(result.pushes <= 3 + 2 * Math.ceil(Math.log2(100)), `${result.pushes} pushes`);
    for (let at = 0; at < 100; at += 1) {
      const anywhere = simulate(all, [all[at]]);
      assert.ok(anywhere.pushes <= 3 + 2 * Math.ceil(Math.log2(100)) + 2, `poison at ${at}: ${anywhere.pushes} pushes`);
    }
  });

  test('two poisoned intents in one batch are both set aside', () => {
    for (const poisoned of [['m3', 'm14'], ['m0', 'm1'], ['m0', 'm19']]) {
      const result = simulate(ids(20), poisoned);
      assert.deepEqual([...result.held].sort(), [...poisoned].sort());
      assert.equal(result.sent.length, 18);
    }
  });

  test('an intent failing alone is set aside only when it fails again right after a probe went through', () => {
    let state = initialIsolation();
    for (let i = 0; i < SERVER_FAULT_STRIKES; i += 1) state = afterServerFault(state, ['a', 'b']).state;
    let step = afterServerFault(state, ['a']);
    assert.deepEqual(step.setAside, [], 'the push before failed too: no proof');
    const pending = updates(['a', 'b', 'c']).map((e, i) => ({ ...e, mutation_id: ['a', 'b', 'c'][i] }));
    let plan = isolationBatch(step.state, pending, 100);
    assert.deepEqual([plan.entries[0].mutation_id, plan.maxCount], ['b', 1], 'the probe goes alone');
    state = afterServed(step.state, ['b']);
    plan = isolationBatch(state, pending.slice(0, 1).concat(pending.slice(2)), 100);
    assert.deepEqual([plan.entries.map((e) => e.mutation_id), plan.maxCount], [['a'], 1], 'then the candidate again, alone');
    step = afterServerFault(state, ['a']);
    assert.deepEqual(step.setAside, ['a']);
    assert.deepEqual(afterServerFault(state, ['c']).setAside, [], 'only an intent known to fail');
  });

  test('a candidate that goes through on its recheck was the server away, not its fault', () => {
    let state = initialIsolation();
    for (let i = 0; i < SERVER_FAULT_STRIKES; i += 1) state = afterServerFault(state, ['a', 'b']).state;
    state = afterServerFault(state, ['a']).state;
    state = afterServed(state, ['b']);
    state = afterServed(state, ['a']);
    assert.deepEqual(state.candidates, []);
    assert.equal(isolationLimit(state, 100), 100, 'full batches again');
  });

  test('the pull proves nothing about a push', () => {
    let step = afterServerFault(initialIsolation(), ['only']);
    step = afterServerFault(step.state, ['only']);
    step = afterServerFault(step.state, ['only']);
    assert.equal(step.next, 'continue');
    assert.deepEqual(step.state.candidates, ['only']);
    const plan = isolationBatch(step.state, updates(['only']), 100);
    assert.deepEqual([plan.entries, plan.waiting], [[], true], 'no probe: the engine backs off, the pull is not a probe');
  });

  test('a lone failing intent is never set aside: it keeps the ordinary backoff, one push a run', () => {
    const result = simulate(ids(1), ['m0'], { maxRuns: 12 });
    assert.deepEqual(result.held, []);
    assert.deepEqual(result.pending, ['m0']);
    assert.equal(result.pushes, 12, 'each run sends it once, after a backoff');
    assert.deepEqual(result.state.candidates, [], 'forgotten after each backoff');
  });

  test('a lone failing intent is set aside once something else can be sent as a probe', () => {
    const result = simulate(['bad'], ['bad'], { arriving: (run) => (run === 6 ? ['new'] : []) });
    assert.deepEqual(result.held, ['bad']);
    assert.deepEqual(result.sent, ['new']);
    assert.equal(result.runs, 6, 'the run that has the new intent isolates the failing one at once');
  });

  test('candidates are forgotten after a backoff or a run that ends with a failure', () => {
    let state = initialIsolation();
    for (let i = 0; i < SERVER_FAULT_STRIKES; i += 1) state = afterServerFault(state, ['a', 'b']).state;
    state = afterServerFault(state, ['a']).state;
    assert.deepEqual(state.candidates, ['a']);
    state = afterRunFailed(state);
    assert.deepEqual(state.candidates, []);
    state = afterServed(atRunStart(state), ['b']);
    assert.deepEqual(afterServerFault(state, ['a']).setAside, [], 'no longer waiting for proof');
  });

  for (const n of [1, 2, 5]) {
    test(`an outage of any length with ${n} pending intent(s) sets nothing aside`, () => {
      for (let down = 1; down <= 40; down += 1) {
        const result = simulate(ids(n), [], { serverDown: (request) => request <= down, maxRuns: 60 });
        assert.deepEqual(result.held, [], `down for ${down} requests`);
        assert.deepEqual([...result.sent].sort(), ids(n).sort(), `down for ${down} requests`);
      }
    });
  }

  test('an outage starting or ending in the middle of an isolation sets nothing aside', () => {
    for (let from = 1; from <= 12; from += 1) {
      for (let length = 1; length <= 12; length += 1) {
        const result = simulate(ids(9), [], { serverDown: (request) => request >= from && request < from + length, maxRuns: 60 });
        assert.deepEqual(result.held, [], `down from ${from} for ${length}`);
      }
    }
  });

  test('a poisoned intent among good ones is isolated after an outage too', () => {
    const result = simulate(ids(7), ['m2'], { serverDown: (request) => request <= 5, maxRuns: 30 });
    assert.deepEqual(result.held, ['m2']);
    assert.deepEqual([...result.sent].sort(), ids(7).filter((id) => id !== 'm2').sort());
  });

  test("a candidate create's dependants wait with it and are never probes", () => {
    const pending = [
      { mutation_id: 'create', op: 'case.create', record_id: 'c1', data: {} },
      { mutation_id: 'edit', op: 'case.update', record_id: 'c1', data: {} },
      { mutation_id: 'note', op: 'case_event.create', record_id: 'e1', data: { case_id: 'c1' } },
      { mutation_id: 'other', op: 'case.update', record_id: 'c2', data: {} },
    ];
    const state = { ...initialIsolation(), candidates: ['create'], misses: 1 };
    const plan = isolationBatch(state, pending, 100);
    assert.deepEqual(plan.entries.map((e) => e.mutation_id), ['other'], 'the probe is another case');
    assert.equal(plan.maxCount, 1);
    const alone = isolationBatch(state, pending.slice(0, 3), 100);
    assert.deepEqual([alone.entries, alone.waiting], [[], true], 'nothing independent to probe with: back off');
    const edit = { ...state, candidates: ['edit'] };
    assert.deepEqual(isolationBatch(edit, pending, 100).entries.map((e) => e.mutation_id), ['create', 'note', 'other'],
      'an edit failing alone holds back nothing');
  });

  test('a poisoned create is set aside with its edits and timeline; no push sends them without it', () => {
    const entries = [];
    for (let i = 0; i < 12; i += 1) {
      entries.push({ mutation_id: `c${i}`, op: 'case.create', record_id: `case${i}`, data: {} });
      entries.push({ mutation_id: `u${i}`, op: 'case.update', record_id: `case${i}`, data: {} });
      entries.push({ mutation_id: `n${i}`, op: 'case_event.create', record_id: `ev${i}`, data: { case_id: `case${i}` } });
    }
    for (const bad of [0, 5, 11]) {
      const result = simulate(entries, [`c${bad}`], { batchLimit: 8 });
      assert.deepEqual(result.held, [`c${bad}`], `poison at ${bad}`);
      assert.deepEqual(result.heldWith.sort(), [`n${bad}`, `u${bad}`], 'held with their case');
      assert.equal(result.sent.length, entries.length - 3);
      for (const batch of result.log) {
        if (batch.some((id) => id === `u${bad}` || id === `n${bad}`)) assert.ok(batch.includes(`c${bad}`), `${batch} sent without its case`);
      }
    }
  });

  test('a server that fails everything sets nothing aside', () => {
    const all = ids(12);
    const result = simulate(all, [], { serverDown: () => true, maxRuns: 40 });
    assert.deepEqual(result.held, []);
    assert.deepEqual(result.sent, []);
    assert.equal(result.pending.length, 12);
  });
});

describe('held intents on screen', () => {
  test('a held intent is still shown as the worker made it (it is only not sent)', () => {
    const record = { server: { title: 'old' }, version: 2, confirmed: [] };
    const held = { op: 'case.update', data: { title: 'mine' }, status: 'held' };
    assert.equal(rebase(record, [held]).data.title, 'mine');
    assert.equal(rebase(record, [{ ...held, status: 'rejected' }]).data.title, 'old');
  });
});
