// The import page of a list (`#/{entity}/import`): a CSV file or an Excel workbook, where
// each of its columns goes (a CSV file's header row read here, a workbook's by the server,
// matched as the server matches them) with its first
// rows as they would be stored (a preview: the server reads the start of the file), a check first
// (a dry run: every row written in a transaction that is rolled back), then the import
// with its progress (the file as it is sent, then the rows the server has read) and a way
// to cancel it, and the report: what was written, each failed row's errors, and the
// rejected rows to download, fix and import again.

import { h, mount } from '../dom.js';
import { t, formatNumber } from '../i18n.js';
import { describe } from '../errors.js';
import { recentImports, revertImport, revertedText } from './imports.js';

/** How often a running import is asked how it goes (ms). */
const POLL = 700;

/** The media type of an Excel workbook. */
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** The rows a preview shows, and how much of a CSV file is sent for them (a workbook is sent
 * whole: its directory is at its end). */
const PREVIEW_ROWS = 20;
const PREVIEW_BYTES = 256 * 1024;

export async function render(main, entity, ctx) {
  document.title = `${t('import.title', { entity: entity.label })} · ${ctx.config.title}`;
  const targets = [
    ...entity.fields.filter((f) => !f.read_only || f.name === entity.primary_key),
    ...entity.sets,
  ];
  const keys = entity.fields.filter((f) => f.name === entity.primary_key || f.unique);
  const state = { file: null, columns: [], delimiter: ',', workbook: false };

  const fileInput = h('input', { type: 'file', id: 'import-file', accept: `.csv,text/csv,.xlsx,${XLSX}`, onchange: () => chooseFile() });
  const sheet = h('input', { type: 'text', id: 'import-sheet', autocomplete: 'off', placeholder: t('import.sheet_first'), onchange: () => chooseFile() });
  const sheetRow = row(t('import.sheet'), sheet);
  sheetRow.hidden = true;
  const mode = select('import-mode', [['insert', t('import.mode_insert')], ['upsert', t('import.mode_upsert')], ['update', t('import.mode_update')]], () => {
    keyRow.hidden = mode.value === 'insert';
    showPreview();
  });
  const onError = select('import-on-error', [['abort', t('import.abort')], ['skip', t('import.skip')]]);
  const key = select('import-key', keys.map((f) => [f.name, f.label]), () => showPreview());
  const keyRow = row(t('import.key'), key);
  keyRow.hidden = true;
  const mapping = h('div', { id: 'import-mapping' });
  const preview = h('div', { id: 'import-preview', 'aria-live': 'polite' });
  const progress = h('div', { id: 'import-progress', hidden: true });
  const outcome = h('div', { id: 'import-report', 'aria-live': 'polite' });
  const check = h('button', { type: 'button', id: 'import-check', disabled: true, onclick: () => start(true) }, t('import.check'));
  const run = h('button', { type: 'button', class: 'primary', id: 'import-run', disabled: true, onclick: () => start(false) }, t('import.run'));
  const recent = recentImports(entity, ctx);

  mount(main,
    h('div', { class: 'list-head' },
      h('h1', { id: 'import-heading', tabindex: '-1' }, t('import.title', { entity: entity.label }))),
    h('p', {}, h('a', { href: ctx.listHref(entity.name) }, t('common.back'))),
    h('form', { class: 'import-form', onsubmit: (event) => event.preventDefault() },
      row(t('import.file'), fileInput),
      sheetRow,
      row(t('import.mode'), mode),
      keyRow,
      row(t('import.on_error'), onError),
      mapping,
      preview,
      h('div', { class: 'toolbar' }, check, run)),
    progress,
    outcome,
    recent.element);

  /** Reads the chosen file's header row and offers where each column goes. */
  async function chooseFile() {
    state.file = fileInput.files[0] ?? null;
    mount(outcome);
    if (!state.file) return;
    state.workbook = state.file.type === XLSX || /\.xlsx$/i.test(state.file.name);
    sheetRow.hidden = !state.workbook;
    let cells;
    if (state.workbook) {
      cells = await workbookColumns();
      if (!cells) return;
    } else {
      const head = await state.file.slice(0, 64 * 1024).text();
      const found = headerRow(head);
      cells = found.cells;
      state.delimiter = found.delimiter;
    }
    state.columns = cells;
    mount(mapping,
      h('table', { class: 'import-columns' },
        h('caption', {}, t('import.columns')),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('import.column')), h('th', { scope: 'col' }, t('import.goes_to')))),
        h('tbody', {}, cells.map((column, i) => h('tr', {},
          h('th', { scope: 'row' }, column || t('import.unnamed', { n: i + 1 })),
          h('td', {}, targetSelect(column, i)))))));
    check.disabled = false;
    run.disabled = false;
    showPreview();
  }

  /** A workbook's header row, as the server reads it (a preview answers it, also when no
   * column matches a field yet); `null` when the file cannot be read, and why is shown. */
  async function workbookColumns() {
    mount(mapping);
    mount(preview);
    check.disabled = true;
    run.disabled = true;
    const options = { on_error: 'skip', preview: PREVIEW_ROWS, sheet: sheet.value.trim() || undefined };
    const answer = await ctx.api.upload(`/${entity.name}/import`, options, state.file, `app-${crypto.randomUUID()}`, () => {}, contentType());
    const columns = (answer.body?.report ?? answer.body)?.columns;
    if (!columns) {
      mount(preview, h('p', { class: 'error', role: 'alert', id: 'import-preview-error' }, answer.body?.message ?? t('import.failed')));
      return null;
    }
    return columns;
  }

  /** The first rows of the file as they would be stored, and those that would fail. */
  async function showPreview() {
    if (!state.file) return;
    const number = (state.previews = (state.previews ?? 0) + 1);
    const options = { ...query(true), on_error: 'skip', preview: PREVIEW_ROWS, wait: undefined };
    const sent = state.workbook ? state.file : state.file.slice(0, PREVIEW_BYTES);
    const answer = await ctx.api.upload(`/${entity.name}/import`, options, sent, `app-${crypto.randomUUID()}`, () => {}, contentType());
    if (number !== state.previews) return;
    const report = answer.body?.report ?? (answer.status === 200 ? answer.body : null);
    if (!report) {
      mount(preview, h('p', { class: 'error', role: 'alert', id: 'import-preview-error' }, answer.body?.message ?? t('import.failed')));
      return;
    }
    const shown = chosenTargets();
    const rows = report.preview ?? [];
    mount(preview,
      h('div', { class: 'import-scroll', tabindex: '0', role: 'region', 'aria-label': t('import.preview', { n: rows.length }) },
        h('table', { class: 'import-preview', id: 'import-preview-table' },
          h('caption', {}, t('import.preview', { n: rows.length })),
          h('thead', {}, h('tr', {},
            h('th', { scope: 'col' }, t('import.row')),
            shown.map((f) => h('th', { scope: 'col' }, f.label)))),
          h('tbody', {}, rows.map((r) => h('tr', {},
            h('th', { scope: 'row' }, formatNumber(r.row)),
            shown.map((f) => h('td', {}, cellText(r.record[f.name])))))))),
      report.errors?.length ? errorTable(report.errors, report.failed, 'import-preview-errors') : null);
  }

  /** The fields the columns go to, in the file's order. */
  function chosenTargets() {
    return state.columns
      .map((_, i) => document.getElementById(`import-target-${i}`)?.value)
      .filter(Boolean)
      .map((name) => targets.find((f) => f.name === name))
      .filter(Boolean);
  }

  function targetSelect(column, i) {
    const wanted = column.trim().toLowerCase();
    const match = targets.find((f) => f.name.toLowerCase() === wanted || f.label.toLowerCase() === wanted);
    return h('select', { id: `import-target-${i}`, 'aria-label': t('import.goes_to_for', { column }), onchange: () => showPreview() },
      h('option', { value: '' }, t('import.leave_out')),
      targets.map((f) => h('option', { value: f.name, selected: match === f }, f.label)));
  }

  function contentType() {
    return state.workbook ? XLSX : 'text/csv';
  }

  /** The options of the import as its query. */
  function query(dryRun) {
    const map = {};
    state.columns.forEach((column, i) => {
      const chosen = document.getElementById(`import-target-${i}`)?.value;
      map[column.trim()] = chosen || null;
    });
    return {
      mode: mode.value,
      on_error: onError.value,
      key: mode.value === 'insert' ? undefined : key.value,
      dry_run: dryRun ? 'true' : undefined,
      mapping: JSON.stringify(map),
      delimiter: state.workbook ? undefined : { ',': 'comma', ';': 'semicolon', '\t': 'tab' }[state.delimiter],
      sheet: state.workbook ? sheet.value.trim() || undefined : undefined,
      wait: 3600,
    };
  }

  /** Sends the file; shows how it goes, then the report. */
  async function start(dryRun) {
    if (!state.file) return;
    check.disabled = true;
    run.disabled = true;
    mount(outcome);
    const id = `app-${crypto.randomUUID()}`;
    const bar = h('progress', { id: 'import-bar', max: state.file.size, value: 0, 'aria-label': t('import.sending') });
    const counts = h('p', { id: 'import-counts' }, t('import.sending'));
    const cancel = h('button', { type: 'button', id: 'import-cancel', onclick: async () => {
      cancel.disabled = true;
      try {
        await ctx.api.request('DELETE', `/_imports/${id}`);
      } catch (error) {
        ctx.toast(describe(error), 'error');
      }
    } }, t('import.cancel'));
    mount(progress, bar, counts, cancel);
    progress.hidden = false;
    let polling = true;
    const poll = async () => {
      while (polling) {
        await new Promise((resolve) => setTimeout(resolve, POLL));
        if (!polling) return;
        try {
          const { data } = await ctx.api.request('GET', `/_imports/${id}`, { quiet: true });
          if (polling) counts.textContent = t('import.so_far', { rows: formatNumber(data.rows), failed: formatNumber(data.failed) });
        } catch { /* not started yet, or ended: the answer says */ }
      }
    };
    poll();
    const answer = await ctx.api.upload(`/${entity.name}/import`, query(dryRun), state.file, id, (sent) => { bar.value = sent; }, contentType());
    polling = false;
    progress.hidden = true;
    check.disabled = false;
    run.disabled = false;
    let report = answer.body?.report ?? (answer.status === 200 ? answer.body : null);
    if (answer.status === 202) report = await ended(id);
    if (!report) {
      mount(outcome, h('p', { class: 'error', role: 'alert', id: 'import-error' }, answer.body?.message ?? t('import.failed')));
      return;
    }
    showReport(report, answer, id, dryRun);
    if (!dryRun) recent.refresh();
  }

  async function ended(id) {
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, POLL));
      const { data } = await ctx.api.request('GET', `/_imports/${id}`);
      if (data.status !== 'running') return data.report;
    }
  }

  function showReport(report, answer, id, dryRun) {
    const summary = dryRun
      ? t('import.would', { inserted: formatNumber(report.inserted), updated: formatNumber(report.updated), unchanged: formatNumber(report.unchanged), failed: formatNumber(report.failed) })
      : report.committed
        ? t('import.done', { inserted: formatNumber(report.inserted), updated: formatNumber(report.updated), unchanged: formatNumber(report.unchanged), failed: formatNumber(report.failed) })
        : answer.body?.message ?? t('import.failed');
    const errors = report.errors ?? [];
    mount(outcome,
      h('h2', { id: 'import-summary', tabindex: '-1', class: report.failed && !report.committed ? 'error' : '' }, summary),
      report.stopped ? h('p', { role: 'alert' }, report.stopped) : null,
      errors.length ? errorTable(errors, report.failed, 'import-errors') : null,
      report.more_errors ? h('p', {}, t('import.more_errors', { n: formatNumber(report.more_errors) })) : null,
      report.failed ? h('p', {}, h('a', { href: ctx.api.url(`/_imports/${id}/rejected.csv`).href, download: `${entity.name}-rejected.csv`, id: 'import-rejected' }, t('import.rejected'))) : null,
      !dryRun && report.committed ? h('p', {}, h('a', { href: ctx.listHref(entity.name), id: 'import-to-list' }, t('import.to_list'))) : null,
      !dryRun && report.committed && (report.inserted || report.updated)
        ? h('p', {}, h('button', { type: 'button', id: 'import-revert', onclick: () => revert(id, report) }, t('import.revert')))
        : null,
      h('p', { id: 'import-reverted', role: 'status' }));
    document.getElementById('import-summary')?.focus();
  }

  /** Undoes the import (after a question): what it added deleted, what it updated as it was. */
  async function revert(id, report) {
    const button = document.getElementById('import-revert');
    button.disabled = true;
    const done = await revertImport(ctx, id, report);
    if (!done) {
      button.disabled = false;
      return;
    }
    document.getElementById('import-reverted').textContent = revertedText(done);
    button.remove();
    recent.refresh();
  }

}

