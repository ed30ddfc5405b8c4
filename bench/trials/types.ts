/** What a trial module declares: its workload (identical for every contender) and its contenders. */
import type { ContenderDef } from '../contenders/types';

export type OpKind = 'write' | 'append' | 'read' | 'mix' | 'sequential';

export interface Workload {
  /** Bytes of one operation. */
  opBytes: number;
  /** Span of the file: positions fall in [0, fileBytes). */
  fileBytes: number;
  /** riocache's region size (the cache). */
  cacheBytes: number;
  prefill: 'through' | 'cold' | 'none';
  /**
   * 'random': uniform block-aligned positions (seeded);
   * 'cycle': every block once in a seeded random order, repeated (a cache
   *   smaller than the file misses every time under LRU);
   * 'sequential': consecutive, wrapping at fileBytes.
   */
  positions: 'random' | 'cycle' | 'sequential' | 'none';
  /** For 'mix': the share of reads. */
  readShare?: number;
  /** For appends: empty the file (untimed) before it would pass this many bytes. */
  resetBytes?: number;
  /**
   * riocache's cache is filled with another file's blocks first (read twice,
   * so it takes them in): the trial's reads then find it full, as a service's
   * misses do, instead of hitting the blocks it took in while it had room (a
   * scan does not evict those: src/cache/missHistory.ts).
   */
  fullCache?: boolean;
  /** Warm-up operations at least (e.g. enough to fill the cache and reach steady state). */
  warmupOps: number;
}

export interface TrialDef {
  id: string;
  title: string;
  /** One sentence: what is measured and why it is fair. */
  description: string;
  op: OpKind;
  /** 'ns/op' (latency, medians) or 'MB/s' (throughput over the measured window). */
  unit: 'ns/op' | 'MB/s';
  workload(quick: boolean): Workload;
  contenders: ContenderDef[];
}

export const KiB = 1024;
export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;
