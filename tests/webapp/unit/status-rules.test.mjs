// What the phone tells the worker about their work: pending counts, the sent history, case marks.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { CONTRACT } from '../../../webapp/js/contract.js';
import {
  appendSent, caseMark, dueAfterSeverity, isOverdue, markSeen, otherTowns, pendingSummary, sentItem, telHref,
} from '../../../webapp/js/status-rules.js';

describe('pending', () => {
  test('counts records and photos apart; rejected and held work is not pending but needs attention', () => {
    const summary = pendingSummary({ intents: 2, photos: 3, rejected: 1, held: 1, failedPhotos: 1, drafts: 4 });
    assert.deepEqual(summary, { records: 2, photos: 3, total: 5, attention: 3 });
  });

  test('nothing unsent is zero everywhere', () => {
    assert.deepEqual(pendingSummary({ intents: 0, photos: 0 }), { records: 0, photos: 0, total: 0, attention: 0 });
  });
});

describe('sent history', () => {
  const entry = (n) => ({ mutation_id: `m${n}`, op: 'case.update', entity: 'case', record_id: 'c1', data: { title: `t${n}` } });

  test('newest first, each mutation once, bounded', () => {
    let log = appendSent([], [1, 2].map((n) => sentItem(entry(n), { serverTime: `2026-12-02T08:0${n}:00Z` })));
    assert.deepEqual(log.map((i) => i.mutation_id), ['m2', 'm1']);
    log = appendSent(log, [sentItem(entry(2)), sentItem(entry(3))]); // m2 replayed
    assert.deepEqual(log.map((i) => i.mutation_id), ['m3', 'm2', 'm1']);
    const many = Array.from({ length: 250 }, (_, i) => sentItem(entry(i)));
    const bounded = appendSent(log, many, 200);
    assert.equal(bounded.length, 200);
    assert.equal(bounded[0].mutation_id, 'm249');
  });

  test("a line names the case of a timeline entry and keeps the server's time", () => {
    const item = sentItem({ mutation_id: 'x', op: 'case_event.create', entity: 'case_event', record_id: 'e1', data: { case_id: 'c9' } },
      { serverTime: '2026-12-02T08:00:00Z', at: '2026-12-02T08:00:05Z' });
    assert.equal(item.case_id, 'c9');
    assert.equal(item.accepted_at, '2026-12-02T08:00:00Z');
    assert.equal(sentItem(entry(1), { at: 'phone' }).accepted_at, 'phone');
  });
});

describe('case marks', () => {
  const record = (version, extra = {}) => ({ id: 'c1', version, data: { reported_by: 'someone' }, ...extra });

  test('new until opened, changed when its version moved, nothing once seen', () => {
    assert.equal(caseMark(record(1), {}), 'new');
    const seen = markSeen({}, record(1));
    assert.equal(caseMark(record(1), seen), null);
    assert.equal(caseMark(record(2), seen), 'changed');
    assert.equal(caseMark(record(2), markSeen(seen, record(2))), null);
  });

  test("a case not yet on the server and the worker's own case are no news", () => {
    assert.equal(caseMark(record(null), {}), null);
    assert.equal(caseMark(record(1, { data: { reported_by: 'me' } }), {}, { userId: 'me' }), null);
  });

  test('opening an older copy never lowers the version seen', () => {
    assert.deepEqual(markSeen({ c1: 5 }, record(3)), { c1: 5 });
  });
});

describe('due date after a severity change', () => {
  const data = { severity: 'low', created_at: '2026-12-01T00:00:00Z', due_at: '2026-12-16T00:00:00Z' };

  test("moves by the server's days for the new severity", () => {
    const due = dueAfterSeverity(data, 'high', CONTRACT.due_days);
    assert.equal(due, new Date(Date.parse(data.created_at) + CONTRACT.due_days.high * 86_400_000).toISOString());
  });

  test('says nothing when the severity stays or the case has no registration time yet', () => {
    assert.equal(dueAfterSeverity(data, 'low', CONTRACT.due_days), null);
    assert.equal(dueAfterSeverity({ severity: 'low' }, 'high', CONTRACT.due_days), null);
  });
});

test('the primary town is not among the other towns', () => {
  const towns = [{ code: 'dayan' }, { code: 'shenzhen' }, { code: 'xidian' }];
  assert.deepEqual(otherTowns(towns, 'dayan').map((x) => x.code), ['shenzhen', 'xidian']);
});

test('phone numbers become tel: links, junk does not', () => {
  assert.equal(telHref('138 0000-1234'), 'tel:13800001234');
  assert.equal(telHref('+86 574 1234'), 'tel:+865741234');
  assert.equal(telHref('无'), null);
});

test("the phone's words for codes are the vocabulary's, in both languages", () => {
  assert.equal(CONTRACT.vocabulary['zh-CN']['severity.medium'], '较重');
  assert.equal(CONTRACT.vocabulary.en['status.escalated'], 'Joint enforcement');
});

describe('overdue', () => {
  const open = CONTRACT.workflow.open_statuses;
  const now = Date.parse('2026-12-01T04:00:00Z');

  test('an open case past its due date is overdue; due this instant or later is not', () => {
    assert.equal(isOverdue({ status: 'mediating', due_at: '2026-11-30T01:12:00+00:00' }, now, open), true);
    assert.equal(isOverdue({ status: 'registered', due_at: '2026-12-01T04:00:00Z' }, now, open), false);
    assert.equal(isOverdue({ status: 'accepted', due_at: '2026-12-03T01:12:00Z' }, now, open), false);
  });

  test('resolving or closing clears it at once, and a case without a due date is never overdue', () => {
    for (const status of ['resolved', 'closed']) {
      assert.equal(isOverdue({ status, due_at: '2026-11-01T00:00:00Z' }, now, open), false);
    }
    assert.equal(isOverdue({ status: 'registered' }, now, open), false);
  });
});
