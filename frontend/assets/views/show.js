// One record: every field, the records of its one-to-many relations (related.js), and its
// history.

import { h, mount } from '../dom.js';
import { can } from '../access.js';
import { display, formatDateTime } from '../format.js';
import { t } from '../i18n.js';
import { describe } from '../errors.js';
import { ApiError } from '../api.js';
import { deleteRecords, restoreEntry } from '../deletes.js';
import { relatedList } from './related.js';
import { actionButtons } from '../actions.js';
import { fieldRefs } from '../refs.js';
import { changedNote } from '../live.js';

export async function render(main, entity, id, ctx) {
  const { record, etag } = await ctx.api.getVersioned(entity.name, id);
  if (ctx.stale()) return;
  const key = record[entity.primary_key];
  const readable = [...entity.fields.filter((f) => f.type !== 'password'), ...entity.sets];
  const refs = await fieldRefs(readable, (field) => [record[field.name]], ctx);
  if (ctx.stale()) return;
  document.title = `${entity.label_singular} #${key} · ${ctx.config.title}`;
  const remove = () => deleteRecords(entity, [key], ctx, {
    etag,
    done: () => ctx.navigate(ctx.listHref(entity.name)),
  });
  const restore = entity.name === '_audit' && record.action === 'delete' && ctx.configOf(record.entity) && can(ctx.configOf(record.entity), 'add')
    ? h('button', { type: 'button', class: 'primary', id: 'restore', onclick: () => restoreEntry(record, ctx) }, t('history.restore'))
    : null;
  const live = h('div', { class: 'live-slot' });
  ctx.watch((change) => {
    if (change.reset || change.entity !== entity.name || String(change.id) !== String(key)) return;
    live.replaceChildren(changedNote(change, { editing: false, reload: () => ctx.reload() }));
  });
  mount(main,
    live,
    h('div', { class: 'list-head' },
      h('h1', {}, `${entity.label_singular} #${key}`),
      h('div', { class: 'toolbar' },
        h('a', { class: 'button', id: 'back-to-list', href: ctx.listHref(entity.name) }, t('common.back')),
        !can(entity, 'edit') ? null : h('a', { class: 'button primary', id: 'edit', href: `#/${entity.name}/${encodeURIComponent(key)}/edit` }, t('common.edit')),
        restore,
        actionButtons(entity, () => [key], ctx, () => ctx.reload()).elements,
        !can(entity, 'delete') ? null : h('button', { type: 'button', class: 'danger', id: 'delete', onclick: remove }, t('common.delete')))),
    h('dl', { class: 'record' }, readable.map((field) => [
      h('dt', {}, field.label),
      h('dd', { 'data-field': field.name }, display(field, record[field.name], { refs: refs.get(field.name), configOf: ctx.configOf, full: true })),
    ])),
    // Many-to-many relations are shown above, as the record's sets.
    entity.relations.filter((r) => r.kind !== 'many_to_many').map((relation) => relatedList(entity, relation, key, ctx)),
    ctx.configOf('_audit') && entity.name !== '_audit' ? history(entity, key, etag, ctx) : null);
}

/** Who changed this record, when, and how: its rows of the audit log, newest first; an
 * update can be reverted (its old values written back, if the record is still as shown). */
function history(entity, key, etag, ctx) {
  const body = h('div', {});
  const section = h('section', { class: 'related history', 'aria-labelledby': 'history-title' },
    h('h2', { id: 'history-title' }, t('show.history')), body);
  const perPage = 10;
  const fields = new Map([...entity.fields, ...entity.sets].map((f) => [f.name, f]));
  /** An update's changes, a line per field: its label, the value before and after, shown as
   * on the record (references by their labels, from `refs`). */
  const describeChange = (row, refs) => {
    if (row.action !== 'update') return '';
    const after = row.after ?? {};
    const before = row.before ?? {};
    const shown = (field, value) => (field
      ? display(field, value ?? null, { refs: refs.get(field.name), configOf: ctx.configOf })
      : JSON.stringify(value ?? null));
    return h('ul', { class: 'change-list' }, Object.keys(after).filter((name) => fields.get(name)?.type !== 'password').map((name) => {
      const field = fields.get(name);
      return h('li', {}, h('span', { class: 'change-field' }, field?.label ?? name), ': ',
        shown(field, before[name]), ' → ', shown(field, after[name]));
    }));
  };
  const revert = async (row) => {
    // Only the fields of this change, as they were, and only if nothing changed since.
    const writable = (name) => entity.sets.some((f) => f.name === name)
      || entity.fields.some((f) => f.name === name && !f.read_only && f.type !== 'password');
    const values = Object.fromEntries(Object.entries(row.before ?? {}).filter(([name]) => writable(name)));
    try {
      await ctx.api.update(entity.name, key, values, { etag });
      ctx.toast(t('history.reverted'), 'success');
      ctx.reload();
    } catch (error) {
      const stale = error instanceof ApiError && error.status === 412;
      ctx.toast(stale ? t('history.changed_since') : describe(error), 'error');
    }
  };
  const canRevert = can(entity, 'edit');
  const load = async (page) => {
    try {
      const { rows, total } = await ctx.api.list('_audit', {
        page, perPage, sort: 'id', dir: 'DESC', filters: { entity: entity.name, record_id: String(key) },
      });
      if (!rows.length) return mount(body, h('p', { class: 'muted' }, t('show.no_related')));
      const refs = await changedRefs(rows, fields, ctx);
      const pages = total === null ? page + (rows.length === perPage ? 1 : 0) : Math.ceil(total / perPage);
      return mount(body,
        h('div', { class: 'table-wrap' }, h('table', { class: 'list' },
          h('tbody', {}, rows.map((row) => h('tr', { class: `audit-${row.action}` },
            h('td', {}, formatDateTime(row.at)),
            h('td', {}, row.actor ?? '—'),
            h('td', {}, t(`history.${row.action}`), row.cause ? h('span', { class: 'muted' }, ` (${row.cause})`) : null),
            h('td', { class: 'changes' }, describeChange(row, refs)),
            h('td', { class: 'actions' }, row.action === 'update' && canRevert && row.before
              ? h('button', { type: 'button', class: 'revert', 'data-entry': row.id, onclick: () => revert(row) }, t('history.revert'))
              : null)))))),
        pages > 1 ? h('nav', { class: 'pager', 'aria-label': t('show.history') },
          h('button', { type: 'button', id: 'history-prev', 'aria-label': t('list.previous'), disabled: page <= 1, onclick: () => load(page - 1) }, '‹'),
          h('button', { type: 'button', id: 'history-next', 'aria-label': t('list.next'), disabled: page >= pages, onclick: () => load(page + 1) }, '›')) : null);
    } catch (error) {
      return mount(body, h('p', { class: 'muted' }, describe(error)));
    }
  };
  load(1);
  return section;
}


/** The labels of the records that the references and sets changed in `rows` point to: one
 * request per field for the whole page. */
function changedRefs(rows, fields, ctx) {
  return fieldRefs([...fields.values()], (field) => rows.flatMap((row) => [row.before?.[field.name], row.after?.[field.name]]), ctx);
}
