// The app: loads config.json, draws the layout, and routes the URL hash to a view. Only this
// module holds app state; views get a context with what they may do.
//
// Routes: #/  ·  #/{entity}?page&perPage&sort&dir&q&filters  ·  #/{entity}/create
//         #/{entity}/{id}  ·  #/{entity}/{id}/edit

import { h, mount } from './dom.js';
import { ApiError, createClient } from './api.js';
import { languageOf, t } from './i18n.js';
import { can } from './access.js';
import { describe } from './errors.js';
import * as dashboard from './views/dashboard.js';
import * as listView from './views/list.js';
import * as showView from './views/show.js';
import * as formView from './views/form.js';

// The app's state: the config, the API client, the guard against leaving unsaved changes,
// the route being drawn, and the element to focus once a view is drawn again.
const state = {
  config: null,
  guard: null,
  lastHash: location.hash,
  route: 0,
  refocus: null,
  // The password question being asked, when a session ended (one at a time).
  relogin: null,
  api: createClient({
    onActivity: (busy) => {
      const progress = document.getElementById('progress');
      if (progress) progress.hidden = !busy;
      document.body.setAttribute('aria-busy', busy ? 'true' : 'false');
    },
    // A token that expires or is revoked while the app is open: back to the login form,
    // unless there is typing to keep: then the password is asked in place.
    onUnauthorized: () => {
      if (state.guard?.()) passwordDialog();
      else location.reload();
    },
  }),
};

/** The language of every message: the page's `lang`, which i18n.js reads. */
function setLanguage(requested) {
  document.documentElement.lang = languageOf(requested);
}

async function boot() {
  const root = document.getElementById('app');
  let config;
  try {
    config = await state.api.config();
    if (config === null) {
      setLanguage(navigator.language);
      mount(root, loginForm());
      return;
    }
  } catch (error) {
    mount(root, h('p', { class: 'fatal', role: 'alert' }, `config.json: ${error.message}`));
    return;
  }
  state.config = config;
  state.api.setBase(config.api);
  setLanguage(config.locale || navigator.language);
  document.title = config.title;
  mount(root, layout(config));
  window.addEventListener('hashchange', onHashChange);
  window.addEventListener('beforeunload', (event) => {
    if (state.guard?.()) {
      event.preventDefault();
      event.returnValue = '';
    }
  });
  route();
}

/** The login form: the server sets an HttpOnly cookie, then the app starts again. */
function loginForm() {
  const error = h('p', { class: 'field-error', id: 'login-error', role: 'alert' });
  const username = h('input', { id: 'login-username', name: 'username', autocomplete: 'username', required: true });
  const password = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const form = h('form', { class: 'login record-form', 'aria-labelledby': 'login-title' },
    h('h1', { id: 'login-title' }, t('login.title')),
    h('div', { class: 'field' }, h('label', { for: 'login-username' }, t('login.username')), username),
    h('div', { class: 'field' }, h('label', { for: 'login-password' }, t('login.password')), password),
    error,
    h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary', id: 'login-submit' }, t('login.submit'))));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    try {
      await state.api.login(username.value, password.value);
      location.reload();
    } catch (failure) {
      if (failure instanceof ApiError && failure.status === 401) error.textContent = t('login.failed');
      else if (failure instanceof ApiError && failure.status === 0) error.textContent = t('error.network');
      else error.textContent = failure.message;
      password.select();
    }
  });
  setTimeout(() => username.focus(), 0);
  return h('main', { class: 'login-page', id: 'main' }, form);
}

/** Ends this session (or every session of the user) and starts again at the login form. */
async function logout(everywhere = false) {
  try {
    await state.api.logout({ everywhere });
  } finally {
    location.hash = '#/';
    location.reload();
  }
}

function layout(config) {
  const menu = h('nav', { class: 'menu', id: 'menu', 'aria-label': t('nav.menu') },
    h('ul', {},
      h('li', {}, h('a', { href: '#/' }, t('nav.dashboard'))),
      config.entities.map((e) => h('li', {}, h('a', { href: `#/${e.name}`, 'data-entity': e.name }, e.label)))));
  const toggle = h('button', {
    type: 'button', class: 'menu-toggle', 'aria-controls': 'menu', 'aria-expanded': 'false',
    onclick: () => {
      const open = menu.classList.toggle('open');
      toggle.setAttribute('aria-expanded', String(open));
    },
  }, t('nav.menu'));
  return [
    h('a', { class: 'skip', href: '#main', onclick: (e) => { e.preventDefault(); document.getElementById('main').focus(); } }, t('nav.skip')),
    h('header', { class: 'topbar' }, toggle, h('a', { class: 'brand', href: '#/' }, config.title),
      h('div', { class: 'user', id: 'user' },
        config.user?.name ? h('span', { class: 'user-name' }, config.user.name) : null,
        config.user?.can_log_out ? h('button', { type: 'button', id: 'logout', onclick: () => logout() }, t('login.logout')) : null,
        config.user?.can_log_out ? h('button', { type: 'button', id: 'logout-everywhere', onclick: () => logout(true) }, t('login.logout_everywhere')) : null)),
    h('div', { class: 'progress', id: 'progress', hidden: true, role: 'progressbar', 'aria-label': t('common.loading') }),
    h('div', { class: 'frame' }, menu, h('main', { id: 'main', tabindex: '-1' })),
    h('div', { class: 'toasts', id: 'toasts', role: 'status', 'aria-live': 'polite' }),
    h('dialog', { id: 'confirm', class: 'confirm' }),
  ];
}

