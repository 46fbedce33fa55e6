// The pager of a list: "1–25 of 1,000" ("of about 1,000" for an estimate, no total when
// not counted), numbered pages around the current one (previous/next only without a total),
// and the page size.

import { h } from '../dom.js';
import { t, formatNumber } from '../i18n.js';

const PAGE_SIZES = [10, 25, 50, 100];

/** `state`: the list's page and perPage; `go(changes, focusId)` moves the list. */
export function pager(state, { total, estimated, rows }, go) {
  const known = total !== null;
  // Without a total, there is a next page when this one is full.
  const pages = known ? Math.max(1, Math.ceil(total / state.perPage)) : state.page + (rows === state.perPage ? 1 : 0);
  const first = rows === 0 ? 0 : (state.page - 1) * state.perPage + 1;
  const last = rows === 0 ? 0 : (state.page - 1) * state.perPage + rows;
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
