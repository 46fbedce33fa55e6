// Two-factor login (`#/_2fa`, `/_2fa`): where it stands; set up with a QR code drawn here
// (SVG, from the modules the server gives: no image from anywhere) or the secret typed in,
// confirmed with the app's first code, which shows the recovery codes once; new recovery
// codes; turning it off. An administrator removes another user's. A user whose role
// requires it and who has none is kept here until it is done.

import { h, mount } from '../dom.js';
import { t } from '../i18n.js';
import { describe } from '../errors.js';
import { codeField, wrongCode } from '../codestep.js';
import { mayRemoveSecondFactors } from '../access.js';

const SVG = 'http://www.w3.org/2000/svg';
/** The light margin a QR code needs around it, in modules. */
const QUIET = 4;

export async function render(main, ctx) {
  document.title = `${t('twofa.title')} · ${ctx.config.title}`;
  const pending = Boolean(ctx.config.user?.second_factor_pending);
  const section = h('section', { id: 'twofa', 'aria-live': 'polite' });
  const admin = mayRemoveSecondFactors(ctx.config.user) && !pending ? removeForm(ctx) : null;
  mount(main,
    h('h1', {}, t('twofa.title')),
    pending ? h('p', { class: 'notice', id: 'twofa-required' }, t('twofa.required_first')) : null,
    h('p', {}, t('twofa.intro')),
    section,
    admin);

  async function refresh() {
    let status;
    try {
      ({ data: status } = await ctx.api.request('GET', '/_2fa'));
    } catch (failure) {
      ctx.fail(failure);
      return;
    }
    if (ctx.stale()) return;
    mount(section, status.enabled ? enabled(status) : disabled(status));
  }

  function disabled(status) {
    const start = h('button', { type: 'button', class: 'primary', id: 'twofa-start', onclick: async () => {
      start.disabled = true;
      try {
        const { data } = await ctx.api.request('POST', '/_2fa');
        mount(section, setUp(data));
      } catch (failure) {
        start.disabled = false;
        ctx.toast(describe(failure), 'error');
      }
    } }, t(status.enrolling ? 'twofa.start_again' : 'twofa.start'));
    return [
      h('p', { id: 'twofa-status' }, t(status.enrolling ? 'twofa.status_unfinished' : 'twofa.status_off')),
      start,
    ];
  }

  /**
   * A form that sends the code typed in it to `method path` (ids from `prefix`), then
   * `onDone(answer)`; `ask()`, when given, must say yes first. `before`: what the form says
   * above the field.
   */
  function codeRequest({ prefix, heading, before = [], recoveryToo = false, method = 'POST', path, submit, ask, onDone }) {
    const error = h('p', { class: 'field-error', id: `${prefix}-error`, role: 'alert' });
    const code = codeField(prefix, { recoveryToo, onSwitch: () => { error.textContent = ''; } });
    return h('form', { class: 'key-form', 'aria-labelledby': `${prefix}-heading`, onsubmit: async (event) => {
      event.preventDefault();
      error.textContent = '';
      if (ask && !await ask()) return;
      try {
        const { data } = await ctx.api.request(method, path, { body: code.proof(), quiet: true });
        await onDone(data);
      } catch (failure) {
        error.textContent = wrongCode(failure);
        code.input.select();
      }
    } },
    h('h2', { id: `${prefix}-heading` }, heading), before, code.nodes, error, submit);
  }

  /** The set-up: the QR code, the secret to type instead, and the first code. */
  function setUp(enrolment) {
    const form = codeRequest({
      prefix: 'twofa-confirm',
      heading: t('twofa.setup_heading'),
      before: h('ol', { class: 'twofa-steps' },
        h('li', {}, t('twofa.step_scan'), qrImage(enrolment.qr)),
        h('li', {}, t('twofa.step_type'), ' ',
          h('code', { id: 'twofa-secret', class: 'mono' }, grouped(enrolment.secret))),
        h('li', {}, t('twofa.step_code'))),
      path: '/_2fa/confirm',
      submit: h('button', { type: 'submit', class: 'primary', id: 'twofa-confirm' }, t('twofa.confirm')),
      onDone: (data) => mount(section, recoveryCodes(data.recovery_codes, true)),
    });
    setTimeout(() => form.querySelector('input')?.focus(), 0);
    return form;
  }

  /** The recovery codes, shown this once; `first`: the set-up is done. */
  function recoveryCodes(codes, first) {
    const done = h('button', { type: 'button', class: 'primary', id: 'twofa-done', onclick: () => {
      // The session changed (the confirmation opened a new one): the app starts again.
      if (first) {
        if (pending) location.hash = '#/';
        location.reload();
      } else {
        refresh();
      }
    } }, t('twofa.saved_them'));
    const copy = h('button', { type: 'button', id: 'twofa-copy', onclick: async () => {
      try {
        await navigator.clipboard.writeText(codes.join('\n'));
        ctx.toast(t('keys.copied'));
      } catch {
        // The codes are on the page to select.
      }
    } }, t('keys.copy'));
    setTimeout(() => done.focus(), 0);
    return [
      h('h2', { id: 'twofa-codes-heading' }, t(first ? 'twofa.on_now' : 'twofa.new_codes_heading')),
      h('p', { id: 'twofa-codes-once' }, t('twofa.codes_once')),
      h('ol', { class: 'twofa-codes mono', id: 'twofa-codes', 'aria-labelledby': 'twofa-codes-heading' }, codes.map((c) => h('li', {}, c))),
      h('div', { class: 'buttons' }, copy, done),
    ];
  }

  function enabled(status) {
    const renew = codeRequest({
      prefix: 'twofa-renew',
      heading: t('twofa.renew_heading'),
      before: h('p', {}, t('twofa.renew_text')),
      path: '/_2fa/recovery-codes',
      submit: h('button', { type: 'submit', id: 'twofa-renew' }, t('twofa.renew')),
      onDone: (data) => mount(section, recoveryCodes(data.recovery_codes, false)),
    });
    const off = status.required
      ? h('p', { id: 'twofa-required-on' }, t('twofa.required_on'))
      : codeRequest({
        prefix: 'twofa-off',
        heading: t('twofa.off_heading'),
        recoveryToo: true,
        method: 'DELETE',
        path: '/_2fa',
        submit: h('button', { type: 'submit', class: 'danger', id: 'twofa-off' }, t('twofa.off')),
        ask: () => ctx.confirm(h('p', {}, t('twofa.off_confirm')), t('twofa.off')),
        onDone: async () => {
          ctx.toast(t('twofa.off_done'));
          await refresh();
        },
      });
    return [h('p', { id: 'twofa-status' }, t('twofa.status_on', { n: status.recovery_codes_left })), renew, off];
  }

  await refresh();
}

