// Shows a value of a field as the user reads it. Returns text or a Node; never HTML.

import { h, safeHref } from './dom.js';
import { currentLocale, intl, t } from './i18n.js';
import { renderMarkdown } from './markdown.js';

/** `refs`: for reference and many-to-many fields, a Map key → target record; `configOf(name)`:
 * an entity. */
export function display(field, value, { refs, configOf, full = false } = {}) {
  if (value === null || value === undefined || value === '') return h('span', { class: 'muted' }, '—');
  if (field.format === 'markdown' && full) return renderMarkdown(value);
  switch (field.type) {
    case 'boolean':
      return value ? t('common.yes') : t('common.no');
    case 'date':
      return formatDate(value);
    case 'datetime':
      return formatDateTime(value);
    case 'json': {
      const text = JSON.stringify(value, null, full ? 2 : 0);
      return full ? h('pre', {}, text) : truncate(text, 60);
    }
    case 'text':
      return full ? h('p', { class: 'pre-wrap' }, value) : truncate(String(value), 80);
    case 'url': {
      const href = safeHref(value);
      return href ? h('a', { href, rel: 'noopener noreferrer', target: '_blank' }, value) : String(value);
    }
    case 'email': {
      const href = safeHref(`mailto:${value}`);
      return href ? h('a', { href }, value) : String(value);
    }
    case 'reference': {
      const target = configOf?.(field.target);
      const record = refs?.get(String(value));
      const label = record && field.display ? record[field.display] : value;
      if (!target) return String(label);
      return h('a', { href: `#/${target.name}/${encodeURIComponent(value)}` }, label === null ? String(value) : String(label));
    }
    case 'multichoice':
      return Array.isArray(value) && value.length ? value.join(', ') : h('span', { class: 'muted' }, '—');
    case 'inline':
      // Children, as a clash shows them: how many.
      return Array.isArray(value) ? t('inline.count', { n: value.length }) : String(value);
    case 'many': {
      // A many-to-many relation: the keys held, each by its label (from `refs`), linked.
      if (!Array.isArray(value) || !value.length) return h('span', { class: 'muted' }, '—');
      const target = configOf?.(field.target);
      const items = value.map((key) => {
        const record = refs?.get(String(key));
        const label = record && field.display && record[field.display] !== null ? String(record[field.display]) : `#${key}`;
        return target ? h('a', { href: `#/${target.name}/${encodeURIComponent(key)}` }, label) : label;
      });
      return h('span', { class: 'many' }, items.map((item, i) => (i ? [', ', item] : item)));
    }
    default:
      return String(value);
  }
}

function truncate(text, n) {
  return text.length > n ? `${text.slice(0, n - 1)}…` : text;
}

/** A date field's value is a calendar day: shown without any time zone shift. */
export function formatDate(value) {
  const date = new Date(`${value}T00:00:00Z`);
  if (Number.isNaN(date.getTime())) return String(value);
  return intl(Intl.DateTimeFormat, currentLocale(), { dateStyle: 'medium', timeZone: 'UTC' }).format(date);
}

export function formatDateTime(value) {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return intl(Intl.DateTimeFormat, currentLocale(), { dateStyle: 'medium', timeStyle: 'short' }).format(date);
}
