// Case detail: fields, photos, conflicts and rejections, edits, workflow moves, timeline.
import { CONTRACT } from '../contract.js';
import { enterMovesOn, h, field, mount, oneAtATime, saveFailed, select } from '../dom.js';
import { getDraft, keepDraft } from '../drafts.js';
import { draftKey } from '../draft-rules.js';
import { formatTime, nameOf, t } from '../i18n.js';
import { allEntries, enqueue } from '../outbox.js';
import { eventsOf, get, list, setConflictHandled } from '../records.js';
import { conflictCard, valueText } from './conflicts.js';
import { getMeta, setMeta } from '../meta.js';
import { dueAfterSeverity, isOverdue, markSeen, telHref } from '../status-rules.js';
import { movesFor } from '../sync-rules.js';
import { adviceText, openConflicts } from './attention.js';
import { draftNotice, missingFields, photoPicker, photoStrip, reasonText, statusLabel } from './widgets.js';

const EVENT_KINDS = ['note', 'mediation', 'follow_up'];

export { conflictCard }; // the outbox screen shows the same cards

export async function render(root, app, { id, query }) {
  const record = await get('case', id);
  if (!record?.data) { mount(root, h('p', { class: 'card' }, t('case.not_found'))); return; }
  const ref = await app.reference();
  const drafts = Object.fromEntries(await Promise.all(['case.edit', 'case.move', 'case.event']
    .map(async (form) => [form, await getDraft(draftKey(form, id))])));
  const opened = query?.get('draft'); // came from the home screen's list of drafts
  const d = record.data;
  const towns = new Map(ref.towns.map((x) => [x.code, x]));
  const userName = (uid) => ref.users.get(uid)?.display_name || '';
  mount(root,
    h('article', { class: 'card', id: 'case-head' },
      h('h1', { id: 'case-title' }, d.title),
      h('p', { class: 'meta' }, h('span', { class: `pill status-${d.status}`, id: 'case-status' }, statusLabel(d.status)), ' ',
        isOverdue(d, Date.now(), CONTRACT.workflow.open_statuses) ? [h('span', { class: 'pill warn', id: 'case-overdue' }, t('event.overdue')), ' '] : null,
        d.number || t('cases.unnumbered'), record.pending ? h('span', { class: 'pill warn' }, t('cases.pending')) : null),
      h('dl', {},
        h('dt', {}, t('case.category')), h('dd', {}, nameOf(ref.categories.find((c) => c.code === d.category)) || d.category),
        h('dt', {}, t('case.towns')), h('dd', {}, [d.primary_town, ...(d.involved_towns || [])].map((c) => nameOf(towns.get(c)) || c).join('、')),
        h('dt', {}, t('case.severity')), h('dd', { id: 'case-severity' }, t(`severity.${d.severity}`)),
        h('dt', {}, t('case.reported_at')), h('dd', {}, formatTime(d.reported_at)),
        d.due_at ? [h('dt', {}, t('case.due_at')), h('dd', {}, formatTime(d.due_at))] : null,
        d.assignee ? [h('dt', {}, t('case.assignee')), h('dd', {}, userName(d.assignee))] : null,
        h('dt', {}, t('case.location')), h('dd', {}, d.location ? t('gps.value', { lat: d.location.lat.toFixed(5), lon: d.location.lon.toFixed(5), acc: Math.round(d.location.accuracy_m) }) : t('gps.none'))),
      h('ul', { class: 'parties' }, (d.parties || []).map((p) => h('li', {}, `${t(`party.${p.role}`)}：${p.name}`, p.village ? ` · ${p.village}` : '',
        phoneLink(p.phone)))),
      h('p', { class: 'description' }, d.description || ''),
      photoStrip(app, d.photos)),
    await problems(app, record, ref),
    editForm(app, record, drafts['case.edit']),
    movesCard(app, record, drafts['case.move']),
    await timeline(app, record, userName, drafts['case.event']));
  await setMeta('seen_cases', markSeen(await getMeta('seen_cases'), record)); // the list's "新"/"有更新" goes
  const target = { 'case.edit': '#edit-case', 'case.move': '#moves', 'case.event': '#event-form' }[opened];
  if (target) root.querySelector(target)?.setAttribute('data-scroll-to', '');
}

/** A party's number as a tap-to-call link (" · 📞 138…"), or nothing. */
function phoneLink(phone) {
  const href = telHref(phone);
  if (!href) return phone ? ` · ${phone}` : null;
  return [' · ', h('a', { href, class: 'tel', 'aria-label': t('party.call', { phone }) }, phone)];
}

/** Keep a form of this screen as a draft of its case; its notice goes first in `notice`. */
function keep(app, record, form, element, { stored, snapshot, restore, notice, subject }) {
  const pristine = snapshot();
  if (stored) restore(stored.state);
  const keeper = keepDraft({
    form, recordId: record.id, href: `#/case/${record.id}?draft=${form}`, snapshot, pristine,
    subject: subject || (() => record.data.title), restored: stored,
  });
  keeper.watch(element);
  enterMovesOn(element);
  if (stored) notice.append(draftNotice(keeper, () => app.render()));
  return keeper;
}

