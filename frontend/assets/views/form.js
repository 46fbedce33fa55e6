// Create and edit: a widget per field, client-side validation from the config's rules, the
// server's field errors (422, 409) shown at their field, and a warning before unsaved
// changes are lost.
//
// Nothing typed is lost, and nobody's work is overwritten blindly:
// - an edit sends only the fields the user changed (PATCH), and only for the version the
//   form was loaded from (If-Match); when the record changed meanwhile (412), changes to
//   other fields are merged, and clashes on the same fields are shown side by side, who
//   made them and when, to keep mine, take theirs, or choose per field;
// - a save answered 401 (the session ended) asks for the password in place, then saves;
// - an open form is kept as a draft in the tab's sessionStorage (never passwords), so a
//   reload brings the typing back.

import { h, mount, debounce } from '../dom.js';
import { ApiError } from '../api.js';
import { fieldWidget } from '../widgets.js';
import { inlineWidget } from '../inline.js';
import { relatedList } from './related.js';
import { display, formatDateTime } from '../format.js';
import { t } from '../i18n.js';
import { describe } from '../errors.js';
import { changedNote, presence } from '../live.js';

export async function render(main, entity, id, ctx) {
  const editing = id !== null;
  let base = null;
  let etag = null;
  if (editing) ({ record: base, etag } = await ctx.api.getVersioned(entity.name, id));
  if (ctx.stale()) return;
  const key = base?.[entity.primary_key];
  const title = editing ? t('form.edit_title', { entity: entity.label_singular, id: key }) : t('form.create_title', { entity: entity.label_singular });
  document.title = `${title} · ${ctx.config.title}`;
  const draftKey = `autoadmin:draft:${entity.name}:${editing ? key : '+new'}`;
  const draft = readDraft(draftKey);
  const touched = new Set(Object.keys(draft ?? {}));
  let dirty = touched.size > 0;
  ctx.setGuard(() => dirty);
  const fields = [...entity.fields, ...entity.sets].filter((f) => {
    const isKey = f.name === entity.primary_key;
    if (editing) return !isKey;
    return !f.read_only && !(isKey && entity.key_generated);
  });
  // Never a password in the draft: sessionStorage is readable by the page's scripts.
  const draftNow = () => writeDraft(draftKey, Object.fromEntries(
    Object.entries(changedValues(widgets, touched, base)).filter(([name]) => fieldOf(entity, name).type !== 'password')));
  const keepDraft = debounce(draftNow, 300);
  const changedField = (name) => () => {
    touched.add(name);
    dirty = true;
    keepDraft();
  };
  // A create may be asked for with values (`?post_id=7`: "Add one here" on a post's page).
  const given = editing ? {} : fromQuery(fields, ctx.query);
  const widgets = fields.map((field) => {
    const original = editing ? base[field.name] : given[field.name] ?? field.default ?? undefined;
    const value = draft && field.name in draft ? draft[field.name] : original;
    return fieldWidget(field, value, {
      mode: editing ? 'edit' : 'create',
      configOf: ctx.configOf,
      api: ctx.api,
      onChange: changedField(field.name),
    });
  });
  // Inline relations: their children edited here, written with the record.
  for (const relation of entity.relations.filter((r) => r.inline && ctx.configOf(r.target))) {
    widgets.push(inlineWidget(relation, ctx.configOf(relation.target), editing ? base[relation.name] : [], {
      draft: draft?.[relation.name], configOf: ctx.configOf, api: ctx.api, onChange: changedField(relation.name),
    }));
  }
  const submit = h('button', { type: 'submit', class: 'primary', id: 'save' }, t('common.save'));
  const conflictBox = h('div', { class: 'conflict-box' });
  // Where it came from, when that asked to come back (a local address only).
  const back = (ctx.query.get('back') ?? '').startsWith('#/') ? ctx.query.get('back') : null;
  const cancelHref = back ?? (editing ? `#/${entity.name}/${encodeURIComponent(key)}` : ctx.listHref(entity.name));
  const cancel = h('a', { class: 'button', href: cancelHref, onclick: () => forgetDraft(draftKey) }, t('common.cancel'));
  const form = h('form', { class: 'record-form', novalidate: true }, conflictBox, widgets.map((w) => w.element),
    h('div', { class: 'buttons' }, cancel, submit));

  // A create's Idempotency-Key, the same while the body is: saved again after an error (the
  // answer lost, the record made after all), the server answers the record it made.
  let creating = null;
  const onceFor = (body) => {
    const text = JSON.stringify(body);
    if (creating?.text !== text) creating = { text, key: ctx.api.newKey() };
    return creating.key;
  };

  /** Saves `body` for version `version`; on 412 shows or merges the clash. */
  const save = async (body, version) => {
    submit.disabled = true;
    try {
      const saved = editing
        ? (await ctx.api.update(entity.name, key, body, { etag: version, quiet: true })).record
        : await ctx.api.create(entity.name, body, { quiet: true, once: onceFor(body) });
      dirty = false;
      forgetDraft(draftKey);
      ctx.toast(editing ? t('form.saved') : t('form.created'), 'success');
      ctx.navigate(back ?? `#/${entity.name}/${encodeURIComponent(saved[entity.primary_key])}`);
    } catch (error) {
      submit.disabled = false;
      if (error instanceof ApiError && error.status === 401) {
        // The session ended: the form stays as typed; log in again, then save.
        if (await ctx.askPassword()) await save(body, version);
        return;
      }
      if (error instanceof ApiError && error.status === 412 && editing) {
        await clash(body, error.body.current, error.body.etag);
        return;
      }
      showErrors(widgets, error);
      ctx.toast(describe(error), 'error');
    }
  };

  /** The record changed since the form was loaded: `current` is it now, `version` its tag. */
  const clash = async (body, current, version) => {
    const clashing = Object.keys(body).filter((name) => !same(fieldOf(entity, name), current[name], base[name]));
    base = current;
    if (!clashing.length) {
      // Someone changed other fields: both changes are kept.
      ctx.toast(t('form.merged'), 'info');
      await save(body, version);
      return;
    }
    const who = await lastChanges(entity, key, clashing, ctx);
    const choices = new Map(clashing.map((name) => [name, 'mine']));
    const decide = async () => {
      const next = { ...body };
      for (const [name, choice] of choices) if (choice === 'theirs') delete next[name];
      conflictBox.replaceChildren();
      if (!Object.keys(next).length) {
        // Theirs everywhere: nothing of mine to write; show what is stored.
        dirty = false;
        forgetDraft(draftKey);
        ctx.toast(t('form.took_theirs'), 'info');
        ctx.navigate(`#/${entity.name}/${encodeURIComponent(key)}`);
        return;
      }
      await save(next, version);
    };
    const all = (choice) => async () => {
      for (const name of clashing) choices.set(name, choice);
      await decide();
    };
    const rows = clashing.map((name) => {
      const field = fieldOf(entity, name);
      const group = `clash-${name}`;
      const option = (choice, label, value, detail) => h('label', { class: 'clash-option' },
        h('input', { type: 'radio', name: group, value: choice, checked: choice === 'mine', onchange: () => choices.set(name, choice) }),
        h('span', { class: 'clash-label' }, label), ' ', h('span', { class: 'clash-value', 'data-side': choice }, display(field, value, { configOf: ctx.configOf })),
        detail ? h('span', { class: 'muted' }, ' ', detail) : null);
      const change = who.get(name);
      return h('fieldset', { class: 'clash', 'data-field': name },
        h('legend', {}, field.label),
        option('mine', t('form.conflict_yours'), body[name]),
        option('theirs', t('form.conflict_theirs'), current[name], change ? t('form.conflict_by', { actor: change.actor ?? '—', when: formatDateTime(change.at) }) : null));
    });
    mount(conflictBox, h('section', { class: 'conflict', role: 'alert', 'aria-labelledby': 'conflict-title' },
      h('h2', { id: 'conflict-title' }, t('form.conflict_title')),
      h('p', {}, t('form.conflict_text')),
      rows,
      h('div', { class: 'buttons' },
        h('button', { type: 'button', id: 'keep-mine', onclick: all('mine') }, t('form.keep_mine')),
        h('button', { type: 'button', id: 'take-theirs', onclick: all('theirs') }, t('form.take_theirs')),
        h('button', { type: 'button', class: 'primary', id: 'save-choices', onclick: decide }, t('form.save_choices')))));
    conflictBox.querySelector('h2')?.scrollIntoView({ block: 'nearest' });
    document.getElementById('keep-mine')?.focus();
  };

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    // As the server does: an edit checks what it changes, not what it leaves as stored.
    const invalid = widgets.filter((w) => (!editing || touched.has(w.field.name)) && !w.validate());
    if (invalid.length) {
      invalid[0].focus();
      ctx.toast(t('form.invalid'), 'error');
      return;
    }
    const body = editing ? changedValues(widgets, touched, base) : allValues(widgets);
    if (editing && !Object.keys(body).length) {
      dirty = false;
      forgetDraft(draftKey);
      ctx.toast(t('form.no_changes'), 'info');
      ctx.navigate(cancelHref);
      return;
    }
    await save(body, etag);
  });
  const restored = draft
    ? h('p', { class: 'draft-note', role: 'status' }, t('form.draft_restored'), ' ',
      h('button', { type: 'button', id: 'discard-draft', onclick: () => { forgetDraft(draftKey); dirty = false; ctx.reload(); } }, t('form.discard_draft')))
    : null;
  // Under an edit form, the records of its other one-to-many relations, with "Add one here".
  const others = editing
    ? entity.relations.filter((r) => r.kind !== 'many_to_many' && !r.inline).map((r) => relatedList(entity, r, key, ctx))
    : [];
  const live = h('div', { class: 'live-slot' });
  const open = h('p', { class: 'presence', id: 'presence', role: 'status' });
  mount(main, h('h1', {}, title), live, editing && ctx.config.live_updates ? open : null, restored, form, others);
  widgets.find((w) => !w.field.read_only)?.focus();
  // Someone else changes or deletes the record while it is open: said at once. Reloading
  // keeps what was typed (the draft), on top of the stored record.
  if (editing && ctx.config.live_updates) presence(ctx.api, entity, key, ctx.config.user?.name ?? null, open);
  if (editing) {
    ctx.watch((change) => {
      if (change.reset || change.entity !== entity.name || String(change.id) !== String(key)) return;
      live.replaceChildren(changedNote(change, {
        editing: true,
        reload: () => {
          if (dirty) draftNow();
          ctx.reload();
        },
      }));
    });
  }
}

