// Lists people live in (issue #15), the small things as a person meets them: the list as it
// was after an edit, a page past the end, toasts, the delete question, history after "Stay",
// plural forms, a language and a theme of one's own, singular headings, a readable history,
// 375 px, keyboard shortcuts, days in the user's time zone, and what a cold load costs.
//
//   AUTOADMIN_BIN=target/debug/autoadmin node --test tests/e2e/
import { test, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import http from 'node:http';
import { gunzipSync } from 'node:zlib';
import { startDemo, launchBrowser, root, logIn, watchErrors } from './demo.js';

const PASSWORD = 'lists-demo-pass';
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

/** A browser context logged in by the app's login form. */
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

async function api(path, init = {}) {
  const response = await fetch(`${demo.api}${path}`, {
    ...init,
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${demo.token}`, ...init.headers },
  });
  return { status: response.status, headers: response.headers, body: response.status === 204 ? null : await response.json() };
}

const listed = (tab) => tab.locator('table.list tbody tr').first().waitFor();
const filtersParam = (filters) => encodeURIComponent(JSON.stringify(filters));

/** Whether two boxes overlap. */
const overlap = (a, b) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

test('a page past the end shows the last page, in place of the address asked for', async () => {
  await page.goto(`${demo.base}#/posts`);
  await listed(page);
  await page.goto(`${demo.base}#/posts?page=999`);
  await page.waitForURL(/#\/posts\?page=40$/);
  await page.locator('#range', { hasText: '976–1,000 of 1,000' }).waitFor();
  // The address asked for is not in the history: Back goes to the list before it.
  await page.goBack();
  await page.waitForURL(/#\/posts$/);
  await page.locator('#range', { hasText: '1–25 of 1,000' }).waitFor();
});

test('deleting the last rows of the last page shows the page before', async () => {
  // An author's posts, at a page size that leaves a short last page.
  const { body: authors } = await api('/authors?_page=1&_perPage=1&_sortField=id');
  const author = authors[0].id;
  const { headers } = await api(`/posts?_page=1&_perPage=1&_filters=${filtersParam({ author_id: author })}`);
  const total = Number(headers.get('x-total-count'));
  const size = [7, 8, 9, 11, 12, 13].find((n) => total > n && total % n !== 0);
  assert.ok(size, `author ${author} has ${total} posts`);
  const lastPage = Math.ceil(total / size);
  await page.goto(`${demo.base}#/posts?page=${lastPage}&perPage=${size}&sort=id&dir=ASC&filters=${filtersParam({ author_id: { eq: author } })}`);
  await page.locator('#range', { hasText: `of ${total}` }).waitFor();
  const onLast = await page.locator('table.list tbody tr').count();
  assert.equal(onLast, total % size);
  await page.check('#select-all');
  await page.click('#delete-selected');
  await page.locator('dialog.confirm[open] button.danger').click();
  await page.waitForURL(new RegExp(`page=${lastPage - 1}&`));
  await listed(page);
  const shown = total - onLast;
  await page.locator('#range', { hasText: `${shown - size + 1}–${shown} of ${shown}` }).waitFor();
  assert.equal(await page.locator('table.list tbody tr').count(), size);
});

test('back to the list finds its page, sort and filters, after an edit too', async () => {
  const listHash = `#/posts?page=3&sort=views&dir=DESC&filters=${filtersParam({ status: { eq: 'published' } })}`;
  await page.goto(`${demo.base}${listHash}`);
  await listed(page);
  const range = await page.locator('#range').innerText();
  const firstRow = await page.locator('table.list tbody tr').first().innerText();
  const first = page.locator('table.list tbody tr td.primary a').first();
  await first.click();
  await page.locator('#edit').click();
  await page.locator('input[name="body"], textarea[name="body"]').first().fill('Edited from page 3');
  await page.click('#save');
  await page.waitForURL(/#\/posts\/\d+$/);
  await page.click('#back-to-list');
  await page.waitForURL((url) => url.hash === listHash);
  await listed(page);
  assert.equal(await page.locator('#range').innerText(), range);
  assert.equal(await page.locator('#filter-status').inputValue(), 'published');
  assert.equal(await page.locator('table.list tbody tr').first().innerText(), firstRow);
  // And after a reload of the record's page (the list's state is kept for the tab).
  await page.locator('table.list tbody tr td.primary a').first().click();
  await page.locator('#back-to-list').waitFor();
  await page.reload();
  await page.click('#back-to-list');
  await page.waitForURL((url) => url.hash === listHash);
});

test('toasts: one for the same message, closable, never over a button, gone on the next page', async () => {
  for (const width of [1280, 375]) {
    await page.setViewportSize({ width, height: 700 });
    await page.goto(`${demo.base}#/posts/create`);
    await page.locator('#save').waitFor();
    for (let i = 0; i < 5; i++) await page.click('#save');
    assert.equal(await page.locator('.toast').count(), 1, 'five failed saves, one toast');
    const toastBox = await page.locator('.toast').boundingBox();
    for (const button of await page.locator('button:visible, a.button:visible').all()) {
      if (await button.evaluate((el) => el.closest('.toast') !== null)) continue;
      const box = await button.boundingBox();
      if (box) assert.ok(!overlap(toastBox, box), `the toast covers "${await button.innerText()}" at ${width} px`);
    }
    // Scrolled to the Save button, it is still in view and uncovered.
    await page.locator('#save').scrollIntoViewIfNeeded();
    await page.click('#save');
    const saveBox = await page.locator('#save').boundingBox();
    assert.ok(!overlap(await page.locator('.toast').boundingBox(), saveBox), `the toast covers Save at ${width} px`);
    await page.screenshot({ path: join(root, 'docs', 'screenshots', `toast-${width}.png`) });
    await page.click('.toast-close');
    assert.equal(await page.locator('.toast').count(), 0);
    await page.click('#save');
    await page.locator('.toast').waitFor();
    if (width === 375) await page.click('.menu-toggle');
    await page.click('#menu a[data-entity="authors"]');
    await listed(page);
    assert.equal(await page.locator('.toast').count(), 0, 'an error belongs to its page');
  }
});

test('the delete question has the focus on Cancel: Enter deletes nothing', async () => {
  await page.goto(`${demo.base}#/posts/21`);
  await page.click('#delete');
  await page.locator('dialog.confirm[open]').waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.id), 'confirm-no');
  await page.keyboard.press('Enter');
  await page.locator('dialog.confirm[open]').waitFor({ state: 'detached' }).catch(() => {});
  assert.equal(await page.locator('dialog.confirm[open]').count(), 0);
  assert.equal((await api('/posts/21')).status, 200);
});

test('"Stay" on unsaved changes keeps history as it was', async () => {
  await page.goto(`${demo.base}#/posts`);
  await listed(page);
  await page.goto(`${demo.base}#/posts/22`);
  await page.locator('#edit').click();
  await page.waitForURL(/#\/posts\/22\/edit$/);
  await page.fill('input[name="title"]', 'Typed, not saved');
  // Each step's question is answered, and the answer awaited, before the next step: a
  // handler left waiting would answer the next question too (a flake in CI).
  const answering = (how, step) => {
    const answered = page.waitForEvent('dialog').then((dialog) => dialog[how]());
    return step().then(() => answered);
  };
  // Back, then Stay: the form, as typed.
  await answering('dismiss', () => page.goBack());
  await page.waitForTimeout(300);
  assert.match(page.url(), /#\/posts\/22\/edit$/);
  assert.equal(await page.inputValue('input[name="title"]'), 'Typed, not saved');
  // A link, then Stay: the same.
  await answering('dismiss', () => page.click('#menu a[data-entity="authors"]'));
  await page.waitForTimeout(300);
  assert.match(page.url(), /#\/posts\/22\/edit$/);
  assert.equal(await page.inputValue('input[name="title"]'), 'Typed, not saved');
  // Back, then Leave: the record's page, and Back again the list (nothing was rewritten).
  await answering('accept', () => page.goBack());
  await page.waitForURL(/#\/posts\/22$/);
  await page.goBack();
  await page.waitForURL(/#\/posts$/);
});

test('counted messages take the plural form of the language', async () => {
  await page.goto(`${demo.base}#/`);
  const forms = await page.evaluate(async () => {
    const { t } = await import(new URL('assets/i18n.js', location.href).href);
    const say = (lang) => {
      document.documentElement.lang = lang;
      return [0, 1, 2].map((n) => t('list.deleted_many', { n }));
    };
    const out = { en: say('en'), fr: say('fr') };
    document.documentElement.lang = 'en';
    return out;
  });
  assert.deepEqual(forms.en, ['0 records deleted.', '1 record deleted.', '2 records deleted.']);
  assert.deepEqual(forms.fr, ['0 enregistrement supprimé.', '1 enregistrement supprimé.', '2 enregistrements supprimés.']);
  // As the app says it after a delete of two.
  await page.goto(`${demo.base}#/comments?perPage=10`);
  await listed(page);
  await page.locator('table.list tbody tr input[type="checkbox"]').nth(0).check();
  await page.locator('table.list tbody tr input[type="checkbox"]').nth(1).check();
  await page.click('#delete-selected');
  assert.match(await page.locator('dialog.confirm[open] .dialog-body').innerText(), /^Delete 2 records\?\s+You can undo it right after\.$/);
  await page.locator('dialog.confirm[open] button.danger').click();
  await page.locator('.toast', { hasText: '2 records deleted.' }).waitFor();
});

test('a language and a theme of one\'s own, kept across reloads', async () => {
  await page.goto(`${demo.base}#/posts`);
  await listed(page);
  assert.equal(await page.locator('#create').innerText(), 'Create');
  await page.selectOption('#language', 'fr');
  await page.locator('#create', { hasText: 'Créer' }).waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'fr');
  assert.equal(await page.locator('label[for="per-page"]').innerText(), 'Lignes par page');
  await page.click('#theme');
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
  assert.equal(await page.getAttribute('#theme', 'aria-pressed'), 'true');
  await page.screenshot({ path: join(root, 'docs', 'screenshots', 'dark.png') });
  await page.reload();
  await listed(page);
  assert.equal(await page.locator('#create').innerText(), 'Créer');
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
  assert.equal(await page.inputValue('#language'), 'fr');
  // Back to English and light.
  await page.selectOption('#language', 'en');
  await page.locator('#create', { hasText: 'Create' }).waitFor();
  await page.click('#theme');
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'light');
});

test('headings name one record in the singular; the history names fields and records', async () => {
  const { body: authors } = await api('/authors?_page=1&_perPage=2&_sortField=id');
  const { body: post } = await api('/posts/23');
  const other = authors.find((a) => a.id !== post.author_id);
  const { body: before } = await api(`/authors/${post.author_id}`);
  assert.equal((await api('/posts/23', { method: 'PATCH', body: JSON.stringify({ author_id: other.id, views: post.views + 1 }) })).status, 200);
  await page.goto(`${demo.base}#/posts/23`);
  await page.locator('main h1', { hasText: 'Post #23' }).waitFor();
  assert.equal(await page.locator('main h1').innerText(), 'Post #23');
  await page.locator('section.history tbody tr').first().waitFor();
  const change = await page.locator('section.history tbody tr').first().innerText();
  assert.match(change, new RegExp(`Author: ${before.name} → ${other.name}`));
  assert.match(change, /Views: [\d,]+ → [\d,]+/);
  await page.click('#edit');
  await page.locator('main h1', { hasText: 'Edit: Post #23' }).waitFor();
});

test('at 375 px the first column and the actions stay in view', async () => {
  await page.setViewportSize({ width: 375, height: 740 });
  await page.goto(`${demo.base}#/posts`);
  await listed(page);
  const inView = async () => {
    for (const selector of ['table.list tbody tr:first-child td.primary', 'table.list tbody tr:first-child td.actions', 'table.list tbody tr:first-child td.select']) {
      const box = await page.locator(selector).boundingBox();
      assert.ok(box.x >= 0 && box.x + box.width <= 375, `${selector} at ${box.x}+${box.width}`);
    }
  };
  await inView();
  const wide = await page.locator('.table-wrap').evaluate((el) => el.scrollWidth > el.clientWidth);
  assert.ok(wide, 'the table is wider than the screen');
  await page.locator('.table-wrap').evaluate((el) => { el.scrollLeft = el.scrollWidth; });
  await page.waitForTimeout(100);
  await inView();
  await page.screenshot({ path: join(root, 'docs', 'screenshots', 'list-375.png') });
});

test('keyboard shortcuts: / searches, c creates, ? lists them', async () => {
  await page.goto(`${demo.base}#/posts`);
  await listed(page);
  await page.keyboard.press('/');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'list-search');
  // Typed in the search box, `c` is a letter.
  await page.keyboard.type('c');
  assert.match(page.url(), /#\/posts/);
  assert.doesNotMatch(page.url(), /create/);
  await page.locator('#list-heading').click();
  await page.keyboard.press('c');
  await page.waitForURL(/#\/posts\/create$/);
  await page.locator('main h1').click();
  await page.keyboard.press('?');
  await page.locator('dialog.confirm[open] .shortcuts').waitFor();
  assert.match(await page.locator('dialog.confirm[open]').innerText(), /Search the list/);
  await page.keyboard.press('Escape');
  assert.equal(await page.locator('dialog.confirm[open]').count(), 0);
});

test('a date range means days of the user\'s time zone', async () => {
  // 11:30 UTC on 1 March is 00:30 on 2 March in Auckland (UTC+13).
  const { body: author } = await api('/authors?_page=1&_perPage=1');
  const created = await api('/posts', {
    method: 'POST',
    body: JSON.stringify({ title: 'Just after midnight in Auckland', author_id: author[0].id, status: 'published', published_at: '2026-03-01T11:30:00Z' }),
  });
  assert.equal(created.status, 201);
  await context.close();
  ({ context, page } = await loggedIn({ timezoneId: 'Pacific/Auckland' }));
  const day = async (date) => {
    await page.goto(`${demo.base}#/posts?q=${encodeURIComponent('Just after midnight')}&filters=${filtersParam({ published_at: { gte: date, lte: date } })}`);
    await page.locator('#range').waitFor();
    await page.waitForTimeout(200);
    return page.locator('table.list tbody tr').count();
  };
  assert.equal(await day('2026-03-02'), 1);
  assert.equal(await day('2026-03-01'), 0);
  assert.equal(await page.locator('#filter-published_at-gte').inputValue(), '2026-03-01');
});

test('a cold load of the posts list: time to the first row, bytes on the wire (reported)', async () => {
  const state = await context.storageState();
  const times = [];
  const inPage = [];
  const bytes = [];
  for (let i = 0; i < 5; i++) {
    const cold = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US', storageState: state });
    const tab = await cold.newPage();
    watch(tab);
    // The page's own clock: from the start of navigation to the first row in the document.
    await tab.addInitScript(() => {
      new MutationObserver((_, observer) => {
        if (!document.querySelector('table.list tbody tr')) return;
        window.firstRowAt = performance.now();
        observer.disconnect();
      }).observe(document, { childList: true, subtree: true });
    });
    const responses = [];
    tab.on('requestfinished', (request) => responses.push(request.sizes().then((s) => s.responseBodySize + s.responseHeadersSize)));
    const started = Date.now();
    await tab.goto(`${demo.base}#/posts`);
    await listed(tab);
    times.push(Date.now() - started);
    inPage.push(Math.round(await tab.evaluate(() => window.firstRowAt)));
    bytes.push((await Promise.all(responses)).reduce((a, b) => a + b, 0));
    await cold.close();
  }
  const median = (values) => [...values].sort((a, b) => a - b)[2];
  console.log(`cold load of #/posts: median ${median(inPage)} ms from navigation to the first row by the page's clock (${inPage.join(', ')}); ${median(times)} ms as the test sees it (${times.join(', ')}); median ${median(bytes)} bytes on the wire`);
  // The app itself, compressed as a browser receives it: under 60 kB.
  const app = await appBytes();
  console.log(`the app compressed: ${app} bytes`);
  assert.ok(app < 60_000, `${app} bytes`);
});

/** The bytes of `url` as sent with gzip (node's http: nothing decompressed on the way). */
function wireBytes(url) {
  return new Promise((resolve, reject) => {
    http.get(url, { headers: { 'Accept-Encoding': 'gzip' } }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => {
        const raw = Buffer.concat(chunks);
        const text = response.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
        resolve({ sent: raw.length, text: text.toString('utf8') });
      });
    }).on('error', reject);
  });
}

/** The app's files (its page, script modules and stylesheet), as a browser receives them. */
async function appBytes() {
  const queue = [demo.base];
  const seen = new Set();
  let total = 0;
  while (queue.length) {
    const url = queue.shift();
    if (seen.has(url)) continue;
    seen.add(url);
    const { sent, text } = await wireBytes(url);
    total += sent;
    for (const match of text.matchAll(/(?:src|href)="(assets\/[^"]+)"|from '(\.{1,2}\/[^']+)'/g)) {
      queue.push(new URL(match[1] ?? match[2], url).href);
    }
  }
  // The page, its stylesheet and the app's one script (its modules joined by the server).
  assert.ok(seen.size >= 3, `${seen.size} files`);
  return total;
}

test('edit selected: the same value on every selected record, in one write', async () => {
  await page.goto(`${demo.base}#/posts?sort=id&dir=ASC&perPage=10`);
  await listed(page);
  const boxes = page.locator('table.list tbody tr td.select input');
  for (const i of [0, 1, 2]) await boxes.nth(i).check();
  const ids = await page.locator('table.list tbody tr td.primary a').evaluateAll((links) => links.slice(0, 3).map((a) => a.getAttribute('href').split('/').pop()));
  assert.equal(await page.locator('#edit-selected').innerText(), 'Edit selected (3)');
  await page.click('#edit-selected');
  await page.locator('dialog.confirm[open] #bulk-title', { hasText: 'Edit 3 records' }).waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.id), 'bulk-add');
  await page.selectOption('#bulk-add', 'views');
  await page.fill('#bulk-views', '-5');
  await page.click('#bulk-apply');
  // Refused in the browser first: the field says why, nothing is sent.
  await page.locator('#bulk-views-error', { hasText: 'Must be at least 0' }).waitFor();
  await page.fill('#bulk-views', '777');
  assert.equal(await page.locator('#bulk-views-error').innerText(), '', 'corrected, the error goes');
  await page.selectOption('#bulk-add', 'status');
  await page.selectOption('#bulk-status', 'archived');
  await page.screenshot({ path: join(root, 'docs', 'screenshots', 'bulk.png') });
  await page.click('#bulk-apply');
  await page.locator('.toast', { hasText: '3 records updated.' }).waitFor();
  assert.equal(await page.locator('dialog.confirm[open]').count(), 0);
  for (const id of ids) {
    const { body } = await api(`/posts/${id}`);
    assert.equal(body.views, 777);
    assert.equal(body.status, 'archived');
  }
  const { body: audit } = await api(`/_audit?_sortField=id&_sortDir=DESC&_perPage=3&_page=1&_filters=${filtersParam({ entity: 'posts', action: 'update' })}`);
  assert.deepEqual(audit.map((a) => a.record_id).sort(), [...ids].sort());
  // The list shows it.
  await listed(page);
  assert.match(await page.locator('table.list tbody tr').first().innerText(), /archived/i);
});

test('actions from the descriptor: Publish on a selection (asked first), Archive on a record', async () => {
  const filters = filtersParam({ status: { eq: 'draft' } });
  await page.goto(`${demo.base}#/posts?sort=id&dir=ASC&filters=${filters}`);
  await listed(page);
  const ids = await page.locator('table.list tbody tr td.primary a').evaluateAll((links) => links.slice(0, 2).map((a) => a.getAttribute('href').split('/').pop()));
  assert.equal(await page.locator('#action-publish').isDisabled(), true);
  for (const i of [0, 1]) await page.locator('table.list tbody tr td.select input').nth(i).check();
  assert.equal(await page.locator('#action-publish').innerText(), 'Publish (2)');
  await page.click('#action-publish');
  await page.locator('dialog.confirm[open] #action-question', { hasText: 'Publish 2 records?' }).waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.id), 'confirm-no');
  await page.locator('dialog.confirm[open] button.danger').click();
  await page.locator('.toast', { hasText: 'Publish: 2 records changed.' }).waitFor();
  for (const id of ids) {
    const { body } = await api(`/posts/${id}`);
    assert.equal(body.status, 'published');
    assert.ok(Date.now() - Date.parse(body.published_at) < 60_000, body.published_at);
  }
  // The list (of drafts) no longer shows them, once drawn again.
  await page.waitForFunction((published) => {
    const shown = [...document.querySelectorAll('table.list tbody tr td.primary a')].map((a) => a.innerText);
    return shown.length > 0 && !published.some((id) => shown.includes(id));
  }, ids);
  // On a record's page, Archive asks nothing.
  await page.goto(`${demo.base}#/posts/${ids[0]}`);
  await page.click('#action-archive');
  await page.locator('.toast', { hasText: 'Archive: 1 record changed.' }).waitFor();
  await page.locator('dd[data-field="status"]', { hasText: 'archived' }).waitFor();
  // Its history says which action.
  await page.locator('section.history tbody tr').first().waitFor();
  assert.match(await page.locator('section.history tbody tr').first().innerText(), /Status: published → archived/);
});

