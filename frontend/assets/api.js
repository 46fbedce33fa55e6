// The API client: one fetch wrapper, one error shape (the server's), and a count of requests
// in flight for the progress indicator.

let base = 'api';
let inFlight = 0;
const watchers = new Set();

export function setBase(url) {
  base = url;
}

/** `fn(busy)` is called whenever requests start or all end. */
export function onActivity(fn) {
  watchers.add(fn);
}

function notify() {
  for (const fn of watchers) fn(inFlight > 0);
}

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.code ?? 'internal';
    this.errors = body?.errors ?? {};
    this.requestId = body?.request_id;
  }
}

export function url(path, query = {}) {
  const target = new URL(`${base}${path}`, location.href);
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') target.searchParams.set(key, value);
  }
  return target;
}

export async function request(method, path, { query, body } = {}) {
  const headers = { Accept: 'application/json', 'X-Requested-With': 'autoadmin' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  inFlight += 1;
  notify();
  try {
    let response;
    try {
      response = await fetch(url(path, query), {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'same-origin',
      });
    } catch {
      throw new ApiError(0, { code: 'unavailable', message: 'network' });
    }
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    if (response.status === 401 && !path.endsWith('/logout')) window.dispatchEvent(new Event('autoadmin:unauthorized'));
    if (!response.ok) throw new ApiError(response.status, data);
    return { data, headers: response.headers };
  } finally {
    inFlight -= 1;
    notify();
  }
}

/** One page of `entity`: `{rows, total}`. `params`: page, perPage, sort, dir, filters, q. */
export async function list(entity, { page = 1, perPage = 25, sort, dir, filters, q, count } = {}) {
  const query = { _page: page, _perPage: perPage, _sortField: sort, _sortDir: dir, q, _count: count };
  if (filters && Object.keys(filters).length) query._filters = JSON.stringify(filters);
  const { data, headers } = await request('GET', `/${entity}`, { query });
  // The total may be exact, estimated, or not counted at all (`total` null).
  const counted = headers.get('X-Total-Count');
  return {
    rows: data,
    total: counted === null ? null : Number(counted),
    estimated: headers.get('X-Total-Count-Kind') === 'estimated',
  };
}

export const getOne = async (entity, id) => (await request('GET', `/${entity}/${encodeURIComponent(id)}`)).data;
export const create = async (entity, body) => (await request('POST', `/${entity}`, { body })).data;
export const update = async (entity, id, body) => (await request('PUT', `/${entity}/${encodeURIComponent(id)}`, { body })).data;
export const remove = async (entity, id) => (await request('DELETE', `/${entity}/${encodeURIComponent(id)}`)).data;
export const removeMany = async (entity, ids) => (await request('DELETE', `/${entity}`, { query: { ids: JSON.stringify(ids) } })).data;

/** Records of `entity` by key, in one request: a Map key → record. */
export async function byKeys(entity, keyField, keys) {
  const unique = [...new Set(keys.filter((k) => k !== null && k !== undefined))];
  if (!unique.length) return new Map();
  const { rows } = await list(entity, { page: 1, perPage: unique.length, filters: { [keyField]: unique }, count: 'none' });
  return new Map(rows.map((row) => [String(row[keyField]), row]));
}
