import avsc from 'avsc';
import type { Schema } from 'avsc';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AVSC_OPTIONS, createCatalog } from './catalog.js';
import { createCodec } from './codec.js';
import { DecodeError, RegistryError } from './errors.js';
import { HISTORY_SCHEMAS } from './generated/schemas.js';
import { createSchemaRegistryClient } from './registry.js';
import { sampleEvent } from './samples.js';

const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);
const catalog = createCatalog();
const V1_TEXT = JSON.stringify(HISTORY_SCHEMAS.find(([n]) => n === 'request-accepted.v1')?.[1]);

// The dispatch schema split the way a registry with references stores it: Envelope in its own subject.
const ENVELOPE_TEXT = JSON.stringify(
  (JSON.parse(catalog.current('dispatch').schemaText) as { fields: Array<{ type: unknown }> }).fields[0]
    ?.type,
);
const DISPATCH_WITH_REF = (() => {
  const s = JSON.parse(catalog.current('dispatch').schemaText) as {
    fields: Array<{ name: string; type: unknown }>;
  };
  s.fields[0] = { ...s.fields[0], name: 'envelope', type: 'io.pathwatch.Envelope' };
  return JSON.stringify(s);
})();

/** A tiny Confluent Schema Registry: ids 7 (request v1), 8 (dispatch, by reference), 500 fails, POST registers. */
function startRegistry(): Promise<{
  server: Server;
  url: string;
  hits: Map<string, number>;
  registered: Map<string, string>;
}> {
  const hits = new Map<string, number>();
  const registered = new Map<string, string>();
  const server = createServer((req, res) => {
    const key = `${req.method} ${req.url}`;
    hits.set(key, (hits.get(key) ?? 0) + 1);
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/vnd.schemaregistry.v1+json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'GET' && req.url === '/schemas/ids/7') return send(200, { schema: V1_TEXT });
    if (req.method === 'GET' && req.url === '/schemas/ids/8') {
      return send(200, {
        schema: DISPATCH_WITH_REF,
        references: [{ name: 'io.pathwatch.Envelope', subject: 'envelope', version: 1 }],
      });
    }
    if (req.method === 'GET' && req.url === '/subjects/envelope/versions/1') {
      return send(200, { subject: 'envelope', version: 1, id: 3, schema: ENVELOPE_TEXT });
    }
    if (req.method === 'GET' && req.url === '/schemas/ids/9')
      return send(200, { schema: '{}', schemaType: 'PROTOBUF' });
    if (req.method === 'GET' && req.url === '/schemas/ids/500')
      return send(500, { error_code: 50001, message: 'backend down' });
    if (req.method === 'POST' && req.url?.startsWith('/subjects/')) {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const subject = decodeURIComponent(req.url?.split('/')[2] ?? '');
        registered.set(subject, (JSON.parse(body) as { schema: string }).schema);
        send(200, { id: 1000 + registered.size });
      });
      return;
    }
    send(404, { error_code: 40403, message: 'Schema not found' });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({ server, url: `http://127.0.0.1:${port}`, hits, registered });
    });
  });
}

function frame(id: number, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(id, 1);
  return Buffer.concat([header, body]);
}

async function rejection(p: Promise<unknown>): Promise<DecodeError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof DecodeError)) throw new Error(`expected a DecodeError, got ${String(err)}`);
  return err;
}

