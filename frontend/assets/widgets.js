// Form inputs, one per field type, with client-side validation from the config's rules.
// Each widget: { element (the labelled row), input, read() → value to send | undefined,
// setError(message), focus() }.

import { h } from './dom.js';
import { t } from './i18n.js';
import { combobox } from './combobox.js';
import { renderMarkdown } from './markdown.js';

/**
 * A form row for `field`, showing `value`; `mode` is 'create' or 'edit'. Its element ids
 * start with `idPrefix`, which is unique in the page per form (one form, one prefix).
 */
export function fieldWidget(field, value, { mode, configOf, onChange, api, idPrefix = 'f' }) {
  const id = `${idPrefix}-${field.name}`;
  const errorId = `${id}-error`;
  const disabled = field.read_only;
  const common = { id, name: field.name, 'aria-describedby': errorId, disabled, oninput: onChange, onchange: onChange };
  const error = h('p', { class: 'field-error', id: errorId, role: 'alert' });
  let input;
  let read;
  switch (field.type) {
    case 'text':
      input = h('textarea', { ...common, rows: 5, maxlength: field.max_length, value: value ?? '' });
      read = () => nullIfEmpty(input.value, field);
      break;
    case 'json':
      input = h('textarea', { ...common, rows: 6, class: 'mono', value: value === undefined || value === null ? '' : JSON.stringify(value, null, 2) });
      read = () => (input.value.trim() === '' ? null : JSON.parse(input.value));
      break;
    case 'boolean':
      if (field.nullable) {
        input = h('select', common, option('', t('form.none'), value === null || value === undefined), option('true', t('common.yes'), value === true), option('false', t('common.no'), value === false));
        read = () => (input.value === '' ? null : input.value === 'true');
      } else {
        input = h('input', { ...common, type: 'checkbox', checked: value ?? field.default ?? false });
        read = () => input.checked;
      }
      break;
    case 'choice':
      input = h('select', common,
        option('', field.required ? t('form.choose') : t('form.none'), value === null || value === undefined),
        field.choices.map((c) => option(c, c, c === value)));
      read = () => nullIfEmpty(input.value, field);
      break;
    case 'integer':
      input = h('input', { ...common, type: 'number', step: 1, min: field.min, max: field.max, value: value ?? '' });
      read = () => (input.value === '' ? null : Number(input.value));
      break;
    case 'float':
      input = h('input', { ...common, type: 'number', step: 'any', min: field.min, max: field.max, value: value ?? '' });
      read = () => (input.value === '' ? null : Number(input.value));
      break;
    case 'decimal':
      input = h('input', { ...common, type: 'text', inputmode: 'decimal', pattern: '-?[0-9]+([.,][0-9]+)?', value: value ?? '' });
      read = () => (input.value.trim() === '' ? null : input.value.trim().replace(',', '.'));
      break;
    case 'date':
      input = h('input', { ...common, type: 'date', value: value ?? '' });
      read = () => nullIfEmpty(input.value, field);
      break;
    case 'datetime':
      input = h('input', { ...common, type: 'datetime-local', step: 1, value: value ? toLocalInput(value) : '' });
      read = () => (input.value === '' ? null : new Date(input.value).toISOString());
      break;
    case 'time':
      input = h('input', { ...common, type: 'time', step: 1, value: value ?? '' });
      read = () => nullIfEmpty(input.value.length === 5 ? `${input.value}:00` : input.value, field);
      break;
    case 'password':
      input = h('input', { ...common, type: 'password', autocomplete: 'new-password', placeholder: mode === 'edit' ? t('form.password_unchanged') : undefined });
      read = () => (input.value === '' ? undefined : input.value);
      break;
    case 'multichoice':
      return choicesWidget(field, value, { id, error, errorId, onChange });
    case 'reference':
    case 'many':
      return referenceWidget(field, value, { id, error, errorId, configOf, onChange, api });
    default: {
      const type = field.type === 'email' ? 'email' : field.type === 'url' ? 'url' : 'text';
      // The descriptor's pattern is checked in check(), as the server does (unanchored): the
      // HTML pattern attribute has other syntax (the `v` flag) and is anchored.
      input = h('input', { ...common, type, maxlength: field.max_length, minlength: field.min_length, value: value ?? '' });
      read = () => nullIfEmpty(input.value, field);
    }
  }
  if (field.required && field.type !== 'boolean' && !(field.type === 'password' && mode === 'edit')) input.required = true;
  const label = h('label', { for: id }, field.label, field.required ? h('span', { class: 'required', 'aria-hidden': 'true' }, ' *') : null);
  const element = h('div', { class: `field field-${field.type}` }, label, input, field.format === 'markdown' ? preview(id, input) : null, error);
  const w = widget(field, element, input, error, read);
  // JSON is checked as it is typed.
  if (field.type === 'json') input.addEventListener('input', () => w.validate());
  return w;
}

/** A markdown text's preview: a button shows it under the input, kept up to date as it is
 * typed. */