/** The values a create's address gives (`?post_id=7`), of the form's fields, typed. */
function fromQuery(fields, query) {
  const values = {};
  for (const field of fields) {
    const text = query.get(field.name);
    if (text === null || field.type === 'many' || field.type === 'password') continue;
    const numeric = field.value_type === 'integer' || field.type === 'integer' || field.type === 'float';
    values[field.name] = numeric && text !== '' && !Number.isNaN(Number(text)) ? Number(text) : text;
  }
  return values;
}

function fieldOf(entity, name) {
  const inline = entity.relations.find((r) => r.inline && r.name === name);
  if (inline) return { name, type: 'inline', label: inline.label };
  return [...entity.fields, ...entity.sets].find((f) => f.name === name) ?? { name, type: 'string', label: name };
}

/** Every writable field's value, for a create. */
function allValues(widgets) {
  const body = {};
  for (const widget of widgets) {
    if (widget.field.read_only) continue;
    const value = widget.read();
    if (value !== undefined) body[widget.field.name] = value;
  }
  return body;
}

/** The fields the user touched whose values differ from `base` (all touched ones when there
 * is no base). A value that cannot be read yet (JSON being typed) is left out. */
function changedValues(widgets, touched, base) {
  const body = {};
  for (const widget of widgets) {
    const { field } = widget;
    if (field.read_only || !touched.has(field.name)) continue;
    let value;
    try {
      value = widget.read();
    } catch {
      continue;
    }
    if (value === undefined) continue;
    if (base && same(field, value, base[field.name])) continue;
    body[field.name] = value;
  }
  return body;
}

