// Editing a list's cell in place: Enter or a double-click on a cell of an editable field
// opens its input; Enter saves that field alone, over the version read when editing began
// (If-Match: a change made meanwhile is refused, not overwritten); Esc cancels; an error
// shows at the cell.

import { h, mount } from '../dom.js';
import { ApiError } from '../api.js';
import { t } from '../i18n.js';
import { describe } from '../errors.js';
import { fieldWidget } from '../widgets.js';

/** Types whose input fits a cell. */
const IN_PLACE = new Set(['string', 'email', 'url', 'integer', 'float', 'decimal', 'boolean', 'choice', 'date', 'datetime']);

/** Whether `field` of `entity` can be edited in a list's cell. */
export function editableInPlace(entity, field) {
  return IN_PLACE.has(field.type) && !field.read_only && field.name !== entity.primary_key;
}

/**
 * Makes `td`, which shows `field` of `record`, editable in place. `shown(value)` draws the
 * cell's content for a value.
 */
export function editInPlace(td, entity, field, record, ctx, shown) {
  const key = record[entity.primary_key];
  td.tabIndex = 0;
  td.classList.add('editable');
  td.setAttribute('aria-describedby', 'cell-hint');
  let editing = false;
  const open = async () => {
    if (editing) return;
    editing = true;
    let etag;
    try {
      ({ record, etag } = await ctx.api.getVersioned(entity.name, key));
    } catch (error) {
      editing = false;
      ctx.toast(describe(error), 'error');
      return;
    }
    const widget = fieldWidget(field, record[field.name], {
      mode: 'edit', configOf: ctx.configOf, api: ctx.api, idPrefix: `cell-${key}`, onChange: () => {},
    });
    widget.element.classList.add('cell-editor');
    const close = (value) => {
      editing = false;
      mount(td, shown(value));
      td.focus();
    };
    const save = async () => {
      if (!widget.validate()) return;
      const value = widget.read();
      if (JSON.stringify(value) === JSON.stringify(record[field.name] ?? null)) {
        close(record[field.name]);
        return;
      }
      try {
        const saved = await ctx.api.update(entity.name, key, { [field.name]: value }, { etag, quiet: true });
        record = saved.record;
        close(record[field.name]);
      } catch (error) {
        if (error instanceof ApiError && error.status === 412) widget.setError(t('cell.changed'));
        else if (error instanceof ApiError && error.errors[field.name]) widget.setError(error.errors[field.name]);
        else widget.setError(describe(error));
      }
    };
    widget.element.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') {
        event.preventDefault();
        event.stopPropagation();
        close(record[field.name]);
      } else if (event.key === 'Enter' && !event.target.closest('[role="combobox"]')) {
        event.preventDefault();
        event.stopPropagation();
        save();
      }
    });
    mount(td, widget.element);
    widget.focus();
  };
  td.addEventListener('dblclick', open);
  td.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && event.target === td) {
      event.preventDefault();
      open();
    }
  });
}

/** What screen readers hear on an editable cell (once per list, by id). */
export function cellHint() {
  return h('p', { id: 'cell-hint', class: 'sr-only' }, t('cell.hint'));
}
