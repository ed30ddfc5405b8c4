/**
 * Timing one operation with tinybench. An operation can take 70 ns (a copy
 * into mapped memory) or 2 ms (a write + fdatasync); a timer read costs
 * tens of ns, so one sample is a batch of operations sized to last about
 * `sampleNs`, timed with process.hrtime and handed to tinybench as a per-op
 * duration (`overriddenDuration`, tinybench's documented way of batching).
 *
 * Between two batches, untimed, the loop yields to the event loop once (as a
 * service does between requests), so riocache's background write-back and
 * lmdb's async commits run as they would in production; and a bounded
 * working set is restored (an append file emptied) when the next batch
 * would overflow it.
 */
import { Bench } from 'tinybench';

export interface OpLoop {
  /** Runs `n` operations (sync or async). */
  run(n: number): void | Promise<void>;
  async: boolean;
  /** Untimed, before each batch of `n`: restore the working set if needed. */
  before?(n: number): void | Promise<void>;
}

export interface MeasureOptions {
  name: string;
  /** Warm-up: at least this long and at least `warmupOps` operations, unless that takes longer than warmupCapMs. */
  warmupMs: number;
  warmupOps: number;
  warmupCapMs: number;
  /** Measured time budget (ms of timed batches) and the minimum number of samples. */
  measureMs: number;
  minSamples: number;
  /** Target duration of one batch (one sample). */
  sampleNs: number;
  /** Called once between warm-up and the measured window. */
  onMeasureStart?(): void;
}

export interface Measurement {
  /** Per-operation time of each batch, ns. */
  samplesNs: number[];
  batch: number;
  ops: number;
  /** Per-operation mean over the whole measured window (ns): total time / ops. */
  meanNs: number;
  warmupOps: number;
  /** tinybench's own summary of the samples (ns per op). */
  tinybench: { p50: number; p75: number; p99: number; mean: number; mad: number; rme: number; samples: number };
}

const BATCH_MAX = 1 << 14;
const now = () => process.hrtime.bigint();
const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

async function timed(loop: OpLoop, n: number): Promise<number> {
  if (loop.before) await loop.before(n);
  await yieldToLoop();
  const t0 = now();
  if (loop.async) await loop.run(n);
  else loop.run(n);
  return Number(now() - t0);
}

/**
 * Warms up with growing batches; returns the warm-up op count and the batch
 * size for ~sampleNs, from the median rate of the last batches (one slow
 * batch, a GC pause, must not shrink the batch to one operation).
 */
async function calibrate(loop: OpLoop, o: MeasureOptions): Promise<{ ops: number; batch: number }> {
  const started = Date.now();
  let ops = 0;
  let n = 1;
  const rates: number[] = [];
  for (;;) {
    const elapsed = Date.now() - started;
    const enough = elapsed >= o.warmupMs && (ops >= o.warmupOps || elapsed >= o.warmupCapMs);
    if (enough && rates.length >= 5) break;
    const ns = await timed(loop, n);
    ops += n;
    rates.push(ns / n);
    if (ns < o.sampleNs && n < BATCH_MAX) n = Math.min(BATCH_MAX, n * 2);
  }
  const recent = rates.slice(-5).sort((a, b) => a - b);
  const nsPerOp = Math.max(1, recent[2]);
  const batch = Math.max(1, Math.min(BATCH_MAX, Math.round(o.sampleNs / nsPerOp)));
  return { ops, batch };
}

export async function measure(loop: OpLoop, o: MeasureOptions): Promise<Measurement> {
  const warm = await calibrate(loop, o);
  const batch = warm.batch;
  o.onMeasureStart?.();
  let ops = 0;
  let totalNs = 0;
  const bench = new Bench({
    name: o.name, time: o.measureMs, iterations: o.minSamples, warmup: false, retainSamples: true, throws: true,
  });
  const record = (ns: number) => {
    ops += batch;
    totalNs += ns;
    return { overriddenDuration: ns / batch / 1e6, overriddenIterationCost: ns / 1e6 };
  };
  const before = async () => {
    if (loop.before) await loop.before(batch);
    await yieldToLoop();
  };
  // Named, so a CPU profile can keep only the samples of the measured window (bench/profile.ts).
  if (loop.async) {
    bench.add(o.name, async function measuredBatch() {
      const t0 = now();
      await loop.run(batch);
      return record(Number(now() - t0));
    }, { async: true, beforeEach: before });
  } else {
    bench.add(o.name, function measuredBatch() {
      const t0 = now();
      loop.run(batch);
      return record(Number(now() - t0));
    }, { async: false, beforeEach: before });
  }
  await bench.run();
  const task = bench.tasks[0];
  const r = task.result as unknown as {
    state: string; error?: Error;
    latency: { samples?: number[]; p50: number; p75: number; p99: number; mean: number; mad: number; rme: number; samplesCount: number };
  };
  if (r.state !== 'completed') throw r.error ?? new Error(`tinybench task ended in state ${r.state}`);
  const lat = r.latency;
  const ms = 1e6;
  return {
    samplesNs: Array.from(lat.samples ?? [], (v) => v * ms),
    batch, ops, meanNs: totalNs / Math.max(1, ops), warmupOps: warm.ops,
    tinybench: {
      p50: lat.p50 * ms, p75: lat.p75 * ms, p99: lat.p99 * ms, mean: lat.mean * ms, mad: lat.mad * ms, rme: lat.rme,
      samples: lat.samplesCount,
    },
  };
}
