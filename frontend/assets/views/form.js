// Create and edit: a widget per field, client-side validation from the config's rules, the
// server's field errors (422, 409) shown at their field, and a warning before unsaved
// changes are lost.

import { h, mount } from '../dom.js';
import { ApiError } from '../api.js';
import { fieldWidget } from '../widgets.js';
import { t } from '../i18n.js';
import { describe } from '../errors.js';

export async function render(main, entity, id, ctx) {
  const editing = id !== null;
  const record = editing ? await ctx.api.getOne(entity.name, id) : null;
  if (ctx.stale()) return;
  const key = record?.[entity.primary_key];
  const title = editing ? t('form.edit_title', { entity: entity.label, id: key }) : t('form.create_title', { entity: entity.label });
  document.title = `${title} · ${ctx.config.title}`;
  let dirty = false;
  ctx.setGuard(() => dirty);
  const markDirty = () => { dirty = true; };
  const fields = entity.fields.filter((f) => {
    const isKey = f.name === entity.primary_key;
    if (editing) return !isKey;
    return !f.read_only && !(isKey && entity.key_generated);
  });
  const widgets = fields.map((field) => {
    const value = editing ? record[field.name] : field.default ?? undefined;
    return fieldWidget(field, value, { mode: editing ? 'edit' : 'create', configOf: ctx.configOf, onChange: markDirty, api: ctx.api });
  });
  const submit = h('button', { type: 'submit', class: 'primary', id: 'save' }, t('common.save'));
  const form = h('form', { class: 'record-form', novalidate: true }, widgets.map((w) => w.element),
    h('div', { class: 'buttons' },
      h('a', { class: 'button', href: editing ? `#/${entity.name}/${encodeURIComponent(key)}` : `#/${entity.name}` }, t('common.cancel')),
      submit));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const invalid = widgets.filter((w) => !w.validate());
    if (invalid.length) {
      invalid[0].focus();
      ctx.toast(t('form.invalid'), 'error');
      return;
    }
    const body = {};
    for (const widget of widgets) {
      if (widget.field.read_only) continue;
      const value = widget.read();
      if (value !== undefined) body[widget.field.name] = value;
    }
    submit.disabled = true;
    try {
      const saved = editing ? await ctx.api.update(entity.name, key, body) : await ctx.api.create(entity.name, body);
      dirty = false;
      ctx.toast(editing ? t('form.saved') : t('form.created'), 'success');
      ctx.navigate(`#/${entity.name}/${encodeURIComponent(saved[entity.primary_key])}`);
    } catch (error) {
      submit.disabled = false;
      const fieldErrors = error instanceof ApiError ? error.errors : {};
      let first = null;
      for (const widget of widgets) {
        const message = fieldErrors[widget.field.name];
        widget.setError(message ?? null);
        if (message && !first) first = widget;
      }
      first?.focus();
      ctx.toast(describe(error), 'error');
    }
  });
  mount(main, h('h1', {}, title), form);
  widgets.find((w) => !w.field.read_only)?.focus();
}
