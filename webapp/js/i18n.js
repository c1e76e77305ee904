// Messages by key from i18n/<lang>.json; Simplified Chinese first, English switchable.
// The words for codes (statuses, severities, activities, ...) come first from the contract's
// vocabulary (server/vocabulary.py), the same words the console shows.
import { CONTRACT } from './contract.js';

export const LANGUAGES = ['zh-CN', 'en'];
let messages = {};
let fallback = {};
let current = 'zh-CN';

const catalogues = new Map(); // language -> its messages, fetched once per page

/** Fetch a catalogue once; start-up calls this early so the fetch overlaps the database open. */
export function loadCatalogue(lang) {
  if (!catalogues.has(lang)) {
    const loading = fetch(`/i18n/${lang}.json`).then((response) => {
      if (!response.ok) throw new Error(`missing catalogue ${lang}`);
      return response.json();
    });
    loading.catch(() => catalogues.delete(lang)); // a failed fetch is tried again next time
    catalogues.set(lang, loading);
  }
  return catalogues.get(lang);
}

/** Load a language (zh-CN is the fallback for any missing key). */
export async function setLanguage(lang) {
  current = LANGUAGES.includes(lang) ? lang : 'zh-CN';
  [fallback, messages] = await Promise.all([loadCatalogue('zh-CN'), loadCatalogue(current)]);
  document.documentElement.lang = current;
}

export function language() { return current; }

/** The message for `key` with {name} placeholders filled from `params`. */
export function t(key, params = {}) {
  const words = CONTRACT.vocabulary;
  const template = words[current]?.[key] ?? words['zh-CN'][key] ?? messages[key] ?? fallback[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (_, name) => (params[name] ?? `{${name}}`));
}

/** A reference record's name in the current language (towns, categories). */
export function nameOf(item) {
  if (!item) return '';
  return current === 'en' ? item.name_en || item.name || item.code : item.name || item.code;
}

/** A device time shown in local time. */
export function formatTime(value) {
  if (!value) return '';
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return date.toLocaleString(current, { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });
}

export function formatBytes(bytes) {
  if (!Number.isFinite(bytes)) return '—';
  const units = ['B', 'KB', 'MB', 'GB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
  return `${value.toFixed(unit ? 1 : 0)} ${units[unit]}`;
}
