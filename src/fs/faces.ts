/**
 * The faces of an operation, derived from its table entry (op.ts): the Sync
 * call, the callback call, the promise call and the FileHandle method.
 * Each face is a plain function (no `this`), so `const { readFile } =
 * cache.fs` works detached, as with node:fs.
 *
 * Cost on a hit: the Sync face is parse + core. The callback face runs a
 * synchronous core and calls back on the next tick (one process.nextTick,
 * never synchronously, as Node); with an asynchronous core it calls back
 * when that promise settles. The promise face returns the core's promise
 * (no extra async wrapper), shaped by one `then` only where the result
 * needs shaping.
 */
import * as nodeFs from 'node:fs';
import { argType } from './nodeErrors';
import type { FsContext } from './context';
import { attempt, type Face, LATER, type Op } from './op';

type Fn = (...args: any[]) => any;

export function syncFace(ctx: FsContext, op: Op): Fn {
  const { returned } = op;
  const f = function (a?: unknown, b?: unknown, c?: unknown, d?: unknown, e?: unknown): unknown {
    const p = op.parse('sync', arguments.length, a, b, c, d, e);
    const r = op.sync(ctx, p);
    return returned ? returned(r, p) : r;
  };
  return named(f, `${op.name}Sync`);
}

/** A callback that throws is thrown again outside the promise machinery, as an uncaught exception, like Node's. */
function invoke(cb: Fn, args: unknown[]): void {
  try {
    cb(...args);
  } catch (err) {
    process.nextTick(() => {
      throw err;
    });
  }
}

function resultArgs(op: Op, r: unknown, p: unknown): unknown[] {
  if (op.callbackArgs) return [null, ...op.callbackArgs(r, p)];
  return r === undefined ? [null] : [null, r];
}

export function callbackFace(ctx: FsContext, op: Op, name = op.name): Fn {
  const cbIndex = callbackPosition(name);
  const f = function (...args: unknown[]): void {
    let n = args.length;
    let cb = args[n - 1] as Fn;
    if (typeof cb === 'function') n--;
    else if (op.callbackOptional) cb = rethrow;
    else throw argType('cb', 'of type function', cbIndex >= 0 ? args[cbIndex] : cb);
    const p = op.parse('callback', n, n > 0 ? args[0] : undefined, n > 1 ? args[1] : undefined, n > 2 ? args[2] : undefined,
      n > 3 ? args[3] : undefined, n > 4 ? args[4] : undefined);
    if (op.async) {
      let now: unknown;
      try {
        now = attempt(ctx, op, p);
      } catch (err) {
        process.nextTick(cb, err);
        return;
      }
      if (now !== LATER) process.nextTick(() => invoke(cb, resultArgs(op, now, p)));
      else op.async(ctx, p).then((r) => invoke(cb, resultArgs(op, r, p)), (err) => invoke(cb, [err]));
      return;
    }
    let r: unknown;
    try {
      r = op.sync(ctx, p);
    } catch (err) {
      process.nextTick(cb, err);
      return;
    }
    if (op.callbackWithoutError) process.nextTick(cb, r);
    else if (op.callbackArgs) process.nextTick(cb, null, ...op.callbackArgs(r, p));
    else if (r === undefined) process.nextTick(cb, null);
    else process.nextTick(cb, null, r);
  };
  return named(f, name);
}

/**
 * Where Node's own function declares its callback (`function stat(path,
 * options = {…}, callback)` -> 2): a missing callback is reported as the
 * value found in that place, as Node's validation sees it. -1 if unknown.
 */
function callbackPosition(name: string): number {
  const declared = (nodeFs as unknown as Record<string, Fn | undefined>)[name];
  if (!declared) return -1;
  const src = Function.prototype.toString.call(declared);
  const params: string[] = [];
  let depth = 0;
  let current = '';
  for (let i = src.indexOf('(') + 1; i < src.length; i++) {
    const ch = src[i];
    if (depth === 0 && (ch === ',' || ch === ')')) {
      params.push(current.trim().split(/[\s=]/)[0]);
      current = '';
      if (ch === ')') break;
      continue;
    }
    if ('({['.includes(ch)) depth++;
    else if (')}]'.includes(ch)) depth--;
    current += ch;
  }
  return params.findIndex((p) => p === 'callback' || p === 'cb');
}

/** Node's default callback of close(fd): an error is thrown. */
function rethrow(err: unknown): void {
  if (err) throw err;
}

/** The promise face: every failure, argument errors included, is a rejection. */
export function promiseFace(ctx: FsContext, op: Op, face: Face = 'promise'): Fn {
  const { promised } = op;
  const f = function (a?: unknown, b?: unknown, c?: unknown, d?: unknown, e?: unknown): Promise<unknown> {
    let p: unknown;
    let r: Promise<unknown>;
    try {
      p = op.parse(face, arguments.length, a, b, c, d, e);
      r = start(ctx, op, p);
    } catch (err) {
      return Promise.reject(err);
    }
    return promised ? r.then((v) => promised(v, p, ctx)) : r;
  };
  return named(f, op.name);
}

/** The promise of a call: its immediate result where it needs no wait, else the asynchronous core's (or the synchronous one's). */
function start(ctx: FsContext, op: Op, p: unknown): Promise<unknown> {
  if (!op.async) return Promise.resolve(op.sync(ctx, p));
  const now = attempt(ctx, op, p);
  return now !== LATER ? Promise.resolve(now) : op.async(ctx, p);
}

function named<T extends Fn>(f: T, name: string): T {
  Object.defineProperty(f, 'name', { value: name, configurable: true });
  return f;
}

/** What a FileHandle face needs of its handle. */
export interface HandleLike {
  readonly ctx: FsContext;
  readonly fd: number;
}

/** Node's error for a call on a closed FileHandle. */
export function closedHandle(syscall: string): Error {
  const e = new Error('file closed') as Error & { code: string; syscall: string };
  e.code = 'EBADF';
  e.syscall = syscall;
  return e;
}

/**
 * The FileHandle face: the op with the handle's descriptor as its first
 * argument, resolving to what the promise face resolves to.
 */
export function handleFace(op: Op, syscall: string): (this: HandleLike, ...args: unknown[]) => Promise<unknown> {
  const { promised } = op;
  const f = function (this: HandleLike, a?: unknown, b?: unknown, c?: unknown, d?: unknown): Promise<unknown> {
    const fd = this.fd;
    if (fd === -1) return Promise.reject(closedHandle(syscall));
    const ctx = this.ctx;
    let p: unknown;
    let r: Promise<unknown>;
    try {
      p = op.parse('handle', arguments.length + 1, fd, a, b, c, d);
      r = start(ctx, op, p);
    } catch (err) {
      return Promise.reject(err);
    }
    return promised ? r.then((v) => promised(v, p, ctx)) : r;
  };
  return f;
}
