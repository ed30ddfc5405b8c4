/**
 * Opening a cache: the region and its warm reboot (src/cache/open.ts), then
 * the fs facade on top (src/fs). The one entry point of the library form.
 */
import type { Cache } from './cache/cache';
import { type CacheOptions, openCacheCore } from './cache/open';
import { attachFs } from './fs/attach';

export type { CacheOptions };

/**
 * Opens (or creates) the region, taking its lock (G8). A region whose header
 * says "open" while its lock was free lost its owner: the warm reboot runs
 * before anything else.
 */
export function openCacheSync(options: CacheOptions): Cache {
  return attachFs(openCacheCore(options, true));
}

/**
 * @internal openCacheSync for a region that must exist (`riocache recover`):
 * a missing region file is ENOENT naming it, and nothing is created.
 */
export function openExistingCacheSync(options: CacheOptions): Cache {
  return attachFs(openCacheCore(options, false));
}

/** The promise form of openCacheSync (the warm reboot itself runs synchronously, before any other I/O). */
export async function openCache(options: CacheOptions): Promise<Cache> {
  return openCacheSync(options);
}
