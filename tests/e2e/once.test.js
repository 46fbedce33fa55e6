// Creates made once (issue #17): the app sends every create with an Idempotency-Key, kept by
// the form while its body is the same. A create whose answer is lost (an instance killed
// behind the proxy, a network) is sent again once with the same key, and a person who saves
// again after an error sends the same key: either way the server answers the record the first
// one made, and there is one record, not two.
//
//   AUTOADMIN_BIN=target/debug/autoadmin node --test tests/e2e/once.test.js
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDemo, launchBrowser, logIn } from './demo.js';

let demo;
let browser;

before(async () => {
  demo = await startDemo('once-demo-pass');
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  demo?.stop();
});

/** The tags named `name`, as the API lists them. */
const tagsNamed = async (name) => {
  const filter = encodeURIComponent(JSON.stringify({ name }));
  const response = await fetch(`${demo.api}/tags?_filters=${filter}`, { headers: { Authorization: `Bearer ${demo.token}` } });
  return (await response.json()).filter((tag) => tag.name === name);
};

/** Opens the new-tag form, types `name`; resolves to the page. */
const newTag = async (page, name) => {
  await page.goto(`${demo.base}#/tags/create`);
  await page.locator('#f-name').fill(name);
};

test('a create whose answer is lost is sent again with its key, and made once', async () => {
  const errors = [];
  const { context, page } = await logIn(browser, demo, 'once-demo-pass', errors);
  const keys = [];
  await page.route('**/admin/api/tags', async (route) => {
    if (route.request().method() !== 'POST') return route.continue();
    keys.push(route.request().headers()['idempotency-key'] ?? null);
    if (keys.length > 1) return route.continue();
    // The server makes the record; its answer never reaches the page.
    await route.fetch();
    return route.abort('connectionreset');
  });
  await newTag(page, 'lost-answer');
  await page.click('#save');
  await page.waitForURL(/#\/tags\/\d+$/);
  assert.equal(keys.length, 2, 'sent again once');
  assert.match(keys[0], /^[0-9a-f]{32}$/);
  assert.equal(keys[1], keys[0], 'with the same key');
  const made = await tagsNamed('lost-answer');
  assert.equal(made.length, 1, JSON.stringify(made));
  assert.ok(page.url().endsWith(`#/tags/${made[0].id}`), page.url());
  assert.equal(await page.locator('.toast-error').count(), 0);
  await page.screenshot({ path: '/tmp/once-lost-answer.png' });
  assert.deepEqual(errors.filter((e) => !/ERR_CONNECTION_RESET|Failed to fetch/.test(e)), []);
  await context.close();
});

test('saved again after an error, the same form makes one record; changed, another key', async () => {
  const errors = [];
  const { context, page } = await logIn(browser, demo, 'once-demo-pass', errors);
  const keys = [];
  await page.route('**/admin/api/tags', async (route) => {
    if (route.request().method() !== 'POST') return route.continue();
    keys.push(route.request().headers()['idempotency-key']);
    if (keys.length > 1) return route.continue();
    // Made, but the proxy answered 500 (nothing an idempotent retry would hide).
    await route.fetch();
    return route.fulfill({ status: 500, contentType: 'application/json', body: '{"code":"internal","message":"proxy error"}' });
  });
  await newTag(page, 'saved-twice');
  await page.click('#save');
  await page.locator('.toast-error').first().waitFor();
  assert.equal(keys.length, 1, 'a 500 is not sent again by itself');
  // The person saves again, the form as it was.
  await page.click('#save');
  await page.waitForURL(/#\/tags\/\d+$/);
  assert.equal(keys[1], keys[0], 'the same key for the same body');
  assert.equal((await tagsNamed('saved-twice')).length, 1);

  // A new form, or the body changed: a new key, a new record.
  await newTag(page, 'first-body');
  await page.route('**/admin/api/tags', (route) => (route.request().method() === 'POST'
    ? route.fulfill({ status: 500, contentType: 'application/json', body: '{"code":"internal","message":"no"}' })
    : route.continue()));
  keys.length = 0;
  page.on('request', (request) => {
    if (request.method() === 'POST' && request.url().endsWith('/admin/api/tags')) keys.push(request.headers()['idempotency-key']);
  });
  await page.click('#save');
  await page.locator('.toast-error').first().waitFor();
  await page.unrouteAll();
  await page.locator('#f-name').fill('second-body');
  await page.click('#save');
  await page.waitForURL(/#\/tags\/\d+$/);
  assert.equal(keys.length, 2, JSON.stringify(keys));
  assert.notEqual(keys[1], keys[0], 'another body, another key');
  assert.equal((await tagsNamed('second-body')).length, 1);
  assert.equal((await tagsNamed('first-body')).length, 0);
  assert.deepEqual(errors.filter((e) => !/status of 500/.test(e)), []);
  await context.close();
});
