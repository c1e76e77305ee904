// The lock screen: the app starts locked, locks after the idle time and when the worker locks it
// (offline, instead of signing out). The PIN opens it, offline too. After too many wrong PINs,
// or for a forgotten PIN, the password opens it online ("用密码找回"): the server gives back the
// key the data key is escrowed under, and the worker sets a new PIN.
import { h, field, mount } from '../dom.js';
import { t } from '../i18n.js';
import { MAX_PIN_FAILURES, failures, unlockWithPin, unsentCount, vaultUser, wipeLocalData } from '../vault.js';
import { login } from './login.js';
import { reasonText } from './widgets.js';

export const keepOnSync = true;

export async function render(root, app) {
  const unsent = await unsentCount();
  const user = vaultUser();
  const blocked = failures() >= MAX_PIN_FAILURES;
  const message = h('p', { class: 'error', role: 'alert', id: 'lock-message' });
  const pin = h('input', { name: 'pin', type: 'password', inputmode: 'numeric', autocomplete: 'off', required: true, disabled: blocked });
  const submit = h('button', { type: 'submit', class: 'primary', id: 'unlock', disabled: blocked }, t('lock.unlock'));
  const pinForm = h('form', { class: 'card', id: 'lock-form', onsubmit: async (event) => {
    event.preventDefault();
    submit.disabled = true;
    message.textContent = t('lock.checking');
    const outcome = await unlockWithPin(pin.value);
    pin.value = '';
    submit.disabled = false;
    if (outcome === 'open') { await app.unlocked(); return; }
    // Counted again now: work may have come since this screen was drawn (another tab, the worker).
    if (outcome === 'blocked' && (await unsentCount()) === 0) {
      // Nothing unsent to lose: a thief guessing PINs gets an empty phone.
      await wipeLocalData();
      app.navigate('#/login?wiped=pin');
      return;
    }
    if (outcome === 'blocked') { app.render(); return; }
    message.textContent = t('lock.wrong_pin', { n: MAX_PIN_FAILURES - failures() });
  } },
  h('h1', {}, t('lock.title')),
  h('p', { class: 'hint' }, t('lock.intro')),
  blocked ? h('p', { class: 'error', id: 'lock-blocked' }, t('lock.blocked', { n: unsent })) : null,
  field(t('lock.pin'), pin),
  message,
  submit);

  const recoverMessage = h('p', { class: 'error', role: 'alert', id: 'recover-message' });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const recover = h('form', { class: 'card', id: 'recover-form', onsubmit: async (event) => {
    event.preventDefault();
    if (!navigator.onLine) { recoverMessage.textContent = t('lock.needs_network'); return; }
    recoverMessage.textContent = '';
    try {
      const auth = await login(app, user.username, password.value);
      await app.recovered(auth);
    } catch (error) {
      recoverMessage.textContent = error.status ? reasonText(error) : t('lock.needs_network');
    }
  } },
  h('h2', {}, t('lock.forgot')),
  h('p', { class: 'hint' }, t('lock.forgot_intro', { username: user?.username ?? '' })),
  field(t('login.password'), password),
  recoverMessage,
  h('button', { type: 'submit', id: 'recover' }, t('lock.recover')));
  mount(root, pinForm, user ? recover : null, unsent ? h('section', { class: 'card', id: 'lock-unsent' },
    h('p', {}, t('lock.kept', { n: unsent }))) : null);
  // Locked from far down a screen (Settings): the lock shows from its top.
  setTimeout(() => {
    window.scrollTo(0, 0);
    if (!blocked) pin.focus({ preventScroll: true });
  }, 0);
}
