// Saved views as a person meets them (issue #15): a view the descriptors declare opens from
// the menu; the list as one arranged it (filter, sort, columns) is saved under a name, is in
// the menu, survives a reload and is there in another tab; changed, it says so and is saved
// again; a name taken is said in the dialog; deleted, it leaves the menu. At 375 px too.
//
//   AUTOADMIN_BIN=target/debug/autoadmin node --test tests/e2e/
import { test, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startDemo, launchBrowser, root, logIn, watchErrors } from './demo.js';

const PASSWORD = 'views-demo-pass';
let demo;
let browser;
let context;
let page;
let consoleErrors;

before(async () => {
  demo = await startDemo(PASSWORD);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  demo?.stop();
});

const loggedIn = (options) => logIn(browser, demo, PASSWORD, consoleErrors, options);
const watch = (tab) => watchErrors(tab, consoleErrors);

beforeEach(async () => {
  consoleErrors = [];
  ({ context, page } = await loggedIn());
});

afterEach(async () => {
  await context?.close();
  assert.deepEqual(consoleErrors, []);
});

const headers = (tab) => tab.locator('table.list thead th').allInnerTexts();

/** The saved views as the API has them. */
async function savedViews() {
  const response = await fetch(`${demo.api}/_views`, { headers: { Authorization: `Bearer ${demo.token}` } });
  return response.json();
}

test('a view the descriptor declares opens from the menu with its filter, sort and columns', async () => {
  await page.click('.menu a[data-view="d:Drafts"]');
  await page.locator('#view-shown').waitFor();
  assert.equal(await page.locator('#view-shown').innerText(), 'View: Drafts');
  assert.equal(await page.locator('.menu a[data-view="d:Drafts"]').getAttribute('aria-current'), 'page');
  assert.equal(await page.locator('.menu a[data-entity="posts"]').getAttribute('aria-current'), null);
  assert.deepEqual((await headers(page)).map((s) => s.trim()), ['', 'Id ▼', 'Title', 'Author', 'Tags', 'Actions']);
  assert.match(await page.locator('.chip').first().innerText(), /Status: draft/);
  assert.equal(await page.locator('#filter-status').inputValue(), 'draft');
  // Every row shown is a draft: the view's filter reached the server.
  const ids = await page.locator('table.list tbody tr td:nth-child(2)').allInnerTexts();
  assert.ok(ids.length > 0);
  const drafts = await (await fetch(`${demo.api}/posts?status=draft&_sort=id&_order=DESC&_start=0&_end=${ids.length}`, { headers: { Authorization: `Bearer ${demo.token}` } })).json();
  assert.deepEqual(ids.map(Number), drafts.map((p) => p.id));
  // Changing it shows that it changed; the plain list has no view.
  await page.click('#sort-title');
  await page.waitForFunction(() => document.querySelector('#view-shown .view-changed'));
  await page.click('.menu a[data-entity="posts"]');
  await page.waitForFunction(() => !document.querySelector('#view-shown'));
  assert.equal(await page.locator('.menu a[data-entity="posts"]').getAttribute('aria-current'), 'page');
});

