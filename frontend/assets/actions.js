// The actions an entity's descriptor declares (`[[entity.action]]`), as buttons: on a
// record's page for that record, on a list for the selected rows. What an action does is the
// server's (`POST /{entity}/actions/{name}?ids=[…]`); the app asks first when the descriptor
// says `confirm`, then says how many records it changed.

import { h } from './dom.js';
import { t } from './i18n.js';
import { can } from './access.js';
import { describe } from './errors.js';

/**
 * A button per action the user may run: `keys()` gives the records to run it on, `done()`
 * runs after it succeeded. `counted` labels the buttons with the number of keys (a list's
 * selection), updated by `refresh(n)`.
 */
export function actionButtons(entity, keys, ctx, done, { counted = false } = {}) {
  const buttons = (entity.actions ?? []).filter((action) => can(entity, action.permission)).map((action) => {
    const button = h('button', { type: 'button', class: 'action', id: `action-${action.name}`, 'data-action': action.name, disabled: counted },
      counted ? t('action.selected', { action: action.label, n: 0 }) : action.label);
    button.addEventListener('click', () => run(entity, action, keys(), ctx, done));
    return { action, button };
  });
  return {
    elements: buttons.map((b) => b.button),
    refresh(n) {
      for (const { action, button } of buttons) {
        button.disabled = n === 0;
        button.textContent = t('action.selected', { action: action.label, n });
      }
    },
  };
}

async function run(entity, action, keys, ctx, done) {
  if (!keys.length) return;
  if (action.confirm) {
    const question = keys.length === 1
      ? t('action.confirm_one', { action: action.label, item: `${entity.label_singular} #${keys[0]}` })
      : t('action.confirm', { action: action.label, n: keys.length });
    if (!(await ctx.confirm(h('p', { id: 'action-question' }, question), action.label))) return;
  }
  try {
    await ctx.api.runAction(entity.name, action.name, keys);
    ctx.toast(t('action.done', { action: action.label, n: keys.length }), 'success');
    await done();
  } catch (error) {
    ctx.toast(describe(error), 'error');
  }
}
