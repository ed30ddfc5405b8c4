/**
 * The data calls: descriptors (open, close, read, readv, write, writev,
 * fsync, fdatasync, ftruncate) over the cache's data path (cache.handles,
 * cache.io), and the whole-file calls built from them (readFile, writeFile,
 * appendFile). Each is one table entry; faces.ts derives the rest.
 */
import { constants } from 'node:fs';
import type { FsContext } from '../context';
import { argType } from '../nodeErrors';
import { afterTransaction, call, defineOp, type Face, LATER, stepsOp, type Steps } from '../op';
import {
  fileData, readArgs, type ReadArgs, readFileOptions, type ReadFileOptions, truncateLength, writeArgs, writeFileOptions,
  type WriteFileOptions,
} from '../args';
import { bytesOf, checkAborted, isArrayBufferView, parseFlags, parseMode, validateBufferArray, validateFd, validatePath } from '../validate';
import { FileHandle } from '../fileHandle';

const { O_APPEND, O_CREAT, O_EXCL, O_TRUNC } = constants;

export interface OpenArgs {
  path: string | Buffer;
  flags: number;
  mode: number;
}

export const openOp = defineOp<OpenArgs, number>({
  name: 'open',
  parse: (_face, _n, path, flags, mode) => ({
    path: validatePath(path),
    flags: parseFlags(flags),
    mode: parseMode(mode, 'mode', 0o666),
  }),
  sync: (ctx, p) => ctx.cache.handles.open(p.path, p.flags, p.mode),
  // Truncation is not transactional: an open that truncates waits for a transaction to end.
  async: async (ctx, p) => {
    if ((p.flags & O_TRUNC) !== 0) await ctx.cache.txs.transactionEnded();
    return ctx.cache.handles.open(p.path, p.flags, p.mode);
  },
  promised: (fd, _p, ctx) => new FileHandle(ctx.cache, fd),
});

export interface FdArgs {
  fd: number;
}

const fdArgs = (_face: Face, _n: number, fd: unknown): FdArgs => ({ fd: validateFd(fd) });

export const closeOp = defineOp<FdArgs, void>({
  name: 'close',
  parse: fdArgs,
  sync: (ctx, p) => ctx.cache.handles.closeDescriptor(p.fd),
  callbackOptional: true,
});

export interface ReadCall extends ReadArgs {
  fd: number;
}

export const readOp = defineOp<ReadCall, number>({
  name: 'read',
  parse: (face, n, fd, a, b, c, d) => {
    const f = validateFd(fd);
    // One object per call on the hit path: the parsed arguments get the descriptor, no copy.
    const r = readArgs(face === 'promise' ? 'handle' : face, n - 1, a, b, c, d) as ReadCall;
    r.fd = f;
    return r;
  },
  // A read of nothing returns 0 without looking at the descriptor, as Node's does.
  sync: (ctx, p) => (p.length === 0 ? 0 : ctx.cache.io.readSync(p.fd, p.bytes, p.offset, p.length, p.position)),
  async: (ctx, p) => (p.length === 0 ? Promise.resolve(0) : ctx.cache.io.read(p.fd, p.bytes, p.offset, p.length, p.position)),
  immediate: (ctx, p) => (p.length === 0 ? 0 : ctx.cache.io.readNow(p.fd, p.bytes, p.offset, p.length, p.position) ?? LATER),
  callbackArgs: (n, p) => [n, p.buffer],
  promised: (bytesRead, p) => ({ bytesRead, buffer: p.buffer }),
});

export interface WriteCall {
  fd: number;
  data: unknown;
  bytes: Uint8Array;
  offset: number;
  length: number;
  position: number | null;
}

export const writeOp = defineOp<WriteCall, number>({
  name: 'write',
  parse: (face, _n, fd, data, a, b, c) => {
    const f = validateFd(fd);
    const w = writeArgs(data, a, b, c, face === 'sync' ? 'sync' : 'handle') as WriteCall;
    w.fd = f;
    w.data = data;
    return w;
  },
  sync: (ctx, p) => ctx.cache.io.writeSync(p.fd, p.bytes, p.offset, p.length, p.position),
  async: (ctx, p) => ctx.cache.io.write(p.fd, p.bytes, p.offset, p.length, p.position),
  immediate: (ctx, p) => ctx.cache.io.writeNow(p.fd, p.bytes, p.offset, p.length, p.position) ?? LATER,
  callbackArgs: (n, p) => [n, p.data],
  promised: (bytesWritten, p) => ({ bytesWritten, buffer: p.data }),
});

