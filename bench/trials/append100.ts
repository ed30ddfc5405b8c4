/**
 * 100 B appends (the DESIGN.md append target): a log written through O_APPEND
 * (lmdb: a put at the next sequence number). The file is emptied, untimed,
 * every 32 MiB so the working set stays the same size for every contender
 * and riocache's write-back never enters the loop (the sustained trial
 * measures that).
 */
import { MiB, type TrialDef } from './types';
import { writeContenders } from './writeContenders';

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
  contenders: writeContenders,
};
