// The local cluster's tests (deploy/local/up.sh must have run; tests/cluster/run.sh does it):
// stateless instances, an instance killed behind HAProxy, Galera writers with a node killed,
// live updates across instances. Prints each test, its figures, and "N passed, M failed".
//
//   node tests/cluster/cluster.mjs [part of a test's name]
import {
  assert,
  cluster,
  follow,
  galeraSql,
  kill,
  login,
  percentile,
  pgCtl,
  pgSql,
  request,
  requestRetrying,
  run,
  sleep,
  someAddress,
  test,
  unique,
  up,
} from './lib.mjs';

const PG = cluster.PG_INSTANCES;
const GALERA = cluster.GALERA_INSTANCES;

const author = () => {
  const tag = unique();
  return { name: `Author ${tag}`, email: `${tag}@cluster.test` };
};

test('a token made by one instance is taken by every other, directly and through the proxy', async () => {
  for (const [instances, proxy] of [
    [PG, cluster.PG_PROXY],
    [GALERA, cluster.GALERA_PROXY],
  ]) {
    const token = await login(instances[0]);
    for (const base of [...instances, proxy]) {
      const answer = await request(base, 'GET', '/authors?_perPage=1', { token });
      assert(answer.status === 200, `${base}: ${answer.status} ${JSON.stringify(answer.body)}`);
    }
  }
});

test('a logout on one instance reaches the others within revocation_delay_secs (1 s)', async () => {
  const figures = [];
  for (const instances of [PG, GALERA]) {
    const token = await login(instances[0]);
    const other = instances[instances.length - 1];
    // The other instance has read the session's generation, and trusts it for up to 1 s.
    assert((await request(other, 'GET', '/authors?_perPage=1', { token })).status === 200, 'before logout');
    const out = await request(instances[0], 'POST', '/logout', { token, body: {} });
    assert(out.status === 200, `logout: ${out.status}`);
    const loggedOut = performance.now();
    assert((await request(instances[0], 'GET', '/authors?_perPage=1', { token })).status === 401, 'same instance at once');
    let status = 200;
    while (status === 200 && performance.now() - loggedOut < 3000) {
      status = (await request(other, 'GET', '/authors?_perPage=1', { token })).status;
      if (status === 200) await sleep(25);
    }
    const took = performance.now() - loggedOut;
    assert(status === 401, `${other} still took the token ${took.toFixed(0)} ms after the logout`);
    assert(took <= 1300, `${other} took the token for ${took.toFixed(0)} ms after the logout (> 1 s)`);
    figures.push(`${new URL(other).port}: refused ${took.toFixed(0)} ms after the logout`);
  }
  return figures.join('; ');
});

test('the login limits hold across instances: per user, and per client address behind the trusted proxy', async () => {
  for (const instances of [PG, GALERA]) {
    // 5 failures per user name (cluster.toml), counted on every instance together.
    const user = `ghost-${unique()}`;
    for (let i = 0; i < 5; i += 1) {
      const base = instances[i % instances.length];
      const answer = await request(base, 'POST', '/login', {
        body: { username: user, password: 'wrong' },
        address: someAddress(),
      });
      assert(answer.status === 401, `failure ${i + 1} on ${base}: ${answer.status}`);
    }
    const refused = await request(instances[1], 'POST', '/login', {
      body: { username: user, password: 'wrong' },
      address: someAddress(),
    });
    assert(refused.status === 429, `the 6th failure for one user: ${refused.status}`);
    assert(refused.headers.get('retry-after'), '429 without Retry-After');

    // 20 attempts per address, as HAProxy says it (X-Forwarded-For, 127.0.0.1 trusted).
    const address = someAddress();
    for (let i = 0; i < 20; i += 1) {
      const base = i % 2 ? instances[0] : instances[1];
      const answer = await request(base, 'POST', '/login', {
        body: { username: `ghost-${unique()}`, password: 'wrong' },
        address,
      });
      assert(answer.status === 401, `attempt ${i + 1} from ${address} on ${base}: ${answer.status}`);
    }
    const proxy = instances === PG ? cluster.PG_PROXY : cluster.GALERA_PROXY;
    const blocked = await request(proxy, 'POST', '/login', {
      body: { username: cluster.CLUSTER_USER, password: cluster.CLUSTER_PASSWORD },
      address,
    });
    assert(blocked.status === 429, `the 21st attempt from one address, through the proxy: ${blocked.status}`);
    const elsewhere = await request(proxy, 'POST', '/login', {
      body: { username: cluster.CLUSTER_USER, password: cluster.CLUSTER_PASSWORD },
      address: someAddress(),
    });
    assert(elsewhere.status === 200, `another address through the proxy: ${elsewhere.status}`);
  }
});

