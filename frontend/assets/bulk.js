// "Edit selected": values for chosen fields, set on every selected record in one request
// (`PATCH /{entity}?ids=[…]`), all or nothing. When the server refuses, the dialog stays
// open and says which record and field, as the server named them (`{id}.{field}`).

import { h, mount } from './dom.js';
import { ApiError } from './api.js';
import { t } from './i18n.js';
import { describe } from './errors.js';
import { fieldWidget } from './widgets.js';

/** The fields a bulk edit may set: writable, not the key, not a password. */
function editable(entity) {
  return [...entity.fields, ...entity.sets].filter((f) => !f.read_only && f.type !== 'password' && f.name !== entity.primary_key);
}

/** Asks for the values and writes them to the records of `keys`; `done()` after a write. */
export function editSelected(entity, keys, ctx, done) {
  const dialog = document.getElementById('confirm');
  const fields = editable(entity);
  const rows = new Map();
  const list = h('div', { class: 'bulk-fields' });
  const problems = h('div', { class: 'field-error', id: 'bulk-errors', role: 'alert' });
  const apply = h('button', { type: 'submit', class: 'primary', id: 'bulk-apply', disabled: true }, t('bulk.apply', { n: keys.length }));
  const chooser = h('select', { id: 'bulk-add', 'aria-label': t('bulk.add_field') });
  const fillChooser = () => mount(chooser, h('option', { value: '' }, t('bulk.add_field')),
    fields.filter((f) => !rows.has(f.name)).map((f) => h('option', { value: f.name }, f.label)));
  const add = (field) => {
    // Once refused, a field is checked again as it is corrected.
    const recheck = () => {
      if (widget.element.classList.contains('invalid')) widget.validate();
    };
    const widget = fieldWidget(field, field.type === 'many' || field.type === 'multichoice' ? [] : field.default ?? null, {
      mode: 'edit', configOf: ctx.configOf, api: ctx.api, idPrefix: 'bulk', onChange: recheck,
    });
    const remove = h('button', { type: 'button', class: 'remove-field', 'aria-label': t('bulk.remove_field', { field: field.label }) }, '×');
    const row = h('div', { class: 'bulk-row' }, widget.element, remove);
    remove.addEventListener('click', () => {
      rows.delete(field.name);
      row.remove();
      fillChooser();
      apply.disabled = rows.size === 0;
      chooser.focus();
    });
    rows.set(field.name, widget);
    list.append(row);
    fillChooser();
    apply.disabled = false;
    widget.focus();
  };
  chooser.addEventListener('change', () => {
    const field = fields.find((f) => f.name === chooser.value);
    if (field) add(field);
  });
  fillChooser();
  return new Promise((resolve) => {
    const finish = (answer) => {
      dialog.close();
      resolve(answer);
    };
    const form = h('form', { class: 'bulk record-form', novalidate: true },
      h('h2', { id: 'bulk-title' }, t('bulk.title', { n: keys.length })),
      chooser, list, problems,
      h('div', { class: 'buttons' },
        h('button', { type: 'button', id: 'bulk-cancel', onclick: () => finish(false) }, t('common.cancel')), apply));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      problems.textContent = '';
      const invalid = [...rows.values()].filter((w) => !w.validate());
      if (invalid.length) return invalid[0].focus();
      const body = Object.fromEntries([...rows].map(([name, widget]) => [name, widget.read()]));
      apply.disabled = true;
      try {
        await ctx.api.updateMany(entity.name, keys, body);
        ctx.toast(t('bulk.done', { n: keys.length }), 'success');
        finish(true);
        done();
      } catch (error) {
        apply.disabled = false;
        mount(problems, refusal(entity, error, fields));
      }
      return undefined;
    });
    mount(dialog, form);
    dialog.setAttribute('aria-labelledby', 'bulk-title');
    dialog.addEventListener('cancel', (event) => { event.preventDefault(); finish(false); }, { once: true });
    dialog.addEventListener('close', () => dialog.removeAttribute('aria-labelledby'), { once: true });
    dialog.showModal();
    chooser.focus();
  });
}

/** Why the server refused: a line per record and field (`Post #12, Views: must be at least 0`). */
function refusal(entity, error, fields) {
  const errors = error instanceof ApiError ? error.errors : {};
  if (!Object.keys(errors).length) return describe(error);
  return h('ul', {}, Object.entries(errors).map(([at, message]) => {
    const dot = at.lastIndexOf('.');
    const [id, name] = dot < 0 ? [null, at] : [at.slice(0, dot), at.slice(dot + 1)];
    const label = fields.find((f) => f.name === name)?.label ?? name;
    return h('li', {}, id === null ? `${label}: ${message}` : `${entity.label_singular} #${id}, ${label}: ${message}`);
  }));
}
