// The dashboard's only way to data: GET /v1/... on the same origin, with the bearer token the user pasted
// (kept in sessionStorage: gone when the tab closes, never in a URL, a cookie or localStorage).

const TOKEN_KEY = 'pathwatch.token';

export function getToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(token: string | null): void {
  if (token === null || token === '') sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, token);
}

/** The API refused the token (or none was given): the page shows the token form instead of data. */
export class AuthError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuthError';
  }
}

/** Any other API error, with the standard error body's code and retriable flag. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retriable: boolean,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

type Params = Record<string, string | number | undefined | null>;

let onAuthRequired: (message: string) => void = () => undefined;
export function onAuth(handler: (message: string) => void): void {
  onAuthRequired = handler;
}

export function query(params: Params): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s === '' ? '' : `?${s}`;
}

export async function apiGet<T>(path: string, params: Params = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const token = getToken();
  if (token !== null) headers['authorization'] = `Bearer ${token}`;
  const res = await fetch(`${path}${query(params)}`, { headers, cache: 'no-store' });
  if (res.status === 401) {
    const message = 'The query API needs a bearer token (QUERY_API_TOKEN): paste it to see data.';
    onAuthRequired(message);
    throw new AuthError(message);
  }
  const body = (await res.json().catch(() => null)) as
    (T & { error?: string; message?: string; retriable?: boolean }) | null;
  if (!res.ok) {
    throw new ApiError(
      res.status,
      body?.error ?? `HTTP_${res.status}`,
      body?.message ?? res.statusText,
      body?.retriable ?? res.status >= 500,
    );
  }
  return body as T;
}

/**
 * Calls `fn` now and then every `baseMs`, doubling the wait after each failure up to `maxMs` (and back to
 * `baseMs` after a success); waits while the tab is hidden. Returns a stop function.
 */
export function poll(
  fn: () => Promise<void>,
  baseMs: number,
  maxMs: number,
  onSchedule: (nextMs: number, failed: boolean) => void = () => undefined,
): () => void {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let delay = baseMs;
  const run = async (): Promise<void> => {
    if (stopped) return;
    if (document.hidden) {
      timer = setTimeout(() => void run(), baseMs);
      return;
    }
    let failed = false;
    try {
      await fn();
      delay = baseMs;
    } catch (err) {
      failed = true;
      // No point asking again without a token: the token form restarts the page.
      if (err instanceof AuthError) return;
      delay = Math.min(maxMs, delay * 2);
    }
    if (stopped) return;
    onSchedule(delay, failed);
    timer = setTimeout(() => void run(), delay);
  };
  void run();
  return () => {
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
  };
}
