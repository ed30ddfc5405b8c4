/**
 * The one error class riocache raises. Every instance has a stable string
 * `code`; the codes are listed in docs/api.md. Errors of the fs facade carry
 * Node's own codes (`ENOENT`, `EBADF`, …) with `errno`, `syscall` and `path`, so
 * code written against `fs` keeps working.
 *
 * Conditions `fs` code already handles keep their fs form: every file slot
 * held by an open file is `EMFILE` (as a full descriptor table), and a buffer
 * that fails its checksum is never thrown at a caller: it is reported by the
 * cache's 'corruption' event (and quarantined, or re-read from the disk).
 *
 * Invalid arguments and options are reported as in Node itself: a TypeError or
 * RangeError whose `code` is `ERR_INVALID_ARG_TYPE`, `ERR_INVALID_ARG_VALUE` or
 * `ERR_OUT_OF_RANGE`, and whose message names the argument.
 */
import { constants as osConstants } from 'node:os';
import { getSystemErrorMap } from 'node:util';

export const RegionErrorCodes = {
  REGION_TOO_SMALL: 'the region file is shorter than a header',
  REGION_BAD_MAGIC: 'the file is not a riocache region',
  REGION_VERSION_UNSUPPORTED: 'the region was written by a newer riocache',
  REGION_HEADER_CORRUPT: 'both header copies fail their checksum',
  REGION_TRUNCATED: 'the region file is shorter than its header says',
  REGION_GEOMETRY_MISMATCH: 'the region exists with another geometry than the options ask for',
  REGION_LOCKED: 'another live process owns the region',
  REGION_CLOSED: 'the cache was closed',
  REGION_DAMAGED: 'the file table of a region closed cleanly fails its checksums; the next open runs the warm reboot',
  FILE_LOCKED: 'another cache or process holds the data file',
  CACHE_EXHAUSTED: 'no buffer can be freed for this operation',
  UNDO_AREA_FULL: 'the operation needs more undo space than the region has',
  WRITE_BACK_FAILED: 'writing dirty data back to its file failed; the data stays dirty',
  TRANSACTION_STATE: 'the transaction call does not fit the current transaction state',
  SEGMENT_AREA_FULL: 'the segment area cannot hold the requested segment',
  NATIVE_LOAD_FAILED: 'the native addon could not be loaded',
} as const;

export type RegionErrorCode = keyof typeof RegionErrorCodes;

export interface RioErrorDetails {
  errno?: number;
  syscall?: string;
  path?: string;
  dest?: string;
  pid?: number;
  cause?: unknown;
  [key: string]: unknown;
}

export class RioError extends Error {
  readonly code: string;
  errno?: number;
  syscall?: string;
  path?: string;
  dest?: string;
  pid?: number;

  constructor(code: string, message: string, details: RioErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'RioError';
    this.code = code;
    for (const [key, value] of Object.entries(details)) {
      if (key !== 'cause' && value !== undefined) (this as Record<string, unknown>)[key] = value;
    }
  }
}

/** A region-level error: its message is the code's meaning plus what to do. */
export function regionError(code: RegionErrorCode, what: string, details: RioErrorDetails = {}): RioError {
  return new RioError(code, `${code}: ${what}`, details);
}

const errnoNames = osConstants.errno as Record<string, number>;
const systemMessages: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EBADF: 'bad file descriptor',
  EISDIR: 'illegal operation on a directory',
  ENOTDIR: 'not a directory',
  EEXIST: 'file already exists',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EINVAL: 'invalid argument',
  ENAMETOOLONG: 'name too long',
  ENOTEMPTY: 'directory not empty',
  EMFILE: 'too many open files',
  ENOSPC: 'no space left on device',
  EROFS: 'read-only file system',
  EIO: 'i/o error',
  EXDEV: 'cross-device link not permitted',
  EBUSY: 'resource busy or locked',
  EFBIG: 'file too large',
};

/** libuv's message for a code (what Node's own fs errors say), for the codes the table above lacks. */
function uvMessage(code: string): string {
  const errno = errnoNames[code];
  return (errno !== undefined && getSystemErrorMap().get(-errno)?.[1]) || 'system error';
}

/** An error shaped like Node's fs errors: `ENOENT: no such file or directory, open 'x'`. */
export function systemError(code: string, syscall: string, path?: string, dest?: string, detail?: string): RioError {
  const errno = errnoNames[code] !== undefined ? -errnoNames[code] : undefined;
  let message = `${code}: ${detail ?? systemMessages[code] ?? uvMessage(code)}, ${syscall}`;
  if (path !== undefined) message += ` '${path}'`;
  if (dest !== undefined) message += ` -> '${dest}'`;
  const details: RioErrorDetails = { syscall };
  if (errno !== undefined) details.errno = errno;
  if (path !== undefined) details.path = path;
  if (dest !== undefined) details.dest = dest;
  return new RioError(code, message, details);
}

/** Re-labels an error thrown by Node's fs on a backing descriptor with the user's view of the call. */
export function asSystemError(err: unknown, syscall: string, path?: string, dest?: string): RioError {
  const e = err as NodeJS.ErrnoException;
  if (typeof e?.code === 'string' && /^E[A-Z0-9]+$/.test(e.code)) return systemError(e.code, syscall, path, dest);
  throw err;
}

function argError(ctor: typeof TypeError | typeof RangeError, code: string, message: string): Error {
  const e = new ctor(message) as Error & { code: string };
  e.code = code;
  return e;
}

export function invalidType(name: string, expected: string, actual: unknown): TypeError {
  return argError(
    TypeError,
    'ERR_INVALID_ARG_TYPE',
    `The "${name}" argument must be ${expected}. Received ${describe(actual)}`,
  ) as TypeError;
}

export function invalidValue(name: string, reason: string, actual: unknown): TypeError {
  return argError(
    TypeError,
    'ERR_INVALID_ARG_VALUE',
    `The "${name}" argument ${reason}. Received ${describe(actual)}`,
  ) as TypeError;
}

export function outOfRange(name: string, range: string, actual: unknown): RangeError {
  return argError(
    RangeError,
    'ERR_OUT_OF_RANGE',
    `The value of "${name}" is out of range. It must be ${range}. Received ${describe(actual)}`,
  ) as RangeError;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return `type string ('${value.length > 28 ? value.slice(0, 25) + '...' : value}')`;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') {
    return `type ${typeof value} (${String(value)})`;
  }
  if (typeof value === 'function') return `function ${value.name || '<anonymous>'}`;
  return `an instance of ${(value as object).constructor?.name ?? 'Object'}`;
}
