// The list of an entity: columns, sorting, quick search, selection with batch delete, CSV
// export; its filters (filters.js) and pager (pager.js). Its state lives in the URL
// (#/posts?page=2&sort=views&dir=DESC), so every view has a link and reload keeps it; every
// change of state is a new URL, which draws the list again.

import { h, mount, debounce } from '../dom.js';
import { ApiError } from '../api.js';
import { display } from '../format.js';
import { t } from '../i18n.js';
import { can } from '../access.js';
import { describe } from '../errors.js';
import { filterBar, apiFilters, parseFilters } from './filters.js';
import { deleteRecords } from '../deletes.js';
import { editSelected } from '../bulk.js';
import { actionButtons } from '../actions.js';
import { pager } from './pager.js';
import { columnRefs } from '../refs.js';
import { editableInPlace, editInPlace, cellHint } from './cells.js';
import { filterChips } from './chips.js';
import { chosenColumns, columnChooser } from './columns.js';
import { viewControls, viewsOf, changed } from './saved.js';

export async function render(main, entity, ctx) {
  const state = readState(ctx.query, entity, ctx.config);
  // Many-to-many relations are columns and filters like fields (of type `many`).
  const fields = new Map([...entity.fields, ...entity.sets].map((f) => [f.name, f]));
  const chosen = state.columns.filter((name) => fields.has(name) && fields.get(name).type !== 'password');
  const columnNames = chosen.length ? chosen : chosenColumns(entity, fields);
  const columns = columnNames.map((name) => fields.get(name));
  // The element to focus once drawn: a change in the column chooser keeps it open.
  const focus = ctx.takeFocus();
  // A change made on a list drawn before the latest state (clicked while the next one loads)
  // applies to the latest: a sort clicked just after a filter keeps the filter.
  const go = (changes, focusId) => {
    ctx.focusAfterRender(focusId ?? document.activeElement?.id ?? null);
    const latest = ctx.latestQuery();
    const now = latest ? readState(latest, entity, ctx.config) : state;
    const next = { ...now, ...changes };
    if (changes.filters) next.filters = rebase(state.filters, changes.filters, now.filters);
    ctx.setQuery(urlState(next, entity));
  };
  document.title = `${entity.label} · ${ctx.config.title}`;
  const page = await load(entity, state, fields, columns, ctx);
  if (!page || ctx.stale()) return;
  const last = lastPage(page, state);
  if (last < state.page) {
    // Past the end (the last rows deleted, or an old link): the last page there is, in place.
    ctx.setQuery(urlState({ ...state, page: last }, entity), { replace: true });
    return;
  }
  const chips = await filterChips(entity, state, fields, go, ctx);
  if (ctx.stale()) return;
  const views = viewControls(entity, state, columnNames, viewsOf(entity, ctx.views.saved), ctx);
  const selection = selectionControls(entity, page.rows, ctx, () => render(main, entity, ctx));
  const exported = {
    _sortField: state.sort, _sortDir: state.dir, q: state.q,
    _filters: Object.keys(apiFilters(state.filters, fields)).length ? JSON.stringify(apiFilters(state.filters, fields)) : undefined,
  };
  const exportHref = ctx.api.url(`/${entity.name}/export.csv`, exported).href;
  const excelHref = ctx.api.url(`/${entity.name}/export.xlsx`, exported).href;
  mount(main,
    h('div', { class: 'list-head' },
      h('div', {},
        h('h1', { id: 'list-heading', tabindex: '-1' }, entity.label),
        views.current ? h('p', { class: 'view-shown', id: 'view-shown' }, t('views.current', { name: views.current.name }),
          changed(entity, views.current, state, columnNames) ? h('span', { class: 'view-changed' }, ` (${t('views.changed')})`) : null) : null),
      h('div', { class: 'toolbar' },
        can(entity, 'add') ? h('a', { class: 'button primary', href: `#/${entity.name}/create`, id: 'create' }, t('common.create')) : null,
        h('a', { class: 'button', href: exportHref, download: `${entity.name}.csv`, id: 'export' }, t('list.export')),
        h('a', { class: 'button', href: excelHref, download: `${entity.name}.xlsx`, id: 'export-excel' }, t('list.exportExcel')),
        !entity.read_only && (can(entity, 'add') || can(entity, 'edit')) ? h('a', { class: 'button', href: `#/${entity.name}/import`, id: 'import' }, t('list.import')) : null,
        columnChooser(entity, fields, columnNames, (next, id) => go({ columns: next ?? [] }, id), focus?.startsWith('column') ?? false),
        views.save, views.remove,
        selection.actions.elements,
        can(entity, 'edit') && !entity.read_only ? selection.editButton : null,
        can(entity, 'delete') ? selection.deleteButton : null)),
    liveChanges(entity, ctx),
    h('div', { class: 'list-filters' }, entity.search.length ? searchBox(state, go) : null, filterBar(entity, state, fields, go, ctx)),
    chips,
    table(entity, columns, state, page, selection, go, ctx),
    page.rows.length ? null : h('p', { class: 'empty' }, t('list.empty')),
    pager(state, { total: page.total, estimated: page.estimated, rows: page.rows.length }, go));
  selection.update();
  if (focus) document.getElementById(focus)?.focus();
}

