/**
 * FileHandle, as fs.promises' own: an EventEmitter over one riocache
 * descriptor. Its data and metadata methods are the FileHandle faces of the
 * table's operations, installed on the prototype by table.ts (faces.ts: the
 * descriptor bound, a promise back, every failure a rejection); this file
 * holds what is the handle's own: close and its event, the streams, lines. `fd` is -1 once closed, and a call on a closed handle rejects
 * with EBADF 'file closed', as Node's.
 */
import { EventEmitter } from 'node:events';
import type * as fs from 'node:fs';
import * as readline from 'node:readline';
import { ReadableStream } from 'node:stream/web';
import type { Cache } from '../cache/cache';
import { contextOf, type FsContext } from './context';
import { closedHandle } from './faces';
import { handleReadStream, handleWriteStream } from './streams';

let asyncIds = 0;

export class FileHandle extends EventEmitter {
  /** @internal The cache's facade context. */
  readonly ctx: FsContext;
  private descriptor: number;
  private closing: Promise<void> | null = null;
  private readonly asyncId = ++asyncIds;

  /** A FileHandle over a descriptor of `cache` (cache.fs.promises.open makes these). */
  constructor(cache: Cache, fd: number) {
    super();
    this.ctx = contextOf(cache);
    this.descriptor = fd;
  }

  /** The riocache descriptor; -1 once closed. */
  get fd(): number {
    return this.descriptor;
  }

  /** @internal The descriptor, or EBADF 'file closed' as Node's. */
  liveFd(syscall: string): number {
    if (this.descriptor === -1) throw closedHandle(syscall);
    return this.descriptor;
  }

  getAsyncId(): number {
    return this.asyncId;
  }

  /** Closes the descriptor and emits 'close'; a second close resolves at once. */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    if (this.descriptor === -1) return Promise.resolve();
    const fd = this.descriptor;
    this.closing = new Promise<void>((resolve, reject) => {
      try {
        this.ctx.cache.handles.closeDescriptor(fd);
      } catch (err) {
        this.closing = null;
        reject(err);
        return;
      }
      this.descriptor = -1;
      this.closing = null;
      resolve();
      this.emit('close');
    });
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** A readline interface over createReadStream(options), as Node's readLines. */
  readLines(options?: Parameters<FileHandle['createReadStream']>[0]): readline.Interface {
    return readline.createInterface({ input: this.createReadStream(options), crlfDelay: Infinity });
  }

  /** fs.ReadStream over this handle (Node's stream class, reading through the cache); it closes the handle when done unless autoClose is false. */
  createReadStream(options?: { encoding?: BufferEncoding | null; autoClose?: boolean; emitClose?: boolean; start?: number; end?: number; highWaterMark?: number; signal?: AbortSignal }): fs.ReadStream {
    return handleReadStream(this, options);
  }

  /** fs.WriteStream over this handle. */
  createWriteStream(options?: { encoding?: BufferEncoding | null; autoClose?: boolean; emitClose?: boolean; start?: number; highWaterMark?: number; flush?: boolean }): fs.WriteStream {
    return handleWriteStream(this, options);
  }

  /** A byte ReadableStream of the file from the handle's position, as Node's readableWebStream. */
  readableWebStream(options: { type?: 'bytes' | undefined } = {}): ReadableStream<Uint8Array> {
    if (this.descriptor === -1) throw closedHandle('read');
    if (this.closing) throw Object.assign(new Error('The FileHandle is closing'), { code: 'ERR_INVALID_STATE' });
    const chunk = 16384;
    return new ReadableStream({
      type: options.type === 'bytes' ? 'bytes' : undefined,
      pull: async (controller: { close(): void; enqueue(chunk: Uint8Array): void }) => {
        const buffer = new Uint8Array(chunk);
        const { bytesRead } = await this.read(buffer, 0, chunk, null);
        if (bytesRead === 0) {
          controller.close();
          return;
        }
        controller.enqueue(buffer.subarray(0, bytesRead));
      },
      cancel: () => this.close(),
    } as never) as ReadableStream<Uint8Array>;
  }
}

type Result<T> = Promise<T>;

export interface FileHandle {
  read<T extends NodeJS.ArrayBufferView = Buffer>(buffer?: T | { buffer?: T; offset?: number; length?: number; position?: number | bigint | null },
    offset?: number | null | { offset?: number; length?: number; position?: number | bigint | null }, length?: number | null,
    position?: number | bigint | null): Result<{ bytesRead: number; buffer: T }>;
  readv<T extends NodeJS.ArrayBufferView[]>(buffers: T, position?: number | null): Result<{ bytesRead: number; buffers: T }>;
  write<T extends NodeJS.ArrayBufferView | string>(data: T, offsetOrPosition?: unknown, lengthOrEncoding?: unknown, position?: unknown): Result<{ bytesWritten: number; buffer: T }>;
  writev<T extends NodeJS.ArrayBufferView[]>(buffers: T, position?: number | null): Result<{ bytesWritten: number; buffers: T }>;
  readFile(options?: { encoding?: BufferEncoding | null; signal?: AbortSignal } | BufferEncoding | null): Result<any>;
  writeFile(data: string | NodeJS.ArrayBufferView, options?: { encoding?: BufferEncoding | null; signal?: AbortSignal } | BufferEncoding | null): Result<void>;
  appendFile(data: string | NodeJS.ArrayBufferView, options?: { encoding?: BufferEncoding | null } | BufferEncoding | null): Result<void>;
  stat(options?: { bigint?: boolean }): Result<any>;
  truncate(len?: number): Result<void>;
  utimes(atime: fs.TimeLike, mtime: fs.TimeLike): Result<void>;
  chmod(mode: fs.Mode): Result<void>;
  chown(uid: number, gid: number): Result<void>;
  sync(): Result<void>;
  datasync(): Result<void>;
}
