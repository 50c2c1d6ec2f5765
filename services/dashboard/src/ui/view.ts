// Shared bits of page rendering: errors in place of data, verdict badges.
import { ApiError, AuthError } from './api.js';
import { clear, h } from './dom.js';

/** Shows an error in place of a page's data (for a 401: no data, and the token form is open above). */
export function showError(el: HTMLElement, err: unknown): void {
  if (err instanceof AuthError) {
    clear(
      el,
      h(
        'p',
        { class: 'error', testid: 'error' },
        'No data: the API refused the request (401). Give a token above.',
      ),
    );
    return;
  }
  const text =
    err instanceof ApiError
      ? `${err.code}: ${err.message}${err.retriable ? ' (retrying)' : ''}`
      : String(err);
  clear(el, h('p', { class: 'error', testid: 'error' }, text));
}

const TONE: Record<string, string> = {
  delivered_on_time: 'good',
  delivered_late: 'warn',
  failed: 'bad',
  missing_dispatch: 'bad',
  missing_outcome: 'bad',
  expired: 'bad',
  overdue: 'warn',
  orphan_callback: 'muted',
  orphan_dispatch: 'muted',
};

export function verdictBadge(verdict: string, provisional = false): HTMLElement {
  return h(
    'span',
    { class: `badge ${TONE[verdict] ?? 'muted'}` },
    verdict.replace(/_/g, ' '),
    provisional ? ' (provisional)' : '',
  );
}
