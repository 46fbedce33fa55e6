// The app's modal dialogs, in the one <dialog id="confirm">: a question (delete?), and the
// password (and the second factor's code) asked again when a session ends while the user
// works.

import { h, mount } from './dom.js';
import { ApiError } from './api.js';
import { t } from './i18n.js';
import { describe } from './errors.js';
import { codeForm } from './codestep.js';

/**
 * A modal question; Esc cancels. `message` is text or nodes; `confirmLabel` null makes it
 * a notice with a single Close button. Resolves to true or false. Cancel has the focus, so
 * Enter never confirms what the user has not read.
 */
export function confirmDialog(message, confirmLabel = t('common.delete')) {
  const dialog = document.getElementById('confirm');
  return new Promise((resolve) => {
    const finish = (answer) => {
      dialog.close();
      resolve(answer);
    };
    const yes = confirmLabel === null ? null : h('button', { type: 'button', class: 'danger', id: 'confirm-yes', onclick: () => finish(true) }, confirmLabel);
    const no = h('button', { type: 'button', id: 'confirm-no', onclick: () => finish(false) }, confirmLabel === null ? t('common.close') : t('common.cancel'));
    mount(dialog, h('div', { class: 'dialog-body' }, message), h('div', { class: 'buttons' }, no, yes));
    dialog.addEventListener('cancel', (event) => { event.preventDefault(); finish(false); }, { once: true });
    dialog.showModal();
    no.focus();
  });
}

/**
 * Asks `user`'s password in place and logs in again with `api`: resolves true, or false when
 * cancelled. Nothing typed in the page is lost.
 */
export function askPassword(api, user) {
  const dialog = document.getElementById('confirm');
  return new Promise((resolve) => {
    const error = h('p', { class: 'field-error', id: 'relogin-error', role: 'alert' });
    const password = h('input', { id: 'relogin-password', type: 'password', autocomplete: 'current-password', required: true, 'aria-describedby': 'relogin-error' });
    const finish = (answer) => {
      dialog.close();
      resolve(answer);
    };
    const form = h('form', { class: 'relogin' },
      h('h2', { id: 'relogin-title' }, t('login.again_title')),
      h('p', {}, t('login.again_text', { user })),
      h('div', { class: 'field' }, h('label', { for: 'relogin-password' }, t('login.password')), password),
      error,
      h('div', { class: 'buttons' },
        h('button', { type: 'button', onclick: () => finish(false) }, t('common.cancel')),
        h('button', { type: 'submit', class: 'primary', id: 'relogin-submit' }, t('login.submit'))));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      try {
        const { data } = await api.login(user, password.value);
        if (data?.second_factor) {
          // Then the second factor's code, in the same dialog.
          const step = codeForm(api, data, { prefix: 'relogin', heading: 'h2', className: 'relogin', backLabel: t('common.cancel'), onDone: () => finish(true), onBack: () => finish(false) });
          mount(dialog, step);
          dialog.setAttribute('aria-labelledby', 'relogin-code-title');
          return;
        }
        finish(true);
      } catch (failure) {
        error.textContent = failure instanceof ApiError && failure.status === 401 ? t('login.failed') : describe(failure);
        password.select();
      }
    });
    mount(dialog, form);
    dialog.setAttribute('aria-labelledby', 'relogin-title');
    dialog.addEventListener('cancel', (event) => { event.preventDefault(); finish(false); }, { once: true });
    dialog.addEventListener('close', () => dialog.removeAttribute('aria-labelledby'), { once: true });
    dialog.showModal();
    password.focus();
  });
}
