/**
 * 4 KiB random overwrites of a file 4× riocache's cache (256 MiB file,
 * 64 MiB region): about three writes in four find their block uncached and
 * the cache full of dirty and clean buffers, so eviction, write-back and
 * riocache's choice between taking a buffer and writing around the cache are
 * inside the measured loop. The file starts cold (written by fs, riocache
 * empty); the warm-up writes enough to fill the cache.
 */
import { mappedFloor } from '../contenders/memory';
import { nodeFs } from '../contenders/nodefs';
import { copyCrcCopyFloor } from '../contenders/writeFloor';
import { riocache } from '../contenders/riocache';
import { KiB, MiB, type TrialDef } from './types';

export const writeMiss4k: TrialDef = {
  id: 'write-miss-4k',
  title: '4 KiB random overwrite, working set 4× the cache',
  description: 'pwrite of 4 KiB at random blocks of a file 4× riocache\'s cache',
  op: 'write',
  unit: 'ns/op',
  workload: (quick) => ({
    opBytes: 4 * KiB, fileBytes: quick ? 32 * MiB : 256 * MiB, cacheBytes: quick ? 8 * MiB : 64 * MiB,
    prefill: 'cold', positions: 'random', warmupOps: quick ? 4096 : 32768,
  }),
  contenders: [
    riocache('rio.sync', 'riocache cache.fs.writeSync', { api: 'sync' }),
    riocache('rio.promise', 'riocache FileHandle.write', { api: 'promise' }),
    nodeFs('fs.sync', 'fs.writeSync', { api: 'sync' }),
    nodeFs('fs.promise', 'fs.promises FileHandle.write', { api: 'promise' }),
    mappedFloor('floor', 'TypedArray.set into a mapped region (floor)'),
    copyCrcCopyFloor('floor+crc+copy', 'copy in, crc32c, copy out (floor of a write to the file)'),
  ],
};