test('a cell edited in place: Enter saves, Esc cancels, errors at the cell, a change made meanwhile is kept', async () => {
  await page.goto(`${demo.base}#/posts?sort=id&dir=ASC`);
  await listed(page);
  const row = page.locator('table.list tbody tr').nth(4);
  const id = (await row.locator('td.primary a').innerText()).trim();
  const before = (await api(`/posts/${id}`)).body.status;
  const next = before === 'archived' ? 'draft' : 'archived';
  // Double-click, choose, Enter: saved, and the cell has the focus again.
  const status = row.locator('td[data-field="status"]');
  await status.dblclick();
  await status.locator('select').selectOption(next);
  await status.locator('select').press('Enter');
  await status.locator('select').waitFor({ state: 'detached' });
  assert.equal((await status.innerText()).trim(), next);
  assert.equal((await api(`/posts/${id}`)).body.status, next);
  assert.equal(await page.evaluate(() => document.activeElement.dataset.field), 'status');
  // By keyboard: Enter opens it, Esc cancels.
  await page.keyboard.press('Enter');
  await status.locator('select').selectOption(before);
  await page.keyboard.press('Escape');
  await status.locator('select').waitFor({ state: 'detached' });
  assert.equal((await status.innerText()).trim(), next);
  assert.equal((await api(`/posts/${id}`)).body.status, next);
  // An error shows at the cell: the title is required.
  const title = row.locator('td[data-field="title"]');
  await title.dblclick();
  await title.locator('input').fill('');
  await title.locator('input').press('Enter');
  await title.locator('.field-error', { hasText: 'Is required' }).waitFor();
  await title.locator('input').press('Escape');
  // Changed by someone else meanwhile: refused at the cell, their change kept.
  await title.dblclick();
  await title.locator('input').waitFor();
  await api(`/posts/${id}`, { method: 'PATCH', body: JSON.stringify({ title: 'Changed in another tab' }) });
  await title.locator('input').fill('Changed in place');
  await title.locator('input').press('Enter');
  await title.locator('.field-error', { hasText: 'Changed meanwhile' }).waitFor();
  assert.equal((await api(`/posts/${id}`)).body.title, 'Changed in another tab');
  await page.screenshot({ path: join(root, 'docs', 'screenshots', 'cell.png') });
});

