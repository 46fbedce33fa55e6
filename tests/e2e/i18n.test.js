// Every message the app uses exists, and every language has exactly the same keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const assets = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'frontend', 'assets');
const en = (await import(join(assets, 'i18n', 'en.js'))).default;
const fr = (await import(join(assets, 'i18n', 'fr.js'))).default;

function sources(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'i18n' ? [] : sources(path);
    return entry.name.endsWith('.js') ? [path] : [];
  });
}

test('every language has the same keys', () => {
  assert.deepEqual(Object.keys(fr).sort(), Object.keys(en).sort());
  // A message that counts has a form per plural category, `one` and `other` at least, and
  // counts `n`; every form has the same placeholders.
  const forms = (text) => (typeof text === 'string' ? [text] : Object.values(text));
  const params = (text) => [...new Set(forms(text).flatMap((s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1])))].sort();
  for (const catalogue of [en, fr]) {
    for (const [key, text] of Object.entries(catalogue)) {
      if (typeof text === 'string') continue;
      assert.ok('one' in text && 'other' in text, `plural forms of ${key}`);
      for (const form of forms(text)) assert.ok(form.includes('{n}'), `${key} counts n`);
    }
  }
  for (const [key, text] of Object.entries(fr)) {
    assert.deepEqual(params(text), params(en[key]), `placeholders of ${key}`);
  }
});

test('every key the app uses is in the catalogue', () => {
  const used = new Set();
  for (const file of sources(assets)) {
    for (const match of readFileSync(file, 'utf8').matchAll(/\bt\('([\w.]+)'/g)) used.add(match[1]);
  }
  assert.ok(used.size > 40);
  const missing = [...used].filter((key) => !(key in en));
  assert.deepEqual(missing, []);
});
