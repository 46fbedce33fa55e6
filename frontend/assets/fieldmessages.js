// A field error in the app's language, from the code and parameters the server sends beside
// its message (`error_codes`); a message of no known code is shown as the server wrote it.

import { formatNumber, t } from './i18n.js';

const TYPES = { integer: 'form.integer', number: 'form.number', decimal: 'form.number' };

/** The message for `code` (`{code, …params}`), else `message`. */
export function fieldMessage(message, code) {
  switch (code?.code) {
    case 'required': return t('form.required');
    case 'too_short': return t('form.too_short', { n: code.min });
    case 'too_long': return t('form.too_long', { n: code.max });
    case 'too_small': return t('form.too_small', { n: formatNumber(code.min) });
    case 'too_large': return t('form.too_large', { n: formatNumber(code.max) });
    case 'pattern': return t('form.pattern');
    case 'email': return t('form.email');
    case 'url': return t('form.url');
    case 'type': return TYPES[code.type] ? t(TYPES[code.type]) : t('form.type', { type: code.type });
    case 'one_of': return t('form.one_of', { choices: code.choices.join(', ') });
    case 'list_of': return t('form.list_of', { choices: code.choices.join(', ') });
    case 'unique': return t('form.unique');
    case 'missing_reference': return t('form.missing_reference');
    case 'missing_keys': return t('form.missing_keys', { keys: code.keys.join(', ') });
    case 'unknown_field': return t('form.unknown_field');
    default: return message;
  }
}

/** Every message of `errors` (field → message) in the app's language. */
export function fieldMessages(errors, codes) {
  return Object.fromEntries(Object.entries(errors ?? {}).map(([field, message]) => [field, fieldMessage(message, codes?.[field])]));
}
