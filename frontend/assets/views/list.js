// The list of an entity: columns, sorting, paging, quick search, filters, selection with
// batch delete, CSV export. Its state lives in the URL (#/posts?page=2&sort=views&dir=DESC),
// so every view has a link and reload keeps it.

import { h, mount, debounce } from '../dom.js';
import * as api from '../api.js';
import { display } from '../format.js';
import { t, formatNumber } from '../i18n.js';
import { describe } from '../errors.js';
import { referenceOptions } from '../widgets.js';

const PAGE_SIZES = [10, 25, 50, 100];
// The id of the element to give focus back to after the list is drawn again.
let refocus = null;

export async function render(main, entity, ctx) {
  const query = ctx.query;
  const state = {
    page: Math.max(1, Number.parseInt(query.get('page'), 10) || 1),
    perPage: Math.min(ctx.config.max_per_page, Number.parseInt(query.get('perPage'), 10) || entity.per_page),
    sort: query.get('sort') || entity.default_sort.field,
    dir: (query.get('dir') || entity.default_sort.direction).toUpperCase() === 'DESC' ? 'DESC' : 'ASC',
    q: query.get('q') || '',
    filters: parseFilters(query.get('filters')),
  };
  const fields = new Map(entity.fields.map((f) => [f.name, f]));
  const columns = entity.list_columns.map((name) => fields.get(name)).filter(Boolean);
  const go = (changes, focusId) => {
    refocus = focusId ?? document.activeElement?.id ?? null;
    const next = { ...state, ...changes };
    ctx.setQuery({
      page: next.page > 1 ? next.page : undefined,
      perPage: next.perPage !== entity.per_page ? next.perPage : undefined,
      sort: next.sort !== entity.default_sort.field ? next.sort : undefined,
      dir: next.dir !== entity.default_sort.direction || next.sort !== entity.default_sort.field ? next.dir : undefined,
      q: next.q || undefined,
      filters: Object.keys(next.filters).length ? JSON.stringify(next.filters) : undefined,
    });
  };
  document.title = `${entity.label} · ${ctx.config.title}`;

  let rows = [];
  let total = 0;
  let estimated = false;
  try {
    ({ rows, total, estimated } = await api.list(entity.name, {
      page: state.page, perPage: state.perPage, sort: state.sort, dir: state.dir,
      q: state.q, filters: apiFilters(state.filters, fields),
    }));
  } catch (error) {
    if (ctx.stale()) return;
    if (!(error instanceof api.ApiError) || error.status !== 400) throw error;
    ctx.toast(describe(error), 'error');
  }
  // One request per referenced entity for the whole page, not one per row.
  const refs = new Map();
  await Promise.all(columns.filter((f) => f.type === 'reference').map(async (field) => {
    const target = ctx.configOf(field.target);
    if (!target || !field.display) return;
    try {
      refs.set(field.name, await api.byKeys(target.name, target.primary_key, rows.map((r) => r[field.name])));
    } catch {
      refs.set(field.name, new Map());
    }
  }));
  if (ctx.stale()) return;

  const selected = new Set();
  const deleteSelected = h('button', { type: 'button', class: 'danger', id: 'delete-selected', disabled: true }, t('list.delete_selected', { n: 0 }));
  const selectAll = h('input', { type: 'checkbox', id: 'select-all', 'aria-label': t('list.select_all') });
  const rowBoxes = [];
  const updateSelection = () => {
    deleteSelected.disabled = selected.size === 0;
    deleteSelected.textContent = t('list.delete_selected', { n: selected.size });
    selectAll.checked = rows.length > 0 && selected.size === rows.length;
    selectAll.indeterminate = selected.size > 0 && selected.size < rows.length;
  };
  selectAll.addEventListener('change', () => {
    for (const [box, key] of rowBoxes) {
      box.checked = selectAll.checked;
      if (selectAll.checked) selected.add(key);
      else selected.delete(key);
    }
    updateSelection();
  });
  deleteSelected.addEventListener('click', async () => {
    const keys = [...selected];
    if (!(await ctx.confirm(t('list.confirm_batch', { n: keys.length })))) return;
    try {
      await api.removeMany(entity.name, keys);
      ctx.toast(t('list.deleted_many', { n: keys.length }), 'success');
      refocus = 'list-heading';
      await render(main, entity, ctx);
    } catch (error) {
      ctx.toast(describe(error), 'error');
    }
  });

  const sortHeader = (field) => {
    const active = state.sort === field.name;
    const nextDir = active && state.dir === 'ASC' ? 'DESC' : 'ASC';
    return h('th', { scope: 'col', 'aria-sort': active ? (state.dir === 'ASC' ? 'ascending' : 'descending') : 'none' },
      h('button', {
        type: 'button', class: 'sort', id: `sort-${field.name}`, 'aria-label': t('list.sort_by', { field: field.label }),
        onclick: () => go({ sort: field.name, dir: nextDir, page: 1 }, `sort-${field.name}`),
      }, field.label, h('span', { class: 'sort-mark', 'aria-hidden': 'true' }, active ? (state.dir === 'ASC' ? ' ▲' : ' ▼') : '')));
  };
  const keyOf = (row) => row[entity.primary_key];
  const body = rows.map((row) => {
    const key = keyOf(row);
    const box = h('input', { type: 'checkbox', 'aria-label': t('list.select_row', { id: key }), onchange: () => {
      if (box.checked) selected.add(key);
      else selected.delete(key);
      updateSelection();
    } });
    rowBoxes.push([box, key]);
    const link = `#/${entity.name}/${encodeURIComponent(key)}`;
    return h('tr', {},
      h('td', { class: 'select' }, box),
      columns.map((field, i) => h('td', { class: `cell-${field.type}` },
        i === 0 ? h('a', { href: link }, display(field, row[field.name], { refs: refs.get(field.name), configOf: ctx.configOf }))
          : display(field, row[field.name], { refs: refs.get(field.name), configOf: ctx.configOf }))),
      h('td', { class: 'actions' },
        h('a', { href: link }, t('common.show')),
        entity.permissions?.edit === false || entity.read_only ? null : h('a', { href: `${link}/edit` }, t('common.edit'))));
  });

  const exportHref = api.url(`/${entity.name}/export.csv`, {
    _sortField: state.sort, _sortDir: state.dir, q: state.q,
    _filters: Object.keys(apiFilters(state.filters, fields)).length ? JSON.stringify(apiFilters(state.filters, fields)) : undefined,
  }).href;

  const search = entity.search.length ? searchBox(state, go) : null;
  const filterBar = filters(entity, state, fields, go, ctx);
  mount(main,
    h('div', { class: 'list-head' },
      h('h1', { id: 'list-heading', tabindex: '-1' }, entity.label),
      h('div', { class: 'toolbar' },
        entity.permissions?.add === false || entity.read_only ? null : h('a', { class: 'button primary', href: `#/${entity.name}/create`, id: 'create' }, t('common.create')),
        h('a', { class: 'button', href: exportHref, download: `${entity.name}.csv`, id: 'export' }, t('list.export')),
        entity.permissions?.delete === false || entity.read_only ? null : deleteSelected)),
    h('div', { class: 'list-filters' }, search, filterBar),
    h('div', { class: 'table-wrap' },
      h('table', { class: 'list' },
        h('caption', { class: 'sr-only' }, entity.label),
        h('thead', {}, h('tr', {},
          h('th', { class: 'select', scope: 'col' }, selectAll),
          columns.map(sortHeader),
          h('th', { scope: 'col', class: 'actions' }, t('common.actions')))),
        h('tbody', {}, body))),
    rows.length ? null : h('p', { class: 'empty' }, t('list.empty')),
    pager(state, { total, estimated, rows: rows.length }, go));
  updateSelection();
  if (entity.read_only || entity.permissions?.delete === false) selectAll.disabled = true;
  if (refocus) {
    document.getElementById(refocus)?.focus();
    refocus = null;
  }
}

