// The check-in's participants: roster members picked by multi-select with search (by name,
// branch or village; pinyin initials are not offered: no small library for them is vendored),
// names typed for people not on the roster, saved study groups (学习小组) reused in one tap,
// and a head count that follows the names until the worker types their own and then says
// how far the two differ.
import { h, mount } from '../dom.js';
import { t } from '../i18n.js';
import { getMeta, setMeta } from '../meta.js';
import { list } from '../records.js';

const GROUPS_KEY = 'study_groups'; // meta: {user, groups: [{id, name, entries: [{id, name}]}]}
const MAX_RESULTS = 50;
const MAX_NAMES = 500; // the server's limit on participant_names and participant_ids

/** Active members of these towns, by name (the phone holds its own town's roster). */
export async function activeMembers(towns) {
  const rows = await list('member');
  return rows
    .filter((r) => r.data && r.data.active !== false && towns.includes(r.data.town))
    .map((r) => ({ id: r.id, name: r.data.name, branch: r.data.branch || '', village: r.data.village || '' }))
    .sort((a, b) => a.name.localeCompare(b.name, 'zh-CN'));
}

/** The worker's saved groups (another user's on a shared phone are not theirs). */
export async function savedGroups(userId) {
  const kept = await getMeta(GROUPS_KEY);
  return kept?.user === userId && Array.isArray(kept.groups) ? kept.groups : [];
}

async function storeGroups(userId, groups) {
  await setMeta(GROUPS_KEY, { user: userId, groups });
}

/**
 * The picker. `countField` is the head count input (labelled 参加人数), `element` the rest;
 * `snapshot()`/`restore(state)` carry it through the form's draft.
 * @param {{towns: string[], userId: string, onChange: () => void}} options
 */
