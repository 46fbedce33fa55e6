// Permissions as a person of a restricted role sees them. Fields: a support agent for whom
// the authors' email and birth date are hidden, and a post's status read-only: the list, the
// record and its form show no hidden field; the status is shown and cannot be edited; saving
// changes what the agent may change and nothing else. Rows: a writer who reaches only the
// posts of their author sees those alone, and another's post is not found. Behind an
// authenticating proxy, the app opens as the user it names. The server is `autoadmin serve`
// with the demo's descriptors and an [auth] section.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root, launchBrowser, watchErrors, serveBlog, violations } from './demo.js';

const bin = process.env.AUTOADMIN_BIN ?? join(root, 'target', 'debug', 'autoadmin');
const work = mkdtempSync(join(tmpdir(), 'autoadmin-fields-'));
const port = 19800 + Math.floor(Math.random() * 150);
const base = `http://127.0.0.1:${port}/admin/`;
const api = `${base}api`;
let server;
let browser;

const hash = (password) => execFileSync(bin, ['hash-password'], { input: `${password}\n` }).toString().trim();

before(async () => {
  const config = `${readFileSync(join(root, 'config/blog.toml'), 'utf8')}
[auth]

  [[auth.role]]
  name = "support"
  permissions = { authors = { actions = ["view", "edit"], fields = { email = "hidden", birth_date = "hidden" } }, posts = { actions = ["view", "edit"], fields = { status = "read_only" } }, comments = ["view", "edit"], tags = ["view"] }

  [[auth.role]]
  name = "writer"
  permissions = { posts = { actions = ["view", "edit"], where = { author_id = "$user.author" } }, authors = ["view"], tags = ["view"], comments = ["view"] }

  [[auth.user]]
  name = "ona"
  role = "writer"
  attributes = { author = 3 }
  password_hash = "${hash('ona-pass-123')}"

  [auth.proxy]
  trusted = ["127.0.0.1"]
  groups = { helpdesk = "support" }

  [[auth.user]]
  name = "root"
  role = "admin"
  password_hash = "${hash('root-pass-123')}"

  [[auth.user]]
  name = "sue"
  role = "support"
  password_hash = "${hash('sue-pass-123')}"
`;
  ({ server } = await serveBlog(work, config, { port, env: { AUTOADMIN_SECRET: 'e2e-fields-secret-0123456789abcdef0123' } }));
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
  rmSync(work, { recursive: true, force: true });
});

async function token(user, password) {
  const response = await fetch(`${api}/login`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: user, password }),
  });
  return (await response.json()).token;
}

async function asRoot(path) {
  const response = await fetch(`${api}${path}`, { headers: { Authorization: `Bearer ${await token('root', 'root-pass-123')}` } });
  return response.json();
}

async function logInAs(user, password, errors, viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport, locale: 'en-US' });
  const page = await context.newPage();
  watchErrors(page, errors);
  await page.goto(`${base}#/`);
  await page.fill('#login-username', user);
  await page.fill('#login-password', password);
  await page.press('#login-password', 'Enter');
  await page.locator('#logout').waitFor();
  return { context, page };
}

test('a hidden field is nowhere on the screens of the user it is hidden from', async () => {
  const errors = [];
  const stored = await asRoot('/authors/1');
  assert.ok(stored.email.includes('@'), 'the author has an email');
  for (const viewport of [{ width: 1280, height: 900 }, { width: 375, height: 800 }]) {
    const { context, page } = await logInAs('sue', 'sue-pass-123', errors, viewport);
    await page.goto(`${base}#/authors`);
    await page.locator('table.list tbody tr').first().waitFor();
    const headers = await page.locator('table.list thead th').allInnerTexts();
    assert.ok(!headers.some((h) => /email|birth/i.test(h)), headers.join('|'));
    assert.ok(!(await page.content()).includes(stored.email));
    assert.deepEqual(await violations(page), []);
    await page.goto(`${base}#/authors/1`);
    await page.getByText(stored.name).first().waitFor();
    const shown = await page.locator('main').innerText();
    assert.ok(!/email|birth date/i.test(shown) && !shown.includes(stored.email), shown);
    assert.deepEqual(await violations(page), []);
    await page.goto(`${base}#/authors/1/edit`);
    await page.locator('#save').waitFor();
    assert.equal(await page.locator('[name="email"], #field-email').count(), 0);
    assert.deepEqual(await violations(page), []);
    if (viewport.width === 1280) {
      mkdirSync(join(root, 'docs', 'screenshots'), { recursive: true });
      await page.goto(`${base}#/authors`);
      await page.locator('table.list tbody tr').first().waitFor();
      await page.screenshot({ path: join(root, 'docs', 'screenshots', 'hidden-fields.png') });
    }
    await context.close();
  }
  assert.deepEqual(errors, []);
});

