// Login (online, first time or after the server refused the session); registers this device.
import { h, field, mount } from '../dom.js';
import { t } from '../i18n.js';
import { wipeUserData } from '../db.js';
import { deviceId, getMeta, setMeta } from '../meta.js';
import { APP_VERSION } from '../store.js';
import { vaultLogin } from '../vault.js';
import { exportUnsent, reasonText } from './widgets.js';

export const keepOnSync = true;

export async function render(root, app, params) {
  const previous = (await getMeta('auth'))?.user;
  const counts = await app.counts();
  const unsent = counts.intents + counts.photos + counts.rejected + counts.held;
  const message = h('p', { class: 'error', role: 'alert' });
  const username = h('input', { name: 'username', autocomplete: 'username', required: true, value: previous?.username ?? '' });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const submit = h('button', { type: 'submit', class: 'primary' }, t('login.submit'));
  const form = h('form', { class: 'card', onsubmit: async (event) => {
    event.preventDefault();
    if (!navigator.onLine) { message.textContent = t('login.needs_network'); return; }
    if (unsent && previous && username.value.trim() !== previous.username) {
      // Another person's unsent work must never be sent under this person's name.
      message.textContent = t('login.other_user_unsent', { name: previous.display_name, n: unsent });
      return;
    }
    submit.disabled = true;
    message.textContent = '';
    try {
      const auth = await login(app, username.value.trim(), password.value);
      await app.signedIn(auth);
    } catch (error) {
      message.textContent = error.status ? reasonText(error) : t('login.needs_network');
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
    unsent ? h('button', { type: 'button', onclick: () => exportUnsent() }, t('settings.export')) : null) : null, back);
}

/** POST /auth/login with this device's id; keeps the outbox whoever signs in again. */
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
    // Someone else on this phone (nothing unsent, checked above): start from a clean store.
    await wipeUserData();
  }
  const auth = { token: body.token, user: body.user, device_id: body.device_id };
  await setMeta('auth', auth);
  return auth;
}
