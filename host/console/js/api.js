// The JSON API under /v1 with the signed-in token. Every refusal becomes
// an ApiProblem carrying the problem+json title, detail and field errors.

const TOKEN_KEY = 'chanhost.console.token';

export class ApiProblem extends Error {
  constructor(status, body) {
    const detail = body?.detail || body?.title || `HTTP ${status}`;
    super(detail);
    this.status = status;
    this.title = body?.title || (status ? `HTTP ${status}` : 'Network error');
    this.detail = detail;
    this.errors = Array.isArray(body?.errors) ? body.errors : [];
    this.allowed = body?.allowed || null;
  }
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value) {
  sessionStorage.setItem(TOKEN_KEY, value);
}

export function clearToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

/** "?a=1&b=2" from an object, leaving out empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(params || {})) {
    if (value !== undefined && value !== null && value !== '') q.set(key, value);
  }
  const text = q.toString();
  return text ? `?${text}` : '';
}

/**
 * Calls `/v1${path}`. A 401 also tells the app (the token is gone or was
 * revoked) through a `chanhost:unauthorized` event.
 */
export async function api(path, { method = 'GET', body, bearer } = {}) {
  const headers = { Accept: 'application/json' };
  const auth = bearer ?? token();
  if (auth) headers.Authorization = `Bearer ${auth}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(`/v1${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
    });
  } catch (err) {
    throw new ApiProblem(0, { title: 'Network error', detail: `The server could not be reached (${err.message}).` });
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const problem = new ApiProblem(response.status,
      data && typeof data === 'object' ? data : { title: response.statusText, detail: text.slice(0, 300) });
    if (response.status === 401 && !bearer) {
      window.dispatchEvent(new CustomEvent('chanhost:unauthorized', { detail: problem }));
    }
    throw problem;
  }
  return data;
}

let regionsPromise = null;

/** The regional centers (id, name), read once per page load. */
export function regions() {
  regionsPromise ??= api('/regions').catch((err) => {
    regionsPromise = null;
    throw err;
  });
  return regionsPromise;
}
