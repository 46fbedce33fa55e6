// The API client: every request the app makes goes through one (config.json and login
// included), with one error shape (the server's). main.js makes the one the app uses and
// owns it; the client keeps the API's address and the count of requests in flight, which
// it reports for the progress indicator.

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.code ?? 'internal';
    this.errors = body?.errors ?? {};
    this.requestId = body?.request_id;
  }
}

/**
 * A client of the API at `base` (relative to the page: `api` until config.json says).
 * `onActivity(busy)` is told when requests start or all end; `onUnauthorized()` when the
 * server answers 401 to anything but a login or logout.
 */
export function createClient({ onActivity = () => {}, onUnauthorized = () => {} } = {}) {
  let base = 'api';
  let inFlight = 0;

  const url = (path, query = {}) => {
    const target = new URL(`${base}${path}`, location.href);
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined && value !== null && value !== '') target.searchParams.set(key, value);
    }
    return target;
  };

  /** One request to `target` (a URL); `{data, headers, status}`, or an ApiError. */
  async function send(method, target, { body, quiet = false } = {}) {
    const headers = { Accept: 'application/json', 'X-Requested-With': 'autoadmin' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    inFlight += 1;
    onActivity(true);
    try {
      let response;
      try {
        response = await fetch(target, {
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
      if (response.status === 401 && !quiet) onUnauthorized();
      if (!response.ok) throw new ApiError(response.status, data);
      return { data, headers: response.headers, status: response.status };
    } finally {
      inFlight -= 1;
      onActivity(inFlight > 0);
    }
  }

  const request = (method, path, { query, body } = {}) =>
    send(method, url(path, query), { body, quiet: path === '/logout' });

  /** One page of `entity`: `{rows, total, estimated}`. */
  async function list(entity, { page = 1, perPage = 25, sort, dir, filters, q, count } = {}) {
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

  const path = (entity, id) => `/${entity}/${encodeURIComponent(id)}`;

  return {
    url,
    request,
    list,
    /** The app's configuration (the page's own `config.json`); null on 401. */
    async config() {
      try {
        return (await send('GET', new URL('config.json', location.href), { quiet: true })).data;
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) return null;
        throw error;
      }
    },
    setBase(api) {
      base = api;
    },
    login: (username, password) => send('POST', url('/login'), { body: { username, password }, quiet: true }),
    logout: () => request('POST', '/logout'),
    getOne: async (entity, id) => (await request('GET', path(entity, id))).data,
    create: async (entity, body) => (await request('POST', `/${entity}`, { body })).data,
    update: async (entity, id, body) => (await request('PUT', path(entity, id), { body })).data,
    remove: async (entity, id) => (await request('DELETE', path(entity, id))).data,
    removeMany: async (entity, ids) => (await request('DELETE', `/${entity}`, { query: { ids: JSON.stringify(ids) } })).data,
    /** Records of `entity` by key, in one request: a Map key → record. */
    async byKeys(entity, keyField, keys) {
      const unique = [...new Set(keys.filter((k) => k !== null && k !== undefined))];
      if (!unique.length) return new Map();
      const { rows } = await list(entity, { page: 1, perPage: unique.length, filters: { [keyField]: unique }, count: 'none' });
      return new Map(rows.map((row) => [String(row[keyField]), row]));
    },
  };
}
