/**
 * Node's fs argument validators (lib/internal/validators.js, lib/internal/fs/utils.js),
 * shared by every face of cache.fs: the same checks, in the same order, with
 * the same errors, so a call that Node refuses is refused here the same way.
 */
import * as fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { argType, argValue, coded, range } from './nodeErrors';

export const INT32_MAX = 2 ** 31 - 1;
export const UINT32_MAX = 2 ** 32 - 1;

export function validateFunction(value: unknown, name: string): asserts value is (...a: unknown[]) => unknown {
  if (typeof value !== 'function') throw argType(name, 'of type function', value);
}

export function validateBoolean(value: unknown, name: string): asserts value is boolean {
  if (typeof value !== 'boolean') throw argType(name, 'of type boolean', value);
}

export function validateInteger(value: unknown, name: string, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number') throw argType(name, 'of type number', value);
  if (!Number.isInteger(value)) throw range(name, 'an integer', value);
  if (value < min || value > max) throw range(name, `>= ${min} && <= ${max}`, value);
  return value;
}

export function validateInt32(value: unknown, name: string, min = -(2 ** 31), max = INT32_MAX): number {
  if (typeof value !== 'number') throw argType(name, 'of type number', value);
  if (!Number.isInteger(value)) throw range(name, 'an integer', value);
  if (value < min || value > max) throw range(name, `>= ${min} && <= ${max}`, value);
  return value;
}

export function validateUint32(value: unknown, name: string, positive = false): number {
  if (typeof value !== 'number') throw argType(name, 'of type number', value);
  if (!Number.isInteger(value)) throw range(name, 'an integer', value);
  const min = positive ? 1 : 0;
  if (value < min || value > UINT32_MAX) throw range(name, `>= ${min} && <= ${UINT32_MAX}`, value);
  return value;
}

/** validateObject with null allowed (kValidateObjectAllowNullable). */
export function validateObject(value: unknown, name: string, nullable = false): void {
  if (nullable && value === null) return;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw argType(name, 'of type object', value);
}

/** getValidatedFd. */
export function validateFd(fd: unknown, name = 'fd'): number {
  return validateInt32(fd, name, 0);
}

function isUrl(value: unknown): value is URL {
  return value instanceof URL || (value !== null && typeof value === 'object' && typeof (value as URL).href === 'string' &&
    typeof (value as URL).protocol === 'string' && (value as { auth?: unknown }).auth === undefined);
}

/**
 * getValidatedPath: a string, a Uint8Array (Buffer) or a file: URL without
 * null bytes. Returns a string or a Buffer for the cores (URLs become paths).
 */
export function validatePath(value: unknown, name = 'path'): string | Buffer {
  let path = value;
  if (isUrl(path)) {
    if (path.protocol !== 'file:') throw coded(TypeError, 'ERR_INVALID_URL_SCHEME', 'The URL must be of scheme file');
    path = fileURLToPath(path);
  }
  if (typeof path === 'string') {
    if (path.includes('\u0000')) throw argValue(name, 'must be a string, Uint8Array, or URL without null bytes', path);
    return path;
  }
  if (path instanceof Uint8Array) {
    if (path.includes(0)) throw argValue(name, 'must be a string, Uint8Array, or URL without null bytes', path);
    return Buffer.isBuffer(path) ? path : Buffer.from(path.buffer, path.byteOffset, path.byteLength);
  }
  throw argType(name, 'of type string or an instance of Buffer or URL', value);
}

/** parseFileMode: an integer or an octal string, 0 … 2^32-1. */
export function parseMode(value: unknown, name: string, fallback?: number): number {
  let mode = value ?? fallback;
  if (typeof mode === 'string') {
    if (!/^[0-7]+$/.test(mode)) throw argValue(name, 'must be a 32-bit unsigned integer or an octal string', mode);
    mode = parseInt(mode, 8);
  }
  return validateUint32(mode, name);
}

const { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_TRUNC, O_APPEND, O_SYNC } = fs.constants;

const flagTable: Record<string, number> = {
  r: O_RDONLY, rs: O_RDONLY | O_SYNC, sr: O_RDONLY | O_SYNC,
  'r+': O_RDWR, 'rs+': O_RDWR | O_SYNC, 'sr+': O_RDWR | O_SYNC,
  w: O_TRUNC | O_CREAT | O_WRONLY, wx: O_TRUNC | O_CREAT | O_WRONLY | O_EXCL, xw: O_TRUNC | O_CREAT | O_WRONLY | O_EXCL,
  'w+': O_TRUNC | O_CREAT | O_RDWR, 'wx+': O_TRUNC | O_CREAT | O_RDWR | O_EXCL, 'xw+': O_TRUNC | O_CREAT | O_RDWR | O_EXCL,
  a: O_APPEND | O_CREAT | O_WRONLY, ax: O_APPEND | O_CREAT | O_WRONLY | O_EXCL, xa: O_APPEND | O_CREAT | O_WRONLY | O_EXCL,
  as: O_APPEND | O_CREAT | O_WRONLY | O_SYNC, sa: O_APPEND | O_CREAT | O_WRONLY | O_SYNC,
  'a+': O_APPEND | O_CREAT | O_RDWR, 'ax+': O_APPEND | O_CREAT | O_RDWR | O_EXCL, 'xa+': O_APPEND | O_CREAT | O_RDWR | O_EXCL,
  'as+': O_APPEND | O_CREAT | O_RDWR | O_SYNC, 'sa+': O_APPEND | O_CREAT | O_RDWR | O_SYNC,
};

