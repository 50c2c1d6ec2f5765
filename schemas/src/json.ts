// JSON wire format: the same shape as the generated types (unions unwrapped, bytes as base64 strings).
// Readers are compiled once per Avro type into closures; they check the shape, fill defaults for missing
// fields (as Avro resolution would) and build a fresh value holding only the reader's fields.
import type { Type, types } from 'avsc';

/** Returned by a reader when the input does not fit; details are in the context. */
const INVALID: unique symbol = Symbol('invalid');
type Read = (input: unknown, ctx: ReadContext) => unknown;

/** Filled on failure only, so the happy path allocates nothing for error reporting. */
export interface ReadContext {
  message: string;
  /** Path segments, innermost last, pushed while unwinding. */
  path: string[];
}

export interface JsonReader {
  /** The value, or undefined with `ctx` filled when the input does not fit. */
  read(input: unknown, ctx: ReadContext): unknown;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'string') return v.length > 40 ? `string "${v.slice(0, 40)}..."` : `string "${v}"`;
  if (typeof v === 'number' || typeof v === 'boolean') return `${typeof v} ${String(v)}`;
  return typeof v;
}

function bad(ctx: ReadContext, expected: string, got: unknown): typeof INVALID {
  ctx.message = `expected ${expected}, got ${describe(got)}`;
  return INVALID;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function compile(type: Type, cache: Map<Type, Read>): Read {
  const hit = cache.get(type);
  if (hit) return hit;
  const name = type.typeName;
  let read: Read;
  switch (name) {
    case 'null':
      read = (v, ctx) => (v === null ? null : bad(ctx, 'null', v));
      break;
    case 'boolean':
      read = (v, ctx) => (typeof v === 'boolean' ? v : bad(ctx, 'boolean', v));
      break;
    case 'string':
      read = (v, ctx) => (typeof v === 'string' ? v : bad(ctx, 'string', v));
      break;
    case 'int':
      read = (v, ctx) => (typeof v === 'number' && (v | 0) === v ? v : bad(ctx, 'int (32-bit integer)', v));
      break;
    case 'long':
      read = (v, ctx) =>
        typeof v === 'number' && Number.isSafeInteger(v) ? v : bad(ctx, 'long (safe integer)', v);
      break;
    case 'float':
    case 'double':
      read = (v, ctx) => (typeof v === 'number' && Number.isFinite(v) ? v : bad(ctx, 'finite number', v));
      break;
    case 'bytes':
      read = (v, ctx) =>
        typeof v === 'string' && BASE64.test(v) ? Buffer.from(v, 'base64') : bad(ctx, 'base64 string', v);
      break;
    case 'fixed': {
      const size = (type as types.FixedType).size;
      read = (v, ctx) => {
        if (typeof v !== 'string' || !BASE64.test(v)) return bad(ctx, `base64 string of ${size} bytes`, v);
        const b = Buffer.from(v, 'base64');
        return b.length === size ? b : bad(ctx, `base64 string of ${size} bytes`, v);
      };
      break;
    }
    case 'enum': {
      const symbols = new Set((type as types.EnumType).symbols);
      // Like Avro resolution: a symbol this reader does not know maps to the enum default when there is one.
      const fallback = (type as unknown as { default?: string }).default;
      const expected = `one of ${[...symbols].join('|')}`;
      read = (v, ctx) => {
        if (typeof v === 'string') {
          if (symbols.has(v)) return v;
          if (fallback !== undefined) return fallback;
        }
        return bad(ctx, expected, v);
      };
      break;
    }
    case 'array': {
      read = (v, ctx) => {
        if (!Array.isArray(v)) return bad(ctx, 'array', v);
        const out: unknown[] = new Array<unknown>(v.length);
        for (let i = 0; i < v.length; i++) {
          const x = items()(v[i], ctx);
          if (x === INVALID) {
            ctx.path.push(`[${i}]`);
            return INVALID;
          }
          out[i] = x;
        }
        return out;
      };
      const items = compileLate(() => compile((type as types.ArrayType).itemsType, cache));
      break;
    }
    case 'map': {
      read = (v, ctx) => {
        if (v === null || typeof v !== 'object' || Array.isArray(v)) return bad(ctx, 'object (map)', v);
        // JSON.parse output is a plain object with own keys only; values are checked in place, not copied,
        // so a "__proto__" key never reaches a setter.
        for (const k of Object.keys(v)) {
          const raw = (v as Record<string, unknown>)[k];
          const x = values()(raw, ctx);
          if (x === INVALID) {
            ctx.path.push(`[${JSON.stringify(k)}]`);
            return INVALID;
          }
          if (x !== raw) (v as Record<string, unknown>)[k] = x;
        }
        return v;
      };
      const values = compileLate(() => compile((type as types.MapType).valuesType as Type, cache));
      break;
    }
    case 'union:unwrapped':
    case 'union:wrapped': {
      const branches = (type as types.UnwrappedUnionType).types;
      const hasNull = branches.some((b) => b.typeName === 'null');
      const others = branches.filter((b) => b.typeName !== 'null');
      const compiled = compileLate(() => others.map((b) => compile(b, cache)));
      const expected = `${others.map((b) => b.branchName ?? b.typeName).join(' | ')}${hasNull ? ' | null' : ''}`;
      read = (v, ctx) => {
        if (v === null) return hasNull ? null : bad(ctx, expected, v);
        const fns = compiled();
        if (fns.length === 1) return (fns[0] as Read)(v, ctx);
        for (const fn of fns) {
          const x = fn(v, ctx);
          if (x !== INVALID) return x;
        }
        return bad(ctx, expected, v);
      };
      break;
    }
    case 'record':
    case 'error': {
      const fields = (type as types.RecordType).fields;
      const readers = compileLate(() => fields.map((f) => compile(f.type, cache)));
      // Defaults that are primitives are shared; objects/arrays are copied per use by avsc's defaultValue().
      const defaults = fields.map((f) => {
        const d = (f.defaultValue as () => unknown)();
        return { has: d !== undefined, shared: d === null || typeof d !== 'object', value: d };
      });
      const names = fields.map((f) => f.name);
      read = (v, ctx) => {
        if (v === null || typeof v !== 'object' || Array.isArray(v))
          return bad(ctx, `object (${type.name ?? 'record'})`, v);
        const fns = readers();
        const out: Record<string, unknown> = {};
        for (let i = 0; i < names.length; i++) {
          const name = names[i] as string;
          const raw = (v as Record<string, unknown>)[name];
          if (raw === undefined) {
            const d = defaults[i];
            if (d === undefined || !d.has) {
              ctx.message = 'missing required field';
              ctx.path.push(name);
              return INVALID;
            }
            out[name] = d.shared ? d.value : (fields[i] as types.Field).defaultValue();
            continue;
          }
          const x = (fns[i] as Read)(raw, ctx);
          if (x === INVALID) {
            ctx.path.push(name);
            return INVALID;
          }
          out[name] = x;
        }
        return out;
      };
      break;
    }
    default:
      if (name.startsWith('logical:')) {
        read = compile((type as types.LogicalType).underlyingType, cache);
        break;
      }
      throw new Error(`json reader: unsupported Avro type ${name}`);
  }
  cache.set(type, read);
  return read;
}

/** Defers compiling children so recursive named types terminate. */
function compileLate<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= make());
}

