/**
 * ReadStream and WriteStream over cache.fs: Node's own stream classes
 * (their `fs` option: open, read, write, writev, fsync, close), so every
 * stream semantic — bytesRead, bytesWritten, path, pending, 'open', 'ready',
 * 'close', start/end, highWaterMark, flush, autoClose, signal — is Node's.
 * Only the calls underneath are the cache's callback faces.
 */
import * as fs from 'node:fs';
import type { FileHandle } from './fileHandle';

/** The callback calls Node's streams use. */
export interface StreamFs {
  open: (...args: any[]) => void;
  read: (...args: any[]) => void;
  write: (...args: any[]) => void;
  writev: (...args: any[]) => void;
  fsync: (...args: any[]) => void;
  close: (...args: any[]) => void;
}

type StreamOptions = Record<string, unknown>;

function optionsObject(options: unknown): StreamOptions {
  if (typeof options === 'string') return { encoding: options };
  if (options === undefined || options === null) return {};
  return { ...(options as StreamOptions) };
}

/** The calls of a stream over a FileHandle: closing the stream closes the handle (its 'close' event, fd -1). */
function overHandle(handle: FileHandle, base: StreamFs): StreamFs {
  return {
    ...base,
    open: (_path: unknown, _flags: unknown, _mode: unknown, cb: (err: Error | null, fd?: number) => void) => process.nextTick(cb, null, handle.fd),
    close: (_fd: number, cb: (err?: Error | null) => void) => {
      handle.close().then(() => cb(null), cb);
    },
  };
}

/** The options Node's stream gets: the cache's calls, a FileHandle given as `fd` taken apart. */
function streamOptions(base: StreamFs, options: unknown, isHandle: (x: unknown) => x is FileHandle): StreamOptions {
  const o = optionsObject(options);
  if (isHandle(o.fd)) {
    const handle = o.fd;
    o.fd = handle.liveFd('open');
    o.fs = overHandle(handle, base);
  } else {
    o.fs = base;
  }
  return o;
}

/** Node's stream classes take (path, options); @types/node declares them internal. */
const NodeReadStream = fs.ReadStream as unknown as new (path: unknown, options: unknown) => fs.ReadStream;
const NodeWriteStream = fs.WriteStream as unknown as new (path: unknown, options: unknown) => fs.WriteStream;
type StreamCtor<T> = new (path: unknown, options?: unknown) => T;

export interface StreamClasses {
  ReadStream: StreamCtor<fs.ReadStream>;
  WriteStream: StreamCtor<fs.WriteStream>;
}

/** ReadStream and WriteStream classes bound to one cache's calls (`new cache.fs.ReadStream(path)` works, as with fs). */
export function streamClasses(base: StreamFs, isHandle: (x: unknown) => x is FileHandle): StreamClasses {
  class ReadStream extends NodeReadStream {
    constructor(path: unknown, options?: unknown) {
      super(path, streamOptions(base, options, isHandle));
    }
  }
  class WriteStream extends NodeWriteStream {
    constructor(path: unknown, options?: unknown) {
      super(path, streamOptions(base, options, isHandle));
    }
  }
  return { ReadStream, WriteStream };
}

function cacheStreams(handle: FileHandle): StreamClasses {
  return (handle.ctx.cache.fs as unknown as StreamClasses);
}

/** FileHandle.createReadStream: the handle's descriptor, closed with the stream unless autoClose is false. */
export function handleReadStream(handle: FileHandle, options: unknown): fs.ReadStream {
  return new (cacheStreams(handle).ReadStream)(null, { ...optionsObject(options), fd: handle });
}

export function handleWriteStream(handle: FileHandle, options: unknown): fs.WriteStream {
  return new (cacheStreams(handle).WriteStream)(null, { ...optionsObject(options), fd: handle });
}
