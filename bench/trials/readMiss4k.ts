/**
 * 4 KiB read miss: riocache's cache (64 MiB) is a quarter of the file
 * (256 MiB), full of another file's blocks before the first read, and the
 * reads visit every block once in a seeded random order, over and over, so
 * every read misses: a block read once a cycle goes around the cache (it is
 * not worth an eviction: src/cache/missHistory.ts). The file is in the OS
 * page cache for every contender, so a miss costs riocache a pread plus its
 * bookkeeping; fs.readSync is that pread alone. lmdb, the Map and the floor
 * have no miss to compare (they hold everything in memory).
 */
import { nodeFs } from '../contenders/nodefs';
import { riocache } from '../contenders/riocache';
import { KiB, MiB, type TrialDef } from './types';

export const readMiss4k: TrialDef = {
  id: 'read-miss-4k',
  title: '4 KiB read miss',
  description: 'pread of 4 KiB, every block of a file 4× the cache once per cycle in a random order, riocache\'s cache full of other blocks, so it always misses',
  op: 'read',
  unit: 'ns/op',
  workload: (quick) => ({
    opBytes: 4 * KiB, fileBytes: quick ? 32 * MiB : 256 * MiB, cacheBytes: quick ? 8 * MiB : 64 * MiB,
    prefill: 'cold', positions: 'cycle', fullCache: true, warmupOps: quick ? 4096 : 16384,
  }),
  contenders: [
    riocache('rio.sync', 'riocache cache.fs.readSync', { api: 'sync' }),
    riocache('rio.promise', 'riocache FileHandle.read', { api: 'promise' }),
    nodeFs('fs.sync', 'fs.readSync', { api: 'sync' }),
    nodeFs('fs.promise', 'fs.promises FileHandle.read', { api: 'promise' }),
  ],
};
