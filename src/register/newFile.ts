/**
 * Under the hook, a writeFile that creates its file is atomic too. A
 * truncating writeFile of an existing file is one commit in the cache
 * (src/cache/replace.ts), but a file that does not exist yet would be created
 * on disk by the open, before its bytes are committed: a SIGKILL between the
 * two leaves an empty file. So a truncating writeFile by path whose path names
 * nothing makes the file whole before naming it (src/cache/create.ts: an
 * unnamed file, then a link); everything else takes the facade's writeFile.
 *
 * The file so made is not cached until it is next opened: its bytes cost
 * what plain fs's cost (the page cache), the price of never showing an empty
 * file. Data given as an iterable or stream (fs.promises.writeFile), or a
 * call with an AbortSignal, takes the facade's path: not atomic at creation.
 */
import * as fs from 'node:fs';
import type { Cache } from '../cache/cache';
import { createWhole, createWholeSync } from '../cache/create';
import { fileData, writeFileOptions } from '../fs/args';

type Fn = (...args: any[]) => any;
const { O_CREAT, O_TRUNC, O_EXCL, O_APPEND } = fs.constants;

interface Creation {
  /** The data as bytes, encoded when asked (only for a file that is created). */
  bytes: () => Uint8Array;
  mode: number;
  exclusive: boolean;
  flush: boolean;
}

/** What a creating writeFile would write; null for a call the facade takes (a descriptor, a handle, no truncating flag, iterable data). */
function creation(file: unknown, data: unknown, options: unknown): Creation | null {
  if (typeof file !== 'string' && !Buffer.isBuffer(file) && !(file instanceof URL)) return null;
  if (typeof data !== 'string' && !ArrayBuffer.isView(data)) return null;
  const o = writeFileOptions(options, 'w'); // the facade's own parsing: its errors are the facade's
  if ((o.flag & (O_CREAT | O_TRUNC | O_APPEND)) !== (O_CREAT | O_TRUNC) || o.signal !== undefined) return null;
  return { bytes: () => fileData(data, o.encoding), mode: o.mode, exclusive: (o.flag & O_EXCL) !== 0, flush: o.flush };
}

export interface NewFileFaces {
  writeFileSync: Fn;
  writeFile: Fn;
  promisesWriteFile: Fn;
}

/** Faces of writeFile over the cache's own that create new files atomically. */
export function newFileFaces(cache: Cache): NewFileFaces {
  const cfs = cache.fs as unknown as Record<string, Fn> & { promises: Record<string, Fn> };

  const writeFileSync = (file: unknown, data: unknown, options?: unknown) => {
    const c = creation(file, data, options);
    if (c !== null && createWholeSync(cache, file, c.bytes, c.mode, c.exclusive, c.flush)) return;
    cfs.writeFileSync(file, data, options);
  };
  const promisesWriteFile = async (file: unknown, data: unknown, options?: unknown) => {
    const c = creation(file, data, options);
    if (c !== null && await createWhole(cache, file, c.bytes, c.mode, c.exclusive, c.flush)) return;
    await cfs.promises.writeFile(file, data, options);
  };
  const writeFile = (...args: unknown[]) => {
    const cb = args[args.length - 1];
    const opts = args.length > 3 ? args[2] : undefined;
    if (typeof cb !== 'function') return cfs.writeFile(...args);
    let c: Creation | null;
    try {
      c = creation(args[0], args[1], opts);
    } catch {
      c = null; // the facade reports the bad argument, as Node does (thrown, not called back)
    }
    if (c === null) return cfs.writeFile(...args);
    promisesWriteFile(args[0], args[1], opts).then(() => cb(null), (err: unknown) => cb(err));
  };
  return { writeFileSync, writeFile, promisesWriteFile };
}
