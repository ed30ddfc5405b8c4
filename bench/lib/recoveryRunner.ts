/**
 * The runner's side of the recovery trials (the worker side is
 * trials/recovery.ts): build a crashed region in one process, kill it, time
 * the warm reboot in another; create and reopen clean regions. One point's
 * region and files are removed before the next point starts, so at most one
 * region (≤ 2.5 GiB, sparse) exists at a time.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { recoveryPlan, type RecoveryPlan } from '../trials/recovery';
import { LINEAR_R2_MIN, REGION_SHARE_MAX } from '../targets';
import { functionTimes, readProfile, selfMsOf, summarizeProfile } from './cpuprofile';
import type { BuildResult, OpenResult } from './protocol';
import { makeScratch } from './scratch';
import { runWorker, startWorker } from './spawn';
import { median } from './stats';

const GiB = 1024 ** 3;

export interface RecoveryRun {
  rep: number;
  filesOn: FilesOn;
  dirtyBytes: number;
  regionBytes: number;
  buildMs: number;
  durationMs: number;
  wallMs: number;
  bytesWritten: number;
  dirtyBuffersFound: number;
  /** From the CPU profile of the recovering process, when profiled. */
  profile?: { sampledMs: number; verifyMs: number; pwriteMs: number; fdatasyncMs: number; summary: string };
}

export type FilesOn = 'disk' | 'tmpfs';

export interface RecoveryPoint {
  dirtyBytes: number;
  regionBytes: number;
  filesOn: FilesOn;
  runs: RecoveryRun[];
  medianMs: number;
  medianWallMs: number;
  /** bytes written / recovery duration, GB/s (1e9). */
  gbps: number;
}

export interface CleanPoint {
  regionBytes: number;
  wallMs: number[];
  medianMs: number;
}

export interface RecoveryResults {
  plan: RecoveryPlan;
  /** Files on the disk: the whole warm reboot as a service sees it. */
  diskDirty: RecoveryPoint[];
  /** Files in tmpfs: riocache's own work. */
  shmDirty: RecoveryPoint[];
  region: RecoveryPoint[];
  clean: CleanPoint[];
  /** Least squares of the median recovery ms against dirty GiB, per series. */
  diskFit: Fit;
  fit: Fit;
  /** Extra ms per GiB of region (least squares over the medians): at fixed dirty bytes (recovery) and for a clean open. */
  regionSlopeMsPerGiB: number;
  cleanSlopeMsPerGiB: number;
  /**
   * Verification rate from the profiles: bytes verified / self time of the
   * crc32c calls under recoverRegion, per profiled run; the median and range.
   */
  verify: {
    bytes: number; verifyMs: number; gbps: number; gbpsMin: number; gbpsMax: number; runs: number;
    pwriteMs: number; fdatasyncMs: number; sampledMs: number;
  };
  linear: { met: boolean; why: string };
  cleanOpenProfile: string;
  recoveryProfile: string;
}

export interface Fit {
  slopeMsPerGiB: number;
  interceptMs: number;
  r2: number;
}

export interface RecoveryOptions {
  quick: boolean;
  reps?: number;
  seed: number;
  scratchTag: string;
  onStep?: (label: string) => void;
}

const PROFILE_INTERVAL_US = 500;

function newestProfile(dir: string): string {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  if (files.length === 0) throw new Error(`no .cpuprofile in ${dir}`);
  return join(dir, files.sort().pop()!);
}

