// The unsent-work file (docs/protocol.md, "unsent-work file v1"): what a phone that cannot
// sync hands over, for a supervisor to import at the console. Pure: no DOM, no IndexedDB
// (tested under Node, with WebCrypto's subtle.digest).
import { toWire } from './sync-rules.js';

export const UNSENT_FORMAT = 'fengling-unsent-work';
export const UNSENT_VERSION = 1;

/**
 * What the file carries: every outbox entry the server has not confirmed (pending, held and
 * rejected ones alike), in outbox order, as the sync engine would push them, and the photos not
 * yet uploaded.
 * @param {{exportedAt: string, deviceId: string, user: {id: string, username: string,
 *          display_name: string}|null, entries: object[],
 *          photos: {sha256: string, type: string, base64: string}[]}} work
 */
export function unsentContent({ exportedAt, deviceId, user, entries, photos }) {
  return {
    exported_at: exportedAt,
    device_id: deviceId,
    user: user ? { id: user.id, username: user.username, display_name: user.display_name } : null,
    mutations: [...entries].sort((a, b) => a.seq - b.seq).map(toWire),
    photos,
  };
}

/** Hex SHA-256 of a text's UTF-8 bytes. */
export async function sha256Text(text, subtle = globalThis.crypto.subtle) {
  const digest = await subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * The file's text. The content goes in as a JSON string, so its checksum covers exactly the
 * bytes the server hashes; JSON.stringify escapes half a character (a lone surrogate, as in a
 * title cut inside an emoji), so the text is always valid UTF-8.
 * @param {ReturnType<typeof unsentContent>} content
 */
export async function unsentFileText(content, { subtle } = {}) {
  const text = JSON.stringify(content);
  return JSON.stringify({ format: UNSENT_FORMAT, version: UNSENT_VERSION, sha256: await sha256Text(text, subtle), content: text });
}

/**
 * Read a file back, checking it as the server does.
 * @returns {Promise<ReturnType<typeof unsentContent>>}
 * @throws {Error} with `code` not_unsent_file, unknown_version, checksum_mismatch or content_not_json
 */
export async function readUnsentFile(text, { subtle } = {}) {
  const fail = (code) => Object.assign(new Error(code), { code });
  let wrapper;
  try { wrapper = JSON.parse(text); } catch { throw fail('not_unsent_file'); }
  if (wrapper?.format !== UNSENT_FORMAT || typeof wrapper.content !== 'string') throw fail('not_unsent_file');
  if (wrapper.version !== UNSENT_VERSION) throw fail('unknown_version');
  if ((await sha256Text(wrapper.content, subtle)) !== wrapper.sha256) throw fail('checksum_mismatch');
  try { return JSON.parse(wrapper.content); } catch { throw fail('content_not_json'); }
}

/** The download's name: fengling-unsent-20261126T101500.json (or -intent- for one intent). */
export function unsentFileName(exportedAt, { single = false } = {}) {
  const stamp = exportedAt.slice(0, 19).replace(/:/g, '');
  return `fengling-${single ? 'intent' : 'unsent'}-${stamp}.json`;
}
