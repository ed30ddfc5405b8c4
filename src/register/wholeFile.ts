/**
 * writeFile by path with a truncating flag ('w', 'w+', 'wx', …) as ONE atomic
 * step: the file is opened without O_TRUNC and its contents replaced by
 * cache.io.replaceSync / replace (src/cache/replace.ts), so a SIGKILL shows
 * the old contents or the new, never an empty or partial file, up to
 * cache.atomicWriteBytesMax. Every other form (a descriptor, a FileHandle, an
 * appending flag) is the facade's own writeFile.
 *
 * These are the cores the hook routes writeFile to as long as the facade's
 * writeFile does not call replace itself; they use the facade's argument
 * parsing (src/fs/args.ts), so the errors are Node's.
 */
import * as fs from 'node:fs';
import type { Cache } from '../cache/cache';
import { dataBytes, fileOptions, parseFlags } from '../fs/args';

const { O_TRUNC, O_WRONLY, O_RDWR } = fs.constants;

interface Plan {
  bytes: Uint8Array;
  flags: number;
  mode: number;
}

/** The plan of a truncating writeFile by path, or null for the facade's own writeFile. */
function plan(file: unknown, data: unknown, options: unknown): Plan | null {
  if (typeof file === 'number' || (typeof file === 'object' && file !== null && !(file instanceof URL) && !Buffer.isBuffer(file))) return null;
  const o = fileOptions(options, 'w', 'utf8');
  const flags = parseFlags(o.flag);
  if ((flags & O_TRUNC) === 0 || (flags & (O_WRONLY | O_RDWR)) === 0) return null;
  return { bytes: dataBytes(data, o.encoding), flags: flags & ~O_TRUNC, mode: o.mode };
}

export function atomicWriteFile(cache: Cache): { writeFileSync: (...a: any[]) => void; writeFile: (...a: any[]) => Promise<void> } {
  const cfs = cache.fs as unknown as { openSync: Function; closeSync: Function; writeFileSync: Function };
  return {
    writeFileSync: (file: unknown, data: unknown, options?: unknown) => {
      const p = plan(file, data, options);
      if (!p) return cfs.writeFileSync(file, data, options);
      const fd = cfs.openSync(file, p.flags, p.mode) as number;
      try {
        cache.io.replaceSync(fd, p.bytes, 0, p.bytes.length);
      } finally {
        cfs.closeSync(fd);
      }
    },
    writeFile: async (file: unknown, data: unknown, options?: unknown) => {
      const p = plan(file, data, options);
      if (!p) return cache.fs.promises.writeFile(file as fs.PathLike, data as string, options as fs.WriteFileOptions);
      const fh = await cache.fs.promises.open(file as fs.PathLike, p.flags, p.mode);
      try {
        await cache.io.replace(fh.fd, p.bytes, 0, p.bytes.length);
      } finally {
        await fh.close();
      }
    },
  };
}
