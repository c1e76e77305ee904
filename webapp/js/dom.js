// Building DOM from elements: user text only ever becomes text nodes or attribute values.

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

/** Replace an element's content. */
export function mount(root, ...children) {
  root.replaceChildren();
  append(root, children);
}

/** A labelled form field; `control` is the input element. */
export function field(label, control, hint = null) {
  const id = control.id || `f-${crypto.randomUUID().slice(0, 8)}`;
  control.id = id;
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hint && h('p', { class: 'hint' }, hint));
}

/** <select> from [{value, label}]. */
export function select(name, options, value, props = {}) {
  return h('select', { name, ...props }, options.map((o) => h('option', { value: o.value, selected: o.value === value }, o.label)));
}
