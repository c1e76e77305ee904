// Pure rules of drafts: keys, the debounced write, what counts as worth keeping, age.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  DRAFT_DELAY_MS, createDebouncer, draftAction, draftAge, draftKey, newestDraftsFirst, parseDraftKey, signature,
} from '../../../webapp/js/draft-rules.js';

/** A hand-driven clock: timers run only when the test advances time. */
function fakeClock() {
  let now = 0;
  let next = 1;
  const timers = new Map();
  return {
    setTimer: (fn, ms) => { timers.set(next, { fn, at: now + ms }); return next++; },
    clearTimer: (id) => timers.delete(id),
    async advance(ms) {
      now += ms;
      for (const [id, timer] of [...timers]) {
        if (timer.at <= now) { timers.delete(id); timer.fn(); }
      }
      await new Promise((resolve) => setImmediate(resolve));
    },
    get pending() { return timers.size; },
  };
}

describe('draft keys', () => {
  test('one key per form and record', () => {
    assert.equal(draftKey('case.new'), 'case.new');
    assert.equal(draftKey('case.edit', 'c-1'), 'case.edit:c-1');
    assert.equal(draftKey('checkin.new', 'site-9'), 'checkin.new:site-9');
    assert.equal(draftKey('case.fix', 12), 'case.fix:12');
    assert.notEqual(draftKey('case.event', 'c-1'), draftKey('case.move', 'c-1'));
  });

  test('a new case has no record; every other form needs one; unknown forms are refused', () => {
    assert.throws(() => draftKey('case.new', 'x'));
    assert.throws(() => draftKey('case.edit'));
    assert.throws(() => draftKey('case.edit', ''));
    assert.throws(() => draftKey('case.delete', 'x'));
  });

  test('a key parses back to its form and record (ids may contain colons)', () => {
    assert.deepEqual(parseDraftKey('case.new'), { form: 'case.new', recordId: null });
    assert.deepEqual(parseDraftKey('case.edit:a:b'), { form: 'case.edit', recordId: 'a:b' });
    assert.equal(parseDraftKey('other:1'), null);
  });
});

describe('what a draft keeps', () => {
  test('a form as it started keeps no draft, any change does', () => {
    const pristine = { title: '', category: '', parties: [{ name: '', role: 'applicant' }], photos: [], position: null };
    assert.equal(draftAction({ ...pristine }, pristine), 'delete');
    assert.equal(draftAction({ ...pristine, title: '水渠' }, pristine), 'put');
    assert.equal(draftAction({ ...pristine, position: { lat: 1, lon: 2, accuracy_m: 3 } }, pristine), 'put');
  });

  test('photos compare by hash, keys in any order', () => {
    const a = { photos: [{ sha256: 'aa', blob: { size: 1 }, size: 1 }], title: 'x' };
    const b = { title: 'x', photos: [{ size: 9, sha256: 'aa', blob: { size: 9 } }] };
    assert.equal(signature(a), signature(b));
    assert.equal(draftAction(a, { title: 'x', photos: [] }), 'put');
  });
});

describe('debounced writes', () => {
  test('written once, a moment after the last change', async () => {
    const clock = fakeClock();
    let writes = 0;
    const debouncer = createDebouncer(() => { writes += 1; }, clock);
    debouncer.schedule();
    await clock.advance(200);
    debouncer.schedule();
    await clock.advance(200);
    debouncer.schedule();
    await clock.advance(DRAFT_DELAY_MS - 1);
    assert.equal(writes, 0);
    await clock.advance(1);
    assert.equal(writes, 1);
    assert.ok(DRAFT_DELAY_MS >= 300 && DRAFT_DELAY_MS <= 500);
  });

  test('flush writes a due draft at once (page hidden), and nothing when none is due', async () => {
    const clock = fakeClock();
    let writes = 0;
    const debouncer = createDebouncer(() => { writes += 1; }, clock);
    await debouncer.flush();
    assert.equal(writes, 0);
    debouncer.schedule();
    await debouncer.flush();
    assert.equal(writes, 1);
    assert.equal(clock.pending, 0);
    await clock.advance(DRAFT_DELAY_MS);
    assert.equal(writes, 1);
  });

  test('close writes what is due, then never again (a saved form)', async () => {
    const clock = fakeClock();
    let writes = 0;
    const debouncer = createDebouncer(() => { writes += 1; }, clock);
    debouncer.schedule();
    await debouncer.close();
    assert.equal(writes, 1);
    debouncer.schedule();
    await debouncer.flush();
    await clock.advance(DRAFT_DELAY_MS);
    assert.equal(writes, 1);
    assert.equal(debouncer.closed, true);
  });

  test('reopened after a save that failed, later changes are written again', async () => {
    const clock = fakeClock();
    let writes = 0;
    const debouncer = createDebouncer(() => { writes += 1; }, clock);
    debouncer.schedule();
    await debouncer.close(); // the save begins
    debouncer.reopen(); // and fails: the form is still on screen
    assert.equal(debouncer.closed, false);
    debouncer.schedule();
    await clock.advance(DRAFT_DELAY_MS);
    assert.equal(writes, 2);
  });

  test('close without the last write (a discarded draft)', async () => {
    const clock = fakeClock();
    let writes = 0;
    const debouncer = createDebouncer(() => { writes += 1; }, clock);
    debouncer.schedule();
    await debouncer.close({ write: false });
    await clock.advance(DRAFT_DELAY_MS);
    assert.equal(writes, 0);
  });

  test('writes run one after another; close waits for the one in flight', async () => {
    const clock = fakeClock();
    const log = [];
    let release;
    const debouncer = createDebouncer(async () => {
      log.push('start');
      if (log.length === 1) await new Promise((resolve) => { release = resolve; });
      log.push('end');
    }, clock);
    debouncer.schedule();
    const first = debouncer.flush();
    debouncer.schedule();
    const closing = debouncer.close();
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(log, ['start']);
    release();
    await first;
    await closing;
    assert.deepEqual(log, ['start', 'end', 'start', 'end']);
  });

  test('a failed write does not stop later ones', async () => {
    const clock = fakeClock();
    let calls = 0;
    const debouncer = createDebouncer(() => { calls += 1; if (calls === 1) throw new Error('quota'); }, clock);
    debouncer.schedule();
    await debouncer.flush();
    debouncer.schedule();
    await debouncer.flush();
    assert.equal(calls, 2);
  });
});

describe('draft age and order', () => {
  test('in the largest whole unit', () => {
    const at = '2026-03-01T08:00:00.000Z';
    const later = (ms) => new Date(Date.parse(at) + ms);
    assert.deepEqual(draftAge(at, later(30_000)), { unit: 'now', n: 0 });
    assert.deepEqual(draftAge(at, later(3 * 60_000 + 5_000)), { unit: 'minutes', n: 3 });
    assert.deepEqual(draftAge(at, later(2 * 3_600_000)), { unit: 'hours', n: 2 });
    assert.deepEqual(draftAge(at, later(50 * 3_600_000)), { unit: 'days', n: 2 });
    assert.deepEqual(draftAge(at, later(-5_000)), { unit: 'now', n: 0 }, 'a clock set back is "just now"');
  });

  test('newest first', () => {
    const drafts = [{ key: 'a', updated_at: '2026-01-01T00:00:00Z' }, { key: 'b', updated_at: '2026-01-02T00:00:00Z' }];
    assert.deepEqual(newestDraftsFirst(drafts).map((d) => d.key), ['b', 'a']);
  });
});