/** What others changed in the entity since the list was drawn, counted, with a button that
 * draws it again (live.js). A status region, there from the start, so the count is read out. */
function liveChanges(entity, ctx) {
  const region = h('div', { class: 'live-changes', id: 'live-changes', role: 'status' });
  let count = 0;
  ctx.watch((change) => {
    if (!change.reset && change.entity !== entity.name) return;
    count = change.reset ? Infinity : count + 1;
    const refresh = h('button', { type: 'button', id: 'live-refresh', onclick: () => {
      ctx.focusAfterRender('list-heading');
      ctx.reload();
    } }, t('live.refresh'));
    region.replaceChildren(h('span', {}, count === Infinity ? t('live.reset') : t('live.changes', { n: count })), ' ', refresh);
  });
  return region;
}

/** The last page with rows, when the page asked for has none (1 when nothing is known). */
function lastPage(page, state) {
  if (page.rows.length || state.page === 1) return state.page;
  // An estimated total may be too high: never stay, so this ends.
  return page.total > 0 ? Math.min(state.page - 1, Math.ceil(page.total / state.perPage)) : 1;
}

/** The list's state from the URL's query, with the entity's defaults. */
function readState(query, entity, config) {
  return {
    page: Math.max(1, Number.parseInt(query.get('page'), 10) || 1),
    perPage: Math.min(config.max_per_page, Number.parseInt(query.get('perPage'), 10) || entity.per_page),
    sort: query.get('sort') || entity.default_sort.field,
    dir: (query.get('dir') || entity.default_sort.direction).toUpperCase() === 'DESC' ? 'DESC' : 'ASC',
    q: query.get('q') || '',
    filters: parseFilters(query.get('filters')),
    columns: (query.get('cols') || '').split(',').filter(Boolean),
    // The view the state came from (saved.js), kept while the user changes it.
    view: query.get('view') || '',
  };
}

/** The filters `now` with the difference between `before` and `after` applied: what a filter
 * control changed, on top of what another control changed meanwhile. */
function rebase(before, after, now) {
  const next = { ...now };
  for (const name of Object.keys(before)) if (!(name in after)) delete next[name];
  for (const [name, condition] of Object.entries(after)) {
    if (JSON.stringify(condition) !== JSON.stringify(before[name])) next[name] = condition;
  }
  return next;
}

/** The URL's query for a state: what differs from the defaults. */
function urlState(next, entity) {
  return {
    page: next.page > 1 ? next.page : undefined,
    perPage: next.perPage !== entity.per_page ? next.perPage : undefined,
    sort: next.sort !== entity.default_sort.field ? next.sort : undefined,
    dir: next.dir !== entity.default_sort.direction || next.sort !== entity.default_sort.field ? next.dir : undefined,
    q: next.q || undefined,
    filters: Object.keys(next.filters).length ? JSON.stringify(next.filters) : undefined,
    cols: next.columns.length ? next.columns.join(',') : undefined,
    view: next.view || undefined,
  };
}

/** The page's rows and total, and the records its reference and many-to-many columns show:
 * one request per column for the whole page, not one per row. A 400 (a bad filter in the URL)
 * is a toast and an empty page; `null` when the view was left meanwhile. */
async function load(entity, state, fields, columns, ctx) {
  let page = { rows: [], total: 0, estimated: false };
  try {
    page = await ctx.api.list(entity.name, {
      page: state.page, perPage: state.perPage, sort: state.sort, dir: state.dir,
      q: state.q, filters: apiFilters(state.filters, fields),
    });
  } catch (error) {
    if (ctx.stale()) return null;
    if (!(error instanceof ApiError) || error.status !== 400) throw error;
    ctx.toast(describe(error), 'error');
  }
  const refs = await columnRefs(columns, page.rows, ctx);
  return { ...page, refs };
}