test('active filters read as chips with labels, each removable', async () => {
  const { body: author } = await api('/authors/3');
  const filters = filtersParam({ status: { eq: 'published' }, author_id: { eq: 3 }, views: { gte: 10, lte: 5000 } });
  await page.goto(`${demo.base}#/posts?filters=${filters}`);
  await page.locator('.filter-chips').waitFor();
  assert.deepEqual(await page.locator('.filter-chips .chip span').allInnerTexts(),
    ['Status: published', `Author: ${author.name}`, 'Views: 10 to 5,000']);
  await page.click('#chip-remove-author_id');
  await page.waitForURL((url) => !decodeURIComponent(url.hash).includes('author_id'));
  await page.locator('.filter-chips .chip', { hasText: 'Author' }).waitFor({ state: 'detached' });
  // A pinned filter's chip clears it; the filter stays in the bar.
  await page.click('#chip-remove-status');
  await page.locator('.filter-chips .chip', { hasText: 'Status' }).waitFor({ state: 'detached' });
  assert.equal(await page.inputValue('#filter-status'), '');
  assert.deepEqual(await page.locator('.filter-chips .chip span').allInnerTexts(), ['Views: 10 to 5,000']);
});

test('changes made while the list loads add up: a sort and a filter clicked before the filtered rows came keep the filter', async () => {
  await page.goto(`${demo.base}#/posts`);
  await listed(page);
  // The filtered list's answers are held: the list shown stays the unfiltered one meanwhile.
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  await page.route(/\/admin\/api\/posts\?/, async (route) => {
    if (route.request().url().includes('published')) await held;
    await route.continue();
  });
  await page.locator('#filter-status').selectOption('published');
  await page.waitForFunction(() => location.hash.includes('published'));
  await page.click('#sort-title');
  await page.waitForFunction(() => location.hash.includes('sort=title'));
  await page.locator('#add-filter').selectOption('views');
  await page.waitForFunction(() => location.hash.includes('views'));
  const hash = decodeURIComponent(new URL(page.url()).hash);
  assert.ok(hash.includes('"status":{"eq":"published"}'), hash);
  assert.ok(hash.includes('sort=title'), hash);
  release();
  await page.locator('#filter-views-gte').waitFor();
  assert.equal(await page.inputValue('#filter-status'), 'published');
  const statuses = await page.locator('table.list tbody tr td[data-field="status"]').allInnerTexts();
  assert.ok(statuses.length > 0 && statuses.every((s) => s === 'published'), statuses.join());
  await page.unroute(/\/admin\/api\/posts\?/);
});

