// What the cluster tests share: the cluster's addresses (cluster.env, written by
// deploy/local/up.sh), an HTTP client that retries what may be retried, a live-updates reader,
// and a runner that prints "N passed, M failed". Node's own fetch; no dependencies.
import { readFileSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';

const dir = process.env.AUTOADMIN_CLUSTER_DIR || '/tmp/autoadmin-cluster';

/** The cluster's addresses: cluster.env's lines as an object (lists split on spaces). */
export const cluster = Object.fromEntries(
  readFileSync(`${dir}/cluster.env`, 'utf8')
    .split('\n')
    .filter((line) => /^[A-Z_]+=/.test(line))
    .map((line) => {
      const [key, ...rest] = line.split('=');
      const value = rest.join('=').trim();
      return [key, /_(INSTANCES|URLS)$/.test(key) ? value.split(/\s+/).filter(Boolean) : value];
    }),
);

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A client address of its own, as a trusted proxy would say it (X-Forwarded-For). */
export const someAddress = () => `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;

export const unique = () => randomBytes(6).toString('hex');

/**
 * One request: `{status, body, headers, ms}`; a network failure is status 0. `token` is sent as
 * a bearer token; `address` as X-Forwarded-For.
 */
export async function request(base, method, path, { token, body, address, headers = {} } = {}) {
  const sent = performance.now();
  const all = { ...headers };
  if (token) all.authorization = `Bearer ${token}`;
  if (address) all['x-forwarded-for'] = address;
  if (body !== undefined) all['content-type'] = 'application/json';
  try {
    const response = await fetch(`${base}/api${path}`, {
      method,
      headers: all,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15000),
    });
    const text = await response.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = text;
    }
    return { status: response.status, body: json, headers: response.headers, ms: performance.now() - sent };
  } catch (error) {
    return { status: 0, body: String(error.cause?.code || error.message), ms: performance.now() - sent };
  }
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);

/** Whether a client may send `method` again after `status` (lost, or refused for a moment);
 * a create with an Idempotency-Key (`keyed`) is made once however often it is sent. */
export const retriable = (method, status, keyed = false) =>
  (IDEMPOTENT.has(method) || keyed) && (status === 0 || status === 502 || status === 503 || status === 504);

/**
 * `request`, sent once more after 250 ms when it failed in a way a retry of an idempotent
 * request hides (what a careful client does; the app does it for refused reads and keyed
 * creates). `retried` says whether it was.
 */
export async function requestRetrying(base, method, path, options = {}) {
  const first = await request(base, method, path, options);
  const keyed = Boolean(options.headers?.['idempotency-key']);
  if (!retriable(method, first.status, keyed)) return { ...first, retried: false, first };
  await sleep(250);
  return { ...(await request(base, method, path, options)), retried: true, first };
}

/** Logs in as the cluster's user on `base`, from an address of its own; the token. */
export async function login(base) {
  const answer = await request(base, 'POST', '/login', {
    body: { username: cluster.CLUSTER_USER, password: cluster.CLUSTER_PASSWORD },
    address: someAddress(),
  });
  if (answer.status !== 200) throw new Error(`login on ${base}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body.token;
}

/**
 * Reads `GET /api/_events` of `base` until `stop()`: calls `onEvent({event, id, data, at})`
 * for each event (`at`: performance.now() when it arrived). Resolves once the stream said
 * `ready`.
 */
