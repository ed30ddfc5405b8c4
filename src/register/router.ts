/**
 * The wrappers that replace node:fs's functions: a call whose path lies
 * beneath the root, or whose descriptor or FileHandle is the cache's, goes to
 * the cache; every other call goes to the original function with its own
 * arguments and `this`, after one check of its first (or second) argument.
 *
 * For each call the cache side is found once, at install: the same face of
 * cache.fs (`cache.fs.write`, `cache.fs.writeSync`, `cache.fs.promises.open`),
 * so every call the facade has is routed without a line here, and the
 * results, errors and atomicity are the facade's. A face cache.fs lacks
 * would go to the real fs; none of the calls of calls.ts lacks one (a test
 * checks it).
 */
import * as fs from 'node:fs';
import type { Cache } from '../cache/cache';
import { FIRST_DESCRIPTOR } from '../cache/files';
import { systemError } from '../errors';
import type { Beneath } from './beneath';
import { CALLS, type CallShape } from './calls';

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

/** The paths beneath the root that classify found, for the rewrite that follows: each is resolved once per call. */
export interface Found {
  p: string | null;
  q: string | null;
}

/** Decides where a call goes, leaving in `found` the absolute form of each path argument beneath the root. */
export function classify(shape: CallShape, beneath: Beneath, a: unknown, b: unknown, found: Found): number {
  found.p = null;
  found.q = null;
  switch (shape) {
    case 'fd':
      return isCacheDescriptor(a) ? CACHE : REAL;
    case 'pathOrFd':
    case 'path': {
      if (shape === 'pathOrFd') {
        if (typeof a === 'number') return isCacheDescriptor(a) ? CACHE : REAL;
        if (isCacheHandle(a)) return CACHE;
      }
      found.p = beneath.path(a);
      return found.p === null ? REAL : CACHE;
    }
    case 'second':
      found.q = beneath.path(b);
      return found.q === null ? REAL : CACHE;
    case 'twoPaths': {
      found.p = beneath.path(a);
      found.q = beneath.path(b);
      if (found.p === null && found.q === null) return REAL;
      return found.p !== null && found.q !== null ? CACHE : CROSS;
    }
  }
}

/** Rewrites the path arguments classify found (relative to the process's cwd) into absolute ones the cache confines to its root. */
function rewrite(args: unknown[], found: Found): void {
  if (found.p !== null) args[0] = routedPath(args[0], found.p);
  if (found.q !== null) args[1] = routedPath(args[1], found.q);
}

export class Routes {
  readonly router: Router = { depth: 0 };

  constructor(
    private readonly cache: Cache,
    private readonly beneath: Beneath,
    /** The unpatched module functions, for calls across the root's edge. */
    private readonly realSync: (name: string) => Fn,
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

  /** The cache side of one face of `name` (cache.fs's own), or null when cache.fs has no such face. */
  private cacheSide(name: string, face: Face): Fn | null {
    const cfs = this.cache.fs as unknown as Record<string, unknown> & { promises: Record<string, unknown> };
    const holder = face === 'promise' ? cfs.promises : cfs;
    const own = holder[face === 'sync' ? `${name}Sync` : name];
    if (typeof own !== 'function') return null;
    return (...args: unknown[]) => this.run(own as Fn, holder, args);
  }

  /** The callback face of a synchronous cross-root call: its result after the current operation, as Node delivers it. */
  private callbackOf(sync: Fn): Fn {
    return (...args: unknown[]) => {
      const cb = args.pop() as Fn;
      let result: unknown;
      try {
        result = sync(...args);
      } catch (err) {
        process.nextTick(cb, err);
        return;
      }
      process.nextTick(cb, null, ...(result === undefined ? [] : [result]));
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
    return this.callbackOf(sync);
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
    // No rest parameter: a call that goes to the real fs is passed on as it came (`arguments`), without an array.
    const found: Found = { p: null, q: null }; // one per wrapper: a call does not re-enter it before the rewrite
    const wrapper = function (this: unknown, a?: unknown, b?: unknown): unknown {
      if (router.depth === 0) {
        const where = classify(shape, beneath, a, b, found);
        // Without a callback, Node's own function throws its argument error.
        if (where !== REAL && (!needsCallback || typeof arguments[arguments.length - 1] === 'function')) {
          const args = Array.prototype.slice.call(arguments) as unknown[];
          rewrite(args, found);
          // A path beneath the root after the cache closed (at exit) is on disk: the real fs is coherent.
          if (where === CACHE && cacheSide && !cache.closed) return cacheSide(...args);
          if (where === CROSS && cross) return cross(...args);
        }
      }
      return original.apply(this, arguments as unknown as unknown[]);
    };
    // fs.realpathSync.native, util.promisify's custom forms of exists/read/write…
    for (const key of Reflect.ownKeys(original)) {
      if (key === 'length' || key === 'name' || key === 'prototype') continue;
      const d = Object.getOwnPropertyDescriptor(original, key);
      if (d) Object.defineProperty(wrapper, key, d);
    }
    Object.defineProperty(wrapper, 'name', { value: original.name });
    Object.defineProperty(wrapper, 'length', { value: original.length });
    return wrapper;
  }
}