export async function participantPicker({ towns, userId, onChange = () => {} }) {
  const roster = await activeMembers(towns);
  const byId = new Map(roster.map((m) => [m.id, m]));
  let groups = await savedGroups(userId);
  let entries = []; // [{id: member id or null for a typed name, name}]
  let countTouched = false;

  const count = h('input', { name: 'participants', type: 'number', min: 0, max: 10000, inputmode: 'numeric', required: true });
  const note = h('p', { class: 'hint', id: 'count-note', role: 'status' });
  const chosen = h('ul', { class: 'chips', id: 'participant-names' });
  const search = h('input', { name: 'participant_name', type: 'search', id: 'member-search', 'aria-label': t('checkin.add_name'),
    placeholder: t('participants.search_hint'), autocomplete: 'off' });
  const results = h('ul', { class: 'member-results', id: 'member-results' });
  const groupSelect = h('select', { id: 'group-select', 'aria-label': t('participants.groups') });
  const groupRow = h('div', { class: 'group-row', id: 'group-row' });
  const groupName = h('input', { id: 'group-name', maxlength: 30, 'aria-label': t('participants.group_name') });
  const groupForm = h('div', { class: 'group-save', hidden: true }, groupName,
    h('button', { type: 'button', onclick: () => saveGroup() }, t('participants.group_save_confirm')));
  const groupMessage = h('p', { class: 'hint', role: 'status', id: 'group-message' });

  const changed = () => { draw(); onChange(); };
  const has = (entry) => entries.some((e) => (entry.id ? e.id === entry.id : !e.id && e.name === entry.name));
  const add = (entry) => {
    if (!entry.name || has(entry) || entries.length >= MAX_NAMES) return false;
    entries.push({ id: entry.id || null, name: entry.name });
    return true;
  };
  const remove = (index) => { entries.splice(index, 1); changed(); };
  const toggle = (member) => {
    const at = entries.findIndex((e) => e.id === member.id);
    if (at >= 0) entries.splice(at, 1);
    else add(member);
    changed();
  };
  /** What was typed: the roster member of that exact name, else a name not on the roster. */
  const addTyped = () => {
    const name = search.value.trim().slice(0, 50);
    if (!name) return false;
    const member = roster.find((m) => m.name === name && !has(m));
    add(member || { id: null, name });
    search.value = '';
    changed();
    return true;
  };

  const drawCount = () => {
    if (!countTouched) count.value = entries.length ? String(entries.length) : '';
    const n = entries.length;
    const typed = Number.parseInt(count.value, 10);
    if (!n) note.textContent = '';
    else if (!Number.isFinite(typed) || typed === n) note.textContent = t('participants.count_matches', { n });
    else note.textContent = t('participants.count_differs', { count: typed, n, d: Math.abs(typed - n) });
    note.className = n && Number.isFinite(typed) && typed !== n ? 'warn' : 'hint';
  };
  const drawResults = () => {
    const q = search.value.trim();
    const found = roster.filter((m) => !q || m.name.includes(q) || m.branch.includes(q) || m.village.includes(q));
    const shown = found.slice(0, MAX_RESULTS);
    mount(results,
      roster.length ? null : h('li', { class: 'hint' }, t('participants.no_roster')),
      shown.map((m) => {
        const picked = entries.some((e) => e.id === m.id);
        return h('li', {}, h('button', { type: 'button', class: picked ? 'member picked' : 'member', 'aria-pressed': picked ? 'true' : 'false',
          dataset: { member: m.id }, onclick: () => toggle(m) },
        m.name, h('small', {}, [m.branch, m.village].filter(Boolean).join(' · '))));
      }),
      found.length > shown.length ? h('li', { class: 'hint' }, t('participants.more', { n: found.length - shown.length })) : null,
      q && !roster.some((m) => m.name === q) ? h('li', {}, h('button', { type: 'button', class: 'member typed', onclick: addTyped },
        t('participants.add_typed', { name: q }))) : null);
  };
  const drawGroups = () => {
    mount(groupSelect, h('option', { value: '' }, t('participants.groups_choose')),
      groups.map((g) => h('option', { value: g.id }, t('participants.group_option', { name: g.name, n: g.entries.length }))));
    mount(groupRow, groups.length ? [h('label', { for: 'group-select' }, t('participants.groups')), groupSelect,
      h('button', { type: 'button', id: 'use-group', onclick: useGroup }, t('participants.group_use')),
      h('button', { type: 'button', class: 'small', onclick: deleteGroup }, t('participants.group_delete'))] : null);
  };
  const draw = () => {
    mount(chosen, entries.map((e, i) => h('li', { class: e.id ? 'member' : 'typed' }, e.name,
      h('button', { type: 'button', class: 'remove', 'aria-label': t('participants.remove', { name: e.name }), onclick: () => remove(i) }))));
    drawCount();
    drawResults();
  };

  function useGroup() {
    const group = groups.find((g) => g.id === groupSelect.value);
    if (!group) return;
    let gone = 0;
    for (const e of group.entries) {
      // A member no longer on the roster (deactivated, moved) is kept as a typed name.
      if (e.id && !byId.has(e.id)) { gone += 1; add({ id: null, name: e.name }); } else add(e);
    }
    groupMessage.textContent = gone ? t('participants.group_used_gone', { name: group.name, n: gone }) : t('participants.group_used', { name: group.name });
    changed();
  }
  async function deleteGroup() {
    const group = groups.find((g) => g.id === groupSelect.value);
    if (!group) return;
    groups = groups.filter((g) => g.id !== group.id);
    await storeGroups(userId, groups);
    groupMessage.textContent = t('participants.group_deleted', { name: group.name });
    drawGroups();
  }
  async function saveGroup() {
    const name = groupName.value.trim();
    if (!name || !entries.length) return;
    const same = groups.find((g) => g.name === name);
    const group = { id: same?.id || crypto.randomUUID(), name, entries: entries.map((e) => ({ ...e })) };
    groups = [...groups.filter((g) => g.id !== group.id), group].sort((a, b) => a.name.localeCompare(b.name, 'zh-CN'));
    await storeGroups(userId, groups);
    groupName.value = '';
    groupForm.hidden = true;
    groupMessage.textContent = t('participants.group_saved', { name, n: group.entries.length });
    drawGroups();
  }

  count.addEventListener('input', () => { countTouched = count.value !== ''; drawCount(); });
  search.addEventListener('input', drawResults);
  const element = h('div', { class: 'field participants' },
    h('p', { class: 'label' }, t('checkin.names')),
    groupRow,
    chosen,
    h('div', { class: 'search-row' }, search,
      h('button', { type: 'button', onclick: addTyped }, t('checkin.add_name'))),
    results,
    h('div', { class: 'group-actions' },
      h('button', { type: 'button', class: 'small', onclick: () => { entries = []; changed(); } }, t('participants.clear')),
      h('button', { type: 'button', class: 'small', onclick: () => {
        if (!entries.length) { groupMessage.textContent = t('participants.group_empty'); return; }
        groupForm.hidden = false;
        groupName.focus();
      } }, t('participants.group_save'))),
    groupForm, groupMessage);
  const countField = h('div', { class: 'field' }, h('label', { for: 'participants-count' }, t('checkin.participants')), count, note);
  count.id = 'participants-count';
  drawGroups();
  draw();

  return {
    element,
    countField,
    count,
    search,
    /** Enter in the search box adds what was typed; false when it was empty. */
    addTyped,
    ids: () => entries.filter((e) => e.id).map((e) => e.id),
    names: () => entries.map((e) => e.name),
    snapshot: () => ({ entries: entries.map((e) => ({ ...e })), count: count.value, count_touched: countTouched, typed: search.value }),
    restore(state) {
      entries = (state?.entries || []).map((e) => ({ id: e.id || null, name: e.name }));
      countTouched = Boolean(state?.count_touched);
      count.value = state?.count ?? '';
      search.value = state?.typed ?? '';
      draw();
    },
  };
}
