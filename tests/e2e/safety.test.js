// Nothing lost, nothing hidden (issue #13), as a person meets it in the app: two tabs editing
// one record, a delete that says what it takes and can be undone, a delete that cannot be,
// a session that ends while typing, a reload in the middle of a form, a revert.
//
//   AUTOADMIN_BIN=target/debug/autoadmin node --test tests/e2e/
import { test, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startDemo, launchBrowser, logIn, watchErrors } from './demo.js';

let demo;
let browser;
let context;
let consoleErrors;

before(async () => {
  demo = await startDemo('safety-demo-pass');
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  demo?.stop();
});

/** A logged-in browser context (its own session, by the app's login form). */
const loggedIn = () => logIn(browser, demo, 'safety-demo-pass', consoleErrors);
const watch = (tab) => watchErrors(tab, consoleErrors);

beforeEach(async () => {
  consoleErrors = [];
  ({ context } = await loggedIn());
});

afterEach(async () => {
  await context.close();
  assert.deepEqual(consoleErrors, [], 'no console errors');
});

const api = async (path, init = {}) => {
  const response = await fetch(`${demo.api}${path}`, {
    ...init, headers: { 'Content-Type': 'application/json', ...(init.headers ?? {}), Authorization: `Bearer ${demo.token}` },
  });
  return { status: response.status, body: await response.json().catch(() => null), headers: response.headers };
};

async function editIn(page, id) {
  await page.goto(`${demo.base}#/posts/${id}/edit`);
  await page.locator('input[name="title"]').waitFor();
}