function onHashChange() {
  if (state.guard?.() && !window.confirm(t('form.unsaved'))) {
    // Stay: put the old address back without routing again.
    history.replaceState(null, '', state.lastHash || '#/');
    return;
  }
  route();
}

function configOf(name) {
  return state.config.entities.find((e) => e.name === name);
}

async function route() {
  state.guard = null;
  state.lastHash = location.hash;
  const number = ++state.route;
  const main = document.getElementById('main');
  const [path, queryString = ''] = location.hash.replace(/^#/, '').split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const query = new URLSearchParams(queryString);
  for (const link of document.querySelectorAll('.menu a')) {
    const current = link.dataset.entity ? link.dataset.entity === parts[0] : parts.length === 0;
    if (current) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  document.getElementById('menu').classList.remove('open');
  const context = {
    config: state.config,
    configOf,
    api: state.api,
    query,
    navigate: (hash) => { location.hash = hash; },
    // Draws the current view again (its data changed without its address).
    reload: () => route(),
    setQuery: (params) => {
      const search = new URLSearchParams();
      for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') search.set(k, v);
      const text = search.toString();
      location.hash = `#/${parts[0]}${text ? `?${text}` : ''}`;
    },
    toast,
    confirm: confirmDialog,
    askPassword: passwordDialog,
    setGuard: (fn) => { state.guard = fn; },
    fail: (error) => failed(main, error),
    stale: () => number !== state.route,
    // The element to focus once the view is drawn again (the list redraws on every change).
    focusAfterRender: (id) => { state.refocus = id; },
    takeFocus: () => {
      const id = state.refocus;
      state.refocus = null;
      return id;
    },
  };
  const entity = parts.length ? configOf(parts[0]) : null;
  try {
    if (parts.length === 0) await dashboard.render(main, context);
    else if (!entity) notFound(main);
    else if (parts.length === 1) await listView.render(main, entity, context);
    else if (parts.length === 2 && parts[1] === 'create' && can(entity, 'add')) await formView.render(main, entity, null, context);
    else if (parts.length === 2) await showView.render(main, entity, parts[1], context);
    else if (parts.length === 3 && parts[2] === 'edit' && can(entity, 'edit')) await formView.render(main, entity, parts[1], context);
    else notFound(main);
  } catch (error) {
    failed(main, error);
  }
}

function notFound(main) {
  document.title = `${t('page.not_found_title')} · ${state.config.title}`;
  mount(main, h('h1', {}, t('page.not_found_title')), h('p', {}, t('page.not_found_text')));
}

/** A view that could not load: 404 and 403 get their pages, the rest a toast. */
function failed(main, error) {
  if (error instanceof ApiError && error.status === 404) return notFound(main);
  if (error instanceof ApiError && error.status === 403) {
    return mount(main, h('h1', {}, t('page.forbidden_title')), h('p', {}, t('page.forbidden_text')));
  }
  toast(describe(error), 'error');
  return undefined;
}

/** A notification; `action` ({label, run}) adds a button (Undo) that runs it once. */
function toast(message, kind = 'info', action = null) {
  const box = document.getElementById('toasts');
  const close = h('button', { type: 'button', class: 'toast-close', 'aria-label': t('common.close') }, '×');
  const button = action ? h('button', { type: 'button', class: 'toast-action' }, action.label) : null;
  const note = h('div', { class: `toast toast-${kind}`, role: kind === 'error' ? 'alert' : undefined }, h('span', {}, message), button, close);
  close.addEventListener('click', () => note.remove());
  button?.addEventListener('click', () => {
    note.remove();
    action.run();
  });
  box.append(note);
  // A toast with an action stays long enough to use it.
  setTimeout(() => note.remove(), action ? 12000 : kind === 'error' ? 10000 : 4000);
}

/**
 * A modal question; Esc cancels. `message` is text or nodes; `confirmLabel` null makes it
 * a notice with a single Close button. Resolves to true or false.
 */
function confirmDialog(message, confirmLabel = t('common.delete')) {
  const dialog = document.getElementById('confirm');
  return new Promise((resolve) => {
    const finish = (answer) => {
      dialog.close();
      resolve(answer);
    };
    const yes = confirmLabel === null ? null : h('button', { type: 'button', class: 'danger', onclick: () => finish(true) }, confirmLabel);
    const no = h('button', { type: 'button', onclick: () => finish(false) }, confirmLabel === null ? t('common.close') : t('common.cancel'));
    mount(dialog, h('div', { class: 'dialog-body' }, message), h('div', { class: 'buttons' }, no, yes));
    dialog.addEventListener('cancel', (event) => { event.preventDefault(); finish(false); }, { once: true });
    dialog.showModal();
    (yes ?? no).focus();
  });
}

/**
 * The session ended while the user was working: asks for the password of the same user in
 * place, logs in again, resolves true (false when cancelled). Nothing typed is lost.
 */
function passwordDialog() {
  // Several requests may find the session ended at once: one question answers them all.
  state.relogin ??= askPassword().finally(() => { state.relogin = null; });
  return state.relogin;
}

function askPassword() {
  const dialog = document.getElementById('confirm');
  const user = state.config?.user?.name ?? '';
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
        await state.api.login(user, password.value);
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

boot();
