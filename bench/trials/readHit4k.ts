/**
 * 4 KiB read hit (the DESIGN.md read target): random 4 KiB reads of a file
 * that every contender holds in memory (riocache: its region; fs: the page
 * cache; lmdb: its map). Twice, as for overwrites: a 64 MiB file and a hot
 * 4 MiB one.
 */
import { lmdb } from '../contenders/lmdb';
import { mapOfBuffers, mappedFloor } from '../contenders/memory';
import { nodeFs } from '../contenders/nodefs';
import { riocache } from '../contenders/riocache';
import { KiB, MiB, type TrialDef } from './types';

export const readHit4k: TrialDef = {
  id: 'read-hit-4k',
  title: '4 KiB read hit, 64 MiB file',
  description: 'pread of 4 KiB at a random block of a file every contender holds in memory',
  op: 'read',
  unit: 'ns/op',
  workload: (quick) => ({
    opBytes: 4 * KiB, fileBytes: quick ? 8 * MiB : 64 * MiB, cacheBytes: quick ? 32 * MiB : 256 * MiB,
    prefill: 'through', positions: 'random', warmupOps: quick ? 2000 : 20000,
  }),
  contenders: [
    riocache('rio.sync', 'riocache cache.fs.readSync', { api: 'sync' }),
    riocache('rio.promise', 'riocache FileHandle.read', { api: 'promise' }),
    nodeFs('fs.sync', 'fs.readSync', { api: 'sync' }),
    nodeFs('fs.promise', 'fs.promises FileHandle.read', { api: 'promise' }),
    lmdb('lmdb.get', 'lmdb getBinaryFast + copy', { api: 'sync', flavour: 'nosync' }),
    mapOfBuffers('map', 'Map of Buffers (volatile)'),
    mappedFloor('floor', 'TypedArray.set from a mapped region (floor)'),
  ],
};

export const readHit4kHot: TrialDef = {
  ...readHit4k,
  id: 'read-hit-4k-hot',
  title: '4 KiB read hit, 4 MiB file (hot)',
  workload: (quick) => ({ ...readHit4k.workload(quick), fileBytes: quick ? 2 * MiB : 4 * MiB }),
  contenders: readHit4k.contenders.filter((c) => c.id !== 'fs.promise'),
};
