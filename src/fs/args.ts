/**
 * Argument handling of the fs facade, following Node's own fs: the same
 * overloads, defaults and validation errors (ERR_INVALID_ARG_TYPE,
 * ERR_OUT_OF_RANGE, ERR_INVALID_ARG_VALUE), so code written for `fs` behaves
 * the same against `cache.fs`.
 */
import * as fs from 'node:fs';
import { invalidType, invalidValue, outOfRange } from '../errors';

const { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_TRUNC, O_APPEND, O_SYNC } = fs.constants;

const flagTable: Record<string, number> = {
  r: O_RDONLY,
  rs: O_RDONLY | O_SYNC,
  sr: O_RDONLY | O_SYNC,
  'r+': O_RDWR,
  'rs+': O_RDWR | O_SYNC,
  'sr+': O_RDWR | O_SYNC,
  w: O_TRUNC | O_CREAT | O_WRONLY,
  wx: O_TRUNC | O_CREAT | O_WRONLY | O_EXCL,
  xw: O_TRUNC | O_CREAT | O_WRONLY | O_EXCL,
  'w+': O_TRUNC | O_CREAT | O_RDWR,
  'wx+': O_TRUNC | O_CREAT | O_RDWR | O_EXCL,
  'xw+': O_TRUNC | O_CREAT | O_RDWR | O_EXCL,
  a: O_APPEND | O_CREAT | O_WRONLY,
  ax: O_APPEND | O_CREAT | O_WRONLY | O_EXCL,
  xa: O_APPEND | O_CREAT | O_WRONLY | O_EXCL,
  as: O_APPEND | O_CREAT | O_WRONLY | O_SYNC,
  sa: O_APPEND | O_CREAT | O_WRONLY | O_SYNC,
  'a+': O_APPEND | O_CREAT | O_RDWR,
  'ax+': O_APPEND | O_CREAT | O_RDWR | O_EXCL,
  'xa+': O_APPEND | O_CREAT | O_RDWR | O_EXCL,
  'as+': O_APPEND | O_CREAT | O_RDWR | O_SYNC,
  'sa+': O_APPEND | O_CREAT | O_RDWR | O_SYNC,
};

export function parseFlags(flags: unknown, fallback = 'r'): number {
  if (flags === undefined || flags === null) return flagTable[fallback];
  if (typeof flags === 'number') {
    if (!Number.isInteger(flags)) throw invalidType('flags', 'an integer', flags);
    return flags;
  }
  if (typeof flags === 'string' && flagTable[flags] !== undefined) return flagTable[flags];
  throw invalidValue('flags', 'is invalid', flags);
}

export function parseMode(mode: unknown, fallback: number): number {
  if (mode === undefined || mode === null) return fallback;
  if (typeof mode === 'number' && Number.isInteger(mode) && mode >= 0 && mode <= 0o7777) return mode;
  if (typeof mode === 'string' && /^[0-7]+$/.test(mode)) return parseInt(mode, 8);
  throw invalidValue('mode', 'must be a 32-bit unsigned integer or an octal string', mode);
}

export function checkFd(fd: unknown): number {
  if (typeof fd !== 'number') throw invalidType('fd', 'of type number', fd);
  if (!Number.isInteger(fd) || fd < 0 || fd > 2 ** 31 - 1) throw outOfRange('fd', '>= 0 && <= 2147483647', fd);
  return fd;
}

/** A Buffer, TypedArray or DataView as bytes (no copy). */
export function asBytes(name: string, value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  throw invalidType(name, 'an instance of Buffer, TypedArray, or DataView', value);
}

function checkPosition(position: unknown): number | null {
  if (position === undefined || position === null) return null;
  if (typeof position === 'bigint') {
    if (position < -1n || position > BigInt(Number.MAX_SAFE_INTEGER)) throw outOfRange('position', '>= -1 && <= 2^53-1', position);
    return position === -1n ? null : Number(position);
  }
  if (typeof position !== 'number') throw invalidType('position', 'of type number or bigint', position);
  if (!Number.isInteger(position)) throw outOfRange('position', 'an integer', position);
  if (position < -1 || position > Number.MAX_SAFE_INTEGER) throw outOfRange('position', '>= -1 && <= 9007199254740991', position);
  return position === -1 ? null : position;
}