/**
 * Clients through `proxy` for `seconds`, each reading and updating records of its own (reading
 * with `readToken`: another client, which has not written them), while `during(elapsed)` is
 * called every 100 ms; counts of every outcome.
 */
async function load(proxy, token, { clients, seconds, during, readToken = token }) {
  const records = [];
  for (let i = 0; i < clients; i += 1) {
    const made = await request(proxy, 'POST', '/authors', { token, body: author() });
    assert(made.status === 201, `seed: ${made.status}`);
    records.push(made.body.id);
  }
  const counts = { requests: 0, retried: 0, failed: 0, creates: 0, createsFailed: 0, failures: [] };
  const started = performance.now();
  const running = () => performance.now() - started < seconds * 1000;
  const client = async (i) => {
    let n = 0;
    while (running()) {
      n += 1;
      const [method, path, body] = [
        ['GET', '/authors?_perPage=10&_sort=id&_order=DESC'],
        ['GET', `/authors/${records[i]}`],
        ['PUT', `/authors/${records[i]}`, { bio: `update ${n}` }],
      ][n % 3];
      const answer = await requestRetrying(proxy, method, path, { token: method === 'GET' ? readToken : token, body });
      counts.requests += 1;
      if (answer.retried) counts.retried += 1;
      if (answer.status !== 200) {
        counts.failed += 1;
        counts.failures.push(`${method} ${path}: ${answer.first.status} then ${answer.status}`);
      }
    }
  };
  // Creates carry an Idempotency-Key: one whose answer was lost is sent again, and answers
  // the record it made (if it had reached the database) instead of making another.
  counts.createdEmails = [];
  const creator = async () => {
    while (running()) {
      const body = author();
      counts.createdEmails.push(body.email);
      const once = { 'idempotency-key': unique() };
      const answer = await requestRetrying(proxy, 'POST', '/authors', { token, body, headers: once });
      counts.creates += 1;
      if (answer.retried) counts.createsRetried = (counts.createsRetried ?? 0) + 1;
      if (answer.headers?.get('idempotent-replayed') === 'true') counts.createsReplayed = (counts.createsReplayed ?? 0) + 1;
      if (answer.status !== 201) {
        counts.createsFailed += 1;
        counts.failures.push(`POST /authors: ${answer.status} ${JSON.stringify(answer.body).slice(0, 120)}`);
      }
      await sleep(20);
    }
  };
  const ticker = (async () => {
    while (running()) {
      await during(performance.now() - started);
      await sleep(100);
    }
  })();
  await Promise.all([...records.map((_, i) => client(i)), creator(), ticker]);
  return counts;
}

/** Asserts that each of `emails` is on exactly one author in the primary; says so. */
function madeOnce(emails) {
  const list = emails.map((email) => `'${email}'`).join(', ');
  const rows = pgSql(cluster.PG_PRIMARY_URL, `SELECT email, count(*) FROM authors WHERE email IN (${list}) GROUP BY email`)
    .trim().split('\n').filter(Boolean).map((line) => line.split('|'));
  const twice = rows.filter(([, n]) => Number(n) !== 1);
  assert(rows.length === emails.length && twice.length === 0,
    `${emails.length} creates made ${rows.length} records (${twice.length} made more than once)`);
  return `each one record in the table`;
}

