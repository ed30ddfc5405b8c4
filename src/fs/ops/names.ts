/**
 * The calls that are not data I/O: their facade (Node's argument parsing and
 * options, the encoding of returned names) over the cores of
 * src/cache/namespaceCore.ts (`ctx.names` for paths, `ctx.meta` for
 * descriptors). The cores are synchronous; a call that changes the namespace
 * or the metadata waits, in its asynchronous faces, for a transaction in
 * progress to end.
 */
import type * as fs from 'node:fs';
import { constants } from 'node:fs';
import type { CpCoreOptions } from '../../cache/namespaceCore';
import { systemError } from '../../errors';
import type { FsContext } from '../context';
import { argValue, coded } from '../nodeErrors';
import { afterTransaction, defineOp, type Face, type Op } from '../op';
import { truncateLength } from '../args';
import {
  accessMode, encodeName, type Encoding, getOptions, parseMode, toUnixTimestamp, validateBoolean, validateFd, validateFunction,
  validateId, validateInteger, validateObject, validatePath,
} from '../validate';

type PathArg = string | Buffer;

/** A call that changes something: the Sync face refuses during a transaction (the core does), the others wait. */
function changing<P, R>(op: Omit<Op<P, R>, 'async'>): Op<P, R> {
  return { ...op, async: afterTransaction(op.sync) };
}

// ------------------------------------------------------------------ stat and friends

interface StatCall {
  path: PathArg;
  bigint: boolean;
  throwIfNoEntry: boolean;
}

function statArgs(_face: Face, _n: number, path: unknown, options: unknown): StatCall {
  const o = (options ?? {}) as { bigint?: unknown; throwIfNoEntry?: unknown };
  return { path: validatePath(path), bigint: Boolean(o.bigint), throwIfNoEntry: o.throwIfNoEntry !== false };
}

function statOp(name: 'stat' | 'lstat', follow: boolean): Op<StatCall, fs.Stats | fs.BigIntStats | undefined> {
  return defineOp({
    name,
    parse: statArgs,
    sync: (ctx, p) => {
      try {
        return ctx.names.stat(p.path, follow, p.bigint);
      } catch (err) {
        // throwIfNoEntry: false (the Sync forms): a missing entry is undefined, not an error.
        const code = (err as NodeJS.ErrnoException).code;
        if (!p.throwIfNoEntry && (code === 'ENOENT' || code === 'ENOTDIR')) return undefined;
        throw err;
      }
    },
  });
}

export const statOps = [statOp('stat', true), statOp('lstat', false)];

export const fstatOp = defineOp<{ fd: number; bigint: boolean }, fs.Stats | fs.BigIntStats>({
  name: 'fstat',
  parse: (_face, _n, fd, options) => ({ fd: validateFd(fd), bigint: Boolean((options as { bigint?: unknown } | null)?.bigint) }),
  sync: (ctx, p) => ctx.meta.fstat(p.fd, p.bigint),
});

export const statfsOp = defineOp<{ path: PathArg; bigint: boolean }, fs.StatsFs | fs.BigIntStatsFs>({
  name: 'statfs',
  parse: (_face, _n, path, options) => ({ path: validatePath(path), bigint: Boolean((options as { bigint?: unknown } | null)?.bigint) }),
  sync: (ctx, p) => ctx.names.statfs(p.path, p.bigint),
});

export const accessOp = defineOp<{ path: PathArg; mode: number }, void>({
  name: 'access',
  parse: (_face, _n, path, mode) => ({ path: validatePath(path), mode: accessMode(mode, 7, constants.F_OK) }),
  sync: (ctx, p) => ctx.names.access(p.path, p.mode),
});

/** exists: never throws for a bad path (false), and its callback takes no error. */
export const existsOp = defineOp<{ path: PathArg | null }, boolean>({
  name: 'exists',
  parse: (_face, _n, path) => {
    try {
      return { path: validatePath(path) };
    } catch {
      return { path: null };
    }
  },
  sync: (ctx, p) => (p.path === null ? false : ctx.names.exists(p.path)),
  callbackWithoutError: true,
});

// ------------------------------------------------------------------ names returned

interface NameCall {
  path: PathArg;
  encoding: Encoding | undefined;
}

const nameArgs = (_face: Face, _n: number, path: unknown, options: unknown): NameCall => {
  const o = getOptions(options, {});
  return { path: validatePath(path), encoding: o.encoding };
};

/**
 * realpath: Node's JavaScript realpath (realpathSync, realpath) fails as the
 * lstat of the component that is missing; the kernel's (realpath.native and
 * fs.promises.realpath) fails as realpath of the path given.
 */
