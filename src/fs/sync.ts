/**
 * cache.fs: the drop-in subset of Node's fs, synchronous calls. Same
 * signatures, defaults and error codes as Node's; descriptors are riocache's
 * own (numbers far above real ones) and work only with this cache's calls.
 */
import type * as fs from 'node:fs';
import type { Cache } from '../cache/cache';
import { checkFd, checkLength, dataBytes, fileOptions, parseFlags, parseMode, readArgs, writeArgs } from './args';
import { CachePromises } from './promises';

export class CacheFs {
  /** The FileHandle-based API: `cache.fs.promises.open(...)`. */
  readonly promises: CachePromises;
  /** Node's fs.constants, for numeric flags. */
  readonly constants: typeof fs.constants;

  constructor(private readonly cache: Cache) {
    this.promises = new CachePromises(cache);
    this.constants = require('node:fs').constants;
  }

  openSync = (path: fs.PathLike, flags?: fs.OpenMode, mode?: fs.Mode | null): number =>
    this.cache.handles.open(path, parseFlags(flags), parseMode(mode, 0o666));

  closeSync = (fd: number): void => this.cache.handles.closeDescriptor(checkFd(fd));

  readSync = (fd: number, buffer: NodeJS.ArrayBufferView, offsetOrOptions?: number | fs.ReadSyncOptions | null,
    length?: number | null, position?: fs.ReadPosition | null): number => {
    checkFd(fd);
    const a = readArgs(buffer, offsetOrOptions, length, position);
    if (a.length === 0) {
      this.cache.handles.descriptor(fd, 'read');
      return 0;
    }
    return this.cache.io.readSync(fd, a.bytes, a.offset, a.length, a.position);
  };

  writeSync = (fd: number, data: NodeJS.ArrayBufferView | string, a?: unknown, b?: unknown, c?: unknown): number => {
    checkFd(fd);
    const w = writeArgs(data, a, b, c);
    return this.cache.io.writeSync(fd, w.bytes, w.offset, w.length, w.position);
  };

  fsyncSync = (fd: number): void => this.cache.io.fsyncSync(checkFd(fd), 'fsync');

  fdatasyncSync = (fd: number): void => this.cache.io.fsyncSync(checkFd(fd), 'fdatasync');

  ftruncateSync = (fd: number, len?: number | null): void => this.cache.io.ftruncateSync(checkFd(fd), checkLength(len));

  fstatSync = (fd: number): fs.Stats => this.cache.io.fstatSync(checkFd(fd));

  unlinkSync = (path: fs.PathLike): void => this.cache.names.unlink(path);

  renameSync = (oldPath: fs.PathLike, newPath: fs.PathLike): void => this.cache.names.rename(oldPath, newPath);

  readFileSync = (path: fs.PathOrFileDescriptor, options?: { encoding?: BufferEncoding | null; flag?: string } | BufferEncoding | null): any => {
    const o = fileOptions(options, 'r', null);
    const isFd = typeof path === 'number';
    const fd = isFd ? checkFd(path) : this.openSync(path as fs.PathLike, o.flag as string);
    try {
      const from = this.cache.io.positionOf(fd);
      const size = Math.max(0, this.cache.io.sizeOf(fd) - from);
      const out = Buffer.allocUnsafe(size);
      let got = 0;
      while (got < size) {
        const n = this.cache.io.readSync(fd, out, got, size - got, null);
        if (n === 0) break;
        got += n;
      }
      const bytes = got === size ? out : out.subarray(0, got);
      return o.encoding ? bytes.toString(o.encoding) : bytes;
    } finally {
      if (!isFd) this.closeSync(fd);
    }
  };

  writeFileSync = (file: fs.PathOrFileDescriptor, data: string | NodeJS.ArrayBufferView, options?: fs.WriteFileOptions): void => {
    this.writeWhole(file, data, options, 'w');
  };

  appendFileSync = (file: fs.PathOrFileDescriptor, data: string | Uint8Array, options?: fs.WriteFileOptions): void => {
    this.writeWhole(file, data, options, 'a');
  };

  private writeWhole(file: fs.PathOrFileDescriptor, data: unknown, options: unknown, flag: string): void {
    const o = fileOptions(options, flag, 'utf8');
    const bytes = dataBytes(data, o.encoding);
    const isFd = typeof file === 'number';
    const fd = isFd ? checkFd(file) : this.cache.handles.open(file as fs.PathLike, parseFlags(o.flag), o.mode);
    try {
      this.cache.io.writeSync(fd, bytes, 0, bytes.length, null);
    } finally {
      if (!isFd) this.closeSync(fd);
    }
  }
}
