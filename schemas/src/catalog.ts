// The schema catalog: every topic's current reader type, every known writer version, stable local schema ids.
import avsc from 'avsc';
import type { Schema, Type } from 'avsc';
import { SchemaError } from './errors.js';
import { CURRENT_SCHEMAS, HISTORY_SCHEMAS } from './generated/schemas.js';
import type {
  Action,
  DeadLetter,
  DispatchAttempted,
  ProviderCallback,
  RequestAccepted,
  Verdict,
} from './generated/types.js';

/** What a Kafka record carries; one per topic. */
export type Kind = 'request' | 'dispatch' | 'callback' | 'verdict' | 'action' | 'dead_letter';

/** Every kind, inputs first. */
export const KINDS: readonly Kind[] = Object.freeze([
  'request',
  'dispatch',
  'callback',
  'verdict',
  'action',
  'dead_letter',
]);

/** The TypeScript type of each kind's (current) value. */
export interface KindMap {
  request: RequestAccepted;
  dispatch: DispatchAttempted;
  callback: ProviderCallback;
  verdict: Verdict;
  action: Action;
  dead_letter: DeadLetter;
}

/** Topic name per kind. */
export type TopicNames = Readonly<Record<Kind, string>>;

/** Default topic names; services may override them through configuration. */
export const DEFAULT_TOPICS: TopicNames = Object.freeze({
  request: 'pathwatch.requests',
  dispatch: 'pathwatch.dispatches',
  callback: 'pathwatch.callbacks',
  verdict: 'pathwatch.verdicts',
  action: 'pathwatch.actions',
  dead_letter: 'pathwatch.dead-letter',
});

/** One (subject, version) of a kind's schema. */
export interface SchemaVersion {
  /** Local schema id, stable across releases: `idBase(kind) + version` (see README). */
  readonly id: number;
  readonly kind: Kind;
  /** Confluent TopicNameStrategy subject: `<topic>-value`. */
  readonly subject: string;
  readonly version: number;
  /** Whether this is the version the codec reads into and writes. */
  readonly current: boolean;
  readonly type: Type;
  /** Self-contained schema text (named types inlined), as a Schema Registry stores it. */
  readonly schemaText: string;
}

export interface SchemaCatalog {
  readonly topics: TopicNames;
  /** The current (reader and writer) version of a kind. */
  current(kind: Kind): SchemaVersion;
  /** Every known version of a kind, oldest first. */
  versions(kind: Kind): readonly SchemaVersion[];
  /** The version with this local schema id, if the catalog knows it. */
  byId(id: number): SchemaVersion | undefined;
  /** The kind a topic carries under this catalog's topic names; undefined for other topics. */
  kindForTopic(topic: string): Kind | undefined;
}

export interface CatalogOptions {
  /**
   * Topic name overrides (subjects follow them).
   * @default DEFAULT_TOPICS
   */
  topics?: Partial<TopicNames> | undefined;
}

interface KindSpec {
  readonly file: string;
  readonly version: number;
  readonly idBase: number;
}

// Bump `version` when the .avsc changes and keep the old text in avro/history/<file>.v<N>.avsc.
// Local ids are idBase + version: never reuse or renumber them, bytes in topics refer to them.
const SPECS: Readonly<Record<Kind, KindSpec>> = {
  request: { file: 'request-accepted', version: 2, idBase: 100 },
  dispatch: { file: 'dispatch-attempted', version: 1, idBase: 200 },
  callback: { file: 'provider-callback', version: 1, idBase: 300 },
  verdict: { file: 'verdict', version: 2, idBase: 400 },
  action: { file: 'action', version: 2, idBase: 500 },
  dead_letter: { file: 'dead-letter', version: 1, idBase: 600 },
};

/**
 * Options every avsc Type in this package is built with. Unions stay unwrapped (`T | null`, as the generated
 * types say) and no logical types are registered, so timestamps are plain epoch-ms numbers.
 */
export const AVSC_OPTIONS = Object.freeze({ wrapUnions: 'never', omitRecordMethods: true } as const);

const PRIMITIVES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);
const NAMED = new Set(['record', 'error', 'enum', 'fixed']);
type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function qualify(name: string, namespace: string): string {
  return name.includes('.') || PRIMITIVES.has(name) ? name : `${namespace}.${name}`;
}

function nameOf(schema: JsonObject): string {
  const name = schema['name'];
  if (typeof name !== 'string')
    fail(`named type without a string name: ${JSON.stringify(schema).slice(0, 120)}`);
  return name;
}

function namespaceOf(schema: JsonObject, enclosing: string): string {
  const name = nameOf(schema);
  if (name.includes('.')) return name.slice(0, name.lastIndexOf('.'));
  return typeof schema['namespace'] === 'string' ? schema['namespace'] : enclosing;
}

