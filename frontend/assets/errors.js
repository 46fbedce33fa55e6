// How an error reads in a notification: in the app's language, by the error's `code` (the
// server's own message for a 400, which names the parameter it could not read).

import { ApiError } from './api.js';
import { has, t } from './i18n.js';

export function describe(error) {
  if (error instanceof ApiError) {
    if (error.status === 0) return t('error.network');
    const id = error.requestId ? ` (${t('error.request_id', { id: error.requestId })})` : '';
    const key = `error.code.${error.code}`;
    const text = error.code !== 'bad_request' && has(key) ? t(key, { n: Object.keys(error.errors).length }) : error.message;
    return `${text}${id}`;
  }
  return t('error.generic', { message: error?.message ?? String(error) });
}
