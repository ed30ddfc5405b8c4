/**
 * The wrappers that replace node:fs's functions: a call whose path lies
 * beneath the root, or whose descriptor or FileHandle is the cache's, goes to
 * the cache; every other call goes to the original function with its own
 * arguments and `this`, after one check of its first (or second) argument.
 *
 * For each call the cache side is found once, at install, in this order:
 * the face cache.fs has (`cache.fs.write`, `cache.fs.promises.open`), else
 * that face derived from the synchronous core (`cache.fs.writeSync`, or a
 * core of gaps.ts), else the real fs (a call on names or directories only:
 * see gaps.ts). The synchronous core is the one implementation; the callback
 * and promise faces are derived from it, never written again.
 */
import * as fs from 'node:fs';
import type { Cache } from '../cache/cache';
import { FIRST_DESCRIPTOR } from '../cache/files';
import { systemError } from '../errors';
import type { Beneath } from './beneath';
import { CALLS, type CallShape, callbackResults } from './calls';

type Fn = (...args: any[]) => any;
type Face = 'sync' | 'callback' | 'promise';

/** Where a call goes. */
const REAL = 0;
const CACHE = 1;
/** Two paths, one on each side of the root's edge. */
const CROSS = 2;

export interface Router {
  /** Nested calls made while the cache runs one of its cores go to the real fs. */
  depth: number;
}

function isCacheDescriptor(value: unknown): boolean {
  return typeof value === 'number' && value >= FIRST_DESCRIPTOR;
}

/** A FileHandle of the cache (of any copy of riocache): its descriptor is the cache's. */
function isCacheHandle(value: unknown): boolean {
  return typeof value === 'object' && value !== null && isCacheDescriptor((value as { fd?: unknown }).fd);
}

/** A path argument as the cache is given it: absolute, keeping a trailing slash (ENOTDIR matters). */
function routedPath(original: unknown, abs: string): string {
  return typeof original === 'string' && original.endsWith('/') && !abs.endsWith('/') ? `${abs}/` : abs;
}

/**
 * Decides where a call goes and rewrites its path arguments (relative to the
 * process's cwd) into absolute ones the cache confines to its root.
 */
export function classify(shape: CallShape, beneath: Beneath, args: unknown[]): number {
  const a = args[0];
  switch (shape) {
    case 'fd':
      return isCacheDescriptor(a) ? CACHE : REAL;
    case 'pathOrFd':
    case 'path': {
      if (shape === 'pathOrFd') {
        if (typeof a === 'number') return isCacheDescriptor(a) ? CACHE : REAL;
        if (isCacheHandle(a)) return CACHE;
      }
      const p = beneath.path(a);
      if (p === null) return REAL;
      args[0] = routedPath(a, p);
      return CACHE;
    }
    case 'second': {
      const p = beneath.path(args[1]);
      if (p === null) return REAL;
      args[1] = routedPath(args[1], p);
      return CACHE;
    }
    case 'twoPaths': {
      const p = beneath.path(a);
      const q = beneath.path(args[1]);
      if (p === null && q === null) return REAL;
      if (p !== null) args[0] = routedPath(a, p);
      if (q !== null) args[1] = routedPath(args[1], q);
      return p !== null && q !== null ? CACHE : CROSS;
    }
  }
}

/** The synchronous core of `name` on the cache side, or null (the call goes to the real fs). */
export type SyncCores = (name: string) => Fn | null;

/**
 * fs.read(fd, cb), fs.read(fd, { buffer, … }, cb): the buffer-first form the
 * synchronous core takes (Node allocates 16 KiB when none is given).
 */
function readArgsOf(args: unknown[]): unknown[] {
  if (ArrayBuffer.isView(args[1])) return args;
  const o = (args[1] ?? {}) as { buffer?: NodeJS.ArrayBufferView; offset?: number; length?: number; position?: number | null };
  const buffer = o.buffer ?? Buffer.alloc(16384);
  return [args[0], buffer, { offset: o.offset, length: o.length, position: o.position }];
}

export class Routes {
  readonly router: Router = { depth: 0 };

  constructor(
    private readonly cache: Cache,
    private readonly beneath: Beneath,
    private readonly syncCore: SyncCores,
    /** The unpatched module functions, for calls across the root's edge. */
    private readonly realSync: (name: string) => Fn,
    /** Cores that take precedence over cache.fs's (`writeFileSync`, `promises.writeFile`: wholeFile.ts). */
    private readonly overrides: Record<string, Fn | undefined> = {},
  ) {}

  /** Runs a core of the cache: nested fs calls inside it go to the real fs. */
  private run<T>(fn: Fn, self: unknown, args: unknown[]): T {
    const r = this.router;
    r.depth++;
    try {
      return fn.apply(self, args);
    } finally {
      r.depth--;
    }
  }

