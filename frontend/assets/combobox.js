// One widget for choosing records of another entity: the WAI-ARIA 1.2 combobox (editable,
// list autocomplete). Typing searches the target (debounced, its quick search), the arrow
// keys move through the matches, Enter or a click picks one (Enter never submits the form),
// Esc closes the list and, pressed again, puts back the chosen label. The chosen record's
// label stays in the input. With `multiple`, picks become chips, each with a remove button,
// and Backspace in the empty input removes the last one. It serves references in forms and
// in filters, and many-to-many relations.

import { h, mount, debounce } from './dom.js';
import { t } from './i18n.js';

const PAGE = 20;

/**
 * A combobox over the records of `target` (an entity's config) named by their `shown` field.
 * `value`: a key, null, or (with `multiple`) an array of keys; `label`: the field's label,
 * for the accessible names of the list and the buttons. `onChange(value)` is told every pick.
 * Returns `{ element, input, value(), focus() }`.
 */
export function combobox({ id, target, shown, api, value, label, multiple = false, clearable = false, disabled = false, describedBy, placeholder, onChange = () => {} }) {
  const listId = `${id}-listbox`;
  const key = (record) => record[target.primary_key];
  const labelOf = (record) => {
    const text = shown !== target.primary_key ? record[shown] : null;
    return text === null || text === undefined || text === '' ? `#${key(record)}` : String(text);
  };
  // The chosen records: { key, label }.
  let chosen = [];
  let matches = [];
  let active = -1;
  let searches = 0;

  const input = h('input', {
    id, type: 'text', role: 'combobox', autocomplete: 'off', spellcheck: 'false',
    'aria-autocomplete': 'list', 'aria-expanded': 'false', 'aria-controls': listId,
    'aria-describedby': describedBy, disabled, placeholder: placeholder ?? t('form.search_reference', { entity: target.label }),
  });
  const listbox = h('ul', { id: listId, role: 'listbox', class: 'combobox-list', 'aria-label': label, hidden: true });
  const status = h('div', { class: 'sr-only', role: 'status' });
  const chips = multiple ? h('ul', { class: 'chips', 'aria-label': label }) : null;
  const clear = clearable && !multiple
    ? h('button', { type: 'button', class: 'combobox-clear', 'aria-label': t('combobox.clear', { field: label }), disabled, onclick: () => { choose(null); input.focus(); } }, '×')
    : null;
  const element = h('div', { class: `combobox${multiple ? ' combobox-multiple' : ''}` }, chips, h('div', { class: 'combobox-input' }, input, clear), listbox, status);

  const current = () => (multiple ? chosen.map((c) => c.key) : chosen[0]?.key ?? null);
  const showChosen = () => {
    if (multiple) {
      mount(chips, chosen.map((c, i) => h('li', { class: 'chip' }, h('span', {}, c.label),
        h('button', {
          type: 'button', class: 'chip-remove', disabled, 'aria-label': t('combobox.remove', { item: c.label }),
          onclick: () => remove(i),
        }, '×'))));
      input.value = '';
    } else {
      input.value = chosen[0]?.label ?? '';
    }
    if (clear) clear.hidden = !chosen.length;
  };
  const remove = (i) => {
    chosen.splice(i, 1);
    showChosen();
    onChange(current());
    input.focus();
  };
  /** Picks `record` (null: none). */
  const choose = (record) => {
    if (record === null) chosen = [];
    else if (multiple) {
      if (!chosen.some((c) => String(c.key) === String(key(record)))) chosen.push({ key: key(record), label: labelOf(record) });
    } else chosen = [{ key: key(record), label: labelOf(record) }];
    close();
    showChosen();
    onChange(current());
  };

  const open = () => {
    listbox.hidden = false;
    input.setAttribute('aria-expanded', 'true');
  };
  const close = () => {
    listbox.hidden = true;
    input.setAttribute('aria-expanded', 'false');
    input.removeAttribute('aria-activedescendant');
    active = -1;
  };
  const highlight = (index) => {
    active = index;
    [...listbox.children].forEach((li, i) => li.setAttribute('aria-selected', i === index ? 'true' : 'false'));
    const li = listbox.children[index];
    if (li && li.getAttribute('role') === 'option') {
      input.setAttribute('aria-activedescendant', li.id);
      li.scrollIntoView({ block: 'nearest' });
    } else input.removeAttribute('aria-activedescendant');
  };
  const showMatches = () => {
    const taken = new Set(multiple ? chosen.map((c) => String(c.key)) : []);
    matches = matches.filter((r) => !taken.has(String(key(r))));
    mount(listbox, matches.length
      ? matches.map((record, i) => h('li', {
        id: `${id}-option-${i}`, role: 'option', class: 'combobox-option', 'aria-selected': 'false',
        // Keeps the focus in the input: the pick happens on click.
        onmousedown: (e) => e.preventDefault(),
        onclick: () => choose(record),
      }, labelOf(record), shown !== target.primary_key ? h('span', { class: 'muted' }, ` #${key(record)}`) : null))
      : h('li', { class: 'combobox-empty', 'aria-disabled': 'true' }, t('combobox.no_matches')));
    status.textContent = matches.length ? t('combobox.matches', { n: matches.length }) : t('combobox.no_matches');
    open();
    highlight(matches.length ? 0 : -1);
  };
  const search = async () => {
    const mine = ++searches;
    const needle = multiple ? input.value : input.value === chosen[0]?.label ? '' : input.value;
    let rows;
    try {
      rows = await options(api, target, shown, needle);
    } catch {
      rows = [];
    }
    // Only the answer to the latest search is shown, and only while the user is here.
    if (mine !== searches || document.activeElement !== input) return;
    matches = rows;
    showMatches();
  };
  const typed = debounce(search, 250);

  input.addEventListener('input', typed);
  input.addEventListener('keydown', (event) => {
    const count = matches.length;
    switch (event.key) {
      case 'ArrowDown':
      case 'ArrowUp':
        event.preventDefault();
        if (listbox.hidden) {
          search();
        } else if (count) {
          const step = event.key === 'ArrowDown' ? 1 : -1;
          highlight((active + step + count) % count);
        }
        break;
      case 'Enter':
        // Never submits the form: Enter here is a pick (of the highlighted match).
        event.preventDefault();
        if (!listbox.hidden && active >= 0 && matches[active]) choose(matches[active]);
        break;
      case 'Escape':
        if (!listbox.hidden) {
          event.preventDefault();
          event.stopPropagation();
          close();
        } else if (!multiple && input.value !== (chosen[0]?.label ?? '')) {
          event.preventDefault();
          showChosen();
        }
        break;
      case 'Backspace':
        if (multiple && input.value === '' && chosen.length) remove(chosen.length - 1);
        break;
      default:
    }
  });
  input.addEventListener('blur', () => {
    searches += 1;
    close();
    // An emptied single input means none; other typing that picked nothing is undone.
    if (!multiple && input.value.trim() === '' && chosen.length) choose(null);
    else showChosen();
  });

  // The labels of the initial value: one request, whatever the number of keys.
  const initial = multiple ? (value ?? []) : value === null || value === undefined ? [] : [value];
  chosen = initial.map((k) => ({ key: k, label: `#${k}` }));
  showChosen();
  if (initial.length) {
    api.byKeys(target.name, target.primary_key, initial).then((records) => {
      const still = JSON.stringify(current()) === JSON.stringify(multiple ? initial : initial[0]);
      if (!still) return;
      chosen = initial.map((k) => ({ key: k, label: records.has(String(k)) ? labelOf(records.get(String(k))) : `#${k}` }));
      if (document.activeElement !== input || multiple) showChosen();
    }).catch(() => {});
  }

  return {
    element,
    input,
    value: current,
    focus: () => input.focus(),
  };
}

/** Up to 20 records of `target` matching `text`: its quick search, else a substring of its
 * `shown` field; ordered by that field. */
async function options(api, target, shown, text) {
  const query = { page: 1, perPage: PAGE, sort: shown, count: 'none' };
  const needle = text.trim();
  if (needle) {
    if (target.search.length) query.q = needle;
    else if (shown !== target.primary_key) query.filters = { [shown]: { ilike: needle } };
    else query.filters = { [shown]: needle };
  }
  return (await api.list(target.name, query)).rows;
}