test('two tabs: changes to different fields are both kept', async () => {
  const a = await context.newPage();
  const b = await context.newPage();
  watch(a);
  watch(b);
  const { body: before } = await api('/posts/7');
  await editIn(a, 7);
  await editIn(b, 7);
  await a.fill('input[name="title"]', 'Title from tab A');
  await a.click('#save');
  await a.waitForURL(/#\/posts\/7$/);
  // Tab B changes only the views, from the record as it loaded before A saved.
  await b.fill('input[name="views"]', String(before.views + 1));
  await b.click('#save');
  await b.waitForURL(/#\/posts\/7$/);
  const { body: stored } = await api('/posts/7');
  assert.equal(stored.title, 'Title from tab A', 'A\'s title is not put back');
  assert.equal(stored.views, before.views + 1, 'B\'s views are stored');
  // The history says both, each once.
  await b.locator('section.history tbody tr').first().waitFor();
  const history = await b.locator('section.history tbody tr').allInnerTexts();
  assert.match(history[0], /Views: [\d,]+ → [\d,]+/);
  assert.match(history[1], /Title: .* → Title from tab A/);
});

test('two tabs: the same field is shown side by side to choose from', async () => {
  const a = await context.newPage();
  const b = await context.newPage();
  watch(a);
  watch(b);
  await editIn(a, 8);
  await editIn(b, 8);
  await a.fill('input[name="title"]', 'Theirs');
  await a.click('#save');
  await a.waitForURL(/#\/posts\/8$/);
  await b.fill('input[name="title"]', 'Mine');
  await b.click('#save');
  // Nothing is written; the clash is shown with both values, who and when.
  await b.locator('section.conflict').waitFor();
  const clash = b.locator('fieldset.clash[data-field="title"]');
  assert.equal(await clash.locator('[data-side="mine"]').innerText(), 'Mine');
  assert.equal(await clash.locator('[data-side="theirs"]').innerText(), 'Theirs');
  assert.match(await clash.innerText(), /by admin, /);
  assert.equal((await api('/posts/8')).body.title, 'Theirs');
  assert.equal(await b.inputValue('input[name="title"]'), 'Mine', 'the typing is kept');
  // Keep mine: written over the version now stored, knowingly.
  await b.click('#keep-mine');
  await b.waitForURL(/#\/posts\/8$/);
  assert.equal((await api('/posts/8')).body.title, 'Mine');
  // And once more, taking theirs: nothing of mine is written.
  await editIn(a, 8);
  await editIn(b, 8);
  await a.fill('input[name="title"]', 'Theirs again');
  await a.click('#save');
  await a.waitForURL(/#\/posts\/8$/);
  await b.fill('input[name="title"]', 'Mine again');
  await b.click('#save');
  await b.locator('section.conflict').waitFor();
  await b.click('#take-theirs');
  await b.waitForURL(/#\/posts\/8$/);
  assert.equal((await api('/posts/8')).body.title, 'Theirs again');
});

test('a delete says what it takes, and can be undone', async () => {
  const page = await context.newPage();
  watch(page);
  const { body: post } = await api('/posts', { method: 'POST', body: JSON.stringify({ title: 'With comments', author_id: 1 }) });
  for (const n of [1, 2, 3]) {
    await api('/comments', { method: 'POST', body: JSON.stringify({ post_id: post.id, author_name: `c${n}`, body: 'text' }) });
  }
  await page.goto(`${demo.base}#/posts/${post.id}`);
  await page.click('#delete');
  await page.locator('dialog.confirm[open] #delete-question').waitFor();
  assert.equal(await page.locator('#delete-question').innerText(), `Delete Post #${post.id} and the 3 Comments that belong to it?`);
  await page.locator('dialog.confirm[open] button.danger').click();
  await page.waitForURL(/#\/posts$/);
  assert.equal((await api(`/posts/${post.id}`)).status, 404);
  const comments = `/comments?_filters=${encodeURIComponent(JSON.stringify({ post_id: post.id }))}`;
  assert.equal((await api(comments)).body.length, 0);
  // Undo, from the toast: the post and its comments are back.
  await page.locator('.toast-success .toast-action').click();
  await page.locator('.toast-success', { hasText: 'Restored.' }).waitFor();
  assert.equal((await api(`/posts/${post.id}`)).body.title, 'With comments');
  assert.equal((await api(comments)).body.length, 3);
});

test('a delete that cannot be says why, with a link to what stands in the way', async () => {
  const page = await context.newPage();
  watch(page);
  const { headers } = await api('/posts?_page=1&_perPage=1&_filters=%7B%22author_id%22%3A2%7D');
  const count = Number(headers.get('x-total-count'));
  assert.ok(count > 0);
  await page.goto(`${demo.base}#/authors/2`);
  await page.click('#delete');
  await page.locator('dialog.confirm[open] #delete-blocked').waitFor();
  assert.equal(await page.locator('#delete-blocked').innerText(), `Cannot delete: ${count} Posts refer to it.`);
  assert.equal(await page.locator('dialog.confirm[open] button.danger').count(), 0, 'nothing to confirm');
  await page.locator('dialog.confirm[open] a.see-them').click();
  await page.waitForURL(/#\/posts\?filters=/);
  await page.waitForFunction((n) => (document.getElementById('range')?.innerText ?? '').endsWith(` of ${n}`), count);
  assert.equal((await api('/authors/2')).status, 200);
});

test('a session that ends while typing: the password is asked in place, then the save goes on', async () => {
  const page = await context.newPage();
  watch(page);
  await editIn(page, 9);
  // The form has loaded what it shows (its reference pickers' choices).
  await page.waitForFunction(() => /[a-z]/i.test(document.querySelector('input[name="author_id"]')?.value ?? ''));
  await page.fill('input[name="title"]', 'Typed before the session ended');
  // The session ends (a logout from another tab of this browser).
  await page.evaluate(() => fetch('api/logout', { method: 'POST', headers: { 'X-Requested-With': 'autoadmin' } }));
  await page.click('#save');
  await page.locator('#relogin-password').waitFor();
  assert.equal(await page.inputValue('input[name="title"]'), 'Typed before the session ended');
  await page.fill('#relogin-password', 'safety-demo-pass');
  await page.press('#relogin-password', 'Enter');
  await page.waitForURL(/#\/posts\/9$/);
  assert.equal((await api('/posts/9')).body.title, 'Typed before the session ended');
});

test('a reload in the middle of a form keeps the typing as a draft', async () => {
  const page = await context.newPage();
  watch(page);
  await editIn(page, 10);
  await page.fill('input[name="title"]', 'Survives a reload');
  await page.waitForTimeout(500);
  page.once('dialog', (dialog) => dialog.accept());
  await page.reload();
  await page.locator('.draft-note').waitFor();
  assert.equal(await page.inputValue('input[name="title"]'), 'Survives a reload');
  const stored = await page.evaluate(() => Object.keys(sessionStorage).filter((k) => k.startsWith('autoadmin:draft:')).map((k) => sessionStorage.getItem(k)));
  assert.ok(stored.every((text) => !text.includes('password')), 'never a password in a draft');
  await page.click('#save');
  await page.waitForURL(/#\/posts\/10$/);
  assert.equal((await api('/posts/10')).body.title, 'Survives a reload');
  assert.equal(await page.evaluate(() => Object.keys(sessionStorage).filter((k) => k.startsWith('autoadmin:draft:')).length), 0);
});

test('a change is reverted from the history', async () => {
  const page = await context.newPage();
  watch(page);
  const { body: before } = await api('/posts/11');
  await editIn(page, 11);
  await page.fill('input[name="title"]', 'A change to revert');
  await page.click('#save');
  await page.waitForURL(/#\/posts\/11$/);
  await page.locator('section.history button.revert').first().waitFor();
  await page.locator('section.history button.revert').first().click();
  await page.locator('.toast-success', { hasText: 'Reverted.' }).waitFor();
  assert.equal((await api('/posts/11')).body.title, before.title);
  await page.waitForFunction((title) => document.querySelector('dd[data-field="title"]')?.innerText === title, before.title);
});
