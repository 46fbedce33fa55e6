// The app: loads config.json, draws the layout, and routes the URL hash to a view. Only this
// module holds app state; views get a context with what they may do.
//
// Routes: #/  ·  #/{entity}?page&perPage&sort&dir&q&filters  ·  #/{entity}/create
//         #/{entity}/{id}  ·  #/{entity}/{id}/edit  ·  #/_keys  ·  #/_2fa

import { h, mount } from './dom.js';
import { ApiError, createClient } from './api.js';
import { has, t } from './i18n.js';
import { can } from './access.js';
import { describe } from './errors.js';
import { toast, clearToasts } from './notify.js';
import { confirmDialog, askPassword } from './dialogs.js';
import { codeForm } from './codestep.js';
import { installShortcuts } from './shortcuts.js';
import { applyLanguage, applyTheme, preferenceControls } from './prefs.js';
import * as dashboard from './views/dashboard.js';
import * as listView from './views/list.js';
import * as showView from './views/show.js';
import * as formView from './views/form.js';
import * as importView from './views/import.js';
import * as keysView from './views/keys.js';
import * as twoFactorView from './views/twofactor.js';
import { loadSaved, menuViews, viewHref } from './views/saved.js';
import { connect } from './live.js';

// The app's state: the config, the API client, the guard against leaving unsaved changes,
// the route being drawn, and the element to focus once a view is drawn again.
const state = {
  config: null,
  guard: null,
  route: 0,
  refocus: null,
  // The password question being asked, when a session ended (one at a time).
  relogin: null,
  // The place in history of the page shown (see `stamp`), and a step the app makes itself
  // (putting back the page the user chose to stay on), which is not a navigation.
  at: 0,
  returning: false,
  // Each list's last query (page, sort, filters), so "Back to the list" finds it as it was.
  lists: readLists(),
  // Live updates (live.js): how to watch them, when the server sends them, and how to stop
  // the watcher of the view shown (one per view).
  watch: null,
  unwatch: null,
  // The saved views the user may see (saved.js), and the promise of their first load.
  saved: [],
  savedReady: null,
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

async function boot() {
  applyTheme();
  const root = document.getElementById('app');
  let config;
  try {
    config = await state.api.config();
    if (config === null) {
      applyLanguage(navigator.language);
      mount(root, loginForm());
      return;
    }
  } catch (error) {
    mount(root, h('p', { class: 'fatal', role: 'alert' }, `config.json: ${error.message}`));
    return;
  }
  state.config = config;
  state.api.setBase(config.api);
  // The language of every message is the page's `lang`, which i18n.js reads.
  applyLanguage(config.locale || navigator.language);
  document.title = config.title;
  // Saved views are for the menu: the first list does not wait for them (unless it shows one).
  state.savedReady = reloadSaved().catch(() => {});
  if (config.live_updates && !config.user?.second_factor_pending) state.watch = connect(state.api.url('/_events').href, state.api.isOwn);
  mount(root, layout(config));
  window.addEventListener('hashchange', onHashChange);
  installShortcuts((nodes) => confirmDialog(nodes, null));
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
      const { data } = await state.api.login(username.value, password.value);
      if (data?.second_factor) {
        // The user has a second factor: its code, in place of this form.
        const main = form.parentElement;
        mount(main, codeForm(state.api, data, { prefix: 'login', onDone: () => location.reload(), onBack: () => mount(main, loginForm()) }));
        return;
      }
      location.reload();
    } catch (failure) {
      if (failure instanceof ApiError && failure.status === 401) error.textContent = t('login.failed');
      else if (failure instanceof ApiError && failure.status === 0) error.textContent = t('error.network');
      else error.textContent = failure.message;
      password.select();
    }
  });
  const main = h('main', { class: 'login-page', id: 'main' }, form);
  // A refused single sign-on comes back here with its reason, said once.
  const refused = new URLSearchParams(location.search).get('sso_error');
  if (refused) {
    error.textContent = t(has(`sso.error.${refused}`) ? `sso.error.${refused}` : 'sso.error.provider');
    history.replaceState(history.state, '', `${location.pathname}${location.hash}`);
  }
  offerSingleSignOn(form, username, password);
  setTimeout(() => username.focus(), 0);
  return main;
}

/** The single sign-on button under the login form, when the admin has one (without users of
 * its own, the button alone). */
