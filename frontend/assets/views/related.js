// The records of a one-to-many relation that point at a record: a list with its own paging
// and sorting, on the record's page and under its edit form, and "Add one here", which opens
// the child's form with the reference filled in and comes back here after saving.

import { h, mount } from '../dom.js';
import { can } from '../access.js';
import { display } from '../format.js';
import { t, formatNumber } from '../i18n.js';
import { describe } from '../errors.js';
import { columnRefs } from '../refs.js';

const PER_PAGE = 10;

/** The section of `relation` (of `entity`) for the record `key`. */
export function relatedList(entity, relation, key, ctx) {
  const target = ctx.configOf(relation.target);
  const section = h('section', { class: 'related', 'aria-labelledby': `rel-${relation.name}` });
  const heading = h('h2', { id: `rel-${relation.name}` }, relation.label);
  if (!target) return mount(section, heading);
  const columns = target.list_columns.filter((name) => name !== relation.foreign_key)
    .map((name) => [...target.fields, ...target.sets].find((f) => f.name === name)).filter(Boolean);
  // "Add one here": the child's form, its reference to this record filled in, then back.
  const back = `#/${entity.name}/${encodeURIComponent(key)}`;
  const create = can(target, 'add')
    ? h('a', {
      class: 'button', id: `rel-${relation.name}-create`,
      href: `#/${target.name}/create?${new URLSearchParams({ [relation.foreign_key]: key, back })}`,
    }, t('related.create', { item: target.label_singular }))
    : null;
  const body = h('div', {});
  mount(section, h('div', { class: 'list-head' }, heading, create), body);
  const state = { page: 1, sort: target.default_sort.field, dir: target.default_sort.direction };

  const load = async (focusId = null) => {
    const { page, sort, dir } = state;
    try {
      const { rows, total } = await ctx.api.list(target.name, {
        page, perPage: PER_PAGE, sort, dir, filters: { [relation.foreign_key]: key },
      });
      if (!rows.length && page === 1) return mount(body, h('p', { class: 'muted' }, t('show.no_related')));
      const pages = total === null ? page + (rows.length === PER_PAGE ? 1 : 0) : Math.ceil(total / PER_PAGE);
      const first = (page - 1) * PER_PAGE + 1;
      const go = (changes, id) => {
        Object.assign(state, changes);
        load(id);
      };
      const header = (field) => {
        const by = field.type === 'reference' && field.display ? `${field.name}.${field.display}` : field.name;
        const active = sort === by || sort === field.name;
        const next = active && dir === 'ASC' ? 'DESC' : 'ASC';
        const id = `rel-${relation.name}-sort-${field.name}`;
        if (field.type === 'many') return h('th', { scope: 'col' }, field.label);
        return h('th', { scope: 'col', 'aria-sort': active ? (dir === 'ASC' ? 'ascending' : 'descending') : 'none' },
          h('button', {
            type: 'button', class: 'sort', id, 'aria-label': t('list.sort_by', { field: field.label }),
            onclick: () => go({ sort: by, dir: next, page: 1 }, id),
          }, field.label, h('span', { class: 'sort-mark', 'aria-hidden': 'true' }, active ? (dir === 'ASC' ? ' ▲' : ' ▼') : '')));
      };
      const refs = await columnRefs(columns, rows, ctx);
      const cell = (f, row, i) => {
        const shown = display(f, row[f.name], { configOf: ctx.configOf, refs: refs.get(f.name) });
        return h('td', {}, i === 0 ? h('a', { href: `#/${target.name}/${encodeURIComponent(row[target.primary_key])}` }, shown) : shown);
      };
      mount(body,
        h('div', { class: 'table-wrap' }, h('table', { class: 'list' },
          h('caption', { class: 'sr-only' }, relation.label),
          h('thead', {}, h('tr', {}, columns.map(header))),
          h('tbody', {}, rows.map((row) => h('tr', {}, columns.map((f, i) => cell(f, row, i))))))),
        h('nav', { class: 'pager', 'aria-label': relation.label },
          h('span', { class: 'range' }, total === null
            ? t('list.range_unknown', { first: formatNumber(first), last: formatNumber(first + rows.length - 1) })
            : t('list.range', { first: formatNumber(first), last: formatNumber(first + rows.length - 1), total: formatNumber(total) })),
          h('button', { type: 'button', id: `rel-${relation.name}-prev`, 'aria-label': t('list.previous'), disabled: page <= 1, onclick: () => go({ page: page - 1 }, `rel-${relation.name}-prev`) }, '‹'),
          h('button', { type: 'button', id: `rel-${relation.name}-next`, 'aria-label': t('list.next'), disabled: page >= pages, onclick: () => go({ page: page + 1 }, `rel-${relation.name}-next`) }, '›')));
      if (focusId) document.getElementById(focusId)?.focus();
    } catch (error) {
      mount(body, h('p', { class: 'muted' }, describe(error)));
    }
    return undefined;
  };
  load();
  return section;
}
