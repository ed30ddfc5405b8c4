/**
 * The fresh-process entry of the benchmarks: runs one job (one contender of
 * one trial, or one step of a recovery trial) and sends one reply to the
 * runner (over IPC; or on stdout when run by hand: `node dist/bench/worker.js '<job JSON>'`).
 */
import type { Job, OpJob, OpResult, Reply } from './lib/protocol';
import { measure } from './lib/measure';
import { inputsFor, makeLoop } from './lib/loops';
import { patternBytes } from './lib/rng';
import { makeScratch } from './lib/scratch';
import { recordAt } from './contenders/types';
import { buildDirty, timeOpen } from './trials/recovery';
import { trialById } from './trials';

async function runOp(job: OpJob): Promise<OpResult> {
  const trial = trialById(job.trial);
  const contender = trial.contenders.find((c) => c.id === job.contender);
  if (!contender) throw new Error(`trial ${trial.id} has no contender "${job.contender}"`);
  const w = trial.workload(job.quick);
  const scratch = makeScratch(job.scratchTag);
  try {
    const t0 = Date.now();
    const pattern = patternBytes(job.seed, 4096);
    const target = await contender.open({
      scratch, fileBytes: w.fileBytes, prefill: w.prefill, recordBytes: w.opBytes, cacheBytes: w.cacheBytes,
      append: trial.op === 'append', pattern, fullCache: w.fullCache,
    });
    const inputs = inputsFor(w, job.seed);
    const loop = makeLoop(trial, w, target, contender.mode === 'async', inputs);
    const setupMs = Date.now() - t0;
    let before: Record<string, number> = {};
    const measurement = await measure(loop, {
      name: `${trial.id} ${contender.id}`, warmupMs: job.warmupMs, warmupOps: w.warmupOps, warmupCapMs: job.warmupCapMs, measureMs: job.measureMs,
      minSamples: job.minSamples, sampleNs: job.sampleNs, onMeasureStart: () => (before = target.info()),
    });
    const info = windowInfo(before, target.info());
    info.checked = await check(trial.op, target, loop.last(), inputs.src, pattern, w.opBytes);
    await target.close();
    return { kind: 'op', trial: trial.id, contender: contender.id, measurement, setupMs, info };
  } finally {
    scratch.cleanup();
  }
}

/** Counters over the measured window (dirtyBytes is a level: its value at the end), and the hit ratio. */
function windowInfo(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) out[k] = k === 'dirtyBytes' ? v : v - (before[k] ?? 0);
  if ('hits' in out) out.hitRatio = out.hits + out.misses === 0 ? NaN : out.hits / (out.hits + out.misses);
  return out;
}

/**
 * After the run, the contender must hold what the loop wrote (or have read
 * what the file holds): a benchmark of a broken path measures nothing.
 * Returns 1 when checked, 0 when there was nothing to check; throws on a mismatch.
 */
async function check(op: string, target: import('./contenders/types').Target, last: number, src: Buffer, pattern: Buffer,
  opBytes: number): Promise<number> {
  if (last < 0 || op === 'append') return 0;
  const got = Buffer.alloc(opBytes);
  await target.read(got, last);
  const want = op === 'read' ? recordAt(pattern, last, opBytes) : src;
  if (!got.equals(want)) throw new Error(`after the run, ${opBytes} bytes at ${last} are not what the loop ${op === 'read' ? 'read' : 'wrote'}`);
  return 1;
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '{}') as Job;
  let reply: Reply;
  try {
    if (job.kind === 'op') reply = await runOp(job);
    else if (job.kind === 'build-dirty') reply = await buildDirty(job);
    else if (job.kind === 'open') reply = timeOpen(job);
    else throw new Error(`unknown job ${JSON.stringify(job)}`);
  } catch (err) {
    const e = err as Error;
    reply = { kind: 'error', message: e.message, stack: e.stack };
  }
  if (!process.send) {
    // Run by hand or under a profiler: the reply goes to stdout.
    process.stdout.write(`${JSON.stringify(reply)}\n`, () => process.exit(reply.kind === 'error' ? 1 : 0));
    return;
  }
  if (reply.kind === 'build-dirty') {
    // Stay alive, owning the region, until the runner kills us (the crash).
    process.send(reply);
    setInterval(() => {}, 1 << 30);
    return;
  }
  process.send(reply, () => process.exit(reply.kind === 'error' ? 1 : 0));
}

void main();
