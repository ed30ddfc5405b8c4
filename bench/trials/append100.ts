/**
 * 100 B appends (the DESIGN.md append target): a log written through O_APPEND
 * (lmdb: a put at the next sequence number). The file is emptied, untimed,
 * every 32 MiB so the working set stays the same size for every contender
 * and riocache's write-back never enters the loop (the sustained trial
 * measures that).
 */
import { lmdb } from '../contenders/lmdb';
import { mapOfBuffers, mappedFloor } from '../contenders/memory';
import { nodeFs } from '../contenders/nodefs';
import { riocache } from '../contenders/riocache';
import { MiB, type TrialDef } from './types';

export const append100: TrialDef = {
  id: 'append-100b',
  title: '100 B append',
  description: 'append of 100 B to a log opened with O_APPEND (lmdb: put at the next key), emptied (untimed) at a fixed size',
  op: 'append',
  unit: 'ns/op',
  workload: (quick) => ({
    opBytes: 100, fileBytes: quick ? 4 * MiB : 32 * MiB, resetBytes: quick ? 4 * MiB : 32 * MiB,
    cacheBytes: quick ? 32 * MiB : 256 * MiB, prefill: 'none', positions: 'none', warmupOps: quick ? 5000 : 50000,
  }),
  contenders: [
    riocache('rio.sync', 'riocache cache.fs.writeSync', { api: 'sync' }),
    riocache('rio.promise', 'riocache FileHandle.write', { api: 'promise' }),
    riocache('rio.sync+fdatasync(rio)', "riocache writeSync + fdatasyncSync (fsync: 'rio')", { api: 'sync', fsync: 'rio', datasync: true }),
    riocache('rio.sync+fdatasync(disk)', "riocache writeSync + fdatasyncSync (fsync: 'disk')", { api: 'sync', fsync: 'disk', datasync: true }),
    nodeFs('fs.sync', 'fs.writeSync', { api: 'sync' }),
    nodeFs('fs.sync+fdatasync', 'fs.writeSync + fs.fdatasyncSync', { api: 'sync', datasync: true }),
    nodeFs('fs.promise', 'fs.promises FileHandle.write', { api: 'promise' }),
    lmdb('lmdb.putSync', 'lmdb putSync (default options)', { api: 'sync', flavour: 'default' }),
    lmdb('lmdb.putSync(nosync)', 'lmdb putSync (noSync, useWritemap)', { api: 'sync', flavour: 'nosync' }),
    lmdb('lmdb.put', 'lmdb await put (default options)', { api: 'async', flavour: 'default' }),
    lmdb('lmdb.put(nosync)', 'lmdb await put (noSync, useWritemap)', { api: 'async', flavour: 'nosync' }),
    mapOfBuffers('map', 'Map of Buffers (volatile)'),
    mappedFloor('floor', 'TypedArray.set into a mapped region (floor)'),
  ],
};