function realpathOp(native: boolean) {
  return defineOp<NameCall & { native: boolean }, string | Buffer>({
    name: 'realpath',
    parse: (face, n, path, options) => ({ ...nameArgs(face, n, path, options), native: native || face === 'promise' }),
    sync: (ctx, p) => {
      try {
        return encodeName(ctx.names.realpath(p.path), p.encoding);
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        if (!p.native || typeof e.errno !== 'number' || typeof e.code !== 'string') throw err;
        throw systemError(e.code, 'realpath', typeof p.path === 'string' ? p.path : p.path.toString());
      }
    },
  });
}

export const realpathOps = { js: realpathOp(false), native: realpathOp(true) };

export const readlinkOp = defineOp<NameCall, string | Buffer>({
  name: 'readlink',
  parse: nameArgs,
  sync: (ctx, p) => encodeName(ctx.names.readlink(p.path), p.encoding),
});

export const mkdtempOp = changing<{ prefix: string; encoding: Encoding | undefined }, string | Buffer>({
  name: 'mkdtemp',
  parse: (_face, _n, prefix, options) => {
    const o = getOptions(options, {});
    const p = validatePath(prefix, 'prefix');
    return { prefix: typeof p === 'string' ? p : p.toString(), encoding: o.encoding };
  },
  sync: (ctx, p) => encodeName(ctx.names.mkdtemp(p.prefix), p.encoding),
});

interface ReaddirCall {
  path: PathArg;
  encoding: Encoding | undefined;
  withFileTypes: boolean;
  recursive: boolean;
  /** How Node's face of the call walks a recursive listing. */
  order: 'queue' | 'stack';
}

export function readdirArgs(path: unknown, options: unknown, face: Face = 'sync'): ReaddirCall {
  const o = getOptions(options, {}, 'one of type string or object') as { encoding?: Encoding; withFileTypes?: unknown; recursive?: unknown };
  if (o.recursive != null) validateBoolean(o.recursive, 'options.recursive');
  return {
    path: validatePath(path), encoding: o.encoding, withFileTypes: Boolean(o.withFileTypes), recursive: Boolean(o.recursive),
    order: face === 'promise' ? 'stack' : 'queue',
  };
}

/** Names (or Dirents) in the encoding asked for ('buffer' gives Buffers). */
export function readdirCore(ctx: FsContext, p: ReaddirCall): (string | Buffer)[] | fs.Dirent[] {
  const entries = ctx.names.readdir(p.path, p.withFileTypes, p.recursive, p.order);
  if (!p.encoding || p.encoding === 'utf8' || p.encoding === 'utf-8') return entries;
  if (p.withFileTypes) {
    for (const d of entries as fs.Dirent[]) (d as { name: unknown }).name = encodeName(d.name, p.encoding);
    return entries;
  }
  return (entries as string[]).map((n) => encodeName(n, p.encoding));
}

export const readdirOp = defineOp<ReaddirCall, (string | Buffer)[] | fs.Dirent[]>({
  name: 'readdir',
  parse: (face, _n, path, options) => readdirArgs(path, options, face),
  sync: readdirCore,
});

// ------------------------------------------------------------------ changes

export const mkdirOp = changing<{ path: PathArg; recursive: boolean; mode: number }, string | undefined>({
  name: 'mkdir',
  parse: (_face, _n, path, options) => {
    let mode = 0o777;
    let recursive: unknown = false;
    if (typeof options === 'number' || typeof options === 'string') mode = parseMode(options, 'mode');
    else if (options) {
      const o = options as { recursive?: unknown; mode?: unknown };
      if (o.recursive !== undefined) recursive = o.recursive;
      if (o.mode !== undefined) mode = parseMode(o.mode, 'mode');
    }
    const p = validatePath(path);
    validateBoolean(recursive, 'options.recursive');
    return { path: p, recursive, mode };
  },
  sync: (ctx, p) => ctx.names.mkdir(p.path, p.recursive, p.mode),
});

const pathOnly = (_face: Face, _n: number, path: unknown) => ({ path: validatePath(path) });

export const unlinkOp = changing<{ path: PathArg }, void>({
  name: 'unlink',
  parse: pathOnly,
  sync: (ctx, p) => ctx.names.unlink(p.path),
});

export const renameOp = changing<{ from: PathArg; to: PathArg }, void>({
  name: 'rename',
  parse: (_face, _n, from, to) => ({ from: validatePath(from, 'oldPath'), to: validatePath(to, 'newPath') }),
  sync: (ctx, p) => ctx.names.rename(p.from, p.to),
});