export interface VectorCall {
  fd: number;
  buffers: NodeJS.ArrayBufferView[];
  position: number | null;
}

const vectorArgs = (_face: Face, _n: number, fd: unknown, buffers: unknown, position: unknown): VectorCall => ({
  fd: validateFd(fd),
  buffers: validateBufferArray(buffers),
  position: typeof position === 'number' && position >= 0 ? position : null,
});

/** readv: fills the buffers in order until one is not filled (the end of the file). */
export const readvOp = stepsOp<VectorCall, number>({
  name: 'readv',
  parse: vectorArgs,
  *steps(_ctx, p): Steps<number> {
    let total = 0;
    for (const view of p.buffers) {
      const bytes = bytesOf(view);
      if (bytes.byteLength === 0) continue;
      const position = p.position === null ? null : p.position + total;
      const n: number = yield call(readOp, { fd: p.fd, buffer: view, bytes, offset: 0, length: bytes.byteLength, position });
      total += n;
      if (n < bytes.byteLength) break;
    }
    return total;
  },
  callbackArgs: (n, p) => [n, p.buffers],
  promised: (bytesRead, p) => ({ bytesRead, buffers: p.buffers }),
});

/** writev: the buffers as one write call, so it is atomic as one (G2). */
export const writevOp = defineOp<VectorCall, number>({
  name: 'writev',
  parse: vectorArgs,
  sync: (ctx, p) => {
    const bytes = gather(p.buffers);
    return ctx.cache.io.writeSync(p.fd, bytes, 0, bytes.byteLength, p.position);
  },
  async: (ctx, p) => {
    const bytes = gather(p.buffers);
    return ctx.cache.io.write(p.fd, bytes, 0, bytes.byteLength, p.position);
  },
  callbackArgs: (n, p) => [n, p.buffers],
  promised: (bytesWritten, p) => ({ bytesWritten, buffers: p.buffers }),
});

function gather(buffers: NodeJS.ArrayBufferView[]): Uint8Array {
  return buffers.length === 1 ? bytesOf(buffers[0]) : Buffer.concat(buffers.map(bytesOf));
}

export const fsyncOp = defineOp<FdArgs, void>({
  name: 'fsync',
  parse: fdArgs,
  sync: (ctx, p) => ctx.cache.io.fsyncSync(p.fd, 'fsync'),
  async: (ctx, p) => ctx.cache.io.fsync(p.fd, 'fsync'),
});

export const fdatasyncOp = defineOp<FdArgs, void>({
  name: 'fdatasync',
  parse: fdArgs,
  sync: (ctx, p) => ctx.cache.io.fsyncSync(p.fd, 'fdatasync'),
  async: (ctx, p) => ctx.cache.io.fsync(p.fd, 'fdatasync'),
});

export interface TruncateCall {
  fd: number;
  len: number;
}

const ftruncateSync = (ctx: FsContext, p: TruncateCall): void => ctx.cache.io.ftruncateSync(p.fd, p.len);

export const ftruncateOp = defineOp<TruncateCall, void>({
  name: 'ftruncate',
  parse: (_face, _n, fd, len) => ({ fd: validateFd(fd), len: truncateLength(len) }),
  sync: ftruncateSync,
  async: afterTransaction(ftruncateSync),
});

/** The core of a truncating writeFile (one call site per form): the file's contents become the bytes. */
interface ReplaceCall {
  fd: number;
  bytes: Uint8Array;
}

/** The parse of a step that whole-file calls take and no caller can: it has no public face. */
const noFace = (name: string) => (): never => {
  throw new Error(`internal: ${name} has no public face`);
};

const replaceOp = defineOp<ReplaceCall, void>({
  name: 'replace',
  parse: noFace('replace'),
  sync: (ctx, p) => ctx.cache.io.replaceSync(p.fd, p.bytes, 0, p.bytes.byteLength),
  async: (ctx, p) => ctx.cache.io.replace(p.fd, p.bytes, 0, p.bytes.byteLength),
});

// ------------------------------------------------------------------ whole files