export async function follow(base, token, onEvent) {
  const controller = new AbortController();
  let readyResolve;
  let readyReject;
  const ready = new Promise((resolve, reject) => {
    readyResolve = resolve;
    readyReject = reject;
  });
  const reading = (async () => {
    const response = await fetch(`${base}/api/_events`, {
      headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
      signal: controller.signal,
    });
    if (response.status !== 200) throw new Error(`events on ${base}: ${response.status}`);
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of response.body) {
      buffer += decoder.decode(chunk, { stream: true });
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = { event: 'message', id: null, data: '', at: performance.now() };
        for (const line of block.split('\n')) {
          if (line.startsWith('event:')) event.event = line.slice(6).trim();
          else if (line.startsWith('id:')) event.id = line.slice(3).trim();
          else if (line.startsWith('data:')) event.data += line.slice(5).trim();
        }
        if (block.split('\n').every((line) => line.startsWith(':'))) continue;
        if (event.event === 'ready') readyResolve();
        else onEvent({ ...event, data: event.data ? JSON.parse(event.data) : null });
      }
    }
  })().catch((error) => {
    readyReject(error);
    if (error.name !== 'AbortError') throw error;
  });
  reading.catch(() => {});
  await ready;
  return { stop: () => controller.abort(), reading };
}

/** The pid in `file` of the cluster's state directory. */
export const pidOf = (file) => Number(readFileSync(`${dir}/${file}`, 'utf8').split('\n')[0]);

/** Kills what `file` names the pid of, at once (SIGKILL: no goodbye). */
export function kill(file) {
  process.kill(pidOf(file), 'SIGKILL');
}

/** Starts again what of the cluster is not running (deploy/local/up.sh is idempotent). */
export function up() {
  execFileSync(new URL('../../deploy/local/up.sh', import.meta.url).pathname, {
    env: { ...process.env, AUTOADMIN_BIN: cluster.CLUSTER_BIN },
    stdio: ['ignore', 'ignore', 'inherit'],
    timeout: 240000,
  });
}

/** Runs SQL on a Galera node (`mariadb` client); the rows as tab-separated lines. */
export function galeraSql(node, sql) {
  const port = new URL(cluster.GALERA_URLS[node]).port;
  return execFileSync('mariadb', ['-uroot', '-h127.0.0.1', `-P${port}`, '-N', '-B', 'autoadmin', '-e', sql], {
    encoding: 'utf8',
  });
}

/** Runs `pg_ctl` as the postgres user on the cluster's PostgreSQL `node` (primary, replica). */
export function pgCtl(node, ...args) {
  const version = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(a) - Number(b)).pop();
  execFileSync('runuser', ['-u', 'postgres', '--', `/usr/lib/postgresql/${version}/bin/pg_ctl`,
    '-D', `${dir}/pg/${node}`, ...args], { stdio: 'ignore', timeout: 60000 });
}

/** Runs SQL on the PostgreSQL server of `url` (`psql`); the rows as lines. */
export function pgSql(url, sql) {
  return execFileSync('psql', ['-X', '-tA', '-v', 'ON_ERROR_STOP=1', url, '-c', sql], { encoding: 'utf8' });
}

/** The `p`-th percentile of `values` (sorted copy), in the values' unit. */
export function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const tests = [];

/** Declares a test: `fn` throws to fail, and may return a line of figures to print. */
export function test(name, fn, { timeoutMs = 120000 } = {}) {
  tests.push({ name, fn, timeoutMs });
}

/** Runs the declared tests one after another; prints each and "N passed, M failed". */
export async function run() {
  const only = process.argv[2] ? new RegExp(process.argv[2]) : null;
  let passed = 0;
  let failed = 0;
  for (const { name, fn, timeoutMs } of tests) {
    if (only && !only.test(name)) continue;
    const started = performance.now();
    let timer;
    try {
      const figures = await Promise.race([
        fn(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs / 1000} s`)), timeoutMs);
        }),
      ]);
      passed += 1;
      const took = ((performance.now() - started) / 1000).toFixed(1);
      console.log(`ok - ${name} (${took} s)${figures ? `\n     ${figures}` : ''}`);
    } catch (error) {
      failed += 1;
      const cause = error.cause ? ` (${error.cause.code || error.cause.message || error.cause})` : '';
      console.log(`FAILED - ${name}\n     ${error.stack || error}${cause}`);
    } finally {
      clearTimeout(timer);
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  return failed;
}

export function assert(condition, message) {
  if (!condition) throw new Error(message);
}
