// Form inputs, one per field type, with client-side validation from the config's rules.
// Each widget: { element (the labelled row), input, read() → value to send | undefined,
// setError(message), focus() }.

import { h, debounce } from './dom.js';
import { t } from './i18n.js';

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
    case 'reference':
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
  const element = h('div', { class: `field field-${field.type}` }, label, input, error);
  return widget(field, element, input, error, read);
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

/**
 * A reference: a search box that asks the server (not capped: each search brings up to 20
 * matches, refine by typing) and a select of the matches, which holds the value.
 */
function referenceWidget(field, value, { id, error, errorId, configOf, onChange, api }) {
  const target = configOf(field.target);
  const shown = field.display ?? target.primary_key;
  const searchId = `${id}-search`;
  const search = h('input', { id: searchId, type: 'search', class: 'reference-search', 'aria-label': t('form.search_reference', { entity: target.label }), placeholder: t('form.search_reference', { entity: target.label }), disabled: field.read_only });
  const select = h('select', { id, name: field.name, 'aria-describedby': errorId, disabled: field.read_only, onchange: onChange },
    option('', field.required ? t('form.choose') : t('form.none'), value === null || value === undefined));
  if (field.required) select.required = true;
  const optionFor = (record) => option(String(record[target.primary_key]), `${record[shown] ?? ''} (#${record[target.primary_key]})`, false);
  let current = value;
  const fill = (records) => {
    const keep = select.value;
    select.replaceChildren(option('', field.required ? t('form.choose') : t('form.none'), false));
    for (const record of records) select.append(optionFor(record));
    select.value = keep;
    if (select.value !== keep && keep !== '') select.value = '';
  };
  const find = debounce(async () => {
    const selected = current === null || current === undefined ? null : String(current);
    fill(await referenceOptions(api, target, shown, search.value, selected));
    if (selected) select.value = selected;
  }, 250);
  search.addEventListener('input', find);
  select.addEventListener('change', () => {
    current = select.value === '' ? null : select.value;
  });
  find();
  const label = h('label', { for: id }, field.label, field.required ? h('span', { class: 'required', 'aria-hidden': 'true' }, ' *') : null);
  const element = h('div', { class: 'field field-reference' }, label, h('div', { class: 'reference' }, search, select), error);
  const read = () => {
    if (select.value === '') return null;
    return target.key_type === 'integer' ? Number(select.value) : select.value;
  };
  return widget(field, element, select, error, read);
}

/** The descriptor's regex, as far as JavaScript reads it; one it cannot read is the server's to check. */
function matches(pattern, text) {
  try {
    return new RegExp(pattern, 'u').test(text);
  } catch {
    return true;
  }
}

/**
 * Up to 20 records of `target` matching `text` (its quick search, else its `shown` field),
 * with the `current` one always among them: a reference picker is never capped, it narrows.
 * `api` is the app's client.
 */
export async function referenceOptions(api, target, shown, text, current) {
  const query = { page: 1, perPage: 20, sort: shown };
  const needle = text.trim();
  if (needle) {
    if (target.search.length) query.q = needle;
    else query.filters = { [shown]: { ilike: needle } };
  }
  const { rows } = await api.list(target.name, query);
  if (current !== null && current !== undefined && !rows.some((r) => String(r[target.primary_key]) === String(current))) {
    const record = await api.getOne(target.name, current).catch(() => null);
    if (record) rows.unshift(record);
  }
  return rows;
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
