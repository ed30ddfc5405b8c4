/**
 * 70/30 read/write mix of 4 KiB at random blocks of a 256 MiB file through a
 * 64 MiB cache: about three reads in four miss, and dirty buffers must be
 * written back before they can be evicted, so eviction and write-back are
 * inside the measured loop. Warm-up runs until the cache is full and dirty.
 */
import { lmdb } from '../contenders/lmdb';
import { mapOfBuffers, mappedFloor } from '../contenders/memory';
import { nodeFs } from '../contenders/nodefs';
import { riocache } from '../contenders/riocache';
import { KiB, MiB, type TrialDef } from './types';

export const mix7030: TrialDef = {
  id: 'mix-70-30',
  title: '70/30 read/write mix, working set 4× the cache',
  description: '4 KiB reads (70%) and overwrites (30%) at random blocks of a file 4× riocache\'s cache',
  op: 'mix',
  unit: 'ns/op',
  workload: (quick) => ({
    opBytes: 4 * KiB, fileBytes: quick ? 32 * MiB : 256 * MiB, cacheBytes: quick ? 8 * MiB : 64 * MiB,
    prefill: 'cold', positions: 'random', readShare: 0.7, warmupOps: quick ? 4096 : 32768,
  }),
  contenders: [
    riocache('rio.sync', 'riocache readSync / writeSync', { api: 'sync' }),
    riocache('rio.promise', 'riocache FileHandle read / write', { api: 'promise' }),
    nodeFs('fs.sync', 'fs.readSync / fs.writeSync', { api: 'sync' }),
    nodeFs('fs.promise', 'fs.promises FileHandle read / write', { api: 'promise' }),
    lmdb('lmdb.putSync', 'lmdb get / putSync (default options)', { api: 'sync', flavour: 'default' }),
    lmdb('lmdb.putSync(nosync)', 'lmdb get / putSync (noSync, useWritemap)', { api: 'sync', flavour: 'nosync' }),
    mapOfBuffers('map', 'Map of Buffers (volatile)'),
    mappedFloor('floor', 'TypedArray.set in a mapped region (floor)'),
  ],
};
