// The only fetch wrapper: Bearer token, schema version, language, one error envelope.
export const SCHEMA_VERSION = 1;
export const API_BASE = '/api/v1';

/** An HTTP or network failure; `status` 0 means the network (offline, reset, timeout). */
export class ApiError extends Error {
  constructor(status, code, message, details = {}, retryAfter = null) {
    super(message || code);
    this.status = status;
    this.code = code;
    this.details = details;
    this.retryAfter = retryAfter;
  }

  get isNetwork() { return this.status === 0; }

  get isTransient() { return this.status === 0 || this.status === 429 || this.status >= 500; }
}

/**
 * @param {{getToken: () => Promise<string|null>, getLanguage: () => string,
 *          fetchImpl?: typeof fetch, base?: string, timeoutMs?: number}} options
 */
export function createApi({ getToken, getLanguage, fetchImpl = globalThis.fetch.bind(globalThis), base = API_BASE, timeoutMs = 20_000 }) {
  /** One request; `read` turns the response into a value inside the same time limit. */
  async function request(method, path, { json, body, contentType, query, auth = true, read = () => null } = {}) {
    const headers = { 'X-Schema-Version': String(SCHEMA_VERSION), 'Accept-Language': getLanguage() };
    if (auth) {
      const token = await getToken();
      if (token) headers.Authorization = `Bearer ${token}`;
    }
    if (json !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(json);
    } else if (contentType) headers['Content-Type'] = contentType;
    const url = base + path + (query ? `?${new URLSearchParams(clean(query))}` : '');
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
      const response = await fetchImpl(url, { method, headers, body, signal: controller.signal, cache: 'no-store', credentials: 'omit' });
      if (!response.ok) throw await toError(response);
      return await read(response);
    } catch (error) {
      if (error instanceof ApiError) throw error;
      throw new ApiError(0, 'network', String(error?.message || error));
    } finally {
      clearTimeout(timer);
    }
  }

  const asJson = (response) => (response.status === 204 ? null : response.json());
  return {
    json: (method, path, options = {}) => request(method, path, { ...options, read: asJson }),
    get: (path, query) => request('GET', path, { query, read: asJson }),
    post: (path, json, options = {}) => request('POST', path, { json, ...options, read: asJson }),
    head: (path) => request('HEAD', path),
    put: (path, blob, contentType) => request('PUT', path, { body: blob, contentType }),
    blob: (path) => request('GET', path, { read: (r) => r.blob() }),
  };
}

function clean(query) {
  return Object.fromEntries(Object.entries(query).filter(([, v]) => v !== null && v !== undefined && v !== ''));
}

async function toError(response) {
  const retryAfter = Number(response.headers.get('Retry-After')) || null;
  let envelope = null;
  try {
    envelope = (await response.json())?.error;
  } catch { /* not JSON (HEAD, proxy page) */ }
  const code = envelope?.code || `http_${response.status}`;
  return new ApiError(response.status, code, envelope?.message || response.statusText, envelope?.details || {}, retryAfter);
}
