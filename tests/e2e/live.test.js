// Live updates as a person meets them (issue #17): a list says how many records others
// changed since it was drawn and redraws on Refresh; an open form says at once who changed
// or deleted its record, and Reload keeps what was typed; the page's own writes are no news.
// Each view with its note keeps 0 axe violations, wide and at 375 px.
//
//   AUTOADMIN_BIN=target/debug/autoadmin node --test tests/e2e/live.test.js
import { test, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startDemo, launchBrowser, logIn, watchErrors, violations, root } from './demo.js';

let demo;
let browser;
let context;
let page;
let consoleErrors;

before(async () => {
  demo = await startDemo('live-demo-pass');
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  demo?.stop();
});

beforeEach(async () => {
  consoleErrors = [];
  ({ context, page } = await logIn(browser, demo, 'live-demo-pass', consoleErrors));
});

afterEach(async () => {
  await context.close();
  assert.deepEqual(consoleErrors, [], 'no console errors');
});

/** A write by someone else: another client of the API, with the admin's token. */
const api = async (method, path, body) => {
  const response = await fetch(`${demo.api}${path}`, {
    method,
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${demo.token}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json().catch(() => null) };
};

test('a list counts what others change and redraws on Refresh', async () => {
  await page.goto(`${demo.base}#/posts?sort=id&dir=DESC`);
  await page.locator('table.list tbody tr').first().waitFor();
  const banner = page.locator('#live-changes');
  assert.equal(await banner.textContent(), '', 'nothing changed yet');
  const started = Date.now();
  const made = await api('POST', '/posts', { title: 'Written elsewhere', author_id: 1 });
  assert.equal(made.status, 201);
  await page.getByText('1 change since this page was shown').waitFor({ timeout: 2000 });
  const latency = Date.now() - started;
  assert.ok(latency < 1000, `shown ${latency} ms after the write`);
  // Another entity's change is not this list's.
  await api('PATCH', '/authors/1', { name: 'Renamed elsewhere' });
  await api('PATCH', `/posts/${made.body.id}`, { title: 'Written elsewhere, again' });
  await page.getByText('2 changes since this page was shown').waitFor();
  assert.deepEqual(await violations(page), []);
  await page.setViewportSize({ width: 375, height: 800 });
  assert.deepEqual(await violations(page), []);
  await page.screenshot({ path: join(root, 'docs', 'screenshots', 'live-list.png') });
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.click('#live-refresh');
  await page.locator('table.list').getByText('Written elsewhere, again').waitFor();
  assert.equal(await banner.textContent(), '', 'counted again from the redraw');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'list-heading');
});

test("the page's own writes are no news to it", async () => {
  await page.goto(`${demo.base}#/posts/3/edit`);
  await page.locator('input[name="title"]').waitFor();
  await page.fill('input[name="title"]', 'Saved in this tab');
  await page.click('#save');
  await page.locator('dl.record').waitFor();
  await page.goto(`${demo.base}#/posts`);
  await page.locator('table.list tbody tr').first().waitFor();
  // A write from the list itself (a batch delete) is not counted either.
  await page.locator('table.list tbody tr input[type="checkbox"]').first().check();
  await page.click('#delete-selected');
  await page.locator('dialog#confirm button.danger').click();
  await page.waitForTimeout(1500);
  assert.equal(await page.locator('#live-changes').textContent(), '');
});

test('an open form says at once who changed its record; Reload keeps the typing', async () => {
  await page.goto(`${demo.base}#/posts/7/edit`);
  await page.locator('textarea[name="body"], [name="body"]').first().waitFor();
  const body = page.locator('[name="body"]').first();
  await body.fill('Typed here, not saved yet');
  await page.waitForTimeout(400);
  const changed = await api('PATCH', '/posts/7', { title: 'Title from elsewhere' });
  assert.equal(changed.status, 200);
  const note = page.locator('#live-note');
  await note.waitFor({ timeout: 2000 });
  assert.match(await note.textContent(), /Changed by admin (now|\d+ seconds? ago)\. Reload shows the change and keeps what you typed\./);
  assert.equal(await note.getAttribute('role'), 'alert');
  assert.deepEqual(await violations(page), []);
  await page.setViewportSize({ width: 375, height: 800 });
  assert.deepEqual(await violations(page), []);
  await page.screenshot({ path: join(root, 'docs', 'screenshots', 'live-form.png') });
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.click('#live-reload');
  await page.waitForFunction(() => document.querySelector('input[name="title"]')?.value === 'Title from elsewhere');
  assert.equal(await page.locator('[name="body"]').first().inputValue(), 'Typed here, not saved yet');
  await page.click('#save');
  await page.locator('dl.record').waitFor();
  const stored = await api('GET', '/posts/7');
  assert.equal(stored.body.title, 'Title from elsewhere');
  assert.equal(stored.body.body, 'Typed here, not saved yet');
});

