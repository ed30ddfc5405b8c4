/**
 * 4 KiB random overwrite of a cached file (the DESIGN.md write target): every
 * contender starts from the same file, flushed, and overwrites whole 4 KiB
 * blocks at the same seeded positions with the same bytes. Twice: a 64 MiB
 * file, whose random blocks are mostly not in the CPU caches, and a 4 MiB
 * one that stays hot (the conditions DESIGN.md's 0.07 µs copy was measured in).
 */
import { KiB, MiB, type TrialDef } from './types';
import { writeContenders } from './writeContenders';

export const overwrite4k: TrialDef = {
  id: 'overwrite-4k',
  title: '4 KiB random overwrite, 64 MiB file',
  description: 'pwrite of 4 KiB at a random block of a file that is already cached and clean',
  op: 'write',
  unit: 'ns/op',
  workload: (quick) => ({
    opBytes: 4 * KiB, fileBytes: quick ? 8 * MiB : 64 * MiB, cacheBytes: quick ? 32 * MiB : 256 * MiB,
    prefill: 'through', positions: 'random', warmupOps: quick ? 2000 : 20000,
  }),
  contenders: writeContenders,
};

/** The same on a 4 MiB file: the copies hit the CPU caches, so what is left is each contender's own work. */
export const overwrite4kHot: TrialDef = {
  ...overwrite4k,
  id: 'overwrite-4k-hot',
  title: '4 KiB random overwrite, 4 MiB file (hot)',
  workload: (quick) => ({ ...overwrite4k.workload(quick), fileBytes: quick ? 2 * MiB : 4 * MiB }),
  contenders: overwrite4k.contenders.filter((c) =>
    ['rio.sync', 'rio.promise', 'fs.sync', 'fs.sync+fdatasync', 'lmdb.putSync(nosync)', 'map', 'floor', 'floor+crc'].includes(c.id)),
};