/** Row selection and the batch delete of the selected rows. `reload` draws the list again. */
function selectionControls(entity, rows, ctx, reload) {
  const selected = new Set();
  const boxes = [];
  const deleteButton = h('button', { type: 'button', class: 'danger', id: 'delete-selected', disabled: true }, t('list.delete_selected', { n: 0 }));
  const editButton = h('button', { type: 'button', id: 'edit-selected', disabled: true }, t('list.edit_selected', { n: 0 }));
  const actions = actionButtons(entity, () => [...selected], ctx, async () => {
    ctx.focusAfterRender('list-heading');
    await reload();
  }, { counted: true });
  const all = h('input', { type: 'checkbox', id: 'select-all', 'aria-label': t('list.select_all'), disabled: !can(entity, 'delete') && !can(entity, 'edit') && !actions.elements.length });
  const update = () => {
    deleteButton.disabled = selected.size === 0;
    deleteButton.textContent = t('list.delete_selected', { n: selected.size });
    editButton.disabled = selected.size === 0;
    editButton.textContent = t('list.edit_selected', { n: selected.size });
    actions.refresh(selected.size);
    all.checked = rows.length > 0 && selected.size === rows.length;
    all.indeterminate = selected.size > 0 && selected.size < rows.length;
  };
  all.addEventListener('change', () => {
    for (const [box, key] of boxes) {
      box.checked = all.checked;
      if (all.checked) selected.add(key);
      else selected.delete(key);
    }
    update();
  });
  deleteButton.addEventListener('click', () => deleteRecords(entity, [...selected], ctx, {
    done: async () => {
      ctx.focusAfterRender('list-heading');
      await reload();
    },
  }));
  editButton.addEventListener('click', () => editSelected(entity, [...selected], ctx, async () => {
    ctx.focusAfterRender('list-heading');
    await reload();
  }));
  /** A row's checkbox. */
  const box = (key) => {
    const input = h('input', { type: 'checkbox', 'aria-label': t('list.select_row', { id: key }), onchange: () => {
      if (input.checked) selected.add(key);
      else selected.delete(key);
      update();
    } });
    boxes.push([input, key]);
    return input;
  };
  return { all, box, deleteButton, editButton, actions, update };
}

/** The table: a sortable header per column, a row per record with its links. */
function table(entity, columns, state, page, selection, go, ctx) {
  const sortHeader = (field) => {
    // A reference column sorts by what it shows (author_id.name), as a person reads it.
    const by = field.type === 'reference' && field.display ? `${field.name}.${field.display}` : field.name;
    const active = state.sort === by || state.sort === field.name;
    const nextDir = active && state.dir === 'ASC' ? 'DESC' : 'ASC';
    return h('th', { scope: 'col', class: field === columns[0] ? 'primary' : undefined, 'aria-sort': active ? (state.dir === 'ASC' ? 'ascending' : 'descending') : 'none' },
      h('button', {
        type: 'button', class: 'sort', id: `sort-${field.name}`, 'aria-label': t('list.sort_by', { field: field.label }),
        onclick: () => go({ sort: by, dir: nextDir, page: 1 }, `sort-${field.name}`),
      }, field.label, h('span', { class: 'sort-mark', 'aria-hidden': 'true' }, active ? (state.dir === 'ASC' ? ' ▲' : ' ▼') : '')));
  };
  const editing = can(entity, 'edit');
  const row = (record) => {
    const key = record[entity.primary_key];
    const link = `#/${entity.name}/${encodeURIComponent(key)}`;
    const cell = (field, value = record[field.name]) => display(field, value, { refs: page.refs.get(field.name), configOf: ctx.configOf });
    const data = (field, i) => {
      if (i === 0) return h('td', { class: `cell-${field.type} primary` }, h('a', { href: link }, cell(field)));
      const td = h('td', { class: `cell-${field.type}`, 'data-field': field.name }, cell(field));
      if (editing && editableInPlace(entity, field)) editInPlace(td, entity, field, record, ctx, (value) => cell(field, value));
      return td;
    };
    return h('tr', {},
      h('td', { class: 'select' }, selection.box(key)),
      columns.map(data),
      h('td', { class: 'actions' },
        h('a', { href: link }, t('common.show')),
        can(entity, 'edit') ? h('a', { href: `${link}/edit` }, t('common.edit')) : null));
  };
  return h('div', { class: 'table-wrap' }, editing ? cellHint() : null,
    h('table', { class: 'list' },
      h('caption', { class: 'sr-only' }, entity.label),
      h('thead', {}, h('tr', {},
        h('th', { class: 'select', scope: 'col' }, selection.all),
        columns.map(sortHeader),
        h('th', { scope: 'col', class: 'actions' }, t('common.actions')))),
      h('tbody', {}, page.rows.map(row))));
}

function searchBox(state, go) {
  const input = h('input', { type: 'search', id: 'list-search', value: state.q, 'aria-label': t('list.search'), placeholder: t('list.search') });
  const submit = () => {
    if (input.value !== state.q) go({ q: input.value, page: 1 }, 'list-search');
  };
  input.addEventListener('input', debounce(submit, 400));
  return h('form', { class: 'search', role: 'search', onsubmit: (e) => { e.preventDefault(); submit(); } }, input);
}
