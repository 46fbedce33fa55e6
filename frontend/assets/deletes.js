// Deleting records: the confirmation says what the delete takes with it (the API's
// dependents), a delete a restricting key forbids is explained instead of tried, and a done
// delete can be undone from its toast (the audit log brings it back with its cascade).

import { h } from './dom.js';
import { ApiError } from './api.js';
import { t, formatNumber } from './i18n.js';
import { can } from './access.js';
import { describe } from './errors.js';

/** "9 Comments" or "1 Comment", by the entity's labels (or its table's name). */
function rows(line, ctx) {
  const target = ctx.configOf(line.entity);
  const label = target ? (line.count === 1 ? target.label_singular : target.label) : line.entity;
  return `${formatNumber(line.count)} ${label}`;
}

/** A link to the rows of a line, when the API gave a filter for them. */
function seeThem(line, ctx) {
  const target = line.declared ? ctx.configOf(line.entity) : null;
  if (!target || !line.filter) return null;
  return h('a', { href: `#/${target.name}?filters=${encodeURIComponent(JSON.stringify(line.filter))}`, class: 'see-them' }, t('delete.see', { rows: rows(line, ctx) }));
}

/** The question for deleting `keys` of `entity`, with what the delete takes. */
function question(entity, keys, report, ctx) {
  const one = keys.length === 1;
  const takes = report.dependents.filter((d) => d.action === 'cascade').map((d) => t(one ? 'delete.takes_one' : 'delete.takes', { rows: rows(d, ctx) }));
  const clears = report.dependents.filter((d) => d.action === 'set_null' || d.action === 'set_default').map((d) => rows(d, ctx));
  const head = one ? t('delete.confirm', { entity: entity.label_singular, id: keys[0] }) : t('list.confirm_batch', { n: keys.length });
  const text = takes.length
    ? (one ? t('delete.confirm_takes', { entity: entity.label_singular, id: keys[0], what: takes.join(', ') }) : t('list.confirm_batch_takes', { n: keys.length, what: takes.join(', ') }))
    : head;
  return [
    h('p', { id: 'delete-question' }, text),
    clears.length ? h('p', { class: 'muted' }, t(one ? 'delete.clears_one' : 'delete.clears', { rows: clears.join(', ') })) : null,
    h('p', { class: 'muted' }, t('delete.undo_hint')),
  ];
}

/** Why the delete cannot be, with links to what stands in the way. */
function refusal(keys, report, ctx) {
  const blocking = report.dependents.filter((d) => d.action === 'restrict' && d.count > 0);
  const one = keys.length === 1;
  return [
    h('p', { id: 'delete-blocked' }, t('delete.blocked'), ' ',
      blocking.map((d) => t(one ? 'delete.blocked_by_one' : 'delete.blocked_by', { rows: rows(d, ctx) })).join(' ')),
    h('ul', { class: 'see-list' }, blocking.map((d) => seeThem(d, ctx)).filter(Boolean).map((link) => h('li', {}, link))),
  ];
}

/**
 * Asks, deletes the records of `keys` (with `etag`, the version shown, for one record),
 * then offers Undo. `done()` runs after the delete and after an undo. Resolves to true
 * when the records were deleted.
 */
export async function deleteRecords(entity, keys, ctx, { etag, done = () => {} } = {}) {
  let report = { blocked: false, dependents: [] };
  try {
    report = await ctx.api.dependents(entity.name, keys);
  } catch (error) {
    // The question can still be asked without the details.
    if (!(error instanceof ApiError) || error.status === 0) ctx.toast(describe(error), 'error');
  }
  if (report.blocked) {
    await ctx.confirm(refusal(keys, report, ctx), null);
    return false;
  }
  if (!(await ctx.confirm(question(entity, keys, report, ctx)))) return false;
  let requestId;
  try {
    if (keys.length === 1) ({ requestId } = await ctx.api.remove(entity.name, keys[0], { etag }));
    else ({ requestId } = await ctx.api.removeMany(entity.name, keys));
  } catch (error) {
    ctx.toast(describe(error), 'error');
    return false;
  }
  const undo = undoable(entity, ctx) && requestId ? { label: t('delete.undo'), run: () => undoDelete(requestId, ctx, done) } : null;
  ctx.toast(keys.length === 1 ? t('delete.done') : t('list.deleted_many', { n: keys.length }), 'success', undo);
  await done();
  return true;
}

/** Whether the user may bring a delete back: read the audit log, add records again. */
function undoable(entity, ctx) {
  return Boolean(ctx.configOf('_audit')) && can(entity, 'add');
}

/** Brings back every record the delete of request `requestId` deleted (with its cascade). */
async function undoDelete(requestId, ctx, done) {
  try {
    const { rows: entries } = await ctx.api.list('_audit', {
      page: 1, perPage: 1000, sort: 'id', dir: 'ASC', count: 'none',
      filters: { request_id: requestId, action: 'delete', cause: { is_null: true } },
    });
    for (const entry of entries) await ctx.api.restore(entry.id);
    ctx.toast(t('delete.undone'), 'success');
    await done();
  } catch (error) {
    ctx.toast(describe(error), 'error');
  }
}

/** Brings back the delete one audit entry records (the audit log's Restore). */
export async function restoreEntry(entry, ctx) {
  try {
    const restored = await ctx.api.restore(entry.id);
    ctx.toast(t('delete.undone'), 'success');
    const target = ctx.configOf(restored.entity);
    if (target) ctx.navigate(`#/${target.name}/${encodeURIComponent(restored.record[target.primary_key])}`);
  } catch (error) {
    ctx.toast(describe(error), 'error');
  }
}
