// The dashboard: the panels the config declares (panels.js), or else the latest records of
// each entity.

import { h, mount } from '../dom.js';
import { ApiError } from '../api.js';
import { display } from '../format.js';
import { t } from '../i18n.js';
import { panelSection } from './panels.js';

export async function render(main, ctx) {
  document.title = `${t('dashboard.title')} · ${ctx.config.title}`;
  const panels = ctx.config.dashboard ?? [];
  if (panels.length) {
    mount(main, h('h1', {}, t('dashboard.title')), h('div', { class: 'cards panels' }, panels.map((panel, i) => panelSection(panel, i, ctx))));
    return;
  }
  const cards = ctx.config.entities.map((entity) => {
    const body = h('div', { class: 'card-body' }, t('common.loading'));
    load(entity, body, ctx);
    return h('section', { class: 'card', 'aria-labelledby': `card-${entity.name}` },
      h('h2', { id: `card-${entity.name}` }, h('a', { href: `#/${entity.name}` }, entity.label)),
      body,
      h('a', { class: 'see-all', href: `#/${entity.name}` }, t('dashboard.see_all', { entity: entity.label })));
  });
  mount(main, h('h1', {}, t('dashboard.title')), h('div', { class: 'cards' }, cards));
}

async function load(entity, body, ctx) {
  try {
    const { rows } = await ctx.api.list(entity.name, { page: 1, perPage: 5, sort: entity.default_sort.field, dir: entity.default_sort.direction });
    const columns = entity.list_columns.slice(0, 3).map((name) => entity.fields.find((f) => f.name === name));
    if (!rows.length) return mount(body, h('p', { class: 'muted' }, t('list.empty')));
    return mount(body, h('ul', { class: 'latest' }, rows.map((row) => h('li', {},
      h('a', { href: `#/${entity.name}/${encodeURIComponent(row[entity.primary_key])}` },
        columns.filter((f) => f && f.type !== 'reference').map((f, i) => [i ? ' · ' : '', display(f, row[f.name])]))))));
  } catch (error) {
    if (error instanceof ApiError && error.status === 403) return body.remove();
    return mount(body, h('p', { class: 'muted' }, error.message));
  }
}