test('a read-only field is shown, cannot be edited, and the rest of the form saves', async () => {
  const errors = [];
  const before = await asRoot('/posts/3');
  const { context, page } = await logInAs('sue', 'sue-pass-123', errors);
  await page.goto(`${base}#/posts/3/edit`);
  await page.locator('#save').waitFor();
  const status = page.locator('#f-status');
  await status.waitFor();
  assert.equal(await status.isDisabled(), true, 'the status cannot be edited');
  assert.deepEqual(await violations(page), []);
  await page.screenshot({ path: join(root, 'docs', 'screenshots', 'read-only-field.png') });
  const title = page.locator('#f-title');
  await title.fill(`${before.title} (checked)`);
  await page.click('#save');
  await page.waitForURL(/#\/posts\/3$/);
  const after = await asRoot('/posts/3');
  assert.equal(after.title, `${before.title} (checked)`);
  assert.equal(after.status, before.status);
  // Reloaded, and back: the record as stored, no error.
  await page.reload();
  await page.getByText(`${before.title} (checked)`).first().waitFor();
  await page.goBack();
  await page.locator('#save').waitFor();
  assert.equal(await page.locator('#f-status').isDisabled(), true);
  await context.close();
  assert.deepEqual(errors, []);
});

test('behind an authenticating proxy the app opens as the user the proxy names, without a login', async () => {
  // The proxy (here: the browser context adding its headers, from 127.0.0.1, its address)
  // has logged the user in; the app shows who they are, offers no logout, and serves them
  // with their group's role.
  const errors = [];
  const context = await browser.newContext({
    viewport: { width: 1280, height: 900 }, locale: 'en-US',
    extraHTTPHeaders: { 'X-Forwarded-User': 'pat', 'X-Forwarded-Groups': 'visitors, helpdesk' },
  });
  const page = await context.newPage();
  watchErrors(page, errors);
  await page.goto(`${base}#/authors`);
  await page.locator('table.list tbody tr').first().waitFor();
  assert.equal(await page.locator('#login-username').count(), 0, 'no login form');
  assert.match(await page.locator('header').innerText(), /pat/);
  assert.equal(await page.locator('#logout').count(), 0, 'the session is the proxy\'s to end');
  const headers = await page.locator('table.list thead th').allInnerTexts();
  assert.ok(!headers.some((h) => /email/i.test(h)), headers.join('|'));
  assert.deepEqual(await violations(page), []);
  await page.screenshot({ path: join(root, 'docs', 'screenshots', 'behind-a-proxy.png') });
  await context.close();
  assert.deepEqual(errors, []);
});

test('a user who reaches some rows sees those alone, and another\'s record is not found', async () => {
  const errors = [];
  const all = await asRoot('/posts?_perPage=1000');
  const mine = all.filter((p) => p.author_id === 3);
  const other = all.find((p) => p.author_id !== 3);
  assert.ok(mine.length > 0 && other, 'the demo has posts of author 3 and of others');
  const author = await asRoot('/authors/3');
  const { context, page } = await logInAs('ona', 'ona-pass-123', errors);
  await page.goto(`${base}#/posts`);
  await page.locator('table.list tbody tr').first().waitFor();
  const rows = await page.locator('table.list tbody tr').count();
  assert.equal(rows, Math.min(mine.length, 25));
  const text = await page.locator('table.list tbody').innerText();
  assert.ok(text.includes(author.name), text.slice(0, 200));
  assert.match(await page.locator('main').innerText(), new RegExp(`\\b${mine.length}\\b`), 'the total counts her rows');
  assert.deepEqual(await violations(page), []);
  await page.screenshot({ path: join(root, 'docs', 'screenshots', 'row-permissions.png') });
  // Another's record, by its address: not found, as a record that does not exist.
  await page.goto(`${base}#/posts/${other.id}`);
  await page.getByText(/not found|no record/i).first().waitFor();
  assert.ok(!(await page.locator('main').innerText()).includes(other.title));
  assert.deepEqual(await violations(page), []);
  await context.close();
  assert.deepEqual(errors, []);
});
