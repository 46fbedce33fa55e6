// The latest imports into an entity, on its import page (`GET /_imports?entity=`): when,
// how each ended, its counts, and a way to revert one (`POST /_imports/{id}/revert`), also
// after the page that ran it is gone.

import { h, mount } from '../dom.js';
import { t, formatNumber } from '../i18n.js';
import { describe } from '../errors.js';
import { formatDateTime } from '../format.js';

/** How many imports are listed. */
const LISTED = 10;

/** Statuses of an import that can be reverted (when it wrote something). */
const ENDED = ['done', 'failed', 'cancelled'];

/**
 * Asks, then reverts import `id` whose counts are `counts`; what was undone
 * (`{deleted, restored, gone}`), or null when the user said no or the server refused (a toast
 * says why).
 */
export async function revertImport(ctx, id, counts) {
  const question = [
    counts.inserted ? h('p', {}, t('import.revert_added', { n: counts.inserted })) : null,
    counts.updated ? h('p', {}, t('import.revert_updated', { n: counts.updated })) : null,
    h('p', {}, t('import.revert_confirm')),
  ];
  if (!await ctx.confirm(question, t('import.revert'))) return null;
  try {
    const { data } = await ctx.api.request('POST', `/_imports/${id}/revert`, { body: {} });
    return data.reverted;
  } catch (error) {
    ctx.toast(describe(error), 'error');
    return null;
  }
}

/** What a revert undid, in words. */
export function revertedText(done) {
  return t('import.reverted', { deleted: formatNumber(done.deleted), restored: formatNumber(done.restored), gone: formatNumber(done.gone) });
}

/** The table of the latest imports into `entity`; `refresh()` reads them again. */
export function recentImports(entity, ctx) {
  const element = h('section', { id: 'import-recent', 'aria-labelledby': 'import-recent-heading' });
  async function refresh() {
    let jobs;
    try {
      ({ data: jobs } = await ctx.api.request('GET', '/_imports', { query: { entity: entity.name, limit: LISTED }, quiet: true }));
    } catch {
      mount(element);
      return;
    }
    if (!jobs.length) {
      mount(element);
      return;
    }
    mount(element,
      h('h2', { id: 'import-recent-heading' }, t('import.recent')),
      h('div', { class: 'import-scroll', tabindex: '0', role: 'region', 'aria-labelledby': 'import-recent-heading' },
        h('table', { class: 'import-recent' },
          h('thead', {}, h('tr', {},
            [t('import.started'), t('import.status'), t('import.actions'), t('import.added'), t('import.updated'), t('import.failed_rows')]
              .map((label) => h('th', { scope: 'col' }, label)))),
          h('tbody', {}, jobs.map((job) => row(job))))));
  }
  function row(job) {
    const revertible = ENDED.includes(job.status) && (job.inserted || job.updated);
    const cell = h('td', {}, revertible
      ? h('button', { type: 'button', id: `import-revert-${job.id}`, 'aria-label': t('import.revert_of', { when: formatDateTime(job.started_at) }), onclick: async () => {
        const done = await revertImport(ctx, job.id, job);
        if (done) {
          ctx.toast(revertedText(done));
          refresh();
        }
      } }, t('import.revert_short'))
      : null);
    return h('tr', { id: `import-job-${job.id}` },
      h('td', {}, formatDateTime(job.started_at)),
      h('td', {}, t(`import.status_${job.status}`)),
      // Before the counts: in view on a narrow screen, where the table scrolls sideways.
      cell,
      h('td', {}, formatNumber(job.inserted)),
      h('td', {}, formatNumber(job.updated)),
      h('td', {}, formatNumber(job.failed)));
  }
  refresh();
  return { element, refresh };
}