test('an instance killed under load behind HAProxy: no request fails that a retry of an idempotent one would not hide', async () => {
  const token = await login(cluster.PG_PROXY);
  let killed = false;
  let restarted = false;
  const counts = await load(cluster.PG_PROXY, token, {
    clients: 8,
    seconds: 8,
    during: async (elapsed) => {
      if (!killed && elapsed > 2000) {
        killed = true;
        kill('instances/pg1.pid');
      }
      if (!restarted && elapsed > 5000) {
        restarted = true;
        up();
      }
    },
  });
  assert(killed && restarted, 'the instance was not killed and started again');
  const detail = counts.failures.slice(0, 5).join('; ');
  assert(counts.failed === 0, `${counts.failed} of ${counts.requests} requests failed after a retry: ${detail}`);
  assert(counts.createsFailed === 0, `${counts.createsFailed} of ${counts.creates} creates failed after a retry: ${detail}`);
  // Each create made exactly one record: none lost with the instance, none made twice.
  const made = madeOnce(counts.createdEmails);
  return `${counts.requests} reads and updates, ${counts.retried} retried by the client, none failed; ${counts.creates} creates (${counts.createsRetried ?? 0} sent again with their key, of which ${counts.createsReplayed ?? 0} answered the record made before the instance died), ${made}`;
}, { timeoutMs: 300000 });

test('Galera: writers on every node, one node killed mid-load: every acknowledged write is in the table', async () => {
  const tokens = await Promise.all(GALERA.map((base) => login(base)));
  const acknowledged = [];
  const unanswered = [];
  const statuses = {};
  const started = performance.now();
  const seconds = 8;
  let killed = false;
  const writer = async (node) => {
    while (performance.now() - started < seconds * 1000) {
      if (!killed && node === 0 && performance.now() - started > 3000) {
        killed = true;
        kill('galera/node2.pid');
      }
      const body = author();
      const answer = await request(GALERA[node], 'POST', '/authors', { token: tokens[node], body });
      statuses[answer.status] = (statuses[answer.status] || 0) + 1;
      if (answer.status === 201) acknowledged.push({ id: answer.body.id, email: body.email });
      else if (answer.status === 0 || answer.status >= 500) {
        unanswered.push(body.email);
        await sleep(100);
      }
    }
  };
  await Promise.all([0, 0, 1, 1, 2, 2].map((node) => writer(node)));
  assert(killed, 'node 2 was not killed');
  const stored = new Map(
    galeraSql(0, `SELECT id, email FROM authors WHERE email LIKE '%@cluster.test'`)
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split('\t'))
      .map(([id, email]) => [email, Number(id)]),
  );
  const lost = acknowledged.filter(({ id, email }) => stored.get(email) !== id);
  const phantoms = unanswered.filter((email) => stored.has(email)).length;
  // Node 2 joins again (IST), so that the cluster is whole for what follows.
  up();
  const again = galeraSql(2, `SELECT COUNT(*) FROM authors WHERE email LIKE '%@cluster.test'`).trim();
  assert(Number(again) >= stored.size, `node 2 rejoined with ${again} rows of ${stored.size}`);
  assert(acknowledged.length > 50, `only ${acknowledged.length} writes were acknowledged`);
  assert(lost.length === 0, `${lost.length} of ${acknowledged.length} acknowledged writes are not in the table: ${JSON.stringify(lost.slice(0, 3))}`);
  return `${acknowledged.length} acknowledged, 0 lost; answers ${JSON.stringify(statuses)}; of ${unanswered.length} not acknowledged, ${phantoms} committed all the same`;
}, { timeoutMs: 300000 });

test('read replicas: reads go to the replica, a client reads its own writes on any instance, a replica too far behind is skipped', async () => {
  const [writer, other] = [await login(PG[0]), await login(PG[1])];
  pgSql(cluster.PG_REPLICA_URL, 'SELECT pg_wal_replay_pause()');
  try {
    await sleep(300); // the monitors have seen the replica as it stands
    const made = await request(PG[0], 'POST', '/authors', { token: writer, body: author() });
    assert(made.status === 201, `create: ${made.status}`);
    const written = performance.now();
    const position = made.headers.get('x-write-position');
    assert(/^[0-9A-F]+\/[0-9A-F]+$/.test(position || ''), `X-Write-Position: ${position}`);
    const path = `/authors/${made.body.id}`;
    // The writer, on the instance it wrote through: remembered there.
    assert((await request(PG[0], 'GET', path, { token: writer })).status === 200, 'own write, same instance');
    // On another instance, saying the position.
    const there = await request(PG[1], 'GET', path, { token: writer, headers: { 'x-read-after': position } });
    assert(there.status === 200, `own write, another instance with X-Read-After: ${there.status}`);
    // Another client reads from the replica, which has not replayed the write (paused)...
    const stale = await request(PG[1], 'GET', path, { token: other });
    assert(stale.status === 404, `another client, from the replica: ${stale.status} (the replica was not used)`);
    // ...until the replica is too far behind (replica_max_lag_ms, 2 s): then the primary.
    let status = 404;
    while (status === 404 && performance.now() - written < 5000) {
      await sleep(100);
      status = (await request(PG[1], 'GET', path, { token: other })).status;
    }
    const skipped = performance.now() - written;
    assert(status === 200, `the lagging replica still served reads ${skipped.toFixed(0)} ms after the write`);
    assert(skipped >= 1900, `the replica was skipped after ${skipped.toFixed(0)} ms, before its lag reached 2 s`);
    return `another client saw the write ${skipped.toFixed(0)} ms after it, once the paused replica was 2 s behind; the writer at once on both instances`;
  } finally {
    pgSql(cluster.PG_REPLICA_URL, 'SELECT pg_wal_replay_resume()');
  }
});

