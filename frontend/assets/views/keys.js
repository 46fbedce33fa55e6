// The user's API keys (`#/_keys`, `/_keys`): made with a name, an expiry and read-only or the
// user's own permissions; the new key is shown once, to copy; listed with their last use;
// revoked after a question.

import { h, mount } from '../dom.js';
import { t } from '../i18n.js';
import { describe } from '../errors.js';
import { formatDateTime } from '../format.js';
import { keyGrants, newKeyBody } from '../access.js';

/** Days a new key lives unless the user says otherwise. */
const DEFAULT_DAYS = 90;

export async function render(main, ctx) {
  document.title = `${t('keys.title')} · ${ctx.config.title}`;
  const list = h('section', { id: 'keys-list', 'aria-labelledby': 'keys-list-heading' });
  const made = h('div', { id: 'key-made', role: 'status', 'aria-live': 'polite' });
  const name = h('input', { id: 'key-name', name: 'name', required: true, maxlength: 60, autocomplete: 'off' });
  const days = h('input', { id: 'key-days', name: 'expires_in_days', type: 'number', min: 1, max: 3650, step: 1, required: true, value: DEFAULT_DAYS });
  const grant = h('select', { id: 'key-grant', name: 'grant' },
    h('option', { value: 'read' }, t('keys.read')),
    h('option', { value: 'same' }, t('keys.same')));
  const error = h('p', { class: 'field-error', id: 'key-error', role: 'alert' });
  const form = h('form', { class: 'key-form', 'aria-labelledby': 'key-form-heading', onsubmit: async (event) => {
    event.preventDefault();
    error.textContent = '';
    try {
      const body = newKeyBody(name.value.trim(), Number(days.value), grant.value);
      const { data } = await ctx.api.request('POST', '/_keys', { body, quiet: true });
      showMade(data);
      name.value = '';
      await refresh();
    } catch (failure) {
      const fields = failure.errors ?? {};
      // Each message after its field's label, as the form shows it.
      const label = (field) => form.querySelector(`label[for="${{ name: 'key-name', expires_in_days: 'key-days' }[field] ?? 'key-grant'}"]`)?.textContent;
      error.textContent = Object.keys(fields).length
        ? Object.entries(fields).map(([field, message]) => `${label(field)}: ${message}`).join(' · ')
        : describe(failure);
    }
  } },
  h('h2', { id: 'key-form-heading' }, t('keys.new')),
  h('div', { class: 'key-fields' },
    h('label', { for: 'key-name' }, t('keys.field_name')), name,
    h('label', { for: 'key-days' }, t('keys.field_expires_in_days')), days,
    h('label', { for: 'key-grant' }, t('keys.field_grant')), grant),
  error,
  h('button', { type: 'submit', class: 'primary', id: 'key-create' }, t('keys.create')));

  /** The key just made, in a field to copy: the only time it is shown. */
  function showMade(key) {
    const value = h('input', { id: 'key-value', readonly: true, value: key.key, class: 'mono', 'aria-describedby': 'key-once' });
    mount(made,
      h('p', { id: 'key-once' }, t('keys.once', { name: key.name })),
      h('div', { class: 'key-copy' },
        h('label', { for: 'key-value', class: 'sr-only' }, t('keys.value')), value,
        h('button', { type: 'button', id: 'key-copy', onclick: async () => {
          value.select();
          try {
            await navigator.clipboard.writeText(key.key);
            ctx.toast(t('keys.copied'));
          } catch {
            // Selected: the user copies it with the keyboard.
          }
        } }, t('keys.copy'))));
    value.focus();
    value.select();
  }

  async function refresh() {
    let keys;
    try {
      ({ data: keys } = await ctx.api.request('GET', '/_keys'));
    } catch (failure) {
      ctx.fail(failure);
      return;
    }
    if (ctx.stale()) return;
    if (!keys.length) {
      mount(list, h('h2', { id: 'keys-list-heading' }, t('keys.yours')), h('p', {}, t('keys.none')));
      return;
    }
    mount(list,
      h('h2', { id: 'keys-list-heading' }, t('keys.yours')),
      h('div', { class: 'import-scroll', tabindex: '0', role: 'region', 'aria-labelledby': 'keys-list-heading' },
        h('table', { class: 'keys' },
          h('thead', {}, h('tr', {}, [t('keys.field_name'), t('keys.status'), t('common.actions'), t('keys.field_grant'), t('keys.expires'), t('keys.last_used'), t('keys.created')]
            .map((label) => h('th', { scope: 'col' }, label)))),
          h('tbody', {}, keys.map(row)))));
  }

  function row(key) {
    const status = key.revoked_at ? t('keys.revoked') : key.active ? t('keys.active') : t('keys.expired');
    const revoke = key.active
      ? h('button', { type: 'button', id: `key-revoke-${key.id}`, 'aria-label': t('keys.revoke_of', { name: key.name }), onclick: async () => {
        if (!await ctx.confirm(h('p', {}, t('keys.revoke_confirm', { name: key.name })), t('keys.revoke'))) return;
        try {
          await ctx.api.request('DELETE', `/_keys/${encodeURIComponent(key.id)}`);
          ctx.toast(t('keys.revoked_toast', { name: key.name }));
          await refresh();
        } catch (failure) {
          ctx.toast(describe(failure), 'error');
        }
      } }, t('keys.revoke'))
      : null;
    const scope = keyGrants(key)
      .map(([entity, actions]) => `${entity === '*' ? t('keys.everything') : entity}: ${actions.join(', ')}`)
      .join('; ');
    return h('tr', { id: `key-${key.id}` },
      h('td', {}, key.name),
      h('td', {}, status),
      h('td', {}, revoke),
      h('td', {}, scope || '—'),
      h('td', {}, formatDateTime(key.expires_at)),
      h('td', {}, key.last_used_at ? formatDateTime(key.last_used_at) : t('keys.never')),
      h('td', {}, formatDateTime(key.created_at)));
  }

  mount(main, h('h1', {}, t('keys.title')), h('p', {}, t('keys.intro')), form, made, list);
  await refresh();
}
