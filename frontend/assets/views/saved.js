// Views of a list: the ones its entity declares and the ones users save (the API's `_views`:
// a user's own, and those shared with their role or everyone). A view is a list state under
// a name; opening one puts that state in the list's URL (with `view=` naming it), so the
// list draws it as any other state, and changes made to it are kept until saved.

import { h, mount } from '../dom.js';
import { ApiError } from '../api.js';
import { t } from '../i18n.js';
import { describe } from '../errors.js';

/** Every saved view the user may see, by name (an empty list when they cannot be read). */
export async function loadSaved(api) {
  try {
    const { data } = await api.request('GET', '/_views', { query: { _page: 1, _perPage: 1000, _sortField: 'name', _sortDir: 'ASC', _count: 'none' } });
    return Array.isArray(data) ? data : [];
  } catch (error) {
    if (error instanceof ApiError && error.status !== 0 && error.status < 500) return [];
    throw error;
  }
}

/** The views of `entity`: declared ones (`key` "d:name"), then saved ones (`key` their id). */
export function viewsOf(entity, saved) {
  return [
    ...(entity.views ?? []).map((v) => ({ key: `d:${v.name}`, name: v.name, state: v.state, declared: true })),
    ...saved.filter((v) => v.entity === entity.name).map((v) => ({ ...v, key: String(v.id) })),
  ];
}

/** The list URL's query (as list.js reads it) that shows `view`. */
export function viewQuery(entity, view) {
  const state = view.state ?? {};
  const query = new URLSearchParams();
  query.set('view', view.key);
  if (state.filter && Object.keys(state.filter).length) query.set('filters', JSON.stringify(appFilters(entity, state.filter)));
  if (state.q) query.set('q', state.q);
  if (state.sort) {
    const descending = state.sort.startsWith('-');
    query.set('sort', descending ? state.sort.slice(1) : state.sort);
    query.set('dir', descending ? 'DESC' : 'ASC');
  }
  if (state.per_page) query.set('perPage', String(state.per_page));
  if (state.columns?.length) query.set('cols', state.columns.join(','));
  return query.toString();
}

/** A filter of the API's language in the form the app's filters keep: every condition an
 * object of operators (`"draft"` is `{eq: "draft"}`; `[1, 2]`, `{in: [1, 2]}`, or `{any: …}`
 * for the fields that hold sets). */
function appFilters(entity, filter) {
  const sets = new Set([...entity.sets.map((s) => s.name), ...entity.fields.filter((f) => f.type === 'multichoice').map((f) => f.name)]);
  const out = {};
  for (const [name, condition] of Object.entries(filter)) {
    if (Array.isArray(condition)) out[name] = sets.has(name) ? { any: condition } : { in: condition };
    else if (condition !== null && typeof condition === 'object') out[name] = condition;
    else out[name] = { eq: condition };
  }
  return out;
}

export const viewHref = (entity, view) => `#/${entity.name}?${viewQuery(entity, view)}`;

/** A list's state (list.js) as a view's. */
function stateOf(list, columns) {
  const state = { sort: `${list.dir === 'DESC' ? '-' : ''}${list.sort}`, per_page: list.perPage, columns };
  if (Object.keys(list.filters).length) state.filter = list.filters;
  if (list.q) state.q = list.q;
  return state;
}

/** JSON with the keys of every object in order: equal values, equal texts. */
function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Whether the list shows something else than `view` (a filter, the sort… changed since). */
export function changed(entity, view, list, columns) {
  const state = view.state ?? {};
  const sort = state.sort ?? `${entity.default_sort.direction === 'DESC' ? '-' : ''}${entity.default_sort.field}`;
  const now = stateOf(list, columns);
  return canonical(appFilters(entity, state.filter ?? {})) !== canonical(now.filter ?? {})
    || (state.q ?? '') !== (now.q ?? '')
    || sort !== now.sort
    || (state.per_page ?? entity.per_page) !== now.per_page
    || (state.columns !== undefined && state.columns.join() !== columns.join());
}

/**
 * The list's view controls: the name of the view shown, "Save view" (a new one, or the shown
 * one when it is the user's) and "Delete view". `views`: the entity's; `columns`: the names
 * of the columns shown; `ctx.views` reloads the saved ones and opens one.
 */
