// New case (or fixing a rejected one): category, towns, parties, description, severity, GPS, photos.
import { enterMovesOn, h, field, mount, oneAtATime, saveFailed, select } from '../dom.js';
import { getDraft, keepDraft } from '../drafts.js';
import { draftKey } from '../draft-rules.js';
import { nameOf, t } from '../i18n.js';
import { allEntries, enqueue, resubmit } from '../outbox.js';
import { otherTowns } from '../status-rules.js';
import { currentPosition, draftNotice, gpsErrorText, missingFields, photoPicker, positionText, watchFix } from './widgets.js';

// A case's position needs no site's radius: worse than this, the form says it is still rough.
const CASE_GOOD_ACCURACY_M = 50;

export const keepOnSync = true;
const ROLES = ['applicant', 'respondent', 'other'];

export async function render(root, app, { query }) {
  const ref = await app.reference();
  const user = app.auth.user;
  const fixSeq = Number(query.get('fix')) || null;
  const fixing = fixSeq ? (await allEntries()).find((e) => e.seq === fixSeq) : null;
  const base = fixing?.data || {};
  const draftForm = fixing ? 'case.fix' : 'case.new';
  const draftId = fixing ? fixSeq : null;
  const stored = await getDraft(draftKey(draftForm, draftId));
  let keeper = null;
  const changed = () => keeper?.changed();
  const message = h('p', { class: 'error', role: 'alert', id: 'case-form-error' });
  const title = h('input', { name: 'title', required: true, maxlength: 200, value: base.title ?? '' });
  // Nothing is chosen for the worker where a wrong choice would be recorded unnoticed.
  const choose = t('common.choose');
  const category = select('category', ref.categories.map((c) => ({ value: c.code, label: nameOf(c) })), base.category,
    { required: true, placeholder: choose });
  const towns = ref.towns.filter((x) => user.role === 'admin' || x.code === user.town);
  const primaryCode = base.primary_town || user.town || (towns.length === 1 ? towns[0].code : null);
  const primary = select('primary_town', towns.map((x) => ({ value: x.code, label: nameOf(x) })), primaryCode,
    { required: true, placeholder: choose, onchange: () => drawInvolved(checkedTowns()) });
  // "Other towns involved" never offers the case's own (primary) town.
  const involved = h('fieldset', { class: 'checks', id: 'involved-towns' });
  const checkedTowns = () => [...involved.querySelectorAll('input:checked')].map((i) => i.value);
  const drawInvolved = (checked) => mount(involved, h('legend', {}, t('case.involved_towns')),
    otherTowns(ref.towns, primary.value).map((x) => h('label', { class: 'check' },
      h('input', { type: 'checkbox', name: 'involved', value: x.code, checked: checked.includes(x.code) }), nameOf(x))));
  drawInvolved(base.involved_towns || []);
  const parties = h('div', { class: 'parties' });
  const addParty = (p = {}) => { parties.append(partyRow(p)); changed(); };
  (base.parties?.length ? base.parties : [{ role: 'applicant' }, { role: 'respondent' }]).forEach(addParty);
  const description = h('textarea', { name: 'description', rows: 4 }, base.description ?? '');
  const severity = select('severity', ['low', 'medium', 'high'].map((s) => ({ value: s, label: t(`severity.${s}`) })), base.severity,
    { required: true, placeholder: choose });
  let position = base.location ?? null;
  const gpsText = h('span', { id: 'gps-text', role: 'status' }, positionText(position));
  // The position is watched while the form is open and shown live as its accuracy improves;
  // "获取位置" takes the latest fix at once (or waits for one), with its own time (fix_at).
  let live = null;
  const gpsLive = h('p', { id: 'gps-live', class: 'hint', role: 'status' }, t('gps.locating'));
  const showLive = (problem) => {
    gpsLive.textContent = live ? t('gps.live', { where: positionText(live) }) + (live.accuracy_m > CASE_GOOD_ACCURACY_M ? ` ${t('gps.live_poor')}` : '') : problem || t('gps.locating');
    gpsLive.className = live && live.accuracy_m > CASE_GOOD_ACCURACY_M ? 'warn' : 'hint';
  };
  const gpsButton = h('button', { type: 'button', onclick: async () => {
    if (live) { position = live; gpsText.textContent = positionText(position); changed(); return; }
    gpsText.textContent = t('gps.locating');
    try { position = await currentPosition(); gpsText.textContent = positionText(position); changed(); } catch (error) { gpsText.textContent = gpsErrorText(error); }
  } }, t('gps.get'));
  watchFix(gpsLive, {
    onFix: (fix) => { live = fix; showLive(); },
    onError: (error) => { if (!live || error.code !== 3) showLive(gpsErrorText(error)); },
  });
  const picker = photoPicker(t('photo.add'), { onChange: changed });
  // The form's whole state, as its draft keeps it (half-filled party rows and photos included).
  const snapshot = () => ({
    title: title.value, category: category.value, primary_town: primary.value,
    involved_towns: [...involved.querySelectorAll('input:checked')].map((i) => i.value),
    parties: [...parties.children].map(rawParty), description: description.value, severity: severity.value,
    location: position, photos: [...picker.photos],
  });
  const restore = (state) => {
    title.value = state.title ?? '';
    category.value = state.category ?? '';
    primary.value = state.primary_town ?? primary.value;
    drawInvolved(state.involved_towns || []);
    mount(parties, (state.parties || []).map(partyRow));
    description.value = state.description ?? '';
    severity.value = state.severity ?? '';
    position = state.location ?? null;
    gpsText.textContent = positionText(position);
    picker.set(state.photos || []);
  };
  const notice = h('div', {});
  const save = h('button', { type: 'submit', class: 'primary', id: 'save-case' }, t('case.save'));
  const form = h('form', { class: 'card', novalidate: true, onsubmit: oneAtATime(() => [save], async () => {
    const towns = [...involved.querySelectorAll('input:checked')].map((i) => i.value).filter((c) => c !== primary.value);
    const data = {
      title: title.value.trim(), category: category.value, primary_town: primary.value, involved_towns: towns,
      parties: [...parties.children].map(readParty).filter(Boolean), description: description.value.trim(),
      severity: severity.value, location: position, photos: [...(fixing ? base.photos || [] : []), ...picker.photos.map((p) => p.sha256)],
      reported_at: base.reported_at || new Date().toISOString(),
    };
    if (missingFields([
      { control: title, missing: !data.title, text: t('case.title_required') },
      { control: category, missing: !data.category, text: t('case.category_required') },
      { control: primary, missing: !data.primary_town, text: t('case.primary_town_required') },
      { control: severity, missing: !data.severity, text: t('case.severity_required') },
    ], message)) return;
    // The draft's last write lands before the save, which deletes the draft with it. A fixed
    // case is a new record either way: if the rejected one is gone meanwhile, it is saved anew.
    const create = () => enqueue({ op: 'case.create', record_id: crypto.randomUUID(), data }, { blobs: picker.photos, author: user.id, draftKey: keeper.key });
    const saved = await keeper.save(async () => (fixing && await resubmit(fixSeq, { data, draftKey: keeper.key })) || create())
      .then(() => true, (error) => saveFailed(message, save, error));
    if (!saved) return;
    await app.changed();
    app.navigate('#/cases');
  }) },
  h('h1', {}, fixing ? t('case.fix_title') : t('case.new_title')),
  fixing ? h('p', { class: 'error' }, t('case.fix_hint')) : null,
  notice,
  field(t('case.title'), title),
  field(t('case.category'), category),
  field(t('case.primary_town'), primary),
  involved,
  h('fieldset', {}, h('legend', {}, t('case.parties')), parties,
    h('button', { type: 'button', onclick: () => addParty({ role: 'other' }) }, t('case.add_party'))),
  field(t('case.description'), description),
  field(t('case.severity'), severity),
  h('div', { class: 'field' }, h('span', { class: 'label' }, t('case.location')), gpsButton, ' ', gpsText, gpsLive,
    h('p', { class: 'hint' }, h('a', { href: '#/settings?help=gps' }, t('help.gps_title')))),
  picker.element,
  message,
  save);
  const pristine = snapshot();
  if (stored) restore(stored.state);
  keeper = keepDraft({
    form: draftForm, recordId: draftId, href: fixing ? `#/new-case?fix=${fixSeq}` : '#/new-case',
    snapshot, pristine, subject: () => title.value.trim(), restored: stored,
  });
  keeper.watch(form);
  enterMovesOn(form);
  if (stored) notice.append(draftNotice(keeper, () => app.render()));
  mount(root, form);
}

