// Inline children in the parent's form (ng-admin's embedded_list, Django's inlines): a
// table with a row per child, a widget per field, "Add" and "Remove". It is one widget of the
// form: `read()` gives what the parent's body sends for the relation (undefined when nothing
// changed), errors come back at their path (`comments.1.body`) and show at their cell.

import { h } from './dom.js';
import { t } from './i18n.js';
import { fieldWidget } from './widgets.js';

/**
 * The editor of `relation` (inline) whose children are records of `child`; `stored` are the
 * children as loaded, `draft` (optional) the rows a draft kept. `onChange()` is told of every
 * edit.
 */
export function inlineWidget(relation, child, stored, { draft, configOf, api, onChange, idPrefix = 'f' }) {
  const field = { name: relation.name, label: relation.label, type: 'inline', read_only: false };
  const id = `${idPrefix}-${relation.name}`;
  const columns = child.fields.filter((f) => f.name !== relation.foreign_key && f.name !== child.primary_key
    && !f.read_only && f.type !== 'password');
  const byKey = new Map((stored ?? []).map((record) => [String(record[child.primary_key]), record]));
  const body = h('tbody', {});
  const error = h('p', { class: 'field-error', id: `${id}-error`, role: 'alert' });
  const add = h('button', {
    type: 'button', id: `${id}-add`, 'aria-label': t('inline.add', { item: relation.label }),
    onclick: () => { addRow({}, null).focus(); changed(); },
  }, t('inline.add_row'));
  let rows = [];
  let counter = 0;
  let removedAny = false;
  // The rows of the last read, in the order sent: errors name them by position.
  let sent = [];

  const changed = () => {
    add.disabled = relation.inline_max !== null && rows.length >= relation.inline_max;
    onChange();
  };
  /** A row for `record`: a stored child (`key`) or a new one (`key` null). */
  function addRow(record, key) {
    const n = ++counter;
    const row = { key, record, touched: new Set(), widgets: [] };
    const rowLabel = t('inline.row', { item: relation.label, n });
    row.widgets = columns.map((column) => {
      const widget = fieldWidget(column, record[column.name] ?? (key === null ? column.default : undefined), {
        mode: key === null ? 'create' : 'edit', configOf, api, idPrefix: `${id}-${n}`,
        onChange: () => { row.touched.add(column.name); onChange(); },
      });
      if (widget.input.tagName === 'TEXTAREA') widget.input.rows = 2;
      // The column's header says it to the eye; the label says it, with the row, to a reader.
      const label = widget.element.querySelector('label');
      if (label) {
        label.textContent = `${column.label} (${rowLabel})`;
        label.classList.add('sr-only');
      }
      return widget;
    });
    const removable = key === null || relation.inline_delete;
    const remove = removable
      ? h('button', { type: 'button', class: 'inline-remove', 'aria-label': t('inline.remove', { row: rowLabel }), onclick: () => {
        const at = rows.indexOf(row);
        rows.splice(at, 1);
        row.element.remove();
        if (key !== null) removedAny = true;
        (rows[at]?.widgets[0] ?? rows[at - 1]?.widgets[0] ?? { focus: () => add.focus() }).focus();
        changed();
      } }, t('common.remove'))
      : null;
    row.element = h('tr', { 'data-row': key ?? 'new' },
      row.widgets.map((widget, i) => h('td', { 'data-label': columns[i].label }, widget.element)),
      h('td', { class: 'actions' }, remove));
    rows.push(row);
    body.append(row.element);
    return row.widgets[0] ?? { focus: () => {} };
  }

  for (const record of stored ?? []) addRow(record, record[child.primary_key]);
  // A draft's rows: its edits over the stored ones, its new ones after.
  if (Array.isArray(draft)) {
    const kept = new Set(draft.filter((r) => r[child.primary_key] !== undefined).map((r) => String(r[child.primary_key])));
    if (relation.inline_delete) {
      for (const row of [...rows]) {
        if (!kept.has(String(row.key))) {
          rows.splice(rows.indexOf(row), 1);
          row.element.remove();
          removedAny = true;
        }
      }
    }
    for (const values of draft) {
      const key = values[child.primary_key];
      const row = key === undefined ? null : rows.find((r) => String(r.key) === String(key));
      if (row) {
        for (const [i, column] of columns.entries()) {
          if (column.name in values) {
            row.widgets[i].element.remove();
            const widget = fieldWidget(column, values[column.name], {
              mode: 'edit', configOf, api, idPrefix: `${id}-d${++counter}`,
              onChange: () => { row.touched.add(column.name); onChange(); },
            });
            row.element.children[i].replaceChildren(widget.element);
            row.widgets[i] = widget;
            row.touched.add(column.name);
          }
        }
      } else if (key === undefined) {
        addRow(values, null);
      }
    }
  }
  add.disabled = relation.inline_max !== null && rows.length >= relation.inline_max;

  const element = h('fieldset', { class: 'field field-inline', id, 'aria-describedby': `${id}-error` },
    h('legend', {}, relation.label),
    h('div', { class: 'table-wrap' }, h('table', { class: 'list inline-table' },
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col' }, c.label)), h('th', { scope: 'col', class: 'actions' }, h('span', { class: 'sr-only' }, t('common.actions'))))),
      body)),
    h('div', { class: 'inline-tools' }, add),
    error);

  /** The row as the body sends it: a stored one by its key and what changed, a new one whole. */
  const rowBody = (row) => {
    if (row.key === null) {
      const values = {};
      for (const widget of row.widgets) {
        const value = widget.read();
        if (value !== undefined) values[widget.field.name] = value;
      }
      return values;
    }
    const values = { [child.primary_key]: row.key };
    for (const widget of row.widgets) {
      if (!row.touched.has(widget.field.name)) continue;
      const value = widget.read();
      if (value !== undefined && JSON.stringify(value) !== JSON.stringify(row.record[widget.field.name] ?? null)) {
        values[widget.field.name] = value;
      }
    }
    return values;
  };

  return {
    field,
    element,
    input: add,
    /** What the parent's body sends for the relation; undefined when nothing changed. */
    read() {
      const all = rows.map((row) => ({ row, values: rowBody(row) }));
      const edits = all.filter(({ row, values }) => row.key === null || Object.keys(values).length > 1);
      if (!edits.length && !removedAny) return undefined;
      // Without inline_delete, rows left out stay: only what changes is sent.
      const chosen = relation.inline_delete ? all : edits;
      sent = chosen.map(({ row }) => row);
      return chosen.map(({ values }) => values);
    },
    validate() {
      let ok = true;
      for (const row of rows) {
        for (const widget of row.widgets) {
          if (row.key !== null && !row.touched.has(widget.field.name)) continue;
          ok = widget.validate() && ok;
        }
      }
      return ok;
    },
    setError(message) {
      error.textContent = message ?? '';
      element.classList.toggle('invalid', Boolean(message));
    },
    /** The server's errors: at the relation, and at `relation.N.field` (N: the row sent). */
    setErrors(errors) {
      this.setError(errors[relation.name] ?? null);
      for (const row of rows) for (const widget of row.widgets) widget.setError(null);
      let first = null;
      for (const [path, message] of Object.entries(errors)) {
        const [name, index, column] = path.split('.');
        if (name !== relation.name || column === undefined) continue;
        const row = sent[Number(index)];
        const widget = row?.widgets.find((w) => w.field.name === column);
        if (widget) {
          widget.setError(message);
          first ??= widget;
        } else if (row) {
          this.setError(message);
        }
      }
      return first ?? (errors[relation.name] ? this : null);
    },
    focus() {
      (rows[0]?.widgets[0] ?? { focus: () => add.focus() }).focus();
    },
  };
}
