/**
 * Damage between the kill and the restart (--corrupt): a few bytes of one
 * dirty buffer flipped, as a stray write would. Recovery must quarantine that
 * buffer (G5) and recover every other one; the block then shows what the
 * disk held, which is recorded here before recovery runs.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { inspectRegion } from '../inspect/inspect';
import type { Excused } from './oracle';
import type { OpRecord } from './protocol';

export interface Injected extends Excused {
  buffer: number;
}

function touches(pending: OpRecord | null, file: string, start: number, end: number): boolean {
  if (!pending) return false;
  switch (pending.op) {
    case 'write':
      return pending.file === file && pending.offset < end && pending.offset + pending.length > start;
    case 'truncate':
    case 'unlink':
    case 'create':
    case 'fsync':
      return pending.file === file;
    case 'rename':
      return pending.from === file || pending.to === file;
    case 'copy':
      return pending.from === file || pending.to === file;
    case 'rmtree':
      return file === pending.dir || file.startsWith(pending.dir + '/');
    case 'transfer':
      return pending.files.includes(file);
  }
}

export function injectCorruption(region: string, root: string, pending: OpRecord | null, random: () => number): Injected | null {
  const report = inspectRegion(region, { verify: false, listBuffers: true });
  const g = report.geometry;
  if (!g || !report.dirtyBuffers) return null;
  const bs = g.blockBytes;
  const candidates = report.dirtyBuffers.filter((d) => d.length > 0 && !touches(pending, d.file, d.block * bs, (d.block + 1) * bs));
  if (candidates.length === 0) return null;
  const victim = candidates[Math.floor(random() * candidates.length)];
  const start = victim.block * bs;
  const zeroFrom = report.files.find((f) => f.path === victim.file)?.zeroFrom ?? null;
  // What the disk holds for the block now (zeros past its end or past a pending cut).
  const disk = Buffer.alloc(bs);
  try {
    const fd = fs.openSync(join(root, victim.file), 'r');
    fs.readSync(fd, disk, 0, bs, start);
    fs.closeSync(fd);
  } catch {
    /* no file yet: zeros */
  }
  if (zeroFrom !== null && zeroFrom < start + bs) disk.fill(0, Math.max(0, zeroFrom - start));
  const at = g.dataOffset + victim.buffer * bs + Math.floor(random() * victim.length);
  const fd = fs.openSync(region, 'r+');
  const byte = Buffer.alloc(1);
  fs.readSync(fd, byte, 0, 1, at);
  byte[0] ^= 1 + Math.floor(random() * 255);
  fs.writeSync(fd, byte, 0, 1, at);
  fs.closeSync(fd);
  return { file: victim.file, start, end: start + bs, disk, buffer: victim.buffer };
}