function partyRow(p) {
  return h('div', { class: 'party' },
    h('input', { name: 'party_name', placeholder: t('party.name'), 'aria-label': t('party.name'), value: p.name ?? '' }),
    select('party_role', ROLES.map((r) => ({ value: r, label: t(`party.${r}`) })), p.role || 'other', { 'aria-label': t('party.role') }),
    h('input', { name: 'party_phone', type: 'tel', inputmode: 'tel', pattern: '[0-9+\\- ]{3,32}', placeholder: t('party.phone'), 'aria-label': t('party.phone'), value: p.phone ?? '' }),
    h('input', { name: 'party_village', placeholder: t('party.village'), 'aria-label': t('party.village'), value: p.village ?? '' }));
}

/** A party row as typed (empty boxes too), for the draft. */
function rawParty(row) {
  const value = (name) => row.querySelector(`[name=${name}]`).value;
  return { name: value('party_name'), role: value('party_role'), phone: value('party_phone'), village: value('party_village') };
}

function readParty(row) {
  const value = (name) => row.querySelector(`[name=${name}]`).value.trim();
  if (!value('party_name')) return null;
  const party = { name: value('party_name'), role: value('party_role') };
  if (value('party_phone')) party.phone = value('party_phone');
  if (value('party_village')) party.village = value('party_village');
  return party;
}
