/**
 * The buffer arguments of read, write, readv and writev and the options of
 * the whole-file calls, parsed as Node's fs parses them (lib/fs.js,
 * lib/internal/fs/promises.js): the same overloads and defaults, the same
 * errors. Node's three faces discriminate the overloads slightly differently
 * (readSync needs a buffer, fs.read(fd, options, cb) may omit it, writeSync
 * takes a non-number offset as 0); each parser says which face it serves.
 */
import { argType, argValue, range } from './nodeErrors';
import {
  bytesOf, getOptions, isArrayBufferView, parseFlags, parseMode, validateBuffer, validateInt32, validateInteger, validateObject,
  type Encoding,
} from './validate';

export interface IoArgs {
  bytes: Uint8Array;
  offset: number;
  length: number;
  /** null: the descriptor's position. */
  position: number | null;
}

/** The read call as the cores take it, with the buffer the caller gets back. */
export interface ReadArgs extends IoArgs {
  buffer: NodeJS.ArrayBufferView;
}

export type ReadForm = 'sync' | 'callback' | 'handle';

/** validatePosition of a read: an integer >= -1 or a bigint; -1 and null are the current position. */
function readPosition(position: unknown, length: number): number | null {
  if (position === undefined || position === null) return null;
  if (typeof position === 'number') {
    validateInteger(position, 'position', -1);
    return position === -1 ? null : position;
  }
  if (typeof position === 'bigint') {
    const max = 2n ** 63n - 1n - BigInt(length);
    if (!(position >= -1n && position <= max)) throw range('position', `>= -1 && <= ${max}`, position);
    return position === -1n ? null : Number(position);
  }
  throw argType('position', 'of type bigint or integer', position);
}

/**
 * read(fd, buffer, offset, length, position), read(fd, buffer, options),
 * read(fd, options), read(fd): the arguments after fd.
 */
export function readArgs(form: ReadForm, n: number, buffer: unknown, offset: unknown, length: unknown, position: unknown): ReadArgs {
  let params: unknown = undefined;
  let useParams = false;
  if (form === 'sync') {
    validateBuffer(buffer);
    if (n <= 2 || (typeof offset === 'object')) {
      if (offset !== undefined) validateObject(offset, 'options', true);
      params = offset;
      useParams = true;
    }
  } else if (form === 'callback') {
    if (n === 2) {
      validateObject(offset, 'options', true);
      params = offset;
      useParams = true;
    } else if (n === 1) {
      if (!isArrayBufferView(buffer)) {
        params = buffer;
        buffer = (params as { buffer?: unknown } | null)?.buffer ?? Buffer.alloc(16384);
      }
      useParams = true;
    } else if (n === 0) {
      buffer = Buffer.alloc(16384);
      useParams = true;
    }
    if (useParams && params !== undefined) validateObject(params, 'options', true);
    validateBuffer(buffer);
  } else {
    if (!isArrayBufferView(buffer)) {
      if (buffer !== undefined) validateObject(buffer, 'options', true);
      params = buffer;
      buffer = (params as { buffer?: unknown } | null)?.buffer ?? Buffer.alloc(16384);
      validateBuffer(buffer);
      useParams = true;
    } else if (offset !== null && typeof offset === 'object') {
      params = offset;
      useParams = true;
    }
  }
  const view = buffer as NodeJS.ArrayBufferView;
  if (useParams) {
    const p = (params ?? {}) as { offset?: unknown; length?: unknown; position?: unknown };
    offset = p.offset === undefined ? 0 : p.offset;
    length = p.length === undefined ? view.byteLength - (offset as number) : p.length;
    position = p.position === undefined ? null : p.position;
  }
  if (offset === undefined || (form !== 'sync' && offset === null)) offset = 0;
  else validateInteger(offset, 'offset', 0);
  let len: number;
  if (form === 'handle') len = (length ?? view.byteLength - (offset as number)) as number;
  else len = (length as number) | 0;
  const bytes = bytesOf(view);
  if (len === 0) return { buffer: view, bytes, offset: offset as number, length: 0, position: null };
  if (view.byteLength === 0) throw argValue('buffer', 'is empty and cannot be written', view);
  if (len < 0) throw range('length', '>= 0', len);
  if ((offset as number) + len > view.byteLength) throw range('length', `<= ${view.byteLength - (offset as number)}`, len);
  return { buffer: view, bytes, offset: offset as number, length: len, position: readPosition(position, len) };
}