test('a read replica stopped under load: reads carry on from the primary', async () => {
  const token = await login(cluster.PG_PROXY);
  // Reads by a client that does not write, so that a replica may serve them.
  const readToken = await login(cluster.PG_PROXY);
  // Rows the replica's reads returned (the monitors' position queries read no table).
  const served = () => Number(pgSql(cluster.PG_REPLICA_URL,
    "SELECT tup_returned FROM pg_stat_database WHERE datname = 'autoadmin'").trim());
  let stopped = false;
  let started = false;
  const counts = await load(cluster.PG_PROXY, token, {
    readToken,
    clients: 6,
    seconds: 6,
    during: async (elapsed) => {
      if (!stopped && elapsed > 1500) {
        stopped = true;
        pgCtl('replica', '-m', 'immediate', 'stop');
      }
      if (!started && elapsed > 4000) {
        started = true;
        up();
      }
    },
  });
  const detail = counts.failures.slice(0, 5).join('; ');
  assert(counts.failed === 0 && counts.createsFailed === 0, `failures: ${detail}`);
  madeOnce(counts.createdEmails);
  const replayed = pgSql(cluster.PG_REPLICA_URL, 'SELECT pg_is_in_recovery()').trim();
  assert(replayed === 't', `the replica is back as a replica: ${replayed}`);
  // Back, it serves reads again: 20 lists of 5 (with their count) return rows there.
  const before = served();
  for (let i = 0; i < 20; i += 1) {
    const read = await requestRetrying(cluster.PG_PROXY, 'GET', '/authors?_perPage=5', { token: readToken });
    assert(read.status === 200, `a read after the replica came back: ${read.status}`);
  }
  await sleep(1500); // statistics are flushed within a second
  const rows = served() - before;
  assert(rows >= 100, `the replica returned ${rows} rows for 20 lists of 5 once back`);
  return `${counts.requests} reads and updates, ${counts.retried} retried by the client, none failed; ${counts.creates} creates, none failed; once back, the replica returned ${rows} rows for 20 lists`;
}, { timeoutMs: 120000 });