/** A path, a descriptor (the Sync and callback faces) or a FileHandle (the promise face). */
function fileTarget(face: Face, file: unknown): { path: string | Buffer | null; fd: number | null } {
  if (file instanceof FileHandle) {
    if (face === 'promise' || face === 'handle') return { path: null, fd: file.liveFd('read') };
  }
  // Node's isFd: an int32 is a descriptor, any other value a path (fs.promises takes no descriptors: a number is a bad path there).
  if (face !== 'promise' && typeof file === 'number' && (file | 0) === file) return { path: null, fd: validateFd(file) };
  if (face === 'promise' && typeof file === 'object' && file !== null && !(file instanceof URL) && !(file instanceof Uint8Array)) {
    throw argType('path', 'of type string or an instance of Buffer, URL, or FileHandle', file);
  }
  return { path: validatePath(file), fd: null };
}

export interface ReadFileCall extends ReadFileOptions {
  path: string | Buffer | null;
  fd: number | null;
}

/** Reads from the descriptor's position (0 for a path) to the end. */
export const readFileOp = stepsOp<ReadFileCall, Buffer | string>({
  name: 'readFile',
  parse: (face, _n, file, options) => {
    const target = fileTarget(face, file);
    const o = readFileOptions(options);
    // Built field by field: in Node 20, {...a, ...b} costs microseconds (the second spread takes V8's slow path).
    return { path: target.path, fd: target.fd, encoding: o.encoding, flag: o.flag, signal: o.signal };
  },
  *steps(ctx, p): Steps<Buffer | string> {
    checkAborted(p.signal);
    const own = p.fd === null;
    const fd: number = own ? yield call(openOp, { path: p.path!, flags: p.flag, mode: 0o666 }) : p.fd!;
    try {
      const io = ctx.cache.io;
      ctx.cache.handles.descriptor(fd, 'fstat'); // Node's readFile fstats first: a bad descriptor is EBADF fstat
      const from = io.positionOf(fd); // EISDIR 'read' on a directory, as Node's
      const size = Math.max(0, io.sizeOf(fd) - from);
      const out = Buffer.allocUnsafe(size);
      let got = 0;
      while (got < size) {
        const n: number = yield call(readOp, { fd, buffer: out, bytes: out, offset: got, length: size - got, position: null });
        if (n === 0) break;
        got += n;
        checkAborted(p.signal);
      }
      const bytes = got === size ? out : out.subarray(0, got);
      return p.encoding ? bytes.toString(p.encoding as BufferEncoding) : bytes;
    } finally {
      if (own) yield call(closeOp, { fd });
    }
  },
});

export interface WriteFileCall extends WriteFileOptions {
  path: string | Buffer | null;
  fd: number | null;
  bytes: Uint8Array;
  /** The promise forms' iterable data, gathered into `bytes` first. */
  source?: AsyncIterable<unknown> | Iterable<unknown>;
}

/** The steps of a creating writeFile (OpenFiles.openUnnamed and name), which have no public face. */
interface CreateCall {
  path: string | Buffer;
  mode: number;
}

// writeFile is not transactional: its Sync form refuses during a transaction, the others wait for its end, before
// the unnamed file is made.
const openUnnamedSync = (ctx: FsContext, p: CreateCall) => {
  ctx.cache.txs.refuseDuringTransaction('writeFile');
  return ctx.cache.handles.openUnnamed(p.path, p.mode);
};

const openUnnamedOp = defineOp<CreateCall, number | null>({
  name: 'open',
  parse: noFace('openUnnamed'),
  sync: openUnnamedSync,
  async: afterTransaction(openUnnamedSync),
});

const nameOp = defineOp<{ fd: number; exclusive: boolean }, boolean>({
  name: 'open',
  parse: noFace('name'),
  sync: (ctx, p) => ctx.cache.handles.name(p.fd, p.exclusive),
});

/**
 * A truncating writeFile of a path that names nothing, as one step under
 * process death: the bytes go to a cached file with no name yet, which is
 * linked under the path once they are committed (docs/format.md §6,
 * UNNAMED). Opening with O_CREAT would put an empty file on the disk first,
 * and a SIGKILL before the bytes leaves it empty for good (isomorphic-git
 * keeps such an object file: it tests existence before writing). The bytes
 * are plain appends to an empty file (no undo): until the link, no state of
 * the file is anybody's, and recovery frees it whole. Answers false, having
 * written nothing anywhere, when the ordinary path must run.
 */