/** validateOffsetLengthWrite. */
function writeBounds(offset: number, length: number, byteLength: number): void {
  if (offset > byteLength) throw range('offset', `<= ${byteLength}`, offset);
  if (length > byteLength - offset) throw range('length', `<= ${byteLength - offset}`, length);
  if (length < 0) throw range('length', '>= 0', length);
  validateInt32(length, 'length', 0);
}

/** Node's validateEncoding for string writes: only hex of odd length is refused; an unknown encoding writes utf8. */
export function stringBytes(data: string, encoding: unknown): Buffer {
  const enc = typeof encoding === 'string' && Buffer.isEncoding(encoding) ? encoding : 'utf8';
  if (enc.toLowerCase() === 'hex' && data.length % 2 !== 0) throw argValue('encoding', `is invalid for data of length ${data.length}`, encoding);
  return Buffer.from(data, enc);
}

/**
 * write(fd, buffer, offset?, length?, position?), write(fd, buffer, options?)
 * or write(fd, string, position?, encoding?): the arguments after fd. The
 * sync face takes a non-number offset as 0, the others validate it.
 */
export function writeArgs(data: unknown, a: unknown, b: unknown, c: unknown, form: ReadForm = 'sync'): IoArgs {
  if (isArrayBufferView(data)) {
    let offset = a;
    let length = b;
    let position = c;
    if (typeof offset === 'object') {
      const o = (offset ?? {}) as { offset?: unknown; length?: unknown; position?: unknown };
      offset = o.offset === undefined ? 0 : o.offset;
      length = o.length === undefined ? data.byteLength - (offset as number) : o.length;
      position = o.position === undefined ? null : o.position;
    }
    if (form === 'sync') {
      if (typeof offset !== 'number') offset = 0;
    } else if (offset === undefined || offset === null || typeof offset === 'function') offset = 0;
    else validateInteger(offset, 'offset', 0);
    if (typeof length !== 'number') length = data.byteLength - (offset as number);
    const pos = typeof position === 'number' && position >= 0 ? position : null;
    writeBounds(offset as number, length as number, data.byteLength);
    return { bytes: bytesOf(data), offset: offset as number, length: length as number, position: pos };
  }
  if (typeof data !== 'string') throw argType('buffer', 'of type string or an instance of Buffer, TypedArray, or DataView', data);
  const bytes = stringBytes(data, b);
  const pos = typeof a === 'number' && Number.isSafeInteger(a) && a >= 0 ? a : null;
  return { bytes, offset: 0, length: bytes.length, position: pos };
}

/** ftruncate/truncate length: default 0, an integer, negative counts as 0. */
export function truncateLength(len: unknown): number {
  if (len === undefined || len === null) return 0;
  validateInteger(len, 'len');
  return Math.max(0, len as number);
}

export interface ReadFileOptions {
  encoding: Encoding;
  flag: number;
  signal?: AbortSignal;
}

export function readFileOptions(options: unknown): ReadFileOptions {
  const o = getOptions(options, { flag: 'r' as unknown, encoding: null as Encoding });
  return { encoding: o.encoding === 'buffer' ? null : o.encoding ?? null, flag: parseFlags(o.flag), signal: o.signal as AbortSignal | undefined };
}

export interface WriteFileOptions {
  encoding: BufferEncoding;
  flag: number;
  mode: number;
  flush: boolean;
  signal?: AbortSignal;
}

export function writeFileOptions(options: unknown, defaultFlag: 'w' | 'a'): WriteFileOptions {
  const o = getOptions(options, { encoding: 'utf8' as Encoding, mode: 0o666 as unknown, flag: defaultFlag as unknown, flush: false as unknown });
  const flush = o.flush ?? false;
  if (typeof flush !== 'boolean') throw argType('options.flush', 'of type boolean', flush);
  return {
    encoding: (o.encoding === 'buffer' || !o.encoding ? 'utf8' : o.encoding) as BufferEncoding,
    flag: parseFlags(o.flag ?? defaultFlag),
    mode: parseMode(o.mode, 'mode', 0o666),
    flush,
    signal: o.signal as AbortSignal | undefined,
  };
}

/** writeFile data: a string (in the encoding) or an ArrayBufferView. */
export function fileData(data: unknown, encoding: BufferEncoding): Uint8Array {
  if (typeof data === 'string') return stringBytes(data, encoding);
  if (isArrayBufferView(data)) return bytesOf(data);
  throw argType('data', 'of type string or an instance of Buffer, TypedArray, or DataView', data);
}
