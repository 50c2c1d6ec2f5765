// Wire codec: Confluent-framed Avro (magic 0 + 4-byte big-endian schema id + body) or JSON of the same shape.
// decode() is on every consumer's hot path: per-kind readers and per-writer resolvers are built once and cached;
// the happy path allocates only the decoded value.
import avsc from 'avsc';
import type { Resolver, Schema, Type } from 'avsc';
import { AVSC_OPTIONS, KINDS, createCatalog } from './catalog.js';
import type { Kind, KindMap, SchemaCatalog, TopicNames } from './catalog.js';
import { DecodeError, EncodeError, RegistryError } from './errors.js';
import type { SchemaErrorCode } from './errors.js';
import { containsBytes, createJsonReader, formatPath, toJsonText } from './json.js';
import type { JsonReader, ReadContext } from './json.js';
import { createSchemaRegistryClient } from './registry.js';
import type { SchemaRegistryClient, SchemaRegistryOptions } from './registry.js';
import { FIELD_TOO_LONG, createValidator } from './validate.js';
import type { ValidationOptions, Validator } from './validate.js';

export type WireFormat = 'avro' | 'json';

export interface EncodeOptions {
  /** @default the codec's `format` option ('avro') */
  format?: WireFormat | undefined;
}

export interface CodecOptions extends ValidationOptions {
  /** Topic name overrides (subjects follow them). Ignored when `catalog` is given. */
  topics?: Partial<TopicNames> | undefined;
  /** @default createCatalog({ topics }) */
  catalog?: SchemaCatalog | undefined;
  /**
   * Schema Registry: when set, Avro schema ids are the registry's (writers fetched by id and cached; `init()`
   * registers the current schemas for encoding). When unset, ids are the local catalog's.
   */
  registry?: SchemaRegistryClient | SchemaRegistryOptions | undefined;
  /**
   * Inputs larger than this are rejected before parsing.
   * @default 1048576 (1 MiB)
   */
  maxPayloadBytes?: number | undefined;
  /**
   * Run semantic validation (ids, timestamps, numbers) after decoding.
   * @default true
   */
  validate?: boolean | undefined;
  /**
   * Format `encode` uses when the call does not say.
   * @default 'avro'
   */
  format?: WireFormat | undefined;
}

export interface Codec {
  readonly catalog: SchemaCatalog;
  /** Encodes a value; throws EncodeError when it does not match the schema. */
  encode<K extends Kind>(kind: K, value: KindMap[K], options?: EncodeOptions): Buffer;
  /**
   * Decodes Confluent Avro or JSON into the current reader shape, then validates. Synchronous; throws DecodeError.
   * With a registry, an id not fetched yet throws SCHEMA_DECODE_WRITER_NOT_LOADED (retriable): use decodeAsync.
   */
  decode<K extends Kind>(kind: K, bytes: Uint8Array | null | undefined): KindMap[K];
  /** Like decode, but first fetches an unknown writer schema from the registry (no-op without one). */
  decodeAsync<K extends Kind>(kind: K, bytes: Uint8Array | null | undefined): Promise<KindMap[K]>;
  /**
   * Fetches every writer schema these records name that is not loaded yet, so `decode` of them is synchronous
   * (a consumer calls it once per fetched batch). Without a registry, or when all are loaded, resolves at once.
   * A registry outage rejects with a retriable DecodeError (the batch waits; retry); an id the registry does not
   * know is remembered, and `decode` then reports SCHEMA_DECODE_UNKNOWN_SCHEMA_ID (a dead letter).
   */
  prepare(kind: Kind, values: readonly (Uint8Array | null | undefined)[]): Promise<void>;
  /** The semantic checks decode runs: the reason naming the field, or null when valid. */
  validate<K extends Kind>(kind: K, value: KindMap[K]): string | null;
  /** The kind a topic carries under this codec's topic names (one Map lookup). */
  kindForTopic(topic: string): Kind | undefined;
  /** The schema id `encode` writes for a kind (local id, or the registry's after init()). */
  schemaId(kind: Kind): number;
  /** With a registry: registers the current schemas under `<topic>-value` and encodes with their ids. Else a no-op. */
  init(): Promise<void>;
}

