// Notifications (toasts). They sit in a band under the top bar that pushes the page down
// rather than floating over it, so a toast never hides a button. The same message twice is
// one toast (its time starts again); a toast belongs to the page it was shown on and the
// next one (a "Saved." shown just before the app moves to the record), and goes with the
// navigation after that; an error goes with the next navigation.

import { h } from './dom.js';
import { t } from './i18n.js';

/** At most this many at once: the oldest goes first. */
const MAX_SHOWN = 3;

/** How long a toast stays, in ms: long enough to use its action, or to read an error. */
function lifetime(kind, action) {
  if (action) return 12000;
  return kind === 'error' ? 10000 : 4000;
}

/**
 * A toast in `box`; `action` ({label, run}) adds a button (Undo) that runs it once. `page` is
 * the number of the navigation it is shown in.
 */
export function toast(box, page, message, kind = 'info', action = null) {
  const same = [...box.children].find((note) => note.dataset.kind === kind && note.dataset.message === message && !action);
  if (same) {
    same.dataset.page = String(page);
    schedule(same, lifetime(kind, action));
    return;
  }
  const close = h('button', { type: 'button', class: 'toast-close', 'aria-label': t('common.close') }, '×');
  const button = action ? h('button', { type: 'button', class: 'toast-action' }, action.label) : null;
  const note = h('div', {
    class: `toast toast-${kind}`, role: kind === 'error' ? 'alert' : undefined,
    'data-kind': kind, 'data-message': message, 'data-page': String(page),
  }, h('span', {}, message), button, close);
  close.addEventListener('click', () => note.remove());
  button?.addEventListener('click', () => {
    note.remove();
    action.run();
  });
  keepInView(box);
  box.append(note);
  while (box.children.length > MAX_SHOWN) box.firstElementChild.remove();
  schedule(note, lifetime(kind, action));
}

function schedule(note, ms) {
  clearTimeout(Number(note.dataset.timer));
  note.dataset.timer = String(setTimeout(() => note.remove(), ms));
}

/** Clears what belongs to earlier pages when navigation `page` starts. */
export function clearToasts(box, page) {
  for (const note of [...box.children]) {
    const shownOn = Number(note.dataset.page);
    if (note.dataset.kind === 'error' ? shownOn < page : shownOn < page - 1) note.remove();
  }
}

/** While the band is stuck at the top, a field scrolled into view (focus, an anchor) stops
 * below it, not under it. */
function keepInView(box) {
  if (box.dataset.observed) return;
  box.dataset.observed = 'yes';
  new ResizeObserver(() => {
    document.documentElement.style.scrollPaddingTop = `${box.offsetHeight}px`;
  }).observe(box);
}