/** An administrator's help for a user who lost their device. */
function removeForm(ctx) {
  const user = h('input', { id: 'twofa-user', name: 'user', required: true, autocomplete: 'off' });
  const error = h('p', { class: 'field-error', id: 'twofa-user-error', role: 'alert' });
  return h('form', { class: 'key-form', 'aria-labelledby': 'twofa-remove-heading', onsubmit: async (event) => {
    event.preventDefault();
    error.textContent = '';
    const name = user.value.trim();
    if (!await ctx.confirm(h('p', {}, t('twofa.remove_confirm', { user: name })), t('twofa.remove'))) return;
    try {
      await ctx.api.request('DELETE', '/_2fa', { body: { user: name }, quiet: true });
      ctx.toast(t('twofa.removed', { user: name }));
      user.value = '';
    } catch (failure) {
      error.textContent = failure?.status === 404 || failure?.status === 409 ? failure.message : describe(failure);
    }
  } },
  h('h2', { id: 'twofa-remove-heading' }, t('twofa.remove_heading')),
  h('p', {}, t('twofa.remove_text')),
  h('div', { class: 'field' }, h('label', { for: 'twofa-user' }, t('twofa.user')), user),
  error,
  h('button', { type: 'submit', class: 'danger', id: 'twofa-remove' }, t('twofa.remove')));
}

/** The secret in groups of four, as authenticator apps show it (spaces are ignored there). */
function grouped(secret) {
  return secret.match(/.{1,4}/g).join(' ');
}

/** The QR code of rows of modules ('1' dark) as an SVG image: dark on light whatever the
 * theme, with its quiet zone, crisp at any size. */
function qrImage(rows) {
  const size = rows.length + 2 * QUIET;
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${size} ${size}`);
  svg.setAttribute('class', 'qr');
  svg.setAttribute('id', 'twofa-qr');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', t('twofa.qr_label'));
  svg.setAttribute('shape-rendering', 'crispEdges');
  const light = document.createElementNS(SVG, 'rect');
  light.setAttribute('width', String(size));
  light.setAttribute('height', String(size));
  light.setAttribute('fill', '#fff');
  let path = '';
  rows.forEach((row, y) => {
    for (let x = 0; x < row.length; x += 1) {
      if (row[x] === '1') path += `M${x + QUIET} ${y + QUIET}h1v1h-1z`;
    }
  });
  const dark = document.createElementNS(SVG, 'path');
  dark.setAttribute('d', path);
  dark.setAttribute('fill', '#000');
  svg.append(light, dark);
  return svg;
}