export const DEFAULT_MAX_PAYLOAD_BYTES = 1_048_576;
const MAGIC = 0;
const HEADER_BYTES = 5;
const NEGATIVE_CACHE_LIMIT = 10_000;

/** Per (kind, writer id): read directly (same schema) or through a resolver, or why not. */
type ReaderEntry =
  { readonly resolver: Resolver | undefined; readonly error?: undefined } | { readonly error: string };

interface KindState {
  readonly kind: Kind;
  readonly type: Type;
  readonly json: JsonReader;
  readonly hasBytes: boolean;
  readonly readers: Map<number, ReaderEntry>;
  encodeId: number | undefined;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function isJsonStart(b: number): boolean {
  // '{' or leading JSON whitespace.
  return b === 0x7b || b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

export function createCodec(options: CodecOptions = {}): Codec {
  const catalog = options.catalog ?? createCatalog({ topics: options.topics });
  const maxPayloadBytes = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  const shouldValidate = options.validate ?? true;
  const defaultFormat: WireFormat = options.format ?? 'avro';
  const validator: Validator = createValidator(options);
  const registry: SchemaRegistryClient | undefined =
    options.registry === undefined
      ? undefined
      : 'schemaById' in options.registry
        ? options.registry
        : createSchemaRegistryClient(options.registry);

  const states = new Map<Kind, KindState>();
  for (const v of KINDS) {
    const current = catalog.current(v);
    const readers = new Map<number, ReaderEntry>();
    // Without a registry, the current local id reads directly (no resolver).
    if (!registry) readers.set(current.id, { resolver: undefined });
    states.set(v, {
      kind: v,
      type: current.type,
      json: createJsonReader(current.type),
      hasBytes: containsBytes(current.type),
      readers,
      encodeId: registry ? undefined : current.id,
    });
  }
  const state = (kind: Kind): KindState => {
    const s = states.get(kind);
    if (!s)
      throw new DecodeError(
        'SCHEMA_DECODE_INCOMPATIBLE_SCHEMA',
        String(kind),
        `unknown kind ${String(kind)}`,
      );
    return s;
  };

  // Registry mode: writer schemas by registry id; ids the registry does not know (bounded).
  const registryWriters = new Map<number, Type>();
  const unknownIds = new Set<number>();

  let scratch = Buffer.allocUnsafe(64 * 1024);

  function writerType(id: number): Type | undefined {
    return registry ? registryWriters.get(id) : catalog.byId(id)?.type;
  }

  function readerEntry(s: KindState, id: number): ReaderEntry | undefined {
    let entry = s.readers.get(id);
    if (entry !== undefined) return entry;
    const writer = writerType(id);
    if (writer === undefined) return undefined;
    if (writer === s.type || writer.equals(s.type)) {
      entry = { resolver: undefined };
    } else {
      try {
        entry = { resolver: s.type.createResolver(writer) };
      } catch (err) {
        entry = {
          error: `writer schema ${id} (${writer.name ?? writer.typeName}) cannot be read as ${s.type.name ?? s.kind}: ${(err as Error).message}`,
        };
      }
    }
    s.readers.set(id, entry);
    return entry;
  }

  function decodeAvro(s: KindState, buf: Buffer): unknown {
    if (buf.length < HEADER_BYTES) {
      throw new DecodeError(
        'SCHEMA_DECODE_BAD_AVRO',
        s.kind,
        `Confluent header truncated: ${buf.length} of ${HEADER_BYTES} bytes`,
      );
    }
    const id = buf.readUInt32BE(1);
    const entry = readerEntry(s, id);
    if (entry === undefined) {
      if (registry && !unknownIds.has(id)) {
        throw new DecodeError(
          'SCHEMA_DECODE_WRITER_NOT_LOADED',
          s.kind,
          `writer schema id ${id} not fetched from the registry yet (use decodeAsync)`,
          {
            retriable: true,
            schemaId: id,
          },
        );
      }
      throw new DecodeError(
        'SCHEMA_DECODE_UNKNOWN_SCHEMA_ID',
        s.kind,
        `unknown schema id ${id} at bytes 1-4`,
        { schemaId: id },
      );
    }
    if (entry.error !== undefined) {
      throw new DecodeError('SCHEMA_DECODE_INCOMPATIBLE_SCHEMA', s.kind, entry.error, { schemaId: id });
    }
    let res: { value: unknown; offset: number };
    try {
      res = s.type.decode(buf, HEADER_BYTES, entry.resolver);
    } catch (err) {
      throw new DecodeError(
        'SCHEMA_DECODE_BAD_AVRO',
        s.kind,
        `invalid Avro body (schema id ${id}): ${(err as Error).message}`,
        {
          schemaId: id,
          cause: err,
        },
      );
    }
    if (res.offset < 0) {
      throw new DecodeError(
        'SCHEMA_DECODE_BAD_AVRO',
        s.kind,
        `Avro body truncated: ${buf.length} bytes end inside the record (schema id ${id})`,
        {
          schemaId: id,
        },
      );
    }
    if (res.offset !== buf.length) {
      throw new DecodeError(
        'SCHEMA_DECODE_BAD_AVRO',
        s.kind,
        `${buf.length - res.offset} trailing bytes after the record at offset ${res.offset} (schema id ${id})`,
        { schemaId: id },
      );
    }
    return res.value;
  }

  function decodeJson(s: KindState, buf: Buffer): unknown {
    let parsed: unknown;
    try {
      parsed = JSON.parse(buf.toString('utf8'));
    } catch (err) {
      throw new DecodeError('SCHEMA_DECODE_BAD_JSON', s.kind, `invalid JSON: ${(err as Error).message}`, {
        cause: err,
      });
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new DecodeError('SCHEMA_DECODE_BAD_JSON', s.kind, 'JSON value must be an object');
    }
    const ctx: ReadContext = { message: '', path: [] };
    const value = s.json.read(parsed, ctx);
    if (value === undefined) {
      throw new DecodeError('SCHEMA_VALIDATION_FAILED', s.kind, `${formatPath(ctx.path)}: ${ctx.message}`);
    }
    return value;
  }

  function decode<K extends Kind>(kind: K, bytes: Uint8Array | null | undefined): KindMap[K] {
    const s = state(kind);
    if (bytes === null || bytes === undefined || bytes.length === 0) {
      throw new DecodeError(
        'SCHEMA_DECODE_EMPTY',
        kind,
        bytes == null ? 'no value (tombstone)' : 'empty value (0 bytes)',
      );
    }
    if (bytes.length > maxPayloadBytes) {
      throw new DecodeError(
        'SCHEMA_PAYLOAD_OVERSIZED',
        kind,
        `${bytes.length} bytes exceed the limit of ${maxPayloadBytes}`,
      );
    }
    const buf = asBuffer(bytes);
    const first = buf[0] as number;
    let value: unknown;
    if (first === MAGIC) value = decodeAvro(s, buf);
    else if (isJsonStart(first)) value = decodeJson(s, buf);
    else {
      throw new DecodeError(
        'SCHEMA_DECODE_BAD_MAGIC',
        kind,
        `first byte 0x${first.toString(16).padStart(2, '0')} is neither the Confluent magic byte 0x00 nor '{' (JSON)`,
      );
    }
    if (shouldValidate) {
      const reason = validator(kind, value as KindMap[K]);
      if (reason !== null)
        throw new DecodeError(
          reason.startsWith(FIELD_TOO_LONG) ? 'SCHEMA_FIELD_TOO_LONG' : 'SCHEMA_VALIDATION_FAILED',
          kind,
          reason,
        );
    }
    return value as KindMap[K];
  }

  async function fetchWriter(kind: Kind, id: number): Promise<void> {
    if (!registry || registryWriters.has(id) || unknownIds.has(id)) return;
    try {
      const found = await registry.schemaById(id);
      const types: Record<string, Type> = {};
      await parseReferences(registry, found.references, types, new Set());
      registryWriters.set(
        id,
        avsc.Type.forSchema(JSON.parse(found.schema) as Schema, { ...AVSC_OPTIONS, registry: types }),
      );
    } catch (err) {
      if (err instanceof RegistryError && err.status === 404) {
        if (unknownIds.size >= NEGATIVE_CACHE_LIMIT) unknownIds.clear();
        unknownIds.add(id);
        return; // decode() now reports SCHEMA_DECODE_UNKNOWN_SCHEMA_ID
      }
      const code: SchemaErrorCode = err instanceof RegistryError ? err.code : 'SCHEMA_REGISTRY_BAD_RESPONSE';
      const retriable = err instanceof RegistryError && err.retriable;
      throw new DecodeError(code, kind, `writer schema id ${id}: ${(err as Error).message}`, {
        retriable,
        schemaId: id,
        cause: err,
      });
    }
  }

  let initialising: Promise<void> | undefined;

  return {
    catalog,
    decode,
    async prepare(kind, values) {
      if (!registry) return;
      const s = state(kind);
      let ids: Set<number> | undefined;
      for (const bytes of values) {
        if (!bytes || bytes.length < HEADER_BYTES || bytes.length > maxPayloadBytes || bytes[0] !== MAGIC)
          continue;
        const id = asBuffer(bytes).readUInt32BE(1);
        if (s.readers.has(id) || registryWriters.has(id) || unknownIds.has(id)) continue;
        (ids ??= new Set()).add(id);
      }
      if (ids) for (const id of ids) await fetchWriter(kind, id);
    },
    async decodeAsync(kind, bytes) {
      if (
        registry &&
        bytes &&
        bytes.length >= HEADER_BYTES &&
        bytes.length <= maxPayloadBytes &&
        bytes[0] === MAGIC
      ) {
        const id = asBuffer(bytes).readUInt32BE(1);
        if (!state(kind).readers.has(id)) await fetchWriter(kind, id);
      }
      return decode(kind, bytes);
    },
    encode(kind, value, encodeOptions) {
      const s = state(kind);
      const format = encodeOptions?.format ?? defaultFormat;
      let firstError: string | undefined;
      const valid = s.type.isValid(value, {
        errorHook: (path: string[], v: unknown) => {
          firstError ??= `${path.join('.') || '(root)'}: ${JSON.stringify(v) ?? String(v)} does not match the schema`;
        },
      });
      if (!valid)
        throw new EncodeError('SCHEMA_ENCODE_INVALID', kind, firstError ?? 'value does not match the schema');
      if (format === 'json') return Buffer.from(toJsonText(value, s.hasBytes), 'utf8');
      const id = s.encodeId;
      if (id === undefined) {
        throw new EncodeError(
          'SCHEMA_ENCODE_NOT_INITIALISED',
          kind,
          'a schema registry is configured: await codec.init() before encoding Avro',
        );
      }
      let end = s.type.encode(value, scratch, HEADER_BYTES);
      while (end < 0) {
        scratch = Buffer.allocUnsafe(Math.max(scratch.length * 2, scratch.length - end));
        end = s.type.encode(value, scratch, HEADER_BYTES);
      }
      const out = Buffer.allocUnsafe(end);
      scratch.copy(out, 0, 0, end);
      out[0] = MAGIC;
      out.writeUInt32BE(id, 1);
      return out;
    },
    validate: (kind, value) => validator(kind, value),
    kindForTopic: (topic) => catalog.kindForTopic(topic),
    schemaId(kind) {
      const id = state(kind).encodeId;
      if (id === undefined) {
        throw new EncodeError(
          'SCHEMA_ENCODE_NOT_INITIALISED',
          kind,
          'a schema registry is configured: await codec.init() first',
        );
      }
      return id;
    },
    init() {
      if (!registry) return Promise.resolve();
      const reg = registry;
      // Once per codec (several services may share one); a failure is forgotten so init() can be retried.
      initialising ??= (async () => {
        for (const s of states.values()) {
          const current = catalog.current(s.kind);
          const id = await reg.register(current.subject, current.schemaText);
          registryWriters.set(id, current.type);
          s.readers.set(id, { resolver: undefined });
          s.encodeId = id;
        }
      })().catch((err: unknown) => {
        initialising = undefined;
        throw err;
      });
      return initialising;
    },
  };
}

/** Parses referenced subject versions (depth first) into `types`, so the referring schema resolves its names. */
async function parseReferences(
  registry: SchemaRegistryClient,
  refs: readonly { subject: string; version: number }[],
  types: Record<string, Type>,
  seen: Set<string>,
): Promise<void> {
  for (const ref of refs) {
    const key = `${ref.subject}\u0000${ref.version}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const found = await registry.subjectVersion(ref.subject, ref.version);
    await parseReferences(registry, found.references, types, seen);
    avsc.Type.forSchema(JSON.parse(found.schema) as Schema, { ...AVSC_OPTIONS, registry: types });
  }
}
