/**
 * One region per process, from a pool derived from RIOCACHE_REGION: the
 * region itself, then `<region>.1`, `<region>.2`, … A cluster starts N
 * workers with the same configuration; each takes the first region whose
 * lock is free (G8: REGION_LOCKED while another live process owns it). A
 * worker restarted after a crash therefore finds the lock its dead
 * predecessor held dropped by the kernel, takes that region and performs its
 * warm reboot.
 *
 * After taking its own, a process also opens every other existing region of
 * the pool whose lock is free and whose owner died (fewer workers restarted
 * than died): the open runs that region's warm reboot, so its dirty data
 * reaches the files before this process reads them, and the close marks it
 * clean. No acknowledged write waits in an unowned region for a worker that
 * never comes back.
 */
import * as fs from 'node:fs';
import type { Cache } from '../cache/cache';
import type { CacheOptions } from '../cache/open';
import { RioError } from '../errors';
import { openCacheSync } from '../open';
import { chooseHeader } from '../region/header';

/** The shutdown state a region's header records, read without taking its lock (null: unreadable). */
function recordedShutdown(path: string): 'clean' | 'open' | null {
  let fd = -1;
  try {
    fd = fs.openSync(path, 'r');
    const first = Buffer.alloc(8192);
    fs.readSync(fd, first, 0, first.length, 0);
    return chooseHeader(first, path).header.shutdown;
  } catch {
    return null;
  } finally {
    if (fd >= 0) fs.closeSync(fd);
  }
}

export function poolPath(region: string, index: number): string {
  return index === 0 ? region : `${region}.${index}`;
}

export interface Taken {
  cache: Cache;
  index: number;
  /** Regions of the pool left by a dead owner and recovered on the side (path, buffers written back). */
  sideRecovered: string[];
}

function isLocked(err: unknown): boolean {
  return (err as RioError)?.code === 'REGION_LOCKED';
}

/** Opens the first free region of the pool (creating it when missing), then recovers orphaned ones. */
export function takeRegion(options: CacheOptions, poolMax: number): Taken {
  let taken: { cache: Cache; index: number } | null = null;
  for (let i = 0; i < poolMax && taken === null; i++) {
    try {
      taken = { cache: openCacheSync({ ...options, region: poolPath(options.region, i) }), index: i };
    } catch (err) {
      if (!isLocked(err)) throw err;
    }
  }
  if (taken === null) {
    throw new RioError('REGION_LOCKED', `REGION_LOCKED: all ${poolMax} regions of the pool ${options.region}, ` +
      `${poolPath(options.region, 1)}, … are owned by live processes. Raise RIOCACHE_POOL_MAX or run fewer processes.`);
  }
  return { ...taken, sideRecovered: recoverOrphans(options, poolMax, taken.index) };
}

function recoverOrphans(options: CacheOptions, poolMax: number, own: number): string[] {
  const recovered: string[] = [];
  for (let i = 0; i < poolMax; i++) {
    if (i === own) continue;
    const path = poolPath(options.region, i);
    if (!fs.existsSync(path)) {
      if (i > own) break; // regions are created in order: none lies past the first gap after ours
      continue;
    }
    // A clean region has nothing to recover: leave its lock alone (a worker starting now may want it).
    if (recordedShutdown(path) === 'clean') continue;
    let side: Cache;
    try {
      side = openCacheSync({ ...options, region: path });
    } catch (err) {
      if (isLocked(err)) continue;
      throw err;
    }
    if (side.recovery.ran) recovered.push(path);
    side.closeSync();
  }
  return recovered;
}