function* createWhole(p: WriteFileCall): Steps<boolean> {
  const fd: number | null = yield call(openUnnamedOp, { path: p.path!, mode: p.mode });
  if (fd === null) return false;
  try {
    yield call(writeOp, { fd, data: p.bytes, bytes: p.bytes, offset: 0, length: p.bytes.byteLength, position: null });
    if (p.flush) yield call(fsyncOp, { fd });
    return (yield call(nameOp, { fd, exclusive: (p.flag & O_EXCL) !== 0 })) as boolean;
  } finally {
    yield call(closeOp, { fd });
  }
}

/**
 * By path: opened without O_TRUNC, and a truncating flag replaces the
 * contents in one core call (cache.io.replace), or creates the file whole
 * when it does not exist; otherwise (an append flag, or a descriptor or
 * FileHandle, which write at their position) one write.
 */
function* writeWhole(_ctx: FsContext, p: WriteFileCall): Steps<void> {
  checkAborted(p.signal);
  if (p.fd !== null) {
    yield call(writeOp, { fd: p.fd, data: p.bytes, bytes: p.bytes, offset: 0, length: p.bytes.byteLength, position: null });
    return;
  }
  if ((p.flag & (O_CREAT | O_TRUNC | O_APPEND)) === (O_CREAT | O_TRUNC) && (yield* createWhole(p))) return;
  const fd: number = yield call(openOp, { path: p.path!, flags: p.flag & ~O_TRUNC, mode: p.mode });
  try {
    if ((p.flag & O_TRUNC) !== 0) yield call(replaceOp, { fd, bytes: p.bytes });
    else yield call(writeOp, { fd, data: p.bytes, bytes: p.bytes, offset: 0, length: p.bytes.byteLength, position: null });
    if (p.flush) yield call(fsyncOp, { fd });
  } finally {
    yield call(closeOp, { fd });
  }
}

/** The data of the promise forms may also be an (async) iterable of chunks, or a stream, as in Node's. */
function isChunkSource(data: unknown): data is AsyncIterable<unknown> | Iterable<unknown> {
  return typeof data === 'object' && data !== null && !isArrayBufferView(data) &&
    (typeof (data as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function' || typeof (data as Iterable<unknown>)[Symbol.iterator] === 'function');
}

function wholeArgs(defaultFlag: 'w' | 'a') {
  return (face: Face, _n: number, file: unknown, data: unknown, options: unknown): WriteFileCall => {
    const target = fileTarget(face, file);
    const o = writeFileOptions(options, defaultFlag);
    // appendFile to a descriptor appends whatever flag is given, as Node's.
    if (defaultFlag === 'a' && target.fd !== null) o.flag = parseFlags('a');
    const chunks = (face === 'promise' || face === 'handle') && isChunkSource(data);
    // Field by field, not {...target, ...o}: in Node 20 a second spread in one literal costs microseconds.
    const call: WriteFileCall = {
      path: target.path, fd: target.fd, encoding: o.encoding, flag: o.flag, mode: o.mode, flush: o.flush, signal: o.signal,
      bytes: chunks ? new Uint8Array(0) : fileData(data, o.encoding),
    };
    if (chunks) call.source = data as AsyncIterable<unknown> | Iterable<unknown>;
    return call;
  };
}

/**
 * The chunks of an iterable, gathered before anything is written: the
 * whole file is then one replace (or one write), as atomic as a buffer's.
 */
async function gatherChunks(source: AsyncIterable<unknown> | Iterable<unknown>, encoding: BufferEncoding, signal?: AbortSignal): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of source as AsyncIterable<unknown>) {
    checkAborted(signal);
    parts.push(fileData(chunk, encoding));
  }
  return parts.length === 1 ? parts[0] : Buffer.concat(parts);
}

function wholeFileOp(name: 'writeFile' | 'appendFile', defaultFlag: 'w' | 'a') {
  const op = stepsOp<WriteFileCall, void>({ name, parse: wholeArgs(defaultFlag), steps: writeWhole });
  const runAsync = op.async!;
  return defineOp<WriteFileCall, void>({
    ...op,
    async: (ctx, p) => (p.source === undefined ? runAsync(ctx, p)
      : gatherChunks(p.source, p.encoding, p.signal).then((bytes) => runAsync(ctx, { ...p, bytes, source: undefined }))),
  });
}

export const writeFileOp = wholeFileOp('writeFile', 'w');

export const appendFileOp = wholeFileOp('appendFile', 'a');