/** Rejected intents on this case, merge conflicts its author lost, and how others settled them. */
async function problems(app, record, ref) {
  const rejected = (await allEntries()).filter((e) => ['rejected', 'held'].includes(e.status)
    && (e.record_id === record.id || e.data?.case_id === record.id || e.about?.case_id === record.id));
  const all = (await list('conflict')).filter((c) => c.data.record_id === record.id);
  const conflicts = openConflicts(all, app.auth.user.id);
  const outcomes = unseenOutcomes(all, app.auth.user.id);
  if (!rejected.length && !conflicts.length && !outcomes.length) return null;
  return h('section', { class: 'card problems' },
    rejected.map((e) => h('div', { class: 'rejection', role: 'alert' },
      h('p', {}, h('strong', {}, t(e.status === 'held' ? 'outbox.held_op' : 'outbox.rejected_op', { op: t(`op.${e.op}`) })), ' ', reasonText(e.error)),
      h('p', { class: 'advice' }, adviceText(e.error)),
      h('a', { href: '#/outbox' }, t('outbox.resolve')))),
    conflicts.map((c) => conflictCard(app, record, c, ref)),
    outcomes.map((c) => outcomeNotice(app, record, c, ref)));
}

const SETTLED_BY_OTHERS = ['kept', 'incoming', 'new'];

/**
 * The author's conflicts that someone else settled (at the console) and that this phone has
 * not shown yet: once dismissed they are marked handled 'seen' and stay quiet.
 */
export function unseenOutcomes(conflicts, userId) {
  return conflicts.filter((c) => c.data?.status === 'resolved' && c.data.by === userId && !c.data.resolved_here
    && SETTLED_BY_OTHERS.includes(c.data.resolution) && c.data.resolved_by !== userId && c.handled !== 'seen');
}

/** A small notice of how a supervisor settled the author's conflict, with the value now in force. */
export function outcomeNotice(app, record, conflict, ref = null) {
  if (!ref) {
    const holder = h('div', { class: 'outcome-holder' });
    app.reference().then((loaded) => mount(holder, outcomeNotice(app, record, conflict, loaded)));
    return holder;
  }
  const c = conflict.data;
  const now = record?.data ? record.data[c.field] : undefined;
  return h('div', { class: 'outcome', role: 'status', dataset: { conflict: conflict.id, resolution: c.resolution } },
    h('p', {}, h('strong', {}, t(`conflict.outcome.${c.resolution}`, { field: t(`field.${c.field}`) }))),
    now === undefined ? null : h('p', {}, t('conflict.outcome_now'), ' ', h('span', { class: 'now' }, valueText(c.field, now, ref))),
    h('button', { type: 'button', class: 'dismiss', onclick: async () => { await setConflictHandled(conflict.id, 'seen'); app.render(); } },
      t('conflict.outcome_dismiss')));
}

function editForm(app, record, stored) {
  const d = record.data;
  const title = h('input', { name: 'edit_title', value: d.title, maxlength: 200, required: true });
  const severity = select('edit_severity', ['low', 'medium', 'high'].map((s) => ({ value: s, label: t(`severity.${s}`) })), d.severity);
  const description = h('textarea', { name: 'edit_description', rows: 3 }, d.description || '');
  // Before saving, the worker sees that a new severity moves the due date (server: workflow.due_at).
  const dueNote = h('p', { class: 'hint warn', id: 'due-moves', role: 'status' });
  const showDue = () => {
    const due = dueAfterSeverity(d, severity.value, CONTRACT.due_days);
    dueNote.textContent = due ? t('case.due_moves', { severity: t(`severity.${severity.value}`), date: formatTime(due) }) : '';
  };
  severity.addEventListener('change', showDue);
  const notice = h('div', {});
  const message = h('p', { class: 'error', role: 'alert', id: 'edit-error' });
  let keeper = null;
  const save = h('button', { type: 'submit', class: 'primary' }, t('case.save_changes'));
  const form = h('form', { novalidate: true, onsubmit: oneAtATime(() => [save], async () => {
    if (missingFields([{ control: title, missing: !title.value.trim(), text: t('case.title_required') }], message)) return;
    const changes = {};
    if (title.value.trim() !== d.title) changes.title = title.value.trim();
    if (severity.value !== d.severity) changes.severity = severity.value;
    if (description.value.trim() !== (d.description || '')) changes.description = description.value.trim();
    if (!Object.keys(changes).length) { message.textContent = t('case.no_changes'); return; }
    const saved = await keeper.save(() => enqueue({ op: 'case.update', record_id: record.id, base_version: record.version, data: changes }, { draftKey: keeper.key }))
      .then(() => true, (error) => saveFailed(message, save, error));
    if (!saved) return;
    await app.changed();
    app.render();
  }) },
  notice, field(t('case.title'), title), field(t('case.severity'), severity), dueNote, field(t('case.description'), description),
  message, save);
  keeper = keep(app, record, 'case.edit', form, {
    stored, notice,
    snapshot: () => ({ title: title.value, severity: severity.value, description: description.value }),
    restore: (state) => { title.value = state.title ?? ''; severity.value = state.severity ?? ''; description.value = state.description ?? ''; showDue(); },
    subject: () => title.value.trim() || d.title,
  });
  // A draft edit is shown open, so the worker sees it is there.
  return h('details', { class: 'card', id: 'edit-case', open: Boolean(stored) }, h('summary', {}, t('case.edit')), form);
}

