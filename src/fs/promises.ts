/**
 * cache.fs.promises: `open()` returns a FileHandle-like object; the whole-file
 * helpers mirror fs.promises. Reads that miss and writes that need room wait
 * asynchronously (G9) instead of blocking.
 */
import type * as fs from 'node:fs';
import type { Cache } from '../cache/cache';
import { constants as fsConstants } from 'node:fs';
import { systemError } from '../errors';
import { checkLength, dataBytes, fileOptions, parseFlags, parseMode, readArgs, writeArgs } from './args';

const { O_TRUNC } = fsConstants;

export class FileHandle {
  private closed = false;

  constructor(private readonly cache: Cache, readonly fd: number) {}

  private live(syscall: string): number {
    if (this.closed) throw systemError('EBADF', syscall);
    return this.fd;
  }

  async read<T extends NodeJS.ArrayBufferView = Buffer>(
    bufferOrOptions?: T | { buffer?: T; offset?: number; length?: number; position?: number | bigint | null },
    offset?: number | null, length?: number | null, position?: number | bigint | null,
  ): Promise<{ bytesRead: number; buffer: T }> {
    const fd = this.live('read');
    let buffer = bufferOrOptions as T | undefined;
    if (bufferOrOptions && !ArrayBuffer.isView(bufferOrOptions)) {
      const o = bufferOrOptions as { buffer?: T; offset?: number; length?: number; position?: number | bigint | null };
      buffer = o.buffer;
      offset = o.offset;
      length = o.length;
      position = o.position;
    }
    if (buffer === undefined) buffer = Buffer.alloc(16384) as unknown as T;
    const a = readArgs(buffer, offset, length, position);
    const bytesRead = a.length === 0 ? 0 : await this.cache.io.read(fd, a.bytes, a.offset, a.length, a.position);
    return { bytesRead, buffer: buffer as T };
  }

  async write<T extends NodeJS.ArrayBufferView | string>(data: T, a?: unknown, b?: unknown, c?: unknown): Promise<{ bytesWritten: number; buffer: T }> {
    const fd = this.live('write');
    const w = writeArgs(data, a, b, c);
    const bytesWritten = await this.cache.io.write(fd, w.bytes, w.offset, w.length, w.position);
    return { bytesWritten, buffer: data };
  }

  /** Reads from the current position to the end. */
  async readFile(options?: { encoding?: BufferEncoding | null } | BufferEncoding | null): Promise<any> {
    const fd = this.live('read');
    const o = fileOptions(options, 'r', null);
    const size = Math.max(0, this.cache.io.sizeOf(fd) - this.cache.io.positionOf(fd));
    const out = Buffer.allocUnsafe(size);
    let got = 0;
    while (got < size) {
      const n = await this.cache.io.read(fd, out, got, size - got, null);
      if (n === 0) break;
      got += n;
    }
    const bytes = got === size ? out : out.subarray(0, got);
    return o.encoding ? bytes.toString(o.encoding) : bytes;
  }

  /** Writes at the current position, as FileHandle.writeFile does. */
  async writeFile(data: string | NodeJS.ArrayBufferView, options?: { encoding?: BufferEncoding | null } | BufferEncoding | null): Promise<void> {
    const fd = this.live('write');
    const o = fileOptions(options, 'w', 'utf8');
    const bytes = dataBytes(data, o.encoding);
    await this.cache.io.write(fd, bytes, 0, bytes.length, null);
  }

  async appendFile(data: string | NodeJS.ArrayBufferView, options?: { encoding?: BufferEncoding | null } | BufferEncoding | null): Promise<void> {
    await this.writeFile(data, options);
  }

  async stat(): Promise<fs.Stats> {
    return this.cache.io.fstatSync(this.live('fstat'));
  }

  async truncate(len?: number): Promise<void> {
    const fd = this.live('ftruncate');
    await this.cache.txs.transactionEnded();
    this.cache.io.ftruncateSync(fd, checkLength(len));
  }

  // Every method is async, so a closed handle (or any other failure) is a rejected promise, never a throw.
  async sync(): Promise<void> {
    await this.cache.io.fsync(this.live('fsync'), 'fsync');
  }

  async datasync(): Promise<void> {
    await this.cache.io.fsync(this.live('fdatasync'), 'fdatasync');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.cache.handles.closeDescriptor(this.fd);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

export class CachePromises {
  constructor(private readonly cache: Cache) {}

  open = async (path: fs.PathLike, flags?: string | number, mode?: fs.Mode): Promise<FileHandle> => {
    const f = parseFlags(flags);
    if ((f & O_TRUNC) !== 0) await this.cache.txs.transactionEnded(); // truncation is not transactional: it waits
    return new FileHandle(this.cache, this.cache.handles.open(path, f, parseMode(mode, 0o666)));
  };

  readFile = async (path: fs.PathLike | FileHandle, options?: { encoding?: BufferEncoding | null; flag?: string } | BufferEncoding | null): Promise<any> => {
    if (path instanceof FileHandle) return path.readFile(options);
    const o = fileOptions(options, 'r', null);
    const fh = await this.open(path, o.flag as string);
    try {
      return await fh.readFile(options);
    } finally {
      await fh.close();
    }
  };

  writeFile = (path: fs.PathLike | FileHandle, data: string | NodeJS.ArrayBufferView, options?: fs.WriteFileOptions): Promise<void> =>
    this.whole(path, data, options, 'w');

  appendFile = (path: fs.PathLike | FileHandle, data: string | Uint8Array, options?: fs.WriteFileOptions): Promise<void> =>
    this.whole(path, data, options, 'a');

  private async whole(path: fs.PathLike | FileHandle, data: unknown, options: unknown, flag: string): Promise<void> {
    const o = fileOptions(options, flag, 'utf8');
    const bytes = dataBytes(data, o.encoding);
    if (path instanceof FileHandle) {
      await path.writeFile(bytes);
      return;
    }
    await this.cache.txs.transactionEnded();
    const fh = new FileHandle(this.cache, this.cache.handles.open(path, parseFlags(o.flag), o.mode));
    try {
      await this.cache.io.write(fh.fd, bytes, 0, bytes.length, null);
    } finally {
      await fh.close();
    }
  }

  unlink = async (path: fs.PathLike): Promise<void> => {
    await this.cache.txs.transactionEnded();
    this.cache.names.unlink(path);
  };

  rename = async (oldPath: fs.PathLike, newPath: fs.PathLike): Promise<void> => {
    await this.cache.txs.transactionEnded();
    this.cache.names.rename(oldPath, newPath);
  };
}
