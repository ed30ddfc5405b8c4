/**
 * The memory cgroup this process runs in and the tightest memory limit on
 * its path, for cgroup v1 (memory.limit_in_bytes, hierarchical) and v2
 * (memory.max). The OS target reports it because a cgroup's limit bounds the
 * page cache its processes can fill, minus their own memory.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';

/** Limits at or above this mean "no limit" (v1 writes 2^63 rounded down to a page). */
const UNLIMITED_BYTES_MIN = 2 ** 60;
/** Ancestors walked up to the root; bounded like every walk. */
const CGROUP_DEPTH_MAX = 64;

export interface MemoryCgroup {
  version: 1 | 2;
  /** Path inside the hierarchy, e.g. "/process_api/x". */
  path: string;
  /** Absolute directory of the cgroup. */
  dir: string;
  /** The tightest limit on the path to the root; null when none. */
  limitBytes: number | null;
}

function readNumber(file: string): number | null {
  try {
    const text = fs.readFileSync(file, 'utf8').trim();
    if (text === 'max') return null;
    const n = Number(text);
    return Number.isFinite(n) && n < UNLIMITED_BYTES_MIN ? n : null;
  } catch {
    return null;
  }
}

function tightest(mount: string, path: string, file: string): number | null {
  let best: number | null = null;
  let p = path;
  for (let depth = 0; depth < CGROUP_DEPTH_MAX; depth++) {
    const limit = readNumber(join(mount, p, file));
    if (limit !== null && (best === null || limit < best)) best = limit;
    if (p === '/' || p === '') break;
    p = p.slice(0, p.lastIndexOf('/')) || '/';
  }
  return best;
}

/** The memory cgroup of `pid` (default: this process); null where there is none to read. */
export function memoryCgroup(pid: number | 'self' = 'self'): MemoryCgroup | null {
  let lines: string[];
  try {
    lines = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n');
  } catch {
    return null;
  }
  for (const line of lines) {
    const m = /^([^:]*):([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    const [, , controllers, path] = m;
    if (controllers.split(',').includes('memory') && fs.existsSync('/sys/fs/cgroup/memory')) {
      const mount = '/sys/fs/cgroup/memory';
      return { version: 1, path, dir: join(mount, path), limitBytes: tightest(mount, path, 'memory.limit_in_bytes') };
    }
  }
  const unified = lines.find((l) => l.startsWith('0::'));
  if (unified && fs.existsSync('/sys/fs/cgroup/cgroup.controllers')) {
    const path = unified.slice(3);
    return { version: 2, path, dir: join('/sys/fs/cgroup', path), limitBytes: tightest('/sys/fs/cgroup', path, 'memory.max') };
  }
  return null;
}

/** Anonymous memory charged to the cgroup (v1 "rss", v2 "anon"); null when unreadable. */
export function cgroupAnonBytes(cg: MemoryCgroup): number | null {
  try {
    const stat = fs.readFileSync(join(cg.dir, 'memory.stat'), 'utf8');
    const key = cg.version === 1 ? 'rss' : 'anon';
    const m = new RegExp(`^${key} (\\d+)$`, 'm').exec(stat);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}
