// Live updates: one EventSource on the API's `/_events` (Server-Sent Events) for the whole
// app, when the server serves it (config.json's `live_updates`). The browser reconnects by
// itself, with the id of the last event it had, and the server sends what it missed (after
// a refusal the app opens a new stream, and the views are told to reload). Each
// view watches the changes it shows (main.js drops a view's watchers when it is left); a
// change this page made itself (its request id, api.js) is not news to it.

import { h } from './dom.js';
import { t, currentLocale } from './i18n.js';

/**
 * Listens on `url` (the stream) for as long as the page lives; `isOwn(requestId)` says which
 * changes this page made. Returns `watch(fn)`: `fn(change)` for each change of others (and
 * `{reset: true}` when more were missed than the server sends again), until the returned
 * function is called.
 */
export function connect(url, isOwn) {
  const watchers = new Set();
  const tell = (change) => {
    for (const watcher of [...watchers]) watcher(change);
  };
  // A browser gives up on a stream answered with anything but 200 (a proxy's 503 while the
  // instances restart, too many streams): the app tries again, after 5 s, then up to a minute
  // apart. A new stream cannot say what the closed one missed: the views are told to reload.
  let pause = 5000;
  let live = false;
  const open = () => {
    const source = new EventSource(url, { withCredentials: true });
    source.addEventListener('ready', () => {
      if (live === null) tell({ reset: true });
      live = true;
      pause = 5000;
    });
    source.addEventListener('change', (event) => {
      let change;
      try {
        change = JSON.parse(event.data);
      } catch {
        return;
      }
      if (change.request && isOwn(change.request)) return;
      tell(change);
    });
    source.addEventListener('reset', () => tell({ reset: true }));
    source.addEventListener('error', () => {
      if (source.readyState !== EventSource.CLOSED) return;
      // `null`: it was live once, and what came meanwhile is not known.
      if (live) live = null;
      setTimeout(open, pause);
      pause = Math.min(pause * 2, 60000);
    });
  };
  open();
  return (watcher) => {
    watchers.add(watcher);
    return () => watchers.delete(watcher);
  };
}

/** A change's time as a person says it: "3 seconds ago", "2 minutes ago". */
export function ago(at, now = Date.now()) {
  const seconds = Math.round((Date.parse(at) - now) / 1000);
  const format = new Intl.RelativeTimeFormat(currentLocale(), { numeric: 'auto' });
  if (Math.abs(seconds) < 60) return format.format(Math.min(seconds, 0), 'second');
  const minutes = Math.round(seconds / 60);
  if (Math.abs(minutes) < 60) return format.format(minutes, 'minute');
  return format.format(Math.round(minutes / 60), 'hour');
}

/**
 * The note over a record that someone else changed or deleted while it is open: who, how long
 * ago (kept current), and buttons: `reload` draws it again with the stored record; "Keep
 * editing" (a form) or "Dismiss" closes the note.
 */
export function changedNote(change, { reload, editing }) {
  let key = change.action === 'delete' ? 'live.deleted' : 'live.changed';
  if (editing && change.action !== 'delete') key = 'live.changed_editing';
  const text = h('span', {});
  const say = () => {
    text.textContent = t(key, { who: change.by ?? t('live.someone'), when: ago(change.at) });
  };
  say();
  const timer = setInterval(() => (note.isConnected ? say() : clearInterval(timer)), 5000);
  const keep = h('button', { type: 'button', id: 'live-keep' }, t(editing ? 'live.keep_editing' : 'live.dismiss'));
  const note = h('div', { class: 'live-note', id: 'live-note', role: 'alert' },
    text,
    change.action === 'delete' ? null : h('button', { type: 'button', class: 'primary', id: 'live-reload', onclick: reload }, t('live.reload')),
    keep);
  keep.addEventListener('click', () => {
    clearInterval(timer);
    note.remove();
  });
  return note;
}

/**
 * Who else has the record `key` of `entity` open, said in `slot` (a status region) and kept
 * current: this form says it is open every 10 s (`PUT /_presence/…`, which answers with the
 * others), and that it closed when `slot` leaves the page or the page goes away.
 */
export function presence(api, entity, key, self, slot) {
  const viewer = [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');
  const send = (method) => api.presence(method, entity.name, key, viewer);
  const names = (others) => others.map((other) => {
    if (other.user === null) return t('live.someone');
    return other.user === self ? t('live.you_elsewhere') : other.user;
  });
  let timer = null;
  const close = () => {
    clearInterval(timer);
    window.removeEventListener('pagehide', close);
    send('DELETE').catch(() => {});
  };
  const say = async () => {
    if (!slot.isConnected) {
      close();
      return;
    }
    try {
      const others = await send('PUT');
      const shown = [...new Set(names(others))];
      slot.textContent = shown.length ? t('live.open_by', { who: new Intl.ListFormat(currentLocale()).format(shown) }) : '';
    } catch {
      // Live updates off, or the session ended: nothing to say.
      clearInterval(timer);
    }
  };
  timer = setInterval(say, 10000);
  window.addEventListener('pagehide', close);
  say();
}