function movesCard(app, record, stored) {
  const moves = movesFor(app.auth.user.role, record.data.status);
  if (!moves.length) return null;
  const note = h('input', { name: 'move_note', placeholder: t('case.move_note'), 'aria-label': t('case.move_note') });
  const notice = h('div', {});
  const message = h('p', { class: 'error', role: 'alert', id: 'move-error' }); // shown only if a save fails
  let keeper = null;
  const buttons = [];
  // One move at a time: a double tap, or a second move tapped during the first, records one.
  const move = oneAtATime(() => buttons, async (event) => {
    const { to } = event.currentTarget.dataset;
    const saved = await keeper.save(() => enqueue({ op: 'case.transition', record_id: record.id, data: { from: record.data.status, to, note: note.value.trim() } }, { draftKey: keeper.key }))
      .then(() => true, (error) => saveFailed(message, buttons[0], error));
    if (!saved) return;
    await app.changed();
    app.render();
  });
  buttons.push(...moves.map((to) => h('button', { type: 'button', class: 'move', dataset: { to }, onclick: move }, t('case.move_to', { status: statusLabel(to) }))));
  const card = h('section', { class: 'card', id: 'moves' }, h('h2', {}, t('case.moves')), notice, note, buttons);
  keeper = keep(app, record, 'case.move', card, {
    stored, notice, snapshot: () => ({ note: note.value }), restore: (state) => { note.value = state.note ?? ''; },
  });
  return card;
}

async function timeline(app, record, userName, stored) {
  const events = await eventsOf(record.id);
  const kind = select('event_kind', EVENT_KINDS.map((k) => ({ value: k, label: t(`event.${k}`) })), 'note', { 'aria-label': t('event.kind') });
  const body = h('textarea', { name: 'event_body', rows: 3, 'aria-label': t('event.body') });
  let keeper = null;
  const picker = photoPicker(t('photo.add'), { onChange: () => keeper?.changed() });
  const notice = h('div', {});
  const message = h('p', { class: 'error', role: 'alert', id: 'event-error' });
  const save = h('button', { type: 'submit', class: 'primary' }, t('event.add'));
  const form = h('form', { id: 'event-form', novalidate: true, onsubmit: oneAtATime(() => [save], async () => {
    if (missingFields([{ control: body, missing: !body.value.trim() && !picker.photos.length, text: t('event.body_required') }], message)) return;
    const saved = await keeper.save(() => enqueue({ op: 'case_event.create', record_id: crypto.randomUUID(), data: {
      case_id: record.id, kind: kind.value, body: body.value.trim(), at: new Date().toISOString(), photos: picker.photos.map((p) => p.sha256),
    } }, { blobs: picker.photos, author: app.auth.user.id, draftKey: keeper.key }))
      .then(() => true, (error) => saveFailed(message, save, error));
    if (!saved) return;
    await app.changed();
    app.render();
  }) }, notice, field(t('event.kind'), kind), field(t('event.body'), body), picker.element,
  message, save);
  keeper = keep(app, record, 'case.event', form, {
    stored, notice,
    snapshot: () => ({ kind: kind.value, body: body.value, photos: [...picker.photos] }),
    restore: (state) => { kind.value = state.kind ?? 'note'; body.value = state.body ?? ''; picker.set(state.photos || []); },
  });
  return h('section', { class: 'card', id: 'timeline' }, h('h2', {}, t('case.timeline')),
    h('ol', { class: 'timeline' }, events.map((e) => h('li', { class: `event ${e.data.kind}` },
      h('span', { class: 'meta' }, formatTime(e.data.at), ' · ', t(`event.${e.data.kind}`), ' · ', userName(e.data.by),
        e.pending ? h('span', { class: 'pill warn' }, t('cases.pending')) : null),
      e.data.from_value || e.data.from ? h('p', {}, `${statusLabel(e.data.from)} → ${statusLabel(e.data.to)}`) : null,
      e.data.body ? h('p', {}, e.data.body) : null,
      photoStrip(app, e.data.photos)))),
    form);
}
