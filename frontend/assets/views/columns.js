// The column chooser of a list: which columns it shows and in which order. A choice is in the
// list's URL (`cols`, as a saved view keeps it) and kept in this browser per entity, for the
// lists opened without one (the descriptor's list_columns until the user chooses).

import { h } from '../dom.js';
import { t } from '../i18n.js';

const key = (entity) => `autoadmin.columns.${entity.name}`;

/** The names of the columns `entity`'s list shows: the user's choice, else the descriptor's. */
export function chosenColumns(entity, fields) {
  try {
    const stored = JSON.parse(localStorage.getItem(key(entity)));
    const known = Array.isArray(stored) ? stored.filter((name) => fields.has(name)) : [];
    if (known.length) return known;
  } catch { /* none stored, or unreadable: the descriptor's */ }
  return entity.list_columns.filter((name) => fields.has(name));
}

function store(entity, names) {
  try {
    if (names === null) localStorage.removeItem(key(entity));
    else localStorage.setItem(key(entity), JSON.stringify(names));
  } catch { /* private mode: the choice lasts for this page */ }
}

/**
 * The "Columns" button and its panel: a checkbox per field (shown or not) and buttons to move
 * it up or down. `names`: the columns shown; `change(next, focusId)` shows `next` (null: the
 * descriptor's), which is also kept in this browser; `open`: the panel starts open (a change
 * in it drew the list again).
 */
export function columnChooser(entity, fields, names, change, open = false) {
  // Shown ones first, in their order; then the others, in the entity's order.
  const all = [...names, ...[...fields.keys()].filter((name) => !names.includes(name) && fields.get(name).type !== 'password')];
  const save = (next, focusId) => {
    store(entity, next);
    change(next, focusId);
  };
  const row = (name, i) => {
    const field = fields.get(name);
    const shown = names.includes(name);
    const box = h('input', {
      type: 'checkbox', id: `column-${name}`, checked: shown,
      // The last shown column stays: a list of no column shows nothing.
      disabled: shown && names.length === 1,
      onchange: () => save(shown ? names.filter((n) => n !== name) : [...names, name], `column-${name}`),
    });
    const move = (delta, label, mark) => {
      const j = i + delta;
      const possible = shown && j >= 0 && j < names.length;
      return h('button', {
        type: 'button', class: 'column-move', id: `column-${name}-${delta < 0 ? 'up' : 'down'}`, disabled: !possible,
        'aria-label': t(label, { field: field.label }),
        onclick: () => {
          const next = [...names];
          [next[i], next[j]] = [next[j], next[i]];
          save(next, `column-${name}-${delta < 0 ? 'up' : 'down'}`);
        },
      }, mark);
    };
    return h('li', {}, h('label', { for: box.id }, box, ' ', field.label), move(-1, 'columns.up', '↑'), move(1, 'columns.down', '↓'));
  };
  const panel = h('div', { class: 'column-panel', id: 'column-panel', hidden: true },
    h('ul', { 'aria-label': t('columns.title') }, all.map(row)),
    h('button', { type: 'button', id: 'columns-reset', onclick: () => save(null, 'columns-toggle') }, t('columns.reset')));
  const toggle = h('button', {
    type: 'button', id: 'columns-toggle', 'aria-expanded': 'false', 'aria-controls': panel.id,
    onclick: () => {
      panel.hidden = !panel.hidden;
      toggle.setAttribute('aria-expanded', String(!panel.hidden));
    },
  }, t('columns.title'));
  if (open) {
    panel.hidden = false;
    toggle.setAttribute('aria-expanded', 'true');
  }
  return h('div', { class: 'columns' }, toggle, panel);
}