export const linkOp = changing<{ from: PathArg; to: PathArg }, void>({
  name: 'link',
  parse: (_face, _n, from, to) => ({ from: validatePath(from, 'existingPath'), to: validatePath(to, 'newPath') }),
  sync: (ctx, p) => ctx.names.link(p.from, p.to),
});

export const symlinkOp = changing<{ target: string; path: PathArg; type: string | null }, void>({
  name: 'symlink',
  parse: (_face, _n, target, path, type) => {
    if (type !== undefined && type !== null && !['dir', 'file', 'junction'].includes(type as string)) {
      throw coded(Error, 'ERR_FS_INVALID_SYMLINK_TYPE', `Symlink type must be one of "dir", "file", or "junction". Received "${String(type)}"`);
    }
    const t = validatePath(target, 'target');
    return { target: typeof t === 'string' ? t : t.toString(), path: validatePath(path), type: (type as string | undefined) ?? null };
  },
  sync: (ctx, p) => ctx.names.symlink(p.target, p.path, p.type),
});

/** rmdir: `recursive` (deprecated in Node) removes the tree, as rm -r does. */
export const rmdirOp = changing<{ path: PathArg; recursive: boolean }, void>({
  name: 'rmdir',
  parse: (_face, _n, path, options) => {
    const p = validatePath(path);
    if (options !== undefined) validateObject(options, 'options', true);
    const o = (options ?? {}) as { recursive?: unknown; maxRetries?: unknown; retryDelay?: unknown };
    const recursive = o.recursive ?? false;
    validateBoolean(recursive, 'options.recursive');
    if (o.maxRetries !== undefined) validateInteger(o.maxRetries, 'options.maxRetries', 0);
    if (o.retryDelay !== undefined) validateInteger(o.retryDelay, 'options.retryDelay', 0);
    return { path: p, recursive };
  },
  sync: (ctx, p) => {
    if (!p.recursive) return ctx.names.rmdir(p.path);
    ctx.names.stat(p.path, false, false); // a missing path is ENOENT (lstat), as Node's
    return ctx.names.rm(p.path, true, false);
  },
});

export const rmOp = changing<{ path: PathArg; recursive: boolean; force: boolean; lstatFirst: boolean }, void>({
  name: 'rm',
  parse: (face, _n, path, options) => {
    const p = validatePath(path);
    if (options !== undefined) validateObject(options, 'options', true);
    const o = (options ?? {}) as { recursive?: unknown; force?: unknown; maxRetries?: unknown; retryDelay?: unknown };
    const force = o.force ?? false;
    const recursive = o.recursive ?? false;
    validateBoolean(force, 'options.force');
    validateBoolean(recursive, 'options.recursive');
    if (o.maxRetries !== undefined) validateInteger(o.maxRetries, 'options.maxRetries', 0);
    if (o.retryDelay !== undefined) validateInteger(o.retryDelay, 'options.retryDelay', 0);
    return { path: p, recursive, force, lstatFirst: face !== 'sync' };
  },
  sync: (ctx, p) => ctx.names.rm(p.path, p.recursive, p.force, p.lstatFirst),
});

export const truncateOp = changing<{ path: PathArg | null; fd: number | null; len: number }, void>({
  name: 'truncate',
  parse: (_face, _n, path, len) => {
    // A descriptor is accepted (deprecated in Node: DEP0081) and means ftruncate.
    if (typeof path === 'number') return { path: null, fd: validateFd(path), len: truncateLength(len) };
    const p = validatePath(path);
    return { path: p, fd: null, len: truncateLength(len) };
  },
  sync: (ctx, p) => (p.fd !== null ? ctx.cache.io.ftruncateSync(p.fd, p.len) : ctx.names.truncate(p.path!, p.len)),
});

export const copyFileOp = changing<{ src: PathArg; dest: PathArg; mode: number }, void>({
  name: 'copyFile',
  parse: (_face, _n, src, dest, mode) => ({ src: validatePath(src, 'src'), dest: validatePath(dest, 'dest'), mode: accessMode(mode, 7, 0) }),
  sync: (ctx, p) => ctx.names.copyFile(p.src, p.dest, p.mode),
});

const cpBooleans = ['dereference', 'errorOnExist', 'force', 'preserveTimestamps', 'recursive', 'verbatimSymlinks'] as const;

