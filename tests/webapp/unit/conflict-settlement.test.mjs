// A conflict settled on the phone: what its case shows before the server has the choice.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { applyIntent, caseSettlement, rebase, settledCase, toWire } from '../../../webapp/js/sync-rules.js';

const CASE = { title: '镇里改的标题', description: '下游村民称水渠被堵。\n', severity: 'high' };
const LABEL = '——（我的版本，大堰镇网格员 11月26日 09:12）';
const about = (field, incoming) => ({ case_id: 'c1', field, incoming });

describe('settling a conflict on the phone', () => {
  test('keep changes nothing, mine puts the author value back', () => {
    assert.deepEqual(settledCase(CASE, about('severity', 'low'), { choice: 'keep' }), CASE);
    assert.equal(settledCase(CASE, about('severity', 'low'), { choice: 'mine' }).severity, 'low');
  });

  test('both appends the author text below the text in force, under its label', () => {
    const both = settledCase(CASE, about('description', '上游村民称水渠是自家修的。'), { choice: 'both', label: LABEL });
    assert.equal(both.description, `下游村民称水渠被堵。\n${LABEL}\n上游村民称水渠是自家修的。`);
    const title = settledCase(CASE, about('title', '网格员改的标题'), { choice: 'both', label: LABEL });
    assert.equal(title.title, `镇里改的标题 ${LABEL} 网格员改的标题`);
  });

  test('the pending settlement shows on its case and marks the conflict settled here', () => {
    const entry = {
      seq: 3, op: 'conflict.resolve', entity: 'conflict', record_id: 'k1', status: 'pending', base_version: 2,
      mutation_id: '00000000-0000-4000-8000-000000000003', data: { choice: 'mine' }, about: about('title', '网格员改的标题'),
    };
    const onCase = caseSettlement(entry);
    assert.equal(onCase.record_id, 'c1');
    assert.equal(rebase({ server: CASE, version: 2 }, [onCase]).data.title, '网格员改的标题');
    const conflict = applyIntent({ field: 'title', status: 'open' }, entry);
    assert.deepEqual([conflict.status, conflict.resolution, conflict.resolved_here], ['resolved', 'resubmitted', true]);
    // Sent without what the phone keeps for itself, with the case version the worker saw.
    const wire = toWire(entry);
    assert.equal(wire.about, undefined);
    assert.equal(wire.base_version, 2);
    assert.equal(caseSettlement({ ...entry, op: 'case.update' }), null);
  });
});