/** A JSON reader for an Avro type (compiled once; reuse it). */
export function createJsonReader(type: Type): JsonReader {
  const read = compile(type, new Map());
  return {
    read(input, ctx) {
      const v = read(input, ctx);
      return v === INVALID ? undefined : v;
    },
  };
}

/** `ctx.path` as `a.b[2].c`. */
export function formatPath(path: readonly string[]): string {
  let out = '';
  for (let i = path.length - 1; i >= 0; i--) {
    const seg = path[i] as string;
    out += seg.startsWith('[') || out === '' ? seg : `.${seg}`;
  }
  return out;
}

/** Whether any part of the type is bytes/fixed (JSON output then needs base64 conversion). */
export function containsBytes(type: Type, seen = new Set<Type>()): boolean {
  if (seen.has(type)) return false;
  seen.add(type);
  switch (type.typeName) {
    case 'bytes':
    case 'fixed':
      return true;
    case 'array':
      return containsBytes((type as types.ArrayType).itemsType, seen);
    case 'map':
      return containsBytes((type as types.MapType).valuesType as Type, seen);
    case 'record':
    case 'error':
      return (type as types.RecordType).fields.some((f) => containsBytes(f.type, seen));
    default:
      if (type.typeName.startsWith('union'))
        return (type as types.UnwrappedUnionType).types.some((t) => containsBytes(t, seen));
      if (type.typeName.startsWith('logical:'))
        return containsBytes((type as types.LogicalType).underlyingType, seen);
      return false;
  }
}

/** JSON.stringify replacer input: Buffers become base64 strings (Buffer.toJSON would make {type,data}). */
export function toJsonText(value: unknown, hasBytes: boolean): string {
  if (!hasBytes) return JSON.stringify(value);
  return JSON.stringify(value, function (this: Record<string, unknown>, key: string, v: unknown) {
    const original = this[key];
    return Buffer.isBuffer(original) ? original.toString('base64') : v;
  });
}