test('the app through the proxy: a record just made is shown though the replica lags, and a killed instance goes unnoticed', async () => {
  let chromium;
  try {
    ({ chromium } = await import('../e2e/node_modules/playwright-core/index.mjs'));
  } catch {
    throw new Error('playwright-core is missing: (cd tests/e2e && npm ci)');
  }
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  const failures = [];
  pgSql(cluster.PG_REPLICA_URL, 'SELECT pg_wal_replay_pause()');
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (error) => failures.push(String(error)));
    // The live-updates stream ends with its instance (the app opens another): not a request
    // a person sees fail.
    const seen = (url) => !url.includes('/api/_events');
    // A request the page itself gave up (it went to another page meanwhile) is no failure.
    const abandoned = (r) => r.failure()?.errorText === 'net::ERR_ABORTED';
    page.on('requestfailed', (r) => seen(r.url()) && !abandoned(r) && failures.push(`${r.method()} ${r.url()}: ${r.failure()?.errorText}`));
    page.on('response', (r) => r.status() >= 500 && seen(r.url()) && failures.push(`${r.request().method()} ${r.url()}: ${r.status()}`));
    const base = `${cluster.PG_PROXY}/`;
    await page.goto(`${base}#/`);
    await page.fill('#login-username', cluster.CLUSTER_USER);
    await page.fill('#login-password', cluster.CLUSTER_PASSWORD);
    await page.press('#login-password', 'Enter');
    await page.locator('#logout').waitFor();

    // A new author, saved: the app shows its page, read through either instance.
    const { name, email } = author();
    await page.goto(`${base}#/authors/create`);
    await page.getByLabel('Name').fill(name);
    await page.getByLabel('Email').fill(email);
    await page.click('#save');
    await page.waitForURL(/#\/authors\/\d+$/, { timeout: 10000 });
    await page.locator('main').getByText(name).first().waitFor({ timeout: 10000 });
    const id = page.url().split('/').pop();
    // Read again, several times: round robin sends them to both instances.
    for (let i = 0; i < 4; i += 1) {
      await page.reload();
      await page.locator('main').getByText(name).first().waitFor({ timeout: 10000 });
    }
    await page.screenshot({ path: '/tmp/autoadmin-cluster-app.png' });

    // An instance killed while a person goes from page to page.
    kill('instances/pg1.pid');
    for (const hash of ['#/authors', '#/posts', `#/authors/${id}`, '#/comments', `#/authors/${id}/edit`, '#/authors']) {
      await page.goto(`${base}${hash}`);
      await page.locator('main h1, main h2').first().waitFor({ timeout: 10000 });
    }
    await page.reload();
    await page.locator('main h1, main h2').first().waitFor({ timeout: 10000 });
    const alerts = await page.locator('.toast-error').count();
    assert(alerts === 0, `${alerts} error toasts: ${await page.locator('.toast-error').allInnerTexts()}`);
    assert(failures.length === 0, `failed: ${failures.slice(0, 5).join('; ')}`);
    return 'the new record shown on 5 reads through both instances with the replica paused; 7 pages and a reload after an instance was killed, no request failed';
  } finally {
    pgSql(cluster.PG_REPLICA_URL, 'SELECT pg_wal_replay_resume()');
    await browser.close();
    up();
  }
}, { timeoutMs: 180000 });

/**
 * Streams on every instance and through the proxy; `writes` creates through the instances in
 * turn; the time from each write's answer to its event on each stream.
 */
async function eventDelays(instances, proxy, writes) {
  const token = await login(instances[0]);
  const bases = [...instances, proxy, proxy];
  const arrivals = bases.map(() => new Map());
  const streams = await Promise.all(
    bases.map((base, i) =>
      follow(base, token, (event) => {
        if (event.event === 'change' && event.data.entity === 'authors' && event.data.action === 'create') {
          arrivals[i].set(String(event.data.id), event.at);
        }
      }),
    ),
  );
  const answered = new Map();
  for (let n = 0; n < writes; n += 1) {
    const answer = await request(instances[n % instances.length], 'POST', '/authors', { token, body: author() });
    assert(answer.status === 201, `write ${n}: ${answer.status}`);
    answered.set(String(answer.body.id), performance.now());
    await sleep(30);
  }
  await sleep(2000);
  streams.forEach((stream) => stream.stop());
  const delays = [];
  let missing = 0;
  for (const arrived of arrivals) {
    for (const [id, at] of answered) {
      if (arrived.has(id)) delays.push(Math.max(0, arrived.get(id) - at));
      else missing += 1;
    }
  }
  return { delays, missing, streams: bases.length };
}

test('live updates reach the streams of every instance, and through the proxy, within 1 s', async () => {
  const figures = [];
  for (const [name, instances, proxy] of [
    ['PostgreSQL (through PgBouncer: the followers poll every 200 ms)', PG, cluster.PG_PROXY],
    ['Galera (the followers poll every 200 ms)', GALERA, cluster.GALERA_PROXY],
  ]) {
    const { delays, missing, streams } = await eventDelays(instances, proxy, 100);
    const p50 = percentile(delays, 50);
    const p99 = percentile(delays, 99);
    assert(missing === 0, `${name}: ${missing} events never arrived`);
    assert(p99 < 1000, `${name}: p99 ${p99.toFixed(0)} ms`);
    figures.push(`${name}: ${delays.length} deliveries to ${streams} streams, p50 ${p50.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms, max ${Math.max(...delays).toFixed(0)} ms`);
  }
  return figures.join('\n     ');
}, { timeoutMs: 180000 });

process.exitCode = (await run()) > 0 ? 1 : 0;
