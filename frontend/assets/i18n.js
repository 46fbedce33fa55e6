// Message catalogues: every string the app shows comes from one of them (i18n/*.js). The
// language in use is the page's own (`<html lang>`), which main.js sets once from the
// config's locale or the browser's language; this module keeps no state of its own.

import en from './i18n/en.js';
import fr from './i18n/fr.js';

const catalogues = { en, fr };

/** The catalogue's language for a requested one (`fr-FR` → `fr`), English by default. */
export function languageOf(requested) {
  const language = String(requested || 'en').slice(0, 2).toLowerCase();
  return language in catalogues ? language : 'en';
}

export function currentLocale() {
  return languageOf(document.documentElement.lang);
}

/** The message `key`, with `{name}` replaced by `params.name`. */
export function t(key, params = {}) {
  const template = catalogues[currentLocale()][key] ?? en[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (_, name) => (name in params ? String(params[name]) : `{${name}}`));
}

export function formatNumber(n) {
  return new Intl.NumberFormat(currentLocale()).format(n);
}
