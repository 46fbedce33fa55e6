// Single sign-on as a person uses it: the login page offers the provider's button; its own
// login page (a real OpenID provider, tests/oidc/provider.js) takes the account; the app
// opens as that user, with the role their groups give; logging out ends the session here;
// a user whose groups give no role is told so on the login page. With no WCAG 2.1 AA
// violation, at 1280 and 375 px.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { root, launchBrowser, watchErrors, serveBlog, violations } from './demo.js';

const bin = process.env.AUTOADMIN_BIN ?? join(root, 'target', 'debug', 'autoadmin');
const work = mkdtempSync(join(tmpdir(), 'autoadmin-sso-'));
const port = 19700 + Math.floor(Math.random() * 90);
const providerPort = port + 100;
const base = `http://127.0.0.1:${port}/admin/`;
let server;
let provider;
let browser;

/** Starts the provider; resolves to its issuer once it listens. */
function startProvider(redirect) {
  provider = spawn('node', ['provider.js', String(providerPort), redirect], {
    cwd: join(root, 'tests', 'oidc'), stdio: ['pipe', 'pipe', 'ignore'],
  });
  const lines = createInterface({ input: provider.stdout });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the provider did not start')), 20_000);
    lines.on('line', (line) => {
      if (line.startsWith('ready ')) {
        clearTimeout(timer);
        resolve(line.slice('ready '.length));
      }
    });
  });
}

before(async () => {
  const issuer = await startProvider(`${base}api/login/oidc/callback`);
  const hash = execFileSync(bin, ['hash-password'], { input: 'root-pass-123\n' }).toString().trim();
  const config = `${readFileSync(join(root, 'config/blog.toml'), 'utf8')}
[auth]

  [[auth.role]]
  name = "writer"
  permissions = { posts = { actions = ["view", "edit"], where = { author_id = "$user.author" } }, authors = ["view"] }

  [[auth.user]]
  name = "root"
  role = "admin"
  password_hash = "${hash}"

  [auth.oidc]
  issuer = "${issuer}"
  client_id = "autoadmin"
  client_secret = "autoadmin-test-client-secret"
  redirect_url = "${base}api/login/oidc/callback"
  scopes = ["openid", "email", "profile", "groups", "author"]
  groups = { staff = "writer", ops = "admin" }
  attributes = { author = "author" }
  label = "Example SSO"
`;
  ({ server } = await serveBlog(work, config, { port, env: { AUTOADMIN_SECRET: 'e2e-sso-secret-0123456789abcdef0123456789' } }));
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
  provider?.kill('SIGTERM');
  rmSync(work, { recursive: true, force: true });
});

/** The errors of a tab but one: the provider's development login page asks for a web font
 * from the internet, which the test machine does not reach (not the app's doing). */
const appErrors = (errors) => errors.filter((e) => e !== 'Failed to load resource: net::ERR_NAME_NOT_RESOLVED');

/** At the provider's own login page (its development one): the account, any password. */
async function signInAtProvider(page, account) {
  await page.locator('input[name="login"]').waitFor();
  assert.ok(page.url().startsWith(`http://127.0.0.1:${providerPort}/`), page.url());
  await page.fill('input[name="login"]', account);
  await page.fill('input[name="password"]', 'anything');
  await page.press('input[name="password"]', 'Enter');
}

test('a person signs on at the provider and the app opens with their role', async () => {
  const errors = [];
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
  const page = await context.newPage();
  watchErrors(page, errors);
  await page.goto(`${base}#/posts`);
  await page.locator('#login-sso').waitFor();
  assert.equal(await page.locator('#login-sso').innerText(), 'Log in with Example SSO');
  assert.equal(await page.locator('#login-username').count(), 1, 'the password form stays for the users of the config');
  assert.deepEqual(await violations(page), []);
  await page.screenshot({ path: join(root, 'docs', 'screenshots', 'single-sign-on.png') });
  await page.click('#login-sso');
  await signInAtProvider(page, 'ann');
  // Back in the app, as ann, a writer: the posts of her author only.
  await page.locator('#logout').waitFor();
  assert.match(await page.locator('#user').innerText(), /ann@example\.com/);
  assert.equal(await page.locator('#menu a[data-entity="tags"]').count(), 0, 'writers see no tags');
  assert.equal(await page.locator('#keys-link, #twofa-link').count(), 0, 'keys and a second factor are the provider\'s users\' elsewhere');
  await page.goto(`${base}#/posts`);
  await page.locator('table.list tbody tr').first().waitFor();
  const authors = await page.locator('table.list tbody tr').count();
  assert.ok(authors > 0);
  assert.deepEqual(await violations(page), []);
  // A reload keeps the session; logging out ends it here.
  await page.reload();
  await page.locator('#logout').waitFor();
  await page.click('#logout');
  await page.locator('#login-sso').waitFor();
  await context.close();
  assert.deepEqual(appErrors(errors), []);
});

test('a person whose groups give no role is told so, on a phone', async () => {
  const errors = [];
  const context = await browser.newContext({ viewport: { width: 375, height: 800 }, locale: 'en-US' });
  const page = await context.newPage();
  watchErrors(page, errors);
  await page.goto(base);
  await page.click('#login-sso');
  await signInAtProvider(page, 'cid');
  await page.locator('#login-error', { hasText: 'no group' }).waitFor();
  assert.doesNotMatch(page.url(), /sso_error/, 'the reason is said once, not kept in the address');
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 375, `the page is ${width} px wide`);
  assert.deepEqual(await violations(page), []);
  if (process.env.AUTOADMIN_E2E_SHOTS) await page.screenshot({ path: join(process.env.AUTOADMIN_E2E_SHOTS, 'sso-refused-375.png') });
  await context.close();
  assert.deepEqual(appErrors(errors), []);
});
