// A busy server: the app sends a refused read again after the server's `Retry-After`, so a
// person sees the list a moment later instead of an error. The server is real and really
// busy: one admission place (`max_in_flight = 1`, no queue), taken by a write that waits for
// a lock another process holds on its SQLite file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root, launchBrowser, serveBlog } from './demo.js';

const work = mkdtempSync(join(tmpdir(), 'autoadmin-busy-'));
const database = join(work, 'blog.sqlite');
const port = 19300 + Math.floor(Math.random() * 500);
const base = `http://127.0.0.1:${port}/admin/`;
const api = `${base}api`;
let server;
let browser;

before(async () => {
  const config = readFileSync(join(root, 'config/blog.toml'), 'utf8')
    .replace(/^base_path = .*$/m, '$&\nmax_in_flight = 1\nmax_queued = 0');
  ({ server } = await serveBlog(work, config, { port, args: ['--insecure-dev'] }));
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
  rmSync(work, { recursive: true, force: true });
});

/** Holds SQLite's write lock for `ms` in another process: resolves once it is held, to
 * `{released}` (a promise of its release). */
async function holdWriteLock(ms) {
  const holder = spawn('python3', ['-c', `
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
print("held", flush=True)
time.sleep(float(sys.argv[2]))
db.execute("ROLLBACK")
`, database, String(ms / 1000)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const released = new Promise((resolve) => holder.once('exit', resolve));
  await new Promise((resolve) => holder.stdout.once('data', resolve));
  return { released };
}

/** Makes the server busy for about `ms`: its one place is taken by a write of an author
 * (`email`) that waits for the lock; `{write, released}`, the write's answer and the lock's
 * release. */
async function occupy(ms, email) {
  const { released } = await holdWriteLock(ms);
  const write = fetch(`${api}/authors`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ name: 'Waiting writer', email }),
  });
  await new Promise((r) => setTimeout(r, 200));
  return { write, released };
}

test('a list refused while the server is busy is shown once the server has room', async () => {
  const { write, released } = await occupy(2500, 'waiting@example.com');
  const refused = await fetch(`${api}/posts`);
  assert.equal(refused.status, 503, 'the server is busy');
  assert.equal(refused.headers.get('retry-after'), '1');

  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const statuses = [];
  page.on('response', (response) => {
    if (new URL(response.url()).pathname === '/admin/api/posts') statuses.push(response.status());
  });
  const errors = [];
  page.on('pageerror', (error) => errors.push(String(error)));
  await page.goto(`${base}#/posts`);
  await page.locator('table.list tbody tr').first().waitFor({ timeout: 15000 });
  await page.screenshot({ path: join(work, 'busy-list.png') });
  assert.equal(statuses[0], 503, `the first answer was a refusal (${statuses})`);
  assert.equal(statuses.at(-1), 200, `${statuses}`);
  assert.equal(await page.locator('[role=alert]:visible').count(), 0, 'no error was shown');
  assert.deepEqual(errors, []);
  await released;
  assert.equal((await write).status, 201, 'the write waited for the lock and was stored');
  await page.close();
});

test('a save refused while the server is busy says so and keeps what was typed', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${base}#/authors/create`);
  await page.locator('#save').waitFor();
  await page.fill('input[name="name"]', 'Kept typing');
  await page.fill('input[name="email"]', 'kept@example.com');
  const { write, released } = await occupy(2000, 'first@example.com');
  await page.click('#save');
  await page.locator('[role=alert]', { hasText: /busy/ }).waitFor();
  assert.equal(await page.inputValue('input[name="name"]'), 'Kept typing');
  await released;
  assert.equal((await write).status, 201);
  // Once the server has room, the same save goes through.
  await page.click('#save');
  await page.waitForURL(/#\/authors\/\d+$/);
  // Just after a refusal the server may still refuse a burst (its queue stands for 2 s):
  // this read goes again after the Retry-After, as the app's reads do.
  const url = `${api}/authors?_filters=${encodeURIComponent(JSON.stringify({ email: 'kept@example.com' }))}`;
  let response = await fetch(url);
  for (let tries = 0; response.status === 503 && tries < 10; tries += 1) {
    await new Promise((resolve) => setTimeout(resolve, 1000 * Number(response.headers.get('retry-after') ?? 1)));
    response = await fetch(url);
  }
  assert.equal(response.status, 200);
  const created = await response.json();
  assert.equal(created.length, 1);
  await page.close();
});
