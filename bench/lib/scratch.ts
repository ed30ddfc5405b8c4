/**
 * Scratch space for one benchmark process: files and databases on the real
 * disk (/tmp), regions and the mapped floor in tmpfs (/dev/shm). Everything
 * a process creates lives under two directories named after the run, so the
 * runner can remove leftovers of a killed worker.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';

export const SCRATCH_PREFIX = 'riocache-bench-';

export const diskBase = (): string => process.env.RIOCACHE_BENCH_DISK ?? '/tmp';
export const shmBase = (): string => process.env.RIOCACHE_BENCH_SHM ?? (fs.existsSync('/dev/shm') ? '/dev/shm' : '/tmp');

export interface Scratch {
  /** A directory on the disk: backing files, lmdb environments, the cache root. */
  disk: string;
  /** A directory in tmpfs: regions and the floor's mapped file. */
  shm: string;
  cleanup(): void;
}

export function makeScratch(tag: string): Scratch {
  const disk = fs.mkdtempSync(join(diskBase(), `${SCRATCH_PREFIX}${tag}-`));
  const shm = fs.mkdtempSync(join(shmBase(), `${SCRATCH_PREFIX}${tag}-`));
  return {
    disk, shm,
    cleanup() {
      fs.rmSync(disk, { recursive: true, force: true });
      fs.rmSync(shm, { recursive: true, force: true });
    },
  };
}

/** Removes scratch directories whose owner process is gone (a killed worker). */
export function removeStale(runTag: string): void {
  for (const base of new Set([diskBase(), shmBase()])) {
    let names: string[];
    try {
      names = fs.readdirSync(base);
    } catch {
      continue;
    }
    for (const name of names) {
      if (name.startsWith(`${SCRATCH_PREFIX}${runTag}`)) fs.rmSync(join(base, name), { recursive: true, force: true });
    }
  }
}

/** Bytes used by a directory tree (allocated blocks, so sparse files count what they hold). */
export function allocatedBytes(path: string): number {
  let total = 0;
  const walk = (p: string) => {
    const st = fs.lstatSync(p);
    if (st.isDirectory()) for (const n of fs.readdirSync(p)) walk(join(p, n));
    else total += st.blocks * 512;
  };
  try {
    walk(path);
  } catch {
    /* gone meanwhile */
  }
  return total;
}
