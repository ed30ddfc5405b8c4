/**
 * Sustained sequential writes over a file 4× riocache's cache (wrapping at
 * its end), of 4 KiB (the unit every contender shares: one page, one lmdb
 * value, one cache block) and of 64 KiB (bulk data): once the cache is full
 * every write needs room that write-back makes, so riocache runs at the
 * speed its write-back keeps ahead of the writer. Reported as MB/s over the
 * measured window (total bytes / total time, so stalls count), after a
 * warm-up that writes twice the cache. The floor of such a write is the copy
 * into the region, a crc32c of it and the copy out to the file
 * ('floor+crc+copy').
 */
import { lmdb } from '../contenders/lmdb';
import { mapOfBuffers, mappedFloor } from '../contenders/memory';
import { nodeFs } from '../contenders/nodefs';
import { copyCrcCopyFloor } from '../contenders/writeFloor';
import { riocache } from '../contenders/riocache';
import type { ContenderDef } from '../contenders/types';
import { KiB, MiB, type TrialDef } from './types';

const floors: ContenderDef[] = [
  mappedFloor('floor', 'TypedArray.set into a mapped region (floor)'),
  copyCrcCopyFloor('floor+crc+copy', 'copy in, crc32c, copy out (floor of a write to the file)'),
];

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
    ...floors,
  ],
};

export const sequential64k: TrialDef = {
  id: 'sequential-64k',
  title: 'Sustained sequential 64 KiB writes, 4× the cache',
  description: 'sequential pwrite of 64 KiB over a file 4× riocache\'s cache (wrapping): bulk data through a full cache',
  op: 'sequential',
  unit: 'MB/s',
  workload: (quick) => ({
    opBytes: 64 * KiB, fileBytes: quick ? 64 * MiB : 256 * MiB, cacheBytes: quick ? 16 * MiB : 64 * MiB,
    prefill: 'none', positions: 'sequential', warmupOps: quick ? 512 : 2048,
  }),
  contenders: [
    riocache('rio.sync', 'riocache cache.fs.writeSync', { api: 'sync' }),
    riocache('rio.promise', 'riocache FileHandle.write', { api: 'promise' }),
    nodeFs('fs.sync', 'fs.writeSync', { api: 'sync' }),
    nodeFs('fs.promise', 'fs.promises FileHandle.write', { api: 'promise' }),
    ...floors,
  ],
};