/** The errors of failed rows: row, column, message. */
function errorTable(errors, failed, id) {
  return h('table', { class: 'import-errors', id },
    h('caption', {}, t('import.errors', { n: failed })),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, t('import.row')),
      h('th', { scope: 'col' }, t('import.column')),
      h('th', { scope: 'col' }, t('import.message')))),
    h('tbody', {}, errors.map((e) => h('tr', {},
      h('td', {}, formatNumber(e.row)), h('td', {}, e.column ?? ''), h('td', {}, e.message)))));
}

/** A stored value as text: lists joined, objects as JSON, nothing for null. */
function cellText(value) {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.join(', ');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function row(label, control) {
  return h('div', { class: 'form-row' }, h('label', { for: control.id }, label), control);
}

function select(id, options, onchange) {
  return h('select', { id, onchange }, options.map(([value, label]) => h('option', { value }, label)));
}

/** The header row of a CSV file's start: its cells and delimiter (the one it uses most
 * outside quotes), as the server reads them. */
export function headerRow(text) {
  const start = text.replace(/^\uFEFF/, '');
  let quoted = false;
  let end = start.length;
  for (let i = 0; i < start.length; i += 1) {
    if (start[i] === '"') quoted = !quoted;
    else if (!quoted && (start[i] === '\n' || start[i] === '\r')) {
      end = i;
      break;
    }
  }
  const line = start.slice(0, end);
  const counts = { ',': 0, ';': 0, '\t': 0 };
  quoted = false;
  for (const c of line) {
    if (c === '"') quoted = !quoted;
    else if (!quoted && c in counts) counts[c] += 1;
  }
  const delimiter = Object.keys(counts).reduce((best, c) => (counts[c] > counts[best] ? c : best), ',');
  const cells = [];
  let cell = '';
  quoted = false;
  for (let i = 0; i < line.length; i += 1) {
    const c = line[i];
    if (quoted && c === '"' && line[i + 1] === '"') {
      cell += '"';
      i += 1;
    } else if (c === '"') quoted = !quoted;
    else if (!quoted && c === delimiter) {
      cells.push(cell);
      cell = '';
    } else cell += c;
  }
  cells.push(cell);
  return { cells, delimiter };
}
