// The filters of a list: the active ones, each with a widget for its field's type, and
// "Add filter". Their state lives in the list's URL (`filters={"status":{"eq":"draft"}}`);
// `apiFilters` turns it into the API's `_filters`.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { combobox } from '../combobox.js';

/** The filter bar. `go(changes, focusId)` moves the list; `ctx` is the view's context. */
export function filterBar(entity, state, fields, go, ctx) {
  // Pinned filters are always there (first, in their order), set or not; the others once added.
  const pinned = (entity.pinned_filters ?? []).filter((name) => fields.get(name));
  const shown = [...pinned, ...Object.keys(state.filters).filter((name) => !pinned.includes(name))];
  const available = entity.filters.filter((name) => !shown.includes(name) && fields.get(name));
  const set = (name, condition) => go({ filters: { ...state.filters, [name]: condition }, page: 1 });
  const active = shown.map((name) => {
    const field = fields.get(name);
    const condition = state.filters[name] ?? {};
    if (!field) return null;
    if (pinned.includes(name)) return h('div', { class: 'filter pinned' }, filterWidget(field, condition, (c) => set(name, c), ctx));
    const remove = h('button', {
      type: 'button', class: 'remove-filter', id: `filter-remove-${name}`, 'aria-label': t('list.remove_filter', { field: field.label }),
      onclick: () => {
        const rest = { ...state.filters };
        delete rest[name];
        go({ filters: rest, page: 1 }, 'add-filter');
      },
    }, '×');
    return h('div', { class: 'filter' }, filterWidget(field, condition, (c) => set(name, c), ctx), remove);
  });
  const add = available.length
    ? h('select', {
      id: 'add-filter', 'aria-label': t('list.add_filter'),
      onchange: (e) => {
        if (e.target.value) go({ filters: { ...state.filters, [e.target.value]: {} } }, `filter-${e.target.value}`);
      },
    }, h('option', { value: '' }, t('list.add_filter')), available.map((name) => h('option', { value: name }, fields.get(name).label)))
    : null;
  return h('div', { class: 'filters' }, active, add);
}

function filterWidget(field, condition, set, ctx) {
  const id = `filter-${field.name}`;
  const label = (forId, text) => h('label', { for: forId }, text);
  const onChange = (read) => (e) => set(read(e.target));
  switch (field.type) {
    case 'choice':
    case 'boolean': {
      const values = field.type === 'choice' ? field.choices.map((c) => [c, c]) : [['true', t('common.yes')], ['false', t('common.no')]];
      const current = condition.eq === undefined ? '' : String(condition.eq);
      return [label(id, field.label), h('select', {
        id, onchange: onChange((el) => (el.value === '' ? {} : { eq: field.type === 'boolean' ? el.value === 'true' : el.value })),
      }, h('option', { value: '' }, t('common.any')), values.map(([v, text]) => h('option', { value: v, selected: v === current }, text)))];
    }
    case 'integer':
    case 'float':
    case 'decimal':
    case 'date':
    case 'datetime': {
      const type = field.type === 'date' || field.type === 'datetime' ? 'date' : field.type === 'decimal' ? 'text' : 'number';
      const [lowText, highText] = type === 'date' ? [t('list.from'), t('list.to')] : [t('list.min'), t('list.max')];
      const bound = (op, text) => {
        const inputId = `${id}-${op}`;
        return [h('label', { for: inputId, class: 'sub' }, text), h('input', {
          id: inputId, type, step: type === 'number' ? 'any' : undefined, value: condition[op] ?? '', size: 10,
          onchange: (e) => {
            const next = { ...condition };
            if (e.target.value === '') delete next[op];
            else next[op] = type === 'number' ? Number(e.target.value) : e.target.value;
            set(next);
          },
        })];
      };
      return [h('span', { class: 'filter-label', id }, field.label), bound('gte', lowText), bound('lte', highText)];
    }
    case 'reference':
      return referenceFilter(field, condition, set, ctx, id);
    case 'many':
      return setFilter(field, condition, set, ctx, id);
    case 'multichoice': {
      // Holds any of the checked values.
      const chosen = new Set(condition.any ?? []);
      const boxes = field.choices.map((choice, i) => h('input', {
        type: 'checkbox', id: `${id}-${i}`, value: choice, checked: chosen.has(choice),
        onchange: () => {
          const any = boxes.filter((b) => b.checked).map((b) => b.value);
          set(any.length ? { any } : {});
        },
      }));
      return [h('span', { class: 'filter-label', id }, field.label),
        h('span', { class: 'choices', role: 'group', 'aria-labelledby': id },
          boxes.map((box, i) => h('label', { class: 'choice', for: box.id }, box, ' ', field.choices[i])))];
    }
    default:
      return [label(id, `${field.label} (${t('list.contains')})`), h('input', {
        id, type: 'search', value: condition.ilike ?? '',
        onchange: onChange((el) => (el.value === '' ? {} : { ilike: el.value })),
      })];
  }
}

/** A reference filter: a combobox over the target; its label shows the value from the URL. */
function referenceFilter(field, condition, set, ctx, id) {
  const target = ctx.configOf(field.target);
  const box = combobox({
    id, target, shown: field.display ?? target.primary_key, api: ctx.api, value: condition.eq ?? null,
    label: field.label, clearable: true, placeholder: t('common.any'),
    onChange: (key) => set(key === null ? {} : { eq: key }),
  });
  return [h('label', { for: id }, field.label), box.element];
}

/** A many-to-many filter: the records that hold any of the chosen (chips). */
function setFilter(field, condition, set, ctx, id) {
  const target = ctx.configOf(field.target);
  const chosen = condition.any ?? (condition.eq === undefined ? [] : [condition.eq]);
  const box = combobox({
    id, target, shown: field.display ?? target.primary_key, api: ctx.api, value: chosen,
    label: field.label, multiple: true, placeholder: t('common.any'),
    onChange: (keys) => set(keys.length ? { any: keys } : {}),
  });
  return [h('label', { for: id }, field.label), box.element];
}

/** The URL's filter state into the API's `_filters`: empty conditions dropped, date ranges
 * of datetime fields made inclusive of the last day. */
export function apiFilters(filters, fields) {
  const out = {};
  for (const [name, condition] of Object.entries(filters)) {
    const field = fields.get(name);
    if (!field || !condition || typeof condition !== 'object') continue;
    const copy = { ...condition };
    // A datetime's range is in days of the user's time zone, as the list shows its times.
    if (field.type === 'datetime' && isDay(copy.gte)) copy.gte = dayStart(copy.gte);
    if (field.type === 'datetime' && isDay(copy.lte)) {
      copy.lt = dayStart(copy.lte, 1);
      delete copy.lte;
    }
    if (Object.keys(copy).length) out[name] = copy;
  }
  return out;
}

const isDay = (value) => typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value);

/** The instant the local day `day` (plus `days`) starts (`2026-03-01` in Paris:
 * `2026-02-28T23:00:00.000Z`). */
function dayStart(day, days = 0) {
  const [year, month, date] = day.split('-').map(Number);
  return new Date(year, month - 1, date + days).toISOString();
}

export function parseFilters(text) {
  if (!text) return {};
  try {
    const value = JSON.parse(text);
    return value && typeof value === 'object' && !Array.isArray(value) ? value : {};
  } catch {
    return {};
  }
}
