// The second factor's code in a form: the authenticator app's six digits, or (switched by a
// button) one of the recovery codes. The login page, the password dialog and the two-factor
// page ask for it the same way.

import { h } from './dom.js';
import { t } from './i18n.js';

/**
 * A code field whose ids start with `prefix`; `recoveryToo`: with the switch to a recovery
 * code (`onSwitch()` told of it). `{ nodes, input, proof() }`: `proof()` is `{code}` or
 * `{recovery_code}`, as typed.
 */
export function codeField(prefix, { recoveryToo = true, onSwitch = () => {} } = {}) {
  const id = `${prefix}-code`;
  const label = h('label', { for: id }, t('twofa.code'));
  const hint = h('p', { class: 'hint', id: `${id}-hint` }, t('twofa.code_hint'));
  const input = h('input', {
    id, name: 'code', class: 'mono', required: true, maxlength: 64, autocomplete: 'one-time-code',
    inputmode: 'numeric', spellcheck: 'false', 'aria-describedby': `${id}-hint`,
  });
  const field = { recovery: false };
  const toggle = recoveryToo
    ? h('button', { type: 'button', class: 'link-button', id: `${prefix}-use-recovery`, onclick: () => {
      field.recovery = !field.recovery;
      label.textContent = t(field.recovery ? 'twofa.recovery_code' : 'twofa.code');
      hint.textContent = t(field.recovery ? 'twofa.recovery_hint' : 'twofa.code_hint');
      toggle.textContent = t(field.recovery ? 'twofa.use_code' : 'twofa.use_recovery');
      input.inputMode = field.recovery ? 'text' : 'numeric';
      input.value = '';
      input.focus();
      onSwitch();
    } }, t('twofa.use_recovery'))
    : null;
  return {
    nodes: [h('div', { class: 'field' }, label, input, hint), toggle],
    input,
    proof: () => (field.recovery ? { recovery_code: input.value.trim() } : { code: input.value.trim() }),
  };
}

/**
 * The login's second step as a form (`heading`: 'h1' on the login page, 'h2' in a dialog;
 * `className`: the form's look there): sends the code with `challenge` (`POST /login`'s
 * answer) through `api`, then `onDone()`; `onBack()` (the button `backLabel`) leaves it. A
 * challenge lives 5 minutes: past it, the password again.
 */
export function codeForm(api, challenge, { prefix, heading = 'h1', className = 'login record-form', backLabel = t('twofa.back'), onDone, onBack }) {
  const error = h('p', { class: 'field-error', id: `${prefix}-code-error`, role: 'alert' });
  const code = codeField(prefix, { onSwitch: () => { error.textContent = ''; } });
  const form = h('form', { class: className, id: `${prefix}-second-factor`, 'aria-labelledby': `${prefix}-code-title` },
    h(heading, { id: `${prefix}-code-title` }, t('twofa.login_title')),
    h('p', {}, t('twofa.login_text')),
    code.nodes,
    error,
    h('div', { class: 'buttons' },
      h('button', { type: 'button', id: `${prefix}-code-back`, onclick: onBack }, backLabel),
      h('button', { type: 'submit', class: 'primary', id: `${prefix}-code-submit` }, t('login.submit'))));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    if (Date.now() > Date.parse(challenge.expires_at)) {
      error.textContent = t('twofa.expired');
      return;
    }
    try {
      await api.secondFactor(challenge.challenge, code.proof());
      onDone();
    } catch (failure) {
      error.textContent = wrongCode(failure);
      code.input.select();
    }
  });
  setTimeout(() => code.input.focus(), 0);
  return form;
}

/** What a refused code says: wrong (or used), too many tries, or what else happened. */
export function wrongCode(failure) {
  if (failure?.status === 401 || failure?.status === 422) return t('twofa.wrong');
  if (failure?.status === 429) return t('error.code.too_many_requests');
  if (failure?.status === 0) return t('error.network');
  return failure?.message ?? String(failure);
}
