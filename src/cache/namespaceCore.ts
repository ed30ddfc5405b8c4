/**
 * The cores of the calls that are not data I/O, as the fs facade (src/fs)
 * calls them: arguments already validated and normalised the way Node's fs
 * does it (flags and modes as numbers, times in seconds, options as plain
 * values); paths still as the caller gave them (string, Buffer or URL),
 * confined to the root by the core (paths.ts). Each core is synchronous and
 * throws Node-shaped errors (systemError: code, errno, syscall, path, dest).
 *
 * Every core acts on the disk beneath the root and keeps the cache coherent:
 * a call that removes, moves, replaces, copies or truncates a file the cache
 * holds goes through the cache (its dirty bytes, its size, its file-table
 * entry), never around it.
 *
 * Path cores live in cache.names (namespace.ts and the files it delegates
 * to); descriptor cores (fstat, fchmod, fchown, futimes) in cache.io.
 */
import type * as fs from 'node:fs';

export interface CpCoreOptions {
  recursive: boolean;
  force: boolean;
  errorOnExist: boolean;
  dereference: boolean;
  preserveTimestamps: boolean;
  verbatimSymlinks: boolean;
  /** Called with (src, dest) as given; false skips the entry. */
  filter: ((src: string, dest: string) => boolean) | null;
  /** COPYFILE_* flags for the files copied. */
  mode: number;
  /** Errors as Node's asynchronous cp gives them (ERR_FS_EISDIR's errno is EISDIR there, EINVAL in cpSync). */
  asynchronous: boolean;
}

export interface NamespaceCore {
  /** stat(2) / lstat(2): a cached file's size, blocks, mtime and ctime as they would be had every write reached the disk. */
  stat(path: unknown, follow: boolean, bigint: boolean): fs.Stats | fs.BigIntStats;
  /** access(2) with F_OK/R_OK/W_OK/X_OK. */
  access(path: unknown, mode: number): void;
  /** exists: never throws. */
  exists(path: unknown): boolean;
  /** The canonical absolute path, resolved beneath the root. */
  realpath(path: unknown): string;
  readlink(path: unknown): string;
  symlink(target: string, path: unknown, type: string | null): void;
  link(existingPath: unknown, newPath: unknown): void;
  unlink(path: unknown): void;
  rename(oldPath: unknown, newPath: unknown): void;
  /** Returns the first directory created when recursive (undefined if none), as Node does. */
  mkdir(path: unknown, recursive: boolean, mode: number): string | undefined;
  /** Creates `prefix` + six random characters; returns that path as the caller named it. */
  mkdtemp(prefix: string): string;
  /**
   * Names (or Dirents with withFileTypes), in the order Node's readdir gives
   * them; recursive lists relative paths, directories taken from a queue
   * (readdirSync, the callback form) or a stack (fs.promises.readdir).
   */
  readdir(path: unknown, withFileTypes: boolean, recursive: boolean, order?: 'queue' | 'stack'): string[] | fs.Dirent[];
  rmdir(path: unknown): void;
  /** rm -r/-f; `lstatFirst` as Node's asynchronous rm, which always lstats first. */
  rm(path: unknown, recursive: boolean, force: boolean, lstatFirst?: boolean): void;
  truncate(path: unknown, length: number): void;
  copyFile(src: unknown, dest: unknown, mode: number): void;
  cp(src: unknown, dest: unknown, options: CpCoreOptions): void;
  /** follow: false is the l- form (lchmod, lchown, lutimes). */
  chmod(path: unknown, mode: number, follow: boolean): void;
  chown(path: unknown, uid: number, gid: number, follow: boolean): void;
  /** Times in seconds (fractions allowed), as Node's toUnixTimestamp gives them. */
  utimes(path: unknown, atime: number, mtime: number, follow: boolean): void;
  statfs(path: unknown, bigint: boolean): fs.StatsFs | fs.BigIntStatsFs;
}

export interface DescriptorMetaCore {
  fstat(fd: number, bigint: boolean): fs.Stats | fs.BigIntStats;
  fchmod(fd: number, mode: number): void;
  fchown(fd: number, uid: number, gid: number): void;
  futimes(fd: number, atime: number, mtime: number): void;
}
