// How an error reads in a notification.

import { ApiError } from './api.js';
import { t } from './i18n.js';

export function describe(error) {
  if (error instanceof ApiError) {
    if (error.status === 0) return t('error.network');
    const id = error.requestId ? ` (${t('error.request_id', { id: error.requestId })})` : '';
    return `${error.message}${id}`;
  }
  return t('error.generic', { message: error?.message ?? String(error) });
}
