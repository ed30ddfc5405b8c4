/**
 * Sustained sequential writes of 4 KiB over a file 4× riocache's cache
 * (wrapping at its end): once the cache is full of dirty data every write
 * waits for write-back (writev + fdatasync), so riocache runs at the speed
 * the disk absorbs synced data. Reported as MB/s over the measured window
 * (total bytes / total time, so stalls count), after a warm-up that writes
 * twice the cache.
 *
 * 4 KiB writes, the unit every contender shares (one page, one lmdb
 * value, one cache block).
 */
import { lmdb } from '../contenders/lmdb';
import { mapOfBuffers, mappedFloor } from '../contenders/memory';
import { nodeFs } from '../contenders/nodefs';
import { riocache } from '../contenders/riocache';
import { KiB, MiB, type TrialDef } from './types';

export const sequential: TrialDef = {
  id: 'sequential-4k',
  title: 'Sustained sequential 4 KiB writes, 4× the cache',
  description: 'sequential pwrite of 4 KiB over a file 4× riocache\'s cache (wrapping), so write-back bounds it',
  op: 'sequential',
  unit: 'MB/s',
  workload: (quick) => ({
    opBytes: 4 * KiB, fileBytes: quick ? 64 * MiB : 256 * MiB, cacheBytes: quick ? 16 * MiB : 64 * MiB,
    prefill: 'none', positions: 'sequential', warmupOps: quick ? 8192 : 32768,
  }),
  contenders: [
    riocache('rio.sync', 'riocache cache.fs.writeSync', { api: 'sync' }),
    riocache('rio.promise', 'riocache FileHandle.write', { api: 'promise' }),
    nodeFs('fs.sync', 'fs.writeSync', { api: 'sync' }),
    nodeFs('fs.sync+fdatasync', 'fs.writeSync + fs.fdatasyncSync', { api: 'sync', datasync: true }),
    nodeFs('fs.promise', 'fs.promises FileHandle.write', { api: 'promise' }),
    lmdb('lmdb.putSync(nosync)', 'lmdb putSync (noSync, useWritemap)', { api: 'sync', flavour: 'nosync' }),
    mapOfBuffers('map', 'Map of Buffers (volatile)'),
    mappedFloor('floor', 'TypedArray.set into a mapped region (floor)'),
  ],
};
