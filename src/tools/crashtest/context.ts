/**
 * The workload side of the harness: `ctx` handed to a workload function. Its
 * helpers run an operation through cache.fs between an intent and an ack, so
 * the harness always knows which operation was in flight when the kill came.
 */
import * as fs from 'node:fs';
import type { Cache } from '../../cache/cache';
import { FileHandle } from '../../fs/promises';
import type { CacheFs } from '../../fs/sync';
import { encode, hashOf, payload, type OpRecord } from './protocol';

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** A blocking write of a whole line to the harness pipe (retries while the pipe is full). */
export function sendLine(fd: number, line: string): void {
  const bytes = Buffer.from(line);
  let done = 0;
  while (done < bytes.length) {
    try {
      done += fs.writeSync(fd, bytes, done, bytes.length - done);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      Atomics.wait(sleeper, 0, 0, 1);
    }
  }
}

type WithoutSeq<T> = T extends unknown ? Omit<T, 'seq'> : never;

/** A change a workload announces with `ctx.intend()`: paths are relative to the cache root. */
export type IntendedChange =
  | { op: 'write'; file: string; offset: number; data: Uint8Array }
  | { op: 'truncate'; file: string; length: number }
  | { op: 'create'; file: string }
  | { op: 'rename'; from: string; to: string }
  | { op: 'unlink'; file: string };

/** What is in flight: the one change announced and not yet acknowledged (the harness follows one at a time). */
interface InFlight {
  seq: number;
  what: string;
}

function describeOp(op: OpRecord): string {
  if (op.op === 'rename') return `rename ${op.from} -> ${op.to}`;
  if (op.op === 'copy') return `copy ${op.from} -> ${op.to}`;
  if (op.op === 'rmtree') return `rm -r ${op.dir}`;
  if (op.op === 'transfer') return `transfer ${op.amount} from ${op.from} to ${op.to}`;
  return `${op.op} ${op.file}`;
}

export class WorkloadContext {
  private seq: number;
  private readonly fds = new Map<string, number>();
  private inFlight: InFlight | null = null;

  constructor(
    /** The cache the workload runs on (recovered already, if it had crashed). */
    readonly cache: Cache,
    /** Seed of this run; `random` is derived from it. */
    readonly seed: number,
    /** A deterministic random number in [0, 1). */
    readonly random: () => number,
    private readonly pipe: number,
    firstSeq: number,
  ) {
    this.seq = firstSeq;
  }

  get fs(): CacheFs {
    return this.cache.fs;
  }

  /** Deterministic bytes for the next write (the harness rebuilds them from the seed). */
  payload(length: number): Buffer {
    return payload(this.seed, this.seq, length);
  }

  /**
   * Runs `fn` as one recorded operation: the intent first, the ack after it
   * returns. Low-level: the helpers below are what most workloads need.
   */
  record<T>(op: WithoutSeq<OpRecord>, fn: () => T): T {
    const seq = this.announce(op as OpRecord);
    let result: T;
    try {
      result = fn();
    } catch (err) {
      this.settle(seq, err);
      throw err;
    }
    this.settle(seq);
    return result;
  }

  async recordAsync<T>(op: WithoutSeq<OpRecord>, fn: () => Promise<T>): Promise<T> {
    const seq = this.announce(op as OpRecord);
    let result: T;
    try {
      result = await fn();
    } catch (err) {
      this.settle(seq, err);
      throw err;
    }
    this.settle(seq);
    return result;
  }

  /**
   * Sends an intent and marks it in flight. Throws, sending nothing, while an
   * earlier change is unacknowledged: the oracle resolves one in-flight change
   * per kill, so a second one could not be checked (a workload bug, reported
   * as the workload's failure).
   */
  private announce(op: OpRecord): number {
    if (this.inFlight) {
      throw new Error(`cannot announce ${describeOp(op)}: change #${this.inFlight.seq} (${this.inFlight.what}) is still ` +
        'unacknowledged; call its ack() (or ack(err)) before the next ctx.intend() or ctx operation: ' +
        'the harness checks one change in flight at a time');
    }
    const seq = this.seq++;
    sendLine(this.pipe, encode('I', { ...op, seq }));
    this.inFlight = { seq, what: describeOp(op) };
    return seq;
  }

  /** Acknowledges the change in flight (`err` undefined) or reports it refused. */
  private settle(seq: number, err?: unknown): void {
    this.inFlight = null;
    if (err === undefined) sendLine(this.pipe, encode('A', seq));
    else sendLine(this.pipe, encode('X', { seq, code: (err as NodeJS.ErrnoException)?.code ?? null }));
  }

