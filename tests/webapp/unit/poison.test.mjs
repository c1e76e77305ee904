// Poison intents: the halving rule that sets aside the one intent the server fails on.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  SERVER_FAULT_STRIKES, afterServed, afterServerFault, initialIsolation, isServerFault, isolationLimit, rebase,
} from '../../../webapp/js/sync-rules.js';

const ids = (n) => Array.from({ length: n }, (_, i) => `m${i}`);

/**
 * The engine's loop over a scripted server: a push fails (500) when it holds a poisoned intent.
 * Backoffs end a run; the run ends with the pull, which goes through. Returns what was sent,
 * what was set aside, and how many pushes and runs it took.
 */
function simulate(all, poisoned, { batchLimit = 100, maxRuns = 20, serverDown = () => false } = {}) {
  let state = initialIsolation();
  const pending = [...all];
  const sent = [];
  const heldIds = [];
  let pushes = 0;
  let runs = 0;
  while (runs < maxRuns) {
    runs += 1;
    let backoff = false;
    for (;;) {
      const sendable = pending.filter((id) => !state.candidates.includes(id));
      const batch = sendable.slice(0, isolationLimit(state, batchLimit));
      if (!batch.length) break;
      pushes += 1;
      if (serverDown(pushes) || batch.some((id) => poisoned.includes(id))) {
        const step = afterServerFault(state, batch);
        state = step.state;
        heldIds.push(...step.setAside);
        for (const id of step.setAside) pending.splice(pending.indexOf(id), 1);
        if (step.next === 'backoff') { backoff = true; break; }
        continue;
      }
      for (const id of batch) pending.splice(pending.indexOf(id), 1);
      sent.push(...batch);
      const step = afterServed(state, batch);
      state = step.state;
      heldIds.push(...step.setAside);
      for (const id of step.setAside) pending.splice(pending.indexOf(id), 1);
    }
    if (backoff) continue;
    const step = afterServed(state, []); // the pull went through
    state = step.state;
    heldIds.push(...step.setAside);
    for (const id of step.setAside) pending.splice(pending.indexOf(id), 1);
    if (!pending.length) break;
  }
  return { sent, held: heldIds, pushes, runs, pending, state };
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
    step = { state: afterServed(step.state, ids(4)).state };
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
      assert.deepEqual(result.state, initialIsolation(), 'back to full batches afterwards');
    }
  });

  test('isolation costs the three strikes and about log2(batch) more pushes, not a push per intent', () => {
    const all = ids(100);
    const result = simulate(all, ['m63']);
    assert.deepEqual(result.held, ['m63']);
    assert.equal(result.runs, 3, 'two backoffs, then one run isolates and sends the rest');
    assert.ok(result.pushes <= 3 + 2 * Math.ceil(Math.log2(100)), `${result.pushes} pushes`);
    assert.deepEqual(simulate(ids(1), ['m0']).held, ['m0'], 'alone in the outbox');
  });

  test('two poisoned intents in one batch are both set aside', () => {
    for (const poisoned of [['m3', 'm14'], ['m0', 'm1'], ['m0', 'm19']]) {
      const result = simulate(ids(20), poisoned);
      assert.deepEqual([...result.held].sort(), [...poisoned].sort());
      assert.equal(result.sent.length, 18);
    }
  });

  test('an intent failing alone waits for the next one to go through before it is set aside', () => {
    let state = initialIsolation();
    for (let i = 0; i < SERVER_FAULT_STRIKES; i += 1) state = afterServerFault(state, ['a', 'b']).state;
    let step = afterServerFault(state, ['a']);
    assert.deepEqual(step.setAside, []);
    assert.equal(isolationLimit(step.state, 100), 1, 'the probe goes alone');
    step = afterServed(step.state, ['b']);
    assert.deepEqual(step.setAside, ['a']);
  });

  test('a lone failing intent is set aside once the pull shows the server answers', () => {
    let step = afterServerFault(initialIsolation(), ['only']);
    step = afterServerFault(step.state, ['only']);
    step = afterServerFault(step.state, ['only']);
    assert.equal(step.next, 'continue');
    assert.deepEqual(step.setAside, [], 'not yet: nothing has gone through');
    assert.deepEqual(step.state.candidates, ['only']);
    const pulled = afterServed(step.state, []);
    assert.deepEqual(pulled.setAside, ['only']);
    assert.deepEqual(pulled.state, initialIsolation());
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
