// Case list with search and filters (status, town, cross-town, mine).
import { CONTRACT } from '../contract.js';
import { h, mount, select } from '../dom.js';
import { nameOf, t } from '../i18n.js';
import { getMeta, setMeta } from '../meta.js';
import { list, newest } from '../records.js';
import { baseline, caseMark } from '../status-rules.js';
import { filterCases, isUnfiltered } from '../sync-rules.js';
import { statusLabel } from './widgets.js';

const PAGE = 50;
const filter = { q: '', status: '', town: '', cross: false, mine: false };

/**
 * Unfiltered, the first page is read newest first from an index and shown at once; every case
 * is read right after, and the count, search, filters and "more" wait for that, so they always
 * cover all cases.
 */
export async function render(root, app) {
  const quick = isUnfiltered(filter);
  const [first, ref, seenBefore] = await Promise.all([quick ? newest('case', PAGE + 1) : list('case'), app.reference(), getMeta('seen_cases')]);
  let seen = seenBefore; // null until the first list is read: no marks yet
  const userId = app.auth.user.id;
  let cases = first;
  let complete = !quick;
  const towns = new Map(ref.towns.map((town) => [town.code, town]));
  const results = h('ul', { class: 'list', id: 'case-list' });
  const count = h('p', { class: 'hint', id: 'case-count', role: 'status' });
  let shown = PAGE;
  const draw = () => {
    const ready = complete || (isUnfiltered(filter) && shown === PAGE);
    results.toggleAttribute('aria-busy', !ready);
    if (!ready) return; // drawn again as soon as every case is read
    const found = complete ? filterCases(cases, filter, app.auth.user.id) : cases;
    if (complete) count.textContent = t('cases.count', { n: found.length });
    mount(results, found.slice(0, shown).map((record) => caseItem(record, towns, seen ? caseMark(record, seen, { userId }) : null)),
      found.length > shown ? h('li', {}, h('button', { type: 'button', onclick: () => { shown += PAGE; draw(); } }, t('cases.more'))) : null);
  };
  const search = h('input', { type: 'search', name: 'q', value: filter.q, placeholder: t('cases.search'), 'aria-label': t('cases.search'),
    oninput: (e) => { filter.q = e.target.value; shown = PAGE; draw(); } });
  const onFilter = (key) => (e) => { filter[key] = e.target.type === 'checkbox' ? e.target.checked : e.target.value; shown = PAGE; draw(); };
  mount(root,
    h('div', { class: 'toolbar' }, search, h('a', { class: 'action primary small', href: '#/new-case' }, t('cases.new'))),
    h('div', { class: 'filters' },
      select('status', [{ value: '', label: t('cases.all_status') }, ...CONTRACT.workflow.statuses.map((s) => ({ value: s, label: statusLabel(s) }))], filter.status, { 'aria-label': t('cases.status'), onchange: onFilter('status') }),
      select('town', [{ value: '', label: t('cases.all_towns') }, ...ref.towns.map((x) => ({ value: x.code, label: nameOf(x) }))], filter.town, { 'aria-label': t('cases.town'), onchange: onFilter('town') }),
      h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'cross', checked: filter.cross, onchange: onFilter('cross') }), t('cases.cross')),
      h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'mine', checked: filter.mine, onchange: onFilter('mine') }), t('cases.mine'))),
    count, results);
  draw();
  // Asked only now: read alongside the first page, all cases held it back (measured).
  if (!complete) {
    list('case').then(async (rows) => {
      cases = rows;
      complete = true;
      seen = await startMarks(seenBefore, rows);
      draw();
    });
  } else if (!seen) {
    seen = await startMarks(seenBefore, cases);
    draw();
  }
}

/** The first time the list is shown on a phone, what it holds counts as seen (no wall of "新"). */
async function startMarks(seen, rows) {
  if (seen) return seen;
  const first = baseline(rows);
  await setMeta('seen_cases', first);
  return first;
}

function caseItem(record, towns, mark) {
  const d = record.data;
  const involved = (d.involved_towns || []).length > 0;
  return h('li', { class: 'item', dataset: { id: record.id } },
    h('a', { href: `#/case/${record.id}` },
      h('strong', { class: 'title' }, d.title),
      h('span', { class: 'meta' },
        h('span', { class: `pill status-${d.status}` }, statusLabel(d.status)),
        ' ', d.number || t('cases.unnumbered'),
        ' · ', nameOf(towns.get(d.primary_town)),
        involved ? h('span', { class: 'pill cross' }, t('cases.cross_short')) : null,
        mark ? h('span', { class: `pill mark ${mark}`, dataset: { mark } }, t(`cases.mark_${mark}`)) : null,
        record.pending ? h('span', { class: 'pill warn' }, t('cases.pending')) : null,
        record.rejected ? h('span', { class: 'pill danger' }, t('cases.rejected')) : null,
        record.held ? h('span', { class: 'pill danger' }, t('cases.held')) : null)));
}
