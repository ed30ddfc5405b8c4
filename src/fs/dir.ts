/**
 * opendir and Dir, as Node's: read() (promise or callback), readSync(),
 * close() / closeSync(), async iteration, `path`. The entries are the
 * readdir core's Dirents, taken when the directory is opened (Node reads
 * them in batches of bufferSize as it goes; what a directory changed during
 * the iteration shows is unspecified there too).
 */
import type * as fs from 'node:fs';
import { systemError } from '../errors';
import type { FsContext } from './context';
import { coded } from './nodeErrors';
import { defineOp } from './op';
import { readdirArgs, readdirCore } from './ops/names';
import { validateFunction, validateInteger } from './validate';

function dirClosed(): Error {
  return coded(Error, 'ERR_DIR_CLOSED', 'Directory handle was closed');
}

export class Dir {
  private closed = false;
  private next = 0;

  /** @internal Made by opendir. */
  constructor(readonly path: string, private readonly list: fs.Dirent[]) {}

  readSync(): fs.Dirent | null {
    if (this.closed) throw dirClosed();
    return this.next < this.list.length ? this.list[this.next++] : null;
  }

  /** The next entry, or null at the end: a promise, or the callback (err, dirent). */
  read(): Promise<fs.Dirent | null>;
  read(cb: (err: Error | null, dirent?: fs.Dirent | null) => void): void;
  read(cb?: (err: Error | null, dirent?: fs.Dirent | null) => void): Promise<fs.Dirent | null> | void {
    return settle(() => this.readSync(), cb);
  }

  closeSync(): void {
    if (this.closed) throw dirClosed();
    this.closed = true;
  }

  close(): Promise<void>;
  close(cb: (err: Error | null) => void): void;
  close(cb?: (err: Error | null) => void): Promise<void> | void {
    return settle(() => this.closeSync(), cb);
  }

  async *entries(): AsyncGenerator<fs.Dirent> {
    try {
      for (let d = this.readSync(); d !== null; d = this.readSync()) yield d;
    } finally {
      if (!this.closed) this.closeSync();
    }
  }

  [Symbol.asyncIterator](): AsyncGenerator<fs.Dirent> {
    return this.entries();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.closed) this.closeSync();
  }
}

/** A synchronous step delivered as a promise, or to a callback on the next tick. */
function settle<T>(fn: () => T, cb?: (err: Error | null, value?: T) => void): Promise<T> | void {
  if (cb === undefined) {
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(err);
    }
  }
  validateFunction(cb, 'callback');
  let value: T;
  try {
    value = fn();
  } catch (err) {
    process.nextTick(cb, err as Error);
    return;
  }
  process.nextTick(cb, null, value);
}

interface OpendirCall extends ReturnType<typeof readdirArgs> {
  shown: string;
}

export const opendirOp = defineOp<OpendirCall, Dir>({
  name: 'opendir',
  parse: (_face, _n, path, options) => {
    const o = (options ?? {}) as { bufferSize?: unknown };
    if (typeof options === 'object' && o.bufferSize !== undefined) validateInteger(o.bufferSize, 'options.bufferSize', 1, 2 ** 32 - 1);
    const p = readdirArgs(path, options);
    return { ...p, withFileTypes: true, shown: typeof p.path === 'string' ? p.path : p.path.toString() };
  },
  sync: (ctx: FsContext, p) => {
    let entries: fs.Dirent[];
    try {
      entries = readdirCore(ctx, p) as fs.Dirent[];
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      // The core lists (scandir); Node names the failure of opening the directory opendir.
      if (e.syscall === 'scandir' && typeof e.code === 'string') throw systemError(e.code, 'opendir', p.shown);
      throw err;
    }
    return new Dir(p.shown, entries);
  },
});
