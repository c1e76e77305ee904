// Check-in at a site: position preview (verified or not, at what accuracy), activity, people, photos.
import { enterMovesOn, h, field, mount, oneAtATime, saveFailed, select } from '../dom.js';
import { getDraft, keepDraft } from '../drafts.js';
import { draftKey } from '../draft-rules.js';
import { formatTime, t } from '../i18n.js';
import { enqueue } from '../outbox.js';
import { get } from '../records.js';
import { previewCheckin } from '../sync-rules.js';
import { draftNotice, gpsErrorText, missingFields, photoPicker, positionText, watchFix } from './widgets.js';
import { formatDistance } from './route.js';
import { participantPicker } from './participants.js';

export const keepOnSync = true;
const ACTIVITIES = ['party_history_study', 'theme_party_day', 'visit', 'other'];

export async function render(root, app, { id }) {
  const site = (await get('site', id))?.data;
  if (!site) { mount(root, h('p', { class: 'card' }, t('case.not_found'))); return; }
  const stored = await getDraft(draftKey('checkin.new', id));
  let keeper = null;
  const changed = () => keeper?.changed();
  // The latest fix of the position watched while the form is open ({lat, lon, accuracy_m,
  // fix_at}: each fix carries its own time), or null: a check-in without one is still saved.
  let fix = null;
  let problem = null; // why there is no fix yet, in words
  const verdict = h('p', { id: 'checkin-verdict', role: 'status', class: 'hint' }, t('gps.locating'));
  const accuracyNote = h('p', { id: 'checkin-accuracy', class: 'warn', hidden: true });
  const save = h('button', { type: 'submit', class: 'primary', id: 'save-checkin' }, t('checkin.save'));
  const showFix = () => {
    const preview = previewCheckin(fix, site);
    if (!fix) {
      verdict.textContent = `${problem || t('gps.locating')} ${t('checkin.no_fix_save')}`;
      verdict.className = 'warn';
      accuracyNote.hidden = true;
      return;
    }
    const old = Date.now() - Date.parse(fix.fix_at) > 60_000;
    verdict.textContent = `${positionText(fix)} · ${t('route.distance', { d: formatDistance(preview.distance_m) })} · ${preview.verified ? t('checkin.will_verify') : t('checkin.will_not_verify_because', { reason: t(`reason.${preview.reason}`) })}`
      + (old || problem ? ` · ${t('gps.fixed_at', { time: formatTime(fix.fix_at) })}` : '');
    verdict.className = preview.verified ? 'ok' : 'warn';
    accuracyNote.hidden = !(fix.accuracy_m > site.radius_m);
    accuracyNote.textContent = t('gps.poor', { acc: fix.accuracy_m, radius: site.radius_m });
  };
  // Watch while the form is on screen: accuracy improves live; a newer fix replaces the last.
  let stopWatching = () => {};
  const locate = () => {
    stopWatching();
    problem = null;
    showFix();
    stopWatching = watchFix(verdict, {
      onFix: (position) => { fix = position; problem = null; showFix(); changed(); },
      // A watch's timeout after a fix only means no newer one yet: the fix shows its time.
      onError: (error) => { if (fix && error.code === 3) return; problem = gpsErrorText(error); showFix(); },
    });
  };
  // A fix ages while the worker fills in the form: say so when it stops counting as fresh.
  let shown = false;
  const ageing = setInterval(() => {
    if (verdict.isConnected) { shown = true; showFix(); } else if (shown) clearInterval(ageing);
  }, 10_000);
  // Chosen and counted by the worker: a default would be recorded unnoticed when wrong.
  const activity = select('activity', ACTIVITIES.map((a) => ({ value: a, label: t(`activity.${a}`) })), null,
    { required: true, placeholder: t('common.choose') });
  // Roster members of the site's town and the worker's own (views/participants.js).
  const people = await participantPicker({ towns: [site.town, app.auth.user.town].filter(Boolean), userId: app.auth.user.id, onChange: changed });
  const participants = people.count;
  const message = h('p', { class: 'error', role: 'alert', id: 'checkin-error' });
  const notes = h('textarea', { name: 'notes', rows: 3 });
  const picker = photoPicker(t('photo.add'), { onChange: changed });
  const snapshot = () => ({
    activity: activity.value, people: people.snapshot(),
    notes: notes.value, photos: [...picker.photos], fix,
  });
  const restore = (state) => {
    activity.value = state.activity ?? '';
    // A draft from before the roster kept names and a count only.
    people.restore(state.people ?? { entries: (state.names || []).map((name) => ({ id: null, name })),
      count: state.participants ?? '', count_touched: Boolean(state.participants), typed: state.name_typed ?? '' });
    notes.value = state.notes ?? '';
    picker.set(state.photos || []);
    // A draft from before fix_at kept {position, at}: the position, with the time it was taken.
    fix = state.fix?.position ? { ...state.fix.position, fix_at: state.fix.at } : state.fix ?? null;
  };
  const notice = h('div', {});
  const form = h('form', { class: 'card', novalidate: true, onsubmit: oneAtATime(() => [save], async () => {
    const count = Number.parseInt(participants.value, 10);
    if (missingFields([
      { control: activity, missing: !activity.value, text: t('checkin.activity_required') },
      { control: participants, missing: !(count >= 0), text: t('checkin.participants_required') },
    ], message)) return;
    // The draft's last write lands before the save, which deletes the draft with it.
    const saved = await keeper.save(() => enqueue({ op: 'checkin.create', record_id: crypto.randomUUID(), data: {
      site_id: id, at: new Date().toISOString(), ...(fix || {}), activity: activity.value,
      participants: count, participant_names: people.names(), participant_ids: people.ids(),
      notes: notes.value.trim(), photos: picker.photos.map((p) => p.sha256),
    } }, { blobs: picker.photos, author: app.auth.user.id, draftKey: keeper.key }))
      .then(() => true, (error) => saveFailed(message, save, error));
    if (!saved) return;
    stopWatching();
    await app.changed();
    app.navigate('#/route');
  }) },
  h('h1', {}, site.name), h('p', { class: 'hint' }, site.description || ''),
  notice,
  verdict, accuracyNote, h('button', { type: 'button', onclick: locate }, t('gps.refresh')),
  field(t('checkin.activity'), activity),
  people.countField,
  people.element,
  field(t('checkin.notes'), notes),
  picker.element,
  message,
  save);
  const pristine = snapshot();
  if (stored) restore(stored.state);
  keeper = keepDraft({
    form: 'checkin.new', recordId: id, href: `#/checkin/${id}`, snapshot, pristine, subject: () => site.name, restored: stored,
    // The position alone (taken as the form opens) is no reason to keep a draft.
    compare: (state) => ({ ...state, fix: null }),
  });
  keeper.watch(form);
  // Enter in the name box adds the name typed (and stays for the next); elsewhere it moves on.
  enterMovesOn(form, { onEnter: (target) => target === people.search && people.addTyped() });
  if (stored) notice.append(draftNotice(keeper, () => app.render()));
  mount(root, form);
  // A draft's own fix is shown with its time until a newer one comes in.
  locate();
}
