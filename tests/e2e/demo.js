// What the browser tests share: a demo server of their own (a fresh SQLite file, a random
// port, a known password, a token), and Debian's chromium.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = process.env.AUTOADMIN_BIN ?? join(root, 'target', 'debug', 'autoadmin');

/** Starts `autoadmin demo` with `password` for admin; resolves when it answers, logged in. */
export async function startDemo(password) {
  const port = 18200 + Math.floor(Math.random() * 1000);
  const work = mkdtempSync(join(tmpdir(), 'autoadmin-e2e-'));
  // AUTOADMIN_E2E_LOG=file: the server's log goes there (with RUST_LOG from the environment).
  const log = process.env.AUTOADMIN_E2E_LOG ? openSync(process.env.AUTOADMIN_E2E_LOG, 'a') : 'ignore';
  const server = spawn(bin, ['demo', '--bind', `127.0.0.1:${port}`, '--database', join(work, 'demo.sqlite')], {
    stdio: ['ignore', log, log],
    env: { ...process.env, AUTOADMIN_DEMO_PASSWORD: password },
  });
  const demo = {
    base: `http://127.0.0.1:${port}/admin/`,
    api: `http://127.0.0.1:${port}/admin/api`,
    token: null,
    /** A fresh token for admin (a logout revokes the old ones). */
    async login() {
      const response = await fetch(`${demo.api}/login`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ username: 'admin', password }),
      });
      demo.token = (await response.json()).token;
      return demo.token;
    },
    stop() {
      server.kill('SIGTERM');
      rmSync(work, { recursive: true, force: true });
    },
  };
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`${demo.api}/health`)).ok) break;
    } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  await demo.login();
  return demo;
}

/**
 * Starts `autoadmin serve` over a fresh SQLite file in `work` seeded as the demo's, with the
 * descriptors `config` (text) and `args` more; resolves when it answers, to `{server, base,
 * api}`.
 */
export async function serveBlog(work, config, { port, args = [], env = {} }) {
  const database = join(work, 'blog.sqlite');
  execFileSync('python3', ['-c', `
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for script in sys.argv[2:]:
    db.executescript(open(script).read())
db.commit()
`, database, join(root, 'migrations/sqlite/0001_blog.sql'), join(root, 'migrations/sqlite/seed_demo.sql')]);
  writeFileSync(join(work, 'blog.toml'), config);
  const server = spawn(bin, ['serve', '--config', join(work, 'blog.toml'), '--database-url', `sqlite://${database}`,
    '--bind', `127.0.0.1:${port}`, ...args], { stdio: 'ignore', env: { ...process.env, ...env } });
  const base = `http://127.0.0.1:${port}/admin/`;
  const api = `${base}api`;
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`${api}/health`)).ok) break;
    } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { server, base, api, database };
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** The violations of WCAG 2.1 A/AA on the page as it is now, one line each (axe-core,
 * injected by the test: the app's CSP allows only its own scripts). */
export async function violations(page) {
  await page.evaluate(axeSource);
  const results = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
  }));
  return results.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
}

/** Debian's chromium, headless, with no network of its own. */
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/** Records in `errors` what a tab logs as an error (but the 4xx answers a test provokes) and
 * every uncaught exception. */
export function watchErrors(tab, errors) {
  tab.on('console', (message) => {
    const expected = /^Failed to load resource: the server responded with a status of 4\d\d/.test(message.text());
    if (message.type() === 'error' && !expected) errors.push(message.text());
  });
  tab.on('pageerror', (error) => errors.push(String(error)));
}

/** A new browser context logged in as admin by the app's login form, its tab watched. */
export async function logIn(browser, demo, password, errors, options = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US', ...options });
  const page = await context.newPage();
  watchErrors(page, errors);
  await page.goto(`${demo.base}#/`);
  await page.fill('#login-username', 'admin');
  await page.fill('#login-password', password);
  await page.press('#login-password', 'Enter');
  await page.locator('#logout').waitFor();
  return { context, page };
}
