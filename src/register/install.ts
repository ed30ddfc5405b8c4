/**
 * The process-wide install: opens this process's region (its warm reboot runs
 * here, before the application's first fs call), then replaces the functions
 * of the `node:fs` and `node:fs/promises` module objects by routing wrappers
 * (router.ts) and brings the ESM named exports in step. Only the public API
 * is patched: Node's internal bindings, and every call the cache itself makes
 * on its backing descriptors, are untouched.
 *
 * Installed at most once per process: the state lives under a key of the
 * global symbol registry, so a second copy of riocache in the same process
 * finds it and does not wrap the wrappers.
 */
import { syncBuiltinESMExports } from 'node:module';
import type { Cache } from '../cache/cache';
import { Beneath } from './beneath';
import { CALLS } from './calls';
import { readConfig, type RegisterConfig, renamed } from './config';
import { attachLifecycle } from './lifecycle';
import { takeRegion, poolPath } from './regionPool';
import { Routes } from './router';

const INSTALLED = Symbol.for('riocache.register');

export interface Installed {
  cache: Cache;
  /** The region this process owns (a member of the pool). */
  region: string;
  root: string;
  /** The module functions as they were before the install. */
  originals: { fs: Record<string, unknown>; promises: Record<string, unknown> };
}

type Fn = (...args: any[]) => any;

export function installed(): Installed | undefined {
  return (globalThis as Record<symbol, Installed | undefined>)[INSTALLED];
}

/** Installs the hook from the environment (RIOCACHE_*); returns the existing install when there is one. */
export function install(config: RegisterConfig = readConfig()): Installed {
  const existing = installed();
  if (existing) return existing;
  const report = config.verbose ? (line: string) => process.stderr.write(`riocache[${process.pid}]: ${line}\n`) : () => {};
  let taken: ReturnType<typeof takeRegion>;
  try {
    taken = takeRegion(config.options, config.poolMax);
  } catch (err) {
    throw renamed(err, config.options as unknown as Record<string, unknown>);
  }
  const { cache, index, sideRecovered } = taken;
  const region = poolPath(config.options.region, index);
  const r = cache.recovery;
  report(`region ${region}, root ${cache.root}` + (r.ran ? `: warm reboot wrote back ${r.dirtyBuffersWritten} dirty buffers (${r.bytesWritten} bytes), rolled back ${r.undo.rolledBack ? 1 : 0} write` : ''));
  for (const path of sideRecovered) report(`recovered ${path} (its owner died)`);

  // The module objects themselves (an `import * as` namespace is a copy with getters).
  const fsObj = require('node:fs') as Record<string, unknown>;
  const promises = fsObj.promises as Record<string, unknown>;
  const originals = { fs: { ...fsObj }, promises: { ...promises } };
  const realSync = (name: string) => originals.fs[`${name}Sync`] as Fn;
  const routes = new Routes(cache, new Beneath(cache.root), realSync);
  for (const name of Object.keys(CALLS)) {
    if (typeof fsObj[name] === 'function') fsObj[name] = routes.wrap(name, 'callback', fsObj[name] as Fn);
    if (typeof fsObj[`${name}Sync`] === 'function') fsObj[`${name}Sync`] = routes.wrap(name, 'sync', fsObj[`${name}Sync`] as Fn);
    if (typeof promises[name] === 'function') promises[name] = routes.wrap(name, 'promise', promises[name] as Fn);
  }
  syncBuiltinESMExports();

  const state: Installed = { cache, region, root: cache.root, originals };
  Object.defineProperty(globalThis, INSTALLED, { value: state, enumerable: false, configurable: false, writable: false });
  attachLifecycle(cache, report);
  return state;
}
