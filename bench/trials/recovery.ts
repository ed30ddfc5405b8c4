/**
 * Recovery trials (the DESIGN.md warm-reboot targets). A warm reboot happens
 * once per crash, so these are one-shot measurements, each in fresh
 * processes, repeated:
 *
 *  - dirty scaling: a child opens a cache that never writes back, dirties N
 *    bytes over a few files, and is SIGKILLed; a fresh process then times
 *    `openCacheSync` (the warm reboot verifies every dirty buffer, writes it
 *    to its file and fdatasyncs the file). Once with the files on the disk
 *    (what a service sees, the disk included) and once with them in tmpfs
 *    (riocache's own work, without the disk's speed and noise);
 *  - region scaling: fixed dirty bytes in regions of growing size (files in tmpfs);
 *  - clean open: a sparse region created, closed cleanly, and opened again.
 *
 * Regions are sparse (allocate: 'sparse'), so a region costs only the memory
 * its dirty data and metadata touch.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { openCacheSync } from '../../src';
import type { BuildJob, BuildResult, OpenJob, OpenResult } from '../lib/protocol';
import { prefillChunks } from '../contenders/types';
import { patternBytes } from '../lib/rng';
import { GiB, MiB } from './types';

/** Never write back: a huge age, a ratio nothing reaches, a rare timer. */
const NO_WRITE_BACK = { maxAgeMs: 86_400_000, dirtyRatio: 1, intervalMs: 3_600_000 };

export interface RecoveryPlan {
  /** Region size of the dirty-scaling series (sparse). */
  dirtyRegionBytes: number;
  /** Dirty sizes recovered into files on the disk (the whole warm reboot, disk included). */
  diskDirtySizes: number[];
  /** Dirty sizes recovered into files in tmpfs (riocache's own work: verify, write, sync are memory speed). */
  shmDirtySizes: number[];
  /** Dirty bytes and region sizes of the region-scaling series (files in tmpfs). */
  fixedDirtyBytes: number;
  regionSizes: number[];
  /** Sizes of the clean-open series. */
  cleanSizes: number[];
  files: number;
  reps: number;
}

export function recoveryPlan(quick: boolean): RecoveryPlan {
  return quick
    ? {
      dirtyRegionBytes: 128 * MiB, diskDirtySizes: [16 * MiB, 64 * MiB], shmDirtySizes: [16 * MiB, 64 * MiB],
      fixedDirtyBytes: 16 * MiB, regionSizes: [64 * MiB, 1 * GiB], cleanSizes: [64 * MiB, 1 * GiB], files: 4, reps: 1,
    }
    : {
      dirtyRegionBytes: 2.5 * GiB, diskDirtySizes: [64 * MiB, 256 * MiB, 1 * GiB, 2 * GiB],
      shmDirtySizes: [64 * MiB, 256 * MiB, 1 * GiB], fixedDirtyBytes: 256 * MiB, regionSizes: [512 * MiB, 2 * GiB, 8 * GiB],
      cleanSizes: [64 * MiB, 256 * MiB, 1 * GiB, 4 * GiB, 8 * GiB], files: 8, reps: 3,
    };
}

/** Worker side: dirty `dirtyBytes` and report; the runner then SIGKILLs this process. */
export async function buildDirty(job: BuildJob): Promise<BuildResult> {
  fs.mkdirSync(job.root, { recursive: true });
  const cache = openCacheSync({
    region: job.region, root: job.root, size: job.regionBytes, allocate: 'sparse', writeBack: NO_WRITE_BACK,
  });
  const pattern = patternBytes(job.seed, 4096);
  const perFile = Math.ceil(job.dirtyBytes / job.files / 4096) * 4096;
  const t0 = process.hrtime.bigint();
  let left = job.dirtyBytes;
  for (let f = 0; f < job.files && left > 0; f++) {
    const fd = cache.fs.openSync(`dirty-${f}.dat`, 'w');
    const bytes = Math.min(perFile, left);
    for (const [chunk, pos] of prefillChunks(pattern, bytes)) cache.fs.writeSync(fd, chunk, 0, chunk.length, pos);
    left -= bytes;
    // Left open: the crash comes with descriptors open, as in a service.
  }
  const writeMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const st = cache.stats();
  if (st.writeBackBytes !== 0) throw new Error('the builder wrote back data; the region would not be as dirty as asked');
  return { kind: 'build-dirty', dirtyBytes: st.dirtyBytes, dirtyBlocks: st.dirtyBlocks, writeMs, pid: process.pid };
}

/** Worker side: create a clean region, or time the open (and warm reboot) of an existing one. */
export function timeOpen(job: OpenJob): OpenResult {
  fs.mkdirSync(job.root, { recursive: true });
  if (job.create !== undefined) {
    const t0 = process.hrtime.bigint();
    const cache = openCacheSync({ region: job.region, root: job.root, size: job.create, allocate: 'sparse' });
    const fd = cache.fs.openSync('clean.dat', 'w');
    cache.fs.writeSync(fd, Buffer.alloc(64 * 1024, 1));
    cache.fs.closeSync(fd);
    const capacityBytes = cache.stats().capacityBytes;
    cache.closeSync();
    return {
      kind: 'open', wallMs: Number(process.hrtime.bigint() - t0) / 1e6, recovery: reduce(undefined), regionBytes: job.create,
      capacityBytes, closeMs: 0,
    };
  }
  const t0 = process.hrtime.bigint();
  const cache = openCacheSync({ region: job.region, root: job.root });
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const capacityBytes = cache.stats().capacityBytes;
  const t1 = process.hrtime.bigint();
  cache.closeSync();
  const closeMs = Number(process.hrtime.bigint() - t1) / 1e6;
  return { kind: 'open', wallMs, recovery: reduce(cache.recovery), regionBytes: fs.statSync(job.region).size, capacityBytes, closeMs };
}

function reduce(r: import('../../src').RecoveryReport | undefined): OpenResult['recovery'] {
  return {
    ran: r?.ran ?? false, durationMs: r?.durationMs ?? 0, dirtyBuffersFound: r?.dirtyBuffersFound ?? 0,
    dirtyBuffersWritten: r?.dirtyBuffersWritten ?? 0, bytesWritten: r?.bytesWritten ?? 0,
    corruptBuffers: r?.corruptBuffers ?? 0, problems: r?.problems.length ?? 0,
  };
}

export const regionPath = (dir: string) => join(dir, 'bench.rio');
