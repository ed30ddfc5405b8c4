/**
 * The fs facade is built on top of the cache: the cache never imports it.
 * This module declares `cache.fs` on the Cache type and attaches the facade
 * to a cache that src/open.ts has just opened.
 */
import type { Cache } from '../cache/cache';
import { CacheFs } from './sync';

declare module '../cache/cache' {
  interface Cache {
    /** The node:fs API over this cache (src/fs). */
    readonly fs: CacheFs;
  }
}

export function attachFs(cache: Cache): Cache {
  Object.defineProperty(cache, 'fs', { value: new CacheFs(cache), enumerable: true, writable: false, configurable: false });
  return cache;
}
