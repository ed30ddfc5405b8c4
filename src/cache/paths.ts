/**
 * Paths of cache.fs calls, confined to the cache's root (G7). A path is
 * normalised lexically here; symlinks are confined by the kernel when the file
 * is opened (openat2 with RESOLVE_BENEATH in the addon).
 */
import { isAbsolute, posix, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { invalidType, invalidValue, systemError } from '../errors';
import { PATH_BYTES_MAX } from '../region/format';

export interface ConfinedPath {
  /** Normalised, relative to the root, no trailing slash: the file-table key. */
  key: string;
  /** What to hand the kernel (keeps a trailing slash, which matters for ENOTDIR). */
  os: string;
  /** What error messages show: the path as the caller gave it. */
  shown: string;
}

export function pathArgument(name: string, value: unknown): string {
  if (typeof value === 'string') {
    if (value.includes('\0')) throw invalidValue(name, 'must be a string without null bytes', value);
    return value;
  }
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (value instanceof URL) {
    if (value.protocol !== 'file:') throw invalidType(name, 'a file: URL', value);
    return fileURLToPath(value);
  }
  throw invalidType(name, 'of type string or an instance of Buffer or URL', value);
}

/** Resolves `path` inside `root`, or throws EACCES (escapes) / ENAMETOOLONG / ENOENT (empty). */
export function confine(root: string, value: unknown, syscall: string, argName = 'path'): ConfinedPath {
  const shown = pathArgument(argName, value);
  if (shown.length === 0) throw systemError('ENOENT', syscall, shown);
  let rel: string;
  if (isAbsolute(shown)) {
    rel = relative(root, resolve(shown)).split('\\').join('/');
    if (rel.startsWith('..') || isAbsolute(rel)) {
      throw systemError('EACCES', syscall, shown, undefined, 'permission denied (the path is outside the cache root)');
    }
    if (shown.endsWith('/') && rel !== '') rel += '/';
  } else {
    rel = posix.normalize(shown);
  }
  if (rel === '..' || rel.startsWith('../')) {
    throw systemError('EACCES', syscall, shown, undefined, 'permission denied (the path leads out of the cache root)');
  }
  const os = rel === '' || rel === './' ? '.' : rel.replace(/^\.\//, '');
  const key = os.replace(/\/+$/, '') || '.';
  if (Buffer.byteLength(key) > PATH_BYTES_MAX) {
    throw systemError('ENAMETOOLONG', syscall, shown, undefined, `name too long (riocache paths are at most ${PATH_BYTES_MAX} bytes)`);
  }
  return { key, os, shown };
}

/** True for a path the file table may hold: relative, normalised, no dot parts, not too long. */
export function checkRelativePath(path: string): boolean {
  if (path.length === 0 || path.startsWith('/') || path.includes('\0')) return false;
  if (Buffer.byteLength(path) > PATH_BYTES_MAX) return false;
  return path.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}
