// Keyboard shortcuts, for a page without typing in progress: `/` goes to the search box, `c`
// creates a record where the page offers it, `?` lists them. Keys typed in a field, with a
// modifier, or while a dialog is open are left alone.

import { h } from './dom.js';
import { t } from './i18n.js';

const KEYS = [
  ['/', 'shortcuts.search'],
  ['c', 'shortcuts.create'],
  ['?', 'shortcuts.help'],
];

/** Listens for the shortcuts; `notice(nodes)` shows the list of them. */
export function installShortcuts(notice) {
  document.addEventListener('keydown', (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
    const target = event.target;
    if (target.closest?.('input, textarea, select, [contenteditable], dialog[open]') || document.querySelector('dialog[open]')) return;
    if (event.key === '/') {
      const search = document.getElementById('list-search');
      if (!search) return;
      event.preventDefault();
      search.focus();
      search.select();
    } else if (event.key === 'c') {
      const create = document.getElementById('create');
      if (!create) return;
      event.preventDefault();
      create.click();
    } else if (event.key === '?') {
      event.preventDefault();
      notice(h('div', {},
        h('h2', { id: 'shortcuts-title' }, t('shortcuts.title')),
        h('dl', { class: 'shortcuts' }, KEYS.map(([key, label]) => [h('dt', {}, h('kbd', {}, key)), h('dd', {}, t(label))]))));
    }
  });
}
