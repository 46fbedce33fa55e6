// API keys as a person makes them: from the header's link, a read-only key for a script,
// shown once to copy; the script reads with it and cannot write; the person revokes it and
// it stops at once. At 1280 and 375 px, with no WCAG 2.1 AA violation.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startDemo, launchBrowser, logIn, root, violations } from './demo.js';

const password = 'keys-demo-pass';
let demo;
let browser;

before(async () => {
  demo = await startDemo(password);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  demo?.stop();
});

const withKey = (key, method = 'GET', path = '/posts', body) => fetch(`${demo.api}${path}`, {
  method, headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
  body: body ? JSON.stringify(body) : undefined,
});

test('a read-only key is made, shown once, used by a script, and revoked', async () => {
  const errors = [];
  const { context, page } = await logIn(browser, demo, password, errors);
  await page.click('#keys-link');
  await page.locator('#key-name').waitFor();
  assert.match(await page.locator('main h1').innerText(), /API keys/);
  assert.match(await page.locator('#keys-list').innerText(), /no keys/);
  await page.fill('#key-name', 'nightly report');
  await page.fill('#key-days', '30');
  await page.selectOption('#key-grant', 'read');
  await page.press('#key-name', 'Enter');
  await page.locator('#key-value').waitFor();
  const key = await page.locator('#key-value').inputValue();
  assert.match(key, /^aak_/);
  assert.match(await page.locator('#key-once').innerText(), /will not be shown again/);
  await page.locator('#keys-list table').waitFor();
  assert.match(await page.locator('#keys-list tbody').innerText(), /nightly report[\s\S]*active/);
  assert.deepEqual(await violations(page), []);
  mkdirSync(join(root, 'docs', 'screenshots'), { recursive: true });
  await page.screenshot({ path: join(root, 'docs', 'screenshots', 'api-keys.png'), fullPage: true });

  // The script: reads, cannot write.
  assert.equal((await withKey(key)).status, 200);
  assert.equal((await withKey(key, 'POST', '/tags', { name: 'by script' })).status, 403);
  // Reloaded: the key is listed (used now), never shown again.
  await page.reload();
  await page.locator('#keys-list table').waitFor();
  assert.equal(await page.locator('#key-value').count(), 0);
  assert.doesNotMatch(await page.locator('#keys-list').innerText(), /never/);

  // Revoked after the question: refused at once.
  await page.locator('#keys-list button', { hasText: 'Revoke' }).click();
  await page.locator('dialog.confirm[open]').waitFor();
  await page.locator('dialog.confirm[open] button.danger').click();
  await page.locator('#keys-list tbody', { hasText: 'revoked' }).waitFor();
  assert.equal((await withKey(key)).status, 401);
  await context.close();
  assert.deepEqual(errors, []);
});

test('at 375 px the keys page fits and a bad name is said at the form', async () => {
  const errors = [];
  const { context, page } = await logIn(browser, demo, password, errors, { viewport: { width: 375, height: 800 } });
  await page.goto(`${demo.base}#/_keys`);
  await page.locator('#key-name').waitFor();
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 375, `the page is ${width} px wide`);
  // A name of spaces passes the browser's `required` but not the server.
  await page.fill('#key-name', '   ');
  await page.click('#key-create');
  await page.locator('#key-error', { hasText: 'Name' }).waitFor();
  assert.deepEqual(await violations(page), []);
  await context.close();
  assert.deepEqual(errors, []);
});