/** stringToFlags: Node's flag strings, or an integer. */
export function parseFlags(flags: unknown, name = 'flags'): number {
  if (typeof flags === 'number') return flags;
  if (flags === undefined || flags === null) return O_RDONLY;
  const f = typeof flags === 'string' ? flagTable[flags] : undefined;
  if (f === undefined) throw argValue(name, 'is invalid', flags);
  return f;
}

export type Encoding = BufferEncoding | 'buffer' | null;

/** assertEncoding: a known encoding ('buffer' allowed where names are returned). */
export function validateEncoding(encoding: unknown): void {
  if (encoding && encoding !== 'buffer' && !Buffer.isEncoding(encoding as string)) {
    throw argValue('encoding', 'is invalid encoding', encoding);
  }
}

/**
 * getOptions: an encoding string, an object, or nothing (the defaults).
 * `typeName` is how Node names what is allowed in the type error.
 */
export function getOptions<T extends object>(options: unknown, defaults: T, typeName = 'of type string or an instance of Object'): T & { encoding?: Encoding; signal?: unknown } {
  if (options === undefined || options === null || typeof options === 'function') return defaults as T & { encoding?: Encoding; signal?: unknown };
  let o: Record<string, unknown>;
  if (typeof options === 'string') o = { ...defaults, encoding: options };
  else if (typeof options === 'object') o = options as Record<string, unknown>;
  else throw argType('options', typeName, options);
  if (o.encoding !== 'buffer') validateEncoding(o.encoding);
  if (o.signal !== undefined) validateAbortSignal(o.signal, 'options.signal');
  // Not {...defaults, ...o}: in Node 20 a second spread in one literal takes V8's slow path (microseconds a call).
  return Object.assign({ ...defaults }, o) as T & { encoding?: Encoding; signal?: unknown };
}

export function validateAbortSignal(signal: unknown, name: string): void {
  if (signal !== undefined && (signal === null || typeof signal !== 'object' || !('aborted' in signal))) {
    throw argType(name, 'an instance of AbortSignal', signal);
  }
}

/** Throws the AbortError Node gives when an operation's signal is aborted. */
export function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    const e = new Error('The operation was aborted') as Error & { code: string; cause?: unknown };
    e.name = 'AbortError';
    e.code = 'ABORT_ERR';
    e.cause = signal.reason;
    throw e;
  }
}

/** toUnixTimestamp: Node's own (exported as fs._toUnixTimestamp), so times convert exactly as there. */
export const toUnixTimestamp: (time: unknown, name?: string) => number = (fs as unknown as { _toUnixTimestamp: (t: unknown, n?: string) => number })._toUnixTimestamp;

/** An id (uid, gid): -1 … 2^32-1. */
export function validateId(value: unknown, name: string): number {
  return validateInteger(value, name, -1, UINT32_MAX);
}

/** access and copyFile modes (getValidMode), with Node 20's messages. */
export function accessMode(mode: unknown, max: number, fallback: number): number {
  if (mode === undefined || mode === null) return fallback;
  if (typeof mode !== 'number' || !Number.isInteger(mode) || mode > INT32_MAX || mode < -(2 ** 31)) {
    throw coded(TypeError, 'ERR_INVALID_ARG_TYPE', 'mode must be int32 or null/undefined');
  }
  if (mode < 0 || mode > max) throw coded(RangeError, 'ERR_OUT_OF_RANGE', `mode is out of range: >= 0 && <= ${max}`);
  return mode;
}

export function isArrayBufferView(value: unknown): value is NodeJS.ArrayBufferView {
  return ArrayBuffer.isView(value);
}

/** A Buffer, TypedArray or DataView as bytes (no copy). */
export function bytesOf(view: NodeJS.ArrayBufferView): Uint8Array {
  return view instanceof Uint8Array ? view : new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

export function validateBuffer(buffer: unknown, name = 'buffer'): asserts buffer is NodeJS.ArrayBufferView {
  if (!ArrayBuffer.isView(buffer)) throw argType(name, 'an instance of Buffer, TypedArray, or DataView', buffer);
}

/** validateBufferArray (readv, writev). */
export function validateBufferArray(buffers: unknown, name = 'buffers'): NodeJS.ArrayBufferView[] {
  if (!Array.isArray(buffers) || !buffers.every((b) => ArrayBuffer.isView(b))) throw argType(name, 'an ArrayBufferView[]', buffers);
  return buffers as NodeJS.ArrayBufferView[];
}

/** Names a core returned as strings, in the encoding the caller asked for. */
export function encodeName(name: string, encoding: Encoding | undefined): string | Buffer {
  if (encoding === 'buffer') return Buffer.from(name);
  if (!encoding || encoding === 'utf8' || encoding === 'utf-8') return name;
  return Buffer.from(name).toString(encoding);
}