function searchBox(state, go) {
  const input = h('input', { type: 'search', id: 'list-search', value: state.q, 'aria-label': t('list.search'), placeholder: t('list.search') });
  const submit = () => {
    if (input.value !== state.q) go({ q: input.value, page: 1 }, 'list-search');
  };
  input.addEventListener('input', debounce(submit, 400));
  return h('form', { class: 'search', role: 'search', onsubmit: (e) => { e.preventDefault(); submit(); } }, input);
}

/** Active filters, each with a widget for its type, and "Add filter". */
function filters(entity, state, fields, go, ctx) {
  const available = entity.filters.filter((name) => !(name in state.filters) && fields.get(name));
  const set = (name, condition) => go({ filters: { ...state.filters, [name]: condition }, page: 1 });
  const active = Object.entries(state.filters).map(([name, condition]) => {
    const field = fields.get(name);
    if (!field) return null;
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
    default:
      return [label(id, `${field.label} (${t('list.contains')})`), h('input', {
        id, type: 'search', value: condition.ilike ?? '',
        onchange: onChange((el) => (el.value === '' ? {} : { ilike: el.value })),
      })];
  }
}

/** A reference filter: search the target, pick one. */
function referenceFilter(field, condition, set, ctx, id) {
  const target = ctx.configOf(field.target);
  const shown = field.display ?? target.primary_key;
  const select = h('select', { id, onchange: (e) => set(e.target.value === '' ? {} : { eq: target.key_type === 'integer' ? Number(e.target.value) : e.target.value }) },
    h('option', { value: '' }, t('common.any')));
  const search = h('input', { type: 'search', id: `${id}-search`, 'aria-label': t('form.search_reference', { entity: target.label }), placeholder: t('form.search_reference', { entity: target.label }) });
  const load = debounce(async () => {
    const current = condition.eq === undefined ? null : String(condition.eq);
    const rows = await referenceOptions(target, shown, search.value, current);
    select.replaceChildren(h('option', { value: '' }, t('common.any')),
      rows.map((r) => h('option', { value: String(r[target.primary_key]), selected: String(r[target.primary_key]) === current }, `${r[shown] ?? ''} (#${r[target.primary_key]})`)));
  }, 250);
  search.addEventListener('input', load);
  load();
  return [h('label', { for: id }, field.label), search, select];
}

/** The URL's filter state into the API's `_filters`: empty conditions dropped, date ranges
 * of datetime fields made inclusive of the last day. */
function apiFilters(filters, fields) {
  const out = {};
  for (const [name, condition] of Object.entries(filters)) {
    const field = fields.get(name);
    if (!field || !condition || typeof condition !== 'object') continue;
    const copy = { ...condition };
    if (field.type === 'datetime' && copy.lte) copy.lte = `${copy.lte}T23:59:59.999Z`;
    if (Object.keys(copy).length) out[name] = copy;
  }
  return out;
}

function parseFilters(text) {
  if (!text) return {};
  try {
    const value = JSON.parse(text);
    return value && typeof value === 'object' && !Array.isArray(value) ? value : {};
  } catch {
    return {};
  }
}

/** "1–25 of 1,000" ("of about 1,000" for an estimate, no total when not counted),
 * numbered pages around the current one (previous/next only without a total), and the
 * page size. */
function pager(state, { total, estimated, rows }, go) {
  const known = total !== null;
  // Without a total, there is a next page when this one is full.
  const pages = known ? Math.max(1, Math.ceil(total / state.perPage)) : state.page + (rows === state.perPage ? 1 : 0);
  const first = rows === 0 ? 0 : (state.page - 1) * state.perPage + 1;
  const last = (state.page - 1) * state.perPage + rows;
  const range = !known
    ? t('list.range_unknown', { first: formatNumber(first), last: formatNumber(last) })
    : t(estimated ? 'list.range_about' : 'list.range', { first: formatNumber(first), last: formatNumber(last), total: formatNumber(total) });
  const button = (page, text, id, label) => h('button', {
    type: 'button', id, 'aria-label': label, disabled: page < 1 || page > pages || page === state.page,
    'aria-current': page === state.page ? 'page' : undefined, onclick: () => go({ page }, id),
  }, text);
  const numbers = [];
  const around = known ? [1, pages, state.page - 2, state.page - 1, state.page, state.page + 1, state.page + 2] : [state.page];
  const shown = new Set(around.filter((p) => p >= 1 && p <= pages));
  let previous = 0;
  for (const page of [...shown].sort((a, b) => a - b)) {
    if (page - previous > 1) numbers.push(h('span', { class: 'gap', 'aria-hidden': 'true' }, '…'));
    numbers.push(button(page, formatNumber(page), `page-${page}`, t('list.page', { n: page })));
    previous = page;
  }
  const size = h('select', { id: 'per-page', onchange: (e) => go({ perPage: Number(e.target.value), page: 1 }, 'per-page') },
    [...new Set([...PAGE_SIZES, state.perPage])].sort((a, b) => a - b).map((n) => h('option', { value: n, selected: n === state.perPage }, n)));
  return h('nav', { class: 'pager', 'aria-label': t('list.pages') },
    h('span', { class: 'range', id: 'range' }, range),
    button(state.page - 1, '‹', 'page-prev', t('list.previous')),
    numbers,
    button(state.page + 1, '›', 'page-next', t('list.next')),
    h('label', { for: 'per-page', class: 'per-page' }, t('list.per_page')), size);
}
