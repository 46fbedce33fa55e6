// Every view of the admin app has no axe-core violation of WCAG 2.1 A and AA, in a wide
// window and at 375 px, in the light and the dark theme, logged in and on the login screen.
//
//   AUTOADMIN_BIN=target/debug/autoadmin node --test tests/e2e/
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startDemo, launchBrowser, root, violations } from './demo.js';

let demo;
let base;

let token;
let browser;

before(async () => {
  demo = await startDemo('a11y-demo-pass');
  ({ base, token } = demo);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  demo?.stop();
});

const views = [
  ['dashboard', '#/', '.panel-series svg.chart'],
  ['list', '#/posts', 'table.list tbody tr'],
  ['list with filters', `#/posts?filters=${encodeURIComponent('{"status":{"eq":"draft"},"views":{"gte":10}}')}`, 'table.list tbody tr'],
  ['list with a reference filter', `#/posts?filters=${encodeURIComponent('{"author_id":{"eq":2}}')}`, 'table.list tbody tr'],
  ['list with a multi-choice filter', `#/authors?filters=${encodeURIComponent('{"topics":{"any":["systems"]}}')}`, 'table.list tbody tr'],
  ['list with a tags filter', `#/posts?filters=${encodeURIComponent('{"tags":{"any":[1,2]}}')}`, '.filter .chip'],
  ['show', '#/posts/12', 'section.related tbody tr'],
  ['create', '#/posts/create', '#save'],
  ['edit', '#/posts/12/edit', '#save'],
  ['edit with related records', '#/authors/3/edit', 'section.related tbody tr'],
  ['create from a related list', `#/comments/create?post_id=3&back=${encodeURIComponent('#/posts/3')}`, '#save'],
  ['a declared view', `#/posts?view=${encodeURIComponent('d:Drafts')}&filters=${encodeURIComponent('{"status":{"eq":"draft"}}')}&cols=id,title`, '#view-shown'],
  ['import', '#/tags/import', '#import-file'],
  ['api keys', '#/_keys', '#key-name'],
  ['two-factor login', '#/_2fa', '#twofa-start'],
  ['not found', '#/nope', 'main h1'],
];

for (const [width, theme] of [[1280, 'light'], [375, 'light'], [1280, 'dark'], [375, 'dark']]) {
  test(`every view at ${width} px in the ${theme} theme has no WCAG 2.1 AA violation`, async () => {
    // The app's CSP allows only its own scripts; axe is injected by the test. The theme
    // follows the system's (colorScheme) until the user picks one.
    const context = await browser.newContext({
      viewport: { width, height: 900 }, locale: 'en-US', bypassCSP: true, colorScheme: theme,
      extraHTTPHeaders: { Authorization: `Bearer ${token}` },
    });
    const page = await context.newPage();
    const found = {};
    for (const [name, hash, ready] of views) {
      await page.goto(`${base}${hash}`);
      await page.locator(ready).first().waitFor();
      await page.waitForTimeout(300);
      assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), theme);
      const list = await violations(page);
      if (list.length) found[name] = list;
    }
    // The keyboard shortcuts' list, and a toast (an error of the form).
    await page.goto(`${base}#/posts/create`);
    await page.locator('#save').click();
    await page.locator('.toast-error').waitFor();
    let list = await violations(page);
    if (list.length) found.toast = list;
    await page.locator('main h1').click();
    await page.keyboard.press('?');
    await page.locator('dialog.confirm[open] .shortcuts').waitFor();
    list = await violations(page);
    if (list.length) found.shortcuts = list;
    if (width === 1280) await page.screenshot({ path: join(root, 'docs', 'screenshots', `shortcuts-${theme}.png`) });
    await page.keyboard.press('Escape');
    // A markdown text's preview, a cell edited in place, and "Edit selected".
    const check = async (name) => {
      const more = await violations(page);
      if (more.length) found[name] = more;
    };
    await page.goto(`${base}#/posts/12/edit`);
    await page.click('#f-body-preview-toggle');
    await page.locator('#f-body-preview').waitFor();
    await check('markdown preview');
    await page.goto(`${base}#/posts?sort=id&dir=ASC`);
    await page.locator('table.list tbody tr td[data-field="status"]').first().dblclick();
    await page.locator('.cell-editor select').waitFor();
    await check('cell editor');
    await page.keyboard.press('Escape');
    await page.click('#columns-toggle');
    await check('column chooser');
    await page.click('#columns-toggle');
    await page.check('#select-all');
    await page.click('#edit-selected');
    await page.selectOption('#bulk-add', 'status');
    await check('edit selected');
    await page.keyboard.press('Escape');
    await page.goto(`${base}#/posts?view=${encodeURIComponent('d:Most read')}&sort=title`);
    await page.locator('#view-shown .view-changed').waitFor();
    await page.click('#save-view');
    await page.locator('#view-name').waitFor();
    await check('save a view');
    await page.keyboard.press('Escape');
    // An import's columns, then the report of a dry run with a failed row (a new name each
    // time: every theme and width imports it).
    await page.goto(`${base}#/tags/import`);
    await page.setInputFiles('#import-file', { name: 'tags.csv', mimeType: 'text/csv', buffer: Buffer.from(`name\nfine-${Date.now().toString(36)}\nBad Name\n`) });
    await page.locator('#import-target-0').waitFor();
    await check('import columns');
    await page.click('#import-check');
    await page.locator('#import-errors').waitFor();
    await check('import report');
    // The import done (the valid row), the question of its revert.
    await page.selectOption('#import-on-error', 'skip');
    await page.click('#import-run');
    await page.locator('#import-revert').waitFor();
    await check('import done');
    await page.click('#import-revert');
    await page.locator('dialog.confirm[open]').waitFor();
    await check('revert question');
    await page.click('#confirm-no');
    // A workbook: its columns from the server, and the field of its sheet.
    const workbook = Buffer.from(await (await page.request.get(`${base}api/tags/export.xlsx`)).body());
    await page.goto(`${base}#/tags/import`);
    await page.setInputFiles('#import-file', { name: 'tags.xlsx', mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', buffer: workbook });
    await page.locator('#import-sheet').waitFor();
    await page.locator('#import-preview-table').waitFor();
    await check('import workbook');
    await context.close();
    assert.deepEqual(found, {});
  });
}