async function recoveryRun(o: RecoveryOptions, rep: number, regionBytes: number, dirtyBytes: number, files: number,
  filesOn: FilesOn, profile: boolean): Promise<RecoveryRun> {
  const s = makeScratch(`${o.scratchTag}rec`);
  try {
    const region = join(s.shm, 'bench.rio');
    const root = join(filesOn === 'disk' ? s.disk : s.shm, 'root');
    const builder = startWorker({ kind: 'build-dirty', region, root, regionBytes, dirtyBytes, files, seed: o.seed },
      { timeoutMs: 300_000 });
    const built = (await builder.reply) as BuildResult;
    builder.child.kill('SIGKILL'); // the crash
    const { signal } = await builder.exited;
    if (signal !== 'SIGKILL') throw new Error(`the dirty builder ended with ${signal}, not SIGKILL`);
    const profDir = join(s.disk, 'prof');
    const execArgv = profile ? ['--cpu-prof', '--cpu-prof-dir', profDir, '--cpu-prof-interval', String(PROFILE_INTERVAL_US)] : [];
    const opened = (await runWorker({ kind: 'open', region, root }, { execArgv, timeoutMs: 600_000 })) as OpenResult;
    if (!opened.recovery.ran) throw new Error('the region was not recovered: the crash did not leave it open');
    if (opened.recovery.dirtyBuffersWritten !== opened.recovery.dirtyBuffersFound || opened.recovery.problems !== 0) {
      throw new Error(`recovery wrote ${opened.recovery.dirtyBuffersWritten} of ${opened.recovery.dirtyBuffersFound} dirty buffers ` +
        `with ${opened.recovery.problems} problems`);
    }
    const run: RecoveryRun = {
      rep, filesOn, dirtyBytes: built.dirtyBytes, regionBytes, buildMs: built.writeMs, durationMs: opened.recovery.durationMs,
      wallMs: opened.wallMs, bytesWritten: opened.recovery.bytesWritten, dirtyBuffersFound: opened.recovery.dirtyBuffersFound,
    };
    if (profile) {
      const t = functionTimes(readProfile(newestProfile(profDir)), 'recoverRegion');
      run.profile = {
        sampledMs: t.totalMs,
        // The batched check (RegionFile.verify: the native pass over the region file; Registry.verify and
        // RegionMemory.verifyMany through the mapping where the file could not be read) and any single checksum.
        verifyMs: selfMsOf(t, 'verify', 'recovery/regionFile') + selfMsOf(t, 'verify', 'cache/registry') +
          selfMsOf(t, 'verifyMany', 'region/primitives') + selfMsOf(t, 'crc', 'region/primitives') + selfMsOf(t, 'compute', 'cache/registry'),
        // Recovery writes runs of buffers by RegionFile.copy (a read of the region file and a pwrite, natively).
        pwriteMs: selfMsOf(t, 'copy', 'recovery/regionFile') + selfMsOf(t, 'writeBuffers') + selfMsOf(t, 'writeAll') +
          selfMsOf(t, 'writevSync', 'node:fs') + selfMsOf(t, 'writeSync', 'node:fs'),
        fdatasyncMs: selfMsOf(t, 'fdatasync'),
        summary: summarizeProfile(t, 12),
      };
    }
    return run;
  } finally {
    s.cleanup();
  }
}

async function cleanOpen(o: RecoveryOptions, regionBytes: number, profile: boolean): Promise<{ ms: number; profile?: string }> {
  const s = makeScratch(`${o.scratchTag}clean`);
  try {
    const region = join(s.shm, 'bench.rio');
    const root = join(s.disk, 'root');
    await runWorker({ kind: 'open', region, root, create: regionBytes }, { timeoutMs: 120_000 });
    const profDir = join(s.disk, 'prof');
    const execArgv = profile ? ['--cpu-prof', '--cpu-prof-dir', profDir, '--cpu-prof-interval', '100'] : [];
    const opened = (await runWorker({ kind: 'open', region, root }, { execArgv, timeoutMs: 120_000 })) as OpenResult;
    if (opened.recovery.ran) throw new Error('a cleanly closed region was recovered');
    return {
      ms: opened.wallMs,
      profile: profile ? summarizeProfile(functionTimes(readProfile(newestProfile(profDir)), 'openCacheSync'), 12) : undefined,
    };
  } finally {
    s.cleanup();
  }
}

function point(runs: RecoveryRun[]): RecoveryPoint {
  const gbps = median(runs.map((r) => r.bytesWritten / (r.durationMs / 1000) / 1e9));
  return {
    dirtyBytes: runs[0].dirtyBytes, regionBytes: runs[0].regionBytes, filesOn: runs[0].filesOn, runs,
    medianMs: median(runs.map((r) => r.durationMs)), medianWallMs: median(runs.map((r) => r.wallMs)), gbps,
  };
}

function leastSquares(xs: number[], ys: number[]): { slope: number; intercept: number; r2: number } {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
    syy += (ys[i] - my) ** 2;
  }
  const slope = sxx === 0 ? 0 : sxy / sxx;
  return { slope, intercept: my - slope * mx, r2: syy === 0 ? 1 : (sxy * sxy) / (sxx * syy) };
}

/** Least squares over the medians (one noisy repetition on a shared machine must not decide linearity). */
function fitOf(points: RecoveryPoint[]): Fit {
  const f = leastSquares(points.map((p) => p.dirtyBytes / GiB), points.map((p) => p.medianMs));
  return { slopeMsPerGiB: f.slope, interceptMs: f.intercept, r2: f.r2 };
}