test('a record deleted elsewhere is said on its page; Keep editing closes the note', async () => {
  const made = await api('POST', '/posts', { title: 'Short-lived', author_id: 1 });
  const second = await context.newPage();
  watchErrors(second, consoleErrors);
  await page.goto(`${demo.base}#/posts/${made.body.id}`);
  await page.locator('dl.record').waitFor();
  await second.goto(`${demo.base}#/posts/${made.body.id}/edit`);
  await second.locator('input[name="title"]').waitFor();
  // Deleted from a third place: both tabs are told.
  assert.equal((await api('DELETE', `/posts/${made.body.id}`)).status, 200);
  for (const tab of [page, second]) {
    await tab.locator('#live-note').waitFor({ timeout: 2000 });
    assert.match(await tab.locator('#live-note').textContent(), /Deleted by admin/);
    assert.equal(await tab.locator('#live-reload').count(), 0, 'nothing to reload');
  }
  await second.click('#live-keep');
  assert.equal(await second.locator('#live-note').count(), 0);
  assert.equal(await page.locator('#live-keep').textContent(), 'Dismiss');
});

test('an open form says who else has the record open', async () => {
  await page.goto(`${demo.base}#/posts/9/edit`);
  await page.locator('input[name="title"]').waitFor();
  assert.equal(await page.locator('#presence').textContent(), '', 'no one else yet');
  const second = await context.newPage();
  watchErrors(second, consoleErrors);
  await second.goto(`${demo.base}#/posts/9/edit`);
  await second.getByText('Also open by you, in another tab.').waitFor({ timeout: 3000 });
  assert.equal(await second.locator('#presence').getAttribute('role'), 'status');
  assert.deepEqual(await violations(second), []);
  if (process.env.AUTOADMIN_E2E_SHOTS) await second.screenshot({ path: join(process.env.AUTOADMIN_E2E_SHOTS, 'presence.png') });
  // Someone else, through the API, as the form does it.
  const viewer = 'f'.repeat(32);
  const put = await fetch(`${demo.api}/_presence/posts/9/${viewer}`, { method: 'PUT', headers: { Authorization: `Bearer ${demo.token}` } });
  assert.equal(put.status, 200);
  assert.equal((await put.json()).others.length, 2, 'both tabs');
});

test('a stream refused for a while is opened again, and the list is told to reload', async () => {
  // The first answers are a proxy's 503 (the instances restarting): the browser gives up on
  // them; the app opens a new stream itself.
  let refused = 0;
  await context.route('**/api/_events', async (route) => {
    if (refused < 1) {
      refused += 1;
      await route.fulfill({ status: 503, contentType: 'application/json', body: '{"code":"unavailable","message":"restarting"}' });
    } else {
      await route.continue();
    }
  });
  const tab = await context.newPage();
  watchErrors(tab, consoleErrors);
  await tab.goto(`${demo.base}#/posts`);
  await tab.locator('table.list tbody tr').first().waitFor();
  await tab.waitForTimeout(6000);
  assert.equal(refused, 1);
  const made = await api('POST', '/posts', { title: 'After the restart', author_id: 1 });
  assert.equal(made.status, 201);
  await tab.getByText('1 change since this page was shown').waitFor({ timeout: 3000 });
  // The browser logs the 503 this test made: that one is expected.
  const provoked = /status of 503/;
  assert.equal(consoleErrors.filter((e) => provoked.test(e)).length, 1);
  consoleErrors.splice(0, consoleErrors.length, ...consoleErrors.filter((e) => !provoked.test(e)));
});
