// Two-factor login as a person sets it up and uses it: the QR code read from a screenshot as
// a phone's camera would (jsQR), codes computed here as an authenticator app does (RFC 6238
// with node's crypto), the login's second step with a code and with a recovery code, the
// password dialog's second step, and a role that requires it keeping its user on the set-up
// page until it is done. At 1280 and 375 px, with no WCAG 2.1 AA violation.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jsQR from 'jsqr';
import { PNG } from 'pngjs';
import { startDemo, launchBrowser, logIn, root, serveBlog, violations, watchErrors } from './demo.js';

const password = 'two-factor-demo-pass';
const bin = process.env.AUTOADMIN_BIN ?? join(root, 'target', 'debug', 'autoadmin');
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

/** RFC 4648 base32 to bytes. */
function fromBase32(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out = [];
  for (const c of text.replace(/=+$/, '')) {
    value = (value << 5) | alphabet.indexOf(c);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((value >>> bits) & 0xff);
    }
  }
  return Buffer.from(out);
}

/** The code of time step `step`: HOTP (RFC 4226) of the step, six digits. */
function codeAt(secret, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const digest = createHmac('sha1', secret).update(counter).digest();
  const offset = digest[19] & 0x0f;
  return String((digest.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

const stepNow = () => Math.floor(Date.now() / 30_000);

/** An authenticator app: each code once, a later step each time (waiting for one if the
 * server would not take the next yet). */
class Device {
  constructor(secret) {
    this.secret = fromBase32(secret);
    this.last = 0;
  }

  async code() {
    for (;;) {
      const now = stepNow();
      const step = Math.max(this.last + 1, now - 1);
      if (step <= now + 1) {
        this.last = step;
        return codeAt(this.secret, step);
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  wrong() {
    const now = stepNow();
    const taken = new Set([-2, -1, 0, 1, 2].map((d) => codeAt(this.secret, now + d)));
    for (let n = 1; ; n += 1) {
      const code = String((n * 7919) % 1_000_000).padStart(6, '0');
      if (!taken.has(code)) return code;
    }
  }
}

/** Reads the QR code on the page as a camera would: from pixels. */
async function scan(page) {
  const png = PNG.sync.read(await page.locator('#twofa-qr').screenshot());
  const found = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
  assert.ok(found, 'the QR code reads');
  return new URL(found.data);
}

/** Sets up the second factor on the page shown (`#/_2fa`): the device and the recovery codes. */
async function setUp(page, { screenshot = false } = {}) {
  await page.click('#twofa-start');
  await page.locator('#twofa-qr').waitFor();
  const uri = await scan(page);
  assert.equal(uri.protocol, 'otpauth:');
  assert.equal(uri.searchParams.get('digits'), '6');
  const secret = uri.searchParams.get('secret');
  assert.equal((await page.locator('#twofa-secret').innerText()).replaceAll(' ', ''), secret, 'the key to type is the scanned one');
  assert.deepEqual(await violations(page), []);
  if (screenshot) {
    mkdirSync(join(root, 'docs', 'screenshots'), { recursive: true });
    await page.screenshot({ path: join(root, 'docs', 'screenshots', 'two-factor.png'), fullPage: true });
  }
  const device = new Device(secret);
  // A wrong code is said at the field; the app's code turns it on.
  await page.fill('#twofa-confirm-code', device.wrong());
  await page.press('#twofa-confirm-code', 'Enter');
  await page.locator('#twofa-confirm-error', { hasText: 'wrong' }).waitFor();
  await page.fill('#twofa-confirm-code', await device.code());
  await page.press('#twofa-confirm-code', 'Enter');
  await page.locator('#twofa-codes').waitFor();
  const codes = await page.locator('#twofa-codes li').allInnerTexts();
  assert.equal(codes.length, 10);
  assert.match(await page.locator('#twofa-codes-once').innerText(), /not be shown again/);
  assert.deepEqual(await violations(page), []);
  return { device, codes, uri };
}

/** Logs in by the form up to the second step. */
async function password1(page, base, user, pass) {
  await page.goto(`${base}#/`);
  await page.fill('#login-username', user);
  await page.fill('#login-password', pass);
  await page.press('#login-password', 'Enter');
  await page.locator('#login-code').waitFor();
}

test('set up from the QR code, then each login asks for a code or a recovery code', async () => {
  const errors = [];
  const { context, page } = await logIn(browser, demo, password, errors);
  await page.click('#twofa-link');
  await page.locator('#twofa-start').waitFor();
  assert.match(await page.locator('#twofa-status').innerText(), /off/);
  const { device, codes, uri } = await setUp(page, { screenshot: true });
  assert.match(decodeURIComponent(uri.pathname), /Blog admin:admin$/);
  await page.click('#twofa-done');
  await page.locator('#twofa-status', { hasText: '10 recovery codes' }).waitFor();
  await context.close();

  // The next login: the password, then the code (a wrong one first).
  const tab = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
  const login = await tab.newPage();
  watchErrors(login, errors);
  await password1(login, demo.base, 'admin', password);
  assert.equal(await login.locator('#logout').count(), 0, 'no session after the password alone');
  assert.deepEqual(await violations(login), []);
  await login.fill('#login-code', device.wrong());
  await login.press('#login-code', 'Enter');
  await login.locator('#login-code-error', { hasText: 'wrong' }).waitFor();
  await login.fill('#login-code', await device.code());
  await login.press('#login-code', 'Enter');
  await login.locator('#logout').waitFor();
  await login.reload();
  await login.locator('#logout').waitFor();

  // The password dialog of an ended session asks for the code too; the typing is kept.
  await login.goto(`${demo.base}#/posts/9/edit`);
  await login.locator('input[name="title"]').waitFor();
  await login.fill('input[name="title"]', 'Typed, two factors later');
  await login.evaluate(() => fetch('api/logout', { method: 'POST', headers: { 'X-Requested-With': 'autoadmin' } }));
  await login.click('#save');
  await login.fill('#relogin-password', password);
  await login.press('#relogin-password', 'Enter');
  await login.locator('#relogin-code').waitFor();
  assert.deepEqual(await violations(login), []);
  await login.fill('#relogin-code', await device.code());
  await login.press('#relogin-code', 'Enter');
  await login.waitForURL(/#\/posts\/9$/);
  await login.locator('main h1').waitFor();
  await tab.close();

  // A recovery code, in a phone-sized window: once.
  const phone = await browser.newContext({ viewport: { width: 375, height: 800 }, locale: 'en-US' });
  const small = await phone.newPage();
  watchErrors(small, errors);
  await password1(small, demo.base, 'admin', password);
  await small.click('#login-use-recovery');
  assert.match(await small.locator('label[for="login-code"]').innerText(), /Recovery code/);
  await small.fill('#login-code', codes[0]);
  await small.press('#login-code', 'Enter');
  await small.locator('#logout').waitFor();
  await small.goto(`${demo.base}#/_2fa`);
  await small.locator('#twofa-status', { hasText: '9 recovery codes' }).waitFor();
  const width = await small.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 375, `the page is ${width} px wide`);
  assert.deepEqual(await violations(small), []);

  // Off, with a code, after the question: the password alone is enough again.
  await small.fill('#twofa-off-code', await device.code());
  await small.click('#twofa-off');
  await small.locator('dialog.confirm[open] button.danger').click();
  await small.locator('#twofa-status', { hasText: 'off' }).waitFor();
  await phone.close();
  const again = await logIn(browser, demo, password, errors);
  await again.context.close();
  assert.deepEqual(errors, []);
});

test('a role that requires a second factor keeps its user on the set-up until it is done', async () => {
  const work = mkdtempSync(join(tmpdir(), 'autoadmin-2fa-'));
  const port = 19950 + Math.floor(Math.random() * 40);
  const hash = execFileSync(bin, ['hash-password'], { input: 'gus-pass-123\n' }).toString().trim();
  const config = `${readFileSync(join(root, 'config/blog.toml'), 'utf8')}
[auth]

  [[auth.role]]
  name = "guarded"
  permissions = { posts = ["view"] }
  require_2fa = true

  [[auth.user]]
  name = "gus"
  role = "guarded"
  password_hash = "${hash}"
`;
  const { server, base } = await serveBlog(work, config, { port, env: { AUTOADMIN_SECRET: 'e2e-two-factor-secret-0123456789abcdef' } });
  const errors = [];
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
    const page = await context.newPage();
    watchErrors(page, errors);
    await page.goto(`${base}#/posts`);
    await page.fill('#login-username', 'gus');
    await page.fill('#login-password', 'gus-pass-123');
    await page.press('#login-password', 'Enter');
    // Wherever the address pointed, the set-up: no entity in the menu, no keys.
    await page.locator('#twofa-required').waitFor();
    assert.match(page.url(), /#\/_2fa$/);
    assert.equal(await page.locator('#menu a[data-entity]').count(), 0);
    assert.equal(await page.locator('#keys-link').count(), 0);
    await page.goto(`${base}#/posts/1`);
    await page.locator('#twofa-required').waitFor();
    assert.match(page.url(), /#\/_2fa$/);
    assert.deepEqual(await violations(page), []);
    await setUp(page);
    await page.click('#twofa-done');
    // Done: the app as the role allows it, and the factor cannot be turned off.
    await page.locator('#menu a[data-entity="posts"]').waitFor();
    await page.goto(`${base}#/_2fa`);
    await page.locator('#twofa-required-on').waitFor();
    assert.equal(await page.locator('#twofa-off').count(), 0);
    await context.close();
  } finally {
    server.kill('SIGTERM');
    rmSync(work, { recursive: true, force: true });
  }
  assert.deepEqual(errors, []);
});
