/**
 * The one place that decides what a secret looks like, used by the root logger (every log line) and by anything
 * printed to the screen (CLI output, start banner, error and config-error messages). Secrets are recognised by
 * shape, not by the variables known today, so a credential added later (SASL, registry, tokens) is covered too:
 *   - URL userinfo passwords (`http://user:pw@host` → `http://user:***@host`),
 *   - query-string parameters with a credential-like name (`?token=…`, `&password=…`),
 *   - `name=value` / `name: value` / JSON `"name":"value"` pairs with a credential-like name,
 *   - `Authorization: Bearer|Basic …` values,
 *   - object properties with a credential-like name, at any depth.
 */

export const REDACTED = '***';

/**
 * Names that carry credentials: password, passwd, pwd, secret, token, authorization, api key, credential(s),
 * private key, cookie, signature, sasl. Matched case-insensitively anywhere in the name, so `clickhousePassword`,
 * `QUERY_API_TOKEN`, `sasl.password`, `x-api-key` and `client_secret` all count.
 */
const SENSITIVE_NAME =
  /(pass(word|wd|phrase)?|pwd|secret|token|authori[sz]ation|api[-_.]?key|credential|private[-_.]?key|cookie|signature|sasl)/i;

export function isSensitiveName(name: string): boolean {
  return SENSITIVE_NAME.test(name);
}

// scheme://userinfo@ — the userinfo part ends at the last '@' before the path; a password holds no '/', '?' or '#'.
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#@:]*):([^\s/?#]*)@/gi;
// name=value in a query string or a `k=v` list (value up to the next separator or whitespace).
const NAME_EQUALS_VALUE = /([A-Za-z0-9_.-]+)=([^\s&;,'"]*)/g;
// JSON-ish "name": "value" and YAML-ish name: value.
const JSON_PAIR = /("([^"\\]*)"\s*:\s*)"((?:[^"\\]|\\.)*)"/g;
// The same inside a JSON string (a logged message that itself holds JSON): \"name\":\"value\".
const ESCAPED_JSON_PAIR = /(\\"([^"\\]*)\\"\s*:\s*)\\"((?:[^"\\]|\\[^"])*)\\"/g;
const AUTH_HEADER = /\b(authorization\s*[:=]\s*)(bearer|basic|token)?\s*([^\s,;'"]+)/gi;
const BEARER = /\b(bearer\s+)([A-Za-z0-9\-._~+/]+=*)/gi;
// A PEM private key (KAFKA_SSL_KEY_FILE content), whole block.
const PEM_PRIVATE_KEY = /-----BEGIN ([A-Z ]*)PRIVATE KEY-----[\s\S]*?(-----END \1PRIVATE KEY-----|$)/g;

/** `text` with every credential-shaped part replaced by `***`. Cheap when there is nothing to redact. */
export function redactText(text: string): string {
  if (text === '') return text;
  let out = text;
  if (out.includes('PRIVATE KEY-----'))
    out = out.replace(
      PEM_PRIVATE_KEY,
      (_m, kind: string) => `-----BEGIN ${kind}PRIVATE KEY----- ${REDACTED}`,
    );
  if (out.includes('@'))
    out = out.replace(URL_USERINFO, (_m, scheme: string, user: string) => `${scheme}${user}:${REDACTED}@`);
  if (/authori[sz]ation|bearer/i.test(out)) {
    out = out.replace(AUTH_HEADER, (_m, head: string, scheme: string | undefined) =>
      scheme ? `${head}${scheme} ${REDACTED}` : `${head}${REDACTED}`,
    );
    out = out.replace(BEARER, (m, head: string, value: string) =>
      value === REDACTED ? m : `${head}${REDACTED}`,
    );
  }
  if (out.includes('=')) {
    out = out.replace(NAME_EQUALS_VALUE, (m, name: string, value: string) =>
      value !== '' && value !== REDACTED && isSensitiveName(name) ? `${name}=${REDACTED}` : m,
    );
  }
  if (out.includes('"')) {
    out = out.replace(JSON_PAIR, (m, head: string, name: string, value: string) =>
      value !== REDACTED && isSensitiveName(name) ? `${head}"${REDACTED}"` : m,
    );
    out = out.replace(ESCAPED_JSON_PAIR, (m, head: string, name: string, value: string) =>
      value !== REDACTED && isSensitiveName(name) ? `${head}\\"${REDACTED}\\"` : m,
    );
  }
  return out;
}

/** A URL for display: userinfo password and credential-like query parameters replaced; never throws. */
export function redactUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return redactText(url);
  }
  if (u.password !== '') u.password = REDACTED;
  for (const name of [...u.searchParams.keys()]) {
    if (isSensitiveName(name)) u.searchParams.set(name, REDACTED);
  }
  // URL escapes '*' in the query only as needed; keep the marker readable.
  return u.href.replaceAll('%2A%2A%2A', REDACTED);
}

/**
 * A deep copy of `value` safe to print or log: properties with credential-like names become `***`, strings are
 * passed through `redactText`, Errors keep their class, code and cause chain with redacted message and stack.
 * Never mutates its input; cycles and depth beyond 8 are cut.
 */
export function redactValue<T>(value: T): T {
  return redactDeep(value, 0, new WeakSet()) as T;
}

function redactDeep(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value) || depth > 8) return value instanceof Error ? value : '[cut]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, depth + 1, seen));
  if (value instanceof Error) return redactError(value, depth, seen);
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value) || value instanceof Date) return value;
  const proto = Object.getPrototypeOf(value) as object | null;
  if (proto !== Object.prototype && proto !== null) return value; // class instances (streams, clients): left alone
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    // A credential-named object (e.g. `sasl: { mechanism, password }`) is searched, a credential-named value masked.
    const masked = isSensitiveName(k) && v !== undefined && v !== null && v !== '' && typeof v !== 'object';
    out[k] = masked ? REDACTED : redactDeep(v, depth + 1, seen);
  }
  return out;
}

function redactError(err: Error, depth: number, seen: WeakSet<object>): Error {
  const copy = Object.create(Object.getPrototypeOf(err) as object) as Error;
  for (const key of Object.getOwnPropertyNames(err)) {
    const v = (err as unknown as Record<string, unknown>)[key];
    const redacted =
      isSensitiveName(key) && typeof v === 'string' && v !== '' ? REDACTED : redactDeep(v, depth + 1, seen);
    const enumerable = Object.prototype.propertyIsEnumerable.call(err, key);
    Object.defineProperty(copy, key, { value: redacted, writable: true, configurable: true, enumerable });
  }
  return copy;
}
