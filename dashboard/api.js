// Every call to the coordinator's API. The session cookie goes along by itself (same origin,
// HttpOnly: this code never sees it); writes add the session's CSRF token, kept in memory only.

let csrfToken = null;
let onSessionLost = () => {};

export function useSession(session, lost) {
  csrfToken = session === null ? null : session.csrfToken;
  if (lost !== undefined) onSessionLost = lost;
}

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export async function api(method, path, body) {
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken !== null) headers['x-csrf-token'] = csrfToken;
  const res = await fetch(path, { method, headers, credentials: 'same-origin', ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    const err = new ApiError(res.status, data?.error?.code ?? 'E_INTERNAL', data?.error?.message ?? `HTTP ${res.status}`);
    if (err.code === 'E_SESSION_EXPIRED' && path !== '/v1/session') onSessionLost(err);
    throw err;
  }
  return data;
}

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body ?? {});
export const del = (path) => api('DELETE', path);