  /**
   * Announces a change the workload is about to make by its own means (a
   * service's storage layer, say) and returns its `ack`: call `ack()` once the
   * change returned, or `ack(err)` if it was refused. Until `ack()`, the
   * harness treats the change as in flight: after a kill it must be wholly
   * present or wholly absent (G2); after `ack()` it must be present (G1).
   * A write is given with its bytes. One change at a time: `intend()` (and
   * every recorded helper) throws while an earlier change is unacknowledged.
   */
  intend(change: IntendedChange): (err?: unknown) => void {
    const op: OpRecord = change.op === 'write'
      ? { op: 'write', file: change.file, offset: change.offset, length: change.data.length, hash: hashOf(change.data),
        data: Buffer.from(change.data.buffer, change.data.byteOffset, change.data.byteLength).toString('base64'), seq: -1 }
      : { ...change, seq: -1 };
    const seq = this.announce(op);
    let settled = false;
    return (err?: unknown) => {
      if (settled) throw new Error(`ack() called twice for change #${seq}`);
      settled = true;
      this.settle(seq, err);
    };
  }

  /** A descriptor for `file` (opened 'r+', created when missing). */
  fd(file: string): number {
    let fd = this.fds.get(file);
    if (fd === undefined) {
      try {
        fd = this.fs.openSync(file, 'r+');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        fd = this.record({ op: 'create', file }, () => this.fs.openSync(file, 'w+'));
      }
      this.fds.set(file, fd);
    }
    return fd;
  }

  private forget(file: string): void {
    for (const [path, fd] of this.fds) {
      if (path === file || path.startsWith(file + '/')) {
        this.fs.closeSync(fd);
        this.fds.delete(path);
      }
    }
  }

  /** Writes deterministic bytes (or `data`) at `offset`. */
  write(file: string, offset: number, length: number, data?: Buffer): void {
    const fd = this.fd(file);
    const bytes = data ?? this.payload(length);
    this.record(
      { op: 'write', file, offset, length: bytes.length, hash: hashOf(bytes), ...(data ? { data: data.toString('base64') } : {}) },
      () => this.fs.writeSync(fd, bytes, 0, bytes.length, offset),
    );
  }

  /** Appends at the file's end (the offset is the size the harness knows). */
  append(file: string, length: number): void {
    const fd = this.fd(file);
    const offset = this.fs.fstatSync(fd).size;
    this.write(file, offset, length);
  }

  /** The same write through the promise path (FileHandle.write). */
  async writeAsync(file: string, offset: number, length: number): Promise<void> {
    const handle = new FileHandle(this.cache, this.fd(file));
    const bytes = this.payload(length);
    await this.recordAsync({ op: 'write', file, offset, length, hash: hashOf(bytes) }, () => handle.write(bytes, 0, length, offset));
  }

  truncate(file: string, length: number): void {
    const fd = this.fd(file);
    this.record({ op: 'truncate', file, length }, () => this.fs.ftruncateSync(fd, length));
  }

  rename(from: string, to: string): void {
    this.forget(from);
    this.forget(to);
    this.record({ op: 'rename', from, to }, () => this.fs.renameSync(from, to));
  }

  unlink(file: string): void {
    this.forget(file);
    this.record({ op: 'unlink', file }, () => this.fs.unlinkSync(file));
  }

  /**
   * copyFile through the cache: `to` (kept open by the harness, so the cache
   * holds it) becomes a copy of `from`. copyFile empties the destination and
   * then writes it, two steps as in the kernel; the harness checks one atomic
   * change at a time, so the emptying is its own recorded step first, and the
   * copy (of a file below the atomic write size) is then one write.
   */
  copyFile(from: string, to: string): void {
    this.truncate(to, 0);
    this.record({ op: 'copy', from, to }, () => this.fs.copyFileSync(from, to));
  }

  /** truncate by path (not through a descriptor of the workload's). */
  truncatePath(file: string, length: number): void {
    this.record({ op: 'truncate', file, length }, () => this.fs.truncateSync(file, length));
  }

  /** rm -r of a directory and every file in it (open ones closed first). */
  removeTree(dir: string): void {
    this.forget(dir);
    this.record({ op: 'rmtree', dir }, () => this.fs.rmSync(dir, { recursive: true, force: true }));
  }

  fsync(file: string): void {
    const fd = this.fd(file);
    this.record({ op: 'fsync', file }, () => this.fs.fsyncSync(fd));
  }

  /** Lets other work (write-back, timers) run. */
  yield(): Promise<void> {
    return new Promise((res) => setImmediate(res));
  }
}

/** A workload: runs until the harness kills it. */
export type Workload = (ctx: WorkloadContext) => Promise<void> | void;
