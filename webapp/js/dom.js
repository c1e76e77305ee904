// Building DOM from elements: user text only ever becomes text nodes or attribute values.
import { t } from './i18n.js';

/**
 * h('button', {class: 'primary', onclick: fn}, 'text', child)
 * @returns {HTMLElement}
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key === 'value' && 'value' in el) el.value = value;
    else if (key === 'checked' || key === 'selected') el[key] = Boolean(value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/**
 * A form's save handler that runs one at a time: `work` runs with the buttons `buttons()` names
 * disabled, and a call while it runs does nothing, so a double tap saves once. The default
 * action (a form's submit) is prevented.
 * @param {() => HTMLButtonElement[]} buttons
 * @param {(event: Event) => Promise<void>} work
 */
export function oneAtATime(buttons, work) {
  let busy = false;
  return async (event) => {
    event?.preventDefault();
    if (busy) return;
    busy = true;
    const disabled = buttons().filter((button) => !button.disabled);
    for (const button of disabled) button.disabled = true;
    try {
      await work(event);
    } finally {
      busy = false;
      for (const button of disabled) button.disabled = false;
    }
  };
}

/**
 * A save that failed (the phone's storage full): say so just before its button; the form stays
 * as typed, and its draft goes on being kept. Returns false.
 * @param {HTMLElement} message
 * @param {HTMLElement} button
 * @param {unknown} error
 */
export function saveFailed(message, button, error) {
  console.error('save failed', error);
  button.before(message);
  message.textContent = t('common.save_failed');
  return false;
}

/** Replace an element's content. */
export function mount(root, ...children) {
  root.replaceChildren();
  append(root, children);
}

/** A labelled form field; `control` is the input element. A required one is marked (a red *). */
export function field(label, control, hint = null) {
  const id = control.id || `f-${crypto.randomUUID().slice(0, 8)}`;
  control.id = id;
  const required = control.required || control.getAttribute('aria-required') === 'true';
  if (required) control.setAttribute('aria-required', 'true');
  // The * stands beside the label, not in it: the field's name stays the label's words.
  const name = h('label', { for: id }, label);
  return h('div', { class: 'field' },
    required ? h('div', { class: 'label-row' }, name, h('span', { class: 'req', 'aria-hidden': 'true' }, '*')) : name,
    control, hint && h('p', { class: 'hint' }, hint));
}

/**
 * <select> from [{value, label}]. With `placeholder`, it starts on an empty "请选择" choice unless
 * `value` is one of the options: nothing is chosen for the person.
 */
export function select(name, options, value, { placeholder = null, ...props } = {}) {
  const chosen = options.some((o) => o.value === value);
  return h('select', { name, ...props },
    placeholder ? h('option', { value: '', disabled: true, selected: !chosen }, placeholder) : null,
    options.map((o) => h('option', { value: o.value, selected: o.value === value }, o.label)));
}

// Where Enter may move to: the fields a person fills in (not buttons, files or hidden ones).
const FIELDS = 'input:not([type=hidden]):not([type=file]):not([type=submit]):not([type=button]):not(:disabled), select:not(:disabled), textarea:not(:disabled)';

/**
 * In a form, Enter (the keyboard's 前往/Go) moves to the next field, or does nothing in the
 * last: only the save button saves. A textarea keeps Enter for a new line, a button its
 * click, and an input method composing Chinese its own Enter. `onEnter(field)` returning true
 * says the field used Enter itself (the check-in's name box adds the name).
 * @param {HTMLElement} container a form, or any element holding fields
 */
export function enterMovesOn(container, { onEnter = () => false } = {}) {
  const fields = () => [...container.querySelectorAll(FIELDS)].filter((el) => el.offsetParent !== null || el === document.activeElement);
  container.addEventListener('keydown', (event) => {
    const target = event.target;
    if (event.key !== 'Enter' || event.isComposing || event.keyCode === 229) return;
    if (target.tagName !== 'INPUT' || ['file', 'submit', 'button'].includes(target.type)) return;
    event.preventDefault();
    if (onEnter(target) === true) return;
    const list = fields();
    list[list.indexOf(target) + 1]?.focus();
  });
  // The keyboard's key says what Enter does here: "next", or "done" in the last field.
  container.addEventListener('focusin', (event) => {
    const target = event.target;
    if (target.tagName !== 'INPUT') return;
    const list = fields();
    target.setAttribute('enterkeyhint', list.indexOf(target) < list.length - 1 ? 'next' : 'done');
  });
  return container;
}