/** Whether two values of `field` are the same value (`4.50` and `4.5`, two spellings of an
 * instant, '' and null in an optional text). */
function same(field, a, b) {
  const empty = (v) => v === null || v === undefined || (v === '' && !field.required);
  if (empty(a) && empty(b)) return true;
  if (empty(a) || empty(b)) return false;
  switch (field.type) {
    case 'datetime':
      return Date.parse(a) === Date.parse(b);
    case 'decimal':
    case 'float':
    case 'integer':
      return Number(a) === Number(b);
    case 'json':
      return JSON.stringify(a) === JSON.stringify(b);
    case 'inline':
      // Children: a widget reads them only when something changed.
      return JSON.stringify(a) === JSON.stringify(b);
    case 'multichoice':
    case 'many': {
      // A set: the same keys in any order.
      const keys = (v) => (Array.isArray(v) ? v.map(String).sort() : []);
      return JSON.stringify(keys(a)) === JSON.stringify(keys(b));
    }
    default:
      return String(a) === String(b);
  }
}

/** Who last changed each of `names` of the record, and when (from the audit log). */
async function lastChanges(entity, key, names, ctx) {
  const found = new Map();
  if (!ctx.configOf('_audit')) return found;
  try {
    const { rows } = await ctx.api.list('_audit', {
      page: 1, perPage: 50, sort: 'id', dir: 'DESC', count: 'none',
      filters: { entity: entity.name, record_id: String(key), action: 'update' },
    });
    for (const name of names) {
      const row = rows.find((r) => r.after && name in r.after);
      if (row) found.set(name, { actor: row.actor, at: row.at });
    }
  } catch {
    // Without the history the choice is still there.
  }
  return found;
}

function showErrors(widgets, error) {
  const fieldErrors = error instanceof ApiError ? error.errors : {};
  let first = null;
  for (const widget of widgets) {
    if (widget.setErrors) {
      // Inline children: errors at `relation.N.field`.
      first ??= widget.setErrors(fieldErrors);
      continue;
    }
    const message = fieldErrors[widget.field.name];
    widget.setError(message ?? null);
    if (message && !first) first = widget;
  }
  first?.focus();
}

/** The draft of a form: field → value, as typed (never a password). */
function readDraft(draftKey) {
  try {
    const text = sessionStorage.getItem(draftKey);
    const draft = text ? JSON.parse(text) : null;
    return draft && typeof draft === 'object' && Object.keys(draft).length ? draft : null;
  } catch {
    return null;
  }
}

function writeDraft(draftKey, values) {
  try {
    if (Object.keys(values).length) sessionStorage.setItem(draftKey, JSON.stringify(values));
    else sessionStorage.removeItem(draftKey);
  } catch {
    // A full or disabled storage: the form still works, without a draft.
  }
}

function forgetDraft(draftKey) {
  try {
    sessionStorage.removeItem(draftKey);
  } catch {
    // Nothing to forget.
  }
}