async function offerSingleSignOn(form, username, password) {
  const methods = await state.api.loginMethods();
  if (!methods?.oidc) return;
  const link = h('a', { class: 'button primary sso', id: 'login-sso', href: state.api.url(methods.oidc.path).href }, t('login.sso', { label: methods.oidc.label }));
  if (methods.password) {
    form.append(h('p', { class: 'login-or' }, t('login.or')), link);
    return;
  }
  for (const field of [username, password]) field.closest('.field').remove();
  form.querySelector('.buttons').replaceChildren(link);
  link.focus();
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

/** The menu's entries: the dashboard, and each entity with its views. */
function menuItems(config) {
  return [
    h('li', {}, h('a', { href: '#/' }, t('nav.dashboard'))),
    config.entities.map((e) => h('li', {}, h('a', { href: `#/${e.name}`, 'data-entity': e.name }, e.label), menuViews(e, state.saved))),
  ];
}

/** Reads the saved views again, and shows them in the menu. */
async function reloadSaved() {
  state.saved = await loadSaved(state.api);
  const list = document.querySelector('#menu > ul');
  if (list) {
    mount(list, menuItems(state.config));
    markCurrent();
  }
}

/** Marks the menu's link to the page shown: a view's when one is shown, else its entity's. */
function markCurrent() {
  const [path, queryString = ''] = location.hash.replace(/^#/, '').split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const view = parts.length === 1 ? new URLSearchParams(queryString).get('view') : null;
  const links = [...document.querySelectorAll('.menu a')];
  const shown = view && links.some((link) => link.dataset.viewOf === parts[0] && link.dataset.view === view);
  for (const link of links) {
    let current = parts.length === 0 && !link.dataset.entity && !link.dataset.viewOf;
    if (link.dataset.entity) current = link.dataset.entity === parts[0] && !shown;
    if (link.dataset.viewOf) current = link.dataset.viewOf === parts[0] && link.dataset.view === view;
    if (current) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

function layout(config) {
  const menu = h('nav', { class: 'menu', id: 'menu', 'aria-label': t('nav.menu') }, h('ul', {}, menuItems(config)));
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
      preferenceControls(redraw),
      h('div', { class: 'user', id: 'user' },
        config.user?.name ? h('span', { class: 'user-name' }, config.user.name) : null,
        // Keys and a second factor are a password user's (not a proxy's or a provider's).
        config.user?.own_login && !config.user.second_factor_pending ? h('a', { href: '#/_keys', id: 'keys-link' }, t('keys.link')) : null,
        config.user?.own_login ? h('a', { href: '#/_2fa', id: 'twofa-link' }, t('twofa.link')) : null,
        config.user?.can_log_out ? h('button', { type: 'button', id: 'logout', onclick: () => logout() }, t('login.logout')) : null,
        config.user?.can_log_out ? h('button', { type: 'button', id: 'logout-everywhere', onclick: () => logout(true) }, t('login.logout_everywhere')) : null)),
    h('div', { class: 'progress', id: 'progress', hidden: true, role: 'progressbar', 'aria-label': t('common.loading') }),
    h('div', { class: 'toasts', id: 'toasts', role: 'status', 'aria-live': 'polite' }),
    h('div', { class: 'frame' }, menu, h('main', { id: 'main', tabindex: '-1' })),
    h('dialog', { id: 'confirm', class: 'confirm' }),
  ];
}

/** Draws the whole app again after `apply()` (a new language), unless the user stays on
 * unsaved changes; resolves whether it did. */
async function redraw(apply) {
  if (state.guard?.() && !window.confirm(t('form.unsaved'))) return false;
  apply();
  mount(document.getElementById('app'), layout(state.config));
  await route();
  return true;
}

function onHashChange() {
  if (state.returning) {
    // The step back to the page the user stayed on: it is still drawn.
    state.returning = false;
    return;
  }
  if (state.guard?.() && !window.confirm(t('form.unsaved'))) {
    // Stay: undo the step just made (Back, Forward or a link), so history stays as it was.
    const arrived = history.state?.at;
    state.returning = true;
    if (arrived !== undefined && arrived < state.at) history.forward();
    else history.back();
    return;
  }
  route();
}

/**
 * Numbers this history entry (in `history.state`), once: numbers grow with time, so a
 * change of address can tell Back (a smaller number) from Forward or a new link.
 */
function stamp() {
  if (typeof history.state?.at !== 'number') history.replaceState({ at: performance.timeOrigin + performance.now() }, '');
  state.at = history.state.at;
}

function readLists() {
  try {
    return JSON.parse(sessionStorage.getItem('autoadmin.lists')) ?? {};
  } catch {
    return {};
  }
}

/** The address of `name`'s list as the user left it. */
function listHref(name) {
  const query = state.lists[name];
  return `#/${name}${query ? `?${query}` : ''}`;
}

function configOf(name) {
  return state.config.entities.find((e) => e.name === name);
}

async function route() {
  state.guard = null;
  state.unwatch?.();
  state.unwatch = null;
  stamp();
  const number = ++state.route;
  clearToasts(document.getElementById('toasts'), number);
  const main = document.getElementById('main');
  const [path, queryString = ''] = location.hash.replace(/^#/, '').split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const query = new URLSearchParams(queryString);
  if (state.config.user?.second_factor_pending && path !== '/_2fa') {
    // The role requires a second factor and there is none yet: its set-up, nothing else.
    history.replaceState(history.state, '', '#/_2fa');
    return route();
  }
  if (parts.length === 1) {
    state.lists[parts[0]] = queryString;
    sessionStorage.setItem('autoadmin.lists', JSON.stringify(state.lists));
  }
  // A list that shows a saved view waits for the views, to name it.
  const view = parts.length === 1 ? query.get('view') : null;
  if (view && !view.startsWith('d:')) await state.savedReady;
  if (number !== state.route) return;
  markCurrent();
  document.getElementById('menu').classList.remove('open');
  const context = {
    config: state.config,
    configOf,
    api: state.api,
    query,
    // The query of the address now, while it is still this view's (null once elsewhere).
    latestQuery: () => {
      const [latestPath, latest = ''] = location.hash.replace(/^#/, '').split('?');
      return latestPath === path ? new URLSearchParams(latest) : null;
    },
    navigate: (hash) => { location.hash = hash; },
    // Draws the current view again (its data changed without its address).
    reload: () => route(),
    // A new state of the list: a new history entry, or (`replace`) this one corrected.
    setQuery: (params, { replace = false } = {}) => {
      const search = new URLSearchParams();
      for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') search.set(k, v);
      const text = search.toString();
      const hash = `#/${parts[0]}${text ? `?${text}` : ''}`;
      if (!replace) {
        location.hash = hash;
        return;
      }
      history.replaceState(history.state, '', hash);
      route();
    },
    listHref,
    views: {
      saved: state.saved,
      reload: reloadSaved,
      open: (entity, view) => {
        const href = viewHref(entity, view);
        if (location.hash === href) route();
        else location.hash = href;
      },
    },
    toast: (message, kind, action) => toast(document.getElementById('toasts'), state.route, message, kind, action),
    confirm: confirmDialog,
    askPassword: passwordDialog,
    setGuard: (fn) => { state.guard = fn; },
    fail: (error) => failed(main, error),
    stale: () => number !== state.route,
    // `fn(change)` for each change others make while this view is shown (live.js); a view
    // drawn again replaces its watcher.
    watch: (fn) => {
      if (!state.watch || number !== state.route) return;
      state.unwatch?.();
      state.unwatch = state.watch(fn);
    },
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
    else if (parts.length === 1 && parts[0] === '_keys' && state.config.user?.own_login) await keysView.render(main, context);
    else if (parts.length === 1 && parts[0] === '_2fa' && state.config.user?.own_login) await twoFactorView.render(main, context);
    else if (!entity) notFound(main);
    else if (parts.length === 1) await listView.render(main, entity, context);
    else if (parts.length === 2 && parts[1] === 'create' && can(entity, 'add')) await formView.render(main, entity, null, context);
    else if (parts.length === 2 && parts[1] === 'import' && !entity.read_only && (can(entity, 'add') || can(entity, 'edit'))) await importView.render(main, entity, context);
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
  toast(document.getElementById('toasts'), state.route, describe(error), 'error');
  return undefined;
}

/** Several requests may find the session ended at once: one question answers them all. */
function passwordDialog() {
  state.relogin ??= askPassword(state.api, state.config?.user?.name ?? '').finally(() => { state.relogin = null; });
  return state.relogin;
}

boot();