export async function runRecovery(o: RecoveryOptions): Promise<RecoveryResults> {
  const plan = recoveryPlan(o.quick);
  const reps = o.reps ?? plan.reps;
  const step = o.onStep ?? (() => {});
  const runs = new Map<string, RecoveryRun[]>();
  const add = (key: string, r: RecoveryRun) => runs.set(key, [...(runs.get(key) ?? []), r]);
  const cleanRuns = new Map<number, number[]>();
  let cleanOpenProfile = '';
  const mib = (b: number) => `${b / 2 ** 20} MiB`;
  for (let rep = 0; rep < reps; rep++) {
    // Alternate the order of sizes between repetitions, so drift in the machine does not line up with size.
    const order = <T>(xs: T[]) => (rep % 2 === 0 ? xs : [...xs].reverse());
    const tag = `(rep ${rep + 1}/${reps})`;
    for (const d of order(plan.diskDirtySizes)) {
      step(`recovery: ${mib(d)} dirty, files on the disk ${tag}`);
      add(`disk:${d}`, await recoveryRun(o, rep, plan.dirtyRegionBytes, d, plan.files, 'disk', rep === 0));
    }
    for (const d of order(plan.shmDirtySizes)) {
      step(`recovery: ${mib(d)} dirty, files in tmpfs ${tag}`);
      add(`shm:${d}`, await recoveryRun(o, rep, plan.dirtyRegionBytes, d, plan.files, 'tmpfs', rep === 0));
    }
    for (const size of order(plan.regionSizes)) {
      step(`recovery: ${mib(plan.fixedDirtyBytes)} dirty in a ${mib(size)} region ${tag}`);
      add(`region:${size}`, await recoveryRun(o, rep, size, plan.fixedDirtyBytes, plan.files, 'tmpfs', false));
    }
    for (const size of order(plan.cleanSizes)) {
      step(`clean open: ${mib(size)} region ${tag}`);
      // The profiled open is an extra one, so no timed open runs under the profiler.
      const c = await cleanOpen(o, size, false);
      cleanRuns.set(size, [...(cleanRuns.get(size) ?? []), c.ms]);
      const largest = size === plan.cleanSizes[plan.cleanSizes.length - 1];
      if (rep === 0 && largest) cleanOpenProfile = (await cleanOpen(o, size, true)).profile ?? '';
    }
  }
  const diskDirty = plan.diskDirtySizes.map((d) => point(runs.get(`disk:${d}`)!));
  const shmDirty = plan.shmDirtySizes.map((d) => point(runs.get(`shm:${d}`)!));
  const region = plan.regionSizes.map((s) => point(runs.get(`region:${s}`)!));
  const clean = plan.cleanSizes.map((s) => ({ regionBytes: s, wallMs: cleanRuns.get(s)!, medianMs: median(cleanRuns.get(s)!) }));
  const fit = fitOf(shmDirty);
  const rs = leastSquares(region.map((p) => p.regionBytes / GiB), region.map((p) => p.medianMs));
  const cs = leastSquares(clean.map((c) => c.regionBytes / GiB), clean.map((c) => c.medianMs));
  const profiled = [...diskDirty, ...shmDirty].flatMap((p) => p.runs).filter((r) => r.profile);
  const vBytes = profiled.reduce((a, r) => a + r.bytesWritten, 0);
  const vMs = profiled.reduce((a, r) => a + r.profile!.verifyMs, 0);
  // Per run, then the median: the profiles sample every 500 µs and the machine is shared.
  const rates = profiled.filter((r) => r.profile!.verifyMs > 0).map((r) => r.bytesWritten / (r.profile!.verifyMs / 1000) / 1e9);
  const share = fit.slopeMsPerGiB > 0 ? Math.max(0, rs.slope) / fit.slopeMsPerGiB : Infinity;
  const linearMet = fit.r2 >= LINEAR_R2_MIN && share <= REGION_SHARE_MAX;
  const largest = [...profiled].sort((a, b) => b.dirtyBytes - a.dirtyBytes || (a.filesOn === 'disk' ? -1 : 1))[0];
  return {
    plan: { ...plan, reps },
    diskDirty, shmDirty, region, clean,
    diskFit: fitOf(diskDirty), fit,
    regionSlopeMsPerGiB: rs.slope, cleanSlopeMsPerGiB: cs.slope,
    verify: {
      bytes: vBytes, verifyMs: vMs, gbps: rates.length > 0 ? median(rates) : NaN,
      gbpsMin: Math.min(...rates), gbpsMax: Math.max(...rates), runs: rates.length,
      pwriteMs: profiled.reduce((a, r) => a + r.profile!.pwriteMs, 0),
      fdatasyncMs: profiled.reduce((a, r) => a + r.profile!.fdatasyncMs, 0),
      sampledMs: profiled.reduce((a, r) => a + r.profile!.sampledMs, 0),
    },
    linear: {
      met: linearMet,
      why: `files in tmpfs: R² = ${fit.r2.toFixed(3)} (need ≥ ${LINEAR_R2_MIN}), ${(fit.slopeMsPerGiB / 1000).toFixed(2)} s per dirty GiB; ` +
        `a larger region adds ${rs.slope.toFixed(1)} ms per GiB at fixed dirty bytes (${(share * 100).toFixed(2)}% of a dirty GiB, need ≤ ${REGION_SHARE_MAX * 100}%)`,
    },
    cleanOpenProfile,
    recoveryProfile: largest?.profile ? `${(largest.dirtyBytes / GiB).toFixed(2)} GiB dirty, files on the ${largest.filesOn}:\n${largest.profile.summary}` : '',
  };
}
