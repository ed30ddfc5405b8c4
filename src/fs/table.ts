/**
 * The table of cache.fs: every operation once, with the faces node:fs gives
 * it. `S` is the Sync function on cache.fs (`openSync`), `C` the callback
 * function on cache.fs (`open`), `P` the function on cache.fs.promises, `H`
 * the FileHandle method (named in `handle`). The functions of cache.fs,
 * cache.fs.promises and FileHandle.prototype are derived from this list
 * (faces.ts), and docs/api.md is checked against it.
 */
import * as fs from 'node:fs';
import type { FsContext } from './context';
import { callbackFace, handleFace, promiseFace, syncFace } from './faces';
import { FileHandle } from './fileHandle';
import { argType } from './nodeErrors';
import { call, type Op, stepsOp, type Steps } from './op';
import { opendirOp } from './dir';
import {
  appendFileOp, closeOp, fdatasyncOp, fsyncOp, ftruncateOp, openOp, readFileOp, readOp, readvOp, writeFileOp, writeOp, writevOp,
} from './ops/data';
import {
  accessOp, chmodOps, chownOps, copyFileOp, cpOp, existsOp, fchmodOp, fchownOp, fstatOp, futimesOp, linkOp, mkdirOp, mkdtempOp,
  readdirOp, readlinkOp, realpathOps, renameOp, rmdirOp, rmOp, statfsOp, statOps, symlinkOp, truncateOp, unlinkOp, utimesOps,
} from './ops/names';
import { validatePath } from './validate';

export interface Entry {
  op: Op;
  faces: string;
  /** The FileHandle method of this op (H), and the syscall a closed handle names. */
  handle?: [method: string, syscall: string];
}

/** openAsBlob: the file's bytes as they are now (through the cache), in a Blob. */
const openAsBlobOp = stepsOp<{ path: string | Buffer; type: string }, Blob>({
  name: 'openAsBlob',
  parse: (_face, _n, path, options) => {
    const p = validatePath(path);
    const type = (options as { type?: unknown } | undefined)?.type ?? '';
    if (typeof type !== 'string') throw argType('options.type', 'of type string', type);
    return { path: p, type };
  },
  *steps(_ctx, p): Steps<Blob> {
    const bytes: Buffer = yield call(readFileOp, { path: p.path, fd: null, encoding: null, flag: fs.constants.O_RDONLY });
    return new Blob([bytes], { type: p.type });
  },
});

export const TABLE: readonly Entry[] = [
  { op: openOp, faces: 'SCP' },
  { op: closeOp, faces: 'SC' },
  { op: readOp, faces: 'SCH', handle: ['read', 'read'] },
  { op: readvOp, faces: 'SCH', handle: ['readv', 'read'] },
  { op: writeOp, faces: 'SCH', handle: ['write', 'write'] },
  { op: writevOp, faces: 'SCH', handle: ['writev', 'write'] },
  { op: fsyncOp, faces: 'SCH', handle: ['sync', 'fsync'] },
  { op: fdatasyncOp, faces: 'SCH', handle: ['datasync', 'fdatasync'] },
  { op: ftruncateOp, faces: 'SCH', handle: ['truncate', 'ftruncate'] },
  { op: fstatOp, faces: 'SCH', handle: ['stat', 'fstat'] },
  { op: fchmodOp, faces: 'SCH', handle: ['chmod', 'fchmod'] },
  { op: fchownOp, faces: 'SCH', handle: ['chown', 'fchown'] },
  { op: futimesOp, faces: 'SCH', handle: ['utimes', 'futime'] },
  { op: readFileOp, faces: 'SCPH', handle: ['readFile', 'read'] },
  { op: writeFileOp, faces: 'SCPH', handle: ['writeFile', 'write'] },
  { op: appendFileOp, faces: 'SCPH', handle: ['appendFile', 'write'] },
  ...statOps.map((op) => ({ op, faces: 'SCP' })),
  { op: statfsOp, faces: 'SCP' },
  { op: accessOp, faces: 'SCP' },
  { op: existsOp, faces: 'SC' },
  { op: realpathOps.js, faces: 'SCP' },
  { op: readlinkOp, faces: 'SCP' },
  { op: mkdtempOp, faces: 'SCP' },
  { op: readdirOp, faces: 'SCP' },
  { op: opendirOp, faces: 'SCP' },
  { op: mkdirOp, faces: 'SCP' },
  { op: unlinkOp, faces: 'SCP' },
  { op: renameOp, faces: 'SCP' },
  { op: linkOp, faces: 'SCP' },
  { op: symlinkOp, faces: 'SCP' },
  { op: rmdirOp, faces: 'SCP' },
  { op: rmOp, faces: 'SCP' },
  { op: truncateOp, faces: 'SCP' },
  { op: copyFileOp, faces: 'SCP' },
  { op: cpOp, faces: 'SCP' },
  ...chmodOps.map((op) => ({ op, faces: 'SCP' })),
  ...chownOps.map((op) => ({ op, faces: 'SCP' })),
  ...utimesOps.map((op) => ({ op, faces: 'SCP' })),
  { op: openAsBlobOp, faces: 'B' },
];

type Fn = (...args: any[]) => any;

/** The derived functions of cache.fs (Sync and callback faces, and openAsBlob). */
export function fsFunctions(ctx: FsContext): Record<string, Fn> {
  const out: Record<string, Fn> = {};
  for (const { op, faces } of TABLE) {
    if (faces.includes('S')) out[`${op.name}Sync`] = syncFace(ctx, op);
    if (faces.includes('C')) out[op.name] = callbackFace(ctx, op);
    if (faces.includes('B')) out[op.name] = promiseFace(ctx, op);
  }
  // realpath.native: the same core, failing as the kernel's realpath does.
  (out.realpath as Fn & { native?: Fn }).native = callbackFace(ctx, realpathOps.native);
  (out.realpathSync as Fn & { native?: Fn }).native = syncFace(ctx, realpathOps.native);
  return out;
}

/** The derived functions of cache.fs.promises. */
export function promiseFunctions(ctx: FsContext): Record<string, Fn> {
  const out: Record<string, Fn> = {};
  for (const { op, faces } of TABLE) if (faces.includes('P')) out[op.name] = promiseFace(ctx, op);
  return out;
}

// The FileHandle faces, on its prototype: one method per H entry.
for (const { op, handle } of TABLE) {
  if (!handle) continue;
  Object.defineProperty(FileHandle.prototype, handle[0], { value: handleFace(op, handle[1]), writable: true, configurable: true });
}
