// The active filters of a list as chips that read as a sentence part ("Author: Ada Lovelace",
// "Views: 10 to 50"), each with its remove button: what the list shows at a glance, with the
// records of reference and many-to-many filters named by their labels.

import { h } from '../dom.js';
import { t, formatNumber } from '../i18n.js';
import { fieldRefs } from '../refs.js';

/** The chips of `state.filters` (null when none is set); `go` moves the list. */
export async function filterChips(entity, state, fields, go, ctx) {
  const active = Object.entries(state.filters)
    .filter(([name, condition]) => fields.get(name) && condition && typeof condition === 'object' && Object.keys(condition).length);
  if (!active.length) return null;
  const labels = await referenceLabels(active, fields, ctx);
  const pinned = entity.pinned_filters ?? [];
  const remove = (name) => {
    const rest = { ...state.filters };
    if (pinned.includes(name)) rest[name] = {};
    else delete rest[name];
    go({ filters: rest, page: 1 }, 'list-heading');
  };
  return h('ul', { class: 'filter-chips', 'aria-label': t('chips.title') }, active.map(([name, condition]) => {
    const field = fields.get(name);
    const text = `${field.label}: ${describeCondition(field, condition, labels.get(name))}`;
    return h('li', { class: 'chip' }, h('span', {}, text),
      h('button', { type: 'button', class: 'chip-remove', id: `chip-remove-${name}`, 'aria-label': t('list.remove_filter', { field: field.label }), onclick: () => remove(name) }, '×'));
  }));
}

/** A condition in words: a value, a list, a range, a search. */
function describeCondition(field, condition, labels) {
  const value = (v) => {
    if (labels) return labels.get(String(v))?.[field.display] ?? `#${v}`;
    if (field.type === 'boolean') return v ? t('common.yes') : t('common.no');
    if (typeof v === 'number') return formatNumber(v);
    return String(v);
  };
  const list = (values) => values.map(value).join(', ');
  const parts = [];
  if (condition.eq !== undefined) parts.push(value(condition.eq));
  if (Array.isArray(condition.any)) parts.push(list(condition.any));
  if (Array.isArray(condition.all)) parts.push(t('chips.all', { values: list(condition.all) }));
  if (condition.is_empty === true) parts.push(t('chips.none'));
  if (condition.gte !== undefined && condition.lte !== undefined) parts.push(t('chips.between', { low: value(condition.gte), high: value(condition.lte) }));
  else if (condition.gte !== undefined) parts.push(t('chips.from', { low: value(condition.gte) }));
  else if (condition.lte !== undefined) parts.push(t('chips.to', { high: value(condition.lte) }));
  if (condition.ilike !== undefined) parts.push(t('chips.contains', { text: condition.ilike }));
  return parts.join(', ') || JSON.stringify(condition);
}

/** For reference and many-to-many filters, their records by key (one request per field). */
function referenceLabels(active, fields, ctx) {
  const conditions = new Map(active);
  return fieldRefs(active.map(([name]) => fields.get(name)), (field) => {
    const condition = conditions.get(field.name);
    return [condition.eq, ...(condition.any ?? []), ...(condition.all ?? [])];
  }, ctx);
}
