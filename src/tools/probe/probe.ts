/**
 * probe(): validate the options, set up the target, sweep, and shape the
 * result (one JSON-ready object). The target's scratch files are removed
 * whatever happens.
 */
import type { Calibration } from './measure';
import { median } from './stats';
import { type ProbeOptions, type Settings, validateProbeOptions } from './options';
import { OsTarget } from './osTarget';
import { RiocacheTarget } from './riocacheTarget';
import { type Phase, runSweep, type SweepOutcome, type SweepProgress } from './sweep';
import type { ProbeTarget, TargetFacts, TargetKind } from './target';

export interface ProbePoint {
  /** p in blocks and in bytes. */
  blocks: number;
  bytes: number;
  /** Median over samples of each sample's median per-block re-read time (ns): the curve the knee is read from. */
  perBlockNs: number;
  /** Median over samples of each sample's mean per-block time (ns). */
  meanNs: number;
  /** Median over samples of the first block's re-read time (ns). */
  firstNs: number;
  /** Median time of the untimed fill pass (ms). */
  fillMs: number;
  samples: number;
  perBlockSamplesNs: number[];
  firstSamplesNs: number[];
  /** The knee estimator's verdict; side is null when no step was found. */
  side: 'fast' | 'slow' | null;
  sure: boolean;
  outlier: boolean;
  phase: Phase;
}

export interface ProbeResult extends TargetFacts {
  target: TargetKind;
  found: boolean;
  /** Why no knee was found; null when found. */
  reason: string | null;
  /** The estimated cache size and its bracket [low, high] (bytes); null when not found. */
  estimateBytes: number | null;
  lowBytes: number | null;
  highBytes: number | null;
  /** Half the bracket: the estimate is within this of every size the data allows. */
  uncertaintyBytes: number | null;
  /** riocache: estimateBytes / capacityBytes - 1. os in a limited cgroup: estimateBytes / limitBytes - 1. */
  errorRatio: number | null;
  blockSize: number;
  settings: {
    minBytes: number; maxBytes: number; scale: 'geometric' | 'linear'; step: number; passes: number; passesMax: number;
    sampleBlocks: number; resolution: number; minRatio: number;
  };
  calibration: Calibration;
  levels: { fastNs: number | null; slowNs: number | null; thresholdNs: number | null; ratio: number | null };
  /** Every step of at least minRatio in the curve (the knee is one): last p below, first p above, ratio. */
  steps: Array<{ belowBytes: number; aboveBytes: number; ratio: number }>;
  points: ProbePoint[];
  stoppedEarly: boolean;
  notes: string[];
  durationMs: number;
}

export interface ProbeProgress extends Omit<SweepProgress, 'phase'> {
  /** 'create': writing the os target's file (done/total in bytes). */
  phase: 'create' | SweepProgress['phase'];
}

function openTarget(s: Settings, onProgress?: (p: ProbeProgress) => void): ProbeTarget {
  const fileBlocks = s.maxBlocks + s.sampleBlocks;
  if (s.target === 'riocache') return new RiocacheTarget(s, fileBlocks);
  return new OsTarget(s, fileBlocks, (done, total) => onProgress?.({ phase: 'create', done, total, blocks: 0, blockBytes: s.blockBytes, low: null, high: null }));
}

/** Sanity checks of the step found against the calibration (several cache levels, read-ahead). */
function levelNotes(outcome: SweepOutcome, s: Settings): string[] {
  const { knee, calibration: c } = outcome;
  const notes: string[] = [];
  if (!knee.found) return notes;
  if (knee.slowNs! < c.missNs / 2) {
    notes.push(`the slow level (${knee.slowNs!.toFixed(0)} ns) is far below a calibrated miss (${c.missNs.toFixed(0)} ns): ` +
      'the step found may be another cache level, or read-ahead may be turning misses into hits');
  }
  if (knee.fastNs! > 2 * c.hitNs) {
    notes.push(`the fast level (${knee.fastNs!.toFixed(0)} ns) is far above a hit at the smallest p (${c.hitNs.toFixed(0)} ns): ` +
      'a faster cache level (CPU caches, or a smaller cache in front) may end inside the range');
  }
  if (s.os?.readahead) notes.push('read-ahead was left on: a miss brings in a window of blocks, so the re-read of the following blocks hits');
  return notes;
}

function shapePoints(outcome: SweepOutcome, blockBytes: number): ProbePoint[] {
  const verdicts = new Map(outcome.knee.points.map((p) => [p.blocks, p]));
  return outcome.points.map((p) => {
    const v = verdicts.get(p.blocks);
    const perBlock = p.samples.map((x) => x.perBlockNs);
    const first = p.samples.map((x) => x.firstNs);
    return {
      blocks: p.blocks, bytes: p.blocks * blockBytes, perBlockNs: median(perBlock), meanNs: median(p.samples.map((x) => x.meanNs)),
      firstNs: median(first), fillMs: median(p.samples.map((x) => x.fillMs)), samples: p.samples.length,
      perBlockSamplesNs: perBlock, firstSamplesNs: first, side: v?.side ?? null, sure: v?.sure ?? false, outlier: v?.outlier ?? false,
      phase: p.phase,
    };
  });
}

/** Measures the size of a cache by timing LRU re-reads (docs/probe.md). */
export async function probe(options: ProbeOptions, onProgress?: (p: ProbeProgress) => void): Promise<ProbeResult> {
  const s = validateProbeOptions(options);
  const started = performance.now();
  const target = openTarget(s, onProgress);
  let outcome: SweepOutcome;
  let facts: TargetFacts;
  try {
    outcome = await runSweep(target, s, onProgress);
    facts = target.facts();
  } finally {
    target.close();
  }
  const bs = s.blockBytes;
  const k = outcome.knee;
  const bytes = (blocks: number | null) => (blocks === null ? null : blocks * bs);
  const estimateBytes = bytes(k.estimate);
  const truth = facts.capacityBytes ?? facts.cgroup?.limitBytes ?? null;
  return {
    target: s.target,
    found: k.found,
    reason: k.reason,
    estimateBytes,
    lowBytes: bytes(k.low),
    highBytes: bytes(k.high),
    uncertaintyBytes: k.found ? ((k.high! - k.low!) * bs) / 2 : null,
    errorRatio: estimateBytes !== null && truth ? estimateBytes / truth - 1 : null,
    ...facts,
    blockSize: bs,
    settings: {
      minBytes: s.minBlocks * bs, maxBytes: s.maxBlocks * bs, scale: s.scale, step: s.scale === 'linear' ? s.step * bs : s.step,
      passes: s.passes, passesMax: s.passesMax, sampleBlocks: s.sampleBlocks, resolution: s.resolution, minRatio: s.minRatio,
    },
    calibration: outcome.calibration,
    levels: { fastNs: k.fastNs, slowNs: k.slowNs, thresholdNs: k.thresholdNs, ratio: k.ratio },
    steps: k.steps.map(([below, above, ratio]) => ({ belowBytes: below * bs, aboveBytes: above * bs, ratio })),
    points: shapePoints(outcome, bs),
    stoppedEarly: outcome.stoppedEarly,
    notes: [...outcome.notes, ...levelNotes(outcome, s)],
    durationMs: performance.now() - started,
  };
}