export function viewControls(entity, list, columns, views, ctx) {
  const current = views.find((v) => v.key === list.view) ?? null;
  const own = current && !current.declared && (current.owner ?? null) === (ctx.config.user?.name ?? null);
  const save = h('button', {
    type: 'button', id: 'save-view',
    onclick: () => saveDialog(entity, stateOf(list, columns), own ? current : null, ctx),
  }, t('views.save'));
  const remove = own ? h('button', {
    type: 'button', class: 'danger', id: 'delete-view',
    onclick: async () => {
      if (!await ctx.confirm(t('views.delete_confirm', { name: current.name }))) return;
      try {
        await ctx.api.remove('_views', current.id);
        await ctx.views.reload();
        ctx.toast(t('views.deleted', { name: current.name }), 'success');
        ctx.navigate(`#/${entity.name}`);
      } catch (error) {
        ctx.toast(describe(error), 'error');
      }
    },
  }, t('views.delete')) : null;
  return { save, remove, current };
}

/** Who a view may be shared with: nobody, everyone, or one of the user's roles. */
function audiences(user) {
  return [
    ['', t('views.share_none')],
    ['*', t('views.share_everyone')],
    ...(user?.roles ?? []).map((role) => [role, t('views.share_role', { role })]),
  ];
}

/** Asks a name (and with whom to share) and saves the state as a view: the user's view
 * `current` again, or a new one when there is none or the name changed. */
function saveDialog(entity, state, current, ctx) {
  const dialog = document.getElementById('confirm');
  const error = h('p', { class: 'field-error', id: 'view-name-error', role: 'alert' });
  const name = h('input', { id: 'view-name', required: true, maxlength: 200, value: current?.name ?? '', 'aria-describedby': 'view-name-error' });
  const open = ctx.config.user?.name === undefined || ctx.config.user?.name === null;
  const share = h('select', { id: 'view-share' },
    audiences(ctx.config.user).map(([value, label]) => h('option', { value, selected: (current?.shared_with ?? '') === value }, label)));
  const close = () => dialog.close();
  const form = h('form', { class: 'save-view', novalidate: true },
    h('h2', { id: 'save-view-title' }, t('views.save_title', { entity: entity.label })),
    h('div', { class: 'field' }, h('label', { for: 'view-name' }, t('views.name')), name, error),
    open ? null : h('div', { class: 'field' }, h('label', { for: 'view-share' }, t('views.share')), share),
    h('div', { class: 'buttons' },
      h('button', { type: 'button', id: 'save-view-cancel', onclick: close }, t('common.cancel')),
      h('button', { type: 'submit', class: 'primary', id: 'save-view-submit' }, t('common.save'))));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    if (!name.value.trim()) {
      error.textContent = t('form.required');
      name.focus();
      return;
    }
    const body = { entity: entity.name, name: name.value.trim(), state, shared_with: open || !share.value ? null : share.value };
    try {
      const same = current && current.name === body.name;
      const saved = same
        ? (await ctx.api.update('_views', current.id, body)).record
        : await ctx.api.create('_views', body);
      close();
      await ctx.views.reload();
      ctx.toast(t('views.saved', { name: saved.name }), 'success');
      ctx.views.open(entity, { ...saved, key: String(saved.id) });
    } catch (failure) {
      const fields = failure instanceof ApiError ? failure.errors ?? {} : {};
      error.textContent = fields.name ?? fields.shared_with ?? fields.state ?? describe(failure);
      name.focus();
    }
  });
  mount(dialog, form);
  dialog.setAttribute('aria-labelledby', 'save-view-title');
  dialog.addEventListener('close', () => dialog.removeAttribute('aria-labelledby'), { once: true });
  dialog.showModal();
  name.focus();
  name.select();
}

/** The menu's entries of `entity`'s views: links that open them. */
export function menuViews(entity, saved) {
  const views = viewsOf(entity, saved);
  if (!views.length) return null;
  return h('ul', { class: 'menu-views', 'aria-label': t('views.of', { entity: entity.label }) },
    views.map((view) => h('li', {}, h('a', { href: viewHref(entity, view), 'data-view-of': entity.name, 'data-view': view.key }, view.name))));
}