function preview(id, input) {
  const pane = h('div', { class: 'markdown-preview', id: `${id}-preview`, hidden: true, 'aria-live': 'polite', 'aria-label': t('form.preview') });
  const draw = () => pane.replaceChildren(renderMarkdown(input.value));
  const button = h('button', { type: 'button', class: 'preview-toggle', id: `${id}-preview-toggle`, 'aria-controls': pane.id, 'aria-pressed': 'false' }, t('form.preview'));
  button.addEventListener('click', () => {
    pane.hidden = !pane.hidden;
    button.setAttribute('aria-pressed', String(!pane.hidden));
    if (!pane.hidden) draw();
  });
  input.addEventListener('input', () => {
    if (!pane.hidden) draw();
  });
  return [button, pane];
}

function widget(field, element, input, error, read) {
  return {
    field,
    element,
    input,
    read,
    validate() {
      const message = check(field, input, read);
      this.setError(message);
      return !message;
    },
    setError(message) {
      error.textContent = message ?? '';
      element.classList.toggle('invalid', Boolean(message));
      input.setAttribute('aria-invalid', message ? 'true' : 'false');
    },
    focus() {
      input.focus();
    },
  };
}

/** Our own messages (the browser's differ by browser); `null` when the value is fine. */
function check(field, input, read) {
  if (field.read_only) return null;
  // A combobox's text is a search; its value is the pick.
  if (field.type === 'reference') return field.required && read() === null ? t('form.required') : null;
  if (field.type === 'many') return null;
  if (field.type === 'multichoice') return field.required && !read().length ? t('form.required') : null;
  if (field.type === 'json') {
    try {
      read();
    } catch {
      return t('form.json_invalid');
    }
  }
  const v = input.validity;
  if (!v) return null;
  if (v.valueMissing) return t('form.required');
  if (v.tooShort) return t('form.too_short', { n: field.min_length });
  if (v.tooLong) return t('form.too_long', { n: field.max_length });
  if (v.rangeUnderflow) return t('form.too_small', { n: field.min });
  if (v.rangeOverflow) return t('form.too_large', { n: field.max });
  if (v.stepMismatch) return t('form.integer');
  if (v.badInput) return t('form.number');
  if (v.typeMismatch) return field.type === 'email' ? t('form.email') : t('form.url');
  if (v.patternMismatch) return t('form.pattern');
  const text = input.value ?? '';
  if (field.min_length && text && [...text].length < field.min_length) return t('form.too_short', { n: field.min_length });
  if (field.pattern && text && !matches(field.pattern, text)) return t('form.pattern');
  if (field.type === 'decimal' && text) {
    const n = Number(text.replace(',', '.'));
    if (field.min !== null && n < field.min) return t('form.too_small', { n: field.min });
    if (field.max !== null && n > field.max) return t('form.too_large', { n: field.max });
  }
  return null;
}

/** A reference (one record) or a many-to-many relation (a set of them, as chips): a
 * combobox over the target's records (combobox.js). */
function referenceWidget(field, value, { id, error, errorId, configOf, onChange, api }) {
  const target = configOf(field.target);
  const box = combobox({
    id, target, shown: field.display ?? target.primary_key, api, value, label: field.label,
    multiple: field.type === 'many', clearable: !field.required, disabled: field.read_only,
    describedBy: errorId, onChange,
  });
  box.input.name = field.name;
  const label = h('label', { for: id }, field.label, field.required ? h('span', { class: 'required', 'aria-hidden': 'true' }, ' *') : null);
  const element = h('div', { class: `field field-${field.type}` }, label, box.element, error);
  return widget(field, element, box.input, error, box.value);
}

/** A multi-choice field: a group of checkboxes, one per choice. */
function choicesWidget(field, value, { id, error, errorId, onChange }) {
  const chosen = new Set(Array.isArray(value) ? value : []);
  const boxes = field.choices.map((choice, i) => h('input', {
    type: 'checkbox', id: `${id}-${i}`, name: field.name, value: choice, checked: chosen.has(choice),
    disabled: field.read_only, onchange: onChange,
  }));
  const legend = h('legend', {}, field.label, field.required ? h('span', { class: 'required', 'aria-hidden': 'true' }, ' *') : null);
  const element = h('fieldset', { class: 'field field-multichoice', id, 'aria-describedby': errorId },
    legend,
    h('div', { class: 'choices' }, boxes.map((box, i) => h('label', { class: 'choice', for: box.id }, box, ' ', field.choices[i]))),
    error);
  // Null when none is chosen on an optional field, as the API stores "no value".
  const read = () => {
    const checked = boxes.filter((b) => b.checked).map((b) => b.value);
    return checked.length || field.required ? checked : (value === null || value === undefined ? null : []);
  };
  const box = { validity: null, focus: () => boxes[0]?.focus(), setAttribute: (n, v) => element.setAttribute(n, v) };
  const w = widget(field, element, box, error, read);
  w.focus = () => boxes[0]?.focus();
  return w;
}

/** The descriptor's regex, as far as JavaScript reads it; one it cannot read is the server's to check. */
function matches(pattern, text) {
  try {
    return new RegExp(pattern, 'u').test(text);
  } catch {
    return true;
  }
}

function option(value, text, selected) {
  return h('option', { value, selected }, text);
}

function nullIfEmpty(text, field) {
  return text === '' && !field.required ? null : text;
}

/** `2024-05-01T12:30:00Z` → the local `2024-05-01T14:30:00` of a datetime-local input. */
function toLocalInput(value) {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return '';
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}
