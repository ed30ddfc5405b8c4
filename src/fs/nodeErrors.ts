/**
 * The argument errors of Node's fs, with Node's own messages (lib/internal/errors.js):
 * code written against `fs` that matches on a message or a code sees the same
 * thing from cache.fs. The rest of riocache words its option errors its own
 * way (src/errors.ts); these three follow Node to the letter, quoting and
 * `Received …` formatting included.
 */
import { inspect } from 'node:util';

type Ctor = typeof TypeError | typeof RangeError | typeof Error;

function nodeError(ctor: Ctor, code: string, message: string): Error & { code: string } {
  const e = new ctor(message) as Error & { code: string };
  e.code = code;
  // Node's errors print as `TypeError [ERR_X]: message`.
  Object.defineProperty(e, 'name', { value: `${ctor.name} [${code}]`, configurable: true, writable: true, enumerable: false });
  void e.stack;
  Object.defineProperty(e, 'name', { value: ctor.name, configurable: true, writable: true, enumerable: false });
  return e;
}

/** Node's determineSpecificType: `type number (1)`, `an instance of Object`, `function f`, `undefined`. */
function specificType(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'function' && value.name) return `function ${value.name}`;
  if (typeof value === 'object') {
    const name = (value as object).constructor?.name;
    return name ? `an instance of ${name}` : inspect(value, { depth: -1 });
  }
  let shown = inspect(value, { colors: false });
  if (shown.length > 28) shown = `${shown.slice(0, 25)}...`;
  return `type ${typeof value} (${shown})`;
}

function what(name: string): string {
  return name.includes('.') ? 'property' : 'argument';
}

/** ERR_INVALID_ARG_TYPE: `The "path" argument must be of type string. Received …`. `expected` is Node's wording after "must be". */
export function argType(name: string, expected: string, value: unknown): TypeError {
  return nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', `The "${name}" ${what(name)} must be ${expected}. Received ${specificType(value)}`) as TypeError;
}

/** ERR_INVALID_ARG_VALUE: `The argument 'flags' is invalid. Received 'zz'`. */
export function argValue(name: string, reason: string, value: unknown): TypeError {
  let shown = inspect(value);
  if (shown.length > 128) shown = `${shown.slice(0, 128)}...`;
  return nodeError(TypeError, 'ERR_INVALID_ARG_VALUE', `The ${what(name)} '${name}' ${reason}. Received ${shown}`) as TypeError;
}

function separated(digits: string): string {
  let res = '';
  let i = digits.length;
  const start = digits[0] === '-' ? 1 : 0;
  for (; i >= start + 4; i -= 3) res = `_${digits.slice(i - 3, i)}${res}`;
  return `${digits.slice(0, i)}${res}`;
}

/** ERR_OUT_OF_RANGE: `The value of "fd" is out of range. It must be >= 0. Received -1`. */
export function range(name: string, bounds: string, value: unknown): RangeError {
  let received: string;
  if (Number.isInteger(value) && Math.abs(value as number) > 2 ** 32) received = separated(String(value));
  else if (typeof value === 'bigint') {
    received = String(value);
    if (value > 2n ** 32n || value < -(2n ** 32n)) received = separated(received);
    received += 'n';
  } else received = inspect(value);
  return nodeError(RangeError, 'ERR_OUT_OF_RANGE', `The value of "${name}" is out of range. It must be ${bounds}. Received ${received}`) as RangeError;
}

/** Errors of Node's fs that have their own codes (ERR_FS_*, ERR_METHOD_NOT_IMPLEMENTED, …). */
export function coded(ctor: Ctor, code: string, message: string): Error & { code: string } {
  return nodeError(ctor, code, message);
}