test('an open combobox, in a form and in a filter, has no WCAG 2.1 AA violation', async () => {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 900 }, locale: 'en-US', bypassCSP: true,
    extraHTTPHeaders: { Authorization: `Bearer ${token}` },
  });
  const page = await context.newPage();
  const found = {};
  for (const [name, hash, id] of [['form', '#/posts/create', 'f-author_id'], ['filter', `#/posts?filters=${encodeURIComponent('{"author_id":{}}')}`, 'filter-author_id']]) {
    await page.goto(`${base}${hash}`);
    await page.locator(`#${id}`).pressSequentially('ad');
    await page.locator(`#${id}-listbox [aria-selected="true"]`).waitFor();
    await page.keyboard.press('ArrowDown');
    const list = await violations(page);
    if (list.length) found[name] = list;
    if (name === 'filter') await page.screenshot({ path: join(root, 'docs', 'screenshots', 'combobox.png') });
  }
  await context.close();
  assert.deepEqual(found, {});
});

test('the login screen has no WCAG 2.1 AA violation', async () => {
  const context = await browser.newContext({ locale: 'en-US', bypassCSP: true });
  const page = await context.newPage();
  await page.goto(`${base}#/posts`);
  await page.locator('#login-username').waitFor();
  assert.deepEqual(await violations(page), []);
  await page.fill('#login-username', 'admin');
  await page.fill('#login-password', 'wrong');
  await page.press('#login-password', 'Enter');
  await page.waitForFunction(() => document.getElementById('login-error')?.innerText.length > 0);
  assert.deepEqual(await violations(page), []);
  await context.close();
});

test('the delete question, the refusal, the clash panel and the password question have no WCAG 2.1 AA violation', async () => {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 900 }, locale: 'en-US', bypassCSP: true,
    extraHTTPHeaders: { Authorization: `Bearer ${token}` },
  });
  const shots = join(root, 'docs', 'screenshots');
  const page = await context.newPage();
  const found = {};
  const check = async (name) => {
    const list = await violations(page);
    if (list.length) found[name] = list;
  };
  // The question of a delete that takes comments with it.
  await page.goto(`${base}#/posts/3`);
  await page.click('#delete');
  await page.locator('dialog.confirm[open] #delete-question').waitFor();
  await check('delete question');
  await page.screenshot({ path: join(shots, 'delete.png') });
  await page.keyboard.press('Escape');
  // The refusal of a delete others depend on.
  await page.goto(`${base}#/authors/3`);
  // A hash change does not reload: wait for the author's page before its Delete.
  await page.locator('h1', { hasText: 'Author #3' }).waitFor();
  await page.click('#delete');
  await page.locator('dialog.confirm[open] #delete-blocked').waitFor();
  await check('delete refused');
  await page.keyboard.press('Escape');
  // Two writers of one title: the clash panel.
  await page.goto(`${base}#/posts/4/edit`);
  await page.locator('input[name="title"]').waitFor();
  await fetch(`${demo.api}/posts/4`, {
    method: 'PATCH', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify({ title: 'Changed in another tab' }),
  });
  await page.fill('input[name="title"]', 'Changed in this tab');
  await page.click('#save');
  await page.locator('section.conflict').waitFor();
  await check('clash');
  await page.screenshot({ path: join(shots, 'conflict.png') });
  await context.close();
  // The password question, in a browser whose session ends while a form has typing.
  const visitor = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US', bypassCSP: true });
  const form = await visitor.newPage();
  await form.goto(`${base}#/posts/5/edit`);
  await form.fill('#login-username', 'admin');
  await form.fill('#login-password', 'a11y-demo-pass');
  await form.press('#login-password', 'Enter');
  await form.locator('input[name="title"]').waitFor();
  await form.waitForFunction(() => /[a-z]/i.test(document.querySelector('input[name="author_id"]')?.value ?? ''));
  await form.fill('input[name="title"]', 'Typed');
  await form.evaluate(() => fetch('api/logout', { method: 'POST', headers: { 'X-Requested-With': 'autoadmin' } }));
  await form.click('#save');
  await form.locator('#relogin-password').waitFor();
  const list = await violations(form);
  if (list.length) found['password question'] = list;
  await visitor.close();
  assert.deepEqual(found, {});
});
