// The API client: every request the app makes goes through one (config.json and login
// included), with one error shape (the server's). main.js makes the one the app uses and
// owns it; the client keeps the API's address and the count of requests in flight, which
// it reports for the progress indicator.

import { fieldMessages } from './fieldmessages.js';

/** How often a read the server was too busy for is sent again (after its `Retry-After`). */
const BUSY_RETRIES = 3;

/** The wait before a read is sent again: the server's `Retry-After` (seconds), and up to
 * half as long again at random, so that the clients it refused together do not all come
 * back in the same instant (a wave that would be refused again). */
const retryDelay = (retryAfter) => {
  const seconds = Math.min(Math.max(Number(retryAfter) || 1, 1), 10);
  return seconds * 1000 * (1 + Math.random() / 2);
};

/** 128 random bits in hex: request ids, idempotency keys. getRandomValues, not randomUUID:
 * that one is missing from pages served over plain HTTP. */
const randomHex = () => [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.code ?? 'internal';
    // Field → message, in the app's language where the server gave the message's code.
    this.errors = fieldMessages(body?.errors, body?.error_codes);
    this.requestId = body?.request_id;
    // The whole answer (412: the current record and its version).
    this.body = body ?? {};
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
  // The ids of the writes this page sent (the newest few hundred): live updates (live.js)
  // say which request made a change, and a page's own changes are not news to it. The id is
  // chosen here, before sending: the change's event may come before the write's answer.
  const own = new Set();
  const ownId = () => {
    const id = randomHex();
    own.add(id);
    if (own.size > 500) own.delete(own.values().next().value);
    return id;
  };

  // With read replicas (replica_urls), a write's answer says how far it reached the
  // primary's log (`X-Write-Position`), and the page's reads ask to see at least that much
  // (`X-Read-After`), whichever instance serves them. Kept for the tab: a reload still reads
  // its own writes.
  let readAfter = sessionStorage.getItem('autoadmin.readAfter');
  const position = (text) => {
    const [high, low] = text.split('/');
    return (BigInt(`0x${high}`) << 32n) | BigInt(`0x${low}`);
  };
  const noteWrite = (headers) => {
    const written = headers.get('X-Write-Position');
    if (!written || !/^[0-9A-F]{1,8}\/[0-9A-F]{1,8}$/i.test(written)) return;
    if (readAfter && position(readAfter) >= position(written)) return;
    readAfter = written;
    sessionStorage.setItem('autoadmin.readAfter', written);
  };

  const url = (path, query = {}) => {
    const target = new URL(`${base}${path}`, location.href);
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined && value !== null && value !== '') target.searchParams.set(key, value);
    }
    return target;
  };

  /**
   * One request to `target` (a URL); `{data, headers, status}`, or an ApiError. `quiet`:
   * a 401 is the caller's to handle (a form asks for the password in place). A read answered
   * 503 with `Retry-After` (the server is busy, or its database away for a moment) is sent
   * again after that wait, a few times, before its error is shown; a write is not (a 503
   * after a timeout may come from a write that still commits), its error says to try again.
   */
  async function send(method, target, { body, quiet = false, ifMatch, once } = {}) {
    const headers = { Accept: 'application/json', 'X-Requested-With': 'autoadmin' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (ifMatch) headers['If-Match'] = ifMatch;
    // A create with a key is made once however often it is sent: safe to send again when its
    // answer is lost. (Refused as busy, it is not: the person is told, as for any write.)
    if (once) headers['Idempotency-Key'] = once;
    if (method !== 'GET') headers['X-Request-Id'] = ownId();
    else if (readAfter) headers['X-Read-After'] = readAfter;
    inFlight += 1;
    onActivity(true);
    try {
      let response;
      let lost = 0;
      for (let retries = method === 'GET' ? BUSY_RETRIES : 0; ; retries -= 1) {
        try {
          response = await fetch(target, {
            method,
            headers,
            body: body === undefined ? undefined : JSON.stringify(body),
            credentials: 'same-origin',
          });
        } catch {
          response = null;
        }
        // The answer was lost: a network failed, or a proxy answered 502/504 (the instance
        // died with the request). A create with a key is sent again once, and answers what it
        // made if it had reached the server.
        const answerLost = response === null || response.status === 502 || response.status === 504;
        if (answerLost && once && lost === 0) {
          lost += 1;
          await response?.body?.cancel();
          await new Promise((resolve) => setTimeout(resolve, retryDelay(1)));
          continue;
        }
        if (response === null) throw new ApiError(0, { code: 'unavailable', message: 'network' });
        const retryAfter = response.headers.get('Retry-After');
        if (response.status !== 503 || retryAfter === null || retries === 0) break;
        await response.body?.cancel();
        await new Promise((resolve) => setTimeout(resolve, retryDelay(retryAfter)));
      }
      noteWrite(response.headers);
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

  const request = (method, path, { query, body, quiet, ifMatch, once } = {}) =>
    send(method, url(path, query), { body, ifMatch, once, quiet: quiet || path === '/logout' });

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

  /**
   * Sends `file` (a CSV file, or a workbook of type `contentType`) to `path` with `query`
   * and the request id `id`, telling `onSent` the bytes sent so far; the answer's status and
   * body, whatever the status (XMLHttpRequest: fetch says nothing of an upload's progress).
   */
  function upload(path, query, file, id, onSent, contentType = 'text/csv') {
    return new Promise((resolve) => {
      const request = new XMLHttpRequest();
      request.open('POST', url(path, query));
      request.setRequestHeader('Content-Type', contentType);
      request.setRequestHeader('Accept', 'application/json');
      request.setRequestHeader('X-Requested-With', 'autoadmin');
      request.setRequestHeader('X-Request-Id', id);
      own.add(id);
      request.withCredentials = true;
      request.upload.onprogress = (event) => onSent(event.loaded);
      inFlight += 1;
      onActivity(true);
      const done = (answer) => {
        inFlight -= 1;
        onActivity(inFlight > 0);
        if (answer.status === 401) onUnauthorized();
        resolve(answer);
      };
      request.onload = () => {
        let body = null;
        try {
          body = JSON.parse(request.responseText);
        } catch { /* no JSON: the status says */ }
        done({ status: request.status, body });
      };
      request.onerror = () => done({ status: 0, body: null });
      request.send(file);
    });
  }

  const path = (entity, id) => `/${entity}/${encodeURIComponent(id)}`;

  return {
    url,
    request,
    list,
    /** Whether the request `id` was sent by this page. */
    isOwn: (id) => own.has(id),
    /**
     * Says that the form `viewer` has record `key` of `entity` open (`PUT`: the others that
     * have it open) or closed (`DELETE`, sent even as the page goes away). Every 10 s while
     * a form is open: without the progress indicator.
     */
    async presence(method, entity, key, viewer) {
      const target = url(`/_presence/${encodeURIComponent(entity)}/${encodeURIComponent(key)}/${viewer}`);
      const response = await fetch(target, {
        method, keepalive: method === 'DELETE', credentials: 'same-origin',
        headers: { Accept: 'application/json', 'X-Requested-With': 'autoadmin' },
      });
      const data = await response.json().catch(() => null);
      if (!response.ok) throw new ApiError(response.status, data);
      return data?.others ?? [];
    },
    upload,
    /** The app's configuration: the one the page carries, or the page's own `config.json`;
     * null on 401. */
    async config() {
      const carried = document.getElementById('config');
      if (carried) {
        try {
          return JSON.parse(carried.textContent);
        } catch { /* then as if it were not there */ }
      }
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
    /** The password step: `{data}`, a session, or (`data.second_factor`) the challenge that
     * `secondFactor` takes with a code. */
    login: (username, password) => send('POST', url('/login'), { body: { username, password }, quiet: true }),
    /** How one logs in here: `{password, oidc: {label, path} | null}`; null when the
     * admin has no login of its own. */
    async loginMethods() {
      try {
        return (await send('GET', url('/login'), { quiet: true })).data;
      } catch {
        return null;
      }
    },
        /** The login's second step: `proof` is `{code}` or `{recovery_code}`. */
    secondFactor: (challenge, proof) => send('POST', url('/login/second-factor'), { body: { challenge, ...proof }, quiet: true }),
    /** Ends this session, or (`everywhere`) every session of the user. */
    logout: ({ everywhere = false } = {}) => request('POST', '/logout', { body: everywhere ? { everywhere: true } : {} }),
    getOne: async (entity, id) => (await request('GET', path(entity, id))).data,
    /** A record and its version (`ETag`), to write back only that version. */
    async getVersioned(entity, id) {
      const { data, headers } = await request('GET', path(entity, id));
      return { record: data, etag: headers.get('ETag') };
    },
    /** `once`: the create's Idempotency-Key (`newKey()`), kept by the form while its body is
     * the same, so that saving again after a lost answer cannot make a second record. */
    create: async (entity, body, { quiet, once } = {}) => (await request('POST', `/${entity}`, { body, quiet, once })).data,
    newKey: randomHex,
    /**
     * Writes the fields of `body` (only those) if the record still has version `etag`:
     * `{record, etag}`; a 412 ApiError carries the current record otherwise.
     */
    async update(entity, id, body, { etag, quiet } = {}) {
      const { data, headers } = await request('PATCH', path(entity, id), { body, ifMatch: etag, quiet });
      return { record: data, etag: headers.get('ETag') };
    },
    /** Deletes a record (only version `etag`, when given); `{record, requestId}`. */
    async remove(entity, id, { etag } = {}) {
      const { data, headers } = await request('DELETE', path(entity, id), { ifMatch: etag });
      return { record: data, requestId: headers.get('X-Request-Id') };
    },
    /** Deletes records, all or none; `{ids, requestId}`. */
    async removeMany(entity, ids) {
      const { data, headers } = await request('DELETE', `/${entity}`, { query: { ids: JSON.stringify(ids) } });
      return { ids: data, requestId: headers.get('X-Request-Id') };
    },
    /** Sets the fields of `body` on every record of `ids`, all or none: the stored records. */
    updateMany: async (entity, ids, body, { quiet } = {}) => (await request('PATCH', `/${entity}`, { query: { ids: JSON.stringify(ids) }, body, quiet })).data,
    /** Runs the entity's action `name` on the records of `ids`: the stored records. */
    runAction: async (entity, name, ids) => (await request('POST', `/${entity}/actions/${encodeURIComponent(name)}`, { query: { ids: JSON.stringify(ids) }, body: {} })).data,
    /** What deleting the records of `ids` would take. */
    dependents: async (entity, ids) => (await request('GET', `/${entity}/dependents`, { query: { ids: JSON.stringify(ids) } })).data,
    /** Brings back the delete an audit entry records. */
    restore: async (auditId) => (await request('POST', `/_audit/${encodeURIComponent(auditId)}/restore`, { body: {} })).data,
    /** Records of `entity` by key, in one request: a Map key → record. */
    async byKeys(entity, keyField, keys) {
      const unique = [...new Set(keys.filter((k) => k !== null && k !== undefined))];
      if (!unique.length) return new Map();
      const { rows } = await list(entity, { page: 1, perPage: unique.length, filters: { [keyField]: unique }, count: 'none' });
      return new Map(rows.map((row) => [String(row[keyField]), row]));
    },
  };
}
