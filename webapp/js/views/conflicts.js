// A value that lost a field merge, in words: what each side holds, who made the value in force
// and when, and the author's three ways to settle it (an intent the server settles too).
import { h, mount, oneAtATime } from '../dom.js';
import { formatTime, language, nameOf, t } from '../i18n.js';
import { enqueue } from '../outbox.js';
import { get } from '../records.js';
import { statusLabel } from './widgets.js';

/** Fields whose two texts can both be kept, one below the other (server: BOTH_FIELDS). */
export const TEXT_FIELDS = Object.freeze(['title', 'description']);

/**
 * A case field's value as a person reads it: choices in words, towns and categories by name,
 * parties one by one; never a code.
 * @param {string} field
 * @param {*} value
 * @param {{towns: object[], categories: object[]}} ref
 */
export function valueText(field, value, ref) {
  if (value === null || value === undefined || value === '' || (Array.isArray(value) && !value.length)) return t('conflict.empty');
  const town = (code) => nameOf(ref.towns.find((x) => x.code === code)) || t('conflict.unknown');
  switch (field) {
    case 'severity': return t(`severity.${value}`);
    case 'status': return statusLabel(value);
    case 'category': return nameOf(ref.categories.find((c) => c.code === value)) || t('conflict.unknown');
    case 'primary_town': return town(value);
    case 'involved_towns': return value.map(town).join('、');
    case 'parties': return value.map((p) => [`${t(`party.${p.role}`)}：${p.name}`, p.village, p.phone].filter(Boolean).join(' · ')).join('；');
    case 'location': return t('gps.value', { lat: Number(value.lat).toFixed(5), lon: Number(value.lon).toFixed(5), acc: Math.round(value.accuracy_m) });
    case 'photos': return t('photo.count', { n: value.length });
    default: return typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
}

/** A moment as month, day and time in the phone's language ("11月26日 09:12"). */
export function shortTime(value) {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return '';
  return date.toLocaleString(language(), { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
}

/**
 * The card of one open conflict of the signed-in author. Without `ref` (a screen that has not
 * read the reference data) it fills itself in once it has.
 * @param {object} app
 * @param {{id: string, version: number, data: object}} record the case
 * @param {{id: string, data: object}} conflict
 * @param {object|null} [ref] app.reference()
 */
export function conflictCard(app, record, conflict, ref = null) {
  if (ref) return card(app, record, conflict, ref);
  const holder = h('div', { class: 'conflict-holder' });
  app.reference().then((loaded) => mount(holder, card(app, record, conflict, loaded)));
  return holder;
}

function card(app, record, conflict, ref) {
  const c = conflict.data;
  const field = t(`field.${c.field}`);
  const who = ref.users.get(c.kept_by)?.display_name;
  const buttons = [];
  const choose = oneAtATime(() => buttons, (event) => settle(app, record, conflict, event.currentTarget.dataset.choice));
  const button = (choice, label, primary = false) => {
    const element = h('button', { type: 'button', class: primary ? 'primary' : '', dataset: { choice }, onclick: choose }, label);
    buttons.push(element);
    return element;
  };
  const isText = TEXT_FIELDS.includes(c.field);
  return h('div', { class: 'conflict', role: 'alert', id: `conflict-${conflict.id}`, dataset: { conflict: conflict.id, field: c.field } },
    h('p', {}, h('strong', {}, t('conflict.title', { field }))),
    h('p', { class: 'side' }, t('conflict.kept'), ' ', h('span', { class: 'kept' }, valueText(c.field, c.kept, ref))),
    h('p', { class: 'meta kept-by' }, who && c.kept_at ? t('conflict.kept_by', { name: who, time: formatTime(c.kept_at) })
      : t('conflict.kept_by_unknown')),
    h('p', { class: 'side' }, t('conflict.yours'), ' ', h('span', { class: 'incoming' }, valueText(c.field, c.incoming, ref))),
    c.at ? h('p', { class: 'meta incoming-by' }, t('conflict.yours_at', { time: formatTime(c.at) })) : null,
    h('p', { class: 'hint' }, t(isText ? 'conflict.hint_text' : 'conflict.hint_choice')),
    h('div', { class: 'row' },
      button('keep', t('conflict.keep')),
      button('mine', t('conflict.resubmit')),
      isText ? button('both', t('conflict.both'), true) : null));
}

/** Queue the choice (offline too); the case and the conflict show it at once. */
async function settle(app, record, conflict, choice) {
  const c = conflict.data;
  const current = await get('case', record.id);
  const data = { choice };
  if (choice === 'both') data.label = t('conflict.both_label', { name: app.auth.user.display_name, time: shortTime(c.at) });
  await enqueue({
    op: 'conflict.resolve', record_id: conflict.id, base_version: current?.version ?? null, data,
    about: { case_id: c.record_id, field: c.field, incoming: c.incoming },
  });
  await app.changed();
  app.render();
}
