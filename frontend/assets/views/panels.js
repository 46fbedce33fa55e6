// The dashboard's panels, as the config declares them (`[[dashboard.panel]]`): a number, the
// latest records, bars per value (named by their labels, each a link to the records), and a
// time series drawn as SVG with DOM calls. Each panel is one request, given whole by config.json.

import { h } from '../dom.js';
import { display } from '../format.js';
import { t, formatNumber } from '../i18n.js';
import { describe } from '../errors.js';
import { fieldRefs } from '../refs.js';

const SVG = 'http://www.w3.org/2000/svg';

/** A panel's section; its body fills in when its request answers. */
export function panelSection(panel, index, ctx) {
  const body = h('div', { class: 'panel-body' }, h('p', { class: 'muted' }, t('common.loading')));
  const section = h('section', { class: `card panel panel-${panel.kind}`, 'aria-labelledby': `panel-${index}` },
    h('h2', { id: `panel-${index}` }, panel.title), body);
  fill(panel, body, ctx);
  return section;
}

async function fill(panel, body, ctx) {
  const entity = ctx.configOf(panel.entity);
  try {
    const path = panel.path ? `/${panel.entity}/${panel.path}` : `/${panel.entity}`;
    const { data } = await ctx.api.request('GET', path, { query: Object.fromEntries(new URLSearchParams(panel.query)) });
    const draw = { count: number, latest, groups, series }[panel.kind];
    body.replaceChildren(await draw(panel, entity, data, ctx));
  } catch (error) {
    body.replaceChildren(h('p', { class: 'muted' }, describe(error)));
  }
}

/** The list of `entity` with the panel's filters and `more` (the list's URL state). */
function listHref(panel, more = {}) {
  const filters = {};
  for (const [name, value] of Object.entries(panel.filters ?? {})) {
    filters[name] = Array.isArray(value) ? { any: value } : value !== null && typeof value === 'object' ? value : { eq: value };
  }
  Object.assign(filters, more);
  const query = Object.keys(filters).length ? `?filters=${encodeURIComponent(JSON.stringify(filters))}` : '';
  return `#/${panel.entity}${query}`;
}

function number(panel, entity, data) {
  const value = data[0]?.value ?? 0;
  return h('p', { class: 'panel-number' }, h('a', { href: listHref(panel) }, formatNumber(Math.round(value * 100) / 100)));
}

/** The records, each named by its first list columns that are not its key. */
function latest(panel, entity, rows) {
  if (!rows.length) return h('p', { class: 'muted' }, t('list.empty'));
  const fields = new Map(entity.fields.map((f) => [f.name, f]));
  const columns = entity.list_columns.map((name) => fields.get(name))
    .filter((f) => f && f.name !== entity.primary_key && f.type !== 'reference').slice(0, 2);
  return h('ul', { class: 'latest' }, rows.map((row) => h('li', {},
    h('a', { href: `#/${entity.name}/${encodeURIComponent(row[entity.primary_key])}` },
      columns.length ? columns.map((f, i) => [i ? ' · ' : '', display(f, row[f.name])]) : `#${row[entity.primary_key]}`))));
}

/** What a group's key reads as: a reference's label, yes/no, or the value. */
async function keyLabels(panel, entity, groups, ctx) {
  const field = entity.fields.find((f) => f.name === panel.group_by);
  const records = (await fieldRefs([field], () => groups.map((g) => g.key), ctx)).get(field?.name);
  return (key) => {
    if (key === null) return t('dashboard.none');
    if (records) return String(records.get(String(key))?.[field.display] ?? `#${key}`);
    if (field?.type === 'boolean') return key ? t('common.yes') : t('common.no');
    return typeof key === 'number' ? formatNumber(key) : String(key);
  };
}

async function groups(panel, entity, data, ctx) {
  if (!data.length) return h('p', { class: 'muted' }, t('list.empty'));
  const label = await keyLabels(panel, entity, data, ctx);
  const most = Math.max(...data.map((g) => g.value), 1);
  return h('ul', { class: 'bars' }, data.map((group) => {
    const bar = h('span', { class: 'bar', 'aria-hidden': 'true' });
    // A width by CSSOM, which the page's CSP allows (a style attribute it would not).
    bar.style.width = `${Math.max(1, (100 * group.value) / most)}%`;
    const link = group.key === null ? label(null) : h('a', { href: listHref(panel, { [panel.group_by]: { eq: group.key } }) }, label(group.key));
    return h('li', {}, h('span', { class: 'bar-label' }, link), h('span', { class: 'bar-track' }, bar),
      h('span', { class: 'bar-value' }, formatNumber(Math.round(group.value * 100) / 100)));
  }));
}

/** Periods as bars of an SVG chart (with a table for screen readers). */
function series(panel, entity, data) {
  if (!data.length) return h('p', { class: 'muted' }, t('list.empty'));
  const width = 320;
  const height = 120;
  const step = width / data.length;
  const most = Math.max(...data.map((p) => p.value), 1);
  const svg = document.createElementNS(SVG, 'svg');
  const attrs = (el, values) => {
    for (const [name, value] of Object.entries(values)) el.setAttribute(name, String(value));
    return el;
  };
  attrs(svg, { viewBox: `0 0 ${width} ${height + 18}`, class: 'chart', role: 'img',
    'aria-label': t('dashboard.series', { title: panel.title, first: data[0].key, last: data.at(-1).key, n: data.length }) });
  data.forEach((period, i) => {
    const barHeight = Math.max(1, (height * period.value) / most);
    const bar = attrs(document.createElementNS(SVG, 'rect'), {
      x: i * step + 2, y: height - barHeight, width: Math.max(1, step - 4), height: barHeight, class: 'chart-bar',
    });
    const title = document.createElementNS(SVG, 'title');
    title.textContent = `${period.key}: ${formatNumber(period.value)}`;
    bar.append(title);
    svg.append(bar);
  });
  for (const [i, anchor] of [[0, 'start'], [data.length - 1, 'end']]) {
    const label = attrs(document.createElementNS(SVG, 'text'), {
      x: anchor === 'start' ? 0 : width, y: height + 14, 'text-anchor': anchor, class: 'chart-label',
    });
    label.textContent = data[i].key;
    svg.append(label);
  }
  const table = h('table', { class: 'sr-only' },
    h('caption', {}, panel.title),
    h('tbody', {}, data.map((period) => h('tr', {}, h('th', { scope: 'row' }, period.key), h('td', {}, formatNumber(period.value))))));
  return h('div', {}, svg, table);
}