describe('schema registry', () => {
  let reg: Awaited<ReturnType<typeof startRegistry>>;
  beforeAll(async () => {
    reg = await startRegistry();
  });
  afterAll(
    () =>
      new Promise<void>((resolve) => {
        reg.server.close(() => resolve());
      }),
  );

  const v1Body = () => {
    const v1 = avsc.Type.forSchema(JSON.parse(V1_TEXT) as Schema, { ...AVSC_OPTIONS, registry: {} });
    const { give_up_ms: _g, api_latency_ms: _a, attributes: _at, ...value } = sampleEvent('request', NOW);
    return { bytes: frame(7, v1.toBuffer(value)), value };
  };

  it('fetches a writer schema by id once, then decodes synchronously', async () => {
    const codec = createCodec({ registry: { url: reg.url }, now: () => NOW });
    const { bytes, value } = v1Body();
    // Not fetched yet: sync decode says so (retriable), it does not guess.
    const early = (() => {
      try {
        codec.decode('request', bytes);
      } catch (e) {
        return e as DecodeError;
      }
      return undefined;
    })();
    expect(early?.code).toBe('SCHEMA_DECODE_WRITER_NOT_LOADED');
    expect(early?.retriable).toBe(true);

    const decoded = await codec.decodeAsync('request', bytes);
    expect(decoded).toEqual({ ...value, give_up_ms: null, api_latency_ms: null, attributes: {} });
    expect(codec.decode('request', bytes)).toEqual(decoded);
    await codec.decodeAsync('request', bytes);
    expect(reg.hits.get('GET /schemas/ids/7')).toBe(1);
  });

  it('resolves schema references', async () => {
    const codec = createCodec({ registry: { url: reg.url }, now: () => NOW });
    const value = sampleEvent('dispatch', NOW);
    const body = catalog.current('dispatch').type.toBuffer(value);
    expect(await codec.decodeAsync('dispatch', frame(8, body))).toEqual(value);
    expect(reg.hits.get('GET /subjects/envelope/versions/1')).toBe(1);
  });

  it('unknown id (404) -> SCHEMA_DECODE_UNKNOWN_SCHEMA_ID, not retriable, remembered', async () => {
    const codec = createCodec({ registry: { url: reg.url }, now: () => NOW });
    const bytes = frame(4242, Buffer.from([2, 3]));
    const err = await rejection(codec.decodeAsync('request', bytes));
    expect(err.code).toBe('SCHEMA_DECODE_UNKNOWN_SCHEMA_ID');
    expect(err.retriable).toBe(false);
    expect(err.schemaId).toBe(4242);
    expect(() => codec.decode('request', bytes)).toThrow(/unknown schema id 4242/);
    await rejection(codec.decodeAsync('request', bytes));
    expect(reg.hits.get('GET /schemas/ids/4242')).toBe(1);
  });

  it('registry errors -> SCHEMA_REGISTRY_UNAVAILABLE (retriable), retried on the next call', async () => {
    const codec = createCodec({ registry: { url: reg.url }, now: () => NOW });
    const bytes = frame(500, Buffer.from([2, 3]));
    const err = await rejection(codec.decodeAsync('request', bytes));
    expect(err.code).toBe('SCHEMA_REGISTRY_UNAVAILABLE');
    expect(err.retriable).toBe(true);
    expect(err.cause).toBeInstanceOf(RegistryError);
    await rejection(codec.decodeAsync('request', bytes));
    expect(reg.hits.get('GET /schemas/ids/500')).toBe(2);
  });

  it('unreachable registry -> SCHEMA_REGISTRY_UNAVAILABLE (retriable)', async () => {
    const closed = await startRegistry();
    await new Promise<void>((resolve) => closed.server.close(() => resolve()));
    const codec = createCodec({ registry: { url: closed.url, timeoutMs: 2000 }, now: () => NOW });
    const err = await rejection(codec.decodeAsync('request', frame(7, Buffer.from([1]))));
    expect(err.code).toBe('SCHEMA_REGISTRY_UNAVAILABLE');
    expect(err.retriable).toBe(true);
  });

  it('a non-Avro schema -> SCHEMA_REGISTRY_BAD_RESPONSE', async () => {
    const codec = createCodec({ registry: { url: reg.url }, now: () => NOW });
    const err = await rejection(codec.decodeAsync('request', frame(9, Buffer.from([1]))));
    expect(err.code).toBe('SCHEMA_REGISTRY_BAD_RESPONSE');
    expect(err.reason).toMatch(/PROTOBUF/);
  });

  it('init() registers the current schemas under <topic>-value and encodes with the registry ids', async () => {
    const codec = createCodec({ registry: createSchemaRegistryClient({ url: reg.url }), now: () => NOW });
    const value = sampleEvent('callback', NOW);
    expect(() => codec.encode('callback', value)).toThrow(/await codec.init\(\)/);
    expect(codec.encode('callback', value, { format: 'json' })[0]).toBe(0x7b); // JSON needs no id
    await codec.init();
    expect([...reg.registered.keys()].sort()).toEqual([
      'pathwatch.actions-value',
      'pathwatch.callbacks-value',
      'pathwatch.dead-letter-value',
      'pathwatch.dispatches-value',
      'pathwatch.requests-value',
      'pathwatch.verdicts-value',
    ]);
    expect(reg.registered.get('pathwatch.callbacks-value')).toBe(catalog.current('callback').schemaText);
    const bytes = codec.encode('callback', value);
    expect(bytes.readUInt32BE(1)).toBe(codec.schemaId('callback'));
    expect(codec.schemaId('callback')).toBeGreaterThan(1000);
    // Our own ids decode without a fetch.
    expect(codec.decode('callback', bytes)).toEqual(value);
  });

  it('prepare() loads every unknown writer of a batch once, so decode of the batch is synchronous', async () => {
    const codec = createCodec({ registry: { url: reg.url }, now: () => NOW });
    const { bytes } = v1Body();
    const before = reg.hits.get('GET /schemas/ids/7') ?? 0;
    await codec.prepare('request', [
      bytes,
      bytes,
      null,
      Buffer.from('{"x":1}'),
      frame(4243, Buffer.from([1])),
    ]);
    expect(reg.hits.get('GET /schemas/ids/7')).toBe(before + 1);
    expect(codec.decode('request', bytes).envelope.event_id).toBeTypeOf('string');
    // The id the registry does not know is remembered: a dead letter, not a retry.
    expect(() => codec.decode('request', frame(4243, Buffer.from([1])))).toThrow(/unknown schema id 4243/);
    await codec.prepare('request', [bytes, frame(4243, Buffer.from([1]))]);
    expect(reg.hits.get('GET /schemas/ids/7')).toBe(before + 1);
    expect(reg.hits.get('GET /schemas/ids/4243')).toBe(1);
  });

  it('prepare() rejects retriably while the registry fails, and without a registry does nothing', async () => {
    const codec = createCodec({ registry: { url: reg.url }, now: () => NOW });
    const err = await rejection(codec.prepare('request', [frame(500, Buffer.from([1]))]));
    expect(err.code).toBe('SCHEMA_REGISTRY_UNAVAILABLE');
    expect(err.retriable).toBe(true);
    await createCodec({ now: () => NOW }).prepare('request', [frame(500, Buffer.from([1]))]);
  });

  it('init() is shared by concurrent callers (one registration per subject)', async () => {
    const codec = createCodec({
      registry: { url: reg.url },
      topics: { verdict: 'shared-init.verdicts' },
      now: () => NOW,
    });
    const key = 'POST /subjects/shared-init.verdicts-value/versions';
    await Promise.all([codec.init(), codec.init()]);
    await codec.init();
    expect(reg.hits.get(key)).toBe(1);
  });
});
