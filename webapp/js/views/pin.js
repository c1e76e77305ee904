// Setting the PIN: right after the first sign-in on this phone (nothing else opens until it is
// set), after a recovery with the password, and from Settings to change it.
import { h, field, mount } from '../dom.js';
import { t } from '../i18n.js';
import { MIN_PIN_LENGTH, setPin, validPin } from '../vault.js';

export const keepOnSync = true;

export async function render(root, app) {
  const message = h('p', { class: 'error', role: 'alert', id: 'pin-message' });
  const pin = h('input', { name: 'new-pin', type: 'password', inputmode: 'numeric', autocomplete: 'new-password', required: true });
  const again = h('input', { name: 'new-pin-again', type: 'password', inputmode: 'numeric', autocomplete: 'new-password', required: true });
  const submit = h('button', { type: 'submit', class: 'primary', id: 'set-pin' }, t('pin.save'));
  mount(root, h('form', { class: 'card', id: 'pin-form', onsubmit: async (event) => {
    event.preventDefault();
    if (!validPin(pin.value)) { message.textContent = t('pin.too_short', { n: MIN_PIN_LENGTH }); return; }
    if (pin.value !== again.value) { message.textContent = t('pin.mismatch'); return; }
    submit.disabled = true;
    message.textContent = t('pin.saving');
    try {
      await setPin(pin.value, app.auth.user);
    } finally {
      submit.disabled = false;
    }
    await app.pinSet();
  } },
  h('h1', {}, t(app.changingPin ? 'pin.change_title' : 'pin.title')),
  h('p', { class: 'hint' }, t('pin.intro', { n: MIN_PIN_LENGTH })),
  field(t('pin.pin'), pin),
  field(t('pin.again'), again),
  message,
  submit,
  app.changingPin && !app.recovering ? h('button', { type: 'button', id: 'cancel-pin', onclick: () => app.pinSet() }, t('common.cancel')) : null));
}