export interface IoArgs {
  bytes: Uint8Array;
  offset: number;
  length: number;
  position: number | null;
}

/** read(fd, buffer, offset, length, position) or read(fd, buffer, { offset, length, position }). */
export function readArgs(buffer: unknown, offsetOrOptions: unknown, length: unknown, position: unknown): IoArgs {
  return bufferArgs(asBytes('buffer', buffer), offsetOrOptions, length, position);
}

/** The buffer forms of read and write: (offset, length, position) or ({ offset, length, position }). */
function bufferArgs(bytes: Uint8Array, offsetOrOptions: unknown, length: unknown, position: unknown): IoArgs {
  let offset: unknown = offsetOrOptions;
  if (typeof offsetOrOptions === 'object' && offsetOrOptions !== null) {
    const o = offsetOrOptions as { offset?: unknown; length?: unknown; position?: unknown };
    offset = o.offset;
    length = o.length;
    position = o.position;
  }
  const off = offset === undefined || offset === null ? 0 : offset;
  if (typeof off !== 'number' || !Number.isInteger(off)) throw invalidType('offset', 'an integer', off);
  if (off < 0 || off > bytes.byteLength) throw outOfRange('offset', `>= 0 && <= ${bytes.byteLength}`, off);
  const len = length === undefined || length === null ? bytes.byteLength - off : length;
  if (typeof len !== 'number' || !Number.isInteger(len)) throw invalidType('length', 'an integer', len);
  if (len < 0 || off + len > bytes.byteLength) throw outOfRange('length', `>= 0 && <= ${bytes.byteLength - off}`, len);
  return { bytes, offset: off, length: len, position: checkPosition(position) };
}

/** write(fd, buffer, offset?, length?, position?), write(fd, buffer, options?) or write(fd, string, position?, encoding?). */
export function writeArgs(data: unknown, a: unknown, b: unknown, c: unknown): IoArgs {
  if (typeof data === 'string') {
    const encoding = (typeof b === 'string' ? b : 'utf8') as BufferEncoding;
    if (!Buffer.isEncoding(encoding)) throw invalidValue('encoding', 'is an unknown encoding', b);
    const bytes = Buffer.from(data, encoding);
    return { bytes, offset: 0, length: bytes.length, position: checkPosition(a) };
  }
  return bufferArgs(asBytes('buffer', data), a, b, c);
}

export function checkLength(len: unknown): number {
  if (len === undefined || len === null) return 0;
  if (typeof len !== 'number') throw invalidType('len', 'of type number', len);
  if (!Number.isInteger(len)) throw outOfRange('len', 'an integer', len);
  if (len > Number.MAX_SAFE_INTEGER) throw outOfRange('len', '<= 2^53-1', len);
  return Math.max(0, len);
}

export interface FileOptions {
  encoding: BufferEncoding | null;
  flag: string | number;
  mode: number;
}

export function fileOptions(options: unknown, defaultFlag: string, defaultEncoding: BufferEncoding | null): FileOptions {
  if (options === undefined || options === null) return { encoding: defaultEncoding, flag: defaultFlag, mode: 0o666 };
  if (typeof options === 'string') {
    if (!Buffer.isEncoding(options)) throw invalidValue('encoding', 'is an unknown encoding', options);
    return { encoding: options as BufferEncoding, flag: defaultFlag, mode: 0o666 };
  }
  if (typeof options !== 'object') throw invalidType('options', 'of type string or an instance of Object', options);
  const o = options as { encoding?: unknown; flag?: unknown; mode?: unknown };
  const encoding = o.encoding === undefined || o.encoding === null ? defaultEncoding : o.encoding;
  if (encoding !== null && (typeof encoding !== 'string' || !Buffer.isEncoding(encoding))) {
    throw invalidValue('encoding', 'is an unknown encoding', encoding);
  }
  return {
    encoding: encoding as BufferEncoding | null,
    flag: (o.flag as string | number | undefined) ?? defaultFlag,
    mode: parseMode(o.mode, 0o666),
  };
}

export function dataBytes(data: unknown, encoding: BufferEncoding | null): Uint8Array {
  if (typeof data === 'string') return Buffer.from(data, encoding ?? 'utf8');
  if (ArrayBuffer.isView(data)) return asBytes('data', data);
  throw invalidType('data', 'of type string or an instance of Buffer, TypedArray, or DataView', data);
}
