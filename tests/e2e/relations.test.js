// Relations in a real browser: the combobox that picks records of another entity, in forms
// and in filters, by keyboard and by mouse.
//
//   AUTOADMIN_BIN=target/debug/autoadmin node --test tests/e2e/relations.test.js
import { test, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startDemo, launchBrowser } from './demo.js';

let demo;
let browser;
let context;
let page;
let errors;

before(async () => {
  demo = await startDemo('relations-demo-pass');
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  demo?.stop();
});

beforeEach(async () => {
  context = await browser.newContext({
    viewport: { width: 1280, height: 900 }, locale: 'en-US',
    extraHTTPHeaders: { Authorization: `Bearer ${demo.token}` },
  });
  page = await context.newPage();
  errors = [];
  page.on('pageerror', (error) => errors.push(String(error)));
  page.on('console', (message) => {
    if (message.type() === 'error' && !/status of 4\d\d/.test(message.text())) errors.push(message.text());
  });
});

afterEach(async () => {
  await context.close();
  assert.deepEqual(errors, [], 'no script errors');
});

const api = async (path, init = {}) => {
  const response = await fetch(`${demo.api}${path}`, {
    ...init, headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${demo.token}`, ...(init.headers ?? {}) },
  });
  return { status: response.status, headers: response.headers, body: await response.json().catch(() => null) };
};
const total = async (path) => Number((await api(path)).headers.get('X-Total-Count'));
const range = () => page.locator('#range').innerText();
const highlighted = (id) => page.locator(`#${id}-listbox [role="option"][aria-selected="true"]`);

test('a reference filter offers choices, filters by one, and shows its label after a reload', async () => {
  await page.goto(`${demo.base}#/posts`);
  await page.locator('#range').waitFor();
  await page.selectOption('#add-filter', 'author_id');
  const box = page.locator('#filter-author_id');
  await box.waitFor();
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'filter-author_id', 'focus moves to the new filter');
  // Choices without typing: the arrow opens the list.
  await box.press('ArrowDown');
  await highlighted('filter-author_id').waitFor();
  assert.ok(await page.locator('#filter-author_id-listbox [role="option"]').count() > 1, 'the filter offers choices');
  assert.equal(await box.getAttribute('aria-expanded'), 'true');
  // Typing narrows; the second match by arrow, Enter picks it.
  await box.pressSequentially('love');
  await page.waitForFunction(() => [...document.querySelectorAll('#filter-author_id-listbox [role="option"]')].every((li) => /love/i.test(li.innerText)));
  const options = await page.locator('#filter-author_id-listbox [role="option"]').allInnerTexts();
  assert.ok(options.length >= 2, options.join(' | '));
  await box.press('ArrowDown');
  const chosen = await highlighted('filter-author_id').innerText();
  assert.equal(chosen, options[1]);
  await box.press('Enter');
  const key = Number(chosen.match(/#(\d+)$/)[1]);
  await page.waitForURL(/filters=/);
  const want = await total(`/posts?_page=1&_perPage=1&_filters=${encodeURIComponent(JSON.stringify({ author_id: key }))}`);
  await page.waitForFunction((n) => (document.getElementById('range')?.innerText ?? '').endsWith(`of ${n}`), want);
  const name = chosen.replace(/ #\d+$/, '');
  for (const cell of await page.locator('table.list tbody tr td:nth-child(5)').allInnerTexts()) assert.equal(cell, name);
  // A filter that comes from the URL shows its label, not "Any".
  await page.reload();
  await page.waitForFunction((n) => document.getElementById('filter-author_id')?.value === n, name);
  assert.match(await range(), new RegExp(`of ${want}$`));
  // Clear: any author again.
  await page.click('button[aria-label="Clear Author"]');
  await page.waitForFunction(() => /of 1,000$/.test(document.getElementById('range')?.innerText ?? ''));
  // Back: the author's filter again, with its label.
  await page.goBack();
  await page.waitForFunction((n) => document.getElementById('filter-author_id')?.value === n, name);
});

test('the combobox by keyboard only in a form: arrows wrap, Esc closes then restores, Enter picks and never submits', async () => {
  const before = (await api('/posts/3')).body;
  await page.goto(`${demo.base}#/posts/3/edit`);
  const box = page.locator('#f-author_id');
  await page.waitForFunction(() => /[a-z]/i.test(document.getElementById('f-author_id')?.value ?? ''));
  const stored = await box.inputValue();
  await page.focus('input[name="title"]');
  // Tab order: title, body, its markdown preview button, status, then the author's combobox.
  for (let i = 0; i < 4; i++) await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'f-author_id');
  await page.keyboard.press('Control+A');
  await page.keyboard.type('Hopper');
  await highlighted('f-author_id').waitFor();
  const matches = await page.locator('#f-author_id-listbox [role="option"]').allInnerTexts();
  assert.ok(matches.every((m) => /hopper/i.test(m)), matches.join(' | '));
  // Up from the first wraps to the last; down wraps back to the first.
  await page.keyboard.press('ArrowUp');
  assert.equal(await highlighted('f-author_id').innerText(), matches.at(-1));
  await page.keyboard.press('ArrowDown');
  assert.equal(await highlighted('f-author_id').innerText(), matches[0]);
  assert.equal(await box.getAttribute('aria-activedescendant'), 'f-author_id-option-0');
  // Esc closes the list; Esc again puts back the stored author.
  await page.keyboard.press('Escape');
  assert.equal(await box.getAttribute('aria-expanded'), 'false');
  assert.equal(await box.inputValue(), 'Hopper');
  await page.keyboard.press('Escape');
  assert.equal(await box.inputValue(), stored);
  // Type again, Enter picks the first match, and the form stays.
  await page.keyboard.press('Control+A');
  await page.keyboard.type('Hopper');
  await highlighted('f-author_id').waitFor();
  await page.keyboard.press('Enter');
  assert.equal(await box.inputValue(), matches[0].replace(/ #\d+$/, ''));
  assert.match(page.url(), /\/posts\/3\/edit$/, 'Enter picks, it does not submit');
  // Enter with the list closed does not submit either.
  await page.keyboard.press('Enter');
  await page.waitForTimeout(300);
  assert.match(page.url(), /\/posts\/3\/edit$/);
  // Saving is the form's button; only the author changed.
  await page.click('#save');
  await page.waitForURL(/#\/posts\/3$/);
  const after = (await api('/posts/3')).body;
  assert.equal(after.author_id, Number(matches[0].match(/#(\d+)$/)[1]));
  assert.equal(after.title, before.title);
});

test('the combobox by mouse, and typing that picks nothing changes nothing', async () => {
  await page.goto(`${demo.base}#/comments/create`);
  const box = page.locator('#f-post_id');
  await box.waitFor();
  await box.click();
  await box.pressSequentially('queries');
  await highlighted('f-post_id').waitFor();
  const third = page.locator('#f-post_id-listbox [role="option"]').nth(2);
  const text = await third.innerText();
  await third.click();
  assert.equal(await box.inputValue(), text.replace(/ #\d+$/, ''));
  assert.equal(await box.getAttribute('aria-expanded'), 'false');
  // Typing something else and leaving keeps the pick (and its label).
  await box.fill('zzz no such post');
  await page.focus('input[name="author_name"]');
  assert.equal(await box.inputValue(), text.replace(/ #\d+$/, ''));
  await page.fill('input[name="author_name"]', 'Mouse user');
  await page.fill('textarea[name="body"]', 'Picked with a click.');
  await page.click('#save');
  await page.waitForURL(/#\/comments\/\d+$/);
  const id = page.url().split('/').pop();
  assert.equal((await api(`/comments/${id}`)).body.post_id, Number(text.match(/#(\d+)$/)[1]));
  // A required reference left empty is the form's error, at the field.
  await page.goto(`${demo.base}#/comments/create`);
  await page.locator('#f-post_id').waitFor();
  await page.fill('input[name="author_name"]', 'x');
  await page.fill('textarea[name="body"]', 'y');
  await page.click('#save');
  assert.equal(await page.locator('.field-reference .field-error').innerText(), 'Is required');
});

test('the combobox at 375 px', async () => {
  await page.setViewportSize({ width: 375, height: 800 });
  await page.goto(`${demo.base}#/posts/create`);
  const box = page.locator('#f-author_id');
  await box.waitFor();
  await box.pressSequentially('a');
  await highlighted('f-author_id').waitFor();
  const list = await page.locator('#f-author_id-listbox').boundingBox();
  assert.ok(list.x >= 0 && list.x + list.width <= 375, `the list fits the screen: ${JSON.stringify(list)}`);
  await page.screenshot({ path: '/tmp/combobox-375.png' });
});

/** Types `name` into the combobox `id`, moves down to the match called exactly that, and
 * picks it with Enter. */
async function pickByKeyboard(id, name) {
  await page.locator(`#${id}`).pressSequentially(name);
  await page.waitForFunction(([i, n]) => [...document.querySelectorAll(`#${i}-listbox [role="option"]`)].some((o) => o.innerText.startsWith(`${n} #`)), [id, name]);
  for (let i = 0; i < 20; i++) {
    const text = await page.locator(`#${id}-listbox [aria-selected="true"]`).innerText();
    if (text.startsWith(`${name} #`)) break;
    await page.press(`#${id}`, 'ArrowDown');
  }
  await page.press(`#${id}`, 'Enter');
}

/** The ids and names of the demo's tags. */
const tagIds = async () => new Map((await api('/tags?_perPage=100')).body.map((t) => [t.name, t.id]));

test('a post with three tags and two inline comments in one save; a tag removed, a comment edited, another removed', async () => {
  const tags = await tagIds();
  await page.goto(`${demo.base}#/posts/create`);
  await page.locator('#f-title').waitFor();
  await page.fill('#f-title', 'Tagged in the browser');
  await page.locator('#f-author_id').pressSequentially('Ada');
  await highlighted('f-author_id').waitFor();
  await page.press('#f-author_id', 'Enter');
  const box = page.locator('#f-tags');
  for (const name of ['rust', 'sql', 'web']) {
    await pickByKeyboard('f-tags', name);
    assert.equal(await box.inputValue(), '', 'the input empties after a pick');
  }
  assert.deepEqual(await page.locator('.field-many .chip span').allInnerTexts(), ['rust', 'sql', 'web']);
  // Two comments, in the same form.
  for (const [author, text] of [['Kim', 'First, inline.'], ['Lee', 'Second, inline.']]) {
    await page.click('#f-comments-add');
    const row = page.locator('#f-comments tbody tr').last();
    await row.locator('input[name="author_name"]').fill(author);
    await row.locator('textarea[name="body"]').fill(text);
  }
  // A chosen tag is not offered again.
  await box.pressSequentially('r');
  await highlighted('f-tags').waitFor();
  assert.ok(!(await page.locator('#f-tags-listbox [role="option"]').allInnerTexts()).some((o) => o.startsWith('rust ')));
  await box.press('Escape');
  await box.fill('');
  await page.click('#save');
  await page.waitForURL(/#\/posts\/\d+$/);
  const id = page.url().split('/').pop();
  const stored = (await api(`/posts/${id}`)).body;
  assert.deepEqual(stored.tags, ['rust', 'sql', 'web'].map((n) => tags.get(n)).sort((a, b) => a - b));
  assert.deepEqual(stored.comments.map((c) => [c.author_name, c.body]), [['Kim', 'First, inline.'], ['Lee', 'Second, inline.']]);
  // One request wrote it all, in one transaction: its audit rows share the request.
  const created = (await api(`/_audit?_filters=${encodeURIComponent(JSON.stringify({ entity: 'posts', record_id: id, action: 'create' }))}`)).body[0];
  const together = (await api(`/_audit?_filters=${encodeURIComponent(JSON.stringify({ request_id: created.request_id }))}`)).body;
  assert.deepEqual(together.map((r) => r.entity).sort(), ['comments', 'comments', 'posts']);
  // The show page lists them by name, linked.
  assert.equal(await page.locator('dd[data-field="tags"]').innerText(), 'rust, sql, web');
  // Edit: remove sql by its button, web by Backspace in the empty input, edit the first
  // comment, remove the second.
  await page.click('#edit');
  await page.locator('.field-many .chip').first().waitFor();
  await page.click('button[aria-label="Remove sql"]');
  await page.focus('#f-tags');
  await page.keyboard.press('Backspace');
  assert.deepEqual(await page.locator('.field-many .chip span').allInnerTexts(), ['rust']);
  const rows = page.locator('#f-comments tbody tr');
  await rows.first().locator('textarea[name="body"]').fill('First, edited.');
  await rows.nth(1).getByRole('button', { name: /^Remove Comments row/ }).click();
  assert.equal(await rows.count(), 1);
  await page.click('#save');
  await page.waitForURL(new RegExp(`#/posts/${id}$`));
  const edited = (await api(`/posts/${id}`)).body;
  assert.deepEqual(edited.tags, [tags.get('rust')]);
  assert.deepEqual(edited.comments.map((c) => [c.id, c.body]), [[stored.comments[0].id, 'First, edited.']]);
  assert.equal((await api(`/comments/${stored.comments[1].id}`)).status, 404);
  // The audit log says what the set was and is; each comment has its own row.
  const audit = (await api(`/_audit?_sortField=id&_sortDir=DESC&_filters=${encodeURIComponent(JSON.stringify({ entity: 'posts', record_id: id, action: 'update' }))}`)).body;
  assert.deepEqual(audit[0].after, { tags: [tags.get('rust')] });
  const comment = (await api(`/_audit?_sortField=id&_sortDir=DESC&_filters=${encodeURIComponent(JSON.stringify({ entity: 'comments', record_id: String(stored.comments[0].id) }))}`)).body;
  assert.deepEqual(comment[0].after, { body: 'First, edited.' });
});

test('a bad inline comment shows its error at its cell, from the form and from the server', async () => {
  await page.goto(`${demo.base}#/posts/11/edit`);
  await page.locator('#f-comments').waitFor();
  const before = (await api('/posts/11')).body.comments.length;
  await page.click('#f-comments-add');
  const row = page.locator('#f-comments tbody tr').last();
  await row.locator('input[name="author_name"]').fill('Nobody');
  // No body: the form says so at the cell, and sends nothing.
  await page.click('#save');
  await row.locator('.field-error', { hasText: 'Is required' }).waitFor();
  assert.match(page.url(), /\/posts\/11\/edit$/);
  // Too long for the server (a value set by a script, past the input's own limit): its 422
  // comes back at the cell of the row it names.
  await row.locator('textarea[name="body"]').fill('Fine.');
  await row.locator('input[name="author_name"]').evaluate((input) => {
    input.value = 'x'.repeat(150);
    input.dispatchEvent(new Event('input', { bubbles: true }));
  });
  await page.click('#save');
  const error = row.locator('.field-error', { hasText: 'at most 100' });
  await error.waitFor();
  assert.equal(await page.evaluate(() => document.activeElement?.name), 'author_name', 'the error\'s field has the focus');
  assert.equal((await api('/posts/11')).body.comments.length, before, 'nothing was written');
  await page.screenshot({ path: '/tmp/inline-error.png' });
});

test('the list filters by tag, and the filter keeps its chips after a reload', async () => {
  const tags = await tagIds();
  await page.goto(`${demo.base}#/posts`);
  await page.locator('#range').waitFor();
  await page.selectOption('#add-filter', 'tags');
  const box = page.locator('#filter-tags');
  await box.waitFor();
  await pickByKeyboard('filter-tags', 'ops');
  await page.waitForURL(/filters=/);
  const want = await total(`/posts?_page=1&_perPage=1&_filters=${encodeURIComponent(JSON.stringify({ tags: tags.get('ops') }))}`);
  assert.ok(want > 0 && want < 1000);
  await page.waitForFunction((n) => (document.getElementById('range')?.innerText ?? '').endsWith(`of ${n}`), want);
  await page.waitForFunction(() => [...document.querySelectorAll('table.list tbody tr td:nth-child(6)')].every((td) => /ops/.test(td.innerText)));
  await page.reload();
  await page.waitForFunction(() => [...document.querySelectorAll('.filter .chip span')].map((s) => s.innerText).join() === 'ops');
  assert.match(await range(), new RegExp(`of ${want}$`));
  // A second tag: any of the two.
  await pickByKeyboard('filter-tags', 'rust');
  const either = await total(`/posts?_page=1&_perPage=1&_filters=${encodeURIComponent(JSON.stringify({ tags: [tags.get('ops'), tags.get('rust')] }))}`);
  await page.waitForFunction((n) => (document.getElementById('range')?.innerText ?? '').endsWith(`of ${n}`), either);
  await page.screenshot({ path: '/tmp/tags-filter.png' });
});

test('related lists page and sort on their own; "Add here" fills the reference and comes back', async () => {
  // An author's posts under the author's page: sorted by title, both ways, then paged.
  const author = (await api('/authors/3')).body;
  const want = await total(`/posts?_page=1&_perPage=1&_filters=${encodeURIComponent(JSON.stringify({ author_id: 3 }))}`);
  assert.ok(want > 10, 'more than a page');
  await page.goto(`${demo.base}#/authors/3`);
  const section = page.locator('section.related').filter({ has: page.locator('h2', { hasText: 'Posts' }) });
  await section.locator('tbody tr').first().waitFor();
  await section.locator('#rel-posts-sort-title').click();
  await page.waitForFunction(() => document.querySelector('#rel-posts-sort-title')?.closest('th')?.getAttribute('aria-sort') === 'ascending');
  const titles = await section.locator('tbody tr td:nth-child(2)').allInnerTexts();
  assert.deepEqual(titles, [...titles].sort(), 'ascending by title');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'rel-posts-sort-title', 'the focus stays on the header');
  await section.locator('#rel-posts-sort-title').click();
  await page.waitForFunction(() => document.querySelector('#rel-posts-sort-title')?.closest('th')?.getAttribute('aria-sort') === 'descending');
  const down = await section.locator('tbody tr td:nth-child(2)').allInnerTexts();
  assert.deepEqual(down, [...down].sort().reverse(), 'descending by title');
  await section.locator('#rel-posts-next').click();
  await page.waitForFunction((n) => document.querySelector('section.related .range')?.innerText === `11–${Math.min(20, n)} of ${n}`, want);
  // The edit page has the same list under its form.
  await page.goto(`${demo.base}#/authors/3/edit`);
  await page.locator('#rel-posts-create').waitFor();
  // "New Post here": the post's form with its author filled in; saved, back to the author.
  await page.goto(`${demo.base}#/authors/3`);
  await page.click('#rel-posts-create');
  await page.waitForURL(/#\/posts\/create\?/);
  await page.waitForFunction((name) => document.getElementById('f-author_id')?.value === name, author.name);
  await page.fill('#f-title', 'Added from the author');
  await page.click('#save');
  await page.waitForURL(/#\/authors\/3$/);
  assert.equal(await total(`/posts?_page=1&_perPage=1&_filters=${encodeURIComponent(JSON.stringify({ author_id: 3 }))}`), want + 1);
  const added = (await api(`/posts?_sortField=id&_sortDir=DESC&_perPage=1`)).body[0];
  assert.equal(added.title, 'Added from the author');
  assert.equal(added.author_id, 3);
});

test('a multi-choice field: checkboxes in the form, "holds any" in the list', async () => {
  await page.goto(`${demo.base}#/authors/3/edit`);
  const group = page.getByRole('group', { name: 'Topics' });
  await group.waitFor();
  const before = (await api('/authors/3')).body.topics;
  // By keyboard: Tab to the boxes, Space checks.
  await group.getByLabel('databases').focus();
  await page.keyboard.press('Space');
  await group.getByLabel('systems').check();
  await group.getByLabel('networks').uncheck();
  await page.click('#save');
  await page.waitForURL(/#\/authors\/3$/);
  const after = (await api('/authors/3')).body.topics;
  assert.deepEqual(after, ['databases', 'systems'], `was ${before}`);
  assert.equal(await page.locator('dd[data-field="topics"]').innerText(), 'databases, systems');
  // The list: authors who write about compilers or networks.
  await page.goto(`${demo.base}#/authors`);
  await page.locator('#range').waitFor();
  await page.selectOption('#add-filter', 'topics');
  await page.getByRole('group', { name: 'Topics' }).getByLabel('compilers').check();
  await page.waitForURL(/filters=/);
  await page.getByRole('group', { name: 'Topics' }).getByLabel('networks').check();
  const want = await total(`/authors?_page=1&_perPage=1&_filters=${encodeURIComponent(JSON.stringify({ topics: { any: ['compilers', 'networks'] } }))}`);
  await page.waitForFunction((n) => (document.getElementById('range')?.innerText ?? '').endsWith(`of ${n}`), want);
  for (const cell of await page.locator('table.list tbody tr td:nth-child(5)').allInnerTexts()) {
    assert.match(cell, /compilers|networks/);
  }
});