/** Records every named definition (top-level and nested) by full name. */
function collectDefinitions(schema: Json, namespace: string, out: Map<string, JsonObject>): void {
  if (Array.isArray(schema)) {
    for (const s of schema) collectDefinitions(s, namespace, out);
    return;
  }
  if (schema === null || typeof schema !== 'object') return;
  const type = schema['type'];
  if (typeof type === 'string' && NAMED.has(type)) {
    const ns = namespaceOf(schema, namespace);
    out.set(qualify(nameOf(schema), ns), schema);
    const fields = schema['fields'];
    if (Array.isArray(fields))
      for (const f of fields)
        if (f && typeof f === 'object' && !Array.isArray(f)) collectDefinitions(f['type'] ?? null, ns, out);
    return;
  }
  if (type === 'array') collectDefinitions(schema['items'] ?? null, namespace, out);
  else if (type === 'map') collectDefinitions(schema['values'] ?? null, namespace, out);
  else if (type !== undefined && typeof type === 'object') collectDefinitions(type, namespace, out);
}

/** Inlines every named reference at its first use, so the text stands alone (what a registry stores). */
function expand(
  schema: Json,
  namespace: string,
  defs: ReadonlyMap<string, JsonObject>,
  seen: Set<string>,
): Json {
  if (typeof schema === 'string') {
    if (PRIMITIVES.has(schema)) return schema;
    const full = qualify(schema, namespace);
    if (seen.has(full)) return full;
    const def = defs.get(full);
    if (!def)
      throw new SchemaError(
        'SCHEMA_CATALOG_INVALID',
        `unknown type ${full}`,
        `schema catalog: unknown type ${full}`,
      );
    return expand(def, namespace, defs, seen);
  }
  if (Array.isArray(schema)) return schema.map((s) => expand(s, namespace, defs, seen));
  if (schema === null || typeof schema !== 'object') return schema;
  const type = schema['type'];
  if (typeof type === 'string' && NAMED.has(type)) {
    const ns = namespaceOf(schema, namespace);
    const full = qualify(nameOf(schema), ns);
    if (seen.has(full)) return full;
    seen.add(full);
    // Fully qualified name: the inlined definition must not depend on where it lands.
    const copy: JsonObject = { ...schema, name: full };
    delete copy['namespace'];
    const fields = schema['fields'];
    if (Array.isArray(fields)) {
      copy['fields'] = fields.map((f) =>
        f && typeof f === 'object' && !Array.isArray(f)
          ? { ...f, type: expand(f['type'] ?? null, ns, defs, seen) }
          : f,
      );
    }
    return copy;
  }
  if (type === 'array') return { ...schema, items: expand(schema['items'] ?? null, namespace, defs, seen) };
  if (type === 'map') return { ...schema, values: expand(schema['values'] ?? null, namespace, defs, seen) };
  if (type !== undefined && typeof type === 'object')
    return { ...schema, type: expand(type, namespace, defs, seen) };
  return schema;
}

interface ParsedVersion {
  readonly kind: Kind;
  readonly version: number;
  readonly id: number;
  readonly type: Type;
  readonly schemaText: string;
}

function fail(reason: string, cause?: unknown): never {
  throw new SchemaError('SCHEMA_CATALOG_INVALID', reason, `schema catalog: ${reason}`, { cause });
}

/** Parses the generated schema texts once per process; topic names only change subjects. */
function parseAll(): ReadonlyMap<Kind, readonly ParsedVersion[]> {
  const kindByFile = new Map<string, Kind>(KINDS.map((k) => [SPECS[k].file, k]));
  const registry: Record<string, Type> = {};
  const defs = new Map<string, JsonObject>();
  const out = new Map<Kind, ParsedVersion[]>(KINDS.map((k) => [k, []]));
  // CURRENT_SCHEMAS is in dependency order (codegen sorts it), so one registry resolves cross-file names.
  for (const [file, raw] of CURRENT_SCHEMAS) {
    const schema = raw as JsonObject;
    collectDefinitions(schema, 'io.pathwatch', defs);
    let type: Type;
    try {
      type = avsc.Type.forSchema(schema as Schema, { ...AVSC_OPTIONS, registry });
    } catch (err) {
      fail(`avro/${file}.avsc does not parse: ${(err as Error).message}`, err);
    }
    const kind = kindByFile.get(file);
    if (kind === undefined) continue; // a shared definition file (envelope)
    const spec = SPECS[kind];
    const text = JSON.stringify(expand(schema, 'io.pathwatch', defs, new Set()));
    out
      .get(kind)
      ?.push({ kind, version: spec.version, id: spec.idBase + spec.version, type, schemaText: text });
  }
  for (const [name, raw] of HISTORY_SCHEMAS) {
    const match = /^(.+)\.v(\d+)$/.exec(name);
    const kind = match ? kindByFile.get(match[1] ?? '') : undefined;
    if (!match || kind === undefined) fail(`avro/history/${name}.avsc: name must be <schema file>.v<N>`);
    const version = Number(match[2]);
    const spec = SPECS[kind];
    if (version < 1 || version >= spec.version)
      fail(`avro/history/${name}.avsc: version must be 1..${spec.version - 1}`);
    let type: Type;
    try {
      // History files are self-contained: a fresh registry keeps their names away from the current ones.
      type = avsc.Type.forSchema(raw as Schema, { ...AVSC_OPTIONS, registry: {} });
    } catch (err) {
      fail(`avro/history/${name}.avsc does not parse: ${(err as Error).message}`, err);
    }
    const current = out.get(kind)?.find((v) => v.version === spec.version);
    if (!current) fail(`no current schema for ${kind}`);
    try {
      current.type.createResolver(type);
    } catch (err) {
      fail(
        `avro/history/${name}.avsc cannot be read by the current ${spec.file}.avsc: ${(err as Error).message}`,
        err,
      );
    }
    out.get(kind)?.push({ kind, version, id: spec.idBase + version, type, schemaText: JSON.stringify(raw) });
  }
  for (const kind of KINDS) {
    const versions = out.get(kind) ?? [];
    if (!versions.some((v) => v.version === SPECS[kind].version)) fail(`no current schema for ${kind}`);
    versions.sort((a, b) => a.version - b.version);
  }
  return out;
}

