/**
 * A writeFile that creates its file is atomic too. Truncating writeFile of an
 * existing file is one commit in the cache (src/cache/replace.ts), but a file
 * that does not exist yet is created on disk by the open, before its bytes
 * are committed: a SIGKILL between the two leaves an empty file, a state
 * that is neither the old one (no file) nor the new one. Programs that test
 * for a file's existence before writing it (isomorphic-git's objects) then
 * keep the empty file for good.
 *
 * So a truncating writeFile by path of a file that does not exist writes a
 * temporary file through the cache, then renames it onto the path through the
 * cache (an intent-bracketed rename: docs/format.md §10). A cut before the
 * rename: no file at the path, a temporary one in this process's directory
 * under `<root>/.riocache/tmp/`, removed at the next start of the region's
 * owner; a cut in the rename: the warm reboot completes it. Writes to an
 * existing file take the facade's own writeFile.
 *
 * The temporary directory exists only while such a write is in flight (made
 * before the first, removed after the last, with its parents when empty), so
 * the root lists what it lists on plain fs: a service reading its data
 * directory does not find `.riocache` in it.
 */
import * as fs from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Cache } from '../cache/cache';

type Fn = (...args: any[]) => any;
const { O_CREAT, O_TRUNC, O_EXCL } = fs.constants;

/** The directory of one region's temporary files, relative to the root. */
export function tmpDirOf(region: string): string {
  return `.riocache/tmp/${basename(region)}`;
}

/** The flag of a writeFile's options, as numbers; null for a form this module leaves alone (a descriptor, a handle). */
function creatingFlags(file: unknown, options: unknown): number | null {
  if (typeof file !== 'string' && !Buffer.isBuffer(file) && !(file instanceof URL)) return null;
  const flag = typeof options === 'object' && options !== null ? (options as { flag?: unknown }).flag ?? 'w' : 'w';
  if (typeof flag === 'number') return (flag & O_CREAT) !== 0 && (flag & O_TRUNC) !== 0 ? flag : null;
  if (typeof flag !== 'string' || !/^(w|wx|xw)\+?$/.test(flag)) return null;
  return O_CREAT | O_TRUNC | (flag.includes('x') ? O_EXCL : 0);
}

export interface NewFileFaces {
  writeFileSync: Fn;
  writeFile: Fn;
  promisesWriteFile: Fn;
}

/** Faces of writeFile over the cache's own that create new files atomically; clears the temporary directory. */
export function newFileFaces(cache: Cache, region: string): NewFileFaces {
  const cfs = cache.fs as unknown as Record<string, Fn> & { promises: Record<string, Fn> };
  const dir = tmpDirOf(region);
  // Leftovers of a predecessor that died before its renames: the writes they held never happened.
  cfs.rmSync(dir, { recursive: true, force: true });
  removeEmpty(cfs, dir);
  let inFlight = 0;
  let counter = 0;
  /** A fresh temporary path (its directory made), or null when the file exists (or the form is not a creating one). */
  const temporary = (file: unknown, options: unknown): string | null => {
    // Anything at the path, a dangling symlink included (the write goes to its target), takes the plain write.
    if (creatingFlags(file, options) === null || nameTaken(cfs, file)) return null;
    if (inFlight++ === 0) makeDirectory(cfs, dir);
    return join(dir, `${process.pid}-${++counter}`);
  };
  const settled = (tmp: string, failed: boolean) => {
    if (failed) cfs.rmSync(tmp, { force: true });
    if (--inFlight === 0) removeEmpty(cfs, dir);
  };
  /** The temporary file's options: the caller's, with a plain 'w' (its EXCL applies to the path, checked above). */
  const tmpOptions = (options: unknown) => (typeof options === 'object' && options !== null ? { ...options, flag: 'w' } : options);

  const writeFileSync = (file: unknown, data: unknown, options?: unknown) => {
    const tmp = temporary(file, options);
    if (tmp === null) return cfs.writeFileSync(file, data, options);
    let renamed = false;
    try {
      cfs.writeFileSync(tmp, data, tmpOptions(options));
      cfs.renameSync(tmp, file);
      renamed = true;
    } catch {
      // Whatever refused the rename (no parent directory, a file for one, no
      // permission) refuses the plain write too, with the error plain fs gives.
    } finally {
      settled(tmp, !renamed);
    }
    if (!renamed) cfs.writeFileSync(file, data, options);
  };
  const promisesWriteFile = async (file: unknown, data: unknown, options?: unknown) => {
    const tmp = temporary(file, options);
    if (tmp === null) return cfs.promises.writeFile(file, data, options);
    let renamed = false;
    try {
      await cfs.promises.writeFile(tmp, data, tmpOptions(options));
      await cfs.promises.rename(tmp, file);
      renamed = true;
    } catch {
      // As in writeFileSync: the plain write gives the plain error.
    } finally {
      settled(tmp, !renamed);
    }
    if (!renamed) await cfs.promises.writeFile(file, data, options);
  };
  const writeFile = (...args: unknown[]) => {
    const cb = args[args.length - 1];
    const opts = args.length > 3 ? args[2] : undefined;
    if (typeof cb !== 'function' || creatingFlags(args[0], opts) === null) return cfs.writeFile(...args);
    promisesWriteFile(args[0], args[1], opts).then(() => cb(null), (err: unknown) => cb(err));
  };
  return { writeFileSync, writeFile, promisesWriteFile };
}

/** True when the path names anything, a symlink that leads nowhere included; an invalid path is left to the plain write. */
function nameTaken(cfs: Record<string, Fn>, file: unknown): boolean {
  try {
    return cfs.lstatSync(file, { throwIfNoEntry: false }) !== undefined;
  } catch {
    return true;
  }
}

/** mkdir -p, again if another process removed an empty parent between our two mkdirs (its removeEmpty). */
function makeDirectory(cfs: Record<string, Fn>, dir: string): void {
  for (let attempt = 1; ; attempt++) {
    try {
      cfs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt === 3) throw err;
    }
  }
}

/**
 * Removes `dir`, then each parent up to `.riocache`, while they are empty.
 * Another process's directory beside ours keeps the parents (ENOTEMPTY), and
 * its mkdir makes them again if ours went first.
 */
function removeEmpty(cfs: Record<string, Fn>, dir: string): void {
  for (let d = dir; d.startsWith('.riocache'); d = dirname(d)) {
    try {
      cfs.rmdirSync(d);
    } catch {
      return; // not empty (another region's writes, the cache's own files) or already gone
    }
  }
}
