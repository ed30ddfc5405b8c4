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

const SLASH = 0x2f;
const DOT = 0x2e;

/** p[from…] has no empty, `.` or `..` part and no trailing slash: normalising would not change it. */
export function isNormal(p: string, from: number): boolean {
  let start = from;
  for (let i = from; i <= p.length; i++) {
    const c = i < p.length ? p.charCodeAt(i) : SLASH;
    if (c !== SLASH) continue;
    const n = i - start;
    if (n === 0 || (n <= 2 && p.charCodeAt(start) === DOT && (n === 1 || p.charCodeAt(start + 1) === DOT))) return false;
    start = i + 1;
  }
  return true;
}

/**
 * The key of a path that needs no normalising (the common case: every call
 * the hook routes, a library's own joined paths), or null. The same key the
 * general path below gives, without resolve, relative and their strings.
 */
function plainKey(root: string, shown: string): string | null {
  let from = 0;
  if (shown.charCodeAt(0) === SLASH) {
    if (!shown.startsWith(root)) return null;
    from = root.length;
    if (root.charCodeAt(from - 1) !== SLASH && shown.charCodeAt(from++) !== SLASH) return null; // `${root}x` is elsewhere
    if (from >= shown.length) return null; // the root itself
  }
  if (!isNormal(shown, from)) return null;
  const key = from === 0 ? shown : shown.slice(from);
  // UTF-16 units of at most 3 UTF-8 bytes each: most paths are short enough not to count their bytes.
  return key.length * 3 <= PATH_BYTES_MAX || Buffer.byteLength(key) <= PATH_BYTES_MAX ? key : null;
}

/** Resolves `path` inside `root`, or throws EACCES (escapes) / ENAMETOOLONG / ENOENT (empty). */
export function confine(root: string, value: unknown, syscall: string, argName = 'path'): ConfinedPath {
  const shown = pathArgument(argName, value);
  if (shown.length === 0) throw systemError('ENOENT', syscall, shown);
  const plain = plainKey(root, shown);
  if (plain !== null) return { key: plain, os: plain, shown };
  let rel: string;
  if (isAbsolute(shown)) {
    rel = relative(root, resolve(shown)); // a backslash is a character of a name here, as for the kernel
    if (rel === '..' || rel.startsWith('../') || isAbsolute(rel)) { // a name like `..x` or `...` is inside
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
