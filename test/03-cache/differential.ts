/**
 * The differential driver: one seeded sequence of fs operations applied to
 * cache.fs and to Node's fs on a scratch directory. Every result and every
 * error code must match at every step. Shared by the differential tests and
 * the crash tests' workloads.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { rng } from './../helpers';

export interface FsLike {
  openSync(path: string, flags: string): number;
  closeSync(fd: number): void;
  readSync(fd: number, buf: Buffer, off: number, len: number, pos: number | null): number;
  writeSync(fd: number, buf: Buffer, off: number, len: number, pos: number | null): number;
  ftruncateSync(fd: number, len: number): void;
  fsyncSync(fd: number): void;
  fdatasyncSync(fd: number): void;
  fstatSync(fd: number): fs.Stats;
  unlinkSync(path: string): void;
  renameSync(a: string, b: string): void;
  readFileSync(path: string): Buffer;
  writeFileSync(path: string, data: Buffer): void;
  appendFileSync(path: string, data: Buffer): void;
}

const names = ['a', 'b', 'c', 'd/e', 'd/f', 'g/h/i', 'missing/x', 'd'];
const flagsList = ['r', 'r+', 'w', 'w+', 'a', 'a+', 'wx', 'ax+', 'r', 'r+', 'r+', 'a'];

export interface StepResult {
  op: string;
  value?: unknown;
  error?: string;
}

/** Applies op #i to one side; returns the result or the error code. */
export class Side {
  fds: Array<number | null> = [];
  constructor(readonly api: FsLike, readonly prefix: string) {}

  /** Mostly a live descriptor; sometimes a closed one (EBADF must match too). Same choice on both sides. */
  pick(u: number, v: number): number {
    const live = this.fds.map((fd, i) => (fd === null ? -1 : i)).filter((i) => i >= 0);
    if (live.length > 0 && u < 0.9) return live[Math.floor(v * live.length)];
    return this.fds.length === 0 ? -1 : Math.floor(v * this.fds.length);
  }

  fd(at: number): number {
    return at < 0 ? 999_999 : this.fds[at] ?? 999_999;
  }
}

/** Live descriptors beyond this are closed before another open (programs do not keep unbounded descriptors). */
const LIVE_MAX = 12;

export function* operations(seed: number, count: number, blockSize: number): Generator<(s: Side) => StepResult> {
  const r = rng(seed);
  for (let i = 0; i < count; i++) yield dataStep(r, blockSize);
}

/** One data operation drawn from `r` (open, close, write, read, ftruncate, fsync, fstat, unlink, rename, whole-file calls). */
export function dataStep(r: () => number, blockSize: number): (s: Side) => StepResult {
  const int = (n: number) => Math.floor(r() * n);
  const pickName = () => names[int(names.length)];
  const size = () => {
    const k = r();
    if (k < 0.3) return 1 + int(100);
    if (k < 0.6) return 1 + int(blockSize * 2);
    if (k < 0.9) return blockSize * (1 + int(3)) + int(3) - 1;
    return 1 + int(blockSize * 6);
  };
  const pos = () => (r() < 0.3 ? null : int(blockSize * 8));
  const k = r();
  const u = r();
  const v = r();
  const data = Buffer.alloc(size());
  const fill = int(256);
  for (let j = 0; j < data.length; j++) data[j] = (fill + j * 7 + (j >> 5)) & 0xff;
  const p = pos();
  const name = pickName();
  const other = pickName();
  const flags = flagsList[int(flagsList.length)];
  const len = int(blockSize * 7);
  const readLen = size();
  if (k < 0.12) {
    return (s) => {
      const live = s.fds.filter((fd) => fd !== null).length;
      if (live >= LIVE_MAX) {
        const at = s.pick(0, v);
        s.api.closeSync(s.fd(at));
        s.fds[at] = null;
      }
      const fd = s.api.openSync(join(s.prefix, name), flags);
      s.fds.push(fd);
      return { op: `open ${name} ${flags}`, value: s.fds.length - 1 };
    };
  } else if (k < 0.18) {
    return (s) => {
      const at = s.pick(u, v);
      const fd = s.fd(at);
      if (at >= 0) s.fds[at] = null;
      s.api.closeSync(fd);
      return { op: `close #${at}` };
    };
  } else if (k < 0.5) {
    return (s) => {
      const at = s.pick(u, v);
      const fd = s.fd(at);
      return { op: `write #${at} ${data.length}@${p}`, value: s.api.writeSync(fd, data, 0, data.length, p) };
    };
  } else if (k < 0.7) {
    return (s) => {
      const at = s.pick(u, v);
      const fd = s.fd(at);
      const buf = Buffer.alloc(readLen);
      const n = s.api.readSync(fd, buf, 0, readLen, p);
      return { op: `read #${at} ${readLen}@${p}`, value: buf.subarray(0, n).toString('base64') };
    };
  } else if (k < 0.76) {
    return (s) => {
      const at = s.pick(u, v);
      const fd = s.fd(at);
      s.api.ftruncateSync(fd, len);
      return { op: `ftruncate #${at} ${len}` };
    };
  } else if (k < 0.79) {
    return (s) => {
      const at = s.pick(u, v);
      const fd = s.fd(at);
      if (u < 0.5) s.api.fsyncSync(fd);
      else s.api.fdatasyncSync(fd);
      return { op: `fsync #${at}` };
    };
  } else if (k < 0.83) {
    return (s) => {
      const at = s.pick(u, v);
      const fd = s.fd(at);
      return { op: `fstat #${at}`, value: s.api.fstatSync(fd).size };
    };
  } else if (k < 0.86) {
    return (s) => {
      s.api.unlinkSync(join(s.prefix, name));
      return { op: `unlink ${name}` };
    };
  } else if (k < 0.89) {
    return (s) => {
      s.api.renameSync(join(s.prefix, name), join(s.prefix, other));
      return { op: `rename ${name} ${other}` };
    };
  } else if (k < 0.93) {
    return (s) => {
      s.api.appendFileSync(join(s.prefix, name), data);
      return { op: `appendFile ${name} ${data.length}` };
    };
  } else if (k < 0.96) {
    return (s) => {
      s.api.writeFileSync(join(s.prefix, name), data);
      return { op: `writeFile ${name} ${data.length}` };
    };
  } else {
    return (s) => ({ op: `readFile ${name}`, value: s.api.readFileSync(join(s.prefix, name)).toString('base64') });
  }
}

export function run(step: (s: Side) => StepResult, side: Side): StepResult {
  try {
    return step(side);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (!code) throw err;
    // A failed open still consumes an fd index on neither side; a failed close marks nothing.
    return { op: 'error', error: code };
  }
}

/** Every regular file under dir, with its bytes. */
export function snapshot(dir: string, skip = new Set<string>()): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(join(dir, rel), { withFileTypes: true })) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (skip.has(p)) continue;
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.set(p, fs.readFileSync(join(dir, p)));
    }
  };
  walk('');
  return out;
}