test('markdown is edited with a preview and shown rendered, as DOM, with safe links only; JSON is checked as typed', async () => {
  const text = '# Release notes\n\nSome **bold** and _soft_ words, `code`, a [site](https://example.com/a) and a [trap](javascript:alert(1)).\n\n- one\n- two\n\n<script>window.pwned = 1</script>';
  await page.goto(`${demo.base}#/posts/24/edit`);
  await page.locator('#f-body').fill(text);
  await page.click('#f-body-preview-toggle');
  const preview = page.locator('#f-body-preview');
  await preview.locator('h3', { hasText: 'Release notes' }).waitFor();
  assert.equal(await preview.locator('strong').innerText(), 'bold');
  assert.equal(await preview.locator('em').innerText(), 'soft');
  assert.deepEqual(await preview.locator('a').evaluateAll((as) => as.map((a) => a.href)), ['https://example.com/a']);
  assert.deepEqual(await preview.locator('li').allInnerTexts(), ['one', 'two']);
  // Typing updates it.
  await page.locator('#f-body').press('End');
  await page.locator('#f-body').type('\n\n## More');
  await preview.locator('h4', { hasText: 'More' }).waitFor();
  await page.click('#save');
  await page.waitForURL(/#\/posts\/24$/);
  const body = page.locator('dd[data-field="body"] .markdown');
  await body.locator('h3', { hasText: 'Release notes' }).waitFor();
  assert.equal(await body.locator('a').count(), 1);
  assert.match(await body.innerText(), /trap/);
  assert.match(await body.innerText(), /<script>window\.pwned = 1<\/script>/, 'HTML stays text');
  assert.equal(await page.evaluate(() => window.pwned), undefined);
  assert.equal(await page.locator('dd[data-field="body"] script').count(), 0);
  // A JSON field's editor says at once when the text is not JSON.
  const message = await page.evaluate(async () => {
    const { fieldWidget } = await import(new URL('assets/widgets.js', location.href).href);
    const widget = fieldWidget({ name: 'meta', label: 'Meta', type: 'json' }, null, { mode: 'create', idPrefix: 'probe', onChange: () => {} });
    document.body.append(widget.element);
    widget.input.value = '{"a": ';
    widget.input.dispatchEvent(new Event('input'));
    const broken = document.getElementById('probe-meta-error').textContent;
    widget.input.value = '{"a": 1}';
    widget.input.dispatchEvent(new Event('input'));
    const fixed = document.getElementById('probe-meta-error').textContent;
    widget.element.remove();
    return { broken, fixed };
  });
  assert.deepEqual(message, { broken: 'Must be valid JSON', fixed: '' });
});

test('the dashboard draws the panels the config declares, by label, each linking to its records', async () => {
  const count = (await api(`/posts?_page=1&_perPage=1&_filters=${filtersParam({ status: 'published' })}`)).headers.get('x-total-count');
  await page.goto(`${demo.base}#/`);
  const panels = page.locator('section.panel');
  await page.locator('.panel-series svg.chart').waitFor();
  assert.deepEqual(await panels.locator('h2').allInnerTexts(),
    ['Published posts', 'Posts by status', 'Posts published per month', 'Most read authors (views)', 'Latest comments']);
  // The number, linking to the list it counts.
  assert.equal((await page.locator('.panel-count .panel-number').innerText()).replace(/\D/g, ''), count);
  // Bars by status, biggest first; authors by name, never by id.
  const statuses = await page.locator('.panel-groups').first().locator('.bar-label').allInnerTexts();
  const byStatus = (await api('/posts/aggregate?group_by=status')).body;
  assert.deepEqual(statuses, byStatus.map((g) => g.key));
  const authors = await page.locator('.panel-groups').nth(1).locator('.bar-label').allInnerTexts();
  assert.equal(authors.length, 5);
  for (const name of authors) assert.match(name, /^[A-Z][a-z]+ [A-Z][a-z]+$/, 'an author by name');
  // The series: a bar per month, with a summary for screen readers.
  const months = (await api('/posts/aggregate?group_by=published_at&bucket=month&limit=12')).body;
  assert.equal(await page.locator('.panel-series rect.chart-bar').count(), months.length);
  assert.match(await page.locator('.panel-series svg').getAttribute('aria-label'), new RegExp(`${months.length} periods from ${months[0].key} to ${months.at(-1).key}`));
  // The latest comments, by what they say, not by id.
  assert.equal(await page.locator('.panel-latest li').count(), 5);
  assert.doesNotMatch(await page.locator('.panel-latest li').first().innerText(), /^\d+$/);
  await page.screenshot({ path: join(root, 'docs', 'screenshots', 'dashboard.png') });
  // A bar leads to its records.
  await page.locator('.panel-groups').first().locator('.bar-label a').first().click();
  await page.waitForURL(/#\/posts\?filters=/);
  await page.locator('#filter-status').waitFor();
  assert.equal(await page.inputValue('#filter-status'), byStatus[0].key);
});

test('the column chooser shows, hides and moves columns, kept across reloads', async () => {
  await page.goto(`${demo.base}#/posts`);
  await listed(page);
  const headers = () => page.locator('table.list thead th').evaluateAll((ths) => ths.slice(1, -1).map((th) => th.innerText.replace(/[▲▼]/g, '').trim()));
  assert.deepEqual(await headers(), ['Id', 'Title', 'Status', 'Author', 'Tags', 'Published at']);
  await page.click('#columns-toggle');
  const shows = (names) => page.waitForFunction((expected) => {
    const shown = [...document.querySelectorAll('table.list thead th')].slice(1, -1).map((th) => th.innerText.replace(/[▲▼]/g, '').trim());
    return JSON.stringify(shown) === JSON.stringify(expected);
  }, names);
  await page.uncheck('#column-tags');
  await shows(['Id', 'Title', 'Status', 'Author', 'Published at']);
  assert.equal(await page.getAttribute('#columns-toggle', 'aria-expanded'), 'true', 'the panel stays open');
  await page.click('#column-status-up');
  await shows(['Id', 'Status', 'Title', 'Author', 'Published at']);
  await page.check('#column-views');
  await shows(['Id', 'Status', 'Title', 'Author', 'Published at', 'Views']);
  // By keyboard too: the focus stays on the button pressed.
  await page.focus('#column-views-up');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => [...document.querySelectorAll('table.list thead th')].at(-3)?.innerText.startsWith('Views'));
  assert.deepEqual(await headers(), ['Id', 'Status', 'Title', 'Author', 'Views', 'Published at']);
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'column-views-up');
  await page.reload();
  await listed(page);
  assert.deepEqual(await headers(), ['Id', 'Status', 'Title', 'Author', 'Views', 'Published at']);
  await page.click('#columns-toggle');
  await page.click('#columns-reset');
  await page.locator('table.list thead th', { hasText: 'Tags' }).waitFor();
  assert.deepEqual(await headers(), ['Id', 'Title', 'Status', 'Author', 'Tags', 'Published at']);
});

