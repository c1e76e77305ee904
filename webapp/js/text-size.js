// The text size the worker chose (settings): the whole app's text scales with it, remembered
// on the phone in clear (it must apply before the PIN screen, which it also enlarges).
import { getMeta, setMeta } from './meta.js';

export const TEXT_SIZES = ['normal', 'large', 'larger'];
let current = 'normal';

export function textSize() { return current; }

function apply(size) {
  current = TEXT_SIZES.includes(size) ? size : 'normal';
  document.documentElement.dataset.textSize = current;
}

/** At start-up, before the first screen. */
export async function loadTextSize() {
  apply(await getMeta('text_size'));
}

export async function setTextSize(size) {
  apply(size);
  await setMeta('text_size', current);
}
