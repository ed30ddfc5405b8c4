/**
 * From per-process measurements to the reported figures: per contender the
 * median over repetitions of each process's median (and its p25/p75), the
 * range of the repetition medians, and ratios riocache/peer formed within
 * each repetition (the two ran minutes apart at most, in alternating order)
 * and then summarized by their median.
 */
import type { ContenderDef } from '../contenders/types';
import type { TrialDef, Workload } from '../trials/types';
import type { OpResult } from './protocol';
import { quantile, sortedCopy, median } from './stats';

export const QUANTILES = [0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99];

export interface ProcessSummary {
  rep: number;
  /** Position of this contender in its repetition's order. */
  order: number;
  /** ns per op: quantiles of the batch samples (QUANTILES), and the mean over the window. */
  q: number[];
  meanNs: number;
  samples: number;
  batch: number;
  ops: number;
  setupMs: number;
  /** The whole process, start to exit, as the runner saw it. */
  processMs: number;
  info: Record<string, number>;
}

export function summarizeProcess(r: OpResult, rep: number, order: number, processMs: number): ProcessSummary {
  const s = sortedCopy(r.measurement.samplesNs);
  return {
    rep, order, q: QUANTILES.map((q) => quantile(s, q)), meanNs: r.measurement.meanNs, samples: s.length,
    batch: r.measurement.batch, ops: r.measurement.ops, setupMs: r.setupMs, processMs, info: r.info,
  };
}

export interface Spread {
  median: number;
  min: number;
  max: number;
}

export interface ContenderResult {
  id: string;
  label: string;
  family: string;
  mode: string;
  runs: ProcessSummary[];
  /** The figure ratios and tables use, per op in ns: the median (latency trials) or the mean (throughput trials). */
  ns: Spread;
  p25: number;
  p75: number;
  /** Throughput trials: MB/s (1e6 bytes) over the measured window. */
  mbps?: Spread;
  /** riocache/this, time per op, per repetition then median; against the sync and the promise riocache contender. */
  ratioSync?: Spread;
  ratioPromise?: Spread;
  /** Quantiles (QUANTILES) of per-op ns, medians over repetitions: for the latency plots. */
  q: number[];
  /** Repetitions whose process failed, and the first line of the first failure. */
  failedReps: number;
  failure?: string;
}

export interface TrialResult {
  id: string;
  title: string;
  description: string;
  unit: 'ns/op' | 'MB/s';
  workload: Workload;
  contenders: ContenderResult[];
}

const P50 = QUANTILES.indexOf(0.5);
const P25 = QUANTILES.indexOf(0.25);
const P75 = QUANTILES.indexOf(0.75);

function spread(xs: number[]): Spread {
  if (xs.length === 0) return { median: NaN, min: NaN, max: NaN };
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) };
}

export function aggregateTrial(trial: TrialDef, quick: boolean, runs: Map<string, ProcessSummary[]>,
  failures: Map<string, string[]> = new Map()): TrialResult {
  const w = trial.workload(quick);
  const figure = (p: ProcessSummary) => (trial.unit === 'MB/s' ? p.meanNs : p.q[P50]);
  const ratio = (rio: ProcessSummary[] | undefined, mine: ProcessSummary[]): Spread | undefined => {
    if (!rio) return undefined;
    const byRep = new Map(rio.map((p) => [p.rep, figure(p)]));
    const xs = mine.filter((p) => byRep.has(p.rep)).map((p) => byRep.get(p.rep)! / figure(p));
    return xs.length > 0 ? spread(xs) : undefined;
  };
  const contenders = trial.contenders
    .filter((c: ContenderDef) => runs.has(c.id) || failures.has(c.id))
    .map((c: ContenderDef): ContenderResult => {
      const mine = runs.get(c.id) ?? [];
      const failed = failures.get(c.id) ?? [];
      return {
        failedReps: failed.length, failure: failed[0]?.split('\n')[0],
        id: c.id, label: c.label, family: c.family, mode: c.mode, runs: mine,
        ns: spread(mine.map(figure)),
        p25: median(mine.map((p) => p.q[P25])), p75: median(mine.map((p) => p.q[P75])),
        mbps: trial.unit === 'MB/s' ? spread(mine.map((p) => (w.opBytes / p.meanNs) * 1e3)) : undefined,
        ratioSync: ratio(runs.get('rio.sync'), mine),
        ratioPromise: ratio(runs.get('rio.promise'), mine),
        q: QUANTILES.map((_, i) => median(mine.map((p) => p.q[i]))),
      };
    });
  return { id: trial.id, title: trial.title, description: trial.description, unit: trial.unit, workload: w, contenders };
}
