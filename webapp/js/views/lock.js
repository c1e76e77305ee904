// The lock screen. Offline, signing out would delete unsent work and drafts, so Settings offers
// to lock the app instead: every screen is hidden behind this one until the same account's
// password is checked by the server (online). Meanwhile the sync still sends the work whenever
// there is a network, and the worker can export it.
import { h, field, mount } from '../dom.js';
import { t } from '../i18n.js';
import { login } from './login.js';
import { exportUnsent, reasonText } from './widgets.js';

export const keepOnSync = true;

export async function render(root, app) {
  const user = app.auth.user;
  const counts = await app.counts();
  const unsent = counts.intents + counts.photos + counts.rejected + counts.held;
  const message = h('p', { class: 'error', role: 'alert', id: 'lock-message' });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const submit = h('button', { type: 'submit', class: 'primary', id: 'unlock' }, t('lock.unlock'));
  const form = h('form', { class: 'card', id: 'lock-form', onsubmit: async (event) => {
    event.preventDefault();
    if (!navigator.onLine) { message.textContent = t('lock.needs_network'); return; }
    submit.disabled = true;
    message.textContent = '';
    try {
      await app.unlock(await login(app, user.username, password.value));
    } catch (error) {
      message.textContent = error.status ? reasonText(error) : t('lock.needs_network');
    } finally {
      submit.disabled = false;
    }
  } },
  h('h1', {}, t('lock.title')),
  h('p', { id: 'lock-who' }, t('lock.who', { name: user.display_name, username: user.username })),
  h('p', { class: 'hint' }, t('lock.intro')),
  field(t('login.password'), password),
  message,
  submit);
  mount(root, form, h('section', { class: 'card', id: 'lock-unsent' },
    h('p', {}, t('lock.kept', { n: unsent, drafts: counts.drafts })),
    h('button', { type: 'button', id: 'export', onclick: () => exportUnsent() }, t('settings.export'))));
}