export const cpOp = changing<{ src: PathArg; dest: PathArg; options: CpCoreOptions }, void>({
  name: 'cp',
  parse: (face, _n, src, dest, options) => {
    if (options !== undefined && options !== null) validateObject(options, 'options');
    const o = (options ?? {}) as Record<string, unknown>;
    const v: Record<string, unknown> = {
      dereference: false, errorOnExist: false, force: true, preserveTimestamps: false, recursive: false, verbatimSymlinks: false, mode: 0,
    };
    for (const key of cpBooleans) {
      if (o[key] === undefined) continue;
      validateBoolean(o[key], `options.${key}`);
      v[key] = o[key];
    }
    if (v.dereference === true && v.verbatimSymlinks === true) {
      throw coded(TypeError, 'ERR_INCOMPATIBLE_OPTION_PAIR', 'Option "dereference" cannot be used in combination with option "verbatimSymlinks"');
    }
    if (o.filter !== undefined) validateFunction(o.filter, 'options.filter');
    if (o.mode !== undefined) v.mode = accessMode(o.mode, 7, 0);
    const s = validatePath(src, 'src');
    const d = validatePath(dest, 'dest');
    const filter = (o.filter as CpCoreOptions['filter']) ?? null;
    const asynchronous = face !== 'sync';
    return { src: s, dest: d, options: { ...(v as Omit<CpCoreOptions, 'filter' | 'asynchronous'>), filter: filter && syncFilter(filter), asynchronous } };
  },
  sync: (ctx, p) => ctx.names.cp(p.src, p.dest, p.options),
});

/** The cores run a filter synchronously: one that returns a promise (allowed by Node's asynchronous cp) is refused by name. */
function syncFilter(filter: (src: string, dest: string) => unknown): (src: string, dest: string) => boolean {
  return (src, dest) => {
    const keep = filter(src, dest);
    if (keep !== null && typeof keep === 'object' && typeof (keep as Promise<unknown>).then === 'function') {
      throw argValue('options.filter', 'must return a boolean in cache.fs (the copy runs synchronously), not a promise', filter);
    }
    return Boolean(keep);
  };
}

// ------------------------------------------------------------------ metadata

export const chmodOps = [
  changing<{ path: PathArg; mode: number }, void>({
    name: 'chmod',
    parse: (_face, _n, path, mode) => ({ path: validatePath(path), mode: parseMode(mode, 'mode') }),
    sync: (ctx, p) => ctx.names.chmod(p.path, p.mode, true),
  }),
];

export const fchmodOp = changing<{ fd: number; mode: number }, void>({
  name: 'fchmod',
  parse: (_face, _n, fd, mode) => ({ fd: validateFd(fd), mode: parseMode(mode, 'mode') }),
  sync: (ctx, p) => ctx.meta.fchmod(p.fd, p.mode),
});

function chownOp(name: 'chown' | 'lchown', follow: boolean) {
  return changing<{ path: PathArg; uid: number; gid: number }, void>({
    name,
    parse: (_face, _n, path, uid, gid) => ({ path: validatePath(path), uid: validateId(uid, 'uid'), gid: validateId(gid, 'gid') }),
    sync: (ctx, p) => ctx.names.chown(p.path, p.uid, p.gid, follow),
  });
}

export const chownOps = [chownOp('chown', true), chownOp('lchown', false)];

export const fchownOp = changing<{ fd: number; uid: number; gid: number }, void>({
  name: 'fchown',
  parse: (_face, _n, fd, uid, gid) => ({ fd: validateFd(fd), uid: validateId(uid, 'uid'), gid: validateId(gid, 'gid') }),
  sync: (ctx, p) => ctx.meta.fchown(p.fd, p.uid, p.gid),
});

function utimesOp(name: 'utimes' | 'lutimes', follow: boolean) {
  return changing<{ path: PathArg; atime: number; mtime: number }, void>({
    name,
    // Node names utimes' bad times "time" and futimes' "atime"/"mtime": so do we.
    parse: (_face, _n, path, atime, mtime) => ({
      path: validatePath(path), atime: toUnixTimestamp(atime), mtime: toUnixTimestamp(mtime),
    }),
    sync: (ctx, p) => ctx.names.utimes(p.path, p.atime, p.mtime, follow),
  });
}

export const utimesOps = [utimesOp('utimes', true), utimesOp('lutimes', false)];

export const futimesOp = changing<{ fd: number; atime: number; mtime: number }, void>({
  name: 'futimes',
  parse: (_face, _n, fd, atime, mtime) => ({ fd: validateFd(fd), atime: toUnixTimestamp(atime, 'atime'), mtime: toUnixTimestamp(mtime, 'mtime') }),
  sync: (ctx, p) => ctx.meta.futimes(p.fd, p.atime, p.mtime),
});

/** promises.lchmod on Linux, as Node's: there is no lchmod(2). */
export const lchmodUnsupported = (): Promise<never> =>
  Promise.reject(coded(Error, 'ERR_METHOD_NOT_IMPLEMENTED', 'The lchmod() method is not implemented'));

