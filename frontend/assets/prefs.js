// The user's own choices, remembered in this browser: the language (else the config's, else
// the browser's) and the theme (else the system's, followed as it changes).

import { h } from './dom.js';
import { languageOf, languages, t } from './i18n.js';

const LANGUAGE = 'autoadmin.language';
const THEME = 'autoadmin.theme';
const dark = window.matchMedia('(prefers-color-scheme: dark)');

function stored(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

function store(key, value) {
  try {
    localStorage.setItem(key, value);
  } catch { /* private mode: the choice lasts for this page */ }
}

/** Sets the page's language: the user's choice, else `fallback`. */
export function applyLanguage(fallback) {
  document.documentElement.lang = languageOf(stored(LANGUAGE) || fallback);
}

/** Sets the theme (`data-theme` on <html>), and follows the system until the user chooses. */
export function applyTheme() {
  const set = () => {
    document.documentElement.dataset.theme = stored(THEME) || (dark.matches ? 'dark' : 'light');
  };
  set();
  dark.addEventListener('change', set);
}

/**
 * The language menu and the theme switch of the top bar. `changed()` draws the app again in
 * the new language; it resolves false when the user chose to stay on unsaved changes.
 */
export function preferenceControls(changed) {
  const current = document.documentElement.lang;
  const language = h('select', { id: 'language', 'aria-label': t('prefs.language') },
    languages().map(([code, name]) => h('option', { value: code, lang: code, selected: code === current }, name)));
  language.addEventListener('change', async () => {
    const chosen = language.value;
    if (!(await changed(() => {
      store(LANGUAGE, chosen);
      document.documentElement.lang = chosen;
    }))) language.value = current;
  });
  const isDark = () => document.documentElement.dataset.theme === 'dark';
  const theme = h('button', { type: 'button', id: 'theme', 'aria-pressed': String(isDark()) }, t('prefs.dark'));
  theme.addEventListener('click', () => {
    const next = isDark() ? 'light' : 'dark';
    store(THEME, next);
    document.documentElement.dataset.theme = next;
    theme.setAttribute('aria-pressed', String(next === 'dark'));
  });
  return h('div', { class: 'prefs' }, language, theme);
}