test('a list as arranged is saved, opens again after a reload and in another tab, is saved again and deleted', async () => {
  await page.goto(`${demo.base}#/posts`);
  await page.locator('table.list tbody tr').first().waitFor();
  // Arrange it: published posts, by title, without the tags column.
  await page.locator('#filter-status').selectOption('published');
  await page.waitForFunction(() => location.hash.includes('published'));
  await page.click('#sort-title');
  await page.waitForFunction(() => location.hash.includes('sort=title'));
  // The list as drawn for that address (a click on the list drawn before is lost with it).
  await page.waitForFunction(() => document.querySelector('#sort-title')?.closest('th')?.getAttribute('aria-sort') === 'ascending');
  await page.click('#columns-toggle');
  await page.uncheck('#column-tags');
  await page.waitForFunction(() => location.hash.includes('cols='));
  await page.click('#save-view');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'view-name');
  await page.fill('#view-name', 'Published by title');
  await page.selectOption('#view-share', '*');
  await page.press('#view-name', 'Enter');
  const link = page.locator('.menu a:has-text("Published by title")');
  await link.waitFor();
  await page.waitForFunction(() => document.querySelector('#view-shown')?.textContent === 'View: Published by title');
  assert.equal(await link.getAttribute('aria-current'), 'page');
  let [stored] = (await savedViews()).filter((v) => v.name === 'Published by title');
  assert.equal(stored.shared_with, '*');
  assert.deepEqual(stored.state.filter, { status: { eq: 'published' } });
  assert.equal(stored.state.sort, 'title');
  assert.ok(!stored.state.columns.includes('tags'));
  await page.screenshot({ path: join(root, 'docs', 'screenshots', 'saved-view.png') });

  // A reload, and another tab: the same view, as saved.
  await page.reload();
  await page.locator('#view-shown').waitFor();
  assert.equal(await page.locator('#view-shown').innerText(), 'View: Published by title');
  assert.ok(!(await headers(page)).some((h) => h.trim() === 'Tags'));
  const other = await context.newPage();
  watch(other);
  await other.goto(`${demo.base}#/authors`);
  await other.locator('.menu a:has-text("Published by title")').click();
  await other.locator('#view-shown').waitFor();
  assert.equal(await other.locator('table.list tbody tr').first().locator('td[data-field="status"]').innerText(), 'published');
  await other.close();

  // Changed, it says so; saved again, it is the same view with the new state.
  await page.click('#sort-title');
  await page.locator('#view-shown .view-changed').waitFor();
  await page.click('#save-view');
  assert.equal(await page.inputValue('#view-name'), 'Published by title');
  assert.equal(await page.inputValue('#view-share'), '*');
  await page.click('#save-view-submit');
  await page.waitForFunction(() => document.querySelector('#view-shown') && !document.querySelector('#view-shown .view-changed'));
  const again = (await savedViews()).filter((v) => v.name === 'Published by title');
  assert.equal(again.length, 1);
  assert.equal(again[0].id, stored.id);
  assert.equal(again[0].state.sort, '-title');

  // A name taken: said in the dialog, which stays open; Esc closes it.
  await page.goto(`${demo.base}#/posts`);
  await page.locator('table.list tbody tr').first().waitFor();
  await page.click('#save-view');
  await page.fill('#view-name', 'Published by title');
  await page.click('#save-view-submit');
  await page.waitForFunction(() => /already/.test(document.querySelector('#view-name-error')?.textContent ?? ''));
  assert.ok(await page.locator('dialog.confirm[open]').isVisible());
  await page.keyboard.press('Escape');
  await page.waitForFunction(() => !document.querySelector('dialog.confirm[open]'));

  // Deleted: out of the menu, back to the plain list; the question focuses Cancel.
  await link.click();
  await page.locator('#delete-view').click();
  assert.equal(await page.evaluate(() => document.activeElement.id), 'confirm-no');
  await page.click('#confirm-yes');
  await page.waitForFunction(() => ![...document.querySelectorAll('.menu a')].some((a) => a.textContent === 'Published by title'));
  await page.waitForFunction(() => location.hash === '#/posts');
  assert.deepEqual((await savedViews()).filter((v) => v.name === 'Published by title'), []);
});

test('at 375 px the views are in the menu and the save dialog fits', async () => {
  await context.close();
  ({ context, page } = await loggedIn({ viewport: { width: 375, height: 800 } }));
  await page.goto(`${demo.base}#/posts`);
  await page.locator('table.list tbody tr').first().waitFor();
  await page.click('.menu-toggle');
  await page.click('.menu a[data-view="d:Most read"]');
  await page.locator('#view-shown').waitFor();
  await page.click('#save-view');
  const box = await page.locator('dialog.confirm[open]').boundingBox();
  assert.ok(box.x >= 0 && box.x + box.width <= 375, JSON.stringify(box));
  await page.screenshot({ path: join(root, 'docs', 'screenshots', 'save-view-375.png') });
  await page.keyboard.press('Escape');
});
