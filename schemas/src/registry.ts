// A small Confluent Schema Registry client: fetch writer schemas by id (cached), register our own.
import { RegistryError } from './errors.js';

export interface SchemaRegistryOptions {
  /** Base URL, e.g. http://127.0.0.1:8081 (no trailing path). */
  url: string;
  /**
   * Per-request timeout.
   * @default 5000
   */
  timeoutMs?: number | undefined;
  /** Extra request headers (e.g. `authorization`). */
  headers?: Readonly<Record<string, string>> | undefined;
  /** Injected for tests; defaults to the global fetch. */
  fetch?: typeof fetch | undefined;
}

/** A schema as the registry returns it. */
export interface RegistrySchema {
  readonly id: number;
  /** Schema text (JSON for Avro). */
  readonly schema: string;
  /** Named types the schema uses but does not define, each a subject version in the registry. */
  readonly references: readonly SchemaReference[];
}

export interface SchemaReference {
  readonly name: string;
  readonly subject: string;
  readonly version: number;
}

export interface SchemaRegistryClient {
  readonly url: string;
  /** `GET /schemas/ids/{id}`, cached for the life of the client (ids are immutable). */
  schemaById(id: number): Promise<RegistrySchema>;
  /** `GET /subjects/{subject}/versions/{version}` (used to resolve schema references), cached. */
  subjectVersion(subject: string, version: number): Promise<RegistrySchema>;
  /** `POST /subjects/{subject}/versions`: registers (or finds) the schema and returns its id. */
  register(subject: string, schemaText: string): Promise<number>;
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

export function createSchemaRegistryClient(options: SchemaRegistryOptions): SchemaRegistryClient {
  const base = options.url.replace(/\/+$/, '');
  if (!/^https?:\/\//.test(base)) {
    throw new RegistryError(
      'SCHEMA_REGISTRY_BAD_RESPONSE',
      `url must start with http:// or https://, got ${JSON.stringify(options.url)}`,
    );
  }
  const timeoutMs = options.timeoutMs ?? 5000;
  const doFetch = options.fetch ?? fetch;
  const byId = new Map<number, Promise<RegistrySchema>>();
  const bySubjectVersion = new Map<string, Promise<RegistrySchema>>();

  async function call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
    let res: Response;
    try {
      res = await doFetch(`${base}${path}`, {
        method,
        headers: {
          accept: CONTENT_TYPE,
          ...(body === undefined ? {} : { 'content-type': CONTENT_TYPE }),
          ...options.headers,
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw new RegistryError(
        'SCHEMA_REGISTRY_UNAVAILABLE',
        `${method} ${path} failed: ${(err as Error).message}`,
        {
          retriable: true,
          cause: err,
        },
      );
    }
    const text = await res.text().catch(() => '');
    if (!res.ok) {
      // 5xx and 429 may pass; 4xx will not (40403 = schema not found).
      const retriable = res.status >= 500 || res.status === 429 || res.status === 408;
      throw new RegistryError(
        retriable ? 'SCHEMA_REGISTRY_UNAVAILABLE' : 'SCHEMA_REGISTRY_BAD_RESPONSE',
        `${method} ${path} answered HTTP ${res.status}: ${text.slice(0, 200)}`,
        { retriable, status: res.status },
      );
    }
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw new RegistryError(
        'SCHEMA_REGISTRY_BAD_RESPONSE',
        `${method} ${path} answered non-JSON: ${text.slice(0, 200)}`,
        {
          status: res.status,
          cause: err,
        },
      );
    }
  }

  function toSchema(path: string, body: unknown, id: number | undefined): RegistrySchema {
    const o = (body ?? {}) as Record<string, unknown>;
    const schemaType = o['schemaType'];
    if (schemaType !== undefined && schemaType !== 'AVRO') {
      throw new RegistryError(
        'SCHEMA_REGISTRY_BAD_RESPONSE',
        `${path}: schemaType ${JSON.stringify(schemaType)} is not AVRO`,
      );
    }
    const schema = o['schema'];
    const resolvedId = typeof o['id'] === 'number' ? o['id'] : id;
    if (typeof schema !== 'string' || resolvedId === undefined) {
      throw new RegistryError('SCHEMA_REGISTRY_BAD_RESPONSE', `${path}: response lacks "schema" or "id"`);
    }
    const refs = Array.isArray(o['references']) ? (o['references'] as unknown[]) : [];
    const references = refs.map((r): SchemaReference => {
      const ref = (r ?? {}) as Record<string, unknown>;
      if (
        typeof ref['name'] !== 'string' ||
        typeof ref['subject'] !== 'string' ||
        typeof ref['version'] !== 'number'
      ) {
        throw new RegistryError(
          'SCHEMA_REGISTRY_BAD_RESPONSE',
          `${path}: malformed reference ${JSON.stringify(r)}`,
        );
      }
      return { name: ref['name'], subject: ref['subject'], version: ref['version'] };
    });
    return { id: resolvedId, schema, references };
  }

  /** Caches the promise so concurrent lookups share one request; a failure is evicted so it can be retried. */
  function cached<K>(
    cache: Map<K, Promise<RegistrySchema>>,
    key: K,
    load: () => Promise<RegistrySchema>,
  ): Promise<RegistrySchema> {
    let p = cache.get(key);
    if (p === undefined) {
      p = load();
      cache.set(key, p);
      p.catch(() => cache.delete(key));
    }
    return p;
  }

  return {
    url: base,
    schemaById(id) {
      return cached(byId, id, async () => {
        const path = `/schemas/ids/${id}`;
        return toSchema(path, await call('GET', path), id);
      });
    },
    subjectVersion(subject, version) {
      return cached(bySubjectVersion, `${subject}\u0000${version}`, async () => {
        const path = `/subjects/${encodeURIComponent(subject)}/versions/${version}`;
        return toSchema(path, await call('GET', path), undefined);
      });
    },
    async register(subject, schemaText) {
      const path = `/subjects/${encodeURIComponent(subject)}/versions`;
      const body = (await call('POST', path, { schema: schemaText })) as Record<string, unknown> | null;
      const id = body?.['id'];
      if (typeof id !== 'number')
        throw new RegistryError('SCHEMA_REGISTRY_BAD_RESPONSE', `${path}: response lacks "id"`);
      return id;
    },
  };
}