  /** The cache side of one face of `name`, or null. */
  private cacheSide(name: string, face: Face): Fn | null {
    const cfs = this.cache.fs as unknown as Record<string, unknown> & { promises: Record<string, unknown> };
    const overSync = this.overrides[`${name}Sync`];
    const overPromise = this.overrides[`promises.${name}`];
    const own = face === 'sync' ? overSync ?? cfs[`${name}Sync`]
      : face === 'callback' ? (overSync ? undefined : cfs[name])
        : overPromise ?? cfs.promises[name];
    if (typeof own === 'function') {
      const holder = face === 'promise' ? cfs.promises : cfs;
      return (...args: unknown[]) => this.run(own as Fn, holder, args);
    }
    const ownSync = overSync ?? cfs[`${name}Sync`];
    const core = typeof ownSync === 'function' ? (ownSync as Fn) : this.syncCore(`${name}Sync`);
    if (!core) return null;
    const sync = (...args: unknown[]) => this.run(core, cfs, args);
    if (face === 'sync') return sync;
    if (face === 'promise') {
      return (...args: unknown[]) => {
        try {
          return Promise.resolve(sync(...args));
        } catch (err) {
          return Promise.reject(err);
        }
      };
    }
    return this.callbackOf(name, sync);
  }

  /** The callback face derived from a synchronous core: the result after the current operation, as Node delivers it. */
  private callbackOf(name: string, sync: Fn): Fn {
    return (...args: unknown[]) => {
      const cb = args.pop() as Fn;
      const input = name === 'read' ? readArgsOf(args) : args;
      let result: unknown;
      try {
        result = sync(...input);
      } catch (err) {
        if (name === 'exists') process.nextTick(cb, false);
        else process.nextTick(cb, err);
        return;
      }
      if (name === 'exists') process.nextTick(cb, result);
      else process.nextTick(cb, null, ...callbackResults(name, result, input));
    };
  }

  /**
   * A call with one path on each side of the root's edge. rename and link
   * cannot cross it (EXDEV, as between two file systems: callers such as
   * fs-extra's move then copy); copyFile copies, reading from the source's
   * side and writing through the destination's; cp is refused the same way
   * as rename.
   */
  private crossSync(name: string): Fn {
    return (src: unknown, dest: unknown, mode?: number) => {
      if (name !== 'copyFile') throw systemError('EXDEV', name, String(src), String(dest), 'cross-device link not permitted (one path is beneath the riocache root, the other is not)');
      const side = (p: unknown, call: string): Fn => (this.beneath.path(p) !== null ? this.cacheSide(call, 'sync') : null) ?? this.realSync(call);
      const data = side(src, 'readFile')(src);
      side(dest, 'writeFile')(dest, data, { flag: ((mode ?? 0) & fs.constants.COPYFILE_EXCL) !== 0 ? 'wx' : 'w' });
    };
  }

  private crossFace(name: string, face: Face): Fn {
    const sync = this.crossSync(name);
    if (face === 'sync') return sync;
    if (face === 'promise') {
      return (...args: unknown[]) => {
        try {
          return Promise.resolve(sync(...args));
        } catch (err) {
          return Promise.reject(err);
        }
      };
    }
    return this.callbackOf(name, sync);
  }

  /** The replacement of one module function. */
  wrap(name: string, face: Face, original: Fn): Fn {
    const shape = CALLS[name];
    const beneath = this.beneath;
    const router = this.router;
    const cache = this.cache;
    const cacheSide = this.cacheSide(name, face);
    const cross = shape === 'twoPaths' ? this.crossFace(name, face) : null;
    const needsCallback = face === 'callback';
    const wrapper = function (this: unknown, ...args: unknown[]): unknown {
      if (router.depth === 0) {
        const where = classify(shape, beneath, args);
        // Without a callback, Node's own function throws its argument error.
        if (where !== REAL && (!needsCallback || typeof args[args.length - 1] === 'function')) {
          // A path beneath the root after the cache closed (at exit) is on disk: the real fs is coherent.
          if (where === CACHE && cacheSide && !cache.closed) return cacheSide(...args);
          if (where === CROSS && cross) return cross(...args);
        }
      }
      return original.apply(this, args);
    };
    // fs.realpathSync.native, util.promisify's custom forms of exists/read/write…
    for (const key of Reflect.ownKeys(original)) {
      if (key === 'length' || key === 'name' || key === 'prototype') continue;
      const d = Object.getOwnPropertyDescriptor(original, key);
      if (d) Object.defineProperty(wrapper, key, d);
    }
    Object.defineProperty(wrapper, 'name', { value: original.name });
    return wrapper;
  }
}
