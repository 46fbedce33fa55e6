// Read replicas as the app meets them (issue #17): after a save, whatever position the write's
// answer gave (`X-Write-Position`) goes with every read the page makes (`X-Read-After`), so
// that any instance reads the person's own change; it survives a reload of the tab, an older
// position never replaces a newer one, and without replicas (no position given) the app sends
// none. The demo has no replica: the test adds the header to the real server's answer to the
// save, as a server with replicas would (tests/cluster/ runs the whole path against a real
// streaming replica).
//
//   AUTOADMIN_BIN=target/debug/autoadmin node --test tests/e2e/replicas.test.js
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDemo, launchBrowser, logIn } from './demo.js';

let demo;
let browser;

before(async () => {
  demo = await startDemo('replicas-demo-pass');
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  demo?.stop();
});

test('a saved record is read back at its position: on the next pages, after a reload, never an older one', async () => {
  const errors = [];
  const { context, page } = await logIn(browser, demo, 'replicas-demo-pass', errors);
  // The X-Read-After of every API read the page sends, in order (but the live-updates
  // stream's: an EventSource sends no header of the page's, and it reads the primary).
  const reads = [];
  page.on('request', (request) => {
    const url = request.url();
    if (request.method() === 'GET' && url.includes('/admin/api/') && !url.includes('/api/_events')) {
      reads.push(request.headers()['x-read-after'] ?? null);
    }
  });
  // The position the next save's answer says.
  let position = null;
  await page.route('**/admin/api/authors/*', async (route) => {
    if (route.request().method() !== 'PATCH' || position === null) return route.continue();
    const response = await route.fetch();
    await route.fulfill({ response, headers: { ...response.headers(), 'x-write-position': position } });
  });

  /** Saves author 1 with `name`, its answer saying `said`; waits for its page. */
  const save = async (name, said) => {
    position = said;
    await page.goto(`${demo.base}#/authors/1/edit`);
    await page.locator('#f-name').fill(name);
    reads.length = 0;
    await page.click('#save');
    await page.waitForURL(/#\/authors\/1$/);
    await page.locator('main').getByText(name).first().waitFor();
  };

  /** The reads since the save said `now` (where it was `was` before): `was` until the save's
   * answer came (a read sent meanwhile), then `now` in every one. */
  const movedTo = (now, was) => {
    const from = reads.indexOf(now);
    assert.ok(from >= 0, `no read said ${now}: ${JSON.stringify(reads)}`);
    assert.ok(reads.slice(0, from).every((header) => header === was), JSON.stringify(reads));
    assert.ok(reads.slice(from).every((header) => header === now), JSON.stringify(reads));
  };

  // No replica, no position: the reads say nothing.
  await page.goto(`${demo.base}#/authors`);
  await page.locator('main table').waitFor();
  assert.ok(reads.length > 0 && reads.every((header) => header === null), JSON.stringify(reads));

  await save('Ada Lovelace (1)', '0/3000060');
  movedTo('0/3000060', null);

  // Another view, then a reload of the tab: still at least that position.
  reads.length = 0;
  await page.goto(`${demo.base}#/posts`);
  await page.locator('main table').waitFor();
  await page.reload();
  await page.locator('main table').waitFor();
  assert.ok(reads.length > 1 && reads.every((header) => header === '0/3000060'), JSON.stringify(reads));

  // An answer from a replica-less moment or an older position keeps the newer one...
  await save('Ada Lovelace (2)', '0/1000');
  assert.ok(reads.every((header) => header === '0/3000060'), JSON.stringify(reads));
  // ...and a newer one replaces it, compared as numbers (hex 10 is after A), not as text.
  await save('Ada Lovelace (3)', 'A/0');
  movedTo('A/0', '0/3000060');
  await save('Ada Lovelace (4)', '10/0');
  movedTo('10/0', 'A/0');

  await page.screenshot({ path: '/tmp/autoadmin-replicas-e2e.png' });
  assert.deepEqual(errors, [], 'no console errors');
  await context.close();
});