test('server errors read in the app\'s language, by their code', async () => {
  await page.goto(`${demo.base}#/posts`);
  await listed(page);
  await page.selectOption('#language', 'fr');
  await page.locator('#create', { hasText: 'Créer' }).waitFor();
  // A tag that exists already: a conflict, said in French; the field says which.
  await page.goto(`${demo.base}#/tags/create`);
  await page.locator('input[name="name"]').fill('rust');
  await page.click('#save');
  await page.locator('.toast-error', { hasText: 'Conflit avec un autre enregistrement' }).waitFor();
  assert.equal(await page.locator('.field-string .field-error').innerText(), 'Un autre enregistrement a déjà cette valeur');
  assert.match(await page.locator('.toast-error').innerText(), /Identifiant de requête|request/i);
  // Deleted meanwhile by someone else: the delete says so in French.
  const { body: tag } = await api('/tags', { method: 'POST', body: JSON.stringify({ name: 'short-lived' }) });
  // Leave the form and its typing, if the app asks; a handler left behind would answer a
  // dialog of the page's closing after the test.
  const leave = (dialog) => dialog.accept().catch(() => {});
  page.once('dialog', leave);
  await page.goto(`${demo.base}#/tags/${tag.id}`);
  await page.locator('#delete').waitFor();
  page.off('dialog', leave);
  await api(`/tags/${tag.id}`, { method: 'DELETE' });
  await page.click('#delete');
  await page.locator('dialog.confirm[open] button.danger').click();
  await page.locator('.toast-error', { hasText: 'n’existe pas' }).waitFor();
  await page.selectOption('#language', 'en');
});
