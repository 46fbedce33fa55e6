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

/** The languages there are, as `[code, name in that language]`. */
export function languages() {
  return Object.entries(catalogues).map(([code, catalogue]) => [code, catalogue['prefs.name']]);
}

export function currentLocale() {
  return languageOf(document.documentElement.lang);
}

/**
 * The message `key`, with `{name}` replaced by `params.name`. A message that counts is an
 * object of plural forms (`{one, other}`, as Intl.PluralRules names them), chosen by `params.n`.
 */
export function t(key, params = {}) {
  const locale = currentLocale();
  let template = catalogues[locale][key] ?? en[key] ?? key;
  if (typeof template === 'object') template = template[intl(Intl.PluralRules, locale).select(Number(params.n))] ?? template.other;
  return template.replace(/\{(\w+)\}/g, (_, name) => (name in params ? String(params[name]) : `{${name}}`));
}

/** Whether the catalogues have `key`. */
export function has(key) {
  return key in en;
}

export function formatNumber(n) {
  return intl(Intl.NumberFormat, currentLocale()).format(n);
}

const formatters = new Map();

/** One `new Kind(locale, options)` per locale and options, kept: making an Intl object costs
 * about a millisecond, and a page of a list formats hundreds of values. */
export function intl(Kind, locale, options = {}) {
  const key = `${Kind.name} ${locale} ${JSON.stringify(options)}`;
  let formatter = formatters.get(key);
  if (!formatter) {
    formatter = new Kind(locale, options);
    formatters.set(key, formatter);
  }
  return formatter;
}
