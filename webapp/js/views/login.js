// Login (online, first time or after the server refused the session); registers this device.
import { h, field, mount } from '../dom.js';
import { t } from '../i18n.js';
import { wipeUserData } from '../db.js';
import { deviceId, getMeta, setMeta } from '../meta.js';
import { APP_VERSION } from '../store.js';
import { hasPin, holdLogin, vaultLogin } from '../vault.js';
import { exportUnsent, reasonText } from './widgets.js';

export const keepOnSync = true;

export async function render(root, app, params) {
  const previous = (await getMeta('auth'))?.user;
  const counts = await app.counts();
  const unsent = counts.intents + counts.photos + counts.failedPhotos + counts.rejected + counts.held;
  const message = h('p', { class: 'error', role: 'alert' });
  const username = h('input', { name: 'username', autocomplete: 'username', required: true, value: previous?.username ?? '' });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const submit = h('button', { type: 'submit', class: 'primary' }, t('login.submit'));
  const form = h('form', { class: 'card', onsubmit: async (event) => {
    event.preventDefault();
    if (!navigator.onLine) { message.textContent = t('login.needs_network'); return; }
    if ((unsent || counts.drafts) && previous && username.value.trim() !== previous.username) {
      // Another person's unsent work must never be sent under this person's name.
      message.textContent = otherUserText(previous, unsent, counts.drafts);
      return;
    }
    submit.disabled = true;
    message.textContent = '';
    try {
      const auth = await login(app, username.value.trim(), password.value);
      await app.signedIn(auth);
    } catch (error) {
      if (error.code === 'other_user_unsent') message.textContent = otherUserText(previous, unsent, counts.drafts);
      else message.textContent = error.status ? reasonText(error) : t('login.needs_network');
    } finally {
      submit.disabled = false;
    }
  } },
  h('h1', {}, t('login.title')),
  h('p', { class: 'hint' }, t('login.intro')),
  field(t('login.username'), username),
  field(t('login.password'), password),
  message,
  submit);
  // Signed in, but the server refused the session: the work on the phone stays readable.
  const back = app.auth ? h('p', {}, h('a', { href: '#/home', id: 'back-to-work' }, t('login.back'))) : null;
  const wiped = params?.query?.get('wiped'); // vault.js wiped the phone: revoked, or too many wrong PINs
  mount(root, wiped ? h('p', { class: 'card notice', id: 'wiped', role: 'status' }, t(`login.wiped_${wiped === 'pin' ? 'pin' : 'revoked'}`)) : null, form, unsent || counts.drafts ? h('div', { class: 'card', id: 'login-kept' },
    unsent ? h('p', {}, t('login.unsent_kept', { n: unsent })) : null,
    counts.drafts ? h('p', {}, t('login.drafts_kept', { n: counts.drafts })) : null,
    unsent ? h('button', { type: 'button', id: 'login-export', onclick: () => exportUnsent() }, t('settings.export')) : null) : null, back);
}

/** Why this person cannot sign in here yet: the previous person's work is still on the phone. */
function otherUserText(previous, unsent, drafts) {
  const name = previous?.display_name ?? '';
  return unsent ? t('login.other_user_unsent', { name, n: unsent }) : t('login.other_user_drafts', { name, n: drafts });
}

/**
 * POST /auth/login with this device's id; keeps the outbox when the same person signs in again.
 * Another person is refused while the previous one's work is on the phone (it would be sent
 * under their token); the server may answer with a fresh device id (a device id belongs to one
 * person, docs/protocol.md), which the phone adopts for later sign-ins.
 * @throws {Error} code other_user_unsent, or the ApiError of the request
 */
export async function login(app, username, password) {
  const device = {
    id: await deviceId(),
    name: `${navigator.platform || 'phone'} PWA`.slice(0, 100),
    platform: 'pwa',
    app_version: APP_VERSION,
  };
  const previous = (await getMeta('auth'))?.user;
  const body = await app.api.json('POST', '/auth/login', { json: { username, password, device }, auth: false });
  await vaultLogin(body); // vault.js: opens a locked vault with the device key, or refuses over unsent work
  if (previous && previous.id !== body.user.id) {
    const counts = await app.counts();
    if (counts.intents + counts.photos + counts.failedPhotos + counts.rejected + counts.held + counts.drafts) {
      throw Object.assign(new Error('other_user_unsent'), { code: 'other_user_unsent' });
    }
    // Someone else on this phone, nothing of the previous person's left: a clean store.
    await wipeUserData();
  }
  if (body.device_id && body.device_id !== device.id) await setMeta('device_id', body.device_id);
  const auth = { token: body.token, user: body.user, device_id: body.device_id };
  // Without a PIN the sign-in stays in memory: the PIN screen comes next and setPin seals it.
  if (hasPin()) await setMeta('auth', auth);
  else holdLogin(auth);
  return auth;
}