let parsed: ReadonlyMap<Kind, readonly ParsedVersion[]> | undefined;

/** Builds a catalog. Cheap after the first call (the schemas are parsed once per process). */
export function createCatalog(options: CatalogOptions = {}): SchemaCatalog {
  parsed ??= parseAll();
  const topics: TopicNames = Object.freeze({ ...DEFAULT_TOPICS, ...stripUndefined(options.topics ?? {}) });
  const byKind = new Map<Kind, readonly SchemaVersion[]>();
  const byId = new Map<number, SchemaVersion>();
  const currentByKind = new Map<Kind, SchemaVersion>();
  const kindByTopic = new Map<string, Kind>();
  for (const kind of KINDS) {
    const subject = `${topics[kind]}-value`;
    if (kindByTopic.has(topics[kind])) fail(`topic ${topics[kind]} is configured for two kinds`);
    kindByTopic.set(topics[kind], kind);
    const versions = (parsed.get(kind) ?? []).map((p): SchemaVersion =>
      Object.freeze({
        id: p.id,
        kind,
        subject,
        version: p.version,
        current: p.version === SPECS[kind].version,
        type: p.type,
        schemaText: p.schemaText,
      }),
    );
    byKind.set(kind, Object.freeze(versions));
    for (const v of versions) {
      byId.set(v.id, v);
      if (v.current) currentByKind.set(kind, v);
    }
  }
  return {
    topics,
    current: (kind) => currentByKind.get(kind) ?? fail(`unknown kind ${String(kind)}`),
    versions: (kind) => byKind.get(kind) ?? [],
    byId: (id) => byId.get(id),
    kindForTopic: (topic) => kindByTopic.get(topic),
  };
}

const defaultKindByTopic = new Map<string, Kind>(KINDS.map((k) => [DEFAULT_TOPICS[k], k]));

/**
 * The kind a topic carries: one Map lookup. With overridden topic names pass them (or use
 * `catalog.kindForTopic`, which is precomputed).
 */
export function kindForTopic(topic: string, topics?: TopicNames): Kind | undefined {
  if (topics === undefined || topics === DEFAULT_TOPICS) return defaultKindByTopic.get(topic);
  for (const kind of KINDS) if (topics[kind] === topic) return kind;
  return undefined;
}

function stripUndefined(o: Partial<TopicNames>): Partial<Record<Kind, string>> {
  const out: Partial<Record<Kind, string>> = {};
  for (const kind of KINDS) {
    const t = o[kind];
    if (t !== undefined) {
      if (t === '') fail(`empty topic name for ${kind}`);
      out[kind] = t;
    }
  }
  return out;
}

/**
 * The Kafka record key a producer should use, so every event of a request lands on one partition:
 * `request_id`; for a callback without one, `provider:provider_message_id`. Dead letters keep the original
 * record's key (bytes), so this returns null for them.
 */
export function recordKey<K extends Kind>(kind: K, value: KindMap[K]): string | null {
  switch (kind) {
    case 'request':
    case 'dispatch':
      return (value as KindMap['request' | 'dispatch']).envelope.request_id;
    case 'callback': {
      const cb = value as KindMap['callback'];
      return cb.envelope.request_id ?? `${cb.provider}:${cb.provider_message_id}`;
    }
    case 'verdict':
    case 'action':
      return (value as KindMap['verdict' | 'action']).request_id;
    default:
      return null;
  }
}
