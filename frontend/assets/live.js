// Live updates: one EventSource on the API's `/_events` (Server-Sent Events) for the whole
// app, when the server serves it (config.json's `live_updates`). The browser reconnects by
// itself, with the id of the last event it had, and the server sends what it missed. Each
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
  const source = new EventSource(url, { withCredentials: true });
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
