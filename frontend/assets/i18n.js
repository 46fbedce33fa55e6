// Message catalogues: every string the app shows comes from one of them (i18n/*.js),
// chosen by the config's locale or the browser's language.

import en from './i18n/en.js';

const catalogues = { en: () => en, fr: async () => (await import('./i18n/fr.js')).default };
let messages = en;
let locale = 'en';

export async function setLocale(requested) {
  const language = String(requested || 'en').slice(0, 2).toLowerCase();
  const load = catalogues[language] ?? catalogues.en;
  messages = await load();
  locale = language in catalogues ? language : 'en';
  document.documentElement.lang = locale;
}

export function currentLocale() {
  return locale;
}

/** The message `key`, with `{name}` replaced by `params.name`. */
export function t(key, params = {}) {
  const template = messages[key] ?? en[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (_, name) => (name in params ? String(params[name]) : `{${name}}`));
}

export function formatNumber(n) {
  return new Intl.NumberFormat(locale).format(n);
}
